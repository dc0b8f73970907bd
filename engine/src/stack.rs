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
//! Aliasing: slots are only ever written through pointers obtained from `Vec::as_mut_ptr`,
//! whose documented guarantee keeps earlier such pointers valid until the vector
//! reallocates, which only `ensure` does.

use crate::value::Value;

/// The register stack.
#[derive(Default)]
pub struct Stack {
    slots: Vec<Value>,
}

impl Stack {
    /// Number of slots.
    #[inline]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no slots.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The value in slot `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Value {
        self.slots[i]
    }

    /// Stores `v` in slot `i`.
    #[inline]
    pub fn set(&mut self, i: usize, v: Value) {
        assert!(i < self.slots.len(), "stack slot {i} out of bounds");
        // SAFETY: `i` is in bounds (checked above); the pointer comes from `as_mut_ptr`, so
        // writing through it keeps other `as_mut_ptr` pointers valid (see module docs).
        unsafe { self.slots.as_mut_ptr().add(i).write(v) }
    }

    /// Slots `start..start + n`.
    #[inline]
    pub fn slice(&self, start: usize, n: usize) -> &[Value] {
        &self.slots[start..start + n]
    }

    /// A pointer to slot `i` (`i <= len`), for register access by the interpreter and by
    /// compiled code. Valid until the next `ensure` that grows the stack.
    #[inline]
    pub fn ptr(&mut self, i: usize) -> *mut Value {
        assert!(i <= self.slots.len(), "stack slot {i} out of bounds");
        // SAFETY: `i <= len`, so the offset stays within (or one past) the allocation.
        unsafe { self.slots.as_mut_ptr().add(i) }
    }

    /// Makes the stack at least `top` slots long (new slots are `nil`). This is the only
    /// operation that can move the slots; callers re-derive their pointers afterwards.
    pub fn ensure(&mut self, top: usize) {
        if top > self.slots.len() {
            let new_len = (self.slots.len() * 2).max(top).max(64);
            self.slots.resize(new_len, Value::Nil);
        }
    }

    /// Resets every slot from `from` on to `nil` (dead registers, after a collection).
    pub fn clear_from(&mut self, from: usize) {
        for i in from..self.slots.len() {
            // SAFETY: `i < len`; written through `as_mut_ptr` as everywhere else.
            unsafe { self.slots.as_mut_ptr().add(i).write(Value::Nil) }
        }
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
