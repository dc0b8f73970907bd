//! Name resolution, done once before code generation: decides for every name whether it is a
//! local, a captured variable, a global slot or a builtin; marks captured bindings (which the
//! compiler boxes); checks the structural rules (`break` in loops, `self` in methods...).

use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::ErrorKind;
use crate::source::{CompileError, Span, compile_error, with_stack};
use crate::syntax::ast::*;

/// What a global slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalKind {
    /// A top-level `let` (assignable; may be read before initialization, which is checked).
    Var,
    /// A top-level `fn` (constant, initialized before the program starts).
    Fn,
    /// A top-level `class` (constant, initialized before the program starts).
    Class,
    /// The builtin `Error` class.
    ErrorClass,
}

impl GlobalKind {
    /// Whether the slot is set before any code runs and never assigned (functions and
    /// classes): reading it cannot fail, and gives the same value at any point of a run.
    pub fn is_constant(self) -> bool {
        matches!(
            self,
            GlobalKind::Fn | GlobalKind::Class | GlobalKind::ErrorClass
        )
    }
}

/// A global slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalInfo {
    /// The name.
    pub name: String,
    /// What it holds.
    pub kind: GlobalKind,
}

/// Name of the builtin error class, always global slot 0.
pub const ERROR_CLASS_NAME: &str = "Error";

/// What the resolver learned, beyond the resolutions written into the tree.
#[derive(Clone, Debug, Default)]
pub struct Resolution {
    /// Per binding id: whether some closure captures it.
    pub captured: Vec<bool>,
    /// Per binding id: whether some assignment (plain or compound) targets it.
    pub assigned: Vec<bool>,
    /// All global slots (those of earlier REPL entries first).
    pub globals: Vec<GlobalInfo>,
}

/// The initial global table: just the builtin `Error` class.
pub fn initial_globals() -> Vec<GlobalInfo> {
    vec![GlobalInfo {
        name: ERROR_CLASS_NAME.into(),
        kind: GlobalKind::ErrorClass,
    }]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FnKind {
    Script,
    Function,
    Method,
    Init,
}

struct FnScope {
    kind: FnKind,
    /// Block scopes, innermost last; each maps a name to its binding.
    scopes: Vec<FxHashMap<Name, BindingId>>,
    captures: Vec<Capture>,
    loop_depth: u32,
    /// Whether this function is (or is nested in) a method of a class with a superclass.
    has_super: bool,
    in_method: bool,
}

struct Resolver<'b> {
    /// The builtin names, in the order of the builtin table (a name's index is its id).
    builtins: &'b [&'b str],
    fns: Vec<FnScope>,
    captured: Vec<bool>,
    assigned: Vec<bool>,
    globals: Vec<GlobalInfo>,
    global_index: FxHashMap<String, u32>,
    /// Top-level `let`s the script has passed so far (script code may not use them earlier).
    visible_vars: FxHashSet<u32>,
    /// In a REPL, redefinition replaces the old global instead of being an error.
    allow_redefinition: bool,
}

type RResult<T> = Result<T, CompileError>;

/// Resolves `program` against the globals defined so far (`prior`, from
/// [`initial_globals`] for a fresh program) and the builtins (`builtins`: their names, in
/// the order of the runtime's builtin table).
pub fn resolve(
    program: &mut Script,
    prior: Vec<GlobalInfo>,
    repl: bool,
    builtins: &[&str],
) -> RResult<Resolution> {
    let global_index = prior
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.clone(), i as u32))
        .collect();
    let visible_vars = (0..prior.len() as u32).collect();
    let mut r = Resolver {
        builtins,
        fns: vec![FnScope {
            kind: FnKind::Script,
            scopes: Vec::new(),
            captures: Vec::new(),
            loop_depth: 0,
            has_super: false,
            in_method: false,
        }],
        captured: vec![false; program.binding_count as usize],
        assigned: vec![false; program.binding_count as usize],
        globals: prior,
        global_index,
        visible_vars,
        allow_redefinition: repl,
    };
    r.declare_globals(&program.stmts)?;
    r.check_classes(&program.stmts)?;
    for stmt in &mut program.stmts {
        r.stmt(stmt)?;
    }
    Ok(Resolution {
        captured: r.captured,
        assigned: r.assigned,
        globals: r.globals,
    })
}

fn err<T>(kind: ErrorKind, msg: impl Into<String>, span: Span) -> RResult<T> {
    Err(compile_error(kind, msg, span))
}

