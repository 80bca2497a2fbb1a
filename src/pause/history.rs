//! Daily summaries of the monitor, kept across sessions.
//!
//! Each session writes, for each local day it saw, one small JSON file
//! `DIR/YYYY-MM-DD/SESSION.json`: per hour the occurrences, commands, pauses
//! and time lost, and its worst sources that day.  Files are replaced
//! atomically and belong to one session only, so two Emacs sessions never
//! write the same file; reading a day merges its sessions.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Monitor;
use crate::error::{Kind as ErrorKind, Result, ResultExt};

/// The version of the file format.
pub const VERSION: u32 = 1;

/// How many sources a session's day keeps.
const SOURCES_PER_DAY: usize = 50;

/// One hour of one day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HourRecord {
    /// The hour, 0-23, local time.
    pub hour: u8,
    /// Occurrences measured.
    pub events: u64,
    /// Commands among them.
    #[serde(default)]
    pub commands: u64,
    /// Pauses.
    pub pauses: u64,
    /// Time lost to pauses, in milliseconds.
    pub pause_ms: f64,
    /// Garbage collection inside the pauses, in milliseconds.
    #[serde(default)]
    pub gc_ms: f64,
}

/// The pauses of one source on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// Its kind (`timer`, `command`, ...).
    pub kind: String,
    /// Its name.
    pub name: String,
    /// How many pauses.
    pub pauses: u64,
    /// Their total, in milliseconds.
    pub pause_ms: f64,
    /// The longest, in milliseconds.
    pub max_ms: f64,
}

/// One session's day, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionDay {
    /// File format version.
    pub version: u32,
    /// The session that wrote it.
    pub session: String,
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// Hours with anything measured.
    pub hours: Vec<HourRecord>,
    /// Its worst sources that day.
    pub sources: Vec<SourceRecord>,
}

/// A day, merged over its sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct DaySummary {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// How many sessions wrote it.
    pub sessions: usize,
    /// Hours 0-23.
    pub hours: Vec<HourRecord>,
    /// Its worst sources, worst first (at most `top`).
    pub sources: Vec<SourceRecord>,
}

impl DaySummary {
    /// Occurrences that day.
    pub fn events(&self) -> u64 {
        self.hours.iter().map(|h| h.events).sum()
    }
    /// Commands that day.
    pub fn commands(&self) -> u64 {
        self.hours.iter().map(|h| h.commands).sum()
    }
    /// Pauses that day.
    pub fn pauses(&self) -> u64 {
        self.hours.iter().map(|h| h.pauses).sum()
    }
    /// Time lost that day, in milliseconds.
    pub fn pause_ms(&self) -> f64 {
        self.hours.iter().map(|h| h.pause_ms).sum()
    }
    /// Garbage collection inside pauses that day, in milliseconds.
    pub fn gc_ms(&self) -> f64 {
        self.hours.iter().map(|h| h.gc_ms).sum()
    }
    /// Hours with any occurrence.
    pub fn active_hours(&self) -> usize {
        self.hours.iter().filter(|h| h.events > 0).count()
    }
}

/// The civil date of `days` since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD` of local day index `day`.
pub fn date_of_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The local day index of Unix time `unix` at `utc_offset_s`.
pub fn local_day(unix: f64, utc_offset_s: i64) -> i64 {
    ((unix as i64) + utc_offset_s).div_euclid(86_400)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader sees the old content or the new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let context = || format!("Cannot write {}", path.display());
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).or_kind(ErrorKind::Pause, context())?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    fs::write(&tmp, bytes).or_kind(ErrorKind::Pause, context())?;
    fs::rename(&tmp, path).or_kind(ErrorKind::Pause, context())
}

/// A session name safe as a file name.
fn file_name_of(session: &str) -> String {
    let s: String = session
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "session".into()
    } else {
        s
    }
}

