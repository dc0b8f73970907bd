//! Deliberate JIT bugs ("mutants"), compiled in only with the `mutants` feature and selected
//! per thread at run time, so that `echo-harness selftest` can check that the differential
//! harness finds each class of bug. Every mutant changes compiled code only, and what each one
//! does wrong is written here: the lowering and the helpers only ask (`mutant!`, or a hook
//! below that answers `None`/the right value unless its mutant is active; without the
//! feature every hook folds to the right behaviour).

#[cfg(feature = "mutants")]
use std::cell::Cell;

use crate::bytecode::Op;
use crate::runtime::error::RtResult;
use crate::runtime::heap::{Closure, Gc, UpBox};
use crate::runtime::ops::Arith;
use crate::runtime::value::{NativeId, Value};
use crate::runtime::vm::Vm;

use crate::bytecode::liveness::RegSet;

#[cfg(feature = "mutants")]
macro_rules! mutants {
    ($( $(#[doc = $doc:literal])+ $variant:ident => $name:literal, $class:literal; )*) => {
        /// One deliberate bug of the JIT tier.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Mutant {
            $( $(#[doc = $doc])+ $variant, )*
        }

        impl Mutant {
            /// Every mutant, in declaration order.
            pub const ALL: &'static [Mutant] = &[ $( Mutant::$variant, )* ];

            /// The mutant's name (snake case, as given on command lines and used for file
            /// names).
            pub fn name(self) -> &'static str {
                match self {
                    $( Mutant::$variant => $name, )*
                }
            }

            /// The class of real JIT bug it models.
            pub fn class(self) -> &'static str {
                match self {
                    $( Mutant::$variant => $class, )*
                }
            }

            /// What the mutant gets wrong, in one line.
            pub fn description(self) -> &'static str {
                match self {
                    $( Mutant::$variant => concat!($($doc),+).trim_ascii(), )*
                }
            }
        }
    };
}

