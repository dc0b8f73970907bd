//! The program generator: turns `arbitrary` bytes (fuzzing) or a seed (campaigns) into an Echo
//! program that is valid by construction. It builds a syntax tree with a static view of every
//! value's type, so that operations are well defined except where it injects an error on
//! purpose, and prints it. Each case enables a random subset of the language (swarm testing)
//! and is shaped to cross tiers: hot functions, long loops, values whose type flips after
//! warm-up, receivers of several classes.

mod build;
mod callable;
mod ctors;
mod each;
mod expr;
mod inject;
mod leaf;
mod nest;
mod probe;
mod program;
mod stmt;
mod sweep;
mod types;

use arbitrary::Unstructured;
use echo_engine::config::{Limits, Tier};
use echo_engine::error::ErrorKind;
use serde::Serialize;

pub use inject::runtime_kinds;
pub use sweep::{SWEEPS, Steering};
use types::{ClassInfo, FnPlan, Scopes, Sig, Ty};

/// Version of the generator: the same seed gives the same program for one version, on every
/// machine. Bumped whenever the programs a seed produces change.
pub const GENERATOR_VERSION: u32 = 26;

/// Language areas; each case enables a random subset (swarm testing: cases that leave an area
/// out stress the others harder).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Features {
    /// Float values and mixed int/float arithmetic.
    pub floats: bool,
    /// Strings and string builtins.
    pub strings: bool,
    /// Lists (literals, indexing, `push`, `for x in`).
    pub lists: bool,
    /// Maps.
    pub maps: bool,
    /// Closures and function values.
    pub closures: bool,
    /// Classes, instances, fields and methods.
    pub classes: bool,
    /// Subclasses, overriding and `super`.
    pub inheritance: bool,
    /// `try`, `catch` and `throw`.
    pub exceptions: bool,
    /// `while` loops, `break` and `continue`.
    pub while_loops: bool,
    /// Recursive functions.
    pub recursion: bool,
    /// Global variables written by functions.
    pub globals: bool,
    /// Calls whose argument types change after warm-up (int to float, class to subclass), and
    /// instances of one class whose fields sit in different slots (different shapes).
    pub flips: bool,
    /// Operations at the edge of their domain inside `try` (overflow, index -1 and at the
    /// length, missing keys, mixed types), landing on either side from run-time values.
    pub probes: bool,
    /// Kind sweeps: one operation over values of every kind, compiled speculatively and
    /// then generically (`sweep.rs`), chosen by the campaign's coverage steering.
    pub sweeps: bool,
}

/// Tuning knobs of the generator.
#[derive(Clone, Debug)]
pub struct Options {
    /// Share of cases (0 to 1) that contain an error on purpose.
    pub error_share: f64,
    /// Most statements in one program (a soft bound).
    pub max_statements: u32,
    /// Input vectors per case: the program runs on each, in every tier.
    pub inputs: usize,
    /// The campaign's semantic cell hits, when it steers generation toward cells not yet
    /// reached (`None`: sweeps are chosen uniformly). A steered case depends on the table as
    /// it was when generated, so it is reproduced from its saved source, not its seed.
    pub steering: Option<std::sync::Arc<Steering>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            error_share: 0.15,
            max_statements: 90,
            inputs: 16,
            steering: None,
        }
    }
}

/// A generated test case: a program and how to run it.
#[derive(Clone, Debug)]
pub struct Case {
    /// The program.
    pub source: String,
    /// The engine limits to run it with (small ones when an error of a limit is intended).
    pub limits: Limits,
    /// Calls after which the tiered run compiles a function.
    pub hot_calls: u32,
    /// Loop iterations after which the tiered run enters compiled code.
    pub hot_loops: u32,
    /// The language areas this case uses.
    pub features: Features,
    /// The error kind injected on purpose, if any.
    pub intent: Option<ErrorKind>,
    /// The argument vectors (ints as text) the program runs on, each in every tier.
    pub inputs: Vec<Vec<String>>,
    /// Compiled tiers this case leaves out, to check more programs per second.
    pub skip_tiers: Vec<Tier>,
}

/// Generates a case from fuzzer bytes. Never fails for lack of bytes: once they run out every
/// choice takes its simplest option, so short inputs give short programs.
pub fn generate(u: &mut Unstructured<'_>, opts: &Options) -> Case {
    generate_seeded(u, opts, None)
}

