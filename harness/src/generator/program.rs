//! The shape of a whole program: globals first, then classes and functions (declared before
//! any body is generated, so every body knows every signature), then the top-level driver
//! that calls them hot, flips argument types after warm-up and prints checksums.

use echo_engine::config::Tier;
use echo_engine::syntax::ast::{BinOp, Expr, Script, Stmt};

use super::build::*;
use super::types::{ClassInfo, FnPlan, MethodInfo, Ty};
use super::{Ctx, Gen};

/// Rank of top-level code: it may call everything.
const TOP: u32 = u32::MAX;
/// Most estimated work of one driver loop.
const DRIVER_WORK: u64 = 20_000;
/// Ints at the edges: of the int range, of exact floats (2^53), of 32-bit ints, and around 0.
const INT_EDGES: [i64; 12] = [
    0,
    1,
    -1,
    i64::MAX,
    i64::MIN,
    i64::MAX - 1,
    i64::MIN + 1,
    1 << 53,
    (1 << 53) + 1,
    1 << 31,
    -(1 << 31),
    1 << 62,
];

/// The string size limit of every case, unless an error of that limit is intended.
pub(crate) const CASE_STRING_BYTES: usize = 1 << 16;
/// The collection length limit of every case, unless an error of that limit is intended.
pub(crate) const CASE_COLLECTION_LEN: usize = 1 << 14;

impl Gen<'_, '_> {
    pub(crate) fn program(&mut self) -> Script {
        self.choose_features();
        self.choose_tiering();
        // Small limits: a program that runs away ends quickly (and identically in every tier).
        self.limits.fuel = Some(200_000);
        self.limits.max_stack_slots = 1 << 18;
        self.limits.max_heap_bytes = 64 << 20;
        self.limits.max_string_bytes = CASE_STRING_BYTES;
        self.limits.max_collection_len = CASE_COLLECTION_LEN;
        self.limits.max_output_bytes = 1 << 20;
        let inject = self
            .u
            .ratio((self.opts.error_share * 1000.0).round() as u32, 1000);
        if let Some(fault) = self.limit_turn() {
            self.force_limit_fault(fault);
        } else if inject.unwrap_or(false) {
            self.choose_intent();
        }

        self.scopes.push();
        let mut stmts = Vec::new();
        // Inputs: ints the program reads from its arguments at run time, so nothing about
        // them is known when compiling, and the same compiled code meets every input vector.
        let input = self.fresh("input");
        let arg = self.fresh("arg");
        stmts.push(let_(&input, list(Vec::new())));
        stmts.push(for_in(
            &arg,
            call_named("args", Vec::new()),
            vec![expr_stmt(call_named(
                "push",
                vec![name(&input), call_named("int", vec![name(&arg)])],
            ))],
        ));
        self.scopes.add(&input, Ty::List(Box::new(Ty::Num)), false);
        self.choose_inputs();
        if self.f.globals {
            for _ in 0..self.range(1, 3) {
                let ty = self.value_type(false);
                let g = self.fresh("g");
                self.ctx = Ctx {
                    rank: 0,
                    ..Ctx::default()
                };
                let init = self.expr(&ty, 2);
                stmts.push(let_(&g, init));
                self.scopes.add(&g, ty, true);
            }
        }

        if self.f.classes {
            self.declare_classes();
        }
        self.declare_functions();
        let globals = self.scopes.depth();
        let mut class_at = Vec::new();
        for c in 0..self.classes.len() {
            let s = self.class_stmt(c);
            class_at.push(stmts.len());
            stmts.push(s);
            self.scopes.truncate(globals);
        }
        for i in 0..self.fns.len() {
            let s = self.function_stmt(i);
            stmts.push(s);
            self.scopes.truncate(globals);
        }
        // Sweeps run first, so that an error the driver raises on purpose does not skip them.
        stmts.extend(self.sweeps());
        let mut main = self.driver();
        let at = self.checksum_at;
        self.add_leaves(&mut stmts, &class_at, &mut main, at);
        let nests = self.nests();
        main.splice(at..at, nests);
        let eaches = self.eaches();
        main.splice(at..at, eaches);
        let ctors = self.ctors();
        main.splice(at..at, ctors);
        stmts.extend(main);
        Script {
            stmts,
            binding_count: 0,
        }
    }

