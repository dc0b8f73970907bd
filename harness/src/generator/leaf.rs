//! Leaf methods and functions: a field write, arithmetic on a field and the argument, and a
//! `len`, nothing else, so that compiled callers run them in place (inlined). A hot loop
//! calls one on one instance, with ints and then, on its last trips, floats: a guard in the
//! inlined body fails after it has written its field, and the interpreter must finish it,
//! then the caller. A leaf function may also be called from a holder object's field, or
//! through a parameter that gets another function on the last run.

use echo_engine::syntax::ast::{BinOp, Expr, FnDecl, Stmt, StmtKind};

use super::Gen;
use super::build::*;
use super::types::Ty;

/// A leaf method or function generated for a class, for the driver to call.
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    class: usize,
    /// The numeric field it adds to.
    field: String,
    /// A top-level function taking the instance first (declared by the driver), else a
    /// method of the class.
    function: Option<FnDecl>,
    /// What the driver calls: the leaf, or a wrapper of the same kind that adds to the field
    /// and then calls the leaf (so that the leaf runs inlined in the inlined wrapper).
    entry: String,
    /// The wrapper function, when the leaf is a function with one.
    wrapper: Option<FnDecl>,
    /// For a leaf method: a method of the class answering whether its argument equals
    /// `len("")` (0), which the driver adds to each result. An int with a float is compared
    /// by the helper, so an inlined body leaves there; the driver passes 0.0 before the other
    /// float, when the answer is "equal".
    equals: Option<String>,
    /// For `K` of 5 or more (no choice is drawn for it): a method of the class
    /// `fn chkN(a) { if a == -7 { throw "chk " + str(a); } return a; }`, which a loop of its
    /// own calls, with -7 on its last trips only, so that the throw first runs in the compiled
    /// loop, whose inlined body leaves it out (the interpreter runs it).
    thrower: Option<String>,
}

/// A class whose instances hold a leaf function in a field, and the driving function's
/// parameter holding one.
struct Holder {
    class: String,
    field: String,
    /// A field set before the held one in some instances only (another shape).
    pad: String,
    var: String,
}

/// Trips of the loop calling a leaf method: more than the largest hot-loop threshold, so the
/// loop is compiled while it runs.
const LEAF_TRIPS: i64 = 70;

/// The argument on which a leaf class's `chk` method throws: no loop trip gives it before.
const SENTINEL: i64 = -7;

