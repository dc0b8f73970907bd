//! The harness checking itself: for each of the engine's deliberate JIT bugs (`mutants`
//! feature), a campaign with the bug active runs until the first divergence; the divergence is
//! reduced and kept as `corpus/regress/mutants/NAME.echo`, so the plain test suite kills it too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use echo_engine::config::{Config, Tier};
use echo_engine::corpus::{Expectation, parse_expectations};
use echo_engine::jit::mutants::{self, Mutant};
use serde::Serialize;

use crate::campaign::{self, Campaign};
use crate::generator::{self, GENERATOR_VERSION};
use crate::oracle::{self, Signature, Subject, TierStart};
use crate::reduce::Budget;
use crate::watchdog::{Setup, Watch, Watched};

/// How a self-test runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The mutants to try (all of them by default).
    pub mutants: Vec<Mutant>,
    /// Most time spent looking for each mutant.
    pub time_per_mutant: Duration,
    /// Most time spent reducing each finding.
    pub reduce_time: Duration,
    /// Worker threads of each campaign.
    pub jobs: usize,
    /// Base seed of every campaign.
    pub seed: u64,
    /// Where the reproducers go (`NAME.echo` each).
    pub regress_dir: PathBuf,
    /// Where the campaigns keep the cases that diverged.
    pub out_dir: PathBuf,
    /// Generator settings.
    pub generator: generator::Options,
}

/// What the self-test found for one mutant.
#[derive(Clone, Debug, Serialize)]
pub struct MutantResult {
    /// The mutant's name.
    pub mutant: String,
    /// The class of JIT bug it models.
    pub class: String,
    /// Whether a campaign found a divergence.
    pub detected: bool,
    /// Wall-clock time of the campaign: until the first divergence, or the time limit.
    pub seconds: f64,
    /// Cases checked.
    pub cases: u64,
    /// The seed of the case that diverged.
    pub seed: Option<u64>,
    /// The divergence found.
    pub signature: Option<String>,
    /// Lines of the reduced program (without its expectation comments).
    pub reproducer_lines: Option<usize>,
    /// The reproducer written.
    pub file: Option<String>,
    /// Whether the reproducer, replayed, meets its expectations without the mutant and
    /// fails them with it.
    pub kills: bool,
}

/// The results of a whole self-test.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Generator version used.
    pub generator_version: u32,
    /// Base seed.
    pub seed: u64,
    /// Worker threads.
    pub jobs: usize,
    /// Time limit per mutant, in seconds.
    pub seconds_per_mutant: f64,
    /// Mutants detected.
    pub detected: usize,
    /// Mutants tried.
    pub total: usize,
    /// Median time to detect over the detected mutants, in seconds.
    pub median_seconds: Option<f64>,
    /// Longest time to detect, in seconds.
    pub max_seconds: Option<f64>,
    /// Median reproducer size in lines.
    pub median_lines: Option<f64>,
    /// One entry per mutant.
    pub results: Vec<MutantResult>,
}

/// Runs a campaign against each mutant in turn; `each` sees every result as it comes.
pub fn run(opts: &Options, each: &mut dyn FnMut(&MutantResult)) -> Summary {
    let mut results = Vec::new();
    for &m in &opts.mutants {
        let r = check_mutant(m, opts);
        each(&r);
        results.push(r);
    }
    summarize(opts, results)
}

