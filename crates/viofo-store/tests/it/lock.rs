//! The writer survives another process holding the write lock for 10 s.
//!
//! The other process is `viofo-testkit`'s lock holder ([`LockHolder`]): it
//! takes `BEGIN IMMEDIATE`, prints `locked`, holds the lock for 10 s, lets
//! it go, prints `released` (the testkit's own tests check that it really
//! takes and frees the lock).

use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;
use viofo_store::{ClipState, Stage, Store, StoreOptions};
use viofo_testkit::{Hold, LockHolder};

use crate::common::{CAM, clip, id_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writer_survives_another_process_holding_the_lock_for_10s() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("viofosync.db");
    let store = Store::open(StoreOptions {
        busy_timeout: Duration::from_secs(2),
        ..StoreOptions::at(&path)
    })
    .await
    .unwrap();
    let clips: Vec<_> = (0..20).map(|i| clip(i, i64::from(i))).collect();
    store.reconcile(CAM, &clips, |_| None).await.unwrap();
    let mut ids = Vec::new();
    for c in &clips {
        ids.push(id_of(&store, &c.name).await);
    }

    let mut holder = LockHolder::start(&path, Hold::For(Duration::from_secs(10))).await;

    // While the other process holds the lock: fire-and-forget timings
    // return at once, awaited writes queue up, reads still work.
    for (k, id) in ids.iter().enumerate() {
        store.record_timing(*id, Stage::DownloadStarted, 1_000 + k as i64);
    }
    let acks: Vec<_> = ids
        .iter()
        .map(|id| store.start_download(*id, None))
        .collect();
    let waiting = tokio::spawn(async move {
        let mut out = Vec::new();
        for a in acks {
            out.push(a.await);
        }
        out
    });
    assert_eq!(
        store.counts(Some(CAM)).await.unwrap().pending,
        20,
        "reads are not blocked"
    );
    assert!(holder.is_running(), "holder still holds the lock");
    assert!(!waiting.is_finished(), "awaited writes wait for the lock");

    // It says `released` and exits successfully.
    holder.released().await;

    for r in waiting.await.unwrap() {
        r.expect("queued write completes after the lock is released");
    }
    store.flush().await.unwrap();
    for (k, id) in ids.iter().enumerate() {
        let row = store.get(*id).await.unwrap().unwrap();
        assert_eq!(row.state, ClipState::Downloading);
        assert_eq!(row.times.download_started_at, Some(1_000 + k as i64));
    }
    assert_eq!(store.dropped_timings(), 0);
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_past_the_budget_surfaces_a_typed_busy_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("viofosync.db");
    let store = Store::open(StoreOptions {
        busy_timeout: Duration::from_millis(50),
        write_retry_budget: Duration::from_millis(300),
        ..StoreOptions::at(&path)
    })
    .await
    .unwrap();
    store.reconcile(CAM, &[clip(1, 0)], |_| None).await.unwrap();
    let id = id_of(&store, &clip(1, 0).name).await;
    // Same-process second connection holding the write lock until told.
    let mut other =
        sqlx::SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path))
            .await
            .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let err = store.start_download(id, None).await.unwrap_err();
    assert!(err.is_busy(), "{err}");
    assert!(err.is_retryable());
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    // Nothing was applied; the writer is still alive.
    assert_eq!(
        store.get(id).await.unwrap().unwrap().state,
        ClipState::Pending
    );
    store.start_download(id, None).await.unwrap();
    store.close().await.unwrap();
}
