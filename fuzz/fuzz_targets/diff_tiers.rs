//! Fuzz target `diff_tiers`: bytes drive the harness's generator to a valid program, which
//! runs in every tier; a divergence is reduced and reported (see fuzz/README.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: echo_fuzz::tally::start(), |data: &[u8]| {
    echo_fuzz::check_generated("diff_tiers", data, &echo_fuzz::oracle_options());
});
