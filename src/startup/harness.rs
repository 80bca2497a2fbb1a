//! The harness: start the user's Emacs again and again with the probe, time
//! each run from outside, and turn the runs into a profile.
//!
//! The probe must run before early-init.el, on Emacs 28 too (which has no
//! `--init-directory`), while the configuration sees its real home.
//! `normal-top-level` loads `subdirs.el` from every directory of the initial
//! `load-path` before `command-line` runs, so the child is started with
//! `EMACSLOADPATH=PROBE-DIR:` (the empty element keeps the default path)
//! and `PROBE-DIR/subdirs.el` loads the probe, which restores the
//! environment for grandchildren.  Each run is timed from `spawn` to the
//! child's exit on `CLOCK_MONOTONIC`, the clock the child's native recorder
//! uses too, so the child's own marks and the outside stopwatch agree.

use std::collections::BTreeMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::event::{monotonic_ns, read_events, realtime_ns};
use super::git;
use super::hints::{self, Facts, Settings};
use super::history;
use super::profile::{self, Profile, ProfileError, FORMAT};
use super::pty::{readable, Pty};
use super::stats;
use super::tree::{self, RunTree};
use crate::error::{Error, Kind, Result, ResultExt};
use crate::job::Progress;

/// How the child shows itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ui {
    /// `emacs -nw` on a pseudo-terminal.
    Tty {
        /// `TERM` for the child.
        term: String,
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// A graphical frame on the display in the environment.
    Gui,
    /// `emacs --fg-daemon=NAME`, with a unique server name.
    Daemon,
}

impl Ui {
    /// The name Lisp uses.
    pub fn name(&self) -> &'static str {
        match self {
            Ui::Tty { .. } => "tty",
            Ui::Gui => "gui",
            Ui::Daemon => "daemon",
        }
    }
}

/// Whether the probe records, or only marks the settled moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Record everything: a profile.
    Record,
    /// Install nothing but the exit after start-up settled: timings of the
    /// configuration without the probe's cost.
    Bare,
}

/// Everything a profiling job needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Emacs binary.
    pub emacs: PathBuf,
    /// How the children show themselves.
    pub ui: Ui,
    /// Measured runs.
    pub runs: usize,
    /// Warm-up runs, discarded.
    pub warmup: usize,
    /// A run taking longer is killed.
    pub timeout: Duration,
    /// Seconds to keep watching after the first redisplay.
    pub settle: f64,
    /// Seconds of idleness before start-up counts as stalled (a prompt).
    pub stall: f64,
    /// The children's base environment.
    pub env: Vec<(String, String)>,
    /// The children's working directory.
    pub cwd: PathBuf,
    /// The configuration directory.
    pub init_directory: PathBuf,
    /// Whether the probe must point `user-emacs-directory` there (it is
    /// not where the child would look by itself).
    pub set_init_directory: bool,
    /// The probe library, without suffix.
    pub probe_file: String,
    /// The native module for the children, if any.
    pub module_file: Option<String>,
    /// A scratch directory, created if needed and removed at the end.
    pub work_dir: PathBuf,
    /// Where the history lives; `None` records nothing.
    pub history_dir: Option<PathBuf>,
    /// `artisan-data-directory`: what changes there does not make the
    /// configuration's repository dirty.
    pub data_dir: Option<PathBuf>,
    /// The extra `VAR=VALUE` strings the user asked for (already part of
    /// `env`), remembered in the profile to take it again alike.
    pub extra_env: Vec<String>,
    /// Record or bare.
    pub mode: Mode,
    /// Hint thresholds.
    pub hints: Settings,
    /// Whether the children may start deferred native compilation.
    pub native_compile: bool,
}

/// Timing of one run without the probe (bare mode).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Process start to settled, milliseconds, when the child said.
    pub total_ms: Option<f64>,
    /// Process start to exit, milliseconds.
    pub wall_ms: f64,
}

/// What a job produces.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A profile (record mode).
    Profile(Box<Profile>),
    /// Timings (bare mode).
    Timings(Vec<Timing>),
}

/// One child run.
struct Run {
    tree: Option<RunTree>,
    wall_ms: f64,
    timed_out: bool,
    exit: Option<i32>,
    output: String,
}

/// The variable every process a child starts inherits (the probe leaves
/// it in the environment): how the harness finds them once the child is
/// gone, even those that left its process group and session.
pub const RUN_VARIABLE: &str = "ARTISAN_STARTUP_RUN";

