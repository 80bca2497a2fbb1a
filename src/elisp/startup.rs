//! Shims of the start-up profiler: the recorder the probe calls inside a
//! child Emacs, and the job, history and comparison functions the commands
//! call in the user's Emacs.  Everything here converts values; the work is
//! in `crate::startup`.

use std::path::PathBuf;
use std::time::Duration;

use emacs::{defun, Env, IntoLisp, Result, Transfer, Value};

use super::job::{LispJob, LispOutput};
use super::{plist, run};
use crate::error::{self, Error};
use crate::startup::compare::{Comparison, Delta};
use crate::startup::event::{monotonic_ns, Event};
use crate::startup::harness::{self, Mode, Options, Outcome, Ui};
use crate::startup::hints::Settings;
use crate::startup::history::{self, Point};
use crate::startup::profile::{Node, Profile};
use crate::startup::recorder::Recorder;
use crate::startup::stats;

// ---------------------------------------------------------------------------
// The recorder, inside the probed child.

/// The recorder of a probed child, as a `user-ptr`.
pub struct ProbeRecorder(Recorder);

impl Transfer for ProbeRecorder {
    fn type_name() -> &'static str {
        "artisan-probe-recorder"
    }
}

/// Return the monotonic clock in nanoseconds, as an integer.
#[defun]
fn probe_now() -> Result<i64> {
    Ok(i64::try_from(monotonic_ns()).unwrap_or(i64::MAX))
}

/// Start recording into FILE, which must not exist.
/// FIRST-LISP is when the probe started, in nanoseconds of `artisan--probe-now'.
#[defun(user_ptr)]
fn probe_open(env: &Env, file: String, first_lisp: i64) -> Result<ProbeRecorder> {
    run(env, || {
        Recorder::open(&PathBuf::from(file), u64::try_from(first_lisp).unwrap_or(0))
            .map(ProbeRecorder)
    })
}

/// Return a recorder that records like `artisan--probe-open''s but
/// keeps nothing: the probe times its own recording paths with it.
#[defun(user_ptr)]
fn probe_scratch(env: &Env) -> Result<ProbeRecorder> {
    run(env, || Recorder::scratch().map(ProbeRecorder))
}

/// Record in REC that a KIND node (load, use-package, init, config, call)
/// named NAME began, caused by VIA; GC is `gcs-done', GCS `gc-elapsed'.
#[defun]
fn probe_enter(
    rec: &mut ProbeRecorder,
    kind: String,
    name: String,
    via: String,
    gc: i64,
    gcs: f64,
) -> Result<()> {
    rec.0.record(|t| Event::Enter {
        t,
        kind,
        name,
        via,
        gc,
        gcs,
    });
    Ok(())
}

/// Record in REC that the innermost KIND node ended.
/// FOUND is non-nil when a load found its file; ERR is nil or the
/// message of the error it may have ended with.
#[defun]
fn probe_leave(
    rec: &mut ProbeRecorder,
    kind: String,
    found: Value<'_>,
    err: Value<'_>,
    gc: i64,
    gcs: f64,
) -> Result<()> {
    // Only nil checks: converting t to a string would raise a Lisp signal
    // (slow, and seen by the probe's `signal-hook-function').
    let found = found.is_not_nil();
    let err: Option<String> = if err.is_not_nil() {
        Some(err.into_rust()?)
    } else {
        None
    };
    rec.0.record(|t| Event::Leave {
        t,
        kind,
        found,
        err,
        gc,
        gcs,
    });
    Ok(())
}

/// Record in REC that `after-load-functions' ran for PATH, the file of
/// a load that ended, with GC and GCS.
#[defun]
fn probe_loaded(rec: &mut ProbeRecorder, path: String, gc: i64, gcs: f64) -> Result<()> {
    rec.0.record(|t| Event::Loaded { t, path, gc, gcs });
    Ok(())
}

/// Record in REC the phase boundary PHASE, with GC, GCS and THRESHOLD
/// \(`gc-cons-threshold').
#[defun]
fn probe_mark(
    rec: &mut ProbeRecorder,
    phase: String,
    gc: i64,
    gcs: f64,
    threshold: Value<'_>,
) -> Result<()> {
    let threshold = number(threshold);
    rec.0.record(|t| Event::Mark {
        t,
        phase,
        gc,
        gcs,
        threshold,
    });
    Ok(())
}