#[cfg(feature = "mutants")]
mutants! {
    /// Int `+` in compiled code wraps around instead of raising OverflowError.
    AddOverflowUnchecked => "add_overflow_unchecked", "dropped overflow check";
    /// Unary minus in compiled code negates i64::MIN without raising OverflowError.
    NegMinUnchecked => "neg_min_unchecked", "dropped overflow check";
    /// `pow` on ints called from compiled code takes a fast path that wraps on overflow.
    PowWraps => "pow_wraps", "dropped overflow check";
    /// Float `<` between two floats is compiled as `<=`.
    FloatLtAsLe => "float_lt_as_le", "wrong comparison sense";
    /// `x >= k` against an int literal is compiled as `x > k`.
    GeImmAsGt => "ge_imm_as_gt", "wrong comparison sense";
    /// `==` between an int and a float is false in compiled code (no conversion).
    EqIntFloatUnequal => "eq_int_float_unequal", "int/float confusion";
    /// The result of float `-` in compiled code is tagged as an int.
    FloatSubTaggedInt => "float_sub_tagged_int", "int/float confusion";
    /// Int `%` in compiled code floors (result takes the divisor's sign) instead of truncating.
    ModFloored => "mod_floored", "modulo sign for negative operands";
    /// Int `/` in compiled code rounds toward negative infinity instead of toward zero.
    DivFloored => "div_floored", "integer division rounding";
    /// Compiled branches treat the int 0 as falsy.
    ZeroIsFalsy => "zero_is_falsy", "wrong truthiness";
    /// `string + int` from compiled code concatenates the int's text instead of a TypeError.
    ConcatCoerces => "concat_coerces", "silent coercion";
    /// A list index equal to the length reads nil in compiled code instead of an IndexError.
    IndexAtLenAccepted => "index_at_len_accepted", "off-by-one bounds check";
    /// A list index of -1 reads the last element in compiled code instead of an IndexError.
    IndexNegativeWraps => "index_negative_wraps", "signed/unsigned bounds check";
    /// Compiled code's map fast path takes a float index for the int key of its value
    /// (`m[2.0]` reads or updates `m[2]`) instead of raising TypeError.
    MapFastFloatKey => "map_fast_float_key", "silent coercion";
    /// `has(map, key)` in compiled code takes any key for a key the map may hold: a float,
    /// nil or list key gives false instead of a TypeError.
    HasKeyKindUnchecked => "has_key_kind_unchecked", "missing error path";
    /// Compiled `==` takes two lists for equal only when they are the same list, as it does
    /// for instances (`[1] == [1]` is false).
    EqListByIdentity => "eq_list_by_identity", "identity instead of value equality";
    /// Two strings of the same length are equal in compiled code (their texts are not
    /// compared).
    StrEqByLength => "str_eq_by_length", "identity instead of value equality";
    /// `push` in compiled code appends without checking the collection limit while the
    /// list's buffer has room, so the SizeLimit error comes late (when the buffer grows).
    PushLimitUnchecked => "push_limit_unchecked", "missing limit check";
    /// A class called from compiled code makes the new instance but never runs its `init`:
    /// the instance is left without the fields `init` sets.
    ClassCallSkipsInit => "class_call_skips_init", "missing call";
    /// A field added in compiled code (a cached transition, with room in the instance) is
    /// stored, but the instance keeps its old shape.
    FieldAddShapeKept => "field_add_shape_kept", "stale shape";
    /// `sqrt` of an int in compiled code takes the int's bits for a float's instead of
    /// converting it.
    SqrtIntAsBits => "sqrt_int_as_bits", "wrong conversion";
    /// A compilation finished on the compiler thread is installed as the function's other
    /// version: its normal code as the OSR version (entered at a loop header, it starts the
    /// function over) and its OSR code as the normal one.
    BackgroundVersionSwapped => "background_version_swapped", "wrong code installed";
    /// `for x in list` in compiled code stops before the list's last element.
    IterListSkipsLast => "iter_list_skips_last", "off-by-one loop bound";
    /// Reading a missing map key in compiled code gives nil instead of a KeyError.
    MapMissNil => "map_miss_nil", "missing error path";
    /// `for i in a..b` in compiled code also runs the iteration `i == b`.
    ForRangeInclusive => "for_range_inclusive", "off-by-one loop bound";
    /// A method call that hits its inline cache checks that the receiver is an instance but
    /// not its class.
    InvokeIcIgnoresClass => "invoke_ic_ignores_class", "stale inline cache (class change)";
    /// A field read whose cache entry is for another shape reuses the cached slot.
    FieldIcIgnoresShape => "field_ic_ignores_shape", "stale inline cache (shape change)";
    /// A side exit leaves the lowest changed register unstored, so the interpreter resumes
    /// with its old value.
    SideExitDropsRegister => "side_exit_drops_register", "wrong deoptimization state";
    /// A side exit resumes the interpreter after the failed instruction instead of at it.
    SideExitSkipsInstruction => "side_exit_skips_instruction", "wrong deoptimization pc";
    /// An OSR entry does not load one live register from its slot (it starts as nil).
    OsrSkipsRegister => "osr_skips_register", "wrong OSR entry state";
    /// Builtin calls from compiled code charge no fuel.
    NativeCallFuelFree => "native_call_fuel_free", "fuel not charged on one path";
    /// An uncaught error in compiled code records the next instruction's line.
    ErrorLineNextInstruction => "error_line_next_instruction", "wrong error location";
    /// Errors raised by builtins called from compiled code are dropped: execution goes on.
    NativeStatusIgnored => "native_status_ignored", "helper status not checked";
    /// A sync before a helper call stores only the registers live after the instruction,
    /// not the operands it reads (dead after it), so the helper reads their old values.
    SyncDropsOperands => "sync_drops_operands", "operands not synced before a safepoint";
    /// Registers known to hold ints are not stored (before a helper call, nor where a write
    /// goes through to its slot), so the helper (and the interpreter after it) read their old
    /// values.
    IntRegisterNotSynced => "int_register_not_synced", "register not synced before a safepoint";
    /// Closures created by compiled code capture copies of variables instead of sharing them.
    ClosureCaptureCopied => "closure_capture_copied", "closure capture copied";
    /// `super.m(...)` in compiled code is resolved against the method's own class.
    SuperOwnClass => "super_own_class", "super resolved against the wrong class";
    /// `for k in map` in compiled code visits the keys newest first.
    MapIterationReversed => "map_iteration_reversed", "map iteration order";
    /// A register overwritten by a call's or helper's result keeps what the translator knew
    /// about its old value: `f(x)(y)` calls `f` again instead of the function `f(x)` returned.
    ReloadKeepsFacts => "reload_keeps_facts", "stale per-register fact after a write";
    // Mutants written as a JIT author's plausible slips in each lowering function, before
    // any generator change aimed at them (the selftest reports how each was first found).
    /// `==` between two floats in compiled code compares their bits (-0.0 != 0.0, nan == nan).
    FloatEqByBits => "float_eq_by_bits", "float equality by bits";
    /// `==` between two strings in compiled code compares the objects, not the text.
    StringEqByPointer => "string_eq_by_pointer", "identity instead of value equality";
    /// `<`, `<=`, `>`, `>=` between an int and a float in compiled code convert the int to a
    /// float first (wrong beyond 2^53).
    IntFloatOrderViaF64 => "int_float_order_via_f64", "lossy int/float conversion";
    /// Float `>=` in compiled code is computed as not `<` (wrong for nan).
    FloatGeAsNotLt => "float_ge_as_not_lt", "wrong comparison sense (nan)";
    /// Int `<` against a literal in compiled code compares unsigned.
    LtImmUnsigned => "lt_imm_unsigned", "wrong condition code (signedness)";
    /// Int `*` in compiled code detects overflow by the sign of the result only.
    MulOverflowBySign => "mul_overflow_by_sign", "overflow check done another way";
    /// Int `-` of a literal in compiled code does not check for overflow.
    SubImmOverflowUnchecked => "sub_imm_overflow_unchecked", "dropped overflow check";
    /// Float negation in compiled code is computed as 0.0 - x (so -(0.0) is 0.0, not -0.0).
    FloatNegAsZeroSub => "float_neg_as_zero_sub", "float edge value (signed zero)";
    /// Int arithmetic whose destination is also its right operand reads the left operand
    /// twice in compiled code (`x = y - x` computes `y - y`).
    DestIsRhsClobbered => "dest_is_rhs_clobbered", "operand clobbered by the destination";
    /// Int `+ - *` in compiled code writes the wrapped result to the destination before the
    /// overflow check, so the exact slow path reads a clobbered operand.
    OverflowWritesDest => "overflow_writes_dest", "destination written before a check";
    /// The int tag test of arithmetic in compiled code also admits `true` (the next tag down).
    IntTagAdmitsTrue => "int_tag_admits_true", "tag test admits a neighbouring tag";
    /// `not x` in compiled code is true only for `false` (not for nil).
    NotNilFalse => "not_nil_false", "wrong truthiness (nil)";
    /// A captured variable read twice in one block of compiled code gives the first read's
    /// value, even when a call in between changed it.
    UpvalCachedAcrossCall => "upval_cached_across_call", "value cached across a call";
    /// A register given another object keeps its old object's shape check: `o.f` after
    /// `o = other` in the same block of compiled code reads the old object's field.
    ShapeCheckSurvivesWrite => "shape_check_survives_write", "stale per-register fact after a write";
    /// `l[i] = literal` in compiled code, when it takes the helper (a map, an error), passes
    /// the literal's index among the function's constants where the VM-wide index belongs,
    /// so another function's constant is stored.
    SetIndexKLocalConst => "set_index_k_local_const", "wrong constant-pool index";
    /// A call of a global function or class by name in compiled code leaves the callee out of
    /// its register's slot, so a call that goes through the helper (a callee not compiled
    /// yet, a class) calls whatever that register held before.
    CallGlobalCalleeUnstored => "call_global_callee_unstored", "register not stored before a call";
    /// A global read in compiled code is never checked for being set, even when it was not
    /// set yet when the function was compiled: a read before the global's `let` gives an
    /// internal undefined value instead of raising NameError.
    UnsetGlobalUnchecked => "unset_global_unchecked", "dropped check (fact taken too early)";
    /// A register written before a loop and not in it, which the storage plan stores at its
    /// write so that calls in the loop need not store it, is not stored there after all: the
    /// calls in the loop leave its slot stale, and so do the exits after them.
    LoopInvariantUnstored => "loop_invariant_unstored", "wrong deoptimization state";
    /// Compiled `m[k]` and `m[k] = v` call the map look-up helper without storing the map's
    /// and the key's registers, so it reads their slots as they were at the last safepoint:
    /// a key computed since is looked up as the old one.
    MapKeyUnstored => "map_key_unstored", "register not stored before a helper reads it";
    /// A builtin called through a value from compiled code drops arguments beyond its
    /// maximum instead of raising ArityError.
    NativeValueExtraArgsDropped => "native_value_extra_args_dropped", "missing arity check";
    /// A compiled loop's back-edge charges its fuel but never checks for running out (the
    /// count wraps), so a runaway loop in compiled code never ends.
    LoopFuelUnchecked => "loop_fuel_unchecked", "dropped limit check (hang)";
    /// The test at the end of a compiled `while` loop's body (its fused back-edge) charges
    /// its fuel but never checks for running out, so a runaway `while` loop never ends.
    WhileTestFuelUnchecked => "while_test_fuel_unchecked", "dropped limit check (hang)";
    /// A compiled `while` loop's test that leaves to the interpreter when its operands are not
    /// ints keeps the unit of fuel it charged, and the interpreter charges it again.
    WhileTestRecharged => "while_test_recharged", "fuel charged twice across a side exit";
    /// Compiled `l[i]` on a list counts a negative index from the end (`l[-1]` is the last
    /// element) instead of raising IndexError.
    ListGetNegativeWraps => "list_get_negative_wraps", "missing bounds check";
    /// Compiled `l[i] = v` on a list counts a negative index from the end instead of raising
    /// IndexError.
    ListSetNegativeWraps => "list_set_negative_wraps", "missing bounds check";
    /// Compiled arithmetic speculating on numbers reads an operand that is not a number as
    /// a float (the payload's bits) instead of leaving to the interpreter.
    NumberGuardAdmitsAny => "number_guard_admits_any", "guard accepting a wrong type";
    /// Compiled `len(s)` of a string gives its length in bytes instead of characters.
    LenCountsBytes => "len_counts_bytes", "bytes for characters";
    /// Compiled `s[i]` on an ASCII string counts a negative index from the end instead of
    /// raising IndexError.
    StrIndexNegativeWraps => "str_index_negative_wraps", "missing bounds check";
    /// Compiled `ord(s)` takes the first byte of any non-empty string instead of requiring
    /// one character (and giving its code point).
    OrdIgnoresLength => "ord_ignores_length", "missing length check";
    /// Subtracting a float constant in compiled code (`x - 1.5`, `SubK`) computes the constant
    /// minus the operand.
    FloatConstSubSwapped => "float_const_sub_swapped", "operands swapped (float constant)";
    /// The general path of arithmetic with its literal on the left (`2 * x`, `AddIL`,
    /// `MulKL`...) in compiled code puts the literal on the right: errors name the operands,
    /// and overflow messages the values, in the wrong order.
    LiteralLeftReversed => "literal_left_reversed", "operands swapped (general path)";
    /// When a guard fails in an inlined method, the caller's frame is left to resume at the
    /// call itself instead of after it: once the interpreter has finished the callee, it
    /// calls the method again.
    InlineExitCallerAtCall => "inline_exit_caller_at_call", "wrong deoptimization pc (inlined frame)";
    /// When a guard fails in an inlined method, the registers the method wrote so far stay
    /// unstored, so the interpreter finishes the method with their slots' old values.
    InlineExitDropsWrites => "inline_exit_drops_writes", "wrong deoptimization state (inlined frame)";
    /// When a guard fails in a callee inlined at a call of the compiled function's own, the
    /// caller's registers below the call (which the call left in variables) stay unstored,
    /// so the interpreter goes on in the caller with their slots' old values.
    InlineExitSkipsCaller => "inline_exit_skips_caller", "wrong deoptimization state (caller of inlined frame)";
    /// A call of a field holding a function (`o.f(x)`) speculated on the receiver's shape
    /// checks that it is an instance but not its shape, and reads the cached slot.
    FieldCallIgnoresShape => "field_call_ignores_shape", "stale inline cache (field call)";
    /// A closure inlined where it is called drops its writes to captured variables: the
    /// variable is taken for one of the inlined frame's registers, which vanish with it.
    InlinedUpvalWriteDropped => "inlined_upval_write_dropped", "store lost with an inlined frame";
    /// A counted loop (`for i in a..b`) in an inlined callee never checks that its bounds
    /// are ints: a float bound is taken for the int of the same bits instead of raising
    /// the interpreter's error.
    InlinedForPrepUnchecked => "inlined_for_prep_unchecked", "guard dropped (loop in an inlined callee)";
    /// `len` in an inlined callee skips its unit of fuel (a call charges one in every tier).
    InlinedLenFuelFree => "inlined_len_fuel_free", "fuel not charged (inlined builtin)";
    /// A cold version leaving at a hot loop header for a version compiled with feedback
    /// stores none of its registers first (as if nothing had failed, nothing were owed).
    ReoptimizeExitUnstored => "reoptimize_exit_unstored", "wrong deoptimization state (reoptimization)";
    /// An OSR entry at a loop header other than the one the version was compiled at takes
    /// the numbers' tags the loop-header analysis expects there without checking them.
    OsrEntryTypesUnchecked => "osr_entry_types_unchecked", "guard accepts a wrong type (OSR entry)";
    /// `len` in an inlined callee skips the safepoint's register stores, so a register
    /// written before it stays unstored at a later exit (a builtin call counts as storing all).
    InlinedLenUnsynced => "inlined_len_unsynced", "wrong deoptimization state (inlined builtin)";
    /// When a guard fails in a callee inlined into an inlined callee, the enclosing callee's
    /// frame resumes at its call, which runs again.
    NestedExitResumesAtCall => "nested_exit_resumes_at_call", "wrong deoptimization state (nested inlined frames)";
    /// `==` in an inlined body answers "unequal" where it would leave for the interpreter (an
    /// int with a float, containers, long strings).
    InlinedEqualityGuessed => "inlined_equality_guessed", "wrong slow-path result (inlined equality)";
    /// A loop header's register types come from the loop's back-edges alone (as if the first
    /// iteration brought the same), and are trusted without the check.
    LoopTypesUnchecked => "loop_types_unchecked", "unchecked speculation (loop-header types)";
    /// Arithmetic compiled for floats alone computes two ints as floats instead of leaving.
    FloatOnlyIntsAsFloats => "float_only_ints_as_floats", "guard accepts a wrong type (float-only arithmetic)";
    /// A property site compiled for several shapes reads and writes every shape's field at
    /// the slot of the cache's current shape (kept within the instance's fields).
    PolyFieldsFirstSlot => "poly_fields_first_slot", "wrong field slot (polymorphic property access)";
    /// A class called by name whose superclass has an `init` of the same arity gets the
    /// superclass's `init` inlined instead of its own.
    CtorInlinesSuperInit => "ctor_inlines_super_init", "stale inlined callee (constructor)";
    /// An inlined `super` call's callee takes its registers from one past the receiver's (its
    /// `self` is the first argument), as an inlined function call's do.
    SuperInlineWindowShifted => "super_inline_window_shifted", "wrong inlined frame (super call)";
    /// A call of a function value speculated on its prototype, with the body inlined, checks
    /// that the value is a function but not which.
    CallTargetTagOnly => "call_target_tag_only", "guard accepts a wrong type (callee prototype)";
    /// An ordering comparison of an int with a float, compiled inline, reads the int's bits
    /// as a float instead of converting it.
    MixedOrderIntAsBits => "mixed_order_int_as_bits", "missing conversion (int/float comparison)";
    /// Arithmetic compiled for floats because an operand is known to be one (feedback said
    /// ints: the instruction never ran) reads the other operand as a float without its check.
    KnownFloatTrustsOther => "known_float_trusts_other", "unchecked speculation (float operand)";
    /// Compiled `abs` of an int negates i64::MIN (giving it back) instead of leaving for the
    /// builtin, which raises OverflowError.
    AbsMinUnchecked => "abs_min_unchecked", "dropped overflow check (inline builtin)";
    /// Compiled `ceil` of a float rounds down, as `floor` does.
    CeilAsFloor => "ceil_as_floor", "wrong rounding (inline builtin)";
    /// Compiled `float` of an int takes the int's bits for a float's instead of converting it.
    FloatOfIntAsBits => "float_of_int_as_bits", "wrong conversion (inline builtin)";
    /// Compiled `min` and `max` of two ints compare them unsigned, so a negative int is the
    /// largest.
    MinMaxUnsigned => "min_max_unsigned", "wrong comparison signedness (inline builtin)";
    /// An inlined callee's throw that never ran leaves for the interpreter at the `throw`
    /// itself instead of at the first instruction computing what it throws.
    ColdThrowExitAtThrow => "cold_throw_exit_at_throw", "wrong deoptimization pc (cold throw)";
    /// `==` and `!=` with an operand known to be nil or a bool compare truthiness instead of
    /// the values (nil equals false, any two truthy values are equal).
    EqNilAsFalsy => "eq_nil_as_falsy", "wrong fast path (equality with nil or a bool)";
    /// `==` compiled for two ints checks only the left operand's tag, so an int meeting a
    /// float (or anything else) compares raw payloads.
    EqIntGuardOneSide => "eq_int_guard_one_side", "guard accepts a wrong type (int equality)";
    /// A call that had never run, compiled to leave for the interpreter, charges its unit of
    /// fuel first, and the interpreter charges it again.
    UnrunExitAfterFuel => "unrun_exit_after_fuel", "wrong deoptimization state (call never run)";
}

