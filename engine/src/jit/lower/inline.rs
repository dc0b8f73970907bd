//! Inlining: a speculated method call, a call of a top-level function by name or of a
//! function value speculated on its prototype, the `init` of a class called by name or a
//! `super` call, whose callee is small (no handlers, no loops but counted ones, captured
//! variables only in a function value's body, and only calls inlined in turn) is translated
//! in place, the callee's registers in variables of their own; a failed guard in it pushes
//! the inlined callees' frames for the interpreter to finish. Closures a call site passes are
//! known in the callee (`KnownClosures`), so its calls of them are inlined too.
//!
//! The inlined body may leave only through side exits: an instruction of it that would call
//! a safepoint helper or raise an error abandons the inlining of that site, and the function
//! is translated again without it (`Translator::inline_failed`).

use super::*;
use crate::jit::deopt::{self, InlineExitSite, InlinedFrame};
use crate::runtime::builtins::ids;

/// Instructions a callee may have at most to be inlined. 48 takes in bounce's `Ball.bounce`
/// (47, four guarded field updates), which runs in 0.7-0.8 of the time inlined; code grows
/// 3% over the corpus and the suite, and compile time stays within noise.
pub(crate) const MAX_INLINED_OPS: usize = 48;

/// Inlined frames at most one call site may nest: a callee's own calls are inlined too, down
/// to this depth (counting the caller's callee as 1).
pub(crate) const MAX_INLINE_DEPTH: usize = 3;

/// Instructions inlined at most into one function, over all its sites and depths: bounds the
/// code (and compile time) a function with many small callees grows to.
pub(crate) const MAX_INLINED_TOTAL: usize = 384;

/// Callees that did not fit in place (an instruction needed a helper or an error exit), each
/// with a fingerprint of what its translation depended on then (its feedback and caches): a
/// later translation does not try it again until they change.
#[derive(Default)]
pub(crate) struct Unfit(FxHashMap<ProtoId, u64>);

impl Unfit {
    /// Records that `pid` did not fit in place, as it is now.
    pub(super) fn note(&mut self, vm: &Vm, pid: ProtoId) {
        self.0.insert(pid, fingerprint(vm, pid));
    }

    /// Whether `pid` did not fit in place as it is now.
    fn holds(&self, vm: &Vm, pid: ProtoId) -> bool {
        self.0.get(&pid) == Some(&fingerprint(vm, pid))
    }
}

/// A hash of prototype `pid`'s feedback and inline caches.
fn fingerprint(vm: &Vm, pid: ProtoId) -> u64 {
    use std::hash::{Hash, Hasher};
    let proto = &vm.program().protos[pid.0 as usize];
    let info = vm.fn_info[pid.0 as usize];
    let mut h = rustc_hash::FxHasher::default();
    vm.feedback[info.fbase as usize..info.fbase as usize + proto.code.len()].hash(&mut h);
    for ic in &vm.ics[info.icb as usize..info.icb as usize + proto.ic_count as usize] {
        (ic.shape.0, ic.slot, ic.next.0, ic.method.map(|m| m.addr())).hash(&mut h);
    }
    h.finish()
}

/// A callee prepared for inlining at one call site.
pub(super) struct Inlinee<'a> {
    pub input: Input<'a>,
    /// Per instruction: registers written since the callee's entry (its `dirty` sets; the
    /// callee's parameters are in their slots at entry, as in a real call).
    dirty: Vec<RegSet>,
    live: Vec<RegSet>,
    /// The callee's own calls, inlined in its body, by call site: every call it makes.
    nested: FxHashMap<usize, Inlinee<'a>>,
    /// Per instruction: whether it is in a cold throw (`analysis::cold_throws`), left out of
    /// the body, which leaves for the interpreter at the throw's first instruction.
    cold: Vec<bool>,
    /// Whether the body, or a body nested in it, adds fields to instances in place: that is
    /// a safepoint of the interpreter's, so the body runs only when no collection is due
    /// (see `Translator::inlined_or_helper`).
    pub adds_fields: bool,
}

