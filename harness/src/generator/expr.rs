//! Expressions of a requested static type. Every production keeps the operation defined for
//! every value the type admits: divisors are made positive, products bounded, indices reduced
//! modulo a length that is never zero, map reads limited to keys every map holds.

use echo_engine::syntax::ast::{BinOp, Expr, UnOp};

use super::build::*;
use super::callable::CALLABLE_COST;
use super::types::Ty;
use super::{CALL_COST_LIMIT, Gen};

const STRINGS: &[&str] = &[
    "", "a", "ab", "hello", "x y", "a,b,c", "  pad ", "Ünï", "日本", "k0", "-12", "3.5", "e\u{301}",
];
const FLOATS: &[f64] = &[
    0.5, 1.5, -2.25, 3.0, 0.1, 1e-3, 2.5e10, 100.0, -0.0, 7.75, 1e15, 0.3,
];

/// Most constructor calls generated inside one another (see `Gen::construct`).
const MAX_NESTED_CONSTRUCTORS: u32 = 4;

/// A deferred way to produce an expression (chosen among several before any is built).
type Producer<'a, 'b> = Box<dyn Fn(&mut Gen<'a, 'b>) -> Expr>;

impl Gen<'_, '_> {
    pub(crate) fn small_int(&mut self) -> i64 {
        match self.weighted(&[6, 3, 1]) {
            0 => self.range(0, 9),
            1 => self.range(-20, 100),
            _ => [1_000_000, -65_536, 1 << 40, 123_456_789_012, 4_294_967_296][self.pick(5)],
        }
    }

    pub(crate) fn float_lit(&mut self) -> f64 {
        FLOATS[self.pick(FLOATS.len())]
    }

