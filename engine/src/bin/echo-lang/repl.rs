//! The interactive loop: line editing and history (rustyline), multi-line entries (an entry
//! continues while braces, brackets, parentheses, strings or comments are open), and
//! `:commands`.

use std::process::ExitCode;

use echo_engine::bytecode::disasm;
use echo_engine::runtime::builtins;
use echo_engine::source::render_error;
use echo_engine::{Config, Session, is_incomplete};
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Editor, Helper, history::DefaultHistory};

const HELP: &str = "\
Enter Echo statements; an expression's value is printed. An entry continues over several
lines while a brace, bracket, parenthesis, string or comment is open.

  :help        this text
  :dis         bytecode of everything entered so far
  :builtins    the builtin functions
  :quit        leave (or Ctrl-D)
";

struct EchoHelper;

impl Completer for EchoHelper {
    type Candidate = String;
}
impl Hinter for EchoHelper {
    type Hint = String;
}
impl Highlighter for EchoHelper {}
impl Helper for EchoHelper {}

impl Validator for EchoHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim_start().starts_with(':') || !is_incomplete(input) {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".echo_history"))
}

/// Runs the REPL until end of input.
pub fn run(config: Config) -> ExitCode {
    let mut editor: Editor<EchoHelper, DefaultHistory> = match Editor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("echo-lang: cannot start the line editor: {e}");
            return ExitCode::from(1);
        }
    };
    editor.set_helper(Some(EchoHelper));
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "Echo {} ({} tier). :help for help, Ctrl-D to leave.",
        env!("CARGO_PKG_VERSION"),
        config.tier
    );
    let mut session = Session::new(config);
    let mut entry_no = 0u32;
    loop {
        match editor.readline("echo> ") {
            Ok(line) => {
                let trimmed = line.trim();
                if trimmed.is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line.as_str());
                match trimmed {
                    ":quit" | ":q" => break,
                    ":help" | ":h" => print!("{HELP}"),
                    ":dis" => print!("{}", disasm::disassemble(session.program())),
                    ":builtins" => {
                        for b in builtins::BUILTINS {
                            println!("  {}", b.doc);
                        }
                    }
                    cmd if cmd.starts_with(':') => {
                        println!("unknown command {cmd} (:help lists them)")
                    }
                    _ => {
                        entry_no += 1;
                        let outcome = session.eval(&line);
                        match &outcome.result {
                            Ok(v) if v != "nil" => println!("{v}"),
                            Ok(_) => {}
                            Err(e) => eprint!(
                                "{}",
                                render_error(&format!("<entry {entry_no}>"), &line, e, true)
                            ),
                        }
                    }
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("echo-lang: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    ExitCode::SUCCESS
}
