//! `for` loops: checking what a `for ... in` iterates over and stepping through it, and the
//! error of a numeric range with bad bounds.

use crate::error::ErrorKind;
use crate::runtime::error::{RtError, RtResult, rt_err};
use crate::runtime::value::Value;
use crate::runtime::vm::Vm;

impl Vm {
    /// `IterPrep` on the register at stack index `slot`: checks the iterable and resets the
    /// cursor in the next register.
    pub(crate) fn iter_prep(&mut self, slot: usize) -> RtResult<()> {
        let v = self.stack.get(slot);
        if !matches!(v, Value::List(_) | Value::Map(_) | Value::Str(_)) {
            return rt_err(
                ErrorKind::TypeError,
                format!("cannot iterate over '{}' value", v.type_name()),
            );
        }
        self.stack.set(slot + 1, Value::Int(0));
        Ok(())
    }

    /// The next element of a `for ... in` over `coll` at cursor `cur`, and the next cursor.
    /// Lists and maps use an element index (maps yield keys); strings a byte offset.
    pub(crate) fn iter_next(
        &mut self,
        coll: Value,
        cur: usize,
    ) -> RtResult<Option<(Value, usize)>> {
        Ok(match coll {
            Value::List(l) => l.items.borrow().get(cur).map(|v| (*v, cur + 1)),
            Value::Map(m) => m
                .entries
                .borrow()
                .get_index(cur)
                .map(|(k, _)| (k.to_value(), cur + 1)),
            Value::Str(s) => match s.as_str().as_bytes().get(cur) {
                // An ASCII character is its byte, and its string is shared.
                Some(&b) if b.is_ascii() => Some((Value::Str(self.heap.ascii_char(b)), cur + 1)),
                _ => match s.as_str().get(cur..).and_then(|t| t.chars().next()) {
                    Some(ch) => {
                        let mut buf = [0u8; 4];
                        let v = Value::Str(self.heap.alloc_str(ch.encode_utf8(&mut buf))?);
                        Some((v, cur + ch.len_utf8()))
                    }
                    None => None,
                },
            },
            _ => unreachable!("IterPrep checked the type"),
        })
    }

    /// The error of a `for` range whose bounds are not both ints.
    #[cold]
    pub(crate) fn range_error(&self, start: Value, end: Value) -> Box<RtError> {
        let bad = if matches!(start, Value::Int(_)) {
            end
        } else {
            start
        };
        RtError::new(
            ErrorKind::TypeError,
            format!("range bounds must be ints, not '{}'", bad.type_name()),
        )
    }
}
