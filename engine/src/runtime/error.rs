//! Runtime errors on their way up the VM (and out of compiled code through helpers), before
//! the line and the Echo stack trace are attached: a kind, a message, and the thrown value.

use crate::error::ErrorKind;
use crate::runtime::value::Value;

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
