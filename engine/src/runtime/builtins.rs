//! Native builtin functions, listed once in `BUILTINS` (name, arity, implementation). They
//! run without collecting garbage, so the values they hold need no rooting.

use std::cmp::Ordering;
use std::rc::Rc;

use crate::error::ErrorKind;
use crate::runtime::error::{RtError, RtResult, rt_err};
use crate::runtime::heap::{
    Gc, Items, Key, List, Map, Str, items_collect, items_from, items_with_capacity,
};
use crate::runtime::ops::{Cmp, checked_index, cmp_int_float, map_key};
use crate::runtime::value::{NativeId, Value};
use crate::runtime::vm::Vm;
use crate::runtime::work::{self, Meter};
use crate::text::{INT_TEXT_BYTES, format_float, format_int, quote_into};

/// A builtin's implementation.
pub type NativeFn = fn(&mut Vm, &[Value]) -> RtResult<Value>;

/// Marker for "any number of arguments".
pub const VARIADIC: u8 = u8::MAX;

/// One builtin.
pub struct Builtin {
    /// The name programs call it by.
    pub name: &'static str,
    /// Fewest arguments.
    pub min_args: u8,
    /// Most arguments ([`VARIADIC`] for no limit).
    pub max_args: u8,
    /// What it does, for the REPL's `:help`.
    pub doc: &'static str,
    /// The implementation.
    pub func: NativeFn,
}

macro_rules! builtins {
    ($( $name:ident ($min:expr, $max:expr) $doc:literal => $func:expr ;)*) => {
        /// Every builtin, indexed by `NativeId`.
        pub static BUILTINS: &[Builtin] = &[
            $( Builtin { name: stringify!($name), min_args: $min, max_args: $max, doc: $doc, func: $func }, )*
        ];

        /// The builtins' names, in table order: what the front end resolves names against.
        pub const NAMES: &[&str] = &[ $( stringify!($name), )* ];
    };
}

builtins! {
    print(0, VARIADIC) "print(a, b, ...): writes the values separated by spaces, then a newline" => b_print;
    len(1, 1) "len(x): characters of a string, elements of a list, entries of a map" => b_len;
    str(1, 1) "str(x): the printed form of x" => b_str;
    int(1, 1) "int(x): int from an int, a float (truncated) or a decimal string" => b_int;
    float(1, 1) "float(x): float from an int, a float or a numeric string" => b_float;
    type(1, 1) "type(x): the type name: nil, bool, int, float, string, list, map, function, class, instance" => b_type;
    abs(1, 1) "abs(x): absolute value of a number" => b_abs;
    min(1, VARIADIC) "min(a, b, ...) or min(list): the smallest value (by <)" => b_min;
    max(1, VARIADIC) "max(a, b, ...) or max(list): the largest value (by <)" => b_max;
    sqrt(1, 1) "sqrt(x): square root as a float" => b_sqrt;
    floor(1, 1) "floor(x): largest int <= x" => b_floor;
    ceil(1, 1) "ceil(x): smallest int >= x" => b_ceil;
    round(1, 1) "round(x): nearest int, halves away from zero" => b_round;
    pow(2, 2) "pow(a, b): a to the power b (int for int a and b >= 0)" => b_pow;
    push(2, 2) "push(list, v): appends v" => b_push;
    pop(1, 1) "pop(list): removes and returns the last element" => b_pop;
    insert(3, 3) "insert(list, i, v): inserts v before index i (0 <= i <= len)" => b_insert;
    remove(2, 2) "remove(list, i) or remove(map, key): removes and returns the element" => b_remove;
    keys(1, 1) "keys(map): list of keys in insertion order" => b_keys;
    values(1, 1) "values(map): list of values in insertion order" => b_values;
    has(2, 2) "has(map, key): whether the key is present" => b_has;
    contains(2, 2) "contains(list, v) or contains(string, sub): membership" => b_contains;
    slice(3, 3) "slice(x, start, end): elements or characters start..end of a list or string" => b_slice;
    join(2, 2) "join(list, sep): the printed elements joined by sep" => b_join;
    split(2, 2) "split(s, sep): list of the parts of s between occurrences of sep" => b_split;
    upper(1, 1) "upper(s): s in upper case" => b_upper;
    lower(1, 1) "lower(s): s in lower case" => b_lower;
    trim(1, 1) "trim(s): s without leading and trailing whitespace" => b_trim;
    find(2, 2) "find(s, sub): character index of the first sub in s, or -1" => b_find;
    replace(3, 3) "replace(s, from, to): s with every from replaced by to" => b_replace;
    starts_with(2, 2) "starts_with(s, prefix): whether s begins with prefix" => b_starts_with;
    ends_with(2, 2) "ends_with(s, suffix): whether s ends with suffix" => b_ends_with;
    chr(1, 1) "chr(i): the one-character string of code point i" => b_chr;
    ord(1, 1) "ord(c): the code point of a one-character string" => b_ord;
    range(2, 2) "range(a, b): the list [a, a+1, ..., b-1]" => b_range;
    sort(1, 1) "sort(list): sorts numbers or strings in place, stably" => b_sort;
    reverse(1, 1) "reverse(list): reverses in place" => b_reverse;
    copy(1, 1) "copy(x): a shallow copy of a list or map" => b_copy;
    assert(1, 2) "assert(cond, message?): raises AssertionError if cond is falsy" => b_assert;
    args(0, 0) "args(): a new list of the program's command-line arguments, as strings" => b_args;
}