    fn str_lit(&mut self) -> &'static str {
        STRINGS[self.pick(STRINGS.len())]
    }

    /// Whether code here can produce a value of type `ty` without a variable of that type.
    pub(crate) fn constructible(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Inst(c) => {
                (0..self.classes.len())
                    .any(|d| self.is_subclass(d, *c) && self.init_rank(d) < self.ctx.rank)
                    && !self.ctx.closure
            }
            Ty::List(e) => self.constructible(e),
            _ => true,
        }
    }

    /// Whether a value of type `ty` can be produced here at all.
    pub(crate) fn available(&self, ty: &Ty) -> bool {
        self.constructible(ty) || self.vars_of(ty).next().is_some()
    }

    /// Visible variables whose values fit `ty`, except the one being assigned.
    pub(crate) fn vars_of<'s>(&'s self, ty: &'s Ty) -> impl Iterator<Item = &'s super::types::Var> {
        self.scopes
            .all()
            .filter(move |v| self.fits(&v.ty, ty) && Some(&v.name) != self.avoid.as_ref())
    }

    /// An expression of type `ty`, at most `depth` levels deep.
    pub(crate) fn expr(&mut self, ty: &Ty, depth: u32) -> Expr {
        self.expr_budget -= 1;
        if depth == 0 || self.expr_budget <= 0 || self.chance(1, 4) {
            return self.leaf(ty);
        }
        let d = depth - 1;
        if self.chance(1, 4)
            && let Some(x) = self.typed_source(ty, d)
        {
            return x;
        }
        match ty {
            Ty::Int => self.int_expr(d),
            Ty::Num => {
                if self.f.floats && self.chance(2, 3) {
                    self.num_expr(d)
                } else {
                    self.int_expr(d)
                }
            }
            Ty::Float => self.float_expr(d),
            Ty::Str => self.str_expr(d),
            Ty::Bool => self.bool_expr(d),
            Ty::List(e) => self.list_expr(e, d),
            Ty::Map => self.map_literal(d),
            Ty::Inst(_) => self.leaf(ty),
            Ty::Func(s) => self.callable(*s, d),
            Ty::Any => {
                let t = self.value_type(false);
                if self.available(&t) {
                    self.expr(&t, depth)
                } else {
                    self.expr(&Ty::Int, depth)
                }
            }
        }
    }

    /// A variable, or else a literal (or a constructor call) of type `ty`.
    pub(crate) fn leaf(&mut self, ty: &Ty) -> Expr {
        let vars: Vec<String> = self.vars_of(ty).map(|v| v.name.clone()).collect();
        let want_var = !vars.is_empty() && (self.chance(2, 3) || !self.constructible(ty));
        if want_var {
            return name(&vars[self.pick(vars.len())]);
        }
        self.literal(ty)
    }

    fn literal(&mut self, ty: &Ty) -> Expr {
        match ty {
            Ty::Int => int(self.small_int()),
            Ty::Num => {
                if self.f.floats && self.chance(1, 2) {
                    float(self.float_lit())
                } else {
                    int(self.small_int())
                }
            }
            Ty::Float => float(self.float_lit()),
            Ty::Str => string(self.str_lit()),
            Ty::Bool => boolean(self.chance(1, 2)),
            Ty::List(e) => {
                // Now and then a literal longer than one batch of the list-building
                // instruction.
                let n = if self.chance(1, 40) {
                    self.range(65, 90)
                } else {
                    self.range(1, 4)
                };
                let items = (0..n).map(|_| self.leaf(e)).collect();
                list(items)
            }
            Ty::Map => self.map_literal(0),
            Ty::Inst(c) => {
                let options: Vec<usize> = (0..self.classes.len())
                    .filter(|&d| self.is_subclass(d, *c) && self.init_rank(d) < self.ctx.rank)
                    .collect();
                match options.len() {
                    // Unreachable when callers check `available`; nil keeps the program valid.
                    0 => nil(),
                    n => {
                        let d = options[self.pick(n)];
                        self.construct(d)
                    }
                }
            }
            Ty::Func(s) => self.closure(*s),
            Ty::Any => match self.pick(4) {
                0 => nil(),
                1 => int(self.small_int()),
                2 => string(self.str_lit()),
                _ => boolean(true),
            },
        }
    }

    /// `C(args)`.
    pub(crate) fn construct(&mut self, c: usize) -> Expr {
        // Past a few constructors nested through closure arguments, an instance comes from a
        // variable if one fits, else nil (a program that may fail, never one that cannot be
        // generated).
        if self.constructing >= MAX_NESTED_CONSTRUCTORS {
            let ty = Ty::Inst(c);
            let vars: Vec<String> = self.vars_of(&ty).map(|v| v.name.clone()).collect();
            return match vars.len() {
                0 => nil(),
                n => name(&vars[self.pick(n)]),
            };
        }
        self.constructing += 1;
        let params = self.classes[c].init_params.clone();
        let args = params.iter().map(|t| self.expr(t, 1)).collect();
        self.constructing -= 1;
        call_named(&self.classes[c].name.clone(), args)
    }

    fn map_literal(&mut self, d: u32) -> Expr {
        let n = self.range(2, 4);
        let entries = (0..n)
            .map(|k| (string(&format!("k{k}")), self.expr(&Ty::Num, d.min(1))))
            .collect();
        map(entries)
    }

    /// An int in `0..len(xs)` for the list variable `xs`.
    fn index_into(&mut self, xs: &str, d: u32) -> Expr {
        let i = self.expr(&Ty::Int, d.min(1));
        bin(
            BinOp::Mod,
            call_named("abs", vec![i]),
            call_named("len", vec![name(xs)]),
        )
    }

    /// A divisor that is never zero: `abs(x) % 9 + 1` (an int for ints, a float for floats).
    fn safe_divisor(&mut self, ty: &Ty, d: u32) -> Expr {
        if self.chance(1, 4) {
            // A literal divisor (the immediate forms of `/` and `%`), negative ones included.
            return int([1, 2, 3, 7, 10, -1, -2, -5][self.pick(8)]);
        }
        let x = self.expr(ty, d);
        let k = self.range(2, 9);
        bin(
            BinOp::Add,
            bin(BinOp::Mod, call_named("abs", vec![x]), int(k)),
            int(1),
        )
    }

    /// A bounded operand for products: `x % 1000`.
    fn bounded(&mut self, ty: &Ty, d: u32) -> Expr {
        let x = self.expr(ty, d);
        bin(BinOp::Mod, x, int([10, 100, 1000][self.pick(3)]))
    }

    /// Calls, method calls, field reads and element reads whose result fits `ty`.
    pub(crate) fn typed_source(&mut self, ty: &Ty, d: u32) -> Option<Expr> {
        let mut options: Vec<Producer<'_, '_>> = Vec::new();
        let affordable =
            |g: &Self, cost: u64| g.ctx.trips.saturating_mul(cost + 1) <= CALL_COST_LIMIT;
        if !self.ctx.closure {
            for (i, f) in self.fns.clone().into_iter().enumerate() {
                let sig = self.sigs[f.sig].clone();
                let cost = self.fn_costs.get(i).copied().unwrap_or(0);
                if f.rank < self.ctx.rank && self.fits(&sig.ret, ty) && affordable(self, cost) {
                    options.push(Box::new(move |g: &mut Self| {
                        g.afford_call(cost);
                        let args = g.call_args(&sig.params, f.recursive, d);
                        call_named(&f.name, args)
                    }));
                }
            }
            // Like `fib`: at most two recursive calls, outside loops.
            if let Some((fi, depth)) = self.ctx.recursion.clone()
                && self.ctx.loops == 0
            {
                let f = self.fns[fi].clone();
                let sig = self.sigs[f.sig].clone();
                if self.fits(&sig.ret, ty) && self.rec_calls < 2 {
                    options.push(Box::new(move |g: &mut Self| {
                        g.rec_calls += 1;
                        let mut args = vec![bin(BinOp::Sub, name(&depth), int(1))];
                        args.extend(g.call_args(&sig.params[1..], false, d));
                        call_named(&f.name, args)
                    }));
                }
            }
        }
        for (recv, c) in self.receivers() {
            for (field, fty) in self.classes[c].fields.clone() {
                if self.fits(&fty, ty) && Some(&field) != self.avoid.as_ref() {
                    let r = recv.clone();
                    let field = field.clone();
                    options.push(Box::new(move |_| get(r.clone(), &field)));
                }
                // A field holding a function, called with method syntax.
                if let Ty::Func(s) = fty
                    && self.fits(&self.sigs[s].ret, ty)
                    && affordable(self, CALLABLE_COST)
                {
                    let r = recv.clone();
                    let params = self.sigs[s].params.clone();
                    options.push(Box::new(move |g: &mut Self| {
                        g.afford_call(CALLABLE_COST);
                        let args = g.call_args(&params, false, d);
                        method_call(r.clone(), &field, args)
                    }));
                }
            }
            if self.ctx.closure {
                continue;
            }
            for m in self.classes[c].methods.clone() {
                let sig = self.sigs[m.sig].clone();
                let cost = self.method_cost(c, &m.name);
                if self.method_rank(c, &m.name) < self.ctx.rank
                    && self.fits(&sig.ret, ty)
                    && affordable(self, cost)
                {
                    let r = recv.clone();
                    options.push(Box::new(move |g: &mut Self| {
                        g.afford_call(cost);
                        let args = g.call_args(&sig.params, false, d);
                        method_call(r.clone(), &m.name, args)
                    }));
                }
            }
        }
        if let (Some(c), false) = (self.ctx.class, self.ctx.closure)
            && let Some(p) = self.classes[c].parent
        {
            for m in self.classes[p].methods.clone() {
                let sig = self.sigs[m.sig].clone();
                let cost = self.method_cost(p, &m.name);
                if m.rank < self.ctx.rank && self.fits(&sig.ret, ty) && affordable(self, cost) {
                    options.push(Box::new(move |g: &mut Self| {
                        g.afford_call(cost);
                        let args = g.call_args(&sig.params, false, d);
                        call(super_get(&m.name), args)
                    }));
                }
            }
        }
        // Function variables to call: inside a closure only its own (see `Ctx::closure_scope`).
        let callable_from = if self.ctx.closure {
            self.ctx.closure_scope
        } else {
            0
        };
        for v in self.scopes.since(callable_from) {
            if let Ty::Func(s) = v.ty {
                let sig = self.sigs[s].clone();
                if self.fits(&sig.ret, ty) {
                    let f = v.name.clone();
                    options.push(Box::new(move |g: &mut Self| {
                        let args = g.call_args(&sig.params, false, d);
                        call_named(&f, args)
                    }));
                }
            }
        }
        for v in self.scopes.all() {
            if let Ty::List(e) = &v.ty
                && self.fits(e, ty)
                && Some(&v.name) != self.avoid.as_ref()
            {
                let xs = v.name.clone();
                options.push(Box::new(move |g: &mut Self| {
                    let i = g.index_into(&xs, d);
                    index(name(&xs), i)
                }));
            }
            if v.ty == Ty::Map && self.fits(&Ty::Num, ty) && Some(&v.name) != self.avoid.as_ref() {
                let m = v.name.clone();
                options.push(Box::new(move |g: &mut Self| {
                    let k = format!("k{}", g.pick(2));
                    index(name(&m), string(&k))
                }));
            }
        }
        // A call of a callee computed here (a call's result, an element, a bound method, ...).
        if d > 0 && self.f.closures && affordable(self, CALLABLE_COST) {
            let sigs = self.computed_calls(ty);
            if !sigs.is_empty() {
                options.push(Box::new(move |g: &mut Self| {
                    g.afford_call(CALLABLE_COST);
                    let s = sigs[g.pick(sigs.len())];
                    g.computed_call(s, d - 1)
                }));
            }
        }
        if options.is_empty() {
            return None;
        }
        let i = self.pick(options.len());
        Some(options[i](self))
    }

    /// Arguments for parameters of the given types (a recursive callee gets a small depth).
    pub(crate) fn call_args(&mut self, params: &[Ty], recursive: bool, d: u32) -> Vec<Expr> {
        params
            .iter()
            .enumerate()
            .map(|(k, t)| {
                if k == 0 && recursive {
                    int(self.range(0, 4))
                } else {
                    self.expr(t, d.min(2))
                }
            })
            .collect()
    }

    fn int_expr(&mut self, d: u32) -> Expr {
        let f = self.f;
        let w = [
            4,                             // + -
            2,                             // bounded *
            2,                             // / and % by a positive divisor
            1,                             // unary minus
            if f.lists { 2 } else { 0 },   // len(list)
            if f.strings { 2 } else { 0 }, // len / find on strings
            1,                             // min / max / abs
            if f.floats { 1 } else { 0 },  // floor / round / ceil of a number
            1,                             // pow with small operands
            1,                             // && / || of ints
            if f.strings { 1 } else { 0 }, // ord of a character
        ];
        match self.weighted(&w) {
            k @ 0..=3 => self.arith(&Ty::Int, d, k),
            4 => {
                let t = Ty::List(Box::new(if self.chance(1, 2) || !f.strings {
                    Ty::Num
                } else {
                    Ty::Str
                }));
                let xs = self.expr(&t, d);
                call_named("len", vec![xs])
            }
            5 => {
                let s = self.expr(&Ty::Str, d);
                if self.chance(1, 2) {
                    call_named("len", vec![s])
                } else {
                    let sub = string(["a", "b", "", "l"][self.pick(4)]);
                    call_named("find", vec![s, sub])
                }
            }
            10 => {
                // The code point of the first character of a string that is never empty.
                let s = self.expr(&Ty::Str, d);
                let s = bin(
                    BinOp::Add,
                    s,
                    string(["a", "\u{e9}", "\u{4e2d}"][self.pick(3)]),
                );
                call_named("ord", vec![index(s, int(0))])
            }
            6 => {
                let a = self.expr(&Ty::Int, d);
                match self.pick(3) {
                    0 => call_named("abs", vec![a]),
                    k => {
                        let b = self.expr(&Ty::Int, d);
                        call_named(if k == 1 { "min" } else { "max" }, vec![a, b])
                    }
                }
            }
            7 => {
                let x = self.expr(&Ty::Num, d);
                let f = ["floor", "round", "ceil"][self.pick(3)];
                call_named(f, vec![x])
            }
            8 => {
                let a = self.bounded(&Ty::Int, d);
                let b = self.safe_divisor(&Ty::Int, d);
                call_named("pow", vec![bin(BinOp::Mod, a, int(7)), b])
            }
            _ => {
                let op = if self.chance(1, 2) {
                    BinOp::And
                } else {
                    BinOp::Or
                };
                let a = self.expr(&Ty::Int, d);
                let b = self.expr(&Ty::Int, d);
                bin(op, a, b)
            }
        }
    }

    /// Arithmetic of `ty` (int or number), kept well defined: `k` picks `+`/`-`, a bounded
    /// `*`, `/`/`%` by a safe divisor, or unary minus.
    fn arith(&mut self, ty: &Ty, d: u32, k: usize) -> Expr {
        match k {
            0 => {
                let op = if self.chance(1, 2) {
                    BinOp::Add
                } else {
                    BinOp::Sub
                };
                // An int literal on the left of `+` is an operand of its own instruction
                // form (`AddIL`), so it is made often, not only when a leaf happens to be one.
                let a = if op == BinOp::Add && self.chance(1, 4) {
                    int(self.small_int())
                } else {
                    self.expr(ty, d)
                };
                let b = self.expr(ty, d);
                bin(op, a, b)
            }
            1 => {
                // As for `+`: `MulIL` (a literal whose product stays small).
                let a = if self.chance(1, 4) {
                    int(self.range(-20, 100))
                } else {
                    self.bounded(ty, d)
                };
                let b = self.bounded(ty, d);
                bin(BinOp::Mul, a, b)
            }
            2 => {
                let op = if self.chance(1, 2) {
                    BinOp::Div
                } else {
                    BinOp::Mod
                };
                let a = self.expr(ty, d);
                let b = self.safe_divisor(ty, d);
                bin(op, a, b)
            }
            _ => {
                let a = self.expr(ty, d);
                unary(UnOp::Neg, a)
            }
        }
    }

    fn num_expr(&mut self, d: u32) -> Expr {
        match self.weighted(&[4, 2, 2, 1, 1, 1]) {
            k @ 0..=3 => self.arith(&Ty::Num, d, k),
            4 => {
                let a = self.expr(&Ty::Num, d);
                let b = self.expr(&Ty::Num, d);
                call_named(["min", "max"][self.pick(2)], vec![a, b])
            }
            _ => self.float_expr(d),
        }
    }

    fn float_expr(&mut self, d: u32) -> Expr {
        match self.weighted(&[2, 2, 2, 1]) {
            0 => {
                let x = self.expr(&Ty::Num, d);
                call_named("float", vec![x])
            }
            1 => {
                let x = self.expr(&Ty::Num, d);
                call_named("sqrt", vec![call_named("abs", vec![x])])
            }
            2 => {
                let op = [BinOp::Add, BinOp::Sub, BinOp::Mul][self.pick(3)];
                let a = self.expr(&Ty::Float, d);
                // A float literal on the right is an operand of its own instruction form
                // (`AddK`...), so it is made often, not only when a leaf happens to be one.
                let literal = self.chance(1, 3);
                let b = if literal {
                    float(self.float_lit())
                } else if op == BinOp::Mul {
                    self.bounded(&Ty::Num, d)
                } else {
                    self.expr(&Ty::Num, d)
                };
                // On the left of `+` or `*` it is an operand of the literal-left forms
                // (`AddKL`, `MulKL`).
                if literal && op != BinOp::Sub && self.chance(1, 2) {
                    bin(op, b, a)
                } else {
                    bin(op, a, b)
                }
            }
            _ => {
                let a = self.expr(&Ty::Float, d);
                // Float division by any float is defined (0.0 gives an infinity or NaN).
                let b = if self.chance(1, 3) {
                    float(self.float_lit())
                } else {
                    self.safe_divisor(&Ty::Num, d)
                };
                bin(BinOp::Div, a, b)
            }
        }
    }

    fn str_expr(&mut self, d: u32) -> Expr {
        let f = self.f;
        let w = [
            4,                           // concatenation
            3,                           // str(x)
            2,                           // upper / lower / trim
            1,                           // slice
            1,                           // replace
            if f.lists { 1 } else { 0 }, // join
            1,                           // type(x)
            1,                           // chr
            1,                           // repetition
        ];
        match self.weighted(&w) {
            0 => {
                let a = self.expr(&Ty::Str, d);
                let b = self.expr(&Ty::Str, d);
                bin(BinOp::Add, a, b)
            }
            1 => {
                let t = self.value_type(false);
                let x = if self.available(&t) {
                    self.expr(&t, d)
                } else {
                    self.expr(&Ty::Num, d)
                };
                call_named("str", vec![x])
            }
            2 => {
                let s = self.expr(&Ty::Str, d);
                call_named(["upper", "lower", "trim"][self.pick(3)], vec![s])
            }
            3 => {
                // slice(s, 0, min(len(s), k)): in range for every s.
                let s = self.leaf(&Ty::Str);
                let k = int(self.range(0, 4));
                let end = call_named("min", vec![call_named("len", vec![s.clone()]), k]);
                call_named("slice", vec![s, int(0), end])
            }
            4 => {
                let s = self.expr(&Ty::Str, d);
                let from = string(["a", "l", ",", "日"][self.pick(4)]);
                let to = self.leaf(&Ty::Str);
                call_named("replace", vec![s, from, to])
            }
            5 => {
                let t = Ty::List(Box::new(if f.strings && self.chance(1, 2) {
                    Ty::Str
                } else {
                    Ty::Num
                }));
                let xs = self.expr(&t, d);
                let sep = string([",", "", " - "][self.pick(3)]);
                call_named("join", vec![xs, sep])
            }
            6 => {
                let t = self.value_type(false);
                let x = if self.available(&t) {
                    self.expr(&t, d)
                } else {
                    nil()
                };
                call_named("type", vec![x])
            }
            7 => {
                let i = self.expr(&Ty::Int, d);
                let code = bin(
                    BinOp::Add,
                    int([65, 97, 0x3b1, 0x4e00][self.pick(4)]),
                    bin(BinOp::Mod, call_named("abs", vec![i]), int(26)),
                );
                call_named("chr", vec![code])
            }
            _ => {
                let s = self.expr(&Ty::Str, d);
                let k = self.expr(&Ty::Int, d);
                bin(
                    BinOp::Mul,
                    s,
                    bin(BinOp::Mod, call_named("abs", vec![k]), int(3)),
                )
            }
        }
    }

    fn bool_expr(&mut self, d: u32) -> Expr {
        let f = self.f;
        let w = [
            5, // numeric comparison
            2, // equality of anything
            if f.strings { 1 } else { 0 },
            2,                           // ! && ||
            if f.maps { 1 } else { 0 },  // has
            if f.lists { 1 } else { 0 }, // contains
            1,                           // type test
        ];
        match self.weighted(&w) {
            0 => {
                let op = [BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge][self.pick(4)];
                if self.chance(1, 3)
                    && let Some(x) = self.boundary_comparison(op)
                {
                    return x;
                }
                let a = self.expr(&Ty::Num, d);
                let b = if self.chance(1, 2) {
                    int(self.range(-3, 20))
                } else {
                    self.expr(&Ty::Num, d)
                };
                bin(op, a, b)
            }
            1 => {
                if self.f.floats && self.chance(1, 4) {
                    // An int and a float of the same value: equal, compared exactly.
                    let x = self.leaf(&Ty::Num);
                    let fx = call_named("float", vec![x.clone()]);
                    return match self.pick(3) {
                        0 => bin(BinOp::Eq, x, fx),
                        1 => bin(BinOp::Ne, fx, x),
                        _ => bin(BinOp::Eq, fx, int(self.range(-3, 9))),
                    };
                }
                let t = self.value_type(false);
                let t = if self.available(&t) { t } else { Ty::Int };
                let a = self.expr(&t, d);
                let op = if self.chance(1, 2) {
                    BinOp::Eq
                } else {
                    BinOp::Ne
                };
                if self.chance(1, 3) {
                    // Against nil or a bool (`x != nil`, the commonest test of real code):
                    // a value of another type is unequal to it, whatever its truthiness.
                    let lit = match self.pick(3) {
                        0 => nil(),
                        1 => boolean(false),
                        _ => boolean(true),
                    };
                    return if self.chance(1, 2) {
                        bin(op, a, lit)
                    } else {
                        bin(op, lit, a)
                    };
                }
                let b = self.expr(&t, d);
                bin(op, a, b)
            }
            2 => {
                let a = self.expr(&Ty::Str, d);
                let b = self.expr(&Ty::Str, d);
                match self.pick(4) {
                    0 => bin(BinOp::Lt, a, b),
                    1 => call_named("contains", vec![a, b]),
                    2 => call_named("starts_with", vec![a, b]),
                    _ => call_named("ends_with", vec![a, b]),
                }
            }
            3 => {
                let a = self.expr(&Ty::Bool, d);
                match self.pick(3) {
                    0 => unary(UnOp::Not, a),
                    k => {
                        let b = self.expr(&Ty::Bool, d);
                        bin(if k == 1 { BinOp::And } else { BinOp::Or }, a, b)
                    }
                }
            }
            4 => {
                let m = self.expr(&Ty::Map, d);
                let k = string(&format!("k{}", self.pick(5)));
                call_named("has", vec![m, k])
            }
            5 => {
                let xs = self.expr(&Ty::List(Box::new(Ty::Num)), d);
                let x = self.expr(&Ty::Num, d);
                call_named("contains", vec![xs, x])
            }
            _ => {
                let t = self.value_type(false);
                let t = if self.available(&t) { t } else { Ty::Num };
                let x = self.expr(&t, d);
                let name_ = ["int", "float", "string", "list", "instance", "nil"][self.pick(6)];
                bin(BinOp::Eq, call_named("type", vec![x]), string(name_))
            }
        }
    }

    /// A comparison whose operands are equal on some runs: a loop counter against a value
    /// of its range (true on some trips, false on others, equal on one), or a number against
    /// itself. Off-by-one comparisons show exactly there. `None` when no operand fits.
    fn boundary_comparison(&mut self, op: BinOp) -> Option<Expr> {
        let counters: Vec<(String, (i64, i64))> = self
            .scopes
            .all()
            .filter_map(|v| v.range.map(|r| (v.name.clone(), r)))
            .collect();
        if !counters.is_empty() && self.chance(2, 3) {
            let (i, (lo, hi)) = counters[self.pick(counters.len())].clone();
            let k = self.range(lo, hi - 1);
            return Some(bin(op, name(&i), int(k)));
        }
        let vars: Vec<String> = self.vars_of(&Ty::Num).map(|v| v.name.clone()).collect();
        if vars.is_empty() {
            return None;
        }
        let x = name(&vars[self.pick(vars.len())]);
        Some(bin(op, x.clone(), x))
    }

    fn list_expr(&mut self, e: &Ty, d: u32) -> Expr {
        let num = *e == Ty::Num;
        let strs = *e == Ty::Str;
        let w = [
            4,                       // literal
            1,                       // copy
            1,                       // concatenation
            1,                       // slice of a prefix
            if num { 2 } else { 0 }, // range
            if num && self.f.maps { 1 } else { 0 },
            if strs && self.f.maps { 1 } else { 0 },
            if strs { 1 } else { 0 }, // split
            1,                        // repetition
        ];
        let t = Ty::List(Box::new(e.clone()));
        match self.weighted(&w) {
            1 => {
                let xs = self.expr(&t, d);
                call_named("copy", vec![xs])
            }
            2 => {
                let a = self.expr(&t, d);
                let b = self.expr(&t, d);
                bin(BinOp::Add, a, b)
            }
            3 => {
                let vars: Vec<String> = self.vars_of(&t).map(|v| v.name.clone()).collect();
                if vars.is_empty() {
                    return self.literal(&t);
                }
                let xs = vars[self.pick(vars.len())].clone();
                let k = self.index_into(&xs, d);
                call_named("slice", vec![name(&xs), int(0), bin(BinOp::Add, k, int(1))])
            }
            4 => {
                // A leaf, read twice: both reads see the same value, so the list is not empty.
                let a = self.leaf(&Ty::Int);
                let n = self.range(1, 6);
                call_named("range", vec![a.clone(), bin(BinOp::Add, a, int(n))])
            }
            5 => {
                let m = self.expr(&Ty::Map, d);
                call_named("values", vec![m])
            }
            6 => {
                let m = self.expr(&Ty::Map, d);
                call_named("keys", vec![m])
            }
            7 => {
                let s = self.expr(&Ty::Str, d);
                call_named("split", vec![s, string([",", " ", "a"][self.pick(3)])])
            }
            8 => {
                let xs = self.expr(&t, d);
                let k = self.expr(&Ty::Int, d);
                let times = bin(
                    BinOp::Add,
                    bin(BinOp::Mod, call_named("abs", vec![k]), int(2)),
                    int(1),
                );
                bin(BinOp::Mul, xs, times)
            }
            _ => {
                let n = self.range(1, 4);
                let items = (0..n).map(|_| self.expr(e, d)).collect();
                list(items)
            }
        }
    }

    /// `fn (params) { ... return e; }` with the signature `s`. Its body calls no user
    /// functions (see `Ctx::closure`) but reads and writes the variables it captures.
    pub(crate) fn closure(&mut self, s: usize) -> Expr {
        let sig = self.sigs[s].clone();
        let params: Vec<String> = sig.params.iter().map(|_| self.fresh("c")).collect();
        if self.ctx.closure || self.expr_budget <= 0 {
            // Inside a closure, closures are trivial: nesting stays bounded.
            self.scopes.push();
            for (p, t) in params.iter().zip(&sig.params) {
                self.scopes.add(p, t.clone(), true);
            }
            let r = self.leaf(&sig.ret);
            self.scopes.pop();
            return fn_literal(&params, vec![return_(Some(r))]);
        }
        let saved = self.ctx.clone();
        let saved_avoid = self.avoid.take();
        self.ctx.closure = true;
        self.ctx.closure_scope = self.scopes.depth();
        self.ctx.ret = Some(sig.ret.clone());
        self.ctx.in_init = false;
        self.ctx.loops = 0;
        self.ctx.recursion = None;
        self.scopes.push();
        for (p, t) in params.iter().zip(&sig.params) {
            self.scopes.add(p, t.clone(), true);
        }
        let n = self.range(0, 2) as u32;
        let mut body = self.block(n);
        let r = self.expr(&sig.ret, 2);
        body.push(return_(Some(r)));
        self.scopes.pop();
        self.ctx = saved;
        self.avoid = saved_avoid;
        fn_literal(&params, body)
    }

    /// An int summarizing a value of type `ty` (for checksums): total for every value.
    pub(crate) fn digest(&mut self, x: Expr, ty: &Ty) -> Expr {
        match ty {
            Ty::Int => bin(BinOp::Mod, x, int(1000)),
            Ty::Str | Ty::List(_) | Ty::Map => call_named("len", vec![x]),
            _ => call_named("len", vec![call_named("str", vec![x])]),
        }
    }
}
