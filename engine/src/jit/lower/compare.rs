//! Truthiness, equality and ordering, as values and as fused compare-and-branch.

use super::*;

impl Translator<'_> {
    pub(super) fn truthy(&mut self, r: Reg) -> Value {
        let (t, p) = self.get(r);
        if mutant!(ZeroIsFalsy) {
            let truthy_tag =
                self.b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThan, t, tag::FALSE as i64);
            let is_int = self.b.ins().icmp_imm_s(IntCC::Equal, t, tag::INT as i64);
            let zero = self.b.ins().icmp_imm_s(IntCC::Equal, p, 0);
            let int_zero = self.b.ins().band(is_int, zero);
            return self.b.ins().band_not(truthy_tag, int_zero);
        }
        if let Some(k) = self.known_tag(t) {
            return self.cond_const(k > tag::FALSE);
        }
        self.b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThan, t, tag::FALSE as i64)
    }

    /// Jumps to the target of `off` when `cond` equals `when`, else falls through.
    pub(super) fn branch(&mut self, pc: usize, off: Jump, cond: Value, when: bool) {
        let taken = self.block_at(target(pc, off));
        let fall = self.block_at(pc + 1);
        if when {
            self.branch_on(cond, taken, &[], fall, &[]);
        } else {
            self.branch_on(cond, fall, &[], taken, &[]);
        }
        self.terminated = true;
    }

    /// `R[b] == R[c]` as a 0/1 value: by the tags alone when one side is known to be nil or
    /// a bool; ints alone where the feedback saw nothing else (others leave); else ints,
    /// floats, identities and short strings inline and everything else by the helper.
    pub(super) fn equal(&mut self, pc: usize, b: Reg, c: Reg) -> Value {
        let (tb, pb) = self.get(b);
        let (tc, pc_) = self.get(c);
        let plain = |k: Option<u8>| k.is_some_and(|k| k <= tag::TRUE);
        if plain(self.known_tag(tb)) || plain(self.known_tag(tc)) {
            // nil, false and true equal themselves and nothing else (`x != nil`).
            if mutant!(EqNilAsFalsy) {
                let fb =
                    self.b
                        .ins()
                        .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, tb, tag::FALSE as i64);
                let fc =
                    self.b
                        .ins()
                        .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, tc, tag::FALSE as i64);
                let eq = self.b.ins().icmp(IntCC::Equal, fb, fc);
                return self.b.ins().uextend(I64, eq);
            }
            let eq = self.b.ins().icmp(IntCC::Equal, tb, tc);
            return self.b.ins().uextend(I64, eq);
        }
        let b_int = self.tag_is(tb, tag::INT);
        let c_int = self.tag_is(tc, tag::INT);
        let ints = self.both(b_int, c_int);
        let fb = self.operand_feedback(pc, &[tb, tc]);
        if self.speculate_int(pc, fb) {
            let exit = self.side_exit_block(pc);
            let cont = self.b.create_block();
            let guard = if mutant!(EqIntGuardOneSide) {
                b_int
            } else {
                ints
            };
            self.branch_on(guard, cont, &[], exit, &[]);
            self.continue_in(cont);
            self.know_int(b);
            self.know_int(c);
            let eq = self.b.ins().icmp(IntCC::Equal, pb, pc_);
            return self.b.ins().uextend(I64, eq);
        }
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        self.branch_on(ints, fast, &[], slow, &[]);
        self.continue_in(fast);
        self.answer_equal(pb, pc_, done);
        self.continue_in(slow);
        self.identity_equal(tb, pb, tc, pc_, done);
        self.float_equal(tb, pb, tc, pc_, done);
        if mutant!(StringEqByPointer) {
            let b_str = self.tag_is(tb, tag::STR);
            let c_str = self.tag_is(tc, tag::STR);
            let strs = self.both(b_str, c_str);
            let by_pointer = self.b.create_block();
            let helper = self.b.create_block();
            self.branch_on(strs, by_pointer, &[], helper, &[]);
            self.b.switch_to_block(by_pointer);
            self.answer_equal(pb, pc_, done);
            self.b.switch_to_block(helper);
        }
        self.string_equal(tb, pb, tc, pc_, done);
        if self.inlining.is_some() && self.input.feedback[pc] & FB_NOT_NUM == 0 {
            // An inlined body calls no helper: the values the helper compares (containers,
            // long strings, an int with a float) leave for the interpreter, and the failed
            // guard's mark (the "not numbers" bit, which equality has no other use for: the
            // "not ints" one is set by the interpreter or by the ints' guard above) makes the
            // next translation call the callee instead.
            self.note_speculation(pc);
            let exit = self.side_exit_block(pc);
            if mutant!(InlinedEqualityGuessed) {
                let zero = self.zero();
                self.jump_with(done, &[zero.into()]);
            } else {
                self.jump_with(exit, &[]);
            }
            self.continue_in(done);
            return self.b.block_params(done)[0];
        }
        // Comparing containers or long strings charges fuel, which may run out: the helper
        // call stores the pc, as at every safepoint.
        let sb = self.slot(b);
        let sc = self.slot(c);
        let r = self.helper(Helper::Equal, &[sb, sc]);
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, r, 2);
        self.check_status(pc, failed);
        let r = if mutant!(EqIntFloatUnequal) {
            // "Values of different types are unequal", forgetting int/float: tags adding up
            // to INT + FLOAT are an int and a float, or two other types that differ anyway.
            let sum = self.b.ins().iadd(tb, tc);
            let mixed = self
                .b
                .ins()
                .icmp_imm_s(IntCC::Equal, sum, (tag::INT + tag::FLOAT) as i64);
            let zero = self.iconst(0);
            self.b.ins().select(mixed, zero, r)
        } else {
            r
        };
        self.jump_with(done, &[r.into()]);
        self.continue_in(done);
        self.b.block_params(done)[0]
    }

    /// Equality decided by tags and identity, without the helper (it charges no fuel for
    /// these): values of different types are unequal, except an int and a float; nil, true
    /// and false equal themselves; functions, classes and instances are equal when they are
    /// the same object. The answer (0/1) goes to `done`; everything else (numbers, strings,
    /// lists and maps, whose equality looks inside, builtins, bound methods) continues in a
    /// new current block.
    fn identity_equal(&mut self, tb: Value, pb: Value, tc: Value, pc_: Value, done: Block) {
        let rest = self.b.create_block();
        let same = self.b.create_block();
        let differ = self.b.create_block();
        let same_tag = self.b.ins().icmp(IntCC::Equal, tb, tc);
        self.branch_on(same_tag, same, &[], differ, &[]);
        self.continue_in(differ);
        // Tags adding up to INT + FLOAT: an int and a float, or two other types, which the
        // helper finds unequal.
        let sum = self.b.ins().iadd(tb, tc);
        let mixed = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, sum, (tag::INT + tag::FLOAT) as i64);
        let zero = self.zero();
        self.branch_on(mixed, rest, &[], done, &[zero.into()]);
        self.continue_in(same);
        let one = self.iconst(1);
        let plain = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, tb, tag::TRUE as i64);
        let objects = self.b.create_block();
        self.branch_on(plain, done, &[one.into()], objects, &[]);
        self.continue_in(objects);
        let mut kinds = (1u64 << tag::FUNC) | (1 << tag::CLASS) | (1 << tag::INSTANCE);
        if mutant!(EqListByIdentity) {
            kinds |= 1 << tag::LIST;
        }
        let bit = self.b.ins().ishl(one, tb);
        let hit = self.b.ins().band_imm_u(bit, kinds as i64);
        let by_identity = self.b.create_block();
        self.branch_on(hit, by_identity, &[], rest, &[]);
        self.continue_in(by_identity);
        self.answer_equal(pb, pc_, done);
        self.continue_in(rest);
    }

    /// Two floats compared without the helper, as IEEE numbers (-0.0 equals 0.0, nan equals
    /// nothing): the answer (0/1) goes to `done`; anything else continues in a new current
    /// block. An int with a float keeps the helper, which compares them exactly.
    fn float_equal(&mut self, tb: Value, pb: Value, tc: Value, pc_: Value, done: Block) {
        let b_f = self.tag_is(tb, tag::FLOAT);
        let c_f = self.tag_is(tc, tag::FLOAT);
        let floats = self.both(b_f, c_f);
        let fpath = self.b.create_block();
        let rest = self.b.create_block();
        self.branch_on(floats, fpath, &[], rest, &[]);
        self.continue_in(fpath);
        if mutant!(FloatEqByBits) {
            self.answer_equal(pb, pc_, done);
        } else {
            let x = self.float_bits(pb);
            let y = self.float_bits(pc_);
            let eq = self.b.ins().fcmp(FloatCC::Equal, x, y);
            let eq = self.b.ins().uextend(I64, eq);
            self.jump_with(done, &[eq.into()]);
        }
        self.continue_in(rest);
    }

    /// Two strings compared without the helper where that is quick and charges no fuel:
    /// the same string; lengths that differ; texts shorter than `BYTES_PER_FUEL` bytes (whose
    /// comparison is free, see `runtime::work`) with different hashes, or of one byte. The
    /// answer (0/1) goes to `done`; everything else (other types, long or equal-hash texts)
    /// continues in a new current block, to the helper.
    fn string_equal(&mut self, tb: Value, pb: Value, tc: Value, pc_: Value, done: Block) {
        let b_str = self.tag_is(tb, tag::STR);
        let c_str = self.tag_is(tc, tag::STR);
        let strs = self.both(b_str, c_str);
        let helper = self.b.create_block();
        let both = self.b.create_block();
        self.branch_on(strs, both, &[], helper, &[]);
        self.continue_in(both);
        let one = self.iconst(1);
        let zero = self.zero();
        let same = self.b.ins().icmp(IntCC::Equal, pb, pc_);
        let other = self.b.create_block();
        self.branch_on(same, done, &[one.into()], other, &[]);
        self.continue_in(other);
        let text = layout::str_text();
        let lb = self.load(pb, text.len);
        let lc = self.load(pc_, text.len);
        let same_len = self.b.ins().icmp(IntCC::Equal, lb, lc);
        let equal_len = self.b.create_block();
        self.branch_on(same_len, equal_len, &[], done, &[zero.into()]);
        self.continue_in(equal_len);
        if mutant!(StrEqByLength) {
            self.jump_with(done, &[one.into()]);
            self.b.switch_to_block(helper);
            return;
        }
        let short = self.b.ins().icmp_imm_u(
            IntCC::UnsignedLessThan,
            lb,
            crate::config::BYTES_PER_FUEL as i64,
        );
        let hashed = self.b.create_block();
        self.branch_on(short, hashed, &[], helper, &[]);
        self.continue_in(hashed);
        let hb = self.load(pb, layout::STR_HASH);
        let hc = self.load(pc_, layout::STR_HASH);
        let same_hash = self.b.ins().icmp(IntCC::Equal, hb, hc);
        let collide = self.b.create_block();
        self.branch_on(same_hash, collide, &[], done, &[zero.into()]);
        self.continue_in(collide);
        let single = self.b.ins().icmp_imm_u(IntCC::Equal, lb, 1);
        let byte = self.b.create_block();
        self.branch_on(single, byte, &[], helper, &[]);
        self.continue_in(byte);
        let db = self.load(pb, text.ptr);
        let dc = self.load(pc_, text.ptr);
        let xb = self.b.ins().uload8(I64, flags(), db, 0);
        let xc = self.b.ins().uload8(I64, flags(), dc, 0);
        self.answer_equal(xb, xc, done);
        self.continue_in(helper);
    }

    /// Ends the current block with a jump to `done` (whose parameter is an equality's 0/1
    /// answer) carrying whether the words `x` and `y` are equal.
    fn answer_equal(&mut self, x: Value, y: Value, done: Block) {
        let eq = self.b.ins().icmp(IntCC::Equal, x, y);
        let eq = self.b.ins().uextend(I64, eq);
        self.jump_with(done, &[eq.into()]);
    }

    /// `R[b] == imm` as a 0/1 value (never an error; other types are simply unequal).
    pub(super) fn equal_imm(&mut self, b: Reg, k: i64) -> Value {
        let (t, p) = self.get(b);
        let is_int = self.tag_is(t, tag::INT);
        let int_eq = self.b.ins().icmp_imm_s(IntCC::Equal, p, k);
        let int_res = self.both(is_int, int_eq);
        let is_f = self.tag_is(t, tag::FLOAT);
        let x = self.float_bits(p);
        let kf = self.b.ins().f64const(k as f64);
        let f_eq = self.b.ins().fcmp(FloatCC::Equal, x, kf);
        let f_res = if mutant!(EqIntFloatUnequal) {
            self.cond_const(false)
        } else {
            self.both(is_f, f_eq)
        };
        let any = self.b.ins().bor(int_res, f_res);
        self.b.ins().uextend(I64, any)
    }

    /// `R[b] op c` as a 0/1 value, with errors going to the error exit.
    pub(super) fn compare(&mut self, pc: usize, op: Cmp, b: Reg, c: Rhs) -> Value {
        let (tb, pb) = self.get(b);
        let (tc, pc_) = self.operand2(c);
        let b_int = self.tag_is(tb, tag::INT);
        let c_int = match c {
            Rhs::Imm(_) => self.cond_const(true),
            Rhs::Reg(_) => self.tag_is(tc, tag::INT),
        };
        let ints = self.both(b_int, c_int);
        let int_b = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        let icc = match op {
            Cmp::Lt if matches!(c, Rhs::Imm(_)) && mutant!(LtImmUnsigned) => {
                IntCC::UnsignedLessThan
            }
            Cmp::Lt => IntCC::SignedLessThan,
            Cmp::Le => IntCC::SignedLessThanOrEqual,
            Cmp::Gt => IntCC::SignedGreaterThan,
            Cmp::Ge if matches!(c, Rhs::Imm(_)) && mutant!(GeImmAsGt) => IntCC::SignedGreaterThan,
            Cmp::Ge => IntCC::SignedGreaterThanOrEqual,
        };
        let fb = self.operand_feedback(pc, &[tb, tc]);
        if self.speculate_int(pc, fb) {
            let exit = self.side_exit_block(pc);
            self.branch_on(ints, int_b, &[], exit, &[]);
        } else {
            // Numbers: two floats inline too, and an int with a float when the int converts
            // exactly; anything else leaves.
            let numeric = self.speculate_num(pc, fb);
            let other = self.b.create_block();
            let slow = if numeric {
                self.side_exit_block(pc)
            } else {
                self.b.create_block()
            };
            self.branch_on(ints, int_b, &[], other, &[]);
            self.continue_in(other);
            let (x, y) = self.float_path((tb, pb), (tc, pc_), slow, Mixes::ExactInts);
            let fcc = match op {
                Cmp::Lt if mutant!(FloatLtAsLe) => FloatCC::LessThanOrEqual,
                Cmp::Lt => FloatCC::LessThan,
                Cmp::Le => FloatCC::LessThanOrEqual,
                Cmp::Gt => FloatCC::GreaterThan,
                Cmp::Ge if mutant!(FloatGeAsNotLt) => FloatCC::UnorderedOrGreaterThanOrEqual,
                Cmp::Ge => FloatCC::GreaterThanOrEqual,
            };
            let r = self.b.ins().fcmp(fcc, x, y);
            let r = self.b.ins().uextend(I64, r);
            self.jump_with(done, &[r.into()]);
            // Speculating on numbers, `slow` is the side exit: no helper path.
            if !numeric {
                self.continue_in(slow);
                let code = self.iconst(op.code() as i64);
                let s = self.slot(b);
                let r = match c {
                    Rhs::Reg(rc) => {
                        let sc = self.slot(rc);
                        self.helper(Helper::Compare, &[code, s, sc])
                    }
                    Rhs::Imm(k) => {
                        let kk = self.iconst(k);
                        self.helper(Helper::CompareImm, &[code, s, kk])
                    }
                };
                let failed = self.b.ins().icmp_imm_s(IntCC::Equal, r, 2);
                self.check_status(pc, failed);
                self.jump_with(done, &[r.into()]);
            }
        }
        self.continue_in(int_b);
        self.know_int(b);
        if let Rhs::Reg(rc) = c {
            self.know_int(rc);
        }
        let r = self.b.ins().icmp(icc, pb, pc_);
        let r = self.b.ins().uextend(I64, r);
        self.jump_with(done, &[r.into()]);
        self.continue_in(done);
        self.b.block_params(done)[0]
    }

    pub(super) fn compare_to_reg(&mut self, pc: usize, op: Cmp, a: Reg, b: Reg, c: Reg) {
        let r = self.compare(pc, op, b, Rhs::Reg(c));
        self.set_bool(a, r);
    }

    pub(super) fn compare_branch(&mut self, pc: usize, op: Cmp, b: Reg, c: Rhs, off: Jump) {
        let r = self.compare(pc, op, b, c);
        self.branch(pc, off, r, false);
    }

    /// The test at the end of a `while` loop (`LoopIf`, `LoopLt`...): the back-edge's fuel,
    /// then a jump back when the condition `cond` computes equals `when`.
    pub(super) fn loop_test(
        &mut self,
        pc: usize,
        off: Jump,
        when: bool,
        cond: impl FnOnce(&mut Self) -> Value,
    ) {
        self.loop_test_fuel(pc);
        let r = cond(self);
        self.branch(pc, off, r, when);
    }
}