    /// The input vectors, all of one length: the first of small ints, each later one with
    /// more of its elements at the edges of the int range (where compiled arithmetic and
    /// comparisons take their rare paths).
    fn choose_inputs(&mut self) {
        let n = self.range(3, 8) as usize;
        let vectors = self.opts.inputs.max(1);
        self.inputs = (0..vectors)
            .map(|v| {
                (0..n)
                    .map(|_| {
                        let edge = v > 0 && self.pick(vectors) < v;
                        let x = if edge {
                            INT_EDGES[self.pick(INT_EDGES.len())]
                        } else {
                            self.small_int()
                        };
                        x.to_string()
                    })
                    .collect()
            })
            .collect();
    }

    fn choose_features(&mut self) {
        let mut c = || self.u.ratio(1u8, 2u8).unwrap_or(false);
        self.f.floats = c();
        self.f.strings = c();
        self.f.lists = c();
        self.f.maps = c();
        self.f.closures = c();
        self.f.classes = c();
        self.f.inheritance = c();
        self.f.exceptions = c();
        self.f.while_loops = c();
        self.f.recursion = c();
        self.f.globals = c();
        self.f.flips = c();
        self.f.probes = c();
        self.f.inheritance &= self.f.classes;
        // Drawn after the others, so that the features of a seed stay what they were.
        self.f.sweeps = c();
    }

    /// Low thresholds, so that tiered runs compile functions and enter loops mid-run; and
    /// which compiled tiers run. Compiling dominates a case's cost, so half the cases run one
    /// compiled tier only: eager `jit` meets code compiled before any feedback, `tiered` code
    /// compiled from feedback, OSR entries and side exits; each finds bugs the other does not.
    fn choose_tiering(&mut self) {
        self.hot_calls = [1, 2, 3, 5, 8, 13][self.pick(6)];
        self.hot_loops = [1, 2, 4, 10, 25, 60][self.pick(6)];
        let compiled: Vec<Tier> = Tier::ALL
            .iter()
            .copied()
            .filter(|&t| t != Tier::Interp)
            .collect();
        if compiled.len() == 2 {
            // Weights: both 2, only the first 1, only the second 1.
            match self.weighted(&[2, 1, 1]) {
                0 => {}
                1 => self.skip_tiers = vec![compiled[1]],
                _ => self.skip_tiers = vec![compiled[0]],
            }
        }
    }

    /// A random type among those the case's features allow. `params`: for a parameter
    /// (where function values are more common).
    pub(crate) fn value_type(&mut self, params: bool) -> Ty {
        let f = self.f;
        let classes = self.classes.len();
        let weights = [
            4,                                          // Int
            if f.floats { 3 } else { 0 },               // Num
            if f.floats { 1 } else { 0 },               // Float
            if f.strings { 2 } else { 0 },              // Str
            1,                                          // Bool
            if f.lists { 2 } else { 0 },                // List(Num)
            if f.lists && f.strings { 1 } else { 0 },   // List(Str)
            if f.maps { 1 } else { 0 },                 // Map
            if classes > 0 { 3 } else { 0 },            // Inst
            if f.lists && classes > 0 { 1 } else { 0 }, // List(Inst)
            if f.closures && params {
                2
            } else if f.closures {
                1
            } else {
                0
            }, // Func
            if f.lists && f.closures { 1 } else { 0 },  // List(Func)
            1,                                          // Any
        ];
        match self.weighted(&weights) {
            0 => Ty::Int,
            1 => Ty::Num,
            2 => Ty::Float,
            3 => Ty::Str,
            4 => Ty::Bool,
            5 => Ty::List(Box::new(Ty::Num)),
            6 => Ty::List(Box::new(Ty::Str)),
            7 => Ty::Map,
            8 => Ty::Inst(self.pick(classes)),
            9 => Ty::List(Box::new(Ty::Inst(self.pick(classes)))),
            10 => self.func_type(),
            11 => Ty::List(Box::new(self.func_type())),
            _ => Ty::Any,
        }
    }

