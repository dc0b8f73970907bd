//! What a run reached: opcodes, JIT helpers, builtins, error kinds, and semantic cells
//! (`runtime::cells`). Collected only when asked for (`Config::coverage`); the interpreter then
//! runs a copy of its dispatch loop that records each instruction it executes.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::bytecode::{OPCODES, Op, OpCode, Reg};
use crate::error::ErrorKind;
use crate::runtime::builtins::BUILTINS;
use crate::runtime::cells::{self, Cell, Outcome, Position, Variant, kind, kind_of};
use crate::runtime::ops::cmp_int_float;
use crate::runtime::value::Value;
use crate::runtime::vm::Vm;
use crate::runtime::work::Meter;

/// Reached opcodes (interpreted), helpers (called from compiled code) and builtins, as bit
/// sets indexed like `OPCODES`, the JIT's helper table and `BUILTINS`; and semantic cells.
///
/// Semantic cells join two records made per instruction *site* (the instruction's index among
/// all instructions of the program, the same in every tier of one program): the interpreter
/// records what each site did (operand kinds and outcome, register form, kinds of values moved
/// into positions: *facts*), the JIT records how it compiled each site (*variants*). `settle`
/// joins them: a fact at a site compiled as a variant is a reached cell. Nothing is added to
/// compiled code, so covering does not change the code under test.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Bit `i`: opcode `OPCODES[i]` was interpreted.
    pub opcodes: u128,
    /// Bit `i`: helper `i` of the JIT's helper table (`crate::helper_names()`) was called.
    pub helpers: u64,
    /// Bit `i`: builtin `BUILTINS[i]` was called.
    pub builtins: u64,
    /// Bit `k as u32`: an error of kind `k` was raised (caught or not).
    pub errors: u32,
    /// Semantic cells reached (packed `cells::Cell` ids), once `settle`d.
    pub cells: FxHashSet<u32>,
    /// What the interpreter saw: `site << 32 | fact` (a fact is a packed cell whose variant
    /// is left out).
    facts: FxHashSet<u64>,
    /// How the JIT compiled: `site << 32 | variant`.
    compiled: FxHashSet<u64>,
    /// Per site: the last operation fact recorded there, plus one (0: none yet), so that a
    /// hot instruction repeating itself costs a comparison, not a hash insert.
    last: Vec<u32>,
    /// An operation fact waiting for its instruction to finish (it may still raise).
    pending: Option<(u32, u32)>,
    /// Whether this run records facts (the reference interpreter run does; the compiling
    /// tiers record variants).
    record_facts: bool,
}

// Every set must fit its bit set.
const _: () = assert!(OPCODES.len() <= 128);
const _: () = assert!(BUILTINS.len() <= 64);

impl Coverage {
    /// An empty record for one run; `facts`: whether the run records what each instruction
    /// did (the reference run) or only how the JIT compiled it.
    pub(crate) fn recording(facts: bool) -> Coverage {
        Coverage {
            record_facts: facts,
            ..Coverage::default()
        }
    }

    /// Adds everything `other` reached.
    /// Sites are per program: merge the runs of one program, `settle`, then merge the
    /// settled coverage of different programs.
    pub fn merge(&mut self, other: &Coverage) {
        self.opcodes |= other.opcodes;
        self.helpers |= other.helpers;
        self.builtins |= other.builtins;
        self.errors |= other.errors;
        self.cells.extend(other.cells.iter().copied());
        self.facts.extend(other.facts.iter().copied());
        self.compiled.extend(other.compiled.iter().copied());
    }

    /// Joins facts and variants into cells and drops the per-site records.
    pub fn settle(&mut self) {
        self.flush();
        let mut variants: FxHashMap<u32, u8> = FxHashMap::default();
        for &sv in &self.compiled {
            *variants.entry((sv >> 32) as u32).or_default() |= 1 << (sv as u32 & 3);
        }
        for &sf in &self.facts {
            if let Some(&mask) = variants.get(&((sf >> 32) as u32)) {
                for v in Variant::ALL {
                    if mask & 1 << v as u8 != 0 {
                        self.cells.insert(Cell::join(sf as u32, v));
                    }
                }
            }
        }
        self.facts = FxHashSet::default();
        self.compiled = FxHashSet::default();
        self.last = Vec::new();
    }

    /// Records the pending operation fact as it was predicted (its instruction finished).
    pub(crate) fn flush(&mut self) {
        if let Some((site, fact)) = self.pending.take() {
            self.add_op_fact(site, fact);
        }
    }

