//! The recorder inside a probed child Emacs.
//!
//! Each call appends one event to an in-memory queue, stamped with the
//! monotonic clock; no Lisp object is allocated and no I/O happens on
//! Emacs' thread.  A background thread (with every signal blocked, so it
//! never receives Emacs' signals) writes the queue to the output file as
//! JSON lines every 100 ms, so a child that hangs or is killed still leaves
//! what it did up to then.  [`Recorder::close`] writes the rest.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::event::{monotonic_ns, Clock, Event};
use crate::error::{Error, Kind, Result, ResultExt};

/// How often the writer thread flushes the queue.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

#[derive(Default)]
struct Queue {
    events: Vec<Event>,
    stop: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records events of one start-up into a JSON-lines file.
pub struct Recorder {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
    overhead_ns: u64,
    closed: bool,
}

impl Recorder {
    /// Creates `path` (which must not exist: a second Emacs that inherited
    /// the probe's environment must not write into the same file) and
    /// starts recording.  `first_lisp` is when the probe started, on the
    /// monotonic clock.
    pub fn open(path: &Path, first_lisp: u64) -> Result<Recorder> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .or_kind(Kind::Startup, format!("Cannot create {}", path.display()))?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let writer = spawn_writer(Arc::clone(&shared), BufWriter::new(file))?;
        let mut recorder = Recorder {
            shared,
            writer: Some(writer),
            overhead_ns: 0,
            closed: false,
        };
        let t = monotonic_ns();
        recorder.push_untimed(Event::Start {
            t,
            clock: Clock::Monotonic,
            pid: std::process::id(),
            first_lisp: if first_lisp == 0 { t } else { first_lisp },
        });
        Ok(recorder)
    }

    /// A recorder that records exactly as [`Recorder::open`]'s does but
    /// throws the events away: the probe times its own recording paths
    /// with it, so that its calibration never mixes with the start-up.
    pub fn scratch() -> Result<Recorder> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let writer = spawn_writer(Arc::clone(&shared), std::io::sink())?;
        Ok(Recorder {
            shared,
            writer: Some(writer),
            overhead_ns: 0,
            closed: false,
        })
    }

    fn push_untimed(&mut self, event: Event) {
        if !self.closed {
            lock(&self.shared.queue).events.push(event);
        }
    }

    /// Records the event `make(now)`, timing the recording itself.
    pub fn record(&mut self, make: impl FnOnce(u64) -> Event) {
        let t = monotonic_ns();
        self.push_untimed(make(t));
        self.overhead_ns += monotonic_ns().saturating_sub(t);
    }

    /// Records an untimed event (metadata).
    pub fn meta(&mut self, key: &str, value: serde_json::Value) {
        self.push_untimed(Event::Meta {
            key: key.to_string(),
            value,
        });
    }

    /// Nanoseconds spent inside [`Recorder::record`] so far.
    pub fn overhead_ns(&self) -> u64 {
        self.overhead_ns
    }

    /// Writes the `end` event and everything queued, and stops the writer.
    pub fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        let t = monotonic_ns();
        let overhead_ns = self.overhead_ns;
        self.push_untimed(Event::End { t, overhead_ns });
        self.closed = true;
        self.stop_writer()
    }

    fn stop_writer(&mut self) -> Result<()> {
        {
            let mut q = lock(&self.shared.queue);
            q.stop = true;
        }
        self.shared.wake.notify_all();
        match self.writer.take() {
            Some(handle) => handle
                .join()
                .map_err(|_| Error::startup("The recorder's writer thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.stop_writer();
    }
}

/// Starts the writer thread with all signals blocked in it.
fn spawn_writer<W: Write + Send + 'static>(
    shared: Arc<Shared>,
    mut out: W,
) -> Result<JoinHandle<()>> {
    // Block every signal while spawning, so the new thread inherits a full
    // mask and Emacs' signal handlers only ever run on Emacs' own threads.
    // SAFETY: plain libc calls on valid, local sigset_t values.
    let previous = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut previous);
        previous
    };
    let spawned = std::thread::Builder::new()
        .name("artisan-probe-writer".into())
        .spawn(move || loop {
            let (batch, stop) = {
                let mut q = lock(&shared.queue);
                if !q.stop {
                    // Woken early only by `stop`: records do not notify.
                    q = shared
                        .wake
                        .wait_timeout(q, FLUSH_EVERY)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                (std::mem::take(&mut q.events), q.stop)
            };
            for event in &batch {
                let _ = writeln!(out, "{}", event.to_line());
            }
            let _ = out.flush();
            if stop {
                break;
            }
        });
    // SAFETY: restores the mask saved above.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut());
    }
    spawned.or_kind(Kind::Startup, "Cannot start the recorder's writer thread")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::startup::event::read_events;

    fn temp_file(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "artisan-recorder-{}-{}",
            std::process::id(),
            monotonic_ns()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn remove_temp(path: &std::path::Path) {
        if let Some(dir) = path.parent() {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn records_events_in_order_and_closes_with_end() {
        let path = temp_file("events.jsonl");
        let mut r = Recorder::open(&path, 0).unwrap();
        r.record(|t| Event::Enter {
            t,
            kind: "load".into(),
            name: "foo".into(),
            via: "require".into(),
            gc: 0,
            gcs: 0.0,
        });
        r.record(|t| Event::Leave {
            t,
            kind: "load".into(),
            found: true,
            err: None,
            gc: 0,
            gcs: 0.0,
        });
        r.meta("emacs-version", serde_json::json!("28.2"));
        r.close().unwrap();
        let (events, skipped) =
            read_events(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        assert_eq!(skipped, 0);
        assert_eq!(events.len(), 5);
        assert!(matches!(events.first(), Some(Event::Start { .. })));
        assert!(matches!(events.last(), Some(Event::End { .. })));
        let times: Vec<u64> = events.iter().filter_map(Event::time).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        assert!(r.overhead_ns() < 1_000_000_000);
        remove_temp(&path);
    }

    #[test]
    fn events_reach_the_file_before_close() {
        let path = temp_file("live.jsonl");
        let mut r = Recorder::open(&path, 0).unwrap();
        r.record(|t| Event::Mark {
            t,
            phase: "init".into(),
            gc: 0,
            gcs: 0.0,
            threshold: Some(800000.0),
        });
        std::thread::sleep(Duration::from_millis(400));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"init\""), "{text}");
        drop(r);
        remove_temp(&path);
    }

    #[test]
    fn a_scratch_recorder_writes_nothing() {
        let mut r = Recorder::scratch().unwrap();
        for _ in 0..1000 {
            r.record(|t| Event::Loaded {
                t,
                path: "/artisan-calibration".into(),
                gc: 0,
                gcs: 0.0,
            });
        }
        assert!(r.overhead_ns() > 0);
        r.close().unwrap();
    }

    #[test]
    fn refuses_to_write_into_an_existing_file() {
        let path = temp_file("taken.jsonl");
        std::fs::write(&path, "").unwrap();
        let e = Recorder::open(&path, 0).err().unwrap();
        assert_eq!(e.kind, Kind::Startup);
        remove_temp(&path);
    }
}
