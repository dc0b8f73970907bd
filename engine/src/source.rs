//! Source positions: byte spans to 1-based line and column, compile errors before they are
//! placed, and rendering of compile errors as diagnostics that show the offending line.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

use crate::error::{EchoError, ErrorKind};

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

/// Runs `f` on a stack with at least 256 KiB of room, growing it onto the heap when it is
/// shorter. Every recursive pass over the syntax tree goes through this, so nesting up to
/// the parser's limit never overflows the host stack, whatever thread runs the engine.
#[inline]
pub fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 2 * 1024 * 1024, f)
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
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `src`.
    pub fn new(src: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> u32 {
        (self.starts.partition_point(|&s| s <= offset)) as u32
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn line_col(&self, src: &str, offset: usize) -> (u32, u32) {
        let line = self.line(offset);
        let start = self.starts[line as usize - 1];
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
            for frame in &err.trace {
                out.extend_from_slice(
                    format!("  at {} ({file_name}:{})\n", frame.function, frame.line).as_bytes(),
                );
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
