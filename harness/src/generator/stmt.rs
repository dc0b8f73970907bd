//! Statements: declarations, assignments of every kind of place, control flow with bounded
//! loops, exceptions, closures and calls made for their effects.

use echo_engine::syntax::ast::{BinOp, Expr, Stmt};

use super::Gen;
use super::build::*;
use super::types::Ty;

/// Most nested blocks inside one function.
const MAX_NESTING: u32 = 4;
/// Most expression nodes per statement (beyond it every operand is a leaf).
const EXPR_BUDGET: i32 = 40;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Let,
    Assign,
    Compound,
    Print,
    If,
    ForRange,
    While,
    ForIn,
    Jump,
    FieldWrite,
    ElementWrite,
    ListOp,
    CallStmt,
    Try,
    Throw,
    LocalFn,
    Closure,
    Return,
    Assert,
    NativeValue,
    SuperValue,
    Probe,
}

impl Gen<'_, '_> {
    /// A block of up to `n` statements in a new scope.
    pub(crate) fn block(&mut self, n: u32) -> Vec<Stmt> {
        self.scopes.push();
        self.ctx.nesting += 1;
        let mut out = Vec::new();
        let n = if self.budget <= 0 { n.min(1) } else { n };
        for _ in 0..n {
            if self.budget <= -20 {
                break;
            }
            self.budget -= 1;
            self.cost = self.cost.saturating_add(self.ctx.trips);
            let s = self.stmt();
            out.extend(s);
        }
        self.ctx.nesting -= 1;
        self.scopes.pop();
        out
    }

    fn nested(&mut self) -> Vec<Stmt> {
        let n = self.range(1, 3) as u32;
        self.block(n)
    }