/// Looks for one mutant, and reduces and writes what found it.
pub fn check_mutant(m: Mutant, opts: &Options) -> MutantResult {
    let c = Campaign {
        seed: opts.seed,
        cases: None,
        duration: Some(opts.time_per_mutant),
        jobs: opts.jobs.max(1),
        keep_going: false,
        // Reduced below, on this thread, with the mutant active.
        reduce: false,
        out_dir: opts.out_dir.join(m.name()),
        regress_dir: opts.regress_dir.clone(),
        // Each mutant's campaign steers by its own hits, as a campaign of its own would.
        generator: generator::Options {
            steering: opts
                .generator
                .steering
                .as_ref()
                .map(|_| std::sync::Arc::new(generator::Steering::new())),
            ..opts.generator.clone()
        },
        oracle: oracle::Options::default(),
        gc_stress_share: 0.0,
        // As a campaign on its defaults: a quarter of the cases also compile in the background.
        background_share: 0.25,
    };
    let with_mutant: Setup = Arc::new(move || mutants::set_active(Some(m)));
    let outcome = campaign::run_with_setup(&c, Arc::clone(&with_mutant), &|_, _| {});
    let finding = outcome.stats.findings.first();
    let mut result = MutantResult {
        mutant: m.name().to_string(),
        class: m.class().to_string(),
        detected: finding.is_some(),
        seconds: outcome.elapsed.as_secs_f64(),
        cases: outcome.stats.cases,
        seed: finding.map(|f| f.seed),
        signature: finding.map(|f| f.signature.to_string()),
        reproducer_lines: None,
        file: None,
        kills: false,
    };
    if let Some(f) = finding {
        let case = f
            .case
            .clone()
            .unwrap_or_else(|| generator::from_seed(f.seed, &opts.generator));
        let mut checker = Watched::new(with_mutant);
        let written = reduce_to_file(
            m,
            &Subject::from(&case).with_input(f.input),
            &f.signature,
            f.seed,
            &mut checker,
            opts,
        );
        if let Some((path, lines)) = written {
            result.kills = kills(m, &path).is_ok();
            result.reproducer_lines = Some(lines);
            result.file = Some(path.display().to_string());
        }
    }
    result
}

/// Shrinks `p` while it shows `sig` (checked on `checker`, whose thread has the mutant
/// active) and writes it as
/// `NAME.echo`, replacing an earlier one. Returns the file and the program's size in lines.
fn reduce_to_file(
    m: Mutant,
    p: &Subject,
    sig: &Signature,
    seed: u64,
    checker: &mut Watched,
    opts: &Options,
) -> Option<(PathBuf, usize)> {
    let note = format!(
        "mutant {} ({}): {} Found as {sig} (generator v{GENERATOR_VERSION}, seed {seed}); \
         the file is a valid regression without the mutant.",
        m.name(),
        m.class(),
        m.description()
    );
    // `write_regression` numbers its files; write into a scratch folder and move.
    let scratch = opts.out_dir.join(m.name()).join("reduced");
    let _ = std::fs::remove_dir_all(&scratch);
    let budget = Budget {
        max_tests: 5_000,
        max_time: opts.reduce_time,
    };
    // The expectation is the interpreter's outcome, which no mutant affects.
    let (written, source) = campaign::reduce_divergence(
        p,
        sig,
        &oracle::Options::default(),
        checker,
        budget,
        &scratch,
        m.name(),
        &note,
    )?;
    std::fs::create_dir_all(&opts.regress_dir).ok()?;
    let path = opts.regress_dir.join(format!("{}.echo", m.name()));
    std::fs::copy(&written, &path).ok()?;
    let lines = source.lines().filter(|l| !l.trim().is_empty()).count();
    Some((path, lines))
}

/// Replays a mutant's reproducer in every tier, as the corpus test does: without the mutant
/// every run must meet the file's expectations and equal the interpreter's outcome (stack
/// trace included); with it some run must not, or must not end (the runs with the mutant
/// are watched, with the oracle's deadlines). The error says what went wrong.
pub fn kills(m: Mutant, path: &Path) -> Result<(), String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let exp = parse_expectations(&source).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(p) = replay(&source, &exp, &mut |_| {}) {
        return Err(format!("fails without the mutant: {p}"));
    }
    let mut checker = Watched::new(Arc::new(move || mutants::set_active(Some(m))));
    match checker.run(move |announce| replay(&source, &exp, announce)) {
        Watch::Done(None) => Err(format!("{} survives its reproducer", m.name())),
        Watch::Done(Some(_)) | Watch::Hung { .. } | Watch::Died => Ok(()),
    }
}

