//! Code generation: resolved syntax tree to register bytecode, one `Proto` per function.
//! Locals live in fixed registers; temporaries are allocated above them, stack-like. A
//! captured local lives in a box (`NewBox`), so closures share it without open upvalues.
//!
//! Contract of `expr_to(e, dst)`: `dst` is written only by the last instruction of `e`, so
//! `x = f(x) + x` may target `x` directly; scratch values always go to fresh temporaries.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::bytecode::{Program, *};
use crate::error::ErrorKind;
use crate::source::{CompileError, LineIndex, Span, compile_error, with_stack};
use crate::syntax::ast::{self, *};
use crate::syntax::resolver::{GlobalKind, Resolution};
use crate::syntax::visit::any_expr;

/// Most registers one function may use.
pub const MAX_REGS: usize = 65_000;
/// List literal elements stored per `NewList`/`AppendList` instruction.
const LIST_BATCH: usize = 64;

type CompileResult<T> = Result<T, CompileError>;

/// The jumps of `break` and `continue` statements of the loop being compiled, patched when
/// its end and its back-edge are known.
struct LoopJumps {
    breaks: Vec<usize>,
    continues: Vec<usize>,
}

/// A function being compiled: its prototype so far, and where its registers stand.
struct FnBuilder {
    proto: Proto,
    next_reg: usize,
    /// Registers below this hold declared locals; at or above are temporaries.
    nlocals: usize,
    binding_regs: FxHashMap<BindingId, Reg>,
    loops: Vec<LoopJumps>,
    /// Index in `proto.consts` of each constant already there.
    const_index: FxHashMap<ConstKey, u32>,
    /// The register of `self` in a method, and whether it holds a box.
    self_reg: Option<(Reg, bool)>,
    /// 0 while compiling the statements of a function body (or the script) themselves.
    block_depth: u32,
}

/// A constant as a key: floats by bits, so that equal constants share one entry.
#[derive(PartialEq, Eq, Hash)]
enum ConstKey {
    Int(i64),
    Float(u64),
    Str(Rc<str>),
}

/// The compiler of one program.
struct Compiler<'a> {
    program: &'a mut Program,
    captured: &'a [bool],
    lines: &'a LineIndex,
    /// The slot of each global, by name.
    global_slots: FxHashMap<String, u32>,
    /// The function being compiled is the last; those it is nested in come before.
    functions: Vec<FnBuilder>,
    repl: bool,
}

/// Compiles a resolved program into `program` (appending prototypes) and returns the entry
/// point. In `repl` mode a final expression statement becomes the entry's return value.
pub fn compile(
    program: &mut Program,
    ast: &ast::Program,
    res: &Resolution,
    lines: &LineIndex,
    repl: bool,
) -> CompileResult<ProtoId> {
    program.globals = res.globals.clone();
    let global_slots = res
        .globals
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.clone(), i as u32))
        .collect();
    let mut c = Compiler {
        program,
        captured: &res.captured,
        lines,
        global_slots,
        functions: Vec::new(),
        repl,
    };
    c.script(ast)
}

fn new_proto(
    name: String,
    kind: ProtoKind,
    arity: u8,
    class: Option<ClassIdx>,
    line: u32,
) -> Proto {
    Proto {
        name,
        kind,
        arity,
        nregs: 0,
        code: Vec::new(),
        lines: Vec::new(),
        consts: Vec::new(),
        captures: Vec::new(),
        handlers: Vec::new(),
        class,
        line,
        ic_count: 0,
    }
}

