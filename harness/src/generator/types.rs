//! What the generator knows while it builds a program: the static type of every value it can
//! name, the signatures of functions and methods, the classes, and the scopes in force.

/// A static type. `Num` is an int or a float (which one may change from call to call: the
/// values that make compiled code leave its int-only paths); `Any` is anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Float,
    Num,
    Str,
    Bool,
    /// A list whose elements all have the element type. Lists are never empty: every way the
    /// generator shrinks one keeps an element.
    List(Box<Ty>),
    /// A map from string keys to `Num` values, holding at least the keys `k0` and `k1`.
    Map,
    /// An instance of the class or of one of its subclasses.
    Inst(usize),
    /// A closure with the signature of that index.
    Func(usize),
    Any,
}

/// A function or method signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sig {
    pub params: Vec<Ty>,
    pub ret: Ty,
}

/// A class: its fields (name, type) including inherited ones, and its methods.
#[derive(Clone, Debug)]
pub(crate) struct ClassInfo {
    pub name: String,
    pub parent: Option<usize>,
    /// Fields set by `init` (inherited ones first).
    pub fields: Vec<(String, Ty)>,
    /// Parameters of `init` (of this class; a subclass passes its parent's on to `super.init`,
    /// and takes one per field it adds, or none: it may compute its own fields).
    pub init_params: Vec<Ty>,
    /// Methods callable on instances (inherited and own): name, signature, and whether this
    /// class defines (or overrides) it.
    pub methods: Vec<MethodInfo>,
    /// Call-order rank of `init`.
    pub init_rank: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct MethodInfo {
    pub name: String,
    pub sig: usize,
    /// Whether this class has its own body for it.
    pub own: bool,
    /// Call-order rank of this class's body (or of the inherited one).
    pub rank: u32,
}

/// A top-level function the generator declared: its signature, and its rank in the call
/// order.
#[derive(Clone, Debug)]
pub(crate) struct FnPlan {
    pub name: String,
    pub sig: usize,
    /// Recursive functions take a depth (`Int`) first and call themselves with a smaller one.
    pub recursive: bool,
    pub rank: u32,
}

/// A name in scope.
#[derive(Clone, Debug)]
pub(crate) struct Var {
    pub name: String,
    pub ty: Ty,
    /// Whether code may assign it (loop variables and parameters may be reassigned too, but
    /// loop counters are not, so that loops stay bounded).
    pub assignable: bool,
    /// For a loop counter whose bounds are literals: the values it takes inside its loop,
    /// `lo..hi` (comparisons against them are true on some trips and false on others).
    pub range: Option<(i64, i64)>,
}

/// Nested scopes of one function body (block scopes stack up; the outermost entries of the
/// stack are the globals visible there).
#[derive(Clone, Debug, Default)]
pub(crate) struct Scopes {
    frames: Vec<Vec<Var>>,
}

impl Scopes {
    pub(crate) fn push(&mut self) {
        self.frames.push(Vec::new());
    }

    pub(crate) fn pop(&mut self) {
        self.frames.pop();
    }

    pub(crate) fn add(&mut self, name: &str, ty: Ty, assignable: bool) {
        if self.frames.is_empty() {
            self.push();
        }
        self.frames.last_mut().expect("a scope exists").push(Var {
            name: name.to_string(),
            ty,
            assignable,
            range: None,
        });
    }

    /// Adds an int loop counter that takes the values `lo..hi` inside its loop.
    pub(crate) fn add_counter(&mut self, name: &str, lo: i64, hi: i64) {
        self.add(name, Ty::Int, false);
        if let Some(v) = self.frames.last_mut().and_then(|f| f.last_mut()) {
            v.range = Some((lo, hi));
        }
    }

    /// Every visible variable (inner declarations shadow outer ones, but the generator never
    /// reuses a name, so all are distinct).
    pub(crate) fn all(&self) -> impl Iterator<Item = &Var> {
        self.frames.iter().flatten()
    }

    /// The variables declared in scope levels `n` and deeper.
    pub(crate) fn since(&self, n: usize) -> impl Iterator<Item = &Var> {
        self.frames.iter().skip(n).flatten()
    }

    pub(crate) fn depth(&self) -> usize {
        self.frames.len()
    }

    /// Keeps only the outermost `n` scope levels (leaving a function body).
    pub(crate) fn truncate(&mut self, n: usize) {
        self.frames.truncate(n);
    }
}
