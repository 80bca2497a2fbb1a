//! Shims of the responsiveness monitor.  The begin/end shims are on the hot
//! path (every command, timer and filter): they take integers and the float
//! `gc-elapsed` already is, and return nil unless there is something to do.
//! The work is in `crate::pause`.

use std::path::PathBuf;
use std::time::Duration;

use emacs::{defun, Env, IntoLisp, Result, Transfer, Value};

use super::{plist, run};
use crate::error::Error;
use crate::pause::history::{self, DaySummary};
use crate::pause::watchdog::{self, Settings, Stall};
use crate::pause::{Config, Kind, Leave, Monitor, PauseEvent, Source};

/// A monitor as Lisp holds it, a `user-ptr`.
pub struct PauseMonitor(Monitor);

impl Transfer for PauseMonitor {
    fn type_name() -> &'static str {
        "artisan-pause-monitor"
    }
}

fn positive(x: i64) -> u64 {
    u64::try_from(x).unwrap_or(0)
}

fn threshold_ns(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        (ms * 1e6) as u64
    } else {
        0
    }
}

/// Return a new monitor: pauses last THRESHOLD-MS or more, RING-SIZE of
/// them are kept, the next occurrence of a source is profiled after
/// PROFILE-AFTER pauses (0: never), UTC-OFFSET is local time minus UTC in
/// seconds.
#[defun(user_ptr)]
fn pause_new(
    threshold_ms: f64,
    ring_size: i64,
    profile_after: i64,
    utc_offset: i64,
) -> Result<PauseMonitor> {
    Ok(PauseMonitor(Monitor::new(Config {
        threshold_ns: threshold_ns(threshold_ms),
        ring_size: usize::try_from(ring_size).unwrap_or(0),
        profile_after: positive(profile_after),
        utc_offset_s: utc_offset,
    })))
}

/// Change the THRESHOLD-MS, PROFILE-AFTER and UTC-OFFSET of MON.
#[defun]
fn pause_configure(
    mon: &mut PauseMonitor,
    threshold_ms: f64,
    profile_after: i64,
    utc_offset: i64,
) -> Result<()> {
    mon.0.set_threshold_ns(threshold_ns(threshold_ms));
    mon.0.set_profile_after(positive(profile_after));
    mon.0.set_utc_offset(utc_offset);
    Ok(())
}

/// Return the id of the source of KIND (a string: command, timer, filter,
/// sentinel, hook, redisplay) named NAME in MON, registering it.
#[defun]
fn pause_source(env: &Env, mon: &mut PauseMonitor, kind: String, name: String) -> Result<i64> {
    let kind = run(env, || {
        Kind::parse(&kind).ok_or_else(|| {
            Error::new(
                crate::error::Kind::Pause,
                format!("Unknown kind of source: {kind}"),
            )
        })
    })?;
    Ok(i64::from(mon.0.source(kind, &name)))
}

fn id_of(id: i64) -> u32 {
    u32::try_from(id).unwrap_or(u32::MAX)
}

/// Source ID of MON begins now; GC is `gc-elapsed', LEVEL the
/// `recursion-depth' (for commands).  Return t when this occurrence should
/// be profiled.
#[defun]
fn pause_enter(mon: &mut PauseMonitor, id: i64, gc: f64, level: i64) -> Result<bool> {
    Ok(mon.0.enter(id_of(id), gc, level))
}

/// The innermost open work of KIND (a code: 0 command, 1 timer, 2 filter,
/// 3 sentinel, 4 hook) in MON ends now (a command: the one that ran at
/// `recursion-depth' LEVEL); GC is `gc-elapsed'.  With
/// REDISPLAY non-nil, measure the redisplay that follows a command.
/// Return nil, or (SEQ KIND ID MS GC-MS PAUSES PROFILED CAPTURE) for a
/// pause (SEQ non-nil) or the end of a profiled occurrence (PROFILED).
#[defun]
fn pause_leave<'e>(
    env: &'e Env,
    mon: &mut PauseMonitor,
    kind: i64,
    gc: f64,
    level: i64,
    redisplay: Value<'e>,
) -> Result<Value<'e>> {
    let Some(kind) = Kind::from_code(kind) else {
        return ().into_lisp(env);
    };
    let leave = mon.0.leave(kind, gc, level, redisplay.is_not_nil());
    leave_value(env, leave)
}

