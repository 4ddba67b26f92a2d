//! The lock holder really takes a database's write lock and frees it.

use std::path::Path;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use viofo_testkit::{Hold, LockHolder};

/// Tries one write without waiting for the lock.
async fn write_now(db: &Path) -> Result<(), sqlx::Error> {
    let mut c = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(db)
            .busy_timeout(Duration::ZERO),
    )
    .await?;
    sqlx::query("INSERT INTO t VALUES (1)")
        .execute(&mut c)
        .await?;
    c.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_the_write_lock_until_released_then_frees_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scratch.db");
    let mut c = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&db)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::query("CREATE TABLE t (x)")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();

    let mut holder = LockHolder::start(&db, Hold::UntilReleased).await;
    let err = write_now(&db)
        .await
        .expect_err("a write is refused while the holder holds the lock");
    assert!(
        err.to_string().contains("locked") || err.to_string().contains("busy"),
        "{err}"
    );
    assert!(holder.is_running(), "the holder waits to be told");
    holder.release();
    holder.released().await;
    assert!(!holder.is_running());
    // Free again: a write goes through without waiting.
    write_now(&db).await.expect("the lock is free again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_hold_releases_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scratch.db");
    let mut c = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&db)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::query("CREATE TABLE t (x)")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();

    let hold = Duration::from_millis(300);
    let mut holder = LockHolder::start(&db, Hold::For(hold)).await;
    let held = holder.released().await;
    assert!(held >= hold - Duration::from_millis(100), "held {held:?}");
    write_now(&db).await.expect("the lock is free again");
}
