//! Fuzz target `diff_tiers`: bytes drive the harness's generator to a valid program, which
//! runs in every tier; a divergence is reduced and reported (see fuzz/README.md).
#![no_main]

use std::time::Instant;

use echo_fuzz::finding::{self, Failure};
use echo_harness::oracle::{self, Program, Verdict};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: echo_fuzz::tally::start(), |data: &[u8]| {
    let start = Instant::now();
    let case = echo_fuzz::generated(data);
    let generate_time = start.elapsed();
    let p = Program::from(&case);
    let opts = echo_fuzz::oracle_options();
    let report = oracle::check(&p, &opts);
    echo_fuzz::tally::record("diff_tiers", &case, &report, generate_time);
    if let Verdict::Diverge(d) = report.verdict {
        let failure = Failure {
            target: "diff_tiers",
            title: d.signature.to_string(),
            slug: d.signature.slug(),
            detail: d.detail,
        };
        let sig = d.signature;
        finding::report(failure, &p, &mut |s| {
            oracle::still_diverges(&p, s, &sig, &opts)
        });
    }
});
