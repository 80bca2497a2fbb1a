//! Hints: what the data says could make start-up faster, each with the
//! evidence behind it.
//!
//! Every hint is derived from the merged profile and from facts the child
//! reported once start-up settled (`meta` events): which start-up libraries
//! other libraries require, which of their functions are on a hook, an
//! enabled mode, a timer or an advice, the final `gc-cons-threshold`, and so
//! on.  Thresholds are deliberately conservative: a hint should be worth
//! acting on.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::profile::{Node, Profile};
use super::tree::{library_name, NodeKind};

/// A hint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hint {
    /// Kind of hint: `deferrable`, `gc-during-startup`, `uncompiled`,
    /// `package-activation`, `gc-threshold-high`, `slow-hook`,
    /// `blind-loads` or `probe-overhead`.
    pub id: String,
    /// One line.
    pub title: String,
    /// The explanation: what was seen and what to do.
    pub detail: String,
    /// Roughly how much start-up time acting on it could save.
    #[serde(default)]
    pub saving_ms: Option<f64>,
    /// The libraries concerned.
    #[serde(default)]
    pub files: Vec<String>,
}

/// Thresholds of the hints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// A library must take at least this long to be worth deferring.
    pub defer_min_ms: f64,
    /// Garbage collection during start-up worth a hint, milliseconds...
    pub gc_min_ms: f64,
    /// ... or as a share of the total.
    pub gc_min_share: f64,
    /// Package activation slower than this is worth a hint.
    pub package_activation_ms: f64,
    /// A `gc-cons-threshold` left above this after start-up is worth a hint.
    pub high_threshold: f64,
    /// Hook time outside loads worth a hint.
    pub hook_ms: f64,
    /// The probe's overhead budget, as a share of the total.
    pub overhead_share: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            defer_min_ms: 3.0,
            gc_min_ms: 10.0,
            gc_min_share: 0.05,
            package_activation_ms: 30.0,
            high_threshold: 100_000_000.0,
            hook_ms: 20.0,
            overhead_share: 0.03,
        }
    }
}

/// Facts reported by the child, parsed from its `meta` events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The user's init, early-init and custom files.
    pub config_files: Vec<String>,
    /// Library name -> why it counts as used at start-up.
    pub usage: HashMap<String, String>,
    /// Library name -> features it provides.
    pub provides: HashMap<String, Vec<String>>,
    /// Library name -> features it required while loading.
    pub requires: HashMap<String, Vec<String>>,
    /// Whether `package-quickstart` was on.
    pub package_quickstart: bool,
    /// Number of activated packages.
    pub packages: usize,
    /// `gc-cons-threshold` once start-up settled.
    pub final_threshold: Option<f64>,
    /// Functions on the start-up hooks, by hook.
    pub hooks: BTreeMap<String, Vec<String>>,
    /// Emacs' own Lisp and data directories.
    pub emacs_directories: Vec<String>,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        serde_json::Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

impl Facts {
    /// Parses the facts from a run's metadata.
    pub fn from_meta(meta: &BTreeMap<String, serde_json::Value>) -> Facts {
        let mut facts = Facts::default();
        for key in ["user-init-file", "early-init-file", "custom-file"] {
            if let Some(serde_json::Value::String(f)) = meta.get(key) {
                facts.config_files.push(f.clone());
            }
        }
        if let Some(serde_json::Value::Array(items)) = meta.get("usage") {
            for item in items {
                let pair = strings(item);
                if let [path, reason, ..] = pair.as_slice() {
                    facts
                        .usage
                        .entry(library_name(path))
                        .or_insert_with(|| reason.clone());
                }
            }
        }
        if let Some(serde_json::Value::Array(items)) = meta.get("deps") {
            for item in items {
                let serde_json::Value::Array(parts) = item else {
                    continue;
                };
                let Some(path) = parts.first().and_then(|p| p.as_str()) else {
                    continue;
                };
                let name = library_name(path);
                if let Some(p) = parts.get(1) {
                    facts.provides.insert(name.clone(), strings(p));
                }
                if let Some(r) = parts.get(2) {
                    facts.requires.insert(name, strings(r));
                }
            }
        }
        facts.package_quickstart = matches!(
            meta.get("package-quickstart"),
            Some(serde_json::Value::Bool(true))
        );
        facts.packages = meta.get("packages").map(|p| strings(p).len()).unwrap_or(0);
        facts.final_threshold = meta.get("gc-cons-threshold").and_then(|v| v.as_f64());
        facts.emacs_directories = meta
            .get("emacs-directories")
            .map(strings)
            .unwrap_or_default()
            .into_iter()
            .filter(|d| !d.is_empty())
            .collect();
        match meta.get("hooks") {
            Some(serde_json::Value::Object(hooks)) => {
                for (hook, functions) in hooks {
                    facts.hooks.insert(hook.clone(), strings(functions));
                }
            }
            // From Lisp: ((HOOK FUNCTION...) ...).
            Some(serde_json::Value::Array(hooks)) => {
                for entry in hooks {
                    if let [hook, functions @ ..] = strings(entry).as_slice() {
                        facts.hooks.insert(hook.clone(), functions.to_vec());
                    }
                }
            }
            _ => {}
        }
        facts
    }

