//! The profile history under `artisan-data-directory`.
//!
//! Layout of the history directory (`startup/` by default):
//!
//! - `history.jsonl`: one line per profile, appended: a summary with the
//!   run totals, phases, Emacs version, native compilation, the config's
//!   commit and dirty state and a digest of the package versions.
//! - `profiles/ID.json`: the full profile (tree with per-run samples),
//!   written to a temporary name and renamed, before its history line.
//! - `baseline`: the id of the profile new ones are compared with, written
//!   to a temporary name and renamed too.
//!
//! A line is appended with one `write` on a file opened for appending, so
//! two Emacs sessions profiling at once interleave whole lines.  Lines that
//! do not parse (a crash mid-write, a newer format) are skipped, and an
//! append after a torn last line starts on a line of its own.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::compare::{self, Status};
use super::git::GitInfo;
use super::profile::Profile;
use super::stats;
use crate::error::{Error, Kind, Result, ResultExt};

/// One line of `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The profile's id (`profiles/ID.json`).
    pub id: String,
    /// When, UTC.
    pub date: String,
    /// When, seconds since the epoch.
    pub unix_time: i64,
    /// `emacs-version`.
    pub emacs_version: String,
    /// Native compilation available in the children.
    pub native_comp: bool,
    /// `tty`, `gui` or `daemon`.
    pub ui: String,
    /// The profiled configuration directory.
    pub init_directory: String,
    /// Its commit, when in a git repository.
    #[serde(default)]
    pub git: Option<GitInfo>,
    /// Digest of the activated packages and their versions (or of the
    /// libraries loaded from outside Emacs), if there was anything.
    #[serde(default)]
    pub packages_digest: Option<String>,
    /// How many packages were activated.
    pub package_count: usize,
    /// Measured runs.
    pub runs: usize,
    /// Per-run totals, milliseconds.
    pub run_totals: Vec<f64>,
    /// Median total.
    pub total_ms: f64,
    /// Confidence interval of the median total.
    pub total_ci: (f64, f64),
    /// Median wall time measured from outside.
    #[serde(default)]
    pub wall_ms: Option<f64>,
    /// Median probe overhead.
    pub overhead_ms: f64,
    /// Phases with their median times.
    pub phases: Vec<(String, f64)>,
    /// Number of hints.
    pub hints: usize,
    /// Number of distinct errors.
    pub errors: usize,
    /// Why the profile is not a normal start-up, if so: it is charted
    /// apart and never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

impl Entry {
    /// What must be equal for two profiles to be compared in the
    /// history: the configuration, the user interface and the Emacs.
    fn setup(&self) -> (&str, &str, &str, bool) {
        (
            self.init_directory.as_str(),
            self.ui.as_str(),
            self.emacs_version.as_str(),
            self.native_comp,
        )
    }
}

impl Entry {
    /// Summarizes a profile.
    pub fn of(profile: &Profile) -> Entry {
        let ci = stats::median_ci(&profile.run_totals, 0.95)
            .map(|c| (c.low, c.high))
            .unwrap_or((0.0, 0.0));
        Entry {
            id: profile.id.clone(),
            date: profile.date.clone(),
            unix_time: profile.unix_time,
            emacs_version: profile.emacs_version.clone(),
            native_comp: profile.native_comp,
            ui: profile.ui.clone(),
            init_directory: profile.init_directory.clone(),
            git: profile.git.clone(),
            packages_digest: profile.packages_digest.clone(),
            package_count: profile.packages.len(),
            runs: profile.runs,
            run_totals: profile.run_totals.clone(),
            total_ms: profile.total_ms(),
            total_ci: ci,
            wall_ms: profile.wall_ms(),
            overhead_ms: profile.overhead_ms(),
            phases: profile.phases(),
            hints: profile.hints.len(),
            errors: profile.errors.len(),
            incomplete: profile.incomplete.clone(),
        }
    }
}

fn history_file(dir: &Path) -> PathBuf {
    dir.join("history.jsonl")
}

fn profile_file(dir: &Path, id: &str) -> Result<PathBuf> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Error::startup(format!("Not a profile id: {id:?}")));
    }
    Ok(dir.join("profiles").join(format!("{id}.json")))
}

/// Whether `file` is empty or ends with a newline.
fn ends_with_newline(file: &fs::File) -> bool {
    use std::os::unix::fs::FileExt;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return true;
    }
    let mut last = [0u8; 1];
    match file.read_exact_at(&mut last, len - 1) {
        Ok(()) => last == *b"\n",
        Err(_) => true,
    }
}

