//! Register liveness over one prototype's bytecode, shared by both tiers: the collector
//! roots only the registers a frame can still read (`RootMap`), and compiled code stores only
//! those before a safepoint.

use std::rc::Rc;

use crate::bytecode::{CaptureSrc, OPCODES, Op, Operand, Program, Proto, Write};
use crate::config::MAX_JIT_INSTRUCTIONS;

/// A set of registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RegSet(Vec<u64>);

// The interpreter-only build uses the sets through `RootMap` alone.
#[cfg_attr(not(feature = "jit"), allow(dead_code))]
impl RegSet {
    pub(crate) fn new(n: usize) -> RegSet {
        RegSet(vec![0; n.div_ceil(64)])
    }

    pub(crate) fn insert(&mut self, r: usize) {
        self.0[r / 64] |= 1 << (r % 64);
    }

    pub(crate) fn remove(&mut self, r: usize) {
        self.0[r / 64] &= !(1 << (r % 64));
    }

    pub(crate) fn contains(&self, r: usize) -> bool {
        self.0[r / 64] & (1 << (r % 64)) != 0
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

    /// Adds `other` but register `r` (one a path writes before it could read it).
    pub(crate) fn union_but(&mut self, other: &RegSet, r: usize) {
        for (w, (a, b)) in self.0.iter_mut().zip(&other.0).enumerate() {
            let keep = if w == r / 64 { !(1u64 << (r % 64)) } else { !0 };
            *a |= *b & keep;
        }
    }

    /// Removes every register from `r` up.
    pub(crate) fn keep_below(&mut self, r: usize) {
        for (w, word) in self.0.iter_mut().enumerate() {
            let first = w * 64;
            if first >= r {
                *word = 0;
            } else if r - first < 64 {
                *word &= (1u64 << (r - first)) - 1;
            }
        }
    }

    /// How many registers are in the set.
    pub(crate) fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |i| bits & (1 << i) != 0)
                .map(move |i| w * 64 + i)
        })
    }
}