/// The id of the builtin named `name`, at compile time (fails to compile if there is none).
const fn id_of(name: &str) -> NativeId {
    let mut i = 0;
    while i < NAMES.len() {
        let (a, b) = (NAMES[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return NativeId(i as u32);
            }
        }
        i += 1;
    }
    panic!("no builtin of that name")
}

/// Ids of the builtins the tiers have fast paths for.
pub mod ids {
    use super::{NativeId, id_of};
    /// `len`.
    pub const LEN: NativeId = id_of("len");
    /// `ord`.
    pub const ORD: NativeId = id_of("ord");
    /// `push`.
    pub const PUSH: NativeId = id_of("push");
    /// `has`.
    pub const HAS: NativeId = id_of("has");
    /// `sqrt`.
    pub const SQRT: NativeId = id_of("sqrt");
    /// `abs`.
    pub const ABS: NativeId = id_of("abs");
    /// `min`.
    pub const MIN: NativeId = id_of("min");
    /// `max`.
    pub const MAX: NativeId = id_of("max");
    /// `floor`.
    pub const FLOOR: NativeId = id_of("floor");
    /// `ceil`.
    pub const CEIL: NativeId = id_of("ceil");
    /// `int`.
    pub const INT: NativeId = id_of("int");
    /// `float`.
    pub const FLOAT: NativeId = id_of("float");
}

/// Whether `id` called with `n` arguments is a builtin on numbers (`number_fast` computes it
/// on some operands, and compiled code computes the same in place): `abs`, `floor`, `ceil`,
/// `int` and `float` of one, `min` and `max` of two.
pub fn number_builtin(id: NativeId, n: u16) -> bool {
    match n {
        1 => [ids::ABS, ids::FLOOR, ids::CEIL, ids::INT, ids::FLOAT].contains(&id),
        2 => [ids::MIN, ids::MAX].contains(&id),
        _ => false,
    }
}

/// The builtins on numbers that both tiers compute without the general builtin call (and so
/// without the safepoint that ends it) on the operands `number_fast` accepts: they allocate
/// nothing and cannot fail there. Compiled code computes the same in place.
pub fn number_fast(id: NativeId, args: &[Value]) -> Option<Value> {
    match (args, id) {
        ([Value::Int(i)], ids::ABS) if *i != i64::MIN => Some(Value::Int(i.abs())),
        ([Value::Float(f)], ids::ABS) => Some(Value::Float(f.abs())),
        ([Value::Int(i)], ids::FLOOR | ids::CEIL | ids::INT) => Some(Value::Int(*i)),
        ([Value::Float(f)], ids::FLOOR | ids::CEIL | ids::INT) => {
            let r = match id {
                ids::FLOOR => f.floor(),
                ids::CEIL => f.ceil(),
                _ => f.trunc(),
            };
            in_int_range(r).then_some(Value::Int(r as i64))
        }
        ([Value::Int(i)], ids::FLOAT) => Some(Value::Float(*i as f64)),
        ([Value::Float(f)], ids::FLOAT) => Some(Value::Float(*f)),
        // As `extreme`: the second replaces the first only when strictly smaller (larger),
        // so a NaN on either side keeps the first.
        ([Value::Int(a), Value::Int(b)], ids::MIN) => Some(Value::Int(if b < a { *b } else { *a })),
        ([Value::Int(a), Value::Int(b)], ids::MAX) => Some(Value::Int(if b > a { *b } else { *a })),
        ([Value::Float(a), Value::Float(b)], ids::MIN) => {
            Some(Value::Float(if b < a { *b } else { *a }))
        }
        ([Value::Float(a), Value::Float(b)], ids::MAX) => {
            Some(Value::Float(if b > a { *b } else { *a }))
        }
        _ => None,
    }
}

