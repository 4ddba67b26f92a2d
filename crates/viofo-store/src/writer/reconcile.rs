//! Folding a camera listing into the clips table in one pass (inserts,
//! refreshed metadata, gone / reappeared / healed / grown clips).

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::error::{Error, Result};
use crate::types::{ArchivedFile, ClipState, ListedClip, ReconcileReport};

use super::ops::ReconcileInput;
use super::{OpErr, OpResult};

/// Rows per multi-row INSERT statement in reconcile.
const INSERT_CHUNK: usize = 400;
/// Ids per `IN (...)` list.
const ID_CHUNK: usize = 900;

/// What reconcile needs to know about an existing row.
struct Existing {
    id: i64,
    state: ClipState,
    remote_path: String,
    size: i64,
    size_exact: bool,
    locked: bool,
    parking: bool,
    channel: String,
    recorded_at: Option<i64>,
    local_size: Option<i64>,
    deleted: bool,
}

/// Does the archived copy match the listed size? Exact sizes must be equal;
/// rounded sizes (HTML pages, two decimals of MB) may differ by 1 %.
pub(crate) fn archive_matches(listed_size: i64, exact: bool, archived: &ArchivedFile) -> bool {
    i64::try_from(archived.size).is_ok_and(|have| size_matches(listed_size, exact, have))
}

/// Does an archived size `have` match the listed size? (See
/// [`archive_matches`].)
fn size_matches(listed_size: i64, exact: bool, have: i64) -> bool {
    if have <= 0 {
        return false;
    }
    if exact {
        have == listed_size
    } else {
        (have - listed_size).abs() <= listed_size / 100
    }
}

/// Is the listed clip another recording than the archived row of its
/// name? The reason if so: the camera deleted the archived one at our
/// request (whatever the size now listed), or the listed size is not the
/// archived size (a clip is archived only once its size settled, so a
/// clip listed with another size is not those bytes; bytes recorded as
/// archived are never replaced, so it is archived beside them), or a
/// pruned clip comes back with another size. `None`: the same clip, or a
/// row that holds no archived bytes.
fn new_recording(ex: &Existing, size: i64, exact: bool) -> Option<&'static str> {
    let archived = matches!(
        ex.state,
        ClipState::Done | ClipState::Downloaded | ClipState::Pruned
    );
    if !archived {
        return None;
    }
    if ex.deleted {
        return Some("listed again after the camera deleted it");
    }
    match (ex.state, ex.local_size) {
        (ClipState::Pruned, _) if !size_matches(size, exact, ex.size) => {
            Some("listed with another size than the clip retention removed")
        }
        (ClipState::Done | ClipState::Downloaded, Some(have))
            if !size_matches(size, exact, have) =>
        {
            Some("listed with another size than its archived copy")
        }
        _ => None,
    }
}

pub(crate) fn path_text(p: &std::path::Path) -> Result<String> {
    p.to_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::invalid(format!("path is not UTF-8: {}", p.display())))
}

/// Validates one listing entry; `None` (and a log line) if refused.
fn valid(clip: &ListedClip) -> Option<i64> {
    let bad = |why: &str| {
        tracing::warn!(name = ?clip.name, why, "listing entry refused by the store");
        None
    };
    if clip.name.is_empty() || clip.name.len() > 255 {
        return bad("name empty or longer than 255 bytes");
    }
    if clip.name.contains('\0') || clip.remote_path.contains('\0') {
        return bad("NUL in name or path");
    }
    if clip.remote_path.len() > 4096 {
        return bad("remote path too long");
    }
    match i64::try_from(clip.size) {
        Ok(s) => Some(s),
        Err(_) => bad("size out of range"),
    }
}

/// The rows reconcile weighs, as one JSON array: the camera's (`?1`)
/// current pending and failed rows (which may have gone; a range of
/// `clips_queue` each) and its current rows of the listed names (the JSON
/// array `?2`; a lookup of `clips_current_name` each). Not a scan of the
/// camera's rows: an `OR` of the two would be one.
pub(crate) const RECONCILE_ROWS: &str = "SELECT json_group_array(json_array(id, name, state, \
     remote_path, size, size_exact, locked, parking, channel, recorded_at, local_size, \
     deleted_from_camera_at IS NOT NULL)) FROM clips WHERE id IN ( \
     SELECT id FROM clips WHERE camera_id = ?1 AND state IN ('pending', 'failed') \
     AND superseded_at IS NULL \
     UNION ALL SELECT id FROM clips WHERE camera_id = ?1 \
     AND name IN (SELECT value FROM json_each(?2)) AND superseded_at IS NULL)";

