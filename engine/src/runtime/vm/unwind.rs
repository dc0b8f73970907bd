//! Errors: the runtime errors the VM raises itself, unwinding through `try` handlers frame by
//! frame (recording the trace), and the conversion of an uncaught error for the host.

use std::rc::Rc;

use crate::bytecode::GlobalIdx;
use crate::error::{EchoError, ErrorKind, TraceFrame};
use crate::runtime::error::{RtError, RtResult};
use crate::runtime::value::Value;
use crate::runtime::vm::Vm;

impl Vm {
    #[cold]
    pub(crate) fn fuel_error(&self) -> Box<RtError> {
        RtError::new(
            ErrorKind::FuelExhausted,
            format!(
                "ran out of fuel (limit {} units)",
                self.limits.fuel.unwrap_or(u64::MAX)
            ),
        )
    }

    #[cold]
    pub(crate) fn uninit_global(&self, g: GlobalIdx) -> Box<RtError> {
        let name = self
            .program
            .globals
            .get(g.0 as usize)
            .map_or("?", |g| g.name.as_str());
        RtError::new(
            ErrorKind::NameError,
            format!("'{name}' is used before its initialization"),
        )
    }

    /// Unwinds frames after `err` was raised in the top frame (whose `pc` is saved past the
    /// faulting instruction). Returns `Ok` when a handler caught it (execution resumes in
    /// the handler's frame) or the error once `entry_depth` frames remain.
    pub(super) fn unwind(&mut self, mut err: Box<RtError>, entry_depth: usize) -> RtResult<()> {
        loop {
            match self.error_in_top_frame(err) {
                Ok(()) => return Ok(()),
                Err(e) if self.frames.len() <= entry_depth => return Err(e),
                Err(e) => err = e,
            }
        }
    }

    /// Passes `err` through the top frame, whose `pc` is saved past the instruction that
    /// raised or propagated it. If a `try` of that frame covers the instruction and the error
    /// is catchable, the caught value goes to the handler's register, the frame resumes at the
    /// handler and this returns `Ok`. Otherwise the frame is recorded in the trace, popped, and
    /// the error returned. Both tiers unwind through this, one frame at a time.
    pub(crate) fn error_in_top_frame(&mut self, mut err: Box<RtError>) -> RtResult<()> {
        let f = *self.frames.last().expect("unwinding needs a frame");
        let proto = Rc::clone(self.program.proto(f.proto));
        let pc = (f.pc as usize).saturating_sub(1);
        let line = proto.lines.get(pc).copied().unwrap_or(proto.line);
        // The first frame an error passes through is where it was raised.
        let raise_line = match self.err_line {
            Some(l) => l,
            None => {
                if let Some(c) = &mut self.coverage {
                    c.errors |= 1 << err.kind as u32;
                }
                self.trace.clear();
                self.err_line = Some(line);
                line
            }
        };
        if err.kind.is_catchable()
            && let Some(h) = proto.handler_for(pc)
        {
            let caught = match err.thrown {
                Some(v) => Ok(v),
                None => match self.heap.alloc_str(&err.message) {
                    Ok(s) => self.make_error_value(err.kind.name(), Value::Str(s), raise_line),
                    Err(e) => Err(e),
                },
            };
            match caught {
                Ok(v) => {
                    self.stack.set(f.base as usize + h.reg.0 as usize, v);
                    self.frames.last_mut().expect("checked above").pc = h.target;
                    self.at_handler = true;
                    let collected = self.safepoint();
                    self.at_handler = false;
                    match collected {
                        Ok(()) => {
                            self.trace.clear();
                            self.err_line = None;
                            return Ok(());
                        }
                        // Live data past the heap limit: an engine limit, raised where the
                        // caught error was.
                        Err(e) => {
                            self.frames.last_mut().expect("checked above").pc = f.pc;
                            if let Some(c) = &mut self.coverage {
                                c.errors |= 1 << e.kind as u32;
                            }
                            err = e;
                        }
                    }
                }
                // Only an engine limit can fail here, and limits are not caught.
                Err(e) => err = e,
            }
        }
        self.trace.push(TraceFrame {
            function: proto.name.clone(),
            line,
        });
        self.frames.pop();
        Err(err)
    }

    /// Converts an error that escaped every frame into the host's error type.
    pub(super) fn host_error(&mut self, e: RtError) -> EchoError {
        let line = self
            .err_line
            .take()
            .or(self.trace.first().map(|t| t.line))
            .unwrap_or(0);
        let (kind, message) = match (e.kind, e.thrown) {
            // An engine limit hit while printing the thrown value is what the host sees.
            (ErrorKind::Thrown, Some(v)) => match self.outcome_text(v, false) {
                Ok(m) => (ErrorKind::Thrown, m),
                Err(err) => (err.kind, err.message),
            },
            _ => (e.kind, e.message),
        };
        EchoError {
            kind,
            message,
            line,
            column: None,
            span: None,
            trace: std::mem::take(&mut self.trace),
        }
    }
}