#[cfg(feature = "mutants")]
impl Mutant {
    /// The mutant of that name.
    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.iter().copied().find(|m| m.name() == name)
    }
}

#[cfg(feature = "mutants")]
thread_local! {
    /// The mutant active on this thread (per thread, so campaign workers select their own).
    static ACTIVE: Cell<Option<Mutant>> = const { Cell::new(None) };
}

#[cfg(feature = "mutants")]
/// Selects the mutant that code compiled and run on this thread from now on has (`None`:
/// the JIT as it should be).
pub fn set_active(m: Option<Mutant>) {
    ACTIVE.with(|a| a.set(m));
}

#[cfg(feature = "mutants")]
/// The mutant active on this thread.
pub fn active_mutant() -> Option<Mutant> {
    ACTIVE.with(|a| a.get())
}

#[cfg(feature = "mutants")]
/// Whether mutant `m` is active on this thread.
#[inline]
pub fn active(m: Mutant) -> bool {
    active_mutant() == Some(m)
}

// ----- what the mutants do: hooks for the lowering -----

/// `IntRegisterNotSynced` at a helper call: the dirty registers minus those known to hold
/// ints (the helper then reads their old values); `None` when the mutant is off.
pub(crate) fn helper_sync_without_ints(
    dirty: &RegSet,
    mut known_int: impl FnMut(usize) -> bool,
) -> Option<RegSet> {
    if !mutant!(IntRegisterNotSynced) {
        return None;
    }
    let mut regs = dirty.clone();
    for r in dirty.iter().filter(|&r| known_int(r)) {
        regs.remove(r);
    }
    Some(regs)
}

