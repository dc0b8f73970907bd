//! The ways out of straight-line code: status checks after helpers, error exits (to a `try`
//! handler of the frame or out of it), side exits when a speculation fails, and fuel charges.
//! Exit blocks are emitted after the body, out of the hot path.

use super::*;

impl Translator<'_> {
    /// Branches to the error exit of `pc` when `failed` is nonzero.
    pub(super) fn check_status(&mut self, pc: usize, failed: Value) {
        let err = self.error_block(pc);
        let ok = self.b.create_block();
        self.branch_on(failed, err, &[], ok, &[]);
        self.continue_in(ok);
    }

    /// The block that handles an error raised at `pc`: the top frame's `try` handler if one
    /// covers `pc`, else leaving the frame with the error. Emitted after the body.
    pub(super) fn error_block(&mut self, pc: usize) -> Block {
        self.inline_unfit();
        if let Some(&b) = self.error_blocks.get(&pc) {
            return b;
        }

        let blk = self.out_of_line_block();
        self.error_blocks.insert(pc, blk);
        self.deferred.push(Deferred::Error(pc, blk));
        blk
    }

    /// The exit shared by every error raised where no handler of this frame applies (with
    /// `fuel`, running out of fuel, never catchable): its parameter is the pc + 1 to record.
    pub(super) fn shared_exit(&mut self, fuel: bool) -> Block {
        self.inline_unfit();
        let made = if fuel {
            self.shared_fuel_exit
        } else {
            self.shared_error_exit
        };
        if let Some(b) = made {
            return b;
        }
        let b = self.out_of_line_block();
        self.b.append_block_param(b, I64);
        if fuel {
            self.shared_fuel_exit = Some(b);
        } else {
            self.shared_error_exit = Some(b);
        }
        b
    }

    /// Emits the shared exits that were used.
    pub(super) fn emit_shared_exits(&mut self) {
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
            self.store32(at, self.frame, abi::FRAME_PC);
            // The frame is being left: no register needs storing.
            self.cur_pc = usize::MAX;
            self.synced_at = Some(usize::MAX);
            if fuel {
                self.helper(Helper::FuelError, &[]);
            }
            self.helper(Helper::Unwind, &[]);
            let one = self.iconst(1);
            self.b.ins().return_(&[one]);
        }
    }

    /// The block that leaves compiled code because a speculation failed at `pc`. Emitted
    /// after the body.
    pub(super) fn side_exit_block(&mut self, pc: usize) -> Block {
        if let Some(&b) = self.side_exit_blocks.get(&pc) {
            return b;
        }
        let blk = self.out_of_line_block();
        self.side_exit_blocks.insert(pc, blk);
        self.deferred
            .push(Deferred::SideExit(pc, blk, ExitKind::Guard));
        blk
    }

    /// A block that leaves compiled code at `pc` for a reason other than an instruction's
    /// own guard (`kind`: a loop header's types, two ints met by float-only arithmetic), so
    /// that the runtime widens the right feedback. Emitted after the body.
    pub(super) fn exit_of_kind(&mut self, pc: usize, kind: ExitKind) -> Block {
        debug_assert!(kind != ExitKind::Guard, "guards share `side_exit_block`");
        let blk = self.out_of_line_block();
        self.deferred.push(Deferred::SideExit(pc, blk, kind));
        blk
    }

    /// A new block for code that runs only when leaving (an exit, an error): placed after
    /// every other block, so the hot path is laid out straight and its branches fall through.
    fn out_of_line_block(&mut self) -> Block {
        let blk = self.b.create_block();
        self.b.set_cold_block(blk);
        blk
    }

    /// Emits the out-of-line blocks collected while translating the body.
    pub(super) fn emit_deferred(&mut self) {
        let mut i = 0;
        while i < self.deferred.len() {
            match self.deferred[i] {
                Deferred::Error(pc, blk) if self.input.proto.handler_for(pc).is_none() => {
                    // No handler here: the frame is left, and only the pc differs between
                    // sites, so they share one exit. Its changed registers are not stored:
                    // nothing reads them once the frame is gone. Until then (a collection
                    // while the error is raised) an unstored slot holds an older value, which
                    // is safe to mark: every collection clears the slots it does not root.
                    self.b.switch_to_block(blk);
                    let shared = self.shared_exit(false);
                    let recorded = mutants::recorded_error_pc(pc, self.input.proto.code.len());
                    let at = self.iconst(recorded as i64 + 1);
                    self.jump_with(shared, &[at.into()]);
                }
                Deferred::Error(pc, blk) => {
                    self.b.switch_to_block(blk);
                    self.cur_pc = pc;
                    // Caught here or not, the interpreter goes on with these slots.
                    let handler = self.input.proto.handler_for(pc).copied();
                    self.sync_all(pc);
                    let r = self.helper(Helper::Unwind, &[]);
                    match handler {
                        Some(h) => {
                            let caught = self.b.create_block();
                            let leave = self.b.create_block();
                            self.branch_on(r, leave, &[], caught, &[]);
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
                Deferred::SideExit(pc, blk, kind) => {
                    self.b.switch_to_block(blk);
                    self.cur_pc = pc;
                    self.synced_at = None;
                    // A header's checks run before its instruction charges anything.
                    if !matches!(kind, ExitKind::LoopTypes | ExitKind::Reoptimize)
                        && self.charged_before_guards.contains(&pc)
                        && !mutant!(WhileTestRecharged)
                    {
                        // The interpreter runs the instruction again from its start, charging
                        // its unit again: the unit compiled code charged is given back.
                        let f = self.b.use_var(self.fuel);
                        let f1 = self.b.ins().iadd_imm_s(f, 1);
                        self.b.def_var(self.fuel, f1);
                    }
                    if kind == ExitKind::Reoptimize && mutant!(ReoptimizeExitUnstored) {
                        self.synced_at = Some(pc);
                    } else if let Some(regs) =
                        mutants::side_exit_stores(&self.dirty[pc], &self.live[pc])
                    {
                        self.store_regs(&regs);
                        self.synced_at = Some(pc);
                    }
                    let p = self.iconst(pc as i64);
                    let kind = self.iconst(kind as i64);
                    let st = self.helper(Helper::SideExit, &[p, kind]);
                    self.b.ins().return_(&[st]);
                }
            }
            i += 1;
        }
    }

    /// Leaves to the interpreter unless `ok` holds.
    pub(super) fn guard(&mut self, pc: usize, ok: Value) {
        let exit = self.side_exit_block(pc);
        let cont = self.b.create_block();
        self.branch_on(ok, cont, &[], exit, &[]);
        self.continue_in(cont);
    }

    /// The feedback by which the arithmetic or comparison at `pc`, of operands tagged `tags`,
    /// is compiled (`feedback_with_tags` of what the translation knows of the tags).
    pub(super) fn operand_feedback(&self, pc: usize, tags: &[Value]) -> u8 {
        let known = tags.iter().map(|&t| self.known_tag(t));
        feedback_with_tags(self.input.feedback[pc], known)
    }

    /// Whether the instruction at `pc` may be compiled assuming int operands.
    /// `fb` is the instruction's feedback, or what `operand_feedback` makes of it.
    pub(super) fn speculate_int(&mut self, pc: usize, fb: u8) -> bool {
        let yes = self.input.mode == Mode::Speculative && ints_only(fb);
        if yes {
            self.note_speculation(pc);
        }
        yes
    }

    /// Whether the instruction at `pc` may be compiled assuming number operands (ints and
    /// floats inline, anything else leaving): it saw numbers other than two ints, and nothing
    /// else.
    pub(super) fn speculate_num(&mut self, pc: usize, fb: u8) -> bool {
        let yes = self.input.mode == Mode::Speculative && numbers_only(fb);
        if yes {
            self.note_speculation(pc);
        }
        yes
    }

    /// Whether the arithmetic at `pc` may be compiled for floats alone (an int with a float
    /// converted, two ints leaving with `ExitKind::IntsMet`): it saw numbers other than two
    /// ints, nothing else, and never met two ints compiled so. The float result then has a
    /// known tag, so the operations that use it need no type dispatch. Not in inlined bodies,
    /// whose exits widen the callee's feedback the ordinary way.
    pub(super) fn speculate_float(&mut self, pc: usize, fb: u8) -> bool {
        let yes =
            self.input.mode == Mode::Speculative && self.inlining.is_none() && floats_only(fb);
        if yes {
            self.note_speculation(pc);
        }
        yes
    }

    /// Charges one unit of fuel, or raises FuelExhausted at `pc`.
    /// The fuel of a `while` loop's test at the end of its body (`LoopIf`, `LoopLt`...),
    /// charged first as in every tier, before the comparison's speculation guards.
    pub(super) fn loop_test_fuel(&mut self, pc: usize) {
        self.charged_before_guards.insert(pc);
        if mutant!(WhileTestFuelUnchecked) {
            self.charge_fuel_unchecked();
        } else {
            self.charge_fuel(pc);
        }
    }

    /// What the fuel mutants do instead of `charge_fuel`: count the unit down without checking
    /// for running out (the count wraps).
    pub(super) fn charge_fuel_unchecked(&mut self) {
        self.fuel_charged = true;
        let f = self.b.use_var(self.fuel);
        let f1 = self.b.ins().iadd_imm_s(f, -1);
        self.b.def_var(self.fuel, f1);
    }

    pub(super) fn charge_fuel(&mut self, pc: usize) {
        self.fuel_charged = true;
        let f = self.b.use_var(self.fuel);
        let ok = self.b.create_block();
        if self.inlining.is_some() {
            // An inlined body raises no errors: without fuel it leaves before charging, and
            // the interpreter charges the unit and raises the error.
            let exit = self.side_exit_block(pc);
            self.branch_on(f, ok, &[], exit, &[]);
            self.continue_in(ok);
            let f1 = self.b.ins().iadd_imm_s(f, -1);
            self.b.def_var(self.fuel, f1);
            return;
        }
        let empty = self.shared_exit(true);
        let at = self.iconst(pc as i64 + 1);
        self.branch_on(f, ok, &[], empty, &[at.into()]);
        self.continue_in(ok);
        let f1 = self.b.ins().iadd_imm_s(f, -1);
        self.b.def_var(self.fuel, f1);
    }
}

/// Type feedback `fb` of an arithmetic or comparison instruction, with what its operands'
/// tags (`None`: unknown) say for certain. An instruction that never ran records what one
/// that met two ints does, so code the interpreter never reached (a rare branch, such as a
/// list's growth) would be compiled for ints even where an operand is known to be something
/// else, and its first run would be a certain exit: two such exits make the whole function
/// generic. With an operand known not to be a number it is compiled as one that met a
/// non-number (the helper; the interpreter records the same when it runs it); with one known
/// to be a float, as one that met a float. The translator and the loop-header analysis both
/// decide by this.
pub(super) fn feedback_with_tags(fb: u8, tags: impl IntoIterator<Item = Option<u8>>) -> u8 {
    let mut out = fb;
    for t in tags.into_iter().flatten() {
        if t == tag::FLOAT {
            out |= FB_NOT_INT;
        } else if !tag::is_number(t) {
            return fb | FB_NOT_INT | FB_NOT_NUM;
        }
    }
    out
}

/// Whether type feedback `fb` lets its instruction be compiled for two ints alone (the
/// translator's `speculate_int` and the loop-header types both decide by it).
pub(super) fn ints_only(fb: u8) -> bool {
    fb & FB_NOT_INT == 0
}

/// Whether type feedback `fb` lets its instruction be compiled for numbers (`speculate_num`).
pub(super) fn numbers_only(fb: u8) -> bool {
    fb & FB_NOT_NUM == 0
}

/// Whether type feedback `fb` lets its arithmetic be compiled for floats alone
/// (`speculate_float`, outside inlined bodies).
pub(super) fn floats_only(fb: u8) -> bool {
    !ints_only(fb) && numbers_only(fb) && fb & FB_INTS_TOO == 0
}

/// An out-of-line block: the error exit or the side exit of an instruction.
#[derive(Clone, Copy)]
pub(super) enum Deferred {
    Error(usize, Block),
    SideExit(usize, Block, ExitKind),
}