/// Writes `profile` to `dir` and appends its history line.
pub fn append(dir: &Path, profile: &Profile) -> Result<()> {
    let path = profile_file(dir, &profile.id)?;
    let profiles = dir.join("profiles");
    fs::create_dir_all(&profiles).or_kind(
        Kind::Startup,
        format!("Cannot create {}", profiles.display()),
    )?;
    let json = serde_json::to_vec(profile).or_kind(Kind::Startup, "Cannot encode the profile")?;
    write_atomically(&path, &json)?;
    let mut line = serde_json::to_string(&Entry::of(profile))
        .or_kind(Kind::Startup, "Cannot encode the history entry")?;
    line.push('\n');
    let file = history_file(dir);
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&file)
        .or_kind(Kind::Startup, format!("Cannot open {}", file.display()))?;
    if !ends_with_newline(&out) {
        // The last append was torn (a crash mid-write): start a new line,
        // or this entry would be glued to the broken one and lost.
        line.insert(0, '\n');
    }
    out.write_all(line.as_bytes()).or_kind(
        Kind::Startup,
        format!("Cannot append to {}", file.display()),
    )
}

/// Reads the history, oldest first.  A missing history is empty.
pub fn entries(dir: &Path) -> Result<Vec<Entry>> {
    let file = history_file(dir);
    let f = match fs::File::open(&file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::startup(format!(
                "Cannot read {}: {e}",
                file.display()
            )))
        }
    };
    // Split on bytes: one damaged line (torn, or not UTF-8) is skipped
    // without hiding the ones after it.
    Ok(BufReader::new(f)
        .split(b'\n')
        .map_while(std::result::Result::ok)
        .filter_map(|line| serde_json::from_slice::<Entry>(&line).ok())
        .collect())
}

/// Loads the profile `id`, or the latest one when `id` is `None`.
pub fn load(dir: &Path, id: Option<&str>) -> Result<Profile> {
    let id = match id {
        Some(id) => id.to_string(),
        None => entries(dir)?.last().map(|e| e.id.clone()).ok_or_else(|| {
            Error::startup("No start-up profile yet: run M-x artisan-startup-profile")
        })?,
    };
    let path = profile_file(dir, &id)?;
    let text = fs::read(&path).map_err(|e| {
        Error::startup(format!(
            "The profile {id} is not available ({}: {e})",
            path.display()
        ))
    })?;
    serde_json::from_slice(&text).or_kind(Kind::Startup, format!("Cannot read {}", path.display()))
}

/// The baseline's id, if one was chosen.
pub fn baseline(dir: &Path) -> Option<String> {
    let text = fs::read_to_string(dir.join("baseline")).ok()?;
    let id = text.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// Makes `id` the baseline.  An incomplete profile cannot be one.
pub fn set_baseline(dir: &Path, id: &str) -> Result<()> {
    let path = profile_file(dir, id)?;
    if !path.exists() {
        return Err(Error::startup(format!(
            "No profile {id} in {}",
            dir.display()
        )));
    }
    if let Some(why) = load(dir, Some(id))?.incomplete {
        return Err(Error::startup(format!(
            "The profile {id} cannot be a baseline: it is not a complete start-up ({why})"
        )));
    }
    write_atomically(&dir.join("baseline"), format!("{id}\n").as_bytes())
}

/// Writes `bytes` to a temporary name next to `path` and renames it, so
/// that a reader (or a crash) never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    fs::write(&tmp, bytes).or_kind(Kind::Startup, format!("Cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).or_kind(Kind::Startup, format!("Cannot write {}", path.display()))
}

/// A point of the history chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The entry.
    pub entry: Entry,
    /// Change of the median total since the previous point.
    pub delta_ms: Option<f64>,
    /// Whether the total regressed significantly since the previous point.
    pub regression: bool,
    /// Whether it improved significantly.
    pub improvement: bool,
}

/// The history as chart points: each entry compared with the previous
/// one of the same setup (configuration directory, user interface, Emacs
/// version and native compilation), by its run totals, with the same
/// floor and test as comparisons.  Incomplete profiles are neither
/// compared nor compared with.  Only entries of `init_directory` are
/// kept when it is given.
pub fn series(
    entries: Vec<Entry>,
    init_directory: Option<&str>,
    floor: f64,
    alpha: f64,
) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    let kept = entries
        .into_iter()
        .filter(|e| init_directory.is_none_or(|d| e.init_directory == d));
    for entry in kept {
        let previous = if entry.incomplete.is_some() {
            None
        } else {
            out.iter()
                .rev()
                .find(|p| p.entry.incomplete.is_none() && p.entry.setup() == entry.setup())
        };
        let (delta_ms, status) = match previous {
            Some(prev) => {
                let a = &prev.entry;
                let delta = entry.total_ms - a.total_ms;
                let b_low: Vec<f64> = entry.run_totals.iter().map(|x| x - floor).collect();
                let a_low: Vec<f64> = a.run_totals.iter().map(|x| x - floor).collect();
                let p_up = stats::mann_whitney_greater(&a.run_totals, &b_low);
                let p_down = stats::mann_whitney_greater(&entry.run_totals, &a_low);
                let status = if delta > floor && p_up <= alpha {
                    Status::Regression
                } else if delta < -floor && p_down <= alpha {
                    Status::Improvement
                } else {
                    Status::Unchanged
                };
                (Some(delta), status)
            }
            None => (None, Status::Unchanged),
        };
        out.push(Point {
            entry,
            delta_ms,
            regression: status == Status::Regression,
            improvement: status == Status::Improvement,
        });
    }
    out
}

