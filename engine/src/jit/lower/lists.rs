//! List elements read and written in place (`l[i]`, `l[i] = v` on a list and an int index in
//! range), map values found by a helper that needs no safepoint and read or updated in place,
//! and a character of an ASCII string (`s[i]`: the shared one-character string); everything
//! else (other strings, new map keys, errors) through the helpers. Where the interpreter
//! only ever took the list path, compiled code speculates on it: anything else leaves, and
//! no helper call is compiled.

use super::*;

/// The value an element assignment stores.
#[derive(Clone, Copy)]
pub(super) enum Stored {
    /// A register (`SetIndex`).
    Reg(Reg),
    /// A constant of the function (`SetIndexK`).
    Const(ConstIdx),
}

impl Translator<'_> {
    /// `R[a] := R[b][R[c]]`.
    pub(super) fn get_index(&mut self, pc: usize, a: Reg, b: Reg, c: Reg) {
        // The list and map paths are no safepoint (as in the interpreter): the registers
        // stay in variables, stored only where a helper or an exit needs them.
        if self.speculate_list(pc) {
            let exit = self.side_exit_block(pc);
            let elem = self.list_element(b, c, exit, exit, mutant!(ListGetNegativeWraps));
            let (t, p) = self.load_value(elem, 0);
            self.set(a, t, p);
            return;
        }
        let slow = self.b.create_block();
        let done = self.b.create_block();
        let not_list = self.b.create_block();
        let elem = self.list_element(b, c, not_list, slow, mutant!(ListGetNegativeWraps));
        let (t, p) = self.load_value(elem, 0);
        self.set(a, t, p);
        self.jump(done);
        self.b.switch_to_block(slow);
        let d = self.slot(a);
        let o = self.slot(b);
        let i = self.slot(c);
        let st = self.helper(Helper::GetIndex, &[d, o, i]);
        self.check_status(pc, st);
        self.reload(a);
        self.jump(done);
        // Maps and strings after the helper call, out of the way of the list path.
        self.continue_in(not_list);
        let not_map = self.b.create_block();
        let value = self.map_value(pc, b, c, not_map, slow);
        let (t, p) = self.load_value(value, 0);
        self.set(a, t, p);
        self.jump(done);
        self.continue_in(not_map);
        self.ascii_char(a, b, c, slow, done);
        self.continue_in(done);
    }

    /// Whether the indexing instruction at `pc` may be compiled for its list path alone: the
    /// interpreter never left that path there (the feedback bit that says "not ints" for
    /// arithmetic says "not the list path" for indexing).
    fn speculate_list(&mut self, pc: usize) -> bool {
        self.speculate_int(pc, self.input.feedback[pc])
    }

    /// `R[a][R[b]] := v`, `v` a register (`SetIndex`) or a constant (`SetIndexK`, stored
    /// inline and passed to the helper by its index in the VM's pool).
    pub(super) fn set_index(&mut self, pc: usize, a: Reg, b: Reg, v: Stored) {
        let speculative = self.speculate_list(pc);
        // No safepoint but on the helper's path, as in `get_index`.
        let slow = if speculative {
            self.side_exit_block(pc)
        } else {
            self.b.create_block()
        };
        let not_list = if speculative {
            slow
        } else {
            self.b.create_block()
        };
        let elem = self.list_element(a, b, not_list, slow, mutant!(ListSetNegativeWraps));
        self.store_stored(v, elem);
        if speculative {
            return;
        }
        let done = self.b.create_block();
        self.jump(done);
        // An existing key of a map is updated in place; a new key takes the helper, which
        // accounts the entry.
        self.continue_in(not_list);
        let value = self.map_value(pc, a, b, slow, slow);
        self.store_stored(v, value);
        self.jump(done);
        self.continue_in(slow);
        let o = self.slot(a);
        let i = self.slot(b);
        let (v, from_pool) = match v {
            Stored::Reg(c) => (self.slot(c), 0),
            Stored::Const(k) => {
                let at = mutants::set_index_k_pool_index(self.input.kbase, k.0 as usize);
                (self.iconst(at as i64), 1)
            }
        };
        let from_pool = self.iconst(from_pool);
        let st = self.helper(Helper::SetIndex, &[o, i, v, from_pool]);
        self.check_status(pc, st);
        self.jump(done);
        self.continue_in(done);
    }

    /// `IterNext`: the next element of a list in place (the cursor in `R[a + 1]` below the
    /// list's length, read afresh each time, as the interpreter does); maps and strings
    /// through the helper. To `done` when the iteration is over.
    pub(super) fn iter_next(&mut self, pc: usize, a: Reg, b: Reg, done: usize) {
        let cursor = Reg(a.0 + 1);
        // No safepoint but on the helper's path, as in `get_index`. The cursor is stored at
        // once (the register analysis knows of one register written, the element's).
        let done = self.block_at(done);
        let generic = self.b.create_block();
        let next = self.b.create_block();
        let (tl, pl) = self.get(a);
        let is_list = self.tag_is(tl, tag::LIST);
        let typed = self.b.create_block();
        self.branch_on(is_list, typed, &[], generic, &[]);
        self.continue_in(typed);
        // `IterPrep` made the cursor an int, and only `IterNext` changes it.
        let (_, cur) = self.get(cursor);
        let at = layout::list_items();
        let len = self.load(pl, at.len);
        // The mutant compares the next cursor instead (never reading out of bounds).
        let probe = if mutant!(IterListSkipsLast) {
            self.b.ins().iadd_imm_s(cur, 1)
        } else {
            cur
        };
        let elem = self.element_below(pl, cur, probe, len, done);
        let (t, p) = self.load_value(elem, 0);
        self.set(b, t, p);
        let after = self.b.ins().iadd_imm_s(cur, 1);
        let int = self.tag_val(tag::INT);
        self.result_value_to_slot(cursor, int, after);
        self.jump(next);
        self.continue_in(generic);
        let s = self.slot(a);
        let d = self.slot(b);
        let r = self.helper(Helper::IterNext, &[s, d]);
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, r, 2);
        self.check_status(pc, failed);
        let got = self.b.create_block();
        self.branch_on(r, got, &[], done, &[]);
        self.continue_in(got);
        self.reload(b);
        self.reload(cursor);
        self.jump(next);
        self.continue_in(next);
    }

    /// Stores what an element assignment stores at `addr`.
    fn store_stored(&mut self, v: Stored, addr: Value) {
        let (t, p) = match v {
            Stored::Reg(c) => self.get(c),
            Stored::Const(k) => self.const_value(k),
        };
        self.store_value(t, p, addr, 0);
    }

    /// The address of the value `R[key]` has in the map in `R[map]`, in a block that
    /// continues the current one; to `not_map` when `R[map]` is not a map, to `slow` when the
    /// key has no entry or is not a key (the helper then reads, inserts or raises). The
    /// finding helper needs no safepoint; it reads the map and the key from their slots, so
    /// those two are stored first if they may differ from them.
    pub(super) fn map_value(
        &mut self,
        pc: usize,
        map: Reg,
        key: Reg,
        not_map: Block,
        slow: Block,
    ) -> Value {
        let (tm, _) = self.get(map);
        let is_map = self.tag_is(tm, tag::MAP);
        let typed = self.b.create_block();
        self.branch_on(is_map, typed, &[], not_map, &[]);
        self.continue_in(typed);
        // `has` stored every register already (`synced_at`).
        if !mutant!(MapKeyUnstored) && self.synced_at != Some(pc) {
            for r in [map, key] {
                if self.dirty[pc].contains(r.0 as usize) {
                    self.store_reg(r);
                }
            }
        }
        let m = self.slot(map);
        let k = self.slot(key);
        let addr = self.leaf_helper(Helper::MapValue, &[m, k]);
        // 0: no entry; `STATUS_ERR` (1): the helper panicked, an internal error is pending.
        let found = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, addr, 1);
        let inside = self.b.create_block();
        let miss = self.b.create_block();
        self.branch_on(found, inside, &[], miss, &[]);
        self.continue_in(miss);
        self.save_pc(pc);
        let failed = self.b.ins().icmp_imm_u(IntCC::Equal, addr, 1);
        self.check_status(pc, failed);
        self.jump(slow);
        self.continue_in(inside);
        addr
    }

    /// `R[a] := R[s][R[index]]` for an ASCII string (character index = byte index) and an
    /// int index in range: the shared one-character string of that byte, as the interpreter
    /// gives (`Heap::ascii_char`); then on to `done`. Anything else to `slow`, and so is a
    /// due collection: the interpreter's string indexing is a safepoint.
    fn ascii_char(&mut self, a: Reg, s: Reg, index: Reg, slow: Block, done: Block) {
        let (ts, ps) = self.get(s);
        let (ti, i) = self.get(index);
        let is_str = self.tag_is(ts, tag::STR);
        let is_int = self.tag_is(ti, tag::INT);
        let ok = self.both(is_str, is_int);
        let typed = self.b.create_block();
        self.branch_on(ok, typed, &[], slow, &[]);
        self.continue_in(typed);
        let text = layout::str_text();
        let chars = self.load(ps, layout::STR_CHARS);
        let bytes = self.load(ps, text.len);
        // As many characters as bytes: every byte is an ASCII character (valid UTF-8).
        let ascii = self.b.ins().icmp(IntCC::Equal, chars, bytes);
        let i = if mutant!(StrIndexNegativeWraps) {
            let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, i, 0);
            let from_end = self.b.ins().iadd(i, chars);
            self.b.ins().select(neg, from_end, i)
        } else {
            i
        };
        let in_range = self.b.ins().icmp(IntCC::UnsignedLessThan, i, chars);
        let ok = self.b.ins().band(ascii, in_range);
        let calm = self.collection_not_due();
        let ok = self.b.ins().band(ok, calm);
        let inside = self.b.create_block();
        self.branch_on(ok, inside, &[], slow, &[]);
        self.continue_in(inside);
        let data = self.load(ps, text.ptr);
        let at = self.b.ins().iadd(data, i);
        let byte = self.b.ins().uload8(I64, flags(), at, 0);
        let shared = self.load(self.vm, abi::HEAP_SHARED);
        let index = self.b.ins().iadd_imm_s(byte, 1);
        let off = self.b.ins().imul_imm_s(index, layout::SHARED_STR_SIZE);
        let p = self.b.ins().iadd(shared, off);
        let st = self.tag_val(tag::STR);
        self.set(a, st, p);
        self.jump(done);
    }

    /// Writes `(t, p)` to register `a` and its slot, as a helper would.
    pub(super) fn result_value_to_slot(&mut self, a: Reg, t: Value, p: Value) {
        let (regs, at) = self.reg_addr(a);
        self.store_value(t, p, regs, at);
        self.define(a, t, p);
    }

    /// The address of element `R[index]` of the list in `R[list]`, in a block that continues
    /// the current one; to `not_list` when `R[list]` is not a list or `R[index]` not an int,
    /// to `slow` when the index is out of range (the helper then does whatever the operation
    /// does there). `wraps`: the mutants' bug, a negative index counting from the end.
    fn list_element(
        &mut self,
        list: Reg,
        index: Reg,
        not_list: Block,
        slow: Block,
        wraps: bool,
    ) -> Value {
        let (tl, pl) = self.get(list);
        let (ti, i) = self.get(index);
        let is_list = self.tag_is(tl, tag::LIST);
        let is_int = self.tag_is(ti, tag::INT);
        let ok = self.both(is_list, is_int);
        let typed = self.b.create_block();
        self.branch_on(ok, typed, &[], not_list, &[]);
        self.continue_in(typed);
        self.refine_tag(list, tag::LIST);
        self.know_int(index);
        let at = layout::list_items();
        let len = self.load(pl, at.len);
        let i = if wraps {
            let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, i, 0);
            let from_end = self.b.ins().iadd(i, len);
            self.b.ins().select(neg, from_end, i)
        } else {
            i
        };
        self.element_below(pl, i, i, len, slow)
    }

    /// The address of element `i` of the list at `pl` (of length `len`), in a block that
    /// continues the current one when `probe` (normally `i`) is below the length; to `out`
    /// otherwise. Unsigned: a negative index is a huge one, out of range like any other.
    fn element_below(
        &mut self,
        pl: Value,
        i: Value,
        probe: Value,
        len: Value,
        out: Block,
    ) -> Value {
        let in_range = self.b.ins().icmp(IntCC::UnsignedLessThan, probe, len);
        let inside = self.b.create_block();
        self.branch_on(in_range, inside, &[], out, &[]);
        self.continue_in(inside);
        let items = self.load(pl, layout::list_items().ptr);
        let off = self.b.ins().ishl_imm_s(i, abi::VALUE_SHIFT);
        self.b.ins().iadd(items, off)
    }
}