/// Whether prototype `proto` may be inlined: a method, `init` or function of few instructions
/// that neither throws nor loops but for counted loops (`ForLoop`), touches captured
/// variables only if it is a function (whose sites hold the closure called), and calls
/// nothing but `len`,
/// the builtins on numbers and (with `calls`) methods, `super`, function values and top-level
/// functions by name, themselves to be inlined: no other
/// instruction of it charges fuel (the opcode table). Instructions that take a helper all the
/// same, such as an addition that saw strings or an allocation, abandon the inlining later.
/// The `cold` instructions (cold throws) are left out of the body: only the others count.
pub(super) fn inlinable(proto: &Proto, cold: &[bool], calls: bool) -> bool {
    if !matches!(
        proto.kind,
        ProtoKind::Method | ProtoKind::Function | ProtoKind::Init
    ) || !proto.handlers.is_empty()
        || warm_len(cold) > MAX_INLINED_OPS
    {
        return false;
    }
    proto.code.iter().enumerate().all(|(pc, op)| {
        if cold[pc] {
            return true;
        }
        let fx = op.effects();
        // Counted loops (`for i in a..b`) loop in place: their back-edge charges its fuel
        // as compiled code's does, leaving when there is none.
        let counted = matches!(op, Op::ForLoop { .. });
        (!fx.fuel || counted || inlined_builtin(*op) || calls && inlined_call(*op))
            && fx.flow != Flow::Throw
            && op.jump().is_none_or(|off| target(pc, off) > pc || counted)
            // Captured variables: a function value's body reads them through the closure its
            // call site holds (`SiteClosure::Known`); a method's site may not hold its closure.
            && (proto.kind == ProtoKind::Function
                || !matches!(op, Op::GetUpval { .. } | Op::SetUpval { .. }))
    })
}

/// The instructions an inlined body translates: those not in a cold throw.
fn warm_len(cold: &[bool]) -> usize {
    cold.iter().filter(|&&c| !c).count()
}

/// Whether `op` is a builtin call an inlined body makes in place: `len` of one argument,
/// which charges its unit of fuel and reads a list's or a string's length, or a builtin on
/// numbers (`natives::number_builtin`), leaving the body for the interpreter for anything
/// else (`Translator::inlined_len`, `Translator::inlined_number`).
pub(super) fn inlined_builtin(op: Op) -> bool {
    matches!(op, Op::CallNative { f, n, .. }
        if f.native() == ids::LEN && n.0 == 1 || natives::number_builtin(f.native(), n.0))
}

/// Whether `op` is a call that may be inlined: a method call through a cache, a call of a
/// top-level function or class by name, of a function value, or a `super` call.
fn inlined_call(op: Op) -> bool {
    matches!(op, Op::Invoke { ic, .. } if ic != IcIdx::NONE)
        || matches!(
            op,
            Op::Call { .. } | Op::CallGlobal { .. } | Op::SuperInvoke { .. }
        )
}

/// The callees to inline in the speculating translation of `caller`, by call site: every
/// `Invoke` whose cache holds one method, every call of a top-level function by name
/// (`CallGlobal`; of a class, its `init`), every call of a function value that has called
/// one prototype (`Call`) and every `super` call with a known target, of an inlinable
/// prototype, unless its site is excluded.
pub(super) fn inlinees<'a>(
    caller: &Input<'a>,
    vm: &'a Vm,
    excluded: &FxHashSet<usize>,
    unfit: &Unfit,
) -> FxHashMap<usize, Inlinee<'a>> {
    if caller.mode != Mode::Speculative {
        return FxHashMap::default();
    }
    let mut budget = MAX_INLINED_TOTAL;
    prepare(caller, vm, Some(excluded), &[], unfit, 1, &mut budget)
}

/// The inlinees of the calls `caller` makes, inlined at `depth`, except at the `excluded`
/// sites and the `cold` ones (an inlined caller's cold throws), within `budget`
/// instructions.
fn prepare<'a>(
    caller: &Input<'a>,
    vm: &'a Vm,
    excluded: Option<&FxHashSet<usize>>,
    cold: &[bool],
    unfit: &Unfit,
    depth: usize,
    budget: &mut usize,
) -> FxHashMap<usize, Inlinee<'a>> {
    let mut out = FxHashMap::default();
    // The compiled function's own code: what its blocks make (an inlined callee's knows
    // its parameters too).
    let own;
    let known = match &caller.known {
        Some(k) => k,
        None => {
            own = KnownClosures::new(caller.proto, Vec::new());
            &own
        }
    };
    for (pc, op) in caller.proto.code.iter().enumerate() {
        if !excluded.is_some_and(|e| e.contains(&pc))
            && !cold.get(pc).copied().unwrap_or(false)
            && let Some(inlinee) =
                prepare_site((caller, known), vm, (pc, *op), unfit, depth, budget)
        {
            out.insert(pc, inlinee);
        }
    }
    out
}