/// The builtin named `name`.
pub fn lookup(name: &str) -> Option<NativeId> {
    BUILTINS
        .iter()
        .position(|b| b.name == name)
        .map(|i| NativeId(i as u32))
}

/// The builtin with id `id`.
pub fn get(id: NativeId) -> &'static Builtin {
    &BUILTINS[id.0 as usize]
}

/// The name of builtin `id`.
pub fn name(id: NativeId) -> &'static str {
    get(id).name
}

/// The `ArityError` for calling `b` with `got` arguments.
#[cold]
pub fn arity_error(b: &Builtin, got: usize) -> Box<RtError> {
    let expected = if b.max_args == VARIADIC {
        format!(
            "at least {} argument{}",
            b.min_args,
            if b.min_args == 1 { "" } else { "s" }
        )
    } else if b.min_args == b.max_args {
        format!(
            "{} argument{}",
            b.min_args,
            if b.min_args == 1 { "" } else { "s" }
        )
    } else {
        format!("{} to {} arguments", b.min_args, b.max_args)
    };
    RtError::new(
        ErrorKind::ArityError,
        format!("'{}' expects {expected} but got {got}", b.name),
    )
}

#[cold]
fn arg_error(func: &str, pos: usize, expected: &str, got: Value) -> Box<RtError> {
    RtError::new(
        ErrorKind::TypeError,
        format!(
            "{func}() argument {pos} must be {expected}, not '{}'",
            got.type_name()
        ),
    )
}

fn list_arg(func: &str, pos: usize, v: Value) -> RtResult<Gc<List>> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(arg_error(func, pos, "a list", v)),
    }
}

fn map_arg(func: &str, pos: usize, v: Value) -> RtResult<Gc<Map>> {
    match v {
        Value::Map(m) => Ok(m),
        _ => Err(arg_error(func, pos, "a map", v)),
    }
}

fn str_arg(func: &str, pos: usize, v: Value) -> RtResult<Gc<Str>> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(arg_error(func, pos, "a string", v)),
    }
}

fn int_arg(func: &str, pos: usize, v: Value) -> RtResult<i64> {
    match v {
        Value::Int(i) => Ok(i),
        _ => Err(arg_error(func, pos, "an int", v)),
    }
}

fn new_str(vm: &mut Vm, s: String) -> RtResult<Value> {
    vm.check_string_len(s.len())?;
    Ok(Value::Str(vm.heap.alloc_string(s)?))
}

fn new_list(vm: &mut Vm, items: Items) -> RtResult<Value> {
    vm.check_list_len(items.len())?;
    Ok(Value::List(vm.heap.alloc_list(items)?))
}

fn b_print(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let mut line = String::new();
    let mut meter = Meter::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        vm.write_value(*a, false, &mut line, &mut meter)?;
        vm.check_string_len(line.len())?;
    }
    line.push('\n');
    vm.write_output(&line)?;
    Ok(Value::Nil)
}

fn b_len(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let n = match args[0] {
        Value::Str(s) => s.char_len(),
        Value::List(l) => l.items.borrow().len(),
        Value::Map(m) => m.entries.borrow().len(),
        v => return Err(arg_error("len", 1, "a string, list or map", v)),
    };
    Ok(Value::Int(n as i64))
}

