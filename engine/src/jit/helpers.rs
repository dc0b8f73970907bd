//! Every runtime helper that compiled code calls, in one place. Each is `extern "C"`, takes
//! the VM and five 64-bit arguments (unused ones are zero), returns a 64-bit result, and
//! runs the same VM functions the interpreter uses, so both tiers share one semantics.
//!
//! Errors travel by status: a helper that fails stores the error in `Vm::pending` and returns
//! `STATUS_ERR` (or the documented error code). No Rust panic crosses into compiled code: each
//! helper catches unwinding at its boundary and turns it into an `InternalError`.

use crate::bytecode::{ClassIdx, ProtoId};
use crate::error::ErrorKind;
use crate::runtime::error::{RtError, RtResult};
use crate::runtime::heap::{Gc, items_from};
use crate::runtime::ops::{Arith, Cmp};
use crate::runtime::stack::Frame;
use crate::runtime::value::{NativeId, Value};
use crate::runtime::vm::Vm;
use crate::symbol::Symbol;
use crate::syntax::ast::BuiltinId;

use crate::runtime::tiering::{ExitKind, STATUS_ERR, STATUS_OK};

use super::deopt::InlineExitSite;
use super::mutants;

/// The one signature of every helper.
pub(crate) type HelperFn = extern "C" fn(*mut Vm, u64, u64, u64, u64, u64) -> u64;

/// A helper as declared to the code module.
pub(crate) struct HelperDecl {
    /// Symbol name (also shown in CLIF dumps).
    pub name: &'static str,
    /// Number of parameters, the VM included.
    pub params: usize,
    /// Address of the function.
    pub addr: *const u8,
}

// SAFETY: `addr` is the address of an immutable function; sharing it between threads is fine.
unsafe impl Sync for HelperDecl {}

