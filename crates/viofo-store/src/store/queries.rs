//! The read API: single clips, the next clip to download, counts and
//! listings, unfinished tails and cycle rows, from the read-only pool.

use sqlx::sqlite::SqlitePool;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::rows::{CLIP_COLUMNS, clip_from_row, cycle_from_row, to_u64};
use super::{Store, now_ms};
use crate::error::{Error, Result};
use crate::types::{ClipId, ClipRow, ClipState, CycleId, CycleRow, Filter, Policy, StateCounts};

/// The `downloaded` rows of one camera (`?1`) or all: a range of the few
/// rows of `clips_unsettled` (migration 0013), sorted.
pub(super) fn unfinished_tails_query() -> String {
    format!(
        "SELECT {CLIP_COLUMNS} FROM clips WHERE state = 'downloaded' \
         AND (?1 IS NULL OR camera_id = ?1) ORDER BY recorded_at ASC NULLS LAST, name ASC"
    )
}

/// The queue's counts of one camera (`?1`), from `clip_counts`.
pub(super) const COUNTS_OF: &str =
    "SELECT state, n FROM clip_counts WHERE camera_id = ?1 AND n != 0";
/// The queue's counts of every camera.
const COUNTS: &str = "SELECT state, SUM(n) AS n FROM clip_counts WHERE ?1 IS NULL \
     GROUP BY state HAVING SUM(n) != 0";
/// The archived bytes of one camera (`?1`), from `clip_counts`.
pub(super) const ARCHIVED_BYTES_OF: &str = "SELECT SUM(bytes) FROM clip_counts \
     WHERE camera_id = ?1 AND state IN ('downloaded', 'done')";
/// The archived bytes of every camera.
const ARCHIVED_BYTES: &str = "SELECT SUM(bytes) FROM clip_counts \
     WHERE ?1 IS NULL AND state IN ('downloaded', 'done')";

/// The query of [`Store::list`]: the camera (`?1`) and the states in the
/// text, so that `clips_queue` (camera, state) finds the rows of the
/// states asked and only those are sorted (a queue of failed clips does
/// not read a year of done ones); `?2` is the limit.
pub(super) fn list_query(camera: bool, states: &[ClipState]) -> String {
    // Asked for states, SQLite would rather read the camera's rows in the
    // order asked (`clips_recorded`) than sort the few of those states.
    let from = if states.is_empty() {
        "clips"
    } else {
        "clips INDEXED BY clips_queue"
    };
    let mut sql = format!("SELECT {CLIP_COLUMNS} FROM {from} WHERE ");
    // Every camera: those `clip_counts` knows, so the index still serves.
    sql.push_str(if camera {
        "camera_id = ?1"
    } else {
        "camera_id IN (SELECT camera_id FROM clip_counts WHERE ?1 IS NULL)"
    });
    if !states.is_empty() {
        // The states are the enum's own names, never input.
        let names: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
        sql.push_str(&format!(" AND state IN ({})", names.join(", ")));
    }
    sql.push_str(" ORDER BY recorded_at ASC NULLS LAST, name ASC, id ASC LIMIT ?2");
    sql
}

/// Rows of (state, n) as [`StateCounts`].
fn counts_from(rows: &[sqlx::sqlite::SqliteRow]) -> Result<StateCounts> {
    let mut c = StateCounts::default();
    for r in rows {
        let s: String = r.try_get("state").map_err(Error::db)?;
        let n: i64 = r.try_get("n").map_err(Error::db)?;
        if s == "skipped" {
            c.skipped = to_u64(n);
            continue;
        }
        *c.slot(ClipState::parse(&s)?) = to_u64(n);
    }
    Ok(c)
}

