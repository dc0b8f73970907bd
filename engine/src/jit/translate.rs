//! Bytecode to Cranelift IR, one `Translator` per function and one method per opcode family.
//!
//! Every VM register is a pair of Cranelift variables (tag word, payload word). Reads and
//! writes use the variables; a register is stored back to its stack slot only where the
//! slots must be current: before every helper call and call (safepoints: the collector, the
//! callee and the helpers read slots), at side exits, error exits and returns. A dataflow over
//! the bytecode finds, for each instruction, the registers written since the last such point
//! on some path ("dirty"), and only those are stored. A write that every path carries to a
//! call anyway is stored at once instead (write-through, `stored_at_write`): same stores on
//! the hot path, none at the cold exits in between. After a call only the result register
//! (and the register base, in case the stack grew) is reloaded.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    Block, ExtFuncData, ExternalName, FuncRef, Function, InstBuilder, MemFlagsData, SigRef,
    Signature, UserExternalName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::bytecode::*;
use crate::config::MAX_JIT_INSTRUCTIONS;
use crate::runtime::heap::layout;
use crate::runtime::ops::{Arith, Cmp};
use crate::runtime::stack::{Frame, FrameStack, Stack};
use crate::runtime::value::{Value as EchoValue, tag};
use crate::runtime::vm::{FB_NOT_INT, FnInfo, Ic, Mirrors, Vm};
use crate::syntax::resolver::GlobalKind;

use super::analysis::{
    RegSet, dirty_registers, live_registers, reachable, stored_at_write, successors, target,
    written_register,
};
use super::helpers::{H, arith_code, cmp_code};
use crate::runtime::tiering::Mode;

const I64: types::Type = types::I64;
const F64: types::Type = types::F64;

/// Byte offsets of VM fields that compiled code uses.
mod off {
    use std::mem::offset_of;

    use super::*;

    pub const FUEL: i32 = offset_of!(Vm, fuel_left) as i32;
    pub const NATIVE_LIMIT: i32 = offset_of!(Vm, native_limit) as i32;
    pub const STACK_BASE: i32 = (offset_of!(Vm, stack) + Stack::BASE_OFFSET) as i32;
    pub const STACK_LEN: i32 = (offset_of!(Vm, stack) + Stack::LEN_OFFSET) as i32;
    pub const FRAMES_BUF: i32 = (offset_of!(Vm, frames) + FrameStack::BUF_OFFSET) as i32;
    pub const FRAMES_LEN: i32 = (offset_of!(Vm, frames) + FrameStack::LEN_OFFSET) as i32;
    pub const FRAMES_CAP: i32 = (offset_of!(Vm, frames) + FrameStack::CAP_OFFSET) as i32;
    pub const M_FN_INFO: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, fn_info)) as i32;
    pub const M_CALLS: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, calls)) as i32;
    pub const M_GLOBALS: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, globals)) as i32;
    pub const M_ICS: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, ics)) as i32;
    pub const M_CONSTS: i32 = (offset_of!(Vm, mirrors) + offset_of!(Mirrors, consts)) as i32;

    pub const FRAME_SIZE: i64 = std::mem::size_of::<Frame>() as i64;
    pub const FRAME_CLOSURE: i32 = offset_of!(Frame, closure) as i32;
    pub const FRAME_PROTO: i32 = offset_of!(Frame, proto) as i32;
    pub const FRAME_BASE: i32 = offset_of!(Frame, base) as i32;
    pub const FRAME_PC: i32 = offset_of!(Frame, pc) as i32;
    pub const FRAME_RET: i32 = offset_of!(Frame, ret) as i32;

    pub const FN_INFO_SIZE: i64 = std::mem::size_of::<FnInfo>() as i64;
    pub const FN_ENTRY: i32 = offset_of!(FnInfo, entry) as i32;
    pub const FN_ARITY: i32 = offset_of!(FnInfo, arity) as i32;
    pub const FN_NREGS: i32 = offset_of!(FnInfo, nregs) as i32;

    pub const IC_SIZE: i64 = std::mem::size_of::<Ic>() as i64;
    pub const IC_SHAPE: i32 = offset_of!(Ic, shape) as i32;
    pub const IC_SLOT: i32 = offset_of!(Ic, slot) as i32;
    pub const IC_NEXT: i32 = offset_of!(Ic, next) as i32;
    pub const IC_METHOD: i32 = offset_of!(Ic, method) as i32;
}

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Static facts the translation of one prototype needs from the VM.
struct Input<'a> {
    proto: &'a Proto,
    pid: ProtoId,
    mode: Mode,
    /// The version entered at loop headers (on-stack replacement), not at calls.
    osr: bool,
    consts: &'a [EchoValue],
    /// Start of this prototype's constants in the VM's pool.
    kbase: usize,
    feedback: &'a [u8],
    ics: &'a [Ic],
    icb: usize,
    /// For `super`: the superclass method per symbol, if the classes exist already.
    super_methods:
        FxHashMap<crate::symbol::Symbol, crate::runtime::heap::Gc<crate::runtime::heap::Closure>>,
    /// Global slots that hold a function or class for the whole run.
    globals_kind: Vec<GlobalKind>,
    /// The closure each function global holds now, when globals can no longer change
    /// (top-level functions are constants outside the REPL).
    fn_globals: FxHashMap<u32, crate::runtime::heap::Gc<crate::runtime::heap::Closure>>,
    /// Arity and register count of every prototype (for calls to known functions).
    proto_shapes: Vec<(u32, u32)>,
    /// For an OSR version compiled while the interpreter waits at a loop header: that
    /// header's pc and the tag of every register at that moment.
    osr_snapshot: Option<(usize, Vec<u8>)>,
    /// Every prototype of the program (for what nested closures capture).
    protos: Vec<std::rc::Rc<Proto>>,
}

/// Translates prototype `pid` into `func`.
/// Where a translation writes its result.
pub(crate) struct Target<'a> {
    /// The function to fill (its signature already set).
    pub func: &'a mut Function,
    /// Builder scratch space, reused between functions.
    pub fctx: &'a mut FunctionBuilderContext,
    /// The module's ids of the helpers, indexed by `H` (imported into `func` when used).
    pub helper_ids: &'a [u32],
    /// The signature shared by all helpers.
    pub helper_sig: Signature,
    /// The signature of compiled functions (for direct calls).
    pub compiled_sig: Signature,
    /// The target's frontend configuration.
    pub config: cranelift_codegen::isa::TargetFrontendConfig,
}

/// Translates prototype `pid` into `out.func`.
pub(crate) fn translate(
    vm: &mut Vm,
    pid: ProtoId,
    mode: Mode,
    osr: bool,
    out: Target<'_>,
) -> Result<(), String> {
    let Target {
        func,
        fctx,
        helper_ids,
        helper_sig,
        compiled_sig,
        config: target,
    } = out;
    let proto = std::rc::Rc::clone(vm.program().proto(pid));
    // Cranelift's time grows faster than linearly with function size; very large
    // functions (typically generated top-level code) stay interpreted.
    if proto.code.len() > MAX_JIT_INSTRUCTIONS {
        return Err(format!(
            "function too large to compile ({} instructions, limit {MAX_JIT_INSTRUCTIONS})",
            proto.code.len()
        ));
    }
    let info = vm.fn_info[pid.0 as usize];
    let mut super_methods = FxHashMap::default();
    if let Some(c) = proto.class
        && let Some(Some(cls)) = vm.class_objs.get(c.0 as usize)
        && let Some(sup) = cls.superclass
    {
        super_methods = if mutant!(SuperOwnClass) {
            cls.methods.clone()
        } else {
            sup.methods.clone()
        };
    }
    let input = Input {
        proto: &proto,
        pid,
        mode,
        osr,
        consts: &vm.const_pool[info.kbase as usize..info.kbase as usize + proto.consts.len()],
        feedback: &vm.feedback[info.fbase as usize..info.fbase as usize + proto.code.len()],
        ics: &vm.ics[info.icb as usize..info.icb as usize + proto.ic_count as usize],
        icb: info.icb as usize,
        kbase: info.kbase as usize,
        super_methods,
        globals_kind: vm.program().globals.iter().map(|g| g.kind).collect(),
        fn_globals: if vm.stable_globals {
            vm.program()
                .globals
                .iter()
                .enumerate()
                .filter(|(_, g)| g.kind == GlobalKind::Fn)
                .filter_map(|(i, _)| match vm.globals.get(i) {
                    Some(EchoValue::Func(c)) => Some((i as u32, *c)),
                    _ => None,
                })
                .collect()
        } else {
            FxHashMap::default()
        },
        proto_shapes: vm.fn_info.iter().map(|f| (f.arity, f.nregs)).collect(),
        protos: vm.program().protos.clone(),
        osr_snapshot: match vm.frames.last() {
            Some(f) if osr && f.proto == pid => {
                let base = f.base as usize;
                let tags = (0..proto.nregs as usize)
                    .map(|r| vm.stack.get(base + r).to_bits().0 as u8)
                    .collect();
                Some((f.pc as usize, tags))
            }
            _ => None,
        },
    };
    let mut b = FunctionBuilder::new(func, fctx);
    let compiled_sig = b.import_signature(compiled_sig);
    let mut t = Translator::new(b, &input, helper_ids, helper_sig, compiled_sig);
    t.run()?;
    t.b.seal_all_blocks();
    t.b.finalize(target);
    Ok(())
}

/// What the translator knows about the values registers hold, beyond their variables; valid
/// within one block, and forgotten register by register whenever a register is given a new
/// value (`Translator::define`). Known tags need no entry: a known tag is the shared tag
/// constant itself as the register's tag value, so a new definition replaces it by
/// construction; likewise the checked shapes in `Translator::objects` are keyed by the
/// pointer's SSA value.
#[derive(Default)]
struct RegFacts {
    /// Registers holding a constant function (a top-level one, read from its global slot):
    /// its prototype.
    known_fn: FxHashMap<u16, ProtoId>,
}

impl RegFacts {
    /// Register `r` got a new value.
    fn forget(&mut self, r: Reg) {
        self.known_fn.remove(&r.0);
    }

    /// Control merges here: nothing is known.
    fn clear(&mut self) {
        self.known_fn.clear();
    }
}

