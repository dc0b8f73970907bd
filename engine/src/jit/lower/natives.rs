//! Builtin calls (`CallNative`): `len` of a list or a string, `ord` of a one-byte string and
//! `push` onto a list with room without a helper call, `has` of a map and a key through the
//! finding helper, every other builtin and every other argument through the general helper.
//! A builtin call is a safepoint on every path (most builtins allocate or call back), so the
//! registers are stored first either way, and the result goes to its slot as a helper would
//! write it.

use super::*;
use crate::runtime::builtins::ids;
use crate::runtime::value::NativeId;
use crate::syntax::ast::BuiltinId;

pub(super) use crate::runtime::builtins::number_builtin;

impl Translator<'_> {
    /// `R[a] := builtin f(R[a+1], ..., R[a+n])`.
    pub(super) fn call_native(&mut self, pc: usize, a: Reg, f: BuiltinId, n: Count) {
        if self.inlining.is_some()
            && super::inline::inlined_builtin(Op::CallNative { a, f, n })
            && self.input.feedback[pc] & FB_NOT_INT == 0
        {
            if f.native() == ids::LEN {
                self.inlined_len(pc, a);
            } else {
                self.inlined_number(pc, a, f.native(), n.0);
            }
            return;
        }
        if !mutant!(NativeCallFuelFree) {
            self.charge_fuel(pc);
        }
        let done = self.b.create_block();
        if [ids::LEN, ids::ORD, ids::SQRT].contains(&f.native()) && n.0 == 1 {
            self.sync_all(pc);
            let slow = self.b.create_block();
            match f.native() {
                ids::LEN => self.len_inline(a, slow, done),
                ids::ORD => self.ord_inline(a, slow, done),
                _ => self.sqrt_inline(a, slow, done),
            }
            self.continue_in(slow);
        }
        if number_builtin(f.native(), n.0) {
            self.sync_all(pc);
            let slow = self.b.create_block();
            let (t, p) = self.number_fast(f.native(), a, n.0, slow);
            self.result_value_to_slot(a, t, p);
            self.jump(done);
            self.continue_in(slow);
        }
        if f.native() == ids::PUSH && n.0 == 2 {
            self.sync_all(pc);
            let slow = self.b.create_block();
            self.push_inline(a, slow, done);
            self.continue_in(slow);
        }
        if f.native() == ids::HAS && n.0 == 2 {
            self.sync_all(pc);
            let slow = self.b.create_block();
            self.has_inline(pc, a, slow, done);
            self.continue_in(slow);
        }
        let s = self.slot(a);
        let id = self.iconst(f.0 as i64);
        let nargs = self.iconst(n.0 as i64);
        let st = self.helper(Helper::CallNative, &[s, id, nargs]);
        if !mutant!(NativeStatusIgnored) {
            self.check_status(pc, st);
        }
        self.reload(a);
        self.jump(done);
        // Every path to `done` is emitted: sealed, it reads registers as the paths left
        // them, so tags known before the call stay known after it.
        self.continue_in(done);
    }

    /// `R[a] := len(R[a+1])` in an inlined body, for a list or a string, when there is fuel
    /// for the call; anything else leaves for the interpreter at `pc` before any fuel is
    /// charged (it charges the unit, then gives the answer or the error). A failed guard
    /// marks the instruction (`Vm::note_failed_guard`), and the next translation makes the
    /// call outside the body.
    fn inlined_len(&mut self, pc: usize, a: Reg) {
        self.note_speculation(pc);
        let exit = self.side_exit_block(pc);
        let (t, _) = self.get(Reg(a.0 + 1));
        let is_list = self.tag_is(t, tag::LIST);
        let is_str = self.tag_is(t, tag::STR);
        let known = self.b.ins().bor(is_list, is_str);
        let go = self.b.create_block();
        self.branch_on(known, go, &[], exit, &[]);
        self.continue_in(go);
        // In an inlined body the charge leaves at `exit` when no fuel is left, uncharged.
        if mutant!(InlinedLenFuelFree) {
            self.fuel_charged = true;
        } else {
            self.charge_fuel(pc);
        }
        // The registers go to their slots first, as for any builtin call: every register
        // counts as stored after one (the opcode table makes it a safepoint on every path),
        // so an exit further on stores only what changed after it. The result goes to the
        // slot too, as the helper writes it.
        if !mutant!(InlinedLenUnsynced) {
            self.sync_all(pc);
        }
        let done = self.b.create_block();
        self.len_inline(a, exit, done);
        self.continue_in(done);
    }

    /// A builtin on numbers (`number_builtin`) in an inlined body, where `number_fast`
    /// computes it; anything else leaves for the interpreter at `pc` before any fuel is
    /// charged, as `inlined_len` does.
    fn inlined_number(&mut self, pc: usize, a: Reg, f: NativeId, n: u16) {
        self.note_speculation(pc);
        let exit = self.side_exit_block(pc);
        let (t, p) = self.number_fast(f, a, n, exit);
        self.charge_fuel(pc);
        // The registers go to their slots first, as for any builtin call (see `inlined_len`).
        self.sync_all(pc);
        self.result_value_to_slot(a, t, p);
    }

    /// The result of builtin `f` on `R[a+1..=a+n]` (a `number_builtin`) on the operands
    /// `builtins::number_fast` accepts, computed as there: one number, or two of one kind
    /// for `min` and `max`. Anything else goes to `fail`. Returns the result's tag and
    /// payload, in a block that continues the current one.
    fn number_fast(&mut self, f: NativeId, a: Reg, n: u16, fail: Block) -> (Value, Value) {
        let (tx, px) = self.get(Reg(a.0 + 1));
        let (ty, py) = if n == 2 {
            self.get(Reg(a.0 + 2))
        } else {
            (tx, px)
        };
        // The kinds of operand to compute for: the one known here, or both.
        let kinds: &[u8] = match (self.known_tag(tx), self.known_tag(ty)) {
            (Some(x), Some(y)) if x == y && tag::is_number(x) => {
                if x == tag::INT {
                    &[tag::INT]
                } else {
                    &[tag::FLOAT]
                }
            }
            (Some(_), Some(_)) => &[],
            _ => &[tag::INT, tag::FLOAT],
        };
        let operands_are = |s: &mut Self, k: u8| {
            let x_is = s.tag_is(tx, k);
            let y_is = s.tag_is(ty, k);
            s.both(x_is, y_is)
        };
        if let [k] = *kinds {
            // One kind possible: no merge, so the result's tag stays a known constant.
            let is = operands_are(self, k);
            let go = self.b.create_block();
            self.branch_on(is, go, &[], fail, &[]);
            self.continue_in(go);
            return self.number_op(f, k, px, py, fail);
        }
        let merged = self.b.create_block();
        self.b.append_block_param(merged, I64);
        self.b.append_block_param(merged, I64);
        for &k in kinds {
            let is = operands_are(self, k);
            let go = self.b.create_block();
            let next = self.b.create_block();
            self.branch_on(is, go, &[], next, &[]);
            self.continue_in(go);
            let (t, p) = self.number_op(f, k, px, py, fail);
            self.jump_with(merged, &[t.into(), p.into()]);
            self.continue_in(next);
        }
        self.jump(fail);
        self.continue_in(merged);
        let params = self.b.block_params(merged);
        (params[0], params[1])
    }

    /// Builtin `f` of `px` (and `py`), both of tag `kind` (an int or a float), as
    /// `builtins::number_fast` computes it; to `fail` where it gives nothing (`abs` of
    /// i64::MIN, a rounded float out of the int range or NaN). Returns the tag and payload.
    fn number_op(
        &mut self,
        f: NativeId,
        kind: u8,
        px: Value,
        py: Value,
        fail: Block,
    ) -> (Value, Value) {
        let it = self.tag_val(tag::INT);
        let ft = self.tag_val(tag::FLOAT);
        let float = kind == tag::FLOAT;
        match f {
            ids::ABS if float => (ft, self.b.ins().band_imm_s(px, i64::MAX)),
            ids::ABS => {
                if !mutant!(AbsMinUnchecked) {
                    let min = self.b.ins().icmp_imm_s(IntCC::Equal, px, i64::MIN);
                    let ok = self.b.create_block();
                    self.branch_on(min, fail, &[], ok, &[]);
                    self.continue_in(ok);
                }
                let neg = self.b.ins().ineg(px);
                let is_neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, px, 0);
                (it, self.b.ins().select(is_neg, neg, px))
            }
            ids::FLOOR | ids::CEIL | ids::INT if float => {
                let x = self.float_bits(px);
                let r = match f {
                    ids::FLOOR => self.b.ins().floor(x),
                    ids::CEIL if mutant!(CeilAsFloor) => self.b.ins().floor(x),
                    ids::CEIL => self.b.ins().ceil(x),
                    _ => self.b.ins().trunc(x),
                };
                // As `builtins::in_int_range`: NaN fails both comparisons.
                let lo = self.b.ins().f64const(-9_223_372_036_854_775_808.0);
                let hi = self.b.ins().f64const(9_223_372_036_854_775_808.0);
                let above = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, r, lo);
                let below = self.b.ins().fcmp(FloatCC::LessThan, r, hi);
                let within = self.b.ins().band(above, below);
                let ok = self.b.create_block();
                self.branch_on(within, ok, &[], fail, &[]);
                self.continue_in(ok);
                (it, self.b.ins().fcvt_to_sint_sat(I64, r))
            }
            ids::FLOOR | ids::CEIL | ids::INT => (it, px),
            ids::FLOAT if float => (ft, px),
            ids::FLOAT => {
                if mutant!(FloatOfIntAsBits) {
                    return (ft, px);
                }
                let x = self.b.ins().fcvt_from_sint(F64, px);
                (ft, self.b.ins().bitcast(I64, MemFlagsData::new(), x))
            }
            // `min` and `max`: the second only when strictly smaller (larger), as `extreme`.
            _ if float => {
                let (x, y) = (self.float_bits(px), self.float_bits(py));
                let cc = if f == ids::MIN {
                    FloatCC::LessThan
                } else {
                    FloatCC::GreaterThan
                };
                let second = self.b.ins().fcmp(cc, y, x);
                (ft, self.b.ins().select(second, py, px))
            }
            _ => {
                let cc = match (f == ids::MIN, mutant!(MinMaxUnsigned)) {
                    (true, false) => IntCC::SignedLessThan,
                    (false, false) => IntCC::SignedGreaterThan,
                    (true, true) => IntCC::UnsignedLessThan,
                    (false, true) => IntCC::UnsignedGreaterThan,
                };
                let second = self.b.ins().icmp(cc, py, px);
                (it, self.b.ins().select(second, py, px))
            }
        }
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
        self.continue_in(list);
        let len = self.load(p, layout::list_items().len);
        self.result_to_slot(a, len);
        self.jump(done);
        self.continue_in(not_list);
        let is_str = self.tag_is(t, tag::STR);
        self.branch_on(is_str, string, &[], slow, &[]);
        self.continue_in(string);
        let at = if mutant!(LenCountsBytes) {
            layout::str_text().len
        } else {
            layout::STR_CHARS
        };
        let chars = self.load(p, at);
        self.result_to_slot(a, chars);
        self.jump(done);
    }

    /// `R[a] := sqrt(R[a+1])` for an int (converted to a float first, as `b_sqrt` does) or
    /// a float, then on to `done`; anything else (the TypeError) to `slow`, and so does
    /// every call when the safepoint after it would collect (the interpreter makes the
    /// general builtin call, which that safepoint ends).
    fn sqrt_inline(&mut self, a: Reg, slow: Block, done: Block) {
        let (t, p) = self.get(Reg(a.0 + 1));
        let is_int = self.tag_is(t, tag::INT);
        let is_float = self.tag_is(t, tag::FLOAT);
        let is_number = self.b.ins().bor(is_int, is_float);
        let no_collection = self.collection_not_due();
        let number = self.b.ins().band(is_number, no_collection);
        let ok = self.b.create_block();
        self.branch_on(number, ok, &[], slow, &[]);
        self.continue_in(ok);
        let x = if mutant!(SqrtIntAsBits) {
            self.float_bits(p)
        } else {
            self.number_as_f64(t, p)
        };
        let r = self.b.ins().sqrt(x);
        let bits = self.b.ins().bitcast(I64, MemFlagsData::new(), r);
        let ft = self.tag_val(tag::FLOAT);
        self.result_value_to_slot(a, ft, bits);
        self.jump(done);
    }

    /// `R[a] := ord(R[a+1])` for a string of one byte (an ASCII character), then on to
    /// `done`; anything else (other characters, other lengths, errors) to `slow`.
    fn ord_inline(&mut self, a: Reg, slow: Block, done: Block) {
        let (t, p) = self.get(Reg(a.0 + 1));
        let is_str = self.tag_is(t, tag::STR);
        let string = self.b.create_block();
        self.branch_on(is_str, string, &[], slow, &[]);
        self.continue_in(string);
        let text = layout::str_text();
        let bytes = self.load(p, text.len);
        let one = if mutant!(OrdIgnoresLength) {
            self.b.ins().icmp_imm_s(IntCC::NotEqual, bytes, 0)
        } else {
            self.b.ins().icmp_imm_s(IntCC::Equal, bytes, 1)
        };
        let byte_b = self.b.create_block();
        self.branch_on(one, byte_b, &[], slow, &[]);
        self.continue_in(byte_b);
        let data = self.load(p, text.ptr);
        let byte = self.b.ins().uload8(I64, flags(), data, 0);
        self.result_to_slot(a, byte);
        self.jump(done);
    }

    /// `push(R[a+1], R[a+2])` on a list with room for one more element within the collection
    /// limit: the element is written after the last and the length grows, as `Vm::list_push`
    /// does when its buffer needs no growing (so there are no bytes to account); `R[a]` is
    /// nil. Then on to `done`; anything else (growing the buffer, the limit, a non-list) to
    /// `slow`.
    fn push_inline(&mut self, a: Reg, slow: Block, done: Block) {
        let (tl, pl) = self.get(Reg(a.0 + 1));
        let is_list = self.tag_is(tl, tag::LIST);
        let list = self.b.create_block();
        self.branch_on(is_list, list, &[], slow, &[]);
        self.continue_in(list);
        let at = layout::list_items();
        let len = self.load(pl, at.len);
        let cap = self.load(pl, at.cap);
        let room = self.b.ins().icmp(IntCC::UnsignedLessThan, len, cap);
        let len1 = self.b.ins().iadd_imm_s(len, 1);
        let ok = if mutant!(PushLimitUnchecked) {
            room
        } else {
            let max = self.load(self.vm, abi::MAX_COLLECTION_LEN);
            let within = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, len1, max);
            self.b.ins().band(room, within)
        };
        let inside = self.b.create_block();
        self.branch_on(ok, inside, &[], slow, &[]);
        self.continue_in(inside);
        let items = self.load(pl, at.ptr);
        let off = self.b.ins().ishl_imm_s(len, abi::VALUE_SHIFT);
        let end = self.b.ins().iadd(items, off);
        let (t, p) = self.get(Reg(a.0 + 2));
        self.store_value(t, p, end, 0);
        self.store(len1, pl, at.len);
        let nil = self.tag_val(tag::NIL);
        let zero = self.zero();
        self.result_value_to_slot(a, nil, zero);
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
        let zero = self.zero();
        self.result_value_to_slot(a, yes, zero);
        self.jump(done);
        self.continue_in(absent);
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
