//! Tiering: when the interpreter has a function compiled, how it enters compiled code (at a
//! call or, on-stack replacement, at a hot loop header), and what happens when compiled code
//! leaves on a failed speculation. The compiler is behind `CodeGen` (the JIT implements it),
//! so the runtime does not depend on it; the ABI of compiled functions is defined here.
// Built without the JIT, nothing ever compiles, and most of this goes unused.
#![cfg_attr(not(feature = "jit"), allow(dead_code))]

use std::time::{Duration, Instant};

use crate::bytecode::ProtoId;
use crate::config::{MAX_COMPILATIONS, SPECULATIVE_EXITS, Tier};
use crate::runtime::stack::Frame;
use crate::runtime::value::Value;
use crate::runtime::vm::{FB_INTS_TOO, FB_LOOP_TYPES, FB_NOT_INT, FB_NOT_NUM, Vm};

/// Status returned by compiled code and helpers: success.
pub(crate) const STATUS_OK: u64 = 0;
/// Status returned by compiled code and helpers: an error is pending in `Vm::pending`.
pub(crate) const STATUS_ERR: u64 = 1;

/// Compiled code: `(vm, frame base, entry, address of register 0, address of the frame
/// record) -> status`, `entry` being 0 for a call or, in an OSR version, the loop header's pc
/// plus 1. The caller has pushed the frame; on success the result is in the frame's return
/// slot and the frame is popped; on error the frame is popped and recorded in the trace, and
/// the error is in `Vm::pending`.
pub(crate) type CompiledFn = unsafe extern "C" fn(*mut Vm, u64, u64, *mut Value, *mut Frame) -> u64;

/// How to compile a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Speculate on operand types (from the interpreter's feedback) and object shapes (from
    /// its inline caches), leaving to the interpreter when a guess fails.
    Speculative,
    /// No speculation: every path is handled in compiled code or a helper.
    Generic,
}

/// What a side exit of compiled code found wrong, and so what the next compilation of its
/// function assumes less of (passed to the `SideExit` helper as a number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitKind {
    /// A speculation guard of the instruction at the exit's pc: that instruction is compiled
    /// for more types (ints, then numbers, then anything).
    Guard = 0,
    /// The check of the registers' tags at a loop header: none are assumed there.
    LoopTypes = 1,
    /// Two ints at arithmetic compiled for floats (see `FB_INTS_TOO`): every such site of the
    /// function is compiled for ints too.
    IntsMet = 2,
    /// A loop header of a version compiled before the function ever ran (see
    /// `Compiled::cold`), once its loops are hot: the interpreter runs on and enters a
    /// version compiled with what the cold code's helpers recorded. Nothing failed.
    Reoptimize = 3,
    /// A call that had never run when its function was compiled (see `Vm::speculates_unrun`),
    /// reached: the interpreter makes it, recording its target, and the next compilation
    /// knows the callee (to inline it, or call it directly).
    Unrun = 4,
}

impl ExitKind {
    /// The kind a `SideExit` helper argument names.
    pub fn from_code(code: u64) -> ExitKind {
        match code {
            1 => ExitKind::LoopTypes,
            2 => ExitKind::IntsMet,
            3 => ExitKind::Reoptimize,
            4 => ExitKind::Unrun,
            _ => ExitKind::Guard,
        }
    }
}

/// One compilation's result.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// Address of the code, with the `CompiledFn` signature.
    pub entry: usize,
    /// Machine-code bytes.
    pub code_bytes: usize,
    /// Whether the code was reused from an identical earlier compilation (`Config::share_code`).
    pub shared: bool,
    /// The CLIF text, when the code generator captures it.
    pub clif: Option<String>,
    /// The machine code disassembly, when the code generator captures it.
    pub asm: Option<String>,
    /// Compiled before the function ever ran, so with no feedback to speculate on (every
    /// function of the jit tier, at its first call): the code counts its calls and loop
    /// trips, and leaves the way once they are hot, for a version that knows more.
    pub cold: bool,
    /// Whether the code leaves at calls that had never run when it was compiled
    /// (`ExitKind::Unrun`, see `Vm::speculates_unrun`).
    pub unrun_exits: bool,
}

