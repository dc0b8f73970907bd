//! The register stack: one contiguous array of value slots holding the registers of every
//! active frame, shared by the interpreter and compiled code (which address slots by raw
//! pointer). Frames are nested windows: a callee's registers start just above the calling
//! instruction's register, and every register above that is dead at the call.
//!
//! Invariant: every slot holds either a non-heap value or a reference to a live object. The
//! collector scans all slots below the top frame's end and resets every slot above it to
//! `nil`, so a slot never refers to a freed object; registers therefore need no clearing
//! when a frame is entered.
//!
//! The slots are one allocation of `max_stack_slots` values made when a program starts,
//! zero-filled by the allocator (an all-zero slot is `nil`) so that the system commits only
//! the pages actually used. It never moves: compiled code keeps register addresses across
//! calls. `ensure` only raises the logical length (the high-water mark the collector scans
//! and clears) within that allocation.
//!
//! Also here: the frame stack, a fixed-capacity array of `Frame` records that compiled code
//! pushes and pops directly.

use std::mem::MaybeUninit;

use crate::bytecode::ProtoId;
use crate::runtime::heap::{Closure, Gc};
use crate::runtime::value::Value;

/// The register stack.
#[repr(C)]
pub struct Stack {
    /// Start of the slots (compiled code reads it); dangling until `reserve`.
    base: *mut Value,
    /// Number of slots in use: the high-water mark (compiled code reads it).
    size: usize,
    /// Number of slots allocated.
    cap: usize,
}

impl Default for Stack {
    fn default() -> Self {
        Stack {
            base: std::ptr::NonNull::dangling().as_ptr(),
            size: 0,
            cap: 0,
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.cap > 0 {
            let layout = std::alloc::Layout::array::<Value>(self.cap).expect("layout was valid");
            // SAFETY: `base` was allocated by `reserve` with this same layout and is freed
            // only here.
            unsafe { std::alloc::dealloc(self.base.cast(), layout) }
        }
    }
}

impl Stack {
    /// Allocates room for `cap` slots, once; returns false when the system refuses.
    pub fn reserve(&mut self, cap: usize) -> bool {
        if self.cap > 0 {
            return true;
        }
        let Ok(layout) = std::alloc::Layout::array::<Value>(cap.max(1)) else {
            return false;
        };
        // SAFETY: the layout has a nonzero size. Zeroed memory is a valid `Value` (tag 0,
        // `nil`, with an unused payload).
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        if p.is_null() {
            return false;
        }
        self.base = p.cast();
        self.cap = cap.max(1);
        true
    }

    /// Number of slots in use.
    #[inline]
    pub fn len(&self) -> usize {
        self.size
    }

    /// Whether no slot is in use.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The value in slot `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Value {
        assert!(i < self.size, "stack slot {i} out of bounds");
        // SAFETY: `i < size <= cap`, inside the allocation, and every slot holds a value.
        unsafe { self.base.add(i).read() }
    }

    /// Stores `v` in slot `i`.
    #[inline]
    pub fn set(&mut self, i: usize, v: Value) {
        assert!(i < self.size, "stack slot {i} out of bounds");
        // SAFETY: `i < size <= cap`: inside the allocation.
        unsafe { self.base.add(i).write(v) }
    }

    /// Stores `v` in slot `i` word by word (`copy_value`): for a value a call just returned
    /// through memory, where it was written so, which a whole-value copy would stall on.
    #[inline]
    pub fn set_words(&mut self, i: usize, v: Value) {
        assert!(i < self.size, "stack slot {i} out of bounds");
        // SAFETY: `v` is a value; `i < size <= cap`: slot `i` is inside the allocation.
        unsafe { copy_value(&v, self.base.add(i)) }
    }

    /// Slots `start..start + n`.
    #[inline]
    pub fn slice(&self, start: usize, n: usize) -> &[Value] {
        assert!(start + n <= self.size, "stack slots out of bounds");
        // SAFETY: the range is inside the used slots, all initialized values.
        unsafe { std::slice::from_raw_parts(self.base.add(start), n) }
    }

    /// A pointer to slot `i` (`i <= len`), for register access by the interpreter and by
    /// compiled code. Valid as long as the stack (the slots never move).
    #[inline]
    pub fn ptr(&mut self, i: usize) -> *mut Value {
        assert!(i <= self.size, "stack slot {i} out of bounds");
        // SAFETY: `i <= size <= cap`, so the offset stays within (or one past) the allocation.
        unsafe { self.base.add(i) }
    }