impl Store {
    /// Writes a consistent copy of the database to `dest` (SQLite's
    /// `VACUUM INTO`, from a read connection: works on a store opened read
    /// only and beside a running writer). `dest` must not exist. A dry run
    /// opens the copy to run the real queue rules on it, touching nothing.
    pub async fn copy_to(&self, dest: &std::path::Path) -> Result<()> {
        let dest = dest
            .to_str()
            .ok_or_else(|| Error::invalid(format!("path is not UTF-8: {}", dest.display())))?;
        sqlx::query("VACUUM INTO ?")
            .bind(dest)
            .execute(&self.inner.read)
            .await
            .map_err(Error::db)?;
        Ok(())
    }

    /// Bytes of the clips the archive holds by the store's record
    /// (`downloaded` and `done` rows' local sizes), of one camera or all: a
    /// quota's measure of the archive, cheap beside a walk of the folders
    /// (the sums `clip_counts` keeps, migration 0013).
    pub async fn archived_bytes(&self, camera_id: Option<&str>) -> Result<u64> {
        let n: Option<i64> = sqlx::query_scalar(match camera_id {
            Some(_) => ARCHIVED_BYTES_OF,
            None => ARCHIVED_BYTES,
        })
        .bind(camera_id)
        .fetch_one(&self.inner.read)
        .await
        .map_err(Error::db)?;
        Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }

    /// The clips of `camera_id` that cycle `cycle` downloaded and the
    /// archive still holds (`downloaded`, `done`), read by the cycle's
    /// index: what a cycle just finished did, without reading the whole
    /// archive's rows.
    pub async fn archived_in_cycle(&self, camera_id: &str, cycle: CycleId) -> Result<Vec<ClipRow>> {
        let sql = format!(
            "SELECT {CLIP_COLUMNS} FROM clips INDEXED BY clips_cycle \
             WHERE cycle_id = ? AND camera_id = ? AND state IN ('downloaded', 'done')"
        );
        let rows = sqlx::query(&sql)
            .bind(cycle.0)
            .bind(camera_id)
            .fetch_all(&self.inner.read)
            .await
            .map_err(Error::db)?;
        rows.iter().map(clip_from_row).collect()
    }