/// The inlinee of the call `op` at `pc` of `caller` (whose registers hold the closures
/// `known` says), inlined at `depth`, if it has one.
fn prepare_site<'a>(
    (caller, known): (&Input<'a>, &KnownClosures<'_>),
    vm: &'a Vm,
    (pc, op): (usize, Op),
    unfit: &Unfit,
    depth: usize,
    budget: &mut usize,
) -> Option<Inlinee<'a>> {
    let (callee, n, kinds): (Option<ProtoId>, Count, &[ProtoKind]) = match op {
        Op::Invoke { n, ic, .. } if ic != IcIdx::NONE => (
            caller.ics[ic.0 as usize].method.map(|m| m.proto),
            n,
            &[ProtoKind::Method],
        ),
        // A function value whose prototype the call speculates on (see `Translator::call`).
        Op::Call { n, .. } => (caller.call_target(pc), n, &[ProtoKind::Function]),
        // A top-level function called by name: the same one for the whole run.
        Op::CallGlobal { g, n, .. } => match caller.fn_global(g) {
            Some(f) => (Some(f.proto), n, &[ProtoKind::Function]),
            // A class called by name: its `init` runs on the new instance. The instance is
            // made in the compiled function's own code (making it may raise an error, which
            // an inlined body cannot), so only there.
            None if depth == 1 => (
                caller.class_global(g).and_then(|c| {
                    if mutant!(CtorInlinesSuperInit) {
                        c.superclass.and_then(|s| s.init).or(c.init)
                    } else {
                        c.init
                    }
                    .map(|init| init.proto)
                }),
                n,
                &[ProtoKind::Init],
            ),
            None => return None,
        },
        // The superclass method: the same one for the whole run.
        Op::SuperInvoke { m, n, .. } => (
            caller.super_methods.get(&m).map(|m| m.proto),
            n,
            &[ProtoKind::Method, ProtoKind::Init],
        ),
        _ => return None,
    };
    let pid = callee?;
    let proto: &'a Proto = &vm.program().protos[pid.0 as usize];
    // The caller's register that is the callee's register 0: a method's receiver (and an
    // `init`'s new instance), a function's first argument.
    let window = match op {
        Op::Call { a, .. } | Op::CallGlobal { a, .. } if proto.kind == ProtoKind::Function => {
            a.0 + 1
        }
        _ => call_register(&op) as u16,
    };
    let calls = depth < MAX_INLINE_DEPTH;
    let info = vm.fn_info[pid.0 as usize];
    let feedback = &vm.feedback[info.fbase as usize..info.fbase as usize + proto.code.len()];
    let cold = cold_throws(proto, feedback, FB_NOT_INT);
    let warm = warm_len(&cold);
    if !kinds.contains(&proto.kind)
        || proto.arity as u16 != n.0
        || warm > *budget
        || !inlinable(proto, &cold, calls)
        || unfit.holds(vm, pid)
    {
        return None;
    }
    let before = *budget;
    *budget -= warm;
    // The body's registers stay in variables: dirty from their first write on.
    // Its own calls translated in place store all its registers (`inlined_or_helper`).
    let dirty = dirty_registers(proto, &vec![false; proto.code.len()], &FxHashSet::default());
    let input = Input {
        proto,
        pid,
        mode: Mode::Speculative,
        osr: false,
        consts: &vm.const_pool[info.kbase as usize..info.kbase as usize + proto.consts.len()],
        feedback: &vm.feedback[info.fbase as usize..info.fbase as usize + proto.code.len()],
        call_targets: &vm.call_targets[info.fbase as usize..info.fbase as usize + proto.code.len()],
        ics: &vm.ics[info.icb as usize..info.icb as usize + proto.ic_count as usize],
        ic_history: caller.ic_history,
        icb: info.icb as usize,
        kbase: info.kbase as usize,
        super_methods: super_methods(vm, proto),
        globals: caller.globals,
        global_values: caller.global_values,
        stable_globals: caller.stable_globals,
        fn_info: caller.fn_info,
        osr_snapshot: None,
        protos: caller.protos,
        cover: false,
        // The caller counts its own calls and loop trips.
        cold: None,
        // An inlined callee's calls are inlined too, or it is not inlined.
        unrun_exits: false,
        // The closures the callee is given and calls are known here: its calls of them are
        // inlined too (a `for_each(fn(x) { ... })` whose loop calls its parameter).
        known: Some(KnownClosures::new(
            proto,
            known.arguments(pc, window, proto),
        )),
    };
    let nested = if calls {
        prepare(&input, vm, None, &cold, unfit, depth + 1, budget)
    } else {
        FxHashMap::default()
    };
    // A call left out of the body would need the callee's frame: all of them are inlined.
    let complete = proto
        .code
        .iter()
        .enumerate()
        .all(|(q, op)| cold[q] || !inlined_call(*op) || nested.contains_key(&q));
    let adds_fields = proto.code.iter().enumerate().any(|(q, op)| {
        !cold[q]
            && matches!(*op, Op::SetProp { ic, .. } if props::adds_in_place(&input, q, ic).is_some())
    }) || nested.values().any(|i| i.adds_fields);
    // Fields added in place are a safepoint of the interpreter's, checked once on the way
    // in (`Translator::inlined_or_helper`): a loop could add any number of them past it.
    let loops = proto.code.iter().any(Op::is_back_edge);
    if !complete || loops && adds_fields {
        *budget = before;
        return None;
    }
    Some(Inlinee {
        live: live_registers(proto, caller.protos),
        dirty,
        input,
        nested,
        cold,
        adds_fields,
    })
}

