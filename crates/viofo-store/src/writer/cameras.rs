//! Recording a camera's identity: one row per camera id, a missing model
//! or firmware keeping the stored one, and its anchor.

use sqlx::SqliteConnection;

use crate::types::{Anchor, CameraSeen};

use super::OpResult;
use super::ops::Out;

pub(super) async fn saw_camera(
    c: &mut SqliteConnection,
    seen: &CameraSeen,
    at: i64,
) -> OpResult<Out> {
    sqlx::query(
        "INSERT INTO cameras (camera_id, model, firmware, address, first_seen_at, last_seen_at) \
         VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (camera_id) DO UPDATE SET \
         model = coalesce(excluded.model, cameras.model), \
         firmware = coalesce(excluded.firmware, cameras.firmware), \
         address = excluded.address, last_seen_at = excluded.last_seen_at",
    )
    .bind(&seen.camera_id)
    .bind(seen.model.as_deref())
    .bind(seen.firmware.as_deref())
    .bind(&seen.address)
    .bind(at)
    .bind(at)
    .execute(&mut *c)
    .await?;
    Ok(Out::Unit)
}

/// Records `anchor` as `camera_id`'s (a camera not seen yet has no row:
/// nothing is recorded, as its first listing records it).
pub(super) async fn set_anchor(
    c: &mut SqliteConnection,
    camera_id: &str,
    anchor: &Anchor,
) -> OpResult<Out> {
    sqlx::query(
        "UPDATE cameras SET anchor_name = ?, anchor_path = ?, anchor_size = ? \
         WHERE camera_id = ?",
    )
    .bind(&anchor.name)
    .bind(&anchor.remote_path)
    .bind(i64::try_from(anchor.size).unwrap_or(i64::MAX))
    .bind(camera_id)
    .execute(&mut *c)
    .await?;
    Ok(Out::Unit)
}
