//! Compiling takes memory in proportion to the source, with a small factor: the front end
//! streams its tokens, keeps a compact tree and frees each top-level statement once it is
//! compiled, so the peak, measured by a counting allocator, stays under a bound per byte of
//! source for the two shapes that cost the most per byte: short statements, one per line,
//! and one long chain of operators (a tree node and an instruction per two bytes).
//! One test in this binary on purpose: the allocator counts every thread.

use echo_engine::{Limits, compile};

/// The bounds, in bytes of memory per byte of source. They take 22.3x and 28.4x; before the
/// streaming lexer and the compact tree they took 107x and 91x.
const STATEMENTS_MAX_RATIO: usize = 24;
const CHAIN_MAX_RATIO: usize = 30;

mod common;
use common::counting::{Counting, peak_during};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Compiles `source`; returns the peak bytes allocated meanwhile, over what was live before.
fn compile_peak(source: &str) -> usize {
    let (program, peak) = peak_during(|| compile(source, &Limits::default()));
    assert!(program.is_ok(), "{:?}", program.err());
    peak
}

#[test]
fn compiling_takes_a_bounded_multiple_of_the_source_size() {
    let statements = format!("let a = 0;\n{}", "a = a + 1;\n".repeat(200_000));
    let chain = format!("let x = 1{};", "+1".repeat(500_000));
    let mut failures = Vec::new();
    for (what, source, max_ratio) in [
        ("short statements", statements, STATEMENTS_MAX_RATIO),
        ("one long sum", chain, CHAIN_MAX_RATIO),
    ] {
        let peak = compile_peak(&source);
        let ratio = peak as f64 / source.len() as f64;
        eprintln!(
            "{what}: {} source bytes, peak {peak} bytes ({ratio:.1}x)",
            source.len()
        );
        if peak > max_ratio * source.len() {
            failures.push(format!(
                "{what}: compiling {} bytes took {peak} bytes ({ratio:.1}x, limit {max_ratio}x)",
                source.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
