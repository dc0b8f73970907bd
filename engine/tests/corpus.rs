//! Runs every program under `corpus/` (except benchmarks) in every tier this build has and
//! checks it against the expectations written in its comments; also runs each one with the
//! collector forced at every safepoint, which must not change anything observable.

use std::path::{Path, PathBuf};

use echo_engine::config::Tier;
use echo_engine::corpus::{files, parse_expectations};
use echo_engine::{Config, run};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

fn corpus_files() -> Vec<PathBuf> {
    files(&corpus_dir())
        .into_iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == "bench"))
        .collect()
}

#[test]
fn corpus_has_enough_programs() {
    let n = corpus_files().len();
    assert!(n >= 150, "the corpus has only {n} programs");
}

#[test]
fn every_corpus_program_meets_its_expectations_in_every_tier() {
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
        let mut configs: Vec<(String, Config)> = Tier::ALL
            .iter()
            .map(|&t| (t.to_string(), exp.config(t)))
            .collect();
        // Collecting at every safepoint checks the roots; limit tests are skipped because
        // stressing a program that fills the heap on purpose takes quadratic time.
        if !path.components().any(|c| c.as_os_str() == "limits") {
            configs.push((
                "interp, gc stress".into(),
                Config {
                    gc_stress: true,
                    ..exp.config(Tier::Interp)
                },
            ));
        }
        for (name, config) in configs {
            // A panic is a failure of this file, reported with the others.
            match std::panic::catch_unwind(|| run(&src, &config)) {
                Ok(outcome) => {
                    if let Err(diff) = exp.check(&outcome) {
                        failures.push(format!("{} [{name}]:\n{diff}", path.display()));
                    }
                }
                Err(_) => {
                    failures.push(format!("{} [{name}]: the engine panicked", path.display()))
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus programs failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