/// A compilation that finished in the background (`CodeGen::start`), its code installed.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The prototype compiled.
    pub pid: ProtoId,
    /// Whether this is its OSR version.
    pub osr: bool,
    /// How it was compiled.
    pub mode: Mode,
    /// The code, or why there is none.
    pub result: Result<Compiled, String>,
    /// Time spent generating the code on the compiler thread.
    pub background: Duration,
    /// Time spent installing it, on the running thread.
    pub install: Duration,
}

/// A compiler of prototypes to machine code: the JIT tier, as the runtime sees it.
pub trait CodeGen {
    /// Compiles prototype `pid` of the VM's program; `osr` asks for the version entered at
    /// loop headers. The code stays valid while the code generator lives.
    fn compile(
        &mut self,
        vm: &mut Vm,
        pid: ProtoId,
        mode: Mode,
        osr: bool,
    ) -> Result<Compiled, String>;

    /// Starts compiling as `compile` does. A code generator that compiles in the background
    /// translates now (the translation reads the VM) and returns `Ok(None)`: the code comes
    /// from `finished` later. By default it compiles at once.
    fn start(
        &mut self,
        vm: &mut Vm,
        pid: ProtoId,
        mode: Mode,
        osr: bool,
    ) -> Result<Option<Compiled>, String> {
        self.compile(vm, pid, mode, osr).map(Some)
    }

    /// Whether a compilation started in the background has finished (one atomic read: it
    /// is asked at every call of a function waiting for its code).
    fn has_finished(&self) -> bool {
        false
    }

    /// Whether a compilation started now would have to wait behind others. The function is
    /// then left for a later call: translated now, it would hold its IR in memory while it
    /// waits, and would not see the feedback gathered meanwhile.
    fn busy(&self) -> bool {
        false
    }

    /// The compilations finished in the background since the last call, in the order they
    /// were started, their code installed.
    fn finished(&mut self, _vm: &mut Vm) -> Vec<Finished> {
        Vec::new()
    }
}

/// Whether and how a function is compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FnState {
    /// Runs in the interpreter (not hot yet).
    Interpreted,
    /// Compiled; entered at calls and loop headers.
    Compiled,
    /// Compilation was refused or failed; the function stays interpreted.
    Failed(String),
}

/// What the compiling tier did with one prototype, and what it measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnJit {
    /// Current state.
    pub state: FnState,
    /// Times compiled (a side exit leads to one recompilation without speculation).
    pub compilations: u32,
    /// Of those, how many reused code compiled earlier from identical IR (`Config::share_code`).
    pub shared: u32,
    /// Whether the current code speculates (on operand types and object shapes).
    pub speculative: bool,
    /// Whether the current OSR version speculates. Kept apart from `speculative`: the two
    /// versions are compiled at different times, so one may speculate while the other does
    /// not, and a side exit must drop whichever speculated.
    pub osr_speculative: bool,
    /// Time spent compiling it, all compilations together.
    pub compile_time: Duration,
    /// Of `compile_time`, the part spent generating code on the compiler thread
    /// (`Config::background_compile`) while the program went on running.
    pub background_time: Duration,
    /// Machine-code bytes of the current code.
    pub code_bytes: usize,
    /// Entries into compiled code at a loop header.
    pub osr_entries: u64,
    /// Address of the OSR version (entered only at loop headers), 0 if none.
    pub osr_code: usize,
    /// Why no OSR version could be compiled, if so.
    pub osr_failed: Option<String>,
    /// Failed speculations that resumed the interpreter.
    pub side_exits: u64,
    /// Those of them that count towards compiling without speculation (`ExitKind::Guard`).
    pub guard_exits: u64,
    /// Time spent running this function's compiled code, with the compiled functions it
    /// calls directly (they are not entered through the interpreter), but without the
    /// interpreted code its helpers run. Measured only with `Config::profile`.
    pub compiled_time: Duration,
    /// The CLIF text of the last compilation, when CLIF capture is on.
    pub clif: Option<String>,
    /// The normal version is being compiled in the background (`Config::background_compile`);
    /// the function runs interpreted until it is installed.
    pub pending: bool,
    /// The OSR version is being compiled in the background.
    pub osr_pending: bool,
    /// Whether the current normal version is cold (see `Compiled::cold`).
    pub cold: bool,
    /// Whether the current normal and OSR versions leave at calls that never ran (see
    /// `Compiled::unrun_exits`).
    pub unrun_exits: (bool, bool),
}