/// The registers an instruction may read; the destination of a pure write is left out. It
/// must not over-approximate either: a register counted live that a callee owns (an argument)
/// and has cleared, or that holds a value a previous frame left there, would be a root or not
/// depending on when collections ran, and so would the point where the heap limit is hit.
fn read_registers(op: &Op, protos: &[Rc<Proto>], out: &mut Vec<usize>) {
    // The destination of a pure write is not read; the same register may still be read as
    // another operand.
    let info = &OPCODES[op.code() as usize];
    let skip = match op.write() {
        Some(Write::Pure(_)) => info.dest,
        // Written on one path, left alone on the other: not read either way.
        Some(Write::Update(w)) if op.fallthrough_write() == Some(w) => info.dest,
        _ => None,
    };
    // The operand that starts a run is read through the run alone: an empty run (a list of no
    // items) reads nothing.
    for (name, operand) in op.operands() {
        if let Operand::Reg(r) = operand
            && Some(name) != skip
            && Some(name) != info.run
        {
            out.push(r.0 as usize);
        }
    }
    if let Some((first, len)) = op.register_run() {
        let from = if window_result(op).is_some() {
            first + 1
        } else {
            first
        };
        let written = op.run_write().map(|r| r.0 as usize);
        out.extend((from..first + len).filter(|&r| Some(r) != written));
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

/// The register that starts the run of a call window that the instruction writes without
/// reading it (a call of a global or a builtin: result, then arguments). A call of a global
/// puts the callee there before calling it, and a class's new instance after it (the `self`
/// of its `init`), so the register holds a value while the call runs though no one reads its
/// old value: it is a root then (`roots_while_running`), not live before.
fn window_result(op: &Op) -> Option<usize> {
    let info = &OPCODES[op.code() as usize];
    match op.write() {
        Some(Write::Pure(a)) if info.run.is_some() && info.run == info.dest => Some(a.0 as usize),
        _ => None,
    }
}

/// For each instruction, the registers live on entry to it: read on some path before being
/// written. Exception handlers count as successors of the instructions they cover.
pub(crate) fn live_registers(proto: &Proto, protos: &[Rc<Proto>]) -> Vec<RegSet> {
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
            for s in op.successors(pc, n) {
                match op.fallthrough_write() {
                    Some(w) if s == pc + 1 => live.union_but(&live_in[s], w.0 as usize),
                    _ => {
                        live.union(&live_in[s]);
                    }
                }
            }
            handler_live(proto, live_in.as_slice(), pc, &mut live);
            if let Some(Write::Pure(w)) = op.write() {
                live.remove(w.0 as usize);
            }
            if let Some(w) = op.run_write() {
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

/// Per value of a frame's saved pc, the registers of that frame the collector roots; the
/// others are dead (no path reads them before writing them) and are cleared to nil, so that
/// a slot never keeps a value alive, nor holds one the collector has freed.
///
/// A frame's pc is `i + 1` while its instruction `i` runs (both tiers store it so before every
/// safepoint, and a frame below the top is at its call), so the roots at pc `p` are the
/// registers live on entry to instruction `p - 1` (its operands) or after it (its result, and
/// what later code reads); at pc 0 (a frame just pushed) those live on entry. A frame that
/// has just caught an error resumes at its handler's first instruction: `is_handler_root`.
///
/// A prototype too large to compile (`MAX_JIT_INSTRUCTIONS`) roots all its registers: only
/// the interpreter runs it, so every tier roots the same, and the dataflow over a huge
/// generated function (repeated once per loop nesting level) would cost more than its dead
/// registers could ever hold.
#[derive(Clone, Debug)]
pub(crate) struct RootMap {
    /// Every register is a root (a prototype too large to compile).
    all: bool,
    /// Words per row.
    words: usize,
    /// Row `p`: the roots at pc `p` (`code.len() + 1` rows).
    roots: Vec<u64>,
    /// Row `i`: the registers live on entry to instruction `i`.
    live_in: Vec<u64>,
}

impl RootMap {
    /// The map of `proto` (`protos`: the program's, for the captures of its closures).
    pub(crate) fn new(proto: &Proto, protos: &[Rc<Proto>]) -> RootMap {
        if proto.code.len() > MAX_JIT_INSTRUCTIONS {
            return RootMap {
                all: true,
                words: 0,
                roots: Vec::new(),
                live_in: Vec::new(),
            };
        }
        Self::from_live(proto, &live_registers(proto, protos))
    }

    /// The map of `proto`, from the registers live on entry to each of its instructions.
    pub(crate) fn from_live(proto: &Proto, live_in: &[RegSet]) -> RootMap {
        let n = proto.code.len();
        let words = (proto.nregs as usize).div_ceil(64);
        let mut roots = vec![0u64; (n + 1) * words];
        let mut flat = Vec::with_capacity(n * words);
        for set in live_in {
            flat.extend_from_slice(&set.0);
        }
        if n > 0 {
            roots[..words].copy_from_slice(&flat[..words]);
        }
        for i in 0..n {
            let row = roots_while_running(proto, live_in, i);
            roots[(i + 1) * words..(i + 2) * words].copy_from_slice(&row.0);
        }
        RootMap {
            all: false,
            words,
            roots,
            live_in: flat,
        }
    }

    /// Whether register `r` is a root of a frame whose saved pc is `pc`.
    #[inline]
    pub(crate) fn is_root(&self, pc: usize, r: usize) -> bool {
        self.all || self.roots[pc * self.words + r / 64] & (1 << (r % 64)) != 0
    }

    /// Whether register `r` is a root of a frame resuming at handler `target` (live on
    /// entry to it: the error exit stored every register, and only these can be read).
    #[inline]
    pub(crate) fn is_handler_root(&self, target: usize, r: usize) -> bool {
        self.all || self.live_in[target * self.words + r / 64] & (1 << (r % 64)) != 0
    }
}

/// The roots of a frame while its instruction `i` runs (its saved pc is `i + 1`): the
/// registers live on entry to it or after it (`live_in`: per instruction, from
/// `live_registers`), and a call window's result register (see `window_result`). Compiled
/// code stores exactly those of its changed registers before a safepoint, so that its slots
/// hold what the interpreter's would wherever the collector looks.
pub(crate) fn roots_while_running(proto: &Proto, live_in: &[RegSet], i: usize) -> RegSet {
    let mut row = live_after(proto, live_in, i);
    row.union(&live_in[i]);
    if let Some(a) = window_result(&proto.code[i]) {
        row.insert(a);
    }
    row
}

/// The registers live after instruction `i`: on entry to one of its successors, or to the
/// handler that covers it.
pub(crate) fn live_after(proto: &Proto, live_in: &[RegSet], i: usize) -> RegSet {
    let mut set = RegSet::new(proto.nregs as usize);
    for s in proto.code[i].successors(i, proto.code.len()) {
        set.union(&live_in[s]);
    }
    handler_live(proto, live_in, i, &mut set);
    set
}

/// Adds to `set` what the handler covering instruction `i` (if any) reads, but the register
/// receiving the caught value: catching writes it.
fn handler_live(proto: &Proto, live_in: &[RegSet], i: usize, set: &mut RegSet) {
    if let Some(h) = proto.handler_for(i) {
        set.union_but(&live_in[h.target as usize], h.reg.0 as usize);
    }
}

/// Checks, over every prototype of `program`, the two places where liveness must be exact
/// rather than merely safe, because a slot there may hold a value no longer meant for it, which
/// would be a root or not depending on when collections ran (and so would the point where the
/// heap limit is hit): after a call, no register the callee owned (its base and above) is live
/// but the result, since the callee may have cleared the ones it stopped reading; and on entry
/// no register beyond the parameters is live, since those hold what earlier frames left.
pub fn check_exact_roots(program: &Program) -> Result<(), String> {
    for f in &program.protos {
        exact_roots_in(f, &live_registers(f, &program.protos))
            .map_err(|e| format!("{}: {e}", f.name))?;
    }
    Ok(())
}

/// `check_exact_roots` for one prototype whose registers live on entry to each instruction
/// are `live_in`.
fn exact_roots_in(f: &Proto, live_in: &[RegSet]) -> Result<(), String> {
    if let Some(r) = live_in
        .first()
        .and_then(|l| l.iter().find(|&r| r >= f.param_regs()))
    {
        return Err(format!("r{r} live on entry"));
    }
    for (i, op) in f.code.iter().enumerate() {
        let (a, base) = match *op {
            Op::Call { a, .. } | Op::CallGlobal { a, .. } => (a.0 as usize, a.0 as usize + 1),
            Op::Invoke { a, .. } | Op::SuperInvoke { a, .. } => (a.0 as usize, a.0 as usize),
            _ => continue,
        };
        let after = live_after(f, live_in, i);
        if let Some(r) = (base..f.nregs as usize).find(|&r| r != a && after.contains(r)) {
            return Err(format!("pc {i}: r{r} live after {op:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;

    /// The program of `source` and its prototype named `name`.
    fn compiled(source: &str, name: &str) -> (Vec<Rc<Proto>>, Rc<Proto>) {
        let program = crate::compile(source, &Limits::default()).expect("compiles");
        let proto = program
            .protos
            .iter()
            .find(|p| p.name == name)
            .expect("function exists")
            .clone();
        (program.protos.clone(), proto)
    }

    /// The pc of the `nth` instruction of `proto` that `pred` accepts.
    fn nth_pc(proto: &Proto, nth: usize, pred: impl Fn(&Op) -> bool) -> usize {
        let pcs: Vec<usize> = (0..proto.code.len())
            .filter(|&pc| pred(&proto.code[pc]))
            .collect();
        pcs[nth]
    }

    /// The register `op` writes.
    fn dest(op: &Op) -> usize {
        op.write().expect("writes a register").reg().0 as usize
    }

    #[test]
    fn a_register_no_later_instruction_reads_is_not_a_root() {
        let (protos, f) = compiled(
            "fn f(n) {\n let a = [n];\n let k = len(a);\n let b = [k, k];\n let c = [b];\n return c;\n}",
            "f",
        );
        let map = RootMap::new(&f, &protos);
        let lists = |nth| nth_pc(&f, nth, |op| matches!(op, Op::NewList { .. }));
        let (a, b) = (dest(&f.code[lists(0)]), dest(&f.code[lists(1)]));
        // While `[k, k]` is made, `a` is dead (only `len` read it); while `[b]` is made, its
        // operand (a copy of `b`) and its result are roots, and `b` no longer.
        assert!(!map.is_root(lists(1) + 1, a));
        let Op::NewList { b: operand, .. } = f.code[lists(2)] else {
            unreachable!()
        };
        assert!(map.is_root(lists(2) + 1, operand.0 as usize));
        assert!(map.is_root(lists(2) + 1, dest(&f.code[lists(2)])));
        assert!(!map.is_root(lists(2) + 1, b));
        // While `len` runs, its argument (a copy of `a`) is a root, and `a` is not.
        let call = nth_pc(&f, 0, |op| matches!(op, Op::CallNative { .. }));
        let Op::CallNative { a: window, .. } = f.code[call] else {
            unreachable!()
        };
        assert!(map.is_root(call + 1, window.0 as usize + 1));
        assert!(!map.is_root(call + 1, a));
        // A frame just pushed roots its parameter.
        assert!(map.is_root(0, 0));
    }

    #[test]
    fn a_register_only_a_handler_reads_stays_a_root_through_its_try() {
        let (protos, f) = compiled(
            "fn f(n) {\n let saved = [n];\n try {\n  let t = [n, n];\n  throw t;\n } catch e {\n  return saved;\n }\n return nil;\n}",
            "f",
        );
        let map = RootMap::new(&f, &protos);
        let saved = dest(&f.code[nth_pc(&f, 0, |op| matches!(op, Op::NewList { .. }))]);
        let inner = nth_pc(&f, 1, |op| matches!(op, Op::NewList { .. }));
        assert!(map.is_root(inner + 1, saved));
        let h = f.handlers[0].target as usize;
        assert!(map.is_handler_root(h, saved));
        // After the function's last read of it, `saved` is dead.
        let last = f.code.len() - 1;
        assert!(!map.is_root(last + 1, saved));
    }

    #[test]
    fn roots_while_running_are_the_rows_of_the_map() {
        let (protos, f) = compiled(
            "fn f(n) {\n let s = \"\";\n for i in 0..n { s = s + str(i); }\n return s;\n}",
            "f",
        );
        let live = live_registers(&f, &protos);
        let map = RootMap::from_live(&f, &live);
        for i in 0..f.code.len() {
            let row = roots_while_running(&f, &live, i);
            for r in 0..f.nregs as usize {
                assert_eq!(map.is_root(i + 1, r), row.contains(r), "pc {i} r{r}");
            }
        }
    }

    #[test]
    fn liveness_is_exact_where_a_slot_holds_a_stale_value_over_the_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
        let mut checked = 0;
        for file in crate::corpus::files(&dir) {
            let source = std::fs::read_to_string(&file).expect("readable");
            if let Ok(program) = crate::compile(&source, &Limits::default()) {
                if let Err(e) = check_exact_roots(&program) {
                    panic!("{}: {e}", file.display());
                }
                checked += 1;
            }
        }
        assert!(checked > 400, "only {checked} programs checked");
    }

    #[test]
    fn a_call_of_a_global_roots_its_result_register_while_it_runs_only() {
        let (protos, f) = compiled(
            "class P {\n fn init(a) { self.a = a; }\n}\nfn f(n) {\n P(n);\n return n;\n}",
            "f",
        );
        let live = live_registers(&f, &protos);
        let map = RootMap::from_live(&f, &live);
        let call = nth_pc(&f, 0, |op| matches!(op, Op::CallGlobal { .. }));
        let a = dest(&f.code[call]);
        // The new instance (the `self` of `init`) is there while the call runs; nothing reads
        // the register before or after.
        assert!(map.is_root(call + 1, a));
        assert!(!live[call].contains(a));
        assert!(!live_after(&f, &live, call).contains(a));
    }

    #[test]
    fn a_register_counted_read_by_mistake_is_reported() {
        // `f(0, [])`'s list is in the register `print` later writes its result to.
        let source = "fn f(a, b) { return a; }\nf(0, []);\nfor i in 0..1 { print(i); }";
        let program = crate::compile(source, &Limits::default()).expect("compiles");
        assert_eq!(check_exact_roots(&program), Ok(()));
        let script = program.protos.last().expect("a script");
        let mut live = live_registers(script, &program.protos);
        let call = nth_pc(script, 0, |op| matches!(op, Op::CallGlobal { .. }));
        let Op::CallGlobal { a, n, .. } = script.code[call] else {
            unreachable!()
        };
        // What counting a call window's result register as read made of it.
        let arg = a.0 as usize + n.0 as usize;
        for row in &mut live[call + 1..] {
            row.insert(arg);
        }
        let e = exact_roots_in(script, &live).expect_err("a violation");
        assert!(e.contains(&format!("r{arg} live after")), "{e}");
    }

    #[test]
    fn a_function_too_large_to_compile_roots_every_register() {
        let body: String = (0..1500).map(|i| format!(" a = [{i}];\n")).collect();
        let (protos, f) = compiled(
            &format!("fn f() {{\n let a = nil;\n{body} return 1;\n}}"),
            "f",
        );
        assert!(f.code.len() > MAX_JIT_INSTRUCTIONS);
        let map = RootMap::new(&f, &protos);
        // `a` is dead at the return, yet a root.
        assert!(map.is_root(f.code.len(), 0));
        assert!(map.is_handler_root(0, 0));
    }
}
