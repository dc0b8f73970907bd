//! The dispatch loop (`execute`): one `match` arm per opcode, with the fast paths of numbers,
//! calls and inline caches written out in place. Long on purpose, and the one file allowed to be:
//! the loop is a single function whose arms share its locals (pc, registers, fuel) via macros.

use std::cell::Cell;
use std::rc::Rc;

use crate::bytecode::*;
#[cfg(feature = "jit")]
use crate::config::Tier;
#[cfg(feature = "jit")]
use crate::error::ErrorKind;
use crate::runtime::builtins;
use crate::runtime::error::{RtError, RtResult};
use crate::runtime::heap::{BoundMethod, UpBox, items_from};
use crate::runtime::ops::{self, Arith, Cmp};
use crate::runtime::stack::copy_value;
use crate::runtime::value::{NativeId, Value};
use crate::runtime::vm::{FB_NOT_INT, FB_NOT_NUM, ProtoInfo, Vm};

/// Why the instruction loop of `dispatch` stopped.
enum Stop {
    /// The instruction before `pc` raised.
    Raise(Box<RtError>),
    /// A back-edge found its loop hot: continue in compiled code at `pc`, the loop header.
    #[cfg(feature = "jit")]
    Osr,
}

impl Vm {
    /// Records where the running frame is (before anything that may unwind or push).
    #[inline(always)]
    fn save_pc(&mut self, pc: usize) {
        if let Some(f) = self.frames.last_mut() {
            f.pc = pc as u32;
        }
    }

    /// Runs frames until the frame count drops back to `entry_depth`; returns the value the
    /// last frame returned.
    pub(crate) fn execute(&mut self, entry_depth: usize) -> RtResult<Value> {
        if self.coverage.is_some() {
            self.dispatch::<true>(entry_depth)
        } else {
            self.dispatch::<false>(entry_depth)
        }
    }