/// What one frame's translation keeps: swapped between the caller's and the inlined
/// callee's while the callee is translated.
pub(super) struct FrameCtx<'a> {
    input: &'a Input<'a>,
    tags: Vec<Variable>,
    pays: Vec<Variable>,
    blocks: FxHashMap<usize, Block>,
    error_blocks: FxHashMap<usize, Block>,
    side_exit_blocks: FxHashMap<usize, Block>,
    charged_before_guards: FxHashSet<usize>,
    deferred: Vec<Deferred>,
    stored: Vec<bool>,
    in_slots: bool,
    dirty: Vec<RegSet>,
    live: Vec<RegSet>,
    variants: Vec<u8>,
    regs: Value,
    cur_pc: usize,
    synced_at: Option<usize>,
    terminated: bool,
    fuel_charged: bool,
}

/// The closure an inlined callee runs as: what its frame record holds should the body leave.
#[derive(Clone, Copy)]
pub(super) enum SiteClosure {
    /// Known where the call is translated (the function value called, the `init` or the
    /// superclass method).
    Known(Value),
    /// The receiver's class's method of the callee's prototype. A method call's target follows
    /// from the receiver's checked shape (every class has shapes of its own, and classes never
    /// change), so the way in reads no cache; an exit writes the compiled function's own
    /// closure in its place, and `Vm::inline_exit` puts the method there.
    Method,
}

/// The call site being inlined, and the caller's translation state meanwhile.
pub(super) struct InlineSite<'a> {
    /// The caller's call instruction.
    pub call_pc: usize,
    /// The caller's register that is the callee's register 0 (the receiver of a method,
    /// the first argument of a function).
    window: Reg,
    /// The caller's register receiving the result (the receiver's, or the callee's).
    ret: Reg,
    /// The closure called (for the callee's frame record, should it leave).
    closure: SiteClosure,
    /// Where the callee's returns go.
    cont: Block,
    /// The caller's state while the callee is translated.
    caller: FrameCtx<'a>,
    /// The callee.
    callee: &'a Inlinee<'a>,
    /// Where the callee's register 0 is, counted in registers from the compiled frame's base.
    offset: u32,
    /// The site whose callee makes this call, when this one is nested in another.
    outer: Option<Box<InlineSite<'a>>>,
}

impl InlineSite<'_> {
    /// The inlined frames down to this one: 1 for a call of the compiled function's own.
    fn depth(&self) -> usize {
        1 + self.outer.as_ref().map_or(0, |o| o.depth())
    }

    /// The call site in the compiled function's own code that this one is inlined under.
    fn root_pc(&self) -> usize {
        self.outer.as_ref().map_or(self.call_pc, |o| o.root_pc())
    }

    /// The sites from the outermost down to this one.
    fn chain(&self) -> Vec<&Self> {
        let mut c = self.outer.as_ref().map_or_else(Vec::new, |o| o.chain());
        c.push(self);
        c
    }
}

