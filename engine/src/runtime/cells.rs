//! Semantic coverage cells: an instruction with the kinds of its operands, the variant the JIT
//! compiled it as and the outcome it had; register forms; value kinds in positions. Each cell
//! is a `u32`; `universe` decides from the opcode table and the type rules which can occur.

use std::fmt;

use crate::bytecode::{OPCODES, Op, OpCode, Reg};
use crate::runtime::value::Value;

/// Operand kinds, as the runtime's value tags tell them apart (`true` and `false` are one
/// kind). Indexes into [`KIND_NAMES`].
pub mod kind {
    /// `nil`.
    pub const NIL: u8 = 0;
    /// `true` or `false`.
    pub const BOOL: u8 = 1;
    /// An int.
    pub const INT: u8 = 2;
    /// A float.
    pub const FLOAT: u8 = 3;
    /// A string.
    pub const STR: u8 = 4;
    /// A list.
    pub const LIST: u8 = 5;
    /// A map.
    pub const MAP: u8 = 6;
    /// An instance.
    pub const INSTANCE: u8 = 7;
    /// A closure.
    pub const FUNC: u8 = 8;
    /// A builtin function.
    pub const NATIVE: u8 = 9;
    /// A class.
    pub const CLASS: u8 = 10;
    /// A bound method.
    pub const METHOD: u8 = 11;
    /// Number of observable kinds.
    pub const COUNT: u8 = 12;
    /// No operand in this position (or a value no program observes).
    pub const NONE: u8 = 15;
}

/// Short names of the kinds, indexed by kind.
pub const KIND_NAMES: [&str; kind::COUNT as usize] = [
    "nil", "bool", "int", "float", "str", "list", "map", "inst", "fn", "builtin", "class", "method",
];

/// The kind of a value.
#[inline]
pub fn kind_of(v: &Value) -> u8 {
    match v {
        Value::Nil => kind::NIL,
        Value::False | Value::True => kind::BOOL,
        Value::Int(_) => kind::INT,
        Value::Float(_) => kind::FLOAT,
        Value::Str(_) => kind::STR,
        Value::List(_) => kind::LIST,
        Value::Map(_) => kind::MAP,
        Value::Instance(_) => kind::INSTANCE,
        Value::Func(_) => kind::FUNC,
        Value::Native(_) => kind::NATIVE,
        Value::Class(_) => kind::CLASS,
        Value::Method(_) => kind::METHOD,
        Value::Undef | Value::Boxed(_) => kind::NONE,
    }
}

/// How the JIT compiled an instruction: with a guarded fast path for the types or shapes seen
/// so far (speculative) or for every type (generic), in the version entered at calls or the
/// one entered at loop headers (OSR).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Variant {
    /// Every type handled inline or by a helper.
    Generic = 0,
    /// Int operands (or one shape) guarded, anything else leaves to the interpreter.
    Speculative = 1,
    /// `Generic`, in code entered by on-stack replacement.
    GenericOsr = 2,
    /// `Speculative`, in code entered by on-stack replacement.
    SpeculativeOsr = 3,
}

impl Variant {
    /// Every variant, by its number.
    pub const ALL: [Variant; 4] = [
        Variant::Generic,
        Variant::Speculative,
        Variant::GenericOsr,
        Variant::SpeculativeOsr,
    ];

    /// The variant of speculative (or not) code in an OSR version (or not).
    pub fn of(speculative: bool, osr: bool) -> Variant {
        Variant::ALL[usize::from(speculative) | usize::from(osr) << 1]
    }

    fn speculative(self) -> bool {
        self as u8 & 1 != 0
    }

    fn name(self) -> &'static str {
        ["generic", "spec", "generic-osr", "spec-osr"][self as usize]
    }
}

/// What an execution of an instruction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Outcome {
    /// Completed (no comparison or branch to tell apart).
    Ok = 0,
    /// Raised `OverflowError` (int arithmetic out of range).
    Overflow = 1,
    /// Raised another catchable error.
    Error = 2,
    /// Ordered operands, left less than right.
    Less = 3,
    /// Equal operands.
    Equal = 4,
    /// Ordered operands, left greater than right.
    Greater = 5,
    /// Numbers without an order (a nan).
    Unordered = 6,
    /// Unequal operands that have no order (equality of other values).
    Unequal = 7,
    /// A branch jumped.
    Taken = 8,
    /// A branch fell through.
    NotTaken = 9,
}

