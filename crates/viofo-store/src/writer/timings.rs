//! Writing a clip's stage timings: every timing of the clip in one batch
//! by one UPDATE (see [`super::Plan`]).

use sqlx::SqliteConnection;

use crate::error::ErrorKind;
use crate::types::{ClipId, Stage};

use super::ops::Out;
use super::{OpErr, OpResult};

/// How many stages (columns) there are.
pub(crate) const STAGES: usize = 8;

/// The stage's place among the columns of the statement below.
pub(crate) fn index(stage: Stage) -> usize {
    match stage {
        Stage::Listed => 0,
        Stage::DownloadStarted => 1,
        Stage::DownloadFinished => 2,
        Stage::TailSubmitted => 3,
        Stage::TailStarted => 4,
        Stage::GpsFinished => 5,
        Stage::DeleteFinished => 6,
        Stage::TailFinished => 7,
    }
}

/// Sets the stage's time in `cols` unless it has one already.
pub(crate) fn put(cols: &mut [Option<i64>; STAGES], stage: Stage, at: i64) {
    if let Some(c) = cols.get_mut(index(stage)) {
        c.get_or_insert(at);
    }
}

/// One statement for any set of columns (a column without a time keeps
/// its value), so SQLite prepares it once.
const SQL: &str = "UPDATE clips SET listed_at = COALESCE(?1, listed_at), \
     download_started_at = COALESCE(?2, download_started_at), \
     download_finished_at = COALESCE(?3, download_finished_at), \
     tail_submitted_at = COALESCE(?4, tail_submitted_at), \
     tail_started_at = COALESCE(?5, tail_started_at), \
     gps_finished_at = COALESCE(?6, gps_finished_at), \
     delete_finished_at = COALESCE(?7, delete_finished_at), \
     tail_finished_at = COALESCE(?8, tail_finished_at) WHERE id = ?9";

/// Sets the given stage columns of one clip.
pub(super) async fn set(
    c: &mut SqliteConnection,
    id: ClipId,
    cols: &[Option<i64>; STAGES],
) -> OpResult<Out> {
    let mut q = sqlx::query(SQL);
    for at in cols {
        q = q.bind(*at);
    }
    let r = q.bind(id.0).execute(&mut *c).await?;
    if r.rows_affected() == 0 {
        return Err(OpErr::Refuse(ErrorKind::ClipNotFound(id).into()));
    }
    Ok(Out::Unit)
}
