//! The camera identity API: what a camera id last answered as, and the
//! clips believed to be still on it, for the pipeline's check that the
//! device at an address is the camera it claims to be.

use sqlx::Row;

use super::ack::{Ack, out_unit};
use super::rows::to_u64;
use super::{Store, now_ms};
use crate::error::{Error, Result};
use crate::types::{Anchor, CameraRow, CameraSeen, ClipId, KnownClip, cut};
use crate::writer::Op;

/// Longest model, firmware or address text stored.
const MAX_IDENTITY_LEN: usize = 256;

impl Store {
    /// Records that `seen.camera_id` answered as `seen` now (an upsert; a
    /// `None` model or firmware keeps the stored value). Texts are cut to
    /// 256 bytes.
    pub fn saw_camera(&self, mut seen: CameraSeen) -> Ack<()> {
        seen.model = seen.model.map(|m| cut(m, MAX_IDENTITY_LEN));
        seen.firmware = seen.firmware.map(|f| cut(f, MAX_IDENTITY_LEN));
        seen.address = cut(seen.address, MAX_IDENTITY_LEN);
        self.send(
            Op::SawCamera {
                seen: Box::new(seen),
                at: now_ms(),
            },
            out_unit,
        )
    }

    /// Records `anchor` as `camera_id`'s anchor (see [`Anchor`]), replacing
    /// the one before. A camera id never seen
    /// ([`saw_camera`](Self::saw_camera)) records nothing.
    pub fn set_anchor(&self, camera_id: &str, mut anchor: Anchor) -> Ack<()> {
        anchor.name = cut(anchor.name, MAX_IDENTITY_LEN);
        anchor.remote_path = cut(anchor.remote_path, MAX_IDENTITY_LEN);
        self.send(
            Op::SetAnchor {
                camera_id: camera_id.to_owned(),
                anchor: Box::new(anchor),
            },
            out_unit,
        )
    }

    /// The identity stored for `camera_id`, if it was ever seen.
    pub async fn camera(&self, camera_id: &str) -> Result<Option<CameraRow>> {
        let row = sqlx::query("SELECT * FROM cameras WHERE camera_id = ?")
            .bind(camera_id)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        let Some(r) = row else { return Ok(None) };
        let g = |e: sqlx::Error| Error::db(e);
        Ok(Some(CameraRow {
            seen: CameraSeen {
                camera_id: r.try_get("camera_id").map_err(g)?,
                model: r.try_get("model").map_err(g)?,
                firmware: r.try_get("firmware").map_err(g)?,
                address: r
                    .try_get::<Option<String>, _>("address")
                    .map_err(g)?
                    .unwrap_or_default(),
            },
            first_seen_at: r.try_get("first_seen_at").map_err(g)?,
            last_seen_at: r.try_get("last_seen_at").map_err(g)?,
            anchor: match (
                r.try_get::<Option<String>, _>("anchor_name").map_err(g)?,
                r.try_get::<Option<String>, _>("anchor_path").map_err(g)?,
                r.try_get::<Option<i64>, _>("anchor_size").map_err(g)?,
            ) {
                (Some(name), Some(remote_path), Some(size)) => Some(Anchor {
                    name,
                    remote_path,
                    size: to_u64(size),
                }),
                _ => None,
            },
        }))
    }

