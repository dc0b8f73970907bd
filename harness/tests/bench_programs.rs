//! Runs every benchmark program under `corpus/bench/` in every tier this build has (interpreter,
//! JIT, tiered) and checks each run against the file's `// expect:` lines; all tiers must also
//! agree on the whole outcome (output, final value or error, fuel).
//!
//! `cargo test` builds the engine without optimisation, 10-30 times slower than release, so the
//! programs run at a reduced size: in a file with a line of the form
//! `let ITERATIONS = 20; // bench: iterations`, the number on that line is replaced by 1. A
//! benchmark's output never depends on that number (every run checks its own result), so the
//! same `// expect:` lines hold at both sizes. Files without the marker run as written.
//! `ECHO_BENCH_FULL=1` runs every program at its full size (best with `--release`);
//! `ECHO_BENCH_TRACE=1` prints each run with its time.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use echo_engine::config::Tier;
use echo_engine::corpus::{files, parse_expectations};
use echo_engine::run;

/// The comment that marks the line holding a benchmark's repetition count.
const MARKER: &str = "// bench: iterations";

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/bench")
}

/// `src` with the number on its marked line replaced by 1; unchanged when there is no marker.
fn reduced(src: &str) -> Result<String, String> {
    let marked: Vec<&str> = src.lines().filter(|l| l.contains(MARKER)).collect();
    match marked.as_slice() {
        [] => Ok(src.to_string()),
        [line] => {
            // The line must read `let NAME = DIGITS; // bench: iterations`.
            let (code, _) = line.split_once(MARKER).unwrap_or((line, ""));
            let (head, number) = code
                .trim_end()
                .strip_suffix(';')
                .and_then(|c| c.rsplit_once('='))
                .ok_or(format!("the marked line is not `let NAME = N;`: {line}"))?;
            let number = number.trim();
            if !head.trim_start().starts_with("let ")
                || number.is_empty()
                || !number.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(format!("the marked line is not `let NAME = N;`: {line}"));
            }
            let replacement = format!("{head}= 1; {MARKER}");
            Ok(src.replacen(line, &replacement, 1))
        }
        _ => Err(format!("{} lines carry `{MARKER}`", marked.len())),
    }
}

/// Runs one program in every tier; answers the problems found.
fn check_program(path: &Path, full_size: bool, trace: bool) -> Vec<String> {
    let name = path.display();
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => return vec![format!("{name}: unreadable: {e}")],
    };
    let exp = match parse_expectations(&src) {
        Ok(e) => e,
        Err(e) => return vec![format!("{name}: bad expectations: {e}")],
    };
    if exp.output.is_empty() {
        return vec![format!("{name}: no `// expect:` lines")];
    }
    let src = if full_size {
        src
    } else {
        match reduced(&src) {
            Ok(s) => s,
            Err(e) => return vec![format!("{name}: {e}")],
        }
    };
    let mut problems = Vec::new();
    let mut reference = None;
    for &tier in Tier::ALL {
        let started = std::time::Instant::now();
        // A panic is reported as a failure of this program and tier.
        let outcome = match std::panic::catch_unwind(|| run(&src, &exp.config(tier))) {
            Ok(o) => o,
            Err(_) => {
                problems.push(format!("{name} [{tier}]: the engine panicked"));
                continue;
            }
        };
        if trace {
            eprintln!(
                "{:>9.1} ms  {name} [{tier}]",
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        if let Err(diff) = exp.check(&outcome) {
            problems.push(format!("{name} [{tier}]:\n{diff}"));
        }
        match &reference {
            None => reference = Some((tier, outcome)),
            Some((first, r)) if *r != outcome => problems.push(format!(
                "{name} [{tier}] differs from [{first}]:\n  {:?}\n  {:?}",
                (&outcome.output, &outcome.result, outcome.fuel_used),
                (&r.output, &r.result, r.fuel_used)
            )),
            Some(_) => {}
        }
    }
    problems
}

#[test]
fn reduced_marks_one_line_only() {
    let src = "let X = 2;\nlet ITERATIONS = 250; // bench: iterations\nprint(ITERATIONS);\n";
    assert_eq!(
        reduced(src).unwrap(),
        "let X = 2;\nlet ITERATIONS = 1; // bench: iterations\nprint(ITERATIONS);\n"
    );
    assert_eq!(reduced("print(1);").unwrap(), "print(1);");
    assert!(reduced("let N = f(2); // bench: iterations").is_err());
    assert!(reduced("let A = 1; // bench: iterations\nlet B = 2; // bench: iterations").is_err());
}

#[test]
fn every_benchmark_meets_its_expectations_in_every_tier() {
    let full_size = std::env::var_os("ECHO_BENCH_FULL").is_some();
    let trace = std::env::var_os("ECHO_BENCH_TRACE").is_some();
    let programs = files(&bench_dir());
    assert!(
        programs.len() >= 20,
        "only {} benchmark programs",
        programs.len()
    );
    // Programs run on as many threads as there are cores; each takes the next one left.
    let queue = Mutex::new(programs.iter());
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some(path) = next else { break };
                    let problems = check_program(path, full_size, trace);
                    failures.lock().unwrap().extend(problems);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures over {} benchmark programs:\n\n{}",
        failures.len(),
        programs.len(),
        failures.join("\n\n")
    );
}
