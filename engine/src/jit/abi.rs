//! The layouts compiled code shares with the runtime, as byte offsets taken from the runtime's
//! own types (`offset_of!`), never restated: VM fields, frame records, per-prototype records,
//! inline caches, and the value representation.

use std::mem::offset_of;

use cranelift_codegen::ir::MemFlagsData;

use crate::runtime::stack::{Frame, FrameStack, Stack};
use crate::runtime::value::{PAYLOAD_OFFSET, TAG_OFFSET, VALUE_SIZE};
use crate::runtime::vm::{Ic, Mirrors, ProtoInfo, Vm};

/// Bytes of one value (registers, globals, constants and fields are arrays of values).
pub(crate) const VALUE: i32 = VALUE_SIZE as i32;
/// `log2(VALUE)`: an index times `VALUE` is a shift.
pub(crate) const VALUE_SHIFT: i64 = VALUE_SIZE.trailing_zeros() as i64;
const _: () = assert!(VALUE_SIZE.is_power_of_two());
/// Offset of a value's tag word.
pub(crate) const TAG: i32 = TAG_OFFSET as i32;
/// Offset of a value's payload word.
pub(crate) const PAYLOAD: i32 = PAYLOAD_OFFSET as i32;

/// Offset of value `i` of an array of values.
pub(crate) const fn value_at(i: u32) -> i32 {
    i as i32 * VALUE
}

// VM fields.
pub(crate) const FUEL: i32 = offset_of!(Vm, fuel_left) as i32;
pub(crate) const NATIVE_LIMIT: i32 = offset_of!(Vm, native_limit) as i32;
pub(crate) const MAX_COLLECTION_LEN: i32 =
    (offset_of!(Vm, limits) + offset_of!(crate::config::Limits, max_collection_len)) as i32;
pub(crate) const STACK_BASE: i32 = (offset_of!(Vm, stack) + Stack::BASE_OFFSET) as i32;
pub(crate) const STACK_LEN: i32 = (offset_of!(Vm, stack) + Stack::LEN_OFFSET) as i32;
pub(crate) const FRAMES_BUF: i32 = (offset_of!(Vm, frames) + FrameStack::BUF_OFFSET) as i32;
pub(crate) const FRAMES_LEN: i32 = (offset_of!(Vm, frames) + FrameStack::LEN_OFFSET) as i32;
pub(crate) const FRAMES_CAP: i32 = (offset_of!(Vm, frames) + FrameStack::CAP_OFFSET) as i32;
pub(crate) const M_FN_INFO: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, fn_info)) as i32;
pub(crate) const M_CALLS: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, calls)) as i32;
pub(crate) const M_GLOBALS: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, globals)) as i32;
pub(crate) const M_ICS: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, ics)) as i32;
pub(crate) const M_CONSTS: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, consts)) as i32;

/// The pointer to the heap's shared strings (`runtime::heap::layout::HEAP_SHARED`).
pub(crate) const HEAP_SHARED: i32 =
    offset_of!(Vm, heap) as i32 + crate::runtime::heap::layout::HEAP_SHARED;
/// `Heap::bytes` (`runtime::heap::layout::HEAP_BYTES`).
pub(crate) const HEAP_BYTES: i32 =
    offset_of!(Vm, heap) as i32 + crate::runtime::heap::layout::HEAP_BYTES;
/// `Heap::next_gc`.
pub(crate) const HEAP_NEXT_GC: i32 =
    offset_of!(Vm, heap) as i32 + crate::runtime::heap::layout::HEAP_NEXT_GC;
/// `Heap::stress` (a byte).
pub(crate) const HEAP_STRESS: i32 =
    offset_of!(Vm, heap) as i32 + crate::runtime::heap::layout::HEAP_STRESS;

// Frame records.
pub(crate) const FRAME_SIZE: i64 = std::mem::size_of::<Frame>() as i64;
pub(crate) const FRAME_CLOSURE: i32 = offset_of!(Frame, closure) as i32;
pub(crate) const FRAME_PROTO: i32 = offset_of!(Frame, proto) as i32;
pub(crate) const FRAME_BASE: i32 = offset_of!(Frame, base) as i32;
pub(crate) const FRAME_PC: i32 = offset_of!(Frame, pc) as i32;
pub(crate) const FRAME_RET: i32 = offset_of!(Frame, ret) as i32;

// Per-prototype call records.
pub(crate) const FN_INFO_SIZE: i64 = std::mem::size_of::<ProtoInfo>() as i64;
pub(crate) const FN_ENTRY: i32 = offset_of!(ProtoInfo, entry) as i32;
pub(crate) const FN_ARITY: i32 = offset_of!(ProtoInfo, arity) as i32;
pub(crate) const FN_NREGS: i32 = offset_of!(ProtoInfo, nregs) as i32;

// Inline-cache records.
pub(crate) const IC_SIZE: i64 = std::mem::size_of::<Ic>() as i64;
pub(crate) const IC_SHAPE: i32 = offset_of!(Ic, shape) as i32;
pub(crate) const IC_SLOT: i32 = offset_of!(Ic, slot) as i32;
pub(crate) const IC_NEXT: i32 = offset_of!(Ic, next) as i32;
pub(crate) const IC_METHOD: i32 = offset_of!(Ic, method) as i32;

/// Memory flags of every access compiled code makes: aligned, and never trapping (every
/// address is valid by construction).
pub(crate) fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}
