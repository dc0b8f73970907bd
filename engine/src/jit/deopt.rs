//! Deoptimization metadata of inlined code: what an exit from an inlined body rebuilds (the
//! interpreter frames of the callees inlined around it). Compiled code passes the address of
//! its exit's record to the `InlineExit` helper instead of writing the frames itself.

use std::sync::{LazyLock, Mutex};

use rustc_hash::FxHashSet;

use super::lower::inline::MAX_INLINE_DEPTH;

/// The frame of one inlined callee, as the interpreter needs it to finish the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct InlinedFrame {
    /// The callee's prototype.
    pub proto: u32,
    /// Its register 0, relative to the compiled function's register 0.
    pub base: u32,
    /// The register receiving its result, relative to the compiled function's register 0.
    pub ret: u32,
    /// Where it resumes: the failed guard's instruction for the innermost callee, the
    /// instruction after the call of the next one for the others.
    pub pc: u32,
}

/// One exit from inlined code: the frames to push, the outermost first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct InlineExitSite {
    /// The innermost callee's pc: where its guard failed.
    pub pc: u32,
    /// Where the compiled function's own frame resumes: after its call of the outermost
    /// callee.
    pub caller_pc: u32,
    /// Bit i: frame i runs a method, whose closure the helper finds from the receiver (the
    /// compiled code knows only its prototype); the others' closures come as arguments.
    pub methods: u64,
    /// The inlined callees' frames, the outermost first (at most `MAX_INLINE_DEPTH`).
    pub frames: Vec<InlinedFrame>,
}

/// Every exit record made so far: identical exits (the same function compiled again, on any
/// thread) share one, so the IR stays identical for code sharing, and the records live as long
/// as the code that may pass them (the process: compiled code is never freed while a frame may
/// run it).
static SITES: LazyLock<Mutex<FxHashSet<&'static InlineExitSite>>> = LazyLock::new(Default::default);

/// The one record with `site`'s content, for its address to be embedded in code.
pub(crate) fn intern(site: InlineExitSite) -> &'static InlineExitSite {
    debug_assert!(!site.frames.is_empty() && site.frames.len() <= MAX_INLINE_DEPTH);
    // A poisoned lock held only complete insertions: the set is still sound.
    let mut sites = SITES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&known) = sites.get(&site) {
        return known;
    }
    let record: &'static InlineExitSite = Box::leak(Box::new(site));
    sites.insert(record);
    record
}
