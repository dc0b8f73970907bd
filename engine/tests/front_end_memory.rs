//! Compiling takes memory in proportion to the source, with a small factor: the front end
//! streams its tokens, keeps a compact tree and frees each top-level statement once it is
//! compiled, so the peak, measured by a counting allocator, stays under a bound per byte of
//! source for the two shapes that cost the most per byte: short statements, one per line,
//! and one long chain of operators (a tree node and an instruction per two bytes).
//! One test in this binary on purpose: the allocator counts every thread.

use echo_engine::{Limits, compile};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The bounds, in bytes of memory per byte of source. They take 22.3x and 28.4x; before the
/// streaming lexer and the compact tree they took 107x and 91x.
const STATEMENTS_MAX_RATIO: usize = 24;
const CHAIN_MAX_RATIO: usize = 30;

/// Counts live bytes as a malloc-style allocator takes them (8-byte header, 16-byte granules,
/// 32 bytes at least) and their peak; reallocation counts only the difference, as a large
/// block grown in place or remapped costs.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn block(n: usize) -> usize {
    ((n + 8 + 15) & !15).max(32)
}

fn grow(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call forwards to the system allocator unchanged; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(block(layout.size()));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(block(layout.size()), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (old, new) = (block(layout.size()), block(new_size));
        if new >= old {
            grow(new - old);
        } else {
            LIVE.fetch_sub(old - new, Ordering::Relaxed);
        }
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Compiles `source`; returns the peak bytes allocated meanwhile, over what was live before.
fn compile_peak(source: &str) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let program = compile(source, &Limits::default());
    assert!(program.is_ok(), "{:?}", program.err());
    drop(program);
    PEAK.load(Ordering::Relaxed) - base
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
