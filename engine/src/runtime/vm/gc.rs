//! Garbage collection from the VM's side: safepoints, and the roots (the live registers of
//! every frame, frame closures, globals, constants, classes, inline caches) handed to the
//! heap's collector.

use std::rc::Rc;

use crate::bytecode::liveness::RootMap;
use crate::runtime::error::RtResult;
use crate::runtime::value::Value;
use crate::runtime::vm::Vm;

impl Vm {
    /// A safepoint: every live value is in a root, so the collector may run. The running
    /// frame's pc must be current (see `RootMap`): both tiers store it before every one.
    /// Raises `MemoryLimit` when what the program can still reach passes the heap limit
    /// (allocations may pass it in between, see `Heap::charge`).
    #[inline]
    pub(crate) fn safepoint(&mut self) -> RtResult<()> {
        #[cfg(debug_assertions)]
        {
            self.heap.charged_since_safepoint = false;
        }
        if self.heap.wants_collection() {
            self.collect_garbage();
            if self.heap.over_limit() {
                return Err(self.heap.limit_error());
            }
        }
        Ok(())
    }

    /// The root map of prototype `p`, made on first use.
    fn root_map(&mut self, p: usize) -> Rc<RootMap> {
        if self.root_maps.len() <= p {
            self.root_maps.resize(p + 1, None);
        }
        let protos = &self.protos;
        Rc::clone(
            self.root_maps[p].get_or_insert_with(|| Rc::new(RootMap::new(&protos[p], protos))),
        )
    }

    /// Clears every register no frame can read any more (see `RootMap`), so that the
    /// collector, which marks every slot of the active windows, keeps only what a frame can
    /// still read. Returns the end of those windows (the top frame's). Frames are nested
    /// windows: a frame owns its registers below the next frame's base (those above are the
    /// callee's: its arguments and the registers it writes), the top frame all of them.
    fn clear_dead_registers(&mut self) -> usize {
        let n = self.frames.len();
        let live_end = self.frames.last().map_or(1, |f| {
            f.base as usize + self.fn_info[f.proto.0 as usize].nregs as usize
        });
        let live_end = live_end.min(self.stack.len());
        let mut end = live_end;
        for k in (0..n).rev() {
            let f = self.frames.as_slice()[k];
            let base = f.base as usize;
            let map = self.root_map(f.proto.0 as usize);
            let pc = f.pc as usize;
            let nregs = self.fn_info[f.proto.0 as usize].nregs as usize;
            let handler = k + 1 == n && self.at_handler;
            for r in 0..end.saturating_sub(base) {
                let root = if r >= nregs {
                    false
                } else if handler {
                    map.is_handler_root(pc, r)
                } else {
                    map.is_root(pc, r)
                };
                if !root {
                    self.stack.set(base + r, Value::Nil);
                }
            }
            end = end.min(base);
        }
        live_end
    }

    #[cold]
    fn collect_garbage(&mut self) {
        let live_end = self.clear_dead_registers();
        let Vm {
            heap,
            stack,
            frames,
            globals,
            const_pool,
            class_objs,
            error_class,
            ics,
            ..
        } = self;
        heap.collect(|t| {
            for v in stack.slice(0, live_end) {
                t.mark_value(*v);
            }
            for f in frames.iter() {
                t.mark(f.closure);
            }
            for v in globals.iter().chain(const_pool.iter()) {
                t.mark_value(*v);
            }
            for c in class_objs.iter().flatten() {
                t.mark(*c);
            }
            for m in ics.iter().filter_map(|ic| ic.method) {
                t.mark(m);
            }
            t.mark(*error_class);
        });
        stack.clear_from(live_end);
    }
}