// `str` of an int charges no fuel, as `display` would not: its work is below one unit.
const _: () = assert!(
    (work::VISIT as u64) < crate::config::ELEMENTS_PER_FUEL
        && (INT_TEXT_BYTES as u64) < crate::config::BYTES_PER_FUEL
);

fn b_str(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    match args[0] {
        Value::Str(_) => return Ok(args[0]),
        Value::Int(i) => {
            // What `display` does for an int, without its buffers: one value visited and at
            // most 20 bytes written are less than a unit of fuel, so nothing is charged.
            let mut buf = [0u8; INT_TEXT_BYTES];
            let text = format_int(i, &mut buf);
            vm.check_string_len(text.len())?;
            return Ok(Value::Str(vm.heap.alloc_str(text)?));
        }
        _ => {}
    }
    let s = vm.display(args[0])?;
    new_str(vm, s)
}

/// A float as an int, truncating, with range and NaN checks.
/// Whether the whole float `rounded` converts to an int: not NaN, within [-2^63, 2^63).
#[inline]
pub fn in_int_range(rounded: f64) -> bool {
    (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&rounded)
}

fn float_to_int(func: &str, f: f64, rounded: f64) -> RtResult<i64> {
    if rounded.is_nan() {
        return rt_err(
            ErrorKind::ValueError,
            format!("{func}() cannot convert nan to int"),
        );
    }
    if !in_int_range(rounded) {
        return rt_err(
            ErrorKind::OverflowError,
            format!("{func}() argument {} is out of int range", format_float(f)),
        );
    }
    Ok(rounded as i64)
}

fn b_int(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    match args[0] {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(f) => Ok(Value::Int(float_to_int("int", f, f.trunc())?)),
        Value::Str(s) => {
            // Checking then converting reads the text twice.
            vm.charge_work(0, 2 * s.as_str().len())?;
            let t = s.as_str();
            let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return rt_err(
                    ErrorKind::ValueError,
                    format!("invalid int literal: {}", quoted(t)),
                );
            }
            t.parse::<i64>().map(Value::Int).map_err(|_| {
                RtError::new(
                    ErrorKind::OverflowError,
                    format!("int literal {} is out of range", quoted(t)),
                )
            })
        }
        v => Err(arg_error("int", 1, "a number or a string", v)),
    }
}

fn quoted(s: &str) -> String {
    let mut out = String::new();
    quote_into(s, &mut out);
    out
}