macro_rules! helpers {
    ($( $(#[doc = $doc:literal])+ $variant:ident => $func:ident ; )*) => {
        /// Helper indices, in declaration order (the order they are declared to the module).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(usize)]
        pub(crate) enum Helper {
            $( $(#[doc = $doc])+ $variant, )*
        }

        /// Every helper, indexed by `H`.
        pub(crate) static HELPERS: &[HelperDecl] = &[
            $( HelperDecl { name: stringify!($func), params: 6, addr: $func as HelperFn as *const u8 }, )*
        ];
    };
}

helpers! {
    /// `(op, dst, lhs, rhs)`: R[dst] := R[lhs] op R[rhs] for any operand types.
    Arith => echo_arith;
    /// `(op, dst, lhs, imm)`: R[dst] := R[lhs] op imm.
    ArithImm => echo_arith_imm;
    /// `(op, dst, lhs, k)`: R[dst] := R[lhs] op the constant at index k of the VM's pool.
    ArithConst => echo_arith_const;
    /// `(dst, src)`: R[dst] := -R[src].
    Neg => echo_neg;
    /// `(cmp, lhs, rhs)`: 0 false, 1 true, 2 error.
    Compare => echo_compare;
    /// `(cmp, lhs, imm)`: 0 false, 1 true, 2 error.
    CompareImm => echo_compare_imm;
    /// `(lhs, rhs)`: 0 unequal, 1 equal, 2 error (its work ran out of fuel).
    Equal => echo_equal;
    /// `(global)`: raises the NameError of a global read before its initialization.
    UndefGlobal => echo_undef_global;
    /// `(slot)`: R[slot] := a new box holding R[slot].
    NewBox => echo_new_box;
    /// `(dst, proto, frame base)`: R[dst] := a new closure of `proto` in the top frame.
    Closure => echo_closure;
    /// `(slot, nargs)`: calls R[slot] with the arguments after it, whatever it is.
    Call => echo_call;
    /// `(slot)`: when R[slot] is a class with an `init` (not `Error`), R[slot] := a new
    /// instance of it and returns the `init` closure; 0 (nothing done) for anything else, 1
    /// for an error. A safepoint follows the allocation, as in the interpreter's call.
    NewInstance => echo_new_instance;
    /// `(slot, nargs)`: calls the `init` of the instance in R[slot] (made by `NewInstance`)
    /// with the arguments after it.
    CallInit => echo_call_init;
    /// `(slot, builtin, nargs)`: R[slot] := builtin(R[slot+1..]).
    CallNative => echo_call_native;
    /// `(slot, symbol, nargs, ic)`: R[slot] := R[slot].symbol(args).
    Invoke => echo_invoke;
    /// `(slot, symbol, nargs, proto)`: superclass method call with self in R[slot].
    SuperInvoke => echo_super_invoke;
    /// `(dst, self slot, symbol, proto)`: R[dst] := bound superclass method.
    GetSuper => echo_get_super;
    /// `(dst, first, n, len)`: R[dst] := [R[first..first+n]] of a literal of `len` elements.
    NewList => echo_new_list;
    /// `(list, first, n)`: appends R[first..first+n] to the list in R[list].
    AppendList => echo_append_list;
    /// `(dst)`: R[dst] := {}.
    NewMap => echo_new_map;
    /// `(dst, obj, index)`: R[dst] := R[obj][R[index]].
    GetIndex => echo_get_index;
    /// `(obj, idx)`: the address of the value R[idx] has in the map in R[obj]; 0 when R[obj]
    /// is not a map or R[idx] not one of its keys. Needs no safepoint: it only finds.
    MapValue => echo_map_value;
    /// `(obj, idx, value, from_pool)`: R[obj][R[idx]] := R[value], or with `from_pool` the
    /// constant at index `value` of the VM's pool (`SetIndexK`).
    SetIndex => echo_set_index;
    /// `(dst, obj, symbol, ic)`: R[dst] := R[obj].symbol.
    GetProp => echo_get_prop;
    /// `(obj, symbol, value, ic)`: R[obj].symbol := R[value].
    SetProp => echo_set_prop;
    /// `(dst, class)`: R[dst] := a new class of declaration `class`.
    Class => echo_class;
    /// `(slot)`: throws R[slot]; always returns the error status.
    Throw => echo_throw;
    /// `(slot)`: checks that R[slot] can be iterated; R[slot+1] := 0.
    IterPrep => echo_iter_prep;
    /// `(slot, dst)`: 0 exhausted, 1 R[dst] := next element, 2 error.
    IterNext => echo_iter_next;
    /// `(slot)`: raises the TypeError of a range with a non-int bound.
    RangeError => echo_range_error;
    /// `()`: raises FuelExhausted.
    FuelError => echo_fuel_error;
    /// `()`: passes the pending error through the top frame: 0 caught (resume at the
    /// handler), 1 frame left (propagate).
    Unwind => echo_unwind;
    /// `(pc, kind)`: a failed speculation at `pc`, of the `ExitKind` numbered `kind`:
    /// finishes the frame in the interpreter.
    SideExit => echo_side_exit;
    /// `(site, closure0, closure1, closure2)`: a failed speculation in an inlined callee:
    /// pushes the frames of the inlined callees the record at address `site` describes
    /// (`deopt::InlineExitSite`; the closure of the i-th, the outermost first, is
    /// `closure<i>` unless it runs a method), then finishes them and the compiled function's
    /// frame in the interpreter.
    InlineExit => echo_inline_exit;
    /// `(line)`: records the line of the top-level return that ends the program.
    ExitLine => echo_exit_line;
    /// `(proto)`: the cold version of `proto` (see `Compiled::cold`) is hot: compiles it
    /// again, or installs that code once ready. Needs no safepoint: it reads no register
    /// and allocates nothing.
    Reoptimize => echo_reoptimize;
    /// `(at, proto)`: records that the `Call` whose place in the VM's target table is `at`
    /// called a closure of `proto` (all ones: something else), as the interpreter does, for
    /// the version that replaces a cold one. Needs no safepoint: it only records.
    NoteCallTarget => echo_note_call_target;
}

/// Runs helper `h`'s body, turning a panic into a pending `InternalError`.
#[inline(always)]
fn guard(vm: *mut Vm, h: Helper, body: impl FnOnce(&mut Vm) -> u64) -> u64 {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: compiled code passes the VM pointer it was called with; the VM is not used
        // by anyone else while compiled code (and so this helper) runs.
        let vm = unsafe { &mut *vm };
        if let Some(c) = &mut vm.coverage {
            c.helpers |= 1 << h as u32;
        }
        // As the interpreter checks before each instruction: what allocated ended in a
        // safepoint (the panic becomes an internal error, which the harness reports).
        #[cfg(debug_assertions)]
        assert!(
            !vm.heap.charged_since_safepoint,
            "compiled code allocated without a safepoint before {h:?}"
        );
        body(vm)
    }));
    match result {
        Ok(v) => v,
        Err(panic) => {
            let what = super::panic_message(&*panic);
            // SAFETY: as above; the panicking body's borrow has ended.
            let vm = unsafe { &mut *vm };
            vm.pending = Some(RtError::new(
                ErrorKind::InternalError,
                format!("engine bug in a helper: {what}"),
            ));
            STATUS_ERR
        }
    }
}

/// Converts a `Result` into a status, parking the error.
#[inline(always)]
fn status(vm: &mut Vm, r: RtResult<()>) -> u64 {
    match r {
        Ok(()) => STATUS_OK,
        Err(e) => {
            vm.pending = Some(e);
            STATUS_ERR
        }
    }
}

/// The operator compiled code passed (an unknown code is an engine bug: the helper's guard
/// turns the panic into an `InternalError`).
fn arith_op(op: u64) -> Arith {
    Arith::from_code(op).expect("compiled code passes an arithmetic operator's code")
}

/// As `arith_op`, for comparisons.
fn cmp_op(op: u64) -> Cmp {
    Cmp::from_code(op).expect("compiled code passes a comparison operator's code")
}

/// `a op b` as the interpreter computes it (but for the `ConcatCoerces` mutant).
fn arith_of(vm: &mut Vm, op: Arith, a: Value, b: Value) -> RtResult<Value> {
    if let Some(r) = mutants::coerced_concat(vm, op, a, b) {
        return r;
    }
    vm.arith(op, a, b)
}

extern "C" fn echo_arith(vm: *mut Vm, op: u64, dst: u64, lhs: u64, rhs: u64, _: u64) -> u64 {
    guard(vm, Helper::Arith, |vm| {
        let (a, b) = (vm.stack.get(lhs as usize), vm.stack.get(rhs as usize));
        let r = arith_of(vm, arith_op(op), a, b);
        result_to(vm, dst, r)
    })
}

/// Flag in the operator code passed to `echo_arith_imm` and `echo_arith_const`: the literal
/// is the left operand (`AddIL`, `MulKL`...).
pub(crate) const LITERAL_LEFT: u64 = 1 << 8;

/// `reg op lit`, or `lit op reg` when `op` carries `LITERAL_LEFT`.
fn arith_literal(vm: &mut Vm, op: u64, reg: Value, lit: Value) -> RtResult<Value> {
    let arith = arith_op(op & !LITERAL_LEFT);
    if op & LITERAL_LEFT != 0 {
        arith_of(vm, arith, lit, reg)
    } else {
        arith_of(vm, arith, reg, lit)
    }
}

extern "C" fn echo_arith_imm(vm: *mut Vm, op: u64, dst: u64, lhs: u64, imm: u64, _: u64) -> u64 {
    guard(vm, Helper::ArithImm, |vm| {
        let a = vm.stack.get(lhs as usize);
        let r = arith_literal(vm, op, a, Value::Int(imm as i64));
        result_to(vm, dst, r)
    })
}

extern "C" fn echo_arith_const(vm: *mut Vm, op: u64, dst: u64, lhs: u64, k: u64, _: u64) -> u64 {
    guard(vm, Helper::ArithConst, |vm| {
        let (a, b) = (vm.stack.get(lhs as usize), vm.const_pool[k as usize]);
        let r = arith_literal(vm, op, a, b);
        result_to(vm, dst, r)
    })
}

extern "C" fn echo_neg(vm: *mut Vm, dst: u64, src: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::Neg, |vm| {
        let r = vm
            .negate(vm.stack.get(src as usize))
            .map(|v| vm.stack.set_words(dst as usize, v));
        status(vm, r)
    })
}