impl Compiler<'_> {
    fn func(&mut self) -> &mut FnBuilder {
        self.functions.last_mut().expect("a function is being compiled")
    }

    fn line(&self, span: Span) -> u32 {
        self.lines.line(span.start as usize)
    }

    fn emit(&mut self, op: Op, span: Span) -> usize {
        let line = self.line(span);
        let p = &mut self.func().proto;
        p.code.push(op);
        p.lines.push(line);
        p.code.len() - 1
    }

    fn here(&mut self) -> usize {
        self.func().proto.code.len()
    }

    /// Points the jump at `at` to the current end of code.
    fn patch(&mut self, at: usize) {
        let target = self.here();
        self.patch_to(at, target);
    }

    fn patch_to(&mut self, at: usize, target: usize) {
        let off = Jump(target as i32 - at as i32 - 1);
        let code = &mut self.func().proto.code;
        code[at] = match code[at] {
            Op::Jmp { .. } => Op::Jmp { off },
            Op::Loop { .. } => Op::Loop { off },
            Op::JmpIf { a, .. } => Op::JmpIf { a, off },
            Op::JmpIfNot { a, .. } => Op::JmpIfNot { a, off },
            Op::JmpNotEq { b, c, .. } => Op::JmpNotEq { b, c, off },
            Op::JmpNotNe { b, c, .. } => Op::JmpNotNe { b, c, off },
            Op::JmpNotLt { b, c, .. } => Op::JmpNotLt { b, c, off },
            Op::JmpNotLe { b, c, .. } => Op::JmpNotLe { b, c, off },
            Op::JmpNotGt { b, c, .. } => Op::JmpNotGt { b, c, off },
            Op::JmpNotGe { b, c, .. } => Op::JmpNotGe { b, c, off },
            Op::JmpNotEqI { b, imm, .. } => Op::JmpNotEqI { b, imm, off },
            Op::JmpNotNeI { b, imm, .. } => Op::JmpNotNeI { b, imm, off },
            Op::JmpNotLtI { b, imm, .. } => Op::JmpNotLtI { b, imm, off },
            Op::JmpNotLeI { b, imm, .. } => Op::JmpNotLeI { b, imm, off },
            Op::JmpNotGtI { b, imm, .. } => Op::JmpNotGtI { b, imm, off },
            Op::JmpNotGeI { b, imm, .. } => Op::JmpNotGeI { b, imm, off },
            Op::IterNext { a, b, .. } => Op::IterNext { a, b, off },
            Op::ForPrep { a, .. } => Op::ForPrep { a, off },
            Op::ForLoop { a, .. } => Op::ForLoop { a, off },
            other => unreachable!("patching a non-jump {other:?}"),
        };
    }

    fn alloc(&mut self, span: Span) -> CompileResult<Reg> {
        let f = self.func();
        let r = f.next_reg;
        if r >= MAX_REGS {
            return Err(compile_error(
                ErrorKind::NestingLimit,
                format!("function needs more than {MAX_REGS} registers"),
                span,
            ));
        }
        f.next_reg += 1;
        if f.next_reg > f.proto.nregs as usize {
            f.proto.nregs = f.next_reg as u16;
        }
        Ok(Reg(r as u16))
    }

    fn mark(&mut self) -> usize {
        self.func().next_reg
    }

    fn free_to(&mut self, mark: usize) {
        self.func().next_reg = mark;
    }

    fn is_temp(&mut self, r: Reg) -> bool {
        r.0 as usize >= self.func().nlocals
    }

    fn declare(&mut self, b: &Binding) -> CompileResult<Reg> {
        let r = self.alloc(b.ident.span)?;
        let f = self.func();
        f.nlocals = f.next_reg;
        f.binding_regs.insert(b.id, r);
        Ok(r)
    }

    fn is_captured(&self, b: BindingId) -> bool {
        self.captured.get(b.0 as usize).copied().unwrap_or(false)
    }

    fn constant(&mut self, c: Const) -> ConstIdx {
        let key = match &c {
            Const::Int(i) => ConstKey::Int(*i),
            Const::Float(f) => ConstKey::Float(f.to_bits()),
            Const::Str(s) => ConstKey::Str(s.clone()),
        };
        let f = self.func();
        if let Some(&i) = f.const_index.get(&key) {
            return ConstIdx(i);
        }
        let i = f.proto.consts.len() as u32;
        f.proto.consts.push(c);
        f.const_index.insert(key, i);
        ConstIdx(i)
    }

    /// A fresh inline-cache slot (or none, past the per-function maximum).
    fn new_ic(&mut self) -> IcIdx {
        let p = &mut self.func().proto;
        if p.ic_count == IcIdx::NONE.0 {
            return IcIdx::NONE;
        }
        p.ic_count += 1;
        IcIdx(p.ic_count - 1)
    }

    fn symbol(&mut self, name: &str) -> crate::symbol::Symbol {
        self.program.symbols.intern(name)
    }

    fn push_fn(&mut self, proto: Proto) {
        self.functions.push(FnBuilder {
            proto,
            next_reg: 0,
            nlocals: 0,
            binding_regs: FxHashMap::default(),
            loops: Vec::new(),
            const_index: FxHashMap::default(),
            self_reg: None,
            block_depth: 0,
        });
    }

    fn finish_fn(&mut self) -> ProtoId {
        let f = self.functions.pop().expect("pushed by push_fn");
        let id = ProtoId(self.program.protos.len() as u32);
        self.program.protos.push(Rc::new(f.proto));
        id
    }

    // ----- functions -----

    fn script(&mut self, ast: &ast::Program) -> CompileResult<ProtoId> {
        self.push_fn(new_proto("<script>".into(), ProtoKind::Script, 0, None, 1));
        let start = Span::default();
        // Hoisting: every top-level function and class exists before the first statement.
        let mut classes = Vec::new();
        for stmt in &ast.stmts {
            match &stmt.kind {
                StmtKind::Fn { binding, decl } => {
                    let p =
                        self.function(decl, ProtoKind::Function, None, decl.name.name.clone())?;
                    let t = self.alloc(decl.span)?;
                    self.emit(Op::Closure { a: t, p }, decl.span);
                    let g = GlobalIdx(self.global_slots[&binding.ident.name]);
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
        let n = ast.stmts.len();
        for (i, stmt) in ast.stmts.iter().enumerate() {
            if self.repl
                && i + 1 == n
                && let StmtKind::Expr(e) = &stmt.kind
            {
                let r = self.expr_any(e)?;
                self.emit(Op::Return { a: r }, stmt.span);
                return Ok(self.finish_fn());
            }
            self.stmt(stmt)?;
        }
        let end = ast.stmts.last().map_or(start, |s| Span {
            start: s.span.end.saturating_sub(1),
            end: s.span.end,
        });
        self.emit(Op::ReturnNil {}, end);
        Ok(self.finish_fn())
    }

    fn class_decl(&mut self, c: &ClassDecl) -> CompileResult<()> {
        let idx = ClassIdx(self.program.classes.len() as u32);
        let global = GlobalIdx(self.global_slots[&c.name.name]);
        let superclass = c
            .superclass
            .as_ref()
            .map(|s| GlobalIdx(self.global_slots[&s.name]));
        self.program.classes.push(ClassInfo {
            name: c.name.name.clone(),
            superclass,
            methods: Vec::new(),
            global,
        });
        let mut methods = Vec::new();
        for m in &c.methods {
            let kind = if m.name.name == "init" {
                ProtoKind::Init
            } else {
                ProtoKind::Method
            };
            let p = self.function(
                m,
                kind,
                Some(idx),
                format!("{}.{}", c.name.name, m.name.name),
            )?;
            let sym = self.symbol(&m.name.name);
            // A later method of the same name replaces an earlier one.
            methods.retain(|(s, _)| *s != sym);
            methods.push((sym, p));
        }
        self.program.classes[idx.0 as usize].methods = methods;
        let t = self.alloc(c.span)?;
        self.emit(Op::Class { a: t, c: idx }, c.span);
        self.emit(Op::SetGlobal { a: t, g: global }, c.span);
        self.free_to(0);
        Ok(())
    }

    fn function(
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
                Capture::Local(b) => {
                    CaptureSrc::Reg(self.functions.last().expect("enclosing function").binding_regs[b])
                }
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
    fn emit_return_nil(&mut self, span: Span) -> CompileResult<()> {
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

    // ----- statements -----

    fn block(&mut self, b: &Block) -> CompileResult<()> {
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

    fn stmt(&mut self, stmt: &Stmt) -> CompileResult<()> {
        with_stack(|| self.stmt_inner(stmt))
    }

    fn stmt_inner(&mut self, stmt: &Stmt) -> CompileResult<()> {
        let span = stmt.span;
        let mark = self.mark();
        match &stmt.kind {
            StmtKind::Let { binding, init } => {
                if self.at_script_top() && self.is_global_let(binding) {
                    let g = GlobalIdx(self.global_slots[&binding.ident.name]);
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
                } else {
                    // The binding is not visible in its own initializer, so its register is
                    // still a fresh temporary while the initializer runs.
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
                }
                return Ok(());
            }
            StmtKind::Expr(e) => {
                self.expr_effect(e)?;
            }
            StmtKind::Fn { binding, decl } => {
                if self.at_script_top() && self.is_top_level_fn(binding) {
                    // Hoisted: already created by the script's preamble.
                    return Ok(());
                }
                let r = self.declare(binding)?;
                if self.is_captured(binding.id) {
                    // The function may call itself: its box must exist before the closure.
                    self.emit(Op::LoadNil { a: r }, decl.span);
                    self.emit(Op::NewBox { a: r }, decl.span);
                    let p =
                        self.function(decl, ProtoKind::Function, None, decl.name.name.clone())?;
                    let t = self.alloc(decl.span)?;
                    self.emit(Op::Closure { a: t, p }, decl.span);
                    self.emit(Op::SetBox { a: r, b: t }, decl.span);
                } else {
                    let p =
                        self.function(decl, ProtoKind::Function, None, decl.name.name.clone())?;
                    self.emit(Op::Closure { a: r, p }, decl.span);
                }
                self.free_to(r.0 as usize + 1);
                return Ok(());
            }
            StmtKind::Class(_) => {} // hoisted
            StmtKind::If { branches, els } => {
                let mut ends = Vec::new();
                for (i, (cond, then)) in branches.iter().enumerate() {
                    let jf = self.cond_jump(cond)?;
                    self.free_to(mark);
                    self.block(then)?;
                    if i + 1 < branches.len() || els.is_some() {
                        ends.push(self.emit(Op::Jmp { off: Jump(0) }, span));
                    }
                    self.patch(jf);
                }
                if let Some(e) = els {
                    self.block(e)?;
                }
                for j in ends {
                    self.patch(j);
                }
            }
            StmtKind::While { cond, body } => {
                let top = self.here();
                let jexit = self.cond_jump(cond)?;
                self.free_to(mark);
                self.func().loops.push(LoopJumps {
                    breaks: Vec::new(),
                    continues: Vec::new(),
                });
                self.block(body)?;
                let ctx = self.func().loops.pop().expect("pushed above");
                for c in ctx.continues {
                    self.patch(c);
                }
                let back = self.emit(Op::Loop { off: Jump(0) }, cond.span);
                self.patch_to(back, top);
                self.patch(jexit);
                for b in ctx.breaks {
                    self.patch(b);
                }
            }
            StmtKind::ForRange {
                var,
                start,
                end,
                body,
            } => {
                let nlocals = self.func().nlocals;
                let base = self.alloc(span)?;
                let limit = self.alloc(span)?;
                self.func().nlocals = self.func().next_reg;
                self.expr_to(start, base)?;
                self.expr_to(end, limit)?;
                let prep = self.emit(
                    Op::ForPrep {
                        a: base,
                        off: Jump(0),
                    },
                    start.span,
                );
                let body_top = self.here();
                let v = self.declare(var)?;
                self.emit(Op::Move { a: v, b: base }, var.ident.span);
                if self.is_captured(var.id) {
                    self.emit(Op::NewBox { a: v }, var.ident.span);
                }
                self.func().loops.push(LoopJumps {
                    breaks: Vec::new(),
                    continues: Vec::new(),
                });
                self.block(body)?;
                let ctx = self.func().loops.pop().expect("pushed above");
                for c in ctx.continues {
                    self.patch(c);
                }
                let back = self.emit(
                    Op::ForLoop {
                        a: base,
                        off: Jump(0),
                    },
                    var.ident.span,
                );
                self.patch_to(back, body_top);
                self.patch(prep);
                for b in ctx.breaks {
                    self.patch(b);
                }
                self.func().nlocals = nlocals;
            }
            StmtKind::ForIn { var, iter, body } => {
                let nlocals = self.func().nlocals;
                let base = self.alloc(span)?;
                let _cursor = self.alloc(span)?;
                self.func().nlocals = self.func().next_reg;
                self.expr_to(iter, base)?;
                self.emit(Op::IterPrep { a: base }, iter.span);
                let v = self.declare(var)?;
                let top = self.here();
                let next = self.emit(
                    Op::IterNext {
                        a: base,
                        b: v,
                        off: Jump(0),
                    },
                    var.ident.span,
                );
                if self.is_captured(var.id) {
                    self.emit(Op::NewBox { a: v }, var.ident.span);
                }
                self.func().loops.push(LoopJumps {
                    breaks: Vec::new(),
                    continues: Vec::new(),
                });
                self.block(body)?;
                let ctx = self.func().loops.pop().expect("pushed above");
                for c in ctx.continues {
                    self.patch(c);
                }
                let back = self.emit(Op::Loop { off: Jump(0) }, var.ident.span);
                self.patch_to(back, top);
                self.patch(next);
                for b in ctx.breaks {
                    self.patch(b);
                }
                self.func().nlocals = nlocals;
            }
            StmtKind::Break => {
                let j = self.emit(Op::Jmp { off: Jump(0) }, span);
                self.func()
                    .loops
                    .last_mut()
                    .expect("resolver checked")
                    .breaks
                    .push(j);
            }
            StmtKind::Continue => {
                // Forward to the loop's single back-edge, so every iteration charges fuel once.
                let j = self.emit(Op::Jmp { off: Jump(0) }, span);
                self.func()
                    .loops
                    .last_mut()
                    .expect("resolver checked")
                    .continues
                    .push(j);
            }
            StmtKind::Return(value) => match value {
                Some(e) => {
                    let r = self.expr_any(e)?;
                    self.emit(Op::Return { a: r }, span);
                }
                None => self.emit_return_nil(span)?,
            },
            StmtKind::Throw(e) => {
                let r = self.expr_any(e)?;
                self.emit(Op::Throw { a: r }, span);
            }
            StmtKind::Try { body, var, handler } => {
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
            }
            StmtKind::Block(b) => self.block(b)?,
        }
        self.free_to(mark);
        Ok(())
    }

    fn is_global_let(&self, b: &Binding) -> bool {
        self.program
            .globals
            .get(self.global_slots[&b.ident.name] as usize)
            .is_some_and(|g| g.kind == GlobalKind::Var)
    }

    fn is_top_level_fn(&self, b: &Binding) -> bool {
        self.program
            .globals
            .get(self.global_slots[&b.ident.name] as usize)
            .is_some_and(|g| g.kind == GlobalKind::Fn)
    }

    /// Evaluates `cond` and emits a jump taken when it is falsy. A single comparison becomes
    /// one fused compare-and-branch instruction (with an immediate for a small int literal).
    fn cond_jump(&mut self, cond: &Expr) -> CompileResult<usize> {
        if let ExprKind::Chain { first, rest } = &cond.kind
            && let [(op, span, rhs)] = rest.as_slice()
            && matches!(
                op,
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
            )
        {
            let b = self.operand(first, &[rhs])?;
            let off = Jump(0);
            if let ExprKind::Int(k) = rhs.kind
                && let Ok(k) = i32::try_from(k)
            {
                let imm = Imm(k);
                let op = match op {
                    BinOp::Eq => Op::JmpNotEqI { b, imm, off },
                    BinOp::Ne => Op::JmpNotNeI { b, imm, off },
                    BinOp::Lt => Op::JmpNotLtI { b, imm, off },
                    BinOp::Le => Op::JmpNotLeI { b, imm, off },
                    BinOp::Gt => Op::JmpNotGtI { b, imm, off },
                    _ => Op::JmpNotGeI { b, imm, off },
                };
                return Ok(self.emit(op, *span));
            }
            let c = self.expr_any(rhs)?;
            let op = match op {
                BinOp::Eq => Op::JmpNotEq { b, c, off },
                BinOp::Ne => Op::JmpNotNe { b, c, off },
                BinOp::Lt => Op::JmpNotLt { b, c, off },
                BinOp::Le => Op::JmpNotLe { b, c, off },
                BinOp::Gt => Op::JmpNotGt { b, c, off },
                _ => Op::JmpNotGe { b, c, off },
            };
            return Ok(self.emit(op, *span));
        }
        let r = self.expr_any(cond)?;
        Ok(self.emit(Op::JmpIfNot { a: r, off: Jump(0) }, cond.span))
    }

    // ----- expressions -----

    /// An expression whose value is not needed.
    fn expr_effect(&mut self, e: &Expr) -> CompileResult<()> {
        let mark = self.mark();
        match &e.kind {
            ExprKind::Assign { .. } => {
                self.assign(e)?;
            }
            _ => {
                self.expr_any(e)?;
            }
        }
        self.free_to(mark);
        Ok(())
    }

    /// Compiles `e` into any register: a local's own register when that is safe, else a new
    /// temporary.
    fn expr_any(&mut self, e: &Expr) -> CompileResult<Reg> {
        if let Some(r) = self.local_reg(e) {
            return Ok(r);
        }
        let r = self.alloc(e.span)?;
        self.expr_to(e, r)?;
        Ok(r)
    }

    /// Like `expr_any`, but copies a local into a temporary when `later` (evaluated before
    /// the result is used) may assign to it.
    fn operand(&mut self, e: &Expr, later: &[&Expr]) -> CompileResult<Reg> {
        if self.local_reg(e).is_some() && later.iter().any(|l| has_assign(l)) {
            let r = self.alloc(e.span)?;
            self.expr_to(e, r)?;
            return Ok(r);
        }
        self.expr_any(e)
    }

    /// The register of an unboxed local named by `e`.
    fn local_reg(&mut self, e: &Expr) -> Option<Reg> {
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

    fn expr_to(&mut self, e: &Expr, dst: Reg) -> CompileResult<()> {
        with_stack(|| self.expr_to_inner(e, dst))
    }

    fn expr_to_inner(&mut self, e: &Expr, dst: Reg) -> CompileResult<()> {
        let span = e.span;
        let mark = self.mark();
        match &e.kind {
            ExprKind::Int(i) => self.load_int(*i, dst, span),
            ExprKind::Float(f) => {
                let k = self.constant(Const::Float(*f));
                self.emit(Op::LoadK { a: dst, k }, span);
            }
            ExprKind::Str(s) => {
                let k = self.constant(Const::Str(s.as_str().into()));
                self.emit(Op::LoadK { a: dst, k }, span);
            }
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
            ExprKind::Map(entries) => {
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
                if m != dst {
                    self.emit(Op::Move { a: dst, b: m }, span);
                }
            }
            ExprKind::Unary { op, expr } => match (op, &expr.kind) {
                (UnOp::Neg, ExprKind::Int(i)) if i.checked_neg().is_some() => {
                    self.load_int(-*i, dst, span)
                }
                (UnOp::Neg, ExprKind::Float(f)) => {
                    let k = self.constant(Const::Float(-*f));
                    self.emit(Op::LoadK { a: dst, k }, span);
                }
                _ => {
                    // A fresh destination can hold the operand too, so nested unary
                    // operators need one register, not one per level.
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
            },
            ExprKind::Chain { first, rest } => self.chain(first, rest, dst)?,
            ExprKind::Call { callee, args } => {
                let r = self.call(callee, args, span, Some(dst))?;
                if r != dst {
                    self.emit(Op::Move { a: dst, b: r }, span);
                }
            }
            ExprKind::Get { obj, name } => {
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
            }
            ExprKind::Index { obj, index } => {
                let o = self.operand(obj, &[index])?;
                let i = self.expr_any(index)?;
                self.emit(Op::GetIndex { a: dst, b: o, c: i }, index.span);
            }
            ExprKind::Super { name, self_res } => {
                let s = self.self_value(*self_res, span)?;
                let m = self.symbol(&name.name);
                self.emit(Op::GetSuper { a: dst, b: s, m }, name.span);
            }
            ExprKind::Fn(decl) => {
                let p = self.function(decl, ProtoKind::Function, None, decl.name.name.clone())?;
                self.emit(Op::Closure { a: dst, p }, span);
            }
            ExprKind::Assign { .. } => {
                let r = self.assign(e)?;
                if r != dst {
                    self.emit(Op::Move { a: dst, b: r }, span);
                }
            }
        }
        self.free_to(mark);
        Ok(())
    }

    fn load_int(&mut self, i: i64, dst: Reg, span: Span) {
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

    fn load_name(&mut self, res: Res, dst: Reg, span: Span) {
        match res {
            Res::Local(b) => {
                let r = self.func().binding_regs[&b];
                if self.is_captured(b) {
                    self.emit(Op::GetBox { a: dst, b: r }, span);
                } else if r != dst {
                    self.emit(Op::Move { a: dst, b: r }, span);
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
        if l != dst {
            self.emit(Op::Move { a: dst, b: l }, span);
        }
        Ok(())
    }

    fn chain(&mut self, first: &Expr, rest: &[(BinOp, Span, Expr)], dst: Reg) -> CompileResult<()> {
        if matches!(rest[0].0, BinOp::And | BinOp::Or) {
            // Short-circuit: the result is the last operand evaluated.
            let acc = if self.is_temp(dst) {
                dst
            } else {
                self.alloc(first.span)?
            };
            self.expr_to(first, acc)?;
            let mut exits = Vec::new();
            for (op, span, e) in rest {
                let j = match op {
                    BinOp::And => Op::JmpIfNot {
                        a: acc,
                        off: Jump(0),
                    },
                    _ => Op::JmpIf {
                        a: acc,
                        off: Jump(0),
                    },
                };
                exits.push(self.emit(j, *span));
                self.expr_to(e, acc)?;
            }
            for j in exits {
                self.patch(j);
            }
            if acc != dst {
                self.emit(Op::Move { a: dst, b: acc }, first.span);
            }
            return Ok(());
        }
        let mut left = self.operand(first, &[&rest[0].2])?;
        let n = rest.len();
        let acc = if n > 1 {
            Some(self.alloc(first.span)?)
        } else {
            None
        };
        for (i, (op, span, e)) in rest.iter().enumerate() {
            let mark = self.mark();
            let out = if i + 1 == n {
                dst
            } else {
                acc.expect("allocated for long chains")
            };
            if let Some(op) = arith_imm_op(*op, out, left, e) {
                self.emit(op, *span);
            } else {
                let right = self.expr_any(e)?;
                let (a, b, c) = (out, left, right);
                let op = match op {
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
                    BinOp::And | BinOp::Or => unreachable!("one precedence level per chain"),
                };
                self.emit(op, *span);
            }
            self.free_to(mark);
            left = out;
        }
        Ok(())
    }

    /// Compiles a call; the result is left in the returned (temporary) register.
    fn call(&mut self, callee: &Expr, args: &[Expr], span: Span, dst: Option<Reg>) -> CompileResult<Reg> {
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
            ExprKind::Get { obj, name } => {
                self.expr_to(obj, base)?;
                self.call_args(args)?;
                Op::Invoke {
                    a: base,
                    m: self.symbol(&name.name),
                    n,
                    ic: self.new_ic(),
                }
            }
            ExprKind::Super { name, self_res } => {
                self.load_name(*self_res, base, span);
                self.call_args(args)?;
                Op::SuperInvoke {
                    a: base,
                    m: self.symbol(&name.name),
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
            _ => {
                self.expr_to(callee, base)?;
                self.call_args(args)?;
                Op::Call { a: base, n }
            }
        };
        let at = match &callee.kind {
            ExprKind::Get { name, .. } | ExprKind::Super { name, .. } => name.span,
            _ => line_span,
        };
        self.emit(op, at);
        self.free_to(base.0 as usize + 1);
        Ok(base)
    }

    fn call_args(&mut self, args: &[Expr]) -> CompileResult<()> {
        for a in args {
            let r = self.alloc(a.span)?;
            self.expr_to(a, r)?;
        }
        Ok(())
    }

    /// Compiles an assignment; returns the register holding the assigned value.
    fn assign(&mut self, e: &Expr) -> CompileResult<Reg> {
        let ExprKind::Assign { target, op, value } = &e.kind else {
            unreachable!("called on assignments")
        };
        let span = e.span;
        match &target.kind {
            ExprKind::Name { res, .. } => {
                if let Res::Local(b) = res
                    && !self.is_captured(*b)
                {
                    let r = self.func().binding_regs[b];
                    match op {
                        None => self.expr_to(value, r)?,
                        Some(op) => {
                            if let Some(imm) = arith_imm_op(*op, r, r, value) {
                                self.emit(imm, span);
                            } else {
                                let cur = self.operand(target, &[value])?;
                                let v = self.expr_any(value)?;
                                self.emit(arith_op(*op, r, cur, v), span);
                            }
                        }
                    }
                    return Ok(r);
                }
                let v = self.assigned_value(target, *op, value, span, |c, t, s| {
                    c.load_name(*res, t, s);
                    Ok(())
                })?;
                match res {
                    Res::Local(b) => {
                        let r = self.func().binding_regs[b];
                        self.emit(Op::SetBox { a: r, b: v }, span);
                    }
                    Res::Upval(u) => {
                        self.emit(Op::SetUpval { a: v, u: UpIdx(*u) }, span);
                    }
                    Res::Global(g) => {
                        self.emit(
                            Op::SetGlobal {
                                a: v,
                                g: GlobalIdx(*g),
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
            ExprKind::Get { obj, name } => {
                let o = self.operand(obj, &[value])?;
                let m = self.symbol(&name.name);
                let v = self.assigned_value(target, *op, value, span, |c, t, s| {
                    let ic = c.new_ic();
                    c.emit(Op::GetProp { a: t, b: o, m, ic }, s);
                    Ok(())
                })?;
                let ic = self.new_ic();
                self.emit(Op::SetProp { a: o, b: v, m, ic }, name.span);
                Ok(v)
            }
            ExprKind::Index { obj, index } => {
                let o = self.operand(obj, &[index, value])?;
                let i = self.operand(index, &[value])?;
                let v = self.assigned_value(target, *op, value, span, |c, t, s| {
                    c.emit(Op::GetIndex { a: t, b: o, c: i }, s);
                    Ok(())
                })?;
                self.emit(Op::SetIndex { a: o, b: i, c: v }, index.span);
                Ok(v)
            }
            _ => unreachable!("the parser checks assignment targets"),
        }
    }

    /// The value to store: `value`, or for `op=` the current value (read by `load`)
    /// combined with `value`.
    fn assigned_value(
        &mut self,
        target: &Expr,
        op: Option<BinOp>,
        value: &Expr,
        span: Span,
        load: impl FnOnce(&mut Self, Reg, Span) -> CompileResult<()>,
    ) -> CompileResult<Reg> {
        match op {
            None => self.expr_any(value),
            Some(op) => {
                let cur = self.alloc(target.span)?;
                load(self, cur, target.span)?;
                match arith_imm_op(op, cur, cur, value) {
                    Some(imm) => self.emit(imm, span),
                    None => {
                        let v = self.expr_any(value)?;
                        self.emit(arith_op(op, cur, cur, v), span)
                    }
                };
                Ok(cur)
            }
        }
    }
}

/// `R[a] := R[b] op k` in immediate form, when `rhs` is an int literal that fits (same
/// semantics and messages as the register form).
fn arith_imm_op(op: BinOp, a: Reg, b: Reg, rhs: &Expr) -> Option<Op> {
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

fn arith_op(op: BinOp, a: Reg, b: Reg, c: Reg) -> Op {
    match op {
        BinOp::Add => Op::Add { a, b, c },
        BinOp::Sub => Op::Sub { a, b, c },
        BinOp::Mul => Op::Mul { a, b, c },
        BinOp::Div => Op::Div { a, b, c },
        BinOp::Mod => Op::Mod { a, b, c },
        _ => unreachable!("compound assignment uses arithmetic operators"),
    }
}

/// Whether evaluating `e` may assign to a local (function literals' bodies do not run, and
/// `any_expr` does not enter them).
fn has_assign(e: &Expr) -> bool {
    any_expr(e, &mut |x| matches!(x.kind, ExprKind::Assign { .. }))
}

/// Classes in an order where every superclass comes before its subclasses (the resolver
/// has ruled out cycles); otherwise source order.
fn order_classes<'c>(classes: &[&'c ClassDecl]) -> Vec<&'c ClassDecl> {
    let mut done: Vec<&'c ClassDecl> = Vec::with_capacity(classes.len());
    let mut pending: Vec<&'c ClassDecl> = classes.to_vec();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|c| {
            let ready = match &c.superclass {
                None => true,
                Some(s) => {
                    done.iter().any(|d| d.name.name == s.name)
                        || !classes.iter().any(|d| d.name.name == s.name)
                }
            };
            if ready {
                done.push(c);
            }
            !ready
        });
        if pending.len() == before {
            done.append(&mut pending);
        }
    }
    done
}