/// `generate`, for the case of a campaign's `seed` (consecutive seeds take consecutive turns
/// of the sweeps, see `Gen::sweeps`).
fn generate_seeded(u: &mut Unstructured<'_>, opts: &Options, seed: Option<u64>) -> Case {
    let mut g = Gen::new(u, opts);
    g.seed = seed;
    let program = g.program();
    Case {
        source: echo_engine::syntax::printer::print_script(&program),
        limits: g.limits.clone(),
        hot_calls: g.hot_calls,
        hot_loops: g.hot_loops,
        features: g.f,
        intent: g.intent,
        inputs: std::mem::take(&mut g.inputs),
        skip_tiers: std::mem::take(&mut g.skip_tiers),
    }
}

/// Generates the case of a seed: the same program for the same seed and generator version.
pub fn from_seed(seed: u64, opts: &Options) -> Case {
    let bytes = seed_bytes(seed, 1 << 15);
    generate_seeded(&mut Unstructured::new(&bytes), opts, Some(seed))
}

/// `n` pseudo-random bytes from a seed (SplitMix64: tiny, portable and well mixed).
pub fn seed_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(n);
    out
}

/// Where generation is: what the code being generated may do.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    /// Calls are allowed only to functions and methods of a lower rank (no unbounded mutual
    /// recursion).
    pub rank: u32,
    /// Return type of the function being generated (`None` at top level).
    pub ret: Option<Ty>,
    /// Class whose method is being generated (`self` and, with a parent, `super`).
    pub class: Option<usize>,
    /// Inside `init` (which cannot return a value).
    pub in_init: bool,
    /// Enclosing loops of this function.
    pub loops: u32,
    /// The recursive function being generated and its depth parameter.
    pub recursion: Option<(usize, String)>,
    /// Inside a function literal: it calls no user functions (closures may be called from
    /// anywhere, so this keeps calls acyclic).
    pub closure: bool,
    /// Inside a function literal: the scope depth where its own scopes (parameters, locals)
    /// begin. It calls function values only from those: a captured variable may by then
    /// hold a function that calls this one.
    pub closure_scope: usize,
    /// Nesting depth of blocks, bounded to keep programs readable.
    pub nesting: u32,
    /// Enclosing `for x in` loops (lists are not grown inside them).
    pub for_in: u32,
    /// Product of the trip counts of the enclosing loops of this function: how often a
    /// statement here runs per call.
    pub trips: u64,
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx {
            rank: 0,
            ret: None,
            class: None,
            in_init: false,
            loops: 0,
            recursion: None,
            closure: false,
            closure_scope: 0,
            nesting: 0,
            for_in: 0,
            trips: 1,
        }
    }
}

/// Most estimated work (statements run) one call site in a loop may cause: calls whose
/// callee would exceed it are not generated, so nested loops over calls stay cheap.
const CALL_COST_LIMIT: u64 = 3_000;

/// The generator's state for one case.
pub(crate) struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    opts: &'b Options,
    pub(crate) f: Features,
    sigs: Vec<Sig>,
    classes: Vec<ClassInfo>,
    fns: Vec<FnPlan>,
    scopes: Scopes,
    ctx: Ctx,
    next_name: u32,
    /// Statements left to generate (soft).
    budget: i64,
    /// The variable or field being assigned: its new value does not read it (no doubling of
    /// strings or lists in loops).
    avoid: Option<String>,
    /// Recursive calls generated in the current function body (at most two, like `fib`).
    rec_calls: u32,
    /// Expression nodes left for the current statement.
    expr_budget: i32,
    /// Constructor calls being generated inside one another: an `init` that takes a function
    /// returning an instance nests a constructor in a closure in a constructor... (bounded).
    constructing: u32,
    /// Estimated work of one call of the body being generated.
    cost: u64,
    /// Estimated work of one call of each function (by index), once generated.
    fn_costs: Vec<u64>,
    /// Estimated work of each class's own method bodies (by class and name) and `init`s.
    method_costs: std::collections::BTreeMap<(usize, String), u64>,
    pub(crate) intent: Option<ErrorKind>,
    /// The limit fault this case carries by turn (see `inject::LIMIT_TURN`); `None` when its
    /// error, if any, was drawn.
    pub(crate) limit_fault: Option<inject::LimitFault>,
    pub(crate) limits: Limits,
    pub(crate) hot_calls: u32,
    pub(crate) hot_loops: u32,
    /// The input vectors chosen for the case.
    pub(crate) inputs: Vec<Vec<String>>,
    /// The compiled tiers the case leaves out.
    pub(crate) skip_tiers: Vec<Tier>,
    /// The case's seed in its campaign, when it has one.
    pub(crate) seed: Option<u64>,
    /// Leaf methods generated so far, for the driver to call (`leaf.rs`).
    leaves: Vec<leaf::Leaf>,
    /// Where in the driver's statements the checksum is printed.
    checksum_at: usize,
}

