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
