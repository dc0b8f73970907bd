//! Arithmetic: `+ - * / %` and negation, with int fast paths (checked for overflow, division
//! only by a positive divisor), float paths, and the helper for everything else.

use super::*;

/// What the float path of a binary operation admits besides two floats (`float_path`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mixes {
    /// Arithmetic: an int with a float, the int converted (LANGUAGE.md §7.2).
    Numbers,
    /// Ordering: an int with a float when the int converts exactly (magnitude at most 2^53,
    /// as every immediate). Larger ints are compared exactly by the helper or the
    /// interpreter (a float's rounding of one could tie with it); `IntFloatOrderViaF64`
    /// admits them all.
    ExactInts,
    /// The `NumberGuardAdmitsAny` mutant's missing check: any value read as a float.
    AnyValue,
}

impl Translator<'_> {
    pub(super) fn operand2(&mut self, o: Rhs) -> (Value, Value) {
        match o {
            Rhs::Reg(r) => self.get(r),
            Rhs::Imm(k) => {
                let t = self.tag_val(tag::INT);
                let p = self.iconst(k);
                (t, p)
            }
        }
    }

    /// `R[a] = R[b] op c` (`left`: `c op R[b]`, for `+` and `*` only, whose fast paths
    /// commute; the helper computes it in source order, for its messages).
    pub(super) fn arith(&mut self, pc: usize, op: Arith, a: Reg, b: Reg, c: Rhs, left: bool) {
        debug_assert!(!left || matches!(op, Arith::Add | Arith::Mul));
        let (tb, pb) = self.get(b);
        let (tc, pc_) = match c {
            Rhs::Reg(r) if r == a && r != b && mutant!(DestIsRhsClobbered) => (tb, pb),
            _ => self.operand2(c),
        };
        if let Some(t) = [tb, tc]
            .into_iter()
            .filter_map(|t| self.known_tag(t))
            .find(|&t| !tag::is_number(t))
        {
            // An operand known not to be a number: only the helper computes it (a list or
            // a string joined or repeated, else the error), without number paths. What it
            // computes has that operand's type, so the operations on the result need no
            // type dispatch either (a list grown by `l + [nil] * n` stays a list).
            self.non_number_arith(pc, op, a, b, c, left);
            if matches!(op, Arith::Add | Arith::Mul) && (t == tag::LIST || t == tag::STR) {
                self.refine_tag(a, t);
            }
            return;
        }
        let b_int = self.int_tag_test(tb);
        let c_int = match c {
            Rhs::Imm(_) => self.cond_const(true),
            Rhs::Reg(_) => self.int_tag_test(tc),
        };
        let ints = self.both(b_int, c_int);
        let fb = self.operand_feedback(pc, &[tb, tc]);
        let speculative = self.speculate_int(pc, fb);
        // Numbers: ints and floats inline, anything else leaves (float `%` is a library call,
        // so it keeps the helper).
        let numeric = !speculative && op != Arith::Mod && self.speculate_num(pc, fb);
        let floats = numeric && self.speculate_float(pc, fb);
        // Speculating, overflow and unusual divisors leave too: nothing returns from a helper
        // into the loop, so no value has to survive a call there.
        let slow = if speculative || numeric {
            self.side_exit_block(pc)
        } else {
            self.b.create_block()
        };
        let done = self.b.create_block();
        let int_path = self.b.create_block();
        if speculative {
            // Ints or leave: no float or generic code at this site.
            let exit = self.side_exit_block(pc);
            self.branch_on(ints, int_path, &[], exit, &[]);
        } else {
            let not_ints = self.b.create_block();
            if floats && !mutant!(FloatOnlyIntsAsFloats) {
                let exit = self.exit_of_kind(pc, ExitKind::IntsMet);
                self.branch_on(ints, exit, &[], not_ints, &[]);
            } else if floats {
                // The bug: two ints take the float path (converted, a float result).
                self.jump(not_ints);
            } else {
                self.branch_on(ints, int_path, &[], not_ints, &[]);
            }
            self.continue_in(not_ints);
            // Floats, and an int with a float (converted, LANGUAGE.md §7.2), inline (except
            // `%`, whose float form is a library call): else the helper.
            if op != Arith::Mod {
                let mixes = if numeric && mutant!(NumberGuardAdmitsAny) {
                    Mixes::AnyValue
                } else {
                    Mixes::Numbers
                };
                let widened = fb != self.input.feedback[pc];
                let (x, y) = if widened && mutant!(KnownFloatTrustsOther) {
                    (self.float_bits(pb), self.float_bits(pc_))
                } else {
                    self.float_path((tb, pb), (tc, pc_), slow, mixes)
                };
                let r = match op {
                    Arith::Add => self.b.ins().fadd(x, y),
                    Arith::Sub => self.b.ins().fsub(x, y),
                    Arith::Mul => self.b.ins().fmul(x, y),
                    _ => self.b.ins().fdiv(x, y),
                };
                let rp = self.b.ins().bitcast(I64, MemFlagsData::new(), r);
                let ft = if op == Arith::Sub && mutant!(FloatSubTaggedInt) {
                    self.tag_val(tag::INT)
                } else {
                    self.tag_val(tag::FLOAT)
                };
                self.set(a, ft, rp);
                self.jump(done);
            } else {
                self.jump(slow);
            }
            if floats {
                self.continue_in(done);
                return;
            }
        }
        // Ints: checked in compiled code; overflow and the unusual divisors go to the helper,
        // which raises the exact error.
        self.continue_in(int_path);
        self.know_int(b);
        if let Rhs::Reg(r) = c {
            self.know_int(r);
        }
        let result = match op {
            Arith::Add | Arith::Sub | Arith::Mul => {
                let (r, of) = match op {
                    Arith::Add => self.b.ins().sadd_overflow(pb, pc_),
                    Arith::Sub => self.b.ins().ssub_overflow(pb, pc_),
                    _ => self.b.ins().smul_overflow(pb, pc_),
                };
                let of = if op == Arith::Add && mutant!(AddOverflowUnchecked)
                    || op == Arith::Sub
                        && matches!(c, Rhs::Imm(_))
                        && mutant!(SubImmOverflowUnchecked)
                {
                    self.cond_const(false)
                } else if op == Arith::Mul && mutant!(MulOverflowBySign) {
                    // Overflow "seen" when the result's sign is not the operands' sign product.
                    let signs = self.b.ins().bxor(pb, pc_);
                    let want_neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, signs, 0);
                    let is_neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
                    self.b.ins().icmp(IntCC::NotEqual, want_neg, is_neg)
                } else {
                    of
                };
                if mutant!(OverflowWritesDest) {
                    // The wrapped result goes to the destination's slot before the check.
                    let it = self.tag_val(tag::INT);
                    let (regs, at) = self.reg_addr(a);
                    self.store_value(it, r, regs, at);
                }
                let ok = self.b.create_block();
                self.branch_on(of, slow, &[], ok, &[]);
                self.continue_in(ok);
                r
            }
            Arith::Div | Arith::Mod => {
                // Only a positive divisor takes the machine instruction (no trap possible).
                let positive = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, pc_, 0);
                let ok = self.b.create_block();
                self.branch_on(positive, ok, &[], slow, &[]);
                self.continue_in(ok);
                if op == Arith::Div && mutant!(DivFloored) {
                    let q = self.b.ins().sdiv(pb, pc_);
                    let r = self.b.ins().srem(pb, pc_);
                    let below = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
                    let q1 = self.b.ins().iadd_imm_s(q, -1);
                    self.b.ins().select(below, q1, q)
                } else if op == Arith::Mod && mutant!(ModFloored) {
                    let r = self.b.ins().srem(pb, pc_);
                    let below = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
                    let r1 = self.b.ins().iadd(r, pc_);
                    self.b.ins().select(below, r1, r)
                } else if op == Arith::Div {
                    self.b.ins().sdiv(pb, pc_)
                } else {
                    self.b.ins().srem(pb, pc_)
                }
            }
        };
        let it = self.tag_val(tag::INT);
        self.set(a, it, result);
        self.jump(done);
        if speculative || numeric {
            self.continue_in(done);
            return;
        }
        self.continue_in(slow);
        self.non_number_arith(pc, op, a, b, c, left);
        self.jump(done);
        self.continue_in(done);
    }

    /// `R[a] = R[b] op c` by the helper alone, as for operands other than numbers.
    fn non_number_arith(&mut self, pc: usize, op: Arith, a: Reg, b: Reg, c: Rhs, left: bool) {
        let (h, rhs) = match c {
            Rhs::Reg(r) => (Helper::Arith, self.slot(r)),
            Rhs::Imm(k) => (Helper::ArithImm, self.iconst(k)),
        };
        self.arith_helper(pc, h, op, left, a, b, rhs);
    }

    /// The exact path of an arithmetic instruction: helper `h` computes `R[a] = R[b] op rhs`
    /// (`left`: `rhs op R[b]`; `rhs` a slot, an immediate or a pool index, as `h` takes it)
    /// and raises its errors.
    #[allow(clippy::too_many_arguments)]
    fn arith_helper(
        &mut self,
        pc: usize,
        h: Helper,
        op: Arith,
        left: bool,
        a: Reg,
        b: Reg,
        rhs: Value,
    ) {
        let order = if left && !mutant!(LiteralLeftReversed) {
            LITERAL_LEFT
        } else {
            0
        };
        let code = self.iconst((op.code() | order) as i64);
        let d = self.slot(a);
        let s = self.slot(b);
        let st = self.helper(h, &[code, d, s, rhs]);
        self.check_status(pc, st);
        self.reload(a);
    }

    /// `R[a] = R[b] op K[k]` for a float constant (`left`: `K[k] op R[b]`, for `+` and `*`
    /// only): a float or an int (converted) register operand inline, anything else (and `%`,
    /// a library call) through the helper.
    pub(super) fn arith_k(
        &mut self,
        pc: usize,
        op: Arith,
        a: Reg,
        b: Reg,
        k: ConstIdx,
        left: bool,
    ) {
        debug_assert!(!left || matches!(op, Arith::Add | Arith::Mul));
        let EchoValue::Float(q) = self.input.consts[k.0 as usize] else {
            unreachable!("the compiler makes K operands of float constants only")
        };
        let (tb, pb) = self.get(b);
        let fb = self.operand_feedback(pc, &[tb]);
        let numeric = op != Arith::Mod && self.speculate_num(pc, fb);
        let slow = if numeric {
            self.side_exit_block(pc)
        } else {
            self.b.create_block()
        };
        let done = self.b.create_block();
        if op != Arith::Mod {
            let compute = self.b.create_block();
            let x = self.b.append_block_param(compute, F64);
            let from_float = self.b.create_block();
            let not_float = self.b.create_block();
            let from_int = self.b.create_block();
            let is_f = self.tag_is(tb, tag::FLOAT);
            self.branch_on(is_f, from_float, &[], not_float, &[]);
            self.continue_in(from_float);
            let xf = self.float_bits(pb);
            self.jump_with(compute, &[xf.into()]);
            self.continue_in(not_float);
            let is_i = self.tag_is(tb, tag::INT);
            self.branch_on(is_i, from_int, &[], slow, &[]);
            self.continue_in(from_int);
            let xi = self.b.ins().fcvt_from_sint(F64, pb);
            self.jump_with(compute, &[xi.into()]);
            // Every path here is emitted: sealed, the block reads registers as its
            // predecessors left them (known tags stay known) instead of through parameters.
            self.continue_in(compute);
            let y = self.b.ins().f64const(q);
            let r = match op {
                Arith::Add => self.b.ins().fadd(x, y),
                Arith::Sub if mutant!(FloatConstSubSwapped) => self.b.ins().fsub(y, x),
                Arith::Sub => self.b.ins().fsub(x, y),
                Arith::Mul => self.b.ins().fmul(x, y),
                _ => self.b.ins().fdiv(x, y),
            };
            let rp = self.b.ins().bitcast(I64, MemFlagsData::new(), r);
            let ft = self.tag_val(tag::FLOAT);
            self.set(a, ft, rp);
            self.jump(done);
        } else {
            self.jump(slow);
        }
        if numeric {
            self.continue_in(done);
            return;
        }
        self.continue_in(slow);
        let kk = self.iconst((self.input.kbase + k.0 as usize) as i64);
        self.arith_helper(pc, Helper::ArithConst, op, left, a, b, kk);
        self.jump(done);
        self.continue_in(done);
    }

    /// Whether tag `t` is the int tag (`IntTagAdmitsTrue`: or the tag below it, `true`).
    fn int_tag_test(&mut self, t: Value) -> Value {
        if mutant!(IntTagAdmitsTrue) {
            let off = self.b.ins().iadd_imm_s(t, -(tag::TRUE as i64));
            return self
                .b
                .ins()
                .icmp_imm_s(IntCC::UnsignedLessThanOrEqual, off, 1);
        }
        self.tag_is(t, tag::INT)
    }

    /// The float path of a binary operation: two floats, or the mixes `mixes` admits, as
    /// `f64` values (an int converted); else leaves for `slow`. The int path took two ints.
    pub(super) fn float_path(
        &mut self,
        (tb, pb): (Value, Value),
        (tc, pc_): (Value, Value),
        slow: Block,
        mixes: Mixes,
    ) -> (Value, Value) {
        let compute = self.b.create_block();
        let x = self.b.append_block_param(compute, F64);
        let y = self.b.append_block_param(compute, F64);
        // Two floats first (the common case: no conversion, no select), then the mixes.
        let b_f = self.tag_is(tb, tag::FLOAT);
        let c_f = self.tag_is(tc, tag::FLOAT);
        let floats = self.both(b_f, c_f);
        let fl = self.b.create_block();
        let mixed = self.b.create_block();
        self.branch_on(floats, fl, &[], mixed, &[]);
        self.continue_in(fl);
        let xf = self.float_bits(pb);
        let yf = self.float_bits(pc_);
        self.jump_with(compute, &[xf.into(), yf.into()]);
        self.continue_in(mixed);
        let admitted = match mixes {
            Mixes::AnyValue => self.cond_const(true),
            Mixes::Numbers => {
                let nb = self.number_test(tb);
                let nc = self.number_test(tc);
                self.both(nb, nc)
            }
            Mixes::ExactInts => {
                let eb = self.exact_as_f64(tb, pb);
                let ec = self.exact_as_f64(tc, pc_);
                self.both(eb, ec)
            }
        };
        let conv = self.b.create_block();
        self.branch_on(admitted, conv, &[], slow, &[]);
        self.continue_in(conv);
        let (xm, ym) = if mixes == Mixes::ExactInts && mutant!(MixedOrderIntAsBits) {
            (self.float_bits(pb), self.float_bits(pc_))
        } else {
            (self.number_as_f64(tb, pb), self.number_as_f64(tc, pc_))
        };
        self.jump_with(compute, &[xm.into(), ym.into()]);
        // Every path here is emitted: sealed, the block reads registers as its predecessors
        // left them (known tags stay known) instead of through parameters.
        self.continue_in(compute);
        (x, y)
    }

    /// Whether tag `t` is a number's (int or float).
    fn number_test(&mut self, t: Value) -> Value {
        match self.known_tag(t) {
            Some(k) => self.cond_const(tag::is_number(k)),
            None => {
                const _: () = assert!(tag::FLOAT == tag::INT + 1);
                let off = self.b.ins().iadd_imm_s(t, -(tag::INT as i64));
                self.b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedLessThanOrEqual, off, 1)
            }
        }
    }

    /// A number as an `f64`: a float's bits, or an int converted.
    pub(super) fn number_as_f64(&mut self, t: Value, p: Value) -> Value {
        let bits = |s: &mut Self| s.float_bits(p);
        match self.known_tag(t) {
            Some(tag::FLOAT) => bits(self),
            Some(tag::INT) => self.b.ins().fcvt_from_sint(F64, p),
            _ => {
                let is_int = self.tag_is(t, tag::INT);
                let from_int = self.b.ins().fcvt_from_sint(F64, p);
                let f = bits(self);
                self.b.ins().select(is_int, from_int, f)
            }
        }
    }

    /// Whether a value of tag `t`, payload `p` is a float or an int of magnitude at most
    /// 2^53 (which an `f64` holds exactly).
    fn exact_as_f64(&mut self, t: Value, p: Value) -> Value {
        const EXACT: i64 = 1 << 53;
        let in_range = |s: &mut Self| {
            if mutant!(IntFloatOrderViaF64) {
                return s.cond_const(true);
            }
            let off = s.b.ins().iadd_imm_s(p, EXACT);
            s.b.ins()
                .icmp_imm_s(IntCC::UnsignedLessThanOrEqual, off, 2 * EXACT)
        };
        match self.known_tag(t) {
            Some(tag::FLOAT) => self.cond_const(true),
            Some(tag::INT) => in_range(self),
            Some(_) => self.cond_const(false),
            None => {
                let is_f = self.tag_is(t, tag::FLOAT);
                let is_i = self.tag_is(t, tag::INT);
                let r = in_range(self);
                let int_ok = self.b.ins().band(is_i, r);
                self.b.ins().bor(is_f, int_ok)
            }
        }
    }

    pub(super) fn neg(&mut self, pc: usize, a: Reg, b: Reg) {
        let (t, p) = self.get(b);
        let is_int = self.tag_is(t, tag::INT);
        let not_min = if mutant!(NegMinUnchecked) {
            self.cond_const(true)
        } else {
            self.b.ins().icmp_imm_s(IntCC::NotEqual, p, i64::MIN)
        };
        let fast = self.both(is_int, not_min);
        let fast_b = self.b.create_block();
        let other = self.b.create_block();
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.branch_on(fast, fast_b, &[], other, &[]);
        self.continue_in(fast_b);
        let r = self.b.ins().ineg(p);
        self.set(a, t, r);
        self.jump(done);
        self.continue_in(other);
        let is_f = self.tag_is(t, tag::FLOAT);
        let fb = self.b.create_block();
        self.branch_on(is_f, fb, &[], slow, &[]);
        self.continue_in(fb);
        let x = self.float_bits(p);
        let nx = if mutant!(FloatNegAsZeroSub) {
            let zero = self.b.ins().f64const(0.0);
            self.b.ins().fsub(zero, x)
        } else {
            self.b.ins().fneg(x)
        };
        let np = self.b.ins().bitcast(I64, MemFlagsData::new(), nx);
        self.set(a, t, np);
        self.jump(done);
        self.continue_in(slow);
        let d = self.slot(a);
        let s = self.slot(b);
        let st = self.helper(Helper::Neg, &[d, s]);
        self.check_status(pc, st);
        self.reload(a);
        self.jump(done);
        self.continue_in(done);
    }
}

/// The right operand of an arithmetic or comparison instruction.
#[derive(Clone, Copy)]
pub(super) enum Rhs {
    Reg(Reg),
    Imm(i64),
}