impl Default for FnJit {
    fn default() -> Self {
        FnJit {
            state: FnState::Interpreted,
            compilations: 0,
            shared: 0,
            speculative: false,
            osr_speculative: false,
            compile_time: Duration::ZERO,
            background_time: Duration::ZERO,
            code_bytes: 0,
            osr_entries: 0,
            osr_code: 0,
            osr_failed: None,
            compiled_time: Duration::ZERO,
            side_exits: 0,
            guard_exits: 0,
            clif: None,
            pending: false,
            osr_pending: false,
            cold: false,
            unrun_exits: (false, false),
        }
    }
}

/// The compiling tier of one VM: the code generator and what it did per prototype.
pub(crate) struct Tiering {
    codegen: Box<dyn CodeGen>,
    /// Per-prototype records.
    pub(crate) fns: Vec<FnJit>,
    /// Time accounting across tier switches, when `Config::profile` asked for it.
    profile: Option<Profile>,
    /// Print the machine code of every compilation (`ECHO_JIT_DUMP`).
    dump: bool,
}

impl Tiering {
    /// A compiling tier around `codegen`.
    pub(crate) fn new(codegen: Box<dyn CodeGen>, profile: bool) -> Tiering {
        Tiering {
            codegen,
            fns: Vec::new(),
            profile: profile.then(Profile::new),
            dump: std::env::var_os("ECHO_JIT_DUMP").is_some(),
        }
    }

    /// With profiling on, switches the accounting to `owner` (a prototype's compiled code,
    /// or the interpreter) until the matching `profile_leave`.
    pub(crate) fn profile_enter(&mut self, owner: Option<usize>) {
        if let Some(p) = &mut self.profile {
            p.charge(&mut self.fns);
            p.owners.push(owner);
        }
    }

    /// Ends the innermost `profile_enter`.
    pub(crate) fn profile_leave(&mut self) {
        if let Some(p) = &mut self.profile {
            p.charge(&mut self.fns);
            p.owners.pop();
        }
    }
}

/// Who is running between two tier switches: the compiled code of a prototype (`Some`) or
/// the interpreter (`None`), innermost last, and since when the innermost one is.
struct Profile {
    owners: Vec<Option<usize>>,
    since: Instant,
}

impl Profile {
    /// Accounting that starts in the interpreter, now.
    fn new() -> Profile {
        Profile {
            owners: vec![None],
            since: Instant::now(),
        }
    }

    /// Charges the time since the last switch to whoever was running.
    fn charge(&mut self, fns: &mut [FnJit]) {
        let now = Instant::now();
        if let Some(Some(i)) = self.owners.last()
            && let Some(f) = fns.get_mut(*i)
        {
            f.compiled_time += now - self.since;
        }
        self.since = now;
    }
}

impl Vm {
    /// Gives the VM a compiling tier (for `Tier::Jit` and `Tier::Tiered`).
    pub fn set_codegen(&mut self, codegen: Box<dyn CodeGen>, profile: bool) {
        let mut t = Tiering::new(codegen, profile);
        t.fns.resize_with(self.program.protos.len(), FnJit::default);
        self.tiering = Some(Box::new(t));
    }

    /// What the compiling tier knows about prototype `i` (without the CLIF text).
    pub fn jit_stats(&self, i: usize) -> Option<FnJit> {
        self.tiering
            .as_ref()
            .and_then(|t| t.fns.get(i))
            .map(|f| FnJit {
                clif: None,
                ..f.clone()
            })
    }

    /// Called when a frame for `pid` was pushed: compiles it if the tier says so.
    pub(crate) fn on_call(&mut self, pid: ProtoId) {
        let Some(t) = &self.tiering else { return };
        let f = &t.fns[pid.0 as usize];
        if f.state != FnState::Interpreted {
            return;
        }
        if f.pending {
            // Its code may be ready: then this call runs it.
            self.install_if_finished();
            return;
        }
        let hot = match self.tier {
            Tier::Interp => false,
            #[cfg(feature = "jit")]
            Tier::Jit => true,
            #[cfg(feature = "jit")]
            Tier::Tiered => self.stats.calls[pid.0 as usize] >= self.hot_calls as u64,
        };
        if hot {
            self.compile_version(pid, false);
        }
    }

