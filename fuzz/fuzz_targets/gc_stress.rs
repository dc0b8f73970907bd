//! Fuzz target `gc_stress`: like `diff_tiers`, but after the plain tiers every tier runs
//! again with a collection forced at every safepoint and must still match the interpreter.
#![no_main]

use echo_harness::oracle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: echo_fuzz::tally::start(), |data: &[u8]| {
    let opts = oracle::Options {
        gc_stress: true,
        ..echo_fuzz::oracle_options()
    };
    echo_fuzz::check_generated("gc_stress", data, &opts);
});
