//! The background compiler: a second thread that runs Cranelift on functions the main thread
//! has translated, so that the interpreter goes on running while they compile.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use cranelift_codegen::Context;
use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::OwnedTargetIsa;

use super::cache::Store;
use super::{Generated, Translated, generate, panic_message};

/// Stack of the worker thread (reserved; only what Cranelift touches is memory).
const WORKER_STACK: usize = 8 * 1024 * 1024;

/// A translated function on its way to the worker.
pub(super) struct Job {
    pub(super) what: Translated,
    pub(super) func: Function,
}

/// What the worker made of a job.
pub(super) struct Done {
    pub(super) what: Translated,
    /// The machine code, or why there is none.
    pub(super) code: Result<Generated, String>,
    /// Whether Cranelift panicked (the worker is gone then).
    pub(super) panicked: bool,
    /// Time spent generating the code.
    pub(super) time: Duration,
}

/// The handle of a worker thread: jobs go in, results come out in the same order.
pub(super) struct Worker {
    jobs: Sender<Job>,
    done: Receiver<Done>,
    /// Results sent and not yet received: read at every call of a function waiting for its
    /// code, so it is one atomic load rather than a channel operation.
    ready: Arc<AtomicUsize>,
    /// Jobs sent whose results were not received yet.
    in_flight: usize,
}

impl Worker {
    /// Starts a worker generating code for `isa` (through `store`, the starting thread's store
    /// of shared code, with `Config::share_code`); `None` if no thread can be started.
    pub(super) fn spawn(isa: OwnedTargetIsa, store: Option<Store>, disasm: bool) -> Option<Worker> {
        let (jobs, inbox) = channel::<Job>();
        let (outbox, done) = channel::<Done>();
        let ready = Arc::new(AtomicUsize::new(0));
        let sent = Arc::clone(&ready);
        std::thread::Builder::new()
            .name("echo-jit".into())
            // As much stack as a main thread has: compiling the largest functions the
            // translator accepts must not depend on which thread does it.
            .stack_size(WORKER_STACK)
            .spawn(move || {
                for job in inbox {
                    let start = Instant::now();
                    // A context per job: kept between jobs, its buffers would hold the
                    // largest compilation's memory for the rest of the run.
                    let mut ctx = Context::for_function(job.func);
                    ctx.set_disasm(disasm);
                    // A panic must not end the thread silently: it is reported like any
                    // failure, and the JIT then compiles nothing more.
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        generate(&mut ctx, &*isa, store.as_ref())
                    }));
                    let (code, panicked) = match r {
                        Ok(Ok(shared)) => match Generated::take(&mut ctx, shared) {
                            Some(code) => (Ok(code), false),
                            None => (Err("no compiled code".to_string()), false),
                        },
                        Ok(Err(e)) => (Err(e), false),
                        Err(p) => (
                            Err(format!("the code generator failed: {}", panic_message(&*p))),
                            true,
                        ),
                    };
                    drop(ctx);
                    let done = Done {
                        what: job.what,
                        code,
                        panicked,
                        time: start.elapsed(),
                    };
                    // Counted first: a reader that sees the count before the result only
                    // looks again later.
                    sent.fetch_add(1, Ordering::Release);
                    if outbox.send(done).is_err() || panicked {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Worker {
            jobs,
            done,
            ready,
            in_flight: 0,
        })
    }

    /// Queues a job; false if the worker is gone.
    pub(super) fn send(&mut self, job: Job) -> bool {
        let sent = self.jobs.send(job).is_ok();
        self.in_flight += usize::from(sent);
        sent
    }

    /// Jobs queued or being compiled, their results not received yet.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether a result is waiting.
    pub(super) fn has_done(&self) -> bool {
        self.ready.load(Ordering::Acquire) > 0
    }

    /// The results waiting, in the order their jobs were sent.
    pub(super) fn take_done(&mut self) -> Vec<Done> {
        let mut out = Vec::new();
        while let Ok(d) = self.done.try_recv() {
            self.ready.fetch_sub(1, Ordering::AcqRel);
            self.in_flight -= 1;
            out.push(d);
        }
        out
    }
}
