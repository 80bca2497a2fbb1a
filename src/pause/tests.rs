use std::time::Duration;

use super::history::{self, civil_from_days, date_of_day, local_day};
use super::watchdog::{take_stalls, Settings, Stall};
use super::*;

const MS: u64 = 1_000_000;

fn monitor() -> Monitor {
    Monitor::new(Config {
        threshold_ns: 50 * MS,
        ring_size: 100,
        profile_after: 2,
        utc_offset_s: 0,
    })
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "artisan-pause-{tag}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn by_name<'a>(m: &'a Monitor, name: &str) -> &'a Source {
    m.sources()
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no source {name}"))
}

#[test]
fn a_timer_inside_a_command_is_its_own_time() {
    let mut m = monitor();
    let cmd = m.source(Kind::Command, "org-agenda");
    let timer = m.source(Kind::Timer, "my-sync");
    m.enter_at(cmd, 0.0, 0, 0);
    m.enter_at(timer, 0.0, 0, 10 * MS);
    let t = m
        .leave_at(Kind::Timer, 0.0, 0, false, 210 * MS)
        .expect("timer pause");
    assert_eq!(t.seq, Some(1));
    assert_eq!(t.kind, Kind::Timer);
    assert!((t.ms - 200.0).abs() < 1e-6);
    // The command itself worked 10 + 20 ms: no pause.
    assert_eq!(m.leave_at(Kind::Command, 0.0, 0, false, 230 * MS), None);
    assert_eq!(by_name(&m, "org-agenda").all.total_us(), 30_000);
    assert_eq!(by_name(&m, "my-sync").pauses, 1);
    assert_eq!(m.depth(), 0);
    let events: Vec<_> = m.events_since(0.0).collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].source, timer);
}

#[test]
fn garbage_collection_is_attributed_exclusively() {
    let mut m = monitor();
    let cmd = m.source(Kind::Command, "save-buffer");
    let hook = m.source(Kind::Hook, "after-save-hook → f");
    m.enter_at(cmd, 1.0, 0, 0);
    m.enter_at(hook, 1.0, 0, 10 * MS);
    // 40 ms of collection inside the hook function's 100 ms.
    let h = m
        .leave_at(Kind::Hook, 1.04, 0, false, 110 * MS)
        .expect("pause");
    assert!((h.gc_ms - 40.0).abs() < 1e-6, "{}", h.gc_ms);
    // 20 ms more in the command itself.
    let c = m
        .leave_at(Kind::Command, 1.06, 0, false, 200 * MS)
        .expect("pause");
    assert!((c.ms - 100.0).abs() < 1e-6, "{}", c.ms);
    assert!((c.gc_ms - 20.0).abs() < 1e-6, "{}", c.gc_ms);
}

#[test]
fn waiting_for_the_user_is_not_work() {
    let mut m = monitor();
    let cmd = m.source(Kind::Command, "query-replace");
    // sit-for: begins after 10 ms, 2 s of waiting, then 5 ms of work.
    m.enter_at(cmd, 0.0, 0, 0);
    m.wait_at(true, 10 * MS);
    m.wait_at(false, 2010 * MS);
    assert_eq!(m.leave_at(Kind::Command, 0.0, 0, false, 2015 * MS), None);
    assert_eq!(by_name(&m, "query-replace").all.total_us(), 15_000);

    // A minibuffer: the idle timer fires 5 ms into a wait that began at
    // 30 ms; the wait ends when the first minibuffer command starts.
    let mx = m.source(Kind::Command, "execute-extended-command");
    let insert = m.source(Kind::Command, "self-insert-command");
    let exit = m.source(Kind::Command, "exit-minibuffer");
    m.enter_at(mx, 0.0, 0, 3000 * MS);
    assert_eq!(m.idle_at(5 * MS, 0.0, 3035 * MS), None);
    m.enter_at(insert, 0.0, 1, 4000 * MS);
    m.leave_at(Kind::Command, 0.0, 1, false, 4001 * MS);
    assert_eq!(m.idle_at(5 * MS, 0.0, 4010 * MS), None);
    // RET: exit-minibuffer throws out of the minibuffer, so its end is
    // never seen; the chosen command then runs 100 ms inside M-x.
    m.enter_at(exit, 0.0, 1, 5000 * MS);
    let l = m
        .leave_at(Kind::Command, 0.0, 0, false, 5100 * MS)
        .expect("pause");
    assert_eq!(l.source, mx);
    // 30 ms before the first wait, 4 ms between the two, 100 ms after RET.
    assert!((l.ms - 134.0).abs() < 1e-6, "{}", l.ms);
    assert_eq!(m.depth(), 0);
    let e = m.events_since(0.0).last().cloned().expect("event");
    assert!(e.waited);
    // The command thrown out of is never counted.
    assert_eq!(by_name(&m, "exit-minibuffer").all.count(), 0);
}