impl Outcome {
    const ALL: [Outcome; 10] = [
        Outcome::Ok,
        Outcome::Overflow,
        Outcome::Error,
        Outcome::Less,
        Outcome::Equal,
        Outcome::Greater,
        Outcome::Unordered,
        Outcome::Unequal,
        Outcome::Taken,
        Outcome::NotTaken,
    ];

    fn name(self) -> &'static str {
        [
            "ok",
            "overflow",
            "error",
            "lt",
            "eq",
            "gt",
            "unordered",
            "ne",
            "taken",
            "not-taken",
        ][self as usize]
    }
}

/// A register form: a destination that is also an operand, or one register as both operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Form {
    /// `R[a] := R[a] op ...`.
    DestIsLeft = 0,
    /// `R[a] := ... op R[a]`.
    DestIsRight = 1,
    /// `... := R[b] op R[b]`.
    SameOperands = 2,
}

impl Form {
    const ALL: [Form; 3] = [Form::DestIsLeft, Form::DestIsRight, Form::SameOperands];

    fn name(self) -> &'static str {
        ["dest=left", "dest=right", "same-operands"][self as usize]
    }
}

/// Where a value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Position {
    /// An argument of a call (of a function, builtin, method or class).
    Argument = 0,
    /// A list element (a list literal or an element store).
    ListElement = 1,
    /// A map value (a map literal or an entry store).
    MapValue = 2,
    /// A field of an instance.
    Field = 3,
    /// A function's return value.
    Return = 4,
    /// A thrown value.
    Thrown = 5,
    /// A captured variable (stored in its box).
    Captured = 6,
}

impl Position {
    /// Every position.
    pub const ALL: [Position; 7] = [
        Position::Argument,
        Position::ListElement,
        Position::MapValue,
        Position::Field,
        Position::Return,
        Position::Thrown,
        Position::Captured,
    ];

    fn name(self) -> &'static str {
        [
            "argument",
            "list-element",
            "map-value",
            "field",
            "return",
            "thrown",
            "captured",
        ][self as usize]
    }
}

/// One semantic coverage cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cell {
    /// Instruction `op` ran with operands of kinds `b` and `c` (`kind::NONE` where it has no
    /// such operand), compiled as `variant`, with `outcome`.
    Op {
        /// The opcode.
        op: OpCode,
        /// Kind of the left (or only) operand.
        b: u8,
        /// Kind of the right operand.
        c: u8,
        /// How the JIT compiled it.
        variant: Variant,
        /// What it did.
        outcome: Outcome,
    },
    /// Instruction `op` in register form `form`, compiled speculatively or not (the variant's
    /// OSR bit is dropped).
    Form {
        /// The opcode.
        op: OpCode,
        /// The register form.
        form: Form,
        /// `Generic` or `Speculative`.
        variant: Variant,
    },
    /// A value of kind `kind` went to position `pos` in compiled code.
    Position {
        /// Where it went.
        pos: Position,
        /// Its kind.
        kind: u8,
    },
}

const FAMILY_SHIFT: u32 = 30;
const FAMILY_OP: u32 = 0;
const FAMILY_FORM: u32 = 1;
const FAMILY_POSITION: u32 = 2;
/// Bits of the variant in a packed cell (cleared in a fact: what the interpreter saw).
pub const VARIANT_MASK: u32 = 0b11 << 4;

impl Cell {
    /// The packed id: family in bits 30-31; opcode in 16-22; kinds in 12-15 and 8-11 (form,
    /// position in 8-11 and kind 12-15); variant in 4-5; outcome in 0-3.
    pub fn pack(self) -> u32 {
        match self {
            Cell::Op {
                op,
                b,
                c,
                variant,
                outcome,
            } => {
                FAMILY_OP << FAMILY_SHIFT
                    | (op as u32) << 16
                    | u32::from(b) << 12
                    | u32::from(c) << 8
                    | (variant as u32) << 4
                    | outcome as u32
            }
            Cell::Form { op, form, variant } => {
                FAMILY_FORM << FAMILY_SHIFT
                    | (op as u32) << 16
                    | (form as u32) << 8
                    | (variant as u32) << 4
            }
            Cell::Position { pos, kind } => {
                FAMILY_POSITION << FAMILY_SHIFT | u32::from(kind) << 12 | (pos as u32) << 8
            }
        }
    }

