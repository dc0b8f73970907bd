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

use cranelift_codegen::ir::TrapCode;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    Block, ExtFuncData, ExternalName, FuncRef, Function, InstBuilder, MemFlagsData, SigRef,
    Signature, UserExternalName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::bytecode::*;
use crate::config::{MAX_COMPILE_COST, MAX_JIT_INSTRUCTIONS};
use crate::runtime::heap::layout;
use crate::runtime::ops::{Arith, Cmp};
use crate::runtime::value::{Value as EchoValue, tag};
use crate::runtime::vm::ProtoInfo;
use crate::runtime::vm::{
    CALLED_MANY, CALLED_NOTHING, FB_INTS_TOO, FB_LOOP_TYPES, FB_NOT_INT, FB_NOT_NUM, Ic, IcHistory,
    POLY_SHAPES, Vm,
};
use crate::syntax::resolver::{GlobalInfo, GlobalKind};

use super::analysis::{
    Storage, call_register, cold_throws, compile_cost, dirty_registers, plan_storage, reachable,
    successors, target, written_register,
};
use crate::bytecode::liveness::{RegSet, live_after, live_registers, roots_while_running};
use crate::runtime::tiering::{ExitKind, Mode};

use super::abi::{self, flags};
use super::helpers::{Helper, LITERAL_LEFT};
use super::mutants;

mod arith;
mod calls;
mod compare;
mod dead;
mod exits;
pub(crate) mod inline;
mod lists;
mod loop_types;
mod natives;
mod props;
mod regs;
mod structure;
mod values;

use arith::Mixes;
use arith::Rhs;
use exits::{Deferred, feedback_with_tags, floats_only, ints_only, numbers_only};
use inline::{InlineSite, Inlinee};
use lists::Stored;

const I64: types::Type = types::I64;
const F64: types::Type = types::F64;

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
    /// The prototype each `Call` has called (see `Vm::call_targets`).
    call_targets: &'a [u32],
    ics: &'a [Ic],
    /// The field entries caches held before their current ones (by VM-wide cache index).
    ic_history: &'a FxHashMap<usize, IcHistory>,
    icb: usize,
    /// For `super`: the superclass method per symbol, if the classes exist already.
    super_methods:
        FxHashMap<crate::symbol::Symbol, crate::runtime::heap::Gc<crate::runtime::heap::Closure>>,
    /// The program's global slots (what each holds for the whole run, if fixed).
    globals: &'a [GlobalInfo],
    /// The globals' current values.
    global_values: &'a [EchoValue],
    /// Whether globals keep their first values (top-level functions are constants outside
    /// the REPL).
    stable_globals: bool,
    /// Call records of every prototype (arity and register count, for calls to known
    /// functions).
    fn_info: &'a [ProtoInfo],
    /// For an OSR version compiled while the interpreter waits at a loop header: that
    /// header's pc and the tag of every register at that moment.
    osr_snapshot: Option<(usize, Vec<u8>)>,
    /// Every prototype of the program (for what nested closures capture).
    protos: &'a [std::rc::Rc<Proto>],
    /// Whether to report how each instruction was compiled (`Config::coverage`).
    cover: bool,
    /// For a cold version (see `Compiled::cold`): the call count and the loop-header visits
    /// (in one activation) at which it makes way for a version compiled with feedback.
    cold: Option<Cold>,
    /// Whether a call that has never run leaves for the interpreter (`ExitKind::Unrun`)
    /// instead of being compiled without feedback (see `Vm::speculates_unrun`).
    unrun_exits: bool,
    /// For an inlined callee: the closures its registers are known to hold, from its code
    /// and what its call site passes (`inline::KnownClosures`). Its calls of them speculate
    /// on their function whatever the feedback says (`call_target`).
    known: Option<inline::KnownClosures<'a>>,
}

/// When a cold version makes way (see `cold_version`).
#[derive(Clone, Copy)]
pub(crate) struct Cold {
    calls: u64,
    visits: u32,
}

/// The thresholds of the cold version of `pid` that would be compiled now: one entered at
/// calls (not OSR) of a function that has not run yet (at most the call being made, and no
/// loop trip), so that it has no feedback at all, and whose code would use some (an inline
/// cache, or a `Call`'s target); `None` for any other version. Its calls count towards the
/// VM's call threshold, its loop-header visits towards the loop one. A function of
/// arithmetic, comparisons, lists and known callees alone gets nothing from feedback that its
/// guards do not give it already (a version compiled for ints until one fails), so it keeps
/// the version it has, and pays for no second compilation.
/// Decided once per compilation, before translating: the caller also needs it to choose the
/// thread that compiles (`Jit::start`).
pub(crate) fn cold_version(vm: &Vm, pid: ProtoId, osr: bool) -> Option<Cold> {
    let i = pid.0 as usize;
    let fresh = vm.stats.calls.get(i).is_some_and(|&c| c <= 1)
        && vm.backedges.get(i).is_some_and(|&b| b == 0);
    let proto = vm.program().proto(pid);
    let wants_feedback =
        proto.ic_count > 0 || proto.code.iter().any(|op| matches!(op, Op::Call { .. }));
    (!osr && fresh && wants_feedback).then(|| Cold {
        // At least the call after the one that compiled it.
        calls: u64::from(vm.hot_calls.max(2)),
        visits: vm.hot_loops.max(1),
    })
}

