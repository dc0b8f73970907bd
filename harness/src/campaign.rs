//! Campaigns: many generated cases checked in parallel by a pool of workers, with progress,
//! statistics, self-checks of the oracle at the start, and reduction of what diverged into
//! ready-to-commit regression files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::generator::{self, GENERATOR_VERSION};
use crate::oracle::{self, Signature, Subject};
use crate::reduce::{self, Budget};
use crate::stats::Stats;
use crate::watchdog::{self, Setup, Watched};

/// A campaign stops once it has given up on this many checking threads (each still spins at
/// idle priority until the process ends).
const MAX_ABANDONED: usize = 16;

/// How a campaign runs.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// Base seed: case `i` is generated from seed `seed + i`.
    pub seed: u64,
    /// Stop after this many cases.
    pub cases: Option<u64>,
    /// Stop after this much time.
    pub duration: Option<Duration>,
    /// Worker threads.
    pub jobs: usize,
    /// Keep going after a divergence (reporting each distinct signature once).
    pub keep_going: bool,
    /// Reduce divergences and write them as regression files.
    pub reduce: bool,
    /// Where cases that diverged, reproducers and the JSON summary go.
    pub out_dir: PathBuf,
    /// Where reduced regressions are written (`corpus/regress`).
    pub regress_dir: PathBuf,
    /// Generator settings.
    pub generator: generator::Options,
    /// Oracle settings.
    pub oracle: oracle::Options,
    /// Share of cases (0 to 1) also run in every tier with a collection at every safepoint
    /// (every case when `oracle.gc_stress` is set). Picked by seed, so a rerun stresses the
    /// same cases.
    pub gc_stress_share: f64,
    /// Share of cases (0 to 1) also run in the tiered tier compiling in the background
    /// (`oracle::Options::background`). Picked by seed, apart from the stressed ones.
    pub background_share: f64,
}

impl Campaign {
    /// The oracle settings for the case of `seed`.
    pub fn oracle_for(&self, seed: u64) -> oracle::Options {
        let mut o = self.oracle.clone();
        // A SplitMix64 finalizer spreads consecutive seeds over the share.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        o.gc_stress |= ((z % 10_000) as f64) < self.gc_stress_share * 10_000.0;
        o.background |= ((z / 10_000 % 10_000) as f64) < self.background_share * 10_000.0;
        o
    }
}