struct Translator<'a> {
    b: FunctionBuilder<'a>,
    input: &'a Input<'a>,
    helper_ids: &'a [u32],
    helper_sig: Signature,
    helper_sigref: Option<SigRef>,
    /// Helpers imported so far, indexed by `H`.
    helpers: Vec<Option<FuncRef>>,
    compiled_sig: SigRef,
    vm: Value,
    base: Value,
    entry_pc: Value,
    /// Address of this activation's frame record (the frame stack never moves).
    frame: Value,
    /// The closure running (for captured variables).
    closure: Value,
    /// Address of register 0 (the register stack never moves).
    regs: Value,
    tags: Vec<Variable>,
    pays: Vec<Variable>,
    blocks: FxHashMap<usize, Block>,
    error_blocks: FxHashMap<usize, Block>,
    side_exit_blocks: FxHashMap<usize, Block>,
    /// Out-of-line blocks to emit after the body.
    deferred: Vec<Deferred>,
    /// The exits shared by errors without a handler in this frame, and by fuel exhaustion.
    shared_error_exit: Option<Block>,
    shared_fuel_exit: Option<Block>,
    /// Tag constants, indexed by tag (defined in the entry block).
    tag_consts: Vec<Value>,
    /// What is known about registers' values beyond their variables (see `RegFacts`).
    facts: RegFacts,
    /// Per instruction: whether the register it writes is stored at once (write-through).
    stored: Vec<bool>,
    /// Per instruction: registers that may differ from their slots on entry to it.
    dirty: Vec<RegSet>,
    /// Per instruction: registers live on entry to it.
    live: Vec<RegSet>,
    /// Conditions known at translation time (see `cond_const`).
    known: FxHashMap<Value, bool>,
    /// The instruction being translated (or whose exit block is being emitted).
    cur_pc: usize,
    /// Set when the current instruction stored all dirty registers on a path that dominates
    /// the rest of its code (so its helper calls need not store them again).
    synced_at: Option<usize>,
    /// Whether the current block already ended (jump, return).
    terminated: bool,
    /// Instances whose shape was checked since the last helper call or block start, by the
    /// value of their pointer: the shape, and the address of their field slots once loaded.
    /// Only code that neither calls nor merges adds to it, and every helper call clears it
    /// (only helpers change a shape or move the slots).
    objects: FxHashMap<Value, (u32, Value)>,
    /// Fuel left, kept in a variable and stored to the VM around calls and exits.
    fuel: Variable,
    /// Whether the instruction being translated charged fuel (checked against the opcode
    /// table).
    fuel_charged: bool,
}

impl<'a> Translator<'a> {
    fn new(
        b: FunctionBuilder<'a>,
        input: &'a Input<'a>,
        helper_ids: &'a [u32],
        helper_sig: Signature,
        compiled_sig: SigRef,
    ) -> Self {
        let mut b = b;
        let nregs = input.proto.nregs as usize;
        let tags = (0..nregs).map(|_| b.declare_var(I64)).collect();
        let pays = (0..nregs).map(|_| b.declare_var(I64)).collect();
        let fuel = b.declare_var(I64);
        let dummy = Value::from_u32(0);
        let stored = stored_at_write(input.proto);
        let dirty = dirty_registers(input.proto, &stored);
        Translator {
            b,
            input,
            helper_ids,
            helper_sig,
            helper_sigref: None,
            helpers: vec![None; helper_ids.len()],
            compiled_sig,
            vm: dummy,
            base: dummy,
            entry_pc: dummy,
            frame: dummy,
            closure: dummy,
            regs: dummy,
            tags,
            pays,
            blocks: FxHashMap::default(),
            error_blocks: FxHashMap::default(),
            side_exit_blocks: FxHashMap::default(),
            deferred: Vec::new(),
            shared_error_exit: None,
            shared_fuel_exit: None,
            tag_consts: Vec::new(),
            facts: RegFacts::default(),
            stored,
            dirty,
            live: live_registers(input.proto, &input.protos),
            known: FxHashMap::default(),
            cur_pc: 0,
            synced_at: None,
            terminated: false,
            objects: FxHashMap::default(),
            fuel,
            fuel_charged: false,
        }
    }

    // ----- small builders -----