    /// Called at a loop back-edge of `pid` (compiling tiers): counts it, compiles the function once
    /// the loops are hot, and says whether compiled code can be entered now.
    pub(crate) fn on_backedge(&mut self, pid: ProtoId) -> bool {
        let i = pid.0 as usize;
        self.backedges[i] = self.backedges[i].saturating_add(1);
        if self.backedges[i] < self.hot_loops {
            return false;
        }
        let Some(t) = &self.tiering else { return false };
        let f = &t.fns[i];
        if f.osr_pending {
            self.install_if_finished();
        } else if f.osr_code == 0
            && f.osr_failed.is_none()
            && !matches!(f.state, FnState::Failed(_))
        {
            self.compile_version(pid, true);
        }
        self.tiering
            .as_ref()
            .is_some_and(|t| t.fns[i].osr_code != 0)
    }

    /// Compiles the normal version of `pid` (entered at calls), or with `osr` the version
    /// entered at loop headers. They are separate so that values loaded at an OSR entry,
    /// whose types are unknown, do not weaken the code of the normal version. Compilations
    /// speculate until `SPECULATIVE_EXITS` speculations failed (each failure widens the
    /// feedback of its instruction, so the next compilation assumes less there); then they
    /// are generic.
    fn compile_version(&mut self, pid: ProtoId, osr: bool) {
        // Finished work first: it may leave the compiler thread free for this one.
        self.install_if_finished();
        let Some(mut t) = self.tiering.take() else {
            return;
        };
        if t.codegen.busy() {
            self.tiering = Some(t);
            return;
        }
        let i = pid.0 as usize;
        let mode = if t.fns[i].guard_exits < SPECULATIVE_EXITS {
            Mode::Speculative
        } else {
            Mode::Generic
        };
        let result = if t.fns[i].compilations >= MAX_COMPILATIONS {
            Err("recompiled too often".to_string())
        } else {
            // Compiling is neither interpreted nor compiled code's time.
            t.profile_enter(None);
            let start = Instant::now();
            let r = t.codegen.start(self, pid, mode, osr);
            t.fns[i].compile_time += start.elapsed();
            t.profile_leave();
            r
        };
        match result {
            Ok(None) if osr => t.fns[i].osr_pending = true,
            Ok(None) => t.fns[i].pending = true,
            Ok(Some(c)) => self.record_compilation(&mut t, pid, osr, mode, Ok(c)),
            Err(why) => self.record_compilation(&mut t, pid, osr, mode, Err(why)),
        }
        self.tiering = Some(t);
    }

    /// Installs the compilations finished in the background, if any (one atomic load when
    /// there are none).
    fn install_if_finished(&mut self) {
        if self
            .tiering
            .as_ref()
            .is_some_and(|t| t.codegen.has_finished())
        {
            self.install_finished();
        }
    }

    /// Installs the compilations finished in the background.
    fn install_finished(&mut self) {
        let Some(mut t) = self.tiering.take() else {
            return;
        };
        t.profile_enter(None);
        let done = t.codegen.finished(self);
        t.profile_leave();
        for d in done {
            let f = &mut t.fns[d.pid.0 as usize];
            f.compile_time += d.background + d.install;
            f.background_time += d.background;
            if d.osr {
                f.osr_pending = false;
            } else {
                f.pending = false;
            }
            self.record_compilation(&mut t, d.pid, d.osr, d.mode, d.result);
        }
        self.tiering = Some(t);
    }

