//! Frames and calls: pushing a frame, calling every kind of callable, `invoke` with its inline
//! cache, `super` lookup, closure creation. Echo calls never recurse on the host stack: a call
//! pushes a `Frame` and the dispatch loop continues in the callee.

use crate::bytecode::{CaptureSrc, ProtoId};
#[cfg(feature = "jit")]
use crate::config::Tier;
use crate::error::ErrorKind;
use crate::runtime::builtins;
use crate::runtime::error::{RtError, RtResult, rt_err};
use crate::runtime::heap::{Class, Closure, Gc, UpBox};
use crate::runtime::stack::{Frame, copy_value};
use crate::runtime::value::{NativeId, Value};
use crate::runtime::vm::{Ic, Vm};
use crate::symbol::Symbol;

impl Vm {
    /// The line of the instruction the top frame is executing.
    pub(crate) fn current_line(&self) -> u32 {
        self.frames.last().map_or(0, |f| {
            let p = self.program.proto(f.proto);
            p.lines
                .get((f.pc as usize).saturating_sub(1))
                .copied()
                .unwrap_or(p.line)
        })
    }

    /// Pushes a frame for `closure` with registers starting at `base`; `nargs` arguments
    /// (after `self`, for methods) are already in place.
    #[inline(always)]
    pub(crate) fn push_frame(
        &mut self,
        closure: Gc<Closure>,
        base: usize,
        ret: usize,
        nargs: usize,
    ) -> RtResult<()> {
        let pid = closure.proto;
        // SAFETY: a closure's prototype is one of the program's (the verifier checked every
        // `Closure` operand), and `sync_program` gives each of them a record in `fn_info`.
        let info = unsafe { *self.fn_info.get_unchecked(pid.0 as usize) };
        if nargs != info.arity as usize {
            let proto = &self.protos[pid.0 as usize];
            return Err(arity_error(&proto.name, proto.arity as usize, nargs));
        }
        if self.frames.len() >= self.frames.capacity() {
            return Err(self.depth_error());
        }
        let top = base + info.nregs as usize;
        if top > self.stack.len() {
            self.grow_stack(top)?;
        }
        // SAFETY: `load` sizes `stats.calls` like `fn_info`, one entry per prototype, and
        // `pid` is one (see `info`).
        unsafe { *self.stats.calls.get_unchecked_mut(pid.0 as usize) += 1 };
        let pushed = self.frames.push(Frame {
            closure,
            proto: pid,
            base: base as u32,
            pc: 0,
            ret: ret as u32,
        });
        debug_assert!(pushed, "the depth was checked above");
        #[cfg(feature = "jit")]
        if self.tier != Tier::Interp {
            self.on_call(pid);
        }
        Ok(())
    }

    #[cold]
    fn depth_error(&self) -> Box<RtError> {
        RtError::new(
            ErrorKind::StackOverflow,
            format!(
                "maximum call depth of {} exceeded",
                self.limits.max_call_depth
            ),
        )
    }

    /// Grows the register stack to hold at least `top` slots.
    #[cold]
    fn grow_stack(&mut self, top: usize) -> RtResult<()> {
        if top > self.limits.max_stack_slots {
            return rt_err(
                ErrorKind::StackOverflow,
                format!(
                    "register stack limit of {} slots exceeded",
                    self.limits.max_stack_slots
                ),
            );
        }
        self.stack.ensure(top);
        Ok(())
    }

    /// The first step of calling class `cls` (not the built-in `Error`) in `stack[slot]`: a
    /// new instance with no fields takes the class's place, as `self` of its `init`. Then a
    /// safepoint (the instance and the arguments are registers of the calling frame): an
    /// `init` may run no other, and a loop making such instances must still collect them.
    #[inline]
    pub(crate) fn new_instance(&mut self, cls: Gc<Class>, slot: usize) -> RtResult<()> {
        let inst = self.heap.alloc_instance(cls, cls.root_shape)?;
        self.stack.set(slot, Value::Instance(inst));
        self.safepoint()
    }

    /// Whether `cls` is the built-in `Error` class, which makes error values.
    #[inline]
    pub(crate) fn is_error_class(&self, cls: Gc<Class>) -> bool {
        cls.decl.is_none() && Gc::ptr_eq(cls, self.error_class)
    }

    /// Calls the value in `stack[slot]` with `nargs` arguments after it. Returns whether a
    /// new Echo frame was pushed (otherwise the result is already in `stack[slot]`).
    pub(crate) fn call_value(&mut self, slot: usize, nargs: usize) -> RtResult<bool> {
        match self.stack.get(slot) {
            Value::Func(c) => {
                self.push_frame(c, slot + 1, slot, nargs)?;
                Ok(true)
            }
            Value::Native(id) => {
                let v = self.call_native(id, slot + 1, nargs)?;
                self.stack.set_words(slot, v);
                self.safepoint()?;
                Ok(false)
            }
            Value::Method(m) => {
                self.stack.set(slot, m.receiver);
                self.push_frame(m.method, slot, slot, nargs)?;
                Ok(true)
            }
            Value::Class(cls) => {
                if self.is_error_class(cls) {
                    if nargs != 1 {
                        return Err(arity_error("Error", 1, nargs));
                    }
                    let message = self.stack.get(slot + 1);
                    let line = self.current_line();
                    let e = self.make_error_value("Error", message, line)?;
                    self.stack.set(slot, e);
                    self.safepoint()?;
                    return Ok(false);
                }
                self.new_instance(cls, slot)?;
                match cls.init {
                    Some(init) => {
                        self.push_frame(init, slot, slot, nargs)?;
                        Ok(true)
                    }
                    None if nargs != 0 => Err(arity_error(cls.name.as_str(), 0, nargs)),
                    None => Ok(false),
                }
            }
            other => rt_err(
                ErrorKind::TypeError,
                format!("'{}' value is not callable", other.type_name()),
            ),
        }
    }

