//! Engine configuration: which tier runs, the tiering thresholds and every engine limit, with
//! their defaults, and the compiling tier's fixed knobs, in one place.

use std::fmt;
use std::str::FromStr;

/// Which execution tier runs a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    /// The bytecode interpreter only.
    Interp,
    /// Every function compiled to machine code before its first call (top level included).
    #[cfg(feature = "jit")]
    Jit,
    /// Interpret; compile a function after `hot_calls` calls, and enter compiled code in the
    /// middle of a function (OSR) once its loops took `hot_loops` back-edges.
    #[cfg(feature = "jit")]
    Tiered,
}

impl Tier {
    /// Every tier this build supports.
    #[cfg(feature = "jit")]
    pub const ALL: &'static [Tier] = &[Tier::Interp, Tier::Jit, Tier::Tiered];
    /// The tier used unless one is chosen: tiered execution.
    #[cfg(feature = "jit")]
    pub const DEFAULT: Tier = Tier::Tiered;
    /// Every tier this build supports.
    #[cfg(not(feature = "jit"))]
    pub const ALL: &'static [Tier] = &[Tier::Interp];
    /// The tier used unless one is chosen: the only one built.
    #[cfg(not(feature = "jit"))]
    pub const DEFAULT: Tier = Tier::Interp;

    /// The tier's name (`interp`, `jit`, `tiered`).
    pub fn name(self) -> &'static str {
        match self {
            Tier::Interp => "interp",
            #[cfg(feature = "jit")]
            Tier::Jit => "jit",
            #[cfg(feature = "jit")]
            Tier::Tiered => "tiered",
        }
    }

    /// Whether this tier compiles code.
    pub fn compiles(self) -> bool {
        self != Tier::Interp
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Tier, String> {
        Tier::ALL
            .iter()
            .copied()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Tier::ALL.iter().map(|t| t.name()).collect();
                format!("unknown tier '{s}' (expected one of: {})", names.join(", "))
            })
    }
}

/// After this many compilations a function stays interpreted (a safety valve; a function is
/// normally compiled at most three times, each time with an OSR version: speculatively, again
/// after a side exit, then generically after a second one; and once more after each of the
/// exits that do not count towards `SPECULATIVE_EXITS`, which are rare).
pub const MAX_COMPILATIONS: u32 = 10;

/// Side exits after which a function's compilations stop speculating. The first exit at an
/// instruction widens its feedback from ints to numbers, so a second compilation still
/// speculates, on what was seen.
pub const SPECULATIVE_EXITS: u64 = 2;

/// Largest function (in bytecode instructions) the JIT compiles: Cranelift's compile time
/// grows faster than linearly with function size, so very large functions (typically
/// generated top-level code) stay interpreted.
pub const MAX_JIT_INSTRUCTIONS: usize = 2_000;

/// Most register stores a function's exits may need (see `jit::analysis::exit_stores`) before
/// the JIT stores every register as it is written instead: past it, exits would make the code
/// grow as writes times exits.
pub const MAX_EXIT_STORES: usize = 20_000;

/// Most estimated compile cost (about one unit per Cranelift instruction, see
/// `jit::analysis::compile_cost`) of a function the JIT compiles, about 100 ms of compile
/// time; a costlier one stays interpreted, with the reason recorded.
pub const MAX_COMPILE_COST: usize = 60_000;

/// Units of element work per unit of fuel, for operations whose work grows with their
/// operands (docs/LANGUAGE.md §15 gives the worst program per builtin and its time): one
/// value copied or moved is 1 (`work::MOVE`), a value compared, printed or inserted into a
/// map is 4 (`work::VISIT`), an object allocated per element is 16 (`work::ALLOC`). Chosen
/// so that no unit of fuel takes much more than about 50 ns, whatever the operation.
pub const ELEMENTS_PER_FUEL: u64 = 16;

/// Bytes of text (read, written, searched or compared) per unit of fuel, as
/// `ELEMENTS_PER_FUEL` for elements.
pub const BYTES_PER_FUEL: u64 = 64;

/// Compilations a VM makes on its own thread before it generates code on a second one, by
/// default (`Config::background_after`). A program with a few hot functions gets them compiled
/// at once and never pays for the thread (a megabyte or two of compiler memory beside its
/// heap); one that keeps compiling new functions gets them without waiting. 4 rather than 16:
/// over the benchmark suite, whole-process time 0.97-0.975 of 16's (json, havlak, bounce,
/// closure_loop 0.91-0.92; programs of at most 4 compilations unchanged), peak memory +1.9%.
pub const BACKGROUND_AFTER: u32 = 4;