/// The first problem of any tier's run of a corpus file, if there is one; each run is
/// announced with its deadline first.
fn replay(
    source: &str,
    exp: &Expectation,
    announce: &mut dyn FnMut(&TierStart<'_>),
) -> Option<String> {
    let subject = Subject {
        source: source.to_string(),
        limits: exp.limits.clone(),
        hot_calls: 0,
        hot_loops: 0,
        inputs: Vec::new(),
        skip_tiers: Vec::new(),
    };
    let mut reference = None;
    let mut longest: Option<Duration> = None;
    // Every tier, then the tiered one compiling in the background (from its first
    // compilation), as a campaign's `tiered-bg` runs it.
    let mut runs: Vec<(String, Config)> = Tier::ALL
        .iter()
        .map(|&t| (t.name().to_string(), exp.config(t)))
        .collect();
    runs.push((
        "tiered-bg".to_string(),
        oracle::tiered_bg(&exp.config(Tier::Tiered)),
    ));
    for (t, config) in &runs {
        announce(&TierStart {
            tier: t,
            input: 0,
            deadline: oracle::deadline(&subject, oracle::DEADLINE_BASE, longest, false),
            expected: None,
        });
        // A mutant may crash the engine: that kills it too.
        let start = Instant::now();
        let run = || echo_engine::run(source, config);
        let Ok(o) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) else {
            return Some(format!("{t}: the engine panicked"));
        };
        longest = longest.max(Some(start.elapsed()));
        let differs = reference.as_ref().and_then(|r| oracle::compare(r, &o));
        if let Err(e) = exp.check(&o) {
            return Some(format!("{t}: {e}"));
        } else if let Some((aspect, detail)) = differs {
            return Some(format!("{t} differs from interp: {aspect:?}: {detail}"));
        }
        reference.get_or_insert(o);
    }
    None
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

fn summarize(opts: &Options, results: Vec<MutantResult>) -> Summary {
    let found: Vec<&MutantResult> = results.iter().filter(|r| r.detected).collect();
    let times: Vec<f64> = found.iter().map(|r| r.seconds).collect();
    let lines: Vec<f64> = found
        .iter()
        .filter_map(|r| r.reproducer_lines.map(|l| l as f64))
        .collect();
    Summary {
        generator_version: GENERATOR_VERSION,
        seed: opts.seed,
        jobs: opts.jobs,
        seconds_per_mutant: opts.time_per_mutant.as_secs_f64(),
        detected: found.len(),
        total: results.len(),
        median_seconds: median(times.clone()),
        max_seconds: times.iter().copied().reduce(f64::max),
        median_lines: median(lines),
        results,
    }
}

/// The header of the result table.
pub fn table_header() -> String {
    format!(
        "{:<28} {:<40} {:>8} {:>8} {:>6} {:>6}  {}",
        "mutant", "class", "detected", "seconds", "cases", "lines", "divergence"
    )
}

/// One row of the result table.
pub fn table_row(r: &MutantResult) -> String {
    format!(
        "{:<28} {:<40} {:>8} {:>8.1} {:>6} {:>6}  {}",
        r.mutant,
        r.class,
        if !r.detected {
            "NO"
        } else if r.kills {
            "yes"
        } else {
            "yes (!)"
        },
        r.seconds,
        r.cases,
        r.reproducer_lines
            .map_or("-".to_string(), |l| l.to_string()),
        r.signature.as_deref().unwrap_or("-")
    )
}

/// The closing lines: how many were detected, median and maximum time to detect, median
/// reproducer size.
pub fn summary_lines(s: &Summary) -> String {
    let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.1}"));
    let survivors: Vec<&str> = s
        .results
        .iter()
        .filter(|r| !r.detected)
        .map(|r| r.mutant.as_str())
        .collect();
    let mut out = format!(
        "detected {}/{} mutants (generator v{}, seed {}, {} jobs); time to detect: median {} s, \
         max {} s; reproducer lines: median {}\n",
        s.detected,
        s.total,
        s.generator_version,
        s.seed,
        s.jobs,
        f(s.median_seconds),
        f(s.max_seconds),
        f(s.median_lines)
    );
    if !survivors.is_empty() {
        out.push_str(&format!("survivors: {}\n", survivors.join(", ")));
    }
    out
}
