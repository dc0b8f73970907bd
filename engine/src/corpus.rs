//! Corpus files: Echo programs that carry their expected outcome in comments. Used by the
//! test suite, `echo-harness replay` and the reducer (which writes files in this format).
//!
//! ```text
//! print(1 + 2);            // expect: 3
//! let x = 1 / 0;           // expect error: ZeroDivisionError: integer division by zero
//! // expect value: [1, 2]
//! // expect fuel: 12
//! // config: fuel=1000, max_call_depth=50
//! // tiering: hot_calls=3, hot_loops=10
//! ```
//!
//! `// expect: TEXT` lines give the printed output, one line each, in order. `// expect
//! error: Kind: message` gives the error that ends the program; its line is the line the
//! comment is on, unless written `// expect error [line N]: ...`. `// expect value:` gives
//! the printed form of the final value (default: `nil` when no error is expected).
//! `// config:` sets engine limits and `// tiering:` the thresholds of the tiered tier.

use std::path::{Path, PathBuf};

use crate::config::{Config, Limits, Tier};
use crate::error::ErrorKind;
use crate::{EchoError, Outcome};

/// An expected error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedError {
    /// Kind.
    pub kind: ErrorKind,
    /// Exact message.
    pub message: String,
    /// Line.
    pub line: u32,
}

/// What a corpus file expects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectation {
    /// Output lines.
    pub output: Vec<String>,
    /// The error ending the program, if any.
    pub error: Option<ExpectedError>,
    /// The printed final value, if given.
    pub value: Option<String>,
    /// Fuel used, if given.
    pub fuel: Option<u64>,
    /// Limits changed from the defaults (`// config:`).
    pub limits: Limits,
    /// Call and loop thresholds of the tiered tier (`// tiering: hot_calls=N, hot_loops=M`),
    /// for programs that only show a bug when compiled at a particular moment.
    pub tiering: Option<(u32, u32)>,
    /// The program's command-line arguments (`// args: a b c`, split at spaces).
    pub args: Vec<String>,
}

const EXPECT: &str = "// expect: ";
const EXPECT_EMPTY: &str = "// expect:";
const EXPECT_ERROR: &str = "// expect error";
const EXPECT_VALUE: &str = "// expect value: ";
const EXPECT_FUEL: &str = "// expect fuel: ";
const CONFIG: &str = "// config: ";
const TIERING: &str = "// tiering: ";
const ARGS: &str = "// args:";

/// Reads the expectations of a corpus file.
pub fn parse_expectations(src: &str) -> Result<Expectation, String> {
    let mut exp = Expectation {
        limits: Limits::default(),
        ..Expectation::default()
    };
    for (i, line) in src.lines().enumerate() {
        let lineno = i as u32 + 1;
        let Some(pos) = line.find("// ") else {
            continue;
        };
        let c = &line[pos..];
        if let Some(rest) = c.strip_prefix(EXPECT) {
            exp.output.push(rest.to_string());
        } else if c == EXPECT_EMPTY {
            exp.output.push(String::new());
        } else if let Some(rest) = c.strip_prefix(EXPECT_ERROR) {
            if exp.error.is_some() {
                return Err(format!("line {lineno}: a second 'expect error'"));
            }
            let (line_no, rest) = match rest.strip_prefix(" [line ") {
                Some(r) => {
                    let (n, r) = r
                        .split_once("]")
                        .ok_or(format!("line {lineno}: missing ']'"))?;
                    (
                        n.trim()
                            .parse::<u32>()
                            .map_err(|_| format!("line {lineno}: bad line number"))?,
                        r,
                    )
                }
                None => (lineno, rest),
            };
            let rest = rest
                .strip_prefix(": ")
                .ok_or(format!("line {lineno}: expected ': ' after 'expect error'"))?;
            let (kind, message) = rest.split_once(": ").unwrap_or((rest, ""));
            let kind = ErrorKind::from_name(kind)
                .ok_or(format!("line {lineno}: unknown error kind '{kind}'"))?;
            exp.error = Some(ExpectedError {
                kind,
                message: message.to_string(),
                line: line_no,
            });
        } else if let Some(rest) = c.strip_prefix(EXPECT_VALUE) {
            exp.value = Some(rest.to_string());
        } else if let Some(rest) = c.strip_prefix(EXPECT_FUEL) {
            exp.fuel = Some(
                rest.trim()
                    .parse()
                    .map_err(|_| format!("line {lineno}: bad fuel"))?,
            );
        } else if let Some(rest) = c.strip_prefix(ARGS) {
            exp.args = rest.split_whitespace().map(str::to_string).collect();
        } else if let Some(rest) = c.strip_prefix(TIERING) {
            let mut calls = None;
            let mut loops = None;
            for item in rest.split(',') {
                let (k, v) = item
                    .split_once('=')
                    .ok_or(format!("line {lineno}: expected key=value"))?;
                let v: u32 = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("line {lineno}: bad threshold '{}'", v.trim()))?;
                match k.trim() {
                    "hot_calls" => calls = Some(v),
                    "hot_loops" => loops = Some(v),
                    k => return Err(format!("line {lineno}: unknown threshold '{k}'")),
                }
            }
            match (calls, loops) {
                (Some(c), Some(l)) => exp.tiering = Some((c, l)),
                _ => {
                    return Err(format!(
                        "line {lineno}: tiering needs hot_calls and hot_loops"
                    ));
                }
            }
        } else if let Some(rest) = c.strip_prefix(CONFIG) {
            for item in rest.split(',') {
                let (k, v) = item
                    .split_once('=')
                    .ok_or(format!("line {lineno}: expected key=value"))?;
                set_limit(&mut exp.limits, k.trim(), v.trim())
                    .map_err(|e| format!("line {lineno}: {e}"))?;
            }
        }
    }
    Ok(exp)
}

