//! Calls: the callee (or receiver) and the arguments in consecutive registers on top of the
//! temporaries; method calls (`Invoke`, `SuperInvoke`) and builtins have instructions of their own.

use super::{CompileResult, Compiler};
use crate::bytecode::{Count, GlobalIdx, Op, Reg};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, Res};

impl Compiler<'_> {
    /// Compiles a call; the result is left in the returned (temporary) register.
    pub(super) fn call(
        &mut self,
        callee: &Expr,
        args: &[Expr],
        span: Span,
        dst: Option<Reg>,
    ) -> CompileResult<Reg> {
        // A fresh destination on top of the temporaries can be the call's base directly.
        let base = match dst {
            Some(d) if self.is_temp(d) && d.0 as usize + 1 == self.mark() => d,
            _ => self.alloc(span)?,
        };
        let n = Count(args.len() as u16);
        let line_span = Span {
            start: callee.span.end.saturating_sub(1),
            end: callee.span.end,
        };
        let op = match &callee.kind {
            ExprKind::Get(get) => {
                self.expr_to(&get.obj, base)?;
                self.call_args(args)?;
                Op::Invoke {
                    a: base,
                    m: self.symbol(&get.name.name),
                    n,
                    ic: self.new_ic(),
                }
            }
            ExprKind::Super(sup) => {
                self.load_name(sup.self_res, base, span);
                self.call_args(args)?;
                Op::SuperInvoke {
                    a: base,
                    m: self.symbol(&sup.name.name),
                    n,
                }
            }
            ExprKind::Name {
                res: Res::Builtin(f),
                ..
            } => {
                self.call_args(args)?;
                Op::CallNative { a: base, f: *f, n }
            }
            ExprKind::Name {
                res: Res::Global(g),
                ..
            } if self.is_constant_global(*g) => {
                self.call_args(args)?;
                Op::CallGlobal {
                    a: base,
                    g: GlobalIdx(*g),
                    n,
                }
            }
            _ => {
                self.expr_to(callee, base)?;
                self.call_args(args)?;
                Op::Call { a: base, n }
            }
        };
        let at = match &callee.kind {
            ExprKind::Get(get) => get.name.span,
            ExprKind::Super(sup) => sup.name.span,
            _ => line_span,
        };
        self.emit(op, at);
        self.free_to(base.0 as usize + 1);
        Ok(base)
    }

    /// Each argument in a new register, in order.
    fn call_args(&mut self, args: &[Expr]) -> CompileResult<()> {
        for a in args {
            let r = self.alloc(a.span)?;
            self.expr_to(a, r)?;
        }
        Ok(())
    }
}