    /// `ptr` without the bounds check, for the dispatch loop's frame entry.
    ///
    /// # Safety
    /// `i <= len` (for a frame's base: `push_frame` made its registers part of the stack).
    #[inline(always)]
    pub unsafe fn ptr_unchecked(&mut self, i: usize) -> *mut Value {
        debug_assert!(i <= self.size, "stack slot {i} out of bounds");
        // SAFETY: the caller promises `i <= size <= cap`: within or one past the allocation.
        unsafe { self.base.add(i) }
    }

    /// Makes at least `top` slots usable (`top` at most the reserved capacity); new slots
    /// are `nil`. The slots do not move.
    pub fn ensure(&mut self, top: usize) {
        assert!(
            top <= self.cap,
            "stack of {top} slots exceeds its reservation"
        );
        if top > self.size {
            self.size = (self.size * 2).max(top).max(64).min(self.cap);
        }
    }

    /// Byte offset of the base pointer field, for compiled code.
    pub const BASE_OFFSET: usize = std::mem::offset_of!(Stack, base);
    /// Byte offset of the slot count field, for compiled code.
    pub const LEN_OFFSET: usize = std::mem::offset_of!(Stack, size);

    /// Resets every used slot from `from` on to `nil` (dead registers, after a collection).
    pub fn clear_from(&mut self, from: usize) {
        for i in from..self.size {
            // SAFETY: `i < size <= cap`: inside the allocation.
            unsafe { self.base.add(i).write(Value::Nil) }
        }
    }
}

/// One active Echo call, in the layout compiled code reads and writes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// The running closure.
    pub closure: Gc<Closure>,
    /// Its prototype.
    pub proto: ProtoId,
    /// Stack index of register 0.
    pub base: u32,
    /// Next instruction (saved while the frame is not on top, or after an error).
    pub pc: u32,
    /// Stack index that receives the return value.
    pub ret: u32,
}

/// The stack of active frames: a fixed array (capacity = the call depth limit) so that it
/// never moves and compiled code can push and pop frames itself.
#[repr(C)]
pub struct FrameStack {
    buf: *mut MaybeUninit<Frame>,
    len: usize,
    cap: usize,
}

impl FrameStack {
    /// Byte offset of the buffer pointer, for compiled code.
    pub const BUF_OFFSET: usize = std::mem::offset_of!(FrameStack, buf);
    /// Byte offset of the length, for compiled code.
    pub const LEN_OFFSET: usize = std::mem::offset_of!(FrameStack, len);
    /// Byte offset of the capacity, for compiled code.
    pub const CAP_OFFSET: usize = std::mem::offset_of!(FrameStack, cap);

    /// An empty stack with room for no frame (see `reserve`).
    pub fn new() -> FrameStack {
        FrameStack {
            buf: std::ptr::NonNull::dangling().as_ptr(),
            len: 0,
            cap: 0,
        }
    }

    /// Makes room for `cap` frames, once: the buffer never moves afterwards (compiled code
    /// keeps frame addresses). The system commits only the pages frames are pushed into, so a
    /// large depth limit costs address space, not memory. `false` when it cannot be had.
    pub fn reserve(&mut self, cap: usize) -> bool {
        if self.cap > 0 {
            return true;
        }
        let Ok(layout) = std::alloc::Layout::array::<Frame>(cap.max(1)) else {
            return false;
        };
        // SAFETY: the layout has a nonzero size (`Frame` is not zero-sized).
        let p = unsafe { std::alloc::alloc(layout) };
        if p.is_null() {
            return false;
        }
        self.buf = p.cast();
        self.cap = cap.max(1);
        true
    }

    /// Number of active frames.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no frame is active.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maximum number of frames.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Pushes a frame; `false` when full.
    #[inline]
    pub fn push(&mut self, f: Frame) -> bool {
        if self.len == self.cap {
            return false;
        }
        // SAFETY: `len < cap`, so the slot is inside the buffer allocated for `cap` frames.
        unsafe { (*self.buf.add(self.len)).write(f) };
        self.len += 1;
        true
    }

