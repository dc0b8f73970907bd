//! Probes: one operation at the edge of its domain inside a `try` that prints its result or
//! the error caught. Values from run time decide which side of the edge each probe lands on
//! (overflow or not, an index at -1, inside, or at the length, a key present or missing),
//! so hot code meets both outcomes and every error path runs in compiled code.

use echo_engine::syntax::ast::{BinOp, Expr, Stmt, UnOp};

use super::Gen;
use super::build::*;
use super::types::Ty;

impl Gen<'_, '_> {
    /// `try { print("probe", OP); } catch e { print("caught", e); }` with an edge operation.
    pub(crate) fn probe(&mut self) -> Vec<Stmt> {
        if self.f.closures && self.chance(1, 8) {
            return self.across_call_probe();
        }
        if self.chance(1, 2) {
            return self.edge_probe();
        }
        let f = self.f;
        let weights = [
            3,                             // int overflow of + - *
            1,                             // negation of the least int
            1,                             // pow overflow
            1,                             // division and modulo by zero
            if f.strings { 2 } else { 0 }, // string and int mixed
            if f.lists { 3 } else { 0 },   // list index from -1 to the length
            if f.maps { 2 } else { 0 },    // map key present or missing
            if f.strings { 1 } else { 0 }, // string index and int()
            1,                             // comparison of mismatched types
        ];
        let x = self.small_nonneg(100);
        let op = match self.weighted(&weights) {
            0 => {
                // `k + (MAX - c)` overflows for k > c, and likewise below the least int.
                let c = self.range(0, 60);
                match self.pick(3) {
                    0 => bin(BinOp::Add, x, int(i64::MAX - c)),
                    1 => bin(BinOp::Sub, bin(BinOp::Sub, least_int(), int(-c)), x),
                    _ => bin(
                        BinOp::Mul,
                        bin(BinOp::Add, x, int(1)),
                        int(i64::MAX / (c + 2) + 1),
                    ),
                }
            }
            1 => {
                // The least int or its successor, negated.
                let parity = bin(BinOp::Mod, x, int(2));
                unary(UnOp::Neg, bin(BinOp::Add, least_int(), parity))
            }
            2 => {
                let base = bin(BinOp::Add, bin(BinOp::Mod, x, int(4)), int(2));
                let e = self.small_nonneg(8);
                call_named("pow", vec![base, bin(BinOp::Add, e, int(58))])
            }
            3 => {
                let y = self.small_nonneg(3);
                let op = [BinOp::Div, BinOp::Mod][self.pick(2)];
                // Zero when the run-time value is 0 mod 3.
                bin(op, x, bin(BinOp::Mod, y, int(3)))
            }
            4 => {
                let s = if self.available(&Ty::Str) {
                    self.leaf(&Ty::Str)
                } else {
                    string("s")
                };
                if self.chance(1, 2) {
                    bin(BinOp::Add, s, x)
                } else {
                    bin(BinOp::Add, x, s)
                }
            }
            5 => {
                let xs = self.probe_list();
                // From -1 to len(xs): out of range at both ends.
                let i = bin(
                    BinOp::Sub,
                    bin(
                        BinOp::Mod,
                        x,
                        bin(BinOp::Add, call_named("len", vec![xs.clone()]), int(2)),
                    ),
                    int(1),
                );
                match self.pick(4) {
                    0 => index(xs, int(-1)),
                    1 => index(xs.clone(), call_named("len", vec![xs])),
                    _ => index(xs, i),
                }
            }
            6 => {
                let m = if self.available(&Ty::Map) && self.chance(2, 3) {
                    self.leaf(&Ty::Map)
                } else {
                    self.expr(&Ty::Map, 1)
                };
                // Every map has k0 and k1; k2 to k5 only sometimes.
                let k = bin(
                    BinOp::Add,
                    string("k"),
                    call_named("str", vec![bin(BinOp::Mod, x, int(6))]),
                );
                index(m, k)
            }
            7 => {
                let s = self.leaf(&Ty::Str);
                if self.chance(1, 2) {
                    index(s.clone(), call_named("len", vec![s]))
                } else {
                    call_named("int", vec![bin(BinOp::Add, s, call_named("str", vec![x]))])
                }
            }
            _ => {
                let t = self.value_type(false);
                let y = if self.available(&t) {
                    self.expr(&t, 1)
                } else {
                    nil()
                };
                bin([BinOp::Lt, BinOp::Ge][self.pick(2)], x, y)
            }
        };
        let e = self.fresh("e");
        vec![try_(
            vec![print(vec![string("probe"), op])],
            &e,
            vec![print(vec![string("caught"), name(&e)])],
        )]
    }