    /// A type of plain data (for fields, closure signatures and map values).
    pub(crate) fn simple_type(&mut self) -> Ty {
        let f = self.f;
        let weights = [
            3,
            if f.floats { 3 } else { 0 },
            if f.strings { 2 } else { 0 },
            1,
            if f.lists { 1 } else { 0 },
        ];
        match self.weighted(&weights) {
            0 => Ty::Int,
            1 => Ty::Num,
            2 => Ty::Str,
            3 => Ty::Bool,
            _ => Ty::List(Box::new(Ty::Num)),
        }
    }

    fn next_rank(&mut self, rank: &mut u32) -> u32 {
        *rank += 1;
        *rank
    }

    /// Classes with their fields and method signatures. Subclasses inherit fields and
    /// methods, and override some methods with the same signature.
    fn declare_classes(&mut self) {
        let n = self.range(1, 3);
        let mut rank = 0;
        for i in 0..n as usize {
            let parent = if self.f.inheritance && i > 0 && self.chance(2, 3) {
                Some(self.pick(i))
            } else {
                None
            };
            let name = self.fresh("C");
            let (mut fields, mut init_params, mut methods) = match parent {
                Some(p) => {
                    let pc = &self.classes[p];
                    let inherited = pc
                        .methods
                        .iter()
                        .map(|m| MethodInfo {
                            own: false,
                            ..m.clone()
                        })
                        .collect();
                    (pc.fields.clone(), pc.init_params.clone(), inherited)
                }
                None => (Vec::new(), Vec::new(), Vec::new()),
            };
            // A subclass's `init` mostly takes a parameter per field it adds; sometimes it
            // computes them instead and keeps its parent's signature (so that an `init` of
            // either class fits the other's calls).
            let own_params = parent.is_none() || !self.chance(1, 3);
            for _ in 0..self.range(1, 3) {
                let ty = if self.f.closures && self.chance(1, 6) {
                    self.func_type()
                } else {
                    self.simple_type()
                };
                let field = self.fresh("x");
                fields.push((field, ty.clone()));
                if own_params {
                    init_params.push(ty);
                }
            }
            let init_rank = self.next_rank(&mut rank);
            // Overrides keep the signature, so a subclass instance fits wherever its parent's
            // does.
            for m in methods.iter_mut() {
                if self.chance(1, 2) {
                    m.own = true;
                    m.rank = self.next_rank(&mut rank);
                }
            }
            for _ in 0..self.range(1, 3) {
                let np = self.range(0, 2);
                let ps = (0..np).map(|_| self.simple_type()).collect();
                let ret = if self.f.closures && self.chance(1, 5) {
                    self.func_type()
                } else {
                    self.simple_type()
                };
                let sig = self.sig(ps, ret);
                let name = self.fresh("m");
                let r = self.next_rank(&mut rank);
                methods.push(MethodInfo {
                    name,
                    sig,
                    own: true,
                    rank: r,
                });
            }
            self.classes.push(ClassInfo {
                name,
                parent,
                fields,
                init_params,
                methods,
                init_rank,
            });
        }
    }

    fn declare_functions(&mut self) {
        let base = self
            .classes
            .iter()
            .flat_map(|c| c.methods.iter().map(|m| m.rank).chain([c.init_rank]))
            .max()
            .unwrap_or(0);
        let n = self.range(1, 4);
        for i in 0..n as u32 {
            let recursive = self.f.recursion && self.chance(1, 3);
            let np = self.range(0, 3);
            let mut ps: Vec<Ty> = (0..np).map(|_| self.value_type(true)).collect();
            if recursive {
                ps.insert(0, Ty::Int);
            }
            // Some functions return functions (called at once: `f(x)(y)`).
            let ret = if self.f.closures && self.chance(1, 5) {
                self.func_type()
            } else {
                self.value_type(false)
            };
            let sig = self.sig(ps, ret);
            let name = self.fresh("f");
            self.fns.push(FnPlan {
                name,
                sig,
                recursive,
                rank: base + 1 + i,
            });
        }
    }

