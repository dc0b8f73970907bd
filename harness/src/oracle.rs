//! The oracle: runs one program in every tier and decides whether they agree. The outcome of
//! a run is everything observable (printed output, final value or error kind, message, line
//! and trace, fuel used); the interpreter's is the reference and every other tier must match it
//! exactly. Panics and engine faults are findings too; the native-stack backstop is set aside.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use echo_engine::bytecode::Program;
use echo_engine::config::{Limits, Tier};
use echo_engine::error::ErrorKind;
use echo_engine::runtime::coverage::Coverage;
use echo_engine::{Config, EchoError, Outcome};
use serde::Serialize;

/// A program under test and the settings to run it with: engine limits and the tiered run's
/// thresholds.
#[derive(Clone, Debug)]
pub struct Subject {
    /// Source text.
    pub source: String,
    /// Engine limits.
    pub limits: Limits,
    /// Call threshold of the tiered run.
    pub hot_calls: u32,
    /// Loop threshold of the tiered run.
    pub hot_loops: u32,
    /// The argument vectors (`args()`) the program runs on: every tier runs once per vector
    /// (none given: once, without arguments).
    pub inputs: Vec<Vec<String>>,
    /// Compiled tiers this case leaves out (none: every tier runs).
    pub skip_tiers: Vec<Tier>,
}

impl From<&crate::generator::Case> for Subject {
    fn from(c: &crate::generator::Case) -> Self {
        Subject {
            source: c.source.clone(),
            limits: c.limits.clone(),
            hot_calls: c.hot_calls,
            hot_loops: c.hot_loops,
            inputs: c.inputs.clone(),
            skip_tiers: c.skip_tiers.clone(),
        }
    }
}

impl Subject {
    /// A program with its settings read from its comments: `// config:` limits, and the
    /// thresholds of `// tiering:` (corpus files) or `// harness:` (saved cases, `annotated`).
    pub fn from_annotated(source: String) -> Result<Subject, String> {
        let exp = echo_engine::corpus::parse_expectations(&source)?;
        let defaults = Config::default();
        let (mut hot_calls, mut hot_loops) = exp
            .tiering
            .unwrap_or((defaults.hot_calls, defaults.hot_loops));
        for line in source.lines() {
            if let Some(rest) = line.trim().strip_prefix("// harness:") {
                for kv in rest.split(',') {
                    let Some((k, v)) = kv.split_once('=') else {
                        continue;
                    };
                    let v: u32 = v.trim().parse().map_err(|_| format!("bad setting {kv}"))?;
                    match k.trim() {
                        "hot_calls" => hot_calls = v,
                        "hot_loops" => hot_loops = v,
                        other => return Err(format!("unknown harness setting {other}")),
                    }
                }
            }
        }
        Ok(Subject {
            source,
            limits: exp.limits,
            hot_calls,
            hot_loops,
            inputs: vec![exp.args],
            skip_tiers: Vec::new(),
        })
    }

    /// The same program with other source text.
    pub fn with_source(&self, source: &str) -> Subject {
        Subject {
            source: source.to_string(),
            ..self.clone()
        }
    }

    /// The same program run on its input vector `i` only (the one a divergence showed on).
    pub fn with_input(&self, i: usize) -> Subject {
        Subject {
            inputs: self.inputs.get(i).cloned().into_iter().collect(),
            ..self.clone()
        }
    }

    /// The argument vectors to run, at least one.
    pub fn input_vectors(&self) -> Vec<Vec<String>> {
        if self.inputs.is_empty() {
            vec![Vec::new()]
        } else {
            self.inputs.clone()
        }
    }
}

/// What differs between two outcomes, coarsely: the part of a divergence signature that
/// stays the same while a reducer shrinks the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Aspect {
    /// One tier ended with an error, the other did not.
    Outcome,
    /// Both failed, with different kinds.
    ErrorKind,
    /// Same kind, different message.
    ErrorMessage,
    /// Same kind and message, different line.
    ErrorLine,
    /// Same error, different stack trace.
    Trace,
    /// Different final values.
    Value,
    /// Different printed output.
    Output,
    /// Different fuel used.
    Fuel,
    /// A tier panicked or reported an internal engine error.
    Crash,
    /// A tier was still running at its deadline (see `deadline`) while the reference had
    /// finished.
    Hang,
}

