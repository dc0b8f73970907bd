//! The shape of a compiled function: block leaders from the opcode table's control flow, the
//! entry (normal and OSR, with the OSR entry's type checks) and the walk over the body.

use super::loop_types::LoopTypes;
use super::*;

impl Translator<'_> {
    /// The leaders and loop headers of the prototype being translated (`leaders_of`).
    pub(super) fn leaders(&self) -> (FxHashSet<usize>, Vec<usize>) {
        leaders_of(self.input.proto)
    }

    pub(super) fn run(&mut self) -> Result<(), String> {
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
        self.closure = self.load(self.frame, abi::FRAME_CLOSURE);
        self.regs = params[3];
        self.fill_fuel();
        let zero = self.iconst(0);
        self.b.def_var(self.visits, zero);
        self.headers = osr.iter().copied().collect();
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
            let skipped = mutants::osr_skipped_register(&self.input.proto.code, &self.live[osr[0]]);
            for r in 0..self.input.proto.nregs {
                if Some(r as usize) != skipped {
                    self.reload(Reg(r));
                }
            }
            let types = self.loop_types(&live_code, Some(&osr));
            for &pc in &osr {
                let hit = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::Equal, self.entry_pc, pc as i64 + 1);
                let next = self.b.create_block();
                let enter = self.b.create_block();
                self.branch_on(hit, enter, &[], next, &[]);
                self.b.switch_to_block(enter);
                self.osr_entry_guards(pc);
                if let Some(known) = types.get(&pc) {
                    self.osr_header_guards(pc, known);
                }
                let target = self.block_at(pc);
                self.jump(target);
                self.b.switch_to_block(next);
            }
            // Not a loop header of this code: let the interpreter run the frame.
            let pc = self.b.ins().iadd_imm_s(self.entry_pc, -1);
            let st = self.helper(Helper::SideExit, &[pc]);
            self.b.ins().return_(&[st]);
            self.b.switch_to_block(normal);
            // Never taken: calls enter the normal version. Interpret, should it happen.
            let zero = self.iconst(0);
            let st = self.helper(Helper::SideExit, &[zero]);
            self.b.ins().return_(&[st]);
            return self.body(&live_code, &types);
        }
        self.b.switch_to_block(normal);
        if let Some(cold) = self.input.cold {
            self.count_cold_call(cold.calls);
        }
        // Every register starts as its slot (parameters, and whatever earlier calls left in
        // the others): storing a register written on only some paths then rewrites the slot's
        // own value on the other paths, so slots always match the interpreter's.
        for r in 0..self.input.proto.nregs {
            self.reload(Reg(r));
        }
        let first = self.block_at(0);
        self.jump(first);
        let types = self.loop_types(&live_code, None);
        self.body(&live_code, &types)
    }

    /// At the start of a cold version: once the function's calls reach `hot`, each call asks
    /// the `Reoptimize` helper to compile the function with what its helpers recorded, and to
    /// install that code once it is ready. This activation runs on in the cold code.
    fn count_cold_call(&mut self, hot: u64) {
        let pid = self.iconst(self.input.pid.0 as i64);
        let addr = self.call_count_addr(pid);
        let count = self.load(addr, 0);
        let is_hot = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, count, hot as i64);
        let drop = self.b.create_block();
        let go = self.b.create_block();
        self.b.set_cold_block(drop);
        self.branch_on(is_hot, drop, &[], go, &[]);
        self.continue_in(drop);
        self.leaf_helper(Helper::Reoptimize, &[pid]);
        self.jump(go);
        self.continue_in(go);
    }

    /// At loop header `pc` of a cold version: counts the visit, and at the `hot`-th one of
    /// this activation leaves for the interpreter, which enters a version compiled with
    /// feedback at its next back-edge (`ExitKind::Reoptimize`).
    fn count_cold_visit(&mut self, pc: usize, hot: u32) {
        let n = self.b.use_var(self.visits);
        let n1 = self.b.ins().iadd_imm_s(n, 1);
        self.b.def_var(self.visits, n1);
        let is_hot = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, n1, i64::from(hot));
        let exit = self.exit_of_kind(pc, ExitKind::Reoptimize);
        let go = self.b.create_block();
        self.branch_on(is_hot, exit, &[], go, &[]);
        self.continue_in(go);
    }

    /// At the OSR entry of loop header `pc`, when this version was compiled while the
    /// interpreter waited there: checks that every live register still has the tag it had
    /// then, and from there on treats those tags as constants, so that the loop's own type
    /// checks fold away. A mismatch leaves to the interpreter (and the next compilation is
    /// generic).
    pub(super) fn osr_entry_guards(&mut self, pc: usize) {
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

    /// At the OSR entry of loop header `pc`, another than the one the interpreter waited at
    /// (`osr_snapshot`): checks the tags the code around the snapshot's header gives the
    /// header (`known`, see `loop_types`) on entry, as the header itself does, so that every
    /// path into the header brings them as constants and its own check folds away.
    fn osr_header_guards(&mut self, pc: usize, known: &[(Reg, u8)]) {
        if self
            .input
            .osr_snapshot
            .as_ref()
            .is_some_and(|(at, _)| *at == pc)
        {
            return;
        }
        // The mutant trusts the numbers unchecked (pointers stay checked: memory safety).
        let (trusted, checked): (Vec<_>, Vec<_>) = known
            .iter()
            .partition(|&&(_, t)| tag::is_number(t) && mutant!(OsrEntryTypesUnchecked));
        self.loop_type_guards(pc, &checked);
        for (r, want) in trusted {
            self.refine_tag(r, want);
        }
    }

    /// At loop header `pc`: checks that each register in `known` has its tag, and from there
    /// on treats the tag as a constant. Where every path into the header brings the constant
    /// tag, the check folds away; a failure leaves to the interpreter, and the next
    /// compilation assumes nothing at this header.
    fn loop_type_guards(&mut self, pc: usize, known: &[(Reg, u8)]) {
        // One branch for all of them: the header stays one block, whose checks fold away
        // together.
        let mut all = None;
        for &(r, want) in known {
            // The mutant trusts numbers only: a pointer's tag trusted wrongly would not stay
            // memory-safe.
            if tag::is_number(want) && mutant!(LoopTypesUnchecked) {
                continue;
            }
            let (t, _) = self.get(r);
            let ok = self.tag_is(t, want);
            all = Some(match all {
                Some(so_far) => self.both(so_far, ok),
                None => ok,
            });
        }
        if let Some(ok) = all {
            let exit = self.exit_of_kind(pc, ExitKind::LoopTypes);
            let cont = self.b.create_block();
            self.branch_on(ok, cont, &[], exit, &[]);
            self.continue_in(cont);
        }
        for &(r, want) in known {
            self.refine_tag(r, want);
        }
    }

    /// Translates the instructions marked in `live_code`, then the out-of-line exits. Each
    /// loop header first checks the tags `types` gives it (see `loop_types`).
    pub(super) fn body(&mut self, live_code: &[bool], types: &LoopTypes) -> Result<(), String> {
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
                self.upval_reads.clear();
                if let Some(known) = types.get(&pc) {
                    self.loop_type_guards(pc, known);
                }
                if let Some(cold) = self.input.cold
                    && self.headers.contains(&pc)
                {
                    self.count_cold_visit(pc, cold.visits);
                }
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
}

/// Block leaders of `proto` (entry, branch targets, instructions after a branch or a
/// terminator, handler targets) and its loop headers (the targets of back-edges, where OSR
/// can enter), from `analysis::successors`.
pub(super) fn leaders_of(proto: &Proto) -> (FxHashSet<usize>, Vec<usize>) {
    let code = &proto.code;
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
        if op.is_back_edge() {
            osr.push(target(pc, op.jump().expect("a back-edge jumps")));
        }
    }
    for h in &proto.handlers {
        leaders.insert(h.target as usize);
    }
    leaders.retain(|&pc| pc < code.len());
    osr.sort_unstable();
    osr.dedup();
    (leaders, osr)
}