    /// Whether a source file is one that is meant to be loaded as source:
    /// Emacs' own data files and themes, site start-up files, autoloads,
    /// package descriptions and themes.
    fn source_by_design(&self, file: &str) -> bool {
        let base = file.rsplit('/').next().unwrap_or(file);
        let base = base.strip_suffix(".gz").unwrap_or(base);
        ["subdirs.el", "leim-list.el"].contains(&base)
            || ["-autoloads.el", "-pkg.el", "loaddefs.el", "-theme.el"]
                .iter()
                .any(|s| base.ends_with(s))
            || file.starts_with("/etc/")
            || self
                .emacs_directories
                .iter()
                .any(|d| file.starts_with(d.as_str()))
    }

    /// Whether `file` is one of Emacs' own (its Lisp or data directories).
    pub fn is_emacs_file(&self, file: &str) -> bool {
        self.emacs_directories
            .iter()
            .any(|d| file.starts_with(d.as_str()))
    }

    /// Whether `file` is one of the configuration's init files.
    pub fn is_config_file(&self, file: &str) -> bool {
        let base = strip_ext(file);
        self.config_files.iter().any(|c| strip_ext(c) == base)
    }
}

fn strip_ext(file: &str) -> &str {
    let file = file.strip_suffix(".gz").unwrap_or(file);
    file.strip_suffix(".elc")
        .or_else(|| file.strip_suffix(".el"))
        .unwrap_or(file)
}

fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0} ms")
    } else if x >= 10.0 {
        format!("{x:.1} ms")
    } else {
        format!("{x:.2} ms")
    }
}

/// Whether a node is the user's configuration rather than a library: the
/// init files, files the configuration loads with `load` from its own
/// directory (outside package folders), and use-package blocks.
fn is_config(node: &Node, facts: &Facts, init_dir: &str) -> bool {
    match node.kind {
        NodeKind::UsePackage | NodeKind::Init | NodeKind::Config => true,
        NodeKind::Load => match &node.file {
            Some(file) => {
                facts.is_config_file(file)
                    || (node.via.as_deref() == Some("load")
                        && !init_dir.is_empty()
                        && file.strip_prefix(init_dir).is_some_and(|rest| {
                            !["elpa/", "straight/", "eln-cache/", "el-get/", "quelpa/"]
                                .iter()
                                .any(|d| rest.starts_with(d))
                        }))
            }
            None => false,
        },
        _ => false,
    }
}

fn subtree_libraries(node: &Node, out: &mut HashSet<String>) {
    if let Some(file) = &node.file {
        out.insert(library_name(file));
    }
    for c in &node.children {
        subtree_libraries(c, out);
    }
}

/// Start-up libraries that require one of `features`, outside `exclude`
/// and the configuration itself.
fn required_by(
    features: &[String],
    exclude: &HashSet<String>,
    facts: &Facts,
    config_names: &HashSet<String>,
) -> Option<String> {
    facts
        .requires
        .iter()
        .filter(|(lib, _)| !exclude.contains(*lib) && !config_names.contains(*lib))
        .find(|(_, reqs)| reqs.iter().any(|r| features.contains(r)))
        .map(|(lib, _)| lib.clone())
}

