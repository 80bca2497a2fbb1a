//! Comparing two profiles node by node.
//!
//! Node times are compared without the garbage collections that ran
//! inside them: a collection runs wherever allocation crosses the
//! threshold, so it moves between nodes when anything before changes;
//! the total time of garbage collection is compared on its own.
//!
//! Profiles taken minutes apart run on a machine that may be busier for
//! one than the other, which slows every CPU-bound node a little (and
//! not the nodes that wait on the clock or the disk).  Node times are
//! therefore tested both as measured and divided by the overall speed
//! ratio of B to A (the median of the ratios of the nodes both have), and
//! a node is flagged only when both tests agree: the library that changed
//! stands out, the ones that merely ran on a busier machine do not.  The
//! total and the phases are compared as measured.
//!
//! A change is flagged only when it is both statistically supported across
//! the runs and larger than a floor (2 ms by default): for a regression,
//! the one-sided Mann-Whitney test asks whether the new samples, lowered by
//! the floor, still tend to exceed the old ones; the p-values of all nodes
//! whose medians moved by more than the floor are then held to a false
//! discovery rate with Benjamini-Hochberg.  Existing nodes are compared by
//! exclusive time, so a slower library is flagged where the time went and
//! not again in every ancestor; a library that appears (or disappears) is
//! compared by its inclusive time, and its descendants are not tested.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::profile::{Node, Profile};
use super::stats;
use super::tree::NodeKind;

/// Phases whose time outside any load is the configuration's own code
/// (its init files' top-level forms, its hook functions).  Elsewhere that
/// time is Emacs' own work, which the configuration does not change, or
/// (in the settle phase) mostly waiting for timers: it is compared with
/// the phases, not flagged as a node.
const USER_PHASES: &[&str] = &[
    "early-init",
    "init",
    "after-init-hook",
    "emacs-startup-hook",
    "window-setup-hook",
];

/// Default floor: changes smaller than this are never flagged.
pub const DEFAULT_FLOOR_MS: f64 = 2.0;
/// Default false discovery rate.
pub const DEFAULT_ALPHA: f64 = 0.05;

/// What happened to a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Slower, and flagged.
    Regression,
    /// Faster, and flagged.
    Improvement,
    /// Changed, but not enough or not consistently enough to flag.
    Unchanged,
}

impl Status {
    /// The status's name, as Lisp sees it.
    pub fn name(self) -> &'static str {
        match self {
            Status::Regression => "regression",
            Status::Improvement => "improvement",
            Status::Unchanged => "unchanged",
        }
    }
}

/// One compared node (or phase, or the total).
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    /// Names from the root, e.g. `["init", "init", "magit"]`.
    pub path: Vec<String>,
    /// The node's kind.
    pub kind: NodeKind,
    /// Its library file, if any.
    pub file: Option<String>,
    /// `exclusive` or `inclusive`: the quantity compared.
    pub measure: &'static str,
    /// Median in the baseline (A), milliseconds.
    pub a_ms: f64,
    /// Median in the new profile (B), milliseconds.
    pub b_ms: f64,
    /// Present in A / in B.
    pub in_a: bool,
    /// Present in B.
    pub in_b: bool,
    /// Present in both, but loaded from different places: the other
    /// profile's occurrence is the one compared.
    pub moved: bool,
    /// The one-sided p-value in the direction of the change.
    pub p: f64,
    /// The verdict.
    pub status: Status,
}

impl Delta {
    /// B minus A.
    pub fn delta_ms(&self) -> f64 {
        self.b_ms - self.a_ms
    }
}

/// The result of comparing profile B against baseline A.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The total start-up time.
    pub total: Delta,
    /// The total time spent collecting garbage.
    pub gc: Delta,
    /// Every phase.
    pub phases: Vec<Delta>,
    /// Nodes whose median moved by more than the floor, largest change first.
    pub nodes: Vec<Delta>,
    /// The floor used.
    pub floor_ms: f64,
    /// The false discovery rate used.
    pub alpha: f64,
    /// Remarks (too few runs to flag anything, different Emacs versions...).
    pub notes: Vec<String>,
}

impl Comparison {
    /// The flagged regressions.
    pub fn regressions(&self) -> impl Iterator<Item = &Delta> {
        self.nodes.iter().filter(|d| d.status == Status::Regression)
    }
}

