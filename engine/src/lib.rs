//! Echo: a small dynamic language with a bytecode interpreter tier, built to be run
//! differentially against a JIT tier. This crate is the engine: front end, compiler,
//! interpreter, heap, and the one-call API (`run`) that every host uses.
//!
//! ```
//! use echo_engine::{Config, run};
//! let outcome = run("print(1 + 2); return \"done\";", &Config::default());
//! assert_eq!(outcome.output, "3\n");
//! assert_eq!(outcome.result, Ok("\"done\"".to_string()));
//! ```

pub mod bytecode;
pub mod config;
pub mod corpus;
pub mod error;
pub mod host;
#[cfg(feature = "jit")]
pub mod jit;
pub mod runtime;
pub mod source;
pub mod symbol;
pub mod syntax;
pub mod text;

use std::time::{Duration, Instant};

pub use config::{Config, Limits, OutputMode, Tier};
pub use error::{EchoError, ErrorKind, TraceFrame};
pub use runtime::heap::HeapStats;
pub use runtime::value::Value;

use bytecode::compiler;
use bytecode::{Program, ProtoId};
use runtime::builtins;
use runtime::vm::Vm;
use source::LineIndex;
use syntax::{parser, resolver};

/// What running a program produced: everything observable, identical in every tier.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Everything the program printed (empty when output went to stdout).
    pub output: String,
    /// The printed form (strings quoted) of the value of a top-level `return`, `nil` if the
    /// program ended without one; or the error that ended it.
    pub result: Result<String, EchoError>,
    /// Fuel units consumed.
    pub fuel_used: u64,
    /// Measurements that are not part of the observable behaviour.
    pub stats: RunStats,
}

/// Two outcomes are equal when everything observable is: output, result (value, or error
/// kind, message, line and trace) and fuel. Statistics are ignored.
impl PartialEq for Outcome {
    fn eq(&self, other: &Outcome) -> bool {
        self.output == other.output
            && self.result == other.result
            && self.fuel_used == other.fuel_used
    }
}

/// Per-function counters of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionStats {
    /// Function name.
    pub name: String,
    /// Line of its declaration.
    pub line: u32,
    /// Times called.
    pub calls: u64,
    /// What the JIT did with it (tiers that compile).
    pub jit: Option<runtime::tiering::FnJit>,
}

/// Measurements of one run.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Tier that ran.
    pub tier: Option<Tier>,
    /// Time spent lexing, parsing, resolving and compiling to bytecode.
    pub compile_time: Duration,
    /// Time spent running.
    pub run_time: Duration,
    /// Heap counters.
    pub heap: HeapStats,
    /// Per-function counters, in prototype order.
    pub functions: Vec<FunctionStats>,
    /// What the run reached, when `Config::coverage` asked for it.
    pub coverage: Option<runtime::coverage::Coverage>,
}

/// Compiles source text into a program (for `run_program`, the disassembler, tooling). A
/// source over `limits.max_source_bytes` is refused with `SizeLimit` before it is read.
pub fn compile(source: &str, limits: &Limits) -> Result<Program, EchoError> {
    source::check_source_size(source.len(), limits.max_source_bytes)?;
    let mut program = Program::default();
    compile_into(
        &mut program,
        source,
        limits,
        false,
        resolver::initial_globals(),
    )?;
    Ok(program)
}

/// Compiles `source` as a further entry of `program` (appending its prototypes), resolving
/// against the globals `prior`. Returns the entry prototype. (Callers check the source size.)
fn compile_into(
    program: &mut Program,
    source: &str,
    limits: &Limits,
    repl: bool,
    prior: Vec<resolver::GlobalInfo>,
) -> Result<ProtoId, EchoError> {
    let lines = LineIndex::new(source);
    let place = |e: source::CompileError| e.place(source, &lines);
    let mut ast = parser::parse(source, limits.max_nesting).map_err(place)?;
    let resolution = resolver::resolve(&mut ast, prior, repl, builtins::NAMES).map_err(place)?;
    program.builtins = builtins::NAMES;
    let main = compiler::compile(program, ast, &resolution, &lines, repl).map_err(place)?;
    program.main = main;
    Ok(main)
}

/// Compiles source bytes, which must be UTF-8 (the size limit is checked first).
pub fn compile_bytes(source: &[u8], limits: &Limits) -> Result<Program, EchoError> {
    source::check_source_size(source.len(), limits.max_source_bytes)?;
    match std::str::from_utf8(source) {
        Ok(s) => compile(s, limits),
        Err(e) => Err(source::invalid_utf8(source, e)),
    }
}

/// Compiles and runs a program in the configured tier.
pub fn run(source: &str, config: &Config) -> Outcome {
    let start = Instant::now();
    match compile(source, &config.limits) {
        Ok(program) => {
            let compile_time = start.elapsed();
            let mut outcome = run_program(program, config);
            outcome.stats.compile_time = compile_time;
            outcome
        }
        Err(e) => compile_failure(e),
    }
}

/// Runs source bytes; invalid UTF-8 is a `SyntaxError` outcome (a source over the size limit
/// is refused first).
pub fn run_bytes(source: &[u8], config: &Config) -> Outcome {
    if let Err(e) = source::check_source_size(source.len(), config.limits.max_source_bytes) {
        return compile_failure(e);
    }
    match std::str::from_utf8(source) {
        Ok(s) => run(s, config),
        Err(e) => compile_failure(source::invalid_utf8(source, e)),
    }
}