impl Input<'_> {
    /// The closure global `g` holds for the whole run, if it is a top-level function and
    /// globals cannot change any more.
    fn fn_global(
        &self,
        g: GlobalIdx,
    ) -> Option<crate::runtime::heap::Gc<crate::runtime::heap::Closure>> {
        match self.stable_global(g, GlobalKind::Fn)? {
            EchoValue::Func(c) => Some(*c),
            _ => None,
        }
    }

    /// The one prototype the `Call` at `pc` has called, if it is compiled to speculate on
    /// it: it called nothing else, and its check never failed.
    fn call_target(&self, pc: usize) -> Option<ProtoId> {
        if self.mode == Mode::Speculative
            && let Some(known) = &self.known
            && let Some(Op::Call { a, .. }) = self.proto.code.get(pc)
            && let Some(p) = known.at(pc, a.0)
        {
            return Some(p);
        }
        let t = *self.call_targets.get(pc)?;
        (self.mode == Mode::Speculative
            && t != CALLED_NOTHING
            && t != CALLED_MANY
            && self.feedback[pc] & FB_NOT_INT == 0)
            .then_some(ProtoId(t))
    }

    /// The class global `g` holds for the whole run, if it is a class declared by the
    /// program (not the builtin `Error`, whose calls make error values) and globals cannot
    /// change any more.
    fn class_global(
        &self,
        g: GlobalIdx,
    ) -> Option<crate::runtime::heap::Gc<crate::runtime::heap::Class>> {
        match self.stable_global(g, GlobalKind::Class)? {
            EchoValue::Class(c) if c.decl.is_some() => Some(*c),
            _ => None,
        }
    }

    /// The value global `g` holds, if it is of `kind` (a constant one) and globals cannot
    /// change any more.
    fn stable_global(&self, g: GlobalIdx, kind: GlobalKind) -> Option<&EchoValue> {
        let i = g.0 as usize;
        if !self.stable_globals || self.globals.get(i)?.kind != kind {
            return None;
        }
        self.global_values.get(i)
    }
}

/// For `super` in `proto`: the superclass method per symbol, if its class exists already.
/// Classes never change once created, so these are the targets of its `super` calls.
fn super_methods(
    vm: &Vm,
    proto: &Proto,
) -> FxHashMap<crate::symbol::Symbol, crate::runtime::heap::Gc<crate::runtime::heap::Closure>> {
    if let Some(c) = proto.class
        && let Some(Some(cls)) = vm.class_objs.get(c.0 as usize)
        && let Some(sup) = cls.superclass
    {
        if mutant!(SuperOwnClass) {
            cls.methods.clone()
        } else {
            sup.methods.clone()
        }
    } else {
        FxHashMap::default()
    }
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
    /// Callees found not to fit in place, by their state then (see `inline::Unfit`).
    pub unfit: &'a mut inline::Unfit,
}

