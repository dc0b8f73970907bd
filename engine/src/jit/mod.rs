//! The JIT tier: bytecode prototypes compiled to machine code with Cranelift, entered on
//! hot calls or hot loops (OSR), leaving to the interpreter on a failed speculation.
//!
//! Contract with the interpreter (see docs/ARCHITECTURE.md): compiled code shares the frame
//! records and the register stack; every register write is also stored to its slot, so at
//! any call or helper the slots hold the truth (precise GC, trivial side exits and OSR).

/// Whether the deliberate bug `$m` (a `mutants::Mutant` variant) is active on this thread.
/// Without the `mutants` feature it is the constant `false`, so mutated paths compile away.
/// Defined before the submodules, which see it by textual scope.
macro_rules! mutant {
    ($m:ident) => {{
        #[cfg(feature = "mutants")]
        let on = $crate::jit::mutants::active($crate::jit::mutants::Mutant::$m);
        #[cfg(not(feature = "mutants"))]
        let on = false;
        on
    }};
}

mod analysis;
mod cache;
mod helpers;
#[cfg(feature = "mutants")]
pub mod mutants;
mod translate;

use std::time::{Duration, Instant};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{AbiParam, types};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, ir};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, ModuleReloc, default_libcall_names};

use crate::bytecode::ProtoId;
use crate::config::Tier;
use crate::stack::Frame;
use crate::vm::Vm;

pub(crate) use helpers::HELPERS;

/// Status returned by compiled code and helpers: success.
pub(crate) const STATUS_OK: u64 = 0;
/// Status returned by compiled code and helpers: an error is pending in `Vm::pending`.
pub(crate) const STATUS_ERR: u64 = 1;

/// Compiled code: `(vm, frame base, entry, address of register 0, address of the frame
/// record) -> status`, `entry` being 0 for a call or, in an OSR version, the loop header's pc
/// plus 1. The caller has pushed the frame;
/// on success the result is in the frame's return slot and the frame is popped; on error the
/// frame is popped and recorded in the trace, and the error is in `Vm::pending`.
pub(crate) type CompiledFn =
    unsafe extern "C" fn(*mut Vm, u64, u64, *mut crate::value::Value, *mut Frame) -> u64;

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

/// What the JIT knows and measured about one prototype.
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
    /// Time spent compiling it, all compilations together.
    pub compile_time: Duration,
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
    /// Time spent running this function's compiled code, with the compiled functions it
    /// calls directly (they are not entered through the interpreter), but without the
    /// interpreted code its helpers run. Measured only with `Config::profile`.
    pub compiled_time: Duration,
    /// The CLIF text of the last compilation, when CLIF capture is on.
    pub clif: Option<String>,
}

impl Default for FnJit {
    fn default() -> Self {
        FnJit {
            state: FnState::Interpreted,
            compilations: 0,
            shared: 0,
            speculative: false,
            compile_time: Duration::ZERO,
            code_bytes: 0,
            osr_entries: 0,
            osr_code: 0,
            osr_failed: None,
            compiled_time: Duration::ZERO,
            side_exits: 0,
            clif: None,
        }
    }
}

/// After this many compilations a function stays interpreted (a safety valve; a function is
/// normally compiled at most twice).
const MAX_COMPILATIONS: u32 = 4;

thread_local! {
    /// The host ISA, detected once per thread.
    static ISA: Result<OwnedTargetIsa, String> = host_isa();
}

fn host_isa() -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    flags
        .set("use_colocated_libcalls", "false")
        .map_err(|e| e.to_string())?;
    flags.set("is_pic", "false").map_err(|e| e.to_string())?;
    flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
    // The IR verifier costs about a tenth of compile time; debug builds (and so the test
    // suite) keep it, release builds trust the translator.
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    flags
        .set("enable_verifier", verify)
        .map_err(|e| e.to_string())?;
    // Debug builds check every reuse of shared code against a fresh compilation.
    flags
        .set("enable_incremental_compilation_cache_checks", verify)
        .map_err(|e| e.to_string())?;
    let builder =
        cranelift_native::builder().map_err(|e| format!("host not supported by Cranelift: {e}"))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())
}

