//! The triage stage: with [`SyncConfig::triage`](crate::SyncConfig::triage)
//! set, the GPS tracks of pending clips learnt over a few ranged reads
//! before they are downloaded, paced by the downloads and stored with
//! source `triage`; and the conversion of any extraction to a stored track.

use std::sync::atomic::Ordering;

use viofo_client::{RangeReader, Recording};
use viofo_gps::{Extraction, TriageMode, TriageOutcome};
use viofo_store::{ClipId, ClipRow, Filter, MAX_TRACK_POINTS, Track, TrackPoint, TrackSource};

use super::convert::{gps_options, gps_summary, local_ms};
use super::{Cycle, Syncer};
use crate::events::Event;
use crate::shutdown::Shutdown;

/// Triage stops for the rest of a cycle after this many clips in a row
/// failed on the camera link (it is probably gone; the downloads find out
/// on their own).
const MAX_FAILURES_IN_A_ROW: u32 = 3;

/// A clip on the camera as a [`viofo_gps::RangeSource`]: the client's
/// lowest-priority ranged reads (the client and the GPS crate know nothing
/// of each other; this crate joins them).
pub(super) struct RangeClip(pub(super) RangeReader);

impl viofo_gps::RangeSource for RangeClip {
    type Error = viofo_client::Error;

    fn size(&self) -> u64 {
        self.0.size()
    }

    async fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, Self::Error> {
        self.0.read_at(offset, len).await.map(|b| b.to_vec())
    }
}

/// How one clip's triage ended.
enum Triaged {
    /// Stored (a track, or the reason there is none); on to the next clip.
    Stored,
    /// Failed on the link this time: passed over for the rest of the cycle.
    Failed,
    /// No more triage (the camera ignores `Range`, or the store failed).
    Stop,
}

/// The label a triage's mode is stored with: `full` or `skeleton 10s`.
pub(super) fn mode_label(mode: TriageMode) -> String {
    match mode {
        TriageMode::Full => "full".to_owned(),
        TriageMode::Skeleton { every } if every.subsec_millis() == 0 => {
            format!("skeleton {}s", every.as_secs())
        }
        TriageMode::Skeleton { every } => format!("skeleton {}ms", every.as_millis()),
    }
}

/// The label a triage is stored with: its mode, and the clip's length
/// when its `mvhd` gave one (`skeleton 10s, clip 60000ms`), which
/// [`parse_label`] reads back to decide a skip.
pub(super) fn triage_label(mode: TriageMode, clip: Option<std::time::Duration>) -> String {
    match clip {
        Some(d) => format!("{}, clip {}ms", mode_label(mode), d.as_millis()),
        None => mode_label(mode),
    }
}

/// A triage label's sample spacing and clip length in ms: `full` is one
/// fix a second; `None` for a label it cannot read.
pub(super) fn parse_label(label: &str) -> Option<(i64, Option<i64>)> {
    let (mode, clip) = match label.split_once(", clip ") {
        Some((m, c)) => (m, Some(c.strip_suffix("ms")?.parse::<i64>().ok()?)),
        None => (label, None),
    };
    let spacing = match mode {
        "full" => 1_000,
        m => {
            let every = m.strip_prefix("skeleton ")?;
            match every.strip_suffix("ms") {
                Some(ms) => ms.parse::<i64>().ok()?,
                None => every
                    .strip_suffix('s')?
                    .parse::<i64>()
                    .ok()?
                    .checked_mul(1_000)?,
            }
        }
    };
    Some((spacing, clip))
}

/// At most `max` of `points`, evenly spaced, the first and the last kept.
fn thin<T: Copy>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max || max < 2 {
        return points.iter().copied().take(max).collect();
    }
    let last = points.len() - 1;
    (0..max)
        .filter_map(|i| points.get(i * last / (max - 1)).copied())
        .collect()
}

