//! The instruction set: every opcode defined once, in `opcodes!`, with its semantics, operands,
//! the register it writes and its effects (control flow, fuel, safepoints, errors). The enum,
//! the opcode table, operand access, successors and the analyses of both tiers come from it.
//!
//! Notation in the opcode docs: `R[x]` is register x of the current frame, `K[k]` constant k,
//! `G[g]` global slot g, `U[u]` captured variable u, `pc` the index of the next instruction.

use super::*;
use crate::symbol::Symbol;
use crate::syntax::ast::BuiltinId;

/// Where control goes after an instruction (errors aside: every tier handles those alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// To the next instruction.
    Next,
    /// To the target of its jump operand.
    Jump,
    /// To the target of its jump operand or to the next instruction.
    Branch,
    /// Out of the function, returning.
    Return,
    /// Out of the instruction by raising.
    Throw,
}

impl Flow {
    /// Whether control can reach the next instruction.
    pub const fn falls_through(self) -> bool {
        matches!(self, Flow::Next | Flow::Branch)
    }
}

/// Where an instruction may run runtime code that reads or writes register slots, allocates
/// or collects garbage: a safepoint, where every tier's slots must hold the truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safepoint {
    /// Never: it works on registers only.
    Never,
    /// On uncommon paths only (operand types or values off the fast path).
    Slow,
    /// On every execution (calls, allocation, operations done out of line in every tier).
    /// Compiled code stores every changed register before it and reloads what it writes.
    Always,
}

/// What an instruction does besides computing, in every tier. The analyses of both tiers
/// (control flow, fuel points, register effects, safepoints) read these instead of listing
/// opcodes by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effects {
    /// Where control goes.
    pub flow: Flow,
    /// Whether it charges one unit of fuel (before anything else it does).
    pub fuel: bool,
    /// Where it is a safepoint.
    pub safepoint: Safepoint,
    /// Whether it may raise an error (besides running out of fuel).
    pub raises: bool,
}

impl Effects {
    const fn flow(flow: Flow) -> Effects {
        Effects {
            flow,
            fuel: false,
            safepoint: Safepoint::Never,
            raises: false,
        }
    }

    const fn fuel(self) -> Effects {
        Effects { fuel: true, ..self }
    }

    const fn raises(self) -> Effects {
        Effects {
            raises: true,
            ..self
        }
    }

    const fn slow(self) -> Effects {
        Effects {
            safepoint: Safepoint::Slow,
            ..self
        }
    }

    const fn always(self) -> Effects {
        Effects {
            safepoint: Safepoint::Always,
            ..self
        }
    }
}

// Shorthands for the opcode table.
const NEXT: Effects = Effects::flow(Flow::Next);
const JUMP: Effects = Effects::flow(Flow::Jump);
const BRANCH: Effects = Effects::flow(Flow::Branch);
const RETURN: Effects = Effects::flow(Flow::Return);
const THROW: Effects = Effects::flow(Flow::Throw);

/// How an instruction writes its destination register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// Writes it without reading its old value.
    Pure(Reg),
    /// Reads the old value first, or writes only on some paths (the old value survives on
    /// the others).
    Update(Reg),
}

impl Write {
    /// The register written.
    pub fn reg(self) -> Reg {
        match self {
            Write::Pure(r) | Write::Update(r) => r,
        }
    }
}

/// Name, semantics, operand names and effects of one opcode.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    /// Opcode name.
    pub name: &'static str,
    /// One line of semantics.
    pub doc: &'static str,
    /// Operand names, in order.
    pub operands: &'static [&'static str],
    /// The operand naming the register it writes, if any (see `Op::write`).
    pub dest: Option<&'static str>,
    /// The operand naming the first register of the run it addresses, if any (see
    /// `Op::register_run`).
    pub run: Option<&'static str>,
    /// What it does besides computing.
    pub effects: Effects,
}