fn set_limit(l: &mut Limits, key: &str, value: &str) -> Result<(), String> {
    let n = || {
        value
            .parse::<u64>()
            .map_err(|_| format!("bad value '{value}' for {key}"))
    };
    match key {
        "fuel" => {
            l.fuel = if value == "unlimited" {
                None
            } else {
                Some(n()?)
            }
        }
        "max_call_depth" => l.max_call_depth = n()? as u32,
        "max_stack_slots" => l.max_stack_slots = n()? as usize,
        "max_heap_bytes" => l.max_heap_bytes = n()? as usize,
        "max_string_bytes" => l.max_string_bytes = n()? as usize,
        "max_collection_len" => l.max_collection_len = n()? as usize,
        "max_output_bytes" => l.max_output_bytes = n()? as usize,
        "max_nesting" => l.max_nesting = n()? as u32,
        "max_source_bytes" => l.max_source_bytes = n()? as usize,
        _ => return Err(format!("unknown limit '{key}'")),
    }
    Ok(())
}

/// The `// tiering: ...` line (without a newline) that `parse_expectations` reads back as
/// `tiering`.
pub fn tiering_comment(hot_calls: u32, hot_loops: u32) -> String {
    format!("{TIERING}hot_calls={hot_calls}, hot_loops={hot_loops}")
}

/// The `// args: ...` line (without a newline) that `parse_expectations` reads back as
/// `args`; `None` for no arguments. Arguments must not contain whitespace.
pub fn args_comment(args: &[String]) -> Option<String> {
    (!args.is_empty()).then(|| format!("{ARGS} {}", args.join(" ")))
}

/// The `// config: ...` line (without a newline) that makes `parse_expectations` read back
/// `limits`, naming only the limits that differ from the defaults; `None` when none do.
pub fn config_comment(limits: &Limits) -> Option<String> {
    // Destructured so that a new limit cannot be added without deciding how files carry it.
    let Limits {
        fuel,
        max_call_depth,
        max_stack_slots,
        max_heap_bytes,
        max_string_bytes,
        max_collection_len,
        max_output_bytes,
        max_nesting,
        max_source_bytes,
    } = limits;
    let d = Limits::default();
    let mut items = Vec::new();
    if *fuel != d.fuel {
        items.push(match fuel {
            Some(f) => format!("fuel={f}"),
            None => "fuel=unlimited".to_string(),
        });
    }
    let numbers = [
        (
            "max_call_depth",
            *max_call_depth as u64,
            d.max_call_depth as u64,
        ),
        (
            "max_stack_slots",
            *max_stack_slots as u64,
            d.max_stack_slots as u64,
        ),
        (
            "max_heap_bytes",
            *max_heap_bytes as u64,
            d.max_heap_bytes as u64,
        ),
        (
            "max_string_bytes",
            *max_string_bytes as u64,
            d.max_string_bytes as u64,
        ),
        (
            "max_collection_len",
            *max_collection_len as u64,
            d.max_collection_len as u64,
        ),
        (
            "max_output_bytes",
            *max_output_bytes as u64,
            d.max_output_bytes as u64,
        ),
        ("max_nesting", *max_nesting as u64, d.max_nesting as u64),
        (
            "max_source_bytes",
            *max_source_bytes as u64,
            d.max_source_bytes as u64,
        ),
    ];
    for (key, value, default) in numbers {
        if value != default {
            items.push(format!("{key}={value}"));
        }
    }
    if items.is_empty() {
        None
    } else {
        Some(format!("{CONFIG}{}", items.join(", ")))
    }
}

impl Expectation {
    /// The configuration to run this file with in `tier`.
    pub fn config(&self, tier: Tier) -> Config {
        let mut c = Config {
            tier,
            limits: self.limits.clone(),
            args: self.args.clone(),
            ..Config::default()
        };
        if let Some((calls, loops)) = self.tiering {
            c.hot_calls = calls;
            c.hot_loops = loops;
        }
        c
    }