/// The days `monitor` saw, as this session's records.
pub fn session_days(monitor: &Monitor, session: &str) -> Vec<SessionDay> {
    let mut days: BTreeMap<i64, SessionDay> = BTreeMap::new();
    for (&hour, h) in monitor.hours() {
        let day = hour.div_euclid(24);
        let entry = days.entry(day).or_insert_with(|| SessionDay {
            version: VERSION,
            session: session.to_string(),
            date: date_of_day(day),
            hours: Vec::new(),
            sources: Vec::new(),
        });
        entry.hours.push(HourRecord {
            hour: u8::try_from(hour.rem_euclid(24)).unwrap_or(0),
            events: h.events,
            commands: h.commands,
            pauses: h.pauses,
            pause_ms: h.pause_ms,
            gc_ms: h.gc_ms,
        });
    }
    for (&(day, id), d) in monitor.day_sources() {
        if let (Some(entry), Some(source)) = (days.get_mut(&day), monitor.get_source(id)) {
            entry.sources.push(SourceRecord {
                kind: source.kind.name().into(),
                name: source.name.clone(),
                pauses: d.pauses,
                pause_ms: d.pause_ms,
                max_ms: d.max_ms,
            });
        }
    }
    let mut out: Vec<SessionDay> = days.into_values().collect();
    for day in &mut out {
        sort_sources(&mut day.sources);
        day.sources.truncate(SOURCES_PER_DAY);
    }
    out
}

fn sort_sources(sources: &mut [SourceRecord]) {
    sources.sort_by(|a, b| {
        b.pause_ms
            .total_cmp(&a.pause_ms)
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// Writes this session's days under `dir`; returns how many files.
pub fn save(dir: &Path, monitor: &Monitor, session: &str) -> Result<usize> {
    let days = session_days(monitor, session);
    let name = format!("{}.json", file_name_of(session));
    for day in &days {
        let json = serde_json::to_vec_pretty(day).or_kind(ErrorKind::Pause, "Cannot encode")?;
        write_atomically(&dir.join(&day.date).join(&name), &json)?;
    }
    Ok(days.len())
}

/// Reads one day folder, merging its sessions; `None` when it holds none.
fn load_day(dir: &Path, date: &str, top: usize) -> Option<DaySummary> {
    let entries = fs::read_dir(dir.join(date)).ok()?;
    let mut hours: Vec<HourRecord> = (0..24u8)
        .map(|hour| HourRecord {
            hour,
            ..HourRecord::default()
        })
        .collect();
    let mut sources: HashMap<(String, String), SourceRecord> = HashMap::new();
    let mut sessions = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Some(day) = fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<SessionDay>(&b).ok())
        else {
            continue;
        };
        if day.version != VERSION {
            continue;
        }
        sessions += 1;
        for h in &day.hours {
            if let Some(slot) = hours.get_mut(usize::from(h.hour)) {
                slot.events += h.events;
                slot.commands += h.commands;
                slot.pauses += h.pauses;
                slot.pause_ms += h.pause_ms;
                slot.gc_ms += h.gc_ms;
            }
        }
        for s in day.sources {
            let e = sources
                .entry((s.kind.clone(), s.name.clone()))
                .or_insert_with(|| SourceRecord {
                    pauses: 0,
                    pause_ms: 0.0,
                    max_ms: 0.0,
                    ..s.clone()
                });
            e.pauses += s.pauses;
            e.pause_ms += s.pause_ms;
            e.max_ms = e.max_ms.max(s.max_ms);
        }
    }
    if sessions == 0 {
        return None;
    }
    let mut sources: Vec<SourceRecord> = sources.into_values().collect();
    sort_sources(&mut sources);
    sources.truncate(top);
    Some(DaySummary {
        date: date.to_string(),
        sessions,
        hours,
        sources,
    })
}

/// The last `days` days up to local day `today`, oldest first; days
/// without data are left out.  Each keeps its `top` worst sources.
pub fn load(dir: &Path, days: usize, today: i64, top: usize) -> Vec<DaySummary> {
    let first = today - i64::try_from(days).unwrap_or(0) + 1;
    (first..=today)
        .filter_map(|day| load_day(dir, &date_of_day(day), top))
        .collect()
}

/// Removes day folders older than `keep` days before `today`; returns
/// how many.  Only folders named like dates are touched.
pub fn prune(dir: &Path, keep: usize, today: i64) -> usize {
    let oldest = date_of_day(today - i64::try_from(keep).unwrap_or(i64::MAX / 2) + 1);
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_date = name.len() == 10
            && name.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if is_date && name < oldest.as_str() && fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}