    /// The cell of a packed id (`None` for an id no cell packs to).
    pub fn unpack(id: u32) -> Option<Cell> {
        let op = || opcode((id >> 16 & 0x7f) as usize);
        let variant = Variant::ALL[(id >> 4 & 3) as usize];
        Some(match id >> FAMILY_SHIFT {
            FAMILY_OP => Cell::Op {
                op: op()?,
                b: (id >> 12 & 15) as u8,
                c: (id >> 8 & 15) as u8,
                variant,
                outcome: *Outcome::ALL.get((id & 15) as usize)?,
            },
            FAMILY_FORM => Cell::Form {
                op: op()?,
                form: *Form::ALL.get((id >> 8 & 15) as usize)?,
                variant,
            },
            FAMILY_POSITION => Cell::Position {
                pos: *Position::ALL.get((id >> 8 & 15) as usize)?,
                kind: (id >> 12 & 15) as u8,
            },
            _ => return None,
        })
    }

    /// The cell reached when an instruction whose interpreter run recorded fact `fact` (a
    /// packed cell with `Variant::Generic`) was compiled as `variant`.
    #[inline]
    pub fn join(fact: u32, variant: Variant) -> u32 {
        match fact >> FAMILY_SHIFT {
            FAMILY_OP => fact | (variant as u32) << 4,
            FAMILY_FORM => fact | (u32::from(variant.speculative())) << 4,
            _ => fact,
        }
    }

    /// A group label for reports: the cell without its variant and outcome.
    pub fn group(self) -> String {
        match self {
            Cell::Op { op, b, c, .. } => {
                let mut s = OPCODES[op as usize].name.to_string();
                for k in [b, c] {
                    if k != kind::NONE {
                        s.push(' ');
                        s.push_str(kind_name(k));
                    }
                }
                s
            }
            Cell::Form { op, form, .. } => {
                format!("{} {}", OPCODES[op as usize].name, form.name())
            }
            Cell::Position { pos, .. } => pos.name().to_string(),
        }
    }

    /// The part of the cell `group` leaves out.
    pub fn detail(self) -> String {
        match self {
            Cell::Op {
                variant, outcome, ..
            } => format!("{}/{}", variant.name(), outcome.name()),
            Cell::Form { variant, .. } => variant.name().to_string(),
            Cell::Position { kind, .. } => kind_name(kind).to_string(),
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.group(), self.detail())
    }
}

fn kind_name(k: u8) -> &'static str {
    KIND_NAMES.get(k as usize).copied().unwrap_or("-")
}

fn opcode(i: usize) -> Option<OpCode> {
    OpCode::ALL.get(i).copied()
}

/// How many operands of which kinds an opcode's cells distinguish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// Two operands, any kinds (`R[b]`, `R[c]`; `SetIndex`: the container and the index).
    Binary,
    /// A left operand of any kind and an int immediate.
    Immediate,
    /// The left operand of any kind and a float constant on the right.
    FloatConst,
    /// One operand of any kind (the operand, the callee, the receiver, the iterable).
    Unary,
    /// No operand kinds.
    Plain,
}

fn shape(op: OpCode) -> Shape {
    use OpCode::*;
    match op {
        Add | Sub | Mul | Div | Mod | Eq | Ne | Lt | Le | Gt | Ge | JmpNotEq | JmpNotNe
        | JmpNotLt | JmpNotLe | JmpNotGt | JmpNotGe | LoopEq | LoopNe | LoopLt | LoopLe
        | LoopGt | LoopGe | GetIndex | SetIndex | SetIndexK => Shape::Binary,
        AddI | SubI | MulI | DivI | ModI | AddIL | MulIL | JmpNotEqI | JmpNotNeI | JmpNotLtI
        | JmpNotLeI | JmpNotGtI | JmpNotGeI | LoopEqI | LoopNeI | LoopLtI | LoopLeI | LoopGtI
        | LoopGeI => Shape::Immediate,
        AddK | SubK | MulK | DivK | ModK | AddKL | MulKL => Shape::FloatConst,
        Neg | Not | JmpIf | JmpIfNot | LoopIf | GetProp | SetProp | Call | CallGlobal | Invoke
        | IterPrep => Shape::Unary,
        _ => Shape::Plain,
    }
}