impl Gen<'_, '_> {
    /// With `flips`, sometimes a leaf for class `c` (one with a numeric field): a method
    /// `self.f = self.f + K; let t = self.g OP a; return t OP (self.f + len("leafN"));`
    /// (the write first or second; or `t = self.g OP self.f` and `self.f + len("leafN") + a`),
    /// returned for the class, or the same as a top-level function of the instance and `a`,
    /// kept for the driver. For an odd `K` (no choice is drawn for it) the driver calls a
    /// wrapper instead: `self.f = self.f + 1; let w = self.leafN(a); return w + self.f;`.
    /// For `K` of 5 or more the class also gets a `chk` method that throws (see `Leaf`).
    fn leaf_method(&mut self, c: usize) -> Vec<FnDecl> {
        if !self.f.flips || !self.chance(3, 4) {
            return Vec::new();
        }
        let numeric: Vec<String> = self.classes[c]
            .fields
            .iter()
            .filter(|(_, t)| matches!(t, Ty::Int | Ty::Float | Ty::Num))
            .map(|(f, _)| f.clone())
            .collect();
        let literal = |t: &Ty| {
            matches!(
                t,
                Ty::Int | Ty::Float | Ty::Num | Ty::Str | Ty::Bool | Ty::Any
            )
        };
        if numeric.is_empty() || !self.classes[c].init_params.iter().all(literal) {
            return Vec::new();
        }
        let field = numeric[self.pick(numeric.len())].clone();
        let read = numeric[self.pick(numeric.len())].clone();
        // A function's instance is its first parameter.
        let instance = self.chance(1, 2).then(|| self.fresh("o"));
        let this = match &instance {
            Some(o) => name(o),
            None => self_ref(),
        };
        let a = self.fresh("a");
        let t = self.fresh("t");
        let ops = [BinOp::Add, BinOp::Sub, BinOp::Mul];
        let op = ops[self.pick(ops.len())];
        let k = self.range(1, 9);
        let write = expr_stmt(assign(
            get(this.clone(), &field),
            bin(BinOp::Add, get(this.clone(), &field), int(k)),
        ));
        // Where the argument goes: into `t`, so that the float's guard fails before the
        // `len`, or after the `len` (`t` then reads two fields), so that it fails with `t`
        // written before a builtin call, which counts as storing every register. Decided by
        // `K` (a multiple of 3), so that no choice is drawn for it.
        let late_arg = k % 3 == 0;
        let operand = if late_arg {
            get(this.clone(), &field)
        } else {
            name(&a)
        };
        let compute = let_(&t, bin(op, get(this.clone(), &read), operand));
        let mut body = if self.chance(3, 4) {
            vec![write, compute]
        } else {
            vec![compute, write]
        };
        let op = ops[self.pick(ops.len())];
        let callee = self.fresh("leaf");
        // A builtin the inlined body runs in place, with its unit of fuel: `len` of a string
        // (the callee's name, so that no choice is drawn for it).
        let length = call_named("len", vec![string(&callee)]);
        let mut total = bin(BinOp::Add, get(this.clone(), &field), length);
        if late_arg {
            total = bin(BinOp::Add, total, name(&a));
        }
        body.push(return_(Some(bin(op, name(&t), total))));
        let wrapped = k % 2 == 1;
        let (entry, w) = if wrapped {
            (self.fresh("wrap"), self.fresh("w"))
        } else {
            (callee.clone(), String::new())
        };
        let wrap = |this: Expr, call: Expr| {
            vec![
                expr_stmt(assign(
                    get(this.clone(), &field),
                    bin(BinOp::Add, get(this.clone(), &field), int(1)),
                )),
                let_(&w, call),
                return_(Some(bin(BinOp::Add, name(&w), get(this, &field)))),
            ]
        };
        let mut methods = Vec::new();
        let mut wrapper = None;
        let mut equals = None;
        let function = match instance {
            Some(o) => {
                if wrapped {
                    let call = call_named(&callee, vec![name(&o), name(&a)]);
                    let params = [o.clone(), a.clone()];
                    wrapper = Some(fn_decl(&entry, &params, wrap(name(&o), call)));
                }
                Some(fn_decl(&callee, &[o, a], body))
            }
            None => {
                if wrapped {
                    let call = method_call(self_ref(), &callee, vec![name(&a)]);
                    methods.push(fn_decl(
                        &entry,
                        std::slice::from_ref(&a),
                        wrap(self_ref(), call),
                    ));
                }
                let eq = self.fresh("eq");
                let zero = call_named("len", vec![string("")]);
                let eq_body = vec![
                    if_(
                        vec![(bin(BinOp::Eq, name(&a), zero), vec![return_(Some(int(1)))])],
                        None,
                    ),
                    return_(Some(int(0))),
                ];
                methods.push(fn_decl(&eq, std::slice::from_ref(&a), eq_body));
                equals = Some(eq);
                methods.push(fn_decl(&callee, &[a], body));
                None
            }
        };
        let thrower = (k >= 5).then(|| {
            let (chk, x) = (self.fresh("chk"), self.fresh("a"));
            let what = bin(
                BinOp::Add,
                string("chk "),
                call_named("str", vec![name(&x)]),
            );
            let hit = bin(BinOp::Eq, name(&x), int(SENTINEL));
            let body = vec![
                if_(vec![(hit, vec![throw(what)])], None),
                return_(Some(name(&x))),
            ];
            methods.push(fn_decl(&chk, std::slice::from_ref(&x), body));
            chk
        });
        self.leaves.push(Leaf {
            class: c,
            field,
            function,
            entry,
            wrapper,
            equals,
            thrower,
        });
        methods
    }