/// Record in REC the fact KEY with VALUE (strings, numbers, symbols, t,
/// nil and lists of those).
#[defun]
fn probe_meta(rec: &mut ProbeRecorder, key: String, value: Value<'_>) -> Result<()> {
    let json = to_json(value, 0)?;
    rec.0.meta(&key, json);
    Ok(())
}

/// Return the nanoseconds REC spent in its own recording calls.
#[defun]
fn probe_overhead(rec: &ProbeRecorder) -> Result<i64> {
    Ok(i64::try_from(rec.0.overhead_ns()).unwrap_or(i64::MAX))
}

/// Stop REC, writing everything it recorded.
#[defun]
fn probe_close(env: &Env, rec: &mut ProbeRecorder) -> Result<()> {
    run(env, || rec.0.close())
}

/// A Lisp number as f64, `None` for anything else.  The type is checked
/// first: a failed conversion would raise (and catch) a Lisp signal.
fn number(v: Value<'_>) -> Option<f64> {
    match type_name(v).ok()?.as_str() {
        "integer" => v.into_rust::<i64>().ok().map(|i| i as f64).or_else(|| {
            // A bignum: let Lisp make it a float.
            v.env
                .call("float", [v])
                .ok()
                .and_then(|f| f.into_rust::<f64>().ok())
        }),
        "float" => v.into_rust::<f64>().ok(),
        _ => None,
    }
}

fn type_name(v: Value<'_>) -> Result<String> {
    let t = v.env.type_of(v)?;
    v.env.call("symbol-name", [t])?.into_rust()
}

/// Converts a Lisp value into JSON: nil is null, t is true, symbols are
/// their names, lists and vectors are arrays.
fn to_json(v: Value<'_>, depth: usize) -> Result<serde_json::Value> {
    use serde_json::Value as J;
    if !v.is_not_nil() {
        return Ok(J::Null);
    }
    if depth > 16 {
        return Ok(J::Null);
    }
    Ok(match type_name(v)?.as_str() {
        "string" => J::String(v.into_rust()?),
        "integer" => match v.into_rust::<i64>() {
            Ok(i) => J::from(i),
            Err(_) => number(v).map(J::from).unwrap_or(J::Null),
        },
        "float" => J::from(v.into_rust::<f64>()?),
        "symbol" => {
            if v == v.env.intern("t")? {
                J::Bool(true)
            } else {
                J::String(v.env.call("symbol-name", [v])?.into_rust()?)
            }
        }
        "cons" => {
            let mut items = Vec::new();
            let mut tail = v;
            while tail.is_not_nil() && type_name(tail)? == "cons" && items.len() < 100_000 {
                items.push(to_json(tail.car()?, depth + 1)?);
                tail = tail.cdr()?;
            }
            if tail.is_not_nil() {
                // A dotted pair: keep the tail as a last element.
                items.push(to_json(tail, depth + 1)?);
            }
            J::Array(items)
        }
        "vector" => {
            let list = v.env.call("append", (v, ()))?;
            to_json(list, depth)?
        }
        _ => J::String(v.env.call("prin1-to-string", [v])?.into_rust()?),
    })
}

// ---------------------------------------------------------------------------
// Values for the user's Emacs.

fn opt_f64(env: &Env, x: Option<f64>) -> Result<Value<'_>> {
    match x {
        Some(x) => x.into_lisp(env),
        None => ().into_lisp(env),
    }
}

fn strings<'e>(env: &'e Env, items: &[String]) -> Result<Value<'e>> {
    let values: Vec<Value> = items
        .iter()
        .map(|s| s.as_str().into_lisp(env))
        .collect::<Result<_>>()?;
    env.list(&values[..])
}

fn floats<'e>(env: &'e Env, items: &[f64]) -> Result<Value<'e>> {
    let values: Vec<Value> = items
        .iter()
        .map(|x| x.into_lisp(env))
        .collect::<Result<_>>()?;
    env.list(&values[..])
}

