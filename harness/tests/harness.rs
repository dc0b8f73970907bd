//! The harness checked end to end: generated programs agree in every tier (a proptest
//! property whose failures are persisted), the generator is deterministic and valid, the
//! corpus replays identically through the oracle, and the oracle's controls hold.

use std::path::{Path, PathBuf};
use std::time::Duration;

use arbitrary::Unstructured;
use echo_engine::corpus::{files, parse_expectations};
use echo_harness::campaign::{self, Campaign};
use echo_harness::generator::{self, Options};
use echo_harness::oracle::{self, Subject, Verdict};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn check(p: &Subject) -> Verdict {
    oracle::check(p, &oracle::Options::default()).verdict
}

fn assert_agrees(what: &str, p: &Subject) {
    match check(p) {
        Verdict::Agree | Verdict::Backstop => {}
        Verdict::Invalid(e) => panic!("{what} does not compile: {e}\n{}", p.source),
        Verdict::Diverge(d) => panic!(
            "{what}: tiers diverge: {}\n{}\n--- program ---\n{}",
            d.signature, d.detail, p.source
        ),
    }
}

/// Generated cases as a proptest strategy: the generator is driven by a byte string, which
/// proptest shrinks (shorter or smaller bytes give smaller programs).
fn cases() -> impl Strategy<Value = generator::Case> {
    proptest::collection::vec(any::<u8>(), 0..8192)
        .prop_map(|bytes| generator::generate(&mut Unstructured::new(&bytes), &Options::default()))
}

proptest! {
    // Sized for CI: each case runs three tiers, compiling a dozen functions or so.
    // Failures are persisted next to this file (`proptest-regressions/`) and replayed first.
    #![proptest_config(ProptestConfig {
        cases: 40,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_programs_behave_identically_in_every_tier(case in cases()) {
        assert_agrees("generated program", &Subject::from(&case));
    }
}

#[test]
fn the_same_seed_gives_the_same_program() {
    let opts = Options::default();
    for seed in [0, 1, 42, u64::MAX] {
        let a = generator::from_seed(seed, &opts);
        let b = generator::from_seed(seed, &opts);
        assert_eq!(a.source, b.source, "seed {seed}");
        assert_eq!(a.hot_calls, b.hot_calls);
        assert_eq!(a.hot_loops, b.hot_loops);
    }
    let a = generator::from_seed(1, &opts).source;
    let b = generator::from_seed(2, &opts).source;
    assert_ne!(a, b, "different seeds give different programs");
}

#[test]
fn generated_programs_stay_small_on_a_campaign_worker_stack() {
    // Seed 20276822 once nested constructors through closure arguments (an `init` taking
    // functions that return instances) into a 30 MB program, overflowing a worker's 2 MiB
    // stack. Generated on a thread of that size, with a few thousand seeds around it.
    let seeds: Vec<u64> = std::iter::once(20_276_822)
        .chain(20_276_000..20_278_000)
        .collect();
    let biggest = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let opts = generator::Options::default();
            seeds
                .into_iter()
                .map(|seed| (generator::from_seed(seed, &opts).source.len(), seed))
                .max()
                .expect("some seeds")
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert!(
        biggest.0 < 200_000,
        "seed {} gives {} bytes",
        biggest.1,
        biggest.0
    );
}

#[test]
fn generated_programs_compile() {
    let opts = Options::default();
    for seed in 0..300 {
        let case = generator::from_seed(seed, &opts);
        let program = match echo_engine::compile(&case.source, &case.limits) {
            Ok(p) => p,
            Err(e) => panic!("seed {seed} does not compile: {e}\n{}", case.source),
        };
        // Its roots must not depend on when collections run (see `check_exact_roots`).
        if let Err(e) = echo_engine::bytecode::check_exact_roots(&program) {
            panic!("seed {seed}: {e}\n{}", case.source);
        }
    }
}

#[test]
fn even_empty_and_tiny_inputs_give_valid_programs() {
    let opts = Options::default();
    for bytes in [&[][..], &[0], &[255; 7], &[1, 2, 3, 4, 5, 6, 7, 8, 9]] {
        let case = generator::generate(&mut Unstructured::new(bytes), &opts);
        assert_agrees("program from a tiny input", &Subject::from(&case));
    }
}