    /// The tag `t` as a value. One definition per tag, in the entry block, so a register whose
    /// tag is the same constant on every path needs no phi and its checks fold away.
    fn tag_val(&self, t: u8) -> Value {
        self.tag_consts[t as usize]
    }

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(I64, v)
    }

    fn load(&mut self, addr: Value, offset: i32) -> Value {
        self.b.ins().load(I64, flags(), addr, offset)
    }

    fn load32(&mut self, addr: Value, offset: i32) -> Value {
        self.b.ins().uload32(flags(), addr, offset)
    }

    fn store(&mut self, v: Value, addr: Value, offset: i32) {
        self.b.ins().store(flags(), v, addr, offset);
    }

    fn store32(&mut self, v: Value, addr: Value, offset: i32) {
        self.b.ins().istore32(flags(), v, addr, offset);
    }

    /// Calls a helper; unused arguments are zero.
    fn helper(&mut self, h: H, args: &[Value]) -> Value {
        // Every helper call is a safepoint: the slots must be current.
        if self.synced_at != Some(self.cur_pc) {
            if mutant!(IntRegisterNotSynced) && self.cur_pc < self.dirty.len() {
                let mut regs = RegSet::new(self.input.proto.nregs as usize);
                for r in self.dirty[self.cur_pc].clone().iter() {
                    let (t, _) = self.get(Reg(r as u16));
                    if self.known_tag(t) != Some(tag::INT) {
                        regs.insert(r);
                    }
                }
                self.store_regs(&regs);
            } else {
                self.sync(self.cur_pc);
            }
        }
        let mut all = Vec::with_capacity(6);
        all.push(self.vm);
        all.extend_from_slice(args);
        // One zero for every padding argument: a third of all the IR's instructions were
        // these constants, each one hashed and placed by Cranelift only to be merged.
        let zero = self.tag_consts[0]; // `iconst 0`, in the entry block
        all.resize(6, zero);
        let f = self.helper_ref(h);
        self.spill_fuel();
        let call = self.b.ins().call(f, &all);
        let r = self.b.inst_results(call)[0];
        self.fill_fuel();
        self.objects.clear();
        r
    }

    /// Stores the fuel variable to the VM (before anything else may read or charge fuel).
    fn spill_fuel(&mut self) {
        let f = self.b.use_var(self.fuel);
        self.store(f, self.vm, off::FUEL);
    }

    /// Reloads the fuel variable from the VM (at entry and after calls).
    fn fill_fuel(&mut self) {
        let f = self.load(self.vm, off::FUEL);
        self.b.def_var(self.fuel, f);
    }

    /// The reference to helper `h`, importing it into the function on first use.
    fn helper_ref(&mut self, h: H) -> FuncRef {
        if let Some(f) = self.helpers[h as usize] {
            return f;
        }
        let sig = match self.helper_sigref {
            Some(s) => s,
            None => {
                let s = self.b.import_signature(self.helper_sig.clone());
                self.helper_sigref = Some(s);
                s
            }
        };
        let name = self
            .b
            .func
            .declare_imported_user_function(UserExternalName {
                namespace: 0,
                index: self.helper_ids[h as usize],
            });
        let f = self.b.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature: sig,
            colocated: false,
            patchable: false,
        });
        self.helpers[h as usize] = Some(f);
        f
    }

    /// Absolute stack index of register `r` of this frame.
    fn slot(&mut self, r: Reg) -> Value {
        self.b.ins().iadd_imm_s(self.base, r.0 as i64)
    }

    fn reg_addr(&mut self, r: Reg) -> (Value, i32) {
        let regs = self.regs;
        (regs, r.0 as i32 * 16)
    }

    fn get(&mut self, r: Reg) -> (Value, Value) {
        (
            self.b.use_var(self.tags[r.0 as usize]),
            self.b.use_var(self.pays[r.0 as usize]),
        )
    }

    /// Gives register `r` a new value. Every write of a register's variables goes through
    /// here (instructions' results, results reloaded from slots after a helper or call, OSR
    /// and handler entries), so that whatever was known about the old value is forgotten in
    /// one place. Only `refine_tag` redefines a variable otherwise, for the same value.
    fn define(&mut self, r: Reg, t: Value, p: Value) {
        self.b.def_var(self.tags[r.0 as usize], t);
        self.b.def_var(self.pays[r.0 as usize], p);
        self.facts.forget(r);
    }

    /// Records that register `r`, unchanged, has tag `t` (a guard just checked it), so later
    /// checks of it fold away. The value is the same, so the other facts about it stay.
    fn refine_tag(&mut self, r: Reg, t: u8) {
        let known = self.tag_val(t);
        self.b.def_var(self.tags[r.0 as usize], known);
    }

    /// Writes a register: the variables and, where the instruction writes through (see
    /// `stored_at_write`), the slot.
    fn set(&mut self, r: Reg, t: Value, p: Value) {
        self.define(r, t, p);
        if self.stored.get(self.cur_pc) == Some(&true) {
            debug_assert_eq!(
                written_register(&self.input.proto.code[self.cur_pc]),
                Some(r),
                "an instruction wrote a register other than its destination"
            );
            let int_dropped = mutant!(IntRegisterNotSynced) && self.known_tag(t) == Some(tag::INT);
            let dead_dropped = mutant!(DeadRegistersNotSynced) && !self.live_after(self.cur_pc, r);
            if !int_dropped && !dead_dropped {
                let (addr, off) = self.reg_addr(r);
                self.store(t, addr, off);
                self.store(p, addr, off + 8);
            }
        }
    }

    /// Stores the dirty registers at `pc` on a path that dominates the rest of the
    /// instruction (before a call, whose arguments the callee reads from their slots).
    fn sync_all(&mut self, pc: usize) {
        self.sync(pc);
        self.synced_at = Some(pc);
    }

    /// Stores every register that may differ from its slot at instruction `pc` (see the
    /// module docs): after this every slot holds what the interpreter's would. Dead registers
    /// too: the collector treats every slot of the active windows as a root, so a dead
    /// register still decides what stays alive, and with it when a heap limit is reached.
    fn sync(&mut self, pc: usize) {
        let mut regs = self.dirty[pc].clone();
        if mutant!(DeadRegistersNotSynced) {
            let mut live = RegSet::new(self.input.proto.nregs as usize);
            for r in regs.iter().filter(|&r| self.live[pc].contains(r)) {
                live.insert(r);
            }
            regs = live;
        }
        self.store_regs(&regs);
    }

    fn store_regs(&mut self, regs: &RegSet) {
        for r in regs.iter() {
            let reg = Reg(r as u16);
            let (t, p) = self.get(reg);
            let (addr, off) = self.reg_addr(reg);
            self.store(t, addr, off);
            self.store(p, addr, off + 8);
        }
    }

    /// Whether register `r` is live after instruction `pc` (read on some path before being
    /// written again). Only the mutants ask.
    fn live_after(&self, pc: usize, r: Reg) -> bool {
        let code = &self.input.proto.code;
        successors(pc, &code[pc], code.len())
            .iter()
            .any(|&s| self.live[s].contains(r.0 as usize))
    }

    fn set_const(&mut self, r: Reg, t: u8, p: i64) {
        let t = self.tag_val(t);
        let p = self.iconst(p);
        self.set(r, t, p);
    }

    /// Re-reads a register from its slot (after a helper or call wrote it).
    fn reload(&mut self, r: Reg) {
        let (addr, off) = self.reg_addr(r);
        let t = self.load(addr, off);
        let p = self.load(addr, off + 8);
        if mutant!(ReloadKeepsFacts) {
            // The bug this mutant models: the result overwrote the register, but what was
            // known about its old value (such as the callee of `f(x)(y)`) survives.
            self.b.def_var(self.tags[r.0 as usize], t);
            self.b.def_var(self.pays[r.0 as usize], p);
            return;
        }
        self.define(r, t, p);
    }

    fn save_pc(&mut self, pc: usize) {
        let v = self.iconst(pc as i64 + 1);
        self.store32(v, self.frame, off::FRAME_PC);
    }

    /// A condition known here, as an `i8` value the branches below fold.
    fn cond_const(&mut self, c: bool) -> Value {
        let v = self.b.ins().iconst(types::I8, i64::from(c));
        self.known.insert(v, c);
        v
    }

    /// The tag `t` holds, when it is one of the shared tag constants (a guard or an
    /// instruction fixed it on every path here).
    fn known_tag(&self, t: Value) -> Option<u8> {
        self.tag_consts
            .iter()
            .position(|&c| c == t)
            .map(|i| i as u8)
    }

    fn tag_is(&mut self, t: Value, want: u8) -> Value {
        match self.known_tag(t) {
            Some(k) => self.cond_const(k == want),
            None => self.b.ins().icmp_imm_s(IntCC::Equal, t, want as i64),
        }
    }

    fn both(&mut self, x: Value, y: Value) -> Value {
        match (self.known.get(&x).copied(), self.known.get(&y).copied()) {
            (Some(false), _) | (_, Some(false)) => self.cond_const(false),
            (Some(true), _) => y,
            (_, Some(true)) => x,
            _ => self.b.ins().band(x, y),
        }
    }

    /// `brif`, or a plain jump when the condition is known here: code behind a check that
    /// cannot fail is then unreachable and never compiled.
    fn brif_c(
        &mut self,
        cond: Value,
        then: Block,
        then_args: &[cranelift_codegen::ir::BlockArg],
        els: Block,
        els_args: &[cranelift_codegen::ir::BlockArg],
    ) {
        match self.known.get(&cond) {
            Some(true) => {
                self.b.ins().jump(then, then_args);
            }
            Some(false) => {
                self.b.ins().jump(els, els_args);
            }
            None => {
                self.b.ins().brif(cond, then, then_args, els, els_args);
            }
        }
    }

    fn block_at(&mut self, pc: usize) -> Block {
        *self.blocks.get(&pc).expect("every jump target is a leader")
    }

    fn jump(&mut self, block: Block) {
        self.b.ins().jump(block, &[]);
    }

    /// Continues in a fresh block (after a conditional exit).
    fn continue_in(&mut self, block: Block) {
        self.b.switch_to_block(block);
    }

    /// Branches to the error exit of `pc` when `failed` is nonzero.
    fn check_status(&mut self, pc: usize, failed: Value) {
        let err = self.error_block(pc);
        let ok = self.b.create_block();
        self.brif_c(failed, err, &[], ok, &[]);
        self.continue_in(ok);
    }

    /// The block that handles an error raised at `pc`: the top frame's `try` handler if one
    /// covers `pc`, else leaving the frame with the error. Emitted after the body.
    fn error_block(&mut self, pc: usize) -> Block {
        if let Some(&b) = self.error_blocks.get(&pc) {
            return b;
        }

        let blk = self.b.create_block();
        self.error_blocks.insert(pc, blk);
        self.deferred.push(Deferred::Error(pc, blk));
        blk
    }

    /// The exit shared by every error raised where no handler of this frame applies (with
    /// `fuel`, running out of fuel, never catchable): its parameter is the pc + 1 to record.
    fn shared_exit(&mut self, fuel: bool) -> Block {
        let slot = if fuel {
            &mut self.shared_fuel_exit
        } else {
            &mut self.shared_error_exit
        };
        if let Some(b) = *slot {
            return b;
        }
        let b = self.b.create_block();
        self.b.append_block_param(b, I64);
        *slot = Some(b);
        b
    }

    /// Emits the shared exits that were used.
    fn emit_shared_exits(&mut self) {
        for fuel in [true, false] {
            let Some(blk) = (if fuel {
                self.shared_fuel_exit
            } else {
                self.shared_error_exit
            }) else {
                continue;
            };
            self.b.switch_to_block(blk);
            let at = self.b.block_params(blk)[0];
            self.store32(at, self.frame, off::FRAME_PC);
            // The frame is being left: no register needs storing.
            self.cur_pc = usize::MAX;
            self.synced_at = Some(usize::MAX);
            if fuel {
                self.helper(H::FuelError, &[]);
            }
            self.helper(H::Unwind, &[]);
            let one = self.iconst(1);
            self.b.ins().return_(&[one]);
        }
    }

    /// The block that leaves compiled code because a speculation failed at `pc`. Emitted
    /// after the body.
    fn side_exit_block(&mut self, pc: usize) -> Block {
        if let Some(&b) = self.side_exit_blocks.get(&pc) {
            return b;
        }
        let blk = self.b.create_block();
        self.side_exit_blocks.insert(pc, blk);
        self.deferred.push(Deferred::SideExit(pc, blk));
        blk
    }

    /// Emits the out-of-line blocks collected while translating the body.
    fn emit_deferred(&mut self) {
        let mut i = 0;
        while i < self.deferred.len() {
            match self.deferred[i] {
                Deferred::Error(pc, blk) if self.input.proto.handler_for(pc).is_none() => {
                    // No handler here: the frame is left, and only the pc differs between
                    // sites, so they share one exit. Its slots stay in the caller's window
                    // (roots, should the caller catch the error): they must be current.
                    self.b.switch_to_block(blk);
                    self.sync(pc);
                    let shared = self.shared_exit(false);
                    let recorded = if mutant!(ErrorLineNextInstruction)
                        && pc + 1 < self.input.proto.code.len()
                    {
                        pc + 1
                    } else {
                        pc
                    };
                    let at = self.iconst(recorded as i64 + 1);
                    self.b.ins().jump(shared, &[at.into()]);
                }
                Deferred::Error(pc, blk) => {
                    self.b.switch_to_block(blk);
                    self.cur_pc = pc;
                    self.save_pc(pc);
                    // Caught here or not, the interpreter goes on with these slots.
                    let handler = self.input.proto.handler_for(pc).copied();
                    self.sync_all(pc);
                    let r = self.helper(H::Unwind, &[]);
                    match handler {
                        Some(h) => {
                            let caught = self.b.create_block();
                            let leave = self.b.create_block();
                            self.brif_c(r, leave, &[], caught, &[]);
                            self.b.switch_to_block(caught);
                            self.reload(h.reg);
                            let target = self.block_at(h.target as usize);
                            self.jump(target);
                            self.b.switch_to_block(leave);
                            let one = self.iconst(1);
                            self.b.ins().return_(&[one]);
                        }
                        None => {
                            let one = self.iconst(1);
                            self.b.ins().return_(&[one]);
                        }
                    }
                }
                Deferred::SideExit(pc, blk) => {
                    self.b.switch_to_block(blk);
                    self.cur_pc = pc;
                    self.synced_at = None;
                    if mutant!(SideExitDropsRegister) {
                        // Store every changed register but the lowest live one.
                        let dropped = self.dirty[pc].iter().find(|&r| self.live[pc].contains(r));
                        let mut regs = RegSet::new(self.input.proto.nregs as usize);
                        for r in self.dirty[pc].iter().filter(|&r| Some(r) != dropped) {
                            regs.insert(r);
                        }
                        self.store_regs(&regs);
                        self.synced_at = Some(pc);
                    }
                    let p = self.iconst(pc as i64);
                    let st = self.helper(H::SideExit, &[p]);
                    self.b.ins().return_(&[st]);
                }
            }
            i += 1;
        }
    }

    /// Leaves to the interpreter unless `ok` holds.
    fn guard(&mut self, pc: usize, ok: Value) {
        let exit = self.side_exit_block(pc);
        let cont = self.b.create_block();
        self.brif_c(ok, cont, &[], exit, &[]);
        self.continue_in(cont);
    }

    /// Whether the instruction at `pc` may be compiled assuming int operands.
    fn speculate_int(&self, pc: usize) -> bool {
        self.input.mode == Mode::Speculative && self.input.feedback[pc] & FB_NOT_INT == 0
    }

    /// Charges one unit of fuel, or raises FuelExhausted at `pc`.
    fn charge_fuel(&mut self, pc: usize) {
        self.fuel_charged = true;
        let f = self.b.use_var(self.fuel);
        let ok = self.b.create_block();
        let empty = self.shared_exit(true);
        let at = self.iconst(pc as i64 + 1);
        self.brif_c(f, ok, &[], empty, &[at.into()]);
        self.b.switch_to_block(ok);
        let f1 = self.b.ins().iadd_imm_s(f, -1);
        self.b.def_var(self.fuel, f1);
    }

    // ----- structure -----

    /// Block leaders (entry, branch targets, instructions after a branch or a terminator,
    /// handler targets) and the loop headers OSR can enter, from `analysis::successors`.
    fn leaders(&self) -> (FxHashSet<usize>, Vec<usize>) {
        let code = &self.input.proto.code;
        let n = code.len();
        let mut leaders = FxHashSet::default();
        let mut osr = Vec::new();
        leaders.insert(0);
        for (pc, op) in code.iter().enumerate() {
            let succ = successors(pc, op, n);
            // A jump to the next instruction still translates as a jump to a block.
            if succ != [pc + 1] || matches!(op, Op::Jmp { .. } | Op::Loop { .. }) {
                leaders.extend(succ);
                leaders.insert(pc + 1);
            }
            if let Op::Loop { off } | Op::ForLoop { off, .. } = *op {
                osr.push(target(pc, off));
            }
        }
        for h in &self.input.proto.handlers {
            leaders.insert(h.target as usize);
        }
        leaders.retain(|&pc| pc < code.len());
        osr.sort_unstable();
        osr.dedup();
        (leaders, osr)
    }

    fn run(&mut self) -> Result<(), String> {
        let (leaders, osr) = self.leaders();
        // An OSR version is entered only at loop headers: code no header reaches (such as
        // the set-up before the first loop) is left out, so it cannot weaken what is known
        // at the headers.
        let osr_only = self.input.osr && !osr.is_empty();
        let live_code = if osr_only {
            reachable(self.input.proto, &osr)
        } else {
            vec![true; self.input.proto.code.len()]
        };
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        for &pc in &leaders {
            if live_code[pc] {
                let blk = self.b.create_block();
                self.blocks.insert(pc, blk);
            }
        }
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        self.vm = params[0];
        self.base = params[1];
        self.entry_pc = params[2];
        self.tag_consts = (0..=tag::BOXED)
            .map(|t| self.b.ins().iconst(I64, t as i64))
            .collect();
        // The caller passes this activation's frame record (the top one; it stays at this
        // address) and the address of register 0.
        self.frame = params[4];
        self.closure = self.load(self.frame, off::FRAME_CLOSURE);
        self.regs = params[3];
        self.fill_fuel();
        let normal = self.b.create_block();
        if !osr_only {
            self.jump(normal);
        } else {
            let osr_block = self.b.create_block();
            self.b
                .ins()
                .brif(self.entry_pc, osr_block, &[], normal, &[]);
            // OSR: the interpreter left every register in its slot.
            self.b.switch_to_block(osr_block);
            let skipped = if mutant!(OsrSkipsRegister) {
                self.osr_skipped_register(&osr)
            } else {
                None
            };
            for r in 0..self.input.proto.nregs {
                if Some(r as usize) != skipped {
                    self.reload(Reg(r));
                }
            }
            for &pc in &osr {
                let hit = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::Equal, self.entry_pc, pc as i64 + 1);
                let next = self.b.create_block();
                let enter = self.b.create_block();
                self.brif_c(hit, enter, &[], next, &[]);
                self.b.switch_to_block(enter);
                self.osr_entry_guards(pc);
                let target = self.block_at(pc);
                self.jump(target);
                self.b.switch_to_block(next);
            }
            // Not a loop header of this code: let the interpreter run the frame.
            let pc = self.b.ins().iadd_imm_s(self.entry_pc, -1);
            let st = self.helper(H::SideExit, &[pc]);
            self.b.ins().return_(&[st]);
        }
        self.b.switch_to_block(normal);
        if osr_only {
            // Never taken: calls enter the normal version. Interpret, should it happen.
            let zero = self.iconst(0);
            let st = self.helper(H::SideExit, &[zero]);
            self.b.ins().return_(&[st]);
            return self.body(&live_code);
        }
        // Every register starts as its slot (parameters, and whatever earlier calls left in
        // the others): storing a register written on only some paths then rewrites the slot's
        // own value on the other paths, so slots always match the interpreter's.
        for r in 0..self.input.proto.nregs {
            self.reload(Reg(r));
        }
        let first = self.block_at(0);
        self.jump(first);
        self.body(&live_code)
    }

    /// The register the `OsrSkipsRegister` mutant leaves unloaded: the lowest one live at the
    /// first loop header that does not hold a box (compiled code dereferences boxes
    /// unchecked, and a mutant must stay memory-safe).
    fn osr_skipped_register(&self, headers: &[usize]) -> Option<usize> {
        let code = &self.input.proto.code;
        let boxed: Vec<usize> = code
            .iter()
            .filter_map(|op| match *op {
                Op::NewBox { a } => Some(a.0 as usize),
                _ => None,
            })
            .collect();
        let first = *headers.first()?;
        self.live[first].iter().find(|r| !boxed.contains(r))
    }

    /// At the OSR entry of loop header `pc`, when this version was compiled while the
    /// interpreter waited there: checks that every live register still has the tag it had
    /// then, and from there on treats those tags as constants, so that the loop's own type
    /// checks fold away. A mismatch leaves to the interpreter (and the next compilation is
    /// generic).
    fn osr_entry_guards(&mut self, pc: usize) {
        let input = self.input;
        let Some((header, tags)) = &input.osr_snapshot else {
            return;
        };
        if *header != pc || input.mode != Mode::Speculative {
            return;
        }
        let live: Vec<usize> = self.live[pc].iter().collect();
        for r in live {
            let want = tags[r];
            let (t, _) = self.get(Reg(r as u16));
            let ok = self.tag_is(t, want);
            self.guard(pc, ok);
            self.refine_tag(Reg(r as u16), want);
        }
    }

    /// Translates the instructions marked in `live_code`, then the out-of-line exits.
    fn body(&mut self, live_code: &[bool]) -> Result<(), String> {
        self.terminated = true;
        let code = self.input.proto.code.clone();
        for (pc, op) in code.iter().enumerate() {
            if !live_code[pc] {
                continue;
            }
            if let Some(&blk) = self.blocks.get(&pc) {
                if !self.terminated {
                    self.jump(blk);
                }
                self.b.switch_to_block(blk);
                self.terminated = false;
                // Facts hold within a block: another predecessor may bring other values.
                self.facts.clear();
                self.objects.clear();
            }
            self.fuel_charged = false;
            self.op(pc, *op)?;
            // The fuel points are the opcode table's, in every tier.
            debug_assert!(
                self.fuel_charged == op.charges_fuel() || cfg!(feature = "mutants"),
                "{} at {pc}: fuel charged off the opcode table",
                op.name()
            );
        }
        if !self.terminated {
            return Err("code runs off its end".into());
        }
        self.emit_deferred();
        self.emit_shared_exits();
        Ok(())
    }

    // ----- instructions -----

    fn op(&mut self, pc: usize, op: Op) -> Result<(), String> {
        self.cur_pc = pc;
        self.synced_at = None;
        match op {
            Op::Move { a, b } => {
                let (t, p) = self.get(b);
                self.set(a, t, p);
            }
            Op::LoadNil { a } => self.set_const(a, tag::NIL, 0),
            Op::LoadTrue { a } => self.set_const(a, tag::TRUE, 0),
            Op::LoadFalse { a } => self.set_const(a, tag::FALSE, 0),
            Op::LoadInt { a, imm } => self.set_const(a, tag::INT, imm.0 as i64),
            Op::LoadK { a, k } => {
                let c = self.input.consts[k.0 as usize];
                let (t, p) = c.to_bits();
                if matches!(c, EchoValue::Int(_) | EchoValue::Float(_)) {
                    self.set_const(a, t as u8, p as i64);
                } else {
                    // A heap constant is read from the VM's pool rather than embedded: with
                    // no addresses in it, the same function compiles to the same IR in every
                    // VM, so compiled code can be shared (`Config::share_code`).
                    let pool = self.load(self.vm, off::M_CONSTS);
                    let at = (self.input.kbase + k.0 as usize) as i32 * 16 + 8;
                    let p = self.load(pool, at);
                    let t = self.tag_val(t as u8);
                    self.set(a, t, p);
                }
            }
            Op::LoadNative { a, f } => self.set_const(a, tag::NATIVE, f.0 as i64),
            Op::GetGlobal { a, g } => self.get_global(pc, a, g),
            Op::SetGlobal { a, g } => {
                let globals = self.load(self.vm, off::M_GLOBALS);
                let (t, p) = self.get(a);
                self.store(t, globals, g.0 as i32 * 16);
                self.store(p, globals, g.0 as i32 * 16 + 8);
            }
            Op::GetUpval { a, u } => {
                let bx = self.upval_box(u);
                let t = self.load(bx, layout::UPBOX_VALUE);
                let p = self.load(bx, layout::UPBOX_VALUE + 8);
                self.set(a, t, p);
            }
            Op::SetUpval { a, u } => {
                let bx = self.upval_box(u);
                let (t, p) = self.get(a);
                self.store(t, bx, layout::UPBOX_VALUE);
                self.store(p, bx, layout::UPBOX_VALUE + 8);
            }
            Op::NewBox { a } => {
                self.save_pc(pc);
                let s = self.slot(a);
                let st = self.helper(H::NewBox, &[s]);
                self.check_status(pc, st);
                self.reload(a);
            }
            Op::GetBox { a, b } => {
                let (_, bx) = self.get(b);
                let t = self.load(bx, layout::UPBOX_VALUE);
                let p = self.load(bx, layout::UPBOX_VALUE + 8);
                self.set(a, t, p);
            }
            Op::SetBox { a, b } => {
                let (_, bx) = self.get(a);
                let (t, p) = self.get(b);
                self.store(t, bx, layout::UPBOX_VALUE);
                self.store(p, bx, layout::UPBOX_VALUE + 8);
            }
            Op::Closure { a, p } => {
                self.save_pc(pc);
                let d = self.slot(a);
                let proto = self.iconst(p.0 as i64);
                let st = self.helper(H::Closure, &[d, proto, self.base]);
                self.check_status(pc, st);
                self.reload(a);
            }
            Op::Add { a, b, c } => self.arith(pc, Arith::Add, a, b, Operand2::Reg(c)),
            Op::Sub { a, b, c } => self.arith(pc, Arith::Sub, a, b, Operand2::Reg(c)),
            Op::Mul { a, b, c } => self.arith(pc, Arith::Mul, a, b, Operand2::Reg(c)),
            Op::Div { a, b, c } => self.arith(pc, Arith::Div, a, b, Operand2::Reg(c)),
            Op::Mod { a, b, c } => self.arith(pc, Arith::Mod, a, b, Operand2::Reg(c)),
            Op::AddI { a, b, imm } => self.arith(pc, Arith::Add, a, b, Operand2::Imm(imm.0 as i64)),
            Op::SubI { a, b, imm } => self.arith(pc, Arith::Sub, a, b, Operand2::Imm(imm.0 as i64)),
            Op::MulI { a, b, imm } => self.arith(pc, Arith::Mul, a, b, Operand2::Imm(imm.0 as i64)),
            Op::DivI { a, b, imm } => self.arith(pc, Arith::Div, a, b, Operand2::Imm(imm.0 as i64)),
            Op::ModI { a, b, imm } => self.arith(pc, Arith::Mod, a, b, Operand2::Imm(imm.0 as i64)),
            Op::Neg { a, b } => self.neg(pc, a, b),
            Op::Not { a, b } => {
                let (t, _) = self.get(b);
                let falsy =
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::UnsignedLessThanOrEqual, t, tag::FALSE as i64);
                let tt = self.tag_val(tag::TRUE);
                let tf = self.tag_val(tag::FALSE);
                let nt = self.b.ins().select(falsy, tt, tf);
                let z = self.iconst(0);
                self.set(a, nt, z);
            }
            Op::Eq { a, b, c } => {
                let eq = self.equal(pc, b, c);
                self.set_bool(a, eq);
            }
            Op::Ne { a, b, c } => {
                let eq = self.equal(pc, b, c);
                let ne = self.b.ins().bxor_imm_s(eq, 1);
                self.set_bool(a, ne);
            }
            Op::Lt { a, b, c } => self.compare_to_reg(pc, Cmp::Lt, a, b, c),
            Op::Le { a, b, c } => self.compare_to_reg(pc, Cmp::Le, a, b, c),
            Op::Gt { a, b, c } => self.compare_to_reg(pc, Cmp::Gt, a, b, c),
            Op::Ge { a, b, c } => self.compare_to_reg(pc, Cmp::Ge, a, b, c),
            Op::Jmp { off } => {
                let t = self.block_at(target(pc, off));
                self.jump(t);
                self.terminated = true;
            }
            Op::Loop { off } => {
                self.charge_fuel(pc);
                let t = self.block_at(target(pc, off));
                self.jump(t);
                self.terminated = true;
            }
            Op::JmpIf { a, off } => {
                let truthy = self.truthy(a);
                self.branch(pc, off, truthy, true);
            }
            Op::JmpIfNot { a, off } => {
                let truthy = self.truthy(a);
                self.branch(pc, off, truthy, false);
            }
            Op::JmpNotEq { b, c, off } => {
                let eq = self.equal(pc, b, c);
                self.branch(pc, off, eq, false);
            }
            Op::JmpNotNe { b, c, off } => {
                let eq = self.equal(pc, b, c);
                self.branch(pc, off, eq, true);
            }
            Op::JmpNotLt { b, c, off } => {
                self.compare_branch(pc, Cmp::Lt, b, Operand2::Reg(c), off)
            }
            Op::JmpNotLe { b, c, off } => {
                self.compare_branch(pc, Cmp::Le, b, Operand2::Reg(c), off)
            }
            Op::JmpNotGt { b, c, off } => {
                self.compare_branch(pc, Cmp::Gt, b, Operand2::Reg(c), off)
            }
            Op::JmpNotGe { b, c, off } => {
                self.compare_branch(pc, Cmp::Ge, b, Operand2::Reg(c), off)
            }
            Op::JmpNotEqI { b, imm, off } => {
                let eq = self.equal_imm(b, imm.0 as i64);
                self.branch(pc, off, eq, false);
            }
            Op::JmpNotNeI { b, imm, off } => {
                let eq = self.equal_imm(b, imm.0 as i64);
                self.branch(pc, off, eq, true);
            }
            Op::JmpNotLtI { b, imm, off } => {
                self.compare_branch(pc, Cmp::Lt, b, Operand2::Imm(imm.0 as i64), off)
            }
            Op::JmpNotLeI { b, imm, off } => {
                self.compare_branch(pc, Cmp::Le, b, Operand2::Imm(imm.0 as i64), off)
            }
            Op::JmpNotGtI { b, imm, off } => {
                self.compare_branch(pc, Cmp::Gt, b, Operand2::Imm(imm.0 as i64), off)
            }
            Op::JmpNotGeI { b, imm, off } => {
                self.compare_branch(pc, Cmp::Ge, b, Operand2::Imm(imm.0 as i64), off)
            }
            Op::Call { a, n } => self.call(pc, a, n),
            Op::CallNative { a, f, n } => {
                if !mutant!(NativeCallFuelFree) {
                    self.charge_fuel(pc);
                }
                self.save_pc(pc);
                let s = self.slot(a);
                let id = self.iconst(f.0 as i64);
                let nargs = self.iconst(n.0 as i64);
                let st = self.helper(H::CallNative, &[s, id, nargs]);
                if !mutant!(NativeStatusIgnored) {
                    self.check_status(pc, st);
                }
                self.reload(a);
            }
            Op::Invoke { a, m, n, ic } => self.invoke(pc, a, m, n, ic),
            Op::SuperInvoke { a, m, n } => self.super_invoke(pc, a, m, n),
            Op::GetSuper { a, b, m } => {
                self.save_pc(pc);
                let d = self.slot(a);
                let s = self.slot(b);
                let sym = self.iconst(m.0 as i64);
                let p = self.iconst(self.input.pid.0 as i64);
                let st = self.helper(H::GetSuper, &[d, s, sym, p]);
                self.check_status(pc, st);
                self.reload(a);
            }
            Op::Return { a } => {
                let (t, p) = self.get(a);
                self.ret(t, p, pc);
            }
            Op::ReturnNil {} => {
                let z = self.iconst(0);
                self.ret(z, z, pc);
            }
            Op::NewList { a, b, n, len } => {
                self.save_pc(pc);
                let d = self.slot(a);
                let first = self.slot(b);
                let count = self.iconst(n.0 as i64);
                let total = self.iconst(len.0 as i64);
                let st = self.helper(H::NewList, &[d, first, count, total]);
                self.check_status(pc, st);
                self.reload(a);
            }
            Op::AppendList { a, b, n } => {
                self.save_pc(pc);
                let l = self.slot(a);
                let first = self.slot(b);
                let count = self.iconst(n.0 as i64);
                let st = self.helper(H::AppendList, &[l, first, count]);
                self.check_status(pc, st);
            }
            Op::NewMap { a } => {
                self.save_pc(pc);
                let d = self.slot(a);
                let st = self.helper(H::NewMap, &[d]);
                self.check_status(pc, st);
                self.reload(a);
            }
            Op::GetIndex { a, b, c } => {
                self.save_pc(pc);
                let d = self.slot(a);
                let o = self.slot(b);
                let i = self.slot(c);
                let st = self.helper(H::GetIndex, &[d, o, i]);
                self.check_status(pc, st);
                self.reload(a);
            }
            Op::SetIndex { a, b, c } => {
                self.save_pc(pc);
                let o = self.slot(a);
                let i = self.slot(b);
                let v = self.slot(c);
                let st = self.helper(H::SetIndex, &[o, i, v]);
                self.check_status(pc, st);
            }
            Op::GetProp { a, b, m, ic } => self.get_prop(pc, a, b, m, ic),
            Op::SetProp { a, b, m, ic } => self.set_prop(pc, a, b, m, ic),
            Op::Class { a, c } => {
                self.save_pc(pc);
                let d = self.slot(a);
                let cls = self.iconst(c.0 as i64);
                let st = self.helper(H::Class, &[d, cls]);
                self.check_status(pc, st);
                self.reload(a);
            }
            Op::Throw { a } => {
                self.save_pc(pc);
                let s = self.slot(a);
                self.helper(H::Throw, &[s]);
                let err = self.error_block(pc);
                self.jump(err);
                self.terminated = true;
            }
            Op::IterPrep { a } => {
                self.save_pc(pc);
                let s = self.slot(a);
                let st = self.helper(H::IterPrep, &[s]);
                self.check_status(pc, st);
                self.reload(Reg(a.0 + 1));
            }
            Op::IterNext { a, b, off } => {
                self.save_pc(pc);
                let s = self.slot(a);
                let d = self.slot(b);
                let r = self.helper(H::IterNext, &[s, d]);
                let failed = self.b.ins().icmp_imm_s(IntCC::Equal, r, 2);
                self.check_status(pc, failed);
                let got = self.b.create_block();
                let done = self.block_at(target(pc, off));
                self.brif_c(r, got, &[], done, &[]);
                self.b.switch_to_block(got);
                self.reload(b);
                self.reload(Reg(a.0 + 1));
            }
            Op::ForPrep { a, off } => {
                let (ts, ps) = self.get(a);
                let (te, pe) = self.get(Reg(a.0 + 1));
                let s_int = self.tag_is(ts, tag::INT);
                let e_int = self.tag_is(te, tag::INT);
                let ok = self.both(s_int, e_int);
                let bad = self.b.create_block();
                let good = self.b.create_block();
                self.brif_c(ok, good, &[], bad, &[]);
                self.b.switch_to_block(bad);
                self.save_pc(pc);
                let s = self.slot(a);
                self.helper(H::RangeError, &[s]);
                let err = self.error_block(pc);
                self.jump(err);
                self.b.switch_to_block(good);
                self.know_int(a);
                self.know_int(Reg(a.0 + 1));
                let skip = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, ps, pe);
                let out = self.block_at(target(pc, off));
                let next = self.block_at(pc + 1);
                self.brif_c(skip, out, &[], next, &[]);
                self.terminated = true;
            }
            Op::ForLoop { a, off } => {
                self.charge_fuel(pc);
                let (t, i) = self.get(a);
                let (_, e) = self.get(Reg(a.0 + 1));
                let next = self.b.ins().iadd_imm_s(i, 1);
                self.set(a, t, next);
                let cc = if mutant!(ForRangeInclusive) {
                    IntCC::SignedLessThanOrEqual
                } else {
                    IntCC::SignedLessThan
                };
                let more = self.b.ins().icmp(cc, next, e);
                let back = self.block_at(target(pc, off));
                let out = self.block_at(pc + 1);
                self.brif_c(more, back, &[], out, &[]);
                self.terminated = true;
            }
        }
        Ok(())
    }

    /// Records that register `r` holds an int from here on (its tag was just checked), so
    /// later checks of it fold away.
    fn know_int(&mut self, r: Reg) {
        self.refine_tag(r, tag::INT);
    }

    fn set_bool(&mut self, a: Reg, b: Value) {
        // true is tag 2, false tag 1: 1 + b.
        let t = self.b.ins().iadd_imm_s(b, tag::FALSE as i64);
        let z = self.iconst(0);
        self.set(a, t, z);
    }

    fn truthy(&mut self, r: Reg) -> Value {
        let (t, p) = self.get(r);
        if mutant!(ZeroIsFalsy) {
            let truthy_tag =
                self.b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThan, t, tag::FALSE as i64);
            let is_int = self.b.ins().icmp_imm_s(IntCC::Equal, t, tag::INT as i64);
            let zero = self.b.ins().icmp_imm_s(IntCC::Equal, p, 0);
            let int_zero = self.b.ins().band(is_int, zero);
            return self.b.ins().band_not(truthy_tag, int_zero);
        }
        if let Some(k) = self.known_tag(t) {
            return self.cond_const(k > tag::FALSE);
        }
        self.b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThan, t, tag::FALSE as i64)
    }

    /// Jumps to the target of `off` when `cond` equals `when`, else falls through.
    fn branch(&mut self, pc: usize, off: Jump, cond: Value, when: bool) {
        let taken = self.block_at(target(pc, off));
        let fall = self.block_at(pc + 1);
        if when {
            self.brif_c(cond, taken, &[], fall, &[]);
        } else {
            self.brif_c(cond, fall, &[], taken, &[]);
        }
        self.terminated = true;
    }

    fn upval_box(&mut self, u: UpIdx) -> Value {
        let upvals = self.load(self.closure, layout::CLOSURE_UPVALS);
        self.load(upvals, u.0 as i32 * 8)
    }

    fn get_global(&mut self, pc: usize, a: Reg, g: GlobalIdx) {
        let globals = self.load(self.vm, off::M_GLOBALS);
        if let Some(&c) = self.input.fn_globals.get(&g.0) {
            // A top-level function: a constant for the whole run, read from its slot rather
            // than embedded (see `Op::LoadK`).
            let p = self.load(globals, g.0 as i32 * 16 + 8);
            let t = self.tag_val(tag::FUNC);
            self.set(a, t, p);
            self.facts.known_fn.insert(a.0, c.proto);
            return;
        }
        let t = self.load(globals, g.0 as i32 * 16);
        let p = self.load(globals, g.0 as i32 * 16 + 8);
        // Functions and classes are initialized before any code runs.
        let always_set = matches!(
            self.input.globals_kind.get(g.0 as usize),
            Some(GlobalKind::Fn | GlobalKind::Class | GlobalKind::ErrorClass)
        );
        if !always_set {
            let undef = self.tag_is(t, tag::UNDEF);
            let bad = self.b.create_block();
            let ok = self.b.create_block();
            self.brif_c(undef, bad, &[], ok, &[]);
            self.b.switch_to_block(bad);
            self.save_pc(pc);
            let gi = self.iconst(g.0 as i64);
            self.helper(H::UndefGlobal, &[gi]);
            let err = self.error_block(pc);
            self.jump(err);
            self.b.switch_to_block(ok);
        }
        self.set(a, t, p);
    }

    // ----- arithmetic and comparison -----

    fn operand2(&mut self, o: Operand2) -> (Value, Value) {
        match o {
            Operand2::Reg(r) => self.get(r),
            Operand2::Imm(k) => {
                let t = self.tag_val(tag::INT);
                let p = self.iconst(k);
                (t, p)
            }
        }
    }

    fn arith(&mut self, pc: usize, op: Arith, a: Reg, b: Reg, c: Operand2) {
        let (tb, pb) = self.get(b);
        let (tc, pc_) = self.operand2(c);
        let b_int = self.tag_is(tb, tag::INT);
        let c_int = match c {
            Operand2::Imm(_) => self.cond_const(true),
            Operand2::Reg(_) => self.tag_is(tc, tag::INT),
        };
        let ints = self.both(b_int, c_int);
        let speculative = self.speculate_int(pc);
        // Speculating, overflow and unusual divisors leave too: nothing returns from a helper
        // into the loop, so no value has to survive a call there.
        let slow = if speculative {
            self.side_exit_block(pc)
        } else {
            self.b.create_block()
        };
        let done = self.b.create_block();
        let int_path = self.b.create_block();
        if speculative {
            // Ints or leave: no float or generic code at this site.
            let exit = self.side_exit_block(pc);
            self.brif_c(ints, int_path, &[], exit, &[]);
        } else {
            let not_ints = self.b.create_block();
            self.brif_c(ints, int_path, &[], not_ints, &[]);
            self.b.switch_to_block(not_ints);
            // Floats inline (except `%`, whose float form is a library call): else the helper.
            if op != Arith::Mod {
                let b_f = self.tag_is(tb, tag::FLOAT);
                let c_f = match c {
                    Operand2::Imm(_) => self.cond_const(false),
                    Operand2::Reg(_) => self.tag_is(tc, tag::FLOAT),
                };
                let floats = self.both(b_f, c_f);
                let fpath = self.b.create_block();
                self.brif_c(floats, fpath, &[], slow, &[]);
                self.b.switch_to_block(fpath);
                let x = self.b.ins().bitcast(F64, MemFlagsData::new(), pb);
                let y = self.b.ins().bitcast(F64, MemFlagsData::new(), pc_);
                let r = match op {
                    Arith::Add => self.b.ins().fadd(x, y),
                    Arith::Sub => self.b.ins().fsub(x, y),
                    Arith::Mul => self.b.ins().fmul(x, y),
                    _ => self.b.ins().fdiv(x, y),
                };
                let rp = self.b.ins().bitcast(I64, MemFlagsData::new(), r);
                let ft = if op == Arith::Sub && mutant!(FloatSubTaggedInt) {
                    self.tag_val(tag::INT)
                } else {
                    self.tag_val(tag::FLOAT)
                };
                self.set(a, ft, rp);
                self.jump(done);
            } else {
                self.jump(slow);
            }
        }
        // Ints: checked in compiled code; overflow and the unusual divisors go to the helper,
        // which raises the exact error.
        self.b.switch_to_block(int_path);
        self.know_int(b);
        if let Operand2::Reg(r) = c {
            self.know_int(r);
        }
        let result = match op {
            Arith::Add | Arith::Sub | Arith::Mul => {
                let (r, of) = match op {
                    Arith::Add => self.b.ins().sadd_overflow(pb, pc_),
                    Arith::Sub => self.b.ins().ssub_overflow(pb, pc_),
                    _ => self.b.ins().smul_overflow(pb, pc_),
                };
                let of = if op == Arith::Add && mutant!(AddOverflowUnchecked) {
                    self.cond_const(false)
                } else {
                    of
                };
                let ok = self.b.create_block();
                self.brif_c(of, slow, &[], ok, &[]);
                self.b.switch_to_block(ok);
                r
            }
            Arith::Div | Arith::Mod => {
                // Only a positive divisor takes the machine instruction (no trap possible).
                let positive = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, pc_, 0);
                let ok = self.b.create_block();
                self.brif_c(positive, ok, &[], slow, &[]);
                self.b.switch_to_block(ok);
                if op == Arith::Div && mutant!(DivFloored) {
                    let q = self.b.ins().sdiv(pb, pc_);
                    let r = self.b.ins().srem(pb, pc_);
                    let below = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
                    let q1 = self.b.ins().iadd_imm_s(q, -1);
                    self.b.ins().select(below, q1, q)
                } else if op == Arith::Mod && mutant!(ModFloored) {
                    let r = self.b.ins().srem(pb, pc_);
                    let below = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
                    let r1 = self.b.ins().iadd(r, pc_);
                    self.b.ins().select(below, r1, r)
                } else if op == Arith::Div {
                    self.b.ins().sdiv(pb, pc_)
                } else {
                    self.b.ins().srem(pb, pc_)
                }
            }
        };
        let it = self.tag_val(tag::INT);
        self.set(a, it, result);
        self.jump(done);
        if speculative {
            self.b.switch_to_block(done);
            return;
        }
        self.b.switch_to_block(slow);
        self.save_pc(pc);
        let code = self.iconst(arith_code(op) as i64);
        let d = self.slot(a);
        let s = self.slot(b);
        let st = match c {
            Operand2::Reg(r) => {
                let sc = self.slot(r);
                self.helper(H::Arith, &[code, d, s, sc])
            }
            Operand2::Imm(k) => {
                let kk = self.iconst(k);
                self.helper(H::ArithImm, &[code, d, s, kk])
            }
        };
        self.check_status(pc, st);
        self.reload(a);
        self.jump(done);
        self.b.switch_to_block(done);
    }

    fn neg(&mut self, pc: usize, a: Reg, b: Reg) {
        let (t, p) = self.get(b);
        let is_int = self.tag_is(t, tag::INT);
        let not_min = if mutant!(NegMinUnchecked) {
            self.cond_const(true)
        } else {
            self.b.ins().icmp_imm_s(IntCC::NotEqual, p, i64::MIN)
        };
        let fast = self.both(is_int, not_min);
        let fast_b = self.b.create_block();
        let other = self.b.create_block();
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.brif_c(fast, fast_b, &[], other, &[]);
        self.b.switch_to_block(fast_b);
        let r = self.b.ins().ineg(p);
        self.set(a, t, r);
        self.jump(done);
        self.b.switch_to_block(other);
        let is_f = self.tag_is(t, tag::FLOAT);
        let fb = self.b.create_block();
        self.brif_c(is_f, fb, &[], slow, &[]);
        self.b.switch_to_block(fb);
        let x = self.b.ins().bitcast(F64, MemFlagsData::new(), p);
        let nx = self.b.ins().fneg(x);
        let np = self.b.ins().bitcast(I64, MemFlagsData::new(), nx);
        self.set(a, t, np);
        self.jump(done);
        self.b.switch_to_block(slow);
        self.save_pc(pc);
        let d = self.slot(a);
        let s = self.slot(b);
        let st = self.helper(H::Neg, &[d, s]);
        self.check_status(pc, st);
        self.reload(a);
        self.jump(done);
        self.b.switch_to_block(done);
    }

    /// `R[b] == R[c]` as a 0/1 value (ints inline, everything else by the helper).
    fn equal(&mut self, _pc: usize, b: Reg, c: Reg) -> Value {
        let (tb, pb) = self.get(b);
        let (tc, pc_) = self.get(c);
        let b_int = self.tag_is(tb, tag::INT);
        let c_int = self.tag_is(tc, tag::INT);
        let ints = self.both(b_int, c_int);
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        self.brif_c(ints, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        let eq = self.b.ins().icmp(IntCC::Equal, pb, pc_);
        let eq = self.b.ins().uextend(I64, eq);
        self.b.ins().jump(done, &[eq.into()]);
        self.b.switch_to_block(slow);
        let sb = self.slot(b);
        let sc = self.slot(c);
        let r = self.helper(H::Equal, &[sb, sc]);
        let r = if mutant!(EqIntFloatUnequal) {
            // "Values of different types are unequal", forgetting int/float: tags adding up
            // to INT + FLOAT are an int and a float, or two other types that differ anyway.
            let sum = self.b.ins().iadd(tb, tc);
            let mixed = self
                .b
                .ins()
                .icmp_imm_s(IntCC::Equal, sum, (tag::INT + tag::FLOAT) as i64);
            let zero = self.iconst(0);
            self.b.ins().select(mixed, zero, r)
        } else {
            r
        };
        self.b.ins().jump(done, &[r.into()]);
        self.b.switch_to_block(done);
        self.b.block_params(done)[0]
    }

    /// `R[b] == imm` as a 0/1 value (never an error; other types are simply unequal).
    fn equal_imm(&mut self, b: Reg, k: i64) -> Value {
        let (t, p) = self.get(b);
        let is_int = self.tag_is(t, tag::INT);
        let int_eq = self.b.ins().icmp_imm_s(IntCC::Equal, p, k);
        let int_res = self.both(is_int, int_eq);
        let is_f = self.tag_is(t, tag::FLOAT);
        let x = self.b.ins().bitcast(F64, MemFlagsData::new(), p);
        let kf = self.b.ins().f64const(k as f64);
        let f_eq = self.b.ins().fcmp(FloatCC::Equal, x, kf);
        let f_res = if mutant!(EqIntFloatUnequal) {
            self.cond_const(false)
        } else {
            self.both(is_f, f_eq)
        };
        let any = self.b.ins().bor(int_res, f_res);
        self.b.ins().uextend(I64, any)
    }

    /// `R[b] op c` as a 0/1 value, with errors going to the error exit.
    fn compare(&mut self, pc: usize, op: Cmp, b: Reg, c: Operand2) -> Value {
        let (tb, pb) = self.get(b);
        let (tc, pc_) = self.operand2(c);
        let b_int = self.tag_is(tb, tag::INT);
        let c_int = match c {
            Operand2::Imm(_) => self.cond_const(true),
            Operand2::Reg(_) => self.tag_is(tc, tag::INT),
        };
        let ints = self.both(b_int, c_int);
        let int_b = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        let icc = match op {
            Cmp::Lt => IntCC::SignedLessThan,
            Cmp::Le => IntCC::SignedLessThanOrEqual,
            Cmp::Gt => IntCC::SignedGreaterThan,
            Cmp::Ge if matches!(c, Operand2::Imm(_)) && mutant!(GeImmAsGt) => {
                IntCC::SignedGreaterThan
            }
            Cmp::Ge => IntCC::SignedGreaterThanOrEqual,
        };
        if self.speculate_int(pc) {
            let exit = self.side_exit_block(pc);
            self.brif_c(ints, int_b, &[], exit, &[]);
        } else {
            let other = self.b.create_block();
            let slow = self.b.create_block();
            self.brif_c(ints, int_b, &[], other, &[]);
            self.b.switch_to_block(other);
            let b_f = self.tag_is(tb, tag::FLOAT);
            let c_f = match c {
                Operand2::Imm(_) => self.cond_const(false),
                Operand2::Reg(_) => self.tag_is(tc, tag::FLOAT),
            };
            let floats = self.both(b_f, c_f);
            let fb = self.b.create_block();
            self.brif_c(floats, fb, &[], slow, &[]);
            self.b.switch_to_block(fb);
            let x = self.b.ins().bitcast(F64, MemFlagsData::new(), pb);
            let y = self.b.ins().bitcast(F64, MemFlagsData::new(), pc_);
            let fcc = match op {
                Cmp::Lt if mutant!(FloatLtAsLe) => FloatCC::LessThanOrEqual,
                Cmp::Lt => FloatCC::LessThan,
                Cmp::Le => FloatCC::LessThanOrEqual,
                Cmp::Gt => FloatCC::GreaterThan,
                Cmp::Ge => FloatCC::GreaterThanOrEqual,
            };
            let r = self.b.ins().fcmp(fcc, x, y);
            let r = self.b.ins().uextend(I64, r);
            self.b.ins().jump(done, &[r.into()]);
            self.b.switch_to_block(slow);
            self.save_pc(pc);
            let code = self.iconst(cmp_code(op) as i64);
            let s = self.slot(b);
            let r = match c {
                Operand2::Reg(rc) => {
                    let sc = self.slot(rc);
                    self.helper(H::Compare, &[code, s, sc])
                }
                Operand2::Imm(k) => {
                    let kk = self.iconst(k);
                    self.helper(H::CompareImm, &[code, s, kk])
                }
            };
            let failed = self.b.ins().icmp_imm_s(IntCC::Equal, r, 2);
            self.check_status(pc, failed);
            self.b.ins().jump(done, &[r.into()]);
        }
        self.b.switch_to_block(int_b);
        self.know_int(b);
        if let Operand2::Reg(rc) = c {
            self.know_int(rc);
        }
        let r = self.b.ins().icmp(icc, pb, pc_);
        let r = self.b.ins().uextend(I64, r);
        self.b.ins().jump(done, &[r.into()]);
        self.b.switch_to_block(done);
        self.b.block_params(done)[0]
    }

    fn compare_to_reg(&mut self, pc: usize, op: Cmp, a: Reg, b: Reg, c: Reg) {
        let r = self.compare(pc, op, b, Operand2::Reg(c));
        self.set_bool(a, r);
    }

    fn compare_branch(&mut self, pc: usize, op: Cmp, b: Reg, c: Operand2, off: Jump) {
        let r = self.compare(pc, op, b, c);
        self.branch(pc, off, r, false);
    }

    // ----- calls -----

    /// Pushes a frame for `closure` (of prototype `pid`) at `callee_base` and runs its
    /// compiled code directly when it has some and everything fits; otherwise runs `slow`.
    /// Jumps to a block holding the call's status.
    fn direct_call(&mut self, callee: Callee, slow: Block, done: Block) {
        let Callee {
            closure,
            pid,
            base: callee_base,
            ret,
            rel: callee_rel,
            nargs,
            known,
        } = callee;
        let fn_info = self.load(self.vm, off::M_FN_INFO);
        let rec = match known {
            Some(p) => self
                .b
                .ins()
                .iadd_imm_s(fn_info, p.0 as i64 * off::FN_INFO_SIZE),
            None => {
                let rel = self.b.ins().imul_imm_s(pid, off::FN_INFO_SIZE);
                self.b.ins().iadd(fn_info, rel)
            }
        };
        let entry = self.load(rec, off::FN_ENTRY);
        let c1 = self.b.create_block();
        self.brif_c(entry, c1, &[], slow, &[]);
        self.b.switch_to_block(c1);
        let len = self.load(self.vm, off::FRAMES_LEN);
        let cap = self.load(self.vm, off::FRAMES_CAP);
        let depth_ok = self.b.ins().icmp(IntCC::UnsignedLessThan, len, cap);
        let (arity_ok, top) = match known.map(|p| self.input.proto_shapes[p.0 as usize]) {
            Some((arity, nregs)) => {
                // Shape known: a wrong argument count always takes the slow path (which
                // raises the error).
                let ok = self
                    .b
                    .ins()
                    .iconst(types::I8, i64::from(arity == nargs as u32));
                (ok, self.b.ins().iadd_imm_s(callee_base, nregs as i64))
            }
            None => {
                let arity = self.load32(rec, off::FN_ARITY);
                let ok = self.b.ins().icmp_imm_s(IntCC::Equal, arity, nargs as i64);
                let nregs = self.load32(rec, off::FN_NREGS);
                (ok, self.b.ins().iadd(callee_base, nregs))
            }
        };
        let size = self.load(self.vm, off::STACK_LEN);
        let room_ok = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, top, size);
        let sp = self.b.ins().get_stack_pointer(I64);
        let limit = self.load(self.vm, off::NATIVE_LIMIT);
        let stack_ok = self.b.ins().icmp(IntCC::UnsignedGreaterThan, sp, limit);
        let ok1 = self.both(arity_ok, depth_ok);
        let ok2 = self.both(room_ok, stack_ok);
        let ok = self.both(ok1, ok2);
        let go = self.b.create_block();
        self.brif_c(ok, go, &[], slow, &[]);
        self.b.switch_to_block(go);
        // Push the callee's frame record and count the call, as `Vm::push_frame` does.
        let buf = self.load(self.vm, off::FRAMES_BUF);
        let rel = self.b.ins().imul_imm_s(len, off::FRAME_SIZE);
        let fr = self.b.ins().iadd(buf, rel);
        self.store(closure, fr, off::FRAME_CLOSURE);
        self.store32(pid, fr, off::FRAME_PROTO);
        self.store32(callee_base, fr, off::FRAME_BASE);
        let zero = self.iconst(0);
        self.store32(zero, fr, off::FRAME_PC);
        self.store32(ret, fr, off::FRAME_RET);
        let len1 = self.b.ins().iadd_imm_s(len, 1);
        self.store(len1, self.vm, off::FRAMES_LEN);
        let calls = self.load(self.vm, off::M_CALLS);
        let crel = self.b.ins().ishl_imm_s(pid, 3);
        let caddr = self.b.ins().iadd(calls, crel);
        let count = self.load(caddr, 0);
        let count1 = self.b.ins().iadd_imm_s(count, 1);
        self.store(count1, caddr, 0);
        let callee_regs = self.b.ins().iadd_imm_s(self.regs, callee_rel as i64 * 16);
        let args = [self.vm, callee_base, zero, callee_regs, fr];
        self.spill_fuel();
        let call = self.b.ins().call_indirect(self.compiled_sig, entry, &args);
        let st = self.b.inst_results(call)[0];
        self.fill_fuel();
        self.objects.clear();
        self.b.ins().jump(done, &[st.into()]);
    }

    fn call(&mut self, pc: usize, a: Reg, n: Count) {
        self.charge_fuel(pc);
        self.save_pc(pc);
        self.sync_all(pc);
        let (t, p) = self.get(a);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        let ret = self.slot(a);
        let callee_base = self.b.ins().iadd_imm_s(ret, 1);
        if let Some(&proto) = self.facts.known_fn.get(&a.0) {
            // A top-level function: the callee and its shape are known here.
            let pid = self.iconst(proto.0 as i64);
            let callee = Callee {
                closure: p,
                pid,
                base: callee_base,
                ret,
                rel: a.0 + 1,
                nargs: n.0,
                known: Some(proto),
            };
            self.direct_call(callee, slow, done);
        } else {
            let is_fn = self.tag_is(t, tag::FUNC);
            let fast = self.b.create_block();
            self.brif_c(is_fn, fast, &[], slow, &[]);
            self.b.switch_to_block(fast);
            let pid = self.load32(p, layout::CLOSURE_PROTO);
            let callee = Callee {
                closure: p,
                pid,
                base: callee_base,
                ret,
                rel: a.0 + 1,
                nargs: n.0,
                known: None,
            };
            self.direct_call(callee, slow, done);
        }
        self.b.switch_to_block(slow);
        let s = self.slot(a);
        let nargs = self.iconst(n.0 as i64);
        let st = self.helper(H::Call, &[s, nargs]);
        self.b.ins().jump(done, &[st.into()]);
        self.after_call(pc, a, done);
    }

    /// After a call: errors to the error exit; reload the result.
    fn after_call(&mut self, pc: usize, a: Reg, done: Block) {
        self.b.switch_to_block(done);
        let st = self.b.block_params(done)[0];
        // The callee's window starts above `a`: it overwrote those slots, and a collection
        // under it cleared the ones past its end. They are dead here, but a register that
        // may be changed on some other path is stored back at the next safepoint, error or
        // side exit; from its stale value that would put back a pointer the collector has
        // since freed. So the registers take their slots' values again, as in the
        // interpreter, before the error exit too.
        for r in a.0 + 1..self.input.proto.nregs {
            self.reload(Reg(r));
        }
        self.check_status(pc, st);
        self.reload(a);
    }

    fn invoke(&mut self, pc: usize, a: Reg, m: crate::symbol::Symbol, n: Count, ic: IcIdx) {
        let (t, p) = self.get(a);
        let entry = if ic == IcIdx::NONE {
            Ic::EMPTY
        } else {
            self.input.ics[ic.0 as usize]
        };
        let speculate = self.input.mode == Mode::Speculative && entry.method.is_some();
        if speculate {
            // Monomorphic so far: check the receiver's shape before anything else happens
            // (a side exit re-runs the whole instruction in the interpreter, fuel included).
            let is_inst = self.tag_is(t, tag::INSTANCE);
            self.guard(pc, is_inst);
            if !mutant!(InvokeIcIgnoresClass) {
                let shape = self.load32(p, layout::INSTANCE_SHAPE);
                let ok = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::Equal, shape, entry.shape.0 as i64);
                self.guard(pc, ok);
            }
        }
        self.charge_fuel(pc);
        self.save_pc(pc);
        self.sync_all(pc);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        if ic != IcIdx::NONE {
            let (method, pid, known) = if speculate {
                // The receiver's shape was checked against the cache's; its method is read
                // from the cache (not embedded, see `Op::LoadK`) while the cache still holds
                // that shape, whose method it then is.
                let m = entry.method.expect("checked above");
                let rec = self.ic_record(ic);
                let ic_shape = self.load32(rec, off::IC_SHAPE);
                let same = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::Equal, ic_shape, entry.shape.0 as i64);
                let mv = self.load(rec, off::IC_METHOD);
                let c2 = self.b.create_block();
                self.brif_c(same, c2, &[], slow, &[]);
                self.b.switch_to_block(c2);
                let pv = self.iconst(m.proto.0 as i64);
                (mv, pv, Some(m.proto))
            } else {
                let is_inst = self.tag_is(t, tag::INSTANCE);
                let c1 = self.b.create_block();
                self.brif_c(is_inst, c1, &[], slow, &[]);
                self.b.switch_to_block(c1);
                let shape = self.load32(p, layout::INSTANCE_SHAPE);
                let rec = self.ic_record(ic);
                let ic_shape = self.load32(rec, off::IC_SHAPE);
                let method = self.load(rec, off::IC_METHOD);
                let same = if mutant!(InvokeIcIgnoresClass) {
                    self.cond_const(true)
                } else {
                    self.b.ins().icmp(IntCC::Equal, shape, ic_shape)
                };
                let has = self.b.ins().icmp_imm_s(IntCC::NotEqual, method, 0);
                let hit = self.both(same, has);
                let c2 = self.b.create_block();
                self.brif_c(hit, c2, &[], slow, &[]);
                self.b.switch_to_block(c2);
                let pid = self.load32(method, layout::CLOSURE_PROTO);
                (method, pid, None)
            };
            let slot = self.slot(a);
            self.direct_call(
                Callee {
                    closure: method,
                    pid,
                    base: slot,
                    ret: slot,
                    rel: a.0,
                    nargs: n.0,
                    known,
                },
                slow,
                done,
            );
        } else {
            self.jump(slow);
        }
        self.b.switch_to_block(slow);
        let s = self.slot(a);
        let sym = self.iconst(m.0 as i64);
        let nargs = self.iconst(n.0 as i64);
        let icv = self.ic_arg(ic);
        let st = self.helper(H::Invoke, &[s, sym, nargs, icv]);
        self.b.ins().jump(done, &[st.into()]);
        self.after_call(pc, a, done);
    }

    fn super_invoke(&mut self, pc: usize, a: Reg, m: crate::symbol::Symbol, n: Count) {
        self.charge_fuel(pc);
        self.save_pc(pc);
        self.sync_all(pc);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        if let Some(method) = self.input.super_methods.get(&m).copied() {
            // Classes never change once created: the superclass method is a constant.
            let mv = self.iconst(method.addr() as i64);
            let pv = self.iconst(method.proto.0 as i64);
            let slot = self.slot(a);
            let callee = Callee {
                closure: mv,
                pid: pv,
                base: slot,
                ret: slot,
                rel: a.0,
                nargs: n.0,
                known: Some(method.proto),
            };
            self.direct_call(callee, slow, done);
        } else {
            self.jump(slow);
        }
        self.b.switch_to_block(slow);
        let s = self.slot(a);
        let sym = self.iconst(m.0 as i64);
        let nargs = self.iconst(n.0 as i64);
        let p = self.iconst(self.input.pid.0 as i64);
        let st = self.helper(H::SuperInvoke, &[s, sym, nargs, p]);
        self.b.ins().jump(done, &[st.into()]);
        self.after_call(pc, a, done);
    }

    fn ret(&mut self, t: Value, p: Value, pc: usize) {
        // The frame's slots stay in the caller's window, where the collector scans them:
        // they must hold what the interpreter would have left.
        if self.synced_at != Some(pc) {
            self.sync_all(pc);
        }
        let ret = self.load32(self.frame, off::FRAME_RET);
        let stack = self.load(self.vm, off::STACK_BASE);
        let rel = self.b.ins().ishl_imm_s(ret, 4);
        let addr = self.b.ins().iadd(stack, rel);
        self.store(t, addr, 0);
        self.store(p, addr, 8);
        if self.input.proto.kind == ProtoKind::Script {
            let line = self.iconst(self.input.proto.lines[pc] as i64);
            self.helper(H::ExitLine, &[line]);
        }
        let len = self.load(self.vm, off::FRAMES_LEN);
        let len1 = self.b.ins().iadd_imm_s(len, -1);
        self.store(len1, self.vm, off::FRAMES_LEN);
        self.spill_fuel();
        let zero = self.iconst(0);
        self.b.ins().return_(&[zero]);
        self.terminated = true;
    }

    // ----- properties -----

    /// Speculates that register `r` holds an instance of shape `shape` (leaving at `pc`
    /// otherwise) and returns the address of its field slots. Checks already made since the
    /// last helper call are not repeated.
    fn instance_of_shape(&mut self, pc: usize, r: Reg, shape: u32) -> Value {
        let (t, p) = self.get(r);
        let is_inst = self.tag_is(t, tag::INSTANCE);
        self.guard(pc, is_inst);
        self.refine_tag(r, tag::INSTANCE);
        if let Some((s, slots)) = self.objects.get(&p).copied()
            && s == shape
        {
            return slots;
        }
        let actual = self.load32(p, layout::INSTANCE_SHAPE);
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, actual, shape as i64);
        self.guard(pc, ok);
        let slots = self.load(p, layout::INSTANCE_SLOTS);
        self.objects.insert(p, (shape, slots));
        slots
    }

    /// The address of this function's inline cache `ic` in the VM's cache table.
    fn ic_record(&mut self, ic: IcIdx) -> Value {
        let ics = self.load(self.vm, off::M_ICS);
        self.b
            .ins()
            .iadd_imm_s(ics, (self.input.icb + ic.0 as usize) as i64 * off::IC_SIZE)
    }

    /// The VM-wide index of cache `ic` as a helper argument (-1: none).
    fn ic_arg(&mut self, ic: IcIdx) -> Value {
        let v = if ic == IcIdx::NONE {
            -1
        } else {
            (self.input.icb + ic.0 as usize) as i64
        };
        self.iconst(v)
    }

    fn get_prop(&mut self, pc: usize, a: Reg, b: Reg, m: crate::symbol::Symbol, ic: IcIdx) {
        if ic != IcIdx::NONE {
            let entry = self.input.ics[ic.0 as usize];
            if self.input.mode == Mode::Speculative
                && entry.shape.0 != u32::MAX
                && entry.method.is_none()
            {
                let slots = self.instance_of_shape(pc, b, entry.shape.0);
                let off = entry.slot as i32 * 16;
                let vt = self.load(slots, off);
                let vp = self.load(slots, off + 8);
                self.set(a, vt, vp);
                return;
            }
        }
        let (t, p) = self.get(b);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        if ic != IcIdx::NONE {
            let is_inst = self.tag_is(t, tag::INSTANCE);
            let c1 = self.b.create_block();
            self.brif_c(is_inst, c1, &[], slow, &[]);
            self.b.switch_to_block(c1);
            // Whatever the cache holds now: compare with it at run time.
            let shape = self.load32(p, layout::INSTANCE_SHAPE);
            let rec = self.ic_record(ic);
            let ic_shape = self.load32(rec, off::IC_SHAPE);
            let method = self.load(rec, off::IC_METHOD);
            let same = self.b.ins().icmp(IntCC::Equal, shape, ic_shape);
            let field = self.b.ins().icmp_imm_s(IntCC::Equal, method, 0);
            let hit = self.both(same, field);
            let c2 = self.b.create_block();
            self.brif_c(hit, c2, &[], slow, &[]);
            self.b.switch_to_block(c2);
            let slot = self.load32(rec, off::IC_SLOT);
            let slots = self.load(p, layout::INSTANCE_SLOTS);
            let rel = self.b.ins().ishl_imm_s(slot, 4);
            let addr = self.b.ins().iadd(slots, rel);
            let vt = self.load(addr, 0);
            let vp = self.load(addr, 8);
            self.set(a, vt, vp);
            self.jump(done);
        } else {
            self.jump(slow);
        }
        self.b.switch_to_block(slow);
        self.save_pc(pc);
        let d = self.slot(a);
        let o = self.slot(b);
        let sym = self.iconst(m.0 as i64);
        let icv = self.ic_arg(ic);
        let st = self.helper(H::GetProp, &[d, o, sym, icv]);
        self.check_status(pc, st);
        self.reload(a);
        self.jump(done);
        self.b.switch_to_block(done);
    }

    fn set_prop(&mut self, pc: usize, a: Reg, b: Reg, m: crate::symbol::Symbol, ic: IcIdx) {
        if ic != IcIdx::NONE {
            let entry = self.input.ics[ic.0 as usize];
            if self.input.mode == Mode::Speculative
                && entry.shape.0 != u32::MAX
                && entry.method.is_none()
                && entry.next == entry.shape
            {
                // A store to an existing field: the shape stays.
                let slots = self.instance_of_shape(pc, a, entry.shape.0);
                let off = entry.slot as i32 * 16;
                let (vt, vp) = self.get(b);
                self.store(vt, slots, off);
                self.store(vp, slots, off + 8);
                return;
            }
        }
        let (t, p) = self.get(a);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        if ic != IcIdx::NONE {
            let is_inst = self.tag_is(t, tag::INSTANCE);
            let c1 = self.b.create_block();
            self.brif_c(is_inst, c1, &[], slow, &[]);
            self.b.switch_to_block(c1);
            // Only stores to an existing field are done inline; adding one takes the helper.
            let shape = self.load32(p, layout::INSTANCE_SHAPE);
            let rec = self.ic_record(ic);
            let ic_shape = self.load32(rec, off::IC_SHAPE);
            let ic_next = self.load32(rec, off::IC_NEXT);
            let same = self.b.ins().icmp(IntCC::Equal, shape, ic_shape);
            let stays = self.b.ins().icmp(IntCC::Equal, shape, ic_next);
            let hit = self.both(same, stays);
            let c2 = self.b.create_block();
            self.brif_c(hit, c2, &[], slow, &[]);
            self.b.switch_to_block(c2);
            let slot = self.load32(rec, off::IC_SLOT);
            let slots = self.load(p, layout::INSTANCE_SLOTS);
            let rel = self.b.ins().ishl_imm_s(slot, 4);
            let addr = self.b.ins().iadd(slots, rel);
            let (vt, vp) = self.get(b);
            self.store(vt, addr, 0);
            self.store(vp, addr, 8);
            self.jump(done);
        } else {
            self.jump(slow);
        }
        self.b.switch_to_block(slow);
        self.save_pc(pc);
        let o = self.slot(a);
        let sym = self.iconst(m.0 as i64);
        let v = self.slot(b);
        let icv = self.ic_arg(ic);
        let st = self.helper(H::SetProp, &[o, sym, v, icv]);
        self.check_status(pc, st);
        self.jump(done);
        self.b.switch_to_block(done);
    }
}

/// An out-of-line block: the error exit or the side exit of an instruction.
#[derive(Clone, Copy)]
enum Deferred {
    Error(usize, Block),
    SideExit(usize, Block),
}

/// The target of a direct call: a closure, its prototype, where its frame goes (register 0
/// and return slot, as stack indices) and how many arguments it gets.
#[derive(Clone, Copy)]
struct Callee {
    closure: Value,
    pid: Value,
    base: Value,
    ret: Value,
    /// The callee's register 0, relative to this frame's register 0.
    rel: u16,
    nargs: u16,
    /// The prototype, when known at compile time.
    known: Option<ProtoId>,
}

/// The right operand of an arithmetic or comparison instruction.
#[derive(Clone, Copy)]
enum Operand2 {
    Reg(Reg),
    Imm(i64),
}
