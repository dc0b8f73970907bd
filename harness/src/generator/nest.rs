//! Nested loops that on-stack replacement enters at either header: the inner loop does not
//! run on the outer loop's first trip, so a call interpreted after the function's loop
//! version was compiled (at whichever header got hot first) enters it at the outer header,
//! and with an accumulator of another number type than the one it was compiled with.

use echo_engine::syntax::ast::{BinOp, Stmt};

use super::Gen;
use super::build::*;

impl Gen<'_, '_> {
    /// With `flips`, two cases in three, a function
    /// `fn nestN(n, s) { for i in 0..n { let j = 0; while j < i { s = s OP j; j += 1; } } return s; }`
    /// and calls printing its result with an int accumulator, then a float one, then an int
    /// again. Drawn after every other choice of the program, so that a seed's program is the
    /// one it was without it, plus it.
    pub(crate) fn nests(&mut self) -> Vec<Stmt> {
        if !self.f.flips || !self.chance(2, 3) {
            return Vec::new();
        }
        let (f, n, s, i, j) = (
            self.fresh("nest"),
            self.fresh("n"),
            self.fresh("s"),
            self.fresh("i"),
            self.fresh("j"),
        );
        let op = if self.chance(1, 2) {
            BinOp::Add
        } else {
            BinOp::Sub
        };
        let inner = while_(
            bin(BinOp::Lt, name(&j), name(&i)),
            vec![
                expr_stmt(assign(name(&s), bin(op, name(&s), name(&j)))),
                expr_stmt(compound(name(&j), BinOp::Add, int(1))),
            ],
        );
        let body = vec![
            for_range(&i, int(0), name(&n), vec![let_(&j, int(0)), inner]),
            return_(Some(name(&s))),
        ];
        let trips = self.range(6, 14);
        let mut out = vec![fn_stmt(fn_decl(&f, &[n, s], body))];
        let starts = [
            int(self.range(-5, 9)),
            float(self.range(-4, 4) as f64 + 0.5),
            int(self.range(-5, 9)),
        ];
        for start in starts {
            out.push(print(vec![call_named(&f, vec![int(trips), start])]));
        }
        out
    }
}
