//! SQLite's plans of the queries an idle sync, `status` and `queue` run,
//! whose cost must follow the card or the answer, never the store: for
//! the tests that forbid a scan or a sort of the store in them.

use sqlx::Row;

use super::Store;
use super::cameras::{KNOWN_ANY, KNOWN_IN_WINDOW, KNOWN_LISTED};
use super::open::RECOVER_IN_FLIGHT;
use super::queries::{ARCHIVED_BYTES_OF, COUNTS_OF, list_query, unfinished_tails_query};
use super::writes::SETTLED_NAMES;
use crate::error::{Error, Result};
use crate::types::ClipState;
use crate::writer::{RECONCILE_ROWS, RECORDED_PATHS};

impl Store {
    /// Each query of the list above by a short name, with its plan
    /// (`EXPLAIN QUERY PLAN`, one line per step). For tests and
    /// diagnostics.
    #[doc(hidden)]
    pub async fn explain_scaled_queries(&self) -> Result<Vec<(&'static str, Vec<String>)>> {
        let failed = list_query(true, &[ClipState::Failed]);
        let failed_any = list_query(false, &[ClipState::Failed]);
        let tails = unfinished_tails_query();
        let queries: [(&'static str, &str); 12] = [
            ("reconcile rows", RECONCILE_ROWS),
            ("recorded paths", RECORDED_PATHS),
            ("settled names", SETTLED_NAMES),
            ("known listed", KNOWN_LISTED),
            ("known in window", KNOWN_IN_WINDOW),
            ("known any", KNOWN_ANY),
            ("counts", COUNTS_OF),
            ("archived bytes", ARCHIVED_BYTES_OF),
            ("queue failed", &failed),
            ("queue failed, every camera", &failed_any),
            ("unfinished tails", &tails),
            ("recovery", RECOVER_IN_FLIGHT),
        ];
        let mut out = Vec::new();
        for (name, sql) in queries {
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .persistent(false)
                .fetch_all(self.read_pool())
                .await
                .map_err(Error::db)?;
            let mut plan = Vec::new();
            for r in rows {
                plan.push(r.try_get::<String, _>("detail").map_err(Error::db)?);
            }
            out.push((name, plan));
        }
        Ok(out)
    }
}
