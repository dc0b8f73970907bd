//! Fuzz target `source`: raw bytes as Echo source text. Nothing may panic or hang; a program
//! that compiles runs in every tier under small limits and the tiers must agree.
#![no_main]

use std::time::Duration;

use echo_engine::{Config, Tier};
use echo_fuzz::finding::{self, Failure};
use echo_harness::oracle::{self, Verdict};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: echo_fuzz::tally::start(), |data: &[u8]| {
    if data.len() > echo_fuzz::MAX_SOURCE_BYTES {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        // Invalid UTF-8 must be a compile error, not a panic.
        let config = Config {
            tier: Tier::Interp,
            limits: echo_fuzz::source_limits(),
            ..Config::default()
        };
        let outcome = echo_engine::run_bytes(data, &config);
        assert!(outcome.result.is_err(), "invalid UTF-8 was accepted");
        return;
    };
    let p = echo_fuzz::source_subject(text);
    let opts = echo_fuzz::oracle_options();
    let report = oracle::check(&p, &opts);
    echo_fuzz::tally::record("source", &echo_fuzz::case_of(&p), &report, Duration::ZERO);
    if let Verdict::Diverge(d) = report.verdict {
        let failure = Failure {
            target: "source",
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
