//! Property reads and writes through inline caches: speculated for one shape (a checked
//! shape and a constant slot), generic through the cache record, else the helper.

use super::*;

impl Translator<'_> {
    /// Speculates that register `r` holds an instance of shape `shape` (leaving at `pc`
    /// otherwise) and returns the address of its field slots.
    pub(super) fn instance_of_shape(&mut self, pc: usize, r: Reg, shape: u32) -> Value {
        self.instance_in(pc, r, ShapeSet::one(shape)).0
    }

    /// Speculates that register `r` holds an instance whose shape is one of `shapes` (leaving
    /// at `pc` otherwise). Returns the address of its field slots, and its shape: the one
    /// possible, or the value read at run time. Checks already made since the last helper
    /// call or block start are not repeated.
    fn instance_in(&mut self, pc: usize, r: Reg, shapes: ShapeSet) -> (Value, Result<u32, Value>) {
        let (t, p) = self.get(r);
        let is_inst = self.tag_is(t, tag::INSTANCE);
        self.guard(pc, is_inst);
        self.refine_tag(r, tag::INSTANCE);
        if let Some((known, slots)) = self.objects.get(&p).copied()
            && known.within(&shapes)
        {
            let actual = match known.ids() {
                [one] => Ok(*one),
                _ => Err(self.load32(p, layout::INSTANCE_SHAPE)),
            };
            return (slots, actual);
        }
        let actual = self.load32(p, layout::INSTANCE_SHAPE);
        let mut ok = None;
        for &s in shapes.ids() {
            let is = self.b.ins().icmp_imm_s(IntCC::Equal, actual, s as i64);
            ok = Some(match ok {
                Some(so_far) => self.b.ins().bor(so_far, is),
                None => is,
            });
        }
        self.guard(pc, ok.expect("a shape set is never empty"));
        let slots = self.load(p, layout::INSTANCE_SLOTS);
        self.objects.insert(p, (shapes, slots));
        let actual = match shapes.ids() {
            [one] => Ok(*one),
            _ => Err(actual),
        };
        (slots, actual)
    }

    /// The shapes a property site is compiled for, with the field's slot in each: the
    /// cache's field entry and, for a site that met instances of several shapes, the field
    /// entries it held before (see `IcHistory`). None unless the cache holds a field entry.
    fn site_fields(&self, ic: IcIdx) -> Option<Fields> {
        let entry = self.input.ics[ic.0 as usize];
        if entry.shape.0 == u32::MAX || entry.method.is_some() || entry.next != entry.shape {
            return None;
        }
        let mut f = Fields {
            shapes: ShapeSet::one(entry.shape.0),
            slots: vec![(entry.shape.0, entry.slot)],
        };
        if let Some(h) = self.input.ic_history.get(&(self.input.icb + ic.0 as usize)) {
            for &(s, slot) in h.entries() {
                if f.shapes.add(s.0) {
                    f.slots.push((s.0, slot));
                }
            }
        }
        Some(f)
    }

    /// The address of the field `fields` describes in the instance register `r` holds
    /// (checked, leaving at `pc` otherwise), and the offset to add to it.
    fn field_of(&mut self, pc: usize, r: Reg, fields: &Fields) -> (Value, i32) {
        let (slots, actual) = self.instance_in(pc, r, fields.shapes);
        let first = fields.slots[0].1;
        let same = fields.slots.iter().all(|&(_, slot)| slot == first);
        let actual = match actual {
            Ok(shape) => {
                let slot = fields
                    .slots
                    .iter()
                    .find(|&&(s, _)| s == shape)
                    .map_or(first, |f| f.1);
                return (slots, abi::value_at(slot));
            }
            Err(_) if same => return (slots, abi::value_at(first)),
            Err(a) => a,
        };
        // Several shapes with the field at different slots: pick the slot by the shape.
        let mut slot = self.iconst(first as i64);
        if mutant!(PolyFieldsFirstSlot) {
            // The bug: every shape's field read at the first shape's slot (kept within the
            // instance's fields, so that it stays memory-safe).
            let (_, p) = self.get(r);
            let len = self.load32(p, layout::INSTANCE_LEN);
            let last = self.b.ins().iadd_imm_s(len, -1);
            slot = self.b.ins().umin(slot, last);
        } else {
            for &(s, at) in &fields.slots[1..] {
                let is = self.b.ins().icmp_imm_s(IntCC::Equal, actual, s as i64);
                let at = self.iconst(at as i64);
                slot = self.b.ins().select(is, at, slot);
            }
        }
        let rel = self.b.ins().ishl_imm_s(slot, abi::VALUE_SHIFT);
        (self.b.ins().iadd(slots, rel), 0)
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
        if ic != IcIdx::NONE
            && self.input.mode == Mode::Speculative
            && let Some(fields) = self.site_fields(ic)
        {
            self.note_speculation(pc);
            let (at, off) = self.field_of(pc, b, &fields);
            let (vt, vp) = self.load_value(at, off);
            self.set(a, vt, vp);
            return;
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
        self.continue_in(slow);
        let d = self.slot(a);
        let o = self.slot(b);
        let sym = self.iconst(m.0 as i64);
        let icv = self.ic_arg(ic);
        let st = self.helper(Helper::GetProp, &[d, o, sym, icv]);
        self.check_status(pc, st);
        self.reload(a);
        self.jump(done);
        self.continue_in(done);
    }

    pub(super) fn set_prop(
        &mut self,
        pc: usize,
        a: Reg,
        b: Reg,
        m: crate::symbol::Symbol,
        ic: IcIdx,
    ) {
        if ic != IcIdx::NONE
            && self.input.mode == Mode::Speculative
            && let Some(fields) = self.site_fields(ic)
        {
            self.note_speculation(pc);
            // A store to an existing field: the shape stays.
            let (at, off) = self.field_of(pc, a, &fields);
            let (vt, vp) = self.get(b);
            self.store_value(vt, vp, at, off);
            return;
        }
        let (t, p) = self.get(a);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        if let Some(entry) = adds_in_place(self.input, pc, ic) {
            self.note_speculation(pc);
            self.add_field(pc, a, b, entry, slow);
            self.jump(done);
            if self.inlining.is_some() {
                // An inlined body calls no helper: the interpreter adds the field (growing
                // the instance). No collection is due here (see `inlined_or_helper`).
                self.b.switch_to_block(slow);
                self.b.seal_block(slow);
                let exit = self.side_exit_block(pc);
                self.jump(exit);
                self.continue_in(done);
                return;
            }
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
        self.continue_in(slow);
        let o = self.slot(a);
        let sym = self.iconst(m.0 as i64);
        let v = self.slot(b);
        let icv = self.ic_arg(ic);
        let st = self.helper(Helper::SetProp, &[o, sym, v, icv]);
        self.check_status(pc, st);
        self.jump(done);
        self.continue_in(done);
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

/// The shapes a property site is compiled for, and the field's slot in each (the cache's
/// current entry first).
pub(super) struct Fields {
    shapes: ShapeSet,
    slots: Vec<(u32, u32)>,
}

/// The cache entry of the `SetProp` at `pc` (cache `ic`) of `input` when compiled code adds
/// its field in place: the cache holds a transition, and the site never left at its shape
/// check. A site that did adds fields to instances of more than one shape: the helper adds
/// them, and the function does not leave again.
pub(super) fn adds_in_place(input: &Input, pc: usize, ic: IcIdx) -> Option<Ic> {
    if ic == IcIdx::NONE || input.mode != Mode::Speculative || input.feedback[pc] & FB_NOT_INT != 0
    {
        return None;
    }
    let entry = input.ics[ic.0 as usize];
    entry_adds_field(entry).then_some(entry)
}

/// Whether cache `entry` records a field added (a transition from one shape to the next).
fn entry_adds_field(entry: Ic) -> bool {
    entry.shape.0 != u32::MAX && entry.method.is_none() && entry.next != entry.shape
}