    /// Pops the top frame.
    #[inline]
    pub fn pop(&mut self) -> Option<Frame> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: slots below the old `len` were initialised by `push` (or by compiled code,
        // which writes a complete frame before raising `len`).
        Some(unsafe { (*self.buf.add(self.len)).assume_init() })
    }

    /// The frames, bottom first.
    #[inline]
    pub fn as_slice(&self) -> &[Frame] {
        // SAFETY: the first `len` slots are initialised (see `pop`); `MaybeUninit<Frame>` has
        // the layout of `Frame`.
        unsafe { std::slice::from_raw_parts(self.buf as *const Frame, self.len) }
    }

    /// The frames, bottom first, mutably.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [Frame] {
        // SAFETY: as in `as_slice`, and `&mut self` gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.buf as *mut Frame, self.len) }
    }

    /// The top frame.
    #[inline]
    pub fn last(&self) -> Option<&Frame> {
        self.as_slice().last()
    }

    /// Where the top frame lives (the stack must not be empty): the dispatch loop keeps it
    /// while the frame runs, as the buffer never moves and frames pushed above it (calls)
    /// leave it in place.
    #[inline(always)]
    pub fn top_ptr(&mut self) -> *mut Frame {
        debug_assert!(self.len > 0, "no frame is running");
        // Wrapping arithmetic: no undefined behaviour even for an empty stack; the pointer is
        // only read when a frame is there.
        self.buf.wrapping_add(self.len.wrapping_sub(1)).cast()
    }

    /// Removes the top frame without reading it (nothing when empty).
    #[inline(always)]
    pub fn discard_top(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// The top frame, mutably.
    #[inline]
    pub fn last_mut(&mut self) -> Option<&mut Frame> {
        self.as_mut_slice().last_mut()
    }

    /// Drops every frame.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Iterates over the frames, bottom first.
    pub fn iter(&self) -> std::slice::Iter<'_, Frame> {
        self.as_slice().iter()
    }
}

impl Default for FrameStack {
    fn default() -> Self {
        FrameStack::new()
    }
}

impl Drop for FrameStack {
    fn drop(&mut self) {
        if self.cap == 0 {
            return;
        }
        let layout = std::alloc::Layout::array::<Frame>(self.cap).expect("reserved before");
        // SAFETY: `buf` was allocated in `reserve` with this layout and is freed only here;
        // frames need no drop.
        unsafe { std::alloc::dealloc(self.buf.cast(), layout) };
    }
}

/// Copies the value at `src` to `dst` as two separate 8-byte words (tag, then payload).
///
/// A value is usually written as two 8-byte stores (tag and payload); reading it back right
/// away with one 16-byte load defeats the CPU's store forwarding and stalls for many cycles.
/// Copying word by word keeps every load the same size as the store that feeds it.
///
/// # Safety
/// `src` and `dst` must be valid, aligned pointers to values (they may be equal).
#[inline(always)]
pub unsafe fn copy_value(src: *const Value, dst: *mut Value) {
    use std::mem::MaybeUninit;
    let s = src as *const MaybeUninit<u64>;
    let d = dst as *mut MaybeUninit<u64>;
    // SAFETY: per the contract both point to 16 readable/writable, 8-aligned bytes; the
    // words are copied as `MaybeUninit`, so a payload-free value's unwritten payload word is
    // never interpreted. Volatile accesses keep the two words from being fused into one
    // 16-byte access.
    unsafe {
        let tag = std::ptr::read_volatile(s);
        let payload = std::ptr::read_volatile(s.add(1));
        std::ptr::write_volatile(d, tag);
        std::ptr::write_volatile(d.add(1), payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::value::NativeId;

    #[test]
    fn a_value_stored_word_by_word_reads_back_the_same() {
        let mut stack = Stack::default();
        assert!(stack.reserve(16));
        stack.ensure(16);
        for (i, v) in [
            Value::Int(-42),
            Value::Float(-0.5),
            Value::Native(NativeId(9)),
            Value::True,
            Value::Nil,
        ]
        .into_iter()
        .enumerate()
        {
            // Over a slot that held something else, so no word is left from before.
            stack.set(i, Value::Int(i64::MAX));
            stack.set_words(i, v);
            assert_eq!(stack.get(i).to_bits(), v.to_bits(), "{v:?}");
        }
    }
}