fn lisp_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The `subdirs.el` that loads the probe.
pub fn subdirs_el(probe_file: &str) -> String {
    format!(
        ";;; subdirs.el --- written by artisan: load the start-up probe\n\
         ;; Bound so that loading the probe queues no native compilation.\n\
         (let ((native-comp-deferred-compilation nil)\n\
         \x20     (native-comp-jit-compilation nil))\n\
         \x20 (load {} t t))\n",
        lisp_string(probe_file)
    )
}

/// The child's environment for one run, marked with `token`.
pub fn child_env(
    options: &Options,
    probe_dir: &Path,
    out_file: &Path,
    token: &str,
) -> Vec<(String, String)> {
    let mut env: BTreeMap<String, String> = options
        .env
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("ARTISAN_PROBE_") && k != RUN_VARIABLE && k != "COLUMNS" && k != "LINES"
        })
        .cloned()
        .collect();
    env.insert(RUN_VARIABLE.into(), token.into());
    let original = env.remove("EMACSLOADPATH");
    let probe = probe_dir.to_string_lossy().to_string();
    env.insert(
        "EMACSLOADPATH".into(),
        format!("{probe}:{}", original.clone().unwrap_or_default()),
    );
    if let Some(original) = original {
        env.insert("ARTISAN_PROBE_LOADPATH".into(), original);
    }
    env.insert(
        "ARTISAN_PROBE_MODE".into(),
        match options.mode {
            Mode::Record => "record",
            Mode::Bare => "bare",
        }
        .into(),
    );
    env.insert(
        "ARTISAN_PROBE_OUT".into(),
        out_file.to_string_lossy().to_string(),
    );
    if let Some(module) = &options.module_file {
        env.insert("ARTISAN_PROBE_MODULE".into(), module.clone());
    }
    if options.set_init_directory {
        env.insert(
            "ARTISAN_PROBE_INIT_DIR".into(),
            options.init_directory.to_string_lossy().to_string(),
        );
    }
    if options.native_compile {
        env.insert("ARTISAN_PROBE_NATIVE_COMPILE".into(), "1".into());
    }
    env.insert("ARTISAN_PROBE_SETTLE".into(), format!("{}", options.settle));
    env.insert("ARTISAN_PROBE_STALL".into(), format!("{}", options.stall));
    match &options.ui {
        Ui::Tty { term, .. } => {
            env.insert("TERM".into(), term.clone());
        }
        Ui::Gui => {}
        Ui::Daemon => {
            env.remove("DISPLAY");
            env.remove("WAYLAND_DISPLAY");
        }
    }
    env.into_iter().collect()
}

/// Kills the child's whole process group.
fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: sending a signal; a vanished group is harmless (ESRCH).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// The process ids of `pid`'s descendants, read from `/proc` (empty where
/// there is none).
fn descendants(pid: u32) -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in dir.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.push((child, ppid));
        }
    }
    let mut out: Vec<u32> = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for (child, _) in parents.iter().filter(|(_, pp)| *pp == parent) {
            if !out.contains(child) && *child != pid {
                out.push(*child);
                frontier.push(*child);
            }
        }
    }
    out
}

/// Kills the child's group and every process it started.  Emacs puts its
/// subprocesses in sessions of their own (and kills them when it exits by
/// itself); a child killed at the timeout or on cancel would leave them
/// running, so they are found before the child dies and killed with it.
fn kill_tree(pid: u32) {
    let below = descendants(pid);
    kill_group(pid);
    for d in below {
        if let Ok(d) = libc::pid_t::try_from(d) {
            // SAFETY: sending signals; vanished processes are harmless
            // (ESRCH).  -d is a group only when d leads one.
            unsafe {
                libc::kill(-d, libc::SIGKILL);
                libc::kill(d, libc::SIGKILL);
            }
        }
    }
}