impl<'a> Translator<'a> {
    /// Exchanges the frame state of the translator with `ctx`.
    fn swap_frame(&mut self, ctx: &mut FrameCtx<'a>) {
        std::mem::swap(&mut self.input, &mut ctx.input);
        std::mem::swap(&mut self.tags, &mut ctx.tags);
        std::mem::swap(&mut self.pays, &mut ctx.pays);
        std::mem::swap(&mut self.blocks, &mut ctx.blocks);
        std::mem::swap(&mut self.error_blocks, &mut ctx.error_blocks);
        std::mem::swap(&mut self.side_exit_blocks, &mut ctx.side_exit_blocks);
        std::mem::swap(
            &mut self.charged_before_guards,
            &mut ctx.charged_before_guards,
        );
        std::mem::swap(&mut self.deferred, &mut ctx.deferred);
        std::mem::swap(&mut self.stored, &mut ctx.stored);
        std::mem::swap(&mut self.in_slots, &mut ctx.in_slots);
        std::mem::swap(&mut self.dirty, &mut ctx.dirty);
        std::mem::swap(&mut self.live, &mut ctx.live);
        std::mem::swap(&mut self.variants, &mut ctx.variants);
        std::mem::swap(&mut self.regs, &mut ctx.regs);
        std::mem::swap(&mut self.cur_pc, &mut ctx.cur_pc);
        std::mem::swap(&mut self.synced_at, &mut ctx.synced_at);
        std::mem::swap(&mut self.terminated, &mut ctx.terminated);
        std::mem::swap(&mut self.fuel_charged, &mut ctx.fuel_charged);
    }

    /// Notes that the instruction being translated cannot stay in an inlined body (it needs
    /// a safepoint, an error exit or this frame's record): the site in the compiled
    /// function's code it is inlined under is translated as a call on the next attempt (a
    /// callee that is inlined must inline all its calls, so a nested site that does not fit
    /// takes the sites enclosing it along).
    pub(super) fn inline_unfit(&mut self) {
        if let Some(site) = &self.inlining {
            self.inline_failed.insert(site.root_pc());
            self.unfit_callees.insert(self.input.pid);
        }
    }

    /// The inlined callee of the call at `pc`, if it has one.
    pub(super) fn inlinee(&self, pc: usize) -> Option<&'a Inlinee<'a>> {
        match &self.inlining {
            Some(site) => site.callee.nested.get(&pc),
            None => self.inlinees.get(&pc),
        }
    }

    /// Translates the call at `pc` of `closure` as the callee's body in place, its register
    /// 0 being the caller's register `window` (a method's checked receiver, a function's first
    /// argument), when the frame depth and the register stack would allow the call; otherwise
    /// jumps to `slow`. The call's window is in its slots (the call stored it), and so are the
    /// caller's registers below it but at a call of the compiled function's own
    /// (`Storage::in_place`), whose exits store them. Continues, after the body, where the
    /// result is in register `ret`.
    pub(super) fn inline_call(
        &mut self,
        pc: usize,
        (window, ret): (Reg, Reg),
        callee: &'a Inlinee<'a>,
        closure: SiteClosure,
        slow: Block,
    ) {
        let proto = callee.input.proto;
        // The checks of `Vm::push_frame` that raise errors, counting the frames of the
        // enclosing inlined callees as pushed: those calls take `slow`.
        let (depth, offset) = self
            .inlining
            .as_ref()
            .map_or((0, 0), |s| (s.depth(), s.offset));
        let offset = offset + u32::from(window.0);
        let len = self.load(self.vm, abi::FRAMES_LEN);
        let len = self.b.ins().iadd_imm_s(len, depth as i64);
        let cap = self.load(self.vm, abi::FRAMES_CAP);
        let depth_ok = self.b.ins().icmp(IntCC::UnsignedLessThan, len, cap);
        let top = self
            .b
            .ins()
            .iadd_imm_s(self.base, offset as i64 + proto.nregs as i64);
        let size = self.load(self.vm, abi::STACK_LEN);
        let room_ok = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, top, size);
        let ok = self.both(depth_ok, room_ok);
        let body = self.b.create_block();
        self.branch_on(ok, body, &[], slow, &[]);
        self.continue_in(body);

