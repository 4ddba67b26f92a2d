//! One-shot import of the Python tool's state database.
//!
//! The Python viofosync (web UI generation) keeps a `download_queue` table:
//! `filename` (unique), `source_dir` (the camera folder, e.g.
//! `/DCIM/Movie/RO`), `remote_size`, `recorded_at` / `enqueued_at` /
//! `started_at` / `finished_at` (Unix seconds), `camera` (`F`/`R`/...),
//! `event_type` (`normal`/`parking`/`ro`/`event`), `state`
//! (`pending|downloading|done|failed|gone`), `priority`, `attempts`,
//! `last_error`; and a `clip_index` table of archived files (`basename`,
//! `path`, `size_bytes`). Columns are introspected (`PRAGMA table_info`):
//! whatever of these exists is imported, everything else is reported as
//! ignored, and rows that do not map are skipped with a reason.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Row, SqliteConnection};

use crate::error::{Error, Result};
use crate::store::LegacyImport;
use crate::types::{Channel, LegacyOutcome, LegacyReport};

const META_KEY: &str = "legacy_imported_from";
const MAX_EXAMPLES: usize = 100;

/// Legacy columns we understand, with the SQL type they are read as.
const KNOWN: &[(&str, &str)] = &[
    ("filename", "TEXT"),
    ("source_dir", "TEXT"),
    ("remote_size", "INTEGER"),
    ("recorded_at", "INTEGER"),
    ("camera", "TEXT"),
    ("event_type", "TEXT"),
    ("state", "TEXT"),
    ("priority", "INTEGER"),
    ("attempts", "INTEGER"),
    ("last_error", "TEXT"),
    ("enqueued_at", "INTEGER"),
    ("started_at", "INTEGER"),
    ("finished_at", "INTEGER"),
];
/// Legacy columns deliberately not imported (no counterpart, or derived).
const DELIBERATELY_IGNORED: &[&str] = &["id"];

/// Where [`Store::open`](crate::Store::open) looks for the Python tool's
/// database, in order: `path` when given, else `<recordings>/.viofosync.db`,
/// then `/config/viofosync.db`. The first that is a file is imported. Lets
/// a caller (`doctor`) find the same file without opening a store.
pub fn legacy_candidates(path: Option<&Path>, recordings: Option<&Path>) -> Vec<PathBuf> {
    match path {
        Some(p) => vec![p.to_path_buf()],
        None => {
            let mut v = Vec::new();
            if let Some(r) = recordings {
                v.push(r.join(".viofosync.db"));
            }
            v.push(PathBuf::from("/config/viofosync.db"));
            v
        }
    }
}

async fn columns(c: &mut SqliteConnection, table: &str) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT name FROM pragma_table_info(?)")
        .bind(table)
        .fetch_all(&mut *c)
        .await
        .map_err(Error::db)?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("name").map_err(Error::db))
        .collect()
}

/// A legacy timestamp in seconds (or, if implausibly large, already ms).
fn to_ms(v: Option<i64>) -> Option<i64> {
    v.filter(|&x| x > 0).map(|x| {
        if x > 100_000_000_000 {
            x
        } else {
            x.saturating_mul(1000)
        }
    })
}

fn name_letters(name: &str) -> (Option<char>, Option<char>) {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let mut it = stem.chars().rev();
    (it.next(), it.next())
}

struct Mapped {
    name: String,
    remote_path: String,
    size: i64,
    size_exact: bool,
    locked: bool,
    parking: bool,
    channel: Channel,
    recorded_at: Option<i64>,
    state: &'static str,
    priority: i64,
    attempts: i64,
    last_error: Option<String>,
    listed_at: Option<i64>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    local: Option<(String, i64)>,
}

