//! The interpreter tier: the VM's state (register stack, frames, globals, heap, caches), loading
//! and running a program, and its output. The dispatch loop, calls, objects, errors, `for`
//! loops and the collector's roots each have a file in this folder.

use std::io::Write;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::bytecode::liveness::RootMap;
use crate::bytecode::*;
use crate::config::{Config, Limits, OutputMode, Tier};
use crate::error::{EchoError, ErrorKind, TraceFrame};
use crate::runtime::error::{RtError, RtResult, rt_err};
use crate::runtime::heap::{Class, Closure, Gc, Heap, HeapStats};
use crate::runtime::shape::{ShapeId, Shapes};
use crate::runtime::stack::{FrameStack, Stack};
use crate::runtime::value::Value;

mod calls;
mod dispatch;
mod gc;
mod iterate;
mod objects;
mod unwind;

pub use calls::arity_error;

/// One inline-cache entry of a property or method instruction. It applies to instances
/// whose shape is `shape` (a shape determines the class, so also every method lookup).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Ic {
    /// The shape the entry is valid for (`ShapeId::NONE`: empty).
    pub shape: ShapeId,
    /// Field slot (GetProp, SetProp).
    pub slot: u32,
    /// SetProp: the shape after the store (equal to `shape` unless the field is new).
    pub next: ShapeId,
    /// Invoke: the method found.
    pub method: Option<Gc<Closure>>,
}

impl Ic {
    /// An entry that matches nothing.
    pub const EMPTY: Ic = Ic {
        shape: ShapeId::NONE,
        slot: 0,
        next: ShapeId::NONE,
        method: None,
    };
}

/// `Vm::call_targets` of a call that has not run yet.
pub(crate) const CALLED_NOTHING: u32 = u32::MAX;

/// `Vm::call_targets` of a call that met more than one prototype, or a callee other than a
/// function.
#[cfg_attr(not(feature = "jit"), allow(dead_code))]
pub(crate) const CALLED_MANY: u32 = u32::MAX - 1;

/// How many shapes compiled code checks at one property read or write: the cache's entry and
/// the field entries it held before (see `IcHistory`).
pub(crate) const POLY_SHAPES: usize = 4;

/// The field entries (shape and slot) an inline cache held before its current one, newest
/// first: a site that meets instances of several shapes (a base class's method called on
/// subclasses' instances) is compiled to check each of them. Recorded only when a cache
/// moves from one field entry to another, which the interpreter does on a miss, off its
/// fast path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IcHistory {
    entries: [(ShapeId, u32); POLY_SHAPES - 1],
    len: u8,
}

impl Default for IcHistory {
    fn default() -> Self {
        IcHistory {
            entries: [(ShapeId::NONE, 0); POLY_SHAPES - 1],
            len: 0,
        }
    }
}

impl IcHistory {
    /// Records `(shape, slot)` as the newest entry, unless it is there already; the oldest
    /// goes when the record is full.
    pub(crate) fn push(&mut self, shape: ShapeId, slot: u32) {
        let n = self.len as usize;
        if self.entries[..n].iter().any(|&(s, _)| s == shape) {
            return;
        }
        self.entries.copy_within(0..n.min(POLY_SHAPES - 2), 1);
        self.entries[0] = (shape, slot);
        self.len = (n + 1).min(POLY_SHAPES - 1) as u8;
    }

    /// The entries held (compiled code's property sites read them).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub fn entries(&self) -> &[(ShapeId, u32)] {
        &self.entries[..self.len as usize]
    }
}

/// What a call needs to know about a prototype, kept flat so that a call costs one lookup.
/// Compiled code reads these records too.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProtoInfo {
    /// Address of the compiled code (0 while the function runs in the interpreter).
    pub entry: usize,
    /// Declared parameters.
    pub arity: u32,
    /// Registers of a frame.
    pub nregs: u32,
    /// Start of the constants in `const_pool`.
    pub kbase: u32,
    /// Start of the inline caches in `ics`.
    pub icb: u32,
    /// Start of the type feedback in `feedback`.
    pub fbase: u32,
    /// The prototype's instructions (owned by its `Proto`, which the program keeps alive and
    /// never changes): the interpreter enters a frame with one lookup.
    pub code: *const Op,
}