        let nregs = proto.nregs as usize;
        let cont = self.b.create_block();
        let regs = self
            .b
            .ins()
            .iadd_imm_s(self.regs, abi::value_at(window.0.into()) as i64);
        // The callee's registers start as the caller's from `window` on: its parameters, then
        // what its slots hold (the caller's registers are in their slots here). Registers
        // past the caller's are never read before being written.
        let caller_regs = self.input.proto.nregs as usize;
        let start: Vec<Option<(Value, Value)>> = (0..nregs)
            .map(|r| {
                (window.0 as usize + r < caller_regs).then(|| self.get(Reg(window.0 + r as u16)))
            })
            .collect();
        let mut ctx = FrameCtx {
            input: &callee.input,
            tags: (0..nregs).map(|_| self.b.declare_var(I64)).collect(),
            pays: (0..nregs).map(|_| self.b.declare_var(I64)).collect(),
            blocks: FxHashMap::default(),
            error_blocks: FxHashMap::default(),
            side_exit_blocks: FxHashMap::default(),
            charged_before_guards: FxHashSet::default(),
            deferred: Vec::new(),
            // No write-through: the body's registers are stored at its returns and exits.
            stored: vec![false; proto.code.len()],
            in_slots: false,
            dirty: callee.dirty.clone(),
            live: callee.live.clone(),
            variants: Vec::new(),
            regs,
            cur_pc: 0,
            synced_at: None,
            terminated: false,
            fuel_charged: false,
        };
        self.swap_frame(&mut ctx);
        let outer = self.inlining.take();
        self.inlining = Some(Box::new(InlineSite {
            call_pc: pc,
            window,
            ret,
            closure,
            cont,
            caller: ctx,
            callee,
            offset,
            outer,
        }));
        for (r, v) in start.into_iter().enumerate() {
            let reg = Reg(r as u16);
            match v {
                Some((t, p)) => self.define(reg, t, p),
                None if self.live[0].contains(r) => self.reload(reg),
                None => {
                    let z = self.zero();
                    self.define(reg, z, z);
                }
            }
        }
        // The body's captured variables are those of the closure called (only a function
        // value's body reads any, and its site knows the closure: see `inlinable`).
        let caller_closure = self.closure;
        if let SiteClosure::Known(c) = closure {
            self.closure = c;
        }
        self.upval_reads.clear();
        let result = self.inline_body();
        self.closure = caller_closure;
        self.upval_reads.clear();
        let site = *self.inlining.take().expect("set above");
        if result.is_err() {
            // Not translatable here: the next attempt makes it a call.
            self.inline_failed.insert(site.root_pc());
        }
        self.inlining = site.outer;
        let mut caller = site.caller;
        self.swap_frame(&mut caller);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
        self.facts.clear();
        self.objects.clear();
    }

    /// The callee's instructions and its side exits, in the callee's frame state.
    fn inline_body(&mut self) -> Result<(), String> {
        let (leaders, headers) = self.leaders();
        for &pc in &leaders {
            let blk = self.b.create_block();
            self.blocks.insert(pc, blk);
        }
        let first = self.block_at(0);
        self.jump(first);
        self.terminated = true;
        let input = self.input;
        let callee = self.inlining.as_ref().expect("inlining").callee;
        let cold = &callee.cold;
        for (pc, op) in input.proto.code.iter().enumerate() {
            if let Some(&blk) = self.blocks.get(&pc) {
                if !self.terminated {
                    self.jump(blk);
                }
                // Only a loop's back-edge jumps backwards: any other block has all its
                // predecessors emitted, so it can be sealed now, and variables read in it
                // resolve to their values. A loop header is sealed with the function.
                if headers.contains(&pc) {
                    self.b.switch_to_block(blk);
                } else {
                    self.continue_in(blk);
                }
                self.terminated = false;
                // Facts are kept per register number, and these are the callee's.
                self.facts.clear();
                if pc > 0 || headers.contains(&0) {
                    // The first block's one predecessor is the call site, whose checked
                    // shapes (the receiver's) hold in it, unless a loop jumps back to it.
                    self.objects.clear();
                }
            }
            if cold[pc] {
                // A throw that never ran: the interpreter runs it from its first instruction
                // (charging its fuel), and the failed guard there makes it warm.
                if !self.terminated {
                    let code = &input.proto.code;
                    let at = if mutant!(ColdThrowExitAtThrow) {
                        (pc..code.len())
                            .find(|&q| matches!(code[q], Op::Throw { .. }))
                            .unwrap_or(pc)
                    } else {
                        pc
                    };
                    let exit = self.side_exit_block(at);
                    self.jump(exit);
                    self.terminated = true;
                }
                continue;
            }
            self.fuel_charged = false;
            self.op(pc, *op)?;
        }
        if !self.terminated {
            return Err("code runs off its end".into());
        }
        let deferred = std::mem::take(&mut self.deferred);
        for d in deferred {
            match d {
                Deferred::SideExit(pc, blk, kind) => {
                    // Loop headers and float-only arithmetic are not in inlined bodies.
                    debug_assert_eq!(kind, ExitKind::Guard);
                    self.b.switch_to_block(blk);
                    self.inline_exit(pc);
                }
                Deferred::Error(_, blk) => {
                    // Never kept: an error exit abandons the inlining (see `inline_unfit`).
                    self.b.switch_to_block(blk);
                    let one = self.iconst(1);
                    self.b.ins().return_(&[one]);
                }
            }
        }
        Ok(())
    }

    /// A return of the inlined callee: the result goes to the caller's register `ret` and
    /// its slot, and every register the callee wrote to its slot, as the interpreter's frame
    /// would have left them (the collector scans them); the caller's registers over the
    /// callee's window take the callee's values (those it did not write are the same).
    pub(super) fn inline_return(&mut self, t: Value, p: Value, pc: usize) {
        self.sync(pc);
        let site = self.inlining.as_ref().expect("inlining");
        let (window, ret, cont) = (site.window.0 as usize, site.ret, site.cont);
        let caller_tags = site.caller.tags.clone();
        let caller_pays = site.caller.pays.clone();
        let caller_regs = site.caller.regs;
        let shared = self.tags.len().min(caller_tags.len() - window);
        for r in 0..shared {
            if window + r == ret.0 as usize {
                continue;
            }
            let (rt, rp) = self.get(Reg(r as u16));
            self.b.def_var(caller_tags[window + r], rt);
            self.b.def_var(caller_pays[window + r], rp);
        }
        self.store_value(t, p, caller_regs, abi::value_at(ret.0.into()));
        self.b.def_var(caller_tags[ret.0 as usize], t);
        self.b.def_var(caller_pays[ret.0 as usize], p);
        self.jump_with(cont, &[]);
        self.terminated = true;
    }

    /// At an exit of a body inlined at a call of the compiled function's own that stored
    /// only its window (`Storage::in_place`): stores the compiled function's registers below
    /// the call that are not in their slots.
    fn store_below_call(&mut self) {
        let site = self.inlining.as_ref().expect("inlining");
        let root = site.chain()[0];
        if !self.in_place.contains(&root.call_pc) || mutant!(InlineExitSkipsCaller) {
            return;
        }
        let caller = &root.caller;
        let below = call_register(&caller.input.proto.code[root.call_pc]);
        let regs: Vec<(usize, Variable, Variable)> = caller.dirty[root.call_pc]
            .iter()
            .filter(|&r| r < below)
            .map(|r| (r, caller.tags[r], caller.pays[r]))
            .collect();
        let base = caller.regs;
        for (r, tv, pv) in regs {
            let t = self.b.use_var(tv);
            let p = self.b.use_var(pv);
            self.store_value(t, p, base, abi::value_at(r as u32));
        }
    }

    /// The side exit of the inlined callee's instruction `pc`: its written registers to
    /// their slots, the caller's pc past the call, the callee's frame record pushed as the
    /// call would have (resuming at `pc`), and the interpreter finishes both frames.
    fn inline_exit(&mut self, pc: usize) {
        self.cur_pc = pc;
        // First the compiled function's registers below the call (those over the window
        // are the inlined frames', stored after).
        self.store_below_call();
        if !mutant!(InlineExitDropsWrites) {
            self.sync(pc);
        }
        // The frames to rebuild, one per inlined callee, the outermost first, each resuming
        // after the call of the next (their registers were stored at those calls), the
        // innermost at `pc`: a record the helper reads (`deopt`), and the callees' closures
        // known here as arguments.
        let site = self.inlining.as_ref().expect("inlining");
        let chain = site.chain();
        let mut frames = Vec::with_capacity(chain.len());
        let mut closures = Vec::with_capacity(chain.len());
        let mut methods = 0u64;
        for (i, s) in chain.iter().enumerate() {
            let caller_offset = s.offset - u32::from(s.window.0);
            let resume = match chain.get(i + 1) {
                Some(inner) => mutants::nested_caller_resume(inner.call_pc),
                None => pc,
            };
            match s.closure {
                SiteClosure::Known(c) => closures.push(Some(c)),
                SiteClosure::Method => {
                    methods |= 1 << i;
                    closures.push(None);
                }
            }
            frames.push(InlinedFrame {
                proto: s.callee.input.pid.0,
                base: s.offset,
                ret: caller_offset + u32::from(s.ret.0),
                pc: resume as u32,
            });
        }
        let caller_pc = mutants::inline_caller_resume(chain[0].call_pc) as u32;
        let record = deopt::intern(InlineExitSite {
            pc: pc as u32,
            caller_pc,
            methods,
            frames,
        });
        self.spill_fuel();
        let mut args = vec![self.iconst(std::ptr::from_ref(record) as i64)];
        for c in closures {
            args.push(c.unwrap_or_else(|| self.zero()));
        }
        let st = self.leaf_helper(Helper::InlineExit, &args);
        self.b.ins().return_(&[st]);
    }
}