/// Whether the JIT has a speculative form of `op` (int or number operands guarded, one
/// shape, indexing's list path, or the one function a call has called).
pub fn speculates(op: OpCode) -> bool {
    use OpCode::*;
    matches!(
        op,
        Add | Sub
            | Mul
            | Div
            | Mod
            | AddI
            | SubI
            | MulI
            | DivI
            | ModI
            | AddK
            | SubK
            | MulK
            | DivK
            | AddIL
            | MulIL
            | AddKL
            | MulKL
            | Eq
            | Ne
            | Lt
            | Le
            | Gt
            | Ge
            | JmpNotEq
            | JmpNotNe
            | JmpNotLt
            | JmpNotLe
            | JmpNotGt
            | JmpNotGe
            | JmpNotLtI
            | JmpNotLeI
            | JmpNotGtI
            | JmpNotGeI
            | LoopEq
            | LoopNe
            | LoopLt
            | LoopLe
            | LoopGt
            | LoopGe
            | LoopLtI
            | LoopLeI
            | LoopGtI
            | LoopGeI
            | GetProp
            | SetProp
            | Call
            | Invoke
            | GetIndex
            | SetIndex
            | SetIndexK
    )
}

fn is_num(k: u8) -> bool {
    k == kind::INT || k == kind::FLOAT
}

