//! Dataflow over one prototype's bytecode for the translator: which registers may differ
//! from their stack slots (dirty) or are stored as they are written, which are live, and which
//! code an OSR entry can reach.

use rustc_hash::FxHashSet;

use crate::bytecode::liveness::RegSet;
use crate::bytecode::*;
use crate::config::MAX_EXIT_STORES;

/// For each instruction, whether compiled code stores the register it writes at once
/// (write-through) rather than keeping it only in an SSA value until the next sync.
///
/// That is so when every path from the write reaches an instruction that stores all dirty
/// registers anyway (a call, or an instruction that always calls a helper) without passing a
/// return or a loop back to the write first: the store then costs nothing on the hot path
/// (it moves earlier), and the register is no longer dirty at the cold exits in between
/// (slow paths, side exits, error exits), each of which would otherwise store it again.
pub(crate) fn stored_at_write(proto: &Proto, in_place: &FxHashSet<usize>) -> Vec<bool> {
    let n = proto.code.len();
    // Whether every path leaving pc meets an always-syncing instruction.
    let ahead_after = |pc: usize, sync_ahead: &[bool]| {
        let succ = successors(pc, &proto.code[pc], n);
        !succ.is_empty() && succ.iter().all(|&s| sync_ahead[s])
    };
    // sync_ahead[pc]: every path from pc (this instruction included) meets one. A least
    // fixpoint, so a loop with no sync in it never qualifies (its writes would be stored on
    // every iteration).
    let mut sync_ahead = vec![false; n];
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (0..n).rev() {
            if !sync_ahead[pc]
                && (syncs(pc, &proto.code[pc], in_place) || ahead_after(pc, &sync_ahead))
            {
                sync_ahead[pc] = true;
                changed = true;
            }
        }
    }
    (0..n)
        .map(|pc| {
            let op = proto.code[pc];
            written_register(&op).is_some() && !always_syncs(&op) && ahead_after(pc, &sync_ahead)
        })
        .collect()
}

/// `stored`, with write-through added for the writes outside loops of each register that is
/// dirty at many more exits than it has such writes: in straight-line code with many slow
/// paths (generic arithmetic, say) every exit stores every register written since the last
/// call, so the exits' code grows as writes times exits, while a store at each write costs
/// one store that runs once per call. The same goes for a register that a loop does not
/// write but that is dirty at a call in it (a `for` loop's limit, an object set up before the
/// loop): stored at its write, it is no longer stored at that call on every iteration. Writes
/// inside loops stay in variables (a store there would run on every iteration).
///
/// Also returns, per instruction, whether its write is stored for the second reason alone (for
/// the mutant that drops those stores).
fn stored_outside_loops(
    proto: &Proto,
    mut stored: Vec<bool>,
    dirty: &[RegSet],
    in_place: &FxHashSet<usize>,
) -> (Vec<bool>, Vec<bool>) {
    /// A register is stored at its writes when it is dirty at more than this many exits per
    /// such write.
    const EXITS_PER_WRITE: usize = 3;
    let n = proto.code.len();
    let nregs = proto.nregs as usize;
    // Loops are structured: a back-edge and the header it jumps to bound one.
    let mut in_loop = vec![false; n];
    for (pc, op) in proto.code.iter().enumerate() {
        if op.is_back_edge() {
            let head = target(pc, op.jump().expect("a back-edge jumps"));
            in_loop[head.min(pc)..=pc].fill(true);
        }
    }
    let mut dirty_exits = vec![0usize; nregs];
    for (op, d) in proto.code.iter().zip(dirty) {
        let fx = op.effects();
        if fx.raises || fx.fuel || fx.safepoint != Safepoint::Never {
            for r in d.iter() {
                dirty_exits[r] += 1;
            }
        }
    }
    let mut writes = vec![0usize; nregs];
    let through = |pc: usize, op: &Op| match written_register(op) {
        Some(r) if !in_loop[pc] && !stored[pc] => Some(r.0 as usize),
        _ => None,
    };
    for (pc, op) in proto.code.iter().enumerate() {
        if let Some(r) = through(pc, op) {
            writes[r] += 1;
        }
    }
    // A register written before a loop and not in it, but dirty at a call inside the loop,
    // would be stored at that call on every iteration although it changed only once.
    let mut written_in_loop = vec![false; nregs];
    let mut dirty_at_loop_sync = vec![false; nregs];
    for (pc, (op, d)) in proto.code.iter().zip(dirty).enumerate() {
        if !in_loop[pc] {
            continue;
        }
        if let Some(r) = op.write() {
            written_in_loop[r.reg().0 as usize] = true;
        }
        if syncs(pc, op, in_place) {
            for r in d.iter() {
                dirty_at_loop_sync[r] = true;
            }
        }
    }
    let for_exits: Vec<bool> = (0..nregs)
        .map(|r| writes[r] > 0 && dirty_exits[r] > EXITS_PER_WRITE * writes[r])
        .collect();
    let for_loops: Vec<bool> = (0..nregs)
        .map(|r| writes[r] > 0 && dirty_at_loop_sync[r] && !written_in_loop[r])
        .collect();
    let marks: Vec<(usize, bool)> = (0..n)
        .filter_map(|pc| match through(pc, &proto.code[pc]) {
            Some(r) if for_exits[r] || for_loops[r] => Some((pc, !for_exits[r])),
            _ => None,
        })
        .collect();
    let mut loop_only = vec![false; n];
    for (pc, only) in marks {
        stored[pc] = true;
        loop_only[pc] = only;
    }
    (stored, loop_only)
}