/// What a campaign did.
pub struct Outcome {
    /// Counters, with the findings.
    pub stats: Stats,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Runs a campaign. `progress` is called now and then with the counters so far.
pub fn run(c: &Campaign, progress: &(dyn Fn(&Stats, Duration) + Sync)) -> Outcome {
    run_with_setup(c, Arc::new(|| {}), progress)
}

/// Runs a campaign whose checking threads each call `setup` before their first case (to set
/// thread-local engine state, such as the mutant `selftest` activates). Each worker checks
/// its cases on a watched thread (`watchdog`): a tier run past its deadline is a `Hang`.
pub fn run_with_setup(
    c: &Campaign,
    setup: Setup,
    progress: &(dyn Fn(&Stats, Duration) + Sync),
) -> Outcome {
    let start = Instant::now();
    let abandoned_before = watchdog::abandoned();
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let total = Arc::new(Mutex::new(Stats::default()));
    let seen: Mutex<Vec<Signature>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..c.jobs.max(1) {
            s.spawn(|| {
                let mut checker = Watched::new(Arc::clone(&setup));
                let mut local = Stats::default();
                let mut last_flush = Instant::now();
                loop {
                    if stop.load(Ordering::Relaxed)
                        || c.duration.is_some_and(|d| start.elapsed() >= d)
                        || watchdog::abandoned() - abandoned_before >= MAX_ABANDONED
                    {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if c.cases.is_some_and(|n| i >= n) {
                        break;
                    }
                    let seed = c.seed.wrapping_add(i);
                    let t = Instant::now();
                    let case = generator::from_seed(seed, &c.generator);
                    let gen_time = t.elapsed();
                    let report = checker.check(&Subject::from(&case), &c.oracle_for(seed));
                    if let Some(steer) = &c.generator.steering {
                        steer.record(&report.coverage.cells);
                    }
                    let before = local.findings.len();
                    local.record(seed, &case, &report, gen_time);
                    if local.findings.len() > before {
                        // Keep one finding per signature.
                        let sig = local.findings[before].signature.clone();
                        let mut seen = seen.lock().expect("no worker panics holding it");
                        if seen.contains(&sig) {
                            local.findings.pop();
                        } else {
                            seen.push(sig);
                            let input = local.findings[before].input;
                            save_case(&c.out_dir, seed, &Subject::from(&case).with_input(input));
                            if !c.keep_going {
                                stop.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                    if last_flush.elapsed() > Duration::from_millis(250) {
                        let mut t = total.lock().expect("no worker panics holding it");
                        t.merge(&local);
                        local = Stats::default();
                        progress(&t, start.elapsed());
                        last_flush = Instant::now();
                    }
                }
                total
                    .lock()
                    .expect("no worker panics holding it")
                    .merge(&local);
            });
        }
    });
    let mut stats = Arc::try_unwrap(total)
        .map(|m| m.into_inner().expect("workers finished"))
        .unwrap_or_else(|a| a.lock().expect("workers finished").clone());
    let elapsed = start.elapsed();
    stats.findings.sort_by_key(|f| f.seed);
    for f in &mut stats.findings {
        f.files
            .push(case_path(&c.out_dir, f.seed).display().to_string());
    }
    if c.reduce {
        for f in &mut stats.findings {
            // A steered case depends on the hits when it was generated: use it as it was.
            let case = f
                .case
                .clone()
                .unwrap_or_else(|| generator::from_seed(f.seed, &c.generator));
            let note = format!(
                "{} (generator v{GENERATOR_VERSION}, seed {}, hot_calls {}, hot_loops {})",
                f.signature, f.seed, case.hot_calls, case.hot_loops
            );
            if let Some(path) = reduce_to_regression(
                &Subject::from(&case).with_input(f.input),
                &f.signature,
                &c.oracle_for(f.seed),
                &mut Watched::new(Arc::clone(&setup)),
                &c.regress_dir,
                &note,
            ) {
                f.files.push(path.display().to_string());
            }
        }
    }
    Outcome { stats, elapsed }
}

/// Where the full program of a diverging case is saved.
pub fn case_path(out_dir: &Path, seed: u64) -> PathBuf {
    out_dir.join("cases").join(format!("seed-{seed}.echo"))
}

/// The source of a program with its settings in comments (and the seed that generated it,
/// if known), runnable by `echo-harness reduce` and by the corpus runner; of its input
/// vectors, the first.
pub fn annotated(seed: Option<u64>, p: &Subject) -> String {
    let mut out = String::new();
    if let Some(seed) = seed {
        out.push_str(&format!(
            "// generated by echo-harness (generator v{GENERATOR_VERSION}, seed {seed})\n"
        ));
    }
    out.push_str(&format!(
        "// harness: hot_calls={}, hot_loops={}\n",
        p.hot_calls, p.hot_loops
    ));
    if let Some(c) = echo_engine::corpus::config_comment(&p.limits) {
        out.push_str(&c);
        out.push('\n');
    }
    if let Some(a) = echo_engine::corpus::args_comment(&p.input_vectors()[0]) {
        out.push_str(&a);
        out.push('\n');
    }
    out.push_str(&p.source);
    out
}

fn save_case(out_dir: &Path, seed: u64, p: &Subject) {
    let path = case_path(out_dir, seed);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Best effort: the finding keeps the case too.
    let _ = std::fs::write(&path, annotated(Some(seed), p));
}

/// Shrinks `p` while it shows divergence `sig` and writes the result as a regression with
/// the interpreter's outcome as expectation. Returns the file written.
pub fn reduce_to_regression(
    p: &Subject,
    sig: &Signature,
    opts: &oracle::Options,
    checker: &mut Watched,
    regress_dir: &Path,
    note: &str,
) -> Option<PathBuf> {
    let quiet = oracle::Options {
        coverage: false,
        ..opts.clone()
    };
    let budget = Budget {
        max_tests: 5_000,
        max_time: Duration::from_secs(180),
    };
    reduce_divergence(
        p,
        sig,
        &quiet,
        checker,
        budget,
        regress_dir,
        &sig.slug(),
        note,
    )
    .map(|(path, _)| path)
}

/// Shrinks `p` within `budget` while it shows divergence `sig` (checked with `opts` on
/// `checker`'s watched thread, so a candidate that hangs is given up on), and writes the
/// result to `dir` as a regression named `slug`, with `note` and the interpreter's outcome
/// as expectation. Returns the file written and the reduced source.
#[allow(clippy::too_many_arguments)]
pub fn reduce_divergence(
    p: &Subject,
    sig: &Signature,
    opts: &oracle::Options,
    checker: &mut Watched,
    budget: Budget,
    dir: &Path,
    slug: &str,
    note: &str,
) -> Option<(PathBuf, String)> {
    // Every candidate that still hangs costs a whole deadline; a quarter of the usual fixed
    // part is still far above any generated program's run.
    let opts = &oracle::Options {
        deadline_base: if sig.aspect == oracle::Aspect::Hang {
            opts.deadline_base / 4
        } else {
            opts.deadline_base
        },
        ..opts.clone()
    };
    let reduced = reduce::reduce(
        &p.source,
        &mut |s| {
            matches!(checker.check(&p.with_source(s), opts).verdict,
                oracle::Verdict::Diverge(d) if d.signature == *sig)
        },
        budget,
    );
    let small = p.with_source(&reduced.source);
    // The interpreter's run alone: the expectation, and it ends (fuel bounds it).
    let reference = oracle::reference(&small, opts)?;
    let path = reduce::write_regression(
        dir,
        slug,
        &small.source,
        &reference,
        &reduce::RunSettings::from(&small),
        note,
    )
    .ok()?;
    Some((path, small.source))
}

/// The oracle's self-checks, run before a campaign: a program run twice in one tier gives
/// identical outcomes (the comparison has no false alarms from nondeterminism), and an
/// altered outcome is flagged (the comparison can fail).
pub fn self_check(options: &generator::Options) -> Result<(), String> {
    let case = generator::from_seed(0x5e1f_c4ec, options);
    let p = Subject::from(&case);
    for (name, config) in oracle::tiers(&p, &oracle::Options::default()) {
        let a = echo_engine::run(&p.source, &config);
        let b = echo_engine::run(&p.source, &config);
        if let Some((aspect, detail)) = oracle::compare(&a, &b) {
            return Err(format!(
                "negative control failed: two {name} runs differ ({aspect:?}: {detail})"
            ));
        }
    }
    let config = oracle::tiers(&p, &oracle::Options::default())[0].1.clone();
    let reference = echo_engine::run(&p.source, &config);
    let mut altered = reference.clone();
    altered.output.push_str("altered\n");
    let mut more_fuel = reference.clone();
    more_fuel.fuel_used += 1;
    for (what, other) in [("output", altered), ("fuel", more_fuel)] {
        if oracle::compare(&reference, &other).is_none() {
            return Err(format!(
                "positive control failed: an altered {what} was not flagged"
            ));
        }
    }
    Ok(())
}
