//! What a fuzz target does on a finding: saves the whole program, shrinks it with the
//! harness's reducer while the same failure persists, writes it as a corpus regression file,
//! and panics with both in the message (libFuzzer then saves the input as a crash artifact).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::time::Duration;

use echo_harness::campaign;
use echo_harness::oracle::{self, Subject};
use echo_harness::reduce::{self, Budget};

/// A failure of a fuzz target, before reduction.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The fuzz target that found it.
    pub target: &'static str,
    /// One line naming the failure (for a divergence: its signature).
    pub title: String,
    /// A file-name-friendly name for the regression file.
    pub slug: String,
    /// Evidence: both sides of the first difference, or the error.
    pub detail: String,
}

/// Where reproducers go: `$ECHO_FUZZ_OUT`, or `fuzz/artifacts/reproducers`.
pub fn out_dir() -> PathBuf {
    std::env::var_os("ECHO_FUZZ_OUT").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/artifacts/reproducers"
            ))
        },
        PathBuf::from,
    )
}

/// How long the reducer may run: `$ECHO_FUZZ_REDUCE_SECONDS` (default 60; 0 turns reduction
/// off, for `cargo fuzz tmin`, which re-runs a crashing input many times).
fn reduce_budget() -> Option<Budget> {
    let seconds = std::env::var("ECHO_FUZZ_REDUCE_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(60);
    (seconds > 0).then(|| Budget {
        max_tests: 2_000,
        max_time: Duration::from_secs(seconds),
    })
}

/// Saves, reduces and reports `failure` of program `p`, then panics. `still_fails` says
/// whether a candidate source (a reduction of `p.source`) shows the same failure.
pub fn report(failure: Failure, p: &Subject, still_fails: &mut dyn FnMut(&str) -> bool) -> ! {
    let dir = out_dir();
    let mut hasher = DefaultHasher::new();
    p.source.hash(&mut hasher);
    let case = dir
        .join("cases")
        .join(format!("{}-{:016x}.echo", failure.target, hasher.finish()));
    let saved = std::fs::create_dir_all(case.parent().expect("a file in a folder"))
        .and_then(|_| std::fs::write(&case, campaign::annotated(None, p)));
    let case_line = match saved {
        Ok(()) => format!("whole program: {}", case.display()),
        Err(e) => format!(
            "whole program (not saved: {e}):\n{}",
            indent(&campaign::annotated(None, p))
        ),
    };
    let reduced = reduce_budget().map(|budget| {
        let r = reduce::reduce(&p.source, still_fails, budget);
        let small = p.with_source(&r.source);
        let interp = oracle::tiers(&small, &oracle::Options::default())
            .into_iter()
            .next()
            .expect("the interpreter is always a tier")
            .1;
        let expected = echo_engine::run(
            &small.source,
            &echo_engine::Config {
                args: small.input_vectors().swap_remove(0),
                ..interp
            },
        );
        let note = format!(
            "{} (found by fuzz target {})",
            failure.title, failure.target
        );
        let written = reduce::write_regression(
            &dir,
            &failure.slug,
            &small.source,
            &expected,
            &reduce::RunSettings::from(&small),
            &note,
        );
        (small.source, written)
    });
    let reduced_lines = match reduced {
        None => "not reduced (ECHO_FUZZ_REDUCE_SECONDS=0)".to_string(),
        Some((source, Ok(path))) => format!("reduced ({}):\n{}", path.display(), indent(&source)),
        Some((source, Err(e))) => format!(
            "reduced (regression file not written: {e}):\n{}",
            indent(&source)
        ),
    };
    panic!(
        "{}: {}\n  {}\n{case_line}\n{reduced_lines}",
        failure.target, failure.title, failure.detail
    );
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}\n"))
        .collect::<String>()
}