#[test]
fn redisplay_runs_from_a_command_to_the_wait_for_input() {
    let mut m = monitor();
    let cmd = m.source(Kind::Command, "next-line");
    m.enter_at(cmd, 0.0, 0, 0);
    m.leave_at(Kind::Command, 0.0, 0, true, 2 * MS);
    assert!(m.in_redisplay());
    // A timer runs during it (before redisplay); it is not redisplay time.
    let timer = m.source(Kind::Timer, "blink-cursor-timer-function");
    m.enter_at(timer, 0.0, 0, 3 * MS);
    m.leave_at(Kind::Timer, 0.0, 0, false, 13 * MS);
    // Idle since 82 ms: redisplay took 80 ms minus the timer's 10.
    let r = m.idle_at(20 * MS, 0.0, 102 * MS).expect("redisplay pause");
    assert_eq!(r.kind, Kind::Redisplay);
    assert!((r.ms - 70.0).abs() < 1e-6, "{}", r.ms);
    assert!(!m.in_redisplay());
    // Input came before the idle timer: the next command closes it.
    m.enter_at(cmd, 0.0, 0, 200 * MS);
    m.leave_at(Kind::Command, 0.0, 0, true, 201 * MS);
    m.enter_at(cmd, 0.0, 0, 204 * MS);
    assert!(!m.in_redisplay());
    m.leave_at(Kind::Command, 0.0, 0, false, 205 * MS);
    let redisplay = by_name(&m, "redisplay");
    assert_eq!(redisplay.all.count(), 2);
    assert_eq!(redisplay.all.max_us(), 70_000);
    // Without REDISPLAY (a keyboard macro, batch), nothing is opened.
    assert!(!m.in_redisplay());
}

#[test]
fn a_leave_without_its_enter_is_ignored() {
    let mut m = monitor();
    assert_eq!(m.leave_at(Kind::Command, 0.0, 0, true, 0), None);
    assert!(!m.in_redisplay());
    let f = m.source(Kind::Filter, "cat (my-filter)");
    m.enter_at(f, 0.0, 0, 0);
    assert_eq!(m.leave_at(Kind::Timer, 0.0, 0, false, MS), None);
    assert_eq!(m.depth(), 1);
    assert!(m.leave_at(Kind::Filter, 0.0, 0, false, 60 * MS).is_some());
    // Unknown ids are ignored too.
    assert!(!m.enter_at(999, 0.0, 0, 0));
    assert_eq!(m.depth(), 0);
}

#[test]
fn the_next_occurrence_is_profiled_after_enough_pauses() {
    let mut m = monitor();
    let t = m.source(Kind::Timer, "slow");
    for i in 0..2u64 {
        assert!(!m.enter_at(t, 0.0, 0, i * 1000 * MS));
        let l = m
            .leave_at(Kind::Timer, 0.0, 0, false, i * 1000 * MS + 60 * MS)
            .expect("pause");
        assert_eq!(l.pauses, i + 1);
        assert!(!l.profiled);
    }
    // Third occurrence: profiled, but fast; the profiler stops, nothing kept.
    assert!(m.enter_at(t, 0.0, 0, 3000 * MS));
    let l = m
        .leave_at(Kind::Timer, 0.0, 0, false, 3001 * MS)
        .expect("profiled end");
    assert_eq!(l.seq, None);
    assert!(l.profiled && !l.capture);
    // The attempt is spent: the fourth is not profiled; it is a pause,
    // which makes the fifth a new attempt, slow, so it is captured.
    assert!(!m.enter_at(t, 0.0, 0, 4000 * MS));
    assert!(m.leave_at(Kind::Timer, 0.0, 0, false, 4080 * MS).is_some());
    assert!(m.enter_at(t, 0.0, 0, 5000 * MS));
    let l = m
        .leave_at(Kind::Timer, 0.0, 0, false, 5080 * MS)
        .expect("pause");
    assert!(l.profiled && l.capture && l.seq.is_some());
    // Once captured, no more profiling.
    assert!(!m.enter_at(t, 0.0, 0, 6000 * MS));
    m.leave_at(Kind::Timer, 0.0, 0, false, 6080 * MS);
    assert!(by_name(&m, "slow").profiled);
}

#[test]
fn pauses_of_garbage_collection_ask_for_no_profile() {
    let mut m = monitor();
    let t = m.source(Kind::Command, "org-return");
    for i in 0..3u64 {
        // 80 ms, 60 of them collecting garbage.
        assert!(!m.enter_at(t, 0.0, 0, i * 1000 * MS));
        let l = m.leave_at(Kind::Command, 0.06, 0, false, i * 1000 * MS + 80 * MS);
        assert!(l.is_some_and(|l| l.seq.is_some()));
    }
    assert!(!m.enter_at(t, 0.0, 0, 5000 * MS));
}