/// Translates prototype `pid` into `out.func`. When covering, returns per instruction how it
/// was compiled (0: left out, 1: generic, 2: speculative; see `Coverage::compiled`), else an
/// empty vector.
pub(crate) fn translate(
    vm: &Vm,
    pid: ProtoId,
    mode: Mode,
    osr: bool,
    cold: Option<Cold>,
    unrun_exits: bool,
    out: Target<'_>,
) -> Result<Vec<u8>, String> {
    let Target {
        func,
        fctx,
        helper_ids,
        helper_sig,
        compiled_sig,
        config: target,
        unfit,
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
    let cost = compile_cost(
        &proto,
        plan_storage(&proto, &FxHashSet::default()).exit_stores,
    );
    if cost > MAX_COMPILE_COST {
        return Err(format!(
            "function too costly to compile (estimated cost {cost}, limit {MAX_COMPILE_COST})"
        ));
    }
    let info = vm.fn_info[pid.0 as usize];
    let super_methods = super_methods(vm, &proto);
    let input = Input {
        proto: &proto,
        pid,
        mode,
        osr,
        consts: &vm.const_pool[info.kbase as usize..info.kbase as usize + proto.consts.len()],
        feedback: &vm.feedback[info.fbase as usize..info.fbase as usize + proto.code.len()],
        call_targets: &vm.call_targets[info.fbase as usize..info.fbase as usize + proto.code.len()],
        ics: &vm.ics[info.icb as usize..info.icb as usize + proto.ic_count as usize],
        ic_history: &vm.ic_history,
        icb: info.icb as usize,
        kbase: info.kbase as usize,
        super_methods,
        globals: &vm.program().globals,
        global_values: &vm.globals,
        stable_globals: vm.stable_globals,
        fn_info: &vm.fn_info,
        protos: &vm.program().protos,
        cover: vm.coverage.is_some(),
        unrun_exits,
        known: None,
        cold,
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
    // Callees that turn out not to fit in place (see `inline`) make their sites calls in a
    // fresh translation; each attempt drops at least one site, so this ends.
    let mut excluded = FxHashSet::default();
    let (name, signature) = (func.name.clone(), func.signature.clone());
    loop {
        let inlinees = inline::inlinees(&input, vm, &excluded, unfit);
        // The calls translated in place leave the registers below them in variables, but
        // for `init`: the instance is made by a helper first, which stores them all anyway.
        let in_place: FxHashSet<usize> = inlinees
            .iter()
            .filter(|(_, callee)| callee.input.proto.kind != ProtoKind::Init)
            .map(|(&pc, _)| pc)
            .collect();
        let storage = plan_storage(&proto, &in_place);
        let mut b = FunctionBuilder::new(func, fctx);
        let sig = b.import_signature(compiled_sig.clone());
        let mut t = Translator::new(
            b,
            &input,
            storage,
            helper_ids,
            helper_sig.clone(),
            sig,
            &inlinees,
        );
        let result = t.run();
        if !t.inline_failed.is_empty() {
            excluded.extend(std::mem::take(&mut t.inline_failed));
            for pid in std::mem::take(&mut t.unfit_callees) {
                unfit.note(vm, pid);
            }
            drop(t);
            *func = Function::with_name_signature(name.clone(), signature.clone());
            *fctx = FunctionBuilderContext::new();
            continue;
        }
        result?;
        let variants = std::mem::take(&mut t.variants);
        t.b.seal_all_blocks();
        t.b.finalize(target);
        dead::remove_dead_loads(func);
        return Ok(variants);
    }
}

/// The shapes a check of an instance admitted (at most `POLY_SHAPES`, sorted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ShapeSet {
    ids: [u32; POLY_SHAPES],
    len: u8,
}

impl ShapeSet {
    fn one(shape: u32) -> ShapeSet {
        let mut ids = [u32::MAX; POLY_SHAPES];
        ids[0] = shape;
        ShapeSet { ids, len: 1 }
    }

    /// Adds `shape` unless it is there or the set is full; returns whether it was added.
    fn add(&mut self, shape: u32) -> bool {
        if self.ids().contains(&shape) || self.len as usize == POLY_SHAPES {
            return false;
        }
        self.ids[self.len as usize] = shape;
        self.len += 1;
        self.ids[..self.len as usize].sort_unstable();
        true
    }

    fn ids(&self) -> &[u32] {
        &self.ids[..self.len as usize]
    }

    /// Whether every shape of this set is in `other`.
    fn within(&self, other: &ShapeSet) -> bool {
        self.ids().iter().all(|s| other.ids().contains(s))
    }
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
    /// Instructions that charge their fuel before their speculation guards: their side exits
    /// give the unit back (the interpreter charges it again).
    charged_before_guards: FxHashSet<usize>,
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
    /// Registers live in their slots: every write is stored at once and every read loads
    /// (for functions too large to keep registers in variables, see `MAX_EXIT_STORES`).
    in_slots: bool,
    /// Per instruction: registers that may differ from their slots on entry to it.
    dirty: Vec<RegSet>,
    /// The compiled function's calls translated in place that store only their window
    /// (`Storage::in_place`): the exits of the bodies store the registers below it.
    in_place: FxHashSet<usize>,
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
    objects: FxHashMap<Value, (ShapeSet, Value)>,
    /// `UpvalCachedAcrossCall` only: the value each captured variable was last read or
    /// written as in this block (always empty without the mutant).
    upval_reads: FxHashMap<u16, (Value, Value)>,
    /// Fuel left, kept in a variable and stored to the VM around calls and exits.
    fuel: Variable,
    /// In a cold version: loop-header visits in this activation (see `Input::cold`).
    visits: Variable,
    /// The loop headers (the pcs an OSR version is entered at).
    headers: FxHashSet<usize>,
    /// Whether the instruction being translated charged fuel (checked against the opcode
    /// table).
    fuel_charged: bool,
    /// When covering: per instruction, 0 if not translated, 1 if compiled generic, 2 if
    /// compiled with a speculative fast path (see `note_speculation`). Only read, never
    /// consulted while emitting, so covering does not change the code.
    variants: Vec<u8>,
    /// The callees to translate in place, by call site (see `inline`).
    inlinees: &'a FxHashMap<usize, Inlinee<'a>>,
    /// The call site whose callee is being translated, with the caller's state.
    inlining: Option<Box<InlineSite<'a>>>,
    /// The call sites whose callees turned out not to fit in place (see `inline_unfit`).
    inline_failed: FxHashSet<usize>,
    /// The callees with an instruction that does not fit in place.
    unfit_callees: FxHashSet<ProtoId>,
}

impl<'a> Translator<'a> {
    fn new(
        b: FunctionBuilder<'a>,
        input: &'a Input<'a>,
        storage: Storage,
        helper_ids: &'a [u32],
        helper_sig: Signature,
        compiled_sig: SigRef,
        inlinees: &'a FxHashMap<usize, Inlinee<'a>>,
    ) -> Self {
        let mut b = b;
        let nregs = input.proto.nregs as usize;
        let tags = (0..nregs).map(|_| b.declare_var(I64)).collect();
        let pays = (0..nregs).map(|_| b.declare_var(I64)).collect();
        let fuel = b.declare_var(I64);
        let visits = b.declare_var(I64);
        let dummy = Value::from_u32(0);
        let Storage {
            stored,
            dirty,
            in_slots,
            in_place,
            ..
        } = storage;
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
            charged_before_guards: FxHashSet::default(),
            deferred: Vec::new(),
            shared_error_exit: None,
            shared_fuel_exit: None,
            tag_consts: Vec::new(),
            facts: RegFacts::default(),
            stored,
            in_slots,
            dirty,
            in_place,
            live: live_registers(input.proto, input.protos),
            known: FxHashMap::default(),
            cur_pc: 0,
            synced_at: None,
            terminated: false,
            objects: FxHashMap::default(),
            upval_reads: FxHashMap::default(),
            fuel,
            visits,
            headers: FxHashSet::default(),
            fuel_charged: false,
            variants: if input.cover {
                vec![0; input.proto.code.len()]
            } else {
                Vec::new()
            },
            inlinees,
            inlining: None,
            inline_failed: FxHashSet::default(),
            unfit_callees: FxHashSet::default(),
        }
    }

    /// Notes for coverage that the instruction at `pc` got a speculative fast path.
    fn note_speculation(&mut self, pc: usize) {
        if let Some(v) = self.variants.get_mut(pc) {
            *v = 2;
        }
    }

    // ----- small builders -----

    /// The tag `t` as a value. One definition per tag, in the entry block, so a register whose
    /// tag is the same constant on every path needs no phi and its checks fold away.
    fn tag_val(&self, t: u8) -> Value {
        self.tag_consts[t as usize]
    }

    /// The entry block's `iconst 0` (the nil tag's constant): a zero that dominates every
    /// block, so results on several paths and padding arguments share one constant.
    fn zero(&self) -> Value {
        self.tag_consts[0]
    }

    /// A float payload as an `f64`: the float itself when `p` is the bits of one computed
    /// here, so that a chain of float operations stays in float registers.
    fn float_bits(&mut self, p: Value) -> Value {
        let dfg = &self.b.func.dfg;
        let p = dfg.resolve_aliases(p);
        if let cranelift_codegen::ir::ValueDef::Result(inst, 0) = dfg.value_def(p)
            && let cranelift_codegen::ir::InstructionData::LoadNoOffset {
                opcode: cranelift_codegen::ir::Opcode::Bitcast,
                arg,
                ..
            } = dfg.insts[inst]
            && dfg.value_type(arg) == F64
        {
            return arg;
        }
        self.b.ins().bitcast(F64, MemFlagsData::new(), p)
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

    /// Loads the value at `addr + offset`: its tag word, then its payload word.
    fn load_value(&mut self, addr: Value, offset: i32) -> (Value, Value) {
        let t = self.load(addr, offset + abi::TAG);
        let p = self.load(addr, offset + abi::PAYLOAD);
        (t, p)
    }

    /// Stores a value (tag word, then payload word) at `addr + offset`.
    fn store_value(&mut self, t: Value, p: Value, addr: Value, offset: i32) {
        self.store(t, addr, offset + abi::TAG);
        self.store(p, addr, offset + abi::PAYLOAD);
    }

    fn store32(&mut self, v: Value, addr: Value, offset: i32) {
        self.b.ins().istore32(flags(), v, addr, offset);
    }

    /// Calls a helper; unused arguments are zero.
    fn helper(&mut self, h: Helper, args: &[Value]) -> Value {
        self.inline_unfit();
        // Every helper call is a safepoint: the collector roots the registers live around
        // the frame's instruction (its pc, stored here), and their slots must be current.
        // The shared exits (no instruction: `cur_pc` is `usize::MAX`) store their own pc.
        if self.cur_pc < self.input.proto.code.len() {
            self.save_pc(self.cur_pc);
        }
        if self.synced_at != Some(self.cur_pc) {
            let without_ints = match self.dirty.get(self.cur_pc) {
                Some(dirty) if cfg!(feature = "mutants") => {
                    let dirty = dirty.clone();
                    mutants::helper_sync_without_ints(&dirty, |r| {
                        let (t, _) = self.get(Reg(r as u16));
                        self.known_tag(t) == Some(tag::INT)
                    })
                }
                _ => None,
            };
            match without_ints {
                Some(regs) => self.store_regs(&regs),
                None => self.sync(self.cur_pc),
            }
        }
        self.spill_fuel();
        let r = self.leaf_helper(h, args);
        self.fill_fuel();
        self.objects.clear();
        r
    }

    /// Calls a helper that needs no safepoint: one that only finds something, and neither
    /// allocates, collects, charges fuel nor runs Echo code (see `Helper`'s docs). Nothing is
    /// stored before it, and every fact known about registers and objects holds after it.
    fn leaf_helper(&mut self, h: Helper, args: &[Value]) -> Value {
        let mut all = Vec::with_capacity(6);
        all.push(self.vm);
        all.extend_from_slice(args);
        // One zero for every padding argument: a third of all the IR's instructions were
        // these constants, each one hashed and placed by Cranelift only to be merged.
        all.resize(6, self.zero());
        let f = self.helper_ref(h);
        let call = self.b.ins().call(f, &all);
        self.b.inst_results(call)[0]
    }

    /// Whether a safepoint now would not collect (`Heap::wants_collection` is false: no
    /// stress, and the accounted bytes below the next collection's threshold). A fast path
    /// that skips the safepoint its instruction ends with must take the helper otherwise.
    fn collection_not_due(&mut self) -> Value {
        let bytes = self.load(self.vm, abi::HEAP_BYTES);
        let next_gc = self.load(self.vm, abi::HEAP_NEXT_GC);
        let below = self.b.ins().icmp(IntCC::UnsignedLessThan, bytes, next_gc);
        let stress = self.b.ins().uload8(I64, flags(), self.vm, abi::HEAP_STRESS);
        let calm = self.b.ins().icmp_imm_s(IntCC::Equal, stress, 0);
        self.b.ins().band(below, calm)
    }

    /// Stores the fuel variable to the VM (before anything else may read or charge fuel).
    fn spill_fuel(&mut self) {
        let f = self.b.use_var(self.fuel);
        self.store(f, self.vm, abi::FUEL);
    }

    /// Reloads the fuel variable from the VM (at entry and after calls).
    fn fill_fuel(&mut self) {
        let f = self.load(self.vm, abi::FUEL);
        self.b.def_var(self.fuel, f);
    }

    /// The reference to helper `h`, importing it into the function on first use.
    fn helper_ref(&mut self, h: Helper) -> FuncRef {
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
    fn branch_on(
        &mut self,
        cond: Value,
        then: Block,
        then_args: &[cranelift_codegen::ir::BlockArg],
        els: Block,
        els_args: &[cranelift_codegen::ir::BlockArg],
    ) {
        if self.end_if_unreachable() {
            return;
        }
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
        self.jump_with(block, &[]);
    }

    /// A jump passing `args` to `block`'s parameters.
    fn jump_with(&mut self, block: Block, args: &[cranelift_codegen::ir::BlockArg]) {
        if self.end_if_unreachable() {
            return;
        }
        self.b.ins().jump(block, args);
    }

    /// Ends the current block with a trap when no branch leads to it (the code behind a
    /// check that folded to a constant), so that the values it would pass on (a dead int
    /// path's int tag, say) never reach the block where the paths meet, and what is known
    /// there (a float's tag) stays a constant.
    fn end_if_unreachable(&mut self) -> bool {
        if !self.b.is_unreachable() {
            return false;
        }
        self.b.ins().trap(TrapCode::unwrap_user(1));
        true
    }

    /// Continues in a block every branch to which has been emitted: a guard's continuation
    /// (its one predecessor is the branch just emitted), or where an instruction's paths meet.
    /// Sealing it at once lets a variable read in it resolve to the predecessors' value
    /// instead of a new block parameter, so facts keyed by values (the checked shapes in
    /// `objects`, known conditions) still apply after the guard. They stay sound at a meeting
    /// point: a path that calls a helper cleared them while it was emitted, and no path adds a
    /// shape to `objects` before such a point.
    fn continue_in(&mut self, block: Block) {
        self.b.switch_to_block(block);
        self.b.seal_block(block);
    }

    // ----- structure -----

    // ----- instructions -----

    fn op(&mut self, pc: usize, op: Op) -> Result<(), String> {
        self.cur_pc = pc;
        if let Some(v) = self.variants.get_mut(pc) {
            *v = 1;
        }
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
                let (t, p) = self.const_value(k);
                self.set(a, t, p);
            }
            Op::LoadNative { a, f } => self.set_const(a, tag::NATIVE, f.0 as i64),
            Op::GetGlobal { a, g } => self.get_global(pc, a, g),
            Op::SetGlobal { a, g } => {
                let globals = self.load(self.vm, abi::M_GLOBALS);
                let (t, p) = self.get(a);
                self.store_value(t, p, globals, abi::value_at(g.0));
            }
            Op::GetUpval { a, u } => {
                if mutant!(UpvalCachedAcrossCall)
                    && let Some(&(t, p)) = self.upval_reads.get(&u.0)
                {
                    self.set(a, t, p);
                } else {
                    let bx = self.upval_box(u);
                    let (t, p) = self.load_value(bx, layout::UPBOX_VALUE);
                    self.set(a, t, p);
                    if mutant!(UpvalCachedAcrossCall) {
                        self.upval_reads.insert(u.0, (t, p));
                    }
                }
            }
            Op::SetUpval { a, u } => {
                let bx = self.upval_box(u);
                let (t, p) = self.get(a);
                if !(mutant!(InlinedUpvalWriteDropped) && self.inlining.is_some()) {
                    self.store_value(t, p, bx, layout::UPBOX_VALUE);
                }
                if mutant!(UpvalCachedAcrossCall) {
                    self.upval_reads.insert(u.0, (t, p));
                }
            }
            Op::NewBox { a } => {
                let s = self.slot(a);
                let st = self.helper(Helper::NewBox, &[s]);
                self.check_status(pc, st);
                self.reload(a);
            }
            Op::GetBox { a, b } => {
                let (_, bx) = self.get(b);
                let (t, p) = self.load_value(bx, layout::UPBOX_VALUE);
                self.set(a, t, p);
            }
            Op::SetBox { a, b } => {
                let (_, bx) = self.get(a);
                let (t, p) = self.get(b);
                self.store_value(t, p, bx, layout::UPBOX_VALUE);
            }
            Op::Closure { a, p } => {
                let d = self.slot(a);
                let proto = self.iconst(p.0 as i64);
                let st = self.helper(Helper::Closure, &[d, proto, self.base]);
                self.check_status(pc, st);
                self.reload_as(a, tag::FUNC);
            }
            Op::Add { a, b, c } => self.arith(pc, Arith::Add, a, b, Rhs::Reg(c), false),
            Op::Sub { a, b, c } => self.arith(pc, Arith::Sub, a, b, Rhs::Reg(c), false),
            Op::Mul { a, b, c } => self.arith(pc, Arith::Mul, a, b, Rhs::Reg(c), false),
            Op::Div { a, b, c } => self.arith(pc, Arith::Div, a, b, Rhs::Reg(c), false),
            Op::Mod { a, b, c } => self.arith(pc, Arith::Mod, a, b, Rhs::Reg(c), false),
            Op::AddI { a, b, imm } => {
                self.arith(pc, Arith::Add, a, b, Rhs::Imm(imm.0 as i64), false)
            }
            Op::SubI { a, b, imm } => {
                self.arith(pc, Arith::Sub, a, b, Rhs::Imm(imm.0 as i64), false)
            }
            Op::MulI { a, b, imm } => {
                self.arith(pc, Arith::Mul, a, b, Rhs::Imm(imm.0 as i64), false)
            }
            Op::DivI { a, b, imm } => {
                self.arith(pc, Arith::Div, a, b, Rhs::Imm(imm.0 as i64), false)
            }
            Op::ModI { a, b, imm } => {
                self.arith(pc, Arith::Mod, a, b, Rhs::Imm(imm.0 as i64), false)
            }
            Op::AddK { a, b, k } => self.arith_k(pc, Arith::Add, a, b, k, false),
            Op::SubK { a, b, k } => self.arith_k(pc, Arith::Sub, a, b, k, false),
            Op::MulK { a, b, k } => self.arith_k(pc, Arith::Mul, a, b, k, false),
            Op::DivK { a, b, k } => self.arith_k(pc, Arith::Div, a, b, k, false),
            Op::ModK { a, b, k } => self.arith_k(pc, Arith::Mod, a, b, k, false),
            Op::AddIL { a, b, imm } => {
                self.arith(pc, Arith::Add, a, b, Rhs::Imm(imm.0 as i64), true)
            }
            Op::MulIL { a, b, imm } => {
                self.arith(pc, Arith::Mul, a, b, Rhs::Imm(imm.0 as i64), true)
            }
            Op::AddKL { a, b, k } => self.arith_k(pc, Arith::Add, a, b, k, true),
            Op::MulKL { a, b, k } => self.arith_k(pc, Arith::Mul, a, b, k, true),
            Op::Neg { a, b } => self.neg(pc, a, b),
            Op::Not { a, b } => {
                let (t, _) = self.get(b);
                let falsy = if mutant!(NotNilFalse) {
                    self.b.ins().icmp_imm_s(IntCC::Equal, t, tag::FALSE as i64)
                } else {
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::UnsignedLessThanOrEqual, t, tag::FALSE as i64)
                };
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
                if mutant!(LoopFuelUnchecked) {
                    self.charge_fuel_unchecked();
                } else {
                    self.charge_fuel(pc);
                }
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
            Op::JmpNotLt { b, c, off } => self.compare_branch(pc, Cmp::Lt, b, Rhs::Reg(c), off),
            Op::JmpNotLe { b, c, off } => self.compare_branch(pc, Cmp::Le, b, Rhs::Reg(c), off),
            Op::JmpNotGt { b, c, off } => self.compare_branch(pc, Cmp::Gt, b, Rhs::Reg(c), off),
            Op::JmpNotGe { b, c, off } => self.compare_branch(pc, Cmp::Ge, b, Rhs::Reg(c), off),
            Op::JmpNotEqI { b, imm, off } => {
                let eq = self.equal_imm(b, imm.0 as i64);
                self.branch(pc, off, eq, false);
            }
            Op::JmpNotNeI { b, imm, off } => {
                let eq = self.equal_imm(b, imm.0 as i64);
                self.branch(pc, off, eq, true);
            }
            Op::JmpNotLtI { b, imm, off } => {
                self.compare_branch(pc, Cmp::Lt, b, Rhs::Imm(imm.0 as i64), off)
            }
            Op::JmpNotLeI { b, imm, off } => {
                self.compare_branch(pc, Cmp::Le, b, Rhs::Imm(imm.0 as i64), off)
            }
            Op::JmpNotGtI { b, imm, off } => {
                self.compare_branch(pc, Cmp::Gt, b, Rhs::Imm(imm.0 as i64), off)
            }
            Op::JmpNotGeI { b, imm, off } => {
                self.compare_branch(pc, Cmp::Ge, b, Rhs::Imm(imm.0 as i64), off)
            }
            Op::LoopIf { a, off } => self.loop_test(pc, off, true, |t| t.truthy(a)),
            Op::LoopEq { b, c, off } => self.loop_test(pc, off, true, |t| t.equal(pc, b, c)),
            Op::LoopNe { b, c, off } => self.loop_test(pc, off, false, |t| t.equal(pc, b, c)),
            Op::LoopEqI { b, imm, off } => {
                self.loop_test(pc, off, true, |t| t.equal_imm(b, imm.0 as i64))
            }
            Op::LoopNeI { b, imm, off } => {
                self.loop_test(pc, off, false, |t| t.equal_imm(b, imm.0 as i64))
            }
            Op::LoopLt { b, c, off }
            | Op::LoopLe { b, c, off }
            | Op::LoopGt { b, c, off }
            | Op::LoopGe { b, c, off } => {
                let cmp = loop_cmp(op);
                self.loop_test(pc, off, true, |t| t.compare(pc, cmp, b, Rhs::Reg(c)))
            }
            Op::LoopLtI { b, imm, off }
            | Op::LoopLeI { b, imm, off }
            | Op::LoopGtI { b, imm, off }
            | Op::LoopGeI { b, imm, off } => {
                let (cmp, k) = (loop_cmp(op), Rhs::Imm(imm.0 as i64));
                self.loop_test(pc, off, true, |t| t.compare(pc, cmp, b, k))
            }
            Op::Call { a, n } => self.call_value(pc, a, n),
            Op::CallGlobal { a, g, n } => {
                // The global into the callee's register, and its slot: the callee and the
                // helper read the call's registers from their slots.
                self.get_global(pc, a, g);
                if !mutant!(CallGlobalCalleeUnstored) {
                    let (t, p) = self.get(a);
                    let (regs, at) = self.reg_addr(a);
                    self.store_value(t, p, regs, at);
                }
                match self.inlinee(pc) {
                    Some(init) if init.input.proto.kind == ProtoKind::Init => {
                        self.construct_inlined(pc, a, n, init);
                    }
                    _ => self.call(pc, a, n),
                }
            }
            Op::CallNative { a, f, n } => self.call_native(pc, a, f, n),
            Op::Invoke { a, m, n, ic } => self.invoke(pc, a, m, n, ic),
            Op::SuperInvoke { a, m, n } => self.super_invoke(pc, a, m, n),
            Op::GetSuper { a, b, m } => {
                let d = self.slot(a);
                let s = self.slot(b);
                let sym = self.iconst(m.0 as i64);
                let p = self.iconst(self.input.pid.0 as i64);
                let st = self.helper(Helper::GetSuper, &[d, s, sym, p]);
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
                let d = self.slot(a);
                let first = self.slot(b);
                let count = self.iconst(n.0 as i64);
                let total = self.iconst(len.0 as i64);
                let st = self.helper(Helper::NewList, &[d, first, count, total]);
                self.check_status(pc, st);
                self.reload_as(a, tag::LIST);
            }
            Op::AppendList { a, b, n } => {
                let l = self.slot(a);
                let first = self.slot(b);
                let count = self.iconst(n.0 as i64);
                let st = self.helper(Helper::AppendList, &[l, first, count]);
                self.check_status(pc, st);
            }
            Op::NewMap { a } => {
                let d = self.slot(a);
                let st = self.helper(Helper::NewMap, &[d]);
                self.check_status(pc, st);
                self.reload_as(a, tag::MAP);
            }
            Op::GetIndex { a, b, c } => self.get_index(pc, a, b, c),
            Op::SetIndex { a, b, c } => self.set_index(pc, a, b, Stored::Reg(c)),
            Op::SetIndexK { a, b, k } => self.set_index(pc, a, b, Stored::Const(k)),
            Op::GetProp { a, b, m, ic } => self.get_prop(pc, a, b, m, ic),
            Op::SetProp { a, b, m, ic } => self.set_prop(pc, a, b, m, ic),
            Op::Class { a, c } => {
                let d = self.slot(a);
                let cls = self.iconst(c.0 as i64);
                let st = self.helper(Helper::Class, &[d, cls]);
                self.check_status(pc, st);
                self.reload(a);
            }
            Op::Throw { a } => {
                let s = self.slot(a);
                self.helper(Helper::Throw, &[s]);
                let err = self.error_block(pc);
                self.jump(err);
                self.terminated = true;
            }
            Op::IterPrep { a } => {
                let s = self.slot(a);
                let st = self.helper(Helper::IterPrep, &[s]);
                self.check_status(pc, st);
                self.reload(Reg(a.0 + 1));
            }
            Op::IterNext { a, b, off } => self.iter_next(pc, a, b, target(pc, off)),
            Op::ForPrep { a, off } => {
                let (ts, ps) = self.get(a);
                let (te, pe) = self.get(Reg(a.0 + 1));
                let s_int = self.tag_is(ts, tag::INT);
                let e_int = self.tag_is(te, tag::INT);
                let ok = self.both(s_int, e_int);
                if self.inlining.is_some() {
                    // An inlined body raises no errors: the interpreter raises this one.
                    if !mutant!(InlinedForPrepUnchecked) {
                        self.guard(pc, ok);
                    }
                } else {
                    let bad = self.b.create_block();
                    let good = self.b.create_block();
                    self.branch_on(ok, good, &[], bad, &[]);
                    self.b.switch_to_block(bad);
                    let s = self.slot(a);
                    self.helper(Helper::RangeError, &[s]);
                    let err = self.error_block(pc);
                    self.jump(err);
                    self.b.switch_to_block(good);
                }
                self.know_int(a);
                self.know_int(Reg(a.0 + 1));
                let skip = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, ps, pe);
                let out = self.block_at(target(pc, off));
                let next = self.block_at(pc + 1);
                self.branch_on(skip, out, &[], next, &[]);
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
                self.branch_on(more, back, &[], out, &[]);
                self.terminated = true;
            }
        }
        Ok(())
    }

    // ----- arithmetic and comparison -----

    // ----- calls -----

    // ----- properties -----
}

/// The ordering a `while` loop's compare-and-branch test (`LoopLt`, `LoopLeI`...) checks.
fn loop_cmp(op: Op) -> Cmp {
    match op {
        Op::LoopLt { .. } | Op::LoopLtI { .. } => Cmp::Lt,
        Op::LoopLe { .. } | Op::LoopLeI { .. } => Cmp::Le,
        Op::LoopGt { .. } | Op::LoopGtI { .. } => Cmp::Gt,
        Op::LoopGe { .. } | Op::LoopGeI { .. } => Cmp::Ge,
        other => unreachable!("{other:?} is not an ordering loop test"),
    }
}
