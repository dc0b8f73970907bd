//! The semantics of Echo's operators, in one place: arithmetic, comparison, equality,
//! indexing and printing. The interpreter inlines only the int/float fast paths and calls
//! these for everything else; compiled code calls the same functions through its helpers,
//! so both tiers agree by construction.

use std::cmp::Ordering;

use rustc_hash::FxHashSet;

use crate::error::ErrorKind;
use crate::runtime::error::{RtError, RtResult, rt_err};
use crate::runtime::heap::{Gc, Key, List, Map, Str, items_with_capacity};
use crate::runtime::value::Value;
use crate::runtime::vm::Vm;
use crate::runtime::work::{self, Meter};
use crate::text::{INT_TEXT_BYTES, format_float, format_int, quote_into};

/// An operator enum with a symbol per variant, numbered from 0 (`repr(u8)`): the number is
/// how compiled code passes the operator to a helper, and `from_code` checks it, so a number
/// that is no operator is an error rather than some other operator.
macro_rules! operators {
    ($(#[doc = $doc:literal])* $name:ident { $( $(#[doc = $vdoc:literal])* $variant:ident => $symbol:literal, )* }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant, )*
        }

        impl $name {
            /// Every operator, in code order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            /// Source spelling.
            pub fn symbol(self) -> &'static str {
                match self {
                    $( $name::$variant => $symbol, )*
                }
            }

            /// The number compiled code passes for it.
            pub fn code(self) -> u64 {
                self as u64
            }

            /// The operator numbered `code`, if any.
            pub fn from_code(code: u64) -> Option<$name> {
                usize::try_from(code).ok().and_then(|i| $name::ALL.get(i).copied())
            }
        }
    };
}

operators! {
    /// The arithmetic operators, for messages and dispatch.
    Arith {
        /// `+`
        Add => "+",
        /// `-`
        Sub => "-",
        /// `*`
        Mul => "*",
        /// `/`
        Div => "/",
        /// `%`
        Mod => "%",
    }
}

operators! {
    /// The ordering operators.
    Cmp {
        /// `<`
        Lt => "<",
        /// `<=`
        Le => "<=",
        /// `>`
        Gt => ">",
        /// `>=`
        Ge => ">=",
    }
}

impl Cmp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Lt => o == Ordering::Less,
            Cmp::Le => o != Ordering::Greater,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Ge => o != Ordering::Less,
        }
    }
}

/// The `OverflowError` for `a op b`.
#[cold]
pub fn overflow(op: Arith, a: i64, b: i64) -> Box<RtError> {
    RtError::new(
        ErrorKind::OverflowError,
        format!("integer overflow in {a} {} {b}", op.symbol()),
    )
}

/// Integer arithmetic, checked.
#[inline]
pub fn int_arith(op: Arith, a: i64, b: i64) -> RtResult<i64> {
    let r = match op {
        Arith::Add => a.checked_add(b),
        Arith::Sub => a.checked_sub(b),
        Arith::Mul => a.checked_mul(b),
        Arith::Div => {
            if b == 0 {
                return rt_err(ErrorKind::ZeroDivisionError, "integer division by zero");
            }
            a.checked_div(b)
        }
        Arith::Mod => {
            if b == 0 {
                return rt_err(ErrorKind::ZeroDivisionError, "integer modulo by zero");
            }
            // i64::MIN % -1 is mathematically 0; only the hardware instruction overflows.
            Some(a.wrapping_rem(b))
        }
    };
    r.ok_or_else(|| overflow(op, a, b))
}

/// Float arithmetic (IEEE 754; `%` is the truncated remainder, like C's `fmod`).
#[inline]
pub fn float_arith(op: Arith, a: f64, b: f64) -> f64 {
    match op {
        Arith::Add => a + b,
        Arith::Sub => a - b,
        Arith::Mul => a * b,
        Arith::Div => a / b,
        Arith::Mod => a % b,
    }
}

