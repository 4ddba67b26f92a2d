//! What a sync does: the pipeline's settings.

use std::path::PathBuf;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::events::CycleMode;
use crate::grouping::Grouping;
use crate::retention::RetentionPolicy;
use crate::{Error, Result};

/// What to do with the download in flight when shutdown is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnInterrupt {
    /// Let the current download finish (and its tail run), start no other.
    #[default]
    Finish,
    /// Cancel the current download at once; its `.part` file is kept and
    /// resumed next time.
    Cancel,
}

/// GPS extraction settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpsConfig {
    /// The camera's UTC offset, for firmware that writes local time
    /// labelled as UTC (zero for cameras that write true UTC).
    pub utc_offset: time::UtcOffset,
    /// Drop GPS spikes from written tracks.
    pub spike_filter: bool,
    /// Also write a `<clip>.geojson` sidecar.
    pub geojson: bool,
}

impl Default for GpsConfig {
    fn default() -> Self {
        Self {
            utc_offset: time::UtcOffset::UTC,
            spike_filter: true,
            geojson: false,
        }
    }
}

/// Settings of a sync. Build with [`SyncConfig::new`] and change the public
/// fields; [`crate::Syncer::new`] validates them.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Identity of the camera in the store (clips are keyed by camera id and
    /// name), e.g. its address.
    pub camera_id: String,
    /// The archive folder.
    pub archive: PathBuf,
    /// Folder grouping inside the archive.
    pub grouping: Grouping,
    /// How to list the camera.
    pub list_source: viofo_client::ListSource,
    /// Which pending clip goes first.
    pub policy: viofo_store::Policy,
    /// The UTC offset the camera's clock is set to: clip times (names,
    /// listings) are its wall-clock readings, compared with "now" on the
    /// same clock (recent-hours first, the keep period, retention). Default
    /// UTC.
    pub camera_clock: crate::CameraClock,
    /// Only download locked (event) clips.
    pub locked_only: bool,
    /// Only these channels (empty: all).
    pub channels: Vec<viofo_store::Channel>,
    /// Download parking-mode clips too.
    pub include_parking: bool,
    /// Pipelined tail (default) or inline, the old way.
    pub tail: CycleMode,
    /// Downloads at once, 1 to 3.
    pub downloads: usize,
    /// How many downloaded clips may wait for the tail before the
    /// downloader waits.
    pub tail_queue: usize,
    /// Re-list the camera between downloads at most this often, so clips
    /// recorded meanwhile are queued and moved clips' paths refreshed.
    pub relist_every: Duration,
    /// Stop downloading when the archive's disk is fuller than this (%).
    pub max_used_disk: Option<f64>,
    /// Archive retention.
    pub retention: RetentionPolicy,
    /// Delete each clip from the camera once it is safely archived.
    pub delete_after_download: bool,
    /// With `delete_after_download`, delete locked clips too.
    pub delete_locked: bool,
    /// Also delete from the camera the clips archived by earlier runs that
    /// it still lists (turning deletes on after clips were archived leaves
    /// them there otherwise), under exactly the same delete rule as fresh
    /// ones. Default off.
    pub delete_archived: bool,
    /// The newest clip of a channel is deleted only once two listings at
    /// least this far apart showed it with the archived size (a clip the
    /// camera still writes to keeps growing even when it says it is not
    /// recording). Default 5 s. A cycle waits for it at its end only when
    /// it is 30 s or less; otherwise such a clip is decided by a later run.
    pub delete_settle: Duration,
    /// First wait before a transient download failure (reset, cut body,
    /// stall) is retried within a cycle; doubles per attempt, capped at
    /// 8× this. Default 1 s.
    pub retry_base: Duration,
    /// GPS extraction, or `None` to skip it.
    pub gps: Option<GpsConfig>,
    /// GPS triage: learn pending clips' tracks from a few ranged reads
    /// before they are downloaded (`Skeleton`: the first block, the last
    /// and one every 10 s; `Full`: every block), stored with source
    /// `triage` and replaced by the file's track once downloaded. In the
    /// download queue's order, photos left out, at most one clip per
    /// download started while downloads run (the client's lowest-priority
    /// reads, never a download's connection), the rest once they are over.
    /// Needs `gps`. Default `None` (off).
    pub triage: Option<viofo_gps::TriageMode>,
    /// Sync the device at the address even when it does not look like the
    /// camera the store knows under [`camera_id`](Self::camera_id)
    /// (another model, none of the clips it should still hold): the check
    /// is logged, not enforced. Default false: such a device ends the
    /// cycle with [`Error::is_wrong_camera`](crate::Error::is_wrong_camera)
    /// before the store is touched.
    pub accept_camera: bool,
    /// With several cameras sharing one archive: the folder holding every
    /// camera's folder (`archive` is then `<shared_archive>/<camera id>`).
    /// Retention's space and quota rules then weigh every camera's clips,
    /// oldest first whichever camera recorded them; the age rule
    /// (`retention.keep`) stays this camera's. Default `None`: the archive
    /// is this camera's alone.
    pub shared_archive: Option<PathBuf>,
    /// What shutdown does to the download in flight.
    pub on_interrupt: OnInterrupt,
    /// Watch mode's waits while the camera is away (default 10 s, 30 s,
    /// 2 min, then 10 min; reset after a cycle that reached the camera).
    pub backoff: Backoff,
    /// Named places. A pending parking clip whose stored track (from
    /// triage) lies wholly inside a place with `skip_parking` is skipped,
    /// "parked at `<name>`", never downloaded nor deleted from the camera;
    /// re-checked at the start of every cycle, so a clip comes back when
    /// the places change. Default none. See [`crate::places`].
    pub places: Vec<crate::places::Place>,
    /// Journeys: recomputed around each track stored, with a merged GPX
    /// file each in `<archive>/journeys/`; `None` turns them off. Default
    /// on (5 min gap, GPX written). See [`crate::journeys`].
    pub journeys: Option<crate::journeys::JourneySettings>,
    /// An archive on S3-compatible object storage: `archive` is then the
    /// local staging folder, and each clip counts as safe to delete from
    /// the camera only once its object is complete in the bucket (see
    /// [`crate::archive::object`]; needs the `s3` feature). Default `None`:
    /// the archive is the folder. (Boxed: the settings travel in futures.)
    pub object: Option<Box<crate::archive::ObjectConfig>>,
}