/// Emacs has been idle IDLE seconds (an idle timer fired); GC is
/// `gc-elapsed'.  Return what `artisan--pause-leave' returns.
#[defun]
fn pause_idle<'e>(env: &'e Env, mon: &mut PauseMonitor, idle: f64, gc: f64) -> Result<Value<'e>> {
    let ns = if idle.is_finite() && idle > 0.0 {
        (idle * 1e9) as u64
    } else {
        0
    };
    let leave = mon.0.idle(ns, gc);
    leave_value(env, leave)
}

/// The innermost work of MON begins (BEGIN non-nil) or ends a wait that
/// input interrupts (`sit-for').
#[defun]
fn pause_wait(mon: &mut PauseMonitor, begin: Value<'_>) -> Result<()> {
    mon.0.wait(begin.is_not_nil());
    Ok(())
}

/// Record in MON an occurrence of source ID that took MS milliseconds,
/// GC-MS of them collecting garbage, begun at TIME (`float-time').
/// Return what `artisan--pause-leave' returns.  For occurrences known
/// otherwise (a hang of an earlier session) and for tests.
#[defun]
fn pause_inject<'e>(
    env: &'e Env,
    mon: &mut PauseMonitor,
    id: i64,
    ms: f64,
    gc_ms: f64,
    time: f64,
) -> Result<Value<'e>> {
    let leave = mon.0.inject(id_of(id), ms, gc_ms, time);
    leave_value(env, leave)
}

fn leave_value<'e>(env: &'e Env, leave: Option<Leave>) -> Result<Value<'e>> {
    let Some(l) = leave else {
        return ().into_lisp(env);
    };
    let kind = Kind::ALL.iter().position(|k| *k == l.kind).unwrap_or(0) as i64;
    env.list((
        l.seq.map(|s| s as i64),
        kind,
        i64::from(l.source),
        l.ms,
        l.gc_ms,
        l.pauses as i64,
        l.profiled,
        l.capture,
    ))
}

/// Attach to the pause SEQ of MON its BUFFER, MODE, KEYS and NOTE
/// (strings).  Return nil when it already left the ring.
#[defun]
fn pause_context(
    mon: &mut PauseMonitor,
    seq: i64,
    buffer: String,
    mode: String,
    keys: String,
    note: String,
) -> Result<bool> {
    Ok(mon
        .0
        .set_context(positive(seq), &buffer, &mode, &keys, &note))
}

fn source_plist<'e>(env: &'e Env, id: usize, s: &Source) -> Result<Value<'e>> {
    let ms = |us: u64| us as f64 / 1e3;
    let q = |q: f64| s.all.quantile_us(q).map(ms);
    plist(
        env,
        &[
            (":kind", env.intern(s.kind.name())?),
            (":name", s.name.as_str().into_lisp(env)?),
            (":count", (s.all.count() as i64).into_lisp(env)?),
            (":total-ms", ms(s.all.total_us()).into_lisp(env)?),
            (":max-ms", ms(s.all.max_us()).into_lisp(env)?),
            (":median-ms", q(0.5).into_lisp(env)?),
            (":p95-ms", q(0.95).into_lisp(env)?),
            (":gc-ms", ms(s.gc_us).into_lisp(env)?),
            (":pauses", (s.pauses as i64).into_lisp(env)?),
            (":pause-ms", ms(s.pause_us).into_lisp(env)?),
            (":pause-gc-ms", ms(s.pause_gc_us).into_lisp(env)?),
            (":id", (id as i64).into_lisp(env)?),
        ],
    )
}

/// Return every source MON saw, worst first, as plists.
#[defun]
fn pause_sources<'e>(env: &'e Env, mon: &PauseMonitor) -> Result<Value<'e>> {
    let mut items = Vec::new();
    for (id, s) in mon.0.ranked() {
        items.push(source_plist(env, id as usize, s)?);
    }
    env.list(&items[..])
}

