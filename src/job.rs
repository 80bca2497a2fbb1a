//! Background jobs: long work on a native thread, with progress, cancellation
//! and a result collected once.
//!
//! Emacs may only be called from its own thread, so long work (indexing,
//! profiling runs) runs on a worker and hands back a [`Job`].  Lisp polls it
//! from a timer for progress and the result, and may cancel it; in batch mode
//! the same job is simply waited for.  The worker body receives a [`Progress`]
//! it updates and checks for cancellation.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{catch_panics, Error, Kind, Result};

/// Shared progress of a running job: counters, a phase label and the cancel flag.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    cancelled: AtomicBool,
    phase: Mutex<String>,
}

/// Locks a mutex, recovering the data if another thread panicked while holding it.
/// Every critical section here leaves the data consistent, so this is safe.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Progress {
    /// Sets the number of work items (0 while unknown).
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    /// Records `n` more items done.
    pub fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Sets the number of items done.
    pub fn set_done(&self, done: u64) {
        self.done.store(done, Ordering::Relaxed);
    }

    /// Names the current phase ("scanning", "indexing", "committing", ...).
    pub fn set_phase(&self, phase: &str) {
        let mut p = lock(&self.phase);
        p.clear();
        p.push_str(phase);
    }

    /// Asks the job to stop at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// True once cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Returns `Err(cancelled)` once cancellation was requested; workers call
    /// this between items with `?`.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::cancelled())
        } else {
            Ok(())
        }
    }

    /// A snapshot: (done, total, phase).
    pub fn snapshot(&self) -> (u64, u64, String) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
            lock(&self.phase).clone(),
        )
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Still working.
    Running,
    /// Finished with a value (not yet collected, or already collected).
    Done,
    /// Finished with an error.
    Failed,
    /// Stopped because it was cancelled.
    Cancelled,
}

impl State {
    /// The Lisp-facing name of the state.
    pub fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Done => "done",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug)]
enum Slot<T> {
    Running,
    Finished(Result<T>),
    Collected(State),
}

#[derive(Debug)]
struct Shared<T> {
    progress: Progress,
    slot: Mutex<Slot<T>>,
    finished: Condvar,
    started: Instant,
}

/// A handle on work running on its own thread.
///
/// Dropping the handle while the job runs cancels it: nobody could collect
/// its result any more.
#[derive(Debug)]
pub struct Job<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `work` on a new thread named `name`.  A panic in `work` fails the
    /// job with an internal-error message instead of unwinding further.
    pub fn spawn<F>(name: &str, work: F) -> Result<Job<T>>
    where
        F: FnOnce(&Progress) -> Result<T> + Send + 'static,
    {
        let shared = Arc::new(Shared {
            progress: Progress::default(),
            slot: Mutex::new(Slot::Running),
            finished: Condvar::new(),
            started: Instant::now(),
        });
        let worker = Arc::clone(&shared);
        thread::Builder::new()
            .name(format!("artisan-{name}"))
            .spawn(move || {
                let result = catch_panics(|| work(&worker.progress));
                *lock(&worker.slot) = Slot::Finished(result);
                worker.finished.notify_all();
            })
            .map_err(|e| Error::native(format!("Cannot start a worker thread: {e}")))?;
        Ok(Job { shared })
    }
}

impl<T> Job<T> {
    /// The job's progress counters.
    pub fn progress(&self) -> &Progress {
        &self.shared.progress
    }

    /// Seconds since the job started.
    pub fn elapsed(&self) -> f64 {
        self.shared.started.elapsed().as_secs_f64()
    }

    /// The current state.
    pub fn state(&self) -> State {
        match &*lock(&self.shared.slot) {
            Slot::Running => State::Running,
            Slot::Finished(Ok(_)) => State::Done,
            Slot::Finished(Err(e)) if e.kind == Kind::Cancelled => State::Cancelled,
            Slot::Finished(Err(_)) => State::Failed,
            Slot::Collected(state) => *state,
        }
    }

    /// Requests cancellation; the worker stops at its next check.
    pub fn cancel(&self) {
        self.shared.progress.cancel();
    }

    /// Blocks until the job finishes or `timeout` passes; true if finished.
    pub fn wait(&self, timeout: Duration) -> bool {
        let guard = lock(&self.shared.slot);
        let (guard, _) = self
            .shared
            .finished
            .wait_timeout_while(guard, timeout, |slot| matches!(slot, Slot::Running))
            .unwrap_or_else(PoisonError::into_inner);
        !matches!(*guard, Slot::Running)
    }

    /// Takes the result of a finished job.  Returns `None` while it runs; a
    /// second call returns an error saying the result was already collected.
    pub fn take(&self) -> Option<Result<T>> {
        let mut slot = lock(&self.shared.slot);
        let state = match &*slot {
            Slot::Running => return None,
            Slot::Collected(_) => {
                return Some(Err(Error::native("The job's result was already collected")))
            }
            Slot::Finished(Ok(_)) => State::Done,
            Slot::Finished(Err(e)) if e.kind == Kind::Cancelled => State::Cancelled,
            Slot::Finished(Err(_)) => State::Failed,
        };
        match std::mem::replace(&mut *slot, Slot::Collected(state)) {
            Slot::Finished(result) => Some(result),
            // Unreachable: the match above returned for every other slot.
            _ => Some(Err(Error::native("The job changed state while collected"))),
        }
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        self.shared.progress.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_reports_progress_and_its_result_once() {
        let job = Job::spawn("test", |p| {
            p.set_total(3);
            p.set_phase("counting");
            for _ in 0..3 {
                p.advance(1);
            }
            Ok(42)
        })
        .unwrap();
        assert!(job.wait(Duration::from_secs(5)));
        assert_eq!(job.state(), State::Done);
        assert_eq!(job.progress().snapshot(), (3, 3, "counting".to_string()));
        assert_eq!(job.take(), Some(Ok(42)));
        assert_eq!(job.state(), State::Done);
        let again = job.take().unwrap().unwrap_err();
        assert!(again.message.contains("already collected"));
    }

    #[test]
    fn cancelling_stops_the_worker_at_its_next_check() {
        let job: Job<u32> = Job::spawn("test", |p| loop {
            p.check()?;
            p.advance(1);
            thread::sleep(Duration::from_millis(1));
        })
        .unwrap();
        assert!(!job.wait(Duration::from_millis(20)));
        assert_eq!(job.state(), State::Running);
        assert_eq!(job.take(), None);
        job.cancel();
        assert!(job.wait(Duration::from_secs(5)));
        assert_eq!(job.state(), State::Cancelled);
        assert_eq!(job.take().unwrap().unwrap_err().kind, Kind::Cancelled);
    }

    #[test]
    fn a_panicking_worker_fails_the_job() {
        crate::error::install_panic_hook();
        let job: Job<()> = Job::spawn("test", |_| panic!("worker exploded")).unwrap();
        assert!(job.wait(Duration::from_secs(5)));
        assert_eq!(job.state(), State::Failed);
        let e = job.take().unwrap().unwrap_err();
        assert_eq!(e.kind, Kind::Native);
        assert!(e.message.contains("worker exploded"), "{}", e.message);
    }

    #[test]
    fn errors_fail_the_job_with_their_kind() {
        let job: Job<()> = Job::spawn("test", |_| Err(Error::index("disk full"))).unwrap();
        assert!(job.wait(Duration::from_secs(5)));
        assert_eq!(job.state(), State::Failed);
        assert_eq!(job.take(), Some(Err(Error::index("disk full"))));
    }
}
