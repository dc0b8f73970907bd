//! The register bytecode: the instruction set (`opcodes`), its operand types, and the compiled
//! forms `Proto` (one function) and `Program` (a whole compiled source); the compiler from the
//! syntax tree, the verifier run at load time, and the disassembler.

pub mod compiler;
pub mod disasm;
pub(crate) mod liveness;
pub mod opcodes;
pub mod verify;

use std::rc::Rc;

pub use liveness::check_exact_roots;
pub use opcodes::{Effects, Flow, OPCODES, Op, OpCode, OpInfo, Safepoint, Write, jump_target};

use crate::symbol::{Interner, Symbol};
use crate::syntax::ast::BuiltinId;
use crate::syntax::resolver::GlobalInfo;

/// A register of the current frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(pub u16);
/// An index into the prototype's constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConstIdx(pub u32);
/// A small integer operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Imm(pub i32);
/// A jump offset, relative to the instruction after the jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Jump(pub i32);
/// A global slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalIdx(pub u32);
/// A captured-variable index of the current closure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UpIdx(pub u16);
/// A prototype in the program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtoId(pub u32);
/// A class declaration in the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClassIdx(pub u32);
/// An argument count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Count(pub u16);
/// An inline-cache slot of the current prototype (`IcIdx::NONE`: not cached).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IcIdx(pub u16);

impl IcIdx {
    /// The operand of instructions that have no cache slot.
    pub const NONE: IcIdx = IcIdx(u16::MAX);
}

/// One operand, typed, as the disassembler sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// Register.
    Reg(Reg),
    /// Constant index.
    Const(ConstIdx),
    /// Immediate integer.
    Imm(Imm),
    /// Jump offset.
    Jump(Jump),
    /// Global slot.
    Global(GlobalIdx),
    /// Captured variable.
    Upval(UpIdx),
    /// Property or method name.
    Sym(Symbol),
    /// Function prototype.
    Proto(ProtoId),
    /// Class declaration.
    Class(ClassIdx),
    /// Builtin function.
    Native(BuiltinId),
    /// Count.
    Count(Count),
    /// Inline-cache slot.
    Ic(IcIdx),
}

macro_rules! operand_from {
    ($($ty:ident => $var:ident),*) => {
        $(impl From<$ty> for Operand {
            fn from(x: $ty) -> Operand {
                Operand::$var(x)
            }
        })*
    };
}
operand_from!(Reg => Reg, ConstIdx => Const, Imm => Imm, Jump => Jump, GlobalIdx => Global,
    UpIdx => Upval, Symbol => Sym, ProtoId => Proto, ClassIdx => Class, BuiltinId => Native,
    Count => Count, IcIdx => Ic);

/// A compile-time constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// Integer (too large for `LoadInt`).
    Int(i64),
    /// Float.
    Float(f64),
    /// String.
    Str(Rc<str>),
    /// `true` or `false` (only as the value of `SetIndexK`: registers get them by `LoadTrue`
    /// and `LoadFalse`).
    Bool(bool),
    /// `nil` (likewise).
    Nil,
}

/// Where a closure's captured variable comes from when the closure is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureSrc {
    /// The box in a register of the creating frame.
    Reg(Reg),
    /// A captured variable of the creating closure.
    Upval(UpIdx),
}

/// A protected range of a `try` statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handler {
    /// First protected instruction.
    pub start: u32,
    /// One past the last protected instruction.
    pub end: u32,
    /// First instruction of the `catch` block.
    pub target: u32,
    /// Register receiving the caught value.
    pub reg: Reg,
}

/// What kind of function a prototype is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoKind {
    /// The top level of a program (or of one REPL entry).
    Script,
    /// A function declaration or literal.
    Function,
    /// A method; `self` is register 0.
    Method,
    /// An `init` method: returns `self`.
    Init,
}

/// One compiled function.
#[derive(Clone, Debug)]
pub struct Proto {
    /// Name used in traces: `f`, `Class.method`, `<script>`, `<anonymous>`.
    pub name: String,
    /// The kind.
    pub kind: ProtoKind,
    /// Declared parameters (not counting `self`).
    pub arity: u8,
    /// Registers the frame needs.
    pub nregs: u16,
    /// Instructions.
    pub code: Vec<Op>,
    /// Source line of each instruction.
    pub lines: Vec<u32>,
    /// Constants.
    pub consts: Vec<Const>,
    /// Captured variables, in upvalue order.
    pub captures: Vec<CaptureSrc>,
    /// `try` ranges, innermost first.
    pub handlers: Vec<Handler>,
    /// For methods and functions nested in them: the class declaration (for `super`).
    pub class: Option<ClassIdx>,
    /// Line of the declaration.
    pub line: u32,
    /// Inline-cache slots used by the code.
    pub ic_count: u16,
}

impl Proto {
    /// Whether register 0 holds `self`.
    pub fn has_self(&self) -> bool {
        matches!(self.kind, ProtoKind::Method | ProtoKind::Init)
    }

    /// Registers occupied by the receiver and parameters on entry.
    pub fn param_regs(&self) -> usize {
        self.arity as usize + usize::from(self.has_self())
    }

    /// The innermost handler protecting instruction `pc`.
    pub fn handler_for(&self, pc: usize) -> Option<&Handler> {
        let pc = pc as u32;
        self.handlers.iter().find(|h| h.start <= pc && pc < h.end)
    }
}

/// A compiled class declaration.
#[derive(Clone, Debug)]
pub struct ClassInfo {
    /// Class name.
    pub name: String,
    /// Global slot of the superclass, if any.
    pub superclass: Option<GlobalIdx>,
    /// Own methods.
    pub methods: Vec<(Symbol, ProtoId)>,
    /// Global slot the class is stored in.
    pub global: GlobalIdx,
}

/// A compiled program: all prototypes, class declarations, names and globals.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Every prototype. In a REPL session, later entries append.
    pub protos: Vec<Rc<Proto>>,
    /// Class declarations.
    pub classes: Vec<ClassInfo>,
    /// Property and method names.
    pub symbols: Interner,
    /// Global slots.
    pub globals: Vec<GlobalInfo>,
    /// The names of the builtins, in the order of the builtin table that `BuiltinId`
    /// operands index (the runtime's: `builtins::NAMES`).
    pub builtins: &'static [&'static str],
    /// The entry point compiled last.
    pub main: ProtoId,
}

impl Program {
    /// A prototype.
    #[inline]
    pub fn proto(&self, id: ProtoId) -> &Rc<Proto> {
        &self.protos[id.0 as usize]
    }
}