    fn stmt(&mut self) -> Vec<Stmt> {
        self.expr_budget = EXPR_BUDGET;
        let f = self.f;
        let deep = self.ctx.nesting >= MAX_NESTING;
        let in_loop = self.ctx.loops > 0;
        let in_fn = self.ctx.ret.is_some();
        let kinds: [(Kind, u32); 22] = [
            (Kind::Let, 6),
            (Kind::Assign, 4),
            (Kind::Compound, 3),
            (Kind::Print, 3),
            (Kind::If, if deep { 0 } else { 3 }),
            (Kind::ForRange, if deep { 0 } else { 2 }),
            (Kind::While, if deep || !f.while_loops { 0 } else { 2 }),
            (
                Kind::ForIn,
                if deep || !(f.lists || f.maps || f.strings) {
                    0
                } else {
                    2
                },
            ),
            (Kind::Jump, if in_loop { 2 } else { 0 }),
            (Kind::FieldWrite, if f.classes { 2 } else { 0 }),
            (Kind::ElementWrite, if f.lists || f.maps { 2 } else { 0 }),
            (Kind::ListOp, if f.lists { 2 } else { 0 }),
            (Kind::CallStmt, if self.ctx.closure { 0 } else { 2 }),
            (Kind::Try, if f.exceptions && !deep { 2 } else { 0 }),
            (Kind::Throw, if f.exceptions { 1 } else { 0 }),
            (Kind::LocalFn, if f.closures && !deep { 1 } else { 0 }),
            (Kind::Closure, if f.closures && !deep { 2 } else { 0 }),
            (Kind::Return, if in_fn && !self.ctx.in_init { 1 } else { 0 }),
            (Kind::Assert, 1),
            (Kind::NativeValue, 1),
            (
                Kind::SuperValue,
                if self
                    .ctx
                    .class
                    .is_some_and(|c| self.classes[c].parent.is_some())
                    && !self.ctx.closure
                {
                    1
                } else {
                    0
                },
            ),
            (Kind::Probe, if f.probes { 2 } else { 0 }),
        ];
        let weights: Vec<u32> = kinds.iter().map(|k| k.1).collect();
        let kind = kinds[self.weighted(&weights)].0;
        match kind {
            Kind::Let => self.let_stmt(),
            Kind::Assign => self.assign_stmt(),
            Kind::Compound => self.compound_stmt(),
            Kind::Print => {
                let n = self.range(1, 3);
                let args = (0..n)
                    .map(|_| {
                        let t = self.value_type(false);
                        if self.available(&t) {
                            self.expr(&t, 2)
                        } else {
                            int(0)
                        }
                    })
                    .collect();
                vec![print(args)]
            }
            Kind::If => {
                let mut branches = Vec::new();
                for _ in 0..self.range(1, 3) {
                    let c = self.expr(&Ty::Bool, 2);
                    let b = self.nested();
                    branches.push((c, b));
                }
                let els = self.chance(1, 2).then(|| self.nested());
                vec![if_(branches, els)]
            }
            Kind::ForRange => self.for_range_stmt(),
            Kind::While => self.while_stmt(),
            Kind::ForIn => self.for_in_stmt(),
            Kind::Jump => {
                let c = self.expr(&Ty::Bool, 1);
                let j = if self.chance(1, 2) {
                    break_()
                } else {
                    continue_()
                };
                vec![if_(vec![(c, vec![j])], None)]
            }
            Kind::FieldWrite => self.field_write(),
            Kind::ElementWrite => self.element_write(),
            Kind::ListOp => self.list_op(),
            Kind::CallStmt => {
                let t = self.value_type(false);
                let x = self.expr(&t, 3);
                vec![expr_stmt(x)]
            }
            Kind::Try => self.try_stmt(),
            Kind::Throw => {
                // Thrown only now and then, and caught by a `try` around the call or here.
                let c = self.expr(&Ty::Bool, 1);
                let t = self.value_type(false);
                let v = if self.available(&t) {
                    self.expr(&t, 1)
                } else {
                    int(1)
                };
                let thrown = if self.chance(1, 2) {
                    call_named("Error", vec![call_named("str", vec![v])])
                } else {
                    v
                };
                let s = if_(vec![(c, vec![throw(thrown)])], None);
                if self.ctx.ret.is_none() {
                    // At top level, always inside a try: an uncaught throw would end the case.
                    vec![try_(
                        vec![s],
                        &self.fresh("e"),
                        vec![print(vec![string("caught")])],
                    )]
                } else {
                    vec![s]
                }
            }
            Kind::Probe => self.probe(),
            Kind::LocalFn => self.local_fn(),
            Kind::Closure => self.closure_stmt(),
            Kind::Return => {
                let ret = self.ctx.ret.clone().expect("checked in_fn");
                let c = self.expr(&Ty::Bool, 1);
                let v = self.expr(&ret, 2);
                vec![if_(vec![(c, vec![return_(Some(v))])], None)]
            }
            Kind::Assert => {
                // A condition that holds: x == x for an int, or a comparison with itself.
                let x = self.leaf(&Ty::Int);
                let msg = string("never");
                vec![expr_stmt(call_named(
                    "assert",
                    vec![bin(BinOp::Eq, x.clone(), x), msg],
                ))]
            }
            Kind::NativeValue => {
                // A builtin used as a value.
                let h = self.fresh("h");
                let (b, arg) = match self.pick(3) {
                    0 => ("str", self.expr(&Ty::Int, 1)),
                    1 => ("abs", self.expr(&Ty::Int, 1)),
                    _ => ("type", self.expr(&Ty::Int, 1)),
                };
                if self.chance(1, 4) {
                    // With a wrong number of arguments now and then: an ArityError from a
                    // builtin called through a value.
                    let n = [0, 2, 3][self.pick(3)];
                    let args = (0..n).map(|_| self.expr(&Ty::Int, 1)).collect();
                    let e = self.fresh("e");
                    return vec![
                        let_(&h, name(b)),
                        try_(
                            vec![print(vec![call_named(&h, args)])],
                            &e,
                            vec![print(vec![string("caught"), name(&e)])],
                        ),
                    ];
                }
                vec![let_(&h, name(b)), print(vec![call_named(&h, vec![arg])])]
            }
            Kind::SuperValue => {
                let c = self.ctx.class.expect("checked above");
                let p = self.classes[c].parent.expect("checked above");
                let options: Vec<_> = self.classes[p]
                    .methods
                    .iter()
                    .filter(|m| m.rank < self.ctx.rank)
                    .cloned()
                    .collect();
                if options.is_empty() {
                    return self.let_stmt();
                }
                let m = options[self.pick(options.len())].clone();
                let sig = self.sigs[m.sig].clone();
                let v = self.fresh("sm");
                let args = self.call_args(&sig.params, false, 1);
                vec![
                    let_(&v, super_get(&m.name)),
                    print(vec![call_named(&v, args)]),
                ]
            }
        }
    }

