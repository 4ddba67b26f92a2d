use std::time::Duration;

use indicatif::{MultiProgress, ProgressDrawTarget};
use viofo_pipeline::{CycleMode, CycleOutcome, CycleSummary, Event};

use super::Progress;
use super::line::{Overall, Quiet, overall_line, short_duration};

fn summary(clips: u64) -> CycleSummary {
    CycleSummary {
        mode: CycleMode::Pipelined,
        clips,
        bytes: clips * 1_000,
        failed: 0,
        deferred: 0,
        write_failures: 0,
        deleted: 0,
        pruned: 0,
        duration: Duration::from_secs(1),
        listing: Duration::from_millis(10),
        outcome: CycleOutcome::Completed,
        note: None,
        stop: None,
    }
}

#[test]
fn the_overall_line_says_bytes_of_total_speed_and_eta() {
    let o = Overall {
        clips_done: 3,
        clips_total: 10,
        bytes_done: 10_000_000,
        bytes_total: Some(40_000_000),
        elapsed: Duration::from_secs(2),
    };
    assert_eq!(
        overall_line(&o),
        "cycle 10.00 MB of 40.00 MB (25%) · 3 of 10 clips · 5.00 MB/s · ETA 6s"
    );
    // Before the queue's sizes are read, and before any speed.
    let o = Overall {
        bytes_total: None,
        elapsed: Duration::from_millis(100),
        ..o
    };
    assert_eq!(
        overall_line(&o),
        "cycle 10.00 MB of … · 3 of 10 clips · … /s · ETA …"
    );
    // More done than the total said (a clip grew): never over 100 %.
    let o = Overall {
        clips_done: 2,
        clips_total: 1,
        bytes_done: 50,
        bytes_total: Some(40),
        elapsed: Duration::from_secs(1),
    };
    assert_eq!(
        overall_line(&o),
        "cycle 50 B of 40 B (100%) · 2 of 2 clips · 50 B/s · ETA 0s"
    );
}

#[test]
fn durations_are_short() {
    assert_eq!(short_duration(Duration::from_secs(45)), "45s");
    assert_eq!(short_duration(Duration::from_secs(185)), "3m 05s");
    assert_eq!(short_duration(Duration::from_secs(3720)), "1h 02m");
}

#[test]
fn an_idle_watch_says_each_thing_once() {
    let mut q = Quiet::default();
    assert!(q.camera(true), "first sight");
    assert!(q.listed(3, 0), "first listing");
    assert!(q.cycle(true), "first idle cycle");
    for _ in 0..3 {
        assert!(!q.camera(true));
        assert!(!q.listed(3, 0));
        assert!(!q.cycle(true));
    }
    // A new clip on the camera is news, and so is the idle after it.
    assert!(q.listed(4, 1));
    assert!(q.cycle(false));
    assert!(q.listed(5, 1), "another clip recorded");
    assert!(q.cycle(true));
    assert_eq!(q.waiting(), 1);
    // The same clip held back cycle after cycle is not news.
    assert!(!q.listed(5, 1));
    assert!(!q.cycle(true));
    assert!(q.listed(5, 0), "it was taken");
    // The camera leaving and coming back is news each time.
    assert!(q.camera(false));
    assert!(!q.camera(false));
    assert!(q.camera(true));
    assert!(q.cycle(true), "nothing to do is said again after a change");
    assert!(!q.cycle(true));
}

#[test]
fn bars_follow_the_cycle_and_come_down_at_its_end() {
    let mp = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
    let p = Progress::on(Some(mp));
    let sink = p.sink();
    sink(Event::CycleStarted {
        mode: CycleMode::Pipelined,
    });
    sink(Event::Listed {
        clips: 5,
        pending: 2,
    });
    assert_eq!(p.bar_count(), 1, "the overall line");
    assert!(
        p.overall_message().unwrap().contains("0 of 2 clips"),
        "{:?}",
        p.overall_message()
    );
    sink(Event::ItemStarted {
        name: "a.MP4".into(),
        size: Some(1_000),
    });
    sink(Event::ItemProgress {
        name: "a.MP4".into(),
        bytes: 400,
        total: Some(1_000),
    });
    assert_eq!(p.bar_count(), 2, "overall and the clip");
    assert!(
        p.overall_message().unwrap().starts_with("cycle 400 B of …"),
        "{:?}",
        p.overall_message()
    );
    sink(Event::ItemDone {
        name: "a.MP4".into(),
        bytes: 1_000,
        duration: Duration::from_millis(10),
    });
    assert_eq!(p.bar_count(), 1);
    assert!(
        p.overall_message().unwrap().contains("1 of 2 clips"),
        "{:?}",
        p.overall_message()
    );
    sink(Event::CycleDone(summary(1)));
    assert_eq!(p.bar_count(), 0, "nothing left behind");
    assert_eq!(p.last_cycle().unwrap().clips, 1);
}

#[test]
fn without_bars_nothing_is_drawn() {
    let p = Progress::on(None);
    let sink = p.sink();
    sink(Event::Listed {
        clips: 5,
        pending: 2,
    });
    sink(Event::ItemStarted {
        name: "a.MP4".into(),
        size: Some(1_000),
    });
    assert_eq!(p.bar_count(), 0);
    assert_eq!(p.overall_message(), None);
}