/// Identifies a divergence for deduplication and reduction: which tier, what differs, and
/// the error kinds involved (`ok` for none).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Signature {
    /// The tier that differs from the interpreter (or that crashed).
    pub tier: String,
    /// What differs.
    pub aspect: Aspect,
    /// The interpreter's result kind (`ok` or an error kind).
    pub expected: String,
    /// The tier's result kind.
    pub actual: String,
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:?} (interp {}, {} {})",
            self.tier, self.aspect, self.expected, self.tier, self.actual
        )
    }
}

impl Signature {
    /// A short file-name-friendly description.
    pub fn slug(&self) -> String {
        format!(
            "{}-{:?}-{}-{}",
            self.tier, self.aspect, self.expected, self.actual
        )
        .to_lowercase()
    }
}

/// A disagreement between tiers (or a crash), with the evidence.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// What kind of divergence.
    pub signature: Signature,
    /// Human-readable account: both sides of the first difference.
    pub detail: String,
    /// The input vector it showed on (an index into `Subject::inputs`).
    pub input: usize,
}

/// Tier transitions a run actually took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TierEvents {
    /// Functions compiled (counting recompilations).
    pub compilations: u64,
    /// Of those, compilations that reused code compiled from identical IR in an earlier tier.
    pub shared: u64,
    /// Entries into compiled code at a loop header.
    pub osr_entries: u64,
    /// Exits from compiled code to the interpreter after a failed speculation.
    pub side_exits: u64,
}

impl TierEvents {
    /// Adds `other`.
    pub fn add(&mut self, other: &TierEvents) {
        self.compilations += other.compilations;
        self.shared += other.shared;
        self.osr_entries += other.osr_entries;
        self.side_exits += other.side_exits;
    }
}

/// The oracle's decision about one program.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Every tier produced the reference outcome.
    Agree,
    /// The program does not compile.
    Invalid(EchoError),
    /// A run hit the host-stack backstop rather than a language limit: not compared.
    Backstop,
    /// The tiers disagree, or one crashed.
    Diverge(Divergence),
}

/// Everything the oracle learned from one program.
#[derive(Clone, Debug)]
pub struct CaseReport {
    /// The decision.
    pub verdict: Verdict,
    /// The interpreter's outcome (absent when the program did not compile or crashed).
    pub reference: Option<Outcome>,
    /// Tier transitions taken by the compiling tiers.
    pub events: TierEvents,
    /// Opcodes, helpers and builtins reached (when coverage was asked for).
    pub coverage: Coverage,
    /// Time spent in each tier, in the order of `tiers`.
    pub times: Vec<(String, Duration)>,
    /// Of that, time spent compiling (the JIT's compile time, shared code included).
    pub compiling: Vec<(String, Duration)>,
    /// Input vectors on which every tier was run and compared.
    pub runs: u64,
}

impl CaseReport {
    /// A report with a verdict and nothing else.
    pub fn only(verdict: Verdict) -> CaseReport {
        CaseReport {
            verdict,
            reference: None,
            events: TierEvents::default(),
            coverage: Coverage::default(),
            times: Vec::new(),
            compiling: Vec::new(),
            runs: 0,
        }
    }
}

/// How to run the oracle.
#[derive(Clone, Debug)]
pub struct Options {
    /// Record opcode, helper and builtin coverage.
    pub coverage: bool,
    /// Also run every tier with a collection at every safepoint (slow; checks roots).
    pub gc_stress: bool,
    /// Also run the tiered tier generating code on a second thread
    /// (`Config::background_compile`): code is then entered at whichever call or back-edge
    /// finds it ready.
    pub background: bool,
    /// The fixed part of every tier run's deadline (see `deadline`).
    pub deadline_base: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            coverage: false,
            gc_stress: false,
            background: false,
            deadline_base: DEADLINE_BASE,
        }
    }
}

/// The default fixed part of a tier run's deadline: far above the compile time of any
/// generated program, so that only a run that does not end reaches it.
pub const DEADLINE_BASE: Duration = Duration::from_secs(2);

/// How long the reference run may take per unit of fuel the subject allows: ten times the
/// costliest operation per unit measured (`ci/fuel_table.py`: about 90 ns).
const DEADLINE_PER_FUEL: Duration = Duration::from_micros(1);

/// The same when collecting at every safepoint, where each collection walks the whole stack
/// and heap: a 10,000-frame recursion measured 40 us per unit of fuel.
const DEADLINE_PER_FUEL_COLLECTING: Duration = Duration::from_millis(1);

