//! The structural passes: deleting statements and methods, unwrapping compound statements,
//! dropping parameters with their arguments, and inlining one-line functions.

use echo_engine::syntax::ast::{
    Binding, BindingId, Expr, ExprKind, Ident, If, Let, Script, Span, Stmt, StmtKind,
};
use echo_engine::syntax::visit::{Role, script_exprs};

use super::sites::{
    Flow, Kind, Site, count, count_stmts, mentions, seq_len, walk, walk_expr, with_site, with_stmt,
};
use super::{Reducer, Step, each_without_one, expr, stmt};

impl Reducer<'_> {
    /// Deletes statements (and methods) from every list, ddmin style: for each list, chunks
    /// of half its length, then quarters, down to single elements.
    pub(super) fn delete_statements(&mut self) -> Step {
        let mut progress = false;
        let mut seq = 0;
        while seq < count(&mut self.program, Kind::Seq) {
            let len = seq_len(&mut self.program, seq);
            // The whole top level never needs testing: an empty program shows nothing.
            let mut chunk = if seq == 0 { len / 2 } else { len };
            while chunk > 0 {
                let mut at = 0;
                while at < seq_len(&mut self.program, seq) {
                    if seq == 0 && at == 0 && chunk >= seq_len(&mut self.program, seq) {
                        break;
                    }
                    let mut candidate = self.program.clone();
                    let removed = with_site(&mut candidate, Kind::Seq, seq, |site| match site {
                        Site::Stmts(v) => drain_count(v, at, chunk),
                        Site::Methods(v) => drain_count(v, at, chunk),
                        Site::Decl(..) | Site::Expr(..) => 0,
                    })
                    .unwrap_or(0);
                    if self.test(candidate)? {
                        progress = true;
                    } else {
                        at += removed.max(1);
                    }
                }
                chunk /= 2;
            }
            seq += 1;
        }
        Ok(progress)
    }

    /// Replaces compound statements by (part of) their contents.
    pub(super) fn unwrap_statements(&mut self) -> Step {
        self.sweep(
            count_stmts,
            |p, at| with_stmt(p, at, |v, i| unwrapped(&v[i])).unwrap_or_default(),
            |p, at, replacement| {
                with_stmt(p, at, |v, i| {
                    v.splice(i..=i, replacement);
                });
            },
        )
    }

    /// Drops a parameter of a function or method together with the matching argument of
    /// every call that names it.
    pub(super) fn drop_parameters(&mut self) -> Step {
        self.sweep(
            |p| count(p, Kind::Decl),
            |p, at| {
                let params = with_site(p, Kind::Decl, at, |site| match site {
                    Site::Decl(f, _) => f.params.len(),
                    _ => 0,
                });
                (0..params.unwrap_or(0)).collect()
            },
            |p, at, param| {
                let callers = with_site(p, Kind::Decl, at, |site| match site {
                    Site::Decl(f, callers) => {
                        f.params.remove(param);
                        Some(callers)
                    }
                    _ => None,
                });
                let Some(Some(callers)) = callers else {
                    return;
                };
                walk(p, &mut |site| {
                    if let Site::Expr(e, _) = site
                        && let ExprKind::Call(call) = &mut e.kind
                        && callers.calls(&call.callee)
                        && call.args.len() > param
                    {
                        call.args.remove(param);
                    }
                    Flow::Continue
                });
            },
        )
    }

    /// Inlines functions whose body is one `return EXPR;`: at every call at once (deleting
    /// the function), or at one call.
    pub(super) fn inline_functions(&mut self) -> Step {
        self.sweep(
            count_stmts,
            |p, at| {
                let Some(Some(f)) = with_stmt(p, at, |v, i| Inlinable::of(&v[i])) else {
                    return Vec::new();
                };
                let calls = f.count_calls(p);
                let mut edits = Vec::new();
                if calls > 0 {
                    edits.push(Inline::Everywhere);
                }
                if calls > 1 {
                    edits.extend((0..calls).map(Inline::At));
                }
                edits
            },
            |p, at, edit| {
                let Some(Some(f)) = with_stmt(p, at, |v, i| Inlinable::of(&v[i])) else {
                    return;
                };
                match edit {
                    Inline::Everywhere => {
                        with_stmt(p, at, |v, i| v.remove(i));
                        walk(p, &mut |site| match site {
                            Site::Expr(e, _) if f.is_call(e) => {
                                f.inline_nested(e);
                                Flow::Skip
                            }
                            _ => Flow::Continue,
                        });
                    }
                    Inline::At(call) => {
                        let mut seen = 0;
                        walk(p, &mut |site| match site {
                            Site::Expr(e, _) if f.is_call(e) => {
                                seen += 1;
                                if seen <= call {
                                    return Flow::Continue;
                                }
                                if let ExprKind::Call(call) = &e.kind {
                                    *e = f.expand(&call.args);
                                }
                                Flow::Stop
                            }
                            _ => Flow::Continue,
                        });
                    }
                }
            },
        )
    }
}

/// Removes up to `n` elements at `at`; returns how many.
fn drain_count<T>(v: &mut Vec<T>, at: usize, n: usize) -> usize {
    let end = at.saturating_add(n).min(v.len());
    let start = at.min(end);
    v.drain(start..end);
    end - start
}