    /// One clip by id.
    pub async fn get(&self, id: ClipId) -> Result<Option<ClipRow>> {
        let sql = format!("SELECT {CLIP_COLUMNS} FROM clips WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        row.as_ref().map(clip_from_row).transpose()
    }

    /// The current clip of a camera by name (not one superseded by a newer
    /// recording of that name: see [`ClipRow::superseded_at`]).
    pub async fn get_by_name(&self, camera_id: &str, name: &str) -> Result<Option<ClipRow>> {
        let sql = format!(
            "SELECT {CLIP_COLUMNS} FROM clips WHERE camera_id = ? AND name = ? \
             AND superseded_at IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(camera_id)
            .bind(name)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        row.as_ref().map(clip_from_row).transpose()
    }

    /// The clip whose archived copy is the file at `local_path` (any
    /// camera, any state but superseded-or-not alike): how retention finds
    /// the row of a file it removes, whatever name the file took.
    pub async fn get_by_local_path(&self, local_path: &std::path::Path) -> Result<Option<ClipRow>> {
        let Some(p) = local_path.to_str() else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {CLIP_COLUMNS} FROM clips WHERE local_path = ? \
             ORDER BY superseded_at IS NULL DESC, id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(p)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        row.as_ref().map(clip_from_row).transpose()
    }

    /// The next pending clip of `camera_id` under `policy` and `filter`.
    ///
    /// A clip deferred ([`FailOutcome::Deferred`](crate::FailOutcome::Deferred)) is passed over while the
    /// cycle it was deferred in is the camera's newest cycle and is not
    /// finished; a new [`begin_cycle`](Self::begin_cycle) offers it again.
    pub async fn next_pending(
        &self,
        camera_id: &str,
        policy: Policy,
        filter: &Filter<'_>,
    ) -> Result<Option<ClipRow>> {
        self.next_pending_at(camera_id, policy, filter, now_ms())
            .await
    }

    /// [`next_pending`](Self::next_pending) with an explicit "now" (ms) for
    /// [`Policy::RecentFirst`](crate::Policy::RecentFirst).
    pub async fn next_pending_at(
        &self,
        camera_id: &str,
        policy: Policy,
        filter: &Filter<'_>,
        now_ms: i64,
    ) -> Result<Option<ClipRow>> {
        self.first_pending(camera_id, policy, filter, now_ms, false)
            .await
    }

    /// The first row of [`pending_query`]: the next clip to download, or
    /// (`untriaged`) the next one to triage, in the same order. Each
    /// query reads the first rows of one of the `clips_pick_*` indexes
    /// (migration 0012), not every pending row; `RecentFirst` asks twice
    /// (the window, then the rest) and takes the first by priority.
    pub(super) async fn first_pending(
        &self,
        camera_id: &str,
        policy: Policy,
        filter: &Filter<'_>,
        now_ms: i64,
        untriaged: bool,
    ) -> Result<Option<ClipRow>> {
        let Policy::RecentFirst { hours } = policy else {
            return self
                .first_of(pending_query(
                    camera_id,
                    policy,
                    filter,
                    Window::All,
                    untriaged,
                    false,
                ))
                .await;
        };
        let cutoff = now_ms.saturating_sub(i64::from(hours).saturating_mul(3_600_000));
        let recent = self
            .first_of(pending_query(
                camera_id,
                policy,
                filter,
                Window::Since(cutoff),
                untriaged,
                false,
            ))
            .await?;
        let older = self
            .first_of(pending_query(
                camera_id,
                policy,
                filter,
                Window::Before(cutoff),
                untriaged,
                false,
            ))
            .await?;
        Ok(match (recent, older) {
            (Some(r), Some(o)) if o.priority > r.priority => Some(o),
            (Some(r), _) => Some(r),
            (None, o) => o,
        })
    }

    /// SQLite's plan (`EXPLAIN QUERY PLAN`, one line per step) of each
    /// query [`next_pending_at`](Self::next_pending_at) runs under
    /// `policy` and `filter`: which index a pick reads, and whether it
    /// sorts. For tests and diagnostics.
    #[doc(hidden)]
    pub async fn explain_next_pending(
        &self,
        camera_id: &str,
        policy: Policy,
        filter: &Filter<'_>,
    ) -> Result<Vec<String>> {
        let windows: &[Window] = match policy {
            Policy::RecentFirst { .. } => &[Window::Since(0), Window::Before(0)],
            _ => &[Window::All],
        };
        let mut out = Vec::new();
        for w in windows {
            let rows = pending_query(camera_id, policy, filter, *w, false, true)
                .build()
                .persistent(false)
                .fetch_all(&self.inner.read)
                .await
                .map_err(Error::db)?;
            for r in rows {
                out.push(r.try_get::<String, _>("detail").map_err(Error::db)?);
            }
        }
        Ok(out)
    }

    async fn first_of(&self, mut qb: QueryBuilder<'_, Sqlite>) -> Result<Option<ClipRow>> {
        qb.push(" LIMIT 1");
        let row = qb
            .build()
            .persistent(false)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        row.as_ref().map(clip_from_row).transpose()
    }

    /// Rows per state, for one camera or all; pending clips with a skip
    /// reason are counted as [`StateCounts::skipped`], not as pending.
    /// Read from the counts the store keeps (`clip_counts`, migration
    /// 0013): a few rows, however many clips.
    pub async fn counts(&self, camera_id: Option<&str>) -> Result<StateCounts> {
        let rows = sqlx::query(match camera_id {
            Some(_) => COUNTS_OF,
            None => COUNTS,
        })
        .bind(camera_id)
        .fetch_all(&self.inner.read)
        .await
        .map_err(Error::db)?;
        counts_from(&rows)
    }

    /// [`counts`](Self::counts) by counting every row, as the kept counts
    /// must always say. For tests.
    #[doc(hidden)]
    pub async fn counts_by_scan(&self, camera_id: Option<&str>) -> Result<StateCounts> {
        let rows = sqlx::query(
            "SELECT CASE WHEN state = 'pending' AND skip_reason IS NOT NULL THEN 'skipped' \
             ELSE state END AS state, COUNT(*) AS n FROM clips \
             WHERE (?1 IS NULL OR camera_id = ?1) GROUP BY 1",
        )
        .bind(camera_id)
        .fetch_all(&self.inner.read)
        .await
        .map_err(Error::db)?;
        counts_from(&rows)
    }

    /// [`archived_bytes`](Self::archived_bytes) by summing every row. For
    /// tests.
    #[doc(hidden)]
    pub async fn archived_bytes_by_scan(&self, camera_id: Option<&str>) -> Result<u64> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT SUM(local_size) FROM clips WHERE state IN ('downloaded', 'done') \
             AND (?1 IS NULL OR camera_id = ?1)",
        )
        .bind(camera_id)
        .fetch_one(&self.inner.read)
        .await
        .map_err(Error::db)?;
        Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }

