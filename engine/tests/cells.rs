//! Semantic coverage cells: what a program reaches, joined from the reference run's facts and
//! the compiling tiers' variants, lands in the right cells and never outside the universe.
#![cfg(feature = "jit")]

use echo_engine::bytecode::OpCode;
use echo_engine::runtime::cells::{self, Cell, Outcome, Position, Variant, kind};
use echo_engine::runtime::coverage::Coverage;
use echo_engine::{Config, Tier, run};

/// The settled cells of `src` run in every tier, as the harness's oracle joins them.
fn cells_of(src: &str, hot: u32) -> Coverage {
    let mut all = Coverage::default();
    for tier in [Tier::Interp, Tier::Jit, Tier::Tiered] {
        let config = Config {
            tier,
            coverage: true,
            hot_calls: hot,
            hot_loops: hot,
            ..Config::default()
        };
        // A program that does not compile has no coverage.
        if let Some(c) = run(src, &config).stats.coverage {
            all.merge(&c);
        }
    }
    all.settle();
    all
}

fn has(c: &Coverage, cell: Cell) -> bool {
    c.cells.contains(&cell.pack())
}

#[test]
fn an_overflow_in_a_hot_function_reaches_the_speculative_overflow_cell() {
    let src = "fn f(a, b) { return a + b; }\n\
               let i = 0;\n\
               while i < 20 { try { print(f(9223372036854775800, i)); } catch e { print(e.kind); } i = i + 1; }";
    let c = cells_of(src, 2);
    let add = |variant, outcome| Cell::Op {
        op: OpCode::Add,
        b: kind::INT,
        c: kind::INT,
        variant,
        outcome,
    };
    assert!(has(&c, add(Variant::Speculative, Outcome::Overflow)));
    assert!(has(&c, add(Variant::Speculative, Outcome::Ok)));
    // After the side exit the function is recompiled without speculation.
    assert!(has(&c, add(Variant::Generic, Outcome::Overflow)));
    // Nothing floats here.
    assert!(!has(
        &c,
        Cell::Op {
            op: OpCode::Add,
            b: kind::FLOAT,
            c: kind::INT,
            variant: Variant::Generic,
            outcome: Outcome::Ok
        }
    ));
    // The return value is an int, in compiled code.
    assert!(has(
        &c,
        Cell::Position {
            pos: Position::Return,
            kind: kind::INT
        }
    ));
}

#[test]
fn cells_need_both_a_fact_and_a_compilation() {
    let src = "fn f(a) { return -a; }\nprint(f(1.5));";
    // Interpreter only: facts but no compiled variant, so no cell.
    let out = run(
        src,
        &Config {
            tier: Tier::Interp,
            coverage: true,
            ..Config::default()
        },
    );
    let mut c = out.stats.coverage.expect("asked for");
    c.settle();
    assert!(c.cells.is_empty(), "{:?}", c.cells);
    let c = cells_of(src, 1);
    assert!(has(
        &c,
        Cell::Op {
            op: OpCode::Neg,
            b: kind::FLOAT,
            c: kind::NONE,
            variant: Variant::Generic,
            outcome: Outcome::Ok
        }
    ));
}

#[test]
fn register_forms_and_branch_outcomes_are_told_apart() {
    let src = "fn f(x, y) { x = x - y; if y < y { print(1); } if x { print(2); } return x; }\n\
               let i = 0; while i < 30 { print(f(i, 2)); i = i + 1; }";
    let c = cells_of(src, 2);
    assert!(has(
        &c,
        Cell::Form {
            op: OpCode::Sub,
            form: cells::Form::DestIsLeft,
            variant: Variant::Speculative
        }
    ));
    assert!(has(
        &c,
        Cell::Form {
            op: OpCode::JmpNotLt,
            form: cells::Form::SameOperands,
            variant: Variant::Speculative
        }
    ));
    let lt = |outcome| Cell::Op {
        op: OpCode::JmpNotLt,
        b: kind::INT,
        c: kind::INT,
        variant: Variant::Speculative,
        outcome,
    };
    assert!(has(&c, lt(Outcome::Equal)));
    assert!(!has(&c, lt(Outcome::Less)));
    let jmp = |outcome| Cell::Op {
        op: OpCode::JmpIfNot,
        b: kind::INT,
        c: kind::NONE,
        variant: Variant::Generic,
        outcome,
    };
    assert!(has(&c, jmp(Outcome::NotTaken)));
    assert!(!has(&c, jmp(Outcome::Taken)), "ints are truthy");
}

#[test]
fn the_corpus_reaches_no_cell_outside_the_universe() {
    let universe = cells::universe();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../corpus/lang"
    ))];
    let mut files = Vec::new();
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("corpus folder").flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "echo") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 20, "{} corpus files", files.len());
    let mut reached = 0;
    for f in &files {
        let src = std::fs::read_to_string(f).expect("readable");
        let c = cells_of(&src, 2);
        reached += c.cells.len();
        for id in &c.cells {
            assert!(
                universe.binary_search(id).is_ok(),
                "{}: {} is outside the universe",
                f.display(),
                Cell::unpack(*id).map_or(format!("{id:#x}"), |c| c.to_string())
            );
        }
    }
    assert!(reached > 100);
}
