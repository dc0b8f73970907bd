//! Edit sites: a walk over the tree that offers every place a pass can edit (statement lists,
//! method lists, declared functions with the calls that reach them, expressions), numbering
//! each kind of site in walk order so that a pass can come back to the n-th one.

use std::collections::BTreeSet;

use echo_engine::source::with_stack;
use echo_engine::syntax::ast::{Expr, ExprKind, FnDecl, Let, Script, Stmt, StmtKind};
use echo_engine::syntax::visit::{ChildMut, Role, walk_exprs};

/// Which calls reach a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Callers {
    /// Calls of a name (`fn f`, or `let f = fn ...`).
    Name(String),
    /// Calls of a method: `o.name(...)`, `super.name(...)`, and `Class(...)` for `init`.
    Method {
        /// The method.
        name: String,
        /// Its class.
        class: String,
    },
}

impl Callers {
    /// Whether a call of `callee` reaches the function.
    pub(super) fn calls(&self, callee: &Expr) -> bool {
        match (self, &callee.kind) {
            (Callers::Name(f), ExprKind::Name { name, .. }) => name == f,
            (Callers::Method { name, .. }, ExprKind::Get(get)) => get.name.name == *name,
            (Callers::Method { name, .. }, ExprKind::Super(sup)) => sup.name.name == *name,
            (Callers::Method { name, class }, ExprKind::Name { name: n, .. }) => {
                name == "init" && n == class
            }
            _ => false,
        }
    }
}

/// A place a pass can edit.
pub(super) enum Site<'a> {
    /// A block's statements (the top level first).
    Stmts(&'a mut Vec<Stmt>),
    /// A class's methods.
    Methods(&'a mut Vec<FnDecl>),
    /// A function that can be called by name or as a method.
    Decl(&'a mut FnDecl, Callers),
    /// An expression.
    Expr(&'a mut Expr, Role),
}

/// Kinds of sites, each numbered separately in walk order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Statement and method lists (`Site::Stmts`, `Site::Methods`).
    Seq,
    /// Declared functions and methods.
    Decl,
    /// Expressions.
    Expr,
}

impl Site<'_> {
    fn kind(&self) -> Kind {
        match self {
            Site::Stmts(_) | Site::Methods(_) => Kind::Seq,
            Site::Decl(..) => Kind::Decl,
            Site::Expr(..) => Kind::Expr,
        }
    }
}

/// What the walk does after a site.
pub(super) enum Flow {
    /// Walk its children.
    Continue,
    /// Do not walk its children (for an expression just replaced by one containing itself).
    Skip,
    /// End the walk.
    Stop,
}

/// What a walk offers each site to.
pub(super) type Visit<'v> = dyn FnMut(Site<'_>) -> Flow + 'v;

/// Offers every site of `program` to `visit`, in preorder.
pub(super) fn walk(program: &mut Script, visit: &mut Visit<'_>) {
    walk_stmts(&mut program.stmts, visit);
}

/// Offers a site; `Err(stopped)` when its children are not to be walked.
fn offer(visit: &mut Visit<'_>, site: Site<'_>) -> Result<(), bool> {
    match visit(site) {
        Flow::Continue => Ok(()),
        Flow::Skip => Err(false),
        Flow::Stop => Err(true),
    }
}

// The walkers return whether the visitor stopped the walk.

fn walk_stmts(stmts: &mut Vec<Stmt>, visit: &mut Visit<'_>) -> bool {
    if let Err(stopped) = offer(visit, Site::Stmts(stmts)) {
        return stopped;
    }
    stmts.iter_mut().any(|s| walk_stmt(s, visit))
}

fn walk_fn(decl: &mut FnDecl, callers: Callers, visit: &mut Visit<'_>) -> bool {
    if let Err(stopped) = offer(visit, Site::Decl(decl, callers)) {
        return stopped;
    }
    walk_stmts(&mut decl.body.stmts, visit)
}

/// Declared functions and class methods are sites with the calls that reach them; every
/// other statement only has its children walked.
fn walk_stmt(stmt: &mut Stmt, visit: &mut Visit<'_>) -> bool {
    with_stack(|| {
        match &mut stmt.kind {
            StmtKind::Fn { binding, decl } => {
                return walk_fn(decl, Callers::Name(binding.ident.name.to_string()), visit);
            }
            StmtKind::Class(c) => {
                if let Err(stopped) = offer(visit, Site::Methods(&mut c.methods)) {
                    return stopped;
                }
                let class = c.name.name.to_string();
                return c.methods.iter_mut().any(|m| {
                    let callers = Callers::Method {
                        name: m.name.name.to_string(),
                        class: class.clone(),
                    };
                    walk_fn(m, callers, visit)
                });
            }
            StmtKind::Let(node) => {
                if let Let {
                    binding,
                    init: Some(e),
                } = &mut **node
                    && let ExprKind::Fn(decl) = &mut e.kind
                {
                    let callers = Callers::Name(binding.ident.name.to_string());
                    // The body is walked with the expression, among the children.
                    if let Err(true) = offer(visit, Site::Decl(decl, callers)) {
                        return true;
                    }
                }
            }
            _ => {}
        }
        let mut stopped = false;
        stmt.children_mut(|c| stopped = stopped || walk_child(c, visit));
        stopped
    })
}