fn deferrable(profile: &Profile, facts: &Facts, settings: &Settings, out: &mut Vec<Hint>) {
    let init_dir = profile.init_directory.as_str();
    let config_names: HashSet<String> =
        facts.config_files.iter().map(|f| library_name(f)).collect();
    let mut found: Vec<(f64, Hint)> = Vec::new();
    let mut seen = HashSet::new();
    for phase in &profile.tree {
        phase.walk(0, &mut |parent, _| {
            if !is_config(parent, facts, init_dir) {
                return;
            }
            for child in &parent.children {
                let Some(file) = &child.file else { continue };
                if child.kind != NodeKind::Load
                    || child.via.as_deref() != Some("require")
                    || is_config(child, facts, init_dir)
                    || !seen.insert(file.clone())
                {
                    continue;
                }
                let time = child.median_inclusive();
                if time < settings.defer_min_ms {
                    continue;
                }
                let mut subtree = HashSet::new();
                subtree_libraries(child, &mut subtree);
                if subtree.iter().any(|lib| facts.usage.contains_key(lib)) {
                    continue;
                }
                let name = library_name(file);
                let features = facts
                    .provides
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| vec![name.clone()]);
                if required_by(&features, &subtree, facts, &config_names).is_some() {
                    continue;
                }
                let by = parent
                    .file
                    .as_deref()
                    .and_then(|f| f.rsplit('/').next())
                    .unwrap_or(&parent.name)
                    .to_string();
                let how = if matches!(
                    parent.kind,
                    NodeKind::UsePackage | NodeKind::Config | NodeKind::Init
                ) {
                    "its use-package block loads it at once: add `:defer t` (or `:commands`, \
                     `:hook`, `:bind`, which imply it) so that it loads on first use"
                        .to_string()
                } else {
                    format!(
                        "replace (require '{name}) in {by} with autoloads for its commands \
                         (most packages have them) and put its settings in \
                         (with-eval-after-load '{name} ...)"
                    )
                };
                let hint = Hint {
                    id: "deferrable".into(),
                    title: format!("{name} could be loaded later ({})", ms(time)),
                    detail: format!(
                        "{name} ({}) is loaded eagerly by {by}, but nothing during \
                         start-up used it: the init files call none of its functions \
                         or macros and put none of them on a hook, a timer or an \
                         advice, none of its modes is enabled, and no other library \
                         loaded at start-up requires it.  What it sets up for itself \
                         when it loads (functions on hooks, advice) would be set up \
                         when it loads later.  To defer it, {how}.",
                        ms(time)
                    ),
                    saving_ms: Some(time),
                    files: vec![file.clone()],
                };
                found.push((time, hint));
            }
        });
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.extend(found.into_iter().take(10).map(|(_, h)| h));
}

/// The phases during which the configuration's `gc-cons-threshold' (as
/// set in early-init.el) is in force: after early-init and before the
/// start-up hooks, which is when a configuration typically restores it.
const CONFIG_PHASES: &[&str] = &[
    "early-init",
    "package activation",
    "before init",
    "init",
    "after-init-hook",
    "terminal and command line",
];