    /// The rank a call of method `m` on an instance of class `c` needs to exceed: the
    /// highest among every body it may dispatch to (in `c` and its subclasses).
    pub(crate) fn method_rank(&self, c: usize, m: &str) -> u32 {
        (0..self.classes.len())
            .filter(|&d| self.is_subclass(d, c))
            .filter_map(|d| self.classes[d].methods.iter().find(|x| x.name == m))
            .map(|x| x.rank)
            .max()
            .unwrap_or(TOP)
    }

    /// The rank constructing class `c` needs to exceed.
    pub(crate) fn init_rank(&self, c: usize) -> u32 {
        self.classes[c].init_rank
    }

    fn class_stmt(&mut self, c: usize) -> Stmt {
        let info = self.classes[c].clone();
        let parent = info.parent.map(|p| self.classes[p].clone());
        let mut methods = Vec::new();
        // init: the parent's part through super.init, then this class's fields.
        let params: Vec<String> = info.init_params.iter().map(|_| self.fresh("p")).collect();
        // A subclass's init runs its parent's too.
        self.cost = info
            .parent
            .and_then(|p| self.method_costs.get(&(p, "init".to_string())).copied())
            .unwrap_or(0);
        self.ctx = Ctx {
            rank: info.init_rank,
            ret: Some(Ty::Any),
            class: Some(c),
            in_init: true,
            ..Ctx::default()
        };
        self.scopes.push();
        for (p, t) in params.iter().zip(&info.init_params) {
            self.scopes.add(p, t.clone(), true);
        }
        let mut body = Vec::new();
        if self.f.flips && self.chance(1, 2) {
            body.push(self.optional_field(&params, &info.init_params));
        }
        let inherited = parent.as_ref().map_or(0, |p| p.init_params.len());
        let inherited_fields = parent.as_ref().map_or(0, |p| p.fields.len());
        if let Some(_p) = &parent {
            let args = params[..inherited].iter().map(|p| name(p)).collect();
            body.push(expr_stmt(call(super_get("init"), args)));
        }
        for (k, (field, ty)) in info.fields[inherited_fields..].iter().enumerate() {
            let value = match params.get(inherited + k) {
                Some(p) => name(p),
                None => {
                    // Computed from the parameters, without `self` (whose fields are not
                    // all set yet).
                    let class = self.ctx.class.take();
                    let e = self.expr(ty, 2);
                    self.ctx.class = class;
                    e
                }
            };
            body.push(expr_stmt(assign(get(self_ref(), field), value)));
        }
        if self.chance(1, 3) {
            let extra = self.block(2);
            body.extend(extra);
        }
        self.scopes.pop();
        self.method_costs.insert((c, "init".to_string()), self.cost);
        methods.push(fn_decl("init", &params, body));
        for m in info.methods.iter().filter(|m| m.own) {
            let sig = self.sigs[m.sig].clone();
            let params: Vec<String> = sig.params.iter().map(|_| self.fresh("a")).collect();
            self.cost = 0;
            self.ctx = Ctx {
                rank: m.rank,
                ret: Some(sig.ret.clone()),
                class: Some(c),
                ..Ctx::default()
            };
            self.scopes.push();
            for (p, t) in params.iter().zip(&sig.params) {
                self.scopes.add(p, t.clone(), true);
            }
            let n = self.range(1, 4) as u32;
            let mut body = self.block(n);
            let r = self.expr(&sig.ret, 3);
            body.push(return_(Some(r)));
            self.scopes.pop();
            self.method_costs.insert((c, m.name.clone()), self.cost);
            methods.push(fn_decl(&m.name, &params, body));
        }
        class(
            &info.name,
            parent.as_ref().map(|p| p.name.as_str()),
            methods,
        )
    }

    /// `if COND { self.optN = 0; }` at the start of `init`: instances of one class then have
    /// their fields in different slots (two shapes), so field accesses see several shapes.
    /// The field is never read.
    fn optional_field(&mut self, params: &[String], types: &[Ty]) -> Stmt {
        let numeric: Vec<&String> = params
            .iter()
            .zip(types)
            .filter(|(_, t)| matches!(t, Ty::Int | Ty::Num))
            .map(|(p, _)| p)
            .collect();
        let cond = if numeric.is_empty() {
            self.expr(&Ty::Bool, 1)
        } else {
            let p = numeric[self.pick(numeric.len())].clone();
            bin(BinOp::Eq, bin(BinOp::Mod, name(&p), int(2)), int(0))
        };
        let field = self.fresh("opt");
        if_(
            vec![(
                cond,
                vec![expr_stmt(assign(get(self_ref(), &field), int(0)))],
            )],
            None,
        )
    }