macro_rules! write_of {
    (writes $r:ident) => {
        Some(Write::Pure($r))
    };
    (updates $r:ident) => {
        Some(Write::Update($r))
    };
}

// A field of `with_jump`: the new offset for the jump operand, the old value for the others.
macro_rules! retarget {
    (Jump, $field:ident, $off:ident) => {
        $off
    };
    ($ty:ident, $field:ident, $off:ident) => {
        $field
    };
}

// The name of an optional operand (`dest`, `run` of `OpInfo`).
macro_rules! operand_name {
    () => {
        None
    };
    ($r:ident) => {
        Some(stringify!($r))
    };
}

macro_rules! opcodes {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident { $($field:ident : $ty:ident),* }
        $([$how:ident $dest:ident])?
        $(regs($first:ident, $len:expr))?
        => $fx:expr;
    )*) => {
        /// One instruction.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Op {
            $( $(#[doc = $doc])+ $name { $( #[allow(missing_docs)] $field: $ty ),* }, )*
        }

        /// Opcode without operands, in declaration order (its `as usize` is the opcode index).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum OpCode {
            $( $(#[doc = $doc])+ $name, )*
        }

        impl OpCode {
            /// Every opcode, in declaration order (indexed by `OpCode as usize`).
            pub const ALL: &[OpCode] = &[ $( OpCode::$name, )* ];
        }

        /// Every opcode's name, semantics, operands and effects, indexed by `OpCode as usize`.
        pub const OPCODES: &[OpInfo] = &[
            $( OpInfo {
                name: stringify!($name),
                doc: concat!($($doc),+),
                operands: &[$(stringify!($field)),*],
                dest: operand_name!($($dest)?),
                run: operand_name!($($first)?),
                effects: $fx,
            }, )*
        ];

        impl Op {
            /// The opcode.
            #[inline]
            pub fn code(&self) -> OpCode {
                match self { $( Op::$name { .. } => OpCode::$name, )* }
            }

            /// The opcode's name.
            pub fn name(&self) -> &'static str {
                OPCODES[self.code() as usize].name
            }

            /// The opcode's effects.
            #[inline]
            pub const fn effects(&self) -> Effects {
                match self { $( Op::$name { .. } => $fx, )* }
            }

            /// The operands with their names, in order.
            pub fn operands(&self) -> Vec<(&'static str, Operand)> {
                match *self {
                    $( Op::$name { $($field),* } => vec![$( (stringify!($field), Operand::from($field)) ),*], )*
                }
            }

            /// The register the instruction writes, and how.
            #[allow(unused_variables)]
            pub fn write(&self) -> Option<Write> {
                match *self {
                    $( Op::$name { $($field),* } => { None $(.or(write_of!($how $dest)))? } )*
                }
            }

            /// The run of consecutive registers the instruction addresses beyond its register
            /// operands (call arguments, list items, loop state): first register and length.
            #[allow(unused_variables)]
            pub fn register_run(&self) -> Option<(usize, usize)> {
                match *self {
                    $( Op::$name { $($field),* } => { None $(.or(Some(($first.0 as usize, $len))))? } )*
                }
            }

            /// The instruction with its jump offset operand (if it has one) set to `off`.
            #[allow(unused_variables)]
            pub fn with_jump(self, off: Jump) -> Op {
                match self {
                    $( Op::$name { $($field),* } => Op::$name { $( $field: retarget!($ty, $field, off) ),* }, )*
                }
            }

            /// The jump offset operand, if the instruction has one.
            #[allow(unused_variables, unused_mut)]
            pub fn jump(&self) -> Option<Jump> {
                match *self {
                    $( Op::$name { $($field),* } => {
                        let mut j = None;
                        $( if let Operand::Jump(x) = Operand::from($field) { j = Some(x); } )*
                        j
                    } )*
                }
            }
        }
    };
}

