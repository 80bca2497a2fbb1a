//! One run's tree: phases, and inside them every load, use-package block and
//! traced call, built from the child's event stream.
//!
//! The stream is trusted for order but not for balance: a config that
//! signals leaves loads open, a child killed by the timeout stops anywhere,
//! and a load whose start is missing from the stream is only seen when it
//! ends.
//! Open nodes are closed where the run stopped and marked incomplete: at
//! the `settled` mark, at the `exit` mark the probe writes when the
//! configuration calls `kill-emacs` itself, or else at the moment the
//! harness saw the child die (a child killed at the timeout stops up to
//! 100 ms after its last flushed event).  A `leave` closes the innermost
//! open node of its kind (closing what is still open above it); a file
//! seen without a matching open load becomes a "blind" node.  The events
//! of the probe's own calibration are dropped wherever they appear.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::event::{Clock, Event};

/// Phase boundaries in start-up order: the name of the mark that starts a
/// phase, and the phase's name.  The first phase, from process start to the
/// probe's first form, has no mark; a `settled` mark ends the last one.
pub const PHASES: &[(&str, &str)] = &[
    ("first-lisp", "before early-init"),
    ("early-init", "early-init"),
    ("early-init-done", "package activation"),
    ("before-init", "before init"),
    ("init", "init"),
    ("after-init", "after-init-hook"),
    ("after-init-done", "terminal and command line"),
    ("emacs-startup", "emacs-startup-hook"),
    ("window-setup", "window-setup-hook"),
    ("window-setup-done", "first redisplay"),
    ("redisplay-done", "settle"),
];

/// The name of the phase from process start to the probe's first form.
pub const FIRST_PHASE: &str = "process start to first Lisp";

/// The name of the pseudo-node holding a phase's time outside any load.
pub const GAP_NAME: &str = "(outside any load)";

/// The name of the settle phase's gap: mostly waiting for timers.
pub const IDLE_GAP_NAME: &str = "(idle, or outside any load)";

/// The file name the probe's calibration records loads of.
pub const CALIBRATION_FILE: &str = "/artisan-calibration";

/// The mark the probe writes when the configuration exits by itself.
pub const EXIT_MARK: &str = "exit";

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A start-up phase (top level).
    Phase,
    /// The part of a phase spent outside any load.
    Gap,
    /// A `load`, `require` or autoload.
    Load,
    /// A whole `use-package` block.
    UsePackage,
    /// A use-package `:init` section.
    Init,
    /// A use-package `:config` section.
    Config,
    /// A traced function call (`package-activate-all`).
    Call,
    /// The `eval-after-load` forms and hooks run after a load: transient,
    /// merged into the load it follows.
    AfterLoad,
}

impl NodeKind {
    /// The kind's name, as Lisp sees it.
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Phase => "phase",
            NodeKind::Gap => "gap",
            NodeKind::Load => "load",
            NodeKind::UsePackage => "use-package",
            NodeKind::Init => "init",
            NodeKind::Config => "config",
            NodeKind::Call => "call",
            NodeKind::AfterLoad => "after-load",
        }
    }

    fn from_event(kind: &str) -> NodeKind {
        match kind {
            "use-package" => NodeKind::UsePackage,
            "init" => NodeKind::Init,
            "config" => NodeKind::Config,
            "call" => NodeKind::Call,
            "after-load" => NodeKind::AfterLoad,
            _ => NodeKind::Load,
        }
    }
}

/// A node of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunNode {
    /// What it is.
    pub kind: NodeKind,
    /// Identity among its siblings, stable across runs.
    pub key: String,
    /// Display name.
    pub name: String,
    /// The file it loaded (loads), when known.
    pub file: Option<String>,
    /// What triggered a load (`require`, `load`, `autoload FOO`).
    pub via: Option<String>,
    /// Start, monotonic nanoseconds.
    pub start: u64,
    /// End, monotonic nanoseconds.
    pub end: u64,
    /// `gcs-done` at start and end.
    pub gc: (i64, i64),
    /// `gc-elapsed` (seconds) at start and end.
    pub gc_secs: (f64, f64),
    /// The error it ended with.
    pub error: Option<String>,
    /// Closed by force (the run ended or an outer node closed first).
    pub incomplete: bool,
    /// Loads of files that were not found, folded into this node's own time.
    pub missing_loads: u32,
    /// Seen only when it ended (its start is missing from the stream).
    pub blind: bool,
    /// `gc-cons-threshold` when a phase began.
    pub threshold: Option<f64>,
    /// A load whose `after-load-functions` ran: it finished.
    pub finished: bool,
    /// Nested nodes, in start order.
    pub children: Vec<RunNode>,
}

impl RunNode {
    fn new(kind: NodeKind, key: String, name: String, start: u64) -> RunNode {
        RunNode {
            kind,
            key,
            name,
            file: None,
            via: None,
            start,
            end: start,
            gc: (0, 0),
            gc_secs: (0.0, 0.0),
            error: None,
            incomplete: false,
            missing_loads: 0,
            blind: false,
            threshold: None,
            finished: false,
            children: Vec::new(),
        }
    }

    /// Inclusive time in milliseconds.
    pub fn inclusive_ms(&self) -> f64 {
        self.end.saturating_sub(self.start) as f64 / 1e6
    }

    /// Exclusive time (inclusive minus the children's), never negative.
    pub fn exclusive_ms(&self) -> f64 {
        let children: f64 = self.children.iter().map(RunNode::inclusive_ms).sum();
        (self.inclusive_ms() - children).max(0.0)
    }