/// The registers a sync stores: the dirty ones the collector roots (`roots`), or
/// (`SyncDropsOperands`) only those live after the instruction (`live_after`), leaving out the
/// operands it reads, which its helper then reads stale from their slots.
pub(crate) fn synced_registers(
    dirty: &RegSet,
    roots: &RegSet,
    live_after: impl FnOnce() -> RegSet,
) -> RegSet {
    let keep = if mutant!(SyncDropsOperands) {
        &live_after()
    } else {
        roots
    };
    let mut regs = dirty.clone();
    for r in dirty.iter().filter(|&r| !keep.contains(r)) {
        regs.remove(r);
    }
    regs
}

/// Whether a write-through store is left out: of an int (`IntRegisterNotSynced`).
pub(crate) fn drops_write_through(known_int: bool) -> bool {
    mutant!(IntRegisterNotSynced) && known_int
}

/// `SideExitDropsRegister`: what a side exit stores, every dirty register but the lowest
/// live one; `None` when the mutant is off.
pub(crate) fn side_exit_stores(dirty: &RegSet, live: &RegSet) -> Option<RegSet> {
    if !mutant!(SideExitDropsRegister) {
        return None;
    }
    let mut regs = dirty.clone();
    if let Some(r) = dirty.iter().find(|&r| live.contains(r)) {
        regs.remove(r);
    }
    Some(regs)
}

