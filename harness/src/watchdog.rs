//! Checks on a thread that a watchdog can give up on. Compiled code that never ends cannot be
//! interrupted from outside, so a run past its deadline is reported as a hang and its thread
//! abandoned (moved to the idle scheduling class, where it costs only idle CPU) for a fresh one.

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::oracle::{self, CaseReport, Divergence, Subject, TierStart, Verdict};

/// Work run on set-up threads: `setup` runs once on each (for thread-local engine state such
/// as the active mutant).
pub type Setup = Arc<dyn Fn() + Send + Sync>;

/// A job for the watched thread: it announces each tier run through its argument.
type Job = Box<dyn FnOnce(&mut dyn FnMut(&TierStart<'_>)) -> Box<dyn Any + Send> + Send>;

/// Threads given up on since the process started.
static ABANDONED: AtomicUsize = AtomicUsize::new(0);

/// How many threads this process has abandoned (each still runs, at idle priority, until the
/// process ends).
pub fn abandoned() -> usize {
    ABANDONED.load(Ordering::Relaxed)
}

/// The run the watched thread is in, as its last announcement said.
#[derive(Default)]
struct Running {
    tier: String,
    input: usize,
    since: Option<Instant>,
    deadline: Option<Duration>,
    expected: Option<String>,
}

/// How a watched job ended.
pub enum Watch<T> {
    /// It finished with this result.
    Done(T),
    /// A run passed its deadline: the tier, the reference's result kind when known, and how
    /// long the run had taken when given up on.
    Hung {
        /// The tier whose run did not end.
        tier: String,
        /// The input vector it ran on.
        input: usize,
        /// The reference's result kind, if the reference had run.
        expected: Option<String>,
        /// Time the run had taken.
        after: Duration,
    },
    /// The thread died (a panic outside the engine's own guard).
    Died,
}

/// One worker thread, replaced whenever it hangs or dies.
pub struct Watched {
    setup: Setup,
    thread: Option<Thread>,
}

struct Thread {
    jobs: Sender<Job>,
    results: Receiver<Box<dyn Any + Send>>,
    running: Arc<Mutex<Running>>,
    tid: Arc<Mutex<Option<i32>>>,
}

impl Watched {
    /// A watched worker whose thread (and every replacement) first calls `setup`.
    pub fn new(setup: Setup) -> Watched {
        Watched {
            setup,
            thread: None,
        }
    }

    fn thread(&mut self) -> &Thread {
        let setup = Arc::clone(&self.setup);
        self.thread.get_or_insert_with(|| {
            let (jobs, job_rx) = mpsc::channel::<Job>();
            let (result_tx, results) = mpsc::channel();
            let running = Arc::new(Mutex::new(Running::default()));
            let tid = Arc::new(Mutex::new(None));
            let (r, t) = (Arc::clone(&running), Arc::clone(&tid));
            std::thread::Builder::new()
                .name("echo-harness-check".into())
                .spawn(move || {
                    *t.lock().expect("never poisoned") = Some(current_tid());
                    setup();
                    for job in job_rx {
                        let mut announce = |s: &TierStart<'_>| {
                            *r.lock().expect("never poisoned") = Running {
                                tier: s.tier.to_string(),
                                input: s.input,
                                since: Some(Instant::now()),
                                deadline: s.deadline,
                                expected: s.expected.clone(),
                            };
                        };
                        let out = job(&mut announce);
                        *r.lock().expect("never poisoned") = Running::default();
                        if result_tx.send(out).is_err() {
                            break;
                        }
                    }
                })
                .expect("the system can start a thread");
            Thread {
                jobs,
                results,
                running,
                tid,
            }
        })
    }

    /// Runs `job` on the watched thread and waits for it, giving up when a run it announced
    /// passes its deadline.
    pub fn run<T: Send + 'static>(
        &mut self,
        job: impl FnOnce(&mut dyn FnMut(&TierStart<'_>)) -> T + Send + 'static,
    ) -> Watch<T> {
        let t = self.thread();
        let boxed: Job = Box::new(move |announce| Box::new(job(announce)));
        if t.jobs.send(boxed).is_err() {
            self.thread = None;
            return Watch::Died;
        }
        loop {
            match t.results.recv_timeout(Duration::from_millis(20)) {
                Ok(out) => {
                    return match out.downcast::<T>() {
                        Ok(v) => Watch::Done(*v),
                        Err(_) => unreachable!("the job's own result type"),
                    };
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.thread = None;
                    return Watch::Died;
                }
                Err(RecvTimeoutError::Timeout) => {
                    let r = t.running.lock().expect("never poisoned");
                    let (Some(since), Some(deadline)) = (r.since, r.deadline) else {
                        continue;
                    };
                    let after = since.elapsed();
                    if after <= deadline {
                        continue;
                    }
                    let hung = Watch::Hung {
                        tier: r.tier.clone(),
                        input: r.input,
                        expected: r.expected.clone(),
                        after,
                    };
                    drop(r);
                    self.abandon();
                    return hung;
                }
            }
        }
    }

    /// Gives up on the current thread: it keeps running (nothing can stop it from outside)
    /// but only on otherwise idle CPU, and quits if its job ever ends.
    fn abandon(&mut self) {
        if let Some(t) = self.thread.take() {
            if let Some(tid) = *t.tid.lock().expect("never poisoned") {
                make_idle(tid);
            }
            ABANDONED.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Checks `p` in every tier on the watched thread; a run past its deadline gives a `Hang`
    /// divergence, a dead thread a `Crash`.
    pub fn check(&mut self, p: &Subject, opts: &oracle::Options) -> CaseReport {
        let (subject, options) = (p.clone(), opts.clone());
        match self.run(move |announce| oracle::check_observed(&subject, &options, announce)) {
            Watch::Done(r) => r,
            Watch::Hung {
                tier,
                input,
                expected,
                after,
            } => CaseReport::only(Verdict::Diverge(Divergence {
                signature: oracle::hang_signature(&tier, expected.as_deref()),
                detail: format!(
                    "{tier} still running after {:.1} s (the reference ended with {})",
                    after.as_secs_f64(),
                    expected.as_deref().unwrap_or("nothing yet")
                ),
                input,
            })),
            Watch::Died => CaseReport::only(Verdict::Diverge(Divergence {
                signature: oracle::crash_signature("harness", None),
                detail: "the checking thread died".to_string(),
                input: 0,
            })),
        }
    }
}

/// The calling thread's kernel id.
fn current_tid() -> i32 {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::gettid() }
}

/// Moves thread `tid` of this process to the idle scheduling class (best effort: where the
/// call is refused the thread keeps its priority).
fn make_idle(tid: i32) {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid sched_param for the duration of the call; a stale tid makes
    // the call fail, which is ignored.
    let _ = unsafe { libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(tier: &str, deadline: Option<Duration>) -> TierStart<'_> {
        TierStart {
            tier,
            input: 0,
            deadline,
            expected: Some("ok".to_string()),
        }
    }

    #[test]
    fn a_run_past_its_deadline_is_given_up_on_and_the_next_job_gets_a_fresh_thread() {
        let setups = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&setups);
        let mut w = Watched::new(Arc::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
        }));
        let before = abandoned();
        let hung = w.run::<()>(|announce| {
            announce(&start("first", None));
            announce(&start("stuck", Some(Duration::from_millis(50))));
            loop {
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        assert!(matches!(
            hung,
            Watch::Hung { ref tier, ref expected, after, .. }
                if tier == "stuck" && expected.as_deref() == Some("ok")
                    && after > Duration::from_millis(50)
        ));
        assert!(abandoned() > before);
        // A run without a deadline is waited for, however long it takes.
        let slow = w.run(|announce| {
            announce(&start("slow", None));
            std::thread::sleep(Duration::from_millis(120));
            7
        });
        assert!(matches!(slow, Watch::Done(7)));
        assert_eq!(setups.load(Ordering::Relaxed), 2, "one set-up per thread");
    }
}