/// How many times the longest earlier run of the same case a compiled tier may take.
const DEADLINE_FACTOR: u32 = 20;

/// How long a tier run of `p` may take before it counts as hung: `base` plus, for the first
/// run of its kind (`longest` is `None`: the reference, or the first run collecting at every
/// safepoint), 1 us per unit of fuel allowed (1 ms when `collecting`; no further bound when
/// fuel is unlimited), and for every later run, 20 times the longest earlier run of its kind.
/// Generous on purpose: the deadline catches runs that do not end, not slow ones.
pub fn deadline(
    p: &Subject,
    base: Duration,
    longest: Option<Duration>,
    collecting: bool,
) -> Option<Duration> {
    let per_fuel = if collecting {
        DEADLINE_PER_FUEL_COLLECTING
    } else {
        DEADLINE_PER_FUEL
    };
    match longest {
        Some(t) => Some(base + t * DEADLINE_FACTOR),
        None => p
            .limits
            .fuel
            .map(|f| base + per_fuel * u32::try_from(f).unwrap_or(u32::MAX)),
    }
}

/// A tier run about to start, as `check_observed` announces it.
#[derive(Clone, Debug)]
pub struct TierStart<'a> {
    /// The tier's name (as in `tiers`).
    pub tier: &'a str,
    /// The input vector it runs on.
    pub input: usize,
    /// When the run counts as hung (`None`: no deadline).
    pub deadline: Option<Duration>,
    /// The reference's result kind, once the reference has run.
    pub expected: Option<String>,
}

/// The signature of a run of `tier` that passed its deadline.
pub fn hang_signature(tier: &str, expected: Option<&str>) -> Signature {
    Signature {
        tier: tier.to_string(),
        aspect: Aspect::Hang,
        expected: expected.unwrap_or("none").to_string(),
        actual: "hang".to_string(),
    }
}

/// The configurations a program runs in: the interpreter (the reference) first, then the
/// compiled tiers the subject does not skip.
pub fn tiers(p: &Subject, opts: &Options) -> Vec<(String, Config)> {
    let base = Config {
        limits: p.limits.clone(),
        coverage: opts.coverage,
        hot_calls: p.hot_calls,
        hot_loops: p.hot_loops,
        // Each tier compiles the same functions; identical IR gives identical code, so the
        // later tiers reuse it instead of compiling again.
        share_code: true,
        ..Config::default()
    };
    let mut out = vec![(
        "interp".to_string(),
        Config {
            tier: Tier::Interp,
            ..base.clone()
        },
    )];
    let runs = |t: &&Tier| !p.skip_tiers.contains(t);
    for &tier in Tier::ALL.iter().filter(runs) {
        if tier != Tier::Interp {
            out.push((
                tier.name().to_string(),
                Config {
                    tier,
                    ..base.clone()
                },
            ));
        }
    }
    #[cfg(feature = "jit")]
    if opts.background && runs(&&Tier::Tiered) {
        out.push(("tiered-bg".to_string(), tiered_bg(&base)));
    }
    if opts.gc_stress {
        // Every tier: compiled code keeps values in machine registers, and a value it fails
        // to store before a safepoint shows only when that safepoint collects.
        for &tier in Tier::ALL.iter().filter(runs) {
            out.push((
                format!("{}-gc", tier.name()),
                Config {
                    tier,
                    gc_stress: true,
                    coverage: false,
                    ..base.clone()
                },
            ));
        }
    }
    out
}

/// `base` as the `tiered-bg` configuration runs it: tiered, generating code on a second thread
/// from the first compilation on.
#[cfg(feature = "jit")]
pub fn tiered_bg(base: &Config) -> Config {
    Config {
        tier: Tier::Tiered,
        background_compile: true,
        background_after: 0,
        ..base.clone()
    }
}

/// Runs a program under `config`, turning a panic into an error value.
fn run_guarded(program: &Program, config: &Config) -> Result<Outcome, String> {
    let run = || echo_engine::run_program(program.clone(), config);
    catch_unwind(AssertUnwindSafe(run)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".to_string())
    })
}

fn result_kind(o: &Outcome) -> String {
    match &o.result {
        Ok(_) => "ok".to_string(),
        Err(e) => e.kind.to_string(),
    }
}

