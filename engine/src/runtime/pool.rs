//! The block pool the GC heap takes its objects' memory from: blocks of up to
//! [`MAX_POOLED`] bytes are carved from large chunks and recycled through one free list per
//! size class, so allocating is a pop (or a pointer bump) and freeing a push, instead of a
//! call into the system allocator each. Bigger blocks go to the system allocator.
//!
//! Freed blocks are only ever reused for blocks of the same class; a chunk is returned to the
//! system when the pool drops. Memory is therefore bounded by the most each class held live
//! at once, and a program that keeps allocating and dropping objects of a size stays flat.
//! The pool knows nothing of objects: what a block held is dropped by the heap before the
//! block comes back here, and the heap's byte accounting (LANGUAGE.md §16) does not depend
//! on where blocks come from.

use std::alloc::Layout;
use std::cell::RefCell;
use std::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator, Global};

/// Every block size is rounded up to a multiple of this, and every block is aligned to it:
/// a word, the alignment of every heap object, so that objects of 24, 40 or 56 bytes take
/// no more.
pub const GRANULE: usize = 8;

/// The biggest block the pool serves from its chunks.
pub const MAX_POOLED: usize = 256;

/// Number of size classes: class `c` holds blocks of `(c + 1) * GRANULE` bytes.
const CLASSES: usize = MAX_POOLED / GRANULE;

/// Bytes of one chunk. Big enough that taking one is rare; a fresh chunk's pages are only
/// touched as blocks are carved from it, so a small program does not pay for all of it.
const CHUNK_BYTES: usize = 256 * 1024;

/// A free block: its first word links to the next free block of its class.
struct FreeBlock {
    next: Option<NonNull<FreeBlock>>,
}

/// Size-class free lists over bump-allocated chunks (see the module documentation).
pub struct BlockPool {
    /// Head of each class's free list.
    free: [Option<NonNull<FreeBlock>>; CLASSES],
    /// Where the next block is carved from in the newest chunk.
    bump: NonNull<u8>,
    /// Bytes left after `bump` in the newest chunk.
    left: usize,
    /// Every chunk taken, freed when the pool drops.
    chunks: Vec<NonNull<u8>>,
}

/// The class of a block of `size` bytes (`0 < size <= MAX_POOLED`).
#[inline]
fn class_of(size: usize) -> usize {
    debug_assert!(size > 0 && size <= MAX_POOLED);
    (size - 1) / GRANULE
}

/// The layout of a block of `size` bytes taken from the system allocator.
fn large_layout(size: usize) -> Layout {
    Layout::from_size_align(size, GRANULE).expect("a heap object fits in memory")
}

fn chunk_layout() -> Layout {
    Layout::from_size_align(CHUNK_BYTES, GRANULE).expect("a constant, valid layout")
}

impl Default for BlockPool {
    fn default() -> Self {
        BlockPool::new()
    }
}

impl BlockPool {
    /// An empty pool; it takes its first chunk when the first block is asked for.
    pub fn new() -> BlockPool {
        BlockPool {
            free: [None; CLASSES],
            bump: NonNull::dangling(),
            left: 0,
            chunks: Vec::new(),
        }
    }

    /// A block of at least `size` bytes (`size > 0`), aligned to [`GRANULE`], uninitialized.
    #[inline]
    pub fn alloc(&mut self, size: usize) -> NonNull<u8> {
        if size > MAX_POOLED {
            return alloc_large(size);
        }
        let class = class_of(size);
        match self.free[class] {
            Some(block) => {
                // SAFETY: every block in a free list was pushed by `free`, which wrote a
                // `FreeBlock` into it, and no one else has written it since (it is free).
                self.free[class] = unsafe { block.as_ref().next };
                block.cast()
            }
            None => self.carve((class + 1) * GRANULE),
        }
    }