    fn add_op_fact(&mut self, site: u32, fact: u32) {
        let i = site as usize;
        if self.last.len() <= i {
            self.last.resize(i + 1, 0);
        }
        if self.last[i] != fact.wrapping_add(1) {
            self.last[i] = fact.wrapping_add(1);
            self.add_fact(site, fact);
        }
    }

    #[inline]
    fn add_fact(&mut self, site: u32, fact: u32) {
        self.facts.insert(u64::from(site) << 32 | u64::from(fact));
    }

    /// The JIT compiled the instructions of a function whose first site is `base`:
    /// `variants[pc]` is 0 for an instruction left out, 1 for generic, 2 for speculative.
    #[cfg(feature = "jit")]
    pub(crate) fn compiled(&mut self, base: u32, variants: &[u8], osr: bool) {
        for (pc, &v) in variants.iter().enumerate() {
            if v != 0 {
                let variant = Variant::of(v == 2, osr);
                self.compiled
                    .insert(u64::from(base + pc as u32) << 32 | variant as u64);
            }
        }
    }

    /// The instruction at `site` raised an error of `kind`: the pending fact, if it is that
    /// instruction's, gets the error's outcome (an engine limit is no outcome: dropped).
    pub(crate) fn raised(&mut self, site: u32, kind: ErrorKind) {
        let Some((s, fact)) = self.pending.take() else {
            return;
        };
        if s != site {
            self.add_op_fact(s, fact);
            return;
        }
        if kind.is_limit() {
            return;
        }
        let arith = matches!(
            Cell::unpack(fact),
            Some(Cell::Op { op, .. }) if cells::outcomes(op, kind::INT, kind::INT).contains(&Outcome::Overflow)
                || op == OpCode::Neg
        );
        let outcome = if kind == ErrorKind::OverflowError && arith {
            Outcome::Overflow
        } else {
            Outcome::Error
        };
        self.add_op_fact(site, fact & !15 | outcome as u32);
    }