/// Whether `t` is `[+-]? digits (. digits)? ([eE] [+-]? digits)?`, `inf` or `nan` (signed).
fn is_float_literal(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    if t == "inf" || t == "nan" {
        return true;
    }
    let b = t.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > s
    };
    if !digits(&mut i) {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

fn b_float(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    match args[0] {
        Value::Int(i) => Ok(Value::Float(i as f64)),
        Value::Float(f) => Ok(Value::Float(f)),
        Value::Str(s) => {
            // Checking then converting reads the text twice.
            vm.charge_work(0, 2 * s.as_str().len())?;
            let t = s.as_str();
            if !is_float_literal(t) {
                return rt_err(
                    ErrorKind::ValueError,
                    format!("invalid float literal: {}", quoted(t)),
                );
            }
            t.parse::<f64>().map(Value::Float).map_err(|_| {
                RtError::new(
                    ErrorKind::ValueError,
                    format!("invalid float literal: {}", quoted(t)),
                )
            })
        }
        v => Err(arg_error("float", 1, "a number or a string", v)),
    }
}

fn b_type(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    Ok(Value::Str(vm.heap.alloc_str(args[0].type_name())?))
}

fn b_abs(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    match args[0] {
        Value::Int(i) => i.checked_abs().map(Value::Int).ok_or_else(|| {
            RtError::new(
                ErrorKind::OverflowError,
                format!("integer overflow in abs({i})"),
            )
        }),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        v => Err(arg_error("abs", 1, "a number", v)),
    }
}

fn extreme(vm: &mut Vm, args: &[Value], func: &str, want: Cmp) -> RtResult<Value> {
    let mut meter = Meter::new();
    let from_list;
    let items: &[Value] = match (args.len(), args[0]) {
        (1, Value::List(l)) => {
            from_list = l.items.borrow().clone();
            meter.add(vm, from_list.len() * work::VISIT, 0)?;
            if from_list.is_empty() {
                return rt_err(ErrorKind::ValueError, format!("{func}() of an empty list"));
            }
            &from_list
        }
        _ => args,
    };
    let mut best = items[0];
    for &v in &items[1..] {
        if vm.compare_in(want, v, best, &mut meter)? {
            best = v;
        }
    }
    Ok(best)
}

fn b_min(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    extreme(vm, args, "min", Cmp::Lt)
}

fn b_max(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    extreme(vm, args, "max", Cmp::Gt)
}

fn num_arg(func: &str, v: Value) -> RtResult<f64> {
    match v {
        Value::Int(i) => Ok(i as f64),
        Value::Float(f) => Ok(f),
        _ => Err(arg_error(func, 1, "a number", v)),
    }
}

fn b_sqrt(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    Ok(Value::Float(num_arg("sqrt", args[0])?.sqrt()))
}

fn rounding(func: &str, v: Value, f: fn(f64) -> f64) -> RtResult<Value> {
    match v {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(x) => Ok(Value::Int(float_to_int(func, x, f(x))?)),
        _ => Err(arg_error(func, 1, "a number", v)),
    }
}

fn b_floor(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    rounding("floor", args[0], f64::floor)
}

fn b_ceil(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    rounding("ceil", args[0], f64::ceil)
}

fn b_round(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    rounding("round", args[0], f64::round)
}

fn b_pow(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    match (args[0], args[1]) {
        (Value::Int(a), Value::Int(b)) if b >= 0 => u32::try_from(b)
            .ok()
            .and_then(|b| a.checked_pow(b))
            .or(match a {
                0 | 1 => Some(a),
                -1 => Some(if b % 2 == 0 { 1 } else { -1 }),
                _ => None,
            })
            .map(Value::Int)
            .ok_or_else(|| {
                RtError::new(
                    ErrorKind::OverflowError,
                    format!("integer overflow in pow({a}, {b})"),
                )
            }),
        (a, b) => {
            let x = num_arg("pow", a)?;
            let y = match b {
                Value::Int(i) => i as f64,
                Value::Float(f) => f,
                _ => return Err(arg_error("pow", 2, "a number", b)),
            };
            Ok(Value::Float(x.powf(y)))
        }
    }
}

fn b_push(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let l = list_arg("push", 1, args[0])?;
    vm.list_push(l, args[1])?;
    Ok(Value::Nil)
}

fn b_pop(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let l = list_arg("pop", 1, args[0])?;
    l.items
        .borrow_mut()
        .pop()
        .ok_or_else(|| RtError::new(ErrorKind::IndexError, "pop from an empty list"))
}

fn b_insert(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let l = list_arg("insert", 1, args[0])?;
    let i = int_arg("insert", 2, args[1])?;
    let len = l.items.borrow().len();
    let Some(i) = usize::try_from(i).ok().filter(|&i| i <= len) else {
        return rt_err(
            ErrorKind::IndexError,
            format!("insert index {i} out of range for length {len}"),
        );
    };
    vm.check_list_len(len + 1)?;
    vm.charge_work((len - i) * work::MOVE, 0)?;
    vm.heap.reserve_items(l, 1)?;
    l.items.borrow_mut().insert(i, args[2]);
    Ok(Value::Nil)
}

fn b_remove(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    match args[0] {
        Value::List(l) => {
            let i = int_arg("remove", 2, args[1])?;
            let len = l.items.borrow().len();
            match checked_index(i, len) {
                Some(i) => {
                    vm.charge_work((len - i - 1) * work::MOVE, 0)?;
                    Ok(l.items.borrow_mut().remove(i))
                }
                None => rt_err(
                    ErrorKind::IndexError,
                    format!("list index {i} out of range for length {len}"),
                ),
            }
        }
        Value::Map(m) => {
            let key = map_key(args[1])?;
            let found = m.entries.borrow().get_index_of(&key);
            let Some(i) = found else {
                return Err(vm.key_error(key));
            };
            // The language charges for every later entry (each moves down one position),
            // though the table leaves a tombstone and moves none: fuel used is part of a
            // run's outcome, so the charge stays what §15 says.
            let len = m.entries.borrow().len();
            vm.charge_work((len - i - 1) * work::VISIT, 0)?;
            let removed = m.entries.borrow_mut().remove(&key);
            Ok(removed.unwrap_or(Value::Nil))
        }
        v => Err(arg_error("remove", 1, "a list or map", v)),
    }
}

fn b_keys(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let m = map_arg("keys", 1, args[0])?;
    vm.charge_work(m.entries.borrow().len() * work::MOVE, 0)?;
    let items = items_collect(m.entries.borrow().keys().map(|k| k.to_value()));
    new_list(vm, items)
}

fn b_values(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let m = map_arg("values", 1, args[0])?;
    vm.charge_work(m.entries.borrow().len() * work::MOVE, 0)?;
    let items = items_collect(m.entries.borrow().values().copied());
    new_list(vm, items)
}

fn b_has(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let m = map_arg("has", 1, args[0])?;
    let key = map_key(args[1])?;
    Ok(Value::bool(m.entries.borrow().contains_key(&key)))
}

fn b_contains(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    match args[0] {
        Value::List(l) => {
            let items = l.items.borrow().clone();
            let mut meter = Meter::new();
            meter.add(vm, items.len() * work::MOVE, 0)?;
            for v in items {
                if vm.equal_in(v, args[1], &mut meter)? {
                    return Ok(Value::True);
                }
            }
            Ok(Value::False)
        }
        Value::Str(s) => {
            let sub = str_arg("contains", 2, args[1])?;
            vm.charge_work(0, 2 * (s.as_str().len() + sub.as_str().len()))?;
            Ok(Value::bool(s.as_str().contains(sub.as_str())))
        }
        v => Err(arg_error("contains", 1, "a list or string", v)),
    }
}

/// Byte offset of character `i` in `s` (`i <= char_len`).
fn char_offset(s: &Str, i: usize) -> usize {
    if s.is_ascii() {
        i
    } else {
        s.as_str()
            .char_indices()
            .nth(i)
            .map_or(s.as_str().len(), |(o, _)| o)
    }
}

fn b_slice(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let start = int_arg("slice", 2, args[1])?;
    let end = int_arg("slice", 3, args[2])?;
    let len = match args[0] {
        Value::List(l) => l.items.borrow().len(),
        Value::Str(s) => s.char_len(),
        v => return Err(arg_error("slice", 1, "a list or string", v)),
    };
    let ok = 0 <= start && start <= end && (end as u64) <= len as u64;
    if !ok {
        return rt_err(
            ErrorKind::IndexError,
            format!("slice bounds {start}..{end} out of range for length {len}"),
        );
    }
    let (start, end) = (start as usize, end as usize);
    match args[0] {
        Value::List(l) => {
            vm.charge_work((end - start) * work::MOVE, 0)?;
            let items = items_from(&l.items.borrow()[start..end]);
            new_list(vm, items)
        }
        Value::Str(s) => {
            // Finding the ends walks the text up to the end (unless it is ASCII).
            let walked = if s.is_ascii() { end - start } else { end };
            vm.charge_work(0, walked)?;
            let (a, b) = (char_offset(&s, start), char_offset(&s, end));
            Ok(Value::Str(vm.heap.alloc_str(&s.as_str()[a..b])?))
        }
        _ => unreachable!("checked above"),
    }
}

fn b_join(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let l = list_arg("join", 1, args[0])?;
    let sep = str_arg("join", 2, args[1])?;
    let items = l.items.borrow().clone();
    let mut out = String::new();
    let mut meter = Meter::new();
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep.as_str());
            meter.add(vm, 0, sep.as_str().len())?;
        }
        vm.write_value(*v, false, &mut out, &mut meter)?;
        vm.check_string_len(out.len())?;
    }
    new_str(vm, out)
}