extern "C" fn echo_compare(vm: *mut Vm, op: u64, lhs: u64, rhs: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::Compare, |vm| {
        match vm.compare(
            cmp_op(op),
            vm.stack.get(lhs as usize),
            vm.stack.get(rhs as usize),
        ) {
            Ok(b) => b as u64,
            Err(e) => {
                vm.pending = Some(e);
                2
            }
        }
    })
}

extern "C" fn echo_compare_imm(vm: *mut Vm, op: u64, lhs: u64, imm: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::CompareImm, |vm| {
        match vm.compare(
            cmp_op(op),
            vm.stack.get(lhs as usize),
            Value::Int(imm as i64),
        ) {
            Ok(b) => b as u64,
            Err(e) => {
                vm.pending = Some(e);
                2
            }
        }
    })
}

extern "C" fn echo_equal(vm: *mut Vm, lhs: u64, rhs: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::Equal, |vm| {
        match vm.equal(vm.stack.get(lhs as usize), vm.stack.get(rhs as usize)) {
            Ok(eq) => eq as u64,
            Err(e) => {
                vm.pending = Some(e);
                2
            }
        }
    })
}

extern "C" fn echo_undef_global(vm: *mut Vm, g: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::UndefGlobal, |vm| {
        let e = vm.uninit_global(crate::bytecode::GlobalIdx(g as u32));
        status(vm, Err(e))
    })
}