/// The first difference between a reference outcome and another, if any.
pub fn compare(reference: &Outcome, other: &Outcome) -> Option<(Aspect, String)> {
    let show = |o: &Outcome| match &o.result {
        Ok(v) => format!("value {v}"),
        Err(e) => format!("{}: {} [line {}]", e.kind, e.message, e.line),
    };
    match (&reference.result, &other.result) {
        (Ok(_), Err(_)) | (Err(_), Ok(_)) => {
            return Some((
                Aspect::Outcome,
                format!("{} vs {}", show(reference), show(other)),
            ));
        }
        (Err(a), Err(b)) => {
            let aspect = if a.kind != b.kind {
                Some(Aspect::ErrorKind)
            } else if a.message != b.message {
                Some(Aspect::ErrorMessage)
            } else if a.line != b.line {
                Some(Aspect::ErrorLine)
            } else if a.trace != b.trace {
                Some(Aspect::Trace)
            } else {
                None
            };
            if let Some(aspect) = aspect {
                let detail = if aspect == Aspect::Trace {
                    format!("trace {:?} vs {:?}", a.trace, b.trace)
                } else {
                    format!("{} vs {}", show(reference), show(other))
                };
                return Some((aspect, detail));
            }
        }
        (Ok(a), Ok(b)) if a != b => {
            return Some((Aspect::Value, format!("value {a} vs {b}")));
        }
        _ => {}
    }
    if reference.output != other.output {
        let (a, b) = (&reference.output, &other.output);
        let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let line = a[..at].matches('\n').count() + 1;
        let excerpt = |s: &str| s.lines().nth(line - 1).unwrap_or("<end>").to_string();
        return Some((
            Aspect::Output,
            format!("output line {line}: {:?} vs {:?}", excerpt(a), excerpt(b)),
        ));
    }
    if reference.fuel_used != other.fuel_used {
        return Some((
            Aspect::Fuel,
            format!("fuel {} vs {}", reference.fuel_used, other.fuel_used),
        ));
    }
    None
}

/// Runs `p` in every tier and compares.
pub fn check(p: &Subject, opts: &Options) -> CaseReport {
    check_observed(p, opts, &mut |_| {})
}