/// The outcomes the language's type rules allow for `op` on operands of kinds `b` and `c`
/// (docs/LANGUAGE.md §7-§10). Engine limits are not outcomes: an instruction stopped by one
/// records no cell.
pub fn outcomes(op: OpCode, b: u8, c: u8) -> &'static [Outcome] {
    use OpCode::*;
    use Outcome as O;
    let (int_b, int_c) = (b == kind::INT, c == kind::INT);
    match op {
        Add | Sub | Mul | Div | Mod | AddI | SubI | MulI | DivI | ModI | AddK | SubK | MulK
        | DivK | ModK | AddIL | MulIL | AddKL | MulKL => {
            // The literal-on-the-left forms have their operator's outcomes: `+` and `*` allow
            // the same outcomes whichever side each kind is on.
            let base = match op {
                AddI | AddK | AddIL | AddKL => Add,
                SubI | SubK => Sub,
                MulI | MulK | MulIL | MulKL => Mul,
                DivI | DivK => Div,
                ModI | ModK => Mod,
                o => o,
            };
            // An immediate is an int literal, and literals are never negative (`-1` is a
            // negation): `x / imm` cannot overflow (that needs -1) and `s * imm` cannot be
            // a negative repeat count.
            let imm = op != base && shape(op) == Shape::Immediate;
            if int_b && int_c {
                match base {
                    Add | Sub | Mul => &[O::Ok, O::Overflow],
                    Div if imm => &[O::Ok, O::Error],
                    // Zero divisor; `MIN / -1` overflows, `MIN % -1` is 0.
                    Div => &[O::Ok, O::Overflow, O::Error],
                    _ => &[O::Ok, O::Error],
                }
            } else if is_num(b) && is_num(c) {
                &[O::Ok]
            } else {
                let seq = |k: u8| k == kind::STR || k == kind::LIST;
                match base {
                    // Concatenation (a size limit is not an outcome).
                    Add if b == c && seq(b) => &[O::Ok],
                    Mul if imm && seq(b) => &[O::Ok],
                    // Repetition: a negative count is a ValueError.
                    Mul if (seq(b) && int_c) || (int_b && seq(c)) => &[O::Ok, O::Error],
                    _ => &[O::Error],
                }
            }
        }
        Neg => match b {
            kind::INT => &[O::Ok, O::Overflow],
            kind::FLOAT => &[O::Ok],
            _ => &[O::Error],
        },
        Not => &[O::Ok],
        JmpIf | JmpIfNot | LoopIf => match (b, op != JmpIfNot) {
            (kind::NIL, true) => &[O::NotTaken],
            (kind::NIL, false) => &[O::Taken],
            (kind::BOOL, _) => &[O::Taken, O::NotTaken],
            (_, true) => &[O::Taken],
            (_, false) => &[O::NotTaken],
        },
        Eq | Ne | JmpNotEq | JmpNotNe | JmpNotEqI | JmpNotNeI | LoopEq | LoopNe | LoopEqI
        | LoopNeI => {
            if is_num(b) && is_num(c) {
                &[O::Equal, O::Unequal]
            } else if b == kind::NIL && c == kind::NIL {
                &[O::Equal]
            } else if b == c {
                &[O::Equal, O::Unequal]
            } else {
                &[O::Unequal]
            }
        }
        Lt | Le | Gt | Ge | JmpNotLt | JmpNotLe | JmpNotGt | JmpNotGe | JmpNotLtI | JmpNotLeI
        | JmpNotGtI | JmpNotGeI | LoopLt | LoopLe | LoopGt | LoopGe | LoopLtI | LoopLeI
        | LoopGtI | LoopGeI => {
            if int_b && int_c {
                &[O::Less, O::Equal, O::Greater]
            } else if is_num(b) && is_num(c) {
                &[O::Less, O::Equal, O::Greater, O::Unordered]
            } else if b == kind::STR && c == kind::STR {
                &[O::Less, O::Equal, O::Greater]
            } else {
                &[O::Error]
            }
        }
        GetIndex => match (b, c) {
            // Out of range / missing key.
            (kind::LIST | kind::STR, kind::INT) => &[O::Ok, O::Error],
            (kind::MAP, kind::INT | kind::STR) => &[O::Ok, O::Error],
            _ => &[O::Error],
        },
        SetIndex | SetIndexK => match (b, c) {
            (kind::LIST, kind::INT) => &[O::Ok, O::Error],
            (kind::MAP, kind::INT | kind::STR) => &[O::Ok],
            _ => &[O::Error],
        },
        // A missing field or method.
        GetProp | Invoke => match b {
            kind::INSTANCE => &[O::Ok, O::Error],
            _ => &[O::Error],
        },
        SetProp => match b {
            kind::INSTANCE => &[O::Ok],
            _ => &[O::Error],
        },
        // Calling with the wrong number of arguments (or a builtin's own errors).
        Call => match b {
            kind::FUNC | kind::NATIVE | kind::CLASS | kind::METHOD => &[O::Ok, O::Error],
            _ => &[O::Error],
        },
        // The global holds a top-level function or class, nothing else.
        CallGlobal => match b {
            kind::FUNC | kind::CLASS => &[O::Ok, O::Error],
            _ => &[],
        },
        IterPrep => match b {
            kind::LIST | kind::MAP | kind::STR => &[O::Ok],
            _ => &[O::Error],
        },
        ForPrep => &[O::Taken, O::NotTaken, O::Error],
        ForLoop => &[O::Taken, O::NotTaken],
        Throw => &[O::Error],
        // Only engine limits (not outcomes) stop these.
        NewBox | Closure | NewList | AppendList | NewMap | Class | IterNext => &[O::Ok],
        // A global read before its initializer ran, a builtin's errors, arity, missing
        // `super` methods, iteration errors.
        _ if OPCODES[op as usize].effects.raises => &[O::Ok, O::Error],
        _ => &[O::Ok],
    }
}

/// The register forms an opcode's cells distinguish.
pub fn forms(op: OpCode) -> &'static [Form] {
    use OpCode::*;
    match op {
        Add | Sub | Mul | Div | Mod | Eq | Ne | Lt | Le | Gt | Ge => {
            &[Form::DestIsLeft, Form::DestIsRight, Form::SameOperands]
        }
        AddI | SubI | MulI | DivI | ModI | AddK | SubK | MulK | DivK | ModK | AddIL | MulIL
        | AddKL | MulKL | Neg | Not => &[Form::DestIsLeft],
        // A loop test with the same register on both sides is reached only when its entry
        // test held, which for `<`, `>` and `!=` no value allows: only the entry form counts.
        JmpNotEq | JmpNotNe | JmpNotLt | JmpNotLe | JmpNotGt | JmpNotGe => &[Form::SameOperands],
        _ => &[],
    }
}

