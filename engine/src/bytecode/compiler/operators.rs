//! Operators: unary operators, chains of binary operators (short-circuit `and`/`or` included),
//! conditions as fused compare-and-branch jumps, and immediate forms for small int literals.

use super::{CompileResult, Compiler};
use crate::bytecode::{Const, Imm, Jump, Op, Reg};
use crate::source::Span;
use crate::syntax::ast::{BinOp, Expr, ExprKind, Link, UnOp};

impl Compiler<'_> {
    /// `-e` or `!e`; a negated number literal is loaded as a constant.
    pub(super) fn unary(
        &mut self,
        op: UnOp,
        expr: &Expr,
        dst: Reg,
        span: Span,
    ) -> CompileResult<()> {
        match (op, &expr.kind) {
            (UnOp::Neg, ExprKind::Int(i)) if i.checked_neg().is_some() => {
                self.load_int(-*i, dst, span)
            }
            (UnOp::Neg, ExprKind::Float(f)) => self.load_const(Const::Float(-*f), dst, span),
            _ => {
                // A fresh destination can hold the operand too, so nested unary operators need
                // one register, not one per level.
                let r = if self.is_temp(dst) && self.local_reg(expr).is_none() {
                    self.expr_to(expr, dst)?;
                    dst
                } else {
                    self.expr_any(expr)?
                };
                let op = match op {
                    UnOp::Neg => Op::Neg { a: dst, b: r },
                    UnOp::Not => Op::Not { a: dst, b: r },
                };
                self.emit(op, span);
            }
        }
        Ok(())
    }

    /// Operators of one precedence level, applied left to right.
    pub(super) fn chain(&mut self, first: &Expr, rest: &[Link], dst: Reg) -> CompileResult<()> {
        if matches!(rest[0].op, BinOp::And | BinOp::Or) {
            self.short_circuit(first, rest, dst)
        } else {
            self.binary_chain(first, rest, dst)
        }
    }

    /// `and`/`or`: the result is the last operand evaluated.
    fn short_circuit(&mut self, first: &Expr, rest: &[Link], dst: Reg) -> CompileResult<()> {
        let acc = if self.is_temp(dst) {
            dst
        } else {
            self.alloc(first.span)?
        };
        self.expr_to(first, acc)?;
        let mut exits = Vec::new();
        for link in rest {
            let off = Jump(0);
            let j = match link.op {
                BinOp::And => Op::JmpIfNot { a: acc, off },
                _ => Op::JmpIf { a: acc, off },
            };
            exits.push(self.emit(j, link.op_span()));
            self.expr_to(&link.rhs, acc)?;
        }
        self.patch_all(exits);
        self.move_unless_same(dst, acc, first.span);
        Ok(())
    }

    /// Arithmetic or comparisons: intermediate results in one accumulator, the last in `dst`.
    fn binary_chain(&mut self, first: &Expr, rest: &[Link], dst: Reg) -> CompileResult<()> {
        let n = rest.len();
        // `2 * x`, `0.5 + x`: the literal is an operand of the instruction (`MulIL`, `AddKL`),
        // not loaded into a register first. Evaluating `x` first is unobservable: a literal
        // has no effects.
        let literal_left = literal_left_op(rest[0].op, first, &rest[0].rhs);
        let mut left = if literal_left.is_some() {
            Reg(0) // not read: the first link takes the literal instead
        } else {
            self.operand(first, &[&rest[0].rhs])?
        };
        let acc = if n > 1 {
            Some(self.alloc(first.span)?)
        } else {
            None
        };
        for (i, link) in rest.iter().enumerate() {
            let (op, span, e) = (link.op, link.op_span(), &link.rhs);
            let mark = self.mark();
            let out = if i + 1 == n {
                dst
            } else {
                acc.expect("allocated for long chains")
            };
            if i == 0
                && let Some(form) = literal_left
            {
                let right = self.expr_any(e)?;
                let op = self.literal_left_instr(form, out, right);
                self.emit(op, span);
            } else if let Some(op) = self.arith_literal_op(op, out, left, e) {
                self.emit(op, span);
            } else {
                let right = self.expr_any(e)?;
                self.emit(binary_op(op, out, left, right), span);
            }
            self.free_to(mark);
            left = out;
        }
        Ok(())
    }

    /// `R[a] = lit op R[b]` for a literal-left form (its float literal goes to the pool).
    fn literal_left_instr(&mut self, form: LiteralLeft, a: Reg, b: Reg) -> Op {
        match form {
            LiteralLeft::AddI(imm) => Op::AddIL { a, b, imm },
            LiteralLeft::MulI(imm) => Op::MulIL { a, b, imm },
            LiteralLeft::AddK(f) => Op::AddKL {
                a,
                b,
                k: self.constant(Const::Float(f)),
            },
            LiteralLeft::MulK(f) => Op::MulKL {
                a,
                b,
                k: self.constant(Const::Float(f)),
            },
        }
    }

    /// Evaluates `cond` and emits the jumps taken when it is falsy (to be patched to the same
    /// place). `&&` and `||` become jumps on each operand instead of a value tested once: the
    /// operands are still evaluated in order and only as far as needed.
    pub(super) fn cond_jumps(&mut self, cond: &Expr) -> CompileResult<Vec<usize>> {
        if let ExprKind::Unary {
            op: UnOp::Not,
            expr,
        } = &cond.kind
        {
            // `!e` is falsy when `e` is truthy (whatever `e` is: no comparison is inverted,
            // which NaN would make wrong).
            let r = self.expr_any(expr)?;
            return Ok(vec![self.emit(Op::JmpIf { a: r, off: Jump(0) }, cond.span)]);
        }
        let ExprKind::Chain(chain) = &cond.kind else {
            return Ok(vec![self.cond_jump(cond)?]);
        };
        // A chain holds the operators of one precedence level, so all `&&` or all `||`.
        let operands = std::iter::once(&chain.first).chain(chain.rest.iter().map(|l| &l.rhs));
        let mark = self.mark();
        match chain.rest[0].op {
            BinOp::And => {
                let mut falsy = Vec::new();
                for e in operands {
                    falsy.extend(self.cond_jumps(e)?);
                    self.free_to(mark);
                }
                Ok(falsy)
            }
            BinOp::Or => {
                let n = chain.rest.len();
                let mut truthy = Vec::new();
                let mut falsy = Vec::new();
                for (i, e) in operands.enumerate() {
                    falsy = self.cond_jumps(e)?;
                    self.free_to(mark);
                    if i < n {
                        // Truthy: the whole condition holds. Falsy: try the next operand.
                        truthy.push(self.emit(Op::Jmp { off: Jump(0) }, e.span));
                        self.patch_all(std::mem::take(&mut falsy));
                    }
                }
                self.patch_all(truthy);
                Ok(falsy)
            }
            _ => Ok(vec![self.cond_jump(cond)?]),
        }
    }

    /// Evaluates `cond` and emits a jump taken when it is falsy. A single comparison becomes
    /// one fused compare-and-branch instruction (with an immediate for a small int literal).
    fn cond_jump(&mut self, cond: &Expr) -> CompileResult<usize> {
        self.test_jump(cond, Sense::WhenFalse)
    }

    /// The test at the end of a `while` loop's body: jumps back to `top` while `cond` holds
    /// (the loop's back-edge, fused with its last comparison) and returns the jumps taken when
    /// it does not, to be patched to the loop's exit. `a && b` tests `a` with a jump to the
    /// exit and `b` with the back-edge.
    pub(super) fn loop_test(&mut self, cond: &Expr, top: usize) -> CompileResult<Vec<usize>> {
        let mut exits = Vec::new();
        let mut last = cond;
        if let ExprKind::Chain(chain) = &cond.kind
            && chain.rest[0].op == BinOp::And
        {
            let mark = self.mark();
            let (init, [tail]) = chain.rest.split_at(chain.rest.len() - 1) else {
                unreachable!("split_at leaves one link")
            };
            for e in std::iter::once(&chain.first).chain(init.iter().map(|l| &l.rhs)) {
                exits.extend(self.cond_jumps(e)?);
                self.free_to(mark);
            }
            last = &tail.rhs;
        }
        let back = self.test_jump(last, Sense::LoopWhenTrue)?;
        self.patch_to(back, top);
        Ok(exits)
    }

    /// Evaluates `cond` and emits one jump on it, in the sense `sense`.
    fn test_jump(&mut self, cond: &Expr, sense: Sense) -> CompileResult<usize> {
        if let ExprKind::Chain(chain) = &cond.kind
            && let [link] = chain.rest.as_slice()
            && let (first, op, span, rhs) = (&chain.first, link.op, link.op_span(), &link.rhs)
            && matches!(
                op,
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
            )
        {
            let b = self.operand(first, &[rhs])?;
            if let ExprKind::Int(k) = rhs.kind
                && let Ok(k) = i32::try_from(k)
            {
                return Ok(self.emit(compare_imm_jump(op, b, Imm(k), sense), span));
            }
            let c = self.expr_any(rhs)?;
            return Ok(self.emit(compare_jump(op, b, c, sense), span));
        }
        let a = self.expr_any(cond)?;
        let off = Jump(0);
        let op = match sense {
            Sense::WhenFalse => Op::JmpIfNot { a, off },
            Sense::LoopWhenTrue => Op::LoopIf { a, off },
        };
        Ok(self.emit(op, cond.span))
    }

    /// `R[a] := R[b] op rhs` with the literal `rhs` as an operand: an immediate for an int
    /// that fits, a constant (`AddK`...) for a float; `None` for anything else.
    pub(super) fn arith_literal_op(&mut self, op: BinOp, a: Reg, b: Reg, rhs: &Expr) -> Option<Op> {
        if let Some(imm) = arith_imm_op(op, a, b, rhs) {
            return Some(imm);
        }
        let ExprKind::Float(f) = rhs.kind else {
            return None;
        };
        if !matches!(
            op,
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod
        ) {
            return None;
        }
        let k = self.constant(Const::Float(f));
        Some(match op {
            BinOp::Add => Op::AddK { a, b, k },
            BinOp::Sub => Op::SubK { a, b, k },
            BinOp::Mul => Op::MulK { a, b, k },
            BinOp::Div => Op::DivK { a, b, k },
            _ => Op::ModK { a, b, k },
        })
    }
}

