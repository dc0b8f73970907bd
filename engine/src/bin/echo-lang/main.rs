//! `echo-lang`: run, disassemble and explore Echo programs.
//!
//! Exit codes: 0 success, 1 runtime error, 2 compile error, 3 engine limit, 64 usage error,
//! 66 unreadable input file.

mod repl;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use echo_engine::bytecode::disasm;
use echo_engine::source::render_error;
use echo_engine::{Config, EchoError, Limits, Outcome, OutputMode, Tier, compile_bytes, run_bytes};

/// Exit code for a successful run.
const EXIT_OK: u8 = 0;
/// Exit code for a runtime error (including an uncaught `throw`).
const EXIT_RUNTIME: u8 = 1;
/// Exit code for a source that does not compile.
const EXIT_COMPILE: u8 = 2;
/// Exit code for an engine limit (fuel, depth, memory, size).
const EXIT_LIMIT: u8 = 3;
/// Exit code for a command line that does not parse.
const EXIT_USAGE: u8 = 64;
/// Exit code for an unreadable input file.
const EXIT_NOINPUT: u8 = 66;

#[derive(Parser)]
#[command(
    name = "echo-lang",
    version,
    about = "The Echo language: run, disassemble, explore"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a program.
    Run {
        /// Source file (`-` for standard input).
        file: PathBuf,
        #[command(flatten)]
        engine: EngineArgs,
        /// Print statistics (time, heap, calls per function) to standard error afterwards.
        #[arg(long)]
        stats: bool,
        /// Arguments for the program, which reads them with `args()` (after `--` when they
        /// start with a dash).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print the bytecode of a program.
    Dis {
        /// Source file (`-` for standard input).
        file: PathBuf,
        /// Longest source accepted, in bytes.
        #[arg(long)]
        max_source: Option<usize>,
    },
    /// Print the Cranelift IR (CLIF) the JIT generates for every function.
    #[cfg(feature = "jit")]
    Clif {
        /// Source file (`-` for standard input).
        file: PathBuf,
        /// Also print the machine code.
        #[arg(long)]
        asm: bool,
        /// Longest source accepted, in bytes.
        #[arg(long)]
        max_source: Option<usize>,
    },
    /// Interactive read-eval-print loop.
    Repl {
        #[command(flatten)]
        engine: EngineArgs,
    },
}

#[derive(Args)]
struct EngineArgs {
    /// Execution tier.
    #[arg(long, default_value = Tier::DEFAULT.name())]
    tier: Tier,
    /// Fuel budget (calls plus loop iterations), or `unlimited`.
    // Hyphen values reach the parser, which says what is wrong with `-1`.
    #[arg(long, value_parser = parse_fuel, allow_hyphen_values = true)]
    fuel: Option<FuelArg>,
    /// Maximum call depth (at least 1: the top level is a frame).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    max_depth: Option<u32>,
    /// Maximum heap size in bytes.
    #[arg(long)]
    max_heap: Option<usize>,
    /// Longest source accepted, in bytes.
    #[arg(long)]
    max_source: Option<usize>,
    /// Tiered: calls after which a function is compiled.
    #[arg(long, default_value_t = Config::default().hot_calls)]
    hot_calls: u32,
    /// Tiered: loop iterations after which a running function enters compiled code.
    #[arg(long, default_value_t = Config::default().hot_loops)]
    hot_loops: u32,
    /// Collect garbage at every safepoint (slow; checks that every live value is rooted).
    #[arg(long)]
    gc_stress: bool,
    /// Tiered: compile on the running thread, waiting for the code, instead of on a second
    /// thread while the interpreter goes on (the output is the same; statistics repeat exactly).
    #[arg(long)]
    foreground_compile: bool,
}

#[derive(Clone, Copy)]
struct FuelArg(Option<u64>);

fn parse_fuel(s: &str) -> Result<FuelArg, String> {
    if s == "unlimited" {
        return Ok(FuelArg(None));
    }
    s.parse::<u64>()
        .map(|n| FuelArg(Some(n)))
        .map_err(|_| format!("'{s}' is neither a number nor 'unlimited'"))
}

/// The default limits, with the source size limit `max_source` if one is given.
fn limits_with(max_source: Option<usize>) -> Limits {
    let mut limits = Limits::default();
    if let Some(n) = max_source {
        limits.max_source_bytes = n;
    }
    limits
}

impl EngineArgs {
    fn config(&self, output: OutputMode) -> Config {
        let mut limits = limits_with(self.max_source);
        if let Some(FuelArg(f)) = self.fuel {
            limits.fuel = f;
        }
        if let Some(d) = self.max_depth {
            limits.max_call_depth = d;
        }
        if let Some(h) = self.max_heap {
            limits.max_heap_bytes = h;
        }
        Config {
            tier: self.tier,
            limits,
            output,
            hot_calls: self.hot_calls,
            hot_loops: self.hot_loops,
            gc_stress: self.gc_stress,
            background_compile: !self.foreground_compile,
            ..Config::default()
        }
    }
}

