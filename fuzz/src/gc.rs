//! The collector-stress oracle: the harness's oracle with `gc_stress`, so that after the
//! plain tiers every tier runs again with a collection forced at every safepoint, and each
//! run must match the plain interpreter.

use echo_harness::oracle::{self, Program, Report, Signature};

fn options() -> oracle::Options {
    oracle::Options {
        gc_stress: true,
        ..crate::oracle_options()
    }
}

/// Runs `p` in every tier, plain and under collector stress, against the interpreter.
pub fn check(p: &Program) -> Report {
    oracle::check(p, &options())
}

/// Whether `source` (a reduction of `p`) still shows divergence `sig` under stress.
pub fn still_diverges(p: &Program, source: &str, sig: &Signature) -> bool {
    oracle::still_diverges(p, source, sig, &options())
}