/// `OsrSkipsRegister`: the register an OSR entry leaves unloaded, the lowest one live at the
/// first loop header that does not hold a box (compiled code dereferences boxes unchecked,
/// and a mutant must stay memory-safe).
pub(crate) fn osr_skipped_register(code: &[Op], live_at_first_header: &RegSet) -> Option<usize> {
    if !mutant!(OsrSkipsRegister) {
        return None;
    }
    let boxed: Vec<usize> = code
        .iter()
        .filter_map(|op| match *op {
            Op::NewBox { a } => Some(a.0 as usize),
            _ => None,
        })
        .collect();
    live_at_first_header.iter().find(|r| !boxed.contains(r))
}

/// The pc an error exit records: the faulting one, or (`ErrorLineNextInstruction`) the next.
pub(crate) fn recorded_error_pc(pc: usize, code_len: usize) -> usize {
    if mutant!(ErrorLineNextInstruction) && pc + 1 < code_len {
        pc + 1
    } else {
        pc
    }
}

/// The pc a side exit resumes the interpreter at: the guarded instruction, or
/// (`SideExitSkipsInstruction`) the one after it.
pub(crate) fn side_exit_resume(pc: u32) -> u32 {
    if mutant!(SideExitSkipsInstruction) {
        pc + 1
    } else {
        pc
    }
}

