//! The oracle: runs one program in every tier and decides whether they agree. The outcome of
//! a run is everything observable (printed output, final value or error kind, message, line
//! and trace, fuel used); the interpreter's is the reference and every other tier must match it
//! exactly. Panics and engine faults are findings too; the native-stack backstop is set aside.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

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
}

impl From<&crate::generator::Case> for Subject {
    fn from(c: &crate::generator::Case) -> Self {
        Subject {
            source: c.source.clone(),
            limits: c.limits.clone(),
            hot_calls: c.hot_calls,
            hot_loops: c.hot_loops,
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
}

/// How to run the oracle.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Record opcode, helper and builtin coverage.
    pub coverage: bool,
    /// Also run every tier with a collection at every safepoint (slow; checks roots).
    pub gc_stress: bool,
}

/// The configurations a program runs in: the interpreter (the reference) first.
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
    for &tier in Tier::ALL {
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
    if opts.gc_stress {
        // Every tier: compiled code keeps values in machine registers, and a value it fails
        // to store before a safepoint shows only when that safepoint collects.
        for &tier in Tier::ALL {
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

/// Runs a program under `config`, turning a panic into an error value.
fn run_guarded(source: &str, config: &Config) -> Result<Outcome, String> {
    catch_unwind(AssertUnwindSafe(|| echo_engine::run(source, config))).map_err(|p| {
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
    if let Err(e) = echo_engine::compile(&p.source, &p.limits) {
        return CaseReport {
            verdict: Verdict::Invalid(e),
            reference: None,
            events: TierEvents::default(),
            coverage: Coverage::default(),
            times: Vec::new(),
            compiling: Vec::new(),
        };
    }
    let mut report = CaseReport {
        verdict: Verdict::Agree,
        reference: None,
        events: TierEvents::default(),
        coverage: Coverage::default(),
        times: Vec::new(),
        compiling: Vec::new(),
    };
    let mut reference: Option<Outcome> = None;
    for (name, config) in tiers(p, opts) {
        let start = Instant::now();
        let run = run_guarded(&p.source, &config);
        report.times.push((name.clone(), start.elapsed()));
        let outcome = match run {
            Ok(o) => o,
            Err(panic) => {
                report.verdict = crash(&name, reference.as_ref(), format!("panic: {panic}"));
                break;
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
                ErrorKind::NativeStackOverflow => {
                    report.verdict = Verdict::Backstop;
                    break;
                }
                ErrorKind::InternalError => {
                    report.verdict = crash(&name, reference.as_ref(), e.message.clone());
                    break;
                }
                _ => {}
            }
        }
        match &reference {
            None => reference = Some(outcome),
            Some(r) => {
                if let Some((aspect, detail)) = compare(r, &outcome) {
                    report.verdict = Verdict::Diverge(Divergence {
                        signature: Signature {
                            tier: name,
                            aspect,
                            expected: result_kind(r),
                            actual: result_kind(&outcome),
                        },
                        detail,
                    });
                    break;
                }
            }
        }
    }
    // Sites are this program's: join them into cells before cases are merged.
    report.coverage.settle();
    report.reference = reference;
    report
}

fn crash(tier: &str, reference: Option<&Outcome>, detail: String) -> Verdict {
    Verdict::Diverge(Divergence {
        signature: Signature {
            tier: tier.to_string(),
            aspect: Aspect::Crash,
            expected: reference.map_or("none".to_string(), result_kind),
            actual: "crash".to_string(),
        },
        detail,
    })
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

/// Whether `source` (a candidate during reduction) still shows the divergence `sig`.
pub fn still_diverges(p: &Subject, source: &str, sig: &Signature, opts: &Options) -> bool {
    let candidate = Subject {
        source: source.to_string(),
        ..p.clone()
    };
    matches!(check(&candidate, opts).verdict, Verdict::Diverge(d) if d.signature == *sig)
}