/// Write-through for every write (each register is stored as it is written): what a function
/// whose exits would otherwise store too much uses (see `exit_stores`).
pub(crate) fn every_write_stored(proto: &Proto) -> Vec<bool> {
    proto
        .code
        .iter()
        .map(|op| written_register(op).is_some())
        .collect()
}

/// An estimate of the register stores compiled code makes at its exits: at every instruction
/// that may leave straight-line code (raise, side-exit, run out of fuel, call a helper), the
/// registers dirty there. Error and side exits store each of them, so in a long function that
/// writes many registers between calls the exits' code grows as writes times exits.
pub(crate) fn exit_stores(proto: &Proto, dirty: &[RegSet]) -> usize {
    proto
        .code
        .iter()
        .zip(dirty)
        .filter(|(op, _)| {
            let fx = op.effects();
            fx.raises || fx.fuel || fx.safepoint != Safepoint::Never
        })
        .map(|(_, d)| d.len())
        .sum()
}

/// Where compiled code keeps a prototype's registers between safepoints.
#[derive(Clone)]
pub(crate) struct Storage {
    /// Per instruction: whether the register it writes is stored at once.
    pub stored: Vec<bool>,
    /// Per instruction: registers that may differ from their slots on entry to it.
    pub dirty: Vec<RegSet>,
    /// Registers live in their slots: every write stored at once, every read a load.
    pub in_slots: bool,
    /// The register stores the exits make (`exit_stores` of `dirty`).
    pub exit_stores: usize,
    /// The call sites translated in place that store only their window (see
    /// `dirty_registers`).
    pub in_place: FxHashSet<usize>,
}