/// The pc the caller of an inlined method resumes at when a guard in the method fails: the
/// instruction after the call, or (`InlineExitCallerAtCall`) the call again.
pub(crate) fn inline_caller_resume(call_pc: usize) -> usize {
    if mutant!(InlineExitCallerAtCall) {
        call_pc
    } else {
        call_pc + 1
    }
}

/// The pc an inlined callee whose own inlined callee left resumes at: the instruction after
/// its call, or (`NestedExitResumesAtCall`) the call again.
pub(crate) fn nested_caller_resume(call_pc: usize) -> usize {
    if mutant!(NestedExitResumesAtCall) {
        call_pc
    } else {
        call_pc + 1
    }
}

// ----- what the mutants do: hooks for the helpers -----

/// `ConcatCoerces`: `string + int` concatenates the int's text; `None` when the mutant is
/// off or the operands are not a string and an int.
pub(crate) fn coerced_concat(
    vm: &mut Vm,
    op: Arith,
    a: Value,
    b: Value,
) -> Option<RtResult<Value>> {
    if !mutant!(ConcatCoerces) || op != Arith::Add {
        return None;
    }
    let text = |v: Value| match v {
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    };
    let (s, t, int_first) = match (a, b) {
        (Value::Str(s), other) => (s, text(other)?, false),
        (other, Value::Str(s)) => (s, text(other)?, true),
        _ => return None,
    };
    Some(vm.heap.alloc_string(t).and_then(|t| {
        if int_first {
            vm.arith(op, Value::Str(t), Value::Str(s))
        } else {
            vm.arith(op, Value::Str(s), Value::Str(t))
        }
    }))
}