fn compile_failure(e: EchoError) -> Outcome {
    Outcome {
        output: String::new(),
        result: Err(e),
        fuel_used: 0,
        stats: RunStats::default(),
    }
}

/// Runs an already compiled program.
pub fn run_program(program: Program, config: &Config) -> Outcome {
    let mut vm = new_vm(config);
    let main = program.main;
    *vm.program_mut() = program;
    let start = Instant::now();
    let result = match vm.sync_program() {
        Ok(()) => vm.run_main(main),
        Err(e) => Err(e),
    };
    let run_time = start.elapsed();
    finish(&mut vm, result, config.tier, run_time)
}

/// A VM for `config`, with the JIT as its code generator in tiers that compile.
fn new_vm(config: &Config) -> Vm {
    #[allow(unused_mut)]
    let mut vm = Vm::new(config);
    #[cfg(feature = "jit")]
    if config.tier.compiles() {
        vm.set_codegen(Box::new(jit::Jit::new(config)), config.profile);
    }
    vm
}

/// The JIT's runtime helpers, in table order (empty without the JIT), as `Coverage::helpers`
/// numbers them.
pub fn helper_names() -> Vec<&'static str> {
    #[cfg(feature = "jit")]
    {
        jit::helper_names().into_iter().map(|(_, n)| n).collect()
    }
    #[cfg(not(feature = "jit"))]
    {
        Vec::new()
    }
}

fn finish(
    vm: &mut Vm,
    result: Result<Value, EchoError>,
    tier: Tier,
    run_time: Duration,
) -> Outcome {
    let result = result.and_then(|v| {
        // The final value is printed as if by the return that produced it.
        let line = vm.exit_line;
        vm.outcome_text(v, true).map_err(|e| EchoError {
            kind: e.kind,
            message: e.message,
            line,
            column: None,
            span: None,
            trace: vec![TraceFrame {
                function: "<script>".to_string(),
                line,
            }],
        })
    });
    let functions = (0..vm.program().protos.len())
        .map(|i| {
            let p = &vm.program().protos[i];
            FunctionStats {
                name: p.name.clone(),
                line: p.line,
                calls: vm.stats().calls.get(i).copied().unwrap_or(0),
                jit: vm.jit_stats(i),
            }
        })
        .collect();
    Outcome {
        output: vm.take_output(),
        result,
        fuel_used: vm.fuel_used(),
        stats: RunStats {
            tier: Some(tier),
            compile_time: Duration::ZERO,
            run_time,
            heap: vm.heap_stats(),
            functions,
            coverage: vm.coverage.take().map(|mut c| {
                c.flush();
                *c
            }),
        },
    }
}

/// A persistent interpreter session (the REPL): globals, functions and classes defined by
/// one entry stay visible to the next.
pub struct Session {
    vm: Vm,
    config: Config,
}

impl Session {
    /// A new, empty session.
    pub fn new(config: Config) -> Session {
        let mut vm = new_vm(&config);
        vm.stable_globals = false;
        Session { vm, config }
    }

    /// Compiles and runs one entry. A final expression statement (its `;` may be omitted)
    /// becomes the entry's value. An entry over `max_source_bytes` is refused (`SizeLimit`).
    pub fn eval(&mut self, source: &str) -> Outcome {
        let prior = self.vm.program().globals.clone();
        let prior = if prior.is_empty() {
            resolver::initial_globals()
        } else {
            prior
        };
        let limits = self.config.limits.clone();
        // The entry as typed is what the size limit bounds (not the `;` added below).
        if let Err(e) = source::check_source_size(source.len(), limits.max_source_bytes) {
            return compile_failure(e);
        }
        let mut compiled =
            compile_into(self.vm.program_mut(), source, &limits, true, prior.clone());
        if let Err(e) = &compiled
            && e.kind == ErrorKind::SyntaxError
            && e.message.starts_with("expected ';'")
            && e.message.ends_with("found end of input")
        {
            let with_semi = format!("{source};");
            compiled = compile_into(self.vm.program_mut(), &with_semi, &limits, true, prior);
        }
        let main = match compiled {
            Ok(m) => m,
            Err(e) => return compile_failure(e),
        };
        let start = Instant::now();
        let result = match self.vm.sync_program() {
            Ok(()) => self.vm.run_main(main),
            Err(e) => Err(e),
        };
        let run_time = start.elapsed();
        finish(&mut self.vm, result, self.config.tier, run_time)
    }

    /// The session's program so far (for `:dis`).
    pub fn program(&self) -> &Program {
        self.vm.program()
    }
}

/// Whether `source` is an unfinished entry (an unclosed brace, bracket, parenthesis,
/// string or comment), so a REPL should read another line.
pub fn is_incomplete(source: &str) -> bool {
    match parser::parse(source, Limits::default().max_nesting) {
        Ok(_) => false,
        Err(e) => {
            let at_end = e.span.start as usize >= source.trim_end().len();
            let unclosed = e.message.starts_with("unclosed")
                || e.message.starts_with("unterminated")
                || (e.message.ends_with("found end of input")
                    && !e.message.starts_with("expected ';'"));
            unclosed
                || (at_end
                    && e.message.ends_with("found end of input")
                    && !e.message.starts_with("expected ';'"))
        }
    }
}
