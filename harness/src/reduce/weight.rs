//! Program weight: the size the reducer minimizes, summed over the syntax tree.

use echo_engine::ast::{Block, Expr, ExprKind, FnDecl, Program, Stmt, StmtKind};
use echo_engine::source::with_stack;

/// The size reduction minimizes. Every edit the passes make lowers it: statements and
/// blocks cost more than expressions, names and operators more than literals, and long
/// literals more than short ones.
pub(super) fn program_weight(p: &Program) -> u64 {
    p.stmts.iter().map(stmt_weight).sum()
}

fn block_weight(b: &Block) -> u64 {
    2 + b.stmts.iter().map(stmt_weight).sum::<u64>()
}

fn fn_weight(f: &FnDecl) -> u64 {
    f.params.len() as u64 + block_weight(&f.body)
}

fn opt_weight(e: &Option<Expr>) -> u64 {
    e.as_ref().map_or(0, expr_weight)
}

fn stmt_weight(s: &Stmt) -> u64 {
    let inner = with_stack(|| match &s.kind {
        StmtKind::Let { init, .. } => opt_weight(init),
        StmtKind::Expr(e) | StmtKind::Throw(e) => expr_weight(e),
        StmtKind::Return(e) => opt_weight(e),
        StmtKind::Fn { decl, .. } => fn_weight(decl),
        StmtKind::Class(c) => {
            u64::from(c.superclass.is_some())
                + c.methods.iter().map(|m| 4 + fn_weight(m)).sum::<u64>()
        }
        StmtKind::If { branches, els } => {
            branches
                .iter()
                .map(|(c, b)| expr_weight(c) + block_weight(b))
                .sum::<u64>()
                + els.as_ref().map_or(0, block_weight)
        }
        StmtKind::While { cond, body } => expr_weight(cond) + block_weight(body),
        StmtKind::ForRange {
            start, end, body, ..
        } => expr_weight(start) + expr_weight(end) + block_weight(body),
        StmtKind::ForIn { iter, body, .. } => expr_weight(iter) + block_weight(body),
        StmtKind::Try { body, handler, .. } => block_weight(body) + block_weight(handler),
        StmtKind::Block(b) => block_weight(b),
        StmtKind::Break | StmtKind::Continue => 0,
    });
    4 + inner
}

pub(super) fn expr_weight(e: &Expr) -> u64 {
    with_stack(|| match &e.kind {
        ExprKind::Nil | ExprKind::Bool(_) => 1,
        ExprKind::Int(n) => 1 + u64::from(64 - n.unsigned_abs().leading_zeros()),
        ExprKind::Float(f) if *f == 0.0 => 1,
        ExprKind::Float(f) if f.fract() == 0.0 => 2,
        ExprKind::Float(_) => 3,
        ExprKind::Str(s) => 1 + s.chars().count() as u64,
        ExprKind::Name { .. } | ExprKind::SelfRef { .. } | ExprKind::Super { .. } => 3,
        ExprKind::List(items) => 3 + items.iter().map(expr_weight).sum::<u64>(),
        ExprKind::Map(entries) => {
            3 + entries
                .iter()
                .map(|(k, v)| expr_weight(k) + expr_weight(v))
                .sum::<u64>()
        }
        ExprKind::Unary { expr, .. } => 3 + expr_weight(expr),
        ExprKind::Chain { first, rest } => {
            3 + expr_weight(first) + rest.iter().map(|(_, _, x)| expr_weight(x)).sum::<u64>()
        }
        ExprKind::Call { callee, args } => {
            3 + expr_weight(callee) + args.iter().map(expr_weight).sum::<u64>()
        }
        ExprKind::Get { obj, .. } => 3 + expr_weight(obj),
        ExprKind::Index { obj, index } => 3 + expr_weight(obj) + expr_weight(index),
        ExprKind::Fn(decl) => 3 + fn_weight(decl),
        ExprKind::Assign { target, op, value } => {
            3 + u64::from(op.is_some()) + expr_weight(target) + expr_weight(value)
        }
    })
}
