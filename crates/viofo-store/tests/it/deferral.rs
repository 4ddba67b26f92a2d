//! Transient failures never strand a clip: exhausted retryable attempts
//! defer it to the next cycle instead of failing it for ever.

use viofo_store::{
    ClipState, CycleMode, CycleOutcome, CycleStats, FailOutcome, Filter, Policy, Store,
    StoreOptions,
};

use crate::common::{CAM, clip, id_of, options};

async fn pick(s: &Store) -> Option<String> {
    s.next_pending(CAM, Policy::OldestFirst, &Filter::default())
        .await
        .unwrap()
        .map(|r| r.name)
}

#[tokio::test]
async fn exhausted_retryable_attempts_defer_to_the_next_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(StoreOptions {
        max_attempts: 3,
        ..options(&dir)
    })
    .await
    .unwrap();
    let c = clip(1, 0);
    s.reconcile(CAM, std::slice::from_ref(&c), |_| None)
        .await
        .unwrap();
    let id = id_of(&s, &c.name).await;
    let cycle = s.begin_cycle(CAM, CycleMode::Pipelined).await.unwrap();
    // A burst of connection resets within one cycle.
    for _ in 0..3 {
        assert_eq!(pick(&s).await.as_deref(), Some(c.name.as_str()));
        s.start_download(id, Some(cycle)).await.unwrap();
        assert_eq!(
            s.fail(id, "connection reset", true).await.unwrap(),
            ClipState::Pending
        );
    }
    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!(row.state, ClipState::Pending, "never stranded as failed");
    assert_eq!(row.last_error.as_deref(), Some("connection reset"));
    assert_eq!((row.attempts, row.deferrals), (0, 1));
    assert_eq!(row.deferred_in, Some(cycle));
    // The queue listing shows why it waits.
    let listed = s.list(Some(CAM), &[ClipState::Pending], 10).await.unwrap();
    assert_eq!(listed[0].deferrals, 1);
    assert_eq!(listed[0].last_error.as_deref(), Some("connection reset"));
    // Not offered again in the same cycle...
    assert_eq!(pick(&s).await, None);
    s.finish_cycle(
        cycle,
        CycleStats {
            clips: 0,
            bytes: 0,
            outcome: CycleOutcome::Completed,
            note: None,
        },
    )
    .await
    .unwrap();
    // ...but offered once that cycle is over, and in the next one.
    assert_eq!(pick(&s).await.as_deref(), Some(c.name.as_str()));
    let next = s.begin_cycle(CAM, CycleMode::Pipelined).await.unwrap();
    assert_eq!(pick(&s).await.as_deref(), Some(c.name.as_str()));
    // A fresh set of attempts: two more resets leave it retryable at once.
    for n in 1..=2 {
        s.start_download(id, Some(next)).await.unwrap();
        assert_eq!(
            s.fail_with_outcome(id, "connection reset", true)
                .await
                .unwrap(),
            FailOutcome::RetryNow { attempts: n }
        );
        assert_eq!(pick(&s).await.as_deref(), Some(c.name.as_str()));
    }
    // Exhausted again: deferred a second time, past this (newest) cycle.
    s.start_download(id, Some(next)).await.unwrap();
    assert_eq!(
        s.fail_with_outcome(id, "stalled", true).await.unwrap(),
        FailOutcome::Deferred { deferrals: 2 }
    );
    assert_eq!(pick(&s).await, None);
    let third = s.begin_cycle(CAM, CycleMode::Pipelined).await.unwrap();
    assert_eq!(pick(&s).await.as_deref(), Some(c.name.as_str()));
    // Only a permanent failure ends in failed, with its reason.
    s.start_download(id, Some(third)).await.unwrap();
    assert_eq!(
        s.fail(id, "404 after a fresh listing", false)
            .await
            .unwrap(),
        ClipState::Failed
    );
    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!(row.state, ClipState::Failed);
    assert_eq!(row.last_error.as_deref(), Some("404 after a fresh listing"));
    s.close().await.unwrap();
}

#[tokio::test]
async fn a_deferral_in_another_cameras_cycle_does_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(StoreOptions {
        max_attempts: 1,
        ..options(&dir)
    })
    .await
    .unwrap();
    let c = clip(1, 0);
    s.reconcile(CAM, std::slice::from_ref(&c), |_| None)
        .await
        .unwrap();
    let id = id_of(&s, &c.name).await;
    let cycle = s.begin_cycle(CAM, CycleMode::Inline).await.unwrap();
    s.start_download(id, Some(cycle)).await.unwrap();
    assert_eq!(
        s.fail_with_outcome(id, "reset", true).await.unwrap(),
        FailOutcome::Deferred { deferrals: 1 }
    );
    // Another camera's cycle does not release it.
    s.begin_cycle("cam-2", CycleMode::Inline).await.unwrap();
    assert_eq!(pick(&s).await, None);
    // A successful download clears the deferral (the count stays).
    let next = s.begin_cycle(CAM, CycleMode::Inline).await.unwrap();
    s.start_download(id, Some(next)).await.unwrap();
    s.finish_download(id, std::path::Path::new("/a/x.mp4"), c.size)
        .await
        .unwrap();
    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!((row.deferrals, row.deferred_in), (1, None));
    assert_eq!(row.last_error, None);
    s.close().await.unwrap();
}