/// What a diagnostic of a refused source shows of it at most (its start).
const REFUSED_SHOWN: u64 = 4096;

/// Reads the source of `file`. A source over `limit` bytes is refused (`SizeLimit`, reported
/// here) without being held in memory: of a file that is too long only the start is read, for
/// the diagnostic; standard input is held up to `limit` + 1 bytes and the rest only counted.
/// The error is the exit code.
fn load(file: &Path, limit: usize) -> Result<Vec<u8>, ExitCode> {
    use std::io::Read;
    let limit_len = u64::try_from(limit).unwrap_or(u64::MAX);
    // The source (or its start, if too long) and its whole length.
    let read = || -> std::io::Result<(Vec<u8>, u64)> {
        let mut head = Vec::new();
        if file == Path::new("-") {
            let mut input = std::io::stdin().lock();
            (&mut input)
                .take(limit_len.saturating_add(1))
                .read_to_end(&mut head)?;
            let rest = std::io::copy(&mut input, &mut std::io::sink())?;
            let len = head.len() as u64 + rest;
            return Ok((head, len));
        }
        let f = std::fs::File::open(file)?;
        let len = f.metadata()?.len();
        let keep = if len > limit_len {
            REFUSED_SHOWN
        } else {
            len.saturating_add(1)
        };
        f.take(keep).read_to_end(&mut head)?;
        // (A file that grew since its length was taken is as long as what was read.)
        let len = len.max(head.len() as u64);
        Ok((head, len))
    };
    match read() {
        Ok((head, len)) => {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if let Err(e) = echo_engine::source::check_source_size(len, limit) {
                report(file, &head, &e);
                return Err(ExitCode::from(exit_code(&e)));
            }
            Ok(head)
        }
        Err(e) => {
            eprintln!("echo-lang: cannot read {}: {e}", file.display());
            Err(ExitCode::from(EXIT_NOINPUT))
        }
    }
}

fn exit_code(err: &EchoError) -> u8 {
    if err.is_compile_error() {
        EXIT_COMPILE
    } else if err.kind.is_limit() {
        EXIT_LIMIT
    } else {
        EXIT_RUNTIME
    }
}

fn report(file: &Path, source: &[u8], err: &EchoError) {
    let text = String::from_utf8_lossy(source);
    let color = std::io::stderr().is_terminal();
    eprint!(
        "{}",
        render_error(&file.display().to_string(), &text, err, color)
    );
}

fn print_stats(outcome: &Outcome) {
    let s = &outcome.stats;
    eprintln!("--- stats ({}) ---", s.tier.map_or("?", |t| t.name()));
    eprintln!(
        "compile time   {:>12.3} ms",
        s.compile_time.as_secs_f64() * 1e3
    );
    eprintln!("run time       {:>12.3} ms", s.run_time.as_secs_f64() * 1e3);
    let columns: Vec<JitColumns> = s.functions.iter().map(jit_columns).collect();
    let compiled: f64 = columns.iter().map(|c| c.seconds).sum();
    let compiling: f64 = columns.iter().map(|c| c.compile_seconds).sum();
    // Code generated on the compiler thread took none of the program's time.
    let background: f64 = s
        .functions
        .iter()
        .filter_map(|f| f.jit.as_ref())
        .map(|j| j.background_time.as_secs_f64())
        .sum();
    let compiling = compiling - background;
    if compiled + compiling > 0.0 {
        let run = s.run_time.as_secs_f64();
        let share = |t: f64| t / run.max(1e-9) * 100.0;
        let interpreted = (run - compiled - compiling).max(0.0);
        for (what, t) in [
            ("  interpreted", interpreted),
            ("  compiling  ", compiling),
            ("  compiled   ", compiled),
        ] {
            eprintln!("{what}  {:>12.3} ms ({:.0}%)", t * 1e3, share(t));
        }
    }
    if background > 0.0 {
        eprintln!("compiling on a second thread {:>8.3} ms", background * 1e3);
    }
    eprintln!("fuel used      {:>12}", outcome.fuel_used);
    eprintln!("collections    {:>12}", s.heap.collections);
    eprintln!("allocations    {:>12}", s.heap.allocations);
    eprintln!("peak heap      {:>12} bytes", s.heap.peak_bytes);
    eprintln!(
        "function                      line      calls        state    compile     code    osr  exits  jit time  note"
    );
    for (f, c) in s
        .functions
        .iter()
        .zip(&columns)
        .filter(|(f, _)| f.calls > 0)
    {
        let time = if c.seconds > 0.0 {
            format!("{:.3}ms", c.seconds * 1e3)
        } else {
            "-".into()
        };
        eprintln!(
            "{:<28} {:>5} {:>10} {:>12} {:>10} {:>8} {:>6} {:>6} {:>9}  {}",
            f.name, f.line, f.calls, c.state, c.compile, c.code, c.osr, c.exits, time, c.note
        );
    }
}

