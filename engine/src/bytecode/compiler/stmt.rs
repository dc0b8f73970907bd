//! Statements: blocks, and one method per kind of statement, chosen by `stmt`. Loops collect
//! their `break` and `continue` jumps in `LoopJumps` until their exit and back-edge are known.

use super::{CompileResult, Compiler, LoopJumps};
use crate::bytecode::{GlobalIdx, Handler, Jump, Op, ProtoKind};
use crate::source::{Span, with_stack};
use crate::syntax::ast::{Binding, Block, Expr, ExprKind, FnDecl, Stmt, StmtKind};
use crate::syntax::resolver::GlobalKind;
use crate::syntax::visit::any_expr;

impl Compiler<'_> {
    /// Compiles the statements of `b`; its locals and temporaries end with it.
    pub(super) fn block(&mut self, b: &Block) -> CompileResult<()> {
        let (mark, nlocals) = (self.mark(), self.func().nlocals);
        self.func().block_depth += 1;
        for s in &b.stmts {
            self.stmt(s)?;
        }
        self.func().block_depth -= 1;
        self.free_to(mark);
        self.func().nlocals = nlocals;
        Ok(())
    }

    /// Whether statements now are the script's own top-level statements.
    fn at_script_top(&mut self) -> bool {
        self.functions.len() == 1 && self.func().block_depth == 0
    }

    /// Compiles one statement (deep nesting continues on a stack segment that grows on demand).
    pub(super) fn stmt(&mut self, stmt: &Stmt) -> CompileResult<()> {
        with_stack(|| self.stmt_inner(stmt))
    }

    fn stmt_inner(&mut self, stmt: &Stmt) -> CompileResult<()> {
        let span = stmt.span;
        let mark = self.mark();
        match &stmt.kind {
            // A local declared here outlives the statement: these release their own temporaries.
            StmtKind::Let(l) => return self.let_stmt(&l.binding, l.init.as_ref(), span),
            StmtKind::Fn { binding, decl } => return self.fn_stmt(binding, decl),
            StmtKind::Expr(e) => self.expr_effect(e)?,
            StmtKind::Class(_) => {} // hoisted
            StmtKind::If(s) => self.if_stmt(&s.branches, s.els.as_ref(), span)?,
            StmtKind::While(s) => self.while_stmt(&s.cond, &s.body)?,
            StmtKind::ForRange(s) => self.for_range(&s.var, &s.start, &s.end, &s.body, span)?,
            StmtKind::ForIn(s) => self.for_in(&s.var, &s.iter, &s.body, span)?,
            StmtKind::Break => self.loop_exit(span, |l| &mut l.breaks),
            // Forward to the loop's single back-edge, so every iteration charges fuel once.
            StmtKind::Continue => self.loop_exit(span, |l| &mut l.continues),
            StmtKind::Return(value) => self.return_stmt(value.as_ref(), span)?,
            StmtKind::Throw(e) => {
                let r = self.expr_any(e)?;
                self.emit(Op::Throw { a: r }, span);
            }
            StmtKind::Try(s) => self.try_stmt(&s.body, &s.var, &s.handler, span)?,
            StmtKind::Block(b) => self.block(b)?,
        }
        self.free_to(mark);
        Ok(())
    }

    /// `let`: a global slot at the script's top level, else a local's register.
    fn let_stmt(
        &mut self,
        binding: &Binding,
        init: Option<&Expr>,
        span: Span,
    ) -> CompileResult<()> {
        if self.at_script_top() && self.is_global_let(binding) {
            self.global_let(binding, init, span)
        } else {
            self.local_let(binding, init, span)
        }
    }

    fn global_let(
        &mut self,
        binding: &Binding,
        init: Option<&Expr>,
        span: Span,
    ) -> CompileResult<()> {
        let mark = self.mark();
        let g = GlobalIdx(self.global_slots[binding.ident.name.as_str()]);
        let r = match init {
            Some(e) => self.expr_any(e)?,
            None => {
                let t = self.alloc(span)?;
                self.emit(Op::LoadNil { a: t }, span);
                t
            }
        };
        self.emit(Op::SetGlobal { a: r, g }, span);
        self.free_to(mark);
        Ok(())
    }

    fn local_let(
        &mut self,
        binding: &Binding,
        init: Option<&Expr>,
        span: Span,
    ) -> CompileResult<()> {
        // The binding is not visible in its own initializer, so its register is still a fresh
        // temporary while the initializer runs.
        let r = self.alloc(binding.ident.span)?;
        match init {
            Some(e) => self.expr_to(e, r)?,
            None => {
                self.emit(Op::LoadNil { a: r }, span);
            }
        }
        self.func().nlocals = r.0 as usize + 1;
        self.func().binding_regs.insert(binding.id, r);
        if self.is_captured(binding.id) {
            self.emit(Op::NewBox { a: r }, span);
        }
        self.free_to(r.0 as usize + 1);
        Ok(())
    }

    /// A `fn` statement: a local holding a closure (top-level ones are hoisted).
    fn fn_stmt(&mut self, binding: &Binding, decl: &FnDecl) -> CompileResult<()> {
        if self.at_script_top() && self.is_top_level_fn(binding) {
            // Hoisted: already created by the script's preamble.
            return Ok(());
        }
        let r = self.declare(binding)?;
        if self.is_captured(binding.id) {
            // The function may call itself: its box must exist before the closure.
            self.emit(Op::LoadNil { a: r }, decl.span);
            self.emit(Op::NewBox { a: r }, decl.span);
            let p = self.function(decl, ProtoKind::Function, None, decl.name.name.to_string())?;
            let t = self.alloc(decl.span)?;
            self.emit(Op::Closure { a: t, p }, decl.span);
            self.emit(Op::SetBox { a: r, b: t }, decl.span);
        } else {
            let p = self.function(decl, ProtoKind::Function, None, decl.name.name.to_string())?;
            self.emit(Op::Closure { a: r, p }, decl.span);
        }
        self.free_to(r.0 as usize + 1);
        Ok(())
    }

    fn if_stmt(
        &mut self,
        branches: &[(Expr, Block)],
        els: Option<&Block>,
        span: Span,
    ) -> CompileResult<()> {
        let mark = self.mark();
        let mut ends = Vec::new();
        for (i, (cond, then)) in branches.iter().enumerate() {
            let jf = self.cond_jumps(cond)?;
            self.free_to(mark);
            self.block(then)?;
            if i + 1 < branches.len() || els.is_some() {
                ends.push(self.emit(Op::Jmp { off: Jump(0) }, span));
            }
            self.patch_all(jf);
        }
        if let Some(e) = els {
            self.block(e)?;
        }
        self.patch_all(ends);
        Ok(())
    }

    fn while_stmt(&mut self, cond: &Expr, body: &Block) -> CompileResult<()> {
        let mark = self.mark();
        // The fused test reports its fuel charge at the line of its operator, which must be
        // the condition's first line (LANGUAGE.md §14): a condition on one line.
        let last_byte = Span::new(
            cond.span.end.saturating_sub(1) as usize,
            cond.span.end as usize,
        );
        if invertible(cond) && self.line(cond.span) == self.line(last_byte) {
            // The condition is tested once on entry and again at the end of the body, fused
            // with the back-edge: one dispatch per iteration fewer than a test at the top
            // and a `Loop` back to it. `continue` goes to the test at the end.
            let mut exits = self.cond_jumps(cond)?;
            self.free_to(mark);
            let top = self.here();
            let breaks = self.loop_body(body)?;
            exits.extend(self.loop_test(cond, top)?);
            self.free_to(mark);
            self.patch_all(exits);
            self.patch_all(breaks);
            return Ok(());
        }
        let top = self.here();
        // A loop on a truthy literal (`while true`) needs no test, only its back-edge.
        let jexit = if literal_truth(cond) == Some(true) {
            Vec::new()
        } else {
            self.cond_jumps(cond)?
        };
        self.free_to(mark);
        let breaks = self.loop_body(body)?;
        let back = self.emit(Op::Loop { off: Jump(0) }, cond.span);
        self.patch_to(back, top);
        self.patch_all(jexit);
        self.patch_all(breaks);
        Ok(())
    }

    /// `for var in start..end`: the counter and the limit sit in two hidden locals below `var`.
    fn for_range(
        &mut self,
        var: &Binding,
        start: &Expr,
        end: &Expr,
        body: &Block,
        span: Span,
    ) -> CompileResult<()> {
        let nlocals = self.func().nlocals;
        let base = self.alloc(span)?;
        let limit = self.alloc(span)?;
        self.func().nlocals = self.func().next_reg;
        self.expr_to(start, base)?;
        self.expr_to(end, limit)?;
        let off = Jump(0);
        let prep = self.emit(Op::ForPrep { a: base, off }, start.span);
        let body_top = self.here();
        if self.is_captured(var.id) || self.is_assigned(var.id) {
            // Each iteration's variable is its own: a copy of the counter, so that assigning
            // to it or capturing it leaves the counter alone.
            let v = self.declare(var)?;
            self.emit(Op::Move { a: v, b: base }, var.ident.span);
            if self.is_captured(var.id) {
                self.emit(Op::NewBox { a: v }, var.ident.span);
            }
        } else {
            // A variable the body only reads is the counter itself: no copy per iteration.
            self.declare_at(var, base);
        }
        let breaks = self.loop_body(body)?;
        let back = self.emit(Op::ForLoop { a: base, off }, var.ident.span);
        self.patch_to(back, body_top);
        self.patch(prep);
        self.patch_all(breaks);
        self.func().nlocals = nlocals;
        Ok(())
    }

    /// `for var in iter`: the iterated value and a cursor sit in two hidden locals below `var`.
    fn for_in(
        &mut self,
        var: &Binding,
        iter: &Expr,
        body: &Block,
        span: Span,
    ) -> CompileResult<()> {
        let nlocals = self.func().nlocals;
        let base = self.alloc(span)?;
        let _cursor = self.alloc(span)?;
        self.func().nlocals = self.func().next_reg;
        self.expr_to(iter, base)?;
        self.emit(Op::IterPrep { a: base }, iter.span);
        let v = self.declare(var)?;
        let top = self.here();
        let off = Jump(0);
        let next = self.emit(Op::IterNext { a: base, b: v, off }, var.ident.span);
        if self.is_captured(var.id) {
            self.emit(Op::NewBox { a: v }, var.ident.span);
        }
        let breaks = self.loop_body(body)?;
        let back = self.emit(Op::Loop { off }, var.ident.span);
        self.patch_to(back, top);
        self.patch(next);
        self.patch_all(breaks);
        self.func().nlocals = nlocals;
        Ok(())
    }

    /// Compiles a loop's body and points its `continue`s at what comes next (the back-edge);
    /// returns its `break`s, for the caller to point past the loop.
    fn loop_body(&mut self, body: &Block) -> CompileResult<Vec<usize>> {
        self.func().loops.push(LoopJumps {
            breaks: Vec::new(),
            continues: Vec::new(),
        });
        self.block(body)?;
        let jumps = self.func().loops.pop().expect("pushed above");
        self.patch_all(jumps.continues);
        Ok(jumps.breaks)
    }

    /// `break` or `continue`: a jump recorded in the innermost loop's list `which`.
    fn loop_exit(&mut self, span: Span, which: fn(&mut LoopJumps) -> &mut Vec<usize>) {
        let j = self.emit(Op::Jmp { off: Jump(0) }, span);
        let innermost = self.func().loops.last_mut().expect("resolver checked");
        which(innermost).push(j);
    }

    fn return_stmt(&mut self, value: Option<&Expr>, span: Span) -> CompileResult<()> {
        match value {
            Some(e) => {
                let r = self.expr_any(e)?;
                self.emit(Op::Return { a: r }, span);
                Ok(())
            }
            None => self.emit_return_nil(span),
        }
    }

    /// `try`: a handler-table entry covering the body (if it emitted any code), whose handler
    /// starts with the catch variable's declaration.
    fn try_stmt(
        &mut self,
        body: &Block,
        var: &Binding,
        handler: &Block,
        span: Span,
    ) -> CompileResult<()> {
        let start = self.here();
        self.block(body)?;
        let end = self.here();
        let jend = self.emit(Op::Jmp { off: Jump(0) }, span);
        let nlocals = self.func().nlocals;
        let target = self.here();
        let r = self.declare(var)?;
        if self.is_captured(var.id) {
            self.emit(Op::NewBox { a: r }, var.ident.span);
        }
        self.block(handler)?;
        self.func().nlocals = nlocals;
        self.patch(jend);
        if start < end {
            self.func().proto.handlers.push(Handler {
                start: start as u32,
                end: end as u32,
                target: target as u32,
                reg: r,
            });
        }
        Ok(())
    }

    fn is_global_let(&self, b: &Binding) -> bool {
        self.program
            .globals
            .get(self.global_slots[b.ident.name.as_str()] as usize)
            .is_some_and(|g| g.kind == GlobalKind::Var)
    }

    /// Whether global slot `g` holds a top-level function or class: set before any code runs
    /// and never assigned, so a call may read it after its arguments (`CallGlobal`).
    pub(super) fn is_constant_global(&self, g: u32) -> bool {
        self.program
            .globals
            .get(g as usize)
            .is_some_and(|g| g.kind.is_constant())
    }

    fn is_top_level_fn(&self, b: &Binding) -> bool {
        self.program
            .globals
            .get(self.global_slots[b.ident.name.as_str()] as usize)
            .is_some_and(|g| g.kind == GlobalKind::Fn)
    }
}

/// Whether a `while` loop's condition is compiled twice, before the loop and at the end of its
/// body (see `while_stmt`): a small condition without function literals. A literal is not:
/// a truthy one needs no test at all, a falsy one never enters the loop.
fn invertible(cond: &Expr) -> bool {
    let mut nodes = 0;
    literal_truth(cond).is_none()
        && !any_expr(cond, &mut |e| {
            nodes += 1;
            nodes > 16 || matches!(e.kind, ExprKind::Fn(_))
        })
}

/// The truthiness of a literal condition; `None` for anything else.
fn literal_truth(cond: &Expr) -> Option<bool> {
    match cond.kind {
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) => Some(true),
        ExprKind::Bool(b) => Some(b),
        ExprKind::Nil => Some(false),
        _ => None,
    }
}