    /// Records what the instruction `op` at `site` is about to do (`read` gives a register's
    /// value). Called before the instruction runs; an instruction that may raise keeps its
    /// fact pending until the next instruction (or `raised`).
    pub(crate) fn observe(&mut self, vm: &Vm, site: u32, op: &Op, read: impl Fn(Reg) -> Value) {
        if !self.record_facts {
            return;
        }
        self.flush();
        let k = |r: Reg| kind_of(&read(r));
        let order = |x: Value, y: Value| order(&x, &y);
        let eq = |x: Value, y: Value| {
            if vm.equal_in(x, y, &mut Meter::free()).unwrap_or(false) {
                Outcome::Equal
            } else {
                Outcome::Unequal
            }
        };
        let int = |i: i32| Value::Int(i64::from(i));
        let none = kind::NONE;
        let positions = |s: &mut Self, pos: Position, first: usize, n: usize| {
            for r in first..first + n {
                let kind = kind_of(&read(Reg(r as u16)));
                s.add_fact(site, Cell::Position { pos, kind }.pack());
            }
        };
        use Outcome as O;
        let (b, c, outcome) = match *op {
            Op::Add { b, c, .. }
            | Op::Sub { b, c, .. }
            | Op::Mul { b, c, .. }
            | Op::Div { b, c, .. }
            | Op::Mod { b, c, .. }
            | Op::GetIndex { b, c, .. } => (k(b), k(c), O::Ok),
            Op::AddI { b, .. }
            | Op::SubI { b, .. }
            | Op::MulI { b, .. }
            | Op::DivI { b, .. }
            | Op::ModI { b, .. }
            | Op::AddIL { b, .. }
            | Op::MulIL { b, .. } => (k(b), kind::INT, O::Ok),
            Op::AddK { b, .. }
            | Op::SubK { b, .. }
            | Op::MulK { b, .. }
            | Op::DivK { b, .. }
            | Op::ModK { b, .. }
            | Op::AddKL { b, .. }
            | Op::MulKL { b, .. } => (k(b), kind::FLOAT, O::Ok),
            Op::Neg { b, .. } | Op::Not { b, .. } | Op::GetProp { b, .. } => (k(b), none, O::Ok),
            Op::JmpIf { a, .. } | Op::LoopIf { a, .. } => {
                let t = read(a).truthy();
                (k(a), none, if t { O::Taken } else { O::NotTaken })
            }
            Op::JmpIfNot { a, .. } => {
                let t = read(a).truthy();
                (k(a), none, if t { O::NotTaken } else { O::Taken })
            }
            Op::Eq { b, c, .. }
            | Op::Ne { b, c, .. }
            | Op::JmpNotEq { b, c, .. }
            | Op::JmpNotNe { b, c, .. }
            | Op::LoopEq { b, c, .. }
            | Op::LoopNe { b, c, .. } => (k(b), k(c), eq(read(b), read(c))),
            Op::JmpNotEqI { b, imm, .. }
            | Op::JmpNotNeI { b, imm, .. }
            | Op::LoopEqI { b, imm, .. }
            | Op::LoopNeI { b, imm, .. } => (k(b), kind::INT, eq(read(b), int(imm.0))),
            Op::Lt { b, c, .. }
            | Op::Le { b, c, .. }
            | Op::Gt { b, c, .. }
            | Op::Ge { b, c, .. }
            | Op::JmpNotLt { b, c, .. }
            | Op::JmpNotLe { b, c, .. }
            | Op::JmpNotGt { b, c, .. }
            | Op::JmpNotGe { b, c, .. }
            | Op::LoopLt { b, c, .. }
            | Op::LoopLe { b, c, .. }
            | Op::LoopGt { b, c, .. }
            | Op::LoopGe { b, c, .. } => (k(b), k(c), order(read(b), read(c))),
            Op::JmpNotLtI { b, imm, .. }
            | Op::JmpNotLeI { b, imm, .. }
            | Op::JmpNotGtI { b, imm, .. }
            | Op::JmpNotGeI { b, imm, .. }
            | Op::LoopLtI { b, imm, .. }
            | Op::LoopLeI { b, imm, .. }
            | Op::LoopGtI { b, imm, .. }
            | Op::LoopGeI { b, imm, .. } => (k(b), kind::INT, order(read(b), int(imm.0))),
            Op::SetIndex { a, b, c } => {
                let pos = match read(a) {
                    Value::List(_) => Some(Position::ListElement),
                    Value::Map(_) => Some(Position::MapValue),
                    _ => None,
                };
                if let Some(pos) = pos {
                    positions(self, pos, c.0 as usize, 1);
                }
                (k(a), k(b), O::Ok)
            }
            // A literal's kind: positions are covered by the register form.
            Op::SetIndexK { a, b, .. } => (k(a), k(b), O::Ok),
            Op::SetProp { a, b, .. } => {
                if let Value::Instance(_) = read(a) {
                    positions(self, Position::Field, b.0 as usize, 1);
                }
                (k(a), none, O::Ok)
            }
            Op::CallGlobal { a, g, n } => {
                positions(self, Position::Argument, a.0 as usize + 1, n.0 as usize);
                // Recorded before the instruction runs: the callee is still in its global.
                (kind_of(&vm.globals[g.0 as usize]), none, O::Ok)
            }
            Op::Call { a, n } | Op::Invoke { a, n, .. } => {
                positions(self, Position::Argument, a.0 as usize + 1, n.0 as usize);
                (k(a), none, O::Ok)
            }
            Op::CallNative { a, n, .. } | Op::SuperInvoke { a, n, .. } => {
                positions(self, Position::Argument, a.0 as usize + 1, n.0 as usize);
                (none, none, O::Ok)
            }
            Op::IterPrep { a } => (k(a), none, O::Ok),
            Op::ForPrep { a, .. } => {
                let o = match (read(a), read(Reg(a.0 + 1))) {
                    (Value::Int(s), Value::Int(e)) if s >= e => O::Taken,
                    (Value::Int(_), Value::Int(_)) => O::NotTaken,
                    _ => O::Error,
                };
                (none, none, o)
            }
            Op::ForLoop { a, .. } => {
                let o = match (read(a), read(Reg(a.0 + 1))) {
                    (Value::Int(i), Value::Int(e)) if i.saturating_add(1) < e => O::Taken,
                    _ => O::NotTaken,
                };
                (none, none, o)
            }
            Op::NewList { b, n, .. } | Op::AppendList { b, n, .. } => {
                positions(self, Position::ListElement, b.0 as usize, n.0 as usize);
                (none, none, O::Ok)
            }
            Op::Return { a } => {
                positions(self, Position::Return, a.0 as usize, 1);
                (none, none, O::Ok)
            }
            Op::Throw { a } => {
                positions(self, Position::Thrown, a.0 as usize, 1);
                (none, none, O::Error)
            }
            Op::SetUpval { a, .. } | Op::NewBox { a } => {
                positions(self, Position::Captured, a.0 as usize, 1);
                (none, none, O::Ok)
            }
            Op::SetBox { b, .. } => {
                positions(self, Position::Captured, b.0 as usize, 1);
                (none, none, O::Ok)
            }
            _ => (none, none, O::Ok),
        };
        let code = op.code();
        let i = site as usize;
        if self.last.get(i).copied().unwrap_or(0) == 0 {
            // A site's register form never changes: recorded on its first execution.
            for form in cells::form_of(op).into_iter().flatten() {
                let f = Cell::Form {
                    op: code,
                    form,
                    variant: Variant::Generic,
                };
                self.add_fact(site, f.pack());
            }
        }
        let fact = Cell::Op {
            op: code,
            b,
            c,
            variant: Variant::Generic,
            outcome,
        }
        .pack();
        if op.effects().raises {
            self.pending = Some((site, fact));
        } else {
            self.add_op_fact(site, fact);
        }
    }