/// `stmts`, preceded by `let var = init;` when they use `var` (which the statement they
/// come from bound).
fn bind_then(var: &Binding, init: Expr, stmts: &[Stmt]) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(stmts.len() + 1);
    if mentions(stmts, &var.ident.name) {
        out.push(stmt(StmtKind::Let(Box::new(Let {
            binding: Binding {
                ident: Ident {
                    name: var.ident.name.clone(),
                    span: Span::default(),
                },
                id: BindingId(0),
            },
            init: Some(init),
        }))));
    }
    out.extend_from_slice(stmts);
    out
}

/// Statement sequences that may replace `s`: its contents, or a shorter form of it.
fn unwrapped(s: &Stmt) -> Vec<Vec<Stmt>> {
    let mut out = Vec::new();
    match &s.kind {
        StmtKind::If(node) => {
            let If { branches, els } = &**node;
            out.extend(branches.iter().map(|(_, b)| b.stmts.clone()));
            if let Some(b) = els {
                out.push(b.stmts.clone());
                out.push(vec![stmt(StmtKind::If(Box::new(If {
                    branches: branches.clone(),
                    els: None,
                })))]);
            }
            if branches.len() > 1 {
                out.extend(each_without_one(branches).map(|fewer| {
                    vec![stmt(StmtKind::If(Box::new(If {
                        branches: fewer,
                        els: els.clone(),
                    })))]
                }));
            }
        }
        StmtKind::While(w) => out.push(w.body.stmts.clone()),
        StmtKind::ForRange(f) => out.push(bind_then(&f.var, f.start.clone(), &f.body.stmts)),
        StmtKind::ForIn(f) => {
            out.push(bind_then(&f.var, expr(ExprKind::Nil), &f.body.stmts));
        }
        StmtKind::Try(t) => {
            out.push(t.body.stmts.clone());
            out.push(bind_then(&t.var, expr(ExprKind::Nil), &t.handler.stmts));
        }
        StmtKind::Block(b) => out.push(b.stmts.clone()),
        StmtKind::Return(Some(_)) => out.push(vec![stmt(StmtKind::Return(None))]),
        // Keeps what computing the value does when the variable is not needed.
        StmtKind::Let(l)
            if l.init.as_ref().is_some_and(|init| {
                matches!(init.kind, ExprKind::Call(_) | ExprKind::Assign(_))
            }) =>
        {
            out.extend(
                l.init
                    .iter()
                    .map(|init| vec![stmt(StmtKind::Expr(init.clone()))]),
            );
        }
        StmtKind::Let(_)
        | StmtKind::Expr(_)
        | StmtKind::Fn { .. }
        | StmtKind::Class(_)
        | StmtKind::Break
        | StmtKind::Continue
        | StmtKind::Return(None)
        | StmtKind::Throw(_) => {}
    }
    out
}

/// An edit of the inlining pass.
enum Inline {
    /// Inline every call and delete the function.
    Everywhere,
    /// Inline the n-th call (in walk order).
    At(usize),
}

/// A function whose body is `return EXPR;`.
struct Inlinable {
    name: String,
    params: Vec<String>,
    body: Expr,
}

impl Inlinable {
    fn of(s: &Stmt) -> Option<Inlinable> {
        let (name, decl) = match &s.kind {
            StmtKind::Fn { binding, decl } => (&binding.ident.name, &**decl),
            StmtKind::Let(l) => match l.init.as_ref().map(|init| &init.kind) {
                Some(ExprKind::Fn(decl)) => (&l.binding.ident.name, &**decl),
                _ => return None,
            },
            _ => return None,
        };
        let [only] = decl.body.stmts.as_slice() else {
            return None;
        };
        let StmtKind::Return(Some(body)) = &only.kind else {
            return None;
        };
        Some(Inlinable {
            name: name.to_string(),
            params: decl
                .params
                .iter()
                .map(|p| p.ident.name.to_string())
                .collect(),
            body: body.clone(),
        })
    }

    /// Whether `e` calls this function by name with the right number of arguments.
    fn is_call(&self, e: &Expr) -> bool {
        matches!(&e.kind, ExprKind::Call(call)
            if call.args.len() == self.params.len()
                && matches!(&call.callee.kind, ExprKind::Name { name, .. } if *name == self.name))
    }

    /// Calls of this function in `program`: the positions `Inline::At` counts.
    fn count_calls(&self, program: &Script) -> usize {
        let mut n = 0;
        script_exprs(program, &mut |e, _| n += usize::from(self.is_call(e)));
        n
    }

    /// The body with the parameters replaced by `args`.
    fn expand(&self, args: &[Expr]) -> Expr {
        let mut out = self.body.clone();
        walk_expr(&mut out, Role::Value, &mut |site| {
            if let Site::Expr(e, _) = site
                && let ExprKind::Name { name, .. } = &e.kind
                && let Some(i) = self.params.iter().position(|p| p == name)
            {
                *e = args[i].clone();
                // The argument is the caller's expression: its names are not parameters.
                return Flow::Skip;
            }
            Flow::Continue
        });
        out
    }

    /// Replaces a call (see `is_call`) by the expansion, inlining calls in its arguments
    /// first.
    fn inline_nested(&self, e: &mut Expr) {
        let ExprKind::Call(call) = &e.kind else {
            return;
        };
        let mut args = call.args.clone();
        for a in &mut args {
            walk_expr(a, Role::Value, &mut |site| match site {
                Site::Expr(inner, _) if self.is_call(inner) => {
                    self.inline_nested(inner);
                    Flow::Skip
                }
                _ => Flow::Continue,
            });
        }
        *e = self.expand(&args);
    }
}
