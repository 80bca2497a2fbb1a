//! A thread that watches the monitor from outside Emacs' own thread.
//!
//! The monitor publishes, at every begin and end of work, since when Emacs
//! has been busy and with what ([`Shared`]).  The watchdog never calls
//! Emacs: it reads those atomics a few times per stall threshold, and when
//! Emacs stays busy longer than the threshold it writes a small JSON file
//! (`stall-PID.json`) naming the work and how long it has lasted, updated
//! every second, and removes it once Emacs responds again.  A file left
//! behind means that Emacs was killed while stuck; the next session reads it
//! with [`take_stalls`] and can say what hung.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::history::write_atomically;
use super::{Kind, SourceId};
use crate::error::{Kind as ErrorKind, Result, ResultExt};

const IDLE: u64 = u64::MAX;

/// What the monitor publishes for the watchdog.
#[derive(Debug)]
pub struct Shared {
    busy_since: AtomicU64,
    inner: AtomicU32,
    outer: AtomicU32,
    names: Mutex<Vec<(Kind, String)>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            busy_since: AtomicU64::new(IDLE),
            inner: AtomicU32::new(0),
            outer: AtomicU32::new(0),
            names: Mutex::new(Vec::new()),
        }
    }
}

impl Shared {
    /// Emacs is busy since monitor time `since`, running `inner` inside `outer`.
    pub fn set_busy(&self, since: u64, inner: SourceId, outer: SourceId) {
        self.inner.store(inner, Ordering::Relaxed);
        self.outer.store(outer, Ordering::Relaxed);
        self.busy_since.store(since, Ordering::Release);
    }

    /// Emacs waits for input (or runs nothing measured).
    pub fn set_idle(&self) {
        self.busy_since.store(IDLE, Ordering::Release);
    }

    /// Since when Emacs has been busy, and with what (inner, outer).
    pub fn busy(&self) -> Option<(u64, SourceId, SourceId)> {
        let since = self.busy_since.load(Ordering::Acquire);
        (since != IDLE).then(|| {
            (
                since,
                self.inner.load(Ordering::Relaxed),
                self.outer.load(Ordering::Relaxed),
            )
        })
    }

    /// Registers the name of source `id`.
    pub fn set_name(&self, id: SourceId, kind: Kind, name: &str) {
        if let Ok(mut names) = self.names.lock() {
            let i = id as usize;
            if names.len() <= i {
                names.resize(i + 1, (Kind::Command, String::new()));
            }
            if let Some(slot) = names.get_mut(i) {
                *slot = (kind, name.to_string());
            }
        }
    }

    /// The kind and name of source `id`.
    pub fn name(&self, id: SourceId) -> (Kind, String) {
        self.names
            .lock()
            .ok()
            .and_then(|n| n.get(id as usize).cloned())
            .unwrap_or((Kind::Command, String::from("?")))
    }
}

/// A stall, as the watchdog writes it down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stall {
    /// The process id of the Emacs that stalled.
    pub pid: u32,
    /// Its session name.
    pub session: String,
    /// The innermost work running (`timer`, `command`, ...).
    pub kind: String,
    /// Its name.
    pub name: String,
    /// The outermost busy work it runs in.
    pub outer_kind: String,
    /// Its name.
    pub outer_name: String,
    /// When the stall began, seconds since the Unix epoch.
    pub since: f64,
    /// How long it had lasted when last written, in seconds.
    pub seconds: f64,
}

/// How the watchdog is set up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file it writes (`…/stall-PID.json`).
    pub file: PathBuf,
    /// Busy this long is a stall.
    pub stall: Duration,
    /// This process.
    pub pid: u32,
    /// The session name written into the file.
    pub session: String,
}

/// The running watchdog thread; dropping it stops the thread.
#[derive(Debug)]
pub struct Watchdog {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching `shared`, whose monitor clock started at `base`
    /// (Unix time `base_unix`).
    pub fn start(
        shared: Arc<Shared>,
        base: Instant,
        base_unix: f64,
        settings: Settings,
    ) -> Result<Watchdog> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stop2 = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("artisan-pause-watchdog".into())
            .spawn(move || watch(&shared, base, base_unix, &settings, &stop2))
            .or_kind(ErrorKind::Pause, "Cannot start the watchdog thread")?;
        Ok(Watchdog {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        if let Ok(mut stopped) = lock.lock() {
            *stopped = true;
        }
        cvar.notify_all();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The watchdog's loop.
fn watch(
    shared: &Shared,
    base: Instant,
    base_unix: f64,
    settings: &Settings,
    stop: &(Mutex<bool>, Condvar),
) {
    let tick = (settings.stall / 4).clamp(Duration::from_millis(10), Duration::from_millis(250));
    let stall_ns = u64::try_from(settings.stall.as_nanos()).unwrap_or(u64::MAX);
    // The stall written down: its start, and when the file was last written.
    let mut written: Option<(u64, Instant)> = None;
    let (lock, cvar) = stop;
    loop {
        let stopped = match lock.lock() {
            Ok(guard) => match cvar.wait_timeout(guard, tick) {
                Ok((guard, _)) => *guard,
                Err(_) => true,
            },
            Err(_) => true,
        };
        if stopped {
            break;
        }
        let now = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        match shared.busy() {
            Some((since, inner, outer)) if now.saturating_sub(since) >= stall_ns => {
                let due = match written {
                    Some((s, at)) => s != since || at.elapsed() >= Duration::from_secs(1),
                    None => true,
                };
                if due {
                    let (kind, name) = shared.name(inner);
                    let (outer_kind, outer_name) = shared.name(outer);
                    let stall = Stall {
                        pid: settings.pid,
                        session: settings.session.clone(),
                        kind: kind.name().into(),
                        name,
                        outer_kind: outer_kind.name().into(),
                        outer_name,
                        since: base_unix + since as f64 / 1e9,
                        seconds: now.saturating_sub(since) as f64 / 1e9,
                    };
                    if let Ok(json) = serde_json::to_vec(&stall) {
                        if write_atomically(&settings.file, &json).is_ok() {
                            written = Some((since, Instant::now()));
                        }
                    }
                }
            }
            _ => {
                if written.take().is_some() {
                    let _ = fs::remove_file(&settings.file);
                }
            }
        }
    }
    if written.is_some() {
        let _ = fs::remove_file(&settings.file);
    }
}

/// Whether process `pid` is alive.
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Reads and removes the stall files in `dir` left by Emacs processes that
/// are gone (not `own_pid`, not alive): each is a session that was stuck
/// when it ended.  Unreadable files are removed too.
pub fn take_stalls(dir: &Path, own_pid: u32) -> Vec<Stall> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stalls = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix("stall-")
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own_pid || alive(pid) {
            continue;
        }
        if let Some(stall) = fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Stall>(&b).ok())
        {
            stalls.push(stall);
        }
        let _ = fs::remove_file(&path);
    }
    stalls.sort_by(|a, b| a.since.total_cmp(&b.since));
    stalls
}