/// `ClosureCaptureCopied`: a closure like `c` over fresh boxes holding copies of the
/// captured variables' current values; `c` itself when the mutant is off.
pub(crate) fn captured(vm: &mut Vm, c: Gc<Closure>) -> RtResult<Gc<Closure>> {
    if !mutant!(ClosureCaptureCopied) {
        return Ok(c);
    }
    let mut boxes = Vec::with_capacity(c.upvals().len());
    for b in c.upvals() {
        // No collection happens between these allocations (only safepoints collect).
        boxes.push(vm.heap.alloc(UpBox {
            value: std::cell::Cell::new(b.value.get()),
        })?);
    }
    vm.heap.alloc_closure(c.proto, boxes.into_iter())
}

/// `NativeValueExtraArgsDropped`: the argument count a call of the value in `stack[slot]`
/// passes on: `nargs`, or a builtin's maximum when the mutant drops the extra ones.
pub(crate) fn native_value_nargs(vm: &Vm, slot: usize, nargs: usize) -> usize {
    if !mutant!(NativeValueExtraArgsDropped) {
        return nargs;
    }
    match vm.stack.get(slot) {
        Value::Native(id) => nargs.min(crate::runtime::builtins::get(id).max_args as usize),
        _ => nargs,
    }
}

/// `PowWraps`: `pow` of two ints with a small exponent, wrapping; `None` when the mutant is
/// off or the call is not such a `pow`.
pub(crate) fn wrapping_pow(vm: &Vm, id: NativeId, at: usize, n: usize) -> Option<Value> {
    if !mutant!(PowWraps) || n != 2 || crate::runtime::builtins::name(id) != "pow" {
        return None;
    }
    match (vm.stack.get(at), vm.stack.get(at + 1)) {
        (Value::Int(a), Value::Int(b)) if (0..=u32::MAX as i64).contains(&b) => {
            Some(Value::Int(a.wrapping_pow(b as u32)))
        }
        _ => None,
    }
}