/// Why a cell cannot occur, or `Ok` when it can.
pub fn reachability(cell: Cell) -> Result<(), &'static str> {
    match cell {
        Cell::Op {
            op,
            b,
            c,
            variant,
            outcome,
        } => {
            let (want_b, want_c) = match shape(op) {
                Shape::Binary => (true, true),
                Shape::Immediate | Shape::FloatConst | Shape::Unary => (true, false),
                Shape::Plain => (false, false),
            };
            let valid = |k: u8, want: bool| {
                if want {
                    k < kind::COUNT
                } else {
                    k == kind::NONE
                }
            };
            let c_ok = match shape(op) {
                Shape::Immediate => c == kind::INT,
                Shape::FloatConst => c == kind::FLOAT,
                _ => valid(c, want_c),
            };
            if !valid(b, want_b) || !c_ok {
                return Err("the instruction has no operand of that kind there");
            }
            if variant.speculative() && !speculates(op) {
                return Err("the JIT has no speculative form of the instruction");
            }
            if op == OpCode::Class && variant != Variant::Generic {
                // Only the preamble creates classes, before any loop: OSR versions hold
                // only code reachable from loop headers.
                return Err("classes are created before any loop, outside OSR code");
            }
            if !outcomes(op, b, c).contains(&outcome) {
                return Err("the type rules give another outcome for these operand kinds");
            }
            Ok(())
        }
        Cell::Form { op, form, variant } => {
            if !forms(op).contains(&form) {
                return Err("the instruction has no registers in that form");
            }
            if variant as u8 > 1 {
                return Err("form cells do not tell OSR code apart");
            }
            if variant.speculative() && !speculates(op) {
                return Err("the JIT has no speculative form of the instruction");
            }
            Ok(())
        }
        Cell::Position { kind, .. } if kind < kind::COUNT => Ok(()),
        Cell::Position { .. } => Err("no program observes such a value"),
    }
}

/// Every cell that can occur, sorted by packed id.
pub fn universe() -> Vec<u32> {
    let mut out = Vec::new();
    let kinds = (0..kind::COUNT).chain([kind::NONE]);
    for &op in OpCode::ALL {
        for b in kinds.clone() {
            for c in kinds.clone() {
                for variant in Variant::ALL {
                    for outcome in Outcome::ALL {
                        let cell = Cell::Op {
                            op,
                            b,
                            c,
                            variant,
                            outcome,
                        };
                        if reachability(cell).is_ok() {
                            out.push(cell.pack());
                        }
                    }
                }
            }
        }
        for form in Form::ALL {
            for variant in Variant::ALL {
                let cell = Cell::Form { op, form, variant };
                if reachability(cell).is_ok() {
                    out.push(cell.pack());
                }
            }
        }
    }
    for pos in Position::ALL {
        for kind in 0..kind::COUNT {
            out.push(Cell::Position { pos, kind }.pack());
        }
    }
    out.sort_unstable();
    out
}

