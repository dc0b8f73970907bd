//! The Echo value: a 16-byte tagged representation shared bit-for-bit by the interpreter
//! and compiled code (tag byte at offset 0, payload at offset 8), plus the one float printer.

use crate::runtime::heap::{BoundMethod, Class, Closure, Gc, Instance, List, Map, Str, UpBox};

/// Index of a native builtin function (see `builtins.rs`).
///
/// Aligned to 8 so that every payload of [`Value`] sits at offset 8.
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NativeId(pub u32);

impl crate::syntax::ast::BuiltinId {
    /// The builtin as a value payload.
    #[inline]
    pub fn native(self) -> NativeId {
        NativeId(self.0 as u32)
    }
}

/// An Echo value. `#[repr(C, u64)]` fixes the layout: the tag (numbered by [`tag`]) is the
/// first word and every payload is 8 bytes at offset 8, so compiled code can read and write
/// values directly.
#[repr(C, u64)]
#[derive(Clone, Copy, Debug)]
pub enum Value {
    /// `nil`.
    Nil = tag::NIL as u64,
    /// `false`. Booleans are two tags so that truthiness is one tag comparison.
    False = tag::FALSE as u64,
    /// `true`.
    True = tag::TRUE as u64,
    /// A 64-bit signed integer; arithmetic on it is checked.
    Int(i64) = tag::INT as u64,
    /// An IEEE 754 double.
    Float(f64) = tag::FLOAT as u64,
    /// An immutable UTF-8 string.
    Str(Gc<Str>) = tag::STR as u64,
    /// A growable list.
    List(Gc<List>) = tag::LIST as u64,
    /// An insertion-ordered map with int or string keys.
    Map(Gc<Map>) = tag::MAP as u64,
    /// A closure.
    Func(Gc<Closure>) = tag::FUNC as u64,
    /// A native builtin function.
    Native(NativeId) = tag::NATIVE as u64,
    /// A class.
    Class(Gc<Class>) = tag::CLASS as u64,
    /// An instance of a class.
    Instance(Gc<Instance>) = tag::INSTANCE as u64,
    /// A method bound to its receiver.
    Method(Gc<BoundMethod>) = tag::METHOD as u64,
    /// The content of a global slot whose initializer has not run yet. Never observable:
    /// reading such a global raises `NameError`.
    Undef = tag::UNDEF as u64,
    /// A captured local's shared box, held in its home register. Never observable: only
    /// `NewBox`, `GetBox`, `SetBox` and closure creation touch it.
    Boxed(Gc<UpBox>) = tag::BOXED as u64,
}

/// Bytes of a [`Value`].
pub const VALUE_SIZE: usize = 16;
const _: () = assert!(std::mem::size_of::<Value>() == VALUE_SIZE);

/// Tag values of [`Value`], for code that inspects the raw representation.
pub mod tag {
    /// `Value::Nil`.
    pub const NIL: u8 = 0;
    /// `Value::False`.
    pub const FALSE: u8 = 1;
    /// `Value::True`.
    pub const TRUE: u8 = 2;
    /// `Value::Int`.
    pub const INT: u8 = 3;
    /// `Value::Float`.
    pub const FLOAT: u8 = 4;
    /// `Value::Str`.
    pub const STR: u8 = 5;
    /// `Value::List`.
    pub const LIST: u8 = 6;
    /// `Value::Map`.
    pub const MAP: u8 = 7;
    /// `Value::Func`.
    pub const FUNC: u8 = 8;
    /// `Value::Native`.
    pub const NATIVE: u8 = 9;
    /// `Value::Class`.
    pub const CLASS: u8 = 10;
    /// `Value::Instance`.
    pub const INSTANCE: u8 = 11;
    /// `Value::Method`.
    pub const METHOD: u8 = 12;
    /// `Value::Undef`.
    pub const UNDEF: u8 = 13;
    /// `Value::Boxed`.
    pub const BOXED: u8 = 14;

    /// Whether a value of tag `t` is a number (an int or a float): what arithmetic and
    /// ordering compute inline, and what the JIT's type feedback tells apart.
    pub const fn is_number(t: u8) -> bool {
        t == INT || t == FLOAT
    }
}

/// Byte offset of the tag in a [`Value`].
pub const TAG_OFFSET: usize = 0;
/// Byte offset of the payload in a [`Value`].
pub const PAYLOAD_OFFSET: usize = 8;