fn opt_floats<'e>(env: &'e Env, items: &[Option<f64>]) -> Result<Value<'e>> {
    let values: Vec<Value> = items
        .iter()
        .map(|x| opt_f64(env, *x))
        .collect::<Result<_>>()?;
    env.list(&values[..])
}

fn ints<'e>(env: &'e Env, items: &[usize]) -> Result<Value<'e>> {
    let values: Vec<Value> = items
        .iter()
        .map(|x| (*x as i64).into_lisp(env))
        .collect::<Result<_>>()?;
    env.list(&values[..])
}

fn opt_str<'e>(env: &'e Env, s: Option<&str>) -> Result<Value<'e>> {
    match s {
        Some(s) => s.into_lisp(env),
        None => ().into_lisp(env),
    }
}

fn git_plist<'e>(env: &'e Env, git: Option<&crate::startup::git::GitInfo>) -> Result<Value<'e>> {
    match git {
        None => ().into_lisp(env),
        Some(g) => plist(
            env,
            &[
                (":commit", g.commit.as_str().into_lisp(env)?),
                (":short", g.short.as_str().into_lisp(env)?),
                (":summary", g.summary.as_str().into_lisp(env)?),
                (":branch", opt_str(env, g.branch.as_deref())?),
                (":dirty", g.dirty.into_lisp(env)?),
            ],
        ),
    }
}

fn stats_fields<'e>(
    env: &'e Env,
    prefix: &str,
    s: Option<crate::startup::profile::Summary>,
    out: &mut Vec<(String, Value<'e>)>,
) -> Result<()> {
    let (median, p90, mad, ci) = match s {
        Some(s) => (
            s.median.into_lisp(env)?,
            s.p90.into_lisp(env)?,
            s.mad.into_lisp(env)?,
            env.cons(s.ci_low, s.ci_high)?,
        ),
        None => {
            let nil = ().into_lisp(env)?;
            (0.0f64.into_lisp(env)?, nil, nil, nil)
        }
    };
    out.push((format!(":{prefix}-ms"), median));
    out.push((format!(":{prefix}-p90"), p90));
    out.push((format!(":{prefix}-mad"), mad));
    out.push((format!(":{prefix}-ci"), ci));
    Ok(())
}

fn node_plist<'e>(env: &'e Env, node: &Node, total: f64) -> Result<Value<'e>> {
    let mut fields: Vec<(String, Value<'e>)> = vec![
        (":name".into(), node.name.as_str().into_lisp(env)?),
        (":key".into(), node.key.as_str().into_lisp(env)?),
        (":kind".into(), env.intern(node.kind.name())?),
        (":file".into(), opt_str(env, node.file.as_deref())?),
        (":via".into(), opt_str(env, node.via.as_deref())?),
    ];
    let incl = node.inclusive();
    stats_fields(env, "inclusive", incl, &mut fields)?;
    stats_fields(env, "exclusive", node.exclusive(), &mut fields)?;
    fields.push((":gc-count".into(), node.median_gc_count().into_lisp(env)?));
    fields.push((":gc-ms".into(), node.median_gc_ms().into_lisp(env)?));
    let share = if total > 0.0 {
        incl.map(|s| s.median / total).unwrap_or(0.0)
    } else {
        0.0
    };
    fields.push((":share".into(), share.into_lisp(env)?));
    fields.push((":present".into(), (node.present() as i64).into_lisp(env)?));
    fields.push((":runs".into(), (node.incl.len() as i64).into_lisp(env)?));
    fields.push((":samples".into(), opt_floats(env, &node.incl)?));
    fields.push((":threshold".into(), opt_f64(env, node.threshold)?));
    fields.push((":errors".into(), strings(env, &node.errors)?));
    fields.push((
        ":incomplete".into(),
        (node.incomplete as i64).into_lisp(env)?,
    ));
    fields.push((
        ":missing-loads".into(),
        (node.missing_loads as i64).into_lisp(env)?,
    ));
    fields.push((":blind".into(), node.blind.into_lisp(env)?));
    let children: Vec<Value> = node
        .children
        .iter()
        .map(|c| node_plist(env, c, total))
        .collect::<Result<_>>()?;
    fields.push((":children".into(), env.list(&children[..])?));
    let pairs: Vec<(&str, Value)> = fields.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    plist(env, &pairs)
}