/// Registers in variables, stored where `stored_at_write` and the dirty sets say; or, when
/// that would make the exits store more than `MAX_EXIT_STORES` registers, in their slots:
/// every write stored as it happens leaves nothing for the exits to store, and reading
/// registers from their slots keeps no value live across the function, so code and compile
/// time grow with the function, not with its writes times its exits or its registers times
/// its length.
///
/// `in_place`: the call sites whose callees are translated in place (see `dirty_registers`).
pub(crate) fn plan_storage(proto: &Proto, in_place: &FxHashSet<usize>) -> Storage {
    let stored = stored_at_write(proto, in_place);
    let dirty = dirty_registers(proto, &stored, in_place);
    if exit_stores(proto, &dirty) <= MAX_EXIT_STORES {
        let (mut stored, loop_only) = stored_outside_loops(proto, stored, &dirty, in_place);
        let dirty = dirty_registers(proto, &stored, in_place);
        if mutant!(LoopInvariantUnstored) {
            // Clean in the loop by the dirty sets, but never stored: its slot keeps whatever
            // it held before.
            for (s, only) in stored.iter_mut().zip(&loop_only) {
                *s &= !only;
            }
        }
        return Storage {
            exit_stores: exit_stores(proto, &dirty),
            stored,
            dirty,
            in_slots: false,
            in_place: in_place.clone(),
        };
    }
    // Every register is in its slot at every call: nothing is left for the exits of the
    // bodies translated in place to store.
    let stored = every_write_stored(proto);
    let dirty = dirty_registers(proto, &stored, &FxHashSet::default());
    Storage {
        exit_stores: exit_stores(proto, &dirty),
        stored,
        dirty,
        in_slots: true,
        in_place: FxHashSet::default(),
    }
}

/// An estimate of the work of compiling a prototype, in rough Cranelift instructions: a few
/// per instruction that runs inline, more for one with a slow path, more again for one that
/// calls out, plus the stores its exits make (`exit_stores`). Compile time grows with it.
pub(crate) fn compile_cost(proto: &Proto, exit_stores: usize) -> usize {
    let code: usize = proto
        .code
        .iter()
        .map(|op| match op.effects().safepoint {
            Safepoint::Never => 6,
            Safepoint::Slow => 24,
            Safepoint::Always => 16,
        })
        .sum();
    code + 2 * exit_stores
}

