//! Error kinds and the errors the engine reports to its host: compile errors with a source
//! position, runtime errors with a line and an Echo stack trace. Limits are kinds scripts
//! cannot catch.

use std::fmt;

/// When an error kind arises and what may catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Raised while compiling the source: the program never starts.
    Compile,
    /// A compiler limit (nesting too deep): raised before the program starts.
    CompileLimit,
    /// Raised by a running program; `try` catches it.
    Runtime,
    /// An engine limit reached by a running program; nothing catches it.
    Limit,
    /// A failure of the host or the engine itself that the language limits should always
    /// pre-empt; nothing catches it.
    Host,
}

/// Every error kind, with its class, defined once: the enum, `ALL`, the names and the
/// classification all come from this list.
macro_rules! error_kinds {
    ($( $(#[doc = $doc:literal])+ $kind:ident: $class:ident, )*) => {
        /// Every kind of error Echo reports. The name printed is the variant name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorKind {
            $( $(#[doc = $doc])+ $kind, )*
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ErrorKind] = &[ $( ErrorKind::$kind, )* ];

            /// The kind's name as printed (`TypeError`).
            pub fn name(self) -> &'static str {
                match self {
                    $( ErrorKind::$kind => stringify!($kind), )*
                }
            }

            /// When the kind arises and what may catch it.
            pub fn class(self) -> ErrorClass {
                match self {
                    $( ErrorKind::$kind => ErrorClass::$class, )*
                }
            }
        }
    };
}

error_kinds! {
    /// Source that does not lex or parse, or breaks a structural rule (e.g. `break` outside
    /// a loop).
    SyntaxError: Compile,
    /// An undefined or duplicate name (compile time), or a global read before its
    /// initializer ran (run time).
    NameError: Runtime,
    /// An operation applied to values of the wrong type.
    TypeError: Runtime,
    /// A call with the wrong number of arguments.
    ArityError: Runtime,
    /// A list or string index out of range.
    IndexError: Runtime,
    /// A map key that is absent (or of a type maps cannot hold).
    KeyError: Runtime,
    /// A field or method that an instance or class does not have.
    AttributeError: Runtime,
    /// An integer result outside the 64-bit range.
    OverflowError: Runtime,
    /// Integer division or remainder by zero.
    ZeroDivisionError: Runtime,
    /// An argument of the right type but an unacceptable value (`int("x")`).
    ValueError: Runtime,
    /// A failed `assert`.
    AssertionError: Runtime,
    /// A value thrown with `throw` that no `catch` caught.
    Thrown: Runtime,
    /// The fuel budget ran out (engine limit: not catchable).
    FuelExhausted: Limit,
    /// The call depth or register stack limit was passed (engine limit: not catchable).
    StackOverflow: Limit,
    /// The heap byte limit was passed (engine limit: not catchable).
    MemoryLimit: Limit,
    /// A string, list, map or the captured output passed its size limit (engine limit: not
    /// catchable).
    SizeLimit: Limit,
    /// Source nested deeper than the parser's limit, or a function too large to compile.
    NestingLimit: CompileLimit,
    /// The host stack ran low: a backstop that the language limits should always pre-empt.
    NativeStackOverflow: Host,
    /// A bug in the engine was caught (a host panic inside a runtime helper): never expected.
    InternalError: Host,
}

impl ErrorKind {
    /// Parses a kind name.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Whether `try` can catch it.
    pub fn is_catchable(self) -> bool {
        self.class() == ErrorClass::Runtime
    }

    /// Whether this kind is an engine limit (or a failure the limits should pre-empt): it
    /// unwinds through every `try` to the host.
    pub fn is_limit(self) -> bool {
        matches!(
            self.class(),
            ErrorClass::Limit | ErrorClass::CompileLimit | ErrorClass::Host
        )
    }

    /// Whether a running program of a correct engine can end with it (what a test generator
    /// should reach): the catchable kinds and the engine limits.
    pub fn is_runtime(self) -> bool {
        matches!(self.class(), ErrorClass::Runtime | ErrorClass::Limit)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_limits_are_uncatchable() {
        for &k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.name()), Some(k));
            assert_eq!(k.to_string(), format!("{k:?}"), "the name is the variant's");
        }
        assert!(ErrorKind::NestingLimit.is_limit() && !ErrorKind::NestingLimit.is_runtime());
        assert!(ErrorKind::StackOverflow.is_runtime() && ErrorKind::StackOverflow.is_limit());
        assert!(!ErrorKind::FuelExhausted.is_catchable());
        assert!(!ErrorKind::MemoryLimit.is_catchable());
        assert!(ErrorKind::TypeError.is_catchable());
        assert!(ErrorKind::Thrown.is_catchable());
    }
}
