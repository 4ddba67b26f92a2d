use std::path::Path;

use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;
use viofo_store::{Channel, ClipState, LegacyImport, LegacyOutcome, Store, StoreOptions};

/// The Python tool's schema (download_queue + clip_index), with an extra
/// column this version does not know.
async fn build_legacy_db(path: &Path, rec: &Path) {
    let mut c = sqlx::SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal),
    )
    .await
    .unwrap();
    for sql in [
        "CREATE TABLE download_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, \
         filename TEXT NOT NULL UNIQUE, source_dir TEXT NOT NULL, remote_size INTEGER, \
         recorded_at INTEGER, camera TEXT, event_type TEXT, state TEXT NOT NULL, \
         priority INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, \
         last_error TEXT, last_attempt_at INTEGER, enqueued_at INTEGER NOT NULL, \
         started_at INTEGER, finished_at INTEGER, manual INTEGER NOT NULL DEFAULT 0, \
         shiny_new_column TEXT)",
        "CREATE TABLE clip_index (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE, \
         basename TEXT NOT NULL, size_bytes INTEGER, timestamp INTEGER NOT NULL)",
    ] {
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<i64>,
        &'a str,
        &'a str,
        i64,
        Option<&'a str>,
    );
    let rows: &[Row<'_>] = &[
        (
            "2026_0102_090000_000001F.MP4",
            "/DCIM/Movie",
            Some(1000),
            "normal",
            "done",
            1,
            None,
        ),
        (
            "2026_0102_090100_000002R.MP4",
            "/DCIM/Movie/RO",
            Some(2000),
            "ro",
            "pending",
            0,
            None,
        ),
        (
            "2026_0102_090200_000003PF.MP4",
            "/DCIM/Movie/Parking",
            None,
            "parking",
            "failed",
            5,
            Some("timeout"),
        ),
        (
            "2026_0102_090300_000004F.MP4",
            "/DCIM/Movie",
            Some(4000),
            "normal",
            "downloading",
            2,
            None,
        ),
        (
            "2026_0102_090400_000005F.MP4",
            "/DCIM/Movie",
            Some(5000),
            "normal",
            "gone",
            0,
            None,
        ),
        (
            "2026_0102_090500_000006F.MP4",
            "/DCIM/Movie",
            Some(6000),
            "normal",
            "exploded",
            0,
            None,
        ),
    ];
    for (name, dir, size, ev, state, attempts, err) in rows {
        sqlx::query(
            "INSERT INTO download_queue (filename, source_dir, remote_size, recorded_at, camera, \
             event_type, state, attempts, last_error, enqueued_at, finished_at) \
             VALUES (?, ?, ?, 1767344400, ?, ?, ?, ?, ?, 1767344500, 1767344600)",
        )
        .bind(name)
        .bind(dir)
        .bind(size)
        .bind(&name[name.len() - 5..name.len() - 4])
        .bind(ev)
        .bind(state)
        .bind(attempts)
        .bind(err)
        .execute(&mut c)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO clip_index (path, basename, size_bytes, timestamp) VALUES (?, ?, 1000, 0)",
    )
    .bind("2026-01-02/2026_0102_090000_000001F.MP4")
    .bind("2026_0102_090000_000001F.MP4")
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    let _ = rec;
}

#[tokio::test]
async fn imports_the_python_tool_db_once_and_renames_it() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("recordings");
    std::fs::create_dir(&rec).unwrap();
    let legacy = rec.join(".viofosync.db");
    build_legacy_db(&legacy, &rec).await;
    let opts = StoreOptions {
        recordings_dir: Some(rec.clone()),
        legacy: Some(LegacyImport {
            camera_id: "cam-1".into(),
            path: None,
        }),
        ..StoreOptions::at(dir.path().join("state").join("viofosync.db"))
    };
    let s = Store::open(opts.clone()).await.unwrap();
    let r = s.legacy_report().expect("imported").clone();
    assert_eq!(
        s.legacy_outcome(),
        Some(&LegacyOutcome::Imported(r.clone()))
    );
    assert_eq!(r.source, legacy);
    assert_eq!(r.imported, 5);
    assert_eq!(r.skipped, 1);
    assert_eq!(r.skipped_examples[0].0, "2026_0102_090500_000006F.MP4");
    assert!(r.skipped_examples[0].1.contains("exploded"));
    assert!(r.ignored_columns.contains(&"shiny_new_column".to_owned()));
    assert!(r.ignored_columns.contains(&"manual".to_owned()));
    assert_eq!(
        r.renamed_to.as_deref(),
        Some(rec.join(".viofosync.db.migrated").as_path())
    );
    assert!(!legacy.exists());
    assert!(rec.join(".viofosync.db.migrated").exists());

    let get = |n: &'static str| {
        let s = s.clone();
        async move { s.get_by_name("cam-1", n).await.unwrap().unwrap() }
    };
    let done = get("2026_0102_090000_000001F.MP4").await;
    assert_eq!(done.state, ClipState::Done);
    assert_eq!(done.attempts, 1);
    assert_eq!(done.remote_path, "/DCIM/Movie/2026_0102_090000_000001F.MP4");
    assert_eq!(done.recorded_at, Some(1_767_344_400_000));
    assert_eq!(done.times.listed_at, Some(1_767_344_500_000));
    assert_eq!(
        done.local_path.as_deref(),
        Some(
            rec.join("2026-01-02/2026_0102_090000_000001F.MP4")
                .as_path()
        )
    );
    let ro = get("2026_0102_090100_000002R.MP4").await;
    assert!(ro.locked);
    assert_eq!(ro.channel, Channel::Rear);
    assert_eq!(ro.state, ClipState::Pending);
    let failed = get("2026_0102_090200_000003PF.MP4").await;
    assert_eq!((failed.state, failed.attempts), (ClipState::Failed, 5));
    assert!(failed.parking);
    assert!(!failed.size_exact);
    assert_eq!(failed.last_error.as_deref(), Some("timeout"));
    // The old tool's interrupted download is simply pending again.
    assert_eq!(
        get("2026_0102_090300_000004F.MP4").await.state,
        ClipState::Pending
    );
    assert_eq!(
        get("2026_0102_090400_000005F.MP4").await.state,
        ClipState::Gone
    );
    s.close().await.unwrap();

    // Second run: nothing imported again, even if a legacy file reappears.
    build_legacy_db(&legacy, &rec).await;
    let s = Store::open(opts).await.unwrap();
    assert!(s.legacy_report().is_none());
    assert!(s.legacy_outcome().is_none());
    assert!(legacy.exists(), "a second legacy file is left alone");
    assert_eq!(s.counts(None).await.unwrap().total(), 5);
    s.close().await.unwrap();
}