/// `R[a] := R[b] op k` in immediate form, when `rhs` is an int literal that fits (same
/// semantics and messages as the register form).
pub(super) fn arith_imm_op(op: BinOp, a: Reg, b: Reg, rhs: &Expr) -> Option<Op> {
    let ExprKind::Int(k) = rhs.kind else {
        return None;
    };
    let imm = Imm(i32::try_from(k).ok()?);
    Some(match op {
        BinOp::Add => Op::AddI { a, b, imm },
        BinOp::Sub => Op::SubI { a, b, imm },
        BinOp::Mul => Op::MulI { a, b, imm },
        BinOp::Div => Op::DivI { a, b, imm },
        BinOp::Mod => Op::ModI { a, b, imm },
        _ => return None,
    })
}

/// The literal-left instruction for `lit op rhs` when there is one: `+` or `*` (whose fast
/// paths commute), an int that fits an immediate or a float, and a right operand that is not
/// a literal itself (that keeps its usual form).
fn literal_left_op(op: BinOp, lit: &Expr, rhs: &Expr) -> Option<LiteralLeft> {
    let add = match op {
        BinOp::Add => true,
        BinOp::Mul => false,
        _ => return None,
    };
    if matches!(rhs.kind, ExprKind::Int(_) | ExprKind::Float(_)) {
        return None;
    }
    match lit.kind {
        ExprKind::Int(k) => {
            let imm = Imm(i32::try_from(k).ok()?);
            Some(if add {
                LiteralLeft::AddI(imm)
            } else {
                LiteralLeft::MulI(imm)
            })
        }
        ExprKind::Float(f) => Some(if add {
            LiteralLeft::AddK(f)
        } else {
            LiteralLeft::MulK(f)
        }),
        _ => None,
    }
}