impl<'a, 'b> Gen<'a, 'b> {
    fn new(u: &'b mut Unstructured<'a>, opts: &'b Options) -> Self {
        Gen {
            u,
            opts,
            f: Features::default(),
            sigs: Vec::new(),
            classes: Vec::new(),
            fns: Vec::new(),
            scopes: Scopes::default(),
            ctx: Ctx::default(),
            next_name: 0,
            budget: opts.max_statements as i64,
            avoid: None,
            rec_calls: 0,
            expr_budget: 0,
            constructing: 0,
            seed: None,
            cost: 0,
            fn_costs: Vec::new(),
            method_costs: std::collections::BTreeMap::new(),
            intent: None,
            limit_fault: None,
            limits: Limits::default(),
            hot_calls: 10,
            hot_loops: 1000,
            inputs: Vec::new(),
            skip_tiers: Vec::new(),
            leaves: Vec::new(),
            checksum_at: 0,
        }
    }

    // ----- choices (every one has a simplest default when the bytes run out) -----

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.u.int_in_range(lo..=hi).unwrap_or(lo)
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: u32, den: u32) -> bool {
        self.u.ratio(num, den).unwrap_or(false)
    }

    /// An index below `n` (`n > 0`).
    fn pick(&mut self, n: usize) -> usize {
        self.u.choose_index(n).unwrap_or(0)
    }

    /// An index chosen with the given weights (the first option is the default).
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        if total == 0 {
            return 0;
        }
        let mut x = self.range(0, total as i64 - 1) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        0
    }

    /// A fresh name with a prefix (never a keyword or builtin: all contain a digit).
    fn fresh(&mut self, prefix: &str) -> String {
        self.next_name += 1;
        format!("{prefix}{}", self.next_name)
    }

    fn sig(&mut self, params: Vec<Ty>, ret: Ty) -> usize {
        let s = Sig { params, ret };
        if let Some(i) = self.sigs.iter().position(|x| *x == s) {
            return i;
        }
        self.sigs.push(s);
        self.sigs.len() - 1
    }

    /// Estimated work of calling method `m` on an instance of class `c` (the dearest body
    /// it may dispatch to).
    fn method_cost(&self, c: usize, m: &str) -> u64 {
        (0..self.classes.len())
            .filter(|&d| self.is_subclass(d, c))
            .filter_map(|d| {
                // The body an instance of `d` runs: its own or its nearest ancestor's.
                let mut k = Some(d);
                while let Some(i) = k {
                    if let Some(&cost) = self.method_costs.get(&(i, m.to_string())) {
                        return Some(cost);
                    }
                    k = self.classes[i].parent;
                }
                None
            })
            .max()
            .unwrap_or(0)
    }

    /// Accounts for a call of estimated work `callee` at the current place; false (and no
    /// accounting) when it would make the place too expensive.
    fn afford_call(&mut self, callee: u64) -> bool {
        let work = self.ctx.trips.saturating_mul(callee + 1);
        if work > CALL_COST_LIMIT {
            return false;
        }
        self.cost = self.cost.saturating_add(work);
        true
    }

    /// Whether class `sub` is `sup` or derives from it.
    fn is_subclass(&self, sub: usize, sup: usize) -> bool {
        let mut c = Some(sub);
        while let Some(i) = c {
            if i == sup {
                return true;
            }
            c = self.classes[i].parent;
        }
        false
    }

    /// Whether a value of type `have` may be used where `want` is expected.
    fn fits(&self, have: &Ty, want: &Ty) -> bool {
        match (have, want) {
            (_, Ty::Any) => true,
            (Ty::Int | Ty::Float, Ty::Num) => true,
            (Ty::Inst(a), Ty::Inst(b)) => self.is_subclass(*a, *b),
            (a, b) => a == b,
        }
    }
}
