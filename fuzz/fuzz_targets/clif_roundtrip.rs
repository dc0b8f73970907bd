//! Fuzz target `clif_roundtrip`: the JIT's CLIF for a generated program must parse back,
//! print identically, verify, and recompile to the engine's machine code (see src/clif.rs).
#![no_main]

use echo_fuzz::clif;
use echo_fuzz::finding::{self, Failure};
use echo_harness::oracle::Subject;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: echo_fuzz::tally::start(), |data: &[u8]| {
    let case = echo_fuzz::generated(data);
    let result = clif::check_program(&case.source, &case.limits);
    echo_fuzz::tally::tick("clif_roundtrip");
    match result {
        Ok(checked) => {
            echo_fuzz::tally::add("functions", checked.functions);
            echo_fuzz::tally::add("too large", checked.too_large);
            echo_fuzz::tally::add("code bytes", checked.code_bytes);
        }
        Err((function, failure)) => {
            let kind = failure.kind();
            let p = Subject::from(&case);
            let report = Failure {
                target: "clif_roundtrip",
                title: format!("CLIF round trip: {kind} (function {function})"),
                slug: format!("clif-{kind}"),
                detail: format!("{failure:?}"),
            };
            finding::report(report, &p, &mut |s| {
                matches!(clif::check_program(s, &case.limits), Err((_, f)) if f.kind() == kind)
            });
        }
    }
});
