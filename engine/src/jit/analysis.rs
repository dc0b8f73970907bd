//! Dataflow over one prototype's bytecode for the translator: which registers may differ
//! from their stack slots (dirty), which are live, and which code an OSR entry can reach.

use crate::bytecode::*;

/// A set of registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RegSet(Vec<u64>);

impl RegSet {
    pub(crate) fn new(n: usize) -> RegSet {
        RegSet(vec![0; n.div_ceil(64)])
    }

    pub(crate) fn insert(&mut self, r: usize) {
        self.0[r / 64] |= 1 << (r % 64);
    }

    /// Adds `other`; returns whether anything was added.
    pub(crate) fn union(&mut self, other: &RegSet) -> bool {
        let mut changed = false;
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            let n = *a | *b;
            changed |= n != *a;
            *a = n;
        }
        changed
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |i| bits & (1 << i) != 0)
                .map(move |i| w * 64 + i)
        })
    }
}

/// For each instruction, the registers that may have been written (in compiled code, where
/// writes stay in SSA values) since the last point where all registers were stored back.
/// Calls and instructions that always call a helper store everything and reload their
/// result, so nothing is dirty after them; other instructions add the register they write.
pub(crate) fn dirty_registers(proto: &Proto) -> Vec<RegSet> {
    let n = proto.code.len();
    let nregs = proto.nregs as usize;
    let mut dirty_in = vec![RegSet::new(nregs); n];
    let mut work: Vec<usize> = (0..n).rev().collect();
    let mut queued = vec![true; n];
    while let Some(pc) = work.pop() {
        queued[pc] = false;
        let op = proto.code[pc];
        let out = if always_syncs(&op) {
            RegSet::new(nregs)
        } else {
            let mut out = dirty_in[pc].clone();
            if let Some(a) = written_register(&op) {
                out.insert(a.0 as usize);
            }
            out
        };
        for succ in successors(pc, &op, n) {
            if dirty_in[succ].union(&out) && !queued[succ] {
                queued[succ] = true;
                work.push(succ);
            }
        }
    }
    dirty_in
}

/// Instructions that store all registers (and reload what they write) on every path.
fn always_syncs(op: &Op) -> bool {
    matches!(
        op,
        Op::NewBox { .. }
            | Op::Closure { .. }
            | Op::Call { .. }
            | Op::CallNative { .. }
            | Op::Invoke { .. }
            | Op::SuperInvoke { .. }
            | Op::GetSuper { .. }
            | Op::NewList { .. }
            | Op::AppendList { .. }
            | Op::NewMap { .. }
            | Op::GetIndex { .. }
            | Op::SetIndex { .. }
            | Op::Class { .. }
            | Op::IterPrep { .. }
            | Op::IterNext { .. }
    )
}

/// The register an instruction writes in compiled code, if any.
fn written_register(op: &Op) -> Option<Reg> {
    match *op {
        Op::Move { a, .. }
        | Op::LoadNil { a }
        | Op::LoadTrue { a }
        | Op::LoadFalse { a }
        | Op::LoadInt { a, .. }
        | Op::LoadK { a, .. }
        | Op::LoadNative { a, .. }
        | Op::GetGlobal { a, .. }
        | Op::GetUpval { a, .. }
        | Op::GetBox { a, .. }
        | Op::Add { a, .. }
        | Op::Sub { a, .. }
        | Op::Mul { a, .. }
        | Op::Div { a, .. }
        | Op::Mod { a, .. }
        | Op::AddI { a, .. }
        | Op::SubI { a, .. }
        | Op::MulI { a, .. }
        | Op::DivI { a, .. }
        | Op::ModI { a, .. }
        | Op::Neg { a, .. }
        | Op::Not { a, .. }
        | Op::Eq { a, .. }
        | Op::Ne { a, .. }
        | Op::Lt { a, .. }
        | Op::Le { a, .. }
        | Op::Gt { a, .. }
        | Op::Ge { a, .. }
        | Op::GetProp { a, .. }
        | Op::ForLoop { a, .. } => Some(a),
        _ => None,
    }
}