fn map_row(
    r: &sqlx::sqlite::SqliteRow,
    archive: &HashMap<String, (String, Option<i64>)>,
    recordings: Option<&Path>,
) -> std::result::Result<Mapped, String> {
    let s = |c: &str| r.try_get::<Option<String>, _>(c).ok().flatten();
    let i = |c: &str| r.try_get::<Option<i64>, _>(c).ok().flatten();
    let name = s("filename").unwrap_or_default();
    if name.is_empty() || name.len() > 255 || name.contains(['\0', '/', '\\']) {
        return Err("invalid filename".to_owned());
    }
    let raw_state = s("state").unwrap_or_default();
    let state = match raw_state.as_str() {
        "pending" | "downloading" => "pending",
        "done" => "done",
        "failed" => "failed",
        "gone" => "gone",
        other => return Err(format!("unknown state {other:?}")),
    };
    let dir = s("source_dir").unwrap_or_default();
    let remote_path = if dir.is_empty() {
        format!("/DCIM/Movie/{name}")
    } else if dir
        .to_ascii_uppercase()
        .ends_with(&name.to_ascii_uppercase())
    {
        dir.clone()
    } else {
        let sep = if dir.contains('\\') { '\\' } else { '/' };
        format!("{}{sep}{name}", dir.trim_end_matches(['/', '\\']))
    };
    let upper_dir = dir.to_ascii_uppercase();
    let event = s("event_type").map(|e| e.to_ascii_lowercase());
    let (last, before) = name_letters(&name);
    let locked =
        event.as_deref() == Some("ro") || upper_dir.contains("/RO") || upper_dir.contains("\\RO");
    let parking = match event.as_deref() {
        Some(e) => e == "parking",
        None => matches!(before, Some('P' | 'p')),
    };
    let channel = s("camera")
        .and_then(|c| c.chars().last())
        .or(last)
        .map(|c| Channel::from_code(&c.to_string()))
        .unwrap_or(Channel::Unknown);
    let remote_size = i("remote_size").filter(|&x| x >= 0);
    let local = archive.get(&name).and_then(|(p, size)| {
        let path = Path::new(p);
        let full = match recordings {
            Some(r) if path.is_relative() => r.join(path),
            _ => path.to_owned(),
        };
        let size = size.or(remote_size)?;
        full.to_str().map(|p| (p.to_owned(), size))
    });
    Ok(Mapped {
        remote_path,
        size: remote_size.unwrap_or(0),
        size_exact: remote_size.is_some(),
        locked,
        parking,
        channel,
        recorded_at: to_ms(i("recorded_at")),
        state,
        priority: i("priority").unwrap_or(0),
        attempts: i("attempts").unwrap_or(0).max(0),
        last_error: s("last_error"),
        listed_at: to_ms(i("enqueued_at")),
        started_at: to_ms(i("started_at")),
        finished_at: if state == "done" {
            to_ms(i("finished_at"))
        } else {
            None
        },
        local: if state == "done" { local } else { None },
        name,
    })
}

/// What was read from a legacy database.
struct LegacyData {
    cols: Vec<String>,
    rows: Vec<sqlx::sqlite::SqliteRow>,
    archive: HashMap<String, (String, Option<i64>)>,
}

/// Reads everything needed from the legacy file. `Err` is the reason it
/// cannot be imported (not SQLite, corrupt, locked, unreadable, not a
/// viofosync database), never an error of our own database.
async fn read_legacy(source: &Path) -> std::result::Result<LegacyData, String> {
    let opts = SqliteConnectOptions::new()
        .filename(source)
        .create_if_missing(false)
        // The Python tool may be running: wait a little, not the default 5 s.
        .busy_timeout(Duration::from_secs(2));
    let mut old = SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| e.to_string())?;
    let read = read_tables(&mut old).await;
    if let Err(e) = old.close().await {
        tracing::warn!(error = %e, "closing the legacy database");
    }
    read
}

async fn read_tables(old: &mut SqliteConnection) -> std::result::Result<LegacyData, String> {
    let text = |e: Error| e.to_string();
    let cols = columns(old, "download_queue").await.map_err(text)?;
    if !cols.iter().any(|c| c == "filename") {
        return Err(
            "not a viofosync database (no download_queue table with a filename column)".to_owned(),
        );
    }
    let select: Vec<String> = KNOWN
        .iter()
        .map(|(k, ty)| {
            if cols.iter().any(|c| c == k) {
                format!("CAST(\"{k}\" AS {ty}) AS {k}")
            } else {
                format!("NULL AS {k}")
            }
        })
        .collect();
    let rows = sqlx::query(&format!("SELECT {} FROM download_queue", select.join(", ")))
        .fetch_all(&mut *old)
        .await
        .map_err(|e| e.to_string())?;

    let mut archive: HashMap<String, (String, Option<i64>)> = HashMap::new();
    let idx_cols = columns(old, "clip_index").await.map_err(text)?;
    if idx_cols.iter().any(|c| c == "basename") && idx_cols.iter().any(|c| c == "path") {
        let size_expr = if idx_cols.iter().any(|c| c == "size_bytes") {
            "CAST(size_bytes AS INTEGER)"
        } else {
            "NULL"
        };
        let idx = sqlx::query(&format!(
            "SELECT CAST(basename AS TEXT) AS basename, CAST(path AS TEXT) AS path, \
             {size_expr} AS size FROM clip_index"
        ))
        .fetch_all(&mut *old)
        .await
        .map_err(|e| e.to_string())?;
        for r in idx {
            let b: Option<String> = r.try_get("basename").ok().flatten();
            let p: Option<String> = r.try_get("path").ok().flatten();
            let sz: Option<i64> = r.try_get("size").ok().flatten();
            if let (Some(b), Some(p)) = (b, p) {
                archive.insert(b, (p, sz));
            }
        }
    }
    Ok(LegacyData {
        cols,
        rows,
        archive,
    })
}