    /// Clips of one camera (or all) in the given states (every state when
    /// `states` is empty), oldest recording first, at most `limit` rows.
    /// For listings such as `viofosync queue`.
    pub async fn list(
        &self,
        camera_id: Option<&str>,
        states: &[ClipState],
        limit: u32,
    ) -> Result<Vec<ClipRow>> {
        let sql = list_query(camera_id.is_some(), states);
        let rows = sqlx::query(&sql)
            .bind(camera_id)
            .bind(i64::from(limit))
            .fetch_all(&self.inner.read)
            .await
            .map_err(Error::db)?;
        rows.iter().map(clip_from_row).collect()
    }

    /// Up to `limit` clips of `camera_id` in `state` with an id above
    /// `after`, by id: a walk over many rows a page at a time (the
    /// primary key's order, so each page costs its own rows, and memory
    /// holds one page, not the card).
    pub async fn page(
        &self,
        camera_id: &str,
        state: ClipState,
        after: Option<ClipId>,
        limit: u32,
    ) -> Result<Vec<ClipRow>> {
        let sql = format!(
            "SELECT {CLIP_COLUMNS} FROM clips WHERE id > ?1 AND camera_id = ?2 AND state = ?3 \
             ORDER BY id LIMIT ?4"
        );
        let rows = sqlx::query(&sql)
            .bind(after.map_or(i64::MIN, |a| a.0))
            .bind(camera_id)
            .bind(state.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.inner.read)
            .await
            .map_err(Error::db)?;
        rows.iter().map(clip_from_row).collect()
    }

    /// Clips archived whose tail (GPS, delete) has not finished, oldest
    /// first: resume their tail.
    pub async fn unfinished_tails(&self, camera_id: Option<&str>) -> Result<Vec<ClipRow>> {
        let rows = sqlx::query(&unfinished_tails_query())
            .bind(camera_id)
            .fetch_all(&self.inner.read)
            .await
            .map_err(Error::db)?;
        rows.iter().map(clip_from_row).collect()
    }

