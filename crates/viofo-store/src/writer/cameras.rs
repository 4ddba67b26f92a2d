//! Recording a camera's identity: one row per camera id, a missing model
//! or firmware keeping the stored one.

use sqlx::SqliteConnection;

use crate::types::CameraSeen;

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
