//! Fuzz target `gc_stress`: like `diff_tiers`, but every tier runs with a collection forced at
//! every safepoint and must still match the plain interpreter.
#![no_main]

use std::time::Instant;

use echo_fuzz::finding::{self, Failure};
use echo_fuzz::gc;
use echo_harness::oracle::{Program, Verdict};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: echo_fuzz::tally::start(), |data: &[u8]| {
    let start = Instant::now();
    let case = echo_fuzz::generated(data);
    let generate_time = start.elapsed();
    let p = Program::from(&case);
    let report = gc::check(&p);
    echo_fuzz::tally::record("gc_stress", &case, &report, generate_time);
    if let Verdict::Diverge(d) = report.verdict {
        let failure = Failure {
            target: "gc_stress",
            title: d.signature.to_string(),
            slug: d.signature.slug(),
            detail: d.detail,
        };
        let sig = d.signature;
        finding::report(failure, &p, &mut |s| gc::still_diverges(&p, s, &sig));
    }
});