    /// The newest clip (highest row id) of `camera_id` archived and not
    /// deleted from the camera, superseded or pruned, as an [`Anchor`]
    /// candidate with its row id: its name, camera path and archived size.
    pub async fn newest_archived(&self, camera_id: &str) -> Result<Option<(ClipId, Anchor)>> {
        let row = sqlx::query(
            "SELECT id, name, remote_path, local_size FROM clips WHERE camera_id = ? \
             AND state IN ('downloaded', 'done') AND local_size IS NOT NULL \
             AND deleted_from_camera_at IS NULL AND superseded_at IS NULL \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(camera_id)
        .fetch_optional(&self.inner.read)
        .await
        .map_err(Error::db)?;
        let Some(r) = row else { return Ok(None) };
        let g = |e: sqlx::Error| Error::db(e);
        Ok(Some((
            ClipId(r.try_get("id").map_err(g)?),
            Anchor {
                name: r.try_get("name").map_err(g)?,
                remote_path: r.try_get("remote_path").map_err(g)?,
                size: to_u64(r.try_get("local_size").map_err(g)?),
            },
        )))
    }

    /// The clips of `camera_id` the store believes are still on the
    /// camera: every clip not gone and not deleted from the camera by
    /// viofosync, whatever its archive state, with the size last listed.
    /// Every row of a year's store: a judge of a listing needs only
    /// [`known_for_listing`](Self::known_for_listing).
    pub async fn known_on_camera(&self, camera_id: &str) -> Result<Vec<KnownClip>> {
        let rows = sqlx::query(
            "SELECT name, size, recorded_at FROM clips WHERE camera_id = ? \
             AND state != 'gone' AND deleted_from_camera_at IS NULL AND superseded_at IS NULL",
        )
        .bind(camera_id)
        .fetch_all(&self.inner.read)
        .await
        .map_err(Error::db)?;
        rows.iter().map(known_from_row).collect()
    }

    /// What judging a listing needs of [`known_on_camera`](Self::known_on_camera):
    /// the known clips listed by name (`names`), up to `evidence` known
    /// clips recorded within `window` (the listing's first and last
    /// recording times, inclusive) that it does not list, and one known
    /// clip whatever it is, so that nothing known stays told apart from
    /// nothing relevant. A judge that needs at most `evidence` missing
    /// clips decides on these as on every known clip. Each is an index
    /// lookup (`clips_current_name`, `clips_on_camera` of migration 0013):
    /// the cost follows the listing, not the store.
    pub async fn known_for_listing(
        &self,
        camera_id: &str,
        names: &[&str],
        window: Option<(i64, i64)>,
        evidence: u32,
    ) -> Result<Vec<KnownClip>> {
        let names = serde_json::to_string(names)
            .map_err(|e| Error::invalid(format!("listing names: {e}")))?;
        let pool = &self.inner.read;
        let mut rows = sqlx::query(KNOWN_LISTED)
            .bind(camera_id)
            .bind(&names)
            .fetch_all(pool)
            .await
            .map_err(Error::db)?;
        if let Some((first, last)) = window {
            rows.extend(
                sqlx::query(KNOWN_IN_WINDOW)
                    .bind(camera_id)
                    .bind(first)
                    .bind(last)
                    .bind(&names)
                    .bind(i64::from(evidence))
                    .fetch_all(pool)
                    .await
                    .map_err(Error::db)?,
            );
        }
        rows.extend(
            sqlx::query(KNOWN_ANY)
                .bind(camera_id)
                .fetch_optional(pool)
                .await
                .map_err(Error::db)?,
        );
        let mut out: Vec<KnownClip> = Vec::with_capacity(rows.len());
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            let k = known_from_row(r)?;
            if seen.insert(k.name.clone()) {
                out.push(k);
            }
        }
        Ok(out)
    }
}

/// The clips believed on the camera (`?1`) among the names of the JSON
/// array `?2`: one lookup of `clips_current_name` each.
pub(super) const KNOWN_LISTED: &str = "SELECT name, size, recorded_at FROM clips \
     WHERE camera_id = ?1 AND name IN (SELECT value FROM json_each(?2)) \
     AND superseded_at IS NULL AND state != 'gone' AND deleted_from_camera_at IS NULL";
/// Up to `?5` clips believed on the camera (`?1`), recorded from `?2` to
/// `?3`, not among the names of `?4`: a range of `clips_on_camera`.
pub(super) const KNOWN_IN_WINDOW: &str = "SELECT name, size, recorded_at \
     FROM clips INDEXED BY clips_on_camera \
     WHERE camera_id = ?1 AND recorded_at BETWEEN ?2 AND ?3 \
     AND state != 'gone' AND deleted_from_camera_at IS NULL AND superseded_at IS NULL \
     AND name NOT IN (SELECT value FROM json_each(?4)) LIMIT ?5";
/// One clip believed on the camera (`?1`), if any: the first entry of
/// `clips_on_camera`.
pub(super) const KNOWN_ANY: &str = "SELECT name, size, recorded_at \
     FROM clips INDEXED BY clips_on_camera WHERE camera_id = ?1 \
     AND state != 'gone' AND deleted_from_camera_at IS NULL AND superseded_at IS NULL LIMIT 1";

fn known_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<KnownClip> {
    Ok(KnownClip {
        name: r.try_get("name").map_err(Error::db)?,
        size: to_u64(r.try_get("size").map_err(Error::db)?),
        recorded_at: r.try_get("recorded_at").map_err(Error::db)?,
    })
}