    /// Gives back a block that `alloc(size)` returned, for reuse by blocks of its class.
    ///
    /// # Safety
    /// `block` must come from this pool's `alloc` with the same `size`, must not be freed
    /// already, and must not be used again: whatever it held must have been dropped.
    #[inline]
    pub unsafe fn free(&mut self, block: NonNull<u8>, size: usize) {
        if size > MAX_POOLED {
            // SAFETY: per the contract, the block was allocated by `alloc_large(size)`
            // with this very layout and is freed once.
            unsafe { std::alloc::dealloc(block.as_ptr(), large_layout(size)) };
            return;
        }
        let class = class_of(size);
        let block = block.cast::<FreeBlock>();
        // SAFETY: the block has at least `GRANULE` bytes, is aligned to `GRANULE` (enough
        // for a pointer) and is no longer used by anyone (the contract).
        unsafe {
            block.write(FreeBlock {
                next: self.free[class],
            })
        };
        self.free[class] = Some(block);
    }

    /// A new block of `bytes` (a multiple of `GRANULE`) from the newest chunk, taking a new
    /// chunk when it has too little left.
    #[cold]
    fn carve(&mut self, bytes: usize) -> NonNull<u8> {
        if self.left < bytes {
            self.new_chunk();
        }
        let block = self.bump;
        // SAFETY: `bytes <= left`, so the new bump stays inside (or one past the end of) the
        // newest chunk.
        self.bump = unsafe { block.add(bytes) };
        self.left -= bytes;
        block
    }

    /// Takes a fresh chunk; what was left of the previous one becomes a free block.
    fn new_chunk(&mut self) {
        if self.left > 0 {
            // The rest is a multiple of `GRANULE` and smaller than the biggest class (or a
            // block of `MAX_POOLED` bytes would have fit in it): a block of its own class.
            let (rest, size) = (self.bump, self.left);
            self.left = 0;
            // SAFETY: the rest of the chunk was never handed out; it is a valid block of
            // `size` bytes belonging to this pool.
            unsafe { self.free(rest, size) };
        }
        let layout = chunk_layout();
        // SAFETY: the layout is not zero-sized.
        let chunk = unsafe { std::alloc::alloc(layout) };
        let Some(chunk) = NonNull::new(chunk) else {
            std::alloc::handle_alloc_error(layout);
        };
        self.chunks.push(chunk);
        self.bump = chunk;
        self.left = CHUNK_BYTES;
    }

    /// Bytes taken from the system in chunks (not counting blocks bigger than `MAX_POOLED`).
    pub fn chunk_bytes(&self) -> usize {
        self.chunks.len() * CHUNK_BYTES
    }
}

/// A block bigger than the pool's classes, straight from the system allocator.
#[cold]
fn alloc_large(size: usize) -> NonNull<u8> {
    let layout = large_layout(size);
    // SAFETY: the layout is not zero-sized (`size > MAX_POOLED`).
    let block = unsafe { std::alloc::alloc(layout) };
    NonNull::new(block).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}

impl Drop for BlockPool {
    fn drop(&mut self) {
        for &chunk in &self.chunks {
            // SAFETY: each chunk was allocated in `new_chunk` with this layout and is freed
            // once, here; the blocks carved from it die with the pool (the heap drops the
            // objects in them first).
            unsafe { std::alloc::dealloc(chunk.as_ptr(), chunk_layout()) };
        }
    }
}

/// The allocator of list element buffers (`heap::Items`): a buffer of up to [`MAX_POOLED`]
/// bytes comes from the running thread's pool, like the heap's objects, instead of a call
/// into `malloc` and later `free` (most lists are short, and programs that make many make
/// them in a loop). A list's buffer is taken, grown and given back on its VM's thread: heap
/// values never leave it. A thread's pool lives as long as the thread, shared by the VMs it
/// runs one after another, so its memory is the most small buffers any of them held at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct ItemAlloc;

thread_local! {
    /// The pool of this thread's list buffers.
    static ITEM_POOL: RefCell<BlockPool> = RefCell::new(BlockPool::new());
}