/// Kills every process whose environment holds `RUN_VARIABLE=token`:
/// what a child started and left behind, wherever it went (a new
/// session, a double fork).  Repeats while it finds some, in case one
/// forked meanwhile.
fn kill_marked(token: &str) {
    let needle = format!("{RUN_VARIABLE}={token}");
    let me = std::process::id();
    for _ in 0..5 {
        let Ok(dir) = fs::read_dir("/proc") else {
            return;
        };
        let mut found = false;
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == me {
                continue;
            }
            // Unreadable (another user's) or empty (a zombie): not ours.
            let Ok(environ) = fs::read(entry.path().join("environ")) else {
                continue;
            };
            if environ.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
                if let Ok(pid) = libc::pid_t::try_from(pid) {
                    // SAFETY: sending a signal; a vanished process is
                    // harmless (ESRCH).
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                    found = true;
                }
            }
        }
        if !found {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn run_once(options: &Options, index: usize, probe_dir: &Path, progress: &Progress) -> Result<Run> {
    let out_file = options.work_dir.join(format!("run-{index}.jsonl"));
    let log_file = options.work_dir.join(format!("run-{index}.log"));
    let token = format!("{}-{index}-{}", std::process::id(), monotonic_ns());
    let mut cmd = Command::new(&options.emacs);
    cmd.env_clear()
        .envs(child_env(options, probe_dir, &out_file, &token))
        .current_dir(&options.cwd);
    let mut pty = None;
    match &options.ui {
        Ui::Tty { cols, rows, .. } => {
            cmd.arg("-nw");
            let p = Pty::open(*cols, *rows)?;
            p.attach(&mut cmd)?;
            pty = Some(p);
        }
        Ui::Gui | Ui::Daemon => {
            if options.ui == Ui::Daemon {
                cmd.arg(format!(
                    "--fg-daemon=artisan-probe-{}-{index}",
                    std::process::id()
                ));
            }
            let log = fs::File::create(&log_file).or_kind(
                Kind::Startup,
                format!("Cannot create {}", log_file.display()),
            )?;
            let log2 = log
                .try_clone()
                .or_kind(Kind::Startup, "Cannot duplicate the log")?;
            cmd.stdin(Stdio::null()).stdout(log).stderr(log2);
            // SAFETY: setsid is async-signal-safe.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                    libc::setsid();
                    Ok(())
                });
            }
        }
    }

    let spawn_real = realtime_ns();
    let spawn = monotonic_ns();
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::startup(format!("Cannot start {}: {e}", options.emacs.display())))?;
    let pid = child.id();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = match pty {
        Some(p) => Some(p.drain(Arc::clone(&stop))?),
        None => None,
    };
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::Builder::new()
        .name("artisan-wait".into())
        .spawn(move || {
            let status = child.wait();
            let _ = tx.send((status, monotonic_ns()));
        });
    if let Err(e) = waiter {
        // Nobody would wait for the child: do not leave it running.
        kill_group(pid);
        kill_marked(&token);
        stop.store(true, Ordering::Relaxed);
        return Err(Error::startup(format!("Cannot start a waiter thread: {e}")));
    }

    let started = Instant::now();
    let mut timed_out = false;
    let mut cancelled = false;
    let (status, exited) = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(done) => break done,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if !cancelled && progress.is_cancelled() {
                    cancelled = true;
                    kill_tree(pid);
                } else if !timed_out && !cancelled && started.elapsed() > options.timeout {
                    timed_out = true;
                    kill_tree(pid);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                kill_group(pid);
                kill_marked(&token);
                stop.store(true, Ordering::Relaxed);
                return Err(Error::startup("Lost track of the child Emacs"));
            }
        }
    };
    // Whatever the child left behind (compilations, servers, processes
    // started detached in sessions of their own) goes too: those still
    // in its group, and all that inherited its mark.
    kill_group(pid);
    kill_marked(&token);
    stop.store(true, Ordering::Relaxed);
    let output = match reader {
        Some(r) => readable(&r.join().unwrap_or_default()),
        None => fs::read(&log_file)
            .map(|b| readable(&b))
            .unwrap_or_default(),
    };
    if cancelled {
        return Err(Error::cancelled());
    }
    let exit = status.ok().and_then(|s| s.code());
    let tree = match fs::File::open(&out_file) {
        Ok(f) => {
            let (events, _) = read_events(BufReader::new(f));
            (!events.is_empty()).then(|| tree::build(&events, spawn, spawn_real, Some(exited)))
        }
        Err(_) => None,
    };
    Ok(Run {
        tree,
        wall_ms: exited.saturating_sub(spawn) as f64 / 1e6,
        timed_out,
        exit,
        output,
    })
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .get(lines.len().saturating_sub(n)..)
        .unwrap_or(&[])
        .join("\n")
}

fn no_probe_error(options: &Options, run: &Run) -> Error {
    let output = last_lines(&run.output, 12);
    if options.ui == Ui::Gui && output.contains("not a tty") {
        return Error::startup(format!(
            "{} cannot open a graphical frame: it was built without a window system \
             (like emacs-nox), so it wanted a terminal.  Use :ui tty, or another Emacs \
             with :emacs.",
            options.emacs.display()
        ));
    }
    Error::startup(format!(
        "The start-up probe did not run in {} (exit code {}){}.  {}",
        options.emacs.display(),
        run.exit
            .map(|c| c.to_string())
            .unwrap_or_else(|| "none: killed".into()),
        if run.timed_out {
            format!(", and it was killed after {} s", options.timeout.as_secs())
        } else {
            String::new()
        },
        if output.is_empty() {
            "It printed nothing.".to_string()
        } else {
            format!("Its output ended with:\n{output}")
        }
    ))
}

