//! Registers in compiled code: reads and writes of the (tag, payload) variable pairs, the
//! one place a register gets a new value (`define`), and storing registers to their slots at
//! safepoints (`sync`) and where a write goes through at once.

use super::*;

impl Translator<'_> {
    pub(super) fn get(&mut self, r: Reg) -> (Value, Value) {
        if self.in_slots {
            // Every write is stored at once, so the slot is current; reading it keeps no
            // value alive across the function.
            let (addr, at) = self.reg_addr(r);
            return self.load_value(addr, at);
        }
        (
            self.b.use_var(self.tags[r.0 as usize]),
            self.b.use_var(self.pays[r.0 as usize]),
        )
    }

    /// Gives register `r` a new value. Every write of a register's variables goes through
    /// here (instructions' results, results reloaded from slots after a helper or call, OSR
    /// and handler entries), so that whatever was known about the old value is forgotten in
    /// one place. Only `refine_tag` redefines a variable otherwise, for the same value.
    pub(super) fn define(&mut self, r: Reg, t: Value, p: Value) {
        if mutant!(ShapeCheckSurvivesWrite) && !self.in_slots {
            // The bug this mutant models: shape checks kept per register, not per value.
            let old = self.b.use_var(self.pays[r.0 as usize]);
            if let Some(&fact) = self.objects.get(&old) {
                self.objects.insert(p, fact);
            }
        }
        self.b.def_var(self.tags[r.0 as usize], t);
        self.b.def_var(self.pays[r.0 as usize], p);
        self.facts.forget(r);
    }

    /// Records that register `r`, unchanged, has tag `t` (a guard just checked it), so later
    /// checks of it fold away. The value is the same, so the other facts about it stay.
    pub(super) fn refine_tag(&mut self, r: Reg, t: u8) {
        let known = self.tag_val(t);
        self.b.def_var(self.tags[r.0 as usize], known);
    }

    /// Writes a register: the variables and, where the instruction writes through (see
    /// `stored_at_write`), the slot.
    pub(super) fn set(&mut self, r: Reg, t: Value, p: Value) {
        self.define(r, t, p);
        if self.stored.get(self.cur_pc) == Some(&true) {
            debug_assert_eq!(
                written_register(&self.input.proto.code[self.cur_pc]),
                Some(r),
                "an instruction wrote a register other than its destination"
            );
            // A register no later instruction reads before writing it again is left in its
            // variables: the collector does not root its slot (see `sync`).
            let dropped = !self.live_after(self.cur_pc, r)
                || (cfg!(feature = "mutants")
                    && mutants::drops_write_through(self.known_tag(t) == Some(tag::INT)));
            if !dropped {
                let (addr, at) = self.reg_addr(r);
                self.store_value(t, p, addr, at);
            }
        }
    }

    /// Stores the dirty registers at `pc` on a path that dominates the rest of the
    /// instruction (before a call, whose arguments the callee reads from their slots).
    pub(super) fn sync_all(&mut self, pc: usize) {
        self.sync(pc);
        self.synced_at = Some(pc);
    }

    /// Stores every register that may differ from its slot at instruction `pc` and that the
    /// collector roots while it runs (`roots_while_running`: its operands, and the registers
    /// live after it): after this those slots hold what the interpreter's would. The others
    /// are dead, and the collector clears them whatever they hold.
    pub(super) fn sync(&mut self, pc: usize) {
        let roots = roots_while_running(self.input.proto, &self.live, pc);
        let regs = mutants::synced_registers(&self.dirty[pc], &roots, || {
            live_after(self.input.proto, &self.live, pc)
        });
        self.store_regs(&regs);
    }

    pub(super) fn store_regs(&mut self, regs: &RegSet) {
        for r in regs.iter() {
            self.store_reg(Reg(r as u16));
        }
    }

    /// Stores register `r` to its slot (for a helper that reads it there).
    pub(super) fn store_reg(&mut self, r: Reg) {
        let (t, p) = self.get(r);
        let (addr, at) = self.reg_addr(r);
        self.store_value(t, p, addr, at);
    }

    /// Whether register `r` is live after instruction `pc` (read on some path before being
    /// written again).
    pub(super) fn live_after(&self, pc: usize, r: Reg) -> bool {
        live_after(self.input.proto, &self.live, pc).contains(r.0 as usize)
    }

    pub(super) fn set_const(&mut self, r: Reg, t: u8, p: i64) {
        let t = self.tag_val(t);
        let p = self.iconst(p);
        self.set(r, t, p);
    }

    /// Re-reads a register from its slot (after a helper or call wrote it).
    pub(super) fn reload(&mut self, r: Reg) {
        let (addr, at) = self.reg_addr(r);
        let (t, p) = self.load_value(addr, at);
        if mutant!(ReloadKeepsFacts) {
            // The bug this mutant models: the result overwrote the register, but what was
            // known about its old value (such as the callee of `f(x)(y)`) survives.
            self.b.def_var(self.tags[r.0 as usize], t);
            self.b.def_var(self.pays[r.0 as usize], p);
            return;
        }
        self.define(r, t, p);
    }

    /// Reloads register `r`, written by a helper that always leaves a value of tag `t`
    /// there (a new list, map or closure): the tag is known, so the operations on it
    /// need no type dispatch, and arithmetic on it is not compiled for numbers.
    pub(super) fn reload_as(&mut self, r: Reg, t: u8) {
        self.reload(r);
        self.refine_tag(r, t);
    }

    pub(super) fn save_pc(&mut self, pc: usize) {
        let v = self.iconst(pc as i64 + 1);
        self.store32(v, self.frame, abi::FRAME_PC);
    }

    /// Records that register `r` holds an int from here on (its tag was just checked), so
    /// later checks of it fold away.
    pub(super) fn know_int(&mut self, r: Reg) {
        self.refine_tag(r, tag::INT);
    }

    pub(super) fn set_bool(&mut self, a: Reg, b: Value) {
        // true is tag 2, false tag 1: 1 + b.
        let t = self.b.ins().iadd_imm_s(b, tag::FALSE as i64);
        let z = self.iconst(0);
        self.set(a, t, z);
    }

    /// Absolute stack index of register `r` of this frame.
    pub(super) fn slot(&mut self, r: Reg) -> Value {
        self.b.ins().iadd_imm_s(self.base, r.0 as i64)
    }

    pub(super) fn reg_addr(&mut self, r: Reg) -> (Value, i32) {
        let regs = self.regs;
        (regs, abi::value_at(r.0.into()))
    }
}