#[test]
fn every_error_kind_can_be_generated_on_purpose() {
    let opts = Options {
        error_share: 1.0,
        ..Options::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..400 {
        if let Some(k) = generator::from_seed(seed, &opts).intent {
            seen.insert(k.to_string());
        }
    }
    // Every kind the engine says a running program can meet (a new kind must be generated).
    for k in generator::runtime_kinds() {
        assert!(seen.contains(&k.to_string()), "{k} never chosen");
    }
}

/// Calls of every shape of callee, and callables of every kind used as values: the shapes
/// where compiled code must not confuse a call's result with its callee (`f(x)(y)`).
#[test]
fn generated_programs_call_every_shape_of_callee_and_pass_every_kind_of_callable() {
    use echo_engine::syntax::ast::ExprKind as K;
    use echo_engine::syntax::visit::{Role, script_exprs};
    use std::collections::BTreeMap;

    let numbered = |n: &str, prefix: &str| {
        n.strip_prefix(prefix)
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    let opts = Options::default();
    for seed in 0..300 {
        let case = generator::from_seed(seed, &opts);
        let program = echo_engine::syntax::parser::parse(&case.source, 200).expect("parses");
        script_exprs(&program, &mut |e, role| {
            let shape = match (&e.kind, role) {
                (K::Call(call), _) => match &call.callee.kind {
                    K::Call(inner) => match inner.callee.kind {
                        K::Get(_) => Some("o.m()(z)"),
                        K::Name { ref name, .. } if numbered(name, "f") => Some("f(x)(y)"),
                        _ => Some("call result called"),
                    },
                    K::Index(ix) => match ix.obj.kind {
                        K::Map(_) => Some("m[k](z)"),
                        _ => Some("xs[i](z)"),
                    },
                    K::Fn(_) => Some("fn literal called"),
                    K::Get(_) => Some("o.m(z)"),
                    K::Super(_) => Some("super.m(z)"),
                    K::Name { name, .. } if numbered(name, "f") => Some("f(x)"),
                    K::Name { name, .. } if numbered(name, "C") => Some("C(x)"),
                    K::Name { .. } => Some("name called"),
                    _ => None,
                },
                // Callables as values (anywhere but a callee).
                (K::Name { name, .. }, Role::Value) if numbered(name, "f") => Some("fn value"),
                (K::Name { name, .. }, Role::Value) if numbered(name, "C") => Some("class value"),
                (K::Name { name, .. }, Role::Value)
                    if ["abs", "str", "type", "len", "min", "max", "float", "copy"]
                        .contains(&name.as_str()) =>
                {
                    Some("builtin value")
                }
                (K::Get(get), Role::Value) if numbered(&get.name.name, "m") => {
                    Some("bound method value")
                }
                (K::Super(_), Role::Value) => Some("super method value"),
                (K::Fn(_), Role::Value) => Some("closure value"),
                _ => None,
            };
            if let Some(s) = shape {
                *seen.entry(s).or_default() += 1;
            }
        });
    }
    for shape in [
        "f(x)(y)",
        "o.m()(z)",
        "xs[i](z)",
        "m[k](z)",
        "fn literal called",
        "o.m(z)",
        "f(x)",
        "C(x)",
        "name called",
        "fn value",
        "class value",
        "builtin value",
        "bound method value",
        "closure value",
    ] {
        assert!(
            seen.get(shape).copied().unwrap_or(0) > 0,
            "no {shape} in 300 programs: {seen:?}"
        );
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

#[test]
fn the_corpus_replays_identically_through_the_oracle() {
    let mut compared = 0;
    // Benchmarks take seconds each in a debug build; tests/bench_programs.rs runs them, reduced.
    let programs = files(&corpus_dir())
        .into_iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == "bench"));
    for path in programs {
        let src = std::fs::read_to_string(&path).unwrap();
        let Ok(exp) = parse_expectations(&src) else {
            continue;
        };
        for (hot_calls, hot_loops) in [(1, 1), (3, 7)] {
            let p = Subject {
                source: src.clone(),
                limits: exp.limits.clone(),
                hot_calls,
                hot_loops,
                inputs: vec![exp.args.clone()],
                skip_tiers: Vec::new(),
            };
            match check(&p) {
                Verdict::Diverge(d) => {
                    panic!("{}: {}\n{}", path.display(), d.signature, d.detail)
                }
                Verdict::Invalid(e) => {
                    let expected = exp.error.as_ref().map(|x| (x.kind, x.line));
                    assert_eq!(
                        expected,
                        Some((e.kind, e.line)),
                        "{} does not compile",
                        path.display()
                    );
                }
                Verdict::Agree | Verdict::Backstop => compared += 1,
            }
        }
    }
    assert!(compared > 300, "only {compared} corpus runs compared");
}

#[test]
fn the_oracle_self_checks_pass() {
    campaign::self_check(&Options::default()).unwrap();
}

#[test]
fn the_oracle_flags_every_aspect_of_an_outcome() {
    let config = echo_engine::Config::default();
    let reference = echo_engine::run(
        "fn f(x) { if x > 2 { throw \"no\"; } return x; }\nprint(f(1));\nf(3);",
        &config,
    );
    assert!(reference.result.is_err());
    assert!(oracle::compare(&reference, &reference.clone()).is_none());
    let mut other = reference.clone();
    other.output.push('x');
    assert_eq!(
        oracle::compare(&reference, &other).unwrap().0,
        oracle::Aspect::Output
    );
    let mut other = reference.clone();
    if let Err(e) = &mut other.result {
        e.line += 1;
    }
    assert_eq!(
        oracle::compare(&reference, &other).unwrap().0,
        oracle::Aspect::ErrorLine
    );
    let mut other = reference.clone();
    if let Err(e) = &mut other.result {
        e.message.push('!');
    }
    assert_eq!(
        oracle::compare(&reference, &other).unwrap().0,
        oracle::Aspect::ErrorMessage
    );
    let mut other = reference.clone();
    other.fuel_used += 1;
    assert_eq!(
        oracle::compare(&reference, &other).unwrap().0,
        oracle::Aspect::Fuel
    );
    let ok = echo_engine::run("print(1);", &config);
    assert!(ok.result.is_ok());
    assert_eq!(
        oracle::compare(&reference, &ok).unwrap().0,
        oracle::Aspect::Outcome
    );
}

#[test]
fn a_short_campaign_counts_what_it_did() {
    let out = std::env::temp_dir().join(format!("echo-harness-test-{}", std::process::id()));
    let c = Campaign {
        seed: 99,
        cases: Some(24),
        duration: Some(Duration::from_secs(300)),
        jobs: 2,
        keep_going: false,
        reduce: false,
        out_dir: out.clone(),
        regress_dir: out.join("regress"),
        generator: Options::default(),
        oracle: oracle::Options {
            coverage: true,
            gc_stress: false,
            ..oracle::Options::default()
        },
        gc_stress_share: 0.1,
        background_share: 0.1,
    };
    let r = campaign::run(&c, &|_, _| {});
    let s = &r.stats;
    assert_eq!(s.cases, 24);
    assert_eq!(s.valid, 24);
    assert_eq!(s.agreed + s.backstops, 24, "{:?}", s.findings);
    assert_eq!(s.outcomes.values().sum::<u64>(), 24);
    assert!(s.cases_with.compilations > 0);
    let opcodes = s.coverage.opcodes().iter().filter(|(_, hit)| *hit).count();
    assert!(opcodes > 30, "only {opcodes} opcodes reached");
    // Where the time went: each compiling tier compiled, within the time it ran, and the
    // later tiers reused code the earlier ones compiled from identical IR.
    for tier in ["jit", "tiered"] {
        let compiling = s.compile_time[tier];
        assert!(
            !compiling.is_zero() && compiling <= s.tier_time[tier],
            "{tier}"
        );
    }
    assert!(s.compile_time["interp"].is_zero());
    assert!(s.events.shared > 0 && s.events.shared < s.events.compilations);
    let summary = s.summary(c.seed, c.jobs, r.elapsed);
    assert!(!summary.compile_seconds.contains_key("interp"));
    let json = serde_json::to_string(&summary).unwrap();
    assert!(json.contains("\"cases_per_second\"") && json.contains("\"compile_seconds\""));
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn cases_run_one_program_on_several_input_vectors_with_edges_in_the_later_ones() {
    let opts = Options::default();
    let mut edges = 0;
    let mut skipped = [0usize; 2];
    for seed in 0..60 {
        let case = generator::from_seed(seed, &opts);
        assert_eq!(case.inputs.len(), opts.inputs, "seed {seed}");
        let n = case.inputs[0].len();
        assert!(case.inputs.iter().all(|v| v.len() == n), "seed {seed}");
        for (i, v) in case.inputs.iter().enumerate() {
            for x in v {
                let x: i64 = x.parse().expect("ints");
                let edge = x == i64::MAX || x == i64::MIN || x.unsigned_abs() >= 1 << 53;
                assert!(
                    i > 0 || !edge,
                    "seed {seed}: the first vector is of small ints"
                );
                edges += usize::from(edge);
            }
        }
        skipped[case.skip_tiers.len().min(1)] += 1;
        // The oracle runs every vector (unless one diverges, which would be a bug).
        let report = oracle::check(&Subject::from(&case), &oracle::Options::default());
        match report.verdict {
            Verdict::Agree => assert_eq!(report.runs, opts.inputs as u64, "seed {seed}"),
            Verdict::Backstop => {}
            other => panic!("seed {seed}: {other:?}"),
        }
    }
    assert!(
        edges > 30,
        "later vectors reach the edges of the int range ({edges})"
    );
    // Both compiled tiers in about half the cases, one of them in the rest.
    #[cfg(feature = "jit")]
    assert!(skipped[0] > 15 && skipped[1] > 15, "{skipped:?}");
    #[cfg(not(feature = "jit"))]
    assert_eq!(skipped[1], 0, "no compiled tier to leave out");
}

#[test]
fn a_program_reads_its_input_vector_and_each_tier_runs_on_each() {
    let p = Subject {
        source: "let s = 0;\nfor a in args() { s = s + int(a); }\nprint(s);\n".to_string(),
        limits: Default::default(),
        hot_calls: 1,
        hot_loops: 1,
        inputs: vec![vec!["1".into(), "2".into()], vec!["40".into()]],
        skip_tiers: Vec::new(),
    };
    let report = oracle::check(&p, &oracle::Options::default());
    assert!(matches!(report.verdict, Verdict::Agree));
    assert_eq!(report.runs, 2);
    let runs_per_tier = report.times.iter().filter(|(t, _)| t == "interp").count();
    assert_eq!(runs_per_tier, 2);
    assert_eq!(
        oracle::reference(&p.with_input(1), &oracle::Options::default())
            .expect("runs")
            .output,
        "40\n"
    );
    // A skipped tier does not run.
    #[cfg(feature = "jit")]
    {
        let only_jit = Subject {
            skip_tiers: vec![echo_engine::Tier::Tiered],
            ..p.clone()
        };
        let names: Vec<String> = oracle::tiers(&only_jit, &oracle::Options::default())
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["interp", "jit"]);
    }
}

#[test]
fn runs_collecting_at_every_safepoint_are_timed_against_each_other_not_against_plain_runs() {
    // A deep recursion: every collection walks every frame, so the run that collects at each
    // safepoint takes hundreds of times as long as the plain one, and is not hung.
    let p = Subject {
        source: "fn deep(n) { let l = [n]; return deep(n + 1) + l[0]; }\ndeep(0);\n".to_string(),
        limits: echo_engine::Limits {
            fuel: Some(200_000),
            ..Default::default()
        },
        hot_calls: 2,
        hot_loops: 2,
        inputs: Vec::new(),
        skip_tiers: Vec::new(),
    };
    let opts = oracle::Options {
        gc_stress: true,
        // Small, so that a deadline taken from the plain runs would be passed.
        deadline_base: Duration::from_millis(100),
        ..oracle::Options::default()
    };
    let mut checker = echo_harness::watchdog::Watched::new(std::sync::Arc::new(|| {}));
    let report = checker.check(&p, &opts);
    assert!(
        matches!(report.verdict, Verdict::Agree),
        "{:?}",
        report.verdict
    );
    let time = |tier: &str| {
        report
            .times
            .iter()
            .find(|(t, _)| t == tier)
            .map(|(_, d)| *d)
            .expect("the tier ran")
    };
    assert!(
        time("interp-gc") > Duration::from_millis(100) + time("interp") * 20,
        "the plain runs' deadline would have been passed"
    );
}
