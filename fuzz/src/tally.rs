//! Running statistics of a fuzz target, kept in a static and printed to stderr every
//! `ECHO_FUZZ_STATS_EVERY` cases (1000) or every minute: a fuzzer that only produces invalid
//! programs, or never crosses tiers, finds nothing and must be noticed.

use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use echo_harness::generator::Case;
use echo_harness::oracle::CaseReport;
use echo_harness::stats::Stats;

/// Counters of this process.
struct Tally {
    start: Instant,
    /// When the statistics were last printed.
    printed: Instant,
    every: u64,
    /// Cases seen (by `record` or `tick`).
    cases: u64,
    stats: Stats,
    /// Target-specific counters (name, value), printed after the harness's.
    extra: Vec<(&'static str, u64)>,
}

static TALLY: Mutex<Option<Tally>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Tally) -> R) -> R {
    // A panic while the lock is held aborts the process under libFuzzer, so poisoning is
    // only seen outside it; the counters are still usable then.
    let mut guard = TALLY.lock().unwrap_or_else(|p| p.into_inner());
    let t = guard.get_or_insert_with(|| Tally {
        start: Instant::now(),
        printed: Instant::now(),
        every: std::env::var("ECHO_FUZZ_STATS_EVERY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
        cases: 0,
        stats: Stats::default(),
        extra: Vec::new(),
    });
    f(t)
}

/// Starts the clock (from the fuzz target's `init`, so that the first rate printed is right).
pub fn start() {
    with(|_| ());
}

/// Counts one case checked by the oracle; prints the statistics when it is the N-th.
pub fn record(target: &str, case: &Case, report: &CaseReport, generate_time: Duration) {
    with(|t| {
        t.stats.record(0, case, report, generate_time);
        // Findings panic right after this; their details are in the panic message.
        t.stats.findings.clear();
        t.cases += 1;
        t.print_if_due(target);
    });
}

/// Counts one case of a target that does not use the oracle (only its own counters, from
/// [`add`], are printed).
pub fn tick(target: &str) {
    with(|t| {
        t.cases += 1;
        t.print_if_due(target);
    });
}

/// Adds `n` to a target-specific counter.
pub fn add(name: &'static str, n: u64) {
    with(|t| match t.extra.iter_mut().find(|(k, _)| *k == name) {
        Some((_, v)) => *v += n,
        None => t.extra.push((name, n)),
    });
}

/// Longest time between two printings of the statistics (slow targets run far fewer than
/// `ECHO_FUZZ_STATS_EVERY` cases a minute).
const PRINT_INTERVAL: Duration = Duration::from_secs(60);

impl Tally {
    fn print_if_due(&mut self, target: &str) {
        if self.every == 0 {
            return;
        }
        if self.cases.is_multiple_of(self.every) || self.printed.elapsed() >= PRINT_INTERVAL {
            eprint!("{}", render(target, self));
            self.printed = Instant::now();
        }
    }
}

fn render(target: &str, t: &Tally) -> String {
    let s = &t.stats;
    let secs = t.start.elapsed().as_secs_f64().max(1e-9);
    let mut out = String::new();
    if s.cases == 0 {
        let extra: Vec<String> = t.extra.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(
            out,
            "[{target}] {} cases in {secs:.0}s ({:.1}/s): {}",
            t.cases,
            t.cases as f64 / secs,
            extra.join(", ")
        );
        return out;
    }
    let _ = writeln!(
        out,
        "[{target}] {} cases in {secs:.0}s ({:.1}/s): valid {:.1}%, agreed {}, set aside (backstop) {}",
        s.cases,
        s.cases as f64 / secs,
        s.valid_percent(),
        s.agreed,
        s.backstops
    );
    let hist: Vec<String> = s.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(out, "[{target}]   outcomes: {}", hist.join(", "));
    if !s.intents.is_empty() {
        let intents: Vec<String> = s.intents.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "[{target}]   errors injected: {}", intents.join(", "));
    }
    let _ = writeln!(out, "[{target}]   tier events {}", s.transitions_line());
    let _ = writeln!(out, "[{target}]   time: {}", s.cpu_time_line());
    if !t.extra.is_empty() {
        let extra: Vec<String> = t.extra.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "[{target}]   {}", extra.join(", "));
    }
    out
}