    /// Calls builtin `id` with the `n` arguments at `stack[at..]`.
    pub(crate) fn call_native(&mut self, id: NativeId, at: usize, n: usize) -> RtResult<Value> {
        let b = builtins::get(id);
        if let Some(c) = &mut self.coverage {
            c.builtins |= 1 << id.0;
        }
        if n < b.min_args as usize || n > b.max_args as usize {
            return Err(builtins::arity_error(b, n));
        }
        let mut buf = [Value::Nil; 8];
        if n <= buf.len() {
            let src = self.stack.slice(at, n).as_ptr();
            for (i, dst) in buf[..n].iter_mut().enumerate() {
                // SAFETY: `src` points to `n` values (the slice above); copied word by word
                // because the arguments were usually just written that way.
                unsafe { copy_value(src.add(i), dst) };
            }
            (b.func)(self, &buf[..n])
        } else {
            let args = self.stack.slice(at, n).to_vec();
            (b.func)(self, &args)
        }
    }

    /// `R[slot].m(args)`: a field holding a callable, else a method of the class.
    pub(crate) fn invoke(
        &mut self,
        slot: usize,
        m: Symbol,
        nargs: usize,
        ic: Option<usize>,
    ) -> RtResult<bool> {
        let receiver = self.stack.get(slot);
        let Value::Instance(inst) = receiver else {
            return rt_err(
                ErrorKind::AttributeError,
                format!(
                    "'{}' value has no method '{}'",
                    receiver.type_name(),
                    self.program.symbols.name(m)
                ),
            );
        };
        if let Some(i) = self.shapes.slot(inst.shape.get(), m) {
            if let Some(c) = ic {
                // A field holding something to call: no method in the entry (the dispatch
                // loop's fast path takes only methods), for compiled code to speculate on.
                let shape = inst.shape.get();
                self.ics[c] = Ic {
                    shape,
                    slot: i,
                    next: shape,
                    method: None,
                };
            }
            let f = inst.field(i as usize);
            self.stack.set(slot, f);
            return self.call_value(slot, nargs);
        }
        match inst.class.methods.get(&m) {
            Some(&method) => {
                if let Some(i) = ic {
                    let shape = inst.shape.get();
                    self.ics[i] = Ic {
                        shape,
                        slot: 0,
                        next: shape,
                        method: Some(method),
                    };
                }
                self.push_frame(method, slot, slot, nargs)?;
                Ok(true)
            }
            None => rt_err(
                ErrorKind::AttributeError,
                format!(
                    "'{}' instance has no method '{}'",
                    inst.class.name.as_str(),
                    self.program.symbols.name(m)
                ),
            ),
        }
    }

    /// The superclass method `m` for code of prototype `proto`.
    pub(crate) fn super_method(&self, proto: ProtoId, m: Symbol) -> RtResult<Gc<Closure>> {
        let cls = self
            .program
            .proto(proto)
            .class
            .and_then(|c| self.class_objs[c.0 as usize]);
        let sup = cls
            .and_then(|c| c.superclass)
            .expect("the resolver only allows super in subclasses");
        match sup.methods.get(&m) {
            Some(&c) => Ok(c),
            None => rt_err(
                ErrorKind::AttributeError,
                format!(
                    "superclass '{}' has no method '{}'",
                    sup.name.as_str(),
                    self.program.symbols.name(m)
                ),
            ),
        }
    }

    /// Creates a closure of `p` inside a frame running `parent` with registers at `base`.
    pub(crate) fn make_closure(
        &mut self,
        p: ProtoId,
        parent: Gc<Closure>,
        base: usize,
    ) -> RtResult<Gc<Closure>> {
        // The captured boxes are written straight into the closure's block.
        let stack = &self.stack;
        let upvals = self.program.proto(p).captures.iter().map(|c| -> Gc<UpBox> {
            match c {
                CaptureSrc::Reg(r) => match stack.get(base + r.0 as usize) {
                    Value::Boxed(b) => b,
                    _ => unreachable!("captured locals are boxed"),
                },
                CaptureSrc::Upval(u) => parent.upvals()[u.0 as usize],
            }
        });
        self.heap.alloc_closure(p, upvals)
    }
}

/// The `ArityError` for calling `name` with `got` arguments instead of `expected`.
#[cold]
pub fn arity_error(name: &str, expected: usize, got: usize) -> Box<RtError> {
    let s = if expected == 1 { "" } else { "s" };
    RtError::new(
        ErrorKind::ArityError,
        format!("'{name}' expects {expected} argument{s} but got {got}"),
    )
}