/// Which of the paths of the JSON array `?1` a row records (any camera,
/// superseded or not): a lookup of `clips_local_path` each.
pub(crate) const RECORDED_PATHS: &str = "SELECT local_path FROM clips \
     WHERE local_path IN (SELECT value FROM json_each(?1)) AND local_path IS NOT NULL";

pub(super) async fn reconcile(
    c: &mut SqliteConnection,
    input: &ReconcileInput,
) -> OpResult<ReconcileReport> {
    let mut report = ReconcileReport::default();
    // Rows that matter: the listed names (any state) and the pending /
    // failed ones (which may have gone). Fetched as one JSON row: decoding
    // thousands of rows one by one costs more than the rest of reconcile.
    let names: Vec<&str> = input.listing.iter().map(|c| c.name.as_str()).collect();
    let names_json =
        serde_json::to_string(&names).map_err(|e| Error::invalid(format!("listing names: {e}")))?;
    let json: String = sqlx::query_scalar(RECONCILE_ROWS)
        .bind(&input.camera_id)
        .bind(&names_json)
        .fetch_one(&mut *c)
        .await?;
    type RowTuple = (
        i64,
        String,
        String,
        String,
        i64,
        i64,
        i64,
        i64,
        String,
        Option<i64>,
        Option<i64>,
        i64,
    );
    let rows: Vec<RowTuple> =
        serde_json::from_str(&json).map_err(|e| Error::corrupt(format!("reconcile rows: {e}")))?;
    let mut existing: HashMap<String, Existing> = HashMap::with_capacity(rows.len());
    for (
        id,
        name,
        state,
        remote_path,
        size,
        size_exact,
        locked,
        parking,
        channel,
        recorded_at,
        local_size,
        deleted,
    ) in rows
    {
        existing.insert(
            name,
            Existing {
                id,
                state: ClipState::parse(&state)?,
                remote_path,
                size,
                size_exact: size_exact != 0,
                locked: locked != 0,
                parking: parking != 0,
                channel,
                recorded_at,
                local_size,
                deleted: deleted != 0,
            },
        );
    }

    // Files found in the archive that a row already records (a superseded
    // recording's copy under the name) are that row's, never another's to
    // heal onto: healing is for a file no row records (a crash between the
    // rename and the record).
    let found_paths: Vec<String> = input
        .archived
        .values()
        .filter_map(|a| path_text(&a.path).ok())
        .collect();
    let recorded: std::collections::HashSet<String> = if found_paths.is_empty() {
        std::collections::HashSet::new()
    } else {
        let json = serde_json::to_string(&found_paths)
            .map_err(|e| Error::invalid(format!("archived paths: {e}")))?;
        let rows: Vec<String> = sqlx::query_scalar(RECORDED_PATHS)
            .bind(&json)
            .fetch_all(&mut *c)
            .await?;
        rows.into_iter().collect()
    };
    let mut seen: std::collections::HashSet<&str> =
        std::collections::HashSet::with_capacity(input.listing.len());
    // (clip, size, found in the archive, supersedes an archived row)
    let mut inserts: Vec<(&ListedClip, i64, Option<&ArchivedFile>, bool)> = Vec::new();
    let now = input.now;
    for clip in &input.listing {
        let Some(size) = valid(clip) else {
            report.invalid += 1;
            continue;
        };
        if !seen.insert(clip.name.as_str()) {
            tracing::warn!(name = ?clip.name, "duplicate name in listing; first entry kept");
            report.invalid += 1;
            continue;
        }
        let archived = input
            .archived
            .get(&clip.name)
            .filter(|a| archive_matches(size, clip.size_exact, a))
            .filter(|a| path_text(&a.path).is_ok_and(|p| !recorded.contains(&p)));
        let Some(ex) = existing.get(&clip.name) else {
            inserts.push((clip, size, archived, false));
            continue;
        };
        if let Some(why) = new_recording(ex, size, clip.size_exact) {
            // Another recording under an archived name: the archived row
            // keeps its file and its bytes; the listed clip is a new row.
            tracing::info!(
                name = %clip.name,
                listed = size,
                archived = ex.local_size,
                "{why}: a new recording under an archived name, archived beside the old one"
            );
            sqlx::query("UPDATE clips SET superseded_at = ? WHERE id = ?")
                .bind(now)
                .bind(ex.id)
                .execute(&mut *c)
                .await?;
            report.superseded += 1;
            inserts.push((clip, size, None, true));
            continue;
        }
        let mut touched = false;
        let changed = ex.remote_path != clip.remote_path
            || ex.size != size
            || ex.size_exact != clip.size_exact
            || ex.locked != clip.locked
            || ex.parking != clip.parking
            || ex.channel != clip.channel.as_str()
            || (clip.recorded_at.is_some() && ex.recorded_at != clip.recorded_at);
        if changed {
            sqlx::query(
                "UPDATE clips SET remote_path = ?, size = ?, size_exact = ?, locked = ?, \
                 parking = ?, channel = ?, recorded_at = COALESCE(?, recorded_at) WHERE id = ?",
            )
            .bind(&clip.remote_path)
            .bind(size)
            .bind(clip.size_exact)
            .bind(clip.locked)
            .bind(clip.parking)
            .bind(clip.channel.as_str())
            .bind(clip.recorded_at)
            .bind(ex.id)
            .execute(&mut *c)
            .await?;
            report.refreshed_paths += 1;
            touched = true;
        }
        let healable = matches!(
            ex.state,
            ClipState::Pending | ClipState::Failed | ClipState::Gone
        );
        if let (true, Some(a)) = (healable, archived) {
            sqlx::query(
                "UPDATE clips SET state = 'downloaded', local_path = ?, local_size = ?, \
                 last_error = NULL WHERE id = ?",
            )
            .bind(path_text(&a.path)?)
            .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
            .bind(ex.id)
            .execute(&mut *c)
            .await?;
            report.healed += 1;
            touched = true;
        } else if ex.state == ClipState::Gone {
            sqlx::query("UPDATE clips SET state = 'pending' WHERE id = ?")
                .bind(ex.id)
                .execute(&mut *c)
                .await?;
            report.reappeared += 1;
            touched = true;
        }
        if !touched {
            report.unchanged += 1;
        }
    }

    for chunk in inserts.chunks(INSERT_CHUNK) {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO clips (camera_id, name, remote_path, size, size_exact, locked, parking, \
             channel, recorded_at, state, local_path, local_size, listed_at) ",
        );
        let mut err = None;
        qb.push_values(chunk, |mut b, (clip, size, archived, _)| {
            let (state, lp, ls) = match archived {
                Some(a) => match path_text(&a.path) {
                    Ok(p) => ("downloaded", Some(p), i64::try_from(a.size).ok()),
                    Err(e) => {
                        err = Some(e);
                        ("pending", None, None)
                    }
                },
                None => ("pending", None, None),
            };
            b.push_bind(input.camera_id.clone())
                .push_bind(clip.name.clone())
                .push_bind(clip.remote_path.clone())
                .push_bind(*size)
                .push_bind(clip.size_exact)
                .push_bind(clip.locked)
                .push_bind(clip.parking)
                .push_bind(clip.channel.as_str())
                .push_bind(clip.recorded_at)
                .push_bind(state)
                .push_bind(lp)
                .push_bind(ls)
                .push_bind(now);
        });
        if let Some(e) = err {
            return Err(OpErr::Refuse(e));
        }
        qb.build().execute(&mut *c).await?;
    }
    for (_, _, archived, superseding) in &inserts {
        if archived.is_some() {
            report.healed += 1;
        } else if !superseding {
            report.new += 1;
        }
    }

    let gone: Vec<i64> = existing
        .iter()
        .filter(|(name, ex)| {
            matches!(ex.state, ClipState::Pending | ClipState::Failed)
                && !seen.contains(name.as_str())
        })
        .map(|(_, ex)| ex.id)
        .collect();
    for chunk in gone.chunks(ID_CHUNK) {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("UPDATE clips SET state = 'gone' WHERE id IN (");
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(")");
        qb.build().persistent(false).execute(&mut *c).await?;
    }
    report.gone = u64::try_from(gone.len()).unwrap_or(u64::MAX);
    Ok(report)
}