/// An instruction with its literal on the left, before its registers are known.
#[derive(Clone, Copy)]
enum LiteralLeft {
    AddI(Imm),
    MulI(Imm),
    AddK(f64),
    MulK(f64),
}

/// When a conditional jump is taken.
#[derive(Clone, Copy)]
enum Sense {
    /// When the condition fails (`JmpNot...`, `JmpIfNot`).
    WhenFalse,
    /// When it holds, as a loop's back-edge (`Loop...`, `LoopIf`).
    LoopWhenTrue,
}

/// The fused compare-and-branch `R[b] op R[c]` jumping in the sense `sense`.
fn compare_jump(op: BinOp, b: Reg, c: Reg, sense: Sense) -> Op {
    let off = Jump(0);
    match (sense, op) {
        (Sense::WhenFalse, BinOp::Eq) => Op::JmpNotEq { b, c, off },
        (Sense::WhenFalse, BinOp::Ne) => Op::JmpNotNe { b, c, off },
        (Sense::WhenFalse, BinOp::Lt) => Op::JmpNotLt { b, c, off },
        (Sense::WhenFalse, BinOp::Le) => Op::JmpNotLe { b, c, off },
        (Sense::WhenFalse, BinOp::Gt) => Op::JmpNotGt { b, c, off },
        (Sense::WhenFalse, _) => Op::JmpNotGe { b, c, off },
        (Sense::LoopWhenTrue, BinOp::Eq) => Op::LoopEq { b, c, off },
        (Sense::LoopWhenTrue, BinOp::Ne) => Op::LoopNe { b, c, off },
        (Sense::LoopWhenTrue, BinOp::Lt) => Op::LoopLt { b, c, off },
        (Sense::LoopWhenTrue, BinOp::Le) => Op::LoopLe { b, c, off },
        (Sense::LoopWhenTrue, BinOp::Gt) => Op::LoopGt { b, c, off },
        (Sense::LoopWhenTrue, _) => Op::LoopGe { b, c, off },
    }
}