/// The stored form of an extraction's fixes: UTC ms, degrees, m/s, at most
/// [`MAX_TRACK_POINTS`] (a longer track is thinned evenly).
pub(crate) fn track_points(ex: &Extraction) -> Vec<TrackPoint> {
    #[allow(clippy::cast_possible_truncation)] // speeds and courses fit f32
    let all: Vec<TrackPoint> = ex
        .points
        .iter()
        .map(|p| TrackPoint {
            time_ms: i64::try_from(p.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
            lat: p.lat,
            lon: p.lon,
            speed_mps: p.speed_mps as f32,
            course_deg: p.course_deg as f32,
        })
        .collect();
    if all.len() > MAX_TRACK_POINTS {
        tracing::debug!(
            "a track of {} fixes thinned to {MAX_TRACK_POINTS} for the store",
            all.len()
        );
        return thin(&all, MAX_TRACK_POINTS);
    }
    all
}

/// An extraction as a stored track (no fixes: a "no track" record with
/// `empty_reason`).
pub(crate) fn stored_track(
    source: TrackSource,
    mode: Option<String>,
    clip_size: u64,
    ex: &Extraction,
    empty_reason: &str,
) -> Track {
    let points = track_points(ex);
    Track {
        source,
        mode,
        clip_size,
        summary: gps_summary(&ex.summary()),
        no_track: points.is_empty().then(|| empty_reason.to_owned()),
        points,
    }
}

/// The camera client's error behind a GPS extraction's source failure.
fn client_error(e: &viofo_gps::Error) -> Option<&viofo_client::Error> {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(ce) = c.downcast_ref::<viofo_client::Error>() {
            return Some(ce);
        }
        cause = c.source();
    }
    None
}