/// The compiler of one VM: a Cranelift module holding its code, and per-function state.
pub struct Jit {
    module: Option<JITModule>,
    ctx: Context,
    fctx: FunctionBuilderContext,
    /// Helper functions declared in the module, in `HELPERS` order.
    helper_ids: Vec<FuncId>,
    /// Why no code can be compiled at all (unsupported host), if so.
    unavailable: Option<String>,
    /// Per-prototype state.
    pub fns: Vec<FnJit>,
    /// Keep the CLIF text of every compilation (for `echo-lang clif`).
    pub capture_clif: bool,
    /// Keep the machine code disassembly of every compilation.
    pub capture_asm: bool,
    /// Reuse code compiled earlier on this thread from identical IR (`Config::share_code`).
    pub share_code: bool,
    /// The disassembly of the last compilation, when captured.
    last_asm: Option<String>,
    /// Time accounting across tier switches, when `Config::profile` asked for it.
    pub(crate) profile: Option<Profile>,
}

/// Who is running between two tier switches: the compiled code of a prototype (`Some`) or
/// the interpreter (`None`), innermost last, and since when the innermost one is.
pub(crate) struct Profile {
    owners: Vec<Option<usize>>,
    since: Instant,
}

impl Profile {
    /// Accounting that starts in the interpreter, now.
    pub(crate) fn new() -> Profile {
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

impl Jit {
    /// A compiler with an empty code module.
    pub fn new() -> Jit {
        let isa = ISA.with(|isa| isa.clone());
        let (module, helper_ids, unavailable) = match isa {
            Ok(isa) => {
                let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
                for h in HELPERS {
                    builder.symbol(h.name, h.addr);
                }
                let mut module = JITModule::new(builder);
                let mut ids = Vec::with_capacity(HELPERS.len());
                let mut failure = None;
                for h in HELPERS {
                    let sig = helper_signature(&module, h.params);
                    match module.declare_function(h.name, Linkage::Import, &sig) {
                        Ok(id) => ids.push(id),
                        Err(e) => failure = Some(e.to_string()),
                    }
                }
                (Some(module), ids, failure)
            }
            Err(e) => (None, Vec::new(), Some(e)),
        };
        let ctx = module
            .as_ref()
            .map_or_else(Context::new, |m| m.make_context());
        Jit {
            module,
            ctx,
            fctx: FunctionBuilderContext::new(),
            helper_ids,
            unavailable,
            fns: Vec::new(),
            capture_clif: false,
            capture_asm: std::env::var_os("ECHO_JIT_DUMP").is_some(),
            share_code: false,
            last_asm: None,
            profile: None,
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

    /// Grows the per-function table to `n` prototypes.
    pub(crate) fn sync(&mut self, n: usize) {
        self.fns.resize_with(n, FnJit::default);
    }
}

impl Default for Jit {
    fn default() -> Self {
        Jit::new()
    }
}

impl Drop for Jit {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the VM drops its `Jit` only when it is itself dropped, so no compiled
            // function can run again; freeing returns the code memory (dropping a JITModule
            // would leak it).
            unsafe { module.free_memory() };
        }
    }
}

/// The signature of a helper: `params` 64-bit integers in, one out.
fn helper_signature(module: &JITModule, params: usize) -> ir::Signature {
    let mut sig = module.make_signature();
    for _ in 0..params {
        sig.params.push(AbiParam::new(types::I64));
    }
    sig.returns.push(AbiParam::new(types::I64));
    sig
}

/// How to compile a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Speculate on operand types (from the interpreter's feedback) and object shapes (from
    /// its inline caches), leaving to the interpreter when a guess fails.
    Speculative,
    /// No speculation: every path is handled in compiled code or a helper.
    Generic,
}

impl Vm {
    /// What the JIT knows about prototype `i` (without the CLIF text).
    pub(crate) fn jit_stats(&self, i: usize) -> Option<FnJit> {
        self.jit.as_ref().and_then(|j| j.fns.get(i)).map(|f| FnJit {
            clif: None,
            ..f.clone()
        })
    }

    /// Called when a frame for `pid` was pushed: compiles it if the tier says so.
    pub(crate) fn on_call(&mut self, pid: ProtoId) {
        let Some(jit) = &self.jit else { return };
        let f = &jit.fns[pid.0 as usize];
        if f.state != FnState::Interpreted {
            return;
        }
        let hot = match self.tier {
            Tier::Jit => true,
            Tier::Tiered => self.stats.calls[pid.0 as usize] >= self.hot_calls as u64,
            Tier::Interp => false,
        };
        if hot {
            self.compile(pid);
        }
    }

