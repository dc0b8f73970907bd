//! Builtin calls (`CallNative`): `len` of a list or a string and `ord` of a one-byte string
//! without a helper call, `has` of a map and a key through the finding helper, every other
//! builtin and every other argument through the general helper. A builtin call is a safepoint
//! on every path (most builtins allocate or call back), so the registers are stored first
//! either way, and the result goes to its slot as a helper would write it.

use super::*;
use crate::runtime::builtins::ids;
use crate::syntax::ast::BuiltinId;

impl Translator<'_> {
    /// `R[a] := builtin f(R[a+1], ..., R[a+n])`.
    pub(super) fn call_native(&mut self, pc: usize, a: Reg, f: BuiltinId, n: Count) {
        if !mutant!(NativeCallFuelFree) {
            self.charge_fuel(pc);
        }
        let done = self.b.create_block();
        if (f.native() == ids::LEN || f.native() == ids::ORD) && n.0 == 1 {
            self.sync_all(pc);
            let slow = self.b.create_block();
            if f.native() == ids::LEN {
                self.len_inline(a, slow, done);
            } else {
                self.ord_inline(a, slow, done);
            }
            self.b.switch_to_block(slow);
        }
        if f.native() == ids::HAS && n.0 == 2 {
            self.sync_all(pc);
            let slow = self.b.create_block();
            self.has_inline(pc, a, slow, done);
            self.b.switch_to_block(slow);
        }
        self.save_pc(pc);
        let s = self.slot(a);
        let id = self.iconst(f.0 as i64);
        let nargs = self.iconst(n.0 as i64);
        let st = self.helper(Helper::CallNative, &[s, id, nargs]);
        if !mutant!(NativeStatusIgnored) {
            self.check_status(pc, st);
        }
        self.reload(a);
        self.jump(done);
        self.b.switch_to_block(done);
    }

    /// `R[a] := len(R[a+1])` for a list (its element count) or a string (its character
    /// count, kept in the object), then on to `done`; anything else to `slow`.
    fn len_inline(&mut self, a: Reg, slow: Block, done: Block) {
        let (t, p) = self.get(Reg(a.0 + 1));
        let list = self.b.create_block();
        let not_list = self.b.create_block();
        let string = self.b.create_block();
        let is_list = self.tag_is(t, tag::LIST);
        self.branch_on(is_list, list, &[], not_list, &[]);
        self.b.switch_to_block(list);
        let len = self.load(p, layout::list_items().len);
        self.result_to_slot(a, len);
        self.jump(done);
        self.b.switch_to_block(not_list);
        let is_str = self.tag_is(t, tag::STR);
        self.branch_on(is_str, string, &[], slow, &[]);
        self.b.switch_to_block(string);
        let at = if mutant!(LenCountsBytes) {
            layout::str_text().len
        } else {
            layout::STR_CHARS
        };
        let chars = self.load(p, at);
        self.result_to_slot(a, chars);
        self.jump(done);
    }

    /// `R[a] := ord(R[a+1])` for a string of one byte (an ASCII character), then on to
    /// `done`; anything else (other characters, other lengths, errors) to `slow`.
    fn ord_inline(&mut self, a: Reg, slow: Block, done: Block) {
        let (t, p) = self.get(Reg(a.0 + 1));
        let is_str = self.tag_is(t, tag::STR);
        let string = self.b.create_block();
        self.branch_on(is_str, string, &[], slow, &[]);
        self.b.switch_to_block(string);
        let text = layout::str_text();
        let bytes = self.load(p, text.len);
        let one = if mutant!(OrdIgnoresLength) {
            self.b.ins().icmp_imm_s(IntCC::NotEqual, bytes, 0)
        } else {
            self.b.ins().icmp_imm_s(IntCC::Equal, bytes, 1)
        };
        let byte_b = self.b.create_block();
        self.branch_on(one, byte_b, &[], slow, &[]);
        self.b.switch_to_block(byte_b);
        let data = self.load(p, text.ptr);
        let byte = self.b.ins().uload8(I64, flags(), data, 0);
        self.result_to_slot(a, byte);
        self.jump(done);
    }

    /// `R[a] := has(R[a+1], R[a+2])` for a map and an int or string key, found by the
    /// finding helper, then on to `done`; anything else (the errors) to `slow`.
    fn has_inline(&mut self, pc: usize, a: Reg, slow: Block, done: Block) {
        let key = Reg(a.0 + 2);
        let (tk, _) = self.get(key);
        let is_int = self.tag_is(tk, tag::INT);
        let is_str = self.tag_is(tk, tag::STR);
        let ok = if mutant!(HasKeyKindUnchecked) {
            self.b.ins().iconst(types::I8, 1)
        } else {
            self.b.ins().bor(is_int, is_str)
        };
        let keyed = self.b.create_block();
        self.branch_on(ok, keyed, &[], slow, &[]);
        self.continue_in(keyed);
        let absent = self.b.create_block();
        self.map_value(pc, Reg(a.0 + 1), key, slow, absent);
        let yes = self.tag_val(tag::TRUE);
        // `iconst 0` of the entry block: it dominates both results.
        let zero = self.tag_consts[0];
        self.result_value_to_slot(a, yes, zero);
        self.jump(done);
        self.b.switch_to_block(absent);
        let no = self.tag_val(tag::FALSE);
        self.result_value_to_slot(a, no, zero);
        self.jump(done);
    }

    /// Writes the int `v` to register `a` and its slot, as a helper would.
    fn result_to_slot(&mut self, a: Reg, v: Value) {
        let it = self.tag_val(tag::INT);
        self.result_value_to_slot(a, it, v);
    }
}
