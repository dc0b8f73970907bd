//! Expression simplification: replacing an expression by one of its operands, a shorter form
//! of it, or a simple literal.

use std::collections::BTreeSet;

use echo_engine::syntax::ast::{Assign, Call, Chain, Expr, ExprKind};
use echo_engine::syntax::visit::Role;

use super::sites::{Kind, Site, count, declared_names, with_site};
use super::weight::expr_weight;
use super::{Reducer, Step, each_without_one, expr};

impl Reducer<'_> {
    /// Replaces expressions by sub-expressions, smaller forms or simple literals.
    pub(super) fn simplify_expressions(&mut self) -> Step {
        let declared = declared_names(&mut self.program);
        self.sweep(
            |p| count(p, Kind::Expr),
            |p, at| {
                with_site(p, Kind::Expr, at, |site| match site {
                    Site::Expr(e, role) => simpler(e, role, &declared),
                    _ => Vec::new(),
                })
                .unwrap_or_default()
            },
            |p, at, replacement| {
                with_site(p, Kind::Expr, at, |site| {
                    if let Site::Expr(e, _) = site {
                        *e = replacement;
                    }
                });
            },
        )
    }
}

fn is_literal(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil
    )
}

/// Expressions that may replace `e` (used as `role`), most promising first: its operands,
/// shorter forms of it, then simple literals. `declared` are the program's functions and
/// classes, whose calls lose arguments only with the parameter.
fn simpler(e: &Expr, role: Role, declared: &BTreeSet<String>) -> Vec<Expr> {
    // A literal callee can only raise "not callable", and a target must stay a name,
    // property or index.
    if matches!(role, Role::Callee | Role::Target) {
        return Vec::new();
    }
    let mut out = Vec::new();
    match &e.kind {
        ExprKind::Int(n) => out.extend(
            [0, 1, n / 2]
                .into_iter()
                .filter(|m| m.unsigned_abs() < n.unsigned_abs())
                .map(|m| expr(ExprKind::Int(m))),
        ),
        ExprKind::Float(f) => {
            let weight = expr_weight(e);
            out.extend(
                [0.0, 1.0, f.trunc()]
                    .into_iter()
                    .map(|g| expr(ExprKind::Float(g)))
                    .filter(|g| expr_weight(g) < weight),
            );
        }
        ExprKind::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            let half = chars.len() / 2;
            out.push(expr(ExprKind::Str("".into())));
            if chars.len() > 1 {
                out.push(expr(ExprKind::Str(
                    chars[..half].iter().collect::<String>().into(),
                )));
                out.push(expr(ExprKind::Str(
                    chars[half..].iter().collect::<String>().into(),
                )));
            }
        }
        ExprKind::List(items) => {
            out.push(expr(ExprKind::List(Box::new([]))));
            if items.len() > 1 {
                out.extend(each_without_one(items).map(|fewer| expr(ExprKind::List(fewer.into()))));
            }
            out.extend(items.iter().cloned());
        }
        ExprKind::Map(entries) => {
            out.push(expr(ExprKind::Map(Box::new([]))));
            if entries.len() > 1 {
                out.extend(
                    each_without_one(entries).map(|fewer| expr(ExprKind::Map(fewer.into()))),
                );
            }
            for (k, v) in entries {
                out.push(k.clone());
                out.push(v.clone());
            }
        }
        ExprKind::Unary { expr: operand, .. } => out.push((**operand).clone()),
        ExprKind::Chain(node) => {
            let Chain { first, rest } = &**node;
            out.push(first.clone());
            out.extend(rest.iter().map(|l| l.rhs.clone()));
            if rest.len() > 1 {
                out.push(expr(ExprKind::Chain(Box::new(Chain {
                    first: rest[0].rhs.clone(),
                    rest: rest[1..].to_vec(),
                }))));
                out.extend(each_without_one(rest).map(|fewer| {
                    expr(ExprKind::Chain(Box::new(Chain {
                        first: first.clone(),
                        rest: fewer,
                    })))
                }));
            }
        }
        ExprKind::Call(node) => {
            let Call { callee, args } = &**node;
            out.extend(args.iter().cloned());
            if let ExprKind::Get(get) = &callee.kind {
                out.push(get.obj.clone());
            }
            let own = matches!(&callee.kind,
                ExprKind::Name { name, .. } if declared.contains(name.as_str()));
            if !own {
                out.extend(each_without_one(args).map(|fewer| {
                    expr(ExprKind::Call(Box::new(Call {
                        callee: callee.clone(),
                        args: fewer,
                    })))
                }));
            }
        }
        ExprKind::Get(get) => out.push(get.obj.clone()),
        ExprKind::Index(ix) => {
            out.push(ix.obj.clone());
            out.push(ix.index.clone());
        }
        ExprKind::Assign(node) => {
            let Assign { target, op, value } = &**node;
            if op.is_some() {
                out.push(expr(ExprKind::Assign(Box::new(Assign {
                    target: target.clone(),
                    op: None,
                    value: value.clone(),
                }))));
            }
            out.push(value.clone());
        }
        ExprKind::Bool(_)
        | ExprKind::Nil
        | ExprKind::Name { .. }
        | ExprKind::SelfRef { .. }
        | ExprKind::Super(_)
        | ExprKind::Fn(_) => {}
    }
    // Not for a whole expression statement: deleting the statement is the simpler edit.
    if role == Role::Value && !is_literal(e) {
        out.extend(
            [
                ExprKind::Int(0),
                ExprKind::Int(1),
                ExprKind::Nil,
                ExprKind::Bool(true),
                ExprKind::Str("".into()),
            ]
            .map(expr),
        );
    }
    out.retain(|c| c != e);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::MAX_DEPTH;
    use echo_engine::syntax::parser::parse;

    fn first_expr(src: &str) -> Expr {
        let mut p = parse(src, MAX_DEPTH).unwrap();
        with_site(&mut p, Kind::Expr, 0, |site| match site {
            Site::Expr(e, _) => e.clone(),
            _ => unreachable!("only expression sites are counted"),
        })
        .unwrap()
    }

    #[test]
    fn every_simpler_expression_weighs_less() {
        let declared = BTreeSet::new();
        for src in [
            "let x = a + b * 2 - c;",
            "let x = f(1, [2, 3], {4: 5, 6: 7});",
            "let x = \"some text\";",
            "let x = 1234;",
            "let x = 2.5;",
            "let x = o.m(y)[z];",
            "let x = !-y;",
        ] {
            let e = first_expr(src);
            for s in simpler(&e, Role::Value, &declared) {
                assert!(
                    expr_weight(&s) < expr_weight(&e),
                    "{src}: {s:?} is not lighter"
                );
            }
        }
    }
}
