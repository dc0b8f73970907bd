//! `echo-lang`: run, disassemble and explore Echo programs.
//!
//! Exit codes: 0 success, 1 runtime error, 2 compile error, 3 engine limit, 64 usage error,
//! 66 unreadable input file.

mod repl;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use echo_engine::source::render_error;
use echo_engine::{
    Config, EchoError, Limits, Outcome, OutputMode, Tier, compile_bytes, disasm, run_bytes,
};

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
    },
    /// Print the bytecode of a program.
    Dis {
        /// Source file (`-` for standard input).
        file: PathBuf,
    },
    /// Print the Cranelift IR (CLIF) the JIT generates for every function.
    #[cfg(feature = "jit")]
    Clif {
        /// Source file (`-` for standard input).
        file: PathBuf,
        /// Also print the machine code.
        #[arg(long)]
        asm: bool,
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
    #[arg(long, value_parser = parse_fuel)]
    fuel: Option<FuelArg>,
    /// Maximum call depth.
    #[arg(long)]
    max_depth: Option<u32>,
    /// Maximum heap size in bytes.
    #[arg(long)]
    max_heap: Option<usize>,
    /// Tiered: calls after which a function is compiled.
    #[arg(long, default_value_t = Config::default().hot_calls)]
    hot_calls: u32,
    /// Tiered: loop iterations after which a running function enters compiled code.
    #[arg(long, default_value_t = Config::default().hot_loops)]
    hot_loops: u32,
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

impl EngineArgs {
    fn config(&self, output: OutputMode) -> Config {
        let mut limits = Limits::default();
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
            ..Config::default()
        }
    }
}

fn read_source(file: &Path) -> Result<Vec<u8>, String> {
    let res = if file == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
    } else {
        std::fs::read(file)
    };
    res.map_err(|e| format!("echo-lang: cannot read {}: {e}", file.display()))
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
    eprintln!("fuel used      {:>12}", outcome.fuel_used);
    eprintln!("collections    {:>12}", s.heap.collections);
    eprintln!("allocations    {:>12}", s.heap.allocations);
    eprintln!("peak heap      {:>12} bytes", s.heap.peak_bytes);
    eprintln!(
        "function                      line      calls        state    compile     code    osr  exits  note"
    );
    for f in s.functions.iter().filter(|f| f.calls > 0) {
        let (state, compile, code, osr, exits, note) = jit_columns(f);
        eprintln!(
            "{:<28} {:>5} {:>10} {:>12} {:>10} {:>8} {:>6} {:>6}  {}",
            f.name, f.line, f.calls, state, compile, code, osr, exits, note
        );
    }
}

/// The JIT columns of `--stats` for one function.
#[cfg(feature = "jit")]
fn jit_columns(f: &echo_engine::FunctionStats) -> (String, String, String, String, String, String) {
    use echo_engine::jit::FnState;
    let Some(j) = &f.jit else {
        return (
            "interpreted".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            String::new(),
        );
    };
    let (state, note) = match &j.state {
        FnState::Interpreted if j.osr_code != 0 => ("osr compiled", "loops entered by OSR".into()),
        FnState::Interpreted if j.compilations > 0 => ("deoptimized", "recompiles when hot".into()),
        FnState::Interpreted => ("interpreted", String::new()),
        FnState::Compiled if j.speculative => ("compiled", "speculative".to_string()),
        FnState::Compiled => ("compiled", "generic".to_string()),
        FnState::Failed(why) => ("not compiled", why.clone()),
    };
    let compile = if j.compilations > 0 {
        format!("{:.3}ms", j.compile_time.as_secs_f64() * 1e3)
    } else {
        "-".into()
    };
    let code = if j.code_bytes > 0 {
        format!("{}B", j.code_bytes)
    } else {
        "-".into()
    };
    (
        state.into(),
        compile,
        code,
        j.osr_entries.to_string(),
        j.side_exits.to_string(),
        note,
    )
}

/// The JIT columns of `--stats` for one function (interpreter-only build).
#[cfg(not(feature = "jit"))]
fn jit_columns(_: &echo_engine::FunctionStats) -> (String, String, String, String, String, String) {
    (
        "interpreted".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        String::new(),
    )
}

fn main() -> ExitCode {
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
        } => {
            let source = match read_source(&file) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_NOINPUT);
                }
            };
            let outcome = run_bytes(&source, &engine.config(OutputMode::Stdout));
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
        Command::Clif { file, asm } => {
            let source = match read_source(&file) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_NOINPUT);
                }
            };
            match compile_bytes(&source, &Limits::default()) {
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
        Command::Dis { file } => {
            let source = match read_source(&file) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_NOINPUT);
                }
            };
            match compile_bytes(&source, &Limits::default()) {
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
