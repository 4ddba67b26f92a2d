//! The writer survives another process holding the write lock for 10 s.
//!
//! The lock holder is this very test binary, re-executed with
//! `VIOFO_STORE_LOCK_HOLDER=<db path>` so it runs `lock_holder_helper` in
//! holder mode: it takes `BEGIN IMMEDIATE`, prints `locked`, holds the lock
//! for `VIOFO_STORE_LOCK_SECS`, commits, prints `released`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;
use viofo_store::{ClipState, Stage, Store, StoreOptions};

use crate::common::{CAM, clip, id_of};

const ENV_PATH: &str = "VIOFO_STORE_LOCK_HOLDER";
const ENV_SECS: &str = "VIOFO_STORE_LOCK_SECS";

#[allow(clippy::print_stdout)] // the parent test reads these lines
async fn hold_lock(path: &Path, secs: u64) {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(30));
    let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut c)
        .await
        .unwrap();
    println!("\nlocked");
    tokio::time::sleep(Duration::from_secs(secs)).await;
    sqlx::query("COMMIT").execute(&mut c).await.unwrap();
    c.close().await.unwrap();
    println!("\nreleased");
}

/// In holder mode (child process) holds the lock; otherwise checks the
/// holder itself on a scratch database: it really takes and frees the lock.
#[tokio::test]
async fn lock_holder_helper() {
    if let Ok(p) = std::env::var(ENV_PATH) {
        let secs = std::env::var(ENV_SECS)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10);
        hold_lock(Path::new(&p), secs).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("scratch.db");
    let mut c = sqlx::SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&p)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::query("CREATE TABLE t (x)")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    hold_lock(&p, 0).await;
    // Free again: a write goes through without waiting.
    let mut c = sqlx::SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&p)
            .busy_timeout(Duration::ZERO),
    )
    .await
    .unwrap();
    sqlx::query("INSERT INTO t VALUES (1)")
        .execute(&mut c)
        .await
        .unwrap();
}

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

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lock::lock_holder_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ENV_PATH, &path)
        .env(ENV_SECS, "10")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let reader = std::thread::spawn(move || {
        let mut locked_tx = Some(locked_tx);
        let mut released = false;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if line.trim() == "locked"
                && let Some(tx) = locked_tx.take()
            {
                let _ = tx.send(());
            }
            if line.trim() == "released" {
                released = true;
            }
        }
        released
    });
    locked_rx.await.expect("lock holder reported 'locked'");

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
    assert!(
        child.try_wait().unwrap().is_none(),
        "holder still holds the lock"
    );
    assert!(!waiting.is_finished(), "awaited writes wait for the lock");

    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    assert!(reader.join().unwrap(), "holder released the lock");

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