extern "C" fn echo_new_box(vm: *mut Vm, slot: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::NewBox, |vm| {
        let r = vm
            .heap
            .alloc(crate::runtime::heap::UpBox {
                value: std::cell::Cell::new(vm.stack.get(slot as usize)),
            })
            .and_then(|b| {
                vm.stack.set(slot as usize, Value::Boxed(b));
                vm.safepoint()
            });
        status(vm, r)
    })
}

extern "C" fn echo_closure(vm: *mut Vm, dst: u64, proto: u64, base: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::Closure, |vm| {
        let parent = vm
            .frames
            .last()
            .expect("a compiled frame is running")
            .closure;
        let r = vm
            .make_closure(ProtoId(proto as u32), parent, base as usize)
            .and_then(|c| mutants::captured(vm, c))
            .and_then(|c| {
                vm.stack.set(dst as usize, Value::Func(c));
                vm.safepoint()
            });
        status(vm, r)
    })
}

/// Stores a helper's result in slot `dst` (then a safepoint: making it may have allocated)
/// and returns the status.
fn result_to(vm: &mut Vm, dst: u64, r: RtResult<Value>) -> u64 {
    let r = r.and_then(|v| {
        vm.stack.set_words(dst as usize, v);
        vm.safepoint()
    });
    status(vm, r)
}

/// Runs a frame the generic call path may have pushed. `pushed` is what the VM's call
/// functions return: whether an Echo frame is now on top.
fn finish_call(vm: &mut Vm, pushed: RtResult<bool>) -> u64 {
    match pushed {
        Ok(true) => {
            // A callee with compiled code runs it straight away, as the interpreter would on
            // entering the frame (and, as there, the frame is gone when it returns).
            let frame = *vm.frames.last().expect("a frame was pushed");
            if vm.fn_info[frame.proto.0 as usize].entry != 0 {
                vm.run_compiled(frame, None)
            } else {
                vm.run_top_frame()
            }
        }
        Ok(false) => STATUS_OK,
        Err(e) => status(vm, Err(e)),
    }
}

extern "C" fn echo_call(vm: *mut Vm, slot: u64, nargs: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::Call, |vm| {
        let nargs = mutants::native_value_nargs(vm, slot as usize, nargs as usize);
        let pushed = vm.call_value(slot as usize, nargs);
        finish_call(vm, pushed)
    })
}