/// A sortable, unique id from the current time.
fn new_id(real_ns: u64) -> String {
    let secs = (real_ns / 1_000_000_000) as i64;
    let date: String = profile::utc_date(secs)
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    let (day, time) = date.split_at(8.min(date.len()));
    format!("{day}T{time}-{:04x}", (real_ns / 1000) % 0x1_0000)
}

/// Runs the job described by `options`.
pub fn run(options: &Options, progress: &Progress) -> Result<Outcome> {
    if options.runs == 0 {
        return Err(Error::startup("The number of runs must be at least 1"));
    }
    let probe_dir = options.work_dir.join("probe");
    fs::create_dir_all(&probe_dir).or_kind(
        Kind::Startup,
        format!("Cannot create {}", probe_dir.display()),
    )?;
    fs::write(
        probe_dir.join("subdirs.el"),
        subdirs_el(&options.probe_file),
    )
    .or_kind(Kind::Startup, "Cannot write the probe's subdirs.el")?;
    let result = run_all(options, &probe_dir, progress);
    let _ = fs::remove_dir_all(&options.work_dir);
    result
}

/// Why a run is not a normal start-up, if so: it was killed at the
/// timeout, stalled waiting for input, exited by itself, or stopped
/// before it settled.
fn incomplete_reason(options: &Options, index: usize, run: &Run) -> Option<String> {
    // Measured runs are counted from 1 after the warm-up ones.
    let which = if index < options.warmup {
        if options.warmup == 1 {
            "The warm-up run".to_string()
        } else {
            format!("Warm-up run {}", index + 1)
        }
    } else {
        format!("Run {}", index - options.warmup + 1)
    };
    if run.timed_out {
        let open = run
            .tree
            .as_ref()
            .map(|t| t.open_at_end.join(" > "))
            .filter(|s| !s.is_empty())
            .map(|s| format!("; it was inside {s}"))
            .unwrap_or_default();
        return Some(format!(
            "{which} did not settle within {} s and was killed{open}",
            options.timeout.as_secs_f64()
        ));
    }
    let tree = run.tree.as_ref()?;
    if let Some(serde_json::Value::String(why)) = tree.meta.get("stalled") {
        return Some(format!("{which}: {why}"));
    }
    if let Some(phase) = &tree.exited_during {
        return Some(format!(
            "{which}: the configuration exited by itself during {phase}, before \
             start-up settled (kill-emacs)"
        ));
    }
    if !tree.settled {
        return Some(format!(
            "{which} ended (exit code {}) before start-up settled",
            run.exit
                .map(|c| c.to_string())
                .unwrap_or_else(|| "none: killed".into())
        ));
    }
    None
}

fn run_all(options: &Options, probe_dir: &Path, progress: &Progress) -> Result<Outcome> {
    let total = options.warmup + options.runs;
    progress.set_total(total as u64);
    // Read before any run: the configuration may write files into its
    // own directory while it starts.
    let git = match options.mode {
        Mode::Record => git::describe(&options.init_directory, options.data_dir.as_deref()),
        Mode::Bare => None,
    };
    let mut measured: Vec<Run> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut incomplete = None;
    // Warm-up runs done and discarded: a warm-up run that did not
    // start up normally is kept, as the only run, and not counted.
    let mut warmed = 0;
    for index in 0..total {
        progress.check()?;
        let warm = index < options.warmup;
        progress.set_phase(if warm { "warming up" } else { "measuring" });
        let run = run_once(options, index, probe_dir, progress)?;
        progress.advance(1);
        if run.tree.is_none() {
            return Err(no_probe_error(options, &run));
        }
        if let Some(why) = incomplete_reason(options, index, &run) {
            // The next runs would do the same: keep this one to show
            // what it did, and stop.
            notes.push(format!(
                "{why}.  The report shows what it did until then{}; it is not compared \
                 with other profiles.",
                if index + 1 < total {
                    "; later runs were skipped"
                } else {
                    ""
                }
            ));
            incomplete = Some(why);
            measured.push(run);
            break;
        }
        if warm {
            warmed += 1;
        } else {
            measured.push(run);
        }
    }
    match options.mode {
        Mode::Bare => Ok(Outcome::Timings(
            measured
                .iter()
                .map(|r| Timing {
                    total_ms: r.tree.as_ref().filter(|t| t.settled).map(|t| t.total_ms),
                    wall_ms: r.wall_ms,
                })
                .collect(),
        )),
        Mode::Record => {
            progress.set_phase("analysing");
            let mut profile = build_profile(options, &measured, notes, git)?;
            profile.warmup = warmed;
            profile.incomplete = incomplete;
            if let Some(dir) = &options.history_dir {
                history::append(dir, &profile)?;
            }
            Ok(Outcome::Profile(Box::new(profile)))
        }
    }
}

