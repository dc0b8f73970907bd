//! The JIT tier: bytecode prototypes compiled to machine code with Cranelift (`Jit`, the
//! runtime's `CodeGen`). When to compile and how compiled code is entered and left is the
//! runtime's (`runtime::tiering`); this room translates and compiles, and holds the helpers
//! compiled code calls.
//!
//! Contract with the interpreter (see docs/ARCHITECTURE.md): compiled code shares the frame
//! records and the register stack, and at every safepoint (a helper or call) the slots hold
//! the truth (precise GC, trivial side exits and OSR).

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

mod abi;
mod analysis;
mod cache;
pub(crate) mod deopt;
mod helpers;
mod lower;
pub mod mutants;
mod worker;

use std::time::{Duration, Instant};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{AbiParam, Function, types};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedMachReloc, ir};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, ModuleReloc, default_libcall_names};

use crate::bytecode::{Program, ProtoId};
use crate::config::{Config, Tier};
use crate::runtime::tiering::{CodeGen, Compiled, Finished, Mode};
use crate::runtime::vm::Vm;

pub(crate) use helpers::HELPERS;

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
    /// Helper functions declared in the module, in `HELPERS` order.
    helper_ids: Vec<FuncId>,
    /// Why no code can be compiled at all (unsupported host), if so.
    unavailable: Option<String>,
    /// Keep the CLIF text of every compilation (for `echo-lang clif`).
    pub capture_clif: bool,
    /// Keep the machine code disassembly of every compilation.
    pub capture_asm: bool,
    /// Reuse code compiled earlier on this thread (or by its compiler threads) from identical IR
    /// (`Config::share_code`).
    pub share_code: bool,
    /// Compilations so far (numbers the functions in the module).
    compiled: u32,
    /// Generate code on a second thread (`Config::background_compile`), but for cold versions.
    background: bool,
    /// Compilations made on this thread before the rest go to the second one.
    background_after: u32,
    /// That thread, once the first compilation has started it.
    worker: Option<worker::Worker>,
    /// Callees found not to fit in place (see `lower::inline::Unfit`).
    unfit: lower::inline::Unfit,
}

impl Jit {
    /// A compiler with an empty code module, set up as `config` asks.
    pub fn new(config: &Config) -> Jit {
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
            helper_ids,
            unavailable,
            // `ECHO_JIT_DUMP=clif` prints the IR of what runs (speculative and OSR versions,
            // which `echo-lang clif` does not show); any other value, the machine code.
            capture_clif: std::env::var_os("ECHO_JIT_DUMP").is_some_and(|v| v == "clif"),
            capture_asm: std::env::var_os("ECHO_JIT_DUMP").is_some_and(|v| v != "clif"),
            share_code: config.share_code,
            compiled: 0,
            background: config.background_compile && config.tier != Tier::Interp,
            background_after: config.background_after,
            worker: None,
            unfit: Default::default(),
        }
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

/// Compilations the second thread holds at once (one compiling, the next translated and
/// waiting): more would keep their IR in memory beside the program's heap, for code that
/// arrives no sooner.
const MAX_IN_FLIGHT: usize = 1;

impl CodeGen for Jit {
    fn compile(
        &mut self,
        vm: &mut Vm,
        pid: ProtoId,
        mode: Mode,
        osr: bool,
    ) -> Result<Compiled, String> {
        let cold = lower::cold_version(vm, pid, osr);
        self.compile_here(vm, pid, mode, osr, cold)
    }