    /// Records the outcome of a compilation of `pid` and, on success, makes its code the one
    /// entered at calls (or, with `osr`, at loop headers).
    fn record_compilation(
        &mut self,
        t: &mut Tiering,
        pid: ProtoId,
        osr: bool,
        mode: Mode,
        result: Result<Compiled, String>,
    ) {
        let i = pid.0 as usize;
        let f = &mut t.fns[i];
        match result {
            Ok(c) => {
                if t.dump
                    && let Some(asm) = c.asm.as_ref().or(c.clif.as_ref())
                {
                    let name = &self.program.protos[i].name;
                    eprintln!(
                        ";; compiled {name} ({mode:?}{}):\n{asm}",
                        if osr { ", OSR" } else { "" }
                    );
                }
                f.compilations += 1;
                f.shared += u32::from(c.shared);
                f.code_bytes = c.code_bytes;
                f.clif = c.clif;
                let speculative = mode == Mode::Speculative;
                if osr {
                    f.osr_code = c.entry;
                    f.osr_speculative = speculative;
                    f.unrun_exits.1 = c.unrun_exits;
                } else {
                    self.fn_info[i].entry = c.entry;
                    f.state = FnState::Compiled;
                    f.speculative = speculative;
                    f.cold = c.cold;
                    f.unrun_exits.0 = c.unrun_exits;
                }
            }
            Err(reason) if osr => f.osr_failed = Some(reason),
            Err(reason) => {
                self.fn_info[i].entry = 0;
                f.state = FnState::Failed(reason);
            }
        }
    }

    /// Runs the compiled code of the top frame `frame`: from its start, or with `osr` from
    /// the loop header at that pc. Returns a status (`STATUS_OK` / `STATUS_ERR`).
    pub(crate) fn run_compiled(&mut self, frame: Frame, osr: Option<u32>) -> u64 {
        let t = self
            .tiering
            .as_mut()
            .expect("only a compiling tier has compiled code");
        // Compiled code receives 0 for a normal entry and `pc + 1` for an OSR entry.
        let (entry, entry_arg) = match osr {
            None => (self.fn_info[frame.proto.0 as usize].entry, 0),
            Some(pc) => {
                let f = &mut t.fns[frame.proto.0 as usize];
                f.osr_entries += 1;
                (f.osr_code, pc as u64 + 1)
            }
        };
        debug_assert!(entry != 0, "only compiled functions are entered");
        t.profile_enter(Some(frame.proto.0 as usize));
        let regs = self.stack.ptr(frame.base as usize);
        let record = self.frames.last_mut().expect("the frame to run is on top") as *mut Frame;
        let vm: *mut Vm = self;
        let call = || {
            // SAFETY: `entry` is the address of a finalized function compiled for this
            // prototype by this VM's code generator with the `CompiledFn` signature; the frame
            // it expects is on top of the frame stack with `base` set. `vm` is the live VM
            // (borrowed mutably by this call, and not used by this frame while the compiled
            // code runs); the pointer is not retained past the call.
            unsafe {
                let f: CompiledFn = std::mem::transmute::<usize, CompiledFn>(entry);
                f(vm, frame.base as u64, entry_arg, regs, record)
            }
        };
        let here = stack_address();
        let room = here.wrapping_sub(self.native_limit - NATIVE_RESERVE);
        let status = if here < self.native_top && room > crate::source::STACK_RED_ZONE {
            // Called from compiled code (through a helper) on the segment whose limit is set,
            // with more room left than `with_stack` asks for: it would neither move to a new
            // segment nor compute a different limit, so both are skipped.
            call()
        } else {
            crate::source::with_stack(|| {
                let top = stack_address();
                let limit = native_stack_limit(top);
                // SAFETY: `vm` is the live VM (see `call`); the limit and top are put back
                // once compiled code has returned.
                let saved = unsafe {
                    (
                        std::mem::replace(&mut (*vm).native_limit, limit),
                        std::mem::replace(&mut (*vm).native_top, top),
                    )
                };
                let status = call();
                // SAFETY: as above; compiled code has returned.
                unsafe { ((*vm).native_limit, (*vm).native_top) = saved };
                status
            })
        };
        if let Some(t) = &mut self.tiering {
            t.profile_leave();
        }
        status
    }

