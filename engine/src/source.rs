//! Source positions: byte spans to 1-based line and column, compile errors before they are
//! placed, and rendering of compile errors as diagnostics that show the offending line.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

use crate::error::{EchoError, ErrorKind, TraceFrame};

/// A byte range in the source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets (clamped to `u32`).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start.min(u32::MAX as usize) as u32,
            end: end.min(u32::MAX as usize) as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// The stack room `with_stack` guarantees.
pub(crate) const STACK_RED_ZONE: usize = 256 * 1024;

/// Runs `f` on a stack with at least 256 KiB of room, growing it onto the heap when it is
/// shorter. Every recursive pass over the syntax tree goes through this, so nesting up to
/// the parser's limit never overflows the host stack, whatever thread runs the engine.
#[inline]
pub fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(STACK_RED_ZONE, 2 * 1024 * 1024, f)
}

/// A compile error located by byte span, before line and column are computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// The kind (`SyntaxError`, `NameError` or `NestingLimit`).
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// Builds a compile error.
#[cold]
pub fn compile_error(kind: ErrorKind, message: impl Into<String>, span: Span) -> CompileError {
    CompileError {
        kind,
        message: message.into(),
        span,
    }
}

/// Maps byte offsets of one source text to lines and columns.
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// The offset of each line's first byte, as 32 bits like every span (and sized exactly:
    /// it lives as long as the compilation, one entry per source line).
    starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes `src`.
    pub fn new(src: &str) -> LineIndex {
        let newline = |b: &u8| *b == b'\n';
        let mut starts = Vec::with_capacity(1 + src.bytes().filter(newline).count());
        starts.push(0);
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| newline(b))
                .map(|(i, _)| (i + 1).min(u32::MAX as usize) as u32),
        );
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> u32 {
        (self.starts.partition_point(|&s| s as usize <= offset)) as u32
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn line_col(&self, src: &str, offset: usize) -> (u32, u32) {
        let line = self.line(offset);
        let start = self.starts[line as usize - 1] as usize;
        let offset = offset.min(src.len());
        let col = src
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, col as u32)
    }
}

impl CompileError {
    /// Attaches line and column.
    pub fn place(self, src: &str, index: &LineIndex) -> EchoError {
        let (line, col) = index.line_col(src, self.span.start as usize);
        EchoError {
            kind: self.kind,
            message: self.message,
            line,
            column: Some(col),
            span: Some((self.span.start as usize, self.span.end as usize)),
            trace: Vec::new(),
        }
    }
}

/// Fails with `SizeLimit` when a source of `len` bytes is over `limit`
/// (`Limits::max_source_bytes`), before any of it is read. The error is a compile error at
/// the start of the source (line 1, column 1).
pub fn check_source_size(len: usize, limit: usize) -> Result<(), EchoError> {
    if len <= limit {
        return Ok(());
    }
    Err(EchoError {
        kind: ErrorKind::SizeLimit,
        message: format!("source of {len} bytes exceeds the limit of {limit} bytes"),
        line: 1,
        column: Some(1),
        span: Some((0, 0)),
        trace: Vec::new(),
    })
}

/// The error for source bytes that are not UTF-8, placed at the first bad byte.
pub fn invalid_utf8(bytes: &[u8], err: std::str::Utf8Error) -> EchoError {
    let at = err.valid_up_to();
    let valid = std::str::from_utf8(&bytes[..at]).unwrap_or("");
    let index = LineIndex::new(valid);
    let (line, column) = index.line_col(valid, at);
    EchoError {
        kind: ErrorKind::SyntaxError,
        message: format!(
            "source is not valid UTF-8 (byte 0x{:02x} at offset {at})",
            bytes[at]
        ),
        line,
        column: Some(column),
        span: Some((at, at)),
        trace: Vec::new(),
    }
}

