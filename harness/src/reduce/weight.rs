//! Script weight: the size the reducer minimizes, summed over the syntax tree.

use echo_engine::source::with_stack;
use echo_engine::syntax::ast::{Block, Expr, ExprKind, FnDecl, Script, Stmt, StmtKind};
use echo_engine::syntax::visit::Child;

/// The size reduction minimizes. Every edit the passes make lowers it: statements and
/// blocks cost more than expressions, names and operators more than literals, and long
/// literals more than short ones.
pub(super) fn program_weight(p: &Script) -> u64 {
    p.stmts.iter().map(stmt_weight).sum()
}

fn block_weight(b: &Block) -> u64 {
    2 + b.stmts.iter().map(stmt_weight).sum::<u64>()
}

fn fn_weight(f: &FnDecl) -> u64 {
    f.params.len() as u64 + block_weight(&f.body)
}

fn child_weight(c: Child<'_>) -> u64 {
    match c {
        Child::Expr(e, _) => expr_weight(e),
        Child::Block(b) => block_weight(b),
        Child::Fn(f) => fn_weight(f),
    }
}

fn stmt_weight(s: &Stmt) -> u64 {
    // A method costs as much as a statement of its own.
    let own = match &s.kind {
        StmtKind::Class(c) => u64::from(c.superclass.is_some()) + 4 * c.methods.len() as u64,
        _ => 0,
    };
    let mut inner = own;
    with_stack(|| s.children(|c| inner += child_weight(c)));
    4 + inner
}

/// The weight of one expression with everything inside it.
pub(super) fn expr_weight(e: &Expr) -> u64 {
    let own = match &e.kind {
        ExprKind::Nil | ExprKind::Bool(_) => 1,
        ExprKind::Int(n) => 1 + u64::from(64 - n.unsigned_abs().leading_zeros()),
        ExprKind::Float(f) if *f == 0.0 => 1,
        ExprKind::Float(f) if f.fract() == 0.0 => 2,
        ExprKind::Float(_) => 3,
        ExprKind::Str(s) => 1 + s.chars().count() as u64,
        ExprKind::Assign(a) => 3 + u64::from(a.op.is_some()),
        // Names and every operator, call, access and function literal.
        _ => 3,
    };
    let mut weight = own;
    with_stack(|| e.children(|c| weight += child_weight(c)));
    weight
}
