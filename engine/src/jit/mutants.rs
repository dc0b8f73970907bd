//! Deliberate JIT bugs ("mutants"), compiled in only with the `mutants` feature and selected
//! per thread at run time, so that `echo-harness selftest` can check that the differential
//! harness finds each class of bug. Every mutant changes compiled code only.

use std::cell::Cell;

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
    /// Only live registers are stored (at safepoints, and where a write goes through to its
    /// slot); dead ones keep stale values, which the collector then roots instead of the
    /// current ones.
    DeadRegistersNotSynced => "dead_registers_not_synced", "wrong GC roots at a safepoint";
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
}

impl Mutant {
    /// The mutant of that name.
    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.iter().copied().find(|m| m.name() == name)
    }
}

thread_local! {
    /// The mutant active on this thread (per thread, so campaign workers select their own).
    static ACTIVE: Cell<Option<Mutant>> = const { Cell::new(None) };
}

/// Selects the mutant that code compiled and run on this thread from now on has (`None`:
/// the JIT as it should be).
pub fn set_active(m: Option<Mutant>) {
    ACTIVE.with(|a| a.set(m));
}

/// The mutant active on this thread.
pub fn active_mutant() -> Option<Mutant> {
    ACTIVE.with(|a| a.get())
}

/// Whether mutant `m` is active on this thread.
#[inline]
pub fn active(m: Mutant) -> bool {
    active_mutant() == Some(m)
}

#[cfg(test)]
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