fn b_split(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let s = str_arg("split", 1, args[0])?;
    let sep = str_arg("split", 2, args[1])?;
    if sep.as_str().is_empty() {
        return rt_err(ErrorKind::ValueError, "split() separator must not be empty");
    }
    let mut meter = Meter::new();
    meter.add(vm, 0, s.as_str().len())?;
    let parts: Vec<&str> = s.as_str().split(sep.as_str()).collect();
    vm.check_list_len(parts.len())?;
    let mut items = items_with_capacity(parts.len());
    for p in parts {
        meter.add(vm, work::ALLOC, p.len())?;
        items.push(Value::Str(vm.heap.alloc_str(p)?));
    }
    new_list(vm, items)
}

fn b_upper(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let s = str_arg("upper", 1, args[0])?;
    vm.charge_work(0, s.as_str().len())?;
    new_str(vm, s.as_str().to_uppercase())
}

fn b_lower(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let s = str_arg("lower", 1, args[0])?;
    vm.charge_work(0, s.as_str().len())?;
    new_str(vm, s.as_str().to_lowercase())
}

fn b_trim(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let s = str_arg("trim", 1, args[0])?;
    vm.charge_work(0, s.as_str().len())?;
    Ok(Value::Str(vm.heap.alloc_str(s.as_str().trim())?))
}