fn gc_during_startup(profile: &Profile, settings: &Settings, out: &mut Vec<Hint>) {
    let phases: Vec<&Node> = profile
        .tree
        .iter()
        .filter(|n| n.kind == NodeKind::Phase && CONFIG_PHASES.contains(&n.name.as_str()))
        .collect();
    let count: f64 = phases.iter().map(|p| p.median_gc_count()).sum();
    let gc_ms: f64 = phases.iter().map(|p| p.median_gc_ms()).sum();
    let total = profile.total_ms();
    if count < 1.0 || (gc_ms < settings.gc_min_ms && gc_ms < settings.gc_min_share * total) {
        return;
    }
    let worst = phases
        .iter()
        .max_by(|a, b| a.median_gc_ms().total_cmp(&b.median_gc_ms()))
        .map(|p| format!(" (most of it during {}: {})", p.name, ms(p.median_gc_ms())))
        .unwrap_or_default();
    let threshold = profile
        .phase("init")
        .and_then(|p| p.threshold)
        .map(|t| format!("; `gc-cons-threshold' was {t:.0} during init"))
        .unwrap_or_default();
    out.push(Hint {
        id: "gc-during-startup".into(),
        title: format!(
            "{count:.0} garbage collections took {} while loading the configuration",
            ms(gc_ms)
        ),
        detail: format!(
            "Emacs collected garbage {count:.0} times between early-init and \
             `emacs-startup-hook', for {} \
             ({:.1}% of start-up){worst}{threshold}.  Start-up allocates a lot that \
             lives long, so these collections free little.  Raise the threshold \
             while starting and restore it afterwards, in early-init.el:\n\
             (setq gc-cons-threshold most-positive-fixnum)\n\
             (add-hook 'emacs-startup-hook\n\
             \x20         (lambda () (setq gc-cons-threshold (* 16 1024 1024))))",
            ms(gc_ms),
            100.0 * gc_ms / total.max(1e-9)
        ),
        saving_ms: Some(gc_ms),
        files: Vec::new(),
    });
}