/// Bit `i` set: opcode `i` charges fuel (a mask, so that the interpreter's check is one bit
/// test).
pub const FUEL_OPCODES: u128 = {
    let mut mask = 0u128;
    let mut i = 0;
    while i < OPCODES.len() {
        if OPCODES[i].effects.fuel {
            mask |= 1 << i;
        }
        i += 1;
    }
    mask
};
const _: () = assert!(OPCODES.len() <= 128);

impl Op {
    /// Whether the instruction charges fuel (`Effects::fuel`).
    #[inline(always)]
    pub fn charges_fuel(&self) -> bool {
        FUEL_OPCODES >> (self.code() as u32) & 1 != 0
    }

    /// Whether the instruction is a loop back-edge (`Loop`, `ForLoop` and the tests that end
    /// `while` loops): it jumps and charges fuel, and its target is a loop header where
    /// hot-loop counting and on-stack replacement happen.
    pub fn is_back_edge(&self) -> bool {
        self.charges_fuel() && self.jump().is_some()
    }

    /// A register of its run that the instruction writes without reading it, besides its
    /// destination (`write`): `IterPrep` sets the loop's cursor.
    pub fn run_write(&self) -> Option<Reg> {
        match *self {
            Op::IterPrep { a } => Some(Reg(a.0 + 1)),
            _ => None,
        }
    }

    /// The register the instruction writes only when it falls through, not when it jumps
    /// (`IterNext`'s element): it is neither read nor written on the jump.
    pub fn fallthrough_write(&self) -> Option<Reg> {
        match *self {
            Op::IterNext { b, .. } => Some(b),
            _ => None,
        }
    }

    /// Where control can go after the instruction at `pc` in code of `len` instructions
    /// (errors aside).
    pub fn successors(&self, pc: usize, len: usize) -> Vec<usize> {
        let target = || {
            let off = self
                .jump()
                .expect("a jumping instruction has a jump operand");
            jump_target(pc, off)
        };
        let mut out = match self.effects().flow {
            Flow::Next => vec![pc + 1],
            Flow::Jump => vec![target()],
            Flow::Branch => vec![target(), pc + 1],
            Flow::Return | Flow::Throw => vec![],
        };
        out.retain(|&s| s < len);
        out
    }
}

/// The pc a jump at `pc` with offset `off` goes to.
pub fn jump_target(pc: usize, off: Jump) -> usize {
    (pc as i64 + 1 + off.0 as i64) as usize
}