/// Whether `op` may change register `r`: it writes it, or `r` is in or past the run of
/// registers it addresses (a call's callee frame starts there).
fn may_write(op: &Op, r: u16) -> bool {
    op.write().is_some_and(|w| w.reg().0 == r)
        || op.run_write().is_some_and(|w| w.0 == r)
        || op.fallthrough_write().is_some_and(|w| w.0 == r)
        || op
            .register_run()
            .is_some_and(|(first, _)| usize::from(r) >= first)
}

/// The instruction of `code` that last wrote register `r` before `pc` within `pc`'s block
/// (`leaders`), if one did: `Err(())` when the block writes it nowhere before `pc`.
fn last_write_in_block(
    code: &[Op],
    leaders: &FxHashSet<usize>,
    pc: usize,
    r: u16,
) -> Result<Op, ()> {
    let mut q = pc;
    while q > 0 && !leaders.contains(&q) {
        q -= 1;
        if may_write(&code[q], r) {
            return Ok(code[q]);
        }
    }
    Err(())
}

/// The closures a function's registers are known to hold, from its own code and what its
/// caller gives its parameters: exact, whatever feedback says.
pub(super) struct KnownClosures<'p> {
    code: &'p [Op],
    leaders: FxHashSet<usize>,
    /// Per parameter register (the receiver, then the parameters): the function of the
    /// closure it holds for the whole call, if known.
    params: Vec<Option<ProtoId>>,
}

