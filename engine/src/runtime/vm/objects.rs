//! Objects: property reads and writes on instances (shape lookups that fill the inline
//! caches), class objects, and the `Error` instances that `catch` receives.

use crate::bytecode::ClassIdx;
use crate::error::ErrorKind;
use crate::runtime::error::{RtResult, rt_err};
use crate::runtime::heap::{BoundMethod, Class, Gc};
use crate::runtime::shape::ShapeId;
use crate::runtime::value::Value;
use crate::runtime::vm::{Ic, Vm};
use crate::symbol::{self, Symbol};

impl Vm {
    /// Fills cache `ic` with the field entry `(shape, slot)`, remembering the field entry it
    /// replaces (see `IcHistory`).
    fn fill_field_ic(&mut self, ic: usize, shape: ShapeId, slot: u32) {
        let old = self.ics[ic];
        if old.shape != ShapeId::NONE
            && old.shape != shape
            && old.method.is_none()
            && old.next == old.shape
        {
            self.ic_history
                .entry(ic)
                .or_default()
                .push(old.shape, old.slot);
        }
        self.ics[ic] = Ic {
            shape,
            slot,
            next: shape,
            method: None,
        };
    }

    /// `obj.m` when it is not a plain field hit: a method (bound) or an error.
    pub(crate) fn get_prop(&mut self, obj: Value, m: Symbol, ic: Option<usize>) -> RtResult<Value> {
        let Value::Instance(inst) = obj else {
            return rt_err(
                ErrorKind::AttributeError,
                format!(
                    "'{}' value has no property '{}'",
                    obj.type_name(),
                    self.program.symbols.name(m)
                ),
            );
        };
        let shape = inst.shape.get();
        if let Some(i) = self.shapes.slot(shape, m) {
            if let Some(ic) = ic {
                self.fill_field_ic(ic, shape, i);
            }
            return Ok(inst.field(i as usize));
        }
        match inst.class.methods.get(&m) {
            Some(&method) => Ok(Value::Method(self.heap.alloc(BoundMethod {
                receiver: obj,
                method,
            })?)),
            None => rt_err(
                ErrorKind::AttributeError,
                format!(
                    "'{}' instance has no field or method '{}'",
                    inst.class.name.as_str(),
                    self.program.symbols.name(m)
                ),
            ),
        }
    }

    /// `obj.m = v`.
    pub(crate) fn set_prop(
        &mut self,
        obj: Value,
        m: Symbol,
        v: Value,
        ic: Option<usize>,
    ) -> RtResult<()> {
        let Value::Instance(inst) = obj else {
            return rt_err(
                ErrorKind::TypeError,
                format!(
                    "cannot set property '{}' on '{}' value",
                    self.program.symbols.name(m),
                    obj.type_name()
                ),
            );
        };
        let shape = inst.shape.get();
        // The site added this field to an instance of this shape before: the cache holds
        // the shape it leads to (the field goes last), so neither the field nor the
        // transition needs looking up.
        if let Some(ic) = ic {
            let e = self.ics[ic];
            if e.shape == shape && e.next != shape && e.method.is_none() {
                self.heap.reserve_field(inst)?;
                inst.shape.set(e.next);
                inst.push_field(v);
                return Ok(());
            }
        }
        if let Some(i) = self.shapes.slot(shape, m) {
            if let Some(ic) = ic {
                self.fill_field_ic(ic, shape, i);
            }
            inst.set_field(i as usize, v);
            return Ok(());
        }
        self.heap.reserve_field(inst)?;
        let next = self.shapes.with_field(shape, m);
        if let Some(ic) = ic {
            let slot = inst.field_count() as u32;
            self.ics[ic] = Ic {
                shape,
                slot,
                next,
                method: None,
            };
        }
        inst.shape.set(next);
        inst.push_field(v);
        Ok(())
    }

    /// The value a `catch` receives for a runtime error: an `Error` instance with fields
    /// `kind`, `message` and `line`.
    pub(crate) fn make_error_value(
        &mut self,
        kind: &str,
        message: Value,
        line: u32,
    ) -> RtResult<Value> {
        let inst = self
            .heap
            .alloc_instance(self.error_class, self.error_class.root_shape)?;
        let v = Value::Instance(inst);
        let kind = Value::Str(self.heap.alloc_str(kind)?);
        self.set_prop(v, symbol::KIND, kind, None)?;
        self.set_prop(v, symbol::MESSAGE, message, None)?;
        self.set_prop(v, symbol::LINE, Value::Int(line as i64), None)?;
        Ok(v)
    }

    /// Builds the class object of declaration `c`.
    pub(crate) fn make_class(&mut self, c: ClassIdx) -> RtResult<Gc<Class>> {
        let info = self.program.classes[c.0 as usize].clone();
        let superclass = info.superclass.map(|g| match self.globals[g.0 as usize] {
            Value::Class(s) => s,
            _ => unreachable!("superclasses are classes created earlier"),
        });
        let mut methods = superclass.map(|s| s.methods.clone()).unwrap_or_default();
        for (sym, proto) in &info.methods {
            let m = self.heap.alloc_closure(*proto, std::iter::empty())?;
            methods.insert(*sym, m);
        }
        let init = methods.get(&symbol::INIT).copied();
        let name = self.heap.alloc_str(&info.name)?;
        let root_shape = self.shapes.new_root();
        let cls = self.heap.alloc(Class {
            name,
            decl: Some(c.0),
            superclass,
            methods,
            init,
            root_shape,
            field_room: std::cell::Cell::new(0),
        })?;
        self.class_objs[c.0 as usize] = Some(cls);
        Ok(cls)
    }
}