/// Exact comparison of an int with a float (no rounding of large ints); `None` for NaN.
pub fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63 as f64 is exact; every float at or above it exceeds every i64.
    if f >= 9_223_372_036_854_775_808.0 {
        return Some(Ordering::Less);
    }
    if f < -9_223_372_036_854_775_808.0 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    let ti = t as i64; // exact: t is integral and in range
    match i.cmp(&ti) {
        Ordering::Equal => {
            let frac = f - t;
            Some(if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        o => Some(o),
    }
}

/// The message of a `TypeError` for an operator on two values.
#[cold]
pub fn operand_error(op: &str, a: Value, b: Value) -> Box<RtError> {
    RtError::new(
        ErrorKind::TypeError,
        format!(
            "unsupported operand types for {op}: '{}' and '{}'",
            a.type_name(),
            b.type_name()
        ),
    )
}

impl Vm {
    /// `a op b` for every operand type combination.
    pub fn arith(&mut self, op: Arith, a: Value, b: Value) -> RtResult<Value> {
        Ok(match (a, b) {
            (Value::Int(x), Value::Int(y)) => Value::Int(int_arith(op, x, y)?),
            (Value::Float(x), Value::Float(y)) => Value::Float(float_arith(op, x, y)),
            (Value::Int(x), Value::Float(y)) => Value::Float(float_arith(op, x as f64, y)),
            (Value::Float(x), Value::Int(y)) => Value::Float(float_arith(op, x, y as f64)),
            (Value::Str(x), Value::Str(y)) if op == Arith::Add => {
                let len = x.as_str().len() + y.as_str().len();
                self.check_string_len(len)?;
                self.charge_work(0, len)?;
                let chars = x.char_len() + y.char_len();
                Value::Str(self.heap.alloc_text(len, Some(chars), |w| {
                    w.push_str(x.as_str());
                    w.push_str(y.as_str());
                })?)
            }
            (Value::List(x), Value::List(y)) if op == Arith::Add => {
                let len = x.items.borrow().len() + y.items.borrow().len();
                self.check_list_len(len)?;
                self.charge_work(len * work::MOVE, 0)?;
                let mut items = items_with_capacity(len);
                items.extend_from_slice(&x.items.borrow());
                items.extend_from_slice(&y.items.borrow());
                self.check_list_len(items.len())?;
                Value::List(self.heap.alloc_list(items)?)
            }
            (Value::Str(s), Value::Int(n)) | (Value::Int(n), Value::Str(s)) if op == Arith::Mul => {
                let n = repeat_count(n)?;
                self.check_string_size(s.as_str().len() as u128 * n as u128)?;
                // Repeating the empty string is empty whatever the count.
                let n = if s.as_str().is_empty() { 0 } else { n };
                let len = s.as_str().len() * n;
                self.charge_work(0, len)?;
                let chars = s.char_len() * n;
                Value::Str(
                    self.heap
                        .alloc_text(len, Some(chars), |w| w.push_repeated(s.as_str(), n))?,
                )
            }
            (Value::List(l), Value::Int(n)) | (Value::Int(n), Value::List(l))
                if op == Arith::Mul =>
            {
                let n = repeat_count(n)?;
                // Repeating an empty list is empty whatever the count (no work per repeat).
                let n = if l.items.borrow().is_empty() { 0 } else { n };
                let items = l.items.borrow();
                self.check_collection_size(items.len() as u128 * n as u128)?;
                let len = items.len() * n;
                self.charge_work(len * work::MOVE, 0)?;
                let mut out = items_with_capacity(len);
                for _ in 0..n {
                    out.extend_from_slice(&items);
                }
                drop(items);
                Value::List(self.heap.alloc_list(out)?)
            }
            _ => return Err(operand_error(op.symbol(), a, b)),
        })
    }

    /// `-v`.
    pub fn negate(&mut self, v: Value) -> RtResult<Value> {
        match v {
            Value::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(|| {
                RtError::new(
                    ErrorKind::OverflowError,
                    format!("integer overflow in -({i})"),
                )
            }),
            Value::Float(f) => Ok(Value::Float(-f)),
            _ => rt_err(
                ErrorKind::TypeError,
                format!("unsupported operand type for unary -: '{}'", v.type_name()),
            ),
        }
    }

    /// `a < b` and friends: numbers (exactly, across int and float) and strings (by bytes).
    pub fn compare(&self, op: Cmp, a: Value, b: Value) -> RtResult<bool> {
        self.compare_in(op, a, b, &mut Meter::new())
    }

    /// `compare`, counting the bytes of strings compared on `meter`.
    pub fn compare_in(&self, op: Cmp, a: Value, b: Value, meter: &mut Meter) -> RtResult<bool> {
        let ord = match (a, b) {
            (Value::Int(x), Value::Int(y)) => Some(x.cmp(&y)),
            (Value::Float(x), Value::Float(y)) => x.partial_cmp(&y),
            (Value::Int(x), Value::Float(y)) => cmp_int_float(x, y),
            (Value::Float(x), Value::Int(y)) => cmp_int_float(y, x).map(Ordering::reverse),
            (Value::Str(x), Value::Str(y)) => {
                meter.add(self, 0, x.as_str().len().min(y.as_str().len()))?;
                Some(x.as_str().cmp(y.as_str()))
            }
            _ => {
                return rt_err(
                    ErrorKind::TypeError,
                    format!(
                        "'{}' not supported between '{}' and '{}'",
                        op.symbol(),
                        a.type_name(),
                        b.type_name()
                    ),
                );
            }
        };
        Ok(ord.is_some_and(|o| op.holds(o)))
    }

    /// `a == b`: numbers by value (across int and float), strings by content, lists and maps
    /// structurally (cycles compare equal where they match up), everything else by identity.
    /// Iterative, so arbitrarily deep structures cannot exhaust the host stack. Charges fuel
    /// for its work (pairs of values compared, bytes of strings compared), so it can fail.
    pub fn equal(&self, a: Value, b: Value) -> RtResult<bool> {
        self.equal_in(a, b, &mut Meter::new())
    }

    /// `equal`, counting its work on `meter` (an operation that compares many values).
    pub fn equal_in(&self, a: Value, b: Value, meter: &mut Meter) -> RtResult<bool> {
        if !matches!(
            (a, b),
            (Value::List(_), Value::List(_)) | (Value::Map(_), Value::Map(_))
        ) {
            meter.add(self, work::VISIT, string_pair_bytes(a, b))?;
            return Ok(shallow_equal(a, b));
        }
        let mut work: Vec<(Value, Value)> = vec![(a, b)];
        let mut assumed: FxHashSet<(usize, usize)> = FxHashSet::default();
        while let Some((x, y)) = work.pop() {
            meter.add(self, work::VISIT, string_pair_bytes(x, y))?;
            let same = match (x, y) {
                (Value::List(p), Value::List(q)) => {
                    if Gc::ptr_eq(p, q) || !assumed.insert((p.addr(), q.addr())) {
                        continue;
                    }
                    let (pi, qi) = (p.items.borrow(), q.items.borrow());
                    if pi.len() != qi.len() {
                        false
                    } else {
                        work.extend(pi.iter().copied().zip(qi.iter().copied()));
                        true
                    }
                }
                (Value::Map(p), Value::Map(q)) => {
                    if Gc::ptr_eq(p, q) || !assumed.insert((p.addr(), q.addr())) {
                        continue;
                    }
                    let (pe, qe) = (p.entries.borrow(), q.entries.borrow());
                    if pe.len() != qe.len() {
                        false
                    } else {
                        let mut ok = true;
                        for (k, v) in pe.iter() {
                            match qe.get(k) {
                                Some(w) => work.push((*v, *w)),
                                None => {
                                    ok = false;
                                    break;
                                }
                            }
                        }
                        ok
                    }
                }
                _ => shallow_equal(x, y),
            };
            if !same {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Fails with `SizeLimit` if a string of `len` bytes is over the limit.
    pub fn check_string_len(&self, len: usize) -> RtResult<()> {
        self.check_string_size(len as u128)
    }

    /// Like `check_string_len`, for sizes that may not fit a `usize` (so the message gives the
    /// true size).
    pub fn check_string_size(&self, len: u128) -> RtResult<()> {
        if len > self.limits.max_string_bytes as u128 {
            return rt_err(
                ErrorKind::SizeLimit,
                format!(
                    "string of {len} bytes exceeds the limit of {} bytes",
                    self.limits.max_string_bytes
                ),
            );
        }
        Ok(())
    }

    /// Fails with `SizeLimit` if a list or map of `len` elements is over the limit.
    pub fn check_list_len(&self, len: usize) -> RtResult<()> {
        self.check_collection_size(len as u128)
    }

    /// Like `check_list_len`, for sizes that may not fit a `usize`.
    pub fn check_collection_size(&self, len: u128) -> RtResult<()> {
        if len > self.limits.max_collection_len as u128 {
            return rt_err(
                ErrorKind::SizeLimit,
                format!(
                    "collection of {len} elements exceeds the limit of {} elements",
                    self.limits.max_collection_len
                ),
            );
        }
        Ok(())
    }

    /// Appends to a list, checking the size limit and accounting the bytes.
    pub fn list_push(&mut self, list: Gc<List>, v: Value) -> RtResult<()> {
        let len = list.items.borrow().len() + 1;
        self.check_list_len(len)?;
        self.heap.reserve_items(list, 1)?;
        list.items.borrow_mut().push(v);
        Ok(())
    }

    /// Appends several values to a list, checking the size limit and accounting the bytes.
    pub fn list_extend(&mut self, list: Gc<List>, items: &[Value]) -> RtResult<()> {
        let len = list.items.borrow().len() + items.len();
        self.check_list_len(len)?;
        self.heap.reserve_items(list, items.len())?;
        list.items.borrow_mut().extend_from_slice(items);
        Ok(())
    }

    /// Inserts or updates a map entry, checking the size limit and accounting the bytes.
    pub fn map_insert(&mut self, map: Gc<Map>, key: Key, v: Value) -> RtResult<()> {
        let mut entries = map.entries.borrow_mut();
        if let Some(slot) = entries.get_mut(&key) {
            *slot = v;
            return Ok(());
        }
        let len = entries.len() + 1;
        drop(entries);
        self.check_list_len(len)?;
        self.heap.reserve_entry(map)?;
        map.entries.borrow_mut().insert_new(key, v);
        Ok(())
    }

    /// `obj[index]`.
    pub fn get_index(&mut self, obj: Value, index: Value) -> RtResult<Value> {
        match obj {
            Value::List(l) => {
                let i = int_index(index, "list")?;
                let items = l.items.borrow();
                match checked_index(i, items.len()) {
                    Some(i) => Ok(items[i]),
                    None => rt_err(
                        ErrorKind::IndexError,
                        format!("list index {i} out of range for length {}", items.len()),
                    ),
                }
            }
            Value::Str(s) => {
                let i = int_index(index, "string")?;
                match checked_index(i, s.char_len()) {
                    Some(i) if s.is_ascii() => {
                        Ok(Value::Str(self.heap.ascii_char(s.as_str().as_bytes()[i])))
                    }
                    Some(i) => {
                        // Finding the character walks the text up to it.
                        self.charge_work(0, i)?;
                        let ch = nth_char(s, i);
                        let mut buf = [0u8; 4];
                        Ok(Value::Str(self.heap.alloc_str(ch.encode_utf8(&mut buf))?))
                    }
                    None => rt_err(
                        ErrorKind::IndexError,
                        format!("string index {i} out of range for length {}", s.char_len()),
                    ),
                }
            }
            Value::Map(m) => {
                let key = map_key(index)?;
                match m.entries.borrow().get(&key) {
                    Some(v) => Ok(*v),
                    None => Err(self.key_error(key)),
                }
            }
            _ => rt_err(
                ErrorKind::TypeError,
                format!("'{}' value is not indexable", obj.type_name()),
            ),
        }
    }

    /// `obj[index] = v`.
    pub fn set_index(&mut self, obj: Value, index: Value, v: Value) -> RtResult<()> {
        match obj {
            Value::List(l) => {
                let i = int_index(index, "list")?;
                let mut items = l.items.borrow_mut();
                let len = items.len();
                match checked_index(i, len) {
                    Some(i) => {
                        items[i] = v;
                        Ok(())
                    }
                    None => rt_err(
                        ErrorKind::IndexError,
                        format!("list index {i} out of range for length {len}"),
                    ),
                }
            }
            Value::Map(m) => {
                let key = map_key(index)?;
                self.map_insert(m, key, v)
            }
            Value::Str(_) => rt_err(ErrorKind::TypeError, "strings are immutable"),
            _ => rt_err(
                ErrorKind::TypeError,
                format!(
                    "'{}' value does not support item assignment",
                    obj.type_name()
                ),
            ),
        }
    }

    /// The `KeyError` for a missing key.
    #[cold]
    pub fn key_error(&self, key: Key) -> Box<RtError> {
        let shown = match self.repr(key.to_value()) {
            Ok(shown) => shown,
            Err(e) if e.kind == ErrorKind::FuelExhausted => return e,
            Err(_) => "...".to_string(),
        };
        RtError::new(ErrorKind::KeyError, format!("key {shown} not found in map"))
    }

    /// The printed form of a value (`print`, `str`): strings bare, everything else as in
    /// [`Vm::repr`].
    pub fn display(&self, v: Value) -> RtResult<String> {
        let mut out = String::new();
        self.write_value(v, false, &mut out, &mut Meter::new())?;
        Ok(out)
    }

    /// The printed form with strings quoted, as they appear inside lists and maps.
    pub fn repr(&self, v: Value) -> RtResult<String> {
        let mut out = String::new();
        self.write_value(v, true, &mut out, &mut Meter::new())?;
        Ok(out)
    }

    /// The printed form of a run's outcome (`repr` when `quote`, else `display`), charging
    /// no fuel: the program's work is over.
    pub fn outcome_text(&self, v: Value, quote: bool) -> RtResult<String> {
        let mut out = String::new();
        self.write_value(v, quote, &mut out, &mut Meter::free())?;
        Ok(out)
    }

    /// Appends the printed form of `v`. Iterative with an explicit stack (deep nesting is
    /// fine); a container already being printed shows as `[...]`, `{...}` or `Name {...}`;
    /// fails with `SizeLimit` once the text passes the string size limit. `meter` is charged
    /// for every value visited and every byte written.
    pub fn write_value(
        &self,
        v: Value,
        quote_top: bool,
        out: &mut String,
        meter: &mut Meter,
    ) -> RtResult<()> {
        enum Item {
            Val(Value),
            Text(&'static str),
            ListAt(Gc<List>, usize),
            MapAt(Gc<Map>, usize),
            FieldsAt(Gc<crate::runtime::heap::Instance>, usize),
            Leave(usize),
        }
        if let (Value::Str(s), false) = (v, quote_top) {
            self.check_string_len(out.len() + s.as_str().len())?;
            meter.add(self, work::VISIT, s.as_str().len())?;
            out.push_str(s.as_str());
            return Ok(());
        }
        let max = self.limits.max_string_bytes;
        let mut active: FxHashSet<usize> = FxHashSet::default();
        let mut stack = vec![Item::Val(v)];
        while let Some(item) = stack.pop() {
            let written = out.len();
            let visits = if matches!(item, Item::Val(_)) {
                work::VISIT
            } else {
                0
            };
            match item {
                Item::Text(t) => out.push_str(t),
                Item::Leave(addr) => {
                    active.remove(&addr);
                }
                Item::ListAt(l, i) => {
                    let items = l.items.borrow();
                    if i < items.len() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        stack.push(Item::ListAt(l, i + 1));
                        stack.push(Item::Val(items[i]));
                    }
                }
                Item::MapAt(m, i) => {
                    let entries = m.entries.borrow();
                    if let Some((k, v)) = entries.get_index(i) {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        stack.push(Item::MapAt(m, i + 1));
                        stack.push(Item::Val(*v));
                        stack.push(Item::Text(": "));
                        stack.push(Item::Val(k.to_value()));
                    }
                }
                Item::FieldsAt(inst, i) => {
                    if i < inst.field_count() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        let name = self.shapes.fields(inst.shape.get())[i];
                        stack.push(Item::FieldsAt(inst, i + 1));
                        stack.push(Item::Val(inst.field(i)));
                        out.push_str(self.program.symbols.name(name));
                        out.push_str(": ");
                    }
                }
                Item::Val(v) => match v {
                    Value::Nil => out.push_str("nil"),
                    Value::True => out.push_str("true"),
                    Value::False => out.push_str("false"),
                    Value::Int(i) => out.push_str(format_int(i, &mut [0; INT_TEXT_BYTES])),
                    Value::Float(f) => out.push_str(&format_float(f)),
                    Value::Str(s) => quote_into(s.as_str(), out),
                    Value::List(l) => {
                        if active.insert(l.addr()) {
                            out.push('[');
                            stack.push(Item::Leave(l.addr()));
                            stack.push(Item::Text("]"));
                            stack.push(Item::ListAt(l, 0));
                        } else {
                            out.push_str("[...]");
                        }
                    }
                    Value::Map(m) => {
                        if active.insert(m.addr()) {
                            out.push('{');
                            stack.push(Item::Leave(m.addr()));
                            stack.push(Item::Text("}"));
                            stack.push(Item::MapAt(m, 0));
                        } else {
                            out.push_str("{...}");
                        }
                    }
                    Value::Instance(inst) => {
                        out.push_str(inst.class.name.as_str());
                        if active.insert(inst.addr()) {
                            out.push_str(" {");
                            stack.push(Item::Leave(inst.addr()));
                            stack.push(Item::Text("}"));
                            stack.push(Item::FieldsAt(inst, 0));
                        } else {
                            out.push_str(" {...}");
                        }
                    }
                    Value::Func(c) => {
                        let name = &self.program.proto(c.proto).name;
                        if name == crate::syntax::parser::ANON_FN_NAME {
                            out.push_str("<fn>");
                        } else {
                            out.push_str("<fn ");
                            out.push_str(name);
                            out.push('>');
                        }
                    }
                    Value::Native(id) => {
                        out.push_str("<builtin ");
                        out.push_str(crate::runtime::builtins::name(id));
                        out.push('>');
                    }
                    Value::Class(c) => {
                        out.push_str("<class ");
                        out.push_str(c.name.as_str());
                        out.push('>');
                    }
                    Value::Method(m) => {
                        out.push_str("<method ");
                        out.push_str(&self.program.proto(m.method.proto).name);
                        out.push('>');
                    }
                    Value::Undef | Value::Boxed(_) => out.push_str("<internal>"),
                },
            }
            if out.len() > max {
                return self.check_string_len(out.len());
            }
            meter.add(self, visits, out.len() - written)?;
        }
        Ok(())
    }
}

/// Bytes `shallow_equal` compares for two values: those of two distinct strings of the same
/// length (strings of different lengths differ at once).
fn string_pair_bytes(a: Value, b: Value) -> usize {
    match (a, b) {
        (Value::Str(p), Value::Str(q))
            if !Gc::ptr_eq(p, q) && p.as_str().len() == q.as_str().len() =>
        {
            p.as_str().len()
        }
        _ => 0,
    }
}

/// Equality of two values without looking inside containers.
pub fn shallow_equal(a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) | (Value::True, Value::True) | (Value::False, Value::False) => {
            true
        }
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => {
            cmp_int_float(x, y) == Some(Ordering::Equal)
        }
        (Value::Str(x), Value::Str(y)) => Gc::ptr_eq(x, y) || x.as_str() == y.as_str(),
        (Value::List(x), Value::List(y)) => Gc::ptr_eq(x, y),
        (Value::Map(x), Value::Map(y)) => Gc::ptr_eq(x, y),
        (Value::Func(x), Value::Func(y)) => Gc::ptr_eq(x, y),
        (Value::Native(x), Value::Native(y)) => x == y,
        (Value::Class(x), Value::Class(y)) => Gc::ptr_eq(x, y),
        (Value::Instance(x), Value::Instance(y)) => Gc::ptr_eq(x, y),
        (Value::Method(x), Value::Method(y)) => {
            Gc::ptr_eq(x.method, y.method) && shallow_equal(x.receiver, y.receiver)
        }
        _ => false,
    }
}

/// A repeat count for `*`: non-negative.
fn repeat_count(n: i64) -> RtResult<usize> {
    if n < 0 {
        return rt_err(
            ErrorKind::ValueError,
            format!("repeat count must not be negative, got {n}"),
        );
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// An index operand: must be an int.
fn int_index(index: Value, what: &str) -> RtResult<i64> {
    match index {
        Value::Int(i) => Ok(i),
        _ => rt_err(
            ErrorKind::TypeError,
            format!("{what} index must be an int, not '{}'", index.type_name()),
        ),
    }
}

/// `i` as a position in `0..len`.
#[inline]
pub fn checked_index(i: i64, len: usize) -> Option<usize> {
    usize::try_from(i).ok().filter(|&i| i < len)
}

/// A value as a map key: ints and strings only.
pub fn map_key(v: Value) -> RtResult<Key> {
    match v {
        Value::Int(i) => Ok(Key::Int(i)),
        Value::Str(s) => Ok(Key::Str(s)),
        _ => rt_err(
            ErrorKind::TypeError,
            format!("map keys must be int or string, not '{}'", v.type_name()),
        ),
    }
}

/// The `i`-th character of a string (`i < char_len`), O(1) for ASCII strings.
pub fn nth_char(s: Gc<Str>, i: usize) -> char {
    if s.is_ascii() {
        s.as_str().as_bytes()[i] as char
    } else {
        s.as_str().chars().nth(i).unwrap_or('\u{fffd}')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_interp(src: &str, gc_stress: bool) -> crate::Outcome {
        let config = crate::Config {
            tier: crate::Tier::Interp,
            gc_stress,
            ..crate::Config::default()
        };
        crate::run(src, &config)
    }

    #[test]
    fn indexing_and_iterating_ascii_text_allocates_nothing() {
        let src = "let s = \"ab,c\" * 50; let n = 0;
            for i in 0..len(s) { n += ord(s[i]); }
            for c in s { n += ord(c); }
            for i in 0..128 { if chr(i) == slice(s, 0, 1) { n += 1; } }
            print(n, s[199]);";
        let outcome = run_interp(src, false);
        assert_eq!(outcome.output, "33801 c\n");
        // The constants, the repeated string and the Error class: nothing per character (the
        // interpreter made 662 objects here when each character was a new string).
        let allocations = outcome.stats.heap.allocations;
        assert!(allocations < 10, "{allocations} allocations");
    }

    #[test]
    fn shared_and_built_strings_survive_collections_at_every_safepoint() {
        let src = "let keep = []; let u = \"é\" + \"x😀y\";
            for i in 0..40 {
                let s = str(i) + \"-\" + str(-i * 7) + u;
                for c in s { push(keep, c); }
                push(keep, s[0] + s[len(s) - 1] + slice(s, 1, 2) + s * 2);
            }
            let m = {};
            for c in keep { if len(c) == 1 { m[c] = has(m, c); } }
            print(len(keep), len(m), keep[0], keep[len(keep) - 1], m[\"x\"], m[\"😀\"]);";
        let stressed = run_interp(src, true);
        assert_eq!(stressed, run_interp(src, false));
        assert_eq!(
            stressed.output,
            "452 15 0 3y939--273éx😀y39--273éx😀y true true\n"
        );
        assert!(stressed.stats.heap.collections > 500);
    }

    #[test]
    fn operator_codes_round_trip_and_unknown_codes_are_none() {
        for &op in Arith::ALL {
            assert_eq!(Arith::from_code(op.code()), Some(op));
        }
        for &op in Cmp::ALL {
            assert_eq!(Cmp::from_code(op.code()), Some(op));
        }
        assert_eq!(Arith::from_code(Arith::ALL.len() as u64), None);
        assert_eq!(Cmp::from_code(u64::MAX), None);
        assert_eq!(Arith::Mod.symbol(), "%");
    }

    #[test]
    fn int_float_comparison_is_exact() {
        assert_eq!(cmp_int_float(1, 1.0), Some(Ordering::Equal));
        assert_eq!(cmp_int_float(1, 1.5), Some(Ordering::Less));
        assert_eq!(cmp_int_float(-1, -1.5), Some(Ordering::Greater));
        // 2^53 + 1 is not representable: the float 2^53 is smaller.
        assert_eq!(
            cmp_int_float(9_007_199_254_740_993, 9_007_199_254_740_992.0),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cmp_int_float(i64::MAX, 9_223_372_036_854_775_808.0),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp_int_float(i64::MIN, -9_223_372_036_854_775_808.0),
            Some(Ordering::Equal)
        );
        assert_eq!(cmp_int_float(0, f64::NAN), None);
        assert_eq!(cmp_int_float(0, f64::INFINITY), Some(Ordering::Less));
    }

    #[test]
    fn checked_int_arithmetic() {
        assert_eq!(int_arith(Arith::Div, -7, 2).unwrap(), -3);
        assert_eq!(int_arith(Arith::Mod, -7, 2).unwrap(), -1);
        assert_eq!(int_arith(Arith::Mod, i64::MIN, -1).unwrap(), 0);
        assert_eq!(
            int_arith(Arith::Div, i64::MIN, -1).unwrap_err().kind,
            ErrorKind::OverflowError
        );
        assert_eq!(
            int_arith(Arith::Add, i64::MAX, 1).unwrap_err().message,
            "integer overflow in 9223372036854775807 + 1"
        );
        assert_eq!(
            int_arith(Arith::Div, 1, 0).unwrap_err().kind,
            ErrorKind::ZeroDivisionError
        );
        assert_eq!(
            int_arith(Arith::Mod, 1, 0).unwrap_err().message,
            "integer modulo by zero"
        );
    }
}