/// Compares two stored profiles: `b` (default: the latest) against `a`
/// (default: the baseline).
pub fn compare_stored(
    dir: &Path,
    a: Option<&str>,
    b: Option<&str>,
    floor: f64,
    alpha: f64,
) -> Result<(Profile, Profile, compare::Comparison)> {
    let a_id = match a {
        Some(id) => id.to_string(),
        None => baseline(dir).ok_or_else(|| {
            Error::startup("No baseline: press b in a start-up report to choose one")
        })?,
    };
    let pa = load(dir, Some(&a_id))?;
    let pb = match b {
        Some(id) => load(dir, Some(id))?,
        // The latest profile that is a start-up.
        None => {
            let id = entries(dir)?
                .into_iter()
                .rev()
                .find(|e| e.incomplete.is_none())
                .map(|e| e.id)
                .ok_or_else(|| {
                    Error::startup(
                        "No complete start-up profile yet: run M-x artisan-startup-profile",
                    )
                })?;
            load(dir, Some(&id))?
        }
    };
    let c = compare::compare(&pa, &pb, floor, alpha);
    Ok((pa, pb, c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::startup::compare::tests::profile_of;
    use crate::startup::tree::tests::typical;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "artisan-history-{}-{}",
            std::process::id(),
            crate::startup::event::monotonic_ns()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn profile(id: &str, slow: u64, runs: usize) -> Profile {
        let trees: Vec<_> = (0..runs)
            .map(|i| typical(slow + i as u64).build())
            .collect();
        let mut p = profile_of(&trees);
        p.id = id.into();
        p.git = Some(GitInfo {
            commit: "0123456789abcdef".into(),
            short: "0123456789".into(),
            summary: "Config".into(),
            branch: Some("main".into()),
            dirty: false,
        });
        p
    }

    #[test]
    fn history_round_trips_and_keeps_order() {
        let dir = temp_dir();
        assert!(entries(&dir).unwrap().is_empty());
        assert!(load(&dir, None)
            .unwrap_err()
            .message
            .contains("No start-up profile"));
        let p1 = profile("20260101T000000-aaaa", 150, 5);
        let p2 = profile("20260102T000000-bbbb", 10, 5);
        append(&dir, &p1).unwrap();
        append(&dir, &p2).unwrap();
        // A damaged line is skipped.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.join("history.jsonl"))
            .unwrap();
        f.write_all(b"{\"id\": \"broken\n").unwrap();
        let all = entries(&dir).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].id, p1.id);
        assert_eq!(all[0].git.as_ref().unwrap().short, "0123456789");
        assert_eq!(all[1].runs, 5);
        assert!((all[0].total_ms - p1.total_ms()).abs() < 1e-9);
        assert_eq!(load(&dir, None).unwrap(), p2);
        assert_eq!(load(&dir, Some(&p1.id)).unwrap(), p1);
        assert!(load(&dir, Some("../etc/passwd")).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_append_after_a_torn_last_line_is_kept() {
        // A crash in the middle of an append leaves a line without its
        // newline; the next profile must not be glued to it and lost.
        let dir = temp_dir();
        let p1 = profile("20260101T000000-aaaa", 150, 3);
        let p2 = profile("20260102T000000-bbbb", 10, 3);
        append(&dir, &p1).unwrap();
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.join("history.jsonl"))
            .unwrap();
        f.write_all(b"{\"id\": \"torn").unwrap();
        drop(f);
        append(&dir, &p2).unwrap();
        let ids: Vec<String> = entries(&dir).unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![p1.id.clone(), p2.id.clone()]);
        // A line that is not UTF-8 does not hide the ones after it.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.join("history.jsonl"))
            .unwrap();
        f.write_all(b"{\"id\": \"\xff\"}\n").unwrap();
        drop(f);
        let p3 = profile("20260103T000000-cccc", 10, 3);
        append(&dir, &p3).unwrap();
        assert_eq!(entries(&dir).unwrap().len(), 3);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn baseline_and_stored_comparison() {
        let dir = temp_dir();
        let p1 = profile("a1", 10, 5);
        let p2 = profile("a2", 160, 5);
        append(&dir, &p1).unwrap();
        append(&dir, &p2).unwrap();
        assert_eq!(baseline(&dir), None);
        assert!(compare_stored(&dir, None, None, 2.0, 0.05).is_err());
        assert!(set_baseline(&dir, "nope").is_err());
        set_baseline(&dir, "a1").unwrap();
        assert_eq!(baseline(&dir).as_deref(), Some("a1"));
        let (a, b, c) = compare_stored(&dir, None, None, 2.0, 0.05).unwrap();
        assert_eq!((a.id.as_str(), b.id.as_str()), ("a1", "a2"));
        assert_eq!(c.regressions().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn series_marks_regressions_between_consecutive_profiles() {
        let e = |id: &str, slow: u64| Entry::of(&profile(id, slow, 5));
        let points = series(
            vec![
                e("p1", 10),
                e("p2", 11),
                e("p3", 150),
                e("p4", 150),
                e("p5", 10),
            ],
            None,
            2.0,
            0.05,
        );
        let flags: Vec<(bool, bool)> = points
            .iter()
            .map(|p| (p.regression, p.improvement))
            .collect();
        assert_eq!(
            flags,
            vec![
                (false, false),
                (false, false),
                (true, false),
                (false, false),
                (false, true)
            ]
        );
        assert!(points[0].delta_ms.is_none());
        assert!((points[2].delta_ms.unwrap() - 139.0).abs() < 1e-9);
        let other = series(vec![e("p1", 10)], Some("/elsewhere/"), 2.0, 0.05);
        assert!(other.is_empty());
    }

    #[test]
    fn series_compares_only_complete_profiles_of_the_same_setup() {
        let e = |id: &str, slow: u64, dir: &str, incomplete: bool| {
            let mut p = profile(id, slow, 5);
            p.init_directory = dir.into();
            if incomplete {
                p.incomplete = Some("killed".into());
            }
            Entry::of(&p)
        };
        let points = series(
            vec![
                e("a1", 10, "/a/", false),
                e("b1", 150, "/b/", false),
                e("a2", 10, "/a/", false),
                e("a3", 3000, "/a/", true),
                e("a4", 150, "/a/", false),
                e("b2", 10, "/b/", false),
            ],
            None,
            2.0,
            0.05,
        );
        let summary: Vec<(&str, Option<i64>, bool, bool)> = points
            .iter()
            .map(|p| {
                (
                    p.entry.id.as_str(),
                    p.delta_ms.map(|d| d.round() as i64),
                    p.regression,
                    p.improvement,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                // Another configuration's profile is not a predecessor.
                ("a1", None, false, false),
                ("b1", None, false, false),
                ("a2", Some(0), false, false),
                // Incomplete: not compared...
                ("a3", None, false, false),
                // ... nor compared with: a4 follows a2.
                ("a4", Some(140), true, false),
                ("b2", Some(-140), false, true),
            ]
        );
        // A different Emacs starts a series of its own.
        let mut other = profile("a5", 150, 5);
        other.init_directory = "/a/".into();
        other.emacs_version = "29.1".into();
        let points = series(
            vec![e("a4", 10, "/a/", false), Entry::of(&other)],
            None,
            2.0,
            0.05,
        );
        assert_eq!(points[1].delta_ms, None);
    }

    #[test]
    fn incomplete_profiles_are_kept_but_not_compared_by_default() {
        let dir = temp_dir();
        let p1 = profile("b1", 10, 5);
        let p2 = profile("b2", 20, 5);
        let mut p3 = profile("b3", 3000, 1);
        p3.incomplete = Some("run 1 did not settle".into());
        for p in [&p1, &p2, &p3] {
            append(&dir, p).unwrap();
        }
        assert_eq!(
            entries(&dir).unwrap()[2].incomplete.as_deref(),
            Some("run 1 did not settle")
        );
        assert_eq!(load(&dir, None).unwrap().id, "b3");
        let err = set_baseline(&dir, "b3").unwrap_err();
        assert!(
            err.message.contains("not a complete start-up"),
            "{}",
            err.message
        );
        set_baseline(&dir, "b1").unwrap();
        let (_, b, _) = compare_stored(&dir, None, None, 2.0, 0.05).unwrap();
        assert_eq!(b.id, "b2");
        fs::remove_dir_all(&dir).unwrap();
    }
}