/// The JIT columns of `--stats` for one function.
#[derive(Default)]
struct JitColumns {
    state: String,
    compile: String,
    code: String,
    osr: String,
    exits: String,
    /// Seconds spent in its compiled code.
    seconds: f64,
    /// Seconds spent compiling it.
    compile_seconds: f64,
    note: String,
}

impl JitColumns {
    fn interpreted() -> JitColumns {
        JitColumns {
            state: "interpreted".into(),
            compile: "-".into(),
            code: "-".into(),
            osr: "-".into(),
            exits: "-".into(),
            ..JitColumns::default()
        }
    }
}

#[cfg(feature = "jit")]
fn jit_columns(f: &echo_engine::FunctionStats) -> JitColumns {
    use echo_engine::runtime::tiering::FnState;
    let Some(j) = &f.jit else {
        return JitColumns::interpreted();
    };
    let (state, note) = match &j.state {
        FnState::Interpreted if j.pending => ("compiling", "code not ready at the end".into()),
        FnState::Interpreted if j.osr_code != 0 => ("osr compiled", "loops entered by OSR".into()),
        FnState::Interpreted if j.compilations > 0 => ("deoptimized", "recompiles when hot".into()),
        FnState::Interpreted => ("interpreted", String::new()),
        FnState::Compiled if j.cold => ("compiled", "cold (before any feedback)".to_string()),
        FnState::Compiled if j.speculative => ("compiled", "speculative".to_string()),
        FnState::Compiled => ("compiled", "generic".to_string()),
        FnState::Failed(why) => ("not compiled", why.clone()),
    };
    JitColumns {
        state: state.into(),
        compile: if j.compilations > 0 {
            format!("{:.3}ms", j.compile_time.as_secs_f64() * 1e3)
        } else {
            "-".into()
        },
        code: if j.code_bytes > 0 {
            format!("{}B", j.code_bytes)
        } else {
            "-".into()
        },
        osr: j.osr_entries.to_string(),
        exits: j.side_exits.to_string(),
        seconds: j.compiled_time.as_secs_f64(),
        compile_seconds: j.compile_time.as_secs_f64(),
        note,
    }
}

/// The JIT columns of `--stats` for one function (interpreter-only build).
#[cfg(not(feature = "jit"))]
fn jit_columns(_: &echo_engine::FunctionStats) -> JitColumns {
    JitColumns::interpreted()
}

fn main() -> ExitCode {
    echo_engine::host::tune_allocator();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(EXIT_USAGE),
            };
        }
    };
    match cli.command {
        Command::Run {
            file,
            engine,
            stats,
            args,
        } => {
            let source = match load(
                &file,
                engine.config(OutputMode::Stdout).limits.max_source_bytes,
            ) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let config = Config {
                profile: stats,
                args,
                ..engine.config(OutputMode::Stdout)
            };
            let outcome = run_bytes(&source, &config);
            if stats {
                print_stats(&outcome);
            }
            match &outcome.result {
                Ok(_) => ExitCode::from(EXIT_OK),
                Err(e) => {
                    report(&file, &source, e);
                    ExitCode::from(exit_code(e))
                }
            }
        }
        #[cfg(feature = "jit")]
        Command::Clif {
            file,
            asm,
            max_source,
        } => {
            let limits = limits_with(max_source);
            let source = match load(&file, limits.max_source_bytes) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match compile_bytes(&source, &limits) {
                Ok(program) => {
                    println!(";; Echo functions compiled by the JIT, as CLIF. Imported helpers:");
                    for (clif_name, name) in echo_engine::jit::helper_names() {
                        println!(";;   {clif_name} = {name}");
                    }
                    for dump in echo_engine::jit::clif_of_program(program, &Config::default(), asm)
                    {
                        println!();
                        match dump.clif {
                            Ok(text) => {
                                println!(";; {}", dump.name);
                                print!("{text}");
                                if let Some(code) = dump.asm {
                                    println!(";; machine code of {}:", dump.name);
                                    for line in code.lines() {
                                        println!(";   {line}");
                                    }
                                }
                            }
                            Err(why) => println!(";; {}: not compiled: {why}", dump.name),
                        }
                    }
                    ExitCode::from(EXIT_OK)
                }
                Err(e) => {
                    report(&file, &source, &e);
                    ExitCode::from(EXIT_COMPILE)
                }
            }
        }
        Command::Dis { file, max_source } => {
            let limits = limits_with(max_source);
            let source = match load(&file, limits.max_source_bytes) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match compile_bytes(&source, &limits) {
                Ok(program) => {
                    print!("{}", disasm::disassemble(&program));
                    ExitCode::from(EXIT_OK)
                }
                Err(e) => {
                    report(&file, &source, &e);
                    ExitCode::from(EXIT_COMPILE)
                }
            }
        }
        Command::Repl { engine } => repl::run(engine.config(OutputMode::Stdout)),
    }
}