impl<'p> KnownClosures<'p> {
    /// What `proto`'s code says, its parameters holding closures of `params` (per register,
    /// `None` where unknown or written by the function itself).
    pub(super) fn new(proto: &'p Proto, params: Vec<Option<ProtoId>>) -> Self {
        let code = &proto.code[..];
        let params = params
            .into_iter()
            .enumerate()
            .map(|(r, p)| p.filter(|_| !code.iter().any(|op| may_write(op, r as u16))))
            .collect();
        KnownClosures {
            code,
            leaders: structure::leaders_of(proto).0,
            params,
        }
    }

    /// The function of the closure register `r` holds at `pc`: one made in `pc`'s block
    /// (`Op::Closure`), a parameter's that the function never writes, or a copy of it made
    /// in the block (`Op::Move`).
    pub(super) fn at(&self, pc: usize, r: u16) -> Option<ProtoId> {
        let param = |r: u16| self.params.get(usize::from(r)).copied().flatten();
        match last_write_in_block(self.code, &self.leaders, pc, r) {
            Ok(Op::Closure { a, p }) if a.0 == r => Some(p),
            Ok(Op::Move { a, b }) if a.0 == r => param(b.0),
            Ok(_) => None,
            Err(()) => param(r),
        }
    }

    /// For each parameter register of `callee`, called at `pc` with its register 0 at the
    /// caller's `window`: the function of the closure it receives, if known
    /// (`v.each(fn(x) { ... })`, or a closure the caller itself received and passes on).
    pub(super) fn arguments(&self, pc: usize, window: u16, callee: &Proto) -> Vec<Option<ProtoId>> {
        let params = usize::from(callee.arity) + usize::from(callee.kind != ProtoKind::Function);
        (0..params as u16)
            .map(|r| self.at(pc, window + r))
            .collect()
    }
}