extern "C" fn echo_new_instance(vm: *mut Vm, slot: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::NewInstance, |vm| {
        let slot = slot as usize;
        let Value::Class(cls) = vm.stack.get(slot) else {
            return 0;
        };
        let Some(init) = cls.init.filter(|_| !vm.is_error_class(cls)) else {
            return 0;
        };
        match vm.new_instance(cls, slot) {
            Ok(()) => init.addr() as u64,
            Err(e) => {
                vm.pending = Some(e);
                1
            }
        }
    })
}

extern "C" fn echo_call_init(vm: *mut Vm, slot: u64, nargs: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::CallInit, |vm| {
        let slot = slot as usize;
        let Value::Instance(inst) = vm.stack.get(slot) else {
            panic!("CallInit on a slot without the new instance");
        };
        let init = inst
            .class
            .init
            .expect("NewInstance made an instance of a class with init");
        let pushed = vm
            .push_frame(init, slot, slot, nargs as usize)
            .map(|()| true);
        finish_call(vm, pushed)
    })
}

extern "C" fn echo_call_native(
    vm: *mut Vm,
    slot: u64,
    builtin: u64,
    nargs: u64,
    _: u64,
    _: u64,
) -> u64 {
    guard(vm, Helper::CallNative, |vm| {
        let id: NativeId = BuiltinId(builtin as u16).native();
        let r = match mutants::wrapping_pow(vm, id, slot as usize + 1, nargs as usize) {
            Some(v) => Ok(v),
            None => vm.call_native(id, slot as usize + 1, nargs as usize),
        };
        result_to(vm, slot, r)
    })
}

extern "C" fn echo_invoke(vm: *mut Vm, slot: u64, sym: u64, nargs: u64, ic: u64, _: u64) -> u64 {
    guard(vm, Helper::Invoke, |vm| {
        let ic = (ic != u64::MAX).then_some(ic as usize);
        let pushed = vm.invoke(slot as usize, Symbol(sym as u32), nargs as usize, ic);
        finish_call(vm, pushed)
    })
}

extern "C" fn echo_super_invoke(
    vm: *mut Vm,
    slot: u64,
    sym: u64,
    nargs: u64,
    proto: u64,
    _: u64,
) -> u64 {
    guard(vm, Helper::SuperInvoke, |vm| {
        let pushed = vm
            .super_method(ProtoId(proto as u32), Symbol(sym as u32))
            .and_then(|m| vm.push_frame(m, slot as usize, slot as usize, nargs as usize))
            .map(|()| true);
        finish_call(vm, pushed)
    })
}

extern "C" fn echo_get_super(
    vm: *mut Vm,
    dst: u64,
    this: u64,
    sym: u64,
    proto: u64,
    _: u64,
) -> u64 {
    guard(vm, Helper::GetSuper, |vm| {
        let r = vm
            .super_method(ProtoId(proto as u32), Symbol(sym as u32))
            .and_then(|method| {
                let receiver = vm.stack.get(this as usize);
                let bm = vm
                    .heap
                    .alloc(crate::runtime::heap::BoundMethod { receiver, method })?;
                vm.stack.set(dst as usize, Value::Method(bm));
                vm.safepoint()
            });
        status(vm, r)
    })
}

extern "C" fn echo_new_list(vm: *mut Vm, dst: u64, first: u64, n: u64, len: u64, _: u64) -> u64 {
    guard(vm, Helper::NewList, |vm| {
        let r = vm.check_list_len(len as usize).and_then(|()| {
            let items = items_from(vm.stack.slice(first as usize, n as usize));
            let l = vm.heap.alloc_list(items)?;
            vm.stack.set(dst as usize, Value::List(l));
            vm.safepoint()
        });
        status(vm, r)
    })
}

extern "C" fn echo_append_list(vm: *mut Vm, list: u64, first: u64, n: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::AppendList, |vm| {
        let Value::List(l) = vm.stack.get(list as usize) else {
            unreachable!("AppendList targets a new list")
        };
        let items = vm.stack.slice(first as usize, n as usize).to_vec();
        let r = vm.list_extend(l, &items).and_then(|()| vm.safepoint());
        status(vm, r)
    })
}