fn meta_str(meta: &BTreeMap<String, serde_json::Value>, key: &str) -> String {
    meta.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

/// The packages' digest: of the package.el packages and versions when
/// there are any, else of the libraries loaded from outside Emacs and the
/// configuration's own files (name, size and modification time: straight
/// and `load-path` setups have no versions), else `None`.
fn packages_digest(packages: &[String], tree: &[profile::Node], facts: &Facts) -> Option<String> {
    if !packages.is_empty() {
        return profile::digest_of(packages);
    }
    let mut files: Vec<String> = Vec::new();
    for node in tree {
        node.walk(0, &mut |n, _| {
            if let Some(file) = &n.file {
                if n.kind == tree::NodeKind::Load
                    && !facts.is_config_file(file)
                    && !facts.is_emacs_file(file)
                {
                    files.push(file.clone());
                }
            }
        });
    }
    files.sort();
    files.dedup();
    let lines: Vec<String> = files
        .into_iter()
        .map(|f| match fs::metadata(&f) {
            Ok(m) => {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
                format!("{f} {} {mtime}", m.len())
            }
            Err(_) => f,
        })
        .collect();
    profile::digest_of(&lines)
}

/// Cross-checks the children's clock with the harness's stopwatch: each
/// child's first timestamp must come after its spawn and its last one
/// before its exit, a little before.  A note when they disagree.
fn clock_note(runs: &[Run]) -> Option<String> {
    let skew = runs
        .iter()
        .filter_map(|r| r.tree.as_ref()?.clock_skew_ms)
        .fold(0.0f64, f64::max);
    // From the child's last timestamp to its exit, seen from outside.
    let gaps: Vec<f64> = runs
        .iter()
        .filter(|r| !r.timed_out)
        .filter_map(|r| Some(r.wall_ms - r.tree.as_ref()?.end_ms?))
        .collect();
    let early = gaps.iter().copied().fold(0.0f64, |m, g| m.max(-g));
    if skew > 1.0 || early > 1.0 {
        return Some(format!(
            "The children's clock and the harness's stopwatch disagree by up to {:.1} ms \
             (a child's timestamp lies before its spawn or after its exit): the times of \
             this profile may be off by as much.",
            skew.max(early)
        ));
    }
    let walls: Vec<f64> = runs
        .iter()
        .filter(|r| !r.timed_out)
        .map(|r| r.wall_ms)
        .collect();
    let (gap, wall) = (stats::median(&gaps)?, stats::median(&walls)?);
    let tolerance = (0.1 * wall).max(50.0);
    (gap > tolerance).then(|| {
        format!(
            "The children took {gap:.0} ms (median) to exit after their last recorded moment, \
             more than the {tolerance:.0} ms expected: the outside stopwatch and the profile \
             agree only up to there.  Something ran at exit (a process Emacs waited for, a \
             slow terminal)."
        )
    })
}

fn build_profile(
    options: &Options,
    runs: &[Run],
    mut notes: Vec<String>,
    git: Option<git::GitInfo>,
) -> Result<Profile> {
    let trees: Vec<&RunTree> = runs.iter().filter_map(|r| r.tree.as_ref()).collect();
    let first = trees
        .iter()
        .find(|t| !t.meta.is_empty())
        .or_else(|| trees.first())
        .ok_or_else(|| Error::startup("No run produced any data"))?;
    let meta = &first.meta;
    let lists: Vec<&[tree::RunNode]> = trees.iter().map(|t| t.phases.as_slice()).collect();
    let run_totals: Vec<f64> = trees.iter().map(|t| t.total_ms).collect();

    let mut errors: Vec<ProfileError> = Vec::new();
    for (i, t) in trees.iter().enumerate() {
        for e in &t.errors {
            match errors
                .iter_mut()
                .find(|x| x.place == e.place && x.message == e.message)
            {
                Some(x) => x.runs.push(i),
                None => errors.push(ProfileError {
                    runs: vec![i],
                    place: e.place.clone(),
                    message: e.message.clone(),
                }),
            }
        }
    }
    if let Some(note) = meta.get("clock-note").and_then(|v| v.as_str()) {
        notes.push(note.to_string());
    }
    notes.extend(clock_note(runs));
    let mut packages: Vec<String> = match meta.get("packages") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    packages.sort();
    let facts = Facts::from_meta(meta);
    let merged = profile::merge(&lists);
    let now = realtime_ns();
    let mut profile = Profile {
        format: FORMAT,
        id: new_id(now),
        date: profile::utc_date((now / 1_000_000_000) as i64),
        unix_time: (now / 1_000_000_000) as i64,
        runs: trees.len(),
        warmup: options.warmup,
        ui: options.ui.name().to_string(),
        emacs: options.emacs.to_string_lossy().to_string(),
        emacs_version: meta_str(meta, "emacs-version"),
        native_comp: matches!(meta.get("native-comp"), Some(serde_json::Value::Bool(true))),
        init_directory: options.init_directory.to_string_lossy().to_string(),
        git,
        packages_digest: packages_digest(&packages, &merged, &facts),
        packages,
        settle: options.settle,
        env: options.extra_env.clone(),
        incomplete: None,
        outliers: stats::outliers(&run_totals),
        run_totals,
        run_walls: runs
            .iter()
            .filter(|r| r.tree.is_some())
            .map(|r| (!r.timed_out).then_some(r.wall_ms))
            .collect(),
        run_ends: trees.iter().map(|t| t.end_ms).collect(),
        run_overheads: trees.iter().map(|t| t.overhead_ms).collect(),
        run_settled: trees.iter().map(|t| t.settled).collect(),
        tree: merged,
        hints: Vec::new(),
        errors,
        notes,
    };
    profile.hints = hints::hints(&profile, &facts, &options.hints);
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path) -> Options {
        Options {
            emacs: PathBuf::from("emacs"),
            ui: Ui::Tty {
                term: "xterm-256color".into(),
                cols: 80,
                rows: 24,
            },
            runs: 1,
            warmup: 0,
            timeout: Duration::from_secs(10),
            settle: 0.0,
            stall: 3.0,
            env: vec![
                ("HOME".into(), "/home/u".into()),
                ("EMACSLOADPATH".into(), "/site:".into()),
                ("ARTISAN_PROBE_OUT".into(), "/stale".into()),
                ("COLUMNS".into(), "10".into()),
                ("TERM".into(), "dumb".into()),
            ],
            cwd: dir.to_path_buf(),
            init_directory: PathBuf::from("/cfg/"),
            set_init_directory: true,
            probe_file: "/pkg/lisp/artisan-startup-probe".into(),
            module_file: Some("/pkg/artisan-dyn.so".into()),
            work_dir: dir.to_path_buf(),
            history_dir: None,
            data_dir: None,
            extra_env: vec![],
            mode: Mode::Record,
            hints: Settings::default(),
            native_compile: false,
        }
    }

    #[test]
    fn the_child_environment_puts_the_probe_first_and_remembers_the_original() {
        let o = options(Path::new("/w"));
        let env: BTreeMap<String, String> = child_env(
            &o,
            Path::new("/w/probe"),
            Path::new("/w/run-0.jsonl"),
            "tok",
        )
        .into_iter()
        .collect();
        assert_eq!(env["EMACSLOADPATH"], "/w/probe:/site:");
        assert_eq!(env["ARTISAN_PROBE_LOADPATH"], "/site:");
        assert_eq!(env["ARTISAN_PROBE_OUT"], "/w/run-0.jsonl");
        assert!(!env.contains_key("ARTISAN_PROBE_NOP"));
        assert_eq!(env["ARTISAN_PROBE_INIT_DIR"], "/cfg/");
        assert_eq!(env["ARTISAN_PROBE_MODULE"], "/pkg/artisan-dyn.so");
        assert_eq!(env["TERM"], "xterm-256color");
        assert_eq!(env["HOME"], "/home/u");
        assert!(!env.contains_key("COLUMNS"));
        assert_eq!(env[RUN_VARIABLE], "tok");
        let mut o = o;
        o.env.retain(|(k, _)| k != "EMACSLOADPATH");
        o.set_init_directory = false;
        let env: BTreeMap<String, String> =
            child_env(&o, Path::new("/w/probe"), Path::new("/o"), "t")
                .into_iter()
                .collect();
        assert_eq!(env["EMACSLOADPATH"], "/w/probe:");
        assert!(!env.contains_key("ARTISAN_PROBE_LOADPATH"));
        assert!(!env.contains_key("ARTISAN_PROBE_INIT_DIR"));
    }

    #[test]
    fn subdirs_el_quotes_the_probe_file() {
        let s = subdirs_el("/odd \"dir\"\\x/probe");
        assert!(
            s.contains("(load \"/odd \\\"dir\\\"\\\\x/probe\" t t)"),
            "{s}"
        );
    }

    #[test]
    fn ids_sort_by_time() {
        let a = new_id(1_700_000_000_000_000_000);
        let b = new_id(1_700_000_001_000_000_000);
        assert!(a.starts_with("20231114T221320-"), "{a}");
        assert!(a < b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn a_child_that_never_runs_the_probe_is_reported_with_its_output() {
        let dir = std::env::temp_dir().join(format!("artisan-harness-{}", monotonic_ns()));
        let mut o = options(&dir);
        // `sh -c` ignores the probe: it prints and exits.
        o.emacs = PathBuf::from("/bin/echo");
        o.env = vec![("PATH".into(), "/usr/bin:/bin".into())];
        let err = run(&o, &Progress::default()).unwrap_err();
        assert_eq!(err.kind, Kind::Startup);
        assert!(err.message.contains("did not run"), "{}", err.message);
        assert!(err.message.contains("-nw"), "{}", err.message);
        assert!(!dir.exists(), "the work directory is removed");
    }

    #[test]
    fn a_hung_child_is_killed_at_the_timeout() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("artisan-harness-{}", monotonic_ns()));
        let probe = dir.join("probe");
        fs::create_dir_all(&probe).unwrap();
        let script = dir.join("hang.sh");
        fs::write(&script, "#!/bin/sh\nsleep 30\n").unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let mut o = options(&dir);
        o.emacs = script;
        o.env = vec![("PATH".into(), "/usr/bin:/bin".into())];
        o.timeout = Duration::from_millis(300);
        for ui in [o.ui.clone(), Ui::Daemon] {
            o.ui = ui;
            let started = Instant::now();
            let run = run_once(&o, 0, &probe, &Progress::default()).unwrap();
            assert!(run.timed_out);
            assert!(run.tree.is_none());
            assert!(
                run.wall_ms >= 300.0 && run.wall_ms < 5000.0,
                "{}",
                run.wall_ms
            );
            assert!(started.elapsed() < Duration::from_secs(5));
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Whether `pid` is running (not gone, not a zombie).
    fn alive(pid: u32) -> bool {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            })
            .unwrap_or(false)
    }

    #[test]
    fn a_killed_child_takes_the_processes_it_started_along() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("artisan-harness-{}", monotonic_ns()));
        let probe = dir.join("probe");
        fs::create_dir_all(&probe).unwrap();
        // Like an Emacs subprocess: a session of its own.
        let pid_file = dir.join("sleeper.pid");
        let script = dir.join("spawn.sh");
        fs::write(
            &script,
            format!(
                "#!/bin/sh\nsetsid sleep 29 </dev/null >/dev/null 2>&1 &\necho $! > {}\nsleep 30\n",
                pid_file.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let mut o = options(&dir);
        o.emacs = script;
        o.env = vec![("PATH".into(), "/usr/bin:/bin".into())];
        o.timeout = Duration::from_millis(500);
        let run = run_once(&o, 0, &probe, &Progress::default()).unwrap();
        assert!(run.timed_out);
        let sleeper: u32 = fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(sleeper) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(sleeper), "the sleeper {sleeper} survived");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn cancelling_kills_the_child() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("artisan-harness-{}", monotonic_ns()));
        let probe = dir.join("probe");
        fs::create_dir_all(&probe).unwrap();
        let script = dir.join("hang.sh");
        fs::write(&script, "#!/bin/sh\nsleep 30\n").unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let mut o = options(&dir);
        o.emacs = script;
        o.env = vec![("PATH".into(), "/usr/bin:/bin".into())];
        let progress = Progress::default();
        progress.cancel();
        let started = Instant::now();
        let err = run_once(&o, 0, &probe, &progress).err().unwrap();
        assert_eq!(err.kind, Kind::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(5));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_detached_process_dies_with_a_child_that_exits_normally() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("artisan-harness-{}", monotonic_ns()));
        let probe = dir.join("probe");
        fs::create_dir_all(&probe).unwrap();
        // Detached in a session of its own, then the "Emacs" exits at once.
        let pid_file = dir.join("sleeper.pid");
        let script = dir.join("detach.sh");
        fs::write(
            &script,
            format!(
                "#!/bin/sh\nsetsid sleep 27 </dev/null >/dev/null 2>&1 &\necho $! > {}\nexit 0\n",
                pid_file.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let mut o = options(&dir);
        o.emacs = script;
        o.env = vec![("PATH".into(), "/usr/bin:/bin".into())];
        let run = run_once(&o, 0, &probe, &Progress::default()).unwrap();
        assert!(!run.timed_out);
        assert_eq!(run.exit, Some(0));
        let sleeper: u32 = fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(sleeper) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(sleeper), "the detached sleeper {sleeper} survived");
        fs::remove_dir_all(&dir).unwrap();
    }

    fn run_with(tree: RunTree, wall_ms: f64) -> Run {
        Run {
            tree: Some(tree),
            wall_ms,
            timed_out: false,
            exit: Some(0),
            output: String::new(),
        }
    }

    #[test]
    fn an_incomplete_run_is_named_as_a_warm_up_or_by_its_measured_number() {
        use crate::startup::tree::tests::typical;
        let dir = std::env::temp_dir();
        let mut o = options(&dir);
        o.warmup = 1;
        let mut tree = typical(150).build();
        tree.settled = false;
        tree.meta.insert(
            "stalled".into(),
            serde_json::json!("Start-up stopped for 3 s before it settled"),
        );
        let run = run_with(tree, 3100.0);
        assert_eq!(
            incomplete_reason(&o, 0, &run).unwrap(),
            "The warm-up run: Start-up stopped for 3 s before it settled"
        );
        assert!(incomplete_reason(&o, 1, &run)
            .unwrap()
            .starts_with("Run 1: "));
        assert!(incomplete_reason(&o, 3, &run)
            .unwrap()
            .starts_with("Run 3: "));
        o.warmup = 2;
        assert!(incomplete_reason(&o, 1, &run)
            .unwrap()
            .starts_with("Warm-up run 2: "));
        let killed = Run {
            timed_out: true,
            ..run_with(typical(150).build(), 3000.0)
        };
        assert!(incomplete_reason(&o, 0, &killed)
            .unwrap()
            .starts_with("Warm-up run 1 did not settle within"));
        assert_eq!(
            incomplete_reason(&o, 2, &run_with(typical(150).build(), 300.0)),
            None
        );
    }

    #[test]
    fn the_childs_clock_is_cross_checked_with_the_stopwatch() {
        use crate::startup::tree::tests::typical;
        // typical(150) settles at 227 ms on the child's clock, its last event.
        let tree = typical(150).build();
        let end = tree.end_ms.unwrap();
        assert!((end - 227.0).abs() < 1e-9, "{end}");
        assert_eq!(clock_note(&[run_with(tree.clone(), end + 8.0)]), None);
        // The child says it was still running after it exited.
        let note = clock_note(&[run_with(tree.clone(), end - 20.0)]).unwrap();
        assert!(note.contains("disagree by up to 20.0 ms"), "{note}");
        // It exited long after its last timestamp.
        let note = clock_note(&[run_with(tree, end + 400.0)]).unwrap();
        assert!(note.contains("took 400 ms"), "{note}");
    }

    #[test]
    fn the_digest_covers_libraries_when_package_el_has_none() {
        let dir = std::env::temp_dir().join(format!("artisan-digest-{}", monotonic_ns()));
        fs::create_dir_all(&dir).unwrap();
        let lib = dir.join("lib.elc");
        fs::write(&lib, "(provide 'lib)").unwrap();
        let node = |file: &str| profile::Node {
            key: format!("load:{file}"),
            kind: tree::NodeKind::Load,
            name: file.into(),
            file: Some(file.into()),
            via: None,
            incl: vec![],
            excl: vec![],
            gc_count: vec![],
            gc_ms: vec![],
            gc_excl_ms: vec![],
            threshold: None,
            errors: vec![],
            incomplete: 0,
            missing_loads: 0,
            blind: false,
            children: vec![],
        };
        let lib_name = lib.to_string_lossy().to_string();
        let tree = vec![
            node(&lib_name),
            node("/usr/share/emacs/28.2/lisp/subr-x.elc"),
        ];
        let facts = Facts {
            emacs_directories: vec!["/usr/share/emacs/28.2/lisp/".into()],
            ..Facts::default()
        };
        let d1 = packages_digest(&[], &tree, &facts).unwrap();
        assert_ne!(d1, profile::digest(&[]));
        // Emacs' own libraries do not count; a changed library does.
        assert_eq!(packages_digest(&[], &tree[..1], &facts).unwrap(), d1);
        fs::write(&lib, "(provide 'lib) ;; a new version").unwrap();
        assert_ne!(packages_digest(&[], &tree, &facts).unwrap(), d1);
        // Nothing to digest: none.
        assert_eq!(packages_digest(&[], &tree[1..], &facts), None);
        // package.el's packages win.
        let packages = vec!["magit 3.3.0".to_string()];
        assert_eq!(
            packages_digest(&packages, &tree, &facts),
            Some(profile::digest(&packages))
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
