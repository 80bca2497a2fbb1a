//! A profile: the runs of one configuration merged into one tree with
//! per-node samples, and everything needed to explain and compare it.
//!
//! Nodes are merged by their path from the root (phase, then load keys); a
//! library loaded twice under the same parent is told apart by its
//! occurrence.  Every node keeps one sample per run (`None` where it did
//! not occur), so statistics and comparisons see the real spread.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::git::GitInfo;
use super::hints::Hint;
use super::stats;
use super::tree::{NodeKind, RunNode};

/// The on-disk format of profiles; bumped when it changes incompatibly.
pub const FORMAT: u32 = 1;

/// A merged node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Identity among its siblings.
    pub key: String,
    /// What it is.
    pub kind: NodeKind,
    /// Display name.
    pub name: String,
    /// The library file (loads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// What triggered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Inclusive milliseconds per run.
    pub incl: Vec<Option<f64>>,
    /// Exclusive milliseconds per run.
    pub excl: Vec<Option<f64>>,
    /// Garbage collections per run (inclusive).
    pub gc_count: Vec<Option<f64>>,
    /// Milliseconds of garbage collection per run (inclusive).
    pub gc_ms: Vec<Option<f64>>,
    /// Milliseconds of garbage collection per run outside the children.
    #[serde(default)]
    pub gc_excl_ms: Vec<Option<f64>>,
    /// `gc-cons-threshold` when a phase began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Distinct error messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Runs in which it was closed by force.
    #[serde(default)]
    pub incomplete: u32,
    /// Most loads of missing files folded into it in one run.
    #[serde(default)]
    pub missing_loads: u32,
    /// Seen only when it ended.
    #[serde(default)]
    pub blind: bool,
    /// Nested nodes.
    #[serde(default)]
    pub children: Vec<Node>,
}

/// Statistics of one quantity over the runs where it occurred.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Median.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Median absolute deviation.
    pub mad: f64,
    /// Lower bound of the confidence interval of the median.
    pub ci_low: f64,
    /// Upper bound.
    pub ci_high: f64,
    /// The interval's coverage.
    pub coverage: f64,
    /// Number of samples.
    pub n: usize,
}

/// Summarizes samples; `None` when there are none.
pub fn summarize(samples: &[f64]) -> Option<Summary> {
    let ci = stats::median_ci(samples, 0.95)?;
    Some(Summary {
        median: stats::median(samples)?,
        p90: stats::percentile(samples, 90.0)?,
        mad: stats::mad(samples)?,
        ci_low: ci.low,
        ci_high: ci.high,
        coverage: ci.coverage,
        n: samples.len(),
    })
}

fn present(samples: &[Option<f64>]) -> Vec<f64> {
    samples.iter().flatten().copied().collect()
}

fn net(time: &[Option<f64>], gc: &[Option<f64>]) -> Vec<f64> {
    time.iter()
        .enumerate()
        .map(|(i, t)| {
            let g = gc.get(i).copied().flatten().unwrap_or(0.0);
            (t.unwrap_or(0.0) - g).max(0.0)
        })
        .collect()
}

