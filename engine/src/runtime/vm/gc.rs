//! Garbage collection from the VM's side: safepoints, and the roots (live registers, frames,
//! globals, constants, classes, inline caches) handed to the heap's collector.

use crate::runtime::vm::Vm;

impl Vm {
    /// A safepoint: every live value is in a root, so the collector may run.
    #[inline]
    pub(crate) fn safepoint(&mut self) {
        if self.heap.wants_collection() {
            self.collect_garbage();
        }
    }

    #[cold]
    fn collect_garbage(&mut self) {
        // Frames are nested windows, so everything below the top frame's end is a register
        // of some active frame (or a dead one of an earlier call, still a valid value), and
        // everything above it is dead.
        let live_end = self
            .frames
            .last()
            .map_or(1, |f| {
                f.base as usize + self.fn_info[f.proto.0 as usize].nregs as usize
            })
            .min(self.stack.len());
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