    /// Garbage collections during the node.
    pub fn gc_count(&self) -> f64 {
        self.gc.1.saturating_sub(self.gc.0).max(0) as f64
    }

    /// Milliseconds of garbage collection during the node.
    pub fn gc_ms(&self) -> f64 {
        ((self.gc_secs.1 - self.gc_secs.0) * 1000.0).max(0.0)
    }

    /// Visits the node and its descendants, depth first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a RunNode)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }
}

/// An error seen in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunError {
    /// Where: the file or node that signalled, or "start-up".
    pub place: String,
    /// The message.
    pub message: String,
}

/// One run, analysed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTree {
    /// Top-level phases, in order, each holding its loads and a gap node.
    pub phases: Vec<RunNode>,
    /// Process start to settled (or to the last event, when it never
    /// settled), milliseconds.
    pub total_ms: f64,
    /// Whether the child reached the settled state by itself.
    pub settled: bool,
    /// Errors, innermost place first.
    pub errors: Vec<RunError>,
    /// Metadata the child reported.
    pub meta: BTreeMap<String, serde_json::Value>,
    /// The probe's own cost in this run, milliseconds.
    pub overhead_ms: f64,
    /// Loads seen only when they ended.
    pub blind_loads: u32,
    /// What was still running when the stream ended, outermost first.
    pub open_at_end: Vec<String>,
    /// The phase during which the configuration called `kill-emacs`
    /// itself, when it did (before start-up settled).
    pub exited_during: Option<String>,
    /// The child's last timestamp (its `end` event, or the last event),
    /// milliseconds after the spawn, on the child's own clock.
    pub end_ms: Option<f64>,
    /// How far before the spawn the child's first timestamp lies,
    /// milliseconds, when it does (the clocks disagree).
    pub clock_skew_ms: Option<f64>,
}

/// Short display name of a library file: no directory, no `.el`/`.elc`/
/// `.gz` suffix, and no native-compilation hash.
pub fn library_name(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    let mut name = base.to_string();
    for suffix in [".gz", ".elc", ".el", ".so"] {
        if let Some(stripped) = name.strip_suffix(suffix) {
            name = stripped.to_string();
        }
    }
    if let Some(stripped) = name.strip_suffix(".eln") {
        // NAME-HASH1-HASH2.eln
        let parts: Vec<&str> = stripped.rsplitn(3, '-').collect();
        name = match parts.as_slice() {
            [h2, h1, rest]
                if h1.len() == 8
                    && h2.len() == 8
                    && h1.chars().chain(h2.chars()).all(|c| c.is_ascii_hexdigit()) =>
            {
                rest.to_string()
            }
            _ => stripped.to_string(),
        };
    }
    name
}

fn node_for_enter(kind: &str, name: &str, via: &str, t: u64) -> RunNode {
    let kind = NodeKind::from_event(kind);
    let (key, display) = match kind {
        NodeKind::Load | NodeKind::AfterLoad => {
            (format!("load:{}", library_name(name)), library_name(name))
        }
        NodeKind::UsePackage => (format!("use-package:{name}"), format!("use-package {name}")),
        NodeKind::Init => (format!("init:{name}"), format!("{name} :init")),
        NodeKind::Config => (format!("config:{name}"), format!("{name} :config")),
        _ => (format!("call:{name}"), name.to_string()),
    };
    let mut node = RunNode::new(kind, key, display, t);
    if matches!(kind, NodeKind::Load | NodeKind::AfterLoad) && name.contains('/') {
        node.file = Some(name.to_string());
    }
    if !via.is_empty() {
        node.via = Some(via.to_string());
    }
    node
}

/// Attaches a closed node to the innermost open node, or to the roots.
///
/// An after-load node (the `eval-after-load` forms and hooks run once a
/// file's own forms are done) is merged into the load it follows: the load
/// ends when they end and their loads become its children.  A load that is
/// never followed by one did not finish: its pending error (the last signal
/// raised inside it) becomes its error.
fn attach(stack: &mut [RunNode], roots: &mut Vec<RunNode>, node: RunNode) {
    let siblings = match stack.last_mut() {
        Some(parent) => &mut parent.children,
        None => roots,
    };
    if node.kind == NodeKind::Init {
        // use-package ends its :init statistics after everything that
        // follows the section (the package's `require', :config): the
        // section really ends where those begin.
        let mut node = node;
        let package = node.key.strip_prefix("init:").unwrap_or("").to_string();
        let split = node.children.iter().position(|c| {
            (c.kind == NodeKind::Load && c.name == package)
                || (c.kind == NodeKind::Config && c.key == format!("config:{package}"))
        });
        let moved = match split {
            Some(k) => node.children.split_off(k),
            None => Vec::new(),
        };
        if let Some(first) = moved.first() {
            node.end = first.start;
            node.gc.1 = first.gc.0;
            node.gc_secs.1 = first.gc_secs.0;
        }
        siblings.push(node);
        siblings.extend(moved);
        return;
    }
    if node.kind == NodeKind::AfterLoad {
        if let Some(load) = siblings.last_mut() {
            if load.kind == NodeKind::Load
                && !load.blind
                && load.file.is_some()
                && load.file == node.file
                && load.end <= node.start
            {
                load.end = node.end;
                load.gc.1 = node.gc.1;
                load.gc_secs.1 = node.gc_secs.1;
                load.children.extend(node.children);
                load.error = None;
                load.incomplete |= node.incomplete;
                return;
            }
        }
        // Forms run after a load the probe did not see start: keep what
        // they loaded, in the parent.
        siblings.extend(node.children);
        return;
    }
    siblings.push(node);
}