extern "C" fn echo_new_map(vm: *mut Vm, dst: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::NewMap, |vm| {
        let r = vm.heap.alloc_map().and_then(|m| {
            vm.stack.set(dst as usize, Value::Map(m));
            vm.safepoint()
        });
        status(vm, r)
    })
}

extern "C" fn echo_get_index(vm: *mut Vm, dst: u64, obj: u64, idx: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::GetIndex, |vm| {
        let (o, i) = (vm.stack.get(obj as usize), vm.stack.get(idx as usize));
        let r = mutants::mutated_index(o, i, vm.get_index(o, i));
        result_to(vm, dst, r)
    })
}

extern "C" fn echo_map_value(vm: *mut Vm, obj: u64, idx: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::MapValue, |vm| {
        let Value::Map(m) = vm.stack.get(obj as usize) else {
            return 0;
        };
        let key = mutants::map_fast_key(vm.stack.get(idx as usize));
        // An address is never 0 (a miss) nor `STATUS_ERR` (a panic caught by `guard`).
        m.value_ptr(key).map_or(0, |p| p as u64)
    })
}

extern "C" fn echo_set_index(
    vm: *mut Vm,
    obj: u64,
    idx: u64,
    val: u64,
    from_pool: u64,
    _: u64,
) -> u64 {
    guard(vm, Helper::SetIndex, |vm| {
        let v = if from_pool != 0 {
            vm.const_pool[val as usize]
        } else {
            vm.stack.get(val as usize)
        };
        let r = vm
            .set_index(vm.stack.get(obj as usize), vm.stack.get(idx as usize), v)
            .and_then(|()| vm.safepoint());
        status(vm, r)
    })
}

extern "C" fn echo_get_prop(vm: *mut Vm, dst: u64, obj: u64, sym: u64, ic: u64, _: u64) -> u64 {
    guard(vm, Helper::GetProp, |vm| {
        let ic = (ic != u64::MAX).then_some(ic as usize);
        let o = vm.stack.get(obj as usize);
        let r = match mutants::stale_field(vm, o, ic) {
            Some(v) => Ok(v),
            None => vm.get_prop(o, Symbol(sym as u32), ic),
        };
        result_to(vm, dst, r)
    })
}

extern "C" fn echo_set_prop(vm: *mut Vm, obj: u64, sym: u64, val: u64, ic: u64, _: u64) -> u64 {
    guard(vm, Helper::SetProp, |vm| {
        let ic = (ic != u64::MAX).then_some(ic as usize);
        let r = vm
            .set_prop(
                vm.stack.get(obj as usize),
                Symbol(sym as u32),
                vm.stack.get(val as usize),
                ic,
            )
            .and_then(|()| vm.safepoint());
        status(vm, r)
    })
}

extern "C" fn echo_class(vm: *mut Vm, dst: u64, class: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::Class, |vm| {
        let r = vm.make_class(ClassIdx(class as u32)).and_then(|c| {
            vm.stack.set(dst as usize, Value::Class(c));
            vm.safepoint()
        });
        status(vm, r)
    })
}

extern "C" fn echo_throw(vm: *mut Vm, slot: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::Throw, |vm| {
        let e = RtError::thrown(vm.stack.get(slot as usize));
        status(vm, Err(e))
    })
}

extern "C" fn echo_iter_prep(vm: *mut Vm, slot: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::IterPrep, |vm| {
        let r = vm.iter_prep(slot as usize);
        status(vm, r)
    })
}

extern "C" fn echo_iter_next(vm: *mut Vm, slot: u64, dst: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::IterNext, |vm| {
        let Value::Int(cur) = vm.stack.get(slot as usize + 1) else {
            unreachable!("IterPrep set the cursor")
        };
        let coll = vm.stack.get(slot as usize);
        let next = mutants::reversed_map_next(vm, coll, cur as usize)
            .unwrap_or_else(|| vm.iter_next(coll, cur as usize));
        match next {
            Ok(Some((v, next))) => {
                vm.stack.set_words(dst as usize, v);
                vm.stack.set(slot as usize + 1, Value::Int(next as i64));
                match vm.safepoint() {
                    Ok(()) => 1,
                    Err(e) => {
                        vm.pending = Some(e);
                        2
                    }
                }
            }
            Ok(None) => 0,
            Err(e) => {
                vm.pending = Some(e);
                2
            }
        }
    })
}

