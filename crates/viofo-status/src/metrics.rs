//! The Prometheus metrics (prometheus-client): their registry, the handles
//! the model updates, and the text exposition of `/metrics`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The content type of the text `/metrics` serves (OpenMetrics 1.0, which
/// Prometheus scrapes natively).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A label `outcome` (cycles).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabel {
    pub(crate) outcome: &'static str,
}

/// A label `state` (queue).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StateLabel {
    pub(crate) state: &'static str,
}

/// A label `stage` (tail stages).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StageLabel {
    pub(crate) stage: &'static str,
}

/// A label `kind` (sticky errors).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KindLabel {
    pub(crate) kind: &'static str,
}

type GaugeF = Gauge<f64, AtomicU64>;

/// Every metric, registered once. Updating one is an atomic operation (a
/// histogram takes its own short lock).
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) downloaded_bytes: Counter,
    pub(crate) archived: Counter,
    pub(crate) failed: Counter,
    pub(crate) download_failures: Counter,
    pub(crate) deleted: Counter,
    pub(crate) delete_retries: Counter,
    pub(crate) pruned: Counter,
    pub(crate) skipped: Counter,
    pub(crate) cycles: Family<OutcomeLabel, Counter>,
    pub(crate) queue: Family<StateLabel, Gauge>,
    pub(crate) camera_online: Gauge,
    pub(crate) paused: Gauge,
    pub(crate) downloads_active: Gauge,
    pub(crate) download_bytes: Gauge,
    pub(crate) download_size: Gauge,
    pub(crate) download_progress: GaugeF,
    pub(crate) cycle_bytes_done: Gauge,
    pub(crate) cycle_bytes_total: Gauge,
    pub(crate) disk_used: Gauge,
    pub(crate) disk_size: Gauge,
    pub(crate) archive_bytes: Gauge,
    pub(crate) sticky: Family<KindLabel, Gauge>,
    pub(crate) download_duration: Histogram,
    pub(crate) download_gap: Histogram,
    pub(crate) tail_stage: Family<StageLabel, Histogram>,
}

/// Buckets of a download's duration, seconds (a 1 GB clip at 5-30 MB/s).
const DOWNLOAD_BUCKETS: [f64; 12] = [
    1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 120.0, 300.0, 600.0, 1200.0,
];
/// Buckets of the gap between downloads, seconds (the pipeline's promise
/// is milliseconds).
const GAP_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Buckets of tail stages, seconds.
const STAGE_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// The tail stages observed, as the store's `timings` report names them.
pub(crate) const STAGES: [&str; 5] = ["tail_wait", "gps", "delete", "tail_run", "tail_total"];