#[test]
fn only_one_profile_runs_at_a_time() {
    let mut m = monitor();
    let a = m.source(Kind::Command, "a");
    let b = m.source(Kind::Timer, "b");
    for id in [a, b] {
        let kind = m.get_source(id).map(|s| s.kind).expect("kind");
        for i in 0..2u64 {
            m.enter_at(id, 0.0, 0, i * 100 * MS);
            m.leave_at(kind, 0.0, 0, false, i * 100 * MS + 60 * MS);
        }
    }
    assert!(m.enter_at(a, 0.0, 0, 1000 * MS));
    assert!(!m.enter_at(b, 0.0, 0, 1001 * MS));
    m.leave_at(Kind::Timer, 0.0, 0, false, 1002 * MS);
    let l = m
        .leave_at(Kind::Command, 0.0, 0, false, 1100 * MS)
        .expect("pause");
    assert!(l.capture);
}

#[test]
fn the_ring_keeps_the_latest_pauses_and_context() {
    let mut m = Monitor::new(Config {
        ring_size: 3,
        ..Config::default()
    });
    let t = m.source(Kind::Timer, "t");
    for i in 0..5 {
        let l = m
            .inject(t, 100.0 + f64::from(i), 0.0, 1000.0 + f64::from(i))
            .expect("pause");
        assert_eq!(l.seq, Some(u64::try_from(i).unwrap_or(0) + 1));
    }
    let seqs: Vec<u64> = m.events_since(0.0).map(|e| e.seq).collect();
    assert_eq!(seqs, vec![3, 4, 5]);
    assert!(m.set_context(5, "*scratch*", "lisp-interaction-mode", "C-x C-e", ""));
    assert!(!m.set_context(1, "gone", "", "", ""));
    let e = m.events_since(1004.0).next().cloned().expect("latest");
    assert_eq!(e.buffer, "*scratch*");
    assert_eq!(e.keys, "C-x C-e");
    assert_eq!(m.events_since(1003.5).count(), 1);
    // Statistics cover every occurrence, not only those the ring kept.
    assert_eq!(by_name(&m, "t").pauses, 5);
    m.reset();
    assert_eq!(m.events_since(0.0).count(), 0);
    assert_eq!(by_name(&m, "t").pauses, 0);
}

#[test]
fn sources_rank_by_time_lost_to_pauses() {
    let mut m = monitor();
    let fast = m.source(Kind::Command, "forward-char");
    let slow = m.source(Kind::Timer, "slow-timer");
    let slower = m.source(Kind::Hook, "post-command-hook → f");
    for _ in 0..100 {
        m.inject(fast, 1.0, 0.0, 0.0);
    }
    m.inject(slow, 80.0, 0.0, 0.0);
    m.inject(slower, 300.0, 150.0, 0.0);
    let names: Vec<&str> = m.ranked().iter().map(|(_, s)| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["post-command-hook → f", "slow-timer", "forward-char"]
    );
    let f = by_name(&m, "post-command-hook → f");
    assert_eq!(f.pause_gc_us, 150_000);
    assert_eq!(by_name(&m, "forward-char").pauses, 0);
    assert_eq!(m.source(Kind::Timer, "slow-timer"), slow);
}