impl Resolver<'_> {
    /// The builtin called `name`, if there is one.
    fn builtin(&self, name: &str) -> Option<BuiltinId> {
        self.builtins
            .iter()
            .position(|b| *b == name)
            .map(|i| BuiltinId(i as u16))
    }

    fn declare_globals(&mut self, stmts: &[Stmt]) -> RResult<()> {
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        for stmt in stmts {
            let (ident, kind) = match &stmt.kind {
                StmtKind::Let(l) => (&l.binding.ident, GlobalKind::Var),
                StmtKind::Fn { binding, .. } => (&binding.ident, GlobalKind::Fn),
                StmtKind::Class(c) => (&c.name, GlobalKind::Class),
                _ => continue,
            };
            let name = ident.name.as_str();
            let clash = !seen.insert(name)
                || (self.global_index.contains_key(name)
                    && (!self.allow_redefinition || name == ERROR_CLASS_NAME));
            if clash {
                return err(
                    ErrorKind::NameError,
                    format!("'{name}' is already defined"),
                    ident.span,
                );
            }
            match self.global_index.get(name) {
                Some(&slot) => self.globals[slot as usize].kind = kind,
                None => {
                    self.global_index
                        .insert(name.to_string(), self.globals.len() as u32);
                    self.globals.push(GlobalInfo {
                        name: name.to_string(),
                        kind,
                    });
                }
            }
            if kind != GlobalKind::Var {
                self.visible_vars.insert(self.global_index[name]);
            } else {
                self.visible_vars.remove(&self.global_index[name]);
            }
        }
        Ok(())
    }

    /// Superclasses must be classes, and inheritance must not loop. Classes are checked in
    /// source order, so the first offending declaration is the one reported.
    fn check_classes(&self, stmts: &[Stmt]) -> RResult<()> {
        let decls: Vec<&ClassDecl> = stmts
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Class(c) => Some(&**c),
                _ => None,
            })
            .collect();
        let by_name: FxHashMap<&str, &ClassDecl> =
            decls.iter().map(|c| (c.name.name.as_str(), *c)).collect();
        for c in &decls {
            let Some(sup) = &c.superclass else { continue };
            match self
                .global_index
                .get(sup.name.as_str())
                .map(|&s| self.globals[s as usize].kind)
            {
                Some(GlobalKind::Class | GlobalKind::ErrorClass) => {}
                Some(_) => {
                    return err(
                        ErrorKind::NameError,
                        format!("superclass '{}' is not a class", sup.name),
                        sup.span,
                    );
                }
                None if self.builtin(&sup.name).is_some() => {
                    return err(
                        ErrorKind::NameError,
                        format!("superclass '{}' is not a class", sup.name),
                        sup.span,
                    );
                }
                None => {
                    return err(
                        ErrorKind::NameError,
                        format!("undefined name '{}'", sup.name),
                        sup.span,
                    );
                }
            }
            // Walk up from `c`; a cycle is reported at its first member in source order.
            let mut chain = vec![c.name.name.as_str()];
            let mut cur = sup.name.as_str();
            while let Some(next) = by_name.get(cur) {
                if cur == c.name.name {
                    chain.push(cur);
                    return err(
                        ErrorKind::NameError,
                        format!("inheritance cycle: {}", chain.join(" -> ")),
                        sup.span,
                    );
                }
                if chain.contains(&cur) {
                    break;
                }
                chain.push(cur);
                match &next.superclass {
                    Some(s) => cur = s.name.as_str(),
                    None => break,
                }
            }
        }
        Ok(())
    }

    fn cur(&mut self) -> &mut FnScope {
        self.fns
            .last_mut()
            .expect("the script scope is always present")
    }

    fn at_script_top(&self) -> bool {
        self.fns.len() == 1 && self.fns[0].scopes.is_empty()
    }

    fn declare_local(&mut self, b: &Binding) -> RResult<()> {
        let scope = self
            .cur()
            .scopes
            .last_mut()
            .expect("locals are declared inside a scope");
        if scope.contains_key(b.ident.name.as_str()) {
            return err(
                ErrorKind::NameError,
                format!("'{}' is already defined in this scope", b.ident.name),
                b.ident.span,
            );
        }
        scope.insert(b.ident.name.clone(), b.id);
        Ok(())
    }

    fn lookup_local(&self, f: usize, name: &str) -> Option<BindingId> {
        self.fns[f]
            .scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name).copied())
    }

    fn lookup_capture(&mut self, f: usize, name: &str) -> Option<u16> {
        if f == 0 {
            return None;
        }
        let cap = if let Some(b) = self.lookup_local(f - 1, name) {
            self.captured[b.0 as usize] = true;
            Capture::Local(b)
        } else {
            Capture::Upval(self.lookup_capture(f - 1, name)?)
        };
        let caps = &mut self.fns[f].captures;
        Some(match caps.iter().position(|c| *c == cap) {
            Some(i) => i as u16,
            None => {
                caps.push(cap);
                (caps.len() - 1) as u16
            }
        })
    }

    fn resolve_name(&mut self, name: &str, span: Span) -> RResult<Res> {
        let f = self.fns.len() - 1;
        if let Some(b) = self.lookup_local(f, name) {
            return Ok(Res::Local(b));
        }
        if let Some(i) = self.lookup_capture(f, name) {
            if i as usize >= u16::MAX as usize {
                return err(
                    ErrorKind::NestingLimit,
                    "too many captured variables in one function",
                    span,
                );
            }
            return Ok(Res::Upval(i));
        }
        if let Some(&slot) = self.global_index.get(name) {
            // Script code sees a top-level `let` only after it; function bodies see them all.
            if self.fns.len() > 1 || self.visible_vars.contains(&slot) {
                return Ok(Res::Global(slot));
            }
        }
        if let Some(id) = self.builtin(name) {
            return Ok(Res::Builtin(id));
        }
        err(
            ErrorKind::NameError,
            format!("undefined name '{name}'"),
            span,
        )
    }

    // ----- statements -----

    fn block(&mut self, b: &mut Block) -> RResult<()> {
        self.cur().scopes.push(FxHashMap::default());
        for s in &mut b.stmts {
            self.stmt(s)?;
        }
        self.cur().scopes.pop();
        Ok(())
    }

    fn stmt(&mut self, stmt: &mut Stmt) -> RResult<()> {
        with_stack(|| self.stmt_inner(stmt))
    }

    fn stmt_inner(&mut self, stmt: &mut Stmt) -> RResult<()> {
        let span = stmt.span;
        match &mut stmt.kind {
            StmtKind::Let(node) => {
                let Let { binding, init } = &mut **node;
                if let Some(e) = init {
                    self.expr(e)?;
                }
                if self.at_script_top() {
                    let slot = self.global_index[binding.ident.name.as_str()];
                    self.visible_vars.insert(slot);
                } else {
                    self.declare_local(binding)?;
                }
            }
            StmtKind::Expr(e) => self.expr(e)?,
            StmtKind::Fn { binding, decl } => {
                if !self.at_script_top() {
                    self.declare_local(binding)?;
                }
                self.function(decl, FnKind::Function)?;
            }
            StmtKind::Class(c) => {
                let has_super = c.superclass.is_some();
                for m in &mut c.methods {
                    let kind = if m.name.name == "init" {
                        FnKind::Init
                    } else {
                        FnKind::Method
                    };
                    self.fns.push(FnScope {
                        kind,
                        scopes: Vec::new(),
                        captures: Vec::new(),
                        loop_depth: 0,
                        has_super,
                        in_method: true,
                    });
                    self.function_body(m)?;
                }
            }
            StmtKind::If(node) => {
                let If { branches, els } = &mut **node;
                for (cond, then) in branches {
                    self.expr(cond)?;
                    self.block(then)?;
                }
                if let Some(e) = els {
                    self.block(e)?;
                }
            }
            StmtKind::While(node) => {
                let While { cond, body } = &mut **node;
                self.expr(cond)?;
                self.loop_body(body)?;
            }
            StmtKind::ForRange(node) => {
                let ForRange {
                    var,
                    start,
                    end,
                    body,
                } = &mut **node;
                self.expr(start)?;
                self.expr(end)?;
                self.cur().scopes.push(FxHashMap::default());
                self.declare_local(var)?;
                self.loop_body(body)?;
                self.cur().scopes.pop();
            }
            StmtKind::ForIn(node) => {
                let ForIn { var, iter, body } = &mut **node;
                self.expr(iter)?;
                self.cur().scopes.push(FxHashMap::default());
                self.declare_local(var)?;
                self.loop_body(body)?;
                self.cur().scopes.pop();
            }
            StmtKind::Break | StmtKind::Continue => {
                if self.cur().loop_depth == 0 {
                    let word = if matches!(stmt.kind, StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    return err(
                        ErrorKind::SyntaxError,
                        format!("'{word}' outside of a loop"),
                        span,
                    );
                }
            }
            StmtKind::Return(value) => {
                if let Some(v) = value {
                    if self.cur().kind == FnKind::Init {
                        return err(
                            ErrorKind::SyntaxError,
                            "cannot return a value from 'init'",
                            span,
                        );
                    }
                    self.expr(v)?;
                }
            }
            StmtKind::Throw(e) => self.expr(e)?,
            StmtKind::Try(node) => {
                let Try { body, var, handler } = &mut **node;
                self.block(body)?;
                self.cur().scopes.push(FxHashMap::default());
                self.declare_local(var)?;
                self.block(handler)?;
                self.cur().scopes.pop();
            }
            StmtKind::Block(b) => self.block(b)?,
        }
        Ok(())
    }

    fn loop_body(&mut self, body: &mut Block) -> RResult<()> {
        self.cur().loop_depth += 1;
        self.block(body)?;
        self.cur().loop_depth -= 1;
        Ok(())
    }

    fn function(&mut self, decl: &mut FnDecl, kind: FnKind) -> RResult<()> {
        let (has_super, in_method) = {
            let c = self.cur();
            (c.has_super, c.in_method)
        };
        self.fns.push(FnScope {
            kind,
            scopes: Vec::new(),
            captures: Vec::new(),
            loop_depth: 0,
            has_super,
            in_method,
        });
        self.function_body(decl)
    }

    /// Resolves a function whose `FnScope` was just pushed, then pops it.
    fn function_body(&mut self, decl: &mut FnDecl) -> RResult<()> {
        if decl.params.len() > 255 {
            return err(
                ErrorKind::NestingLimit,
                "too many parameters (limit 255)",
                decl.name.span,
            );
        }
        self.cur().scopes.push(FxHashMap::default());
        if let Some(s) = &decl.self_binding {
            self.declare_local(s)?;
        }
        for p in &decl.params {
            self.declare_local(p)?;
        }
        self.block(&mut decl.body)?;
        let scope = self.fns.pop().expect("pushed by the caller");
        decl.captures = scope.captures;
        Ok(())
    }

    // ----- expressions -----

    fn expr(&mut self, e: &mut Expr) -> RResult<()> {
        with_stack(|| self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &mut Expr) -> RResult<()> {
        let span = e.span;
        match &mut e.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil => {}
            ExprKind::Name { name, res } => *res = self.resolve_name(name, span)?,
            ExprKind::SelfRef { res } => *res = self.resolve_self(span)?,
            ExprKind::List(items) => {
                for i in items {
                    self.expr(i)?;
                }
            }
            ExprKind::Map(entries) => {
                for (k, v) in entries {
                    self.expr(k)?;
                    self.expr(v)?;
                }
            }
            ExprKind::Unary { expr, .. } => self.expr(expr)?,
            ExprKind::Chain(node) => {
                let Chain { first, rest } = &mut **node;
                self.expr(first)?;
                for link in rest {
                    self.expr(&mut link.rhs)?;
                }
            }
            ExprKind::Call(node) => {
                let Call { callee, args } = &mut **node;
                if args.len() > 255 {
                    return err(
                        ErrorKind::NestingLimit,
                        "too many arguments (limit 255)",
                        span,
                    );
                }
                self.expr(callee)?;
                for a in args {
                    self.expr(a)?;
                }
            }
            ExprKind::Get(get) => self.expr(&mut get.obj)?,
            ExprKind::Index(node) => {
                let Index { obj, index } = &mut **node;
                self.expr(obj)?;
                self.expr(index)?;
            }
            ExprKind::Super(node) => {
                let Super { self_res, .. } = &mut **node;
                if !self.cur().has_super {
                    let msg = if self.cur().in_method {
                        "'super' used in a class with no superclass"
                    } else {
                        "'super' used outside of a method"
                    };
                    return err(ErrorKind::SyntaxError, msg, span);
                }
                *self_res = self.resolve_self(span)?;
            }
            ExprKind::Fn(decl) => self.function(decl, FnKind::Function)?,
            ExprKind::Assign(node) => {
                let Assign { target, value, .. } = &mut **node;
                match &mut target.kind {
                    ExprKind::Name { name, res } => {
                        let r = self.resolve_name(name, target.span)?;
                        match r {
                            Res::Global(slot) => match self.globals[slot as usize].kind {
                                GlobalKind::Var => {}
                                GlobalKind::Fn => {
                                    return err(
                                        ErrorKind::SyntaxError,
                                        format!("cannot assign to function '{name}'"),
                                        target.span,
                                    );
                                }
                                GlobalKind::Class | GlobalKind::ErrorClass => {
                                    return err(
                                        ErrorKind::SyntaxError,
                                        format!("cannot assign to class '{name}'"),
                                        target.span,
                                    );
                                }
                            },
                            Res::Builtin(_) => {
                                return err(
                                    ErrorKind::SyntaxError,
                                    format!("cannot assign to builtin '{name}'"),
                                    target.span,
                                );
                            }
                            Res::Local(b) => self.assigned[b.0 as usize] = true,
                            _ => {}
                        }
                        *res = r;
                    }
                    ExprKind::Get(get) => self.expr(&mut get.obj)?,
                    ExprKind::Index(node) => {
                        let Index { obj, index } = &mut **node;
                        self.expr(obj)?;
                        self.expr(index)?;
                    }
                    _ => {
                        return err(
                            ErrorKind::SyntaxError,
                            "invalid assignment target",
                            target.span,
                        );
                    }
                }
                self.expr(value)?;
            }
        }
        Ok(())
    }

    fn resolve_self(&mut self, span: Span) -> RResult<Res> {
        if !self.cur().in_method {
            return err(
                ErrorKind::SyntaxError,
                "'self' used outside of a method",
                span,
            );
        }
        self.resolve_name("self", span)
    }
}