    /// One cycle row.
    pub async fn cycle(&self, id: CycleId) -> Result<Option<CycleRow>> {
        let row = sqlx::query("SELECT * FROM cycles WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        row.as_ref().map(cycle_from_row).transpose()
    }

    pub(crate) fn read_pool(&self) -> &SqlitePool {
        &self.inner.read
    }
}

/// Which recording times a pending query takes (`RecentFirst`'s two
/// halves).
#[derive(Debug, Clone, Copy)]
pub(super) enum Window {
    All,
    /// Recorded at or after this time (camera clock, ms).
    Since(i64),
    /// Recorded before it, or at an unknown time.
    Before(i64),
}

/// The pending clips of `camera_id` in `policy`'s order under `filter`
/// (without `LIMIT`): the queue's one query, for
/// [`Store::next_pending_at`] and, with `untriaged`, for
/// [`Store::next_untriaged_at`] (only clips without a track). The `ORDER
/// BY` of every policy but `Journeys` is the order of a `clips_pick_*`
/// index (`recorded_at IS NULL, recorded_at` is `recorded_at NULLS
/// LAST`), so the first row is read without a sort.
pub(super) fn pending_query<'a>(
    camera_id: &'a str,
    policy: Policy,
    filter: &Filter<'_>,
    window: Window,
    untriaged: bool,
    explain: bool,
) -> QueryBuilder<'a, Sqlite> {
    // The window of the recent clips is a range of `clips_recorded`
    // (bounded by the hours, not the card); sorted, it is small.
    let from = match window {
        Window::Since(_) => "clips INDEXED BY clips_recorded",
        Window::All | Window::Before(_) => "clips",
    };
    let head = if explain { "EXPLAIN QUERY PLAN " } else { "" };
    let mut qb: QueryBuilder<'a, Sqlite> = QueryBuilder::new(format!(
        "{head}SELECT {CLIP_COLUMNS} FROM {from} WHERE state = 'pending' AND skip_reason IS NULL \
         AND camera_id = "
    ));
    qb.push_bind(camera_id);
    match window {
        Window::All => {}
        Window::Since(cutoff) => {
            qb.push(" AND recorded_at >= ");
            qb.push_bind(cutoff);
        }
        Window::Before(cutoff) => {
            qb.push(" AND (recorded_at < ");
            qb.push_bind(cutoff);
            qb.push(" OR recorded_at IS NULL)");
        }
    }
    if untriaged {
        // No track yet, or a triage of another size of the clip (it
        // grew since): a file track is never triaged over.
        qb.push(
            " AND NOT EXISTS (SELECT 1 FROM tracks t WHERE t.clip_id = clips.id \
             AND (t.source = 'file' OR t.clip_size = clips.size))",
        );
    }
    // Deferred clips wait for a cycle after the one that deferred them
    // (or for that cycle to finish).
    qb.push(
        " AND (deferred_cycle IS NULL OR EXISTS (SELECT 1 FROM cycles cy \
         WHERE cy.camera_id = clips.camera_id AND (cy.id > clips.deferred_cycle \
         OR (cy.id = clips.deferred_cycle AND cy.finished_at IS NOT NULL))))",
    );
    if filter.locked_only {
        qb.push(" AND locked = 1");
    }
    if !filter.include_parking {
        qb.push(" AND parking = 0");
    }
    if !filter.channels.is_empty() {
        qb.push(" AND channel IN (");
        let mut sep = qb.separated(", ");
        for c in filter.channels {
            sep.push_bind(c.as_str());
        }
        qb.push(")");
    }
    if !filter.exclude.is_empty() {
        // One JSON array parameter, whatever the list's length (SQLite
        // caps bound parameters per statement).
        let ids: Vec<String> = filter.exclude.iter().map(|i| i.0.to_string()).collect();
        qb.push(" AND id NOT IN (SELECT value FROM json_each(");
        qb.push_bind(format!("[{}]", ids.join(",")));
        qb.push("))");
    }
    qb.push(" ORDER BY ");
    match policy {
        Policy::OldestFirst | Policy::RecentFirst { .. } => {
            qb.push("priority DESC, recorded_at IS NULL, recorded_at, name");
        }
        Policy::NewestFirst => {
            qb.push("priority DESC, recorded_at IS NULL, recorded_at DESC, name DESC");
        }
        Policy::LockedFirst => {
            qb.push("priority DESC, locked DESC, recorded_at IS NULL, recorded_at, name");
        }
        Policy::Journeys => {
            qb.push(
                "priority DESC, (SELECT j.start_ms FROM journey_clips jc \
                 JOIN journeys j ON j.id = jc.journey_id WHERE jc.clip_id = clips.id) \
                 DESC NULLS LAST, locked DESC, recorded_at IS NULL, recorded_at, name",
            );
        }
    }
    qb
}