impl Syncer {
    /// Triages the pending clips without a track, in the download queue's
    /// order (photos and clips the downloads would pass over left out):
    /// while downloads run, at most one clip per download started (after
    /// it started, so never the clip it took), so the link stays the
    /// downloads'; once they are over (none left, or stopped by a full disk
    /// or a quota), the rest.
    /// Failures never fail a clip or the cycle: they are logged and the
    /// clip is passed over until the next cycle.
    pub(super) async fn triage_loop(
        &self,
        cx: &Cycle,
        downloads_done: &tokio_util::sync::CancellationToken,
        shutdown: &Shutdown,
    ) {
        let s = &*self.inner;
        let Some(mode) = s.cfg.triage else { return };
        if s.range_ignored.load(Ordering::Relaxed) {
            return;
        }
        let mut passed: Vec<ClipId> = Vec::new();
        let mut failures = 0u32;
        loop {
            if !Self::triage_turn(cx, downloads_done, shutdown).await {
                return;
            }
            let (row, rec) = match self.pick_triage(cx, &mut passed).await {
                Ok(Some(p)) => p,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!("GPS triage stopped: the store could not be read: {e:#}");
                    return;
                }
            };
            let step = tokio::select! {
                step = self.triage_one(&row, &rec, mode) => step,
                // Abandoned: dropping the read frees its connection slot.
                () = shutdown.stopped() => return,
            };
            match step {
                Triaged::Stored => failures = 0,
                Triaged::Failed => {
                    passed.push(row.id);
                    failures += 1;
                    if failures >= MAX_FAILURES_IN_A_ROW {
                        let reason = format!(
                            "{failures} clips in a row could not be triaged; trying again next cycle"
                        );
                        tracing::warn!("GPS triage stopped: {reason}");
                        s.events.emit(Event::TriageStopped { reason });
                        return;
                    }
                }
                Triaged::Stop => return,
            }
        }
    }

    /// Waits for the next triage's turn: a download started since the last
    /// one, or the downloads are over. `false`: stop (shutdown, camera
    /// gone).
    async fn triage_turn(
        cx: &Cycle,
        downloads_done: &tokio_util::sync::CancellationToken,
        shutdown: &Shutdown,
    ) -> bool {
        loop {
            let camera_lost = {
                let st = cx.st();
                st.halt_reason
                    .as_ref()
                    .is_some_and(crate::Error::is_offline)
            };
            if shutdown.is_stopping() || camera_lost {
                return false;
            }
            if downloads_done.is_cancelled() {
                return true;
            }
            {
                let mut st = cx.st();
                if st.triage_turns > 0 {
                    st.triage_turns -= 1;
                    return true;
                }
            }
            tokio::select! {
                () = cx.triage_wake.notified() => {}
                () = downloads_done.cancelled() => {}
                () = shutdown.stopped() => return false,
            }
        }
    }

    /// The next clip to triage: the download queue's order and filter, not
    /// in flight, not passed over this cycle, eligible for download now,
    /// not a photo.
    async fn pick_triage(
        &self,
        cx: &Cycle,
        passed: &mut Vec<ClipId>,
    ) -> crate::Result<Option<(ClipRow, Recording)>> {
        let s = &*self.inner;
        loop {
            let exclude: Vec<ClipId> = {
                let st = cx.st();
                st.picks
                    .in_flight
                    .iter()
                    .chain(&st.picks.passed)
                    .chain(passed.iter())
                    .copied()
                    .collect()
            };
            let filter = Filter {
                locked_only: s.cfg.locked_only,
                channels: &s.cfg.channels,
                include_parking: s.cfg.include_parking,
                exclude: &exclude,
            };
            let Some(row) = s
                .store
                .next_untriaged_at(
                    &s.cfg.camera_id,
                    s.cfg.policy,
                    &filter,
                    local_ms(s.cfg.camera_clock.now()),
                )
                .await?
            else {
                return Ok(None);
            };
            {
                // A download may have taken it meanwhile.
                let st = cx.st();
                if st.picks.in_flight.contains(&row.id) || st.picks.passed.contains(&row.id) {
                    continue;
                }
            }
            let snap = cx.snapshot();
            match self.eligibility(&snap, &row) {
                Ok(rec) if !rec.is_photo() => return Ok(Some((row, rec.clone()))),
                _ => passed.push(row.id),
            }
        }
    }

    /// With triage on and a place that skips parking, a parking clip is
    /// never downloaded before its triage decided: the one the pick is
    /// about to hand out is triaged now if it has no track at its size (a
    /// camera read, so the link waits only for the camera; clips that are
    /// not parking clips are never held up). Returns its skip reason when
    /// it is skipped (recorded in the store); `None` to download it, also
    /// when its triage could not be done (a download loses nothing).
    pub(super) async fn parked_skip(&self, row: &ClipRow, rec: &Recording) -> Option<String> {
        let s = &*self.inner;
        let mode = s.cfg.triage?;
        if !row.parking || rec.is_photo() || !s.cfg.places.iter().any(|p| p.skip_parking) {
            return None;
        }
        let stored = match s.store.track(row.id).await {
            Ok(t) => t.map(|t| t.track).filter(|t| t.clip_size == row.size),
            Err(e) => {
                tracing::warn!("{}: its track could not be read: {e:#}", row.name);
                return None;
            }
        };
        if let Some(track) = stored {
            let want = super::skips::skip_reason(&s.cfg.places, true, row.size, Some(&track));
            if want.is_some() {
                self.decide_skip(row, &track).await;
            }
            return want;
        }
        if s.range_ignored.load(Ordering::Relaxed) {
            return None;
        }
        match self.triage_one(row, rec, mode).await {
            // Stored, and the skip decided with it.
            Triaged::Stored => match s.store.get(row.id).await {
                Ok(Some(now)) => now.skip_reason,
                _ => None,
            },
            Triaged::Failed | Triaged::Stop => None,
        }
    }

    /// Triages one clip and stores what it found.
    async fn triage_one(&self, row: &ClipRow, rec: &Recording, mode: TriageMode) -> Triaged {
        let s = &*self.inner;
        let name = &row.name;
        let opts = gps_options(&s.cfg.gps.unwrap_or_default());
        let mut src = match s.client.range_reader(rec).await {
            Ok(r) => RangeClip(r),
            Err(e) => return self.triage_link_failed(name, &e),
        };
        let result = viofo_gps::extract_ranged(&mut src, mode, &opts).await;
        let (reads, bytes) = (src.0.requests(), src.0.bytes_requested());
        let clip_size = src.0.size();
        let label = Some(mode_label(mode));
        let track = match result {
            Ok(t) => match &t.outcome {
                TriageOutcome::Track(ex) => stored_track(
                    TrackSource::Triage,
                    Some(triage_label(
                        mode,
                        ex.movie
                            .as_ref()
                            .and_then(|m| m.duration)
                            .and_then(|d| std::time::Duration::try_from(d).ok()),
                    )),
                    clip_size,
                    ex,
                    "no GPS fixes in the blocks fetched",
                ),
                TriageOutcome::NoTriage(why) => {
                    Track::none(TrackSource::Triage, label, clip_size, why.to_string())
                }
            },
            Err(e) => match client_error(&e) {
                Some(ce) if ce.is_range_ignored() => {
                    s.range_ignored.store(true, Ordering::Relaxed);
                    let reason = format!(
                        "the camera ignores HTTP Range requests ({ce:#}); no GPS triage with it, downloads go on"
                    );
                    tracing::warn!("GPS triage stopped: {reason}");
                    s.events.emit(Event::TriageStopped { reason });
                    return Triaged::Stop;
                }
                Some(ce) => return self.triage_link_failed(name, ce),
                None if e.is_malformed() || e.is_not_mp4() => {
                    // The clip's boxes cannot be read this way: recorded,
                    // so it is not tried again while it keeps its size.
                    Track::none(
                        TrackSource::Triage,
                        label,
                        clip_size,
                        format!(
                            "no GPS triage: {e}; the track is found when the clip is downloaded"
                        ),
                    )
                }
                None => {
                    tracing::warn!("{name}: GPS triage failed: {e:#}");
                    s.events.emit(Event::TriageFailed {
                        name: name.clone(),
                        error: format!("{e:#}"),
                    });
                    return Triaged::Failed;
                }
            },
        };
        let found = track.points.len() as u64;
        let no_track = track.no_track.clone();
        let for_skip = (row.parking && !track.points.is_empty()).then(|| track.clone());
        match s.store.set_track(row.id, track).await {
            Ok(viofo_store::SetTrack::Stored) => {
                // Stored before the download: a parking clip at a place
                // that skips parking is not downloaded.
                if let Some(t) = &for_skip {
                    self.decide_skip(row, t).await;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("GPS triage stopped: {name}: its track could not be stored: {e:#}");
                return Triaged::Stop;
            }
        }
        if no_track.is_none() {
            s.journeys.track_stored(&s.store, &s.cfg, row.id);
        }
        match no_track {
            None => {
                tracing::debug!("{name}: triaged, {found} fixes from {reads} reads, {bytes} bytes");
                s.events.emit(Event::Triaged {
                    name: name.clone(),
                    points: found,
                    reads,
                    bytes,
                    clip_size,
                });
            }
            Some(reason) => {
                tracing::info!("{name}: {reason}");
                s.events.emit(Event::TriageNone {
                    name: name.clone(),
                    reason,
                    reads,
                    bytes,
                });
            }
        }
        Triaged::Stored
    }

    fn triage_link_failed(&self, name: &str, e: &viofo_client::Error) -> Triaged {
        tracing::warn!("{name}: GPS triage failed: {e:#}; tried again next cycle");
        self.inner.events.emit(Event::TriageFailed {
            name: name.to_owned(),
            error: format!("{e:#}"),
        });
        Triaged::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_ends_and_the_cap() {
        let v: Vec<u32> = (0..100).collect();
        assert_eq!(thin(&v, 200), v);
        let t = thin(&v, 10);
        assert_eq!(t.len(), 10);
        assert_eq!((t[0], t[9]), (0, 99));
        assert!(t.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn mode_labels() {
        assert_eq!(mode_label(TriageMode::Full), "full");
        assert_eq!(mode_label(TriageMode::skeleton()), "skeleton 10s");
        let every = std::time::Duration::from_millis(2500);
        assert_eq!(
            mode_label(TriageMode::Skeleton { every }),
            "skeleton 2500ms"
        );
    }

    #[test]
    fn labels_read_back() {
        let every = std::time::Duration::from_millis(2500);
        let clip = Some(std::time::Duration::from_secs(60));
        for (mode, clip, want) in [
            (TriageMode::Full, clip, (1_000, Some(60_000))),
            (TriageMode::skeleton(), clip, (10_000, Some(60_000))),
            (TriageMode::Skeleton { every }, None, (2_500, None)),
        ] {
            let label = triage_label(mode, clip);
            assert_eq!(parse_label(&label), Some(want), "{label}");
        }
        assert_eq!(
            triage_label(TriageMode::skeleton(), clip),
            "skeleton 10s, clip 60000ms"
        );
        for bad in ["", "skeleton", "skeleton xs", "full, clip 5", "other 10s"] {
            assert_eq!(parse_label(bad), None, "{bad}");
        }
    }
}