/// Runs `p` in every tier and compares, announcing each tier run before it starts (so that a
/// watchdog on another thread can tell a run that does not end).
pub fn check_observed(
    p: &Subject,
    opts: &Options,
    on_tier: &mut dyn FnMut(&TierStart<'_>),
) -> CaseReport {
    // Compiled once: every run gets a copy of the same bytecode.
    let program = match echo_engine::compile(&p.source, &p.limits) {
        Ok(program) => program,
        Err(e) => return CaseReport::only(Verdict::Invalid(e)),
    };
    let mut report = CaseReport::only(Verdict::Agree);
    // The longest run so far, of runs without and with a collection at every safepoint.
    let mut longest: [Option<Duration>; 2] = [None, None];
    // The first input vector runs in every configuration. Collecting at every safepoint is
    // slow, and checks what compiled code roots rather than what it computes, so later
    // vectors skip it; and each later vector runs one compiled tier, in turn, besides the
    // reference: its machine code is mostly reused, so the checking per CPU-second doubles.
    let first = tiers(p, opts);
    let later = tiers(
        p,
        &Options {
            gc_stress: false,
            ..opts.clone()
        },
    );
    for (input, args) in p.input_vectors().into_iter().enumerate() {
        let configs = if input == 0 {
            first.clone()
        } else {
            let turn = 1 + (input - 1) % (later.len() - 1).max(1);
            later
                .iter()
                .enumerate()
                .filter(|&(i, _)| i == 0 || i == turn)
                .map(|(_, c)| c.clone())
                .collect()
        };
        let (verdict, reference) = check_input(
            p,
            &program,
            configs,
            opts.deadline_base,
            (input, &args),
            &mut longest,
            &mut report,
            on_tier,
        );
        report.reference = reference;
        if !matches!(verdict, Verdict::Agree) {
            report.verdict = verdict;
            break;
        }
        report.runs += 1;
    }
    // Sites are this program's: join them into cells before cases are merged.
    report.coverage.settle();
    report
}

/// Runs `program` in `configs` (the reference first) on input vector `input` and compares;
/// returns the verdict and the reference outcome, adding times, events and coverage to
/// `report`.
#[allow(clippy::too_many_arguments)]
fn check_input(
    p: &Subject,
    program: &Program,
    configs: Vec<(String, Config)>,
    deadline_base: Duration,
    (input, args): (usize, &[String]),
    longest: &mut [Option<Duration>; 2],
    report: &mut CaseReport,
    on_tier: &mut dyn FnMut(&TierStart<'_>),
) -> (Verdict, Option<Outcome>) {
    let mut reference: Option<Outcome> = None;
    for (name, mut config) in configs {
        config.args = args.to_vec();
        let kind = usize::from(config.gc_stress);
        on_tier(&TierStart {
            tier: &name,
            input,
            deadline: deadline(p, deadline_base, longest[kind], config.gc_stress),
            expected: reference.as_ref().map(result_kind),
        });
        let start = Instant::now();
        let run = run_guarded(program, &config);
        let took = start.elapsed();
        longest[kind] = Some(longest[kind].map_or(took, |l| l.max(took)));
        report.times.push((name.clone(), took));
        let outcome = match run {
            Ok(o) => o,
            Err(panic) => {
                let detail = format!("panic: {panic}");
                return (crash(&name, reference.as_ref(), detail, input), reference);
            }
        };
        if let Some(c) = &outcome.stats.coverage {
            report.coverage.merge(c);
        }
        report.events.add(&events_of(&outcome));
        report
            .compiling
            .push((name.clone(), compile_time_of(&outcome)));
        if let Err(e) = &outcome.result {
            match e.kind {
                ErrorKind::NativeStackOverflow => return (Verdict::Backstop, reference),
                ErrorKind::InternalError => {
                    let detail = e.message.clone();
                    return (crash(&name, reference.as_ref(), detail, input), reference);
                }
                _ => {}
            }
        }
        match &reference {
            None => reference = Some(outcome),
            Some(r) => {
                if let Some((aspect, detail)) = compare(r, &outcome) {
                    let verdict = Verdict::Diverge(Divergence {
                        signature: Signature {
                            tier: name,
                            aspect,
                            expected: result_kind(r),
                            actual: result_kind(&outcome),
                        },
                        detail,
                        input,
                    });
                    return (verdict, reference);
                }
            }
        }
    }
    (Verdict::Agree, reference)
}

fn crash(tier: &str, reference: Option<&Outcome>, detail: String, input: usize) -> Verdict {
    Verdict::Diverge(Divergence {
        signature: crash_signature(tier, reference),
        detail,
        input,
    })
}

/// The signature of a crash (a panic, an internal error, a dead checking thread) of `tier`.
pub fn crash_signature(tier: &str, reference: Option<&Outcome>) -> Signature {
    Signature {
        tier: tier.to_string(),
        aspect: Aspect::Crash,
        expected: reference.map_or("none".to_string(), result_kind),
        actual: "crash".to_string(),
    }
}

/// The tier transitions recorded in a run's statistics.
pub fn events_of(o: &Outcome) -> TierEvents {
    #[cfg_attr(not(feature = "jit"), allow(unused_mut))]
    let mut e = TierEvents::default();
    #[cfg(feature = "jit")]
    for f in &o.stats.functions {
        if let Some(j) = &f.jit {
            e.compilations += u64::from(j.compilations);
            e.shared += u64::from(j.shared);
            e.osr_entries += j.osr_entries;
            e.side_exits += j.side_exits;
        }
    }
    #[cfg(not(feature = "jit"))]
    let _ = o;
    e
}

/// Time the JIT spent compiling during a run.
pub fn compile_time_of(o: &Outcome) -> Duration {
    #[cfg(feature = "jit")]
    return o
        .stats
        .functions
        .iter()
        .filter_map(|f| f.jit.as_ref())
        .map(|j| j.compile_time)
        .sum();
    #[cfg(not(feature = "jit"))]
    {
        let _ = o;
        Duration::ZERO
    }
}

/// The reference (interpreter) outcome of `p` on its first input vector, if it compiles and the run does not panic.
pub fn reference(p: &Subject, opts: &Options) -> Option<Outcome> {
    let (_, mut config) = tiers(p, opts).into_iter().next()?;
    config.args = p.input_vectors().swap_remove(0);
    let program = echo_engine::compile(&p.source, &p.limits).ok()?;
    run_guarded(&program, &config).ok()
}

/// Whether `source` (a candidate during reduction) still shows the divergence `sig`.
pub fn still_diverges(p: &Subject, source: &str, sig: &Signature, opts: &Options) -> bool {
    matches!(check(&p.with_source(source), opts).verdict, Verdict::Diverge(d) if d.signature == *sig)
}