    /// Called at a loop back-edge of `pid` (tiered): counts it, compiles the function once
    /// the loops are hot, and says whether compiled code can be entered now.
    pub(crate) fn on_backedge(&mut self, pid: ProtoId) -> bool {
        let i = pid.0 as usize;
        self.backedges[i] = self.backedges[i].saturating_add(1);
        if self.backedges[i] < self.hot_loops {
            return false;
        }
        let Some(jit) = &self.jit else { return false };
        let f = &jit.fns[i];
        if f.osr_code == 0 && f.osr_failed.is_none() && !matches!(f.state, FnState::Failed(_)) {
            self.compile_version(pid, true);
        }
        self.jit.as_ref().is_some_and(|j| j.fns[i].osr_code != 0)
    }

    /// Compiles `pid` (speculatively the first time, generically after a side exit).
    pub(crate) fn compile(&mut self, pid: ProtoId) {
        self.compile_version(pid, false);
    }

    /// Compiles the normal version of `pid` (entered at calls), or with `osr` the version
    /// entered at loop headers. They are separate so that values loaded at an OSR entry,
    /// whose types are unknown, do not weaken the code of the normal version.
    fn compile_version(&mut self, pid: ProtoId, osr: bool) {
        let Some(mut jit) = self.jit.take() else {
            return;
        };
        let i = pid.0 as usize;
        // Speculate until a speculation has failed once.
        let mode = if jit.fns[i].side_exits == 0 {
            Mode::Speculative
        } else {
            Mode::Generic
        };
        let result = if let Some(why) = &jit.unavailable {
            Err(why.clone())
        } else if jit.fns[i].compilations >= MAX_COMPILATIONS {
            Err("recompiled too often".to_string())
        } else {
            // Compiling is neither interpreted nor compiled code's time.
            jit.profile_enter(None);
            let r = jit.compile_proto(self, pid, mode, osr);
            jit.profile_leave();
            r
        };
        match result {
            Ok(entry) => {
                if let Some(asm) = jit.last_asm.take() {
                    let name = &self.program().protos[i].name;
                    eprintln!(
                        ";; compiled {name} ({mode:?}{}):\n{asm}",
                        if osr { ", OSR" } else { "" }
                    );
                }
                if osr {
                    jit.fns[i].osr_code = entry;
                } else {
                    self.fn_info[i].entry = entry;
                    jit.fns[i].state = FnState::Compiled;
                }
                jit.fns[i].speculative = mode == Mode::Speculative;
            }
            Err(reason) if osr => jit.fns[i].osr_failed = Some(reason),
            Err(reason) => {
                self.fn_info[i].entry = 0;
                jit.fns[i].state = FnState::Failed(reason);
            }
        }
        self.jit = Some(jit);
    }

    /// Runs the compiled code of the top frame `frame`: from its start, or with `osr` from
    /// the loop header at that pc. Returns a status (`STATUS_OK` / `STATUS_ERR`).
    pub(crate) fn run_compiled(&mut self, frame: Frame, osr: Option<u32>) -> u64 {
        // Compiled code receives 0 for a normal entry and `pc + 1` for an OSR entry.
        let (entry, entry_arg) = match osr {
            None => (self.fn_info[frame.proto.0 as usize].entry, 0),
            Some(pc) => {
                let f =
                    &mut self.jit.as_mut().expect("OSR needs the JIT").fns[frame.proto.0 as usize];
                f.osr_entries += 1;
                (f.osr_code, pc as u64 + 1)
            }
        };
        debug_assert!(entry != 0, "only compiled functions are entered");
        let regs = self.stack.ptr(frame.base as usize);
        let record = self.frames.last_mut().expect("the frame to run is on top") as *mut Frame;
        if let Some(jit) = &mut self.jit {
            jit.profile_enter(Some(frame.proto.0 as usize));
        }
        let vm: *mut Vm = self;
        let status = crate::source::with_stack(|| {
            let limit = native_stack_limit();
            // SAFETY: `vm` is the live VM (borrowed mutably by this call, and not used by this
            // frame while the compiled code runs); the pointer is not retained past the call.
            let saved = unsafe { std::mem::replace(&mut (*vm).native_limit, limit) };
            // SAFETY: `entry` is the address of a finalized function compiled for this
            // prototype by this VM's module with the `CompiledFn` signature; the frame it
            // expects is on top of the frame stack with `base` set.
            let status = unsafe {
                let f: CompiledFn = std::mem::transmute::<usize, CompiledFn>(entry);
                f(vm, frame.base as u64, entry_arg, regs, record)
            };
            // SAFETY: as above; compiled code has returned.
            unsafe { (*vm).native_limit = saved };
            status
        });
        if let Some(jit) = &mut self.jit {
            jit.profile_leave();
        }
        status
    }