/// Rounds to microseconds, which keeps stored profiles compact.
fn round_ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Node {
    /// Runs in which the node occurred.
    pub fn present(&self) -> usize {
        self.incl.iter().filter(|x| x.is_some()).count()
    }

    /// Statistics of the inclusive time.
    pub fn inclusive(&self) -> Option<Summary> {
        summarize(&present(&self.incl))
    }

    /// Statistics of the exclusive time.
    pub fn exclusive(&self) -> Option<Summary> {
        summarize(&present(&self.excl))
    }

    /// Median inclusive milliseconds (0 when absent everywhere).
    pub fn median_inclusive(&self) -> f64 {
        stats::median(&present(&self.incl)).unwrap_or(0.0)
    }

    /// Median garbage collections.
    pub fn median_gc_count(&self) -> f64 {
        stats::median(&present(&self.gc_count)).unwrap_or(0.0)
    }

    /// Median milliseconds of garbage collection.
    pub fn median_gc_ms(&self) -> f64 {
        stats::median(&present(&self.gc_ms)).unwrap_or(0.0)
    }

    /// Inclusive samples with absent runs counted as zero.
    pub fn inclusive_or_zero(&self) -> Vec<f64> {
        self.incl.iter().map(|x| x.unwrap_or(0.0)).collect()
    }

    /// Exclusive samples with absent runs counted as zero.
    pub fn exclusive_or_zero(&self) -> Vec<f64> {
        self.excl.iter().map(|x| x.unwrap_or(0.0)).collect()
    }

    /// Exclusive samples without garbage collection (absent runs count as
    /// zero).  A collection runs where the allocation that triggers it
    /// happens to cross the threshold, so it shifts between nodes from
    /// one configuration to the next; comparisons leave it out.
    pub fn exclusive_net_or_zero(&self) -> Vec<f64> {
        net(&self.excl, &self.gc_excl_ms)
    }

    /// Inclusive samples without garbage collection (absent runs count as
    /// zero).
    pub fn inclusive_net_or_zero(&self) -> Vec<f64> {
        net(&self.incl, &self.gc_ms)
    }

    /// Visits the node and its descendants with their depth.
    pub fn walk<'a>(&'a self, depth: usize, f: &mut impl FnMut(&'a Node, usize)) {
        f(self, depth);
        for c in &self.children {
            c.walk(depth + 1, f);
        }
    }
}

/// Merges the trees of `runs` (each a list of top-level nodes).
pub fn merge(runs: &[&[RunNode]]) -> Vec<Node> {
    let lists: Vec<(usize, &[RunNode])> = runs.iter().copied().enumerate().collect();
    merge_level(runs.len(), &lists)
}

fn merge_level(n: usize, lists: &[(usize, &[RunNode])]) -> Vec<Node> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<(usize, &RunNode)>> = HashMap::new();
    for (run, list) in lists {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for node in list.iter() {
            let count = seen.entry(node.key.as_str()).or_insert(0);
            *count += 1;
            let key = if *count == 1 {
                node.key.clone()
            } else {
                format!("{}#{}", node.key, count)
            };
            groups
                .entry(key.clone())
                .or_insert_with(|| {
                    order.push(key);
                    Vec::new()
                })
                .push((*run, node));
        }
    }
    order
        .into_iter()
        .filter_map(|key| {
            let members = groups.remove(&key)?;
            merge_group(n, key, &members)
        })
        .collect()
}

fn merge_group(n: usize, key: String, members: &[(usize, &RunNode)]) -> Option<Node> {
    let first = members.first()?.1;
    let named = members
        .iter()
        .map(|(_, node)| *node)
        .find(|node| node.file.is_some())
        .unwrap_or(first);
    let mut node = Node {
        key,
        kind: first.kind,
        name: named.name.clone(),
        file: named.file.clone(),
        via: first.via.clone(),
        incl: vec![None; n],
        excl: vec![None; n],
        gc_count: vec![None; n],
        gc_ms: vec![None; n],
        gc_excl_ms: vec![None; n],
        threshold: first.threshold,
        errors: Vec::new(),
        incomplete: 0,
        missing_loads: 0,
        blind: false,
        children: Vec::new(),
    };
    for (run, member) in members {
        let slot = |v: &mut Vec<Option<f64>>, x: f64| {
            if let Some(cell) = v.get_mut(*run) {
                // A node occurring twice in one run (merged keys) adds up.
                *cell = Some(round_ms(cell.unwrap_or(0.0) + x));
            }
        };
        slot(&mut node.incl, member.inclusive_ms());
        slot(&mut node.excl, member.exclusive_ms());
        slot(&mut node.gc_count, member.gc_count());
        slot(&mut node.gc_ms, member.gc_ms());
        let child_gc: f64 = member.children.iter().map(RunNode::gc_ms).sum();
        slot(&mut node.gc_excl_ms, (member.gc_ms() - child_gc).max(0.0));
        if let Some(e) = &member.error {
            if !node.errors.contains(e) {
                node.errors.push(e.clone());
            }
        }
        node.incomplete += u32::from(member.incomplete);
        node.missing_loads = node.missing_loads.max(member.missing_loads);
        node.blind |= member.blind;
    }
    let child_lists: Vec<(usize, &[RunNode])> = members
        .iter()
        .map(|(run, member)| (*run, member.children.as_slice()))
        .collect();
    node.children = merge_level(n, &child_lists);
    Some(node)
}