/// One-sided p-values for "b is more than `floor` above a" and "b is more
/// than `floor` below a".
fn directional_p(a: &[f64], b: &[f64], floor: f64) -> (f64, f64) {
    let b_lowered: Vec<f64> = b.iter().map(|x| x - floor).collect();
    let a_lowered: Vec<f64> = a.iter().map(|x| x - floor).collect();
    (
        stats::mann_whitney_greater(a, &b_lowered),
        stats::mann_whitney_greater(b, &a_lowered),
    )
}

fn median(v: &[f64]) -> f64 {
    stats::median(v).unwrap_or(0.0)
}

/// A candidate test before the false discovery rate is applied.
struct Test {
    delta: Delta,
    p_up: f64,
    p_down: f64,
}

/// Tests `b` against `a` twice, as measured and divided by the speed
/// ratio `scale`, and keeps the larger p-value of each direction: a node
/// is flagged only when the change holds whether or not the machine's
/// overall speed changed between the profiles.  (CPU-bound code slows
/// down with a busier machine; code waiting on the clock or the disk
/// does not.)
fn test(
    path: Vec<String>,
    node: (&Node, Option<&Node>, Option<&Node>),
    a: &[f64],
    b: &[f64],
    (measure, floor, scale): (&'static str, f64, f64),
) -> Test {
    let (any, in_a, in_b) = node;
    let (raw_up, raw_down) = directional_p(a, b, floor);
    let (norm_up, norm_down) = directional_p(a, &scaled(b.to_vec(), scale), floor);
    let (p_up, p_down) = (raw_up.max(norm_up), raw_down.max(norm_down));
    let (a_ms, b_ms) = (median(a), median(b));
    Test {
        delta: Delta {
            path,
            kind: any.kind,
            file: any.file.clone(),
            measure,
            a_ms,
            b_ms,
            in_a: in_a.is_some(),
            in_b: in_b.is_some(),
            moved: false,
            p: if b_ms >= a_ms { p_up } else { p_down },
            status: Status::Unchanged,
        },
        p_up,
        p_down,
    }
}

fn zeros(n: usize) -> Vec<f64> {
    vec![0.0; n]
}

/// Pairs up `a` and `b` children by key, in B's order then A's leftovers.
fn pair<'x>(a: &'x [Node], b: &'x [Node]) -> Vec<(Option<&'x Node>, Option<&'x Node>)> {
    let mut out: Vec<(Option<&Node>, Option<&Node>)> = b
        .iter()
        .map(|nb| (a.iter().find(|na| na.key == nb.key), Some(nb)))
        .collect();
    for na in a {
        if !b.iter().any(|nb| nb.key == na.key) {
            out.push((Some(na), None));
        }
    }
    out
}

/// The speed ratio of B to A over the nodes both have: the median of
/// their ratios, over nodes of at least 1 ms (so that one library that
/// really changed, however big, does not set it).  `None` with fewer
/// than five such nodes.
pub fn speed_ratio(a: &[Node], b: &[Node]) -> Option<f64> {
    fn collect(a: &[Node], b: &[Node], out: &mut Vec<(f64, f64)>) {
        for (na, nb) in pair(a, b) {
            if let (Some(x), Some(y)) = (na, nb) {
                if x.kind != NodeKind::Phase {
                    let (ma, mb) = (
                        median(&x.exclusive_net_or_zero()),
                        median(&y.exclusive_net_or_zero()),
                    );
                    if ma >= 1.0 && mb > 0.0 {
                        out.push((mb / ma, ma));
                    }
                }
                collect(&x.children, &y.children, out);
            }
        }
    }
    let mut ratios = Vec::new();
    collect(a, b, &mut ratios);
    if ratios.len() < 5 {
        return None;
    }
    let values: Vec<f64> = ratios.iter().map(|r| r.0).collect();
    stats::median(&values).map(|r| r.clamp(0.5, 2.0))
}

fn scaled(v: Vec<f64>, scale: f64) -> Vec<f64> {
    v.into_iter().map(|x| x / scale).collect()
}