extern "C" fn echo_range_error(vm: *mut Vm, slot: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::RangeError, |vm| {
        let e = vm.range_error(vm.stack.get(slot as usize), vm.stack.get(slot as usize + 1));
        status(vm, Err(e))
    })
}

extern "C" fn echo_fuel_error(vm: *mut Vm, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::FuelError, |vm| {
        let e = vm.fuel_error();
        status(vm, Err(e))
    })
}

extern "C" fn echo_unwind(vm: *mut Vm, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::Unwind, |vm| {
        let err = vm
            .pending
            .take()
            .unwrap_or_else(|| RtError::new(ErrorKind::InternalError, "no pending error"));
        match vm.error_in_top_frame(err) {
            Ok(()) => 0,
            Err(e) => {
                vm.pending = Some(e);
                1
            }
        }
    })
}

extern "C" fn echo_side_exit(vm: *mut Vm, pc: u64, kind: u64, _: u64, _: u64, _: u64) -> u64 {
    let pc = pc as u32;
    // The guarded instruction runs again, whole, in the interpreter.
    let resume = mutants::side_exit_resume(pc);
    guard(vm, Helper::SideExit, |vm| {
        vm.side_exit(pc, resume, ExitKind::from_code(kind))
    })
}

extern "C" fn echo_inline_exit(
    vm: *mut Vm,
    site: u64,
    closure0: u64,
    closure1: u64,
    closure2: u64,
    _: u64,
) -> u64 {
    guard(vm, Helper::InlineExit, |vm| {
        // SAFETY: compiled code passes the address of a record `deopt::intern` leaked, which
        // lives as long as the process.
        let site = unsafe { &*(site as *const InlineExitSite) };
        let closures = [closure0, closure1, closure2];
        let top = vm
            .frames
            .as_mut_slice()
            .last_mut()
            .expect("the compiled frame runs");
        top.pc = site.caller_pc;
        let top = *top;
        for (i, f) in site.frames.iter().enumerate() {
            // A method's frame holds a stand-in closure until `Vm::inline_exit` finds the
            // receiver's method.
            let closure = if site.methods >> i & 1 != 0 {
                top.closure
            } else {
                // SAFETY: compiled code passes the closure the callee runs as: the function
                // value it called or the `init` it found (held by a register, or by the class
                // in a register), or a superclass method (held by its class, which the
                // program's classes keep): alive.
                unsafe { Gc::from_addr(closures[i] as usize) }
            };
            let pushed = vm.frames.push(Frame {
                closure,
                proto: ProtoId(f.proto),
                base: top.base + f.base,
                pc: f.pc,
                ret: top.base + f.ret,
            });
            // The inlined call checked the frame depth for all of them on its way in.
            assert!(pushed, "no room for an inlined callee's frame");
        }
        vm.inline_exit(site.pc, site.frames.len(), site.methods)
    })
}

extern "C" fn echo_reoptimize(vm: *mut Vm, proto: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::Reoptimize, |vm| {
        vm.reoptimize(ProtoId(proto as u32));
        STATUS_OK
    })
}

extern "C" fn echo_note_call_target(
    vm: *mut Vm,
    at: u64,
    proto: u64,
    _: u64,
    _: u64,
    _: u64,
) -> u64 {
    guard(vm, Helper::NoteCallTarget, |vm| {
        let proto = (proto != u64::MAX).then_some(ProtoId(proto as u32));
        vm.note_call_target(at as usize, proto);
        STATUS_OK
    })
}

extern "C" fn echo_exit_line(vm: *mut Vm, line: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    guard(vm, Helper::ExitLine, |vm| {
        vm.exit_line = line as u32;
        STATUS_OK
    })
}
