//! Property reads and writes through inline caches: speculated for one shape (a checked
//! shape and a constant slot), generic through the cache record, else the helper.

use super::*;

impl Translator<'_> {
    /// Speculates that register `r` holds an instance of shape `shape` (leaving at `pc`
    /// otherwise) and returns the address of its field slots. Checks already made since the
    /// last helper call are not repeated.
    pub(super) fn instance_of_shape(&mut self, pc: usize, r: Reg, shape: u32) -> Value {
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
    pub(super) fn ic_record(&mut self, ic: IcIdx) -> Value {
        let ics = self.load(self.vm, abi::M_ICS);
        self.b
            .ins()
            .iadd_imm_s(ics, (self.input.icb + ic.0 as usize) as i64 * abi::IC_SIZE)
    }

    /// The VM-wide index of cache `ic` as a helper argument (-1: none).
    /// The start of an inline-cache lookup for the value `(t, p)`: leaves for `slow` unless it
    /// is an instance, then gives its shape, the cache record of `ic` and the shape the
    /// cache holds now.
    pub(super) fn ic_probe(
        &mut self,
        t: Value,
        p: Value,
        ic: IcIdx,
        slow: Block,
    ) -> (Value, Value, Value) {
        let is_inst = self.tag_is(t, tag::INSTANCE);
        let c1 = self.b.create_block();
        self.branch_on(is_inst, c1, &[], slow, &[]);
        self.continue_in(c1);
        let shape = self.load32(p, layout::INSTANCE_SHAPE);
        let rec = self.ic_record(ic);
        let ic_shape = self.load32(rec, abi::IC_SHAPE);
        (shape, rec, ic_shape)
    }

    pub(super) fn ic_arg(&mut self, ic: IcIdx) -> Value {
        let v = if ic == IcIdx::NONE {
            -1
        } else {
            (self.input.icb + ic.0 as usize) as i64
        };
        self.iconst(v)
    }

    pub(super) fn get_prop(
        &mut self,
        pc: usize,
        a: Reg,
        b: Reg,
        m: crate::symbol::Symbol,
        ic: IcIdx,
    ) {
        if ic != IcIdx::NONE {
            let entry = self.input.ics[ic.0 as usize];
            if self.input.mode == Mode::Speculative
                && entry.shape.0 != u32::MAX
                && entry.method.is_none()
            {
                self.note_speculation(pc);
                let slots = self.instance_of_shape(pc, b, entry.shape.0);
                let (vt, vp) = self.load_value(slots, abi::value_at(entry.slot));
                self.set(a, vt, vp);
                return;
            }
        }
        let (t, p) = self.get(b);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        if ic != IcIdx::NONE {
            // Whatever the cache holds now: compare with it at run time.
            let (shape, rec, ic_shape) = self.ic_probe(t, p, ic, slow);
            let method = self.load(rec, abi::IC_METHOD);
            let same = self.b.ins().icmp(IntCC::Equal, shape, ic_shape);
            let field = self.b.ins().icmp_imm_s(IntCC::Equal, method, 0);
            let hit = self.both(same, field);
            let c2 = self.b.create_block();
            self.branch_on(hit, c2, &[], slow, &[]);
            self.continue_in(c2);
            let slot = self.load32(rec, abi::IC_SLOT);
            let slots = self.load(p, layout::INSTANCE_SLOTS);
            let rel = self.b.ins().ishl_imm_s(slot, abi::VALUE_SHIFT);
            let addr = self.b.ins().iadd(slots, rel);
            let (vt, vp) = self.load_value(addr, 0);
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
        let st = self.helper(Helper::GetProp, &[d, o, sym, icv]);
        self.check_status(pc, st);
        self.reload(a);
        self.jump(done);
        self.b.switch_to_block(done);
    }

    pub(super) fn set_prop(
        &mut self,
        pc: usize,
        a: Reg,
        b: Reg,
        m: crate::symbol::Symbol,
        ic: IcIdx,
    ) {
        if ic != IcIdx::NONE {
            let entry = self.input.ics[ic.0 as usize];
            if self.input.mode == Mode::Speculative
                && entry.shape.0 != u32::MAX
                && entry.method.is_none()
                && entry.next == entry.shape
            {
                self.note_speculation(pc);
                // A store to an existing field: the shape stays.
                let slots = self.instance_of_shape(pc, a, entry.shape.0);
                let (vt, vp) = self.get(b);
                self.store_value(vt, vp, slots, abi::value_at(entry.slot));
                return;
            }
        }
        let (t, p) = self.get(a);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        let entry = (ic != IcIdx::NONE).then(|| self.input.ics[ic.0 as usize]);
        if let Some(entry) = entry
            && self.input.mode == Mode::Speculative
            && entry_adds_field(entry)
        {
            self.note_speculation(pc);
            self.add_field(pc, a, b, entry, slow);
            self.jump(done);
        } else if ic != IcIdx::NONE {
            // Only stores to an existing field are done inline; adding one takes the helper.
            let (shape, rec, ic_shape) = self.ic_probe(t, p, ic, slow);
            let ic_next = self.load32(rec, abi::IC_NEXT);
            let same = self.b.ins().icmp(IntCC::Equal, shape, ic_shape);
            let stays = self.b.ins().icmp(IntCC::Equal, shape, ic_next);
            let hit = self.both(same, stays);
            let c2 = self.b.create_block();
            self.branch_on(hit, c2, &[], slow, &[]);
            self.continue_in(c2);
            let slot = self.load32(rec, abi::IC_SLOT);
            let slots = self.load(p, layout::INSTANCE_SLOTS);
            let rel = self.b.ins().ishl_imm_s(slot, abi::VALUE_SHIFT);
            let addr = self.b.ins().iadd(slots, rel);
            let (vt, vp) = self.get(b);
            self.store_value(vt, vp, addr, 0);
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
        let st = self.helper(Helper::SetProp, &[o, sym, v, icv]);
        self.check_status(pc, st);
        self.jump(done);
        self.b.switch_to_block(done);
    }

    /// `R[a].m = R[b]` adding the field that cache `entry` says this site added to instances
    /// of its shape before (speculating on that shape, leaving at `pc` otherwise), as
    /// `Vm::set_prop` does when the instance has room for it: the value goes after the last
    /// field, the count grows, the shape becomes the cached one. When the instance must grow
    /// (which accounts bytes) or the collector is due at the safepoint that follows, `slow`.
    fn add_field(&mut self, pc: usize, a: Reg, b: Reg, entry: Ic, slow: Block) {
        let slots = self.instance_of_shape(pc, a, entry.shape.0);
        let (_, p) = self.get(a);
        let len = self.load32(p, layout::INSTANCE_LEN);
        let cap = self.load32(p, layout::INSTANCE_CAPACITY);
        let room = self.b.ins().icmp(IntCC::UnsignedLessThan, len, cap);
        let no_collection = self.collection_not_due();
        let ok = self.b.ins().band(room, no_collection);
        let add = self.b.create_block();
        self.branch_on(ok, add, &[], slow, &[]);
        self.continue_in(add);
        let off = self.b.ins().ishl_imm_s(len, abi::VALUE_SHIFT);
        let at = self.b.ins().iadd(slots, off);
        let (vt, vp) = self.get(b);
        self.store_value(vt, vp, at, 0);
        let len1 = self.b.ins().iadd_imm_s(len, 1);
        self.store32(len1, p, layout::INSTANCE_LEN);
        if !mutant!(FieldAddShapeKept) {
            let next = self.iconst(entry.next.0 as i64);
            self.store32(next, p, layout::INSTANCE_SHAPE);
        }
        // The shape checked above is no longer the instance's.
        self.objects.remove(&p);
    }
}

/// Whether cache `entry` records a field added (a transition from one shape to the next).
fn entry_adds_field(entry: Ic) -> bool {
    entry.shape.0 != u32::MAX && entry.method.is_none() && entry.next != entry.shape
}
