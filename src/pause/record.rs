//! The records of the monitor: kinds of sources, settings, what is known
//! about a source, the pauses kept in the ring, what Lisp is told when
//! work ends, and the counters behind the daily history.

use super::stats::Durations;

/// What a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An interactive command, from `pre-command-hook` to `post-command-hook`.
    Command,
    /// A timer or idle timer.
    Timer,
    /// A process filter.
    Filter,
    /// A process sentinel.
    Sentinel,
    /// One function on a hook.
    Hook,
    /// Redisplay after a command, until Emacs waits for input again.
    Redisplay,
}

impl Kind {
    /// Every kind, in the order of their codes.
    pub const ALL: [Kind; 6] = [
        Kind::Command,
        Kind::Timer,
        Kind::Filter,
        Kind::Sentinel,
        Kind::Hook,
        Kind::Redisplay,
    ];

    /// The kind's name, as Lisp sees it (`:kind command`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Command => "command",
            Kind::Timer => "timer",
            Kind::Filter => "filter",
            Kind::Sentinel => "sentinel",
            Kind::Hook => "hook",
            Kind::Redisplay => "redisplay",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind of code `code` (0 for commands, in the order of [`Kind::ALL`]).
    pub fn from_code(code: i64) -> Option<Kind> {
        usize::try_from(code)
            .ok()
            .and_then(|i| Kind::ALL.get(i).copied())
    }
}

/// A source's index in the monitor.
pub type SourceId = u32;

/// Settings of a monitor.
#[derive(Debug, Clone)]
pub struct Config {
    /// Occurrences at least this long are pauses, in nanoseconds.
    pub threshold_ns: u64,
    /// How many pauses the ring keeps.
    pub ring_size: usize,
    /// After this many pauses of a source, its next occurrence is profiled.
    /// 0 never profiles.
    pub profile_after: u64,
    /// Local time minus UTC, in seconds, for hours and days.
    pub utc_offset_s: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threshold_ns: 50_000_000,
            ring_size: 1000,
            profile_after: 2,
            utc_offset_s: 0,
        }
    }
}

/// Everything known about one source.
#[derive(Debug, Clone)]
pub struct Source {
    /// What it is.
    pub kind: Kind,
    /// Its readable name ("self-insert-command", "post-command-hook → f").
    pub name: String,
    /// Every occurrence, exclusive time.
    pub all: Durations,
    /// Garbage collection inside its occurrences, in microseconds.
    pub gc_us: u64,
    /// Its pauses: how many, and their total time.
    pub pauses: u64,
    /// Total time of its pauses, in microseconds.
    pub pause_us: u64,
    /// Garbage collection inside its pauses, in microseconds.
    pub pause_gc_us: u64,
    /// Whether its next occurrence should be profiled: set by each of its
    /// pauses (from the `profile_after`-th on), cleared by an attempt.
    pub want_profile: bool,
    /// Whether a profile of one of its pauses was captured.
    pub profiled: bool,
}

/// One slow occurrence, with its context.
#[derive(Debug, Clone, PartialEq)]
pub struct PauseEvent {
    /// Sequence number, increasing over the monitor's life.
    pub seq: u64,
    /// The source.
    pub source: SourceId,
    /// When it began, in seconds since the Unix epoch.
    pub start_unix: f64,
    /// Its exclusive time, in milliseconds.
    pub ms: f64,
    /// Garbage collection inside it, in milliseconds.
    pub gc_ms: f64,
    /// Whether it waited for input (that time is left out of `ms`).
    pub waited: bool,
    /// Whether a Lisp profile of it was captured.
    pub profiled: bool,
    /// Context strings attached by Lisp: buffer, major mode, keys, note.
    pub buffer: String,
    /// The major mode of that buffer.
    pub mode: String,
    /// The keys that ran it, for commands.
    pub keys: String,
    /// Anything else worth saying (a hang of an earlier session, ...).
    pub note: String,
}

/// What [`super::Monitor::leave`] reports to Lisp when there is something to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Leave {
    /// The pause's sequence number, when the occurrence was a pause.
    pub seq: Option<u64>,
    /// Its source.
    pub source: SourceId,
    /// Its kind.
    pub kind: Kind,
    /// Its exclusive time, in milliseconds.
    pub ms: f64,
    /// Garbage collection inside it, in milliseconds.
    pub gc_ms: f64,
    /// Pauses of this source so far.
    pub pauses: u64,
    /// Whether a profile was running for this occurrence, or for work
    /// dropped under it: Lisp stops the profiler.
    pub profiled: bool,
    /// Whether the profile belongs to the pause `seq` (keep it).
    pub capture: bool,
}

/// Per-hour counters, for the daily history.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Hour {
    /// Occurrences measured.
    pub events: u64,
    /// Commands among them.
    pub commands: u64,
    /// Pauses.
    pub pauses: u64,
    /// Time lost to pauses, in milliseconds.
    pub pause_ms: f64,
    /// Garbage collection inside pauses, in milliseconds.
    pub gc_ms: f64,
}

/// Pauses of one source on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DaySource {
    /// How many.
    pub pauses: u64,
    /// Their total, in milliseconds.
    pub pause_ms: f64,
    /// The longest, in milliseconds.
    pub max_ms: f64,
}
