//! Constructors in place: a subclass whose `init` keeps its parent's arity, built in a hot
//! loop, so that compiled code runs the subclass's `init` (and through it the parent's) in
//! place; running the parent's alone there leaves a field unset and a value different.

use echo_engine::syntax::ast::{BinOp, Stmt};

use super::Gen;
use super::build::*;

/// Trips of the building loop: more than the largest hot-loop and hot-call thresholds, so
/// the loop and the constructor calls in it are compiled while it runs.
const BUILD_TRIPS: i64 = 70;

impl Gen<'_, '_> {
    /// With `inheritance`, sometimes (one case in three)
    /// `class BaseN { fn init(a) { self.v = a; } fn val() { return self.v; } }`,
    /// `class SubN : BaseN { fn init(a) { super.init(a * M); self.w = a + D; }
    /// fn val() { return self.v - self.w; } }`, a builder
    /// `fn buildN(n) { let s = 0; for t in 0..70 { s += SubN(t + n).val(); } return s; }`
    /// (every few trips a `BaseN` too) and a call printing its result. Drawn after every
    /// other choice of the program, so that a seed's program is the one it was without it,
    /// plus it.
    pub(crate) fn ctors(&mut self) -> Vec<Stmt> {
        if !self.f.inheritance || !self.chance(1, 3) {
            return Vec::new();
        }
        let (base, sub, v, w, a, val) = (
            self.fresh("Base"),
            self.fresh("Sub"),
            self.fresh("v"),
            self.fresh("w"),
            self.fresh("a"),
            self.fresh("val"),
        );
        let (scale, shift) = (self.range(2, 5), self.range(1, 9));
        let base_decl = class(
            &base,
            None,
            vec![
                fn_decl(
                    "init",
                    std::slice::from_ref(&a),
                    vec![expr_stmt(assign(get(self_ref(), &v), name(&a)))],
                ),
                fn_decl(&val, &[], vec![return_(Some(get(self_ref(), &v)))]),
            ],
        );
        let sub_decl = class(
            &sub,
            Some(&base),
            vec![
                fn_decl(
                    "init",
                    std::slice::from_ref(&a),
                    vec![
                        expr_stmt(call(
                            super_get("init"),
                            vec![bin(BinOp::Mul, name(&a), int(scale))],
                        )),
                        expr_stmt(assign(
                            get(self_ref(), &w),
                            bin(BinOp::Add, name(&a), int(shift)),
                        )),
                    ],
                ),
                fn_decl(
                    &val,
                    &[],
                    vec![return_(Some(bin(
                        BinOp::Sub,
                        get(self_ref(), &v),
                        get(self_ref(), &w),
                    )))],
                ),
            ],
        );

        let (build, n, s, t) = (
            self.fresh("build"),
            self.fresh("n"),
            self.fresh("s"),
            self.fresh("t"),
        );
        let arg = bin(BinOp::Add, name(&t), name(&n));
        let mut trip = vec![expr_stmt(compound(
            name(&s),
            BinOp::Add,
            method_call(call_named(&sub, vec![arg.clone()]), &val, vec![]),
        ))];
        // A site that also builds the parent: its call of `init` is not the subclass's.
        if self.chance(1, 2) {
            let every = self.range(2, 6);
            let now = bin(BinOp::Eq, bin(BinOp::Mod, name(&t), int(every)), int(0));
            let built = method_call(call_named(&base, vec![arg]), &val, vec![]);
            trip.push(if_(
                vec![(now, vec![expr_stmt(compound(name(&s), BinOp::Sub, built))])],
                None,
            ));
        }
        let body = vec![
            let_(&s, int(0)),
            for_range(&t, int(0), int(BUILD_TRIPS), trip),
            return_(Some(name(&s))),
        ];
        let start = self.range(-5, 6);
        vec![
            base_decl,
            sub_decl,
            fn_stmt(fn_decl(&build, std::slice::from_ref(&n), body)),
            print(vec![call_named(&build, vec![int(start)])]),
        ]
    }
}