    /// Leaves compiled code that speculated wrongly at `pc`: remembers the failure so the
    /// function is recompiled without speculation, then finishes the frame in the
    /// interpreter. Returns a status.
    pub(crate) fn side_exit(&mut self, pc: u32) -> u64 {
        let f = *self.frames.last().expect("a compiled frame is running");
        let i = f.proto.0 as usize;
        if let Some(jit) = &mut self.jit {
            jit.fns[i].side_exits += 1;
            if jit.fns[i].speculative {
                // Recompile (generic) at the next call or hot loop; this activation continues
                // interpreted.
                jit.fns[i].state = FnState::Interpreted;
                jit.fns[i].osr_code = 0;
                self.fn_info[i].entry = 0;
            }
        }
        let fbase = self.fn_info[i].fbase as usize;
        self.feedback[fbase + pc as usize] |= crate::vm::FB_NOT_INT;
        let resume = if mutant!(SideExitSkipsInstruction) {
            pc + 1
        } else {
            pc
        };
        self.frames.last_mut().expect("checked above").pc = resume;
        self.run_top_frame()
    }
}

/// Lowest stack address compiled code may call further from, on the current stack segment:
/// below it, calls go through a helper that moves onto a fresh segment.
fn native_stack_limit() -> usize {
    let here = {
        let probe = 0u8;
        std::ptr::addr_of!(probe) as usize
    };
    let remaining = stacker::remaining_stack().unwrap_or(1 << 20);
    // Keep 128 KiB in reserve for helpers and the frames of the compiled code itself.
    here.saturating_sub(remaining).saturating_add(128 * 1024)
}

/// The compiled form of one function, for `echo-lang clif`.
#[derive(Clone, Debug)]
pub struct FunctionDump {
    /// Function name.
    pub name: String,
    /// CLIF text, or why the function is not compiled.
    pub clif: Result<String, String>,
    /// Machine code disassembly, when asked for.
    pub asm: Option<String>,
}

/// Compiles every prototype of `program` (without speculation, as nothing has run yet) and
/// returns its CLIF text, and optionally its machine code, in prototype order.
pub fn clif_of_program(
    program: crate::bytecode::Program,
    config: &crate::Config,
    asm: bool,
) -> Vec<FunctionDump> {
    compile_each(program, config, true, asm, |name, r, f, asm| FunctionDump {
        name: name.to_string(),
        clif: r.map(|_| f.clif.take().unwrap_or_default()),
        asm,
    })
}

/// One function compiled by [`compile_program`].
#[derive(Clone, Debug)]
pub struct CompiledFunction {
    /// Function name.
    pub name: String,
    /// Compile time and machine-code bytes, or why it was not compiled.
    pub result: Result<(Duration, usize), String>,
}

/// Compiles every prototype of `program` (without speculation) and returns, in prototype
/// order, each one's compile time and machine-code bytes. Used by the compile-time
/// benchmarks.
pub fn compile_program(
    program: crate::bytecode::Program,
    config: &crate::Config,
) -> Vec<CompiledFunction> {
    compile_each(program, config, false, false, |name, r, f, _| {
        CompiledFunction {
            name: name.to_string(),
            result: r.map(|_| (f.compile_time, f.code_bytes)),
        }
    })
}

/// Compiles each prototype of `program` in a fresh JIT-tier VM and maps the result, the
/// function's JIT record and its disassembly (when `asm`) through `visit`.
fn compile_each<T>(
    program: crate::bytecode::Program,
    config: &crate::Config,
    capture_clif: bool,
    asm: bool,
    mut visit: impl FnMut(&str, Result<usize, String>, &mut FnJit, Option<String>) -> T,
) -> Vec<T> {
    let mut vm = Vm::new(&crate::Config {
        tier: Tier::Jit,
        ..config.clone()
    });
    *vm.program_mut() = program;
    if vm.sync_program().is_err() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for i in 0..vm.program().protos.len() {
        let name = vm.program().protos[i].name.clone();
        let Some(mut jit) = vm.jit.take() else { break };
        jit.capture_clif = capture_clif;
        jit.capture_asm = asm;
        let r = jit.compile_proto(&mut vm, ProtoId(i as u32), Mode::Generic, false);
        let asm = jit.last_asm.take();
        out.push(visit(&name, r, &mut jit.fns[i], asm));
        vm.jit = Some(jit);
    }
    out
}

/// The names of the functions compiled code imports, by their CLIF names (`u0:N`).
pub fn helper_names() -> Vec<(String, &'static str)> {
    HELPERS
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("u0:{i}"), h.name))
        .collect()
}

