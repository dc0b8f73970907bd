//! Higher-order loops: a small method whose counted loop calls the closure it is given, which
//! a compiled caller runs in place, loop and closure body included. On its last trips the
//! loop's bound, or on another call the values the closure adds, turn into floats, so that
//! guards fail inside the inlined loop and the interpreter finishes it mid-way; a bound that
//! is a float raises the interpreter's error.

use echo_engine::syntax::ast::{BinOp, Stmt};

use super::Gen;
use super::build::*;

/// Trips of the driving loop: more than the largest hot-loop threshold, so the loop is
/// compiled while it runs.
const DRIVE_TRIPS: i64 = 70;

impl Gen<'_, '_> {
    /// With `flips`, sometimes (one case in three) a class
    /// `class EachN { fn init(k) { self.k = k; } fn each(n, f) { for i in 0..n { f(i * self.k); } } }`,
    /// a driver `fn driveN(o, n, late) { let acc = 0; let c = 0; for t in 0..70 {
    /// let m = n; if t >= 68 { m = late; } o.each(m, fn(x) { acc = acc OP x; c += 1; }); }
    /// return [acc, c]; }` and calls of it printing the result (or the error): ints all
    /// along, a float bound on the last trips, an instance whose `k` is a float. Drawn after
    /// every other choice of the program, so that a seed's program is the one it was without
    /// it, plus it.
    pub(crate) fn eaches(&mut self) -> Vec<Stmt> {
        if !self.f.flips || !self.chance(1, 3) {
            return Vec::new();
        }
        let (cls, k, n, f, i) = (
            self.fresh("Each"),
            self.fresh("k"),
            self.fresh("n"),
            self.fresh("f"),
            self.fresh("i"),
        );
        let each = self.fresh("each");
        let init = fn_decl(
            "init",
            std::slice::from_ref(&k),
            vec![expr_stmt(assign(get(self_ref(), &k), name(&k)))],
        );
        let step = call(
            name(&f),
            vec![bin(BinOp::Mul, name(&i), get(self_ref(), &k))],
        );
        let each_decl = fn_decl(
            &each,
            &[n.clone(), f.clone()],
            vec![for_range(&i, int(0), name(&n), vec![expr_stmt(step)])],
        );
        let mut out = vec![class(&cls, None, vec![init, each_decl])];

        let (drive, o, late, acc, c, t, m, x) = (
            self.fresh("drive"),
            self.fresh("o"),
            self.fresh("late"),
            self.fresh("acc"),
            self.fresh("c"),
            self.fresh("t"),
            self.fresh("m"),
            self.fresh("x"),
        );
        let op = if self.chance(1, 2) {
            BinOp::Add
        } else {
            BinOp::Sub
        };
        let closure = fn_literal(
            std::slice::from_ref(&x),
            vec![
                expr_stmt(assign(name(&acc), bin(op, name(&acc), name(&x)))),
                expr_stmt(compound(name(&c), BinOp::Add, int(1))),
            ],
        );
        let late_trip = bin(BinOp::Ge, name(&t), int(DRIVE_TRIPS - 2));
        let trip = vec![
            let_(&m, name(&n)),
            if_(
                vec![(late_trip, vec![expr_stmt(assign(name(&m), name(&late)))])],
                None,
            ),
            expr_stmt(method_call(name(&o), &each, vec![name(&m), closure])),
        ];
        let body = vec![
            let_(&acc, int(0)),
            let_(&c, int(0)),
            for_range(&t, int(0), int(DRIVE_TRIPS), trip),
            return_(Some(list(vec![name(&acc), name(&c)]))),
        ];
        out.push(fn_stmt(fn_decl(&drive, &[o, n.clone(), late], body)));

        let (whole, factor) = (self.range(1, 6), self.range(-3, 4));
        let half = whole as f64 + 0.5;
        let inst = call_named(&cls, vec![int(factor)]);
        let float_inst = call_named(&cls, vec![float(factor as f64 + 0.25)]);
        let runs = [
            (inst.clone(), int(whole), int(whole + 1)),
            (inst, int(whole), float(half)),
            (float_inst, int(whole), int(whole)),
        ];
        for (target, bound, late) in runs {
            let e = self.fresh("e");
            let run = print(vec![call_named(&drive, vec![target, bound, late])]);
            out.push(try_(vec![run], &e, vec![print(vec![name(&e)])]));
        }
        out
    }
}
