//! With the `mutants` feature: every deliberate JIT bug is killed by its reproducer in
//! `corpus/regress/mutants/NAME.echo` (which `echo-harness selftest` writes): the file meets
//! its expectations in every tier without the mutant, and fails them with it (or does not
//! end: the watchdog reports compiled code that never ends as a hang).
#![cfg(feature = "mutants")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use echo_engine::jit::mutants::{self, Mutant};
use echo_harness::oracle::{self, Aspect, Subject, Verdict};
use echo_harness::selftest::kills;
use echo_harness::watchdog::{self, Watched};

fn mutants_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/regress/mutants")
}

#[test]
fn every_mutant_is_killed_by_its_reproducer() {
    let failures: Vec<String> = Mutant::ALL
        .iter()
        .filter_map(|&m| {
            let path = mutants_dir().join(format!("{}.echo", m.name()));
            kills(m, &path).err().map(|e| format!("{}: {e}", m.name()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_reproducer_names_a_mutant() {
    for path in echo_engine::corpus::files(&mutants_dir()) {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        assert!(
            Mutant::from_name(stem).is_some(),
            "{} names no mutant",
            path.display()
        );
    }
}

#[test]
fn a_compiled_loop_that_never_ends_is_reported_as_a_hang_and_its_thread_replaced() {
    let m = Mutant::from_name("loop_fuel_unchecked").expect("the mutant exists");
    let path = mutants_dir().join("loop_fuel_unchecked.echo");
    let source = std::fs::read_to_string(&path).expect("the reproducer is committed");
    let p = Subject::from_annotated(source).expect("the reproducer's settings parse");
    let opts = oracle::Options::default();
    let mut checker = Watched::new(Arc::new(move || mutants::set_active(Some(m))));
    let before = watchdog::abandoned();
    let started = Instant::now();
    match checker.check(&p, &opts).verdict {
        Verdict::Diverge(d) => {
            assert_eq!(d.signature.aspect, Aspect::Hang, "{}", d.detail);
            assert_eq!(d.signature.expected, "FuelExhausted");
            assert_ne!(d.signature.tier, "interp");
        }
        other => panic!("expected a hang, got {other:?}"),
    }
    assert!(watchdog::abandoned() > before);
    // Given up on at the deadline, not long after.
    assert!(started.elapsed() < oracle::DEADLINE_BASE * 10);
    // The same checker goes on with a fresh thread (the mutant active there too).
    assert!(matches!(
        checker.check(&p, &opts).verdict,
        Verdict::Diverge(d) if d.signature.aspect == Aspect::Hang
    ));
    // Without the mutant every tier ends, and agrees.
    let mut plain = Watched::new(Arc::new(|| {}));
    assert!(matches!(plain.check(&p, &opts).verdict, Verdict::Agree));
}

#[test]
fn a_divergence_on_a_later_input_vector_is_reported_with_that_vector() {
    let m = Mutant::from_name("add_overflow_unchecked").expect("the mutant exists");
    mutants::set_active(Some(m));
    let p = Subject {
        source: "let x = int(args()[0]);\nfn f(a) { return a + 1; }\nlet r = 0;\nfor i in 0..20 { r = f(x); }\nprint(r);\n".to_string(),
        limits: Default::default(),
        hot_calls: 1,
        hot_loops: 1,
        inputs: vec![vec!["5".into()], vec![i64::MAX.to_string()]],
        skip_tiers: Vec::new(),
    };
    let report = oracle::check(&p, &oracle::Options::default());
    mutants::set_active(None);
    match report.verdict {
        Verdict::Diverge(d) => {
            assert_eq!(d.input, 1, "{}", d.detail);
            assert_eq!(d.signature.expected, "OverflowError");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    assert_eq!(report.runs, 1, "the first vector agreed");
    // The reproducer carries that vector as its arguments.
    let text = echo_harness::campaign::annotated(None, &p.with_input(1));
    assert!(text.contains(&format!("// args: {}", i64::MAX)), "{text}");
}
