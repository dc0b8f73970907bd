//! Leaf methods: a field write and arithmetic on a field and the argument, nothing else, so
//! that compiled callers run them in place (inlined). A hot loop calls one on one instance,
//! with ints and then, on its last trips, floats: a guard in the inlined body fails after the
//! method has written its field, and the interpreter must finish the method, then the caller.

use echo_engine::syntax::ast::{BinOp, FnDecl, Stmt};

use super::Gen;
use super::build::*;
use super::types::Ty;

/// A leaf method generated for a class, for the driver to call.
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    class: usize,
    method: String,
    /// The numeric field the method adds to.
    field: String,
}

/// Trips of the loop calling a leaf method: more than the largest hot-loop threshold, so the
/// loop is compiled while it runs.
const LEAF_TRIPS: i64 = 70;

impl Gen<'_, '_> {
    /// With `flips`, sometimes a leaf method for class `c` (one with a numeric field):
    /// `self.f = self.f + K; let t = self.g OP a; return t OP self.f;`, the write first or
    /// second.
    pub(crate) fn leaf_method(&mut self, c: usize) -> Option<FnDecl> {
        if !self.f.flips || !self.chance(1, 2) {
            return None;
        }
        let numeric: Vec<String> = self.classes[c]
            .fields
            .iter()
            .filter(|(_, t)| matches!(t, Ty::Int | Ty::Float | Ty::Num))
            .map(|(f, _)| f.clone())
            .collect();
        if numeric.is_empty() {
            return None;
        }
        let field = numeric[self.pick(numeric.len())].clone();
        let read = numeric[self.pick(numeric.len())].clone();
        let a = self.fresh("a");
        let t = self.fresh("t");
        let ops = [BinOp::Add, BinOp::Sub, BinOp::Mul];
        let op = ops[self.pick(ops.len())];
        let k = self.range(1, 9);
        let write = expr_stmt(assign(
            get(self_ref(), &field),
            bin(BinOp::Add, get(self_ref(), &field), int(k)),
        ));
        let compute = let_(&t, bin(op, get(self_ref(), &read), name(&a)));
        let mut body = if self.chance(3, 4) {
            vec![write, compute]
        } else {
            vec![compute, write]
        };
        let op = ops[self.pick(ops.len())];
        body.push(return_(Some(bin(op, name(&t), get(self_ref(), &field)))));
        let method = self.fresh("leaf");
        self.leaves.push(Leaf {
            class: c,
            method: method.clone(),
            field,
        });
        Some(fn_decl(&method, &[a], body))
    }

    /// For each leaf method: a function whose loop calls it on one instance, its last trips
    /// with the function's second argument, and prints the last results; the driver calls it
    /// with an int there, then with a float (which the method's inlined body meets first),
    /// then prints the field the method writes.
    pub(crate) fn leaf_driver(&mut self) -> Vec<Stmt> {
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
                let_(&r, method_call(name(&o), &leaf.method, vec![name(&v)])),
                if_(vec![(late(3), vec![print(vec![name(&r)])])], None),
            ];
            let decl = fn_decl(
                &f,
                &[o.clone(), flip],
                vec![for_range(&i, int(0), int(LEAF_TRIPS), body)],
            );
            out.push(fn_stmt(decl));
            // Small literal arguments: the field arithmetic stays far from overflow.
            let params = self.classes[leaf.class].init_params.clone();
            let args = params
                .iter()
                .map(|t| match t {
                    Ty::Int | Ty::Num => int(self.range(-5, 9)),
                    Ty::Float => float(self.range(-8, 8) as f64 + 0.25),
                    other => self.expr(other, 1),
                })
                .collect();
            let inst = self.fresh("inst");
            out.push(let_(
                &inst,
                call_named(&self.classes[leaf.class].name.clone(), args),
            ));
            let (whole, half) = (self.range(-4, 9), self.range(-4, 9) as f64 + 0.5);
            out.push(expr_stmt(call_named(&f, vec![name(&inst), int(whole)])));
            out.push(expr_stmt(call_named(&f, vec![name(&inst), float(half)])));
            out.push(print(vec![get(name(&inst), &leaf.field)]));
        }
        out
    }
}
