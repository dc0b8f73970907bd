//! A per-thread store of compiled machine code keyed by the function's Cranelift IR, so a
//! function compiled again from identical IR (another VM running the same program) reuses it.
//! Cranelift's output depends only on its input, so a hit is the code a compile would produce.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

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

/// A store of shared code: one per thread that compiles, lent to the compiler thread of each
/// VM it runs (`jit/worker.rs`), so code generated in the background is reused as well.
/// Locked for each look-up and insertion only.
#[derive(Clone)]
pub(crate) struct Store(Arc<Mutex<CodeCache>>);

thread_local! {
    /// The code shared by the VMs of this thread that ask for sharing.
    static SHARED: Store = Store(Arc::new(Mutex::new(CodeCache::default())));
}

/// This thread's store.
pub(crate) fn this_thread() -> Store {
    SHARED.with(Store::clone)
}

impl CacheKvStore for &Store {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let c = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        c.get(key).map(|v| Cow::Owned(v.into_owned()))
    }

    fn insert(&mut self, key: &[u8], val: Vec<u8>) {
        let mut c = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        c.insert(key, val);
    }
}
