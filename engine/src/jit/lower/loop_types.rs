//! Loop-header types: the tag a register holds on every path that reaches a loop header, found
//! by a forward dataflow that follows what the compiled instructions produce. The header
//! checks those tags and treats them as constants, so a loop's numbers keep one type from one
//! iteration to the next instead of merging with paths the speculation already ruled out.

use super::*;

/// The state of a register at a point: not reached by any path yet, or reached with more
/// than one tag (any other value is the one tag it has).
const UNREACHED: u8 = u8::MAX - 1;
const MIXED: u8 = u8::MAX;

fn join(a: u8, b: u8) -> u8 {
    match (a, b) {
        (UNREACHED, x) | (x, UNREACHED) => x,
        (x, y) if x == y => x,
        _ => MIXED,
    }
}

/// Per loop header, the live registers to check and the tag each one has there.
pub(super) type LoopTypes = FxHashMap<usize, Vec<(Reg, u8)>>;

impl Translator<'_> {
    /// The tags every path brings to each loop header of the code translated (`live_code`),
    /// for its live registers. Function entries bring unknown tags; an OSR version's own
    /// header brings the tags its entry checked (`osr_snapshot`); its other headers bring
    /// nothing of their own (their entries check the tags found here, as the header itself
    /// does, see `run`), so that a loop around the snapshot's keeps the types its body gives
    /// it; an exception handler's target brings unknown tags. A header whose check failed
    /// once (see `FB_LOOP_TYPES`) gets none.
    pub(super) fn loop_types(
        &self,
        live_code: &[bool],
        osr_headers: Option<&[usize]>,
    ) -> LoopTypes {
        let input = self.input;
        let code = &input.proto.code;
        let n = code.len();
        let nregs = input.proto.nregs as usize;
        let mut out = LoopTypes::default();
        if input.mode != Mode::Speculative || self.in_slots || nregs == 0 {
            return out;
        }
        let mut headers = Vec::new();
        for (pc, op) in code.iter().enumerate() {
            if live_code[pc] && op.is_back_edge() {
                headers.push(target(pc, op.jump().expect("a back-edge jumps")));
            }
        }
        if headers.is_empty() {
            return out;
        }
        // What every entry brings, joined in before the code's own edges.
        let mut state = vec![vec![UNREACHED; nregs]; n];
        match osr_headers {
            None => state[0].fill(MIXED),
            Some(osr) => {
                for &h in osr {
                    match &input.osr_snapshot {
                        Some((at, tags)) if *at == h => {
                            state[h].fill(MIXED);
                            for r in self.live[h].iter() {
                                state[h][r] = tags[r];
                            }
                        }
                        Some(_) => {}
                        // Without a snapshot (nothing speculated), unknown tags.
                        None => state[h].fill(MIXED),
                    }
                }
            }
        }
        for h in &input.proto.handlers {
            state[h.target as usize].fill(MIXED);
        }
        let mut changed = true;
        while changed {
            changed = false;
            for pc in 0..n {
                if !live_code[pc] || state[pc].iter().all(|&t| t == UNREACHED) {
                    continue;
                }
                let mut s = state[pc].clone();
                self.step(pc, code[pc], &mut s);
                for succ in successors(pc, &code[pc], n) {
                    if !live_code[succ] {
                        continue;
                    }
                    if mutant!(LoopTypesUnchecked) && headers.contains(&succ) && succ > pc {
                        // The bug: a header's types come from its back-edges alone, as if
                        // the loop's first iteration brought the same.
                        continue;
                    }
                    for (r, &t) in s.iter().enumerate() {
                        let j = join(state[succ][r], t);
                        if j != state[succ][r] {
                            state[succ][r] = j;
                            changed = true;
                        }
                    }
                }
            }
        }
        for h in headers {
            if out.contains_key(&h) || input.feedback[h] & FB_LOOP_TYPES != 0 {
                continue;
            }
            let known: Vec<(Reg, u8)> = self.live[h]
                .iter()
                .filter(|&r| state[h][r] < UNREACHED)
                .map(|r| (Reg(r as u16), state[h][r]))
                .collect();
            out.insert(h, known);
        }
        out
    }

    /// Applies what the instruction at `pc` does to the registers' tags, as its translation
    /// produces them: a result whose tag the translation fixes (constants, moves, arithmetic
    /// the feedback lets it compile for numbers, `for` counters), else an unknown tag for
    /// every register it may write.
    fn step(&self, pc: usize, op: Op, s: &mut [u8]) {
        let input = self.input;
        // As `speculate_int`, `speculate_num` and `speculate_float` decide (the mode is
        // speculative here, and the function's own code is not inlined), from the feedback
        // as `operand_feedback` makes it.
        let known = |t: u8| (t != MIXED && t != UNREACHED).then_some(t);
        let arith = |b: u8, c: u8, modulo: bool| {
            let fb = feedback_with_tags(input.feedback[pc], [known(b), known(c)]);
            if ints_only(fb) {
                tag::INT
            } else if !numbers_only(fb) || modulo {
                MIXED
            } else if floats_only(fb) || b == tag::FLOAT || c == tag::FLOAT {
                tag::FLOAT
            } else if b == tag::INT && c == tag::INT {
                tag::INT
            } else {
                MIXED
            }
        };
        // A float constant operand: the float path or an exit, unless the helper runs.
        let with_float = |b: u8, modulo: bool| {
            let fb = feedback_with_tags(input.feedback[pc], [known(b)]);
            if numbers_only(fb) && !modulo {
                tag::FLOAT
            } else {
                MIXED
            }
        };
        let (a, t) = match op {
            Op::Move { a, b } => (a, s[b.0 as usize]),
            Op::LoadNil { a } => (a, tag::NIL),
            Op::LoadTrue { a } => (a, tag::TRUE),
            Op::LoadFalse { a } => (a, tag::FALSE),
            Op::LoadInt { a, .. } => (a, tag::INT),
            Op::LoadK { a, k } => (a, input.consts[k.0 as usize].to_bits().0 as u8),
            Op::Add { a, b, c }
            | Op::Sub { a, b, c }
            | Op::Mul { a, b, c }
            | Op::Div { a, b, c } => (a, arith(s[b.0 as usize], s[c.0 as usize], false)),
            Op::Mod { a, b, c } => (a, arith(s[b.0 as usize], s[c.0 as usize], true)),
            Op::AddI { a, b, .. }
            | Op::SubI { a, b, .. }
            | Op::MulI { a, b, .. }
            | Op::DivI { a, b, .. }
            | Op::AddIL { a, b, .. }
            | Op::MulIL { a, b, .. } => (a, arith(s[b.0 as usize], tag::INT, false)),
            Op::ModI { a, b, .. } => (a, arith(s[b.0 as usize], tag::INT, true)),
            Op::AddK { a, b, .. }
            | Op::SubK { a, b, .. }
            | Op::MulK { a, b, .. }
            | Op::DivK { a, b, .. }
            | Op::AddKL { a, b, .. }
            | Op::MulKL { a, b, .. } => (a, with_float(s[b.0 as usize], false)),
            Op::ModK { a, b, .. } => (a, with_float(s[b.0 as usize], true)),
            // An int's negation may take the helper (the minimum int); a float's never does.
            Op::Neg { a, b } if s[b.0 as usize] == tag::FLOAT => (a, tag::FLOAT),
            Op::ForPrep { a, .. } => {
                // Both bounds are ints past the check (else the instruction raises).
                s[a.0 as usize] = tag::INT;
                s[a.0 as usize + 1] = tag::INT;
                return;
            }
            // The counter keeps its tag; the limit is not written.
            Op::ForLoop { .. } => return,
            _ => {
                if let Some(w) = op.write() {
                    s[w.reg().0 as usize] = MIXED;
                }
                if let Some((first, len)) = op.register_run() {
                    // A call's callee may change its arguments' registers, and any register
                    // above them.
                    let end = if op.effects().safepoint == Safepoint::Always {
                        s.len()
                    } else {
                        (first + len).min(s.len())
                    };
                    s[first.min(end)..end].fill(MIXED);
                }
                return;
            }
        };
        s[a.0 as usize] = t;
    }
}
