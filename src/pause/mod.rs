//! The responsiveness monitor: what Emacs ran on the user's behalf, how long
//! each piece took, and the slow ones with their context.
//!
//! Lisp (lisp/artisan-pause.el) tells the [`Monitor`] when a command, timer,
//! process filter or sentinel, hook function or redisplay begins and ends;
//! the monitor takes the timestamps itself (no Lisp float per event) and
//! keeps, per source, running statistics in constant memory ([`stats`]),
//! and a fixed ring of the slow occurrences ([`PauseEvent`]).
//!
//! Time is *exclusive*: a timer that runs while a command waits in
//! `accept-process-output` is the timer's time, not the command's.  Time a
//! piece of work spends waiting for the user (a minibuffer, `read-key`,
//! `sit-for`) is not work either: Lisp reports such waits with
//! [`Monitor::idle`] and [`Monitor::wait`], and they are left out.
//!
//! [`watchdog`] watches the same state from another thread and leaves a file
//! behind when Emacs stays busy for too long, so that a hang that ends with
//! Emacs being killed is still named the next time.  [`history`] keeps
//! daily summaries on disk.

pub mod history;
pub mod record;
pub mod stats;
pub mod watchdog;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::error::Result;
pub use record::{Config, DaySource, Hour, Kind, Leave, PauseEvent, Source, SourceId};
use stats::Durations;
use watchdog::{Settings, Shared, Watchdog};

/// An open piece of work.
#[derive(Debug, Clone)]
struct Frame {
    source: SourceId,
    kind: Kind,
    /// The recursion depth a command ran at (its pre- and post-command
    /// hooks run at the same depth); 0 for other kinds.
    level: i64,
    start: u64,
    start_unix: f64,
    /// Own work so far, excluding children and waits.
    work: u64,
    /// When it last resumed its own work; `None` while a child runs or it waits.
    resumed: Option<u64>,
    /// Depth of `sit-for`-style waits it is in, and whether an idle wait is open.
    waits: u32,
    idle_wait: bool,
    waited: bool,
    gc_start: f64,
    child_gc: f64,
    profiled: bool,
}

impl Frame {
    fn waiting(&self) -> bool {
        self.waits > 0 || self.idle_wait
    }

    fn suspend(&mut self, at: u64) {
        if let Some(r) = self.resumed.take() {
            self.work += at.saturating_sub(r);
        }
    }
}

/// The responsiveness monitor of one Emacs session.
pub struct Monitor {
    base: Instant,
    base_unix: f64,
    config: Config,
    sources: Vec<Source>,
    by_key: HashMap<(Kind, String), SourceId>,
    stack: Vec<Frame>,
    ring: VecDeque<PauseEvent>,
    next_seq: u64,
    hours: BTreeMap<i64, Hour>,
    day_sources: HashMap<(i64, SourceId), DaySource>,
    profiling: bool,
    redisplay: Option<SourceId>,
    shared: Arc<Shared>,
    watchdog: Option<Watchdog>,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

impl Monitor {
    /// A monitor with `config`, its clock starting now.
    pub fn new(config: Config) -> Monitor {
        Monitor {
            base: Instant::now(),
            base_unix: unix_now(),
            config,
            sources: Vec::new(),
            by_key: HashMap::new(),
            stack: Vec::new(),
            ring: VecDeque::new(),
            next_seq: 1,
            hours: BTreeMap::new(),
            day_sources: HashMap::new(),
            profiling: false,
            redisplay: None,
            shared: Arc::new(Shared::default()),
            watchdog: None,
        }
    }

    /// Nanoseconds since the monitor started.
    pub fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The Unix time of monitor time `ns`.
    pub fn unix_at(&self, ns: u64) -> f64 {
        self.base_unix + ns as f64 / 1e9
    }

