//! The event stream a probed child Emacs writes, one JSON object per line.
//!
//! The probe (lisp/artisan-startup-probe.el) records every load, phase
//! boundary and use-package block as it happens.  Native recording takes
//! its timestamps from `CLOCK_MONOTONIC` here; the Lisp fallback (when the
//! child cannot load the module) uses `float-time`, and says so in the
//! `start` event, so that the harness can map it onto the same clock.

use std::io::BufRead;

use serde::{Deserialize, Serialize};

/// Nanoseconds of `CLOCK_MONOTONIC`: the same clock in every process of the
/// machine, so a child's timestamps compare with the harness's.
pub fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// Nanoseconds since the Unix epoch (`CLOCK_REALTIME`).
pub fn realtime_ns() -> u64 {
    clock_ns(libc::CLOCK_REALTIME)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes it.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec.max(0) as u64)
}

/// Which clock the child's timestamps come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// `CLOCK_MONOTONIC` nanoseconds (native recording).
    Monotonic,
    /// `CLOCK_REALTIME` nanoseconds (`float-time`, the Lisp fallback).
    Realtime,
}

/// One record of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "e", rename_all = "kebab-case")]
pub enum Event {
    /// The recorder started.  `first_lisp` is when the probe began running
    /// (before it loaded the module), on the same clock.
    Start {
        /// When the recorder started.
        t: u64,
        /// The clock of every timestamp in the stream.
        clock: Clock,
        /// The child's process id.
        pid: u32,
        /// When the probe's first form ran.
        first_lisp: u64,
    },
    /// A load (or use-package block, or call) began.
    Enter {
        /// Timestamp.
        t: u64,
        /// `load`, `use-package`, `init`, `config` or `call`.
        kind: String,
        /// The file name given to `load`, the package name, or the function.
        name: String,
        /// What caused it: `require`, `load`, `autoload FUNCTION`, ...
        #[serde(default)]
        via: String,
        /// `gcs-done` at this point.
        gc: i64,
        /// `gc-elapsed` at this point, in seconds.
        gcs: f64,
    },
    /// The file the innermost load found (from `after-load-functions`).
    File {
        /// Timestamp.
        t: u64,
        /// Absolute file name.
        path: String,
    },
    /// `after-load-functions` ran for `path`: its load, and the
    /// `eval-after-load` forms run after it, are done.
    Loaded {
        /// Timestamp.
        t: u64,
        /// Absolute file name.
        path: String,
        /// `gcs-done`.
        gc: i64,
        /// `gc-elapsed`, seconds.
        gcs: f64,
    },
    /// The innermost open node of `kind` ended.
    Leave {
        /// Timestamp.
        t: u64,
        /// The kind given to the matching `enter`.
        kind: String,
        /// Whether a load found its file (false: `load` returned nil).
        found: bool,
        /// The error message, when it ended with an error.
        #[serde(default)]
        err: Option<String>,
        /// `gcs-done`.
        gc: i64,
        /// `gc-elapsed`, seconds.
        gcs: f64,
    },
    /// A phase boundary.
    Mark {
        /// Timestamp.
        t: u64,
        /// The boundary's name (see `tree::PHASES`).
        phase: String,
        /// `gcs-done`.
        gc: i64,
        /// `gc-elapsed`, seconds.
        gcs: f64,
        /// `gc-cons-threshold` at this point.
        #[serde(default)]
        threshold: Option<f64>,
    },
    /// Facts collected once start-up settled (features, packages, ...).
    Meta {
        /// What the value is.
        key: String,
        /// The value.
        value: serde_json::Value,
    },
    /// The recorder stopped; `overhead_ns` is the time spent inside the
    /// native recording calls.
    End {
        /// Timestamp.
        t: u64,
        /// Nanoseconds spent recording, natively.
        overhead_ns: u64,
    },
}

impl Event {
    /// The event's timestamp, if it has one.
    pub fn time(&self) -> Option<u64> {
        match self {
            Event::Start { t, .. }
            | Event::Enter { t, .. }
            | Event::File { t, .. }
            | Event::Loaded { t, .. }
            | Event::Leave { t, .. }
            | Event::Mark { t, .. }
            | Event::End { t, .. } => Some(*t),
            Event::Meta { .. } => None,
        }
    }

    /// The event as one line of JSON (without the newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Reads a stream, skipping lines that do not parse (a child killed while
/// writing leaves a partial last line) or are not UTF-8.  Returns the events and the number
/// of lines skipped.
pub fn read_events(reader: impl BufRead) -> (Vec<Event>, usize) {
    let mut events = Vec::new();
    let mut skipped = 0;
    // Split on bytes: a line that is not UTF-8 (a file name with raw
    // bytes) is skipped on its own instead of ending the stream.
    for line in reader.split(b'\n') {
        let Ok(line) = line else {
            skipped += 1;
            break;
        };
        let Ok(line) = std::str::from_utf8(&line) else {
            skipped += 1;
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(line) {
            Ok(e) => events.push(e),
            Err(_) => skipped += 1,
        }
    }
    (events, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_json_lines() {
        let events = vec![
            Event::Start {
                t: 10,
                clock: Clock::Monotonic,
                pid: 42,
                first_lisp: 5,
            },
            Event::Enter {
                t: 11,
                kind: "load".into(),
                name: "foo \"quoted\"".into(),
                via: "require".into(),
                gc: 1,
                gcs: 0.25,
            },
            Event::File {
                t: 12,
                path: "/x/foo.elc".into(),
            },
            Event::Leave {
                t: 13,
                kind: "load".into(),
                found: true,
                err: None,
                gc: 2,
                gcs: 0.5,
            },
            Event::Meta {
                key: "features".into(),
                value: serde_json::json!(["a", "b"]),
            },
        ];
        let text: String = events.iter().map(|e| e.to_line() + "\n").collect();
        let (back, skipped) = read_events(text.as_bytes());
        assert_eq!(back, events);
        assert_eq!(skipped, 0);
    }

    #[test]
    fn a_truncated_last_line_is_skipped() {
        let text = "{\"e\":\"file\",\"t\":1,\"path\":\"/a\"}\n{\"e\":\"enter\",\"t\":2,\"ki";
        let (events, skipped) = read_events(text.as_bytes());
        assert_eq!(events.len(), 1);
        assert_eq!(skipped, 1);
    }

    #[test]
    fn a_line_that_is_not_utf8_is_skipped_and_reading_goes_on() {
        // A load of a file whose name is not valid UTF-8 must not cost the
        // rest of the run.
        let mut text = b"{\"e\":\"file\",\"t\":1,\"path\":\"/a\"}\n".to_vec();
        text.extend_from_slice(b"{\"e\":\"file\",\"t\":2,\"path\":\"/\xff\"}\n");
        text.extend_from_slice(b"{\"e\":\"file\",\"t\":3,\"path\":\"/c\"}\n");
        let (events, skipped) = read_events(&text[..]);
        let times: Vec<u64> = events.iter().filter_map(Event::time).collect();
        assert_eq!(times, vec![1, 3]);
        assert_eq!(skipped, 1);
    }

    #[test]
    fn the_monotonic_clock_advances() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(a > 0 && b >= a);
        assert!(realtime_ns() > 1_600_000_000_000_000_000);
    }
}