/// Type feedback bit: an arithmetic or comparison instruction saw operands other than two
/// ints (compiled code then does not assume ints there); an indexing instruction left its
/// list fast path (a list element by an int index in range).
pub(crate) const FB_NOT_INT: u8 = 1;
/// Type feedback bit: an arithmetic or comparison instruction saw an operand that is not a
/// number (compiled code then does not assume numbers there). Always set with `FB_NOT_INT`.
pub(crate) const FB_NOT_NUM: u8 = 2;
/// Type feedback bit, on a loop header: compiled code's check of the registers' tags there
/// failed once (compiled code then assumes no tags at that header).
pub(crate) const FB_LOOP_TYPES: u8 = 4;
/// Type feedback bit: arithmetic that saw floats (`FB_NOT_INT`) and was compiled for floats
/// alone met two ints (compiled code then handles ints there too). Set by side exits only.
pub(crate) const FB_INTS_TOO: u8 = 8;

/// Addresses of VM tables that compiled code reads, refreshed whenever a table may move
/// (only when a program is loaded or extended).
#[repr(C)]
pub(crate) struct Mirrors {
    /// `fn_info.as_ptr()`.
    pub fn_info: *const ProtoInfo,
    /// `stats.calls.as_mut_ptr()`.
    pub calls: *mut u64,
    /// `globals.as_mut_ptr()`.
    pub globals: *mut Value,
    /// `ics.as_mut_ptr()`.
    pub ics: *mut Ic,
    /// `const_pool.as_ptr()`.
    pub consts: *const Value,
}

/// Per-run counters.
#[derive(Clone, Debug, Default)]
pub struct VmStats {
    /// Calls per prototype.
    pub calls: Vec<u64>,
}