fn event_plist<'e>(env: &'e Env, mon: &Monitor, e: &PauseEvent) -> Result<Value<'e>> {
    let (kind, name) = mon
        .get_source(e.source)
        .map(|s| (s.kind.name(), s.name.as_str()))
        .unwrap_or(("command", "?"));
    let text = |s: &str| -> Result<Value<'e>> {
        if s.is_empty() {
            ().into_lisp(env)
        } else {
            s.into_lisp(env)
        }
    };
    plist(
        env,
        &[
            (":seq", (e.seq as i64).into_lisp(env)?),
            (":kind", env.intern(kind)?),
            (":name", name.into_lisp(env)?),
            (":id", i64::from(e.source).into_lisp(env)?),
            (":time", e.start_unix.into_lisp(env)?),
            (":ms", e.ms.into_lisp(env)?),
            (":gc-ms", e.gc_ms.into_lisp(env)?),
            (":waited", e.waited.into_lisp(env)?),
            (":profiled", e.profiled.into_lisp(env)?),
            (":buffer", text(&e.buffer)?),
            (":mode", text(&e.mode)?),
            (":keys", text(&e.keys)?),
            (":note", text(&e.note)?),
        ],
    )
}

/// Return the pauses MON keeps that began at or after SINCE (`float-time'
/// seconds), oldest first, as plists.
#[defun]
fn pause_events<'e>(env: &'e Env, mon: &PauseMonitor, since: f64) -> Result<Value<'e>> {
    let mut items = Vec::new();
    for e in mon.0.events_since(since) {
        items.push(event_plist(env, &mon.0, e)?);
    }
    env.list(&items[..])
}

/// Return a plist about MON: `:started' (`float-time'), `:depth' (open
/// work), `:threshold-ms', `:watching' (the watchdog runs), `:sources'.
#[defun]
fn pause_info<'e>(env: &'e Env, mon: &PauseMonitor) -> Result<Value<'e>> {
    plist(
        env,
        &[
            (":started", mon.0.started_unix().into_lisp(env)?),
            (":depth", (mon.0.depth() as i64).into_lisp(env)?),
            (
                ":threshold-ms",
                (mon.0.config().threshold_ns as f64 / 1e6).into_lisp(env)?,
            ),
            (":watching", mon.0.watching().into_lisp(env)?),
            (":sources", (mon.0.sources().len() as i64).into_lisp(env)?),
        ],
    )
}

/// Forget every measurement of MON.
#[defun]
fn pause_reset(mon: &mut PauseMonitor) -> Result<()> {
    mon.0.reset();
    Ok(())
}

/// Drop the open work of MON (the mode was turned off) and stop its watchdog.
#[defun]
fn pause_close(mon: &mut PauseMonitor) -> Result<()> {
    mon.0.close_all();
    mon.0.stop_watchdog();
    Ok(())
}

/// Start the watchdog of MON: when Emacs stays busy STALL seconds, FILE
/// names what runs (and SESSION), until Emacs responds again.
#[defun]
fn pause_watch(
    env: &Env,
    mon: &mut PauseMonitor,
    file: String,
    stall: f64,
    session: String,
) -> Result<()> {
    let stall = if stall.is_finite() && stall > 0.0 {
        stall
    } else {
        5.0
    };
    run(env, || {
        mon.0.start_watchdog(Settings {
            file: PathBuf::from(file),
            stall: Duration::from_secs_f64(stall),
            pid: std::process::id(),
            session,
        })
    })
}

fn stall_plist<'e>(env: &'e Env, s: &Stall) -> Result<Value<'e>> {
    plist(
        env,
        &[
            (":pid", i64::from(s.pid).into_lisp(env)?),
            (":session", s.session.as_str().into_lisp(env)?),
            (
                ":kind",
                env.intern(Kind::parse(&s.kind).map_or("command", Kind::name))?,
            ),
            (":name", s.name.as_str().into_lisp(env)?),
            (
                ":outer-kind",
                env.intern(Kind::parse(&s.outer_kind).map_or("command", Kind::name))?,
            ),
            (":outer-name", s.outer_name.as_str().into_lisp(env)?),
            (":since", s.since.into_lisp(env)?),
            (":seconds", s.seconds.into_lisp(env)?),
        ],
    )
}