fn b_find(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let s = str_arg("find", 1, args[0])?;
    let sub = str_arg("find", 2, args[1])?;
    vm.charge_work(0, 2 * (s.as_str().len() + sub.as_str().len()))?;
    Ok(Value::Int(match s.as_str().find(sub.as_str()) {
        Some(byte) => s.as_str()[..byte].chars().count() as i64,
        None => -1,
    }))
}

fn b_replace(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let s = str_arg("replace", 1, args[0])?;
    let from = str_arg("replace", 2, args[1])?;
    let to = str_arg("replace", 3, args[2])?;
    if from.as_str().is_empty() {
        return rt_err(ErrorKind::ValueError, "replace() pattern must not be empty");
    }
    let mut meter = Meter::new();
    meter.add(vm, 0, 2 * (s.as_str().len() + from.as_str().len()))?;
    let count = s.as_str().matches(from.as_str()).count();
    let len =
        s.as_str().len() - count * from.as_str().len() + count.saturating_mul(to.as_str().len());
    vm.check_string_len(len)?;
    meter.add(vm, 0, 2 * (s.as_str().len() + len))?;
    new_str(vm, s.as_str().replace(from.as_str(), to.as_str()))
}

fn b_starts_with(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let s = str_arg("starts_with", 1, args[0])?;
    let p = str_arg("starts_with", 2, args[1])?;
    vm.charge_work(0, s.as_str().len().min(p.as_str().len()))?;
    Ok(Value::bool(s.as_str().starts_with(p.as_str())))
}

fn b_ends_with(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let s = str_arg("ends_with", 1, args[0])?;
    let p = str_arg("ends_with", 2, args[1])?;
    vm.charge_work(0, s.as_str().len().min(p.as_str().len()))?;
    Ok(Value::bool(s.as_str().ends_with(p.as_str())))
}

fn b_chr(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let i = int_arg("chr", 1, args[0])?;
    let Some(c) = u32::try_from(i).ok().and_then(char::from_u32) else {
        return rt_err(
            ErrorKind::ValueError,
            format!("chr() argument {i} is not a valid code point"),
        );
    };
    let mut buf = [0u8; 4];
    Ok(Value::Str(vm.heap.alloc_str(c.encode_utf8(&mut buf))?))
}

fn b_ord(_: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let s = str_arg("ord", 1, args[0])?;
    if s.char_len() != 1 {
        return rt_err(
            ErrorKind::ValueError,
            format!(
                "ord() expects a string of length 1, got length {}",
                s.char_len()
            ),
        );
    }
    Ok(Value::Int(
        s.as_str().chars().next().map_or(0, |c| c as i64),
    ))
}

fn b_args(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    let given = Rc::clone(&vm.args);
    vm.check_list_len(given.len())?;
    let mut meter = Meter::new();
    let mut items = items_with_capacity(given.len());
    for a in given.iter() {
        meter.add(vm, work::ALLOC, a.len())?;
        items.push(Value::Str(vm.heap.alloc_str(a)?));
    }
    new_list(vm, items)
}