/// Bytes of compiled code kept per thread for reuse (`Config::share_code`); past it the
/// store starts over (programs differ from case to case, so old entries rarely hit again).
pub const SHARED_CODE_BYTES: usize = 64 << 20;

/// Engine limits. All are counted in language units, so every tier hits them at exactly the
/// same point; all raise errors that scripts cannot catch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Fuel: one unit per call (of any function, builtin or class) and per loop back-edge.
    /// `None` means unlimited.
    pub fuel: Option<u64>,
    /// Most Echo frames active at once.
    pub max_call_depth: u32,
    /// Most register slots on the VM stack, over all frames.
    pub max_stack_slots: usize,
    /// Most heap bytes (as the engine accounts them) not yet reclaimed.
    pub max_heap_bytes: usize,
    /// Longest string, in bytes (also bounds the text of one `print`).
    pub max_string_bytes: usize,
    /// Most elements of one list or entries of one map.
    pub max_collection_len: usize,
    /// Most bytes of captured output.
    pub max_output_bytes: usize,
    /// Deepest syntactic nesting the parser accepts.
    pub max_nesting: u32,
    /// Longest source text compiled, in bytes; a longer one is refused before it is read.
    /// Compiling takes memory in proportion to the source (measured with a counting
    /// allocator): about 22 bytes per byte for ordinary code, up to 37 for the densest
    /// expressions and statements (one every two to four bytes), and 65 for a source of
    /// nothing but empty function declarations (each a prototype of its own). The default,
    /// 16 MiB, is hundreds of times the largest program in the corpus (20 KB) and keeps
    /// compiling within about 350 MB for ordinary code and 1 GiB at worst: no more than the
    /// default heap limit lets the program itself use.
    pub max_source_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: Some(1_000_000_000),
            max_call_depth: 10_000,
            max_stack_slots: 1 << 22,
            max_heap_bytes: 1 << 30,
            max_string_bytes: 1 << 26,
            max_collection_len: 1 << 24,
            max_output_bytes: 1 << 26,
            max_nesting: 200,
            max_source_bytes: 1 << 24,
        }
    }
}

/// Where `print` output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// Collected into the `Outcome` (bounded by `max_output_bytes`).
    Capture,
    /// Written to the process's standard output as it is printed.
    Stdout,
}

/// Everything that decides how a program runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The execution tier.
    pub tier: Tier,
    /// Engine limits.
    pub limits: Limits,
    /// Calls after which a function is compiled (tiered execution).
    pub hot_calls: u32,
    /// Loop back-edges after which a loop enters compiled code (tiered execution).
    pub hot_loops: u32,
    /// Collect garbage at every safepoint (slow; for testing the collector's roots).
    pub gc_stress: bool,
    /// Record which opcodes, helpers and builtins run (`RunStats::coverage`).
    pub coverage: bool,
    /// Measure the time spent in each function's compiled code (`FnJit::compiled_time`).
    /// Costs two clock reads at every switch between interpreted and compiled code.
    pub profile: bool,
    /// Reuse machine code compiled earlier on this thread (by any VM) for a function whose
    /// Cranelift IR is identical; Cranelift's output depends only on its input, so the code is
    /// what compiling would give. For running one program many times (the differential
    /// harness); off by default, so that compile times measure compiling.
    pub share_code: bool,
    /// Generate machine code on a second thread while the function goes on running
    /// (interpreted, or in the jit tier in its cold version, see `Compiled::cold`), which
    /// switches to the code at its first call (or loop back-edge) after the code is ready. Outcomes never depend on it, only when compiled
    /// code starts to run does; off by default, so that a run is repeatable in every detail
    /// (statistics, the harness's reproductions). The command line and the benchmark report
    /// turn it on.
    pub background_compile: bool,
    /// With `background_compile`: how many compilations are made on the running thread before
    /// the rest go to the second one (`BACKGROUND_AFTER` by default; tests set 0, so that even
    /// a small program compiles in the background).
    pub background_after: u32,
    /// Where output goes.
    pub output: OutputMode,
    /// The program's command-line arguments, which it reads with `args()`.
    pub args: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tier: Tier::DEFAULT,
            limits: Limits::default(),
            hot_calls: 10,
            hot_loops: 1000,
            gc_stress: false,
            coverage: false,
            profile: false,
            share_code: false,
            background_compile: false,
            background_after: BACKGROUND_AFTER,
            output: OutputMode::Capture,
            args: Vec::new(),
        }
    }
}