/// The index mutants: on the error of `o[i]`, an index at the length reads nil
/// (`IndexAtLenAccepted`), -1 reads the last element (`IndexNegativeWraps`), a missing key
/// reads nil (`MapMissNil`); `r` unchanged otherwise.
pub(crate) fn mutated_index(o: Value, i: Value, r: RtResult<Value>) -> RtResult<Value> {
    use crate::error::ErrorKind;
    let Err(e) = &r else { return r };
    match (o, i, e.kind) {
        (Value::List(l), Value::Int(n), ErrorKind::IndexError) => {
            let items = l.items.borrow();
            if mutant!(IndexAtLenAccepted) && n as usize == items.len() {
                return Ok(Value::Nil);
            }
            if mutant!(IndexNegativeWraps) && n == -1 && !items.is_empty() {
                return Ok(items[items.len() - 1]);
            }
        }
        (Value::Map(_), _, ErrorKind::KeyError) if mutant!(MapMissNil) => return Ok(Value::Nil),
        _ => {}
    }
    r
}

/// The index compiled code's map fast path looks up: the index itself, or under
/// `MapFastFloatKey` a float's integer value as an int key.
#[inline(always)]
pub(crate) fn map_fast_key(i: Value) -> Value {
    match i {
        Value::Float(f) if mutant!(MapFastFloatKey) => Value::Int(f as i64),
        _ => i,
    }
}

/// `FieldIcIgnoresShape`: the field in the slot cached for another shape, if the instance
/// has that many fields; `None` when the mutant is off.
pub(crate) fn stale_field(vm: &Vm, o: Value, ic: Option<usize>) -> Option<Value> {
    if !mutant!(FieldIcIgnoresShape) {
        return None;
    }
    let entry = vm.ics[ic?];
    match o {
        Value::Instance(inst)
            if entry.shape != crate::runtime::shape::ShapeId::NONE
                && entry.method.is_none()
                && inst.shape.get() != entry.shape
                && (entry.slot as usize) < inst.field_count() =>
        {
            Some(inst.field(entry.slot as usize))
        }
        _ => None,
    }
}

/// `MapIterationReversed`: the next step of `for k in map` visiting the newest key first
/// (the element `len - 1 - cursor`, the cursor still counting up); `None` when the mutant is
/// off or `coll` is not a map.
#[allow(clippy::type_complexity)]
pub(crate) fn reversed_map_next(
    vm: &mut Vm,
    coll: Value,
    cur: usize,
) -> Option<RtResult<Option<(Value, usize)>>> {
    let Value::Map(m) = coll else { return None };
    if !mutant!(MapIterationReversed) {
        return None;
    }
    let len = m.entries.borrow().len();
    Some(if cur < len {
        vm.iter_next(coll, len - 1 - cur)
            .map(|e| e.map(|(v, _)| (v, cur + 1)))
    } else {
        Ok(None)
    })
}

#[cfg(all(test, feature = "mutants"))]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for &m in Mutant::ALL {
            assert_eq!(Mutant::from_name(m.name()), Some(m));
            assert!(!m.description().is_empty() && !m.class().is_empty());
        }
        let mut names: Vec<_> = Mutant::ALL.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Mutant::ALL.len());
        assert!(Mutant::ALL.len() >= 20);
    }

    #[test]
    fn selection_is_per_thread() {
        set_active(Some(Mutant::ZeroIsFalsy));
        assert!(active(Mutant::ZeroIsFalsy));
        std::thread::spawn(|| assert_eq!(active_mutant(), None))
            .join()
            .unwrap();
        set_active(None);
        assert!(!active(Mutant::ZeroIsFalsy));
    }
}

/// `SetIndexKLocalConst`: the pool index the helper of `SetIndexK` gets for constant `k` of a
/// function whose constants start at `kbase`.
pub(crate) fn set_index_k_pool_index(kbase: usize, k: usize) -> usize {
    if mutant!(SetIndexKLocalConst) {
        return k;
    }
    kbase + k
}