/// The virtual machine: everything a running program owns.
pub struct Vm {
    pub(crate) heap: Heap,
    pub(crate) stack: Stack,
    pub(crate) frames: FrameStack,
    pub(crate) globals: Vec<Value>,
    pub(crate) program: Program,
    /// The program's prototypes, shared so the dispatch loop can borrow them while it
    /// mutates the VM.
    pub(crate) protos: Rc<Vec<Rc<Proto>>>,
    /// Materialized constants of all prototypes, concatenated.
    pub(crate) const_pool: Vec<Value>,
    /// Start of each prototype's constants in `const_pool`.
    pub(crate) const_base: Vec<usize>,
    /// Call information per prototype.
    pub(crate) fn_info: Vec<ProtoInfo>,
    /// What this run reached, when asked to record it.
    pub(crate) coverage: Option<Box<crate::runtime::coverage::Coverage>>,
    /// Type feedback of all prototypes, one byte per instruction, concatenated.
    pub(crate) feedback: Vec<u8>,
    /// Per instruction, at the same places as `feedback`: the prototype a `Call` of a
    /// register has called (`CALLED_NOTHING` before its first call, `CALLED_MANY` once it
    /// called two prototypes or something other than a function).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub(crate) call_targets: Vec<u32>,
    /// Table addresses for compiled code.
    pub(crate) mirrors: Mirrors,
    /// The tier running this VM.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub(crate) tier: Tier,
    /// Calls after which a function is compiled (tiered).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub(crate) hot_calls: u32,
    /// Back-edges after which a function with a loop is compiled and entered (tiered).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub(crate) hot_loops: u32,
    /// Loop back-edges taken per prototype (tiered).
    pub(crate) backedges: Vec<u32>,
    /// Per prototype: whether its compiled code left at a call that had never run
    /// (`ExitKind::Unrun`; see `Vm::speculates_unrun`).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub(crate) left_unrun: Vec<bool>,
    /// The compiling tier, for tiers that compile (given by the host: `set_codegen`).
    pub(crate) tiering: Option<Box<crate::runtime::tiering::Tiering>>,
    /// Inline caches of all prototypes, concatenated.
    pub(crate) ics: Vec<Ic>,
    /// For the caches that moved from one field entry to another: the entries they held.
    pub(crate) ic_history: FxHashMap<usize, IcHistory>,
    /// Start of each prototype's inline caches in `ics`.
    pub(crate) ic_base: Vec<usize>,
    /// Class objects by declaration index, once created.
    pub(crate) class_objs: Vec<Option<Gc<Class>>>,
    pub(crate) error_class: Gc<Class>,
    pub(crate) shapes: Shapes,
    pub(crate) limits: Limits,
    /// Fuel left; a cell, so that operations working through `&Vm` can charge their work.
    pub(crate) fuel_left: std::cell::Cell<u64>,
    output_mode: OutputMode,
    pub(crate) output: String,
    pub(crate) stats: VmStats,
    /// Frames popped while the current error unwound, innermost first.
    trace: Vec<TraceFrame>,
    /// Line of the return that ended the last run (for errors printing the final value).
    pub(crate) exit_line: u32,
    /// Where the error being unwound was raised (`None` while no error is in flight).
    pub(crate) err_line: Option<u32>,
    /// An error raised inside compiled code or a helper, on its way to the next frame.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub(crate) pending: Option<Box<RtError>>,
    /// Whether global slots keep their first value (top-level functions are constants),
    /// which compiled code may rely on; a REPL session, where entries may redefine a
    /// function, clears it.
    pub(crate) stable_globals: bool,
    /// Lowest host stack address compiled code may call further from (see `jit`).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub(crate) native_limit: usize,
    /// The host stack address at which `native_limit` was computed: below it and above the
    /// limit is the same stack segment (see `Vm::run_compiled`).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub(crate) native_top: usize,
    /// The program's command-line arguments (`args()`).
    pub(crate) args: Rc<[String]>,
    /// Per prototype, the registers the collector roots at each pc, made at the first
    /// collection that meets one of its frames (see `gc`).
    pub(crate) root_maps: Vec<Option<Rc<RootMap>>>,
    /// Set while the top frame has just caught an error and resumes at its handler (its pc),
    /// so that the collector roots what the handler reads (`RootMap::is_handler_root`).
    pub(crate) at_handler: bool,
}

impl Vm {
    /// Records that the `Call` at `at` (its place in `call_targets`) calls `proto`, or
    /// (`None`) something other than an Echo function.
    #[cfg(feature = "jit")]
    #[inline]
    pub(crate) fn note_call_target(&mut self, at: usize, proto: Option<ProtoId>) {
        let seen = proto.map_or(CALLED_MANY, |p| p.0);
        let t = &mut self.call_targets[at];
        if *t != seen {
            *t = if *t == CALLED_NOTHING {
                seen
            } else {
                CALLED_MANY
            };
        }
    }