#[tokio::test]
async fn a_file_that_is_not_a_viofosync_db_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join("other.db");
    let mut c = sqlx::SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&legacy)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::query("CREATE TABLE kv (key TEXT, value TEXT)")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let s = Store::open(StoreOptions {
        legacy: Some(LegacyImport {
            camera_id: "cam-1".into(),
            path: Some(legacy.clone()),
        }),
        ..StoreOptions::at(dir.path().join("s.db"))
    })
    .await
    .unwrap();
    assert!(s.legacy_report().is_none());
    assert!(
        matches!(
            s.legacy_outcome(),
            Some(LegacyOutcome::Skipped { reason, .. }) if reason.contains("not a viofosync database")
        ),
        "{:?}",
        s.legacy_outcome()
    );
    assert!(legacy.exists());
    s.close().await.unwrap();
}

/// How a legacy file can be unreadable.
#[derive(Debug, Clone, Copy)]
enum Broken {
    NotSqlite,
    Corrupt,
    Locked,
}

async fn open_beside(broken: Broken) {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("recordings");
    std::fs::create_dir(&rec).unwrap();
    let legacy = rec.join(".viofosync.db");
    let mut holder = None;
    match broken {
        Broken::NotSqlite => {
            std::fs::write(&legacy, b"this is a text file, not a database\n").unwrap()
        }
        Broken::Corrupt => {
            build_legacy_db(&legacy, &rec).await;
            // Keep the 100-byte header, scribble over the schema page.
            let mut bytes = std::fs::read(&legacy).unwrap();
            for b in bytes.iter_mut().take(4096).skip(100) {
                *b = 0xA5;
            }
            std::fs::write(&legacy, &bytes).unwrap();
            let _ = std::fs::remove_file(rec.join(".viofosync.db-wal"));
            let _ = std::fs::remove_file(rec.join(".viofosync.db-shm"));
        }
        Broken::Locked => {
            build_legacy_db(&legacy, &rec).await;
            // The Python tool is running and holds an exclusive lock.
            let mut c = sqlx::SqliteConnection::connect_with(
                &SqliteConnectOptions::new()
                    .filename(&legacy)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Delete),
            )
            .await
            .unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query("UPDATE download_queue SET priority = 1")
                .execute(&mut c)
                .await
                .unwrap();
            holder = Some(c);
        }
    }
    let logs = crate::common::Logs::default();
    let guard = logs.capture();
    let s = Store::open(StoreOptions {
        recordings_dir: Some(rec.clone()),
        legacy: Some(LegacyImport {
            camera_id: "cam-1".into(),
            path: None,
        }),
        ..StoreOptions::at(dir.path().join("state").join("viofosync.db"))
    })
    .await
    .unwrap_or_else(|e| panic!("{broken:?}: the open must not fail: {e}"));
    drop(guard);
    let text = logs.text();
    assert!(
        text.contains(&legacy.display().to_string()),
        "{broken:?}: {text}"
    );
    assert!(text.contains("import_legacy = false"), "{broken:?}: {text}");
    assert!(s.legacy_report().is_none(), "{broken:?}");
    match s.legacy_outcome() {
        Some(LegacyOutcome::Skipped { source, reason }) => {
            assert_eq!(source, &legacy, "{broken:?}");
            assert!(!reason.is_empty(), "{broken:?}");
        }
        other => panic!("{broken:?}: {other:?}"),
    }
    assert!(legacy.exists(), "{broken:?}: left where it is");
    assert_eq!(s.counts(None).await.unwrap().total(), 0);
    s.close().await.unwrap();
    drop(holder);
    // Once readable, the next open imports it.
    if matches!(broken, Broken::Locked) {
        let s = Store::open(StoreOptions {
            recordings_dir: Some(rec.clone()),
            legacy: Some(LegacyImport {
                camera_id: "cam-1".into(),
                path: None,
            }),
            ..StoreOptions::at(dir.path().join("state").join("viofosync.db"))
        })
        .await
        .unwrap();
        assert_eq!(s.legacy_report().map(|r| r.imported), Some(5));
        s.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_legacy_db_that_is_not_sqlite_is_skipped() {
    open_beside(Broken::NotSqlite).await;
}

#[tokio::test]
async fn a_corrupt_legacy_db_is_skipped() {
    open_beside(Broken::Corrupt).await;
}

#[tokio::test]
async fn a_locked_legacy_db_is_skipped() {
    open_beside(Broken::Locked).await;
}