    /// Leaves compiled code that speculated wrongly at `pc`: remembers the failure so the
    /// function is recompiled without speculation, then finishes the frame in the
    /// interpreter from `resume` (which is `pc`: the guarded instruction runs again, whole).
    /// `kind` says what failed (see `ExitKind`). Returns a status.
    pub(crate) fn side_exit(&mut self, pc: u32, resume: u32, kind: ExitKind) -> u64 {
        let f = *self.frames.last().expect("a compiled frame is running");
        let i = f.proto.0 as usize;
        let fbase = self.fn_info[i].fbase as usize;
        match kind {
            ExitKind::Guard => {
                self.drop_speculation(i, true);
                self.note_failed_guard(i, pc);
            }
            // Neither counts towards giving up speculation: each can happen once per header,
            // or once per function.
            ExitKind::LoopTypes => {
                self.drop_speculation(i, false);
                self.feedback[fbase + pc as usize] |= FB_LOOP_TYPES;
            }
            // The interpreter compiles the loop's version at its next back-edge. The cold
            // version stays for the calls until they are hot too.
            ExitKind::Reoptimize => self.backedges[i] = self.backedges[i].max(self.hot_loops),
            // Nothing failed and no feedback widens: the call runs now, and its target makes
            // the next version better. Once per function (`speculates_unrun`).
            ExitKind::Unrun => {
                self.left_unrun[i] = true;
                self.drop_unrun_versions(i);
            }
            ExitKind::IntsMet => {
                self.drop_speculation(i, false);
                let n = self.program.protos[i].code.len();
                for fb in &mut self.feedback[fbase..fbase + n] {
                    if *fb & FB_NOT_INT != 0 {
                        *fb |= FB_INTS_TOO;
                    }
                }
            }
        }
        self.frames.last_mut().expect("checked above").pc = resume;
        self.run_top_frame()
    }

    /// Leaves compiled code whose inlined callee speculated wrongly at the callee's `pc`.
    /// Compiled code has already pushed the frames of the `depth` inlined callees down to
    /// that one (resuming at `pc`, the others after their calls) above its own and saved its
    /// own pc after the call: the interpreter finishes the callees, then the compiled frame.
    /// Its code is what speculated, so it goes; the callee's feedback learns the failure,
    /// so that code inlining it again assumes less. Bit i of `methods`: the record of the
    /// i-th callee (the outermost first) holds a stand-in closure, to be replaced by its
    /// method's. Returns a status.
    pub(crate) fn inline_exit(&mut self, pc: u32, depth: usize, methods: u64) -> u64 {
        let n = self.frames.len();
        debug_assert!(
            n > depth,
            "inlined callees' frames sit on the compiled frame"
        );
        // An inlined method's frame record holds a stand-in closure: its method, of the
        // receiver's class (register 0, `self`, which no code reassigns), goes there.
        for i in (0..depth).filter(|i| methods >> i & 1 != 0) {
            let frame = &mut self.frames.as_mut_slice()[n - depth + i];
            let Value::Instance(receiver) = self.stack.get(frame.base as usize) else {
                panic!("an inlined method's register 0 holds no instance");
            };
            frame.closure = receiver
                .class
                .methods
                .values()
                .copied()
                .find(|m| m.proto == frame.proto)
                .expect("the receiver's class has the inlined method");
        }
        let callee = *self.frames.last().expect("the callee's frame was pushed");
        let compiled = self.frames.as_slice()[n - 1 - depth].proto;
        self.drop_speculation(compiled.0 as usize, true);
        self.note_failed_guard(callee.proto.0 as usize, pc);
        self.run_frames(n - 1 - depth)
    }

    /// Called by the cold version of `pid` (see `Compiled::cold`) at each call once its
    /// calls are hot: compiles the function again, with the feedback gathered since, and
    /// installs that code once it is ready. The cold version keeps running until then (a
    /// compilation in the background takes a while, and the compiler thread may be busy).
    /// Reads no register: the caller stored none.
    pub(crate) fn reoptimize(&mut self, pid: ProtoId) {
        self.install_if_finished();
        let i = pid.0 as usize;
        let Some(t) = &self.tiering else {
            return;
        };
        let r = &t.fns[i];
        if !r.cold || r.pending || r.state != FnState::Compiled {
            return;
        }
        self.compile_version(pid, false);
    }