    /// Generates a loop body that runs about `trips` times per entry.
    fn loop_body(&mut self, trips: u64, body: impl FnOnce(&mut Self) -> Vec<Stmt>) -> Vec<Stmt> {
        let saved = self.ctx.trips;
        self.ctx.loops += 1;
        self.ctx.trips = saved.saturating_mul(trips.max(1));
        let out = body(self);
        self.ctx.trips = saved;
        self.ctx.loops -= 1;
        out
    }

    fn let_stmt(&mut self) -> Vec<Stmt> {
        let mut ty = self.value_type(false);
        if !self.available(&ty) {
            ty = Ty::Int;
        }
        let v = self.fresh("v");
        let init = self.expr(&ty, 3);
        self.scopes.add(&v, ty, true);
        vec![let_(&v, init)]
    }

    /// A variable that may be assigned, with its type.
    fn assignable(&mut self) -> Option<(String, Ty)> {
        let vars: Vec<(String, Ty)> = self
            .scopes
            .all()
            .filter(|v| v.assignable)
            .map(|v| (v.name.clone(), v.ty.clone()))
            .collect();
        (!vars.is_empty()).then(|| vars[self.pick(vars.len())].clone())
    }

    fn assign_stmt(&mut self) -> Vec<Stmt> {
        let Some((v, ty)) = self.assignable() else {
            return self.let_stmt();
        };
        self.avoid = Some(v.clone());
        let value = self.expr(&ty, 3);
        self.avoid = None;
        vec![expr_stmt(assign(name(&v), value))]
    }

    fn compound_stmt(&mut self) -> Vec<Stmt> {
        let Some((v, ty)) = self.assignable() else {
            return self.let_stmt();
        };
        let (op, rhs) = match ty {
            Ty::Int => {
                let op = [BinOp::Add, BinOp::Sub][self.pick(2)];
                (op, self.leaf(&Ty::Int))
            }
            Ty::Num => {
                let op = [BinOp::Add, BinOp::Sub, BinOp::Mod][self.pick(3)];
                let rhs = if op == BinOp::Mod {
                    int(self.range(2, 50))
                } else {
                    self.leaf(&Ty::Num)
                };
                (op, rhs)
            }
            Ty::Float => (BinOp::Mul, float([0.5, 1.5, -1.0][self.pick(3)])),
            Ty::Str => {
                let s = expr_stmt(compound(
                    name(&v),
                    BinOp::Add,
                    string(["a", "-", "xy", ""][self.pick(4)]),
                ));
                return vec![self.while_short(&v, 60, s)];
            }
            _ => return self.assign_stmt(),
        };
        vec![expr_stmt(compound(name(&v), op, rhs))]
    }

    /// `if len(v) < n { s }`: growth stays bounded however often it runs.
    fn while_short(&mut self, v: &str, n: i64, s: Stmt) -> Stmt {
        if_(
            vec![(
                bin(BinOp::Lt, call_named("len", vec![name(v)]), int(n)),
                vec![s],
            )],
            None,
        )
    }

    fn for_range_stmt(&mut self) -> Vec<Stmt> {
        let i = self.fresh("i");
        let start = self.expr(&Ty::Int, 1);
        // Trip counts: short in nested loops, longer (past the OSR thresholds) outside.
        let trips = if self.ctx.loops == 0 {
            [2, 5, 12, 30][self.pick(4)]
        } else {
            [1, 2, 4][self.pick(3)]
        };
        // `s..s + n` from a leaf read twice (both reads agree), else a literal range.
        let (start, end, range) =
            if matches!(start.kind, echo_engine::syntax::ast::ExprKind::Name { .. }) {
                (start.clone(), bin(BinOp::Add, start, int(trips)), None)
            } else {
                let s = self.range(-3, 3);
                (int(s), int(s + trips), Some((s, s + trips)))
            };
        self.scopes.push();
        match range {
            Some((lo, hi)) => self.scopes.add_counter(&i, lo, hi),
            None => self.scopes.add(&i, Ty::Int, false),
        }
        let body = self.loop_body(trips as u64, |g| g.nested());
        self.scopes.pop();
        vec![for_range(&i, start, end, body)]
    }