    /// When the monitor started, in seconds since the Unix epoch.
    pub fn started_unix(&self) -> f64 {
        self.base_unix
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes the pause threshold.
    pub fn set_threshold_ns(&mut self, ns: u64) {
        self.config.threshold_ns = ns;
    }

    /// Changes the profiling rule (0: never).
    pub fn set_profile_after(&mut self, n: u64) {
        self.config.profile_after = n;
        if n == 0 {
            for s in &mut self.sources {
                s.want_profile = false;
            }
        }
    }

    /// Changes the local time offset used for hours and days.
    pub fn set_utc_offset(&mut self, seconds: i64) {
        self.config.utc_offset_s = seconds;
    }

    /// Starts (or restarts) the watchdog thread with `settings`.
    pub fn start_watchdog(&mut self, settings: Settings) -> Result<()> {
        self.watchdog = None;
        self.watchdog = Some(Watchdog::start(
            self.shared(),
            self.base,
            self.base_unix,
            settings,
        )?);
        Ok(())
    }

    /// Stops the watchdog thread, if it runs.
    pub fn stop_watchdog(&mut self) {
        self.watchdog = None;
    }

    /// Whether the watchdog thread runs.
    pub fn watching(&self) -> bool {
        self.watchdog.is_some()
    }

    /// The state the watchdog thread reads.
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// The id of the source `kind`/`name`, registering it the first time.
    pub fn source(&mut self, kind: Kind, name: &str) -> SourceId {
        if let Some(&id) = self.by_key.get(&(kind, name.to_string())) {
            return id;
        }
        let id = SourceId::try_from(self.sources.len()).unwrap_or(SourceId::MAX);
        self.sources.push(Source {
            kind,
            name: name.to_string(),
            all: Durations::default(),
            gc_us: 0,
            pauses: 0,
            pause_us: 0,
            pause_gc_us: 0,
            want_profile: false,
            profiled: false,
        });
        self.by_key.insert((kind, name.to_string()), id);
        self.shared.set_name(id, kind, name);
        id
    }

    /// Every source, by id.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// The source `id`, if it exists.
    pub fn get_source(&self, id: SourceId) -> Option<&Source> {
        self.sources.get(id as usize)
    }

    /// Sources seen, worst first: by time lost to pauses, then by total time.
    pub fn ranked(&self) -> Vec<(SourceId, &Source)> {
        let mut v: Vec<(SourceId, &Source)> = (0..)
            .zip(self.sources.iter())
            .filter(|(_, s)| s.all.count() > 0)
            .collect();
        v.sort_by(|(_, a), (_, b)| {
            b.pause_us
                .cmp(&a.pause_us)
                .then(b.all.total_us().cmp(&a.all.total_us()))
                .then(a.name.cmp(&b.name))
        });
        v
    }

    /// Open frames (for tests and the report).
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// Whether redisplay after a command is being measured.
    pub fn in_redisplay(&self) -> bool {
        self.stack.last().is_some_and(|f| f.kind == Kind::Redisplay)
    }

    /// A piece of work of `source` begins now; `gc` is `gc-elapsed`,
    /// `level` the recursion depth for a command.  Returns true when it
    /// should be profiled.
    pub fn enter(&mut self, source: SourceId, gc: f64, level: i64) -> bool {
        let now = self.now();
        self.enter_at(source, gc, level, now)
    }

    /// [`Monitor::enter`] at monitor time `now`.
    pub fn enter_at(&mut self, source: SourceId, gc: f64, level: i64, now: u64) -> bool {
        let Some(kind) = self.sources.get(source as usize).map(|s| s.kind) else {
            return false;
        };
        if kind == Kind::Command {
            // A command ends the redisplay of the previous one, and the wait
            // for input of the command it runs in (a minibuffer).
            if self.in_redisplay() {
                self.close_redisplay(now, gc);
            }
            if let Some(top) = self.stack.last_mut() {
                if top.idle_wait {
                    top.idle_wait = false;
                }
            }
        }
        if let Some(top) = self.stack.last_mut() {
            top.suspend(now);
        }
        let profile = !self.profiling
            && self
                .sources
                .get(source as usize)
                .is_some_and(|s| s.want_profile);
        if profile {
            // One attempt per pause: a profiled occurrence that turns out
            // fast waits for the source's next pause to try again, so the
            // profiler's own cost stays bounded by the number of pauses.
            self.profiling = true;
            if let Some(s) = self.sources.get_mut(source as usize) {
                s.want_profile = false;
            }
        }
        let start_unix = self.unix_at(now);
        self.stack.push(Frame {
            source,
            kind,
            level: if kind == Kind::Command { level } else { 0 },
            start: now,
            start_unix,
            work: 0,
            resumed: Some(now),
            waits: 0,
            idle_wait: false,
            waited: false,
            gc_start: gc,
            child_gc: 0.0,
            profiled: profile,
        });
        self.publish();
        profile
    }

    /// The innermost open piece of work of `kind` ends now (for a command,
    /// the innermost one that ran at recursion depth `level`).  Frames
    /// opened above it and never closed (a `throw` out of a minibuffer) are
    /// dropped unmeasured: their time stays with it.  With `redisplay`, and when
    /// nothing else is open, the redisplay that follows is measured until
    /// [`Monitor::idle`] or the next command.
    ///
    /// Returns what Lisp must act on: a pause, or the end of a profiled
    /// occurrence; `None` otherwise (also when nothing of `kind` is open).
    pub fn leave(&mut self, kind: Kind, gc: f64, level: i64, redisplay: bool) -> Option<Leave> {
        let now = self.now();
        self.leave_at(kind, gc, level, redisplay, now)
    }

    /// [`Monitor::leave`] at monitor time `now`.
    pub fn leave_at(
        &mut self,
        kind: Kind,
        gc: f64,
        level: i64,
        redisplay: bool,
        now: u64,
    ) -> Option<Leave> {
        let index = self
            .stack
            .iter()
            .rposition(|f| f.kind == kind && (kind != Kind::Command || f.level == level))?;
        let mut profiled_dropped = false;
        let mut orphan_start = None;
        while self.stack.len() > index + 1 {
            if let Some(orphan) = self.stack.pop() {
                profiled_dropped |= orphan.profiled;
                orphan_start = Some(orphan.start);
            }
        }
        let mut frame = self.stack.pop()?;
        if let Some(start) = orphan_start {
            // The dropped work's time is this frame's own.
            if frame.resumed.is_none() && !frame.waiting() {
                frame.resumed = Some(start);
            }
        }
        frame.suspend(now);
        let inclusive = now.saturating_sub(frame.start);
        let gc_inclusive = (gc - frame.gc_start).max(0.0);
        let work = frame.work.min(inclusive);
        let gc_own = (gc_inclusive - frame.child_gc).clamp(0.0, work as f64 / 1e9);
        if let Some(parent) = self.stack.last_mut() {
            parent.child_gc += gc_inclusive;
            if !parent.waiting() {
                parent.resumed = Some(now);
            }
        }
        let mut result = self.record(&frame, work, gc_own);
        if profiled_dropped || frame.profiled {
            self.profiling = false;
            if let Some(s) = self.sources.get_mut(frame.source as usize) {
                if result.as_ref().is_some_and(|r| r.seq.is_some()) && frame.profiled {
                    s.want_profile = false;
                    s.profiled = true;
                }
            }
            let r = result.get_or_insert_with(|| Leave {
                seq: None,
                source: frame.source,
                kind: frame.kind,
                ms: ms(work),
                gc_ms: gc_own * 1e3,
                pauses: 0,
                profiled: false,
                capture: false,
            });
            r.profiled = true;
            r.capture = frame.profiled && r.seq.is_some();
        }
        if redisplay && kind == Kind::Command && self.stack.is_empty() {
            let id = self.redisplay_source();
            self.enter_at(id, gc, 0, now);
        }
        self.publish();
        result
    }

    fn redisplay_source(&mut self) -> SourceId {
        match self.redisplay {
            Some(id) => id,
            None => {
                let id = self.source(Kind::Redisplay, "redisplay");
                self.redisplay = Some(id);
                id
            }
        }
    }

    /// Closes the redisplay frame on top at `at`.
    fn close_redisplay(&mut self, at: u64, gc: f64) {
        if self.in_redisplay() {
            let _ = self.leave_at(Kind::Redisplay, gc, 0, false, at);
        }
    }

    /// Emacs has been idle, waiting for input, for `idle_ns` (an idle timer
    /// fired).  Inside a piece of work, that work is waiting for the user
    /// since then (a minibuffer, `read-key`): the wait is not its time.  At
    /// top level, the redisplay after the last command ended when the wait
    /// began.  Returns what Lisp must act on, as [`Monitor::leave`].
    pub fn idle(&mut self, idle_ns: u64, gc: f64) -> Option<Leave> {
        let now = self.now();
        self.idle_at(idle_ns, gc, now)
    }

    /// [`Monitor::idle`] at monitor time `now`.
    pub fn idle_at(&mut self, idle_ns: u64, gc: f64, now: u64) -> Option<Leave> {
        let since = now.saturating_sub(idle_ns);
        let result = if self.in_redisplay() {
            let start = self.stack.last().map_or(since, |f| f.start);
            self.leave_at(Kind::Redisplay, gc, 0, false, since.max(start))
        } else {
            if let Some(top) = self.stack.last_mut() {
                if !top.idle_wait {
                    if let Some(r) = top.resumed.take() {
                        top.work += since.saturating_sub(r);
                    }
                    top.idle_wait = true;
                    top.waited = true;
                }
            }
            None
        };
        self.publish();
        result
    }

    /// The innermost piece of work starts (`begin`) or stops waiting in a
    /// `sit-for`, which input interrupts: that time is not its work.
    pub fn wait(&mut self, begin: bool) {
        let now = self.now();
        self.wait_at(begin, now);
    }

    /// [`Monitor::wait`] at monitor time `now`.
    pub fn wait_at(&mut self, begin: bool, now: u64) {
        if let Some(top) = self.stack.last_mut() {
            if begin {
                top.suspend(now);
                top.waits += 1;
                top.waited = true;
            } else if top.waits > 0 {
                top.waits -= 1;
                if !top.waiting() {
                    top.resumed = Some(now);
                }
            }
        }
        self.publish();
    }

    /// Records a finished occurrence; a pause goes to the ring.
    fn record(&mut self, frame: &Frame, work: u64, gc_s: f64) -> Option<Leave> {
        let us = work / 1000;
        let gc_us = (gc_s * 1e6) as u64;
        let slow = work >= self.config.threshold_ns;
        let hour = self.local_hour(frame.start_unix);
        let h = self.hours.entry(hour).or_default();
        h.events += 1;
        if frame.kind == Kind::Command {
            h.commands += 1;
        }
        let source = self.sources.get_mut(frame.source as usize)?;
        source.all.add(us);
        source.gc_us += gc_us;
        if !slow {
            return None;
        }
        source.pauses += 1;
        source.pause_us += us;
        source.pause_gc_us += gc_us;
        let pauses = source.pauses;
        // A pause that is mostly garbage collection would profile as
        // "Automatic GC": only one slow in its own code asks for a profile.
        let own = work.saturating_sub((gc_s * 1e9) as u64);
        if self.config.profile_after > 0
            && pauses >= self.config.profile_after
            && !source.profiled
            && own >= self.config.threshold_ns
        {
            source.want_profile = true;
        }
        let kind = source.kind;
        h.pauses += 1;
        h.pause_ms += ms(work);
        h.gc_ms += gc_s * 1e3;
        let day = hour.div_euclid(24);
        let d = self.day_sources.entry((day, frame.source)).or_default();
        d.pauses += 1;
        d.pause_ms += ms(work);
        d.max_ms = d.max_ms.max(ms(work));
        let seq = self.next_seq;
        self.next_seq += 1;
        self.push_event(PauseEvent {
            seq,
            source: frame.source,
            start_unix: frame.start_unix,
            ms: ms(work),
            gc_ms: gc_s * 1e3,
            waited: frame.waited,
            profiled: frame.profiled,
            buffer: String::new(),
            mode: String::new(),
            keys: String::new(),
            note: String::new(),
        });
        Some(Leave {
            seq: Some(seq),
            source: frame.source,
            kind,
            ms: ms(work),
            gc_ms: gc_s * 1e3,
            pauses,
            profiled: false,
            capture: false,
        })
    }

    fn push_event(&mut self, event: PauseEvent) {
        if self.config.ring_size == 0 {
            return;
        }
        while self.ring.len() >= self.config.ring_size {
            self.ring.pop_front();
        }
        self.ring.push_back(event);
    }

    /// Records an occurrence of `source` that took `ms` with `gc_ms` of
    /// garbage collection, as if it had just been measured (for occurrences
    /// known otherwise: a hang of an earlier session, tests).
    pub fn inject(
        &mut self,
        source: SourceId,
        ms_: f64,
        gc_ms: f64,
        start_unix: f64,
    ) -> Option<Leave> {
        let kind = self.sources.get(source as usize)?.kind;
        let work = (ms_.max(0.0) * 1e6) as u64;
        let frame = Frame {
            source,
            kind,
            level: 0,
            start: 0,
            start_unix,
            work,
            resumed: None,
            waits: 0,
            idle_wait: false,
            waited: false,
            gc_start: 0.0,
            child_gc: 0.0,
            profiled: false,
        };
        self.record(&frame, work, (gc_ms.max(0.0) / 1e3).min(work as f64 / 1e9))
    }

    /// Attaches context to the pause `seq`; false when it left the ring.
    pub fn set_context(
        &mut self,
        seq: u64,
        buffer: &str,
        mode: &str,
        keys: &str,
        note: &str,
    ) -> bool {
        match self.ring.iter_mut().rev().find(|e| e.seq == seq) {
            Some(e) => {
                e.buffer = buffer.to_string();
                e.mode = mode.to_string();
                e.keys = keys.to_string();
                e.note = note.to_string();
                true
            }
            None => false,
        }
    }

    /// Pauses that began at or after `since_unix`, oldest first.
    pub fn events_since(&self, since_unix: f64) -> impl Iterator<Item = &PauseEvent> {
        self.ring.iter().filter(move |e| e.start_unix >= since_unix)
    }

    /// Forgets every measurement (sources stay registered, their ids valid).
    pub fn reset(&mut self) {
        for s in &mut self.sources {
            s.all = Durations::default();
            s.gc_us = 0;
            s.pauses = 0;
            s.pause_us = 0;
            s.pause_gc_us = 0;
            s.want_profile = false;
            s.profiled = false;
        }
        self.ring.clear();
        self.hours.clear();
        self.day_sources.clear();
    }

    /// Drops every open frame (the mode was turned off).
    pub fn close_all(&mut self) {
        self.stack.clear();
        self.profiling = false;
        self.publish();
    }

    /// The local hour index (hours since the epoch, local time) of `unix`.
    fn local_hour(&self, unix: f64) -> i64 {
        ((unix as i64) + self.config.utc_offset_s).div_euclid(3600)
    }

    /// Per-hour counters, by local hour index.
    pub fn hours(&self) -> &BTreeMap<i64, Hour> {
        &self.hours
    }

    /// Pauses per source and local day index.
    pub fn day_sources(&self) -> &HashMap<(i64, SourceId), DaySource> {
        &self.day_sources
    }

    /// Tells the watchdog what runs now: since when Emacs has been busy
    /// (the oldest open work not waiting for the user, up the stack from
    /// the innermost wait), and the innermost and outermost sources of it.
    fn publish(&self) {
        let mut busy: Option<(u64, SourceId, SourceId)> = None;
        for f in self.stack.iter().rev() {
            if f.waiting() {
                break;
            }
            busy = Some(match busy {
                None => (f.start, f.source, f.source),
                Some((_, inner, _)) => (f.start, inner, f.source),
            });
        }
        match busy {
            Some((since, inner, outer)) => self.shared.set_busy(since, inner, outer),
            None => self.shared.set_idle(),
        }
    }
}
