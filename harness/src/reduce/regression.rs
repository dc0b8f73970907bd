//! Regression files: a reduced program written as the next numbered corpus file, with a note
//! on its first line and the interpreter's outcome as its expectations.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use echo_engine::corpus::{
    Expectation, args_comment, config_comment, expectation_comments, parse_expectations,
    tiering_comment,
};
use echo_engine::{Limits, Outcome};

use crate::oracle::Subject;

/// How a regression file runs: what its setting comments say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSettings {
    /// Engine limits (`// config:` names those that differ from the defaults).
    pub limits: Limits,
    /// The tiered tier's thresholds (`// tiering:`), when they matter.
    pub tiering: Option<(u32, u32)>,
    /// The program's arguments (`// args:`).
    pub args: Vec<String>,
}

impl From<&Subject> for RunSettings {
    /// A subject's settings, with its first input vector as the arguments.
    fn from(p: &Subject) -> RunSettings {
        RunSettings {
            limits: p.limits.clone(),
            tiering: Some((p.hot_calls, p.hot_loops)),
            args: p.input_vectors().swap_remove(0),
        }
    }
}

/// Writes `source` as the next numbered corpus file in `dir`, `NNNN-slug.echo`, expecting
/// `expected` when run with `run`'s settings, and returns its path.
///
/// The file starts with `note` in a block comment on the first line (so every line of the
/// program keeps its number: error lines and the `line` of caught errors stay valid), then
/// the source, its expectation comments and, when the limits are not the defaults, a
/// `// config:` line, then the tiering thresholds and the arguments when given. Numbers continue from the highest already in `dir`, which is created
/// if needed; an existing file is never overwritten. A `source` that already carries
/// expectation comments is refused (`InvalidInput`): the file would expect things twice.
pub fn write_regression(
    dir: &Path,
    slug: &str,
    source: &str,
    expected: &Outcome,
    run: &RunSettings,
    note: &str,
) -> io::Result<PathBuf> {
    let carried =
        parse_expectations(source).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    if carried != Expectation::default() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the source already carries expectation comments",
        ));
    }
    let mut text = format!("/* {} */", comment_safe(note));
    if !source.is_empty() && !source.starts_with('\n') {
        text.push(' ');
    }
    text.push_str(source);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&expectation_comments(expected));
    if let Some(config) = config_comment(&run.limits) {
        text.push_str(&config);
        text.push('\n');
    }
    if let Some((calls, loops)) = run.tiering {
        text.push_str(&tiering_comment(calls, loops));
        text.push('\n');
    }
    if let Some(args) = args_comment(&run.args) {
        text.push_str(&args);
        text.push('\n');
    }
    fs::create_dir_all(dir)?;
    let slug = safe_slug(slug);
    let mut number = highest_number(dir)? + 1;
    loop {
        let path = dir.join(format!("{number:04}-{slug}.echo"));
        // `create_new`, so that writers running in parallel never overwrite each other.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                io::Write::write_all(&mut file, text.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => number += 1,
            Err(e) => return Err(e),
        }
    }
}

/// `note` on one line, unable to end its block comment or to read as a corpus directive
/// (`parse_expectations` looks for `// ` anywhere on a line).
fn comment_safe(note: &str) -> String {
    let one_line: String = note
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = one_line.replace("*/", "* /");
    while out.contains("//") {
        out = out.replace("//", "/ /");
    }
    out.trim().to_string()
}

/// Lowercase ASCII letters, digits and single dashes, at most 40 characters.
fn safe_slug(slug: &str) -> String {
    let mut out = String::new();
    for c in slug.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(40);
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "regression".to_string()
    } else {
        out.to_string()
    }
}

/// The highest `NNNN` of the `NNNN-*.echo` files in `dir` (0 if none).
fn highest_number(dir: &Path) -> io::Result<u32> {
    let mut highest = 0;
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if !name.ends_with(".echo") {
            continue;
        }
        let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<u32>() {
            highest = highest.max(n);
        }
    }
    Ok(highest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe() {
        assert_eq!(
            safe_slug("JIT: wrong Sum (seed 12)!"),
            "jit-wrong-sum-seed-12"
        );
        assert_eq!(safe_slug("///"), "regression");
        assert_eq!(safe_slug(&"a".repeat(60)).len(), 40);
    }

    #[test]
    fn notes_cannot_escape_their_comment() {
        assert_eq!(
            comment_safe("a */ b // expect: 1\nc"),
            "a * / b / / expect: 1 c"
        );
    }
}
