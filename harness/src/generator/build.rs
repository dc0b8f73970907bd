//! Constructors for syntax-tree nodes, so that generator code reads like the Echo it builds.
//! Spans are empty and names unresolved: trees are printed and parsed again before running.

use echo_engine::syntax::ast::*;

fn e(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn s(kind: StmtKind) -> Stmt {
    Stmt {
        kind,
        span: Span::default(),
    }
}

pub(crate) fn ident(name: &str) -> Ident {
    Ident {
        name: name.into(),
        span: Span::default(),
    }
}

pub(crate) fn binding(name: &str) -> Binding {
    Binding {
        ident: ident(name),
        id: BindingId(0),
    }
}

pub(crate) fn int(i: i64) -> Expr {
    e(ExprKind::Int(i))
}

pub(crate) fn float(f: f64) -> Expr {
    e(ExprKind::Float(f))
}

pub(crate) fn string(v: &str) -> Expr {
    e(ExprKind::Str(v.into()))
}

pub(crate) fn boolean(b: bool) -> Expr {
    e(ExprKind::Bool(b))
}

pub(crate) fn nil() -> Expr {
    e(ExprKind::Nil)
}

pub(crate) fn name(n: &str) -> Expr {
    e(ExprKind::Name {
        name: n.into(),
        res: Res::Unresolved,
    })
}

pub(crate) fn self_ref() -> Expr {
    e(ExprKind::SelfRef {
        res: Res::Unresolved,
    })
}

pub(crate) fn list(items: Vec<Expr>) -> Expr {
    e(ExprKind::List(items.into_boxed_slice()))
}

pub(crate) fn map(entries: Vec<(Expr, Expr)>) -> Expr {
    e(ExprKind::Map(entries.into_boxed_slice()))
}

pub(crate) fn unary(op: UnOp, x: Expr) -> Expr {
    e(ExprKind::Unary {
        op,
        expr: Box::new(x),
    })
}

pub(crate) fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Chain(Box::new(Chain {
        first: a,
        rest: vec![Link::new(op, Span::default(), b)],
    })))
}

pub(crate) fn call(callee: Expr, args: Vec<Expr>) -> Expr {
    e(ExprKind::Call(Box::new(Call { callee, args })))
}

/// A call of a function by name (a builtin, a global or a local).
pub(crate) fn call_named(f: &str, args: Vec<Expr>) -> Expr {
    call(name(f), args)
}

pub(crate) fn get(obj: Expr, field: &str) -> Expr {
    e(ExprKind::Get(Box::new(Get {
        obj,
        name: ident(field),
    })))
}

pub(crate) fn method_call(obj: Expr, method: &str, args: Vec<Expr>) -> Expr {
    call(get(obj, method), args)
}

pub(crate) fn index(obj: Expr, i: Expr) -> Expr {
    e(ExprKind::Index(Box::new(Index { obj, index: i })))
}

pub(crate) fn super_get(method: &str) -> Expr {
    e(ExprKind::Super(Box::new(Super {
        name: ident(method),
        self_res: Res::Unresolved,
    })))
}

pub(crate) fn assign(target: Expr, value: Expr) -> Expr {
    e(ExprKind::Assign(Box::new(Assign {
        target,
        op: None,
        value,
    })))
}

pub(crate) fn compound(target: Expr, op: BinOp, value: Expr) -> Expr {
    e(ExprKind::Assign(Box::new(Assign {
        target,
        op: Some(op),
        value,
    })))
}

pub(crate) fn fn_decl(fname: &str, params: &[String], body: Vec<Stmt>) -> FnDecl {
    FnDecl {
        name: ident(fname),
        params: params.iter().map(|p| binding(p)).collect(),
        body: block(body),
        self_binding: None,
        captures: Vec::new(),
        span: Span::default(),
    }
}

pub(crate) fn fn_literal(params: &[String], body: Vec<Stmt>) -> Expr {
    e(ExprKind::Fn(Box::new(fn_decl("<anon>", params, body))))
}

pub(crate) fn block(stmts: Vec<Stmt>) -> Block {
    Block {
        stmts,
        span: Span::default(),
    }
}

pub(crate) fn let_(var: &str, init: Expr) -> Stmt {
    s(StmtKind::Let(Box::new(Let {
        binding: binding(var),
        init: Some(init),
    })))
}

pub(crate) fn expr_stmt(x: Expr) -> Stmt {
    s(StmtKind::Expr(x))
}

pub(crate) fn if_(branches: Vec<(Expr, Vec<Stmt>)>, els: Option<Vec<Stmt>>) -> Stmt {
    s(StmtKind::If(Box::new(If {
        branches: branches.into_iter().map(|(c, b)| (c, block(b))).collect(),
        els: els.map(block),
    })))
}

pub(crate) fn while_(cond: Expr, body: Vec<Stmt>) -> Stmt {
    s(StmtKind::While(Box::new(While {
        cond,
        body: block(body),
    })))
}

pub(crate) fn for_range(var: &str, start: Expr, end: Expr, body: Vec<Stmt>) -> Stmt {
    s(StmtKind::ForRange(Box::new(ForRange {
        var: binding(var),
        start,
        end,
        body: block(body),
    })))
}

pub(crate) fn for_in(var: &str, iter: Expr, body: Vec<Stmt>) -> Stmt {
    s(StmtKind::ForIn(Box::new(ForIn {
        var: binding(var),
        iter,
        body: block(body),
    })))
}

pub(crate) fn break_() -> Stmt {
    s(StmtKind::Break)
}

pub(crate) fn continue_() -> Stmt {
    s(StmtKind::Continue)
}

pub(crate) fn return_(x: Option<Expr>) -> Stmt {
    s(StmtKind::Return(x))
}

pub(crate) fn throw(x: Expr) -> Stmt {
    s(StmtKind::Throw(x))
}

pub(crate) fn try_(body: Vec<Stmt>, var: &str, handler: Vec<Stmt>) -> Stmt {
    s(StmtKind::Try(Box::new(Try {
        body: block(body),
        var: binding(var),
        handler: block(handler),
    })))
}

pub(crate) fn fn_stmt(decl: FnDecl) -> Stmt {
    s(StmtKind::Fn {
        binding: binding(&decl.name.name.clone()),
        decl: Box::new(decl),
    })
}

pub(crate) fn class(cname: &str, superclass: Option<&str>, methods: Vec<FnDecl>) -> Stmt {
    s(StmtKind::Class(Box::new(ClassDecl {
        name: ident(cname),
        superclass: superclass.map(ident),
        methods,
        span: Span::default(),
    })))
}

pub(crate) fn print(args: Vec<Expr>) -> Stmt {
    expr_stmt(call_named("print", args))
}
