//! Edit sites: a walk over the tree that offers every place a pass can edit (statement lists,
//! method lists, declared functions with the calls that reach them, expressions), numbering
//! each kind of site in walk order so that a pass can come back to the n-th one.

use std::collections::BTreeSet;

use echo_engine::ast::{Expr, ExprKind, FnDecl, Program, Stmt, StmtKind};
use echo_engine::source::with_stack;

/// How an expression is used, which limits what may replace it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// An ordinary operand.
    Value,
    /// The whole expression of an expression statement: deleting the statement is the
    /// simpler edit, so it is not replaced by a literal.
    Statement,
    /// The callee of a call: a literal there can only raise "not callable".
    Callee,
    /// An assignment target: must stay a name, property or index.
    Target,
}

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
            (
                Callers::Method { name, .. },
                ExprKind::Get { name: m, .. } | ExprKind::Super { name: m, .. },
            ) => m.name == *name,
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
    Seq,
    Decl,
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

pub(super) type Visit<'v> = dyn FnMut(Site<'_>) -> Flow + 'v;

/// Offers every site of `program` to `visit`, in preorder.
pub(super) fn walk(program: &mut Program, visit: &mut Visit<'_>) {
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

pub(super) fn walk_stmts(stmts: &mut Vec<Stmt>, visit: &mut Visit<'_>) -> bool {
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

fn walk_stmt(stmt: &mut Stmt, visit: &mut Visit<'_>) -> bool {
    with_stack(|| match &mut stmt.kind {
        StmtKind::Let { binding, init } => match init {
            Some(e) => {
                if let ExprKind::Fn(decl) = &mut e.kind {
                    let callers = Callers::Name(binding.ident.name.clone());
                    // The body is walked with the expression below.
                    if let Err(true) = offer(visit, Site::Decl(decl, callers)) {
                        return true;
                    }
                }
                walk_expr(e, Role::Value, visit)
            }
            None => false,
        },
        StmtKind::Expr(e) => walk_expr(e, Role::Statement, visit),
        StmtKind::Fn { binding, decl } => {
            walk_fn(decl, Callers::Name(binding.ident.name.clone()), visit)
        }
        StmtKind::Class(c) => {
            if let Err(stopped) = offer(visit, Site::Methods(&mut c.methods)) {
                return stopped;
            }
            let class = c.name.name.clone();
            c.methods.iter_mut().any(|m| {
                let callers = Callers::Method {
                    name: m.name.name.clone(),
                    class: class.clone(),
                };
                walk_fn(m, callers, visit)
            })
        }
        StmtKind::If { branches, els } => {
            branches.iter_mut().any(|(cond, block)| {
                walk_expr(cond, Role::Value, visit) || walk_stmts(&mut block.stmts, visit)
            }) || els
                .as_mut()
                .is_some_and(|b| walk_stmts(&mut b.stmts, visit))
        }
        StmtKind::While { cond, body } => {
            walk_expr(cond, Role::Value, visit) || walk_stmts(&mut body.stmts, visit)
        }
        StmtKind::ForRange {
            start, end, body, ..
        } => {
            walk_expr(start, Role::Value, visit)
                || walk_expr(end, Role::Value, visit)
                || walk_stmts(&mut body.stmts, visit)
        }
        StmtKind::ForIn { iter, body, .. } => {
            walk_expr(iter, Role::Value, visit) || walk_stmts(&mut body.stmts, visit)
        }
        StmtKind::Return(Some(e)) | StmtKind::Throw(e) => walk_expr(e, Role::Value, visit),
        StmtKind::Try { body, handler, .. } => {
            walk_stmts(&mut body.stmts, visit) || walk_stmts(&mut handler.stmts, visit)
        }
        StmtKind::Block(b) => walk_stmts(&mut b.stmts, visit),
        StmtKind::Return(None) | StmtKind::Break | StmtKind::Continue => false,
    })
}

pub(super) fn walk_expr(e: &mut Expr, role: Role, visit: &mut Visit<'_>) -> bool {
    if let Err(stopped) = offer(visit, Site::Expr(e, role)) {
        return stopped;
    }
    with_stack(|| match &mut e.kind {
        ExprKind::List(items) => items.iter_mut().any(|x| walk_expr(x, Role::Value, visit)),
        ExprKind::Map(entries) => entries
            .iter_mut()
            .any(|(k, v)| walk_expr(k, Role::Value, visit) || walk_expr(v, Role::Value, visit)),
        ExprKind::Unary { expr, .. } => walk_expr(expr, Role::Value, visit),
        ExprKind::Chain { first, rest } => {
            walk_expr(first, Role::Value, visit)
                || rest
                    .iter_mut()
                    .any(|(_, _, x)| walk_expr(x, Role::Value, visit))
        }
        ExprKind::Call { callee, args } => {
            walk_expr(callee, Role::Callee, visit)
                || args.iter_mut().any(|x| walk_expr(x, Role::Value, visit))
        }
        ExprKind::Get { obj, .. } => walk_expr(obj, Role::Value, visit),
        ExprKind::Index { obj, index } => {
            walk_expr(obj, Role::Value, visit) || walk_expr(index, Role::Value, visit)
        }
        ExprKind::Fn(decl) => walk_stmts(&mut decl.body.stmts, visit),
        ExprKind::Assign { target, value, .. } => {
            walk_expr(target, Role::Target, visit) || walk_expr(value, Role::Value, visit)
        }
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Nil
        | ExprKind::Name { .. }
        | ExprKind::SelfRef { .. }
        | ExprKind::Super { .. } => false,
    })
}

/// Sites of one kind in `program`.
pub(super) fn count(program: &mut Program, kind: Kind) -> usize {
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
    program: &mut Program,
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
pub(super) fn seq_len(program: &mut Program, index: usize) -> usize {
    with_site(program, Kind::Seq, index, |site| match site {
        Site::Stmts(v) => v.len(),
        Site::Methods(v) => v.len(),
        Site::Decl(..) | Site::Expr(..) => 0,
    })
    .unwrap_or(0)
}

/// Statements in all blocks: positions for statement-level passes, numbered block by block
/// in walk order.
pub(super) fn count_stmts(program: &mut Program) -> usize {
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
    program: &mut Program,
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
pub(super) fn declared_names(program: &mut Program) -> BTreeSet<String> {
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
    let mut copy = stmts.to_vec();
    let mut found = false;
    walk_stmts(&mut copy, &mut |site| match site {
        Site::Expr(e, _) if matches!(&e.kind, ExprKind::Name { name: n, .. } if n == name) => {
            found = true;
            Flow::Stop
        }
        _ => Flow::Continue,
    });
    found
}