/// The cycle outcomes, pre-registered so every series exists from the
/// first scrape.
const OUTCOMES: [&str; 5] = [
    "completed",
    "completed_with_failures",
    "camera_lost",
    "cancelled",
    "failed",
];

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut r = Registry::with_prefix("viofosync");
        let counter = |r: &mut Registry, name: &str, help: &str, unit: Option<Unit>| {
            let c = Counter::default();
            match unit {
                Some(u) => r.register_with_unit(name, help, u, c.clone()),
                None => r.register(name, help, c.clone()),
            }
            c
        };
        let gauge = |r: &mut Registry, name: &str, help: &str, unit: Option<Unit>| {
            let g = Gauge::default();
            match unit {
                Some(u) => r.register_with_unit(name, help, u, g.clone()),
                None => r.register(name, help, g.clone()),
            }
            g
        };
        let downloaded_bytes = counter(
            &mut r,
            "downloaded",
            "Bytes of clips downloaded and archived",
            Some(Unit::Bytes),
        );
        let archived = counter(&mut r, "clips_archived", "Clips archived", None);
        let failed = counter(
            &mut r,
            "clips_failed",
            "Clips left failed by a cycle (clips, not attempts)",
            None,
        );
        let download_failures = counter(
            &mut r,
            "download_failures",
            "Download attempts that failed (each retry counts)",
            None,
        );
        let deleted = counter(
            &mut r,
            "clips_deleted",
            "Clips the camera confirmed deleting",
            None,
        );
        let delete_retries = counter(
            &mut r,
            "delete_retries",
            "Camera delete requests that failed and will be asked again",
            None,
        );
        let pruned = counter(
            &mut r,
            "clips_pruned",
            "Clips removed from the archive by retention",
            None,
        );
        let skipped = counter(
            &mut r,
            "clips_skipped",
            "Clips skipped (by the user, a filter, or still recording)",
            None,
        );
        let cycles = Family::<OutcomeLabel, Counter>::default();
        r.register("cycles", "Sync cycles finished, by outcome", cycles.clone());
        for outcome in OUTCOMES {
            drop(cycles.get_or_create(&OutcomeLabel { outcome }));
        }
        let queue = Family::<StateLabel, Gauge>::default();
        r.register("queue_clips", "Clips in the store, by state", queue.clone());
        for state in viofo_store::ClipState::ALL {
            drop(queue.get_or_create(&StateLabel {
                state: state.as_str(),
            }));
        }
        let camera_online = gauge(
            &mut r,
            "camera_online",
            "1 when the camera answered its last probe",
            None,
        );
        let paused = gauge(&mut r, "paused", "1 while the sync is paused", None);
        let downloads_active = gauge(&mut r, "downloads_active", "Downloads in flight", None);
        let download_bytes = gauge(
            &mut r,
            "current_download",
            "Bytes received of the downloads in flight",
            Some(Unit::Bytes),
        );
        let download_size = gauge(
            &mut r,
            "current_download_size",
            "Expected size of the downloads in flight (those whose size is known)",
            Some(Unit::Bytes),
        );
        let download_progress = GaugeF::default();
        r.register_with_unit(
            "current_download_progress",
            "Fraction received of the downloads in flight (0 to 1)",
            Unit::Other("ratio".into()),
            download_progress.clone(),
        );
        let cycle_bytes_done = gauge(
            &mut r,
            "cycle_done",
            "Bytes done in the running cycle",
            Some(Unit::Bytes),
        );
        let cycle_bytes_total = gauge(
            &mut r,
            "cycle_total",
            "Estimated bytes of the running cycle (done and to do)",
            Some(Unit::Bytes),
        );
        let disk_used = gauge(
            &mut r,
            "disk_used",
            "Bytes in use on the archive's filesystem",
            Some(Unit::Bytes),
        );
        let disk_size = gauge(
            &mut r,
            "disk_size",
            "Size of the archive's filesystem (used + available)",
            Some(Unit::Bytes),
        );
        let archive_bytes = gauge(
            &mut r,
            "archive",
            "Bytes of the clips in the archive",
            Some(Unit::Bytes),
        );
        let sticky = Family::<KindLabel, Gauge>::default();
        r.register(
            "sticky_error",
            "1 while a sticky error of this kind stands",
            sticky.clone(),
        );
        let download_duration = Histogram::new(DOWNLOAD_BUCKETS);
        r.register_with_unit(
            "download_duration",
            "Time to download one clip",
            Unit::Seconds,
            download_duration.clone(),
        );
        let download_gap = Histogram::new(GAP_BUCKETS);
        r.register_with_unit(
            "download_gap",
            "Idle camera link between one download's end and the next one's start, within a cycle",
            Unit::Seconds,
            download_gap.clone(),
        );
        let tail_stage =
            Family::<StageLabel, Histogram>::new_with_constructor(|| Histogram::new(STAGE_BUCKETS));
        r.register_with_unit(
            "tail_stage_duration",
            "Duration of the tail stages of archived clips (from the store's timings)",
            Unit::Seconds,
            tail_stage.clone(),
        );
        for stage in STAGES {
            drop(tail_stage.get_or_create(&StageLabel { stage }));
        }
        Self {
            registry: r,
            downloaded_bytes,
            archived,
            failed,
            download_failures,
            deleted,
            delete_retries,
            pruned,
            skipped,
            cycles,
            queue,
            camera_online,
            paused,
            downloads_active,
            download_bytes,
            download_size,
            download_progress,
            cycle_bytes_done,
            cycle_bytes_total,
            disk_used,
            disk_size,
            archive_bytes,
            sticky,
            download_duration,
            download_gap,
            tail_stage,
        }
    }

    /// The exposition, into `out`.
    pub(crate) fn render_into(&self, out: &mut String) {
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(out, &self.registry);
    }
}

/// A byte count as a gauge value (saturating).
pub(crate) fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