/// Renders a compile error the way a compiler shows it: kind, message, file, line, column,
/// and the source line with the span underlined. Runtime errors render as one line plus
/// the Echo stack trace.
pub fn render_error(file_name: &str, src: &str, err: &EchoError, color: bool) -> String {
    let mut out = Vec::new();
    match err.span {
        Some((start, _)) if line_around(src, start).len() > LONG_LINE => {
            out.extend_from_slice(long_line_snippet(file_name, src, err, start).as_bytes());
        }
        Some((start, end)) => {
            let file = SimpleFile::new(file_name, src);
            let end = end.max(start).min(src.len());
            let start = start.min(end);
            let diag = Diagnostic::error()
                .with_message(format!("{}: {}", err.kind, err.message))
                .with_labels(vec![Label::primary((), start..end)]);
            let config = Config::default();
            let res = if color {
                let mut w = codespan_reporting::term::termcolor::Ansi::new(&mut out);
                term::emit_to_write_style(&mut w, &config, &file, &diag)
            } else {
                let mut w = codespan_reporting::term::termcolor::NoColor::new(&mut out);
                term::emit_to_write_style(&mut w, &config, &file, &diag)
            };
            if res.is_err() {
                out.clear();
                out.extend_from_slice(
                    format!(
                        "error: {}: {}\n --> {file_name}:{}:{}\n",
                        err.kind,
                        err.message,
                        err.line,
                        err.column.unwrap_or(1)
                    )
                    .as_bytes(),
                );
            }
        }
        None => {
            out.extend_from_slice(format!("{}: {}\n", err.kind, err.message).as_bytes());
            for line in trace_lines(&err.trace, file_name) {
                out.extend_from_slice(line.as_bytes());
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lines longer than this (in bytes) are shown as a window around the error's column.
const LONG_LINE: usize = 200;
/// Characters shown on each side of the column in such a window.
const WINDOW: usize = 60;
/// Longest repeating group of frames a trace collapses (mutual recursion of up to this many
/// functions).
const MAX_CYCLE: usize = 8;

/// The line of `src` containing byte `at`.
fn line_around(src: &str, at: usize) -> &str {
    let at = at.min(src.len());
    let start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = src[at..].find('\n').map_or(src.len(), |i| at + i);
    &src[start..end]
}

/// A compile error on a very long line: the part of the line around the column, with a
/// caret, instead of the whole line.
fn long_line_snippet(file_name: &str, src: &str, err: &EchoError, at: usize) -> String {
    let at = at.min(src.len());
    let line_start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = line_around(src, at);
    let before: Vec<char> = src[line_start..at].chars().collect();
    let after: Vec<char> = line[at - line_start..].chars().collect();
    let shown_before = &before[before.len().saturating_sub(WINDOW)..];
    let shown_after = &after[..after.len().min(WINDOW)];
    let lead = if shown_before.len() < before.len() {
        "…"
    } else {
        ""
    };
    let tail = if shown_after.len() < after.len() {
        "…"
    } else {
        ""
    };
    let text: String = shown_before.iter().chain(shown_after).collect();
    let caret_at = lead.chars().count() + shown_before.len();
    let number = err.line.to_string();
    let pad = " ".repeat(number.len());
    format!(
        "error: {}: {}\n{pad} ┌─ {file_name}:{}:{}\n{pad} │\n{number} │ {lead}{text}{tail}\n{pad} │ {}^\n",
        err.kind,
        err.message,
        err.line,
        err.column.unwrap_or(1),
        " ".repeat(caret_at),
    )
}

/// The lines of an Echo stack trace, innermost first. A group of frames that repeats (a
/// recursion, possibly through several functions) is shown once, followed by how often it
/// repeats, so a stack overflow does not print every one of its frames.
fn trace_lines(trace: &[TraceFrame], file_name: &str) -> Vec<String> {
    let frame = |f: &TraceFrame| format!("  at {} ({file_name}:{})\n", f.function, f.line);
    let mut out = Vec::new();
    let mut i = 0;
    while i < trace.len() {
        // The group length (and its repeats) that hides the most frames from here.
        let best = (1..=MAX_CYCLE.min(trace.len() - i))
            .map(|len| {
                let group = &trace[i..i + len];
                let repeats = trace[i + len..]
                    .chunks_exact(len)
                    .take_while(|c| *c == group)
                    .count();
                (len, repeats)
            })
            .filter(|&(_, repeats)| repeats >= 2)
            .max_by_key(|&(len, repeats)| (len * repeats, usize::MAX - len));
        match best {
            Some((len, repeats)) => {
                out.extend(trace[i..i + len].iter().map(frame));
                let what = if len == 1 {
                    "the frame above".to_string()
                } else {
                    format!("the {len} frames above")
                };
                out.push(format!(
                    "  ... {what} repeated {repeats} more times ({} frames)\n",
                    len * repeats
                ));
                i += len * (repeats + 1);
            }
            None => {
                out.push(frame(&trace[i]));
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_chars() {
        let src = "ab\né x\n";
        let idx = LineIndex::new(src);
        assert_eq!(idx.line_col(src, 0), (1, 1));
        assert_eq!(idx.line_col(src, 3), (2, 1));
        assert_eq!(idx.line_col(src, 6), (2, 3));
        assert_eq!(idx.line_col(src, src.len()), (3, 1));
    }

    fn frames(names: &[&str]) -> Vec<TraceFrame> {
        names
            .iter()
            .map(|n| TraceFrame {
                function: n.to_string(),
                line: n.len() as u32,
            })
            .collect()
    }

    #[test]
    fn repeated_frames_are_shown_once() {
        let mut t = frames(&["f"; 10_000]);
        t.extend(frames(&["main", "<script>"]));
        let lines = trace_lines(&t, "p.echo");
        assert_eq!(
            lines,
            [
                "  at f (p.echo:1)\n",
                "  ... the frame above repeated 9999 more times (9999 frames)\n",
                "  at main (p.echo:4)\n",
                "  at <script> (p.echo:8)\n",
            ]
        );
        // Mutual recursion: the group of two repeats.
        let t = frames(&["even", "odd", "even", "odd", "even", "odd", "top"]);
        let lines = trace_lines(&t, "p.echo");
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!(
            lines[2],
            "  ... the 2 frames above repeated 2 more times (4 frames)\n"
        );
        // Two repeats of a frame are shown as they are.
        assert_eq!(trace_lines(&frames(&["g", "g", "h"]), "p").len(), 3);
    }

    #[test]
    fn an_error_on_a_very_long_line_shows_a_window_around_it() {
        let src = format!(
            "let x = {}@{};\n",
            "1 + ".repeat(50_000),
            " + 1".repeat(50_000)
        );
        let at = src.find('@').unwrap();
        let err = compile_error(
            ErrorKind::SyntaxError,
            "unexpected character '@'",
            Span::new(at, at + 1),
        )
        .place(&src, &LineIndex::new(&src));
        let text = render_error("t.echo", &src, &err, false);
        assert!(text.len() < 400, "{} bytes:\n{text}", text.len());
        assert!(text.contains("t.echo:1:200009"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        let code = lines[3];
        let caret = lines[4];
        assert!(code.starts_with("1 │ …") && code.ends_with('…'), "{code}");
        // The caret is under the '@'.
        let col = caret.chars().position(|c| c == '^').unwrap();
        assert_eq!(code.chars().nth(col), Some('@'), "{code}\n{caret}");
    }

    #[test]
    fn diagnostics_show_the_source_line() {
        let src = "let x = 1;\nlet y = @;\n";
        let err = compile_error(
            ErrorKind::SyntaxError,
            "unexpected character '@'",
            Span::new(19, 20),
        )
        .place(src, &LineIndex::new(src));
        assert_eq!((err.line, err.column), (2, Some(9)));
        let text = render_error("t.echo", src, &err, false);
        assert!(
            text.contains("SyntaxError: unexpected character '@'"),
            "{text}"
        );
        assert!(text.contains("t.echo:2:9"), "{text}");
        assert!(text.contains("let y = @;"), "{text}");
    }
}