fn profile_plist<'e>(env: &'e Env, p: &Profile) -> Result<Value<'e>> {
    let total = p.total_ms();
    let ci = stats::median_ci(&p.run_totals, 0.95);
    let phases: Vec<Value> = p
        .phases()
        .iter()
        .map(|(name, ms)| env.cons(name.as_str(), *ms))
        .collect::<Result<_>>()?;
    let tree: Vec<Value> = p
        .tree
        .iter()
        .map(|n| node_plist(env, n, total))
        .collect::<Result<_>>()?;
    let hints: Vec<Value> = p
        .hints
        .iter()
        .map(|h| {
            plist(
                env,
                &[
                    (":id", env.intern(&h.id)?),
                    (":title", h.title.as_str().into_lisp(env)?),
                    (":detail", h.detail.as_str().into_lisp(env)?),
                    (":saving-ms", opt_f64(env, h.saving_ms)?),
                    (":files", strings(env, &h.files)?),
                ],
            )
        })
        .collect::<Result<_>>()?;
    let errors: Vec<Value> = p
        .errors
        .iter()
        .map(|e| {
            plist(
                env,
                &[
                    (":place", e.place.as_str().into_lisp(env)?),
                    (":message", e.message.as_str().into_lisp(env)?),
                    (":runs", ints(env, &e.runs)?),
                ],
            )
        })
        .collect::<Result<_>>()?;
    let overhead = p.overhead_ms();
    plist(
        env,
        &[
            (":id", p.id.as_str().into_lisp(env)?),
            (":date", p.date.as_str().into_lisp(env)?),
            (":unix-time", p.unix_time.into_lisp(env)?),
            (":runs", (p.runs as i64).into_lisp(env)?),
            (":warmup", (p.warmup as i64).into_lisp(env)?),
            (":ui", env.intern(&p.ui)?),
            (":emacs", p.emacs.as_str().into_lisp(env)?),
            (":emacs-version", p.emacs_version.as_str().into_lisp(env)?),
            (":native-comp", p.native_comp.into_lisp(env)?),
            (":init-directory", p.init_directory.as_str().into_lisp(env)?),
            (":git", git_plist(env, p.git.as_ref())?),
            (":commit", p.commit_label().into_lisp(env)?),
            (":packages", strings(env, &p.packages)?),
            (
                ":packages-digest",
                opt_str(env, p.packages_digest.as_deref())?,
            ),
            (":settle", p.settle.into_lisp(env)?),
            (":env", strings(env, &p.env)?),
            (":incomplete", opt_str(env, p.incomplete.as_deref())?),
            (":total-ms", total.into_lisp(env)?),
            (
                ":total-ci",
                match ci {
                    Some(c) => env.cons(c.low, c.high)?,
                    None => ().into_lisp(env)?,
                },
            ),
            (
                ":total-mad",
                stats::mad(&p.run_totals).unwrap_or(0.0).into_lisp(env)?,
            ),
            (":wall-ms", opt_f64(env, p.wall_ms())?),
            (":overhead-ms", overhead.into_lisp(env)?),
            (
                ":overhead-ratio",
                if total > 0.0 { overhead / total } else { 0.0 }.into_lisp(env)?,
            ),
            (":run-totals", floats(env, &p.run_totals)?),
            (":run-walls", opt_floats(env, &p.run_walls)?),
            (":run-ends", opt_floats(env, &p.run_ends)?),
            (":run-overheads", floats(env, &p.run_overheads)?),
            (":outliers", ints(env, &p.outliers)?),
            (":phases", env.list(&phases[..])?),
            (":tree", env.list(&tree[..])?),
            (":hints", env.list(&hints[..])?),
            (":errors", env.list(&errors[..])?),
            (":notes", strings(env, &p.notes)?),
        ],
    )
}

impl LispOutput for Outcome {
    fn into_lisp_output(self, env: &Env) -> Result<Value<'_>> {
        match self {
            Outcome::Profile(p) => profile_plist(env, &p),
            Outcome::Timings(timings) => {
                let items: Vec<Value> = timings
                    .iter()
                    .map(|t| {
                        plist(
                            env,
                            &[
                                (":total-ms", opt_f64(env, t.total_ms)?),
                                (":wall-ms", t.wall_ms.into_lisp(env)?),
                            ],
                        )
                    })
                    .collect::<Result<_>>()?;
                env.list(&items[..])
            }
        }
    }
}