/// Offers the expression `e`, used as `role`, and walks its children.
pub(super) fn walk_expr(e: &mut Expr, role: Role, visit: &mut Visit<'_>) -> bool {
    if let Err(stopped) = offer(visit, Site::Expr(e, role)) {
        return stopped;
    }
    with_stack(|| {
        let mut stopped = false;
        e.children_mut(|c| stopped = stopped || walk_child(c, visit));
        stopped
    })
}

/// A function reached as a child (a function literal) is no site of its own: only its body
/// is walked.
fn walk_child(c: ChildMut<'_>, visit: &mut Visit<'_>) -> bool {
    match c {
        ChildMut::Expr(e, role) => walk_expr(e, role, visit),
        ChildMut::Block(b) => walk_stmts(&mut b.stmts, visit),
        ChildMut::Fn(decl) => walk_stmts(&mut decl.body.stmts, visit),
    }
}

/// Sites of one kind in `program`.
pub(super) fn count(program: &mut Script, kind: Kind) -> usize {
    let mut n = 0;
    walk(program, &mut |site| {
        if site.kind() == kind {
            n += 1;
        }
        Flow::Continue
    });
    n
}

/// Runs `f` on the `index`-th site of `kind`; `None` if there is none.
pub(super) fn with_site<R>(
    program: &mut Script,
    kind: Kind,
    index: usize,
    f: impl FnOnce(Site<'_>) -> R,
) -> Option<R> {
    let mut f = Some(f);
    let mut out = None;
    let mut seen = 0;
    walk(program, &mut |site| {
        if site.kind() != kind {
            return Flow::Continue;
        }
        if seen < index {
            seen += 1;
            return Flow::Continue;
        }
        out = f.take().map(|f| f(site));
        Flow::Stop
    });
    out
}

/// Length of the `index`-th statement or method list.
pub(super) fn seq_len(program: &mut Script, index: usize) -> usize {
    with_site(program, Kind::Seq, index, |site| match site {
        Site::Stmts(v) => v.len(),
        Site::Methods(v) => v.len(),
        Site::Decl(..) | Site::Expr(..) => 0,
    })
    .unwrap_or(0)
}

/// Statements in all blocks: positions for statement-level passes, numbered block by block
/// in walk order.
pub(super) fn count_stmts(program: &mut Script) -> usize {
    let mut n = 0;
    walk(program, &mut |site| {
        if let Site::Stmts(v) = site {
            n += v.len();
        }
        Flow::Continue
    });
    n
}

/// Runs `f` on the block holding statement `index` (see `count_stmts`) and its index there.
pub(super) fn with_stmt<R>(
    program: &mut Script,
    index: usize,
    f: impl FnOnce(&mut Vec<Stmt>, usize) -> R,
) -> Option<R> {
    let mut f = Some(f);
    let mut out = None;
    let mut rest = index;
    walk(program, &mut |site| {
        if let Site::Stmts(v) = site {
            if rest < v.len() {
                out = f.take().map(|f| f(v, rest));
                return Flow::Stop;
            }
            rest -= v.len();
        }
        Flow::Continue
    });
    out
}

/// Names that calls may drop arguments of only together with a parameter: functions and
/// classes declared in the program.
pub(super) fn declared_names(program: &mut Script) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    walk(program, &mut |site| {
        match site {
            Site::Decl(_, Callers::Name(n)) => {
                names.insert(n);
            }
            Site::Decl(_, Callers::Method { class, .. }) => {
                names.insert(class);
            }
            Site::Stmts(_) | Site::Methods(_) | Site::Expr(..) => {}
        }
        Flow::Continue
    });
    names
}

/// Whether a name is read or assigned anywhere in `stmts`.
pub(super) fn mentions(stmts: &[Stmt], name: &str) -> bool {
    let mut found = false;
    walk_exprs(stmts, &mut |e, _| {
        found = found || matches!(&e.kind, ExprKind::Name { name: n, .. } if n == name);
    });
    found
}