/// Whether `ItemAlloc` takes blocks of `layout` from the pool (the others are the global
/// allocator's).
#[inline]
fn pooled(layout: Layout) -> bool {
    (1..=MAX_POOLED).contains(&layout.size()) && layout.align() <= GRANULE
}

// SAFETY: a block comes from the thread's pool (at least `layout.size()` bytes, aligned to
// `GRANULE`, which `pooled` checked is enough) or from the global allocator, and goes back to
// where it came from: the same test on its layout decides both ways.
unsafe impl Allocator for ItemAlloc {
    #[inline]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if !pooled(layout) {
            return Global.allocate(layout);
        }
        let block = ITEM_POOL.with_borrow_mut(|pool| pool.alloc(layout.size()));
        Ok(NonNull::slice_from_raw_parts(block, layout.size()))
    }

    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        if !pooled(old) && !pooled(new) {
            // Both the system's: it resizes the block in place where it can, as it would any
            // `Vec`'s (a long list growing by pushes is not copied each time).
            // SAFETY: the block came from `Global` with `old` (the caller's contract and
            // `allocate`); the rest of the contract is the caller's too.
            return unsafe { Global.grow(ptr, old, new) };
        }
        let grown = self.allocate(new)?;
        // SAFETY: the new block has room for the old one's `old.size()` bytes (the caller's
        // contract: `new` is not smaller) and is a different block; the old one is given
        // back once, as the caller's contract allows (it came from `allocate(old)`).
        unsafe {
            std::ptr::copy_nonoverlapping(ptr.as_ptr(), grown.cast::<u8>().as_ptr(), old.size());
            self.deallocate(ptr, old);
        }
        Ok(grown)
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if !pooled(layout) {
            // SAFETY: `allocate` took it from `Global` with this layout (the caller's
            // contract: `ptr` came from `allocate(layout)`).
            unsafe { Global.deallocate(ptr, layout) };
            return;
        }
        // Once the thread's pool is gone (a buffer dropped by a later thread-local
        // destructor), its chunks, this block's among them, were already given back.
        let _ = ITEM_POOL.try_with(|pool| {
            // SAFETY: the block came from this thread's pool with this size and is not used
            // again (the caller's contract).
            unsafe { pool.borrow_mut().free(ptr, layout.size()) }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Items = allocator_api2::vec::Vec<u64, ItemAlloc>;

    #[test]
    fn small_item_buffers_are_the_pools_blocks_and_come_back_to_it() {
        let first = Items::with_capacity_in(4, ItemAlloc);
        let addr = first.as_ptr();
        drop(first);
        // The freed block heads its class's free list: the next buffer of its size is it.
        let again = Items::with_capacity_in(4, ItemAlloc);
        assert_eq!(again.as_ptr(), addr);
        // What tells the pool from `malloc` (which may also hand a freed block back): the
        // buffers were carved from this thread's pool.
        let chunks = ITEM_POOL.with_borrow(|p| p.chunk_bytes());
        assert!(
            chunks >= CHUNK_BYTES,
            "small buffers are carved from the pool's chunks"
        );
    }

    #[test]
    fn item_buffers_keep_their_elements_as_they_grow_past_the_pool_and_shrink_back() {
        // Pushing one at a time goes through pooled blocks, then system blocks (moved once,
        // then resized in place where the system can).
        let mut items = Items::new_in(ItemAlloc);
        for i in 0..5_000u64 {
            items.push(i * 3);
            assert_eq!(items[i as usize / 2], (i / 2) * 3);
        }
        assert!(items.capacity() * 8 > MAX_POOLED);
        assert!(items.iter().enumerate().all(|(i, &v)| v == i as u64 * 3));
        items.truncate(3);
        items.shrink_to_fit();
        assert_eq!(&items[..], &[0, 3, 6]);
        // Back in the pool: a same-sized buffer made next takes the one this frees.
        let addr = items.as_ptr();
        drop(items);
        assert_eq!(Items::with_capacity_in(3, ItemAlloc).as_ptr(), addr);
    }

    #[test]
    fn a_freed_block_is_reused_by_its_class_only() {
        let mut pool = BlockPool::new();
        let a = pool.alloc(24);
        let b = pool.alloc(24);
        assert_ne!(a, b);
        // SAFETY: `a` came from `alloc(24)` and is not used again.
        unsafe { pool.free(a, 24) };
        // A block of another class does not take it; one of the same class (even of another
        // size within it) does, last freed first.
        let c = pool.alloc(48);
        assert_ne!(c, a);
        assert_eq!(pool.alloc(17), a);
        assert_ne!(pool.alloc(32), a);
    }

    #[test]
    fn blocks_are_aligned_and_disjoint() {
        let mut pool = BlockPool::new();
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for i in 0..20_000usize {
            let size = 1 + i * 7 % (MAX_POOLED + 64);
            let p = pool.alloc(size);
            assert_eq!(p.as_ptr() as usize % GRANULE, 0);
            // SAFETY: the block has at least `size` bytes; writing them all checks that
            // (under Miri) and that no two blocks overlap, with the check below.
            unsafe { std::ptr::write_bytes(p.as_ptr(), 0xa5, size) };
            blocks.push((p.as_ptr() as usize, size));
        }
        blocks.sort_unstable();
        for w in blocks.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0, "blocks overlap");
        }
        for &(p, size) in &blocks {
            let p = NonNull::new(p as *mut u8).unwrap();
            // SAFETY: each block came from `alloc(size)` and is freed once.
            unsafe { pool.free(p, size) };
        }
    }

    #[test]
    fn allocating_and_freeing_in_a_loop_stays_flat() {
        let mut pool = BlockPool::new();
        let mut live = Vec::new();
        for round in 0..50 {
            for i in 0..10_000usize {
                live.push((pool.alloc(24 + i % 200), 24 + i % 200));
            }
            for (p, size) in live.drain(..) {
                // SAFETY: each block came from `alloc(size)` and is freed once.
                unsafe { pool.free(p, size) };
            }
            if round == 0 {
                continue;
            }
            // Every round reuses the blocks of the first: no new chunk is taken.
            assert!(pool.chunk_bytes() <= 10 * CHUNK_BYTES);
        }
        let after_first = pool.chunk_bytes();
        for _ in 0..10 {
            for i in 0..10_000usize {
                live.push((pool.alloc(24 + i % 200), 24 + i % 200));
            }
            for (p, size) in live.drain(..) {
                // SAFETY: as above.
                unsafe { pool.free(p, size) };
            }
        }
        assert_eq!(pool.chunk_bytes(), after_first);
    }

    #[test]
    fn the_rest_of_a_chunk_is_not_lost() {
        let mut pool = BlockPool::new();
        // 256-byte blocks fill a chunk exactly; one 240-byte block first leaves 16 bytes at
        // the end, which become a free block of their class when the next chunk is taken.
        let first = pool.alloc(240);
        for _ in 0..CHUNK_BYTES / MAX_POOLED {
            pool.alloc(MAX_POOLED);
        }
        assert_eq!(pool.chunk_bytes(), 2 * CHUNK_BYTES);
        let rest = pool.alloc(16);
        assert_eq!(
            rest.as_ptr() as usize,
            first.as_ptr() as usize + CHUNK_BYTES - 16
        );
    }

    #[test]
    fn big_blocks_come_from_the_system() {
        let mut pool = BlockPool::new();
        let p = pool.alloc(MAX_POOLED + 1);
        assert_eq!(pool.chunk_bytes(), 0);
        // SAFETY: the block has `MAX_POOLED + 1` bytes; it is freed once.
        unsafe {
            std::ptr::write_bytes(p.as_ptr(), 1, MAX_POOLED + 1);
            pool.free(p, MAX_POOLED + 1);
        }
    }
}
