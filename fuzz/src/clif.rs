//! The CLIF round trip: the JIT's Cranelift IR of every function is parsed back with
//! cranelift-reader, must print identically, verify, and recompile for the same ISA to the
//! engine's machine code, instruction for instruction: `echo-lang clif` shows what ran.

use std::sync::LazyLock;

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use echo_engine::jit::clif_of_program;
use echo_engine::{Config, Limits};

/// How the round trip of one function failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The engine refused to compile the function (other than for its size).
    Engine(String),
    /// cranelift-reader rejected the text.
    Parse(String),
    /// The text held other than one function.
    Count(usize),
    /// The parsed function prints differently: the first differing line, both sides.
    Reprint(usize, String, String),
    /// The parsed function fails the IR verifier.
    Verify(String),
    /// The parsed function does not compile.
    Compile(String),
    /// The code compiled from the text differs from the engine's: the first differing line
    /// of the two disassemblies, both sides.
    Code(usize, String, String),
}

impl Failure {
    /// The kind of failure, without its details (what a reduction must preserve).
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Engine(_) => "engine",
            Failure::Parse(_) => "parse",
            Failure::Count(_) => "count",
            Failure::Reprint(..) => "reprint",
            Failure::Verify(_) => "verify",
            Failure::Compile(_) => "compile",
            Failure::Code(..) => "code",
        }
    }
}

/// What a successful round trip of one program covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Functions round-tripped.
    pub functions: u64,
    /// Functions the engine does not compile because they are too large.
    pub too_large: u64,
    /// Machine-code bytes compiled from the parsed text.
    pub code_bytes: u64,
}

/// The host ISA with the engine's flags (`engine/src/jit/mod.rs`, `host_isa`); the verifier
/// runs separately, so its flag, which does not change the code, is left on.
static ISA: LazyLock<Result<OwnedTargetIsa, String>> = LazyLock::new(|| {
    let mut flags = settings::builder();
    for (name, value) in [
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
        ("opt_level", "speed"),
    ] {
        flags.set(name, value).map_err(|e| e.to_string())?;
    }
    cranelift_native::builder()
        .map_err(|e| e.to_string())?
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())
});

/// Round-trips every function of `source` (which must compile; programs that do not are
/// skipped). On failure, returns the function's name and what failed.
pub fn check_program(source: &str, limits: &Limits) -> Result<Checked, (String, Failure)> {
    let mut checked = Checked::default();
    let Ok(program) = echo_engine::compile(source, limits) else {
        return Ok(checked);
    };
    let config = Config {
        limits: limits.clone(),
        ..Config::default()
    };
    for dump in clif_of_program(program, &config, true) {
        let text = match dump.clif {
            Ok(text) => text,
            Err(why) if why.starts_with("function too large") => {
                checked.too_large += 1;
                continue;
            }
            Err(why) => return Err((dump.name, Failure::Engine(why))),
        };
        let bytes = round_trip(&text, dump.asm.as_deref()).map_err(|f| (dump.name, f))?;
        checked.functions += 1;
        checked.code_bytes += bytes as u64;
    }
    Ok(checked)
}

/// Round-trips one function's CLIF `text`, compiled by the engine to `engine_asm` (its
/// Cranelift disassembly). Returns the size of the code compiled from the text.
pub fn round_trip(text: &str, engine_asm: Option<&str>) -> Result<usize, Failure> {
    let isa = ISA.as_ref().expect("Cranelift supports this host");
    let mut functions =
        cranelift_reader::parse_functions(text).map_err(|e| Failure::Parse(e.to_string()))?;
    if functions.len() != 1 {
        return Err(Failure::Count(functions.len()));
    }
    let func = functions.pop().expect("one function");
    let printed = func.display().to_string();
    if let Some((line, a, b)) = first_difference(text, &printed) {
        return Err(Failure::Reprint(line, a, b));
    }
    cranelift_codegen::verify_function(&func, isa.as_ref())
        .map_err(|e| Failure::Verify(e.to_string()))?;
    let mut ctx = Context::for_function(func);
    ctx.set_disasm(true);
    let code = ctx
        .compile(isa.as_ref(), &mut ControlPlane::default())
        .map_err(|e| Failure::Compile(format!("{:?}", e.inner)))?;
    let size = code.code_buffer().len();
    if let (Some(engine), Some(ours)) = (engine_asm, code.vcode.as_deref())
        && let Some((line, a, b)) = first_difference(engine, ours)
    {
        return Err(Failure::Code(line, a, b));
    }
    Ok(size)
}

/// The first line (1-based) where `a` and `b` differ, with both lines (`<end>` past the end).
fn first_difference(a: &str, b: &str) -> Option<(usize, String, String)> {
    if a == b {
        return None;
    }
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => {}
            (None, None) => {
                // Same lines, different line endings.
                return Some((
                    n,
                    "<line endings>".to_string(),
                    "<line endings>".to_string(),
                ));
            }
            (x, y) => {
                return Some((
                    n,
                    x.unwrap_or("<end>").to_string(),
                    y.unwrap_or("<end>").to_string(),
                ));
            }
        }
    }
}