/// Every library of a tree by file, with its inclusive time per run
/// without garbage collection (a library loads once per run, but not
/// always from the same place): a library that appears new in one place
/// may have been loaded elsewhere in the other profile, because another
/// package now requires it first.
fn libraries(nodes: &[Node]) -> HashMap<&str, Vec<Option<f64>>> {
    fn collect<'a>(nodes: &'a [Node], out: &mut HashMap<&'a str, Vec<Option<f64>>>) {
        for n in nodes {
            if n.kind == NodeKind::Load {
                if let Some(f) = &n.file {
                    let slot = out
                        .entry(f.as_str())
                        .or_insert_with(|| vec![None; n.incl.len()]);
                    for (i, t) in n.incl.iter().enumerate() {
                        if let (Some(t), Some(cell)) = (t, slot.get_mut(i)) {
                            if cell.is_none() {
                                let g = n.gc_ms.get(i).copied().flatten().unwrap_or(0.0);
                                *cell = Some((t - g).max(0.0));
                            }
                        }
                    }
                }
            }
            collect(&n.children, out);
        }
    }
    let mut out = HashMap::new();
    collect(nodes, &mut out);
    out
}

fn or_zero(v: &[Option<f64>]) -> Vec<f64> {
    v.iter().map(|x| x.unwrap_or(0.0)).collect()
}

/// Both trees' libraries.
struct Elsewhere<'a> {
    a: HashMap<&'a str, Vec<Option<f64>>>,
    b: HashMap<&'a str, Vec<Option<f64>>>,
}

fn walk(
    a: &[Node],
    b: &[Node],
    runs: (usize, usize),
    prefix: &[String],
    (floor, scale): (f64, f64),
    elsewhere: &Elsewhere,
    out: &mut Vec<Test>,
) {
    for (na, nb) in pair(a, b) {
        let Some(any) = nb.or(na) else { continue };
        let mut path = prefix.to_vec();
        path.push(any.name.clone());
        match (na, nb) {
            (Some(x), Some(y)) => {
                let internal_gap = any.kind == NodeKind::Gap
                    && !prefix
                        .first()
                        .is_some_and(|phase| USER_PHASES.contains(&phase.as_str()));
                if any.kind != NodeKind::Phase && !internal_gap {
                    out.push(test(
                        path.clone(),
                        (any, na, nb),
                        &x.exclusive_net_or_zero(),
                        &y.exclusive_net_or_zero(),
                        ("exclusive", floor, scale),
                    ));
                }
                walk(
                    &x.children,
                    &y.children,
                    runs,
                    &path,
                    (floor, scale),
                    elsewhere,
                    out,
                );
            }
            (None, Some(y)) => {
                let moved = y.file.as_deref().and_then(|f| elsewhere.a.get(f));
                let base = moved.map(|m| or_zero(m)).unwrap_or_else(|| zeros(runs.0));
                let mut t = test(
                    path,
                    (any, moved.map(|_| any), nb),
                    &base,
                    &y.inclusive_net_or_zero(),
                    ("inclusive", floor, scale),
                );
                t.delta.moved = moved.is_some();
                out.push(t);
            }
            (Some(x), None) => {
                let moved = x.file.as_deref().and_then(|f| elsewhere.b.get(f));
                let other = moved.map(|m| or_zero(m)).unwrap_or_else(|| zeros(runs.1));
                let mut t = test(
                    path,
                    (any, na, moved.map(|_| any)),
                    &x.inclusive_net_or_zero(),
                    &other,
                    ("inclusive", floor, scale),
                );
                t.delta.moved = moved.is_some();
                out.push(t);
            }
            (None, None) => {}
        }
    }
}

/// Applies the floor and the false discovery rate to `tests`.
fn decide(mut tests: Vec<Test>, floor: f64, alpha: f64) -> Vec<Delta> {
    tests.retain(|t| t.delta.delta_ms().abs() > floor);
    let p: Vec<f64> = tests
        .iter()
        .map(|t| {
            if t.delta.delta_ms() > 0.0 {
                t.p_up
            } else {
                t.p_down
            }
        })
        .collect();
    let flags = stats::benjamini_hochberg(&p, alpha);
    let mut out: Vec<Delta> = tests
        .into_iter()
        .zip(flags)
        .map(|(mut t, flagged)| {
            if flagged {
                t.delta.status = if t.delta.delta_ms() > 0.0 {
                    Status::Regression
                } else {
                    Status::Improvement
                };
            }
            t.delta
        })
        .collect();
    out.sort_by(|x, y| y.delta_ms().abs().total_cmp(&x.delta_ms().abs()));
    out
}