    /// For each leaf method: a function whose loop calls it on one instance, its last trips
    /// with the function's second argument, and prints the last results; the driver calls it
    /// with an int there, then with a float (which the method's inlined body meets first),
    /// then prints the field the method writes.
    /// Adds the leaves to a generated program, drawing every choice after all the others, so
    /// that a seed's program is the one it was without leaves, plus them: leaf methods go
    /// into the class declarations (`classes`: the index of each class's statement in
    /// `stmts`), the driving code into `main` at `at` (before the checksum is printed).
    pub(crate) fn add_leaves(
        &mut self,
        stmts: &mut [Stmt],
        classes: &[usize],
        main: &mut Vec<Stmt>,
        at: usize,
    ) {
        for (c, &i) in classes.iter().enumerate() {
            let methods = self.leaf_method(c);
            if let StmtKind::Class(decl) = &mut stmts[i].kind {
                decl.methods.extend(methods);
            }
        }
        let driving = self.leaf_driver();
        main.splice(at..at, driving);
    }

    fn leaf_driver(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        for leaf in std::mem::take(&mut self.leaves) {
            let f = self.fresh("drive");
            let (o, flip, i, v, r) = (
                self.fresh("o"),
                self.fresh("f"),
                self.fresh("i"),
                self.fresh("v"),
                self.fresh("r"),
            );
            let (k, c) = (self.range(1, 4), self.range(-3, 3));
            // Now and then a function is called from a field of a holder object (`h.cb(o, v)`,
            // compiled for the holder's shape), whose last holder has another shape.
            let holder = match leaf.function {
                Some(_) if self.chance(1, 2) => Some(Holder {
                    class: self.fresh("Hold"),
                    field: self.fresh("cb"),
                    pad: self.fresh("pd"),
                    var: self.fresh("h"),
                }),
                _ => None,
            };
            // Or called through a parameter (`cb(o, v)`, compiled for the one function it
            // has called), whose last value is another function.
            let callback = (leaf.function.is_some() && holder.is_none() && self.chance(1, 2))
                .then(|| self.fresh("cb"));
            let late = |from: i64| bin(BinOp::Ge, name(&i), int(LEAF_TRIPS - from));
            let body = vec![
                let_(
                    &v,
                    bin(BinOp::Add, bin(BinOp::Mul, name(&i), int(k)), int(c)),
                ),
                // A plain copy: no arithmetic of the caller's meets the float first.
                if_(
                    vec![(late(2), vec![expr_stmt(assign(name(&v), name(&flip)))])],
                    None,
                ),
                let_(
                    &r,
                    match (&holder, &leaf.function) {
                        _ if callback.is_some() => call_named(
                            callback.as_deref().unwrap_or_default(),
                            vec![name(&o), name(&v)],
                        ),
                        (Some(h), _) => {
                            method_call(name(&h.var), &h.field, vec![name(&o), name(&v)])
                        }
                        (None, Some(_)) => call_named(&leaf.entry, vec![name(&o), name(&v)]),
                        (None, None) => method_call(name(&o), &leaf.entry, vec![name(&v)]),
                    },
                ),
            ];
            let mut body = body;
            if let Some(eq) = &leaf.equals {
                let check = method_call(name(&o), eq, vec![name(&v)]);
                body.push(expr_stmt(assign(
                    name(&r),
                    bin(BinOp::Add, name(&r), check),
                )));
            }
            body.push(if_(vec![(late(3), vec![print(vec![name(&r)])])], None));
            let mut params = vec![o.clone(), flip];
            params.extend(holder.as_ref().map(|h| h.var.clone()));
            params.extend(callback.clone());
            let decl = fn_decl(
                &f,
                &params,
                vec![for_range(&i, int(0), int(LEAF_TRIPS), body)],
            );
            if let Some(function) = leaf.function {
                out.push(fn_stmt(function));
            }
            if let Some(wrapper) = leaf.wrapper {
                out.push(fn_stmt(wrapper));
            }
            if let Some(h) = &holder {
                let (callee, padded) = (self.fresh("g"), self.fresh("p"));
                let init = vec![
                    if_(
                        vec![(
                            name(&padded),
                            vec![expr_stmt(assign(get(self_ref(), &h.pad), int(0)))],
                        )],
                        None,
                    ),
                    expr_stmt(assign(get(self_ref(), &h.field), name(&callee))),
                ];
                out.push(class(
                    &h.class,
                    None,
                    vec![fn_decl("init", &[callee, padded], init)],
                ));
            }
            out.push(fn_stmt(decl));
            // Literal arguments (`leaf_method` checked that all can be): small numbers keep the
            // field arithmetic far from overflow, and no variable is needed where this code goes.
            let params = self.classes[leaf.class].init_params.clone();
            let args = params
                .iter()
                .map(|t| match t {
                    Ty::Int | Ty::Num => int(self.range(-5, 9)),
                    Ty::Float => float(self.range(-8, 8) as f64 + 0.25),
                    Ty::Str => string("s"),
                    Ty::Bool => boolean(true),
                    _ => nil(),
                })
                .collect();
            let inst = self.fresh("inst");
            out.push(let_(
                &inst,
                call_named(&self.classes[leaf.class].name.clone(), args),
            ));
            let (whole, half) = (self.range(-4, 9), self.range(-4, 9) as f64 + 0.5);
            // The last call's callback: the leaf's result plus one.
            let (x, y) = (self.fresh("x"), self.fresh("y"));
            let other = fn_literal(
                &[x.clone(), y.clone()],
                vec![return_(Some(bin(
                    BinOp::Add,
                    call_named(&leaf.entry, vec![name(&x), name(&y)]),
                    int(1),
                )))],
            );
            let mut other = Some(other);
            let mut holding = |last: bool| match (&holder, &callback) {
                (Some(h), _) => Some(call_named(&h.class, vec![name(&leaf.entry), boolean(last)])),
                (None, Some(_)) if last => other.take(),
                (None, Some(_)) => Some(name(&leaf.entry)),
                (None, None) => None,
            };
            let mut calls = vec![
                (int(whole), holding(false)),
                (float(half), holding(false)),
                (int(whole), holding(true)),
            ];
            if leaf.equals.is_some() {
                calls.insert(1, (float(0.0), None));
            }
            let holder_call = calls.len() - 1;
            for (n, (arg, h)) in calls.into_iter().enumerate() {
                // The last call, with another holder shape or callback, only with one.
                if n == holder_call && h.is_none() {
                    break;
                }
                let mut args = vec![name(&inst), arg];
                args.extend(h);
                out.push(expr_stmt(call_named(&f, args)));
            }
            out.push(print(vec![get(name(&inst), &leaf.field)]));
            if let Some(chk) = &leaf.thrower {
                let (t, o, sum, i, v, e) = (
                    self.fresh("thr"),
                    self.fresh("o"),
                    self.fresh("s"),
                    self.fresh("i"),
                    self.fresh("v"),
                    self.fresh("e"),
                );
                let late = bin(BinOp::Ge, name(&i), int(LEAF_TRIPS - 2));
                let body = vec![
                    let_(&v, name(&i)),
                    if_(
                        vec![(late, vec![expr_stmt(assign(name(&v), int(SENTINEL)))])],
                        None,
                    ),
                    expr_stmt(assign(
                        name(&sum),
                        bin(
                            BinOp::Add,
                            name(&sum),
                            method_call(name(&o), chk, vec![name(&v)]),
                        ),
                    )),
                ];
                let decl = fn_decl(
                    &t,
                    std::slice::from_ref(&o),
                    vec![
                        let_(&sum, int(0)),
                        for_range(&i, int(0), int(LEAF_TRIPS), body),
                        return_(Some(name(&sum))),
                    ],
                );
                out.push(fn_stmt(decl));
                let run = print(vec![call_named(&t, vec![name(&inst)])]);
                out.push(try_(vec![run], &e, vec![print(vec![name(&e)])]));
            }
        }
        out
    }
}