    /// A VM with an empty program.
    pub fn new(config: &Config) -> Vm {
        let mut heap = Heap::new(config.limits.max_heap_bytes, config.gc_stress);
        let mut shapes = Shapes::default();
        // The engine's own `Error` class exists whatever the limit: it is allocated before
        // the limit applies (and counts toward it), so even a limit of 0 bytes runs until
        // the program's first allocation, which then fails with `MemoryLimit`.
        let limit = heap.set_limit(usize::MAX);
        let name = heap
            .alloc_str(crate::syntax::resolver::ERROR_CLASS_NAME)
            .expect("an unlimited heap has room");
        let error_class = heap
            .alloc(Class {
                name,
                decl: None,
                superclass: None,
                methods: FxHashMap::default(),
                init: None,
                root_shape: shapes.new_root(),
                field_room: std::cell::Cell::new(0),
            })
            .expect("an unlimited heap has room");
        heap.set_limit(limit);
        Vm {
            heap,
            stack: Stack::default(),
            frames: FrameStack::new(),
            globals: vec![Value::Class(error_class)],
            program: Program::default(),
            protos: Rc::default(),
            const_pool: Vec::new(),
            const_base: Vec::new(),
            ics: Vec::new(),
            ic_history: FxHashMap::default(),
            ic_base: Vec::new(),
            fn_info: Vec::new(),
            feedback: Vec::new(),
            call_targets: Vec::new(),
            mirrors: Mirrors {
                fn_info: std::ptr::null(),
                calls: std::ptr::null_mut(),
                globals: std::ptr::null_mut(),
                ics: std::ptr::null_mut(),
                consts: std::ptr::null(),
            },
            tier: config.tier,
            hot_calls: config.hot_calls.max(1),
            hot_loops: config.hot_loops.max(1),
            backedges: Vec::new(),
            left_unrun: Vec::new(),
            tiering: None,
            class_objs: Vec::new(),
            error_class,
            shapes,
            limits: config.limits.clone(),
            fuel_left: std::cell::Cell::new(config.limits.fuel.unwrap_or(u64::MAX)),
            output_mode: config.output,
            output: String::new(),
            stats: VmStats::default(),
            trace: Vec::new(),
            exit_line: 0,
            err_line: None,
            pending: None,
            native_limit: usize::MAX,
            native_top: 0,
            stable_globals: true,
            coverage: config.coverage.then(|| {
                // The reference run records what each instruction did; the compiling tiers
                // record how the JIT compiled it (see `Coverage`).
                Box::new(crate::runtime::coverage::Coverage::recording(
                    config.tier == Tier::Interp,
                ))
            }),
            args: config.args.as_slice().into(),
            root_maps: Vec::new(),
            at_handler: false,
        }
    }

    /// The program loaded so far.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Mutable access to the program, for compiling further REPL entries into it.
    pub fn program_mut(&mut self) -> &mut Program {
        &mut self.program
    }

    /// Makes the runtime side of newly compiled prototypes, classes and globals.
    pub fn sync_program(&mut self) -> Result<(), EchoError> {
        for i in self.const_base.len()..self.program.protos.len() {
            self.const_base.push(self.const_pool.len());
            let consts = self.program.protos[i].consts.clone();
            for c in consts {
                let v = match c {
                    Const::Int(n) => Value::Int(n),
                    Const::Float(f) => Value::Float(f),
                    Const::Bool(true) => Value::True,
                    Const::Bool(false) => Value::False,
                    Const::Nil => Value::Nil,
                    Const::Str(s) => {
                        Value::Str(self.heap.alloc_str(&s).map_err(|e| self.host_error(*e))?)
                    }
                };
                self.const_pool.push(v);
            }
        }
        for i in self.ic_base.len()..self.program.protos.len() {
            self.ic_base.push(self.ics.len());
            let n = self.program.protos[i].ic_count as usize;
            self.ics.resize(self.ics.len() + n, Ic::EMPTY);
        }
        for i in self.fn_info.len()..self.program.protos.len() {
            let p = &self.program.protos[i];
            self.fn_info.push(ProtoInfo {
                entry: 0,
                arity: p.arity as u32,
                nregs: p.nregs as u32,
                kbase: self.const_base[i] as u32,
                icb: self.ic_base[i] as u32,
                fbase: self.feedback.len() as u32,
                code: p.code.as_ptr(),
            });
            self.feedback.resize(self.feedback.len() + p.code.len(), 0);
            self.call_targets
                .resize(self.feedback.len(), CALLED_NOTHING);
        }
        self.backedges.resize(self.program.protos.len(), 0);
        self.left_unrun.resize(self.program.protos.len(), false);
        for i in self.stats.calls.len()..self.program.protos.len() {
            if let Err(e) = crate::bytecode::verify::verify_proto(&self.program, ProtoId(i as u32))
            {
                panic!("the compiler emitted invalid bytecode: {e}");
            }
        }
        self.stats.calls.resize(self.program.protos.len(), 0);
        self.protos = Rc::new(self.program.protos.clone());
        self.class_objs.resize(self.program.classes.len(), None);
        if self.globals.len() < self.program.globals.len() {
            self.globals
                .resize(self.program.globals.len(), Value::Undef);
        }
        if let Some(t) = &mut self.tiering {
            t.fns
                .resize_with(self.program.protos.len(), Default::default);
        }
        self.mirrors = Mirrors {
            fn_info: self.fn_info.as_ptr(),
            calls: self.stats.calls.as_mut_ptr(),
            globals: self.globals.as_mut_ptr(),
            ics: self.ics.as_mut_ptr(),
            consts: self.const_pool.as_ptr(),
        };
        Ok(())
    }

