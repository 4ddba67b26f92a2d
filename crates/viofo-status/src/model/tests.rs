//! Unit tests of the model's bookkeeping, timed by explicit instants.

use std::time::{Duration, Instant};

use viofo_pipeline::{CycleMode, CycleOutcome, CycleSummary, Event, EventSink};

use super::{StatusConfig, StatusModel};
use crate::snapshot::SyncState;
use crate::sticky::{NoPersistence, StickyKind};

const T0: i64 = 1_766_577_804_000;

fn model() -> StatusModel {
    StatusModel::new(StatusConfig::new("cam", "/nonexistent"), NoPersistence)
}

fn summary(outcome: CycleOutcome, failed: u64, note: Option<&str>) -> CycleSummary {
    CycleSummary {
        mode: CycleMode::Pipelined,
        clips: 1,
        bytes: 10,
        failed,
        deferred: 0,
        write_failures: 0,
        deleted: 0,
        pruned: 0,
        duration: Duration::from_secs(1),
        listing: Duration::ZERO,
        outcome,
        note: note.map(str::to_owned),
        stop: None,
    }
}

#[test]
fn download_speed_eta_and_cycle_progress() {
    let m = model();
    let t = Instant::now();
    let at = |s: u64| t + Duration::from_secs(s);
    m.apply_at(
        &Event::CycleStarted {
            mode: CycleMode::Pipelined,
        },
        at(0),
        T0,
    );
    m.state()
        .set_pending(vec![("a".into(), 1_000), ("b".into(), 3_000)], at(0));
    m.apply_at(
        &Event::ItemStarted {
            name: "a".into(),
            size: Some(1_000),
        },
        at(0),
        T0,
    );
    m.apply_at(
        &Event::ItemProgress {
            name: "a".into(),
            bytes: 500,
            total: Some(1_000),
        },
        at(1),
        T0,
    );
    let s = m.state().snapshot(at(1), T0 + 1_000);
    assert_eq!(s.state, SyncState::Downloading);
    let d = &s.downloads[0];
    assert_eq!(
        (d.bytes, d.total, d.percent),
        (500, Some(1_000), Some(50.0))
    );
    assert_eq!(d.speed_bps, Some(500.0));
    assert_eq!(d.eta_secs, Some(1));
    let c = s.cycle.as_ref().unwrap();
    // a (1,000, half done) + b (3,000 pending).
    assert_eq!((c.bytes_done, c.bytes_total), (500, Some(4_000)));
    assert_eq!(c.eta_secs, Some(7), "3,500 bytes left at 500 B/s");

    m.apply_at(
        &Event::ItemDone {
            name: "a".into(),
            bytes: 1_000,
            duration: Duration::from_secs(2),
        },
        at(2),
        T0,
    );
    m.apply_at(
        &Event::ItemStarted {
            name: "b".into(),
            size: Some(3_000),
        },
        at(3),
        T0,
    );
    let s = m.state().snapshot(at(3), T0);
    let c = s.cycle.as_ref().unwrap();
    assert_eq!(
        (c.clips_done, c.bytes_done, c.bytes_total),
        (1, 1_000, Some(4_000))
    );
    let metrics = m.render_metrics();
    assert!(
        metrics.contains("viofosync_clips_archived_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("viofosync_downloaded_bytes_total 1000\n"),
        "{metrics}"
    );
    // One gap of 1 s, from a's end to b's start.
    assert!(
        metrics.contains("viofosync_download_gap_seconds_count 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("viofosync_download_gap_seconds_sum 1.0\n"),
        "{metrics}"
    );

    m.apply_at(
        &Event::CycleDone(summary(CycleOutcome::Completed, 0, None)),
        at(9),
        T0,
    );
    let s = m.state().snapshot(at(9), T0);
    assert_eq!(s.state, SyncState::Waiting);
    assert!(s.cycle.is_none() && s.downloads.is_empty());
    assert!(
        m.render_metrics()
            .contains("viofosync_cycles_total{outcome=\"completed\"} 1\n")
    );
}

#[test]
fn a_retryable_failure_returns_its_bytes_to_the_total() {
    let m = model();
    let t = Instant::now();
    m.apply_at(
        &Event::CycleStarted {
            mode: CycleMode::Pipelined,
        },
        t,
        T0,
    );
    m.state().set_pending(vec![("a".into(), 1_000)], t);
    m.apply_at(
        &Event::ItemStarted {
            name: "a".into(),
            size: Some(1_000),
        },
        t,
        T0,
    );
    let fail = |retryable| Event::ItemFailed {
        name: "a".into(),
        error: "reset".into(),
        retryable,
    };
    m.apply_at(&fail(true), t, T0);
    let s = m.state().snapshot(t, T0);
    assert_eq!(s.cycle.as_ref().unwrap().bytes_total, Some(1_000));
    assert_eq!(s.cycle.as_ref().unwrap().clips_failed, 0);
    m.apply_at(
        &Event::ItemStarted {
            name: "a".into(),
            size: Some(1_000),
        },
        t,
        T0,
    );
    m.apply_at(&fail(false), t, T0);
    let s = m.state().snapshot(t, T0);
    assert_eq!(
        s.cycle.as_ref().unwrap().bytes_total,
        Some(0),
        "failed for good: not to do"
    );
    assert_eq!(s.cycle.as_ref().unwrap().clips_failed, 1);
    assert!(
        m.render_metrics()
            .contains("viofosync_download_failures_total 2\n")
    );
}

#[test]
fn camera_away_is_waiting_not_an_error() {
    let m = model();
    m.emit(Event::CameraOffline {
        reason: "connection refused".into(),
    });
    m.emit(Event::NextCycle {
        delay: Duration::from_secs(30),
        camera_away: true,
    });
    let s = m.snapshot();
    assert_eq!(s.state, SyncState::Waiting);
    assert!(s.errors.is_empty());
    assert!(!s.camera.online);
    assert_eq!(
        s.camera.offline_reason.as_deref(),
        Some("connection refused")
    );
    assert!(s.next_cycle.unwrap().camera_away);
    m.emit(Event::CameraOnline {
        firmware: Some("VIOFO_A329S_V2.0".into()),
        model: Some("A329S".into()),
    });
    let s = m.snapshot();
    assert!(s.camera.online && s.camera.offline_reason.is_none());
    assert_eq!(s.camera.model.as_deref(), Some("A329S"));
    assert_eq!(s.camera.firmware.as_deref(), Some("VIOFO_A329S_V2.0"));
}

#[test]
fn disk_full_is_sticky_until_a_clip_is_archived() {
    let m = model();
    let t = Instant::now();
    m.apply_at(
        &Event::CycleStarted {
            mode: CycleMode::Pipelined,
        },
        t,
        T0,
    );
    let note = "disk full: No space left on device (os error 28)";
    m.apply_at(
        &Event::CycleDone(summary(CycleOutcome::Failed, 0, Some(note))),
        t,
        T0,
    );
    let s = m.state().snapshot(t, T0);
    assert_eq!(s.state, SyncState::Error);
    assert_eq!(s.errors[0].kind, StickyKind::DiskFull);
    let since = s.errors[0].since.clone();
    // A quiet cycle with nothing to do does not clear it, and keeps its time.
    m.apply_at(
        &Event::CycleStarted {
            mode: CycleMode::Pipelined,
        },
        t,
        T0 + 60_000,
    );
    m.apply_at(
        &Event::CycleDone(summary(CycleOutcome::Failed, 0, Some(note))),
        t,
        T0 + 60_000,
    );
    let s = m.state().snapshot(t, T0 + 60_000);
    assert_eq!(
        (s.errors.len(), s.errors[0].since.as_str()),
        (1, since.as_str())
    );
    assert_eq!(s.state, SyncState::Error);
    assert!(
        m.render_metrics()
            .contains("viofosync_sticky_error{kind=\"disk_full\"} 1\n")
    );
    m.apply_at(
        &Event::CycleStarted {
            mode: CycleMode::Pipelined,
        },
        t,
        T0,
    );
    assert_eq!(
        m.state().sync_state(),
        SyncState::Error,
        "a blocking error outranks a running cycle"
    );
    m.apply_at(
        &Event::ItemStarted {
            name: "x".into(),
            size: None,
        },
        t,
        T0,
    );
    m.apply_at(
        &Event::ItemDone {
            name: "x".into(),
            bytes: 1,
            duration: Duration::ZERO,
        },
        t,
        T0,
    );
    assert!(m.state().sticky().is_empty());
    assert_eq!(m.state().sync_state(), SyncState::Downloading);
    assert!(
        m.render_metrics()
            .contains("viofosync_sticky_error{kind=\"disk_full\"} 0\n")
    );
}

#[test]
fn failed_clips_are_an_error_that_does_not_hide_a_running_cycle() {
    let m = model();
    let t = Instant::now();
    m.apply_at(
        &Event::CycleStarted {
            mode: CycleMode::Pipelined,
        },
        t,
        T0,
    );
    m.apply_at(
        &Event::CycleDone(summary(CycleOutcome::CompletedWithFailures, 2, None)),
        t,
        T0,
    );
    assert_eq!(m.state().sync_state(), SyncState::Error);
    assert!(
        m.state().sticky()[0]
            .message
            .starts_with("2 clips left failed")
    );
    m.apply_at(
        &Event::CycleStarted {
            mode: CycleMode::Pipelined,
        },
        t,
        T0,
    );
    assert_eq!(m.state().sync_state(), SyncState::Downloading);
    m.set_paused(true);
    assert_eq!(m.snapshot().state, SyncState::Paused);
}

#[test]
fn archive_and_configuration_errors_clear_when_a_cycle_starts() {
    let m = model();
    m.set_error(
        StickyKind::Configuration,
        "listen = 0.0.0.0 without a token",
    );
    m.set_error(
        StickyKind::ArchiveUnwritable,
        "archive folder /x does not exist",
    );
    assert_eq!(m.snapshot().errors.len(), 2);
    m.emit(Event::CycleStarted {
        mode: CycleMode::Pipelined,
    });
    assert!(m.snapshot().errors.is_empty());
    m.set_error(StickyKind::Configuration, "bad");
    m.clear_error(StickyKind::Configuration);
    assert!(m.snapshot().errors.is_empty());
}