fn b_range(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let a = int_arg("range", 1, args[0])?;
    let b = int_arg("range", 2, args[1])?;
    let n = (b as i128 - a as i128).max(0);
    vm.check_collection_size(n as u128)?;
    vm.charge_work(n as usize * work::MOVE, 0)?;
    new_list(vm, items_collect((a..b.max(a)).map(Value::Int)))
}

/// Total order used by `sort`: numbers by value (NaN last), or strings by bytes.
fn sort_key_cmp(a: Value, b: Value) -> Ordering {
    let num_cmp = |x: f64, y: f64| match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    };
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(&y),
        (Value::Float(x), Value::Float(y)) => num_cmp(x, y),
        (Value::Int(x), Value::Float(y)) => {
            if y.is_nan() {
                Ordering::Less
            } else {
                cmp_int_float(x, y).unwrap_or(Ordering::Equal)
            }
        }
        (Value::Float(x), Value::Int(y)) => {
            if x.is_nan() {
                Ordering::Greater
            } else {
                cmp_int_float(y, x).map_or(Ordering::Equal, Ordering::reverse)
            }
        }
        (Value::Str(x), Value::Str(y)) => x.as_str().cmp(y.as_str()),
        _ => Ordering::Equal,
    }
}

fn b_sort(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let l = list_arg("sort", 1, args[0])?;
    let mut items = l.items.borrow().clone();
    let all_numbers = items
        .iter()
        .all(|v| matches!(v, Value::Int(_) | Value::Float(_)));
    let all_strings = items.iter().all(|v| matches!(v, Value::Str(_)));
    if !all_numbers && !all_strings {
        return rt_err(
            ErrorKind::TypeError,
            "sort() needs a list of numbers or a list of strings",
        );
    }
    // About n log n comparisons, each element taking part in about log n of them.
    let n = items.len();
    let rounds = (usize::BITS - n.leading_zeros()) as usize;
    let bytes: usize = items
        .iter()
        .map(|v| {
            if let Value::Str(s) = v {
                s.as_str().len()
            } else {
                0
            }
        })
        .sum();
    vm.charge_work(
        n.saturating_mul(rounds) * work::MOVE,
        bytes.saturating_mul(rounds),
    )?;
    items.sort_by(|a, b| sort_key_cmp(*a, *b));
    *l.items.borrow_mut() = items;
    Ok(Value::Nil)
}

fn b_reverse(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    let l = list_arg("reverse", 1, args[0])?;
    vm.charge_work(l.items.borrow().len() * work::MOVE, 0)?;
    l.items.borrow_mut().reverse();
    Ok(Value::Nil)
}

fn b_copy(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    match args[0] {
        Value::List(l) => {
            vm.charge_work(l.items.borrow().len() * work::MOVE, 0)?;
            let items = l.items.borrow().clone();
            new_list(vm, items)
        }
        Value::Map(m) => {
            vm.charge_work(m.entries.borrow().len() * work::INSERT, 0)?;
            let entries: Vec<(Key, Value)> =
                m.entries.borrow().iter().map(|(k, v)| (*k, *v)).collect();
            let copy = vm.heap.alloc_map()?;
            for (k, v) in entries {
                vm.map_insert(copy, k, v)?;
            }
            Ok(Value::Map(copy))
        }
        v => Err(arg_error("copy", 1, "a list or map", v)),
    }
}

fn b_assert(vm: &mut Vm, args: &[Value]) -> RtResult<Value> {
    if args[0].truthy() {
        return Ok(Value::Nil);
    }
    let message = match args.get(1) {
        Some(m) => vm.display(*m)?,
        None => "assertion failed".to_string(),
    };
    rt_err(ErrorKind::AssertionError, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for (i, b) in BUILTINS.iter().enumerate() {
            assert_eq!(lookup(b.name), Some(NativeId(i as u32)));
            assert!(b.min_args <= b.max_args);
        }
        assert_eq!(lookup("nope"), None);
    }

    #[test]
    fn float_literal_syntax() {
        for ok in ["1", "-1.5", "+2e10", "1.0e-3", "inf", "-nan"] {
            assert!(is_float_literal(ok), "{ok}");
        }
        for bad in ["", ".5", "1.", "1e", "infinity", " 1", "1_0", "0x10"] {
            assert!(!is_float_literal(bad), "{bad}");
        }
    }
}
