//! Walking the syntax tree. The children of every node kind are listed once, here; passes that
//! need every sub-expression or sub-statement (the compiler's scans, the harness's reducer and
//! its checks) walk through `Expr::children`, `Stmt::children` or `walk_exprs` instead of
//! matching every kind themselves, so a new kind of node is added in one place.

use crate::source::with_stack;
use crate::syntax::ast::{
    Assign, Block, Call, Chain, Expr, ExprKind, FnDecl, ForIn, ForRange, If, Index, Let, Script,
    Stmt, StmtKind, Try, While,
};

/// How a node uses a child expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Its value is read (an operand, an argument, a condition, an initializer...).
    Value,
    /// The whole expression of an expression statement: only its effects count.
    Statement,
    /// The callee of a call.
    Callee,
    /// The place an assignment writes (a name, `obj.name` or `obj[index]`).
    Target,
}

/// A child of a node.
#[derive(Debug)]
pub enum Child<'a> {
    /// An expression, and how the parent uses it.
    Expr(&'a Expr, Role),
    /// A block of statements (bodies of statements and functions).
    Block(&'a Block),
    /// A function: a function literal's, a `fn` statement's, or a class's method.
    Fn(&'a FnDecl),
}

/// A child of a node, to edit in place.
#[derive(Debug)]
pub enum ChildMut<'a> {
    /// An expression, and how the parent uses it.
    Expr(&'a mut Expr, Role),
    /// A block of statements.
    Block(&'a mut Block),
    /// A function.
    Fn(&'a mut FnDecl),
}

// The two walks differ only in `&` / `&mut`: one body serves both.
macro_rules! children {
    ($expr_fn:ident, $stmt_fn:ident, $child:ident, $($m:tt)?) => {
        impl Expr {
            /// Calls `f` on each child of this expression, in source order. A function
            /// literal's child is its function (whose body is a block).
            pub fn $expr_fn<'a>(&'a $($m)? self, mut f: impl FnMut($child<'a>)) {
                use Role::*;
                match & $($m)? self.kind {
                    ExprKind::List(items) => items.into_iter().for_each(|x| f($child::Expr(x, Value))),
                    ExprKind::Map(entries) => {
                        for (k, v) in entries {
                            f($child::Expr(k, Value));
                            f($child::Expr(v, Value));
                        }
                    }
                    ExprKind::Unary { expr, .. } => f($child::Expr(expr, Value)),
                    ExprKind::Chain(node) => {
                        let Chain { first, rest } = & $($m)? **node;
                        f($child::Expr(first, Value));
                        for link in rest {
                            f($child::Expr(& $($m)? link.rhs, Value));
                        }
                    }
                    ExprKind::Call(node) => {
                        let Call { callee, args } = & $($m)? **node;
                        f($child::Expr(callee, Callee));
                        args.into_iter().for_each(|x| f($child::Expr(x, Value)));
                    }
                    ExprKind::Get(node) => f($child::Expr(& $($m)? node.obj, Value)),
                    ExprKind::Index(node) => {
                        let Index { obj, index } = & $($m)? **node;
                        f($child::Expr(obj, Value));
                        f($child::Expr(index, Value));
                    }
                    ExprKind::Fn(decl) => f($child::Fn(decl)),
                    ExprKind::Assign(node) => {
                        let Assign { target, value, .. } = & $($m)? **node;
                        f($child::Expr(target, Target));
                        f($child::Expr(value, Value));
                    }
                    ExprKind::Int(_)
                    | ExprKind::Float(_)
                    | ExprKind::Str(_)
                    | ExprKind::Bool(_)
                    | ExprKind::Nil
                    | ExprKind::Name { .. }
                    | ExprKind::SelfRef { .. }
                    | ExprKind::Super(_) => {}
                }
            }
        }

        impl Stmt {
            /// Calls `f` on each child of this statement, in source order.
            pub fn $stmt_fn<'a>(&'a $($m)? self, mut f: impl FnMut($child<'a>)) {
                use Role::*;
                match & $($m)? self.kind {
                    StmtKind::Let(node) => {
                        let Let { init, .. } = & $($m)? **node;
                        if let Some(e) = init {
                            f($child::Expr(e, Value));
                        }
                    }
                    StmtKind::Expr(e) => f($child::Expr(e, Statement)),
                    StmtKind::Fn { decl, .. } => f($child::Fn(decl)),
                    StmtKind::Class(c) => (& $($m)? c.methods).into_iter().for_each(|m| f($child::Fn(m))),
                    StmtKind::If(node) => {
                        let If { branches, els } = & $($m)? **node;
                        for (cond, block) in branches {
                            f($child::Expr(cond, Value));
                            f($child::Block(block));
                        }
                        if let Some(b) = els {
                            f($child::Block(b));
                        }
                    }
                    StmtKind::While(node) => {
                        let While { cond, body } = & $($m)? **node;
                        f($child::Expr(cond, Value));
                        f($child::Block(body));
                    }
                    StmtKind::ForRange(node) => {
                        let ForRange { start, end, body, .. } = & $($m)? **node;
                        f($child::Expr(start, Value));
                        f($child::Expr(end, Value));
                        f($child::Block(body));
                    }
                    StmtKind::ForIn(node) => {
                        let ForIn { iter, body, .. } = & $($m)? **node;
                        f($child::Expr(iter, Value));
                        f($child::Block(body));
                    }
                    StmtKind::Return(Some(e)) | StmtKind::Throw(e) => f($child::Expr(e, Value)),
                    StmtKind::Try(node) => {
                        let Try { body, handler, .. } = & $($m)? **node;
                        f($child::Block(body));
                        f($child::Block(handler));
                    }
                    StmtKind::Block(b) => f($child::Block(b)),
                    StmtKind::Return(None) | StmtKind::Break | StmtKind::Continue => {}
                }
            }
        }
    };
}

children!(children, children, Child,);
children!(children_mut, children_mut, ChildMut, mut);

/// Calls `f` on every expression of `stmts`, nested ones included (function bodies too), in
/// preorder, with its role. Deep trees are walked on a stack that grows on demand.
pub fn walk_exprs<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Expr, Role)) {
    for s in stmts {
        with_stack(|| s.children(|c| walk_child(c, f)));
    }
}

/// Every expression of a program (see `walk_exprs`).
pub fn script_exprs<'a>(program: &'a Script, f: &mut dyn FnMut(&'a Expr, Role)) {
    walk_exprs(&program.stmts, f);
}

fn walk_child<'a>(c: Child<'a>, f: &mut dyn FnMut(&'a Expr, Role)) {
    match c {
        Child::Expr(e, role) => {
            f(e, role);
            with_stack(|| e.children(|c| walk_child(c, f)));
        }
        Child::Block(b) => walk_exprs(&b.stmts, f),
        Child::Fn(d) => walk_exprs(&d.body.stmts, f),
    }
}

/// Whether `e` or any expression inside it (outside nested functions) satisfies `p`.
pub fn any_expr(e: &Expr, p: &mut dyn FnMut(&Expr) -> bool) -> bool {
    if p(e) {
        return true;
    }
    let mut found = false;
    with_stack(|| {
        e.children(|c| {
            if let Child::Expr(x, _) = c
                && !found
            {
                found = any_expr(x, p);
            }
        })
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parser::parse;

    fn exprs(src: &str) -> Vec<(String, Role)> {
        let p = parse(src, 200).expect("parses");
        let mut out = Vec::new();
        script_exprs(&p, &mut |e, role| {
            let what = match &e.kind {
                ExprKind::Name { name, .. } => name.to_string(),
                ExprKind::Int(i) => i.to_string(),
                ExprKind::Call(_) => "call".into(),
                ExprKind::Assign(_) => "assign".into(),
                ExprKind::Fn(_) => "fn".into(),
                ExprKind::Get(get) => format!(".{}", get.name.name),
                _ => "other".into(),
            };
            out.push((what, role));
        });
        out
    }

    #[test]
    fn every_expression_is_visited_once_in_preorder_with_its_role() {
        use Role::*;
        let got = exprs("let f = fn (x) { return x + 1; };\nf(2)(3);\no.p = q[4];");
        // Preorder: a node comes before its children (`other` is a chain or an index).
        let names: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "fn", "other", "x", "1", "call", "call", "f", "2", "3", "assign", ".p", "o",
                "other", "q", "4"
            ]
        );
        assert_eq!(got[4].1, Statement, "the statement's call");
        assert_eq!(got[5].1, Callee, "f(2) is the callee of f(2)(3)");
        assert_eq!(got[6].1, Callee, "f is the callee of f(2)");
        assert_eq!(got[8].1, Value, "3 is an argument");
        assert_eq!(got[10].1, Target, "o.p is assigned");
    }

    #[test]
    fn statements_list_their_blocks_and_functions() {
        let p = parse(
            "class C { fn m() {} fn n() {} }\nif a { } else if b { } else { }\ntry { } catch e { }",
            200,
        )
        .expect("parses");
        let mut counts = Vec::new();
        for s in &p.stmts {
            let (mut blocks, mut fns, mut exprs) = (0, 0, 0);
            s.children(|c| match c {
                Child::Block(_) => blocks += 1,
                Child::Fn(_) => fns += 1,
                Child::Expr(..) => exprs += 1,
            });
            counts.push((blocks, fns, exprs));
        }
        assert_eq!(counts, [(0, 2, 0), (3, 0, 2), (2, 0, 0)]);
    }

    #[test]
    fn children_can_be_edited_in_place() {
        let mut p = parse("print(1, 2);", 200).expect("parses");
        p.stmts[0].children_mut(|c| {
            if let ChildMut::Expr(e, _) = c {
                e.children_mut(|c| {
                    if let ChildMut::Expr(x, Role::Value) = c {
                        x.kind = ExprKind::Int(7);
                    }
                })
            }
        });
        let printed = crate::syntax::printer::print_script(&p);
        assert_eq!(printed.trim(), "print(7, 7);");
    }
}