impl Jit {
    /// Translates and compiles one prototype; returns its entry address.
    fn compile_proto(
        &mut self,
        vm: &mut Vm,
        pid: ProtoId,
        mode: Mode,
        osr: bool,
    ) -> Result<usize, String> {
        let start = Instant::now();
        let module = self.module.as_mut().ok_or("no code module")?;
        module.clear_context(&mut self.ctx);
        let mut sig = module.make_signature();
        for _ in 0..5 {
            sig.params.push(AbiParam::new(types::I64));
        }
        sig.returns.push(AbiParam::new(types::I64));
        self.ctx.func.signature = sig.clone();
        let helper_ids: Vec<u32> = self.helper_ids.iter().map(|id| id.as_u32()).collect();
        let helper_sig = helper_signature(module, 6);
        let config = module.target_config();
        let target = translate::Target {
            func: &mut self.ctx.func,
            fctx: &mut self.fctx,
            helper_ids: &helper_ids,
            helper_sig,
            compiled_sig: sig,
            config,
        };
        translate::translate(vm, pid, mode, osr, target)?;
        let clif = self
            .capture_clif
            .then(|| self.ctx.func.display().to_string());
        // A unique readable name: `perf` (which makes cranelift-jit write /tmp/perf-PID.map)
        // then attributes samples to Echo functions.
        let name = format!(
            "echo:{}#{}{}.{}",
            vm.program.proto(pid).name,
            pid.0,
            if osr { ":osr" } else { "" },
            self.fns[pid.0 as usize].compilations
        );
        let id = module
            .declare_function(&name, Linkage::Local, &self.ctx.func.signature)
            .map_err(|e| e.to_string())?;
        self.ctx.set_disasm(self.capture_asm);
        let isa = module.isa();
        let mut ctrl = ControlPlane::default();
        // A reused compilation has no disassembly, so capturing one always compiles.
        let shared = if self.share_code && !self.capture_asm {
            cache::with_store(|store| self.ctx.compile_with_cache(isa, store, &mut ctrl))
                .map(|(_, shared)| shared)
        } else {
            self.ctx.compile(isa, &mut ctrl).map(|_| false)
        }
        .map_err(|e| format!("{:?}", e.inner))?;
        let code = self.ctx.compiled_code().ok_or("no compiled code")?;
        let relocs: Vec<ModuleReloc> = code
            .buffer
            .relocs()
            .iter()
            .map(|r| ModuleReloc::from_mach_reloc(r, &self.ctx.func, id))
            .collect();
        let code_bytes = code.code_buffer().len();
        let alignment = u64::from(code.buffer.alignment);
        self.last_asm = code.vcode.clone();
        module
            .define_function_bytes(id, alignment, code.code_buffer(), &relocs)
            .map_err(|e| format!("{e:?}"))?;
        module.clear_context(&mut self.ctx);
        module.finalize_definitions().map_err(|e| e.to_string())?;
        let entry = module.get_finalized_function(id) as usize;
        let f = &mut self.fns[pid.0 as usize];
        f.compilations += 1;
        f.shared += u32::from(shared);
        f.compile_time += start.elapsed();
        f.code_bytes = code_bytes;
        f.clif = clif;
        Ok(entry)
    }
}
