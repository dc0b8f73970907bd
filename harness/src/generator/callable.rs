//! Callables as values, and calls of any expression. Every kind of callable (closure,
//! top-level function, builtin, class, bound method, `super` method) is produced as a value
//! of a `Func` type, flows through variables, arguments, returns, list elements, map values
//! and fields, and is called from wherever it lands: `f(x)(y)`, `o.m()(z)`, `xs[i](z)`,
//! `m["k"](z)`, `o.field(z)`, `(o.m)(z)`.

use echo_engine::syntax::ast::{BinOp, Expr};

use super::Gen;
use super::build::*;
use super::types::{Sig, Ty};

/// Most estimated work of a top-level function or method taken as a value: a value can be
/// called from anywhere (any loop nest), so only cheap bodies travel.
pub(crate) const CALLABLE_COST: u64 = 60;

/// Builtins that can stand for a function value: name, parameter types, result type.
fn builtin_sigs() -> [(&'static str, Vec<Ty>, Ty); 12] {
    let list = || Ty::List(Box::new(Ty::Num));
    [
        ("abs", vec![Ty::Int], Ty::Int),
        ("abs", vec![Ty::Num], Ty::Num),
        ("str", vec![Ty::Any], Ty::Str),
        ("type", vec![Ty::Any], Ty::Str),
        ("len", vec![Ty::Str], Ty::Int),
        ("len", vec![list()], Ty::Int),
        ("upper", vec![Ty::Str], Ty::Str),
        ("trim", vec![Ty::Str], Ty::Str),
        ("min", vec![Ty::Int, Ty::Int], Ty::Int),
        ("max", vec![Ty::Num, Ty::Num], Ty::Num),
        ("float", vec![Ty::Num], Ty::Float),
        ("copy", vec![list()], list()),
    ]
}

/// One way to produce a callable of a given signature here.
#[derive(Clone)]
enum Source {
    Closure,
    TopLevel(String),
    Builtin(&'static str),
    Class(usize),
    /// A method bound to a receiver (`recv.m`).
    Bound(Expr, String),
    Super(String),
    /// A call of a function or method whose result is the callable.
    Returned,
    /// An element of a list of callables, or a value of a map of them, built here.
    Element,
    MapValue,
}

impl Gen<'_, '_> {
    /// A function type for a value: plain data in and out, or (with classes) the signature of
    /// a class's constructor.
    pub(crate) fn func_type(&mut self) -> Ty {
        // Often the signature of a function or method already declared, so that it can be
        // passed as a value (a value must match the signature exactly).
        let existing: Vec<usize> = self
            .fns
            .iter()
            .filter(|f| !f.recursive)
            .map(|f| f.sig)
            .chain(
                self.classes
                    .iter()
                    .flat_map(|c| c.methods.iter().map(|m| m.sig)),
            )
            .collect();
        if !existing.is_empty() && self.chance(1, 2) {
            return Ty::Func(existing[self.pick(existing.len())]);
        }
        if !self.classes.is_empty() && self.chance(1, 4) {
            let c = self.pick(self.classes.len());
            let params = self.classes[c].init_params.clone();
            return Ty::Func(self.sig(params, Ty::Inst(c)));
        }
        let n = self.range(0, 2);
        let ps = (0..n).map(|_| self.simple_type()).collect();
        let ret = self.simple_type();
        Ty::Func(self.sig(ps, ret))
    }

    /// The ways to produce a callable of signature `s` here, besides variables (a call's
    /// result only with depth `d` left).
    fn callable_sources(&self, s: usize, d: u32) -> Vec<Source> {
        let sig = self.sigs[s].clone();
        let mut out = Vec::new();
        // A closure fits any signature but a constructor's (it would have to build an
        // instance, which closures do not).
        if !matches!(sig.ret, Ty::Inst(_)) {
            out.push(Source::Closure);
        }
        for (name_, params, ret) in builtin_sigs() {
            if params.len() == sig.params.len()
                && sig.params.iter().zip(&params).all(|(p, q)| self.fits(p, q))
                && self.fits(&ret, &sig.ret)
            {
                out.push(Source::Builtin(name_));
            }
        }
        if self.ctx.closure {
            // Closures call no user code (see `Ctx::closure`).
            return out;
        }
        for (i, f) in self.fns.iter().enumerate() {
            let cost = self.fn_costs.get(i).copied();
            if f.sig == s
                && !f.recursive
                && f.rank < self.ctx.rank
                && cost.is_some_and(|c| c <= CALLABLE_COST)
            {
                out.push(Source::TopLevel(f.name.clone()));
            }
        }
        if let Ty::Inst(c) = sig.ret {
            for d in 0..self.classes.len() {
                if self.is_subclass(d, c)
                    && self.classes[d].init_params == sig.params
                    && self.init_rank(d) < self.ctx.rank
                    && self
                        .method_costs
                        .get(&(d, "init".to_string()))
                        .is_some_and(|&k| k <= CALLABLE_COST)
                {
                    out.push(Source::Class(d));
                }
            }
        }
        for (recv, c) in self.receivers() {
            for m in &self.classes[c].methods {
                if m.sig == s
                    && self.method_rank(c, &m.name) < self.ctx.rank
                    && self.method_cost(c, &m.name) <= CALLABLE_COST
                {
                    out.push(Source::Bound(recv.clone(), m.name.clone()));
                }
            }
        }
        if let Some(c) = self.ctx.class
            && let Some(p) = self.classes[c].parent
        {
            for m in &self.classes[p].methods {
                if m.sig == s
                    && m.rank < self.ctx.rank
                    && self.method_cost(p, &m.name) <= CALLABLE_COST
                {
                    out.push(Source::Super(m.name.clone()));
                }
            }
        }
        let returns = d > 0
            && self.fns.iter().enumerate().any(|(i, f)| {
                self.fits(&self.sigs[f.sig].ret, &Ty::Func(s))
                    && f.rank < self.ctx.rank
                    && self.fn_costs.get(i).is_some()
            });
        if returns {
            out.push(Source::Returned);
        }
        out
    }

    /// Instance values to call methods on or read fields of: instance variables, and `self`
    /// in methods.
    pub(crate) fn receivers(&self) -> Vec<(Expr, usize)> {
        let mut out: Vec<(Expr, usize)> = self
            .scopes
            .all()
            .filter_map(|v| match v.ty {
                Ty::Inst(c) => Some((name(&v.name), c)),
                _ => None,
            })
            .collect();
        if let Some(c) = self.ctx.class {
            out.push((self_ref(), c));
        }
        out
    }

    /// A callable of signature `s` produced in place (not read from a variable): any kind of
    /// callable, a call's result, an element of a list or a value of a map of callables.
    pub(crate) fn callable(&mut self, s: usize, d: u32) -> Expr {
        let mut sources = self.callable_sources(s, d);
        if d > 0 {
            sources.push(Source::Element);
            sources.push(Source::MapValue);
        }
        if sources.is_empty() {
            return self.closure(s);
        }
        match sources[self.pick(sources.len())].clone() {
            Source::Closure => self.closure(s),
            Source::TopLevel(f) => name(&f),
            Source::Builtin(b) => name(b),
            Source::Class(c) => name(&self.classes[c].name.clone()),
            Source::Bound(recv, m) => get(recv, &m),
            Source::Super(m) => super_get(&m),
            Source::Returned => self
                .typed_source(&Ty::Func(s), d.saturating_sub(1))
                .unwrap_or_else(|| self.leaf(&Ty::Func(s))),
            Source::Element => {
                // `[c1, c2][k]`: a list of callables indexed by a run-time value.
                let n = self.range(1, 3);
                let items: Vec<Expr> = (0..n).map(|_| self.callable(s, 0)).collect();
                let k = self.leaf(&Ty::Int);
                let i = bin(BinOp::Mod, call_named("abs", vec![k]), int(n));
                index(list(items), i)
            }
            Source::MapValue => {
                // `{"k0": c1, "k1": c2}["k" + str(k % 2)]`.
                let entries = (0..2)
                    .map(|j| (string(&format!("k{j}")), self.callable(s, 0)))
                    .collect();
                let k = self.leaf(&Ty::Int);
                let key = bin(
                    BinOp::Add,
                    string("k"),
                    call_named(
                        "str",
                        vec![bin(BinOp::Mod, call_named("abs", vec![k]), int(2))],
                    ),
                );
                index(map(entries), key)
            }
        }
    }

    /// Calls whose callee is an expression of a function type rather than a name, for a
    /// result of type `ty`: `f(x)(y)`, `xs[i](z)`, `{..}[k](z)`, `(o.m)(z)`, `C(..)`.
    pub(crate) fn computed_calls(&self, ty: &Ty) -> Vec<usize> {
        (0..self.sigs.len())
            .filter(|&s| self.fits(&self.sigs[s].ret, ty))
            .collect()
    }

    /// A call of a computed callee of signature `s`, the callee at most `d` levels deep.
    pub(crate) fn computed_call(&mut self, s: usize, d: u32) -> Expr {
        let Sig { params, .. } = self.sigs[s].clone();
        let callee = self.callable(s, d);
        let args = self.call_args(&params, false, d);
        call(callee, args)
    }
}