    fn function_stmt(&mut self, i: usize) -> Stmt {
        let info = self.fns[i].clone();
        let sig = self.sigs[info.sig].clone();
        let params: Vec<String> = sig.params.iter().map(|_| self.fresh("a")).collect();
        self.rec_calls = 0;
        self.cost = 0;
        self.ctx = Ctx {
            rank: info.rank,
            ret: Some(sig.ret.clone()),
            recursion: info.recursive.then(|| (i, params[0].clone())),
            ..Ctx::default()
        };
        self.scopes.push();
        for (k, (p, t)) in params.iter().zip(&sig.params).enumerate() {
            // The depth of a recursive function is never reassigned: recursion stays bounded.
            self.scopes.add(p, t.clone(), !(info.recursive && k == 0));
        }
        let mut body = Vec::new();
        if info.recursive {
            let saved = self.ctx.recursion.take();
            let base = self.expr(&sig.ret, 2);
            self.ctx.recursion = saved;
            body.push(if_(
                vec![(
                    bin(BinOp::Le, name(&params[0]), int(0)),
                    vec![return_(Some(base))],
                )],
                None,
            ));
        }
        let n = self.range(1, 5) as u32;
        body.extend(self.block(n));
        let r = self.expr(&sig.ret, 3);
        body.push(return_(Some(r)));
        self.scopes.pop();
        // A recursive body runs once per call of a call tree of depth up to 6.
        let calls = match (info.recursive, self.rec_calls) {
            (false, _) => 1,
            (true, 0 | 1) => 7,
            (true, _) => 127,
        };
        self.fn_costs.push(self.cost.saturating_mul(calls));
        fn_stmt(fn_decl(&info.name, &params, body))
    }

    /// Top-level code: calls every function (and methods of fresh instances) in hot loops,
    /// folding results into a checksum, with argument types flipped after warm-up, then
    /// prints the checksums.
    fn driver(&mut self) -> Vec<Stmt> {
        self.ctx = Ctx {
            rank: TOP,
            ..Ctx::default()
        };
        let mut out = Vec::new();
        let acc = self.fresh("acc");
        out.push(let_(&acc, int(0)));
        self.scopes.add(&acc, Ty::Int, false);
        for i in 0..self.fns.len() {
            let f = self.fns[i].clone();
            let cost = self.fn_costs[i];
            out.extend(self.hot_calls_of(&acc, &f, cost));
        }
        if !self.classes.is_empty() {
            out.extend(self.method_driver(&acc));
        }
        let n = self.range(1, 6) as u32;
        let extra = self.block(n);
        out.extend(self.guarded(extra));
        let late = match self.injection() {
            Some((now, late)) => {
                out.extend(now);
                late
            }
            None => Vec::new(),
        };
        self.checksum_at = out.len();
        out.push(print(vec![string("checksum"), name(&acc)]));
        if self.chance(1, 3) {
            let ty = self.value_type(false);
            if self.available(&ty) {
                let v = self.expr(&ty, 2);
                out.push(return_(Some(v)));
            }
        }
        out.extend(late);
        out
    }

    /// With exceptions enabled, top-level code runs inside `try`, so that a throw from a
    /// function (or an error) ends one part of the program rather than all of it.
    fn guarded(&mut self, stmts: Vec<Stmt>) -> Vec<Stmt> {
        if !self.f.exceptions || stmts.is_empty() {
            return stmts;
        }
        let e = self.fresh("e");
        vec![try_(
            stmts,
            &e,
            vec![print(vec![string("caught"), name(&e)])],
        )]
    }