    fn start(
        &mut self,
        vm: &mut Vm,
        pid: ProtoId,
        mode: Mode,
        osr: bool,
    ) -> Result<Option<Compiled>, String> {
        let cold = lower::cold_version(vm, pid, osr);
        // A cold version is compiled here: the jit tier runs no function before its code.
        if !self.background || self.compiled < self.background_after || cold.is_some() {
            return self.compile_here(vm, pid, mode, osr, cold).map(Some);
        }
        if let Some(why) = &self.unavailable {
            return Err(why.clone());
        }
        if self.worker.is_none() {
            let isa = ISA.with(|isa| isa.clone().ok());
            let store = self.share_code.then(cache::this_thread);
            self.worker = isa.and_then(|isa| worker::Worker::spawn(isa, store, self.capture_asm));
            if self.worker.is_none() {
                // No second thread: compile here, as without the option.
                self.background = false;
                return self.compile_here(vm, pid, mode, osr, cold).map(Some);
            }
        }
        // Translation reads the VM, so it happens here; Cranelift runs on the worker.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            #[cfg(test)]
            tests::maybe_inject_panic();
            self.translate_proto(vm, pid, mode, osr, cold)
        }));
        let what = match r {
            Ok(what) => what?,
            Err(panic) => return self.failed(&*panic),
        };
        let func = std::mem::replace(&mut self.ctx.func, Function::new());
        let sent = self
            .worker
            .as_mut()
            .is_some_and(|w| w.send(worker::Job { what, func }));
        if !sent {
            let why = "the compiler thread is gone".to_string();
            self.unavailable = Some(why.clone());
            return Err(why);
        }
        Ok(None)
    }

    fn has_finished(&self) -> bool {
        self.worker.as_ref().is_some_and(worker::Worker::has_done)
    }

    fn busy(&self) -> bool {
        self.worker
            .as_ref()
            .is_some_and(|w| w.in_flight() >= MAX_IN_FLIGHT)
    }

    fn finished(&mut self, vm: &mut Vm) -> Vec<Finished> {
        let done = match &mut self.worker {
            Some(w) => w.take_done(),
            None => return Vec::new(),
        };
        let mut out = Vec::with_capacity(done.len());
        for d in done {
            let start = Instant::now();
            let (pid, osr, mode) = (d.what.pid, d.what.osr, d.what.mode);
            let osr = osr != mutant!(BackgroundVersionSwapped);
            let result = match d.code {
                Err(why) => {
                    if d.panicked {
                        self.unavailable = Some(why.clone());
                    }
                    Err(why)
                }
                Ok(_) if self.unavailable.is_some() => {
                    Err(self.unavailable.clone().unwrap_or_default())
                }
                Ok(code) => {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.install(vm, d.what, &code)
                    }));
                    r.unwrap_or_else(|panic| self.failed(&*panic))
                }
            };
            out.push(Finished {
                pid,
                osr,
                mode,
                result,
                background: d.time,
                install: start.elapsed(),
            });
        }
        out
    }
}

impl Jit {
    /// Records that the code generator panicked: the module's state is unknown, so nothing
    /// more is compiled.
    fn failed<T>(&mut self, panic: &(dyn std::any::Any + Send)) -> Result<T, String> {
        let why = format!("the code generator failed: {}", panic_message(panic));
        self.unavailable = Some(why.clone());
        Err(why)
    }
}