/// Read and remove the stall files in DIR left by Emacs sessions that are
/// gone; return them as plists, oldest first.
#[defun]
fn pause_take_stalls<'e>(env: &'e Env, dir: String) -> Result<Value<'e>> {
    let mut items = Vec::new();
    for s in watchdog::take_stalls(&PathBuf::from(dir), std::process::id()) {
        items.push(stall_plist(env, &s)?);
    }
    env.list(&items[..])
}

/// Write the daily summaries of MON for SESSION under DIR; return how
/// many days were written.
#[defun]
fn pause_history_save(env: &Env, mon: &PauseMonitor, dir: String, session: String) -> Result<i64> {
    run(env, || {
        history::save(&PathBuf::from(dir), &mon.0, &session).map(|n| n as i64)
    })
}

fn day_plist<'e>(env: &'e Env, d: &DaySummary) -> Result<Value<'e>> {
    let mut sources = Vec::new();
    for s in &d.sources {
        sources.push(plist(
            env,
            &[
                (
                    ":kind",
                    env.intern(Kind::parse(&s.kind).map_or("command", Kind::name))?,
                ),
                (":name", s.name.as_str().into_lisp(env)?),
                (":pauses", (s.pauses as i64).into_lisp(env)?),
                (":pause-ms", s.pause_ms.into_lisp(env)?),
                (":max-ms", s.max_ms.into_lisp(env)?),
            ],
        )?);
    }
    let hour_pauses: Vec<Value> = d
        .hours
        .iter()
        .map(|h| (h.pauses as i64).into_lisp(env))
        .collect::<Result<_>>()?;
    let hour_ms: Vec<Value> = d
        .hours
        .iter()
        .map(|h| h.pause_ms.into_lisp(env))
        .collect::<Result<_>>()?;
    let hour_commands: Vec<Value> = d
        .hours
        .iter()
        .map(|h| (h.commands as i64).into_lisp(env))
        .collect::<Result<_>>()?;
    plist(
        env,
        &[
            (":date", d.date.as_str().into_lisp(env)?),
            (":sessions", (d.sessions as i64).into_lisp(env)?),
            (":events", (d.events() as i64).into_lisp(env)?),
            (":commands", (d.commands() as i64).into_lisp(env)?),
            (":pauses", (d.pauses() as i64).into_lisp(env)?),
            (":pause-ms", d.pause_ms().into_lisp(env)?),
            (":gc-ms", d.gc_ms().into_lisp(env)?),
            (":active-hours", (d.active_hours() as i64).into_lisp(env)?),
            (":hour-pauses", env.list(&hour_pauses[..])?),
            (":hour-ms", env.list(&hour_ms[..])?),
            (":hour-commands", env.list(&hour_commands[..])?),
            (":sources", env.list(&sources[..])?),
        ],
    )
}

/// Return the daily summaries under DIR of the last DAYS days, oldest
/// first, each with its TOP worst sources; UTC-OFFSET (seconds) says
/// which day is today.
#[defun]
fn pause_history<'e>(
    env: &'e Env,
    dir: String,
    days: i64,
    utc_offset: i64,
    top: i64,
) -> Result<Value<'e>> {
    let today = history::local_day(now_unix(), utc_offset);
    let days = history::load(
        &PathBuf::from(dir),
        usize::try_from(days).unwrap_or(0),
        today,
        usize::try_from(top).unwrap_or(0),
    );
    let mut items = Vec::new();
    for d in &days {
        items.push(day_plist(env, d)?);
    }
    env.list(&items[..])
}

/// Remove the day folders under DIR older than KEEP days (UTC-OFFSET
/// says which day is today); return how many.
#[defun]
fn pause_history_prune(dir: String, keep: i64, utc_offset: i64) -> Result<i64> {
    let today = history::local_day(now_unix(), utc_offset);
    Ok(history::prune(
        &PathBuf::from(dir),
        usize::try_from(keep).unwrap_or(0).max(1),
        today,
    ) as i64)
}

fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Return (KIND NAME) of the source ID of MON, KIND a symbol; nil if none.
#[defun]
fn pause_source_info<'e>(env: &'e Env, mon: &PauseMonitor, id: i64) -> Result<Value<'e>> {
    match mon.0.get_source(id_of(id)) {
        Some(s) => env.list((env.intern(s.kind.name())?, s.name.as_str())),
        None => ().into_lisp(env),
    }
}