    fn while_stmt(&mut self) -> Vec<Stmt> {
        // The counter is advanced first, so `continue` cannot skip it.
        let c = self.fresh("w");
        let trips = if self.ctx.loops == 0 {
            [3, 8, 25][self.pick(3)]
        } else {
            [1, 3][self.pick(2)]
        };
        // Inside the body (and after the loop) the counter is 1 to `trips`.
        self.scopes.add_counter(&c, 1, trips + 1);
        let mut body = vec![expr_stmt(compound(name(&c), BinOp::Add, int(1)))];
        body.extend(self.loop_body(trips as u64, |g| g.nested()));
        vec![
            let_(&c, int(0)),
            while_(bin(BinOp::Lt, name(&c), int(trips)), body),
        ]
    }

    fn for_in_stmt(&mut self) -> Vec<Stmt> {
        let f = self.f;
        let choice = self.weighted(&[
            if f.lists { 3 } else { 0 },
            if f.maps { 1 } else { 0 },
            if f.strings { 1 } else { 0 },
        ]);
        // Lists and strings can grow long: iterate over a bounded prefix.
        let prefix = |g: &mut Self, x: Expr| {
            let end = call_named(
                "min",
                vec![call_named("len", vec![x.clone()]), int(g.range(1, 12))],
            );
            call_named("slice", vec![x, int(0), end])
        };
        let (iter, ty) = match choice {
            0 => {
                let e = if f.strings && self.chance(1, 3) {
                    Ty::Str
                } else {
                    Ty::Num
                };
                let xs = self.leaf(&Ty::List(Box::new(e.clone())));
                (prefix(self, xs), e)
            }
            1 => (self.expr(&Ty::Map, 1), Ty::Str),
            _ => {
                let s = self.leaf(&Ty::Str);
                (prefix(self, s), Ty::Str)
            }
        };
        let x = self.fresh("x");
        self.scopes.push();
        self.scopes.add(&x, ty, true);
        self.ctx.for_in += 1;
        // Lists hold at most about 40 elements, maps 5 keys, strings are short.
        let mut body = self.loop_body(8, |g| g.nested());
        if self.chance(1, 2) {
            // The order of the visit shows in the output.
            body.insert(0, print(vec![name(&x)]));
        }
        self.ctx.for_in -= 1;
        self.scopes.pop();
        vec![for_in(&x, iter, body)]
    }

    fn field_write(&mut self) -> Vec<Stmt> {
        let targets = self.receivers();
        if targets.is_empty() {
            return self.let_stmt();
        }
        let (obj, c) = targets[self.pick(targets.len())].clone();
        let fields = self.classes[c].fields.clone();
        let (field, ty) = fields[self.pick(fields.len())].clone();
        self.avoid = Some(field.clone());
        let v = self.expr(&ty, 2);
        self.avoid = None;
        vec![expr_stmt(assign(get(obj, &field), v))]
    }

    fn element_write(&mut self) -> Vec<Stmt> {
        let targets: Vec<(String, Ty)> = self
            .scopes
            .all()
            .filter(|v| matches!(v.ty, Ty::List(_) | Ty::Map))
            .map(|v| (v.name.clone(), v.ty.clone()))
            .collect();
        if targets.is_empty() {
            return self.let_stmt();
        }
        let (v, ty) = targets[self.pick(targets.len())].clone();
        match ty {
            Ty::List(e) => {
                let i = {
                    let x = self.expr(&Ty::Int, 1);
                    bin(
                        BinOp::Mod,
                        call_named("abs", vec![x]),
                        call_named("len", vec![name(&v)]),
                    )
                };
                let val = self.expr(&e, 2);
                vec![expr_stmt(assign(index(name(&v), i), val))]
            }
            _ => {
                let k = string(&format!("k{}", self.pick(5)));
                let val = self.expr(&Ty::Num, 2);
                if self.chance(1, 3) {
                    vec![expr_stmt(compound(
                        index(name(&v), string(&format!("k{}", self.pick(2)))),
                        BinOp::Add,
                        val,
                    ))]
                } else {
                    vec![expr_stmt(assign(index(name(&v), k), val))]
                }
            }
        }
    }