    /// Whether a speculating version of `pid` may leave at a call that has never run (no
    /// target recorded, an empty method cache) instead of compiling it without feedback,
    /// for good, as a slow call: a function compiled before some of its calls ran (a
    /// recursive one, at its tenth call, before its first return) gets them inlined in its
    /// next version. Only until one such exit happened.
    pub(crate) fn speculates_unrun(&self, pid: ProtoId) -> bool {
        self.left_unrun.get(pid.0 as usize) == Some(&false)
    }

    /// After a call that never ran was reached in compiled code of prototype `i`: discards
    /// its versions if one of them has such exits. Otherwise the exit came from an
    /// activation of code already replaced (a recursive function's callers, still running
    /// the version whose exit they now take), and the current versions, which make those
    /// calls, stay: dropping them for each such activation would compile the function again
    /// as many times.
    fn drop_unrun_versions(&mut self, i: usize) {
        let Some(t) = &mut self.tiering else {
            return;
        };
        let r = &mut t.fns[i];
        if r.unrun_exits.0 || r.unrun_exits.1 {
            self.drop_speculation(i, false);
        } else {
            r.side_exits += 1;
        }
    }

    /// Discards the speculating versions of prototype `i` after one of their guards failed
    /// (`counted`: an exit that brings the function closer to compiling without speculation,
    /// see `SPECULATIVE_EXITS`).
    fn drop_speculation(&mut self, i: usize, counted: bool) {
        let Some(t) = &mut self.tiering else {
            return;
        };
        let r = &mut t.fns[i];
        r.side_exits += 1;
        r.guard_exits += u64::from(counted);
        // Every version that speculates goes (it is not known which one left): it is
        // recompiled, assuming less, at the next call or hot loop; this activation
        // continues interpreted. Were a speculating version kept, each entry would leave
        // at the same guard and nest another interpreter loop in this frame, without end.
        if r.speculative {
            r.state = FnState::Interpreted;
            r.speculative = false;
            r.unrun_exits.0 = false;
            self.fn_info[i].entry = 0;
        }
        if r.osr_speculative {
            r.osr_code = 0;
            r.osr_speculative = false;
            r.unrun_exits.1 = false;
        }
    }

    /// Records that a guard at `pc` of prototype `i` failed: a recompilation assumes less
    /// there (numbers where it assumed ints, nothing where it assumed numbers).
    fn note_failed_guard(&mut self, i: usize, pc: u32) {
        let fb = &mut self.feedback[self.fn_info[i].fbase as usize + pc as usize];
        *fb |= if *fb & FB_NOT_INT == 0 {
            FB_NOT_INT
        } else {
            FB_NOT_NUM
        };
    }

    /// Runs the top frame (just pushed, or resumed at its saved pc) until it returns, for
    /// callers outside the dispatch loop (compiled code and its helpers). Returns a status;
    /// an error is left in `pending`, the frame having been unwound.
    pub(crate) fn run_top_frame(&mut self) -> u64 {
        self.run_frames(self.frames.len() - 1)
    }

    /// Runs the frames above `depth` until the frame count drops back to it, for callers
    /// outside the dispatch loop. Returns a status, as `run_top_frame`.
    fn run_frames(&mut self, depth: usize) -> u64 {
        if let Some(t) = &mut self.tiering {
            t.profile_enter(None);
        }
        let result = crate::source::with_stack(|| self.execute(depth));
        if let Some(t) = &mut self.tiering {
            t.profile_leave();
        }
        match result {
            Ok(_) => STATUS_OK,
            Err(e) => {
                self.pending = Some(e);
                STATUS_ERR
            }
        }
    }
}

/// The stack room kept below `Vm::native_limit` for helpers and the frames of compiled code.
const NATIVE_RESERVE: usize = 128 * 1024;

/// An address in the current host stack frame.
#[inline(always)]
fn stack_address() -> usize {
    let probe = 0u8;
    std::ptr::addr_of!(probe) as usize
}

/// Lowest stack address compiled code may call further from, on the stack segment holding
/// `here`: below it, calls go through a helper that moves onto a fresh segment.
fn native_stack_limit(here: usize) -> usize {
    let remaining = stacker::remaining_stack().unwrap_or(1 << 20);
    here.saturating_sub(remaining)
        .saturating_add(NATIVE_RESERVE)
}
