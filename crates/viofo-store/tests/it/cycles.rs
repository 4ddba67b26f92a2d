//! The cycle row tells the truth: failed clips (not attempts), deferred
//! clips, unawaited write failures, and an outcome that is not "completed"
//! when clips were left behind.

use std::path::Path;

use viofo_store::{CycleMode, CycleOutcome, CycleStats, Store, StoreOptions};

use crate::common::{CAM, clip, id_of, options};

fn stats(outcome: CycleOutcome) -> CycleStats {
    CycleStats {
        clips: 1,
        bytes: 10,
        outcome,
        note: None,
    }
}

#[tokio::test]
async fn cycle_rows_count_failed_and_deferred_clips_and_write_failures() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(StoreOptions {
        max_attempts: 2,
        ..options(&dir)
    })
    .await
    .unwrap();
    let clips: Vec<_> = (1..=4).map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &clips, |_| None).await.unwrap();
    let mut ids = Vec::new();
    for c in &clips {
        ids.push(id_of(&s, &c.name).await);
    }
    let cycle = s.begin_cycle(CAM, CycleMode::Pipelined).await.unwrap();
    // 0: two attempts, then a permanent failure: one failed clip.
    s.start_download(ids[0], Some(cycle)).await.unwrap();
    s.fail(ids[0], "reset", true).await.unwrap();
    s.start_download(ids[0], Some(cycle)).await.unwrap();
    s.fail(ids[0], "refused by the camera", false)
        .await
        .unwrap();
    // 1: attempts exhausted on resets: deferred.
    for _ in 0..2 {
        s.start_download(ids[1], Some(cycle)).await.unwrap();
        s.fail(ids[1], "reset", true).await.unwrap();
    }
    // 2: downloaded; a tail write nobody awaits is refused.
    s.start_download(ids[2], Some(cycle)).await.unwrap();
    s.finish_download(ids[2], Path::new("/a/2.mp4"), clips[2].size)
        .await
        .unwrap();
    s.finish_tail(ids[2]).await.unwrap();
    s.finish_tail(ids[2]).submit();
    // 3: one reset, then fine: not a failed clip.
    s.start_download(ids[3], Some(cycle)).await.unwrap();
    s.fail(ids[3], "reset", true).await.unwrap();
    s.start_download(ids[3], Some(cycle)).await.unwrap();
    s.finish_download(ids[3], Path::new("/a/3.mp4"), clips[3].size)
        .await
        .unwrap();

    let row = s
        .finish_cycle_report(cycle, stats(CycleOutcome::Completed))
        .await
        .unwrap();
    assert_eq!(row.failed, Some(1), "clips, not attempts");
    assert_eq!(row.deferred, Some(1));
    assert_eq!(row.write_failures, Some(1));
    assert_eq!(row.outcome, Some(CycleOutcome::CompletedWithFailures));
    assert_eq!(s.cycle(cycle).await.unwrap().unwrap(), row);
    let o = CycleOutcome::CompletedWithFailures;
    assert!(!o.is_ok());
    assert_eq!(o.as_str(), "completed_with_failures");
    assert_eq!(o.to_string(), "completed_with_failures");

    // A clean cycle stays completed, with zero counters.
    let clean = s.begin_cycle(CAM, CycleMode::Pipelined).await.unwrap();
    s.finish_cycle(clean, stats(CycleOutcome::Completed))
        .await
        .unwrap();
    let row = s.cycle(clean).await.unwrap().unwrap();
    assert_eq!(row.outcome, Some(CycleOutcome::Completed));
    assert!(CycleOutcome::Completed.is_ok());
    assert_eq!(
        (row.failed, row.deferred, row.write_failures),
        (Some(0), Some(0), Some(0))
    );

    // An outcome that is already not ok is kept as it is.
    let lost = s.begin_cycle(CAM, CycleMode::Inline).await.unwrap();
    s.start_download(ids[1], Some(lost)).await.unwrap();
    s.fail(ids[1], "refused", false).await.unwrap();
    let row = s
        .finish_cycle_report(lost, stats(CycleOutcome::CameraLost))
        .await
        .unwrap();
    assert_eq!(row.outcome, Some(CycleOutcome::CameraLost));
    assert_eq!(row.failed, Some(1));
    assert!(!CycleOutcome::CameraLost.is_ok());
    s.close().await.unwrap();
}