/// Milliseconds of garbage collection per run, over all phases.
fn gc_per_run(p: &Profile) -> Vec<f64> {
    (0..p.runs)
        .map(|i| {
            p.tree
                .iter()
                .filter(|n| n.kind == NodeKind::Phase)
                .filter_map(|n| n.gc_ms.get(i).copied().flatten())
                .sum()
        })
        .collect()
}

/// Compares profile `b` against the baseline `a`.
pub fn compare(a: &Profile, b: &Profile, floor_ms: f64, alpha: f64) -> Comparison {
    let floor = if floor_ms.is_finite() && floor_ms >= 0.0 {
        floor_ms
    } else {
        DEFAULT_FLOOR_MS
    };
    let alpha = if alpha > 0.0 && alpha < 1.0 {
        alpha
    } else {
        DEFAULT_ALPHA
    };
    let runs = (a.runs, b.runs);

    let scale = speed_ratio(&a.tree, &b.tree).unwrap_or(1.0);
    let elsewhere = Elsewhere {
        a: libraries(&a.tree),
        b: libraries(&b.tree),
    };
    let mut node_tests = Vec::new();
    walk(
        &a.tree,
        &b.tree,
        runs,
        &[],
        (floor, scale),
        &elsewhere,
        &mut node_tests,
    );
    let nodes = decide(node_tests, floor, alpha);

    // Phases, by inclusive time.
    let mut phase_tests = Vec::new();
    for (na, nb) in pair(&a.tree, &b.tree) {
        let Some(any) = nb.or(na) else { continue };
        if any.kind != NodeKind::Phase {
            continue;
        }
        let xa = na
            .map(Node::inclusive_or_zero)
            .unwrap_or_else(|| zeros(a.runs));
        let xb = nb
            .map(Node::inclusive_or_zero)
            .unwrap_or_else(|| zeros(b.runs));
        phase_tests.push(test(
            vec![any.name.clone()],
            (any, na, nb),
            &xa,
            &xb,
            ("inclusive", floor, 1.0),
        ));
    }
    let order: Vec<Vec<String>> = phase_tests.iter().map(|t| t.delta.path.clone()).collect();
    let decided = decide(phase_tests, floor, alpha);
    // Keep start-up order, and list unchanged phases too.
    let phases = order
        .into_iter()
        .filter_map(|path| {
            decided
                .iter()
                .find(|d| d.path == path)
                .cloned()
                .or_else(|| {
                    let any = b
                        .tree
                        .iter()
                        .chain(a.tree.iter())
                        .find(|n| path.first() == Some(&n.name))?;
                    let na = a.tree.iter().find(|n| n.key == any.key);
                    let nb = b.tree.iter().find(|n| n.key == any.key);
                    Some(Delta {
                        path,
                        kind: NodeKind::Phase,
                        file: None,
                        measure: "inclusive",
                        a_ms: na.map(Node::median_inclusive).unwrap_or(0.0),
                        b_ms: nb.map(Node::median_inclusive).unwrap_or(0.0),
                        in_a: na.is_some(),
                        in_b: nb.is_some(),
                        moved: false,
                        p: 1.0,
                        status: Status::Unchanged,
                    })
                })
        })
        .collect();

    // The total, and the time collecting garbage: one test each.
    let single = |name: &str, xa: &[f64], xb: &[f64]| -> Delta {
        let (p_up, p_down) = directional_p(xa, xb, floor);
        let (a_ms, b_ms) = (median(xa), median(xb));
        let p = if b_ms >= a_ms { p_up } else { p_down };
        let status = if (b_ms - a_ms).abs() <= floor || p > alpha {
            Status::Unchanged
        } else if b_ms > a_ms {
            Status::Regression
        } else {
            Status::Improvement
        };
        Delta {
            path: vec![name.into()],
            kind: NodeKind::Phase,
            file: None,
            measure: "inclusive",
            a_ms,
            b_ms,
            in_a: true,
            in_b: true,
            moved: false,
            p,
            status,
        }
    };
    let total = single("total", &a.run_totals, &b.run_totals);
    let gc = single("garbage collection", &gc_per_run(a), &gc_per_run(b));

    let mut notes = Vec::new();
    let mut nodes = nodes;
    let mut phases: Vec<Delta> = phases;
    let (mut total, mut gc) = (total, gc);
    let incomplete: Vec<String> = [("baseline", a), ("new profile", b)]
        .iter()
        .filter_map(|(side, p)| {
            p.incomplete
                .as_ref()
                .map(|why| format!("the {side}: {why}"))
        })
        .collect();
    if !incomplete.is_empty() {
        // Its times are not those of a start-up: nothing is flagged.
        for d in nodes
            .iter_mut()
            .chain(phases.iter_mut())
            .chain([&mut total, &mut gc])
        {
            d.status = Status::Unchanged;
        }
        notes.push(format!(
            "Not a comparison of two start-ups, so nothing is flagged: {}.",
            incomplete.join("; ")
        ));
    }
    // The smallest p-value an exact test can reach is 1 / C(n1 + n2, n1).
    let min_p = stats::mann_whitney_greater(&zeros(a.runs), &vec![1.0; b.runs]);
    if min_p > alpha {
        notes.push(format!(
            "With {} and {} runs no difference can be significant at {}: take profiles \
             with more runs (at least 4 each).",
            a.runs, b.runs, alpha
        ));
    }
    if (scale - 1.0).abs() > 0.05 {
        notes.push(format!(
            "The new profile ran {:.0}% {} overall, across the libraries both load (a \
             busier or idler machine, or a change that affects everything); node changes \
             are judged relative to that.",
            100.0 * (scale - 1.0).abs(),
            if scale > 1.0 { "slower" } else { "faster" }
        ));
    }
    if a.emacs_version != b.emacs_version {
        notes.push(format!(
            "Different Emacs versions: {} and {}.",
            a.emacs_version, b.emacs_version
        ));
    }
    if a.ui != b.ui {
        notes.push(format!("Different user interfaces: {} and {}.", a.ui, b.ui));
    }
    Comparison {
        total,
        gc,
        phases,
        nodes,
        floor_ms: floor,
        alpha,
        notes,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::startup::profile::{merge, FORMAT};
    use crate::startup::tree::tests::{typical, Script};
    use crate::startup::tree::RunTree;
    use crate::startup::tree::IDLE_GAP_NAME;

    pub(crate) fn profile_of(runs: &[RunTree]) -> Profile {
        let lists: Vec<&[crate::startup::tree::RunNode]> =
            runs.iter().map(|r| r.phases.as_slice()).collect();
        Profile {
            format: FORMAT,
            id: "test".into(),
            date: "2026-01-01 00:00:00".into(),
            unix_time: 0,
            runs: runs.len(),
            warmup: 0,
            ui: "tty".into(),
            emacs: "emacs".into(),
            emacs_version: "28.2".into(),
            native_comp: false,
            init_directory: "/cfg/".into(),
            git: None,
            packages: vec![],
            packages_digest: None,
            settle: 0.0,
            env: vec![],
            incomplete: None,
            run_totals: runs.iter().map(|r| r.total_ms).collect(),
            run_walls: runs.iter().map(|r| Some(r.total_ms + 5.0)).collect(),
            run_ends: runs.iter().map(|r| r.end_ms).collect(),
            run_overheads: runs.iter().map(|r| r.overhead_ms).collect(),
            run_settled: runs.iter().map(|r| r.settled).collect(),
            outliers: vec![],
            tree: merge(&lists),
            hints: vec![],
            errors: vec![],
            notes: vec![],
        }
    }

    /// The typical start-up with noise: every load gets +-`noise` ms.
    fn noisy_runs(n: usize, slow_ms: Option<u64>, seed: u64, noise: u64) -> Vec<RunTree> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % (2 * noise + 1)
        };
        (0..n)
            .map(|_| {
                let first_lisp = 30 + next();
                let mut s = Script::new(first_lisp);
                let mut t = first_lisp + 2 + next();
                s.mark(t, "init")
                    .enter(t, "load", "/cfg/init", "load")
                    .file(t, "/cfg/init.el");
                t += 1;
                if let Some(ms) = slow_ms {
                    s.load(t, "slow")
                        .file(t + ms, "/cfg/slow.elc")
                        .leave(t + ms);
                    t += ms;
                }
                for lib in ["a", "b", "c", "d", "e", "f", "g", "h"] {
                    let d = 5 + next();
                    s.load(t, lib)
                        .file(t + d, &format!("/cfg/{lib}.elc"))
                        .leave(t + d);
                    t += d;
                }
                s.leave(t + 1).mark(t + 2, "after-init");
                t += 2 + next();
                s.mark(t, "redisplay-done").mark(t + 1, "settled");
                s.build()
            })
            .collect()
    }

    #[test]
    fn a_clear_regression_is_flagged_and_nothing_else() {
        let a = profile_of(&noisy_runs(5, None, 1, 2));
        let b = profile_of(&noisy_runs(5, Some(150), 2, 2));
        let c = compare(&a, &b, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
        let flagged: Vec<&Delta> = c.regressions().collect();
        assert_eq!(flagged.len(), 1, "{:#?}", c.nodes);
        assert_eq!(flagged[0].path.last().unwrap(), "slow");
        assert!(!flagged[0].in_a && flagged[0].in_b);
        assert_eq!(flagged[0].measure, "inclusive");
        assert!((flagged[0].delta_ms() - 150.0).abs() < 1e-9);
        assert_eq!(c.total.status, Status::Regression);
        let init = c.phases.iter().find(|d| d.path == ["init"]).unwrap();
        assert_eq!(init.status, Status::Regression);
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        // And the other way round it is an improvement.
        let back = compare(&b, &a, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
        assert_eq!(back.regressions().count(), 0);
        assert_eq!(back.total.status, Status::Improvement);
    }

    #[test]
    fn noise_is_not_flagged() {
        for seed in 0..20 {
            let a = profile_of(&noisy_runs(10, Some(150), seed * 2 + 1, 3));
            let b = profile_of(&noisy_runs(10, Some(150), seed * 2 + 2, 3));
            let c = compare(&a, &b, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
            let flagged: Vec<_> = c
                .nodes
                .iter()
                .filter(|d| d.status != Status::Unchanged)
                .collect();
            assert!(flagged.is_empty(), "seed {seed}: {flagged:#?}");
        }
    }

    #[test]
    fn a_consistent_change_below_the_floor_is_not_flagged() {
        let a = profile_of(&[
            typical(150).build(),
            typical(150).build(),
            typical(150).build(),
            typical(150).build(),
            typical(150).build(),
        ]);
        let b = profile_of(&[
            typical(151).build(),
            typical(151).build(),
            typical(151).build(),
            typical(151).build(),
            typical(151).build(),
        ]);
        let c = compare(&a, &b, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
        assert_eq!(c.regressions().count(), 0);
        assert_eq!(c.total.status, Status::Unchanged);
        // With a smaller floor the same change is flagged, where it happened.
        let c = compare(&a, &b, 0.5, DEFAULT_ALPHA);
        let flagged: Vec<_> = c.regressions().collect();
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].path.last().unwrap(), "slow");
        assert_eq!(flagged[0].measure, "exclusive");
    }

    #[test]
    fn a_busier_machine_does_not_flag_every_library() {
        // B ran 30 % slower across the board, and gained the slow package.
        let a = profile_of(&noisy_runs(8, None, 11, 1));
        let mut b = profile_of(&noisy_runs(8, Some(150), 12, 1));
        fn slow_down(nodes: &mut [Node]) {
            for n in nodes {
                for v in n.incl.iter_mut().chain(n.excl.iter_mut()).flatten() {
                    *v *= 1.3;
                }
                slow_down(&mut n.children);
            }
        }
        slow_down(&mut b.tree);
        let ratio = speed_ratio(&a.tree, &b.tree).unwrap();
        assert!((ratio - 1.3).abs() < 0.1, "{ratio}");
        let c = compare(&a, &b, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
        let flagged: Vec<&str> = c
            .regressions()
            .map(|d| d.path.last().unwrap().as_str())
            .collect();
        assert_eq!(flagged, vec!["slow"], "{:#?}", c.nodes);
        assert!(
            c.notes.iter().any(|n| n.contains("30% slower")),
            "{:?}",
            c.notes
        );
    }

    #[test]
    fn a_library_loaded_elsewhere_is_moved_not_new() {
        // In A, a loads x; in B, c loads x first (and a finds it loaded).
        let run = |moved: bool, jitter: u64| {
            let mut s = Script::new(10 + jitter);
            s.mark(12 + jitter, "init")
                .load(20, "a")
                .file(20, "/cfg/a.elc");
            if moved {
                s.leave(22).load(22, "c").file(22, "/cfg/c.elc");
                s.load(23, "x").file(28, "/cfg/x.elc").leave(28);
                s.leave(29);
            } else {
                s.load(21, "x").file(26, "/cfg/x.elc").leave(26);
                s.leave(27).load(27, "c").file(27, "/cfg/c.elc").leave(29);
            }
            s.mark(30, "settled");
            s.build()
        };
        let a = profile_of(&(0..5).map(|i| run(false, i % 2)).collect::<Vec<_>>());
        let b = profile_of(&(0..5).map(|i| run(true, i % 2)).collect::<Vec<_>>());
        let c = compare(&a, &b, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
        assert_eq!(c.regressions().count(), 0, "{:#?}", c.nodes);
        assert!(c.nodes.iter().all(|d| d.status == Status::Unchanged));
    }

    #[test]
    fn code_waiting_on_the_clock_is_not_flagged_on_a_faster_machine() {
        // B's machine was 30 % faster for CPU-bound code; the slow package
        // (a wait on the clock) took the same time in both.
        let a = profile_of(&noisy_runs(8, Some(150), 21, 1));
        let mut b = profile_of(&noisy_runs(8, Some(150), 22, 1));
        fn speed_up(nodes: &mut [Node]) {
            for n in nodes {
                if n.name != "slow" {
                    for v in n.incl.iter_mut().chain(n.excl.iter_mut()).flatten() {
                        *v /= 1.3;
                    }
                    speed_up(&mut n.children);
                }
            }
        }
        speed_up(&mut b.tree);
        let c = compare(&a, &b, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
        assert_eq!(c.regressions().count(), 0, "{:#?}", c.nodes);
    }

    #[test]
    fn too_few_runs_are_explained() {
        let a = profile_of(&noisy_runs(2, None, 1, 1));
        let b = profile_of(&noisy_runs(2, Some(150), 2, 1));
        let c = compare(&a, &b, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
        assert_eq!(c.regressions().count(), 0);
        assert!(c.notes[0].contains("more runs"), "{:?}", c.notes);
    }

    #[test]
    fn an_incomplete_profile_is_never_flagged_against() {
        let a = profile_of(&noisy_runs(5, None, 1, 2));
        let mut b = profile_of(&noisy_runs(5, Some(150), 2, 2));
        b.incomplete = Some("run 1 did not settle within 3 s and was killed".into());
        let c = compare(&a, &b, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
        assert_eq!(c.regressions().count(), 0);
        assert_eq!(c.total.status, Status::Unchanged);
        assert!(c.phases.iter().all(|d| d.status == Status::Unchanged));
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("new profile: run 1 did not settle")),
            "{:?}",
            c.notes
        );
        // The slow package still shows as moved by more than the floor.
        assert!(c
            .nodes
            .iter()
            .any(|d| d.path.last().map(String::as_str) == Some("slow")));
    }

    #[test]
    fn idle_time_in_the_settle_phase_is_not_a_node_regression() {
        // B's settle window saw a timer load 900 ms after the redisplay.
        let run = |late: bool, jitter: u64| {
            let mut s = Script::new(30 + jitter);
            s.mark(40, "init")
                .enter(40, "load", "/cfg/init", "load")
                .file(40, "/cfg/init.el")
                .leave(50)
                .mark(60, "redisplay-done");
            if late {
                s.load(960 + jitter, "/cfg/tick").leave(961 + jitter);
            }
            s.mark(970 + jitter, "settled");
            s.build()
        };
        let a = profile_of(&(0..5).map(|i| run(false, i % 3)).collect::<Vec<_>>());
        let b = profile_of(&(0..5).map(|i| run(true, i % 3)).collect::<Vec<_>>());
        let c = compare(&a, &b, DEFAULT_FLOOR_MS, DEFAULT_ALPHA);
        let flagged: Vec<&Vec<String>> = c.regressions().map(|d| &d.path).collect();
        assert!(
            flagged
                .iter()
                .all(|p| p.last().map(String::as_str) != Some(IDLE_GAP_NAME)),
            "{flagged:?}"
        );
        let settle = b.phase("settle").unwrap();
        assert_eq!(settle.children.last().unwrap().name, IDLE_GAP_NAME);
    }
}