fn uncompiled(profile: &Profile, facts: &Facts, out: &mut Vec<Hint>) {
    let mut found: Vec<(f64, String)> = Vec::new();
    let mut seen = HashSet::new();
    for phase in &profile.tree {
        phase.walk(0, &mut |node, _| {
            if let Some(file) = &node.file {
                let source = file.ends_with(".el") || file.ends_with(".el.gz");
                if node.kind == NodeKind::Load
                    && source
                    && !facts.is_config_file(file)
                    && !facts.source_by_design(file)
                    && seen.insert(file.clone())
                {
                    found.push((node.median_inclusive(), file.clone()));
                }
            }
        });
    }
    if found.is_empty() {
        return;
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = found.iter().map(|f| f.0).sum();
    let list: Vec<String> = found
        .iter()
        .take(10)
        .map(|(t, f)| format!("  {f} ({})", ms(*t)))
        .collect();
    out.push(Hint {
        id: "uncompiled".into(),
        title: format!(
            "{} librar{} loaded from source ({})",
            found.len(),
            if found.len() == 1 { "y" } else { "ies" },
            ms(total)
        ),
        detail: format!(
            "These libraries were loaded as .el files, so Emacs read and \
             macro-expanded their source and runs them interpreted, which is \
             several times slower than byte-compiled code:\n{}\nByte-compile them \
             (M-x byte-recompile-directory, or `make' for a package checkout), or \
             check that an older .elc is not being skipped.",
            list.join("\n")
        ),
        saving_ms: None,
        files: found.into_iter().map(|f| f.1).collect(),
    });
}

fn package_activation(profile: &Profile, facts: &Facts, settings: &Settings, out: &mut Vec<Hint>) {
    let mut activation: Option<&Node> = None;
    for phase in &profile.tree {
        phase.walk(0, &mut |node, _| {
            if node.kind == NodeKind::Call
                && node.name == "package-activate-all"
                && activation.is_none()
            {
                activation = Some(node);
            }
        });
    }
    let Some(node) = activation else { return };
    let time = node.median_inclusive();
    if time < settings.package_activation_ms || facts.package_quickstart {
        return;
    }
    out.push(Hint {
        id: "package-activation".into(),
        title: format!("Activating packages took {}", ms(time)),
        detail: format!(
            "package-activate-all took {} activating {} packages: it reads every \
             package's description and autoloads file.  With \
             (setq package-quickstart t) in early-init.el, Emacs concatenates them \
             into one precomputed file, refreshed whenever you install or update \
             packages.",
            ms(time),
            facts.packages
        ),
        saving_ms: Some(time * 0.5),
        files: Vec::new(),
    });
}

fn gc_threshold_high(facts: &Facts, settings: &Settings, out: &mut Vec<Hint>) {
    let Some(threshold) = facts.final_threshold else {
        return;
    };
    if threshold < settings.high_threshold {
        return;
    }
    out.push(Hint {
        id: "gc-threshold-high".into(),
        title: format!("gc-cons-threshold is still {threshold:.0} after start-up"),
        detail: format!(
            "Once start-up settled, `gc-cons-threshold' was {threshold:.0} ({:.0} MB).  \
             Raising it for start-up is good, but left that high Emacs collects \
             rarely and then pauses for a long time, and memory grows.  Restore a \
             moderate value in `emacs-startup-hook', such as 16 MB.  \
             M-x artisan-gc-monitor-mode measures what suits your sessions.",
            threshold / 1e6
        ),
        saving_ms: None,
        files: Vec::new(),
    });
}

fn slow_hooks(profile: &Profile, facts: &Facts, settings: &Settings, out: &mut Vec<Hint>) {
    for hook in ["after-init-hook", "emacs-startup-hook", "window-setup-hook"] {
        let Some(phase) = profile.phase(hook) else {
            continue;
        };
        // The functions' own time: a collection that happens to run there
        // (often the one a configuration triggers by lowering the
        // threshold again) is not theirs.
        let gap = phase
            .children
            .iter()
            .find(|c| c.kind == NodeKind::Gap)
            .map(|g| crate::startup::stats::median(&g.inclusive_net_or_zero()).unwrap_or(0.0))
            .unwrap_or(0.0);
        if gap < settings.hook_ms {
            continue;
        }
        let functions = facts
            .hooks
            .get(hook)
            .filter(|f| !f.is_empty())
            .map(|f| format!("  Its functions: {}.", f.join(", ")))
            .unwrap_or_default();
        out.push(Hint {
            id: "slow-hook".into(),
            title: format!("{hook} ran code for {} outside any load", ms(gap)),
            detail: format!(
                "The functions on `{hook}' ran for {} without loading anything (not \
                 counting garbage collection): the time is in the functions \
                 themselves.{functions}  Check which is slow \
                 with M-x profiler-start around them, or run it later from an idle \
                 timer.",
                ms(gap)
            ),
            saving_ms: None,
            files: Vec::new(),
        });
    }
}

fn blind_loads(profile: &Profile, out: &mut Vec<Hint>) {
    let mut blind = Vec::new();
    for phase in &profile.tree {
        phase.walk(0, &mut |node, _| {
            if node.blind {
                if let Some(f) = &node.file {
                    blind.push(f.clone());
                }
            }
        });
    }
    if blind.is_empty() {
        return;
    }
    out.push(Hint {
        id: "blind-loads".into(),
        title: format!("{} loads could not be timed", blind.len()),
        detail: "The event stream has the file of each of these loads but not its \
                 start, so only the moment they finished is known; their time is \
                 counted in their parent."
            .to_string(),
        saving_ms: None,
        files: blind,
    });
}

fn probe_overhead(profile: &Profile, settings: &Settings, out: &mut Vec<Hint>) {
    let total = profile.total_ms();
    let overhead = profile.overhead_ms();
    if total <= 0.0 || overhead <= settings.overhead_share * total {
        return;
    }
    out.push(Hint {
        id: "probe-overhead".into(),
        title: format!(
            "The probe's own cost was {:.1}% of start-up",
            100.0 * overhead / total
        ),
        detail: format!(
            "Recording took about {} of {} ({:.1}%, above the {:.0}% budget): the \
             configuration loads very many files, or the probe could not use its \
             native recorder.  Relative times remain meaningful.",
            ms(overhead),
            ms(total),
            100.0 * overhead / total,
            100.0 * settings.overhead_share
        ),
        saving_ms: None,
        files: Vec::new(),
    });
}

/// Derives the hints for `profile` from the child's `facts`.
pub fn hints(profile: &Profile, facts: &Facts, settings: &Settings) -> Vec<Hint> {
    let mut out = Vec::new();
    deferrable(profile, facts, settings, &mut out);
    gc_during_startup(profile, settings, &mut out);
    package_activation(profile, facts, settings, &mut out);
    uncompiled(profile, facts, &mut out);
    gc_threshold_high(facts, settings, &mut out);
    slow_hooks(profile, facts, settings, &mut out);
    blind_loads(profile, &mut out);
    probe_overhead(profile, settings, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::startup::compare::tests::profile_of;
    use crate::startup::tree::tests::{typical, Script};
    use serde_json::json;

    fn facts(extra: &[(&str, serde_json::Value)]) -> Facts {
        let mut meta = BTreeMap::new();
        meta.insert("user-init-file".to_string(), json!("/cfg/init.el"));
        meta.insert("early-init-file".to_string(), json!("/cfg/early-init.el"));
        for (k, v) in extra {
            meta.insert(k.to_string(), v.clone());
        }
        Facts::from_meta(&meta)
    }

    fn ids(hints: &[Hint]) -> Vec<&str> {
        hints.iter().map(|h| h.id.as_str()).collect()
    }

    #[test]
    fn an_unused_eager_package_is_deferrable_and_a_used_one_is_not() {
        let p = profile_of(&[typical(150).build(), typical(150).build()]);
        // quick's helper is on a hook; slow is used by nothing.
        let f = facts(&[(
            "usage",
            json!([["/cfg/lisp/quick-helper.elc", "after-init-hook: quick-setup"]]),
        )]);
        let h = hints(&p, &f, &Settings::default());
        let deferrable: Vec<&Hint> = h.iter().filter(|h| h.id == "deferrable").collect();
        assert_eq!(deferrable.len(), 1, "{h:#?}");
        assert_eq!(deferrable[0].files, vec!["/cfg/lisp/slow.elc"]);
        assert!(deferrable[0]
            .title
            .starts_with("slow could be loaded later"));
        assert!(deferrable[0].detail.contains("with-eval-after-load"));
        assert_eq!(deferrable[0].saving_ms, Some(150.0));
    }

    #[test]
    fn a_package_another_library_requires_is_not_deferrable() {
        let p = profile_of(&[typical(150).build()]);
        let f = facts(&[(
            "deps",
            json!([
                ["/cfg/lisp/slow.elc", ["slow"], []],
                ["/elpa/other.elc", ["other"], ["slow"]]
            ]),
        )]);
        let h = hints(&p, &f, &Settings::default());
        assert!(
            !h.iter()
                .any(|h| h.id == "deferrable" && h.files[0].contains("slow")),
            "{h:#?}"
        );
        // The init file requiring it does not count.
        let f = facts(&[(
            "deps",
            json!([
                ["/cfg/init.el", ["init"], ["slow"]],
                ["/cfg/lisp/slow.elc", ["slow"], []]
            ]),
        )]);
        let h = hints(&p, &f, &Settings::default());
        assert!(h
            .iter()
            .any(|h| h.id == "deferrable" && h.files[0].contains("slow")));
    }

    #[test]
    fn small_packages_are_not_worth_deferring() {
        let p = profile_of(&[typical(2).build()]);
        let h = hints(&p, &facts(&[]), &Settings::default());
        assert!(
            !h.iter()
                .any(|h| h.id == "deferrable" && h.files[0].contains("slow")),
            "{h:#?}"
        );
    }

    #[test]
    fn garbage_collection_during_start_up_is_reported() {
        let mut s = Script::new(10);
        s.mark(10, "init").load(10, "alloc").gc(30);
        s.file(100, "/cfg/alloc.elc")
            .leave(100)
            .mark(101, "settled");
        let p = profile_of(&[s.build()]);
        let h = hints(&p, &facts(&[]), &Settings::default());
        let gc = h.iter().find(|h| h.id == "gc-during-startup").unwrap();
        assert!(
            gc.title.starts_with("30 garbage collections"),
            "{}",
            gc.title
        );
        assert!(gc.detail.contains("during init"), "{}", gc.detail);
        assert!(gc.detail.contains("most-positive-fixnum"));
        // No GC, no hint.
        let p = profile_of(&[typical(150).build()]);
        let h = hints(&p, &facts(&[]), &Settings::default());
        assert!(!ids(&h).contains(&"gc-during-startup"));
    }

    #[test]
    fn libraries_loaded_from_source_are_listed_but_not_the_init_file() {
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "load", "/cfg/init", "load")
            .load(11, "raw")
            .file(19, "/cfg/lisp/raw.el")
            .leave(19)
            .load(19, "subdirs")
            .file(19, "/usr/share/emacs/site-lisp/subdirs.el")
            .leave(19)
            .load(19, "uni-bidi")
            .file(19, "/usr/share/emacs/28.2/lisp/international/uni-bidi.el")
            .leave(19)
            .file(20, "/cfg/init.el")
            .leave(20)
            .mark(21, "settled");
        let p = profile_of(&[s.build()]);
        let f = facts(&[(
            "emacs-directories",
            json!(["/usr/share/emacs/28.2/lisp/", "/usr/share/emacs/28.2/etc/"]),
        )]);
        let h = hints(&p, &f, &Settings::default());
        let u = h.iter().find(|h| h.id == "uncompiled").unwrap();
        assert_eq!(u.files, vec!["/cfg/lisp/raw.el"]);
        assert!(u.title.starts_with("1 library loaded from source"));
    }

    #[test]
    fn slow_package_activation_suggests_quickstart() {
        let mut s = Script::new(10);
        s.mark(10, "early-init-done")
            .enter(11, "call", "package-activate-all", "")
            .leave_as(70, "call", true, None)
            .mark(71, "before-init")
            .mark(72, "settled");
        let run = s.build();
        let p = profile_of(std::slice::from_ref(&run));
        let f = facts(&[("packages", json!(["a 1", "b 2"]))]);
        let h = hints(&p, &f, &Settings::default());
        let a = h.iter().find(|h| h.id == "package-activation").unwrap();
        assert!(a.detail.contains("activating 2 packages"), "{}", a.detail);
        assert!(a.detail.contains("package-quickstart"));
        let f = facts(&[("package-quickstart", json!(true))]);
        assert!(!ids(&hints(&p, &f, &Settings::default())).contains(&"package-activation"));
    }

    #[test]
    fn a_threshold_left_high_is_reported() {
        let p = profile_of(&[typical(10).build()]);
        let f = facts(&[("gc-cons-threshold", json!(2305843009213693951.0f64))]);
        let h = hints(&p, &f, &Settings::default());
        assert!(ids(&h).contains(&"gc-threshold-high"));
        let f = facts(&[("gc-cons-threshold", json!(16777216))]);
        assert!(!ids(&hints(&p, &f, &Settings::default())).contains(&"gc-threshold-high"));
    }

    #[test]
    fn slow_hooks_name_their_functions() {
        let mut s = Script::new(10);
        s.mark(10, "init")
            .mark(20, "after-init")
            .mark(80, "after-init-done")
            .mark(81, "settled");
        let p = profile_of(&[s.build()]);
        let f = facts(&[("hooks", json!({"after-init-hook": ["my-slow-setup"]}))]);
        let h = hints(&p, &f, &Settings::default());
        let from_lisp = facts(&[("hooks", json!([["after-init-hook", "my-slow-setup"]]))]);
        assert_eq!(from_lisp.hooks, f.hooks);
        let hook = h.iter().find(|h| h.id == "slow-hook").unwrap();
        assert!(hook
            .title
            .starts_with("after-init-hook ran code for 60.0 ms"));
        assert!(hook.detail.contains("my-slow-setup"));
    }

    #[test]
    fn blind_loads_and_probe_overhead_are_explained() {
        let mut s = Script::new(10);
        s.mark(10, "init")
            .enter(10, "load", "/cfg/init", "load")
            .file(11, "/cfg/init.el")
            .file(12, "/cfg/unseen.elc")
            .leave(13)
            .mark(14, "settled");
        let mut run = s.build();
        run.overhead_ms = 5.0; // of 14 ms
        let p = profile_of(&[run]);
        let h = hints(&p, &facts(&[]), &Settings::default());
        let blind = h.iter().find(|h| h.id == "blind-loads").unwrap();
        assert_eq!(blind.files, vec!["/cfg/unseen.elc"]);
        assert!(blind.detail.contains("counted in their parent"));
        assert!(ids(&h).contains(&"probe-overhead"));
    }
}
