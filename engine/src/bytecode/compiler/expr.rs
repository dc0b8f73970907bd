//! Expressions: into a given register (`expr_to`), into any register (`expr_any`) or for their
//! effects only; literals, names, collections, properties and indexing.

use super::{CompileResult, Compiler};
use crate::bytecode::{Const, Count, GlobalIdx, Imm, Op, ProtoKind, Reg, UpIdx};
use crate::source::{Span, with_stack};
use crate::syntax::ast::{Expr, ExprKind, Ident, Res};
use crate::syntax::visit::any_expr;

/// List literal elements stored per `NewList`/`AppendList` instruction.
const LIST_BATCH: usize = 64;

impl Compiler<'_> {
    /// An expression whose value is not needed.
    pub(super) fn expr_effect(&mut self, e: &Expr) -> CompileResult<()> {
        let mark = self.mark();
        match &e.kind {
            ExprKind::Assign(_) => self.assign_effect(e)?,
            _ => {
                self.expr_any(e)?;
            }
        }
        self.free_to(mark);
        Ok(())
    }

    /// Compiles `e` into any register: a local's own register when that is safe, else a new
    /// temporary.
    pub(super) fn expr_any(&mut self, e: &Expr) -> CompileResult<Reg> {
        if let Some(r) = self.local_reg(e) {
            return Ok(r);
        }
        let r = self.alloc(e.span)?;
        self.expr_to(e, r)?;
        Ok(r)
    }

    /// Like `expr_any`, but copies a local into a temporary when `later` (evaluated before
    /// the result is used) may assign to it.
    pub(super) fn operand(&mut self, e: &Expr, later: &[&Expr]) -> CompileResult<Reg> {
        if self.local_reg(e).is_some() && later.iter().any(|l| has_assign(l)) {
            let r = self.alloc(e.span)?;
            self.expr_to(e, r)?;
            return Ok(r);
        }
        self.expr_any(e)
    }

    /// The register of an unboxed local named by `e`.
    pub(super) fn local_reg(&mut self, e: &Expr) -> Option<Reg> {
        let res = match &e.kind {
            ExprKind::Name { res, .. } => *res,
            ExprKind::SelfRef { res } => *res,
            _ => return None,
        };
        match res {
            Res::Local(b) if !self.is_captured(b) => self.func().binding_regs.get(&b).copied(),
            _ => None,
        }
    }

    /// Compiles `e` into `dst`. Contract: `dst` is written only by the last instruction of
    /// `e`, so `x = f(x) + x` may target `x` directly; scratch values always go to fresh
    /// temporaries.
    pub(super) fn expr_to(&mut self, e: &Expr, dst: Reg) -> CompileResult<()> {
        with_stack(|| self.expr_to_inner(e, dst))
    }

    fn expr_to_inner(&mut self, e: &Expr, dst: Reg) -> CompileResult<()> {
        let span = e.span;
        let mark = self.mark();
        match &e.kind {
            ExprKind::Int(i) => self.load_int(*i, dst, span),
            ExprKind::Float(f) => self.load_const(Const::Float(*f), dst, span),
            ExprKind::Str(s) => self.load_const(Const::Str((&**s).into()), dst, span),
            ExprKind::Bool(true) => {
                self.emit(Op::LoadTrue { a: dst }, span);
            }
            ExprKind::Bool(false) => {
                self.emit(Op::LoadFalse { a: dst }, span);
            }
            ExprKind::Nil => {
                self.emit(Op::LoadNil { a: dst }, span);
            }
            ExprKind::Name { res, .. } | ExprKind::SelfRef { res } => {
                self.load_name(*res, dst, span)
            }
            ExprKind::List(items) => self.list_literal(items, dst, span)?,
            ExprKind::Map(entries) => self.map_literal(entries, dst, span)?,
            ExprKind::Unary { op, expr } => self.unary(*op, expr, dst, span)?,
            ExprKind::Chain(c) => self.chain(&c.first, &c.rest, dst)?,
            ExprKind::Call(call) => {
                let r = self.call(&call.callee, &call.args, span, Some(dst))?;
                self.move_unless_same(dst, r, span);
            }
            ExprKind::Get(get) => self.get_prop(&get.obj, &get.name, dst)?,
            ExprKind::Index(ix) => {
                let o = self.operand(&ix.obj, &[&ix.index])?;
                let i = self.expr_any(&ix.index)?;
                self.emit(Op::GetIndex { a: dst, b: o, c: i }, ix.index.span);
            }
            ExprKind::Super(sup) => {
                let s = self.self_value(sup.self_res, span)?;
                let m = self.symbol(&sup.name.name);
                self.emit(Op::GetSuper { a: dst, b: s, m }, sup.name.span);
            }
            ExprKind::Fn(decl) => {
                let p =
                    self.function(decl, ProtoKind::Function, None, decl.name.name.to_string())?;
                self.emit(Op::Closure { a: dst, p }, span);
            }
            ExprKind::Assign(_) => {
                let r = self.assign(e)?;
                self.move_unless_same(dst, r, span);
            }
        }
        self.free_to(mark);
        Ok(())
    }

    /// Copies `src` to `dst` if they differ.
    pub(super) fn move_unless_same(&mut self, dst: Reg, src: Reg, span: Span) {
        if src != dst {
            self.emit(Op::Move { a: dst, b: src }, span);
        }
    }

    pub(super) fn load_int(&mut self, i: i64, dst: Reg, span: Span) {
        match i32::try_from(i) {
            Ok(imm) => self.emit(
                Op::LoadInt {
                    a: dst,
                    imm: Imm(imm),
                },
                span,
            ),
            Err(_) => {
                let k = self.constant(Const::Int(i));
                self.emit(Op::LoadK { a: dst, k }, span)
            }
        };
    }

    pub(super) fn load_const(&mut self, c: Const, dst: Reg, span: Span) {
        let k = self.constant(c);
        self.emit(Op::LoadK { a: dst, k }, span);
    }

    /// Reads the variable `res` refers to into `dst`.
    pub(super) fn load_name(&mut self, res: Res, dst: Reg, span: Span) {
        match res {
            Res::Local(b) => {
                let r = self.func().binding_regs[&b];
                if self.is_captured(b) {
                    self.emit(Op::GetBox { a: dst, b: r }, span);
                } else {
                    self.move_unless_same(dst, r, span);
                }
            }
            Res::Upval(u) => {
                self.emit(
                    Op::GetUpval {
                        a: dst,
                        u: UpIdx(u),
                    },
                    span,
                );
            }
            Res::Global(g) => {
                self.emit(
                    Op::GetGlobal {
                        a: dst,
                        g: GlobalIdx(g),
                    },
                    span,
                );
            }
            Res::Builtin(f) => {
                self.emit(Op::LoadNative { a: dst, f }, span);
            }
            Res::Unresolved => unreachable!("the resolver resolves every name"),
        }
    }

    /// The register holding `self` (loading a captured `self` into a temporary).
    fn self_value(&mut self, res: Res, span: Span) -> CompileResult<Reg> {
        if let Res::Local(b) = res
            && !self.is_captured(b)
        {
            return Ok(self.func().binding_regs[&b]);
        }
        let t = self.alloc(span)?;
        self.load_name(res, t, span);
        Ok(t)
    }

    /// `[a, b, ...]`: `NewList` with the first batch of elements, `AppendList` for the rest.
    fn list_literal(&mut self, items: &[Expr], dst: Reg, span: Span) -> CompileResult<()> {
        let l = if items.len() <= LIST_BATCH || self.is_temp(dst) {
            dst
        } else {
            self.alloc(span)?
        };
        let mut first = true;
        for chunk in items
            .chunks(LIST_BATCH)
            .chain(items.is_empty().then_some(&[][..]))
        {
            let mark = self.mark();
            let base = self.mark();
            for item in chunk {
                let r = self.alloc(item.span)?;
                self.expr_to(item, r)?;
            }
            let n = Count(chunk.len() as u16);
            // An empty run names no register; point it at the list itself.
            let b = if chunk.is_empty() {
                l
            } else {
                Reg(base as u16)
            };
            if first {
                let len = Imm(i32::try_from(items.len()).unwrap_or(i32::MAX));
                self.emit(Op::NewList { a: l, b, n, len }, span);
                first = false;
            } else {
                self.emit(Op::AppendList { a: l, b, n }, span);
            }
            self.free_to(mark);
        }
        self.move_unless_same(dst, l, span);
        Ok(())
    }

    /// `{k: v, ...}`: `NewMap`, then one `SetIndex` per entry.
    fn map_literal(&mut self, entries: &[(Expr, Expr)], dst: Reg, span: Span) -> CompileResult<()> {
        let m = if self.is_temp(dst) {
            dst
        } else {
            self.alloc(span)?
        };
        self.emit(Op::NewMap { a: m }, span);
        for (k, v) in entries {
            let inner = self.mark();
            let kr = self.operand(k, &[v])?;
            let vr = self.expr_any(v)?;
            self.emit(Op::SetIndex { a: m, b: kr, c: vr }, k.span);
            self.free_to(inner);
        }
        self.move_unless_same(dst, m, span);
        Ok(())
    }

    /// `obj.name`, through an inline cache.
    fn get_prop(&mut self, obj: &Expr, name: &Ident, dst: Reg) -> CompileResult<()> {
        let o = self.expr_any(obj)?;
        let m = self.symbol(&name.name);
        let ic = self.new_ic();
        self.emit(
            Op::GetProp {
                a: dst,
                b: o,
                m,
                ic,
            },
            name.span,
        );
        Ok(())
    }
}

/// Whether evaluating `e` may assign to a local (function literals' bodies do not run, and
/// `any_expr` does not enter them).
fn has_assign(e: &Expr) -> bool {
    any_expr(e, &mut |x| matches!(x.kind, ExprKind::Assign(_)))
}
