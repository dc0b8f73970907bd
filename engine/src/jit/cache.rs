//! A per-thread store of compiled machine code keyed by the function's Cranelift IR, so a
//! function compiled again from identical IR (another VM running the same program) reuses it.
//! Cranelift's output depends only on its input, so a hit is the code a compile would produce.

use std::borrow::Cow;
use std::cell::RefCell;

use cranelift_codegen::incremental_cache::CacheKvStore;
use rustc_hash::FxHashMap;

use crate::config::SHARED_CODE_BYTES;

/// Cached compilation results, serialized by Cranelift, by the hash of their IR.
#[derive(Default)]
pub(crate) struct CodeCache {
    entries: FxHashMap<Vec<u8>, Vec<u8>>,
    bytes: usize,
}

impl CacheKvStore for CodeCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        self.entries.get(key).map(|v| Cow::Borrowed(v.as_slice()))
    }

    fn insert(&mut self, key: &[u8], val: Vec<u8>) {
        if self.bytes + val.len() > SHARED_CODE_BYTES {
            self.entries.clear();
            self.bytes = 0;
        }
        self.bytes += val.len();
        if let Some(old) = self.entries.insert(key.to_vec(), val) {
            self.bytes -= old.len();
        }
    }
}

thread_local! {
    /// The code shared by the VMs of this thread that ask for sharing.
    static SHARED: RefCell<CodeCache> = RefCell::new(CodeCache::default());
}

/// Runs `f` with this thread's shared store.
pub(crate) fn with_store<T>(f: impl FnOnce(&mut dyn CacheKvStore) -> T) -> T {
    SHARED.with(|c| f(&mut *c.borrow_mut()))
}