    /// Fuel consumed so far.
    pub fn fuel_used(&self) -> u64 {
        self.limits
            .fuel
            .map_or(u64::MAX - self.fuel_left.get(), |f| {
                f - self.fuel_left.get()
            })
    }

    /// Heap statistics.
    pub fn heap_stats(&self) -> HeapStats {
        self.heap.stats()
    }

    /// Run statistics.
    pub fn stats(&self) -> &VmStats {
        &self.stats
    }

    /// Takes the captured output.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.output)
    }

    /// Runs prototype `main` (a script) to completion.
    pub fn run_main(&mut self, main: ProtoId) -> Result<Value, EchoError> {
        self.frames.clear();
        if !self.frames.reserve(self.limits.max_call_depth as usize) {
            let e = RtError::new(
                ErrorKind::MemoryLimit,
                format!(
                    "cannot reserve a frame stack of {} frames",
                    self.limits.max_call_depth
                ),
            );
            return Err(self.host_error(*e));
        }
        if !self.stack.reserve(self.limits.max_stack_slots) {
            let e = RtError::new(
                ErrorKind::MemoryLimit,
                format!(
                    "cannot reserve a register stack of {} slots",
                    self.limits.max_stack_slots
                ),
            );
            return Err(self.host_error(*e));
        }
        let closure = self
            .heap
            .alloc_closure(main, std::iter::empty())
            .map_err(|e| self.host_error(*e))?;
        self.stack.ensure(1);
        self.stack.set(0, Value::Func(closure));
        let result = self
            .push_frame(closure, 1, 0, 0)
            .and_then(|_| self.execute(0));
        let result = result.map_err(|e| self.host_error(*e));
        self.flush_output();
        result
    }

    /// Writes program output.
    pub(crate) fn write_output(&mut self, text: &str) -> RtResult<()> {
        match self.output_mode {
            OutputMode::Capture => {
                let len = self.output.len() + text.len();
                if len > self.limits.max_output_bytes {
                    return rt_err(
                        ErrorKind::SizeLimit,
                        format!(
                            "output of {len} bytes exceeds the limit of {} bytes",
                            self.limits.max_output_bytes
                        ),
                    );
                }
                self.output.push_str(text);
            }
            OutputMode::Stdout => {
                self.output.push_str(text);
                if self.output.len() >= 8192 {
                    self.flush_output();
                }
            }
        }
        Ok(())
    }

    /// Sends buffered output to standard output (in `Stdout` mode).
    pub fn flush_output(&mut self) {
        if self.output_mode == OutputMode::Stdout && !self.output.is_empty() {
            let mut out = std::io::stdout().lock();
            // A closed pipe is not the program's error; the text is simply dropped.
            let _ = out.write_all(self.output.as_bytes());
            let _ = out.flush();
            self.output.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_history_keeps_the_newest_distinct_field_entries() {
        let mut h = IcHistory::default();
        assert!(h.entries().is_empty());
        h.push(ShapeId(1), 10);
        h.push(ShapeId(2), 20);
        h.push(ShapeId(1), 10);
        assert_eq!(h.entries(), &[(ShapeId(2), 20), (ShapeId(1), 10)]);
        h.push(ShapeId(3), 30);
        h.push(ShapeId(4), 40);
        // Full: the oldest went.
        assert_eq!(
            h.entries(),
            &[(ShapeId(4), 40), (ShapeId(3), 30), (ShapeId(2), 20)]
        );
    }
}