    fn list_op(&mut self) -> Vec<Stmt> {
        let lists: Vec<(String, Ty)> = self
            .scopes
            .all()
            .filter_map(|v| match &v.ty {
                Ty::List(e) => Some((v.name.clone(), (**e).clone())),
                _ => None,
            })
            .collect();
        if lists.is_empty() {
            return self.let_stmt();
        }
        let (xs, e) = lists[self.pick(lists.len())].clone();
        // Growing a list inside `for x in` could grow the list being iterated (through an
        // alias) without end.
        let grow = self.ctx.for_in == 0;
        match self.pick(7) {
            0 | 2 if !grow => vec![print(vec![name(&xs)])],
            0 => {
                let v = self.expr(&e, 2);
                vec![self.while_short(&xs, 40, expr_stmt(call_named("push", vec![name(&xs), v])))]
            }
            1 => {
                // Never below one element.
                let c = bin(BinOp::Gt, call_named("len", vec![name(&xs)]), int(1));
                let popped = self.fresh("p");
                vec![if_(
                    vec![(
                        c,
                        vec![
                            let_(&popped, call_named("pop", vec![name(&xs)])),
                            print(vec![name(&popped)]),
                        ],
                    )],
                    None,
                )]
            }
            2 => {
                let v = self.expr(&e, 1);
                let s = expr_stmt(call_named("insert", vec![name(&xs), int(0), v]));
                vec![self.while_short(&xs, 40, s)]
            }
            3 if matches!(e, Ty::Num | Ty::Str) => {
                vec![expr_stmt(call_named("sort", vec![name(&xs)]))]
            }
            4 => vec![expr_stmt(call_named("reverse", vec![name(&xs)]))],
            5 => {
                // Removes the element at a position always inside the list (never below one).
                let c = bin(BinOp::Gt, call_named("len", vec![name(&xs)]), int(1));
                let k = self.expr(&Ty::Int, 1);
                let at = bin(
                    BinOp::Mod,
                    call_named("abs", vec![k]),
                    call_named("len", vec![name(&xs)]),
                );
                let removed = call_named("remove", vec![name(&xs), at]);
                vec![if_(vec![(c, vec![print(vec![removed])])], None)]
            }
            _ => vec![print(vec![name(&xs)])],
        }
    }

    fn try_stmt(&mut self) -> Vec<Stmt> {
        let body = self.nested();
        let e = self.fresh("e");
        self.scopes.push();
        self.scopes.add(&e, Ty::Any, false);
        let mut handler = vec![print(vec![string("caught"), name(&e)])];
        let n = self.range(0, 1) as u32;
        handler.extend(self.block(n));
        self.scopes.pop();
        vec![try_(body, &e, handler)]
    }

    fn local_fn(&mut self) -> Vec<Stmt> {
        let np = self.range(0, 2);
        let ps: Vec<Ty> = (0..np).map(|_| self.simple_type()).collect();
        let ret = self.simple_type();
        let s = self.sig(ps, ret);
        let lit = self.closure(s);
        let echo_engine::syntax::ast::ExprKind::Fn(decl) = &lit.kind else {
            unreachable!("closure() builds a function literal");
        };
        let fname = self.fresh("lf");
        let mut decl = (**decl).clone();
        decl.name = ident(&fname);
        // Not reassigned: at top level it is a global function, which cannot be.
        self.scopes.add(&fname, Ty::Func(s), false);
        let params = self.sigs[s].params.clone();
        let args = self.call_args(&params, false, 1);
        vec![fn_stmt(decl), print(vec![call_named(&fname, args)])]
    }

    /// A closure over a local counter, called a few times: captured variables live in boxes
    /// shared by the closure and its creator.
    fn closure_stmt(&mut self) -> Vec<Stmt> {
        let n = self.fresh("n");
        let start = self.expr(&Ty::Int, 1);
        let mut out = vec![let_(&n, start)];
        self.scopes.add(&n, Ty::Int, true);
        let ps = vec![Ty::Int];
        let s = self.sig(ps, Ty::Int);
        let cl = self.fresh("cl");
        let k = self.fresh("c");
        let body = vec![
            expr_stmt(compound(name(&n), BinOp::Add, name(&k))),
            return_(Some(bin(BinOp::Mod, name(&n), int(1000)))),
        ];
        out.push(let_(&cl, fn_literal(std::slice::from_ref(&k), body)));
        self.scopes.add(&cl, Ty::Func(s), true);
        for _ in 0..self.range(1, 3) {
            let a = self.expr(&Ty::Int, 1);
            out.push(print(vec![call_named(&cl, vec![a]), name(&n)]));
        }
        out
    }
}