    /// Checks an outcome; the error says every difference.
    pub fn check(&self, outcome: &Outcome) -> Result<(), String> {
        let mut problems = Vec::new();
        let got: Vec<&str> = if outcome.output.is_empty() {
            Vec::new()
        } else {
            outcome
                .output
                .strip_suffix('\n')
                .unwrap_or(&outcome.output)
                .split('\n')
                .collect()
        };
        if got != self.output {
            problems.push(format!(
                "output differs:\n  expected {:?}\n  got      {:?}",
                self.output, got
            ));
        }
        match (&self.error, &outcome.result) {
            (Some(e), Err(g)) => {
                if e.kind != g.kind || e.message != g.message || e.line != g.line {
                    problems.push(format!(
                        "error differs:\n  expected {}: {} (line {})\n  got      {}: {} (line {})",
                        e.kind, e.message, e.line, g.kind, g.message, g.line
                    ));
                }
            }
            (Some(e), Ok(v)) => problems.push(format!(
                "expected error {}: {} (line {}), got value {v}",
                e.kind, e.message, e.line
            )),
            (None, Err(g)) => problems.push(format!(
                "unexpected error {}: {} (line {})",
                g.kind, g.message, g.line
            )),
            (None, Ok(v)) => {
                let want = self.value.as_deref().unwrap_or("nil");
                if v != want {
                    problems.push(format!("value differs: expected {want}, got {v}"));
                }
            }
        }
        if let Some(f) = self.fuel
            && f != outcome.fuel_used
        {
            problems.push(format!(
                "fuel differs: expected {f}, got {}",
                outcome.fuel_used
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

/// Renders an outcome as corpus expectation comments (for files written by tools).
pub fn expectation_comments(outcome: &Outcome) -> String {
    let mut out = String::new();
    if !outcome.output.is_empty() {
        for line in outcome
            .output
            .strip_suffix('\n')
            .unwrap_or(&outcome.output)
            .split('\n')
        {
            if line.is_empty() {
                out.push_str("// expect:\n");
            } else {
                out.push_str(&format!("// expect: {line}\n"));
            }
        }
    }
    match &outcome.result {
        Ok(v) if v != "nil" => out.push_str(&format!("// expect value: {v}\n")),
        Ok(_) => {}
        Err(EchoError {
            kind,
            message,
            line,
            ..
        }) => out.push_str(&format!(
            "// expect error [line {line}]: {kind}: {message}\n"
        )),
    }
    out.push_str(&format!("// expect fuel: {}\n", outcome.fuel_used));
    out
}

/// Every `.echo` file under `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "echo")
}

/// Every file under `dir` (any depth) whose extension is `ext`, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_directive() {
        let src = "print(1); // expect: 1\n// expect:\nx; // expect error: NameError: undefined name 'x'\n// expect fuel: 3\n// config: fuel=10, max_call_depth=5\n// expect error [line 9]: TypeError: boom";
        let err = parse_expectations(src).unwrap_err();
        assert!(err.contains("second"), "{err}");
        let src = &src[..src.rfind("\n// expect error [").unwrap()];
        let e = parse_expectations(src).unwrap();
        assert_eq!(e.output, vec!["1".to_string(), String::new()]);
        assert_eq!(
            e.error,
            Some(ExpectedError {
                kind: ErrorKind::NameError,
                message: "undefined name 'x'".into(),
                line: 3
            })
        );
        assert_eq!(e.fuel, Some(3));
        assert_eq!(e.limits.fuel, Some(10));
        assert_eq!(e.limits.max_call_depth, 5);
        let e = parse_expectations("// expect error [line 7]: Thrown: x").unwrap();
        assert_eq!(e.error.unwrap().line, 7);
    }

    #[test]
    fn config_comment_round_trips() {
        assert_eq!(config_comment(&Limits::default()), None);
        let limits = Limits {
            fuel: None,
            max_call_depth: 50,
            max_stack_slots: 4096,
            max_heap_bytes: 1 << 20,
            max_string_bytes: 1000,
            max_collection_len: 77,
            max_output_bytes: 123,
            max_nesting: 40,
            max_source_bytes: 4567,
        };
        let line = config_comment(&limits).expect("limits differ from the defaults");
        assert_eq!(parse_expectations(&line).unwrap().limits, limits);
        let only_fuel = Limits {
            fuel: Some(1000),
            ..Limits::default()
        };
        let line = config_comment(&only_fuel).unwrap();
        assert_eq!(line, "// config: fuel=1000");
        assert_eq!(parse_expectations(&line).unwrap().limits, only_fuel);
    }

    #[test]
    fn check_reports_differences() {
        let exp = parse_expectations("// expect: 1\n// expect: 2").unwrap();
        let ok = crate::run("print(1); print(2);", &exp.config(Tier::Interp));
        assert_eq!(exp.check(&ok), Ok(()));
        let bad = crate::run("print(1);", &exp.config(Tier::Interp));
        assert!(exp.check(&bad).unwrap_err().contains("output differs"));
    }
}