/// The register form facts of an instruction (destination, left and right register).
pub fn form_of(op: &Op) -> [Option<Form>; 2] {
    let (a, b, c): (Option<Reg>, Option<Reg>, Option<Reg>) = match *op {
        Op::Add { a, b, c }
        | Op::Sub { a, b, c }
        | Op::Mul { a, b, c }
        | Op::Div { a, b, c }
        | Op::Mod { a, b, c }
        | Op::Eq { a, b, c }
        | Op::Ne { a, b, c }
        | Op::Lt { a, b, c }
        | Op::Le { a, b, c }
        | Op::Gt { a, b, c }
        | Op::Ge { a, b, c } => (Some(a), Some(b), Some(c)),
        Op::AddI { a, b, .. }
        | Op::SubI { a, b, .. }
        | Op::MulI { a, b, .. }
        | Op::DivI { a, b, .. }
        | Op::ModI { a, b, .. }
        | Op::AddK { a, b, .. }
        | Op::SubK { a, b, .. }
        | Op::MulK { a, b, .. }
        | Op::DivK { a, b, .. }
        | Op::ModK { a, b, .. }
        | Op::AddIL { a, b, .. }
        | Op::MulIL { a, b, .. }
        | Op::AddKL { a, b, .. }
        | Op::MulKL { a, b, .. }
        | Op::Neg { a, b }
        | Op::Not { a, b } => (Some(a), Some(b), None),
        Op::JmpNotEq { b, c, .. }
        | Op::JmpNotNe { b, c, .. }
        | Op::JmpNotLt { b, c, .. }
        | Op::JmpNotLe { b, c, .. }
        | Op::JmpNotGt { b, c, .. }
        | Op::JmpNotGe { b, c, .. } => (None, Some(b), Some(c)),
        _ => return [None, None],
    };
    let dest = match (a, b, c) {
        (Some(a), Some(b), _) if a == b => Some(Form::DestIsLeft),
        (Some(a), _, Some(c)) if a == c => Some(Form::DestIsRight),
        _ => None,
    };
    let same = (b.is_some() && b == c).then_some(Form::SameOperands);
    [dest, same]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_pack_and_unpack() {
        for id in universe() {
            let cell = Cell::unpack(id).expect("a universe id unpacks");
            assert_eq!(cell.pack(), id, "{cell}");
        }
        assert_eq!(OpCode::ALL.len(), OPCODES.len());
        for (i, op) in OpCode::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
        }
    }

    #[test]
    fn the_universe_holds_no_cell_the_type_rules_forbid() {
        let u = universe();
        let has = |cell: Cell| u.binary_search(&cell.pack()).is_ok();
        let op = |op, b, c, variant, outcome| Cell::Op {
            op,
            b,
            c,
            variant,
            outcome,
        };
        use kind::*;
        // Reachable.
        assert!(has(op(
            OpCode::Add,
            INT,
            INT,
            Variant::Speculative,
            Outcome::Overflow
        )));
        assert!(has(op(
            OpCode::Lt,
            FLOAT,
            INT,
            Variant::GenericOsr,
            Outcome::Unordered
        )));
        assert!(has(op(
            OpCode::Add,
            LIST,
            MAP,
            Variant::Generic,
            Outcome::Error
        )));
        // Forbidden by the type rules or the JIT's forms.
        for cell in [
            op(
                OpCode::Add,
                FLOAT,
                FLOAT,
                Variant::Generic,
                Outcome::Overflow,
            ),
            op(OpCode::Add, STR, INT, Variant::Generic, Outcome::Ok),
            op(OpCode::Mod, INT, INT, Variant::Generic, Outcome::Overflow),
            op(OpCode::Lt, INT, INT, Variant::Generic, Outcome::Unordered),
            op(OpCode::Lt, NIL, NIL, Variant::Generic, Outcome::Less),
            op(OpCode::Eq, NIL, NIL, Variant::Generic, Outcome::Unequal),
            op(OpCode::Eq, INT, STR, Variant::Generic, Outcome::Equal),
            op(OpCode::Eq, INT, INT, Variant::Generic, Outcome::Error),
            op(OpCode::Not, INT, NONE, Variant::Speculative, Outcome::Ok),
            op(OpCode::JmpIf, NIL, NONE, Variant::Generic, Outcome::Taken),
            op(OpCode::AddI, INT, FLOAT, Variant::Generic, Outcome::Ok),
            op(OpCode::Move, NONE, NONE, Variant::Speculative, Outcome::Ok),
            op(OpCode::Neg, STR, NONE, Variant::Generic, Outcome::Ok),
        ] {
            assert!(!has(cell), "{cell} is forbidden");
            assert!(reachability(cell).is_err(), "{cell}");
        }
        // Every member is consistent with the rules it was built from.
        for id in &u {
            let cell = Cell::unpack(*id).expect("unpacks");
            assert_eq!(reachability(cell), Ok(()), "{cell}");
            if let Cell::Op { op, b, c, .. } = cell {
                match shape(op) {
                    Shape::Plain => assert_eq!((b, c), (NONE, NONE)),
                    Shape::Immediate => assert_eq!(c, INT),
                    Shape::FloatConst => assert_eq!(c, FLOAT),
                    _ => {}
                }
            }
        }
    }
}