/// Imports the legacy database once. `Ok(None)` when there is nothing to
/// import (already done, no file). A legacy file that cannot be read is
/// skipped with a warning ([`LegacyOutcome::Skipped`]) and tried again on
/// the next open; only errors of our own database fail.
pub(crate) async fn import(
    conn: &mut SqliteConnection,
    l: &LegacyImport,
    recordings: Option<&Path>,
) -> Result<Option<LegacyOutcome>> {
    let done: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(META_KEY)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db)?;
    if done.is_some() {
        return Ok(None);
    }
    let found = {
        let candidates = legacy_candidates(l.path.as_deref(), recordings);
        crate::store::blocking(move || Ok(candidates.into_iter().find(|p| p.is_file()))).await?
    };
    let Some(source) = found else {
        return Ok(None);
    };

    let LegacyData {
        cols,
        rows,
        archive,
    } = match read_legacy(&source).await {
        Ok(d) => d,
        Err(reason) => {
            tracing::warn!(
                path = %source.display(),
                %reason,
                "the Python tool's database {} cannot be read ({reason}); it is not imported \
                 and is left as it is. Set import_legacy = false (VIOFOSYNC_IMPORT_LEGACY=false) \
                 to stop importing it",
                source.display()
            );
            return Ok(Some(LegacyOutcome::Skipped { source, reason }));
        }
    };
    let mut report = LegacyReport {
        source: source.clone(),
        ..LegacyReport::default()
    };
    report.ignored_columns = cols
        .iter()
        .filter(|c| {
            !KNOWN.iter().any(|(k, _)| k == c) && !DELIBERATELY_IGNORED.contains(&c.as_str())
        })
        .cloned()
        .collect();

    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(Error::db)?;
    for r in &rows {
        let m = match map_row(r, &archive, recordings) {
            Ok(m) => m,
            Err(why) => {
                report.skipped += 1;
                if report.skipped_examples.len() < MAX_EXAMPLES {
                    let name: Option<String> = r.try_get("filename").ok().flatten();
                    report
                        .skipped_examples
                        .push((name.unwrap_or_default(), why));
                }
                continue;
            }
        };
        let res = sqlx::query(
            "INSERT INTO clips (camera_id, name, remote_path, size, size_exact, locked, parking, \
             channel, recorded_at, state, priority, attempts, last_error, listed_at, \
             download_started_at, download_finished_at, local_path, local_size) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (camera_id, name) WHERE superseded_at IS NULL DO NOTHING",
        )
        .bind(&l.camera_id)
        .bind(&m.name)
        .bind(&m.remote_path)
        .bind(m.size)
        .bind(m.size_exact)
        .bind(m.locked)
        .bind(m.parking)
        .bind(m.channel.as_str())
        .bind(m.recorded_at)
        .bind(m.state)
        .bind(m.priority)
        .bind(m.attempts)
        .bind(&m.last_error)
        .bind(m.listed_at)
        .bind(m.started_at)
        .bind(m.finished_at)
        .bind(m.local.as_ref().map(|(p, _)| p.as_str()))
        .bind(m.local.as_ref().map(|(_, s)| *s))
        .execute(&mut *tx)
        .await
        .map_err(Error::db)?;
        if res.rows_affected() == 0 {
            report.already_known += 1;
        } else {
            report.imported += 1;
        }
    }
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?)")
        .bind(META_KEY)
        .bind(source.to_string_lossy().as_ref())
        .execute(&mut *tx)
        .await
        .map_err(Error::db)?;
    tx.commit().await.map_err(Error::db)?;

    let mut renamed = source.clone().into_os_string();
    renamed.push(".migrated");
    let renamed = PathBuf::from(renamed);
    let moved = {
        let (from, to) = (source.clone(), renamed.clone());
        crate::store::blocking(move || {
            Ok(fs_err::rename(&from, &to)
                .map_err(
                    |e| tracing::warn!(error = %e, "could not rename the imported legacy database"),
                )
                .is_ok())
        })
        .await?
    };
    if moved {
        report.renamed_to = Some(renamed);
    }
    tracing::info!(
        source = %source.display(),
        imported = report.imported,
        already_known = report.already_known,
        skipped = report.skipped,
        ignored_columns = ?report.ignored_columns,
        "imported the Python tool's state database"
    );
    Ok(Some(LegacyOutcome::Imported(report)))
}