    /// `for i in 0..N { acc = (acc + digest(f(args(i)))) % M; }`, then, with `flips`, a
    /// call whose numeric arguments are floats or whose instances are of another class.
    fn hot_calls_of(&mut self, acc: &str, f: &FnPlan, cost: u64) -> Vec<Stmt> {
        let sig = self.sigs[f.sig].clone();
        let trips = [3, 12, 30, 70][self.weighted(&[1, 2, 3, 2])];
        // Long enough to get hot, short enough to stay cheap.
        let trips = trips.min((DRIVER_WORK / (cost + 1)).max(2) as i64);
        let i = self.open_driver_loop(trips);
        let args = self.args_for(&sig.params, f.recursive, Some(&i));
        let (value, ty) = self.call_result(call_named(&f.name, args), &sig.ret, &i);
        let (r, mut body) = self.accumulate(acc, value, ty);
        if self.chance(1, 2) {
            let k = self.range(1, 9);
            body.push(if_(
                vec![(
                    bin(BinOp::Eq, bin(BinOp::Mod, name(&i), int(k)), int(0)),
                    vec![print(vec![name(&r)])],
                )],
                None,
            ));
        }
        let mut out = vec![self.close_driver_loop(&i, trips, body)];
        if self.f.flips
            && sig
                .params
                .iter()
                .any(|t| matches!(t, Ty::Num | Ty::Inst(_)))
        {
            let args = self.flipped_args(&sig.params, f.recursive);
            let call = call_named(&f.name, args);
            let flip = vec![print(vec![string("flip"), call])];
            out.extend(self.guarded(flip));
        }
        out
    }

    /// Instances of every class (a subclass where one exists), then a loop over them calling
    /// a method: the call site sees several classes (polymorphic inline caches, shape
    /// guards that fail).
    fn method_driver(&mut self, acc: &str) -> Vec<Stmt> {
        let mut out = Vec::new();
        let n = self.classes.len();
        // Preferably a class with subclasses: the call site then sees several classes.
        let parents: Vec<usize> = (0..n)
            .filter(|&c| (0..n).any(|d| d != c && self.is_subclass(d, c)))
            .collect();
        let root = if !parents.is_empty() && self.chance(3, 4) {
            parents[self.pick(parents.len())]
        } else {
            self.pick(n)
        };
        let family: Vec<usize> = (0..n).filter(|&d| self.is_subclass(d, root)).collect();
        let mut objs = Vec::new();
        for &c in &family {
            let args = self.args_for(&self.classes[c].init_params.clone(), false, None);
            objs.push(call_named(&self.classes[c].name.clone(), args));
        }
        let os = self.fresh("objs");
        out.push(let_(&os, list(objs)));
        self.scopes
            .add(&os, Ty::List(Box::new(Ty::Inst(root))), false);
        let methods = self.classes[root].methods.clone();
        if methods.is_empty() {
            return out;
        }
        // Preferably a method some subclass overrides: the call's target then changes with the
        // receiver's class.
        let overridden: Vec<_> = methods
            .iter()
            .filter(|m| {
                family.iter().any(|&d| {
                    d != root
                        && self.classes[d]
                            .methods
                            .iter()
                            .any(|x| x.name == m.name && x.own)
                })
            })
            .cloned()
            .collect();
        let m = if !overridden.is_empty() && self.chance(3, 4) {
            overridden[self.pick(overridden.len())].clone()
        } else {
            methods[self.pick(methods.len())].clone()
        };
        let sig = self.sigs[m.sig].clone();
        let cost = self.method_cost(root, &m.name);
        let trips = [6, 20, 45][self.pick(3)].min((DRIVER_WORK / (cost + 1)).max(2) as i64);
        let i = self.open_driver_loop(trips);
        let o = index(
            name(&os),
            bin(BinOp::Mod, name(&i), call_named("len", vec![name(&os)])),
        );
        let args = self.args_for(&sig.params, false, Some(&i));
        let (value, ty) = self.call_result(method_call(o, &m.name, args), &sig.ret, &i);
        let (_, mut body) = self.accumulate(acc, value, ty);
        // A field added to some instances only: their shape changes mid-loop.
        if self.f.flips && self.chance(1, 2) {
            let extra = self.fresh("extra");
            body.push(if_(
                vec![(
                    bin(BinOp::Eq, name(&i), int(trips / 2)),
                    vec![expr_stmt(assign(
                        get(index(name(&os), int(0)), &extra),
                        name(&i),
                    ))],
                )],
                None,
            ));
        }
        out.push(self.close_driver_loop(&i, trips, body));
        out
    }