/// Whether `event` belongs to the probe's calibration (which times its
/// own recording paths after start-up and must not show in the tree).
fn is_calibration(event: &Event) -> bool {
    match event {
        Event::Enter { name, .. } => name == CALIBRATION_FILE,
        Event::Loaded { path, .. } | Event::File { path, .. } => path == CALIBRATION_FILE,
        Event::Mark { phase, .. } => phase == "calibration",
        _ => false,
    }
}

/// Builds the tree of one run.
///
/// `spawn` is when the harness started the child (monotonic ns) and
/// `spawn_real` the same instant on the real-time clock, used to map a
/// Lisp-clock stream onto the monotonic clock.  `stopped` is when the
/// harness saw the child end (monotonic ns): a run that neither settled
/// nor said it exits ends there.
pub fn build(events: &[Event], spawn: u64, spawn_real: u64, stopped: Option<u64>) -> RunTree {
    let mut clock = Clock::Monotonic;
    for e in events {
        if let Event::Start { clock: c, .. } = e {
            clock = *c;
            break;
        }
    }
    let map = |t: u64| -> u64 {
        match clock {
            Clock::Monotonic => t,
            Clock::Realtime => {
                let shifted = spawn as i128 + (t as i128 - spawn_real as i128);
                shifted.clamp(0, u64::MAX as i128) as u64
            }
        }
    };

    let mut first_lisp = None;
    let mut meta = BTreeMap::new();
    let mut native_overhead_ns = 0u64;
    let mut marks: Vec<(String, u64, i64, f64, Option<f64>)> = Vec::new();
    let mut stack: Vec<RunNode> = Vec::new();
    let mut roots: Vec<RunNode> = Vec::new();
    let mut blind_loads = 0u32;
    let mut last_t = spawn;
    let mut end_t = None;
    // Leaves of calibration loads still to drop.
    let mut calibration_open = 0u32;

    for event in events {
        if is_calibration(event) {
            if let Event::Enter { .. } = event {
                calibration_open += 1;
            }
            continue;
        }
        if let Event::Leave { kind, .. } = event {
            if calibration_open > 0 && kind == "load" {
                calibration_open -= 1;
                continue;
            }
        }
        if let Some(t) = event.time() {
            last_t = last_t.max(map(t));
        }
        match event {
            Event::Start { first_lisp: f, .. } => {
                first_lisp.get_or_insert(map(*f));
            }
            Event::Enter {
                t,
                kind,
                name,
                via,
                gc,
                gcs,
            } => {
                let mut node = node_for_enter(kind, name, via, map(*t));
                node.gc = (*gc, *gc);
                node.gc_secs = (*gcs, *gcs);
                stack.push(node);
            }
            Event::File { t, path } => {
                let t = map(*t);
                match stack.last_mut() {
                    Some(top)
                        if top.kind == NodeKind::Load
                            && (top.file.is_none()
                                || top.file.as_deref().map(library_name)
                                    == Some(library_name(path)))
                            && top
                                .key
                                .strip_prefix("load:")
                                .is_some_and(|asked| library_name(asked) == library_name(path)) =>
                    {
                        top.name = library_name(path);
                        top.file = Some(path.clone());
                    }
                    _ => {
                        blind_loads += 1;
                        let mut node = RunNode::new(
                            NodeKind::Load,
                            format!("blind:{path}"),
                            library_name(path),
                            t,
                        );
                        node.file = Some(path.clone());
                        node.blind = true;
                        if let Some(parent) = stack.last() {
                            node.gc = (parent.gc.1, parent.gc.1);
                        }
                        attach(&mut stack, &mut roots, node);
                    }
                }
            }
            Event::Loaded { t, path, gc, gcs } => {
                // The load of PATH closed at its last binding of
                // `load-file-name'; what ran since in the same parent (the
                // `eval-after-load' forms) belongs to it.
                let t = map(*t);
                let siblings = match stack.last_mut() {
                    Some(parent) => &mut parent.children,
                    None => &mut roots,
                };
                let found = siblings.iter().rposition(|n| {
                    n.kind == NodeKind::Load && !n.finished && n.file.as_deref() == Some(path)
                });
                if let Some(i) = found {
                    let adopted: Vec<RunNode> = siblings.drain(i + 1..).collect();
                    if let Some(load) = siblings.get_mut(i) {
                        load.children.extend(adopted);
                        load.end = load.end.max(t);
                        load.gc.1 = *gc;
                        load.gc_secs.1 = *gcs;
                        load.error = None;
                        load.finished = true;
                    }
                }
            }
            Event::Leave {
                t,
                kind,
                found,
                err,
                gc,
                gcs,
            } => {
                let t = map(*t);
                let kind = NodeKind::from_event(kind);
                let Some(index) = stack.iter().rposition(|n| n.kind == kind) else {
                    continue;
                };
                while stack.len() > index + 1 {
                    if let Some(mut open) = stack.pop() {
                        open.end = t;
                        open.gc.1 = *gc;
                        open.gc_secs.1 = *gcs;
                        open.incomplete = true;
                        attach(&mut stack, &mut roots, open);
                    }
                }
                let Some(mut node) = stack.pop() else {
                    continue;
                };
                node.end = t;
                node.gc.1 = *gc;
                node.gc_secs.1 = *gcs;
                node.error = err.clone();
                if kind == NodeKind::Load && !found && err.is_none() && node.children.is_empty() {
                    // A file that was not there (load returned nil): its
                    // search time stays in the parent's own time.
                    if let Some(parent) = stack.last_mut() {
                        parent.missing_loads += 1;
                    }
                    continue;
                }
                attach(&mut stack, &mut roots, node);
            }
            Event::Mark {
                t,
                phase,
                gc,
                gcs,
                threshold,
            } => marks.push((phase.clone(), map(*t), *gc, *gcs, *threshold)),
            Event::Meta { key, value } => {
                meta.insert(key.clone(), value.clone());
            }
            Event::End { t, overhead_ns } => {
                native_overhead_ns = *overhead_ns;
                end_t = Some(map(*t));
            }
        }
    }

    let settled_mark = marks.iter().find(|m| m.0 == "settled").map(|m| m.1);
    let exit_mark = marks.iter().find(|m| m.0 == EXIT_MARK).map(|m| m.1);
    // Where the run stopped: settled, exited by itself, or killed (the
    // harness's time: the last flushed event may be long before).
    let stop = settled_mark
        .or(exit_mark)
        .unwrap_or_else(|| stopped.map_or(last_t, |s| s.max(last_t)));

    // Whatever is still open ran until the run stopped.
    let open_at_end: Vec<String> = stack
        .iter()
        .map(|n| n.file.clone().unwrap_or_else(|| n.name.clone()))
        .collect();
    let last_gc = marks.last().map(|m| (m.2, m.3));
    while let Some(mut open) = stack.pop() {
        open.end = stop.max(open.start);
        if let Some((gc, gcs)) = last_gc {
            open.gc.1 = open.gc.1.max(gc);
            open.gc_secs.1 = open.gc_secs.1.max(gcs);
        }
        open.incomplete = true;
        attach(&mut stack, &mut roots, open);
    }
    roots.sort_by_key(|n| n.start);

    let clock_skew_ms = first_lisp
        .filter(|f| *f < spawn)
        .map(|f| (spawn - f) as f64 / 1e6);
    let first_lisp = first_lisp.unwrap_or(spawn).max(spawn);

    // Phase boundaries: the known marks, each kept once and in order.
    let mut bounds: Vec<(&str, u64, i64, f64, Option<f64>)> =
        vec![(FIRST_PHASE, spawn, 0, 0.0, None)];
    bounds.push(("before early-init", first_lisp, 0, 0.0, None));
    let mut last_index = 0;
    for (name, t, gc, gcs, threshold) in &marks {
        if let Some((index, (_, phase))) = PHASES
            .iter()
            .enumerate()
            .find(|(_, (mark, _))| mark == name)
        {
            if index > last_index {
                last_index = index;
                bounds.push((phase, *t, *gc, *gcs, *threshold));
            }
        }
    }
    // Thresholds: the first phases inherit the first one recorded.
    let first_threshold = bounds.iter().find_map(|b| b.4);
    let end = stop.max(first_lisp);
    let exited_during = match (settled_mark, exit_mark) {
        (None, Some(_)) => bounds.last().map(|b| b.0.to_string()),
        _ => None,
    };
    let end_gc = marks
        .iter()
        .rev()
        .find(|m| m.1 <= end)
        .map(|m| (m.2, m.3))
        .unwrap_or((0, 0.0));

    let mut phases = Vec::new();
    let mut pending = roots.into_iter().peekable();
    for (i, (name, start, gc, gcs, threshold)) in bounds.iter().enumerate() {
        let (mut stop, stop_gc, stop_gcs) = match bounds.get(i + 1) {
            Some(next) => (next.1, next.2, next.3),
            None => (end, end_gc.0, end_gc.1),
        };
        let mut node = RunNode::new(
            NodeKind::Phase,
            format!("phase:{name}"),
            name.to_string(),
            *start,
        );
        node.gc = (*gc, stop_gc.max(*gc));
        node.gc_secs = (*gcs, stop_gcs.max(*gcs));
        node.threshold = threshold.or(first_threshold);
        let last = i + 1 == bounds.len();
        while let Some(child) = pending.next_if(|c| last || c.start < stop) {
            if child.start <= end {
                node.children.push(child);
            }
        }
        if last && *name == "settle" && settled_mark.is_some() {
            // The settle window ends with the last thing it saw; without
            // activity the settle phase is empty.
            stop = node.children.iter().map(|c| c.end).max().unwrap_or(*start);
        }
        node.end = stop.max(*start);
        // The time outside any load, as a node of its own.  After the
        // first redisplay that is mostly waiting for timers.
        let gap_name = if last && *name == "settle" {
            IDLE_GAP_NAME
        } else {
            GAP_NAME
        };
        let mut gap = RunNode::new(NodeKind::Gap, "gap".into(), gap_name.into(), node.start);
        let inside: f64 = node.children.iter().map(RunNode::inclusive_ms).sum();
        let gap_ns = ((node.inclusive_ms() - inside).max(0.0) * 1e6) as u64;
        gap.end = gap.start.saturating_add(gap_ns);
        // Counts come from the child: saturate rather than overflow.
        let child_gc: i64 = node.children.iter().fold(0i64, |sum, c| {
            sum.saturating_add(c.gc.1.saturating_sub(c.gc.0))
        });
        let child_gcs: f64 = node
            .children
            .iter()
            .map(|c| c.gc_secs.1 - c.gc_secs.0)
            .sum();
        gap.gc = (
            0,
            node.gc
                .1
                .saturating_sub(node.gc.0)
                .saturating_sub(child_gc)
                .max(0),
        );
        gap.gc_secs = (0.0, (node.gc_secs.1 - node.gc_secs.0 - child_gcs).max(0.0));
        node.children.push(gap);
        phases.push(node);
    }

    let total_end = phases.last().map(|p| p.end).unwrap_or(end);
    let mut errors = Vec::new();
    for phase in &phases {
        collect_errors(phase, &mut errors);
    }
    for key in ["command-error", "stalled"] {
        if let Some(serde_json::Value::String(message)) = meta.get(key) {
            errors.push(RunError {
                place: if key == "stalled" {
                    "stalled".into()
                } else {
                    "start-up".into()
                },
                message: message.clone(),
            });
        }
    }
    let overhead_ms = match meta.get("overhead-ns").and_then(serde_json::Value::as_f64) {
        Some(ns) => ns / 1e6,
        None => native_overhead_ns as f64 / 1e6,
    };
    RunTree {
        phases,
        total_ms: total_end.saturating_sub(spawn) as f64 / 1e6,
        settled: settled_mark.is_some() && !meta.contains_key("stalled"),
        errors,
        meta,
        overhead_ms,
        blind_loads,
        open_at_end,
        exited_during,
        end_ms: Some(end_t.unwrap_or(last_t).saturating_sub(spawn) as f64 / 1e6),
        clock_skew_ms,
    }
}

