//! The status model: one shared, cheaply read picture of the sync, fed by
//! the pipeline's events ([`EventSink`]) and by a refresh from the store
//! and the archive's filesystem (`refresh`).

mod activity;
mod rate;
mod refresh;
pub(crate) mod state;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use viofo_pipeline::{Event, EventSink};

use crate::metrics::Metrics;
use crate::snapshot::StatusSnapshot;
use crate::sticky::{StickyKind, StickyStore};
pub use rate::{Throughput, cycle_bytes};
use state::State;

/// What the model watches and how often it reads the store.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StatusConfig {
    /// The camera id the pipeline stores clips under.
    pub camera_id: String,
    /// The archive folder (its filesystem is the disk reported).
    pub archive: PathBuf,
    /// How often the refresh task reads the queue counts and the disk
    /// while nothing happens (default 10 s).
    pub refresh_every: Duration,
    /// The least time between two refreshes, however many events ask for
    /// one (default 1 s).
    pub min_refresh_gap: Duration,
    /// Failed clips listed (default 50; the count covers all).
    pub failed_limit: u32,
    /// Last cycles listed (default 10).
    pub cycles_limit: u32,
}

impl StatusConfig {
    /// The defaults for one camera and archive.
    pub fn new(camera_id: impl Into<String>, archive: impl Into<PathBuf>) -> Self {
        Self {
            camera_id: camera_id.into(),
            archive: archive.into(),
            refresh_every: Duration::from_secs(10),
            min_refresh_gap: Duration::from_secs(1),
            failed_limit: 50,
            cycles_limit: 10,
        }
    }
}

struct Shared {
    state: Mutex<State>,
    metrics: Metrics,
    wake: Notify,
    sticky_store: Box<dyn StickyStore>,
    config: StatusConfig,
}

/// The in-process status model. A cheap handle (`Clone` shares one model
/// behind an `Arc`): give one clone to the pipeline as its [`EventSink`],
/// one to the server, one to the refresh task.
///
/// [`emit`](EventSink::emit) never blocks: it takes a `std` mutex for the
/// few microseconds of bookkeeping (no I/O, no await) and at most wakes the
/// refresh task. Everything slow (store queries, `statvfs`, saving sticky
/// errors) runs in [`run_refresh`](Self::run_refresh), off the pipeline's
/// path.
#[derive(Clone)]
pub struct StatusModel {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for StatusModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusModel")
            .field("camera_id", &self.shared.config.camera_id)
            .finish_non_exhaustive()
    }
}

impl StatusModel {
    /// A model for `config`, with the sticky errors `sticky` kept by an
    /// earlier run. A store that cannot be read is logged and the model
    /// starts with none (the next save replaces it).
    pub fn new(config: StatusConfig, sticky: impl StickyStore) -> Self {
        let loaded = sticky.load().unwrap_or_else(|e| {
            tracing::warn!("sticky errors not restored: {e}");
            Vec::new()
        });
        let metrics = Metrics::new();
        let state = State::new(config.camera_id.clone(), config.archive.clone(), loaded);
        state.sticky_gauges(&metrics);
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                metrics,
                wake: Notify::new(),
                sticky_store: Box::new(sticky),
                config,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &StatusConfig {
        &self.shared.config
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the state with `f` and wakes the refresh task if it asked for
    /// work.
    fn update(&self, f: impl FnOnce(&mut State, &Metrics)) {
        let wake = {
            let mut st = self.state();
            f(&mut st, &self.shared.metrics);
            st.wants.any()
        };
        if wake {
            self.shared.wake.notify_one();
        }
    }

    /// The status now, as the JSON of `/api/status` shows it.
    pub fn snapshot(&self) -> StatusSnapshot {
        self.state().snapshot(Instant::now(), viofo_store::now_ms())
    }

    /// The Prometheus exposition (OpenMetrics text, content type
    /// [`METRICS_CONTENT_TYPE`](crate::METRICS_CONTENT_TYPE)).
    pub fn render_metrics(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        self.shared.metrics.render_into(&mut out);
        out
    }

    /// The camera's model and firmware, when the embedding program read
    /// them otherwise than through the pipeline's [`Event::CameraOnline`]
    /// (which carries both when the camera's info names them). `None`
    /// keeps what is known.
    pub fn set_camera(&self, model: Option<String>, firmware: Option<String>) {
        self.update(|st, _| st.set_camera(model, firmware));
    }

    /// The address the camera is reached at (`192.168.1.254:80`), shown
    /// beside when it was last seen.
    pub fn set_address(&self, address: impl Into<String>) {
        let address = address.into();
        self.update(|st, _| st.address = Some(address));
    }

    /// The embedding program paused (`true`) or resumed the sync.
    pub fn set_paused(&self, paused: bool) {
        self.update(|st, m| st.set_paused(paused, m));
    }

    /// Raises the sticky error `kind` (kept until its condition clears;
    /// see [`StickyKind`]). A standing error keeps its `since` time and
    /// takes the new message.
    pub fn set_error(&self, kind: StickyKind, message: impl Into<String>) {
        let message = message.into();
        self.update(|st, m| st.set_sticky(kind, message, viofo_store::now_ms(), m));
    }

    /// Clears the sticky error `kind` (the embedding program saw its
    /// condition clear, e.g. a configuration accepted).
    pub fn clear_error(&self, kind: StickyKind) {
        self.update(|st, m| st.clear_sticky(kind, m));
    }

    /// Records why a cycle (or the start of one) failed: an unusable
    /// archive, a full disk and a refused configuration become sticky
    /// errors; anything else (a camera away, an interruption) does not.
    pub fn report_error(&self, error: &viofo_pipeline::Error) {
        let kind = if error.is_archive() {
            StickyKind::ArchiveUnwritable
        } else if error.is_disk_full() {
            StickyKind::DiskFull
        } else if error.is_config() {
            StickyKind::Configuration
        } else {
            return;
        };
        self.set_error(kind, format!("{error:#}"));
    }

    fn apply_at(&self, event: &Event, now: Instant, wall_ms: i64) {
        let wake = self
            .state()
            .apply(event, now, wall_ms, &self.shared.metrics);
        if wake {
            self.shared.wake.notify_one();
        }
    }
}

impl EventSink for StatusModel {
    fn emit(&self, event: Event) {
        self.apply_at(&event, Instant::now(), viofo_store::now_ms());
    }
}