    /// Opens the scope of a driver loop of `trips` trips and returns its counter, in scope
    /// there. Calls in the loop cost `trips` times their work.
    fn open_driver_loop(&mut self, trips: i64) -> String {
        self.ctx.trips = trips as u64;
        let i = self.fresh("i");
        self.scopes.push();
        self.scopes.add(&i, Ty::Int, false);
        i
    }

    /// Closes the scope `open_driver_loop` opened: `for i in 0..trips { body }`.
    fn close_driver_loop(&mut self, i: &str, trips: i64, body: Vec<Stmt>) -> Stmt {
        self.scopes.pop();
        self.ctx.trips = 1;
        let body = self.guarded(body);
        for_range(i, int(0), int(trips), body)
    }

    /// The start of a driver loop's body: `let r = value;` (`r` of type `ty`, then in scope)
    /// and `acc = (acc + digest(r)) % M;`, so that every result shows in the printed checksum.
    /// Returns `r` and the two statements.
    fn accumulate(&mut self, acc: &str, value: Expr, ty: Ty) -> (String, Vec<Stmt>) {
        let r = self.fresh("r");
        let mut body = vec![let_(&r, value)];
        self.scopes.add(&r, ty.clone(), true);
        body.push(expr_stmt(assign(
            name(acc),
            bin(
                BinOp::Mod,
                bin(BinOp::Add, name(acc), self.digest(name(&r), &ty)),
                int(1_000_003),
            ),
        )));
        (r, body)
    }

    /// What a driver loop keeps of a call's result, and its type: a function result is
    /// mostly called at once (`f(x)(y)`: the call register then holds the callee and, after
    /// the call, what it returned).
    fn call_result(&mut self, call_: Expr, ret: &Ty, i: &str) -> (Expr, Ty) {
        match ret {
            Ty::Func(s) if self.chance(3, 4) => {
                let inner = self.sigs[*s].clone();
                let args = self.args_for(&inner.params, false, Some(i));
                (call(call_, args), inner.ret)
            }
            _ => (call_, ret.clone()),
        }
    }

    /// Arguments for a call: from the loop variable where there is one, so that values
    /// change from call to call; depths of recursive functions stay small.
    pub(crate) fn args_for(
        &mut self,
        params: &[Ty],
        recursive: bool,
        i: Option<&str>,
    ) -> Vec<echo_engine::syntax::ast::Expr> {
        let mut out = Vec::new();
        for (k, t) in params.iter().enumerate() {
            if k == 0 && recursive {
                let d = match i {
                    Some(i) => bin(BinOp::Mod, name(i), int(self.range(2, 7))),
                    None => int(self.range(0, 5)),
                };
                out.push(d);
                continue;
            }
            let a = match (t, i) {
                (Ty::Int | Ty::Num, Some(i)) if self.chance(2, 3) => {
                    let k = self.range(1, 5);
                    bin(
                        BinOp::Add,
                        bin(BinOp::Mul, name(i), int(k)),
                        int(self.small_int()),
                    )
                }
                _ => self.expr(t, 2),
            };
            out.push(a);
        }
        out
    }

    /// Arguments of the same call after warm-up, with floats for numbers and the last
    /// subclass for instances.
    fn flipped_args(
        &mut self,
        params: &[Ty],
        recursive: bool,
    ) -> Vec<echo_engine::syntax::ast::Expr> {
        let mut out = Vec::new();
        for (k, t) in params.iter().enumerate() {
            let a = match t {
                _ if k == 0 && recursive => int(3),
                Ty::Num => float(self.float_lit()),
                Ty::Inst(c) => {
                    let sub = (0..self.classes.len())
                        .rev()
                        .find(|&d| self.is_subclass(d, *c))
                        .unwrap_or(*c);
                    self.construct(sub)
                }
                _ => self.expr(t, 1),
            };
            out.push(a);
        }
        out
    }
}