impl Value {
    /// Whether this variant carries an 8-byte payload at [`PAYLOAD_OFFSET`].
    #[inline]
    pub fn has_payload(self) -> bool {
        !matches!(self, Value::Nil | Value::False | Value::True | Value::Undef)
    }

    /// The boolean value `b`.
    #[inline]
    pub fn bool(b: bool) -> Value {
        if b { Value::True } else { Value::False }
    }

    /// Only `nil` and `false` are falsy.
    #[inline]
    pub fn truthy(self) -> bool {
        !matches!(self, Value::Nil | Value::False)
    }

    /// The raw tag byte.
    #[inline]
    pub fn tag(self) -> u8 {
        match self {
            Value::Nil => tag::NIL,
            Value::False => tag::FALSE,
            Value::True => tag::TRUE,
            Value::Int(_) => tag::INT,
            Value::Float(_) => tag::FLOAT,
            Value::Str(_) => tag::STR,
            Value::List(_) => tag::LIST,
            Value::Map(_) => tag::MAP,
            Value::Func(_) => tag::FUNC,
            Value::Native(_) => tag::NATIVE,
            Value::Class(_) => tag::CLASS,
            Value::Instance(_) => tag::INSTANCE,
            Value::Method(_) => tag::METHOD,
            Value::Undef => tag::UNDEF,
            Value::Boxed(_) => tag::BOXED,
        }
    }

    /// The tag word and payload word as compiled code stores them (payload 0 for the
    /// payload-free variants).
    pub fn to_bits(self) -> (u64, u64) {
        let payload = match self {
            Value::Nil | Value::False | Value::True | Value::Undef => 0,
            Value::Int(i) => i as u64,
            Value::Float(f) => f.to_bits(),
            Value::Native(NativeId(n)) => u64::from(n),
            Value::Str(o) => o.addr() as u64,
            Value::List(o) => o.addr() as u64,
            Value::Map(o) => o.addr() as u64,
            Value::Func(o) => o.addr() as u64,
            Value::Class(o) => o.addr() as u64,
            Value::Instance(o) => o.addr() as u64,
            Value::Method(o) => o.addr() as u64,
            Value::Boxed(o) => o.addr() as u64,
        };
        (u64::from(self.tag()), payload)
    }

    /// The name `type()` returns for this value.
    pub fn type_name(self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::False | Value::True => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Func(_) | Value::Native(_) | Value::Method(_) => "function",
            Value::Class(_) => "class",
            Value::Instance(_) => "instance",
            Value::Undef => "undefined",
            Value::Boxed(_) => "box",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the tag byte and the 8-byte payload of `v` from memory, as compiled code does.
    fn raw(v: &Value) -> (u8, u64) {
        let p = v as *const Value as *const u8;
        // SAFETY: `Value` is `#[repr(C, u64)]`: byte 0 is the initialised tag; every payload
        // variant stores 8 initialised bytes at offset 8 (asserted by the size and align
        // checks below). Payload-free variants are not read past the tag.
        unsafe {
            let tag = *p.add(TAG_OFFSET);
            let payload = if v.has_payload() {
                (p.add(PAYLOAD_OFFSET) as *const u64).read_unaligned()
            } else {
                0
            };
            (tag, payload)
        }
    }

    #[test]
    fn value_is_sixteen_bytes_with_payload_at_eight() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::align_of::<Value>(), 8);
        assert_eq!(raw(&Value::Int(-3)), (tag::INT, (-3i64) as u64));
        assert_eq!(raw(&Value::Float(1.5)), (tag::FLOAT, 1.5f64.to_bits()));
        assert_eq!(raw(&Value::Native(NativeId(7))), (tag::NATIVE, 7));
        assert_eq!(raw(&Value::True).0, tag::TRUE);
        assert_eq!(raw(&Value::Nil).0, tag::NIL);
        // Every variant's tag in memory is the number `tag()` (and compiled code) uses.
        for v in [
            Value::Nil,
            Value::False,
            Value::True,
            Value::Int(1),
            Value::Float(0.0),
            Value::Native(NativeId(2)),
            Value::Undef,
        ] {
            assert_eq!(raw(&v).0, v.tag());
        }
    }

    #[test]
    fn truthiness() {
        assert!(!Value::Nil.truthy());
        assert!(!Value::False.truthy());
        assert!(Value::True.truthy());
        assert!(Value::Int(0).truthy());
        assert!(Value::Float(0.0).truthy());
    }
}
