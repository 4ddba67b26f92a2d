//! Marking a pending clip skipped (with its reason) or not.

use sqlx::SqliteConnection;

use crate::error::ErrorKind;
use crate::types::ClipId;

use super::ops::Out;
use super::{OpErr, OpResult};

/// Sets a pending clip's skip reason (`Some`), or clears any clip's
/// (`None`). `Out::Count(1)` when the clip now has that reason, 0 when a
/// reason was not set because the clip is no longer pending.
pub(super) async fn set_skip(
    c: &mut SqliteConnection,
    id: ClipId,
    reason: Option<&str>,
) -> OpResult<Out> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM clips WHERE id = ?")
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?;
    if found.is_none() {
        return Err(OpErr::Refuse(ErrorKind::ClipNotFound(id).into()));
    }
    let r = sqlx::query(
        "UPDATE clips SET skip_reason = ?1 WHERE id = ?2 AND (?1 IS NULL OR state = 'pending')",
    )
    .bind(reason)
    .bind(id.0)
    .execute(&mut *c)
    .await?;
    Ok(Out::Count(r.rows_affected()))
}
