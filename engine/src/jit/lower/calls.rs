//! Calls: direct calls of compiled code (pushing the callee's frame record inline), calls
//! through the `Call`/`Invoke` helpers, speculated method calls, `super` calls, and returns.

use super::inline::SiteClosure;
use super::*;

impl<'a> Translator<'a> {
    /// Pushes a frame for `closure` (of prototype `pid`) at `callee_base` and runs its
    /// compiled code directly when it has some and everything fits; otherwise runs `slow`.
    /// Jumps to a block holding the call's status.
    pub(super) fn direct_call(&mut self, callee: Callee, slow: Block, done: Block) {
        let Callee {
            closure,
            pid,
            base: callee_base,
            ret,
            rel: callee_rel,
            nargs,
            known,
        } = callee;
        let fn_info = self.load(self.vm, abi::M_FN_INFO);
        let rec = match known {
            Some(p) => self
                .b
                .ins()
                .iadd_imm_s(fn_info, p.0 as i64 * abi::FN_INFO_SIZE),
            None => {
                let rel = self.b.ins().imul_imm_s(pid, abi::FN_INFO_SIZE);
                self.b.ins().iadd(fn_info, rel)
            }
        };
        let entry = self.load(rec, abi::FN_ENTRY);
        let c1 = self.b.create_block();
        self.branch_on(entry, c1, &[], slow, &[]);
        self.continue_in(c1);
        let len = self.load(self.vm, abi::FRAMES_LEN);
        let cap = self.load(self.vm, abi::FRAMES_CAP);
        let depth_ok = self.b.ins().icmp(IntCC::UnsignedLessThan, len, cap);
        let (arity_ok, top) = match known.map(|p| {
            let f = &self.input.fn_info[p.0 as usize];
            (f.arity, f.nregs)
        }) {
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
                let arity = self.load32(rec, abi::FN_ARITY);
                let ok = self.b.ins().icmp_imm_s(IntCC::Equal, arity, nargs as i64);
                let nregs = self.load32(rec, abi::FN_NREGS);
                (ok, self.b.ins().iadd(callee_base, nregs))
            }
        };
        let size = self.load(self.vm, abi::STACK_LEN);
        let room_ok = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, top, size);
        let sp = self.b.ins().get_stack_pointer(I64);
        let limit = self.load(self.vm, abi::NATIVE_LIMIT);
        let stack_ok = self.b.ins().icmp(IntCC::UnsignedGreaterThan, sp, limit);
        let ok1 = self.both(arity_ok, depth_ok);
        let ok2 = self.both(room_ok, stack_ok);
        let ok = self.both(ok1, ok2);
        let go = self.b.create_block();
        self.branch_on(ok, go, &[], slow, &[]);
        self.continue_in(go);
        // Push the callee's frame record and count the call, as `Vm::push_frame` does.
        let buf = self.load(self.vm, abi::FRAMES_BUF);
        let rel = self.b.ins().imul_imm_s(len, abi::FRAME_SIZE);
        let fr = self.b.ins().iadd(buf, rel);
        self.store(closure, fr, abi::FRAME_CLOSURE);
        self.store32(pid, fr, abi::FRAME_PROTO);
        self.store32(callee_base, fr, abi::FRAME_BASE);
        let zero = self.iconst(0);
        self.store32(zero, fr, abi::FRAME_PC);
        self.store32(ret, fr, abi::FRAME_RET);
        let len1 = self.b.ins().iadd_imm_s(len, 1);
        self.store(len1, self.vm, abi::FRAMES_LEN);
        let caddr = self.call_count_addr(pid);
        let count = self.load(caddr, 0);
        let count1 = self.b.ins().iadd_imm_s(count, 1);
        self.store(count1, caddr, 0);
        let callee_regs = self
            .b
            .ins()
            .iadd_imm_s(self.regs, abi::value_at(callee_rel.into()) as i64);
        let args = [self.vm, callee_base, zero, callee_regs, fr];
        self.spill_fuel();
        let call = self.b.ins().call_indirect(self.compiled_sig, entry, &args);
        let st = self.b.inst_results(call)[0];
        self.fill_fuel();
        self.objects.clear();
        self.jump_with(done, &[st.into()]);
    }

    /// The address of the call count of prototype `pid` (a 64-bit value) in the VM's mirror
    /// of its statistics, which the interpreter's call path also counts.
    pub(super) fn call_count_addr(&mut self, pid: Value) -> Value {
        let calls = self.load(self.vm, abi::M_CALLS);
        let rel = self.b.ins().ishl_imm_s(pid, 3);
        self.b.ins().iadd(calls, rel)
    }

    /// `Op::Call`: a call of a function value, which records its targets (`call`, which
    /// the calls of globals and of fields share, records none).
    pub(super) fn call_value(&mut self, pc: usize, a: Reg, n: Count) {
        let never_ran = !self.facts.known_fn.contains_key(&a.0)
            && self.input.call_targets.get(pc) == Some(&CALLED_NOTHING);
        self.leave_if_unrun(pc, never_ran);
        self.call(pc, a, n);
    }

    pub(super) fn call(&mut self, pc: usize, a: Reg, n: Count) {
        // Checked before anything else happens: a side exit runs the whole instruction
        // again in the interpreter, fuel included. (Only `Call` records targets: a
        // `CallGlobal` has none.)
        if !self.facts.known_fn.contains_key(&a.0)
            && let Some(pid) = self.input.call_target(pc)
        {
            self.speculate_callee(pc, a, pid);
        }
        self.charge_fuel(pc);
        if let Some(callee) = self.inlinee(pc)
            && self.facts.known_fn.get(&a.0) == Some(&callee.input.pid)
        {
            self.call_inlined(pc, a, n, callee);
            return;
        }
        self.save_pc(pc);
        self.sync_all(pc);
        let (t, p) = self.get(a);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        let ret = self.slot(a);
        let callee_base = self.b.ins().iadd_imm_s(ret, 1);
        let (pid, known) = if let Some(&proto) = self.facts.known_fn.get(&a.0) {
            // A top-level function: the callee and its shape are known here.
            (self.iconst(proto.0 as i64), Some(proto))
        } else {
            let is_fn = self.tag_is(t, tag::FUNC);
            let fast = self.b.create_block();
            let other = self.b.create_block();
            self.branch_on(is_fn, fast, &[], other, &[]);
            self.continue_in(other);
            self.note_call_target(pc, None);
            self.construct(a, n, t, slow, done);
            self.continue_in(fast);
            let pid = self.load32(p, layout::CLOSURE_PROTO);
            self.note_call_target(pc, Some(pid));
            (pid, None)
        };
        let callee = Callee {
            closure: p,
            pid,
            base: callee_base,
            ret,
            rel: a.0 + 1,
            nargs: n.0,
            known,
        };
        self.direct_call(callee, slow, done);
        self.b.switch_to_block(slow);
        let s = self.slot(a);
        let nargs = self.iconst(n.0 as i64);
        let st = self.helper(Helper::Call, &[s, nargs]);
        self.jump_with(done, &[st.into()]);
        self.after_call(pc, a, done);
    }

    /// Leaves for the interpreter at the call at `pc` when it `never_ran` (no target
    /// recorded, an empty cache) and the version may (`Input::unrun_exits`), before the
    /// call charges its fuel: the interpreter makes it whole, and the next version knows its
    /// callee. The call's own translation that follows is unreachable, so never emitted.
    fn leave_if_unrun(&mut self, pc: usize, never_ran: bool) {
        if !never_ran
            || !self.input.unrun_exits
            || self.inlining.is_some()
            || self.input.feedback[pc] & FB_NOT_INT != 0
        {
            return;
        }
        self.note_speculation(pc);
        if mutant!(UnrunExitAfterFuel) {
            self.charge_fuel(pc);
        }
        let exit = self.exit_of_kind(pc, ExitKind::Unrun);
        let never = self.cond_const(false);
        let cont = self.b.create_block();
        self.branch_on(never, cont, &[], exit, &[]);
        self.continue_in(cont);
    }

    /// In a cold version (see `Input::cold`): records what the `Call` at `pc` calls (the
    /// prototype `pid`, or with `None` something other than an Echo function), as the
    /// interpreter does, so that the version replacing this one knows the call's target.
    fn note_call_target(&mut self, pc: usize, pid: Option<Value>) {
        if self.input.cold.is_none() {
            return;
        }
        let at = self.input.fn_info[self.input.pid.0 as usize].fbase as usize + pc;
        let at = self.iconst(at as i64);
        let proto = match pid {
            Some(p) => p,
            None => self.iconst(-1),
        };
        self.leaf_helper(Helper::NoteCallTarget, &[at, proto]);
    }

    /// Speculates that register `a` holds a closure of prototype `pid`, the only one the
    /// call at `pc` has called (leaving at `pc` otherwise): the call is then made as to a
    /// known function, directly or inlined.
    fn speculate_callee(&mut self, pc: usize, a: Reg, pid: ProtoId) {
        self.note_speculation(pc);
        let (t, p) = self.get(a);
        let is_fn = self.tag_is(t, tag::FUNC);
        self.guard(pc, is_fn);
        self.refine_tag(a, tag::FUNC);
        // The mutant skips the prototype's check only where the body is inlined and reads no
        // captured variables, so that a wrong closure stays memory-safe there.
        let inlined = self.inlinee(pc).is_some_and(|c| {
            c.input.pid == pid
                && !c
                    .input
                    .proto
                    .code
                    .iter()
                    .any(|op| matches!(op, Op::GetUpval { .. } | Op::SetUpval { .. }))
        });
        if !(inlined && mutant!(CallTargetTagOnly)) {
            let proto = self.load32(p, layout::CLOSURE_PROTO);
            let same = self.b.ins().icmp_imm_s(IntCC::Equal, proto, pid.0 as i64);
            self.guard(pc, same);
        }
        self.facts.known_fn.insert(a.0, pid);
    }

    /// Calling register `a` of tag `t` when it is not a function: a class with an `init`
    /// gets its new instance from `NewInstance`, which puts it in `a`'s slot, and that
    /// `init` runs directly when it has compiled code (otherwise through `CallInit`). Anything
    /// else takes `slow`, the generic call. Jumps to `done` with the call's status.
    fn construct(&mut self, a: Reg, n: Count, t: Value, slow: Block, done: Block) {
        let is_class = self.tag_is(t, tag::CLASS);
        let class = self.b.create_block();
        self.branch_on(is_class, class, &[], slow, &[]);
        self.continue_in(class);
        let slot = self.slot(a);
        let init = self.helper(Helper::NewInstance, &[slot]);
        let handled = self.b.create_block();
        self.branch_on(init, handled, &[], slow, &[]);
        self.continue_in(handled);
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, init, 1);
        let made = self.b.create_block();
        let err = self.iconst(crate::runtime::tiering::STATUS_ERR as i64);
        self.branch_on(failed, done, &[err.into()], made, &[]);
        self.continue_in(made);
        if mutant!(ClassCallSkipsInit) {
            let ok = self.iconst(crate::runtime::tiering::STATUS_OK as i64);
            self.jump_with(done, &[ok.into()]);
            return;
        }
        let pid = self.load32(init, layout::CLOSURE_PROTO);
        let init_slow = self.b.create_block();
        let callee = Callee {
            closure: init,
            pid,
            base: slot,
            ret: slot,
            rel: a.0,
            nargs: n.0,
            known: None,
        };
        self.direct_call(callee, init_slow, done);
        self.b.switch_to_block(init_slow);
        let nargs = self.iconst(n.0 as i64);
        let st = self.helper(Helper::CallInit, &[slot, nargs]);
        self.jump_with(done, &[st.into()]);
    }

    /// After a call: errors to the error exit; reload the result.
    pub(super) fn after_call(&mut self, pc: usize, a: Reg, done: Block) {
        self.continue_in(done);
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

    pub(super) fn invoke(
        &mut self,
        pc: usize,
        a: Reg,
        m: crate::symbol::Symbol,
        n: Count,
        ic: IcIdx,
    ) {
        let (t, p) = self.get(a);
        let entry = if ic == IcIdx::NONE {
            Ic::EMPTY
        } else {
            self.input.ics[ic.0 as usize]
        };
        let never_ran = ic != IcIdx::NONE
            && entry.shape == crate::runtime::shape::ShapeId::NONE
            && entry.method.is_none();
        self.leave_if_unrun(pc, never_ran);
        if self.input.mode == Mode::Speculative
            && entry.shape != crate::runtime::shape::ShapeId::NONE
            && entry.method.is_none()
        {
            self.invoke_field(pc, a, n, entry);
            return;
        }
        // A site whose shape check failed before meets receivers of more than one class:
        // it checks the cache at run time instead of leaving (a miss takes the helper, which
        // refills the cache), so that it does not make its function leave again.
        let speculate = self.input.mode == Mode::Speculative
            && entry.method.is_some()
            && self.input.feedback[pc] & FB_NOT_INT == 0;
        if speculate {
            self.note_speculation(pc);
            // Monomorphic so far: check the receiver's shape before anything else happens
            // (a side exit re-runs the whole instruction in the interpreter, fuel included).
            if mutant!(InvokeIcIgnoresClass) {
                let is_inst = self.tag_is(t, tag::INSTANCE);
                self.guard(pc, is_inst);
            } else {
                // Recorded as checked: an inlined callee's reads of `self` need no check.
                self.instance_of_shape(pc, a, entry.shape.0);
            }
        }
        self.charge_fuel(pc);
        let inlinee = if speculate { self.inlinee(pc) } else { None };
        if let Some(callee) = inlinee {
            self.invoke_inlined(pc, a, m, n, ic, callee);
            return;
        }
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
                let mv = self.cached_method(ic, entry.shape, slow);
                let pv = self.iconst(m.proto.0 as i64);
                (mv, pv, Some(m.proto))
            } else {
                let (shape, rec, ic_shape) = self.ic_probe(t, p, ic, slow);
                let method = self.load(rec, abi::IC_METHOD);
                let same = if mutant!(InvokeIcIgnoresClass) {
                    self.cond_const(true)
                } else {
                    self.b.ins().icmp(IntCC::Equal, shape, ic_shape)
                };
                let has = self.b.ins().icmp_imm_s(IntCC::NotEqual, method, 0);
                let hit = self.both(same, has);
                let c2 = self.b.create_block();
                self.branch_on(hit, c2, &[], slow, &[]);
                self.continue_in(c2);
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
        let st = self.helper(Helper::Invoke, &[s, sym, nargs, icv]);
        self.jump_with(done, &[st.into()]);
        self.after_call(pc, a, done);
    }

    /// `R[a].m(args)` where the cache says `m` was a field of the receiver's shape holding
    /// something to call: speculating on that shape (leaving at `pc` otherwise), the field's
    /// value replaces the receiver in `a` and its slot, as in `Vm::invoke`, and is called as
    /// `Call` would call it.
    fn invoke_field(&mut self, pc: usize, a: Reg, n: Count, entry: Ic) {
        self.note_speculation(pc);
        let slots = if mutant!(FieldCallIgnoresShape) {
            let (t, p) = self.get(a);
            let is_inst = self.tag_is(t, tag::INSTANCE);
            self.guard(pc, is_inst);
            self.load(p, layout::INSTANCE_SLOTS)
        } else {
            self.instance_of_shape(pc, a, entry.shape.0)
        };
        let (t, p) = self.load_value(slots, abi::value_at(entry.slot));
        // The callee's register goes to its slot too: the helper and the callee read it there.
        self.result_value_to_slot(a, t, p);
        self.call(pc, a, n);
    }

    /// The call at `pc` of a top-level function (known, in `a`) with its body translated in
    /// place (see `inline`); when the call could not be made (frame depth, register stack),
    /// it goes through the `Call` helper.
    fn call_inlined(&mut self, pc: usize, a: Reg, n: Count, callee: &'a inline::Inlinee<'a>) {
        let slow = self.b.create_block();
        let (_, closure) = self.get(a);
        let window = (Reg(a.0 + 1), a);
        let otherwise = (Helper::Call, [n.0 as i64].to_vec());
        let closure = SiteClosure::Known(closure);
        self.inlined_or_helper(pc, window, callee, closure, slow, otherwise);
    }

    /// The speculated method call at `pc` with its callee translated in place (see
    /// `inline`); the receiver's shape is checked, and with it the method (see
    /// `SiteClosure::Method`). When the call could not be made (frame depth, register stack),
    /// it goes through the `Invoke` helper.
    fn invoke_inlined(
        &mut self,
        pc: usize,
        a: Reg,
        m: crate::symbol::Symbol,
        n: Count,
        ic: IcIdx,
        callee: &'a inline::Inlinee<'a>,
    ) {
        let slow = self.b.create_block();
        let ic_index = (self.input.icb + ic.0 as usize) as i64;
        let otherwise = (Helper::Invoke, [m.0 as i64, n.0 as i64, ic_index].to_vec());
        let method = SiteClosure::Method;
        self.inlined_or_helper(pc, (a, a), callee, method, slow, otherwise);
    }

    /// `R[a] := C(...)` for the class `C` that the call's global holds for the whole run,
    /// with `C`'s `init` translated in place: `NewInstance` makes the instance in `a`'s slot,
    /// as the interpreter does before it runs `init`, and the body runs with `a` as its
    /// register 0; when it cannot run here, `init` is called through `CallInit`.
    pub(super) fn construct_inlined(
        &mut self,
        pc: usize,
        a: Reg,
        n: Count,
        init: &'a inline::Inlinee<'a>,
    ) {
        self.charge_fuel(pc);
        self.sync_all(pc);
        let slot = self.slot(a);
        // The `init` closure, or 1 when making the instance raised an error (never 0, for
        // a class declared with an `init`).
        let closure = self.helper(Helper::NewInstance, &[slot]);
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, closure, 1);
        self.check_status(pc, failed);
        self.reload(a);
        let slow = self.b.create_block();
        let otherwise = (Helper::CallInit, [n.0 as i64].to_vec());
        let closure = SiteClosure::Known(closure);
        self.inlined_or_helper(pc, (a, a), init, closure, slow, otherwise);
    }

    /// The method cache `ic` holds, continuing only while the cache still holds `shape` (the
    /// receiver's, checked), whose method it then is; to `slow` otherwise.
    fn cached_method(
        &mut self,
        ic: IcIdx,
        shape: crate::runtime::shape::ShapeId,
        slow: Block,
    ) -> Value {
        let rec = self.ic_record(ic);
        let ic_shape = self.load32(rec, abi::IC_SHAPE);
        let same = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, ic_shape, shape.0 as i64);
        let method = self.load(rec, abi::IC_METHOD);
        let c2 = self.b.create_block();
        self.branch_on(same, c2, &[], slow, &[]);
        self.continue_in(c2);
        method
    }

    /// The callee translated in place (`inline_call`, its register 0 and result registers
    /// in `window`) and, from `slow`, the call through a helper (with the call's slot and the
    /// given constants), then on where both meet.
    fn inlined_or_helper(
        &mut self,
        pc: usize,
        window: (Reg, Reg),
        callee: &'a inline::Inlinee<'a>,
        closure: SiteClosure,
        slow: Block,
        (h, consts): (Helper, Vec<i64>),
    ) {
        let a = window.1;
        let nested = self.inlining.is_some();
        // The registers go to their slots, as for a call: the helper reads them there, and
        // so does the interpreter after a side exit in the inlined body. At a call of the
        // compiled function's own, only the window does (the body starts from it): the
        // registers below stay in variables on the way through the body, and its exits store
        // them (`inline_exit`), as the helper's path does here.
        let in_place = !nested && self.in_place.contains(&pc);
        if in_place {
            let from = call_register(&self.input.proto.code[pc]);
            let window_regs: Vec<usize> = self.dirty[pc].iter().filter(|&r| r >= from).collect();
            for r in window_regs {
                self.store_reg(Reg(r as u16));
            }
        } else if self.synced_at != Some(pc) {
            // (A constructor's registers were stored before its instance was made.)
            self.sync_all(pc);
        }
        if !nested && callee.adds_fields {
            // Adding a field ends in a safepoint in the interpreter, and an inlined body
            // cannot collect: it runs only when no collection is due. Nothing in it allocates,
            // so none becomes due before its last field is added.
            let calm = self.collection_not_due();
            let go = self.b.create_block();
            self.branch_on(calm, go, &[], slow, &[]);
            self.continue_in(go);
        }
        self.inline_call(pc, window, callee, closure, slow);
        let join = self.b.create_block();
        self.jump(join);
        if nested {
            // In an inlined body there is no helper call: the call leaves for the
            // interpreter, which runs the instruction again, charging its unit of fuel again
            // (given back here).
            self.b.switch_to_block(slow);
            self.b.seal_block(slow);
            let f = self.b.use_var(self.fuel);
            let f1 = self.b.ins().iadd_imm_s(f, 1);
            self.b.def_var(self.fuel, f1);
            let exit = self.side_exit_block(pc);
            self.jump_with(exit, &[]);
            self.continue_in(join);
            self.facts.clear();
            self.objects.clear();
            return;
        }

        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        if in_place {
            self.sync_all(pc);
        }
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        let mut args = vec![self.slot(a)];
        args.extend(consts.into_iter().map(|k| self.iconst(k)));
        let st = self.helper(h, &args);
        self.jump_with(done, &[st.into()]);
        self.after_call(pc, a, done);
        self.jump(join);
        self.continue_in(join);
        if in_place {
            // Stored on the helper's path only.
            self.synced_at = None;
        }
        self.facts.clear();
        self.objects.clear();
    }

    pub(super) fn super_invoke(&mut self, pc: usize, a: Reg, m: crate::symbol::Symbol, n: Count) {
        self.charge_fuel(pc);
        if let Some(callee) = self.inlinee(pc)
            && let Some(method) = self.input.super_methods.get(&m).copied()
        {
            // Classes never change once created: the superclass method is a constant.
            let mv = self.iconst(method.addr() as i64);
            let slow = self.b.create_block();
            let consts = [m.0 as i64, n.0 as i64, self.input.pid.0 as i64].to_vec();
            let window = if mutant!(SuperInlineWindowShifted) {
                (Reg(a.0 + 1), a)
            } else {
                (a, a)
            };
            let mv = SiteClosure::Known(mv);
            self.inlined_or_helper(pc, window, callee, mv, slow, (Helper::SuperInvoke, consts));
            return;
        }
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
        let st = self.helper(Helper::SuperInvoke, &[s, sym, nargs, p]);
        self.jump_with(done, &[st.into()]);
        self.after_call(pc, a, done);
    }

    pub(super) fn ret(&mut self, t: Value, p: Value, pc: usize) {
        if self.inlining.is_some() {
            self.inline_return(t, p, pc);
            return;
        }
        // The frame's slots stay in the caller's window, where the collector scans them:
        // they must hold what the interpreter would have left.
        if self.synced_at != Some(pc) {
            self.sync_all(pc);
        }
        let ret = self.load32(self.frame, abi::FRAME_RET);
        let stack = self.load(self.vm, abi::STACK_BASE);
        let rel = self.b.ins().ishl_imm_s(ret, abi::VALUE_SHIFT);
        let addr = self.b.ins().iadd(stack, rel);
        self.store_value(t, p, addr, 0);
        if self.input.proto.kind == ProtoKind::Script {
            let line = self.iconst(self.input.proto.lines[pc] as i64);
            self.helper(Helper::ExitLine, &[line]);
        }
        let len = self.load(self.vm, abi::FRAMES_LEN);
        let len1 = self.b.ins().iadd_imm_s(len, -1);
        self.store(len1, self.vm, abi::FRAMES_LEN);
        self.spill_fuel();
        let zero = self.iconst(0);
        self.b.ins().return_(&[zero]);
        self.terminated = true;
    }
}

/// The target of a direct call: a closure, its prototype, where its frame goes (register 0
/// and return slot, as stack indices) and how many arguments it gets.
#[derive(Clone, Copy)]
pub(super) struct Callee {
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