/// Reads KEY from the plist OPTIONS.
fn get<'e>(options: Value<'e>, key: &str) -> Result<Value<'e>> {
    let env = options.env;
    env.call("plist-get", (options, env.intern(key)?))
}

fn get_string(options: Value<'_>, key: &str) -> Result<Option<String>> {
    let v = get(options, key)?;
    if v.is_not_nil() {
        Ok(Some(v.into_rust()?))
    } else {
        Ok(None)
    }
}

fn get_number(options: Value<'_>, key: &str, default: f64) -> Result<f64> {
    Ok(number(get(options, key)?).unwrap_or(default))
}

fn get_symbol(options: Value<'_>, key: &str) -> Result<Option<String>> {
    let v = get(options, key)?;
    if v.is_not_nil() {
        Ok(Some(v.env.call("symbol-name", [v])?.into_rust()?))
    } else {
        Ok(None)
    }
}

fn finite_or(x: f64, default: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        default
    }
}

fn required(value: Option<String>, key: &str) -> error::Result<String> {
    value.ok_or_else(|| Error::startup(format!("Missing option {key}")))
}

/// Start profiling the start-up of a child Emacs as described by OPTIONS,
/// a plist; return a job whose result is a profile (or, with `:mode
/// bare', a list of timings).  `artisan-startup-profile' builds OPTIONS.
#[defun(user_ptr)]
fn startup_profile(env: &Env, options: Value<'_>) -> Result<LispJob> {
    let emacs = get_string(options, ":emacs")?;
    let ui = get_symbol(options, ":ui")?;
    let term = get_string(options, ":term")?;
    let cols = get_number(options, ":cols", 80.0)?;
    let rows = get_number(options, ":rows", 24.0)?;
    let runs = get_number(options, ":runs", 10.0)?;
    let warmup = get_number(options, ":warmup", 1.0)?;
    let timeout = get_number(options, ":timeout", 60.0)?;
    let settle = get_number(options, ":settle", 0.0)?;
    let stall = get_number(options, ":stall", 3.0)?;
    let string_list = |key: &str| -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut tail = get(options, key)?;
        while tail.is_not_nil() {
            out.push(tail.car::<String>()?);
            tail = tail.cdr()?;
        }
        Ok(out)
    };
    let env_list = string_list(":env")?;
    let extra_env = string_list(":extra-env")?;
    let data_dir = get_string(options, ":data-directory")?;
    let cwd = get_string(options, ":cwd")?;
    let init_directory = get_string(options, ":init-directory")?;
    let set_init_directory = get(options, ":set-init-directory")?.is_not_nil();
    let probe = get_string(options, ":probe")?;
    let module = get_string(options, ":module")?;
    let work_dir = get_string(options, ":work-dir")?;
    let history_dir = get_string(options, ":history-dir")?;
    let mode = get_symbol(options, ":mode")?;
    let native_compile = get(options, ":native-compile")?.is_not_nil();
    let defaults = Settings::default();
    let hints = Settings {
        defer_min_ms: get_number(options, ":defer-min-ms", defaults.defer_min_ms)?,
        ..defaults
    };
    run(env, || {
        let ui = match ui.as_deref() {
            Some("gui") => Ui::Gui,
            Some("daemon") => Ui::Daemon,
            _ => Ui::Tty {
                term: term.unwrap_or_else(|| "xterm-256color".into()),
                cols: cols.clamp(10.0, 1000.0) as u16,
                rows: rows.clamp(5.0, 1000.0) as u16,
            },
        };
        let options = Options {
            emacs: PathBuf::from(required(emacs, ":emacs")?),
            ui,
            runs: runs.clamp(0.0, 10_000.0) as usize,
            warmup: warmup.clamp(0.0, 100.0) as usize,
            // Not finite (a NaN would make `from_secs_f64` panic): defaults.
            timeout: Duration::from_secs_f64(finite_or(timeout, 60.0).clamp(0.1, 86_400.0)),
            settle: finite_or(settle, 0.0).max(0.0),
            stall: finite_or(stall, 3.0).max(0.1),
            env: env_list
                .iter()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            cwd: PathBuf::from(required(cwd, ":cwd")?),
            init_directory: PathBuf::from(required(init_directory, ":init-directory")?),
            set_init_directory,
            probe_file: required(probe, ":probe")?,
            module_file: module,
            work_dir: PathBuf::from(required(work_dir, ":work-dir")?),
            history_dir: history_dir.map(PathBuf::from),
            data_dir: data_dir.map(PathBuf::from),
            extra_env,
            mode: if mode.as_deref() == Some("bare") {
                Mode::Bare
            } else {
                Mode::Record
            },
            hints,
            native_compile,
        };
        LispJob::spawn("profile", move |progress| harness::run(&options, progress))
    })
}