/// An error of a profile, with the runs it happened in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileError {
    /// Runs (0-based) where it happened.
    pub runs: Vec<usize>,
    /// Where.
    pub place: String,
    /// The message.
    pub message: String,
}

/// A complete profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// On-disk format.
    pub format: u32,
    /// Unique id (time-based, sortable).
    pub id: String,
    /// When it was taken, UTC, `YYYY-MM-DD HH:MM:SS`.
    pub date: String,
    /// When it was taken, seconds since the epoch.
    pub unix_time: i64,
    /// Measured runs (warm-up runs excluded).
    pub runs: usize,
    /// Warm-up runs done first and discarded.
    pub warmup: usize,
    /// `tty`, `gui` or `daemon`.
    pub ui: String,
    /// The Emacs binary.
    pub emacs: String,
    /// `emacs-version` of the children.
    pub emacs_version: String,
    /// Whether the children had native compilation.
    pub native_comp: bool,
    /// The configuration directory profiled.
    pub init_directory: String,
    /// The configuration's git commit, when it is in a repository.
    #[serde(default)]
    pub git: Option<GitInfo>,
    /// Activated packages, `NAME VERSION`, sorted.
    #[serde(default)]
    pub packages: Vec<String>,
    /// A digest of the packages' versions: of `packages` when package.el
    /// activated any, else of the libraries loaded at start-up from
    /// outside Emacs (file names, sizes and modification times); `None`
    /// when there is neither.
    #[serde(default)]
    pub packages_digest: Option<String>,
    /// Seconds watched after the first redisplay.
    pub settle: f64,
    /// The extra environment variables the children were given
    /// (`VAR=VALUE`), so that the profile can be taken again alike.
    #[serde(default)]
    pub env: Vec<String>,
    /// Why the profile is not a normal start-up (a run hung and was
    /// killed, stalled waiting for input, or exited by itself), if so.
    /// Such a profile is kept, but never compared with others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// Process start to settled, per run, milliseconds.
    pub run_totals: Vec<f64>,
    /// Process start to exit, per run, as measured by the harness.
    pub run_walls: Vec<Option<f64>>,
    /// The child's last timestamp per run (milliseconds after the spawn,
    /// on its own clock), to cross-check with `run_walls`.
    #[serde(default)]
    pub run_ends: Vec<Option<f64>>,
    /// The probe's own cost per run, milliseconds.
    pub run_overheads: Vec<f64>,
    /// Whether each run settled by itself.
    pub run_settled: Vec<bool>,
    /// Outlier runs (0-based) by total time.
    pub outliers: Vec<usize>,
    /// Phases, then loads.
    pub tree: Vec<Node>,
    /// Explanations and suggestions.
    #[serde(default)]
    pub hints: Vec<Hint>,
    /// Errors seen in the runs.
    #[serde(default)]
    pub errors: Vec<ProfileError>,
    /// Remarks about how the profile was taken.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Profile {
    /// Median total, milliseconds.
    pub fn total_ms(&self) -> f64 {
        stats::median(&self.run_totals).unwrap_or(0.0)
    }

    /// Median wall time measured from outside, milliseconds.
    pub fn wall_ms(&self) -> Option<f64> {
        stats::median(&present(&self.run_walls))
    }

    /// Median probe overhead, milliseconds.
    pub fn overhead_ms(&self) -> f64 {
        stats::median(&self.run_overheads).unwrap_or(0.0)
    }

    /// Phase names with their median inclusive time.
    pub fn phases(&self) -> Vec<(String, f64)> {
        self.tree
            .iter()
            .filter(|n| n.kind == NodeKind::Phase)
            .map(|n| (n.name.clone(), n.median_inclusive()))
            .collect()
    }

    /// Finds a phase by name.
    pub fn phase(&self, name: &str) -> Option<&Node> {
        self.tree
            .iter()
            .find(|n| n.kind == NodeKind::Phase && n.name == name)
    }

    /// A one-line description of the configuration's commit.
    pub fn commit_label(&self) -> String {
        match &self.git {
            Some(g) => format!("{}{}", g.short, if g.dirty { "+dirty" } else { "" }),
            None => "-".to_string(),
        }
    }
}