    /// Error kinds, each with whether one was raised.
    pub fn errors(&self) -> Vec<(ErrorKind, bool)> {
        ErrorKind::ALL
            .iter()
            .map(|&k| (k, self.errors & (1 << k as u32) != 0))
            .collect()
    }

    /// Opcode names, each with whether it was reached.
    pub fn opcodes(&self) -> Vec<(&'static str, bool)> {
        OPCODES
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name, self.opcodes & (1 << i) != 0))
            .collect()
    }

    /// Helper names (the JIT's helper table, `crate::helper_names()`), each with whether it
    /// was reached.
    pub fn helpers(&self, names: &[&'static str]) -> Vec<(&'static str, bool)> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, self.helpers & (1 << i) != 0))
            .collect()
    }

    /// Builtin names, each with whether it was reached.
    pub fn builtins(&self) -> Vec<(&'static str, bool)> {
        BUILTINS
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name, self.builtins & (1 << i) != 0))
            .collect()
    }
}

/// The ordering outcome of two operands of a comparison (`Error` when they have none).
fn order(x: &Value, y: &Value) -> Outcome {
    use std::cmp::Ordering;
    let o = match (x, y) {
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
        (Value::Int(a), Value::Float(b)) => cmp_int_float(*a, *b),
        (Value::Float(a), Value::Int(b)) => cmp_int_float(*b, *a).map(Ordering::reverse),
        (Value::Str(a), Value::Str(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => return Outcome::Error,
    };
    match o {
        Some(Ordering::Less) => Outcome::Less,
        Some(Ordering::Equal) => Outcome::Equal,
        Some(Ordering::Greater) => Outcome::Greater,
        None => Outcome::Unordered,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Tier};

    #[test]
    fn every_helper_fits_the_bit_set() {
        assert!(crate::helper_names().len() <= 64);
    }

    #[test]
    fn runs_record_what_they_reach_only_when_asked() {
        let src = "let x = [1, 2]; print(len(x) + x[0]);";
        let reached = |tier, coverage| {
            let config = Config {
                tier,
                coverage,
                ..Config::default()
            };
            crate::run(src, &config).stats.coverage
        };
        assert_eq!(reached(Tier::Interp, false), None);
        let c = reached(Tier::Interp, true).expect("coverage was asked for");
        let ops: Vec<_> = c
            .opcodes()
            .into_iter()
            .filter(|o| o.1)
            .map(|o| o.0)
            .collect();
        assert!(
            ops.contains(&"NewList") && ops.contains(&"GetIndex"),
            "{ops:?}"
        );
        assert!(!ops.contains(&"Throw"), "{ops:?}");
        let builtins: Vec<_> = c
            .builtins()
            .into_iter()
            .filter(|b| b.1)
            .map(|b| b.0)
            .collect();
        assert_eq!(builtins, ["print", "len"]);
        #[cfg(feature = "jit")]
        {
            let c = reached(Tier::Jit, true).expect("coverage was asked for");
            let helpers: Vec<_> = c
                .helpers(&crate::helper_names())
                .into_iter()
                .filter(|h| h.1)
                .map(|h| h.0)
                .collect();
            assert!(helpers.contains(&"echo_new_list"), "{helpers:?}");
            assert_eq!(c.opcodes, 0, "nothing is interpreted in the jit tier");
        }
    }
}