    /// An operator between every pair of values from the edges of two families of types
    /// (ints, floats, both, strings, other values), swept by nested loops (so compiled code
    /// meets them all, speculative then generic), each inside a `try` that prints the result
    /// or the error caught. Also the forms lowered apart: a literal right operand (`x - 1`),
    /// a destination that is also an operand (`v = v op w`, `v = w op v`), unary operators.
    fn edge_probe(&mut self) -> Vec<Stmt> {
        let ops = [
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::Div,
            BinOp::Mod,
            BinOp::Eq,
            BinOp::Ne,
            BinOp::Lt,
            BinOp::Le,
            BinOp::Gt,
            BinOp::Ge,
        ];
        // The immediate forms meet the int edges mostly.
        let literal = self.chance(1, 3);
        let a = if literal && self.chance(2, 3) {
            self.edge_family_of(0)
        } else {
            self.edge_family()
        };
        let b = if self.chance(1, 2) {
            a.clone()
        } else {
            self.edge_family()
        };
        let (xv, yv) = (self.fresh("ex"), self.fresh("ey"));
        let x = name(&xv);
        let e = self.fresh("e");
        let caught = vec![print(vec![string("caught"), name(&e)])];
        let sweep = |body: Vec<Stmt>, inner: Option<Vec<Expr>>| {
            let body = match inner {
                Some(b) => vec![for_in(&yv, list(b), body)],
                None => body,
            };
            vec![for_in(&xv, list(a.clone()), body)]
        };
        if self.chance(1, 8) {
            let op = [UnOp::Neg, UnOp::Not][self.pick(2)];
            let body = vec![try_(
                vec![print(vec![string("edge"), unary(op, x)])],
                &e,
                caught,
            )];
            return sweep(body, None);
        }
        let (y, inner) = if literal {
            (int([0, 1, -1, 2, 3, 100, -100][self.pick(7)]), None)
        } else {
            (name(&yv), Some(b))
        };
        let op = ops[self.pick(ops.len())];
        if self.chance(1, 3) {
            let v = self.fresh("v");
            let value = if self.chance(1, 2) {
                bin(op, name(&v), y)
            } else {
                bin(op, y, name(&v))
            };
            let body = vec![
                let_(&v, x),
                try_(
                    vec![
                        expr_stmt(assign(name(&v), value)),
                        print(vec![string("edge"), name(&v)]),
                    ],
                    &e,
                    caught,
                ),
            ];
            return sweep(body, inner);
        }
        let body = vec![try_(
            vec![print(vec![string("edge"), bin(op, x, y)])],
            &e,
            caught,
        )];
        sweep(body, inner)
    }

    /// State read before and after a call that changes it, in one expression of a closure
    /// called in a loop (so compiled code reads it): a captured variable and a list element.
    fn across_call_probe(&mut self) -> Vec<Stmt> {
        let s = self.fresh("s");
        let xs = self.fresh("xs");
        let bump = self.fresh("bump");
        let peek = self.fresh("peek");
        let i = self.fresh("i");
        let step = self.range(1, 3);
        let start = self.leaf(&Ty::Int);
        let bump_body = vec![
            expr_stmt(assign(name(&s), bin(BinOp::Add, name(&s), int(step)))),
            expr_stmt(assign(
                index(name(&xs), int(0)),
                bin(BinOp::Add, index(name(&xs), int(0)), int(2)),
            )),
            return_(Some(int(0))),
        ];
        let peek_body = vec![return_(Some(list(vec![
            name(&s),
            index(name(&xs), int(0)),
            call_named(&bump, vec![]),
            name(&s),
            index(name(&xs), int(0)),
        ])))];
        let trips = self.range(2, 4);
        vec![
            let_(&s, start),
            let_(&xs, list(vec![int(0)])),
            let_(&bump, fn_literal(&[], bump_body)),
            let_(&peek, fn_literal(&[], peek_body)),
            for_range(
                &i,
                int(0),
                int(trips),
                vec![try_(
                    vec![print(vec![string("across"), call_named(&peek, vec![])])],
                    &self.fresh("e"),
                    vec![],
                )],
            ),
        ]
    }

    /// Values at the edges of one family of types.
    fn edge_family(&mut self) -> Vec<Expr> {
        let family = self.pick(5);
        self.edge_family_of(family)
    }

    /// The values of edge family `family` (0 ints, 1 floats, 2 both, 3 strings, 4 others).
    fn edge_family_of(&mut self, family: usize) -> Vec<Expr> {
        let inf = || bin(BinOp::Mul, float(1e308), float(10.0));
        let two53 = 9_007_199_254_740_992_i64;
        match family {
            0 => vec![
                int(0),
                int(1),
                int(-1),
                int(i64::MAX),
                least_int(),
                bin(BinOp::Add, least_int(), int(1)),
                int(i64::MAX - 1),
                int(two53 + 1),
                int(-two53 - 1),
                int(3),
            ],
            1 => vec![
                float(0.0),
                float(-0.0),
                float(1.0),
                float(-1.5),
                inf(),
                unary(UnOp::Neg, inf()),
                bin(BinOp::Sub, inf(), inf()),
                float(two53 as f64),
                float(0.5),
            ],
            2 => vec![
                int(0),
                float(0.0),
                float(-0.0),
                int(1),
                float(1.0),
                int(two53 + 1),
                float(two53 as f64),
                int(i64::MAX),
                float(i64::MAX as f64),
                bin(BinOp::Sub, inf(), inf()),
            ],
            3 => vec![
                string("ab"),
                bin(BinOp::Add, string("a"), string("b")),
                string(""),
                string("b"),
                call_named("str", vec![int(12)]),
                string("12"),
                string("abc"),
            ],
            _ => vec![
                nil(),
                boolean(true),
                boolean(false),
                name("abs"),
                list(vec![int(1)]),
                int(1),
                string("1"),
            ],
        }
    }

    /// A non-negative int below `n` from a run-time value.
    fn small_nonneg(&mut self, n: i64) -> Expr {
        let v = self.leaf(&Ty::Int);
        bin(BinOp::Mod, call_named("abs", vec![v]), int(n))
    }

    /// A list to index: a list variable, or a short literal.
    fn probe_list(&mut self) -> Expr {
        let t = Ty::List(Box::new(Ty::Num));
        if self.vars_of(&t).next().is_some() && self.chance(2, 3) {
            self.leaf(&t)
        } else {
            let n = self.range(1, 3);
            list((0..n).map(|_| self.leaf(&Ty::Num)).collect())
        }
    }
}

/// The least int, computed (its literal only exists after a unary minus).
fn least_int() -> Expr {
    bin(BinOp::Sub, unary(UnOp::Neg, int(i64::MAX)), int(1))
}