impl SyncConfig {
    /// Defaults: XML listing, oldest first, no grouping, pipelined tail,
    /// one download at a time, GPS on, no deletes, no retention, downloads stop
    /// when the archive's disk is 90 % full.
    pub fn new(camera_id: impl Into<String>, archive: impl Into<PathBuf>) -> Self {
        Self {
            camera_id: camera_id.into(),
            archive: archive.into(),
            grouping: Grouping::None,
            list_source: viofo_client::ListSource::Xml,
            policy: viofo_store::Policy::OldestFirst,
            camera_clock: crate::CameraClock::default(),
            locked_only: false,
            channels: Vec::new(),
            include_parking: true,
            tail: CycleMode::Pipelined,
            downloads: 1,
            tail_queue: 16,
            relist_every: Duration::from_secs(60),
            max_used_disk: Some(90.0),
            retention: RetentionPolicy::default(),
            delete_after_download: false,
            delete_locked: false,
            delete_archived: false,
            delete_settle: Duration::from_secs(5),
            retry_base: Duration::from_secs(1),
            gps: Some(GpsConfig::default()),
            triage: None,
            accept_camera: false,
            shared_archive: None,
            on_interrupt: OnInterrupt::Finish,
            backoff: Backoff::new(),
            places: Vec::new(),
            journeys: Some(crate::journeys::JourneySettings::default()),
            object: None,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if self.camera_id.trim().is_empty() {
            return Err(Error::config("camera id is empty"));
        }
        if !(1..=3).contains(&self.downloads) {
            return Err(Error::config(format!(
                "downloads = {}: must be 1, 2 or 3 (the camera resets connections above 3)",
                self.downloads
            )));
        }
        if self.triage.is_some() && self.gps.is_none() {
            return Err(Error::config("triage needs GPS extraction on (gps is off)"));
        }
        if let Some(viofo_gps::TriageMode::Skeleton { every }) = self.triage
            && every.is_zero()
        {
            return Err(Error::config(
                "triage skeleton interval is zero: must be at least 1 ms (default 10 s)",
            ));
        }
        crate::places::validate_places(&self.places)?;
        if let Some(shared) = &self.shared_archive
            && (self.archive == *shared || !self.archive.starts_with(shared))
        {
            return Err(Error::config(format!(
                "the archive {} is not a camera's folder inside the shared archive {}",
                self.archive.display(),
                shared.display()
            )));
        }
        if self.tail_queue == 0 {
            return Err(Error::config("tail_queue must be at least 1"));
        }
        if let Some(o) = &self.object {
            o.bucket_and_prefix().map_err(Error::config)?;
            if !cfg!(feature = "s3") {
                return Err(Error::config(format!(
                    "{}: this build has no object archive (viofo-pipeline's `s3` feature)",
                    o.url
                )));
            }
            if self.retention != RetentionPolicy::default() {
                return Err(Error::config(
                    "retention (keep, prune_above, quota) is not yet supported on an s3 \
                     archive: set the bucket's own lifecycle rules instead",
                ));
            }
            if self.shared_archive.is_some() {
                return Err(Error::config(
                    "several cameras on one s3 archive: give each camera its own prefix",
                ));
            }
        }
        for (key, v) in [
            ("max_used_disk", self.max_used_disk),
            (
                "retention max_used_percent",
                self.retention.max_used_percent,
            ),
        ] {
            if let Some(v) = v
                && !(v > 0.0 && v <= 100.0)
            {
                return Err(Error::config(format!(
                    "{key} = {v}: must be a percentage above 0 and at most 100"
                )));
            }
        }
        Ok(())
    }
}