/// The message a panic carried (a `String` or a `&str`), for the error it becomes.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic")
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
pub fn clif_of_program(program: Program, config: &Config, asm: bool) -> Vec<FunctionDump> {
    compile_each(program, config, true, asm, |name, r, _| FunctionDump {
        name: name.to_string(),
        clif: r
            .as_ref()
            .map(|c| c.clif.clone().unwrap_or_default())
            .map_err(Clone::clone),
        asm: r.ok().and_then(|c| c.asm),
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
pub fn compile_program(program: Program, config: &Config) -> Vec<CompiledFunction> {
    compile_each(program, config, false, false, |name, r, time| {
        CompiledFunction {
            name: name.to_string(),
            result: r.map(|c| (time, c.code_bytes)),
        }
    })
}

/// Compiles each prototype of `program` with a fresh compiler over a VM holding the program,
/// and maps each result and its compile time through `visit`.
fn compile_each<T>(
    program: Program,
    config: &Config,
    capture_clif: bool,
    asm: bool,
    mut visit: impl FnMut(&str, Result<Compiled, String>, Duration) -> T,
) -> Vec<T> {
    let config = Config {
        tier: Tier::Jit,
        ..config.clone()
    };
    let mut vm = Vm::new(&config);
    *vm.program_mut() = program;
    if vm.sync_program().is_err() {
        return Vec::new();
    }
    let mut jit = Jit::new(&config);
    jit.capture_clif = capture_clif;
    jit.capture_asm = asm;
    let mut out = Vec::new();
    for i in 0..vm.program().protos.len() {
        let name = vm.program().protos[i].name.clone();
        let start = Instant::now();
        let r = jit.compile(&mut vm, ProtoId(i as u32), Mode::Generic, false);
        out.push(visit(&name, r, start.elapsed()));
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

/// A function translated to Cranelift IR (which travels apart from it), with what installing
/// its code needs.
pub(crate) struct Translated {
    pid: ProtoId,
    mode: Mode,
    osr: bool,
    /// The unique name the code is declared under.
    name: String,
    /// How each instruction was compiled, for coverage (`Coverage::compiled`).
    variants: Vec<u8>,
    /// The CLIF text, when captured.
    clif: Option<String>,
    /// Whether it is a cold version (`Compiled::cold`).
    cold: bool,
    /// Whether it may leave at calls that never ran (`Compiled::unrun_exits`).
    unrun_exits: bool,
}

/// Generates machine code for the function in `ctx` (through `store`, a store of shared code,
/// if given); returns whether the code was shared. Runs on either thread.
pub(crate) fn generate(
    ctx: &mut Context,
    isa: &dyn TargetIsa,
    store: Option<&cache::Store>,
) -> Result<bool, String> {
    let mut ctrl = ControlPlane::default();
    // A reused compilation has no disassembly, so capturing one always compiles.
    if let Some(mut store) = store.filter(|_| !ctx.want_disasm) {
        ctx.compile_with_cache(isa, &mut store, &mut ctrl)
            .map(|(_, shared)| shared)
    } else {
        ctx.compile(isa, &mut ctrl).map(|_| false)
    }
    .map_err(|e| format!("{:?}", e.inner))
}

impl Jit {
    /// Compiles one prototype on this thread; `cold` as `lower::cold_version` decided it.
    fn compile_here(
        &mut self,
        vm: &mut Vm,
        pid: ProtoId,
        mode: Mode,
        osr: bool,
        cold: Option<lower::Cold>,
    ) -> Result<Compiled, String> {
        if let Some(why) = &self.unavailable {
            return Err(why.clone());
        }
        // A panic in the translator or in Cranelift fails this compilation, and the function
        // stays interpreted; it must not unwind into the interpreter's or compiled code's
        // frames (the compilation may have been asked for by a helper called from compiled
        // code). The module's state is unknown after it, so nothing more is compiled.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            #[cfg(test)]
            tests::maybe_inject_panic();
            self.compile_proto(vm, pid, mode, osr, cold)
        }));
        r.unwrap_or_else(|panic| self.failed(&*panic))
    }

    /// Translates and compiles one prototype.
    fn compile_proto(
        &mut self,
        vm: &mut Vm,
        pid: ProtoId,
        mode: Mode,
        osr: bool,
        cold: Option<lower::Cold>,
    ) -> Result<Compiled, String> {
        let what = self.translate_proto(vm, pid, mode, osr, cold)?;
        // The context is this compilation's alone, and the next one gets a fresh one: kept,
        // its buffers, sized for the largest function so far, would stay allocated beside the
        // program's heap (on every path, failures included).
        let mut ctx = std::mem::replace(&mut self.ctx, Context::new());
        let isa = self.module.as_ref().ok_or("no code module")?.isa();
        ctx.set_disasm(self.capture_asm);
        let store = self.share_code.then(cache::this_thread);
        let shared = generate(&mut ctx, isa, store.as_ref())?;
        let code = Generated::take(&mut ctx, shared).ok_or("no compiled code")?;
        drop(ctx);
        self.install(vm, what, &code)
    }

    /// Translates one prototype into the context's function.
    fn translate_proto(
        &mut self,
        vm: &mut Vm,
        pid: ProtoId,
        mode: Mode,
        osr: bool,
        cold: Option<lower::Cold>,
    ) -> Result<Translated, String> {
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
        // A builder context per translation, freed before Cranelift runs: kept, it would hold
        // the largest function's SSA tables through every compilation and the rest of the run.
        let mut fctx = FunctionBuilderContext::new();
        let target = lower::Target {
            func: &mut self.ctx.func,
            fctx: &mut fctx,
            helper_ids: &helper_ids,
            helper_sig,
            compiled_sig: sig,
            config,
            unfit: &mut self.unfit,
        };
        let unrun_exits = mode == Mode::Speculative && cold.is_none() && vm.speculates_unrun(pid);
        let variants = lower::translate(vm, pid, mode, osr, cold, unrun_exits, target)?;
        if self.capture_clif {
            // Branches the translation folded on known values can leave blocks no path
            // reaches, even whole loops (a `while` whose entry test always fails). Compiling
            // drops them first anyway; the dump leaves them out too, so that it reads (and
            // parses back) as the code that runs.
            self.ctx.compute_cfg();
            self.ctx.compute_domtree();
            self.ctx
                .eliminate_unreachable_code(module.isa())
                .map_err(|e| format!("{e:?}"))?;
        }
        let clif = self
            .capture_clif
            .then(|| self.ctx.func.display().to_string());
        // A unique readable name: `perf` (which makes cranelift-jit write /tmp/perf-PID.map)
        // then attributes samples to Echo functions.
        self.compiled += 1;
        let name = format!(
            "echo:{}#{}{}.{}",
            vm.program.proto(pid).name,
            pid.0,
            if osr { ":osr" } else { "" },
            self.compiled
        );
        Ok(Translated {
            pid,
            mode,
            osr,
            name,
            variants,
            clif,
            cold: cold.is_some(),
            unrun_exits,
        })
    }

    /// Puts generated code into the module, ready to run.
    fn install(
        &mut self,
        vm: &mut Vm,
        what: Translated,
        code: &Generated,
    ) -> Result<Compiled, String> {
        let module = self.module.as_mut().ok_or("no code module")?;
        let id = module
            .declare_function(&what.name, Linkage::Local, &code.func.signature)
            .map_err(|e| e.to_string())?;
        let relocs: Vec<ModuleReloc> = code
            .relocs
            .iter()
            .map(|r| ModuleReloc::from_mach_reloc(r, &code.func, id))
            .collect();
        let code_bytes = code.bytes.len();
        module
            .define_function_bytes(id, code.alignment, &code.bytes, &relocs)
            .map_err(|e| format!("{e:?}"))?;
        module.finalize_definitions().map_err(|e| e.to_string())?;
        if let Some(c) = &mut vm.coverage {
            c.compiled(
                vm.fn_info[what.pid.0 as usize].fbase,
                &what.variants,
                what.osr,
            );
        }
        Ok(Compiled {
            entry: module.get_finalized_function(id) as usize,
            code_bytes,
            shared: code.shared,
            clif: what.clif,
            asm: code.asm.clone(),
            cold: what.cold,
            unrun_exits: what.unrun_exits,
        })
    }
}

/// Generated machine code with what installing it needs, taken out of Cranelift's context so
/// that the context (most of a compilation's memory) is freed on the thread that allocated it.
/// Freed on another thread, its pieces would stay cached there, keeping pages of the
/// compiler's memory resident beside the program's heap.
pub(super) struct Generated {
    /// The function's signature and the names it calls: its body is left behind.
    func: Function,
    bytes: Vec<u8>,
    relocs: Vec<FinalizedMachReloc>,
    alignment: u64,
    /// The disassembly, when asked for.
    asm: Option<String>,
    /// Whether the code was reused from another compilation (`Config::share_code`).
    shared: bool,
}

impl Generated {
    /// The result of the compilation `ctx` just finished, if it has one.
    pub(super) fn take(ctx: &mut Context, shared: bool) -> Option<Generated> {
        let code = ctx.compiled_code()?;
        let mut func =
            Function::with_name_signature(ctx.func.name.clone(), ctx.func.signature.clone());
        func.params = ctx.func.params.clone();
        Some(Generated {
            func,
            bytes: code.code_buffer().to_vec(),
            relocs: code.buffer.relocs().to_vec(),
            alignment: u64::from(code.buffer.alignment),
            asm: code.vcode.clone(),
            shared,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use crate::config::{Config, Tier};

    thread_local! {
        /// Compilations on this thread until one panics (0: none does).
        static PANIC_IN: Cell<u32> = const { Cell::new(0) };
    }

    /// Panics in the compilation `PANIC_IN` counts down to.
    pub(super) fn maybe_inject_panic() {
        let n = PANIC_IN.get();
        if n > 0 {
            PANIC_IN.set(n - 1);
            assert!(n != 1, "a panic injected into a compilation");
        }
    }

    /// A program whose functions compile at their first call (`Jit`), and again after a
    /// side exit from inside compiled code (`Tiered`): whichever compilation panics, the
    /// program ends as in the interpreter.
    #[test]
    fn a_panicking_compilation_leaves_the_function_interpreted() {
        let source = "
            fn add(a, b) { return a + b; }
            fn sum(n) { let s = 0; for i in 0..n { s = add(s, i); } return s; }
            print(sum(100));
            print(sum(20), add(1.5, 2), add(\"a\", \"b\"));
            return sum(30);
        ";
        let interp = crate::run(
            source,
            &Config {
                tier: Tier::Interp,
                ..Config::default()
            },
        );
        assert_eq!(interp.output, "4950\n190 3.5 ab\n");
        // In the background, the translation (on the running thread) panics; how many
        // compilations start depends on when code gets installed, but at least one does.
        for (tier, background, least) in [
            (Tier::Jit, false, 3),
            (Tier::Tiered, false, 3),
            (Tier::Tiered, true, 1),
        ] {
            let mut at = 1;
            loop {
                PANIC_IN.set(at);
                let out = crate::run(
                    source,
                    &Config {
                        tier,
                        background_compile: background,
                        background_after: 0,
                        ..Config::default()
                    },
                );
                assert_eq!(
                    out, interp,
                    "{tier:?} (background {background}), panic in compilation {at}"
                );
                if PANIC_IN.get() != 0 {
                    // Past the last compilation: every one of them panicked once.
                    assert!(at > least, "{tier:?} compiled only {} times", at - 1);
                    PANIC_IN.set(0);
                    break;
                }
                at += 1;
            }
        }
    }
}