/// `compare_jump` with an immediate right operand.
fn compare_imm_jump(op: BinOp, b: Reg, imm: Imm, sense: Sense) -> Op {
    let off = Jump(0);
    match (sense, op) {
        (Sense::WhenFalse, BinOp::Eq) => Op::JmpNotEqI { b, imm, off },
        (Sense::WhenFalse, BinOp::Ne) => Op::JmpNotNeI { b, imm, off },
        (Sense::WhenFalse, BinOp::Lt) => Op::JmpNotLtI { b, imm, off },
        (Sense::WhenFalse, BinOp::Le) => Op::JmpNotLeI { b, imm, off },
        (Sense::WhenFalse, BinOp::Gt) => Op::JmpNotGtI { b, imm, off },
        (Sense::WhenFalse, _) => Op::JmpNotGeI { b, imm, off },
        (Sense::LoopWhenTrue, BinOp::Eq) => Op::LoopEqI { b, imm, off },
        (Sense::LoopWhenTrue, BinOp::Ne) => Op::LoopNeI { b, imm, off },
        (Sense::LoopWhenTrue, BinOp::Lt) => Op::LoopLtI { b, imm, off },
        (Sense::LoopWhenTrue, BinOp::Le) => Op::LoopLeI { b, imm, off },
        (Sense::LoopWhenTrue, BinOp::Gt) => Op::LoopGtI { b, imm, off },
        (Sense::LoopWhenTrue, _) => Op::LoopGeI { b, imm, off },
    }
}

/// `R[a] := R[b] op R[c]`.
pub(super) fn binary_op(op: BinOp, a: Reg, b: Reg, c: Reg) -> Op {
    match op {
        BinOp::Add => Op::Add { a, b, c },
        BinOp::Sub => Op::Sub { a, b, c },
        BinOp::Mul => Op::Mul { a, b, c },
        BinOp::Div => Op::Div { a, b, c },
        BinOp::Mod => Op::Mod { a, b, c },
        BinOp::Eq => Op::Eq { a, b, c },
        BinOp::Ne => Op::Ne { a, b, c },
        BinOp::Lt => Op::Lt { a, b, c },
        BinOp::Le => Op::Le { a, b, c },
        BinOp::Gt => Op::Gt { a, b, c },
        BinOp::Ge => Op::Ge { a, b, c },
        BinOp::And | BinOp::Or => unreachable!("short-circuit operators have no instruction"),
    }
}
