//! Error kinds and the error values the engine reports: compile errors with a source position,
//! runtime errors with a line and an Echo stack trace. Limits are kinds scripts cannot catch.

use std::fmt;

use crate::value::Value;

/// Every kind of error Echo reports. The name printed is the variant name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// Source that does not lex or parse, or breaks a structural rule (e.g. `break` outside
    /// a loop).
    SyntaxError,
    /// An undefined or duplicate name (compile time), or a global read before its
    /// initializer ran (run time).
    NameError,
    /// An operation applied to values of the wrong type.
    TypeError,
    /// A call with the wrong number of arguments.
    ArityError,
    /// A list or string index out of range.
    IndexError,
    /// A map key that is absent (or of a type maps cannot hold).
    KeyError,
    /// A field or method that an instance or class does not have.
    AttributeError,
    /// An integer result outside the 64-bit range.
    OverflowError,
    /// Integer division or remainder by zero.
    ZeroDivisionError,
    /// An argument of the right type but an unacceptable value (`int("x")`).
    ValueError,
    /// A failed `assert`.
    AssertionError,
    /// A value thrown with `throw` that no `catch` caught.
    Thrown,
    /// The fuel budget ran out (engine limit: not catchable).
    FuelExhausted,
    /// The call depth or register stack limit was passed (engine limit: not catchable).
    StackOverflow,
    /// The heap byte limit was passed (engine limit: not catchable).
    MemoryLimit,
    /// A string, list, map or the captured output passed its size limit (engine limit: not
    /// catchable).
    SizeLimit,
    /// Source nested deeper than the parser's limit, or a function too large to compile.
    NestingLimit,
    /// The host stack ran low: a backstop that the language limits should always pre-empt.
    NativeStackOverflow,
    /// A bug in the engine was caught (a host panic inside a runtime helper): never expected.
    InternalError,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 19] = [
        ErrorKind::SyntaxError,
        ErrorKind::NameError,
        ErrorKind::TypeError,
        ErrorKind::ArityError,
        ErrorKind::IndexError,
        ErrorKind::KeyError,
        ErrorKind::AttributeError,
        ErrorKind::OverflowError,
        ErrorKind::ZeroDivisionError,
        ErrorKind::ValueError,
        ErrorKind::AssertionError,
        ErrorKind::Thrown,
        ErrorKind::FuelExhausted,
        ErrorKind::StackOverflow,
        ErrorKind::MemoryLimit,
        ErrorKind::SizeLimit,
        ErrorKind::NestingLimit,
        ErrorKind::NativeStackOverflow,
        ErrorKind::InternalError,
    ];

    /// The kind's name as printed (`TypeError`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::SyntaxError => "SyntaxError",
            ErrorKind::NameError => "NameError",
            ErrorKind::TypeError => "TypeError",
            ErrorKind::ArityError => "ArityError",
            ErrorKind::IndexError => "IndexError",
            ErrorKind::KeyError => "KeyError",
            ErrorKind::AttributeError => "AttributeError",
            ErrorKind::OverflowError => "OverflowError",
            ErrorKind::ZeroDivisionError => "ZeroDivisionError",
            ErrorKind::ValueError => "ValueError",
            ErrorKind::AssertionError => "AssertionError",
            ErrorKind::Thrown => "Thrown",
            ErrorKind::FuelExhausted => "FuelExhausted",
            ErrorKind::StackOverflow => "StackOverflow",
            ErrorKind::MemoryLimit => "MemoryLimit",
            ErrorKind::SizeLimit => "SizeLimit",
            ErrorKind::NestingLimit => "NestingLimit",
            ErrorKind::NativeStackOverflow => "NativeStackOverflow",
            ErrorKind::InternalError => "InternalError",
        }
    }

    /// Parses a kind name.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Engine limits unwind through every `try` to the host.
    pub fn is_catchable(self) -> bool {
        !self.is_limit()
    }

    /// Whether this kind is an engine limit.
    pub fn is_limit(self) -> bool {
        matches!(
            self,
            ErrorKind::FuelExhausted
                | ErrorKind::StackOverflow
                | ErrorKind::MemoryLimit
                | ErrorKind::SizeLimit
                | ErrorKind::NestingLimit
                | ErrorKind::NativeStackOverflow
                | ErrorKind::InternalError
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One active Echo frame at the point an error was raised.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TraceFrame {
    /// The function's name (`<script>` for the top level, `Class.method` for methods).
    pub function: String,
    /// The line being executed in that frame.
    pub line: u32,
}

/// An error as the engine reports it to its host.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{kind}: {message} (line {line})")]
pub struct EchoError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The exact message (see docs/LANGUAGE.md for every format).
    pub message: String,
    /// 1-based source line.
    pub line: u32,
    /// 1-based column, for compile errors.
    pub column: Option<u32>,
    /// Byte range in the source, for compile errors (used to render diagnostics).
    pub span: Option<(usize, usize)>,
    /// Active frames, innermost first (empty for compile errors).
    pub trace: Vec<TraceFrame>,
}

impl EchoError {
    /// Whether the error was raised before the program started running.
    pub fn is_compile_error(&self) -> bool {
        self.span.is_some()
    }
}

/// A runtime error on its way up the VM, before line and trace are attached.
#[derive(Debug)]
pub struct RtError {
    /// The kind.
    pub kind: ErrorKind,
    /// The message. For `Thrown`, filled in from `thrown` if the error escapes.
    pub message: String,
    /// The value given to `throw`, if this came from `throw`.
    pub thrown: Option<Value>,
}

/// Result of a fallible runtime operation. The error is boxed to keep the `Ok` path small.
pub type RtResult<T> = Result<T, Box<RtError>>;

impl RtError {
    /// A new runtime error.
    #[cold]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Box<RtError> {
        Box::new(RtError {
            kind,
            message: message.into(),
            thrown: None,
        })
    }

    /// A `throw` of `value`.
    #[cold]
    pub fn thrown(value: Value) -> Box<RtError> {
        Box::new(RtError {
            kind: ErrorKind::Thrown,
            message: String::new(),
            thrown: Some(value),
        })
    }
}

/// Shorthand for building an `Err` of a runtime error.
#[cold]
pub fn rt_err<T>(kind: ErrorKind, message: impl Into<String>) -> RtResult<T> {
    Err(RtError::new(kind, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_limits_are_uncatchable() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.name()), Some(k));
        }
        assert!(!ErrorKind::FuelExhausted.is_catchable());
        assert!(!ErrorKind::MemoryLimit.is_catchable());
        assert!(ErrorKind::TypeError.is_catchable());
        assert!(ErrorKind::Thrown.is_catchable());
    }
}
