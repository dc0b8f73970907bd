//! Coverage steering: a campaign's table of cell hits makes the generator sweep what is still
//! unreached, and the sweep it picks does reach the rare cell.

use std::sync::Arc;

use echo_engine::bytecode::OpCode;
use echo_engine::runtime::cells::{self, Cell, Outcome, Variant, kind};
use echo_harness::generator::{self, Options, Steering};
use echo_harness::oracle::{self, Subject, Verdict};

/// The rare cell: a method missing on an instance, in generic compiled code.
fn rare() -> Cell {
    Cell::Op {
        op: OpCode::Invoke,
        b: kind::INSTANCE,
        c: kind::NONE,
        variant: Variant::Generic,
        outcome: Outcome::Error,
    }
}

/// A steering table that has seen every reachable cell except those of `Invoke`.
fn all_but_invoke() -> Arc<Steering> {
    let s = Steering::new();
    let others: Vec<u32> = cells::universe()
        .into_iter()
        .filter(|&id| {
            !matches!(
                Cell::unpack(id),
                Some(
                    Cell::Op {
                        op: OpCode::Invoke,
                        ..
                    } | Cell::Form {
                        op: OpCode::Invoke,
                        ..
                    }
                )
            )
        })
        .collect();
    for _ in 0..10 {
        s.record(&others);
    }
    Arc::new(s)
}

/// The object sweep (property reads, calls and method calls on every kind of value).
fn sweeps_objects(source: &str) -> bool {
    source.contains("x.zz(1)")
}

#[test]
fn steering_picks_the_sweep_of_unreached_cells_and_reaches_them() {
    let steered = Options {
        steering: Some(all_but_invoke()),
        ..Options::default()
    };
    let plain = Options::default();
    let (mut with, mut without, mut sweeping) = (0, 0, 0);
    let mut example = None;
    for seed in 0..200 {
        let a = generator::from_seed(seed, &steered);
        let b = generator::from_seed(seed, &plain);
        // Steering changes which sweeps run, not whether a case sweeps.
        assert_eq!(a.features, b.features);
        if !a.features.sweeps || a.intent.is_some() {
            continue;
        }
        sweeping += 1;
        if sweeps_objects(&a.source) {
            with += 1;
            example.get_or_insert(a);
        }
        without += usize::from(sweeps_objects(&b.source));
    }
    assert!(sweeping >= 20, "{sweeping} cases sweep");
    // Uniform choice picks the object sweep about one time in twelve; steered, nearly always.
    assert!(with * 10 >= sweeping * 8, "{with} of {sweeping} steered");
    assert!(without * 3 < sweeping, "{without} of {sweeping} unsteered");
    let case = example.expect("a steered case sweeps objects");
    let report = oracle::check(
        &Subject::from(&case),
        &oracle::Options {
            coverage: true,
            gc_stress: false,
            ..oracle::Options::default()
        },
    );
    assert!(
        matches!(report.verdict, Verdict::Agree),
        "{:?}",
        report.verdict
    );
    assert!(
        report.coverage.cells.contains(&rare().pack()),
        "{} not reached",
        rare()
    );
}

#[test]
fn the_same_seed_and_table_give_the_same_case() {
    let steering = all_but_invoke();
    let opts = Options {
        steering: Some(steering),
        ..Options::default()
    };
    for seed in 0..20 {
        assert_eq!(
            generator::from_seed(seed, &opts).source,
            generator::from_seed(seed, &opts).source
        );
    }
}

/// In a steered campaign every 16th case carries one of the four faults of a limit met in
/// compiled code, in turn, at its end; the tiers agree on it, and the case gets there.
#[test]
fn steered_cases_take_the_limit_faults_in_turn() {
    use echo_engine::error::ErrorKind;
    let steered = Options {
        steering: Some(Arc::new(Steering::new())),
        ..Options::default()
    };
    // (kind, a piece of the fault's source) by turn: seed 16 * k takes fault k % 4.
    let faults = [
        (ErrorKind::FuelExhausted, ">= 0 {"),
        (ErrorKind::FuelExhausted, "while true {"),
        (ErrorKind::FuelExhausted, "in 0..1099511627776 {"),
        (ErrorKind::SizeLimit, "push(big"),
    ];
    let mut reached = [0; 4];
    for k in 1..=8u64 {
        let case = generator::from_seed(16 * k, &steered);
        let (kind, piece) = faults[k as usize % 4];
        assert_eq!(case.intent, Some(kind), "seed {}", 16 * k);
        assert!(case.source.contains(piece), "seed {}: no {piece:?}", 16 * k);
        let report = oracle::check(&Subject::from(&case), &oracle::Options::default());
        assert!(
            matches!(report.verdict, Verdict::Agree),
            "seed {}: {:?}",
            16 * k,
            report.verdict
        );
        let ended = report.reference.as_ref().map(|o| &o.result);
        if matches!(ended, Some(Err(e)) if e.kind == kind) {
            reached[k as usize % 4] += 1;
        }
        // The cases between take no fault by turn.
        let next = generator::from_seed(16 * k + 1, &steered);
        let plain = generator::from_seed(16 * k + 1, &Options::default());
        assert_eq!(next.intent, plain.intent, "seed {}", 16 * k + 1);
    }
    assert!(
        reached.iter().all(|&n| n > 0),
        "faults reached: {reached:?}"
    );
}