fn point_plist<'e>(env: &'e Env, p: &Point) -> Result<Value<'e>> {
    let e = &p.entry;
    let phases: Vec<Value> = e
        .phases
        .iter()
        .map(|(name, ms)| env.cons(name.as_str(), *ms))
        .collect::<Result<_>>()?;
    let commit = match &e.git {
        Some(g) => format!("{}{}", g.short, if g.dirty { "+dirty" } else { "" }),
        None => "-".into(),
    };
    plist(
        env,
        &[
            (":id", e.id.as_str().into_lisp(env)?),
            (":date", e.date.as_str().into_lisp(env)?),
            (":unix-time", e.unix_time.into_lisp(env)?),
            (":emacs-version", e.emacs_version.as_str().into_lisp(env)?),
            (":native-comp", e.native_comp.into_lisp(env)?),
            (":ui", env.intern(&e.ui)?),
            (":init-directory", e.init_directory.as_str().into_lisp(env)?),
            (":git", git_plist(env, e.git.as_ref())?),
            (":commit", commit.into_lisp(env)?),
            (
                ":packages-digest",
                opt_str(env, e.packages_digest.as_deref())?,
            ),
            (":incomplete", opt_str(env, e.incomplete.as_deref())?),
            (":package-count", (e.package_count as i64).into_lisp(env)?),
            (":runs", (e.runs as i64).into_lisp(env)?),
            (":run-totals", floats(env, &e.run_totals)?),
            (":total-ms", e.total_ms.into_lisp(env)?),
            (":total-ci", env.cons(e.total_ci.0, e.total_ci.1)?),
            (":wall-ms", opt_f64(env, e.wall_ms)?),
            (":overhead-ms", e.overhead_ms.into_lisp(env)?),
            (":phases", env.list(&phases[..])?),
            (":hints", (e.hints as i64).into_lisp(env)?),
            (":errors", (e.errors as i64).into_lisp(env)?),
            (":delta-ms", opt_f64(env, p.delta_ms)?),
            (":regression", p.regression.into_lisp(env)?),
            (":improvement", p.improvement.into_lisp(env)?),
        ],
    )
}

/// Return the profiles recorded in DIR, oldest first, as plists.
/// With INIT-DIRECTORY, only those of that configuration.  Each point
/// says whether its total regressed (`:regression') or improved
/// \(`:improvement') against the previous one, by at least FLOOR
/// milliseconds at false discovery rate ALPHA.
#[defun]
fn startup_history<'e>(
    env: &'e Env,
    dir: String,
    init_directory: Option<String>,
    floor: f64,
    alpha: f64,
) -> Result<Value<'e>> {
    let points = run(env, || {
        let entries = history::entries(&PathBuf::from(&dir))?;
        Ok(history::series(
            entries,
            init_directory.as_deref(),
            floor,
            alpha,
        ))
    })?;
    let items: Vec<Value> = points
        .iter()
        .map(|p| point_plist(env, p))
        .collect::<Result<_>>()?;
    env.list(&items[..])
}

/// Return the profile ID stored in DIR (the latest when ID is nil).
#[defun]
fn startup_load<'e>(env: &'e Env, dir: String, id: Option<String>) -> Result<Value<'e>> {
    let profile = run(env, || history::load(&PathBuf::from(&dir), id.as_deref()))?;
    profile_plist(env, &profile)
}