#[test]
fn the_watchdog_names_a_stall_and_forgets_it_when_it_ends() {
    let dir = temp_dir("watch");
    let file = dir.join(format!("stall-{}.json", std::process::id()));
    let mut m = monitor();
    m.start_watchdog(Settings {
        file: file.clone(),
        stall: Duration::from_millis(80),
        pid: std::process::id(),
        session: "test".into(),
    })
    .expect("watchdog");
    let cmd = m.source(Kind::Command, "compile");
    let t = m.source(Kind::Timer, "tramp-timer");
    m.enter(cmd, 0.0, 0);
    m.enter(t, 0.0, 0);
    std::thread::sleep(Duration::from_millis(400));
    let stall: Stall =
        serde_json::from_slice(&std::fs::read(&file).expect("stall file")).expect("json");
    assert_eq!(stall.kind, "timer");
    assert_eq!(stall.name, "tramp-timer");
    assert_eq!(stall.outer_kind, "command");
    assert_eq!(stall.outer_name, "compile");
    assert!(stall.seconds >= 0.08, "{}", stall.seconds);
    m.leave(Kind::Timer, 0.0, 0, false);
    m.leave(Kind::Command, 0.0, 0, false);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!file.exists());
    // Waiting for the user is no stall.
    m.enter(cmd, 0.0, 0);
    m.wait(true);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!file.exists());
    m.stop_watchdog();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stalls_of_dead_sessions_are_taken_once() {
    let dir = temp_dir("take");
    let stall = Stall {
        pid: 999_999_999,
        session: "old".into(),
        kind: "timer".into(),
        name: "my-sync".into(),
        outer_kind: "timer".into(),
        outer_name: "my-sync".into(),
        since: 1.0e9,
        seconds: 34.0,
    };
    let dead = dir.join("stall-999999999.json");
    std::fs::write(&dead, serde_json::to_vec(&stall).expect("json")).expect("write");
    // A live process's file (this one's parent) stays.
    let ppid = std::os::unix::process::parent_id();
    let live = dir.join(format!("stall-{ppid}.json"));
    std::fs::write(&live, b"{}").expect("write");
    std::fs::write(dir.join("stall-nonsense.json"), b"x").expect("write");
    assert_eq!(take_stalls(&dir, std::process::id()), vec![stall]);
    assert!(!dead.exists());
    assert!(live.exists());
    assert_eq!(take_stalls(&dir, std::process::id()), vec![]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dates_follow_the_civil_calendar() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(date_of_day(20_788), "2026-12-01");
    assert_eq!(date_of_day(11_016), "2000-02-29");
    assert_eq!(date_of_day(-1), "1969-12-31");
    // 2026-12-01 00:30 UTC is still November 30th in New York (UTC-5).
    let unix = 20_788.0 * 86_400.0 + 1800.0;
    assert_eq!(local_day(unix, 0), 20_788);
    assert_eq!(local_day(unix, -5 * 3600), 20_787);
}

#[test]
fn history_merges_sessions_by_day_and_hour() {
    let dir = temp_dir("history");
    // Two sessions on 2026-12-01, one hour apart, and one the day before.
    let day = 20_788.0 * 86_400.0;
    let mut a = monitor();
    let sync = a.source(Kind::Timer, "my-sync");
    a.inject(sync, 200.0, 20.0, day + 9.5 * 3600.0);
    a.inject(sync, 100.0, 0.0, day - 3600.0);
    let insert = a.source(Kind::Command, "self-insert-command");
    a.inject(insert, 1.0, 0.0, day + 9.6 * 3600.0);
    assert_eq!(history::save(&dir, &a, "a/1").expect("save"), 2);
    let mut b = monitor();
    let sync_b = b.source(Kind::Timer, "my-sync");
    b.inject(sync_b, 300.0, 0.0, day + 10.2 * 3600.0);
    let hook = b.source(Kind::Hook, "post-command-hook → f");
    b.inject(hook, 60.0, 0.0, day + 10.3 * 3600.0);
    assert_eq!(history::save(&dir, &b, "b").expect("save"), 1);
    // Saving again replaces the session's file, it does not add to it.
    assert_eq!(history::save(&dir, &b, "b").expect("save"), 1);

    let days = history::load(&dir, 7, 20_788, 10);
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].date, "2026-11-30");
    let today = &days[1];
    assert_eq!(today.date, "2026-12-01");
    assert_eq!(today.sessions, 2);
    assert_eq!(today.pauses(), 3);
    assert_eq!(today.events(), 4);
    assert_eq!(today.commands(), 1);
    assert!((today.pause_ms() - 560.0).abs() < 1e-6);
    assert_eq!(today.hours[9].pauses, 1);
    assert_eq!(today.hours[10].pauses, 2);
    assert_eq!(today.active_hours(), 2);
    assert_eq!(today.sources[0].name, "my-sync");
    assert_eq!(today.sources[0].pauses, 2);
    assert!((today.sources[0].pause_ms - 500.0).abs() < 1e-6);
    assert!((today.sources[0].max_ms - 300.0).abs() < 1e-6);
    assert_eq!(today.sources[1].kind, "hook");
    assert!(dir.join("2026-12-01").join("a_1.json").exists());
    // One day asked: only today.
    assert_eq!(history::load(&dir, 1, 20_788, 10).len(), 1);
    // Pruning keeps the last day only, and leaves other folders alone.
    std::fs::create_dir_all(dir.join("notes")).expect("mkdir");
    assert_eq!(history::prune(&dir, 1, 20_788), 1);
    assert!(!dir.join("2026-11-30").exists());
    assert!(dir.join("notes").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_history_file_is_skipped() {
    let dir = temp_dir("damaged");
    std::fs::create_dir_all(dir.join("2026-12-01")).expect("mkdir");
    std::fs::write(dir.join("2026-12-01").join("x.json"), b"{not json").expect("write");
    assert!(history::load(&dir, 3, 20_788, 10).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
