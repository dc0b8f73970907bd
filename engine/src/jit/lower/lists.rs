//! List elements read and written in place (`l[i]`, `l[i] = v` on a list and an int index in
//! range); everything else (strings, maps, errors) through the helpers.

use super::*;

impl Translator<'_> {
    /// `R[a] := R[b][R[c]]`.
    pub(super) fn get_index(&mut self, pc: usize, a: Reg, b: Reg, c: Reg) {
        let slow = self.b.create_block();
        let done = self.b.create_block();
        let elem = self.list_element(b, c, slow, mutant!(ListGetNegativeWraps));
        let (t, p) = self.load_value(elem, 0);
        self.set(a, t, p);
        self.jump(done);
        self.b.switch_to_block(slow);
        self.save_pc(pc);
        let d = self.slot(a);
        let o = self.slot(b);
        let i = self.slot(c);
        let st = self.helper(Helper::GetIndex, &[d, o, i]);
        self.check_status(pc, st);
        self.reload(a);
        self.jump(done);
        self.b.switch_to_block(done);
    }

    /// `R[a][R[b]] := R[c]`.
    pub(super) fn set_index(&mut self, pc: usize, a: Reg, b: Reg, c: Reg) {
        let slow = self.b.create_block();
        let done = self.b.create_block();
        let elem = self.list_element(a, b, slow, mutant!(ListSetNegativeWraps));
        let (t, p) = self.get(c);
        self.store_value(t, p, elem, 0);
        self.jump(done);
        self.b.switch_to_block(slow);
        self.save_pc(pc);
        let o = self.slot(a);
        let i = self.slot(b);
        let v = self.slot(c);
        let st = self.helper(Helper::SetIndex, &[o, i, v]);
        self.check_status(pc, st);
        self.jump(done);
        self.b.switch_to_block(done);
    }

    /// The address of element `R[index]` of the list in `R[list]`, in a block that continues
    /// the current one; to `slow` when `R[list]` is not a list, `R[index]` not an int, or the
    /// index out of range (the helper then does whatever the operation does there).
    /// `wraps`: the mutants' bug, a negative index counting from the end.
    fn list_element(&mut self, list: Reg, index: Reg, slow: Block, wraps: bool) -> Value {
        let (tl, pl) = self.get(list);
        let (ti, i) = self.get(index);
        let is_list = self.tag_is(tl, tag::LIST);
        let is_int = self.tag_is(ti, tag::INT);
        let ok = self.both(is_list, is_int);
        let typed = self.b.create_block();
        self.branch_on(ok, typed, &[], slow, &[]);
        self.b.switch_to_block(typed);
        let at = layout::list_items();
        let len = self.load(pl, at.len);
        let i = if wraps {
            let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, i, 0);
            let from_end = self.b.ins().iadd(i, len);
            self.b.ins().select(neg, from_end, i)
        } else {
            i
        };
        // Unsigned: a negative index is a huge one, out of range like any other.
        let in_range = self.b.ins().icmp(IntCC::UnsignedLessThan, i, len);
        let inside = self.b.create_block();
        self.branch_on(in_range, inside, &[], slow, &[]);
        self.b.switch_to_block(inside);
        let items = self.load(pl, at.ptr);
        let off = self.b.ins().ishl_imm_s(i, abi::VALUE_SHIFT);
        self.b.ins().iadd(items, off)
    }
}