    /// The dispatch loop of `execute`; with `COVER` it records every instruction it runs
    /// (`Coverage::observe`).
    fn dispatch<const COVER: bool>(&mut self, entry_depth: usize) -> RtResult<Value> {
        // What the host allocated before (the main closure, arguments) needs no safepoint.
        #[cfg(debug_assertions)]
        {
            self.heap.charged_since_safepoint = false;
        }
        let protos = Rc::clone(&self.protos);
        // Fuel lives in a local while the loop runs (nothing called from here reads it) and
        // is written back whenever control leaves the loop.
        let mut fuel = self.fuel_left.get();
        // Debug builds: the fuel left once the previous instruction has charged what the
        // opcode table says (`None` after compiled code ran, which charges on its own).
        #[cfg(debug_assertions)]
        let mut fuel_audit: Option<u64> = None;
        'frame: loop {
            // The running frame stays where it is while it runs (frames are only pushed
            // above it; a return re-enters this loop): its fields are read where needed.
            let fp = self.frames.top_ptr();
            // The running frame, read again where a rarely needed field is used, so that
            // entering a frame loads only what every instruction needs.
            macro_rules! frame {
                () => {
                    // SAFETY: a frame is running (`execute` is only entered with one, and a
                    // return to below `entry_depth` leaves the loop), so `fp` points to an
                    // initialised frame, which stays in place until it returns.
                    unsafe { *fp }
                };
            }
            let proto = frame!().proto;
            // The prototype's record, read where its fields are used: few frames need the
            // constants and caches, and every field kept in a local costs each call and return.
            // Every read of `info` is sound: `fn_info` only grows when a program is loaded or
            // extended, never while one runs, so the record stays where it is.
            // SAFETY: the running frame's prototype is one of the program's (frames are
            // pushed for closures, whose prototypes the verifier checked, and for the
            // script), and `sync_program` gives each of them a record in `fn_info`.
            let info: *const ProtoInfo = unsafe { self.fn_info.get_unchecked(proto.0 as usize) };
            // SAFETY: see `info`.
            let ProtoInfo { fbase, code, .. } = unsafe { *info };
            let fbase = fbase as usize;
            // The frame's feedback bytes, one per instruction (`feedback` does not move while
            // a program runs: it only grows when a program is loaded or extended).
            // SAFETY: `sync_program` gave every prototype `code.len()` bytes from `fbase` on.
            let feedback: *mut u8 = unsafe { self.feedback.as_mut_ptr().add(fbase) };
            // The line of the instruction before `pc` (for the exit line).
            macro_rules! line_before {
                ($pc:expr) => {
                    protos[proto.0 as usize].lines[$pc - 1]
                };
            }
            let base = frame!().base as usize;
            let mut pc = frame!().pc as usize;

            // A frame entered at its start runs compiled code if its function has some.
            #[cfg(feature = "jit")]
            // SAFETY: see `info`.
            if pc == 0 && unsafe { (*info).entry } != 0 {
                self.fuel_left.set(fuel);
                let status = self.run_compiled(frame!(), None);
                fuel = self.fuel_left.get();
                #[cfg(debug_assertions)]
                {
                    fuel_audit = None;
                }
                if let Some(r) = self.after_compiled(status, frame!().ret as usize, entry_depth) {
                    return r;
                }
                continue 'frame;
            }

            // The frame's registers. Re-derived whenever the frame is (re)entered; the stack
            // only moves in `push_frame`, after which the loop always re-enters a frame.
            // SAFETY: `push_frame` (or compiled code, which checks the same) made the
            // frame's registers part of the stack, so `base <= len`.
            let regs: *mut Value = unsafe { self.stack.ptr_unchecked(base) };
            // Register `$r` of the frame, as a place (to read or assign).
            macro_rules! reg {
                ($r:expr) => {
                    // SAFETY: the verifier checked that every register operand is below the
                    // prototype's `nregs`, and `push_frame` made `base + nregs <= len`; `regs`
                    // was derived from `Stack::ptr` after the last reallocation.
                    (*unsafe { &mut *regs.add($r.0 as usize) })
                };
            }
            // Sets register `$r` to `$v`, a value an out-of-line call just returned through
            // memory, word by word (`copy_value`: a whole-value copy would stall on it).
            macro_rules! set_returned {
                ($r:expr, $v:expr) => {{
                    let v: Value = $v;
                    // SAFETY: `v` is a value; the register is inside the frame's window, as
                    // for `reg!`.
                    unsafe { copy_value(&v, regs.add($r.0 as usize)) }
                }};
            }
            // Constant `$k` of the running prototype.
            macro_rules! konst {
                ($k:expr) => {
                    // SAFETY: the verifier checked that `$k` is below the prototype's constant
                    // count, and `sync_program` put those constants at `const_pool[kbase..]`.
                    *unsafe {
                        let kbase = (*info).kbase as usize;
                        self.const_pool.get_unchecked(kbase + $k.0 as usize)
                    }
                };
            }
            // The value of a `Result`, or on error leave the instruction loop to unwind.
            macro_rules! or_raise {
                ($e:expr) => {
                    match $e {
                        Ok(v) => v,
                        Err(e) => break Stop::Raise(e),
                    }
                };
            }
            // `or_raise!` for a call into the runtime that may charge fuel for its work
            // (builtins, string and list operators, deep equality, see `runtime::work`): the
            // local fuel is handed to the VM for the call and taken back after it.
            macro_rules! metered {
                ($e:expr) => {{
                    self.fuel_left.set(fuel);
                    let r = $e;
                    let after = self.fuel_left.get();
                    if after != fuel {
                        fuel = after;
                        #[cfg(debug_assertions)]
                        {
                            fuel_audit = None;
                        }
                    }
                    or_raise!(r)
                }};
            }
            // Charges the fuel of opcode `$op`, which the opcode table must say charges fuel
            // (checked at compile time; debug builds check at every instruction that the
            // arms charge exactly where the table says, see `fuel_audit`).
            macro_rules! charge {
                ($op:ident) => {
                    const { assert!(OPCODES[OpCode::$op as usize].effects.fuel) };
                    if fuel == 0 {
                        break Stop::Raise(self.fuel_error());
                    }
                    fuel -= 1;
                };
            }
            // Records where the running frame is, before a call or anything that may push.
            macro_rules! save_pc {
                () => {
                    // SAFETY: `fp` is the running frame (see above), still on the stack.
                    unsafe { (*fp).pc = pc as u32 }
                };
            }
            // A safepoint at the end of an instruction: the collector roots the registers live
            // around the instruction before `pc` (`RootMap`), so the pc is stored first.
            macro_rules! safepoint {
                () => {
                    save_pc!();
                    or_raise!(self.safepoint());
                };
            }
            // The index in `ics` of the instruction's inline-cache slot (`None`: no cache).
            macro_rules! ic_slot {
                ($ic:expr) => {
                    if $ic == IcIdx::NONE {
                        None
                    } else {
                        // SAFETY: see `info`.
                        Some(unsafe { (*info).icb } as usize + $ic.0 as usize)
                    }
                };
            }
            // After a loop back-edge: once the function's loops are hot, continue in compiled
            // code at the loop header just jumped to (on-stack replacement). The jit tier
            // compiles every function at its first call, so its frames reach this only after
            // leaving compiled code: a long loop that left once goes back.
            macro_rules! osr {
                () => {
                    #[cfg(feature = "jit")]
                    if self.tier != Tier::Interp && {
                        // The pc tells an OSR compilation which loop header it starts from.
                        save_pc!();
                        self.on_backedge(proto)
                    } {
                        // Out of the instruction loop, so that the (rare) entry into compiled
                        // code is written once, not in every back-edge's arm.
                        break Stop::Osr;
                    }
                };
            }
            // Jumps by `$off` instructions, relative to the next instruction.
            macro_rules! jump {
                ($off:expr) => {
                    pc = pc.wrapping_add_signed($off.0 as isize)
                };
            }
            // Records that the current instruction saw operands other than two ints.
            // One unchecked read-modify-write: cheaper measured than testing the bit first
            // (a branch per float operation) or a bounds-checked index.
            macro_rules! not_int {
                () => {
                    // SAFETY: every prototype has one feedback byte per instruction, from
                    // `fbase` on, and `pc - 1` is the running instruction.
                    unsafe { *feedback.add(pc - 1) |= FB_NOT_INT };
                };
            }
            // Records that the current instruction saw an operand that is not a number.
            macro_rules! not_num {
                () => {
                    // SAFETY: as for `not_int!`.
                    unsafe { *feedback.add(pc - 1) |= FB_NOT_INT | FB_NOT_NUM };
                };
            }
            // The feedback of an operand pair that left the fast path: floats are not ints,
            // anything else is not a number either.
            macro_rules! pair_feedback {
                ($p:expr) => {
                    match $p {
                        NumPair::Other => {
                            not_num!();
                        }
                        NumPair::Floats(..) => {
                            not_int!();
                        }
                        NumPair::Ints(..) => {}
                    }
                };
            }
            // Registers `$b` and `$c` classified as two ints, two floats or anything else.
            // Operands are read through references, field by field: a whole-value copy right
            // after the previous instruction wrote tag and payload separately would stall on
            // store forwarding.
            macro_rules! pair {
                ($b:expr, $c:expr) => {
                    num_pair(&reg!($b), &reg!($c))
                };
            }
            // `pair!` for arithmetic, where an int meeting a float is converted to a float
            // (LANGUAGE.md §7.2), so mixed operands take the float fast path too.
            macro_rules! arith_pair {
                ($b:expr, $c:expr) => {
                    num_pair_promoted(&reg!($b), &reg!($c))
                };
            }
            // `R[a] = R[b] op R[c]`: ints and floats inline, the rest through `Vm::arith`.
            macro_rules! arith {
                ($a:expr, $b:expr, $c:expr, $op:expr, $int:ident, $float:tt) => {{
                    match arith_pair!($b, $c) {
                        NumPair::Ints(i, j) => match i.$int(j) {
                            Some(v) => reg!($a) = Value::Int(v),
                            None => break Stop::Raise(ops::overflow($op, i, j)),
                        },
                        NumPair::Floats(p, q) => {
                            not_int!();
                            reg!($a) = Value::Float(p $float q)
                        }
                        NumPair::Other => {
                            not_num!();
                            let v = metered!(self.arith($op, reg!($b), reg!($c)));
                            set_returned!($a, v);
                            safepoint!();
                        }
                    }
                }};
            }
            // Whether `R[b] op R[c]` for an ordering comparison, numbers inline.
            macro_rules! ordered {
                ($b:expr, $c:expr, $cmp:expr, $op:tt) => {
                    match pair!($b, $c) {
                        NumPair::Ints(i, j) => i $op j,
                        NumPair::Floats(p, q) => {
                            not_int!();
                            p $op q
                        }
                        NumPair::Other => {
                            not_num!();
                            metered!(self.compare($cmp, reg!($b), reg!($c)))
                        }
                    }
                };
            }
            // `R[a] = R[b] op R[c]` for an ordering comparison.
            macro_rules! compare {
                ($a:expr, $b:expr, $c:expr, $cmp:expr, $op:tt) => {{
                    let res = ordered!($b, $c, $cmp, $op);
                    reg!($a) = Value::bool(res);
                }};
            }

            // `R[a] = R[b] op imm` (`$left`: `imm op R[b]`, for `+` and `*` only, whose fast
            // paths commute; the general path keeps the source order for its messages). For
            // `/` and `%` the hardware op is used only for a positive divisor; everything else
            // takes the general path with its checks and messages.
            macro_rules! arith_imm {
                ($a:expr, $b:expr, $imm:expr, $op:expr, $int:ident, $float:tt, $left:literal) => {{
                    const { assert!(!$left || matches!($op, Arith::Add | Arith::Mul)) };
                    let k = $imm.0 as i64;
                    let fast = match &reg!($b) {
                        Value::Int(i) if !matches!($op, Arith::Div | Arith::Mod) || k > 0 => {
                            i.$int(k).map(Value::Int)
                        }
                        Value::Int(_) => None,
                        Value::Float(f) => {
                            not_int!();
                            Some(Value::Float(*f $float k as f64))
                        }
                        _ => {
                            not_num!();
                            None
                        }
                    };
                    match fast {
                        Some(v) => reg!($a) = v,
                        None => {
                            let (x, y) = if $left {
                                (Value::Int(k), reg!($b))
                            } else {
                                (reg!($b), Value::Int(k))
                            };
                            let v = metered!(self.arith($op, x, y));
                            set_returned!($a, v);
                            // A string or list repeated allocates, as in `arith!`.
                            safepoint!();
                        }
                    }
                }};
            }
            // `R[a] = R[b] op K[k]` for a float constant (`$left`: `K[k] op R[b]`, for `+` and
            // `*` only, as in `arith_imm!`): numbers inline, the rest through `Vm::arith` (a
            // float operand leaves no int case).
            macro_rules! arith_k {
                ($a:expr, $b:expr, $k:expr, $op:expr, $float:tt, $left:literal) => {{
                    const { assert!(!$left || matches!($op, Arith::Add | Arith::Mul)) };
                    not_int!();
                    let Value::Float(q) = konst!($k) else {
                        unreachable!("the verifier lets K operands be float constants only")
                    };
                    match &reg!($b) {
                        Value::Float(p) => reg!($a) = Value::Float(*p $float q),
                        Value::Int(i) => reg!($a) = Value::Float(*i as f64 $float q),
                        _ => {
                            not_num!();
                            let (x, y) = if $left {
                                (Value::Float(q), reg!($b))
                            } else {
                                (reg!($b), Value::Float(q))
                            };
                            let v = metered!(self.arith($op, x, y));
                            set_returned!($a, v);
                            safepoint!();
                        }
                    }
                }};
            }
            // Jumps by `$off` unless `R[b] op R[c]` (fused compare-and-branch).
            macro_rules! jmp_cmp {
                ($b:expr, $c:expr, $off:expr, $cmp:expr, $op:tt) => {{
                    let res = ordered!($b, $c, $cmp, $op);
                    if !res {
                        jump!($off);
                    }
                }};
            }
            // Whether `R[b] op imm` for an ordering comparison, numbers inline.
            macro_rules! ordered_imm {
                ($b:expr, $imm:expr, $cmp:expr, $op:tt) => {{
                    let k = $imm.0;
                    match &reg!($b) {
                        Value::Int(i) => *i $op k as i64,
                        Value::Float(f) => {
                            not_int!();
                            *f $op k as f64
                        }
                        _ => {
                            not_num!();
                            metered!(self.compare($cmp, reg!($b), Value::Int(k as i64)))
                        }
                    }
                }};
            }
            // Jumps by `$off` unless `R[b] op imm` (fused compare-and-branch, immediate form).
            macro_rules! jmp_cmp_imm {
                ($b:expr, $imm:expr, $off:expr, $cmp:expr, $op:tt) => {{
                    if !ordered_imm!($b, $imm, $cmp, $op) {
                        jump!($off);
                    }
                }};
            }
            // Whether `R[b] == R[c]`, ints inline (other operands are recorded: compiled
            // code assumes ints where the interpreter saw nothing else).
            macro_rules! equal {
                ($b:expr, $c:expr) => {
                    match pair!($b, $c) {
                        NumPair::Ints(i, j) => i == j,
                        _ => {
                            not_int!();
                            metered!(self.equal(reg!($b), reg!($c)))
                        }
                    }
                };
            }
            // Whether `R[b] == imm` (only numbers can equal an int).
            macro_rules! equal_imm {
                ($b:expr, $imm:expr) => {
                    match &reg!($b) {
                        Value::Int(i) => *i == $imm.0 as i64,
                        Value::Float(f) => *f == $imm.0 as f64,
                        _ => false,
                    }
                };
            }
            // The test at the end of a `while` loop (opcode `$op`): charges the back-edge's
            // fuel, then jumps back by `$off` if `$holds`.
            macro_rules! loop_test {
                ($op:ident, $off:expr, $holds:expr) => {{
                    charge!($op);
                    if $holds {
                        jump!($off);
                        osr!();
                    }
                }};
            }

            let stop = loop {
                // SAFETY: the verifier checked that jump targets are inside the code and that
                // the last instruction cannot fall through, so `pc` is always in bounds.
                let op = unsafe { &*code.add(pc) };
                pc += 1;
                if COVER && let Some(mut c) = self.coverage.take() {
                    c.opcodes |= 1 << op.code() as u32;
                    c.observe(self, (fbase + pc - 1) as u32, op, |r| reg!(r));
                    self.coverage = Some(c);
                }
                #[cfg(debug_assertions)]
                {
                    assert!(
                        !self.heap.charged_since_safepoint,
                        "an instruction allocated without a safepoint (the one before pc {} of {})",
                        pc - 1,
                        protos[proto.0 as usize].name
                    );
                    if let Some(expected) = fuel_audit {
                        assert_eq!(fuel, expected, "fuel charged off the opcode table");
                    }
                    fuel_audit = Some(fuel.wrapping_sub(u64::from(op.charges_fuel())));
                }
                match *op {
                    // SAFETY: register operands are in the frame (see `reg!`).
                    Op::Move { a, b } => unsafe {
                        copy_value(regs.add(b.0 as usize), regs.add(a.0 as usize))
                    },
                    Op::LoadNil { a } => reg!(a) = Value::Nil,
                    Op::LoadTrue { a } => reg!(a) = Value::True,
                    Op::LoadFalse { a } => reg!(a) = Value::False,
                    Op::LoadInt { a, imm } => reg!(a) = Value::Int(imm.0 as i64),
                    Op::LoadK { a, k } => reg!(a) = konst!(k),
                    Op::LoadNative { a, f } => reg!(a) = Value::Native(f.native()),
                    Op::GetGlobal { a, g } => {
                        let v = self.globals[g.0 as usize];
                        if let Value::Undef = v {
                            break Stop::Raise(self.uninit_global(g));
                        }
                        reg!(a) = v;
                    }
                    Op::SetGlobal { a, g } => {
                        let dst: *mut Value = &mut self.globals[g.0 as usize];
                        // SAFETY: a register (see `reg!`) and a global slot, both values.
                        unsafe { copy_value(regs.add(a.0 as usize), dst) }
                    }
                    Op::GetUpval { a, u } => {
                        let closure = frame!().closure;
                        let cell = &closure.upvals()[u.0 as usize].value;
                        // SAFETY: the box's value cell (no reference into it is live) and a
                        // register (see `reg!`).
                        unsafe { copy_value(cell.as_ptr(), regs.add(a.0 as usize)) }
                    }
                    Op::SetUpval { a, u } => {
                        let closure = frame!().closure;
                        let cell = &closure.upvals()[u.0 as usize].value;
                        // SAFETY: as for `GetUpval`.
                        unsafe { copy_value(regs.add(a.0 as usize), cell.as_ptr()) }
                    }
                    Op::NewBox { a } => {
                        let b = or_raise!(self.heap.alloc(UpBox {
                            value: Cell::new(reg!(a))
                        }));
                        reg!(a) = Value::Boxed(b);
                        safepoint!();
                    }
                    Op::GetBox { a, b } => match &reg!(b) {
                        Value::Boxed(bx) => {
                            let cell = &bx.value;
                            // SAFETY: as for `GetUpval`.
                            unsafe { copy_value(cell.as_ptr(), regs.add(a.0 as usize)) }
                        }
                        _ => unreachable!("GetBox on an unboxed register"),
                    },
                    Op::SetBox { a, b } => match &reg!(a) {
                        Value::Boxed(bx) => {
                            let cell = &bx.value;
                            // SAFETY: as for `GetUpval`.
                            unsafe { copy_value(regs.add(b.0 as usize), cell.as_ptr()) }
                        }
                        _ => unreachable!("SetBox on an unboxed register"),
                    },
                    Op::Closure { a, p } => {
                        let parent = frame!().closure;
                        let c = or_raise!(self.make_closure(p, parent, base));
                        reg!(a) = Value::Func(c);
                        safepoint!();
                    }
                    Op::Add { a, b, c } => arith!(a, b, c, Arith::Add, checked_add, +),
                    Op::Sub { a, b, c } => arith!(a, b, c, Arith::Sub, checked_sub, -),
                    Op::Mul { a, b, c } => arith!(a, b, c, Arith::Mul, checked_mul, *),
                    Op::Div { a, b, c } => match arith_pair!(b, c) {
                        NumPair::Ints(i, j) if j > 0 => reg!(a) = Value::Int(i / j),
                        NumPair::Floats(p, q) => {
                            not_int!();
                            reg!(a) = Value::Float(p / q)
                        }
                        p => {
                            pair_feedback!(p);
                            let v = or_raise!(self.arith(Arith::Div, reg!(b), reg!(c)));
                            set_returned!(a, v);
                            safepoint!();
                        }
                    },
                    Op::Mod { a, b, c } => match arith_pair!(b, c) {
                        NumPair::Ints(i, j) if j > 0 => reg!(a) = Value::Int(i % j),
                        NumPair::Floats(p, q) => {
                            not_int!();
                            reg!(a) = Value::Float(p % q)
                        }
                        p => {
                            pair_feedback!(p);
                            let v = or_raise!(self.arith(Arith::Mod, reg!(b), reg!(c)));
                            set_returned!(a, v);
                            safepoint!();
                        }
                    },
                    Op::AddI { a, b, imm } => {
                        arith_imm!(a, b, imm, Arith::Add, checked_add, +, false)
                    }
                    Op::SubI { a, b, imm } => {
                        arith_imm!(a, b, imm, Arith::Sub, checked_sub, -, false)
                    }
                    Op::MulI { a, b, imm } => {
                        arith_imm!(a, b, imm, Arith::Mul, checked_mul, *, false)
                    }
                    Op::DivI { a, b, imm } => {
                        arith_imm!(a, b, imm, Arith::Div, checked_div, /, false)
                    }
                    Op::ModI { a, b, imm } => {
                        arith_imm!(a, b, imm, Arith::Mod, checked_rem, %, false)
                    }
                    Op::AddK { a, b, k } => arith_k!(a, b, k, Arith::Add, +, false),
                    Op::SubK { a, b, k } => arith_k!(a, b, k, Arith::Sub, -, false),
                    Op::MulK { a, b, k } => arith_k!(a, b, k, Arith::Mul, *, false),
                    Op::DivK { a, b, k } => arith_k!(a, b, k, Arith::Div, /, false),
                    Op::ModK { a, b, k } => arith_k!(a, b, k, Arith::Mod, %, false),
                    Op::Neg { a, b } => match &reg!(b) {
                        Value::Int(i) if *i != i64::MIN => reg!(a) = Value::Int(-*i),
                        Value::Float(f) => reg!(a) = Value::Float(-*f),
                        _ => {
                            let v = or_raise!(self.negate(reg!(b)));
                            set_returned!(a, v);
                        }
                    },
                    Op::Not { a, b } => reg!(a) = Value::bool(!reg!(b).truthy()),
                    Op::Eq { a, b, c } => {
                        let res = equal!(b, c);
                        reg!(a) = Value::bool(res);
                    }
                    Op::Ne { a, b, c } => {
                        let res = !equal!(b, c);
                        reg!(a) = Value::bool(res);
                    }
                    Op::Lt { a, b, c } => compare!(a, b, c, Cmp::Lt, <),
                    Op::Le { a, b, c } => compare!(a, b, c, Cmp::Le, <=),
                    Op::Gt { a, b, c } => compare!(a, b, c, Cmp::Gt, >),
                    Op::Ge { a, b, c } => compare!(a, b, c, Cmp::Ge, >=),
                    Op::Jmp { off } => jump!(off),
                    Op::Loop { off } => {
                        charge!(Loop);
                        jump!(off);
                        osr!();
                    }
                    Op::JmpIf { a, off } => {
                        if !matches!(&reg!(a), Value::Nil | Value::False) {
                            jump!(off);
                        }
                    }
                    Op::JmpIfNot { a, off } => {
                        if matches!(&reg!(a), Value::Nil | Value::False) {
                            jump!(off);
                        }
                    }
                    Op::JmpNotEq { b, c, off } => {
                        if !equal!(b, c) {
                            jump!(off);
                        }
                    }
                    Op::JmpNotNe { b, c, off } => {
                        if equal!(b, c) {
                            jump!(off);
                        }
                    }
                    Op::JmpNotLt { b, c, off } => jmp_cmp!(b, c, off, Cmp::Lt, <),
                    Op::JmpNotLe { b, c, off } => jmp_cmp!(b, c, off, Cmp::Le, <=),
                    Op::JmpNotGt { b, c, off } => jmp_cmp!(b, c, off, Cmp::Gt, >),
                    Op::JmpNotGe { b, c, off } => jmp_cmp!(b, c, off, Cmp::Ge, >=),
                    Op::JmpNotEqI { b, imm, off } => {
                        if !equal_imm!(b, imm) {
                            jump!(off);
                        }
                    }
                    Op::JmpNotNeI { b, imm, off } => {
                        if equal_imm!(b, imm) {
                            jump!(off);
                        }
                    }
                    Op::JmpNotLtI { b, imm, off } => jmp_cmp_imm!(b, imm, off, Cmp::Lt, <),
                    Op::JmpNotLeI { b, imm, off } => jmp_cmp_imm!(b, imm, off, Cmp::Le, <=),
                    Op::JmpNotGtI { b, imm, off } => jmp_cmp_imm!(b, imm, off, Cmp::Gt, >),
                    Op::JmpNotGeI { b, imm, off } => jmp_cmp_imm!(b, imm, off, Cmp::Ge, >=),
                    Op::LoopIf { a, off } => {
                        loop_test!(LoopIf, off, !matches!(&reg!(a), Value::Nil | Value::False))
                    }
                    Op::LoopEq { b, c, off } => loop_test!(LoopEq, off, equal!(b, c)),
                    Op::LoopNe { b, c, off } => loop_test!(LoopNe, off, !equal!(b, c)),
                    Op::LoopLt { b, c, off } => loop_test!(LoopLt, off, ordered!(b, c, Cmp::Lt, <)),
                    Op::LoopLe { b, c, off } => {
                        loop_test!(LoopLe, off, ordered!(b, c, Cmp::Le, <=))
                    }
                    Op::LoopGt { b, c, off } => loop_test!(LoopGt, off, ordered!(b, c, Cmp::Gt, >)),
                    Op::LoopGe { b, c, off } => {
                        loop_test!(LoopGe, off, ordered!(b, c, Cmp::Ge, >=))
                    }
                    Op::LoopEqI { b, imm, off } => loop_test!(LoopEqI, off, equal_imm!(b, imm)),
                    Op::LoopNeI { b, imm, off } => loop_test!(LoopNeI, off, !equal_imm!(b, imm)),
                    Op::LoopLtI { b, imm, off } => {
                        loop_test!(LoopLtI, off, ordered_imm!(b, imm, Cmp::Lt, <))
                    }
                    Op::LoopLeI { b, imm, off } => {
                        loop_test!(LoopLeI, off, ordered_imm!(b, imm, Cmp::Le, <=))
                    }
                    Op::LoopGtI { b, imm, off } => {
                        loop_test!(LoopGtI, off, ordered_imm!(b, imm, Cmp::Gt, >))
                    }
                    Op::LoopGeI { b, imm, off } => {
                        loop_test!(LoopGeI, off, ordered_imm!(b, imm, Cmp::Ge, >=))
                    }
                    Op::Call { a, n } => {
                        charge!(Call);
                        save_pc!();
                        let slot = base + a.0 as usize;
                        // Calls of Echo functions skip the general dispatch.
                        if let Value::Func(c) = &reg!(a) {
                            let c = *c;
                            #[cfg(feature = "jit")]
                            self.note_call_target(fbase + pc - 1, Some(c.proto));
                            or_raise!(self.push_frame(c, slot + 1, slot, n.0 as usize));
                            continue 'frame;
                        }
                        #[cfg(feature = "jit")]
                        self.note_call_target(fbase + pc - 1, None);
                        if metered!(self.call_value(slot, n.0 as usize)) {
                            continue 'frame;
                        }
                    }
                    Op::CallGlobal { a, g, n } => {
                        charge!(CallGlobal);
                        save_pc!();
                        let callee = self.globals[g.0 as usize];
                        reg!(a) = callee;
                        let slot = base + a.0 as usize;
                        if let Value::Func(c) = callee {
                            or_raise!(self.push_frame(c, slot + 1, slot, n.0 as usize));
                            continue 'frame;
                        }
                        if metered!(self.call_value(slot, n.0 as usize)) {
                            continue 'frame;
                        }
                    }
                    Op::CallNative { a, f, n } => {
                        charge!(CallNative);
                        // The commonest builtins on their usual operands skip the general
                        // call (`call_native`, which also records coverage).
                        if !COVER {
                            let id = f.native();
                            let x = Reg(a.0 + 1);
                            if n.0 == 1
                                && let Some(v) = native_fast(id, &reg!(x))
                            {
                                reg!(a) = v;
                                continue;
                            }
                            if builtins::number_builtin(id, n.0)
                                && let Some(v) = match n.0 {
                                    1 => builtins::number_fast(id, &[reg!(x)]),
                                    _ => builtins::number_fast(id, &[reg!(x), reg!(Reg(a.0 + 2))]),
                                }
                            {
                                reg!(a) = v;
                                continue;
                            }
                            if id == builtins::ids::PUSH
                                && n.0 == 2
                                && let Value::List(l) = &reg!(x)
                            {
                                let l = *l;
                                let v = reg!(Reg(a.0 + 2));
                                or_raise!(self.list_push(l, v));
                                reg!(a) = Value::Nil;
                                safepoint!();
                                continue;
                            }
                            // `has(map, key)` with a key of a kind maps hold (any other
                            // raises, on the general path).
                            if id == builtins::ids::HAS
                                && n.0 == 2
                                && let Value::Map(m) = &reg!(x)
                                && let k @ (Value::Int(_) | Value::Str(_)) = reg!(Reg(a.0 + 2))
                            {
                                reg!(a) = Value::bool(m.value_ptr(k).is_some());
                                continue;
                            }
                        }
                        save_pc!();
                        let v = metered!(self.call_native(
                            f.native(),
                            base + a.0 as usize + 1,
                            n.0 as usize
                        ));
                        set_returned!(a, v);
                        safepoint!();
                    }
                    Op::Invoke { a, m, n, ic } => {
                        charge!(Invoke);
                        save_pc!();
                        let slot = base + a.0 as usize;
                        let ic = ic_slot!(ic);
                        if let (Value::Instance(inst), Some(i)) = (&reg!(a), ic) {
                            let e = self.ics[i];
                            if e.shape == inst.shape.get()
                                && let Some(method) = e.method
                            {
                                or_raise!(self.push_frame(method, slot, slot, n.0 as usize));
                                continue 'frame;
                            }
                        }
                        if metered!(self.invoke(slot, m, n.0 as usize, ic)) {
                            continue 'frame;
                        }
                    }
                    Op::SuperInvoke { a, m, n } => {
                        charge!(SuperInvoke);
                        save_pc!();
                        let method = or_raise!(self.super_method(proto, m));
                        let slot = base + a.0 as usize;
                        or_raise!(self.push_frame(method, slot, slot, n.0 as usize));
                        continue 'frame;
                    }
                    Op::GetSuper { a, b, m } => {
                        let method = or_raise!(self.super_method(proto, m));
                        let bm = or_raise!(self.heap.alloc(BoundMethod {
                            receiver: reg!(b),
                            method
                        }));
                        reg!(a) = Value::Method(bm);
                        safepoint!();
                    }
                    Op::Return { a } => {
                        let ret = frame!().ret as usize;
                        self.frames.discard_top();
                        // SAFETY: `a` is in the frame (see `reg!`); `ret` is a slot of the caller,
                        // below this frame's base, so inside the stack.
                        unsafe {
                            let dst = self.stack.ptr_unchecked(ret);
                            copy_value(regs.add(a.0 as usize), dst)
                        };
                        if self.frames.len() <= entry_depth {
                            self.exit_line = line_before!(pc);
                            self.fuel_left.set(fuel);
                            // Read here only: a whole-value read right after the
                            // instruction before wrote the register field by field would
                            // stall on store forwarding (see `pair!`).
                            return Ok(reg!(a));
                        }
                        continue 'frame;
                    }
                    Op::ReturnNil {} => {
                        let ret = frame!().ret as usize;
                        self.frames.discard_top();
                        self.stack.set(ret, Value::Nil);
                        if self.frames.len() <= entry_depth {
                            self.exit_line = line_before!(pc);
                            self.fuel_left.set(fuel);
                            return Ok(Value::Nil);
                        }
                        continue 'frame;
                    }
                    Op::NewList { a, b, n, len } => {
                        let start = base + b.0 as usize;
                        or_raise!(self.check_list_len(len.0 as usize));
                        let items = items_from(self.stack.slice(start, n.0 as usize));
                        let l = or_raise!(self.heap.alloc_list(items));
                        reg!(a) = Value::List(l);
                        safepoint!();
                    }
                    Op::AppendList { a, b, n } => {
                        let Value::List(l) = reg!(a) else {
                            unreachable!("AppendList targets a new list")
                        };
                        let start = base + b.0 as usize;
                        let items = self.stack.slice(start, n.0 as usize).to_vec();
                        or_raise!(self.list_extend(l, &items));
                        safepoint!();
                    }
                    Op::NewMap { a } => {
                        let m = or_raise!(self.heap.alloc_map());
                        reg!(a) = Value::Map(m);
                        safepoint!();
                    }
                    Op::GetIndex { a, b, c } => {
                        if let (Value::List(l), Value::Int(i)) = (&reg!(b), &reg!(c))
                            && let Some(e) = l.element_ptr(*i)
                        {
                            // SAFETY: an element of the list (in bounds) and a register.
                            unsafe { copy_value(e, regs.add(a.0 as usize)) };
                            continue;
                        }
                        not_int!();
                        if let Value::Map(m) = reg!(b)
                            && let Some(e) = m.value_ptr(reg!(c))
                        {
                            // SAFETY: a value of the map and a register.
                            unsafe { copy_value(e, regs.add(a.0 as usize)) };
                            continue;
                        }
                        let (obj, idx) = (reg!(b), reg!(c));
                        let v = metered!(self.get_index(obj, idx));
                        set_returned!(a, v);
                        safepoint!();
                    }
                    Op::SetIndex { a, b, c } => {
                        if let (Value::List(l), Value::Int(i)) = (&reg!(a), &reg!(b))
                            && let Some(e) = l.element_ptr(*i)
                        {
                            // SAFETY: a register and an element of the list (in bounds).
                            unsafe { copy_value(regs.add(c.0 as usize), e) };
                            continue;
                        }
                        not_int!();
                        if let Value::Map(m) = reg!(a)
                            && let Some(e) = m.value_ptr(reg!(b))
                        {
                            // SAFETY: a register and a value of the map.
                            unsafe { copy_value(regs.add(c.0 as usize), e) };
                            continue;
                        }
                        let (obj, idx, v) = (reg!(a), reg!(b), reg!(c));
                        or_raise!(self.set_index(obj, idx, v));
                        safepoint!();
                    }
                    Op::SetIndexK { a, b, k } => {
                        if let (Value::List(l), Value::Int(i)) = (&reg!(a), &reg!(b))
                            && let Some(e) = l.element_ptr(*i)
                        {
                            let v = konst!(k);
                            // SAFETY: an element of the list (in bounds).
                            unsafe { e.write(v) };
                            continue;
                        }
                        not_int!();
                        if let Value::Map(m) = reg!(a)
                            && let Some(e) = m.value_ptr(reg!(b))
                        {
                            let v = konst!(k);
                            // SAFETY: a value of the map.
                            unsafe { e.write(v) };
                            continue;
                        }
                        let (obj, idx) = (reg!(a), reg!(b));
                        or_raise!(self.set_index(obj, idx, konst!(k)));
                        safepoint!();
                    }
                    Op::GetProp { a, b, m, ic } => {
                        let ic = ic_slot!(ic);
                        if let (Value::Instance(inst), Some(i)) = (&reg!(b), ic) {
                            let e = self.ics[i];
                            if e.shape == inst.shape.get() && e.method.is_none() {
                                let src = inst.field_ptr(e.slot as usize);
                                // SAFETY: a field slot of the instance and a register.
                                unsafe { copy_value(src, regs.add(a.0 as usize)) };
                                continue;
                            }
                        }
                        let v = or_raise!(self.get_prop(reg!(b), m, ic));
                        set_returned!(a, v);
                        safepoint!();
                    }
                    Op::SetProp { a, b, m, ic } => {
                        let ic = ic_slot!(ic);
                        if let (Value::Instance(inst), Some(i)) = (&reg!(a), ic) {
                            let e = self.ics[i];
                            if e.shape == inst.shape.get() && e.shape == e.next {
                                let dst = inst.field_ptr(e.slot as usize);
                                // SAFETY: a register and a field slot of the instance.
                                unsafe { copy_value(regs.add(b.0 as usize), dst) };
                                continue;
                            }
                        }
                        or_raise!(self.set_prop(reg!(a), m, reg!(b), ic));
                        safepoint!();
                    }
                    Op::Class { a, c } => {
                        let cls = or_raise!(self.make_class(c));
                        reg!(a) = Value::Class(cls);
                        safepoint!();
                    }
                    Op::Throw { a } => {
                        // Marks the throw as run: compiled code inlining its function leaves
                        // it out only while it never ran (`analysis::cold_throws`).
                        not_int!();
                        break Stop::Raise(RtError::thrown(reg!(a)));
                    }
                    Op::IterPrep { a } => or_raise!(self.iter_prep(base + a.0 as usize)),
                    Op::IterNext { a, b, off } => {
                        let &Value::Int(cur) = &reg!(Reg(a.0 + 1)) else {
                            unreachable!("IterPrep set the cursor")
                        };
                        if let Value::List(l) = reg!(a) {
                            match l.element_ptr(cur) {
                                Some(e) => {
                                    // SAFETY: an element of the list (in bounds) and a
                                    // register.
                                    unsafe { copy_value(e, regs.add(b.0 as usize)) };
                                    reg!(Reg(a.0 + 1)) = Value::Int(cur + 1);
                                    continue;
                                }
                                None => {
                                    jump!(off);
                                    continue;
                                }
                            }
                        }
                        match or_raise!(self.iter_next(reg!(a), cur as usize)) {
                            Some((v, next)) => {
                                set_returned!(b, v);
                                reg!(Reg(a.0 + 1)) = Value::Int(next as i64);
                                safepoint!();
                            }
                            None => jump!(off),
                        }
                    }
                    Op::ForPrep { a, off } => match (&reg!(a), &reg!(Reg(a.0 + 1))) {
                        (Value::Int(s), Value::Int(e)) => {
                            if s >= e {
                                jump!(off);
                            }
                        }
                        _ => break Stop::Raise(self.range_error(reg!(a), reg!(Reg(a.0 + 1)))),
                    },
                    Op::ForLoop { a, off } => {
                        let (&Value::Int(i), &Value::Int(e)) = (&reg!(a), &reg!(Reg(a.0 + 1)))
                        else {
                            unreachable!("ForPrep checked the bounds")
                        };
                        // One unit per completed iteration, like every other loop.
                        charge!(ForLoop);
                        let next = i + 1;
                        reg!(a) = Value::Int(next);
                        if next < e {
                            jump!(off);
                            osr!();
                        }
                    }
                    Op::AddIL { a, b, imm } => {
                        arith_imm!(a, b, imm, Arith::Add, checked_add, +, true)
                    }
                    Op::MulIL { a, b, imm } => {
                        arith_imm!(a, b, imm, Arith::Mul, checked_mul, *, true)
                    }
                    Op::AddKL { a, b, k } => arith_k!(a, b, k, Arith::Add, +, true),
                    Op::MulKL { a, b, k } => arith_k!(a, b, k, Arith::Mul, *, true),
                }
            };
            // Without the JIT, raising is the only way out.
            #[cfg_attr(not(feature = "jit"), allow(clippy::infallible_destructuring_match))]
            let err = match stop {
                Stop::Raise(err) => err,
                #[cfg(feature = "jit")]
                Stop::Osr => {
                    self.fuel_left.set(fuel);
                    let status = self.run_compiled(frame!(), Some(pc as u32));
                    fuel = self.fuel_left.get();
                    #[cfg(debug_assertions)]
                    {
                        fuel_audit = None;
                    }
                    if let Some(r) = self.after_compiled(status, frame!().ret as usize, entry_depth)
                    {
                        return r;
                    }
                    continue 'frame;
                }
            };
            // An error was raised by the instruction before `pc`.
            if COVER && let Some(c) = &mut self.coverage {
                c.raised((fbase + pc - 1) as u32, err.kind);
            }
            self.save_pc(pc);
            self.fuel_left.set(fuel);
            self.unwind(err, entry_depth)?;
        }
    }

    /// What the dispatch loop does after compiled code ran frame `ret`'s callee: `Some` to
    /// return from `execute`, `None` to continue with the (new) top frame.
    #[cfg(feature = "jit")]
    fn after_compiled(
        &mut self,
        status: u64,
        ret: usize,
        entry_depth: usize,
    ) -> Option<RtResult<Value>> {
        if status == crate::runtime::tiering::STATUS_OK {
            return (self.frames.len() <= entry_depth).then(|| Ok(self.stack.get(ret)));
        }
        let err = self
            .pending
            .take()
            .unwrap_or_else(|| RtError::new(ErrorKind::InternalError, "no pending error"));
        if self.frames.len() <= entry_depth {
            return Some(Err(err));
        }
        match self.unwind(err, entry_depth) {
            Ok(()) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// `len(x)` and `ord(x)` without the general builtin call, when `x` is a list, a string or a
/// map (`len`) or a one-character string (`ord`); `None` for anything else, including every
/// case that raises.
#[inline(always)]
fn native_fast(id: NativeId, x: &Value) -> Option<Value> {
    if id == builtins::ids::LEN {
        match x {
            Value::List(l) => Some(Value::Int(l.items.borrow().len() as i64)),
            Value::Str(s) => Some(Value::Int(s.char_len() as i64)),
            _ => None,
        }
    } else if id == builtins::ids::ORD {
        match x {
            Value::Str(s) if s.char_len() == 1 => {
                s.as_str().chars().next().map(|c| Value::Int(c as i64))
            }
            _ => None,
        }
    } else {
        None
    }
}

/// Two operands classified for the arithmetic and comparison fast paths.
enum NumPair {
    Ints(i64, i64),
    Floats(f64, f64),
    Other,
}

/// `num_pair`, with an int paired with a float converted to a float (for arithmetic only:
/// comparisons of an int with a float are exact, see `ops::cmp_int_float`).
#[inline(always)]
fn num_pair_promoted(x: &Value, y: &Value) -> NumPair {
    match (x, y) {
        (Value::Int(i), Value::Int(j)) => NumPair::Ints(*i, *j),
        (Value::Float(p), Value::Float(q)) => NumPair::Floats(*p, *q),
        (Value::Int(i), Value::Float(q)) => NumPair::Floats(*i as f64, *q),
        (Value::Float(p), Value::Int(j)) => NumPair::Floats(*p, *j as f64),
        _ => NumPair::Other,
    }
}

#[inline(always)]
fn num_pair(x: &Value, y: &Value) -> NumPair {
    match (x, y) {
        (Value::Int(i), Value::Int(j)) => NumPair::Ints(*i, *j),
        (Value::Float(p), Value::Float(q)) => NumPair::Floats(*p, *q),
        _ => NumPair::Other,
    }
}