/// For each instruction, the registers that may have been written (in compiled code, where
/// writes stay in SSA values) since the last point where all registers were stored back.
/// Calls and instructions that always call a helper store everything and reload their
/// result, so nothing is dirty after them; other instructions add the register they write,
/// unless they store it at once (`stored`, from `stored_at_write`).
pub(crate) fn dirty_registers(
    proto: &Proto,
    stored: &[bool],
    in_place: &FxHashSet<usize>,
) -> Vec<RegSet> {
    let n = proto.code.len();
    let nregs = proto.nregs as usize;
    let mut dirty_in = vec![RegSet::new(nregs); n];
    let mut work: Vec<usize> = (0..n).rev().collect();
    let mut queued = vec![true; n];
    while let Some(pc) = work.pop() {
        queued[pc] = false;
        let op = proto.code[pc];
        let out = if in_place.contains(&pc) {
            // A call whose callee is translated in place stores its window (its own
            // register, the callee or receiver, and the arguments), which the body starts
            // from; the registers below stay in variables, and the body's exits store them.
            // The result lands in the call's register, stored.
            let mut out = dirty_in[pc].clone();
            out.keep_below(call_register(&op));
            out
        } else if always_syncs(&op) {
            RegSet::new(nregs)
        } else {
            let mut out = dirty_in[pc].clone();
            if let Some(a) = written_register(&op) {
                if stored[pc] {
                    out.remove(a.0 as usize);
                } else {
                    out.insert(a.0 as usize);
                }
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

/// Instructions that store all registers (and reload what they write) on every path: the
/// safepoints on every path (`Safepoint::Always` in the opcode table).
fn always_syncs(op: &Op) -> bool {
    op.effects().safepoint == Safepoint::Always
}

/// Whether the instruction at `pc` stores all registers: an instruction that always syncs,
/// unless it is a call translated in place (which stores only its window).
fn syncs(pc: usize, op: &Op, in_place: &FxHashSet<usize>) -> bool {
    always_syncs(op) && !in_place.contains(&pc)
}

/// The register of call `op`: the callee's (or the receiver's), which receives the result;
/// the window of a body translated in place starts there.
pub(crate) fn call_register(op: &Op) -> usize {
    match *op {
        Op::Call { a, .. }
        | Op::CallGlobal { a, .. }
        | Op::Invoke { a, .. }
        | Op::SuperInvoke { a, .. } => a.0 as usize,
        _ => unreachable!("not a call: {op:?}"),
    }
}

/// The register an instruction writes in compiled code outside a full sync, if any (an
/// instruction that always syncs reloads what it writes from its slot).
pub(crate) fn written_register(op: &Op) -> Option<Reg> {
    op.write().filter(|_| !always_syncs(op)).map(Write::reg)
}

/// Where control can go after `op` at `pc` (errors excepted: error exits store everything).
pub(crate) fn successors(pc: usize, op: &Op, n: usize) -> Vec<usize> {
    op.successors(pc, n)
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

/// Per instruction: whether it belongs to a *cold throw*: a straight run of instructions that
/// ends in a `Throw`, is entered only at its first instruction (no jump lands inside it), and
/// has never run as far as anyone recorded: neither the `Throw` (the interpreter marks the
/// ones it runs) nor the first instruction (a side exit there marks it) has `not_run` bits in
/// its feedback. An inlined body leaves for the interpreter at such a run's start instead of
/// translating it (typically `throw Error("...")` under a check that holds).
pub(crate) fn cold_throws(proto: &Proto, feedback: &[u8], not_run: u8) -> Vec<bool> {
    let code = &proto.code;
    let n = code.len();
    let mut landed = vec![false; n];
    for (pc, op) in code.iter().enumerate() {
        if let Some(off) = op.jump() {
            let t = target(pc, off);
            if t < n {
                landed[t] = true;
            }
        }
    }
    for h in &proto.handlers {
        if let Some(l) = landed.get_mut(h.target as usize) {
            *l = true;
        }
    }
    let mut cold = vec![false; n];
    for (end, op) in code.iter().enumerate() {
        if !matches!(op, Op::Throw { .. }) || feedback[end] & not_run != 0 {
            continue;
        }
        let mut start = end;
        while start > 0
            && !landed[start]
            && code[start - 1].jump().is_none()
            && successors(start - 1, &code[start - 1], n) == [start]
        {
            start -= 1;
        }
        if feedback[start] & not_run == 0 {
            cold[start..=end].fill(true);
        }
    }
    cold
}

/// The pc a jump at `pc` with offset `off` goes to.
pub(crate) fn target(pc: usize, off: Jump) -> usize {
    jump_target(pc, off)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;

    /// The prototype named `name` in `source`.
    fn proto_named(source: &str, name: &str) -> std::rc::Rc<Proto> {
        let program = crate::compile(source, &Limits::default()).expect("compiles");
        program
            .protos
            .iter()
            .find(|p| p.name == name)
            .expect("function exists")
            .clone()
    }

    /// The prototype named `name` in `source`, with its write-through and dirty sets.
    fn analyse(source: &str, name: &str) -> (std::rc::Rc<Proto>, Vec<bool>, Vec<RegSet>) {
        let proto = proto_named(source, name);
        let none = FxHashSet::default();
        let stored = stored_at_write(&proto, &none);
        let dirty = dirty_registers(&proto, &stored, &none);
        (proto, stored, dirty)
    }

    fn pcs_of(proto: &Proto, pred: impl Fn(&Op) -> bool) -> Vec<usize> {
        (0..proto.code.len())
            .filter(|&pc| pred(&proto.code[pc]))
            .collect()
    }

    #[test]
    fn a_call_translated_in_place_keeps_the_registers_below_it_dirty() {
        // The loop's counter and sum are written on every iteration and read by the call's
        // window: a real call stores them all, a call translated in place only its window.
        let proto = proto_named(
            "fn g(x) { return x; }\nfn f(n) {\n let s = 0;\n for i in 0..n { s = s + g(i * 2); }\n return s;\n}",
            "f",
        );
        let call = pcs_of(&proto, |op| matches!(op, Op::CallGlobal { .. }))[0];
        let a = call_register(&proto.code[call]);
        let real = plan_storage(&proto, &FxHashSet::default());
        let placed = plan_storage(&proto, &[call].into_iter().collect());
        let below: Vec<usize> = placed.dirty[call].iter().filter(|&r| r < a).collect();
        assert!(!below.is_empty(), "nothing below the call is dirty at it");
        for r in below {
            assert!(
                placed.dirty[call + 1].contains(r),
                "r{r} clean after the call"
            );
            assert!(
                !real.dirty[call + 1].contains(r),
                "r{r} dirty after a real call"
            );
        }
        // The result is stored in the call's register, and the window at the call.
        assert!(!placed.dirty[call + 1].contains(a));
        assert!((a..proto.nregs as usize).all(|r| !placed.dirty[call + 1].contains(r)));
    }

    #[test]
    fn a_throw_that_never_ran_is_cold_from_the_first_instruction_of_its_run() {
        let proto = proto_named(
            "fn f(a) {\n let b = a + 1;\n if b > 3 { throw Error(\"big \" + str(b)); }\n return b;\n}",
            "f",
        );
        let code = &proto.code;
        let throw = pcs_of(&proto, |op| matches!(op, Op::Throw { .. }))[0];
        let branch = pcs_of(&proto, |op| op.jump().is_some())[0];
        let none = vec![0u8; code.len()];
        let cold = cold_throws(&proto, &none, 1);
        // From just after the branch to the throw: the message, the call of `Error`, the
        // throw; nothing before the branch, and the return after the throw is warm.
        for (pc, &c) in cold.iter().enumerate() {
            assert_eq!(c, pc > branch && pc <= throw, "pc {pc} ({:?})", code[pc]);
        }
        // Marked as run, at the throw or at the run's start: nothing is cold.
        for marked in [throw, branch + 1] {
            let mut fb = none.clone();
            fb[marked] = 1;
            assert!(
                !cold_throws(&proto, &fb, 1).contains(&true),
                "marked at {marked}"
            );
        }
    }

    #[test]
    fn no_jump_lands_inside_a_cold_run() {
        // `||`: both tests jump to the throw's run; the run starts where they land.
        let proto = proto_named(
            "fn f(b) {\n if b > 3 || b < -3 { let m = \"bad \" + str(b); throw m; }\n return b;\n}",
            "f",
        );
        let code = &proto.code;
        let cold = cold_throws(&proto, &vec![0u8; code.len()], 1);
        assert!(cold.contains(&true), "the throw's run is cold");
        for (pc, op) in code.iter().enumerate() {
            if let Some(off) = op.jump() {
                let t = target(pc, off);
                let inside = t > 0 && t < code.len() && cold[t] && cold[t - 1];
                assert!(
                    !inside,
                    "the jump at {pc} lands inside the cold run, at {t}"
                );
            }
        }
    }

    #[test]
    fn writes_that_reach_a_call_on_every_path_go_through_and_stay_clean() {
        // Every write before the call reaches it on every path: stored at once, so nothing is
        // dirty at the call nor at the arithmetic in between (whose slow paths and side exits
        // would otherwise store them again).
        let (proto, stored, dirty) = analyse(
            "fn g(x, y) { return x; }\nfn f(a) {\n let x = a * 3;\n let y = x + a;\n if a > 2 { y = y - 1; }\n let r = g(x, y);\n return r * a;\n}",
            "f",
        );
        let call = pcs_of(&proto, |op| {
            matches!(op, Op::Call { .. } | Op::CallGlobal { .. })
        })[0];
        for pc in 0..call {
            if written_register(&proto.code[pc]).is_some() {
                assert!(
                    stored[pc],
                    "pc {pc} ({:?}) should write through",
                    proto.code[pc]
                );
            }
            assert_eq!(dirty[pc].iter().count(), 0, "pc {pc} has dirty registers");
        }
        // After the call, nothing reaches a sync: the write stays in its SSA value.
        let after = pcs_of(&proto, |op| written_register(op).is_some());
        assert!(after.iter().any(|&pc| pc > call));
        for pc in after.into_iter().filter(|&pc| pc > call) {
            assert!(!stored[pc], "pc {pc} writes through with no sync ahead");
        }
    }

    #[test]
    fn a_loop_without_a_call_never_writes_through() {
        // A write-through store in a call-free loop would run on every iteration.
        let (proto, stored, dirty) = analyse(
            "fn g(x) { return x; }\nfn f(n) {\n let s = 0;\n let i = 0;\n while i < n { s = s + i; i = i + 1; }\n return g(s);\n}",
            "f",
        );
        let back = pcs_of(&proto, Op::is_back_edge)[0];
        let head = target(back, proto.code[back].jump().expect("a back-edge jumps"));
        assert!(
            !stored[head..=back].contains(&true),
            "the loop writes through: {:?}",
            &stored[head..=back]
        );
        // So the loop's registers are dirty where it exits to the call.
        let call = pcs_of(&proto, |op| {
            matches!(op, Op::Call { .. } | Op::CallGlobal { .. })
        })[0];
        assert!(dirty[call].iter().count() >= 2);
    }

    #[test]
    fn a_register_set_before_a_loop_is_stored_once_not_at_each_call_in_it() {
        // `n` (the range's limit) and `k` are written before the loop and never in it; the
        // call in the loop would otherwise store them on every iteration. The counter changes
        // on every iteration and stays dirty there.
        let proto = proto_named(
            "fn g(x) { return x; }\nfn f(n) {\n let k = n * 2;\n let s = 0;\n for i in 0..n { s = s + g(i + k); }\n return s;\n}",
            "f",
        );
        let proto = &*proto;
        let plan = plan_storage(proto, &FxHashSet::default());
        assert!(!plan.in_slots);
        let back = pcs_of(proto, Op::is_back_edge)[0];
        let head = target(back, proto.code[back].jump().expect("a back-edge jumps"));
        let call = pcs_of(proto, |op| {
            matches!(op, Op::Call { .. } | Op::CallGlobal { .. })
        })
        .into_iter()
        .find(|&pc| pc > head && pc < back)
        .expect("a call in the loop");
        let in_loop: Vec<usize> = (head..=back)
            .filter_map(|pc| proto.code[pc].write().map(|w| w.reg().0 as usize))
            .collect();
        let before: Vec<(usize, usize)> = (0..head)
            .filter_map(|pc| written_register(&proto.code[pc]).map(|r| (pc, r.0 as usize)))
            .filter(|(_, r)| !in_loop.contains(r))
            .collect();
        assert!(before.len() >= 2, "k and the limit are set before the loop");
        for (pc, r) in before {
            assert!(
                plan.stored[pc],
                "pc {pc} ({:?}) is not stored",
                proto.code[pc]
            );
            assert!(!plan.dirty[call].contains(r), "r{r} is dirty at the call");
        }
        let counter = match proto.code[back] {
            Op::ForLoop { a, .. } => a.0 as usize,
            op => panic!("a for loop ends in ForLoop, not {op:?}"),
        };
        assert!(plan.dirty[call].contains(counter));
    }

    #[test]
    fn a_call_on_one_branch_only_is_not_a_sync_ahead() {
        let (proto, stored, _) = analyse(
            "fn g(x) { return x; }\nfn f(a) {\n let x = a + 1;\n if a > 0 { g(x); }\n return x;\n}",
            "f",
        );
        let add = pcs_of(&proto, |op| matches!(op, Op::AddI { .. } | Op::Add { .. }))[0];
        assert!(!stored[add]);
    }
}
