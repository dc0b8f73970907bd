//! Function bodies: the script (with its hoisting preamble), functions and methods, and the
//! implicit return at the end of a body.

use super::classes::order_classes;
use super::{CompileResult, Compiler, new_proto};
use crate::bytecode::{CaptureSrc, ClassIdx, GlobalIdx, Op, ProtoId, ProtoKind, Reg, UpIdx};
use crate::source::Span;
use crate::syntax::ast::{self, Binding, Capture, FnDecl, StmtKind};

impl Compiler<'_> {
    /// The script's prototype: the hoisting preamble, then the top-level statements. Each
    /// statement is dropped once compiled, so the tree shrinks as the bytecode grows and
    /// the two are never both whole in memory.
    pub(super) fn script(&mut self, ast: ast::Script) -> CompileResult<ProtoId> {
        self.push_fn(new_proto("<script>".into(), ProtoKind::Script, 0, None, 1));
        let start = Span::default();
        self.hoist(&ast)?;
        let end = ast.stmts.last().map_or(start, |s| Span {
            start: s.span.end.saturating_sub(1),
            end: s.span.end,
        });
        let n = ast.stmts.len();
        for (i, stmt) in ast.stmts.into_iter().enumerate() {
            if self.repl
                && i + 1 == n
                && let StmtKind::Expr(e) = &stmt.kind
            {
                let r = self.expr_any(e)?;
                self.emit(Op::Return { a: r }, stmt.span);
                return Ok(self.finish_fn());
            }
            self.stmt(&stmt)?;
        }
        self.emit(Op::ReturnNil {}, end);
        Ok(self.finish_fn())
    }

    /// Hoisting: every top-level function and class exists before the first statement.
    fn hoist(&mut self, ast: &ast::Script) -> CompileResult<()> {
        let mut classes = Vec::new();
        for stmt in &ast.stmts {
            match &stmt.kind {
                StmtKind::Fn { binding, decl } => {
                    let p =
                        self.function(decl, ProtoKind::Function, None, decl.name.name.to_string())?;
                    let t = self.alloc(decl.span)?;
                    self.emit(Op::Closure { a: t, p }, decl.span);
                    let g = GlobalIdx(self.global_slots[binding.ident.name.as_str()]);
                    self.emit(Op::SetGlobal { a: t, g }, decl.span);
                    self.free_to(0);
                }
                StmtKind::Class(c) => classes.push(&**c),
                _ => {}
            }
        }
        for c in order_classes(&classes) {
            self.class_decl(c)?;
        }
        Ok(())
    }

    /// Compiles `decl` into a prototype of its own, nested in the function being compiled.
    pub(super) fn function(
        &mut self,
        decl: &FnDecl,
        kind: ProtoKind,
        class: Option<ClassIdx>,
        name: String,
    ) -> CompileResult<ProtoId> {
        let line = self.line(decl.span);
        // Functions nested in methods keep the class, for `super`.
        let class = class.or_else(|| self.functions.last().and_then(|f| f.proto.class));
        let mut proto = new_proto(name, kind, decl.params.len() as u8, class, line);
        proto.captures = decl
            .captures
            .iter()
            .map(|c| match c {
                Capture::Local(b) => CaptureSrc::Reg(
                    self.functions
                        .last()
                        .expect("enclosing function")
                        .binding_regs[b],
                ),
                Capture::Upval(i) => CaptureSrc::Upval(UpIdx(*i)),
            })
            .collect();
        self.push_fn(proto);
        let mut params: Vec<&Binding> = Vec::new();
        if let Some(s) = &decl.self_binding {
            params.push(s);
        }
        params.extend(decl.params.iter());
        for p in &params {
            let r = self.declare(p)?;
            if self.is_captured(p.id) {
                self.emit(Op::NewBox { a: r }, decl.span);
            }
        }
        if let Some(s) = &decl.self_binding {
            let captured = self.is_captured(s.id);
            self.func().self_reg = Some((Reg(0), captured));
        }
        self.block(&decl.body)?;
        let end = Span {
            start: decl.body.span.end.saturating_sub(1),
            end: decl.body.span.end,
        };
        self.emit_return_nil(end)?;
        Ok(self.finish_fn())
    }

    /// `return;` and the implicit return at the end of a body (`init` returns `self`).
    pub(super) fn emit_return_nil(&mut self, span: Span) -> CompileResult<()> {
        if self.func().proto.kind == ProtoKind::Init {
            let (r, boxed) = self.func().self_reg.expect("init has self");
            if boxed {
                let mark = self.mark();
                let t = self.alloc(span)?;
                self.emit(Op::GetBox { a: t, b: r }, span);
                self.emit(Op::Return { a: t }, span);
                self.free_to(mark);
            } else {
                self.emit(Op::Return { a: r }, span);
            }
        } else {
            self.emit(Op::ReturnNil {}, span);
        }
        Ok(())
    }
}
