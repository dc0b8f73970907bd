//! Code generation: resolved syntax tree to register bytecode, one `Proto` per function. Here:
//! the entry point and the function being built (registers, constants, the line table,
//! emission, jump patching); each kind of construct has its own file.

mod assign;
mod calls;
mod classes;
mod expr;
mod functions;
mod operators;
mod stmt;

use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::bytecode::{
    ClassIdx, Const, ConstIdx, IcIdx, Jump, Op, Program, Proto, ProtoId, ProtoKind, Reg,
};
use crate::error::ErrorKind;
use crate::source::{CompileError, LineIndex, Span, compile_error};
use crate::symbol::Symbol;
use crate::syntax::ast::{self, Binding, BindingId};
use crate::syntax::resolver::Resolution;

/// Most registers one function may use.
pub const MAX_REGS: usize = 65_000;

type CompileResult<T> = Result<T, CompileError>;

/// The jumps of `break` and `continue` statements of the loop being compiled, patched when
/// its end and its back-edge are known.
struct LoopJumps {
    breaks: Vec<usize>,
    continues: Vec<usize>,
}

/// A function being compiled: its prototype so far, and where its registers stand. Locals
/// live in fixed registers; temporaries are allocated above them, stack-like. A captured local
/// lives in a box (`NewBox`), so closures share it without open upvalues.
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
    Bool(bool),
    Nil,
}

/// The compiler of one program.
struct Compiler<'a> {
    program: &'a mut Program,
    captured: &'a [bool],
    assigned: &'a [bool],
    lines: &'a LineIndex,
    /// The slot of each global, by name.
    global_slots: FxHashMap<String, u32>,
    /// The function being compiled is the last; those it is nested in come before.
    functions: Vec<FnBuilder>,
    repl: bool,
}

/// Compiles a resolved program into `program` (appending prototypes) and returns the entry
/// point. In `repl` mode a final expression statement becomes the entry's return value. The
/// tree is consumed: each top-level statement is freed once compiled.
pub fn compile(
    program: &mut Program,
    ast: ast::Script,
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
        assigned: &res.assigned,
        lines,
        global_slots,
        functions: Vec::new(),
        repl,
    };
    c.script(ast)
}

/// An empty prototype.
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
    /// The function being compiled.
    fn func(&mut self) -> &mut FnBuilder {
        self.functions
            .last_mut()
            .expect("a function is being compiled")
    }

    /// The source line where `span` starts.
    fn line(&self, span: Span) -> u32 {
        self.lines.line(span.start as usize)
    }

    /// Appends `op`, attributed to the line of `span`; returns its address.
    fn emit(&mut self, op: Op, span: Span) -> usize {
        let line = self.line(span);
        let p = &mut self.func().proto;
        p.code.push(op);
        p.lines.push(line);
        p.code.len() - 1
    }

    /// The address of the next instruction.
    fn here(&mut self) -> usize {
        self.func().proto.code.len()
    }

    /// Points the jump at `at` to the current end of code.
    fn patch(&mut self, at: usize) {
        let target = self.here();
        self.patch_to(at, target);
    }

    /// Points each of the jumps at `jumps` to the current end of code.
    fn patch_all(&mut self, jumps: Vec<usize>) {
        for at in jumps {
            self.patch(at);
        }
    }

    /// Points the jump at `at` to `target`.
    fn patch_to(&mut self, at: usize, target: usize) {
        let off = Jump(target as i32 - at as i32 - 1);
        let code = &mut self.func().proto.code;
        assert!(
            code[at].jump().is_some(),
            "patching a non-jump {:?}",
            code[at]
        );
        code[at] = code[at].with_jump(off);
    }

    /// A new temporary register on top of the others.
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

    /// The first free register, to release everything above it later (`free_to`).
    fn mark(&mut self) -> usize {
        self.func().next_reg
    }

    /// Releases the registers from `mark` up.
    fn free_to(&mut self, mark: usize) {
        self.func().next_reg = mark;
    }

    /// Whether `r` is a temporary (no declared local lives in it).
    fn is_temp(&mut self, r: Reg) -> bool {
        r.0 as usize >= self.func().nlocals
    }

    /// A register for the local `b`, which is in scope from now on.
    fn declare(&mut self, b: &Binding) -> CompileResult<Reg> {
        let r = self.alloc(b.ident.span)?;
        let f = self.func();
        f.nlocals = f.next_reg;
        f.binding_regs.insert(b.id, r);
        Ok(r)
    }

    /// Whether some closure captures `b` (so it lives in a box).
    fn is_captured(&self, b: BindingId) -> bool {
        self.captured.get(b.0 as usize).copied().unwrap_or(false)
    }

    /// Whether some assignment targets `b`.
    fn is_assigned(&self, b: BindingId) -> bool {
        self.assigned.get(b.0 as usize).copied().unwrap_or(false)
    }

    /// Binds `b` to register `r`, which already holds its value.
    fn declare_at(&mut self, b: &Binding, r: Reg) {
        self.func().binding_regs.insert(b.id, r);
    }

    /// The index of `c` in the function's constant table, added there if new.
    fn constant(&mut self, c: Const) -> ConstIdx {
        let key = match &c {
            Const::Int(i) => ConstKey::Int(*i),
            Const::Float(f) => ConstKey::Float(f.to_bits()),
            Const::Str(s) => ConstKey::Str(s.clone()),
            Const::Bool(b) => ConstKey::Bool(*b),
            Const::Nil => ConstKey::Nil,
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

    fn symbol(&mut self, name: &str) -> Symbol {
        self.program.symbols.intern(name)
    }

    /// Starts compiling a function, nested in the current one.
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

    /// Ends the current function and adds its prototype to the program.
    fn finish_fn(&mut self) -> ProtoId {
        let mut proto = self.functions.pop().expect("pushed by push_fn").proto;
        // A prototype lives as long as the program: it keeps no room to grow (a small
        // function's code would otherwise hold four instructions' room).
        proto.code.shrink_to_fit();
        proto.lines.shrink_to_fit();
        proto.consts.shrink_to_fit();
        let id = ProtoId(self.program.protos.len() as u32);
        self.program.protos.push(Rc::new(proto));
        id
    }
}
