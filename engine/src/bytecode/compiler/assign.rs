//! Assignments to names, properties and elements, plain or compound (`op=`); an unboxed
//! local is written in place.

use super::operators::binary_op;
use super::{CompileResult, Compiler};
use crate::bytecode::{Const, GlobalIdx, Op, Reg, UpIdx};
use crate::source::Span;
use crate::syntax::ast::{BinOp, Expr, ExprKind, Res};

impl Compiler<'_> {
    /// Compiles an assignment; returns the register holding the assigned value.
    pub(super) fn assign(&mut self, e: &Expr) -> CompileResult<Reg> {
        let ExprKind::Assign(assign) = &e.kind else {
            unreachable!("called on assignments")
        };
        let (target, op, value) = (&assign.target, &assign.op, &assign.value);
        let span = e.span;
        match &target.kind {
            ExprKind::Name { res, .. } => self.assign_name(*res, target, *op, value, span),
            ExprKind::Get(get) => {
                let (obj, name) = (&get.obj, &get.name);
                let o = self.operand(obj, &[value])?;
                let m = self.symbol(&name.name);
                let v = self.assigned_value(target, *op, value, span, |c, t, s| {
                    let ic = c.new_ic();
                    c.emit(Op::GetProp { a: t, b: o, m, ic }, s);
                })?;
                let ic = self.new_ic();
                self.emit(Op::SetProp { a: o, b: v, m, ic }, name.span);
                Ok(v)
            }
            ExprKind::Index(ix) => {
                let (obj, index) = (&ix.obj, &ix.index);
                let o = self.operand(obj, &[index, value])?;
                let i = self.operand(index, &[value])?;
                let v = self.assigned_value(target, *op, value, span, |c, t, s| {
                    c.emit(Op::GetIndex { a: t, b: o, c: i }, s);
                })?;
                self.emit(Op::SetIndex { a: o, b: i, c: v }, index.span);
                Ok(v)
            }
            _ => unreachable!("the parser checks assignment targets"),
        }
    }

    /// Compiles an assignment whose value is not needed: `l[i] = literal` takes the literal
    /// from the constant table (`SetIndexK`), with no register loaded each time.
    pub(super) fn assign_effect(&mut self, e: &Expr) -> CompileResult<()> {
        if let ExprKind::Assign(assign) = &e.kind
            && assign.op.is_none()
            && let ExprKind::Index(ix) = &assign.target.kind
            && let Some(c) = literal_const(&assign.value)
        {
            let o = self.operand(&ix.obj, &[&ix.index])?;
            let i = self.operand(&ix.index, &[])?;
            let k = self.constant(c);
            self.emit(Op::SetIndexK { a: o, b: i, k }, ix.index.span);
            return Ok(());
        }
        self.assign(e).map(|_| ())
    }

    /// Assigns to the variable `res` refers to (`target` names it).
    fn assign_name(
        &mut self,
        res: Res,
        target: &Expr,
        op: Option<BinOp>,
        value: &Expr,
        span: Span,
    ) -> CompileResult<Reg> {
        if let Res::Local(b) = res
            && !self.is_captured(b)
        {
            let r = self.func().binding_regs[&b];
            match op {
                None => self.expr_to(value, r)?,
                Some(op) => {
                    if let Some(imm) = self.arith_literal_op(op, r, r, value) {
                        self.emit(imm, span);
                    } else {
                        let cur = self.operand(target, &[value])?;
                        let v = self.expr_any(value)?;
                        self.emit(binary_op(op, r, cur, v), span);
                    }
                }
            }
            return Ok(r);
        }
        let v = self.assigned_value(target, op, value, span, |c, t, s| c.load_name(res, t, s))?;
        match res {
            Res::Local(b) => {
                let r = self.func().binding_regs[&b];
                self.emit(Op::SetBox { a: r, b: v }, span);
            }
            Res::Upval(u) => {
                self.emit(Op::SetUpval { a: v, u: UpIdx(u) }, span);
            }
            Res::Global(g) => {
                self.emit(
                    Op::SetGlobal {
                        a: v,
                        g: GlobalIdx(g),
                    },
                    span,
                );
            }
            Res::Builtin(_) | Res::Unresolved => {
                unreachable!("the resolver rejects these targets")
            }
        }
        Ok(v)
    }

    /// The value to store: `value`, or for `op=` the current value (read by `load`)
    /// combined with `value`.
    fn assigned_value(
        &mut self,
        target: &Expr,
        op: Option<BinOp>,
        value: &Expr,
        span: Span,
        load: impl FnOnce(&mut Self, Reg, Span),
    ) -> CompileResult<Reg> {
        match op {
            None => self.expr_any(value),
            Some(op) => {
                let cur = self.alloc(target.span)?;
                load(self, cur, target.span);
                match self.arith_literal_op(op, cur, cur, value) {
                    Some(imm) => self.emit(imm, span),
                    None => {
                        let v = self.expr_any(value)?;
                        self.emit(binary_op(op, cur, cur, v), span)
                    }
                };
                Ok(cur)
            }
        }
    }
}

/// The constant a literal expression stands for (`SetIndexK`'s value).
fn literal_const(e: &Expr) -> Option<Const> {
    Some(match &e.kind {
        ExprKind::Int(i) => Const::Int(*i),
        ExprKind::Float(f) => Const::Float(*f),
        ExprKind::Str(s) => Const::Str((&**s).into()),
        ExprKind::Bool(b) => Const::Bool(*b),
        ExprKind::Nil => Const::Nil,
        _ => return None,
    })
}