// The table: per opcode, its semantics, operands, the register it writes (`[writes a]`: without
// reading it; `[updates a]`: reading it first or writing it on some paths only), the run of
// registers it addresses (`regs(first, length)`), and its effects.
opcodes! {
    /// R[a] := R[b]
    Move { a: Reg, b: Reg } [writes a] => NEXT;
    /// R[a] := nil
    LoadNil { a: Reg } [writes a] => NEXT;
    /// R[a] := true
    LoadTrue { a: Reg } [writes a] => NEXT;
    /// R[a] := false
    LoadFalse { a: Reg } [writes a] => NEXT;
    /// R[a] := imm (an int that fits in 32 bits)
    LoadInt { a: Reg, imm: Imm } [writes a] => NEXT;
    /// R[a] := K[k]
    LoadK { a: Reg, k: ConstIdx } [writes a] => NEXT;
    /// R[a] := the builtin function f
    LoadNative { a: Reg, f: BuiltinId } [writes a] => NEXT;
    /// R[a] := G[g]; NameError if the global's initializer has not run yet
    GetGlobal { a: Reg, g: GlobalIdx } [writes a] => NEXT.raises();
    /// G[g] := R[a]
    SetGlobal { a: Reg, g: GlobalIdx } => NEXT;
    /// R[a] := current value of captured variable U[u]
    GetUpval { a: Reg, u: UpIdx } [writes a] => NEXT;
    /// captured variable U[u] := R[a]
    SetUpval { a: Reg, u: UpIdx } => NEXT;
    /// R[a] := a new shared box holding R[a] (a local that closures capture lives in a box)
    NewBox { a: Reg } [updates a] => NEXT.raises().always();
    /// R[a] := content of the box in R[b]
    GetBox { a: Reg, b: Reg } [writes a] => NEXT;
    /// content of the box in R[a] := R[b]
    SetBox { a: Reg, b: Reg } => NEXT;
    /// R[a] := a new closure of prototype p, capturing boxes per p's capture list
    Closure { a: Reg, p: ProtoId } [writes a] => NEXT.raises().always();
    /// R[a] := R[b] + R[c] (int overflow is OverflowError; strings and lists concatenate)
    Add { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] - R[c]
    Sub { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] * R[c] (string or list times int repeats)
    Mul { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] / R[c] (ints truncate toward zero; zero divisor is ZeroDivisionError)
    Div { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] % R[c] (ints: sign of the dividend; zero divisor is ZeroDivisionError)
    Mod { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] + imm (same semantics and errors as Add with an int right operand)
    AddI { a: Reg, b: Reg, imm: Imm } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] - imm (same semantics and errors as Sub with an int right operand)
    SubI { a: Reg, b: Reg, imm: Imm } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] * imm (same semantics and errors as Mul with an int right operand)
    MulI { a: Reg, b: Reg, imm: Imm } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] / imm (same semantics and errors as Div with an int right operand)
    DivI { a: Reg, b: Reg, imm: Imm } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] % imm (same semantics and errors as Mod with an int right operand)
    ModI { a: Reg, b: Reg, imm: Imm } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] + K[k], K[k] a float constant (same semantics and errors as Add)
    AddK { a: Reg, b: Reg, k: ConstIdx } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] - K[k], K[k] a float constant (same semantics and errors as Sub)
    SubK { a: Reg, b: Reg, k: ConstIdx } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] * K[k], K[k] a float constant (same semantics and errors as Mul)
    MulK { a: Reg, b: Reg, k: ConstIdx } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] / K[k], K[k] a float constant (same semantics and errors as Div)
    DivK { a: Reg, b: Reg, k: ConstIdx } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] % K[k], K[k] a float constant (same semantics and errors as Mod)
    ModK { a: Reg, b: Reg, k: ConstIdx } [writes a] => NEXT.raises().slow();
    /// R[a] := imm + R[b], the int literal on the left (semantics, errors and messages of Add
    /// with an int left operand; its fast paths are AddI's, as `+` on numbers commutes)
    AddIL { a: Reg, b: Reg, imm: Imm } [writes a] => NEXT.raises().slow();
    /// R[a] := imm * R[b], the int literal on the left (as Mul with an int left operand)
    MulIL { a: Reg, b: Reg, imm: Imm } [writes a] => NEXT.raises().slow();
    /// R[a] := K[k] + R[b], K[k] a float constant on the left (as Add)
    AddKL { a: Reg, b: Reg, k: ConstIdx } [writes a] => NEXT.raises().slow();
    /// R[a] := K[k] * R[b], K[k] a float constant on the left (as Mul)
    MulKL { a: Reg, b: Reg, k: ConstIdx } [writes a] => NEXT.raises().slow();
    /// R[a] := -R[b]
    Neg { a: Reg, b: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := not truthy(R[b])
    Not { a: Reg, b: Reg } [writes a] => NEXT;
    /// R[a] := R[b] == R[c] (raises only when its work runs out of fuel)
    Eq { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] != R[c]
    Ne { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] < R[c] (numbers or strings; TypeError otherwise)
    Lt { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] <= R[c]
    Le { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] > R[c]
    Gt { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a] := R[b] >= R[c]
    Ge { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// pc += off (a forward jump)
    Jmp { off: Jump } => JUMP;
    /// pc += off (a loop back-edge: charges one unit of fuel)
    Loop { off: Jump } => JUMP.fuel();
    /// if truthy(R[a]) then pc += off
    JmpIf { a: Reg, off: Jump } => BRANCH;
    /// if not truthy(R[a]) then pc += off
    JmpIfNot { a: Reg, off: Jump } => BRANCH;
    /// if not (R[b] == R[c]) then pc += off
    JmpNotEq { b: Reg, c: Reg, off: Jump } => BRANCH.raises().slow();
    /// if not (R[b] != R[c]) then pc += off
    JmpNotNe { b: Reg, c: Reg, off: Jump } => BRANCH.raises().slow();
    /// if not (R[b] < R[c]) then pc += off (TypeError as Lt)
    JmpNotLt { b: Reg, c: Reg, off: Jump } => BRANCH.raises().slow();
    /// if not (R[b] <= R[c]) then pc += off (TypeError as Le)
    JmpNotLe { b: Reg, c: Reg, off: Jump } => BRANCH.raises().slow();
    /// if not (R[b] > R[c]) then pc += off (TypeError as Gt)
    JmpNotGt { b: Reg, c: Reg, off: Jump } => BRANCH.raises().slow();
    /// if not (R[b] >= R[c]) then pc += off (TypeError as Ge)
    JmpNotGe { b: Reg, c: Reg, off: Jump } => BRANCH.raises().slow();
    /// if not (R[b] == imm) then pc += off
    JmpNotEqI { b: Reg, imm: Imm, off: Jump } => BRANCH;
    /// if not (R[b] != imm) then pc += off
    JmpNotNeI { b: Reg, imm: Imm, off: Jump } => BRANCH;
    /// if not (R[b] < imm) then pc += off (TypeError as Lt)
    JmpNotLtI { b: Reg, imm: Imm, off: Jump } => BRANCH.raises().slow();
    /// if not (R[b] <= imm) then pc += off (TypeError as Le)
    JmpNotLeI { b: Reg, imm: Imm, off: Jump } => BRANCH.raises().slow();
    /// if not (R[b] > imm) then pc += off (TypeError as Gt)
    JmpNotGtI { b: Reg, imm: Imm, off: Jump } => BRANCH.raises().slow();
    /// if not (R[b] >= imm) then pc += off (TypeError as Ge)
    JmpNotGeI { b: Reg, imm: Imm, off: Jump } => BRANCH.raises().slow();
    /// R[a] := R[a](R[a+1], ..., R[a+n]) (charges one unit of fuel)
    Call { a: Reg, n: Count } [updates a] regs(a, n.0 as usize + 1)
        => NEXT.fuel().raises().always();
    /// R[a] := G[g](R[a+1], ..., R[a+n]), R[a] := G[g] first: a call of a top-level function or
    /// class by name (such globals are set before any code runs and never change, so reading
    /// one after the arguments is reading it before them) (charges one unit of fuel)
    CallGlobal { a: Reg, g: GlobalIdx, n: Count } [writes a] regs(a, n.0 as usize + 1)
        => NEXT.fuel().raises().always();
    /// R[a] := builtin f(R[a+1], ..., R[a+n]) (charges one unit of fuel)
    CallNative { a: Reg, f: BuiltinId, n: Count } [writes a] regs(a, n.0 as usize + 1)
        => NEXT.fuel().raises().always();
    /// R[a] := R[a].m(R[a+1], ..., R[a+n]): a field holding a function, else a method (charges one unit of fuel)
    Invoke { a: Reg, m: Symbol, n: Count, ic: IcIdx } [updates a] regs(a, n.0 as usize + 1)
        => NEXT.fuel().raises().always();
    /// R[a] := superclass method m called with self = R[a] and R[a+1], ..., R[a+n] (charges one unit of fuel)
    SuperInvoke { a: Reg, m: Symbol, n: Count } [updates a] regs(a, n.0 as usize + 1)
        => NEXT.fuel().raises().always();
    /// R[a] := superclass method m bound to self = R[b]
    GetSuper { a: Reg, b: Reg, m: Symbol } [writes a] => NEXT.raises().always();
    /// return R[a] to the caller
    Return { a: Reg } => RETURN;
    /// return nil to the caller (from init: return self)
    ReturnNil {} => RETURN;
    /// R[a] := a new list [R[b], ..., R[b+n-1]]; len is the whole literal's length (longer
    /// literals are completed by AppendList), checked against the collection limit first
    NewList { a: Reg, b: Reg, n: Count, len: Imm } [writes a] regs(b, n.0 as usize)
        => NEXT.raises().always();
    /// append R[b], ..., R[b+n-1] to the list in R[a] (long list literals are built in batches)
    AppendList { a: Reg, b: Reg, n: Count } regs(b, n.0 as usize) => NEXT.raises().always();
    /// R[a] := a new empty map
    NewMap { a: Reg } [writes a] => NEXT.raises().always();
    /// R[a] := R[b][R[c]] (list or string by int index, map by key)
    GetIndex { a: Reg, b: Reg, c: Reg } [writes a] => NEXT.raises().slow();
    /// R[a][R[b]] := R[c] (list element or map entry)
    SetIndex { a: Reg, b: Reg, c: Reg } => NEXT.raises().slow();
    /// R[a][R[b]] := K[k] (`l[i] = false`: a literal value needs no register)
    SetIndexK { a: Reg, b: Reg, k: ConstIdx } => NEXT.raises().slow();
    /// R[a] := R[b].m (the field m, else method m bound to R[b])
    GetProp { a: Reg, b: Reg, m: Symbol, ic: IcIdx } [writes a] => NEXT.raises().slow();
    /// R[a].m := R[b] (adds the field if the instance lacks it)
    SetProp { a: Reg, b: Reg, m: Symbol, ic: IcIdx } => NEXT.raises().slow();
    /// R[a] := a new class built from declaration c (its superclass must be initialized)
    Class { a: Reg, c: ClassIdx } [writes a] => NEXT.raises().always();
    /// throw R[a]
    Throw { a: Reg } => THROW.raises().always();
    /// check that R[a] is a list, map or string (TypeError otherwise); R[a+1] := 0 (the cursor)
    IterPrep { a: Reg } regs(a, 2) => NEXT.raises().always();
    /// if the cursor R[a+1] is not at the end of R[a]: R[b] := next element (map: next key), advance; else pc += off
    IterNext { a: Reg, b: Reg, off: Jump } [updates b] regs(a, 2) => BRANCH.raises().slow();
    /// check that R[a] and R[a+1] are ints (TypeError otherwise); if R[a] >= R[a+1] then pc += off
    ForPrep { a: Reg, off: Jump } regs(a, 2) => BRANCH.raises().slow();
    /// R[a] += 1; if R[a] < R[a+1] then pc += off (a loop back-edge: charges one unit of fuel)
    ForLoop { a: Reg, off: Jump } [updates a] regs(a, 2) => BRANCH.fuel();
    /// if truthy(R[a]) then pc += off (the test at the end of a `while` loop, jumping back
    /// to its body: a loop back-edge, charges one unit of fuel)
    LoopIf { a: Reg, off: Jump } => BRANCH.fuel();
    /// if R[b] == R[c] then pc += off (a loop back-edge, see LoopIf)
    LoopEq { b: Reg, c: Reg, off: Jump } => BRANCH.fuel().raises().slow();
    /// if R[b] != R[c] then pc += off (a loop back-edge, see LoopIf)
    LoopNe { b: Reg, c: Reg, off: Jump } => BRANCH.fuel().raises().slow();
    /// if R[b] < R[c] then pc += off (a loop back-edge, see LoopIf; TypeError as Lt)
    LoopLt { b: Reg, c: Reg, off: Jump } => BRANCH.fuel().raises().slow();
    /// if R[b] <= R[c] then pc += off (a loop back-edge, see LoopIf; TypeError as Le)
    LoopLe { b: Reg, c: Reg, off: Jump } => BRANCH.fuel().raises().slow();
    /// if R[b] > R[c] then pc += off (a loop back-edge, see LoopIf; TypeError as Gt)
    LoopGt { b: Reg, c: Reg, off: Jump } => BRANCH.fuel().raises().slow();
    /// if R[b] >= R[c] then pc += off (a loop back-edge, see LoopIf; TypeError as Ge)
    LoopGe { b: Reg, c: Reg, off: Jump } => BRANCH.fuel().raises().slow();
    /// if R[b] == imm then pc += off (a loop back-edge, see LoopIf)
    LoopEqI { b: Reg, imm: Imm, off: Jump } => BRANCH.fuel();
    /// if R[b] != imm then pc += off (a loop back-edge, see LoopIf)
    LoopNeI { b: Reg, imm: Imm, off: Jump } => BRANCH.fuel();
    /// if R[b] < imm then pc += off (a loop back-edge, see LoopIf; TypeError as Lt)
    LoopLtI { b: Reg, imm: Imm, off: Jump } => BRANCH.fuel().raises().slow();
    /// if R[b] <= imm then pc += off (a loop back-edge, see LoopIf; TypeError as Le)
    LoopLeI { b: Reg, imm: Imm, off: Jump } => BRANCH.fuel().raises().slow();
    /// if R[b] > imm then pc += off (a loop back-edge, see LoopIf; TypeError as Gt)
    LoopGtI { b: Reg, imm: Imm, off: Jump } => BRANCH.fuel().raises().slow();
    /// if R[b] >= imm then pc += off (a loop back-edge, see LoopIf; TypeError as Ge)
    LoopGeI { b: Reg, imm: Imm, off: Jump } => BRANCH.fuel().raises().slow();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_small() {
        assert!(
            std::mem::size_of::<Op>() <= 12,
            "Op is {} bytes",
            std::mem::size_of::<Op>()
        );
    }

    #[test]
    fn the_opcode_table_is_consistent() {
        for info in OPCODES {
            let fx = info.effects;
            // A jump operand exactly where control may jump.
            let jumps = matches!(fx.flow, Flow::Jump | Flow::Branch);
            assert_eq!(info.operands.contains(&"off"), jumps, "{}", info.name);
            // The destination is a register operand.
            if let Some(d) = info.dest {
                assert!(info.operands.contains(&d), "{}", info.name);
            }
            // Calls are safepoints on every path, and only what runs code may allocate there.
            if fx.fuel && fx.flow == Flow::Next {
                assert_eq!(fx.safepoint, Safepoint::Always, "{}", info.name);
            }
        }
        let call = Op::Call {
            a: Reg(3),
            n: Count(2),
        };
        assert_eq!(call.register_run(), Some((3, 3)));
        assert_eq!(call.write(), Some(Write::Update(Reg(3))));
        assert!(call.charges_fuel());
        let br = Op::JmpNotLtI {
            b: Reg(1),
            imm: Imm(4),
            off: Jump(-3),
        };
        assert_eq!(br.successors(10, 20), vec![8, 11]);
        assert_eq!(br.write(), None);
        assert!(!br.charges_fuel());
        assert_eq!(Op::ReturnNil {}.successors(19, 20), Vec::<usize>::new());
    }

    #[test]
    fn every_opcode_has_a_doc_and_a_unique_name() {
        let mut names: Vec<&str> = OPCODES.iter().map(|o| o.name).collect();
        assert!(OPCODES.iter().all(|o| !o.doc.trim().is_empty()));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), OPCODES.len());
        let op = Op::Add {
            a: Reg(1),
            b: Reg(2),
            c: Reg(3),
        };
        assert_eq!(op.name(), "Add");
        assert_eq!(OPCODES[op.code() as usize].operands, &["a", "b", "c"]);
        assert_eq!(op.operands()[2], ("c", Operand::Reg(Reg(3))));
    }
}