/// A 64-bit FNV-1a digest of `lines`, as 16 hex digits; `None` when there
/// are no lines (the digest of nothing would tell nothing apart).
pub fn digest_of(lines: &[String]) -> Option<String> {
    (!lines.is_empty()).then(|| digest(lines))
}

/// A 64-bit FNV-1a digest of `lines`, as 16 hex digits.
pub fn digest(lines: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for line in lines {
        for b in line.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Formats seconds since the epoch as a UTC `YYYY-MM-DD HH:MM:SS`.
pub fn utc_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::startup::tree::tests::typical;

    #[test]
    fn merging_keeps_one_sample_per_run() {
        let a = typical(150).build();
        let b = typical(160).build();
        let c = typical(140).build();
        let merged = merge(&[&a.phases, &b.phases, &c.phases]);
        assert_eq!(merged.len(), a.phases.len());
        let init = merged.iter().find(|n| n.name == "init").unwrap();
        let file = &init.children[0];
        let slow = file.children.iter().find(|n| n.name == "slow").unwrap();
        assert_eq!(slow.incl, vec![Some(150.0), Some(160.0), Some(140.0)]);
        let s = slow.inclusive().unwrap();
        assert_eq!(s.median, 150.0);
        assert_eq!(s.mad, 10.0);
        assert_eq!((s.ci_low, s.ci_high), (140.0, 160.0));
        assert_eq!(slow.present(), 3);
        assert_eq!(slow.file.as_deref(), Some("/cfg/lisp/slow.elc"));
    }

    #[test]
    fn nodes_missing_from_some_runs_have_gaps() {
        let a = typical(150).build();
        let mut b = typical(150).build();
        // Drop the slow package from the second run.
        let init = b.phases.iter_mut().find(|p| p.name == "init").unwrap();
        init.children[0].children.retain(|n| n.name != "slow");
        let merged = merge(&[&a.phases, &b.phases]);
        let init = merged.iter().find(|n| n.name == "init").unwrap();
        let slow = init.children[0]
            .children
            .iter()
            .find(|n| n.name == "slow")
            .unwrap();
        assert_eq!(slow.incl, vec![Some(150.0), None]);
        assert_eq!(slow.present(), 1);
        assert_eq!(slow.inclusive_or_zero(), vec![150.0, 0.0]);
    }

    #[test]
    fn repeated_keys_are_told_apart_by_occurrence() {
        use crate::startup::tree::tests::Script;
        let mut s = Script::new(10);
        s.mark(10, "init")
            .load(10, "twice")
            .leave(12)
            .load(12, "twice")
            .leave(15)
            .mark(16, "settled");
        let run = s.build();
        let merged = merge(&[&run.phases]);
        let init = merged.iter().find(|n| n.name == "init").unwrap();
        let keys: Vec<&str> = init.children.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(keys, vec!["load:twice", "load:twice#2", "gap"]);
    }

    #[test]
    fn digests_and_dates_are_stable() {
        assert_eq!(digest(&[]), "cbf29ce484222325");
        assert_ne!(
            digest(&["magit 3.3.0".into()]),
            digest(&["magit 3.3.1".into()])
        );
        assert_eq!(utc_date(0), "1970-01-01 00:00:00");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00");
    }
}
