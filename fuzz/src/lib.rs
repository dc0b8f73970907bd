//! Glue shared by Echo's fuzz targets: how an input becomes a program, the garbage-collector
//! stress oracle, the CLIF round trip, running statistics, and how a finding becomes a
//! reduced reproducer. The generator, oracle and reducer themselves live in `echo-harness`.
#![forbid(unsafe_code)]

pub mod clif;
pub mod finding;
pub mod tally;

use std::sync::LazyLock;

use arbitrary::Unstructured;
use echo_engine::Limits;
use echo_harness::generator::{self, Case};
use echo_harness::oracle::{self, Subject};

/// Inputs longer than this are ignored by the `source` target: longer programs only slow the
/// fuzzer down without reaching anything new.
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;

/// Tiering thresholds of the `source` target's tiered run: low, so that even short loops and
/// a few calls cross tiers (OSR entries and side exits).
pub const SOURCE_HOT_CALLS: u32 = 2;
/// See [`SOURCE_HOT_CALLS`].
pub const SOURCE_HOT_LOOPS: u32 = 16;

/// Whether to print every generated program to stderr (`ECHO_FUZZ_PRINT=1`): how to see
/// the program behind an input or a crash artifact.
static PRINT: LazyLock<bool> = LazyLock::new(|| std::env::var_os("ECHO_FUZZ_PRINT").is_some());

/// The generated case for fuzzer bytes (any bytes give a valid program).
pub fn generated(data: &[u8]) -> Case {
    let case = generator::generate(&mut Unstructured::new(data), &generator::Options::default());
    if *PRINT {
        eprintln!(
            "// {} input bytes\n{}",
            data.len(),
            echo_harness::campaign::annotated(None, &oracle::Subject::from(&case))
        );
    }
    case
}

/// The oracle's settings in the fuzz targets: no coverage bookkeeping (libFuzzer measures
/// coverage itself) and no extra collector run (the `gc_stress` target does that).
pub fn oracle_options() -> oracle::Options {
    oracle::Options {
        coverage: false,
        gc_stress: false,
        // libFuzzer's own -timeout kills a process whose input does not end.
        ..oracle::Options::default()
    }
}

/// The body of the generator-driven oracle targets (`diff_tiers`, `gc_stress`): generate,
/// check with `opts`, count, and report a divergence with its reduced program.
pub fn check_generated(target: &'static str, data: &[u8], opts: &oracle::Options) {
    let start = std::time::Instant::now();
    let case = generated(data);
    let generate_time = start.elapsed();
    let p = oracle::Subject::from(&case);
    let report = oracle::check(&p, opts);
    tally::record(target, &case, &report, generate_time);
    if let oracle::Verdict::Diverge(d) = report.verdict {
        let failure = finding::Failure {
            target,
            title: d.signature.to_string(),
            slug: d.signature.slug(),
            detail: d.detail,
        };
        let sig = d.signature;
        // Reduced on the input vector it showed on.
        let p = p.with_input(d.input);
        finding::report(failure, &p, &mut |s| {
            oracle::still_diverges(&p, s, &sig, opts)
        });
    }
}

/// Limits for arbitrary source text: small enough that no input runs for long or takes much
/// memory in any tier (every loop and call costs fuel; every operation that is not constant
/// time is bounded by a string or collection size).
pub fn source_limits() -> Limits {
    Limits {
        fuel: Some(50_000),
        max_call_depth: 200,
        max_stack_slots: 1 << 16,
        max_heap_bytes: 8 << 20,
        max_string_bytes: 1 << 12,
        max_collection_len: 1 << 10,
        max_output_bytes: 1 << 14,
        ..Limits::default()
    }
}

/// The program the `source` target runs for `text`.
pub fn source_subject(text: &str) -> Subject {
    Subject {
        source: text.to_string(),
        limits: source_limits(),
        hot_calls: SOURCE_HOT_CALLS,
        hot_loops: SOURCE_HOT_LOOPS,
        inputs: Vec::new(),
        skip_tiers: Vec::new(),
    }
}

/// A `Case` for a program that was not generated, so that it can be counted like one.
pub fn case_of(p: &Subject) -> Case {
    Case {
        source: p.source.clone(),
        limits: p.limits.clone(),
        hot_calls: p.hot_calls,
        hot_loops: p.hot_loops,
        features: generator::Features::default(),
        intent: None,
        inputs: p.inputs.clone(),
        skip_tiers: p.skip_tiers.clone(),
    }
}