/// Return the id of the baseline profile in DIR, or nil.
#[defun]
fn startup_baseline(dir: String) -> Result<Option<String>> {
    Ok(history::baseline(&PathBuf::from(dir)))
}

/// Make the profile ID the baseline in DIR.
#[defun]
fn startup_set_baseline(env: &Env, dir: String, id: String) -> Result<()> {
    run(env, || history::set_baseline(&PathBuf::from(&dir), &id))
}

fn delta_plist<'e>(env: &'e Env, d: &Delta) -> Result<Value<'e>> {
    plist(
        env,
        &[
            (":path", strings(env, &d.path)?),
            (":name", opt_str(env, d.path.last().map(String::as_str))?),
            (":kind", env.intern(d.kind.name())?),
            (":file", opt_str(env, d.file.as_deref())?),
            (":measure", env.intern(d.measure)?),
            (":a-ms", d.a_ms.into_lisp(env)?),
            (":b-ms", d.b_ms.into_lisp(env)?),
            (":delta-ms", d.delta_ms().into_lisp(env)?),
            (":p", d.p.into_lisp(env)?),
            (":status", env.intern(d.status.name())?),
            (":in-a", d.in_a.into_lisp(env)?),
            (":in-b", d.in_b.into_lisp(env)?),
            (":moved", d.moved.into_lisp(env)?),
        ],
    )
}

fn side_plist<'e>(env: &'e Env, p: &Profile) -> Result<Value<'e>> {
    plist(
        env,
        &[
            (":id", p.id.as_str().into_lisp(env)?),
            (":date", p.date.as_str().into_lisp(env)?),
            (":runs", (p.runs as i64).into_lisp(env)?),
            (":total-ms", p.total_ms().into_lisp(env)?),
            (":commit", p.commit_label().into_lisp(env)?),
            (":git", git_plist(env, p.git.as_ref())?),
            (":emacs-version", p.emacs_version.as_str().into_lisp(env)?),
            (":incomplete", opt_str(env, p.incomplete.as_deref())?),
        ],
    )
}

fn comparison_plist<'e>(
    env: &'e Env,
    a: &Profile,
    b: &Profile,
    c: &Comparison,
) -> Result<Value<'e>> {
    let list = |ds: &[Delta]| -> Result<Value<'e>> {
        let items: Vec<Value> = ds
            .iter()
            .map(|d| delta_plist(env, d))
            .collect::<Result<_>>()?;
        env.list(&items[..])
    };
    let regressions: Vec<Delta> = c.regressions().cloned().collect();
    plist(
        env,
        &[
            (":a", side_plist(env, a)?),
            (":b", side_plist(env, b)?),
            (":total", delta_plist(env, &c.total)?),
            (":gc", delta_plist(env, &c.gc)?),
            (":phases", list(&c.phases)?),
            (":nodes", list(&c.nodes)?),
            (":regressions", list(&regressions)?),
            (":floor-ms", c.floor_ms.into_lisp(env)?),
            (":alpha", c.alpha.into_lisp(env)?),
            (":notes", strings(env, &c.notes)?),
        ],
    )
}

/// Compare two profiles stored in DIR: B (the latest when nil) against A
/// \(the baseline when nil).  Changes smaller than FLOOR milliseconds, or
/// not significant at false discovery rate ALPHA, are not flagged.
#[defun]
fn startup_compare<'e>(
    env: &'e Env,
    dir: String,
    a: Option<String>,
    b: Option<String>,
    floor: f64,
    alpha: f64,
) -> Result<Value<'e>> {
    let (pa, pb, c) = run(env, || {
        history::compare_stored(
            &PathBuf::from(&dir),
            a.as_deref(),
            b.as_deref(),
            floor,
            alpha,
        )
    })?;
    comparison_plist(env, &pa, &pb, &c)
}

/// Return the resident memory of this Emacs in kilobytes, or nil where
/// it cannot be read.
#[defun]
fn gc_rss_kb() -> Result<Option<i64>> {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return Ok(None);
    };
    let pages: Option<i64> = statm.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Ok(pages.map(|p| p * (page.max(1) as i64) / 1024))
}