/// Collects errors, innermost first: a node reports its error only when no
/// child reported the same message.
fn collect_errors(node: &RunNode, out: &mut Vec<RunError>) {
    for c in &node.children {
        collect_errors(c, out);
    }
    if let Some(message) = &node.error {
        if !out.iter().any(|e| &e.message == message) {
            out.push(RunError {
                place: node.file.clone().unwrap_or_else(|| node.name.clone()),
                message: message.clone(),
            });
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A compact way to write event streams: times in milliseconds.
    pub(crate) struct Script {
        pub(crate) events: Vec<Event>,
        gc: i64,
    }

    pub(crate) const MS: u64 = 1_000_000;
    pub(crate) const SPAWN: u64 = 1_000 * MS;

    impl Script {
        pub(crate) fn new(first_lisp_ms: u64) -> Script {
            Script {
                events: vec![Event::Start {
                    t: SPAWN + first_lisp_ms * MS,
                    clock: Clock::Monotonic,
                    pid: 1,
                    first_lisp: SPAWN + first_lisp_ms * MS,
                }],
                gc: 0,
            }
        }
        pub(crate) fn gc(&mut self, n: i64) -> &mut Self {
            self.gc += n;
            self
        }
        pub(crate) fn enter(&mut self, ms: u64, kind: &str, name: &str, via: &str) -> &mut Self {
            self.events.push(Event::Enter {
                t: SPAWN + ms * MS,
                kind: kind.into(),
                name: name.into(),
                via: via.into(),
                gc: self.gc,
                gcs: self.gc as f64 * 0.001,
            });
            self
        }
        pub(crate) fn load(&mut self, ms: u64, name: &str) -> &mut Self {
            self.enter(ms, "load", name, "require")
        }
        pub(crate) fn file(&mut self, ms: u64, path: &str) -> &mut Self {
            self.events.push(Event::File {
                t: SPAWN + ms * MS,
                path: path.into(),
            });
            self
        }
        pub(crate) fn leave_as(
            &mut self,
            ms: u64,
            kind: &str,
            found: bool,
            err: Option<&str>,
        ) -> &mut Self {
            self.events.push(Event::Leave {
                t: SPAWN + ms * MS,
                kind: kind.into(),
                found,
                err: err.map(String::from),
                gc: self.gc,
                gcs: self.gc as f64 * 0.001,
            });
            self
        }
        pub(crate) fn leave(&mut self, ms: u64) -> &mut Self {
            self.leave_as(ms, "load", true, None)
        }
        pub(crate) fn mark(&mut self, ms: u64, phase: &str) -> &mut Self {
            self.events.push(Event::Mark {
                t: SPAWN + ms * MS,
                phase: phase.into(),
                gc: self.gc,
                gcs: self.gc as f64 * 0.001,
                threshold: Some(800_000.0),
            });
            self
        }
        pub(crate) fn build(&self) -> RunTree {
            build(&self.events, SPAWN, 0, None)
        }
    }

    /// A typical start-up: early-init, init with a slow package that
    /// requires a helper, after-init-hook, window setup, redisplay.
    pub(crate) fn typical(slow_ms: u64) -> Script {
        let mut s = Script::new(30);
        s.mark(32, "early-init")
            .load(32, "/cfg/early-init")
            .file(34, "/cfg/early-init.el")
            .leave(34)
            .mark(34, "early-init-done")
            .mark(40, "before-init")
            .mark(50, "init")
            .enter(50, "load", "/cfg/init", "load")
            .file(50, "/cfg/init.el");
        let mut t = 51;
        s.load(t, "slow").gc(2);
        t += slow_ms;
        s.file(t, "/cfg/lisp/slow.elc").leave(t);
        s.load(t, "quick")
            .load(t + 1, "quick-helper")
            .file(t + 3, "/cfg/lisp/quick-helper.elc")
            .leave(t + 3)
            .file(t + 5, "/cfg/lisp/quick.elc")
            .leave(t + 5);
        t += 5;
        s.file(t + 1, "/cfg/init.el")
            .leave(t + 1)
            .mark(t + 2, "after-init")
            .mark(t + 3, "after-init-done")
            .mark(t + 10, "emacs-startup")
            .mark(t + 11, "window-setup")
            .mark(t + 12, "window-setup-done")
            .mark(t + 20, "redisplay-done")
            .mark(t + 21, "settled");
        s
    }

    fn find<'a>(nodes: &'a [RunNode], name: &str) -> Option<&'a RunNode> {
        for n in nodes {
            if n.name == name {
                return Some(n);
            }
            if let Some(found) = find(&n.children, name) {
                return Some(found);
            }
        }
        None
    }

    #[test]
    fn builds_phases_and_nested_loads() {
        let run = typical(150).build();
        let names: Vec<&str> = run.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                FIRST_PHASE,
                "before early-init",
                "early-init",
                "package activation",
                "before init",
                "init",
                "after-init-hook",
                "terminal and command line",
                "emacs-startup-hook",
                "window-setup-hook",
                "first redisplay",
                "settle"
            ]
        );
        let init = run.phases.iter().find(|p| p.name == "init").unwrap();
        let init_file = init.children.first().unwrap();
        assert_eq!(init_file.name, "init");
        assert_eq!(init_file.file.as_deref(), Some("/cfg/init.el"));
        let slow = find(&run.phases, "slow").unwrap();
        assert!((slow.inclusive_ms() - 150.0).abs() < 1e-9);
        assert_eq!(slow.gc_count(), 2.0);
        assert_eq!(slow.via.as_deref(), Some("require"));
        let quick = find(&run.phases, "quick").unwrap();
        assert_eq!(quick.children.len(), 1);
        assert!((quick.inclusive_ms() - 5.0).abs() < 1e-9);
        assert!((quick.exclusive_ms() - 3.0).abs() < 1e-9);
        // Total = spawn to settled; phases add up to it.
        let sum: f64 = run.phases.iter().map(RunNode::inclusive_ms).sum();
        assert!(
            (run.total_ms - sum).abs() < 1e-6,
            "{} vs {sum}",
            run.total_ms
        );
        assert!((run.phases[0].inclusive_ms() - 30.0).abs() < 1e-9);
        assert!(run.settled);
        assert!(run.errors.is_empty());
        // Early-init is its own phase, with the early-init file in it.
        let early = run.phases.iter().find(|p| p.name == "early-init").unwrap();
        assert_eq!(early.children.first().unwrap().name, "early-init");
    }

    #[test]
    fn every_phase_has_a_gap_node_for_time_outside_loads() {
        let run = typical(150).build();
        for phase in &run.phases {
            let gap = phase.children.last().unwrap();
            assert_eq!(gap.kind, NodeKind::Gap);
            let inside: f64 = phase.children.iter().map(RunNode::inclusive_ms).sum();
            assert!(
                (inside - phase.inclusive_ms()).abs() < 1e-6,
                "{}",
                phase.name
            );
        }
        let init = run.phases.iter().find(|p| p.name == "init").unwrap();
        let gap = init.children.last().unwrap();
        assert!(gap.inclusive_ms() < 1.0 + 1e-9);
    }

    #[test]
    fn an_error_leaves_a_partial_tree_with_the_error() {
        let mut s = Script::new(30);
        s.mark(40, "init")
            .enter(40, "load", "/cfg/init", "load")
            .file(40, "/cfg/init.el")
            .load(41, "quick")
            .file(43, "/cfg/quick.elc")
            .leave(43)
            .load(44, "broken")
            .file(44, "/cfg/broken.el")
            .leave_as(46, "load", false, Some("Deliberate failure"))
            .leave_as(46, "load", false, Some("Deliberate failure"))
            .mark(47, "after-init")
            .mark(60, "redisplay-done")
            .mark(61, "settled");
        let run = s.build();
        assert_eq!(run.errors.len(), 1);
        assert_eq!(run.errors[0].place, "/cfg/broken.el");
        assert_eq!(run.errors[0].message, "Deliberate failure");
        let init = find(&run.phases, "init").unwrap();
        assert_eq!(init.kind, NodeKind::Phase);
        let file = init.children.first().unwrap();
        assert_eq!(file.children.len(), 2);
        assert!(run.settled);
    }

    #[test]
    fn unbalanced_streams_are_closed_at_the_end() {
        // The child was killed in the middle of a load.
        let mut s = Script::new(30);
        s.mark(40, "init")
            .enter(40, "load", "/cfg/init", "load")
            .file(40, "/cfg/init.el")
            .load(41, "hangs")
            .file(41, "/cfg/hangs.el")
            .mark(500, "unknown-mark");
        let run = s.build();
        assert!(!run.settled);
        assert_eq!(run.open_at_end, vec!["/cfg/init.el", "/cfg/hangs.el"]);
        let hangs = find(&run.phases, "hangs").unwrap();
        assert!(hangs.incomplete);
        assert!((hangs.inclusive_ms() - 459.0).abs() < 1e-9);
        assert!((run.total_ms - 500.0).abs() < 1e-9);
    }

    #[test]
    fn a_killed_run_ends_when_the_harness_saw_it_die() {
        // init.el loops: its last flushed event is at 41 ms, the harness
        // killed it at 3000 ms.
        let mut s = Script::new(30);
        s.mark(40, "init")
            .enter(40, "load", "/cfg/init", "load")
            .file(41, "/cfg/init.el");
        let run = build(&s.events, SPAWN, 0, Some(SPAWN + 3000 * MS));
        assert!(!run.settled);
        assert!(run.exited_during.is_none());
        let init = find(&run.phases, "init").unwrap();
        let file = &init.children[0];
        assert!(file.incomplete);
        assert!(
            (file.inclusive_ms() - 2960.0).abs() < 1e-9,
            "{}",
            file.inclusive_ms()
        );
        assert!((run.total_ms - 3000.0).abs() < 1e-9, "{}", run.total_ms);
        // The same stream read without the harness's time ends at its
        // last event.
        assert!((s.build().total_ms - 41.0).abs() < 1e-9);
    }

    #[test]
    fn a_configuration_that_exits_by_itself_ends_at_its_exit_mark() {
        let mut s = Script::new(30);
        s.mark(32, "early-init")
            .mark(34, "early-init-done")
            .mark(40, "before-init")
            .mark(50, "init")
            .enter(50, "load", "/cfg/init", "load")
            .file(51, "/cfg/init.el")
            .mark(70, "exit");
        let run = build(&s.events, SPAWN, 0, Some(SPAWN + 90 * MS));
        assert!(!run.settled);
        assert_eq!(run.exited_during.as_deref(), Some("init"));
        let file = find(&run.phases, "init").unwrap().children[0].clone();
        assert_eq!(file.name, "init");
        assert!((file.inclusive_ms() - 20.0).abs() < 1e-9);
        assert!((run.total_ms - 70.0).abs() < 1e-9, "{}", run.total_ms);
    }

    #[test]
    fn calibration_events_never_reach_the_tree() {
        // Start-up stalled inside init.el (a question), then the probe
        // calibrated itself with init.el still open.
        let mut s = Script::new(30);
        s.mark(40, "init")
            .enter(40, "load", "/cfg/init", "load")
            .file(40, "/cfg/init.el");
        for i in 0..50 {
            s.enter(3000 + i, "load", CALIBRATION_FILE, "")
                .leave(3000 + i);
            s.events.push(Event::Loaded {
                t: SPAWN + (3000 + i) * MS,
                path: CALIBRATION_FILE.into(),
                gc: 0,
                gcs: 0.0,
            });
            s.mark(3000 + i, "calibration");
        }
        s.mark(2990, "settled");
        let run = s.build();
        let init = find(&run.phases, "init").unwrap();
        let file = &init.children[0];
        assert!(file.children.is_empty(), "{:?}", file.children);
        assert!(file.incomplete);
        assert_eq!(file.end, SPAWN + 2990 * MS, "closed at the settled mark");
    }

    #[test]
    fn a_child_clock_before_the_spawn_is_reported() {
        let mut s = Script::new(10);
        if let Some(Event::Start { first_lisp, .. }) = s.events.first_mut() {
            *first_lisp = SPAWN - 5 * MS;
        }
        s.mark(20, "settled");
        assert_eq!(s.build().clock_skew_ms, Some(5.0));
        assert_eq!(typical(150).build().clock_skew_ms, None);
    }

    #[test]
    fn a_leave_closes_inner_nodes_left_open() {
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "load", "outer", "load")
            .enter(11, "use-package", "pkg", "")
            .enter(12, "config", "pkg", "")
            .leave(20) // the load ends while the config section is open
            .mark(21, "settled");
        let run = s.build();
        let outer = find(&run.phases, "outer").unwrap();
        assert!(!outer.incomplete);
        let block = find(&run.phases, "use-package pkg").unwrap();
        assert!(block.incomplete);
        let config = find(&run.phases, "pkg :config").unwrap();
        assert!(config.incomplete);
        assert_eq!(config.end, SPAWN + 20 * MS);
    }

    #[test]
    fn use_package_init_sections_end_where_the_package_loads() {
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "use-package", "pkg", "")
            .enter(11, "init", "pkg", "")
            .load(12, "/cfg/init-dep") // loaded by the :init body
            .leave(13)
            .load(14, "/cfg/pkg")
            .leave(20)
            .enter(20, "config", "pkg", "")
            .leave_as(25, "config", true, None)
            .leave_as(26, "init", true, None)
            .leave_as(26, "use-package", true, None)
            .mark(27, "settled");
        let run = s.build();
        let block = find(&run.phases, "use-package pkg").unwrap();
        let names: Vec<&str> = block.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["pkg :init", "pkg", "pkg :config"]);
        let init = &block.children[0];
        assert_eq!(init.children[0].name, "init-dep");
        assert!((init.inclusive_ms() - 3.0).abs() < 1e-9);
        assert!((block.inclusive_ms() - 16.0).abs() < 1e-9);
    }

    #[test]
    fn after_load_forms_belong_to_their_load() {
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "load", "/cfg/init.el", "load")
            .enter(11, "load", "/cfg/a.elc", "require")
            .leave(14)
            .enter(14, "after-load", "/cfg/a.elc", "")
            .enter(15, "load", "/cfg/b.elc", "load")
            .leave(17)
            .enter(17, "after-load", "/cfg/b.elc", "")
            .leave_as(17, "after-load", true, None)
            .leave_as(18, "after-load", true, None)
            // A load that fails: no after-load follows, the error stays.
            .enter(18, "load", "/cfg/bad.el", "require")
            .leave_as(19, "load", true, Some("Boom"))
            .leave_as(19, "load", true, Some("Boom"))
            .mark(20, "settled");
        let run = s.build();
        let a = find(&run.phases, "a").unwrap();
        assert!((a.inclusive_ms() - 7.0).abs() < 1e-9);
        assert_eq!(a.children.len(), 1);
        assert_eq!(a.children[0].name, "b");
        assert!(a.error.is_none());
        assert!(find(&run.phases, "b").unwrap().error.is_none());
        assert_eq!(run.errors.len(), 1);
        assert_eq!(run.errors[0].place, "/cfg/bad.el");
    }

    #[test]
    fn after_load_functions_close_the_load_with_its_after_load_forms() {
        let loaded = |s: &mut Script, ms: u64, path: &str| {
            s.events.push(Event::Loaded {
                t: SPAWN + ms * MS,
                path: path.into(),
                gc: 0,
                gcs: 0.0,
            });
        };
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "load", "/cfg/init.el", "load")
            .enter(11, "load", "/cfg/a.elc", "require")
            .leave_as(14, "load", true, Some("a caught error inside a"));
        // eval-after-load forms of a load b.
        s.enter(14, "load", "/cfg/b.elc", "load").leave(16);
        loaded(&mut s, 16, "/cfg/b.elc");
        loaded(&mut s, 17, "/cfg/a.elc");
        // A load that fails: no after-load-functions, the error stays.
        s.enter(18, "load", "/cfg/bad.el", "require")
            .leave_as(19, "load", true, Some("Boom"))
            .leave_as(19, "load", true, Some("Boom"));
        loaded(&mut s, 19, "/unknown/probe.elc");
        s.mark(20, "settled");
        let run = s.build();
        let a = find(&run.phases, "a").unwrap();
        assert!((a.inclusive_ms() - 6.0).abs() < 1e-9);
        assert_eq!(a.children.len(), 1);
        assert_eq!(a.children[0].name, "b");
        assert!(a.error.is_none() && a.finished);
        assert_eq!(run.errors.len(), 1, "{:?}", run.errors);
        assert_eq!(run.errors[0].place, "/cfg/bad.el");
        assert_eq!(run.blind_loads, 0);
    }

    #[test]
    fn autoload_triggered_loads_nest_where_they_happen() {
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "load", "/cfg/init", "load")
            .file(10, "/cfg/init.el")
            .enter(12, "load", "auto-lib", "autoload auto-hello")
            .file(15, "/cfg/auto-lib.elc")
            .leave(15)
            .leave(16)
            .mark(17, "settled");
        let run = s.build();
        let auto = find(&run.phases, "auto-lib").unwrap();
        assert_eq!(auto.via.as_deref(), Some("autoload auto-hello"));
        let init = find(&run.phases, "init").unwrap();
        assert_eq!(init.children[0].children[0].name, "auto-lib");
    }

    #[test]
    fn missing_files_fold_into_the_parent() {
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "load", "/cfg/init", "load")
            .file(10, "/cfg/init.el")
            .load(11, "nope")
            .leave_as(12, "load", false, None)
            .leave(13)
            .mark(14, "settled");
        let run = s.build();
        let init_file = &run
            .phases
            .iter()
            .find(|p| p.name == "init")
            .unwrap()
            .children[0];
        assert!(init_file.children.is_empty());
        assert_eq!(init_file.missing_loads, 1);
        assert!((init_file.exclusive_ms() - 3.0).abs() < 1e-9);
    }

    #[test]
    fn blind_loads_are_counted() {
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "load", "/cfg/init", "load")
            .file(11, "/cfg/unseen.elc") // its start is missing
            .file(12, "/cfg/init.el")
            .leave(13)
            .mark(14, "settled");
        let run = s.build();
        assert_eq!(
            run.blind_loads, 1,
            "a file is only given to a load of its name"
        );
        assert_eq!(
            find(&run.phases, "init").unwrap().children[0]
                .file
                .as_deref(),
            Some("/cfg/init.el")
        );
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "load", "/cfg/init", "load")
            .file(11, "/cfg/init.el")
            .file(12, "/cfg/unseen.elc")
            .leave(13)
            .mark(14, "settled");
        let run = s.build();
        assert_eq!(run.blind_loads, 1);
        assert!(find(&run.phases, "unseen").unwrap().blind);
    }

    #[test]
    fn lisp_clock_streams_are_mapped_onto_the_monotonic_clock() {
        let real0 = 1_700_000_000_000 * MS;
        let events = vec![
            Event::Start {
                t: real0 + 20 * MS,
                clock: Clock::Realtime,
                pid: 1,
                first_lisp: real0 + 20 * MS,
            },
            Event::Mark {
                t: real0 + 30 * MS,
                phase: "init".into(),
                gc: 0,
                gcs: 0.0,
                threshold: None,
            },
            Event::Mark {
                t: real0 + 90 * MS,
                phase: "settled".into(),
                gc: 0,
                gcs: 0.0,
                threshold: None,
            },
        ];
        let run = build(&events, SPAWN, real0, None);
        assert!((run.total_ms - 90.0).abs() < 1e-6, "{}", run.total_ms);
        assert!((run.phases[0].inclusive_ms() - 20.0).abs() < 1e-6);
    }

    #[test]
    fn marks_out_of_order_are_ignored() {
        let mut s = Script::new(10);
        s.mark(20, "init")
            .mark(25, "early-init") // cannot come after init
            .mark(30, "after-init")
            .mark(40, "settled");
        let run = s.build();
        let names: Vec<&str> = run.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            vec![FIRST_PHASE, "before early-init", "init", "after-init-hook"]
        );
    }

    #[test]
    fn library_names_drop_directories_suffixes_and_native_hashes() {
        assert_eq!(
            library_name("/usr/share/emacs/28.2/lisp/org/org.elc"),
            "org"
        );
        assert_eq!(library_name("/a/subr-x.el.gz"), "subr-x");
        assert_eq!(
            library_name("/e/eln-cache/magit-status-1a2b3c4d-5e6f7a8b.eln"),
            "magit-status"
        );
        assert_eq!(library_name("~/.emacs.d/init"), "init");
        assert_eq!(library_name("foo-bar.eln"), "foo-bar");
    }
}