/// Where control can go after `op` at `pc` (errors excepted: error exits store everything).
pub(crate) fn successors(pc: usize, op: &Op, n: usize) -> Vec<usize> {
    let t = |off: Jump| target(pc, off);
    let mut out = match *op {
        Op::Jmp { off } | Op::Loop { off } => vec![t(off)],
        Op::JmpIf { off, .. }
        | Op::JmpIfNot { off, .. }
        | Op::JmpNotEq { off, .. }
        | Op::JmpNotNe { off, .. }
        | Op::JmpNotLt { off, .. }
        | Op::JmpNotLe { off, .. }
        | Op::JmpNotGt { off, .. }
        | Op::JmpNotGe { off, .. }
        | Op::JmpNotEqI { off, .. }
        | Op::JmpNotNeI { off, .. }
        | Op::JmpNotLtI { off, .. }
        | Op::JmpNotLeI { off, .. }
        | Op::JmpNotGtI { off, .. }
        | Op::JmpNotGeI { off, .. }
        | Op::IterNext { off, .. }
        | Op::ForPrep { off, .. }
        | Op::ForLoop { off, .. } => vec![t(off), pc + 1],
        Op::Return { .. } | Op::ReturnNil {} | Op::Throw { .. } => vec![],
        _ => vec![pc + 1],
    };
    out.retain(|&s| s < n);
    out
}

impl RegSet {
    fn remove(&mut self, r: usize) {
        self.0[r / 64] &= !(1 << (r % 64));
    }
}

/// The registers an instruction may read. An over-approximation is harmless (it only keeps
/// more registers live); the destination of a pure write is left out.
fn read_registers(op: &Op, protos: &[std::rc::Rc<Proto>], out: &mut Vec<usize>) {
    // The destination operand `a` of a pure write is not read (ForLoop reads the counter it
    // writes); the same register may still be read as another operand.
    let writes_a = written_register(op).is_some() && !matches!(op, Op::ForLoop { .. });
    for (name, operand) in op.operands() {
        if let Operand::Reg(r) = operand
            && !(writes_a && name == "a")
        {
            out.push(r.0 as usize);
        }
    }
    // Register runs named by their first register.
    let run = match *op {
        Op::Call { a, n } | Op::Invoke { a, n, .. } | Op::SuperInvoke { a, n, .. } => {
            Some((a.0 as usize, n.0 as usize + 1))
        }
        Op::CallNative { a, n, .. } => Some((a.0 as usize, n.0 as usize + 1)),
        Op::NewList { b, n, .. } | Op::AppendList { b, n, .. } => {
            Some((b.0 as usize, n.0 as usize))
        }
        Op::IterPrep { a }
        | Op::IterNext { a, .. }
        | Op::ForPrep { a, .. }
        | Op::ForLoop { a, .. } => Some((a.0 as usize, 2)),
        _ => None,
    };
    if let Some((first, len)) = run {
        out.extend(first..first + len);
    }
    // A new closure takes the boxes of the variables it captures from their registers.
    if let Op::Closure { p, .. } = *op
        && let Some(child) = protos.get(p.0 as usize)
    {
        for c in &child.captures {
            if let CaptureSrc::Reg(r) = c {
                out.push(r.0 as usize);
            }
        }
    }
}

/// For each instruction, the registers live on entry to it: read on some path before being
/// written. Exception handlers count as successors of the instructions they cover.
pub(crate) fn live_registers(proto: &Proto, protos: &[std::rc::Rc<Proto>]) -> Vec<RegSet> {
    let n = proto.code.len();
    let nregs = proto.nregs as usize;
    let mut live_in = vec![RegSet::new(nregs); n];
    let mut reads = Vec::new();
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (0..n).rev() {
            let op = proto.code[pc];
            let mut live = RegSet::new(nregs);
            for s in successors(pc, &op, n) {
                live.union(&live_in[s]);
            }
            if let Some(h) = proto.handler_for(pc) {
                live.union(&live_in[h.target as usize]);
            }
            if let Some(w) = written_register(&op)
                && !matches!(op, Op::ForLoop { .. })
            {
                live.remove(w.0 as usize);
            }
            reads.clear();
            read_registers(&op, protos, &mut reads);
            for &r in &reads {
                live.insert(r);
            }
            changed |= live_in[pc].union(&live);
        }
    }
    live_in
}

/// The instructions reachable from `starts`, following jumps and exception handlers.
pub(crate) fn reachable(proto: &Proto, starts: &[usize]) -> Vec<bool> {
    let n = proto.code.len();
    let mut seen = vec![false; n];
    let mut work: Vec<usize> = starts.to_vec();
    while let Some(pc) = work.pop() {
        if pc >= n || seen[pc] {
            continue;
        }
        seen[pc] = true;
        work.extend(successors(pc, &proto.code[pc], n));
        if let Some(h) = proto.handler_for(pc) {
            work.push(h.target as usize);
        }
    }
    seen
}

/// The pc a jump at `pc` with offset `off` goes to.
pub(crate) fn target(pc: usize, off: Jump) -> usize {
    (pc as i64 + 1 + off.0 as i64) as usize
}
