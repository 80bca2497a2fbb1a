//! Shims for background jobs: Lisp holds a job as a `user-ptr`, polls it
//! for progress, waits on it, cancels it and collects its result once.

use std::time::Duration;

use emacs::{defun, Env, IntoLisp, Result, Transfer, Value};

use super::{plist, run, signal};
use crate::error::{self, Error};
use crate::job::{Job, Progress, State};

/// A job result that can become a Lisp value on Emacs' thread.
pub trait LispOutput: Send + 'static {
    /// Converts the result into a Lisp value.
    fn into_lisp_output(self, env: &Env) -> Result<Value<'_>>;
}

/// The type-erased part of a job that the shims need.
trait ErasedJob: Send + Sync {
    fn progress(&self) -> &Progress;
    fn state(&self) -> State;
    fn elapsed(&self) -> f64;
    fn wait(&self, timeout: Duration) -> bool;
    fn cancel(&self);
    fn take_into_lisp<'e>(&self, env: &'e Env) -> Option<error::Result<Result<Value<'e>>>>;
}

impl<T: LispOutput> ErasedJob for Job<T> {
    fn progress(&self) -> &Progress {
        Job::progress(self)
    }
    fn state(&self) -> State {
        Job::state(self)
    }
    fn elapsed(&self) -> f64 {
        Job::elapsed(self)
    }
    fn wait(&self, timeout: Duration) -> bool {
        Job::wait(self, timeout)
    }
    fn cancel(&self) {
        Job::cancel(self)
    }
    fn take_into_lisp<'e>(&self, env: &'e Env) -> Option<error::Result<Result<Value<'e>>>> {
        self.take()
            .map(|r| r.map(|value| value.into_lisp_output(env)))
    }
}

/// A job as Lisp sees it: a `user-ptr` owned by Emacs' GC.  If the GC drops
/// it while the job runs, the job is cancelled.
///
/// Shims return it with `#[defun(user_ptr)]` (the default `RefCell` embedding)
/// and take it as `&LispJob`, which borrows that cell immutably.
pub struct LispJob {
    kind: &'static str,
    job: Box<dyn ErasedJob>,
}

impl Transfer for LispJob {
    fn type_name() -> &'static str {
        "artisan-job"
    }
}

impl LispJob {
    /// Starts `work` on a worker thread; `kind` names the job for Lisp
    /// ("index", "profile", ...).
    pub fn spawn<T, F>(kind: &'static str, work: F) -> error::Result<LispJob>
    where
        T: LispOutput,
        F: FnOnce(&Progress) -> error::Result<T> + Send + 'static,
    {
        let job = Job::spawn(kind, work)?;
        Ok(LispJob {
            kind,
            job: Box::new(job),
        })
    }
}

/// Return the state of JOB as a plist.
///
/// Keys: `:kind', `:state' (`running', `done', `failed' or `cancelled'),
/// `:done' and `:total' (items; total is 0 while unknown), `:phase' (a
/// string) and `:elapsed' (seconds).
#[defun]
fn job_poll<'e>(env: &'e Env, job: &LispJob) -> Result<Value<'e>> {
    let (done, total, phase) = job.job.progress().snapshot();
    plist(
        env,
        &[
            (":kind", job.kind.into_lisp(env)?),
            (":state", env.intern(job.job.state().name())?),
            (":done", (done as i64).into_lisp(env)?),
            (":total", (total as i64).into_lisp(env)?),
            (":phase", phase.into_lisp(env)?),
            (":elapsed", job.job.elapsed().into_lisp(env)?),
        ],
    )
}

/// Block up to MILLISECONDS for JOB to finish; return t if it has.
#[defun]
fn job_wait(job: &LispJob, milliseconds: i64) -> Result<bool> {
    let ms = u64::try_from(milliseconds).unwrap_or(0);
    Ok(job.job.wait(Duration::from_millis(ms)))
}

/// Ask JOB to stop at its next check.  Return nil.
#[defun]
fn job_cancel(job: &LispJob) -> Result<()> {
    job.job.cancel();
    Ok(())
}

/// Return the result of the finished JOB, or signal its error.
/// A running job signals `artisan-native-error'; so does collecting twice.
#[defun]
fn job_result<'e>(env: &'e Env, job: &LispJob) -> Result<Value<'e>> {
    match job.job.take_into_lisp(env) {
        None => run(env, || Err(Error::native("The job is still running"))),
        Some(Ok(value)) => value,
        Some(Err(e)) => signal(env, &e),
    }
}

/// Test hook: a job that counts to N, sleeping MS milliseconds per step,
/// and returns N; with FAIL non-nil it fails at the end.
#[defun(user_ptr)]
fn test_job(env: &Env, n: i64, ms: i64, fail: Value<'_>) -> Result<LispJob> {
    let fail = fail.is_not_nil();
    run(env, || {
        let n = u64::try_from(n).unwrap_or(0);
        let ms = u64::try_from(ms).unwrap_or(0);
        LispJob::spawn("test", move |p| {
            p.set_total(n);
            p.set_phase("counting");
            for _ in 0..n {
                p.check()?;
                std::thread::sleep(Duration::from_millis(ms));
                p.advance(1);
            }
            if fail {
                Err(Error::index("the test job failed as asked"))
            } else {
                Ok(n as i64)
            }
        })
    })
}

impl LispOutput for i64 {
    fn into_lisp_output(self, env: &Env) -> Result<Value<'_>> {
        self.into_lisp(env)
    }
}
