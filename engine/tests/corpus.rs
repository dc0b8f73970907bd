//! Runs every program under `corpus/` (except benchmarks) in every tier this build has:
//! the interpreter, the JIT (everything compiled before its first call) and tiered execution
//! with call and loop thresholds of 1 and 2 (so programs cross tiers mid-run: OSR entries and
//! side exits) and with the defaults. Each run must meet the expectations written in the file,
//! and all runs must have identical outcomes (output, value or error with its trace, fuel).
//! Programs also run with the collector forced at every safepoint, which must change nothing.
//!
//! `ECHO_CORPUS_TRACE=1` prints each run with its time.

use std::path::{Path, PathBuf};

use echo_engine::config::Tier;
use echo_engine::corpus::{files, parse_expectations};
use echo_engine::{Config, Outcome, run};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

fn corpus_files() -> Vec<PathBuf> {
    files(&corpus_dir())
        .into_iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == "bench"))
        .collect()
}

/// The configurations every corpus program runs in, named.
fn configurations(base: &Config, is_limit_test: bool) -> Vec<(String, Config)> {
    let mut out = Vec::new();
    for &tier in Tier::ALL {
        out.push((
            tier.to_string(),
            Config {
                tier,
                ..base.clone()
            },
        ));
        if tier.name() == "tiered" {
            // Tiered with tiny thresholds: functions compile after their first calls and
            // loops enter compiled code after one or two iterations.
            for t in [1, 2] {
                out.push((
                    format!("{tier} {t}/{t}"),
                    Config {
                        tier,
                        hot_calls: t,
                        hot_loops: t,
                        ..base.clone()
                    },
                ));
            }
            // Compiling in the background: the interpreter goes on while code is generated,
            // and code is entered at whichever call or back-edge finds it ready.
            for t in [1, 10] {
                out.push((
                    format!("{tier} {t}/{t}, background compile"),
                    Config {
                        tier,
                        hot_calls: t,
                        hot_loops: t,
                        background_compile: true,
                        background_after: 0,
                        ..base.clone()
                    },
                ));
            }
        }
    }
    // Collecting at every safepoint checks the roots; limit tests are skipped because
    // stressing a program that fills the heap on purpose takes quadratic time.
    if !is_limit_test {
        for &tier in Tier::ALL {
            out.push((
                format!("{tier}, gc stress"),
                Config {
                    tier,
                    gc_stress: true,
                    ..base.clone()
                },
            ));
        }
    }
    out
}

#[test]
fn corpus_has_enough_programs() {
    let n = corpus_files().len();
    assert!(n >= 150, "the corpus has only {n} programs");
}

#[test]
fn every_corpus_program_meets_its_expectations_identically_in_every_tier() {
    let trace = std::env::var_os("ECHO_CORPUS_TRACE").is_some();
    let mut failures = Vec::new();
    let files = corpus_files();
    for path in &files {
        let src = std::fs::read_to_string(path).expect("corpus files are UTF-8");
        let exp = match parse_expectations(&src) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{}: bad expectations: {e}", path.display()));
                continue;
            }
        };
        // Programs that end by filling the heap (in `limits/` or, from elsewhere, ending in
        // a memory limit) skip GC stress.
        let fills_heap = exp
            .error
            .as_ref()
            .is_some_and(|e| e.kind == echo_engine::error::ErrorKind::MemoryLimit);
        let is_limit_test = fills_heap || path.components().any(|c| c.as_os_str() == "limits");
        let mut reference: Option<(String, Outcome)> = None;
        for (name, config) in configurations(&exp.config(Tier::Interp), is_limit_test) {
            let started = std::time::Instant::now();
            // A panic is a failure of this file, reported with the others.
            let outcome = match std::panic::catch_unwind(|| run(&src, &config)) {
                Ok(o) => o,
                Err(_) => {
                    failures.push(format!("{} [{name}]: the engine panicked", path.display()));
                    continue;
                }
            };
            if trace {
                eprintln!(
                    "{:>9.1} ms  {} [{name}]",
                    started.elapsed().as_secs_f64() * 1e3,
                    path.display()
                );
            }
            if let Err(diff) = exp.check(&outcome) {
                failures.push(format!("{} [{name}]:\n{diff}", path.display()));
            }
            match &reference {
                None => reference = Some((name, outcome)),
                Some((ref_name, r)) if *r != outcome => failures.push(format!(
                    "{} [{name}] differs from [{ref_name}]:\n  {:?}\n  {:?}",
                    path.display(),
                    (&outcome.output, &outcome.result, outcome.fuel_used),
                    (&r.output, &r.result, r.fuel_used)
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures over {} corpus programs:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
