//! Skipped clips: a pending clip the sync will not download gets a skip
//! reason (the store's queues pass it over; never archived, so never
//! deleted from the camera): left out by the filters (`channels`,
//! `locked_only`, `include_parking`), or a parking clip whose track (learnt
//! by triage, stored before its download) lies wholly inside a place
//! flagged `skip_parking` ("parked at `<name>`"). Decided when a triage
//! track is stored and re-decided at the start of every cycle against the
//! current settings, so a clip comes back when they no longer skip it.

use viofo_store::{Channel, ClipRow, ClipState, Track};

use super::{Cycle, Syncer};
use crate::config::SyncConfig;
use crate::events::Event;
use crate::places::{Place, parked_at};
use crate::retention::OLDER_THAN_QUOTA_KEEPS;

/// Why the filters leave a clip out, if they do: `channel filter
/// (channels = F)`, `not locked (locked_only)`, `parking clip
/// (include_parking = false)` — the same rules as the store's download
/// queue ([`viofo_store::Filter`]).
pub(super) fn filter_reason(cfg: &SyncConfig, row: &ClipRow) -> Option<String> {
    if !cfg.channels.is_empty() && !cfg.channels.contains(&row.channel) {
        let list: Vec<&str> = cfg.channels.iter().map(|c| Channel::as_str(*c)).collect();
        return Some(format!("channel filter (channels = {})", list.join(", ")));
    }
    if cfg.locked_only && !row.locked {
        return Some("not locked (locked_only)".to_owned());
    }
    if !cfg.include_parking && row.parking {
        return Some("parking clip (include_parking = false)".to_owned());
    }
    None
}

/// How far (ms) the first fix may be from the clip's start, the last from
/// its end, and a gap between fixes beyond the sample spacing, for the
/// fixes to count as covering the clip ([`covers_clip`]).
pub(super) const COVER_SLACK_MS: i64 = 3_000;

/// Whether fixes at `fix_times_ms` (UTC ms, any order) cover a clip of
/// `clip_ms` sampled every `spacing_ms`: the clip's length is known, there
/// is at least one fix, the fixes span at least the clip's length less
/// twice [`COVER_SLACK_MS`] (every fix lies within the clip, so the first
/// is then within that of its start and the last of its end), and no two
/// consecutive fixes are further apart than `spacing_ms` plus
/// [`COVER_SLACK_MS`] (no stretch of the clip went unread, as when the
/// fixes stop because the GPS was lost while the car left). A clip of
/// unknown length is never covered.
pub(super) fn covers_clip(fix_times_ms: &[i64], clip_ms: Option<i64>, spacing_ms: i64) -> bool {
    let Some(clip_ms) = clip_ms.filter(|d| *d >= 0) else {
        return false;
    };
    let mut times = fix_times_ms.to_vec();
    times.sort_unstable();
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return false;
    };
    let span = last.saturating_sub(*first);
    let max_gap = spacing_ms.max(0).saturating_add(COVER_SLACK_MS);
    span.saturating_add(2 * COVER_SLACK_MS) >= clip_ms
        && times.windows(2).all(|w| match w {
            [a, b] => b.saturating_sub(*a) <= max_gap,
            _ => true,
        })
}

/// The skip reason a clip (`parking` or not, listed with `size` bytes)
/// should have now: `Some("parked at <name>")` for a parking clip whose
/// triage track, taken at the clip's current size, covers the whole clip
/// ([`covers_clip`], with the sample spacing and clip length its label
/// records) with every fix inside one `skip_parking` place. A track
/// that may have missed the clip leaving the place never skips it.
pub(super) fn skip_reason(
    places: &[Place],
    parking: bool,
    size: u64,
    track: Option<&Track>,
) -> Option<String> {
    if !parking {
        return None;
    }
    let t = track?;
    if t.clip_size != size {
        // The clip grew since: its track is triaged again first.
        return None;
    }
    let (spacing_ms, clip_ms) = super::triage::parse_label(t.mode.as_deref()?)?;
    let times: Vec<i64> = t.points.iter().map(|p| p.time_ms).collect();
    if !covers_clip(&times, clip_ms, spacing_ms) {
        return None;
    }
    parked_at(places, &t.points).map(Place::skip_reason)
}

/// Pending rows read at a time when skips are re-checked.
const RECHECK_PAGE: u32 = 1_000;

impl Syncer {
    /// At the start of a cycle (after the listing): every pending clip
    /// decided again against the current filters, places and quota
    /// (older than what the quota keeps). A store
    /// failure is logged; the cycle goes on (the queues keep the reasons
    /// they had).
    pub(super) async fn recheck_skips(&self, cx: &Cycle) {
        let s = &*self.inner;
        let any_skip_place = s.cfg.places.iter().any(|p| p.skip_parking);
        // A page at a time: a full card's pending rows are never all held.
        let mut after = None;
        loop {
            let rows = match s
                .store
                .page(&s.cfg.camera_id, ClipState::Pending, after, RECHECK_PAGE)
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(
                        "skipped clips not re-checked: the store could not be read: {e:#}"
                    );
                    return;
                }
            };
            let Some(last) = rows.last() else { break };
            after = Some(last.id);
            for row in rows {
                self.recheck_skip(row, any_skip_place).await;
            }
        }
        for (id, want) in self.quota_skips(cx).await {
            let row = match s.store.get(id).await {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!("a skip not re-checked: {e:#}");
                    continue;
                }
            };
            self.apply_skip(&row, want).await;
        }
    }

    /// After a triage track was stored for `row`: skip it if it is parked
    /// at a `skip_parking` place. A clip a download took meanwhile is left
    /// alone (the store sets a reason on pending clips only).
    pub(super) async fn decide_skip(&self, row: &ClipRow, track: &Track) {
        let s = &*self.inner;
        let want = skip_reason(&s.cfg.places, row.parking, row.size, Some(track));
        if want.is_some() {
            self.apply_skip(row, want).await;
        }
    }

    /// [`recheck_skips`](Self::recheck_skips) of one pending clip.
    async fn recheck_skip(&self, row: ClipRow, any_skip_place: bool) {
        let s = &*self.inner;
        if let Some(why) = filter_reason(&s.cfg, &row) {
            self.apply_skip(&row, Some(why)).await;
            return;
        }
        let want = if any_skip_place && row.parking {
            match s.store.track(row.id).await {
                Ok(t) => skip_reason(
                    &s.cfg.places,
                    row.parking,
                    row.size,
                    t.as_ref().map(|t| &t.track),
                ),
                Err(e) => {
                    tracing::warn!("{}: its track could not be read: {e:#}", row.name);
                    return;
                }
            }
        } else {
            None
        };
        if want.is_none()
            && row.skip_reason.as_deref() == Some(OLDER_THAN_QUOTA_KEEPS)
            && s.cfg.retention.quota.is_some()
        {
            // The quota's to decide, below.
            return;
        }
        self.apply_skip(&row, want).await;
    }

    /// Records `want` as the clip's skip reason if it differs from the one
    /// it has, and says so.
    pub(super) async fn apply_skip(&self, row: &ClipRow, want: Option<String>) {
        let s = &*self.inner;
        if want == row.skip_reason {
            return;
        }
        match s.store.set_skip(row.id, want.clone()).await {
            Ok(true) => match (want, row.skip_reason.clone()) {
                (Some(reason), _) => {
                    tracing::info!("{}: skipped, {reason}", row.name);
                    s.events.emit(Event::Skipped {
                        name: row.name.clone(),
                        reason,
                    });
                }
                (None, Some(was)) => {
                    tracing::info!("{}: no longer skipped (was {was})", row.name);
                    s.events.emit(Event::SkipLifted {
                        name: row.name.clone(),
                        was,
                    });
                }
                (None, None) => {}
            },
            Ok(false) => tracing::debug!("{}: not skipped: a download took it", row.name),
            Err(e) => tracing::warn!("{}: its skip could not be recorded: {e:#}", row.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use viofo_store::{GpsSummary, TrackPoint, TrackSource};

    fn track(size: u64, lat: f64) -> Track {
        Track {
            source: TrackSource::Triage,
            mode: Some("skeleton 10s, clip 1000ms".to_owned()),
            clip_size: size,
            summary: GpsSummary {
                points: 1,
                first_fix_ms: Some(0),
                last_fix_ms: Some(0),
                distance_m: 0.0,
                bbox: None,
                max_speed_mps: 0.0,
            },
            points: vec![TrackPoint {
                time_ms: 0,
                lat,
                lon: 2.0,
                speed_mps: 0.0,
                course_deg: 0.0,
            }],
            no_track: None,
        }
    }

    #[test]
    fn only_parking_clips_with_a_current_track_inside_are_skipped() {
        let mut home = Place {
            name: "Home".into(),
            lat: 48.0,
            lon: 2.0,
            radius_m: 50.0,
            skip_parking: true,
        };
        let t = track(100, 48.0);
        let places = [home.clone()];
        assert_eq!(
            skip_reason(&places, true, 100, Some(&t)).as_deref(),
            Some("parked at Home")
        );
        assert_eq!(skip_reason(&places, false, 100, Some(&t)), None, "driving");
        assert_eq!(
            skip_reason(&places, true, 200, Some(&t)),
            None,
            "grew since"
        );
        assert_eq!(skip_reason(&places, true, 100, None), None, "no track");
        let away = track(100, 48.01);
        assert_eq!(
            skip_reason(&places, true, 100, Some(&away)),
            None,
            "outside"
        );
        let mut unknown_length = t.clone();
        unknown_length.mode = Some("skeleton 10s".to_owned());
        assert_eq!(
            skip_reason(&places, true, 100, Some(&unknown_length)),
            None,
            "the clip's length unknown: not known to be covered"
        );
        let mut longer = t.clone();
        longer.mode = Some("skeleton 10s, clip 60000ms".to_owned());
        assert_eq!(
            skip_reason(&places, true, 100, Some(&longer)),
            None,
            "one fix does not cover a minute"
        );
        home.skip_parking = false;
        assert_eq!(
            skip_reason(&[home], true, 100, Some(&t)),
            None,
            "not skip_parking"
        );
    }

    #[test]
    fn coverage_table() {
        let s = |v: &[i64]| v.to_vec();
        // (fixes, clip length, spacing, covered)
        type Case = (Vec<i64>, Option<i64>, i64, bool, &'static str);
        let cases: &[Case] = &[
            (
                s(&[0, 10_000, 20_000, 29_000]),
                Some(30_000),
                10_000,
                true,
                "skeleton, ends read",
            ),
            (
                s(&[1_000, 11_000, 21_000, 28_000]),
                Some(30_000),
                10_000,
                true,
                "a second in at each end",
            ),
            (
                s(&[0, 10_000]),
                Some(30_000),
                10_000,
                false,
                "the fixes stop a third in",
            ),
            (
                s(&[20_000, 29_000]),
                Some(30_000),
                10_000,
                false,
                "the fixes start late",
            ),
            (
                s(&[0, 29_000]),
                Some(30_000),
                10_000,
                false,
                "a hole in the middle",
            ),
            (
                s(&[0, 13_000, 26_000]),
                Some(30_000),
                10_000,
                true,
                "gaps within spacing and slack",
            ),
            (
                s(&[0, 14_000, 28_000]),
                Some(30_000),
                10_000,
                false,
                "a gap past spacing and slack",
            ),
            (
                s(&[29_000, 0, 10_000, 20_000]),
                Some(30_000),
                10_000,
                true,
                "any order",
            ),
            (s(&[]), Some(30_000), 10_000, false, "no fix"),
            (
                s(&[0, 10_000, 20_000, 29_000]),
                None,
                10_000,
                false,
                "length unknown",
            ),
            (
                s(&[0]),
                Some(6_000),
                1_000,
                true,
                "a clip within twice the slack",
            ),
            (
                s(&[0, 1_000, 2_000, 3_000]),
                Some(30_000),
                1_000,
                false,
                "full, only the start",
            ),
        ];
        for (fixes, clip, spacing, want, why) in cases {
            assert_eq!(covers_clip(fixes, *clip, *spacing), *want, "{why}");
        }
    }

    proptest::proptest! {
        /// Covered means: no stretch of the clip longer than the spacing
        /// plus the slack (at the start, between fixes, at the end) went
        /// without a fix. Fixes are placed inside a clip of known length.
        #[test]
        fn covered_means_no_unread_stretch(
            clip_ms in 0i64..200_000,
            spacing_ms in 1i64..20_000,
            raw in proptest::collection::vec(0u32..=1_000, 0..40),
        ) {
            let fixes: Vec<i64> = raw.iter().map(|r| clip_ms * i64::from(*r) / 1_000).collect();
            let covered = covers_clip(&fixes, Some(clip_ms), spacing_ms);
            let mut sorted = fixes.clone();
            sorted.sort_unstable();
            if covered {
                let first = sorted[0];
                let last = *sorted.last().unwrap();
                proptest::prop_assert!(first <= 2 * COVER_SLACK_MS);
                proptest::prop_assert!(clip_ms - last <= 2 * COVER_SLACK_MS);
                for w in sorted.windows(2) {
                    proptest::prop_assert!(w[1] - w[0] <= spacing_ms + COVER_SLACK_MS);
                }
            } else if let (Some(first), Some(last)) = (sorted.first(), sorted.last()) {
                let gaps_ok = sorted.windows(2).all(|w| w[1] - w[0] <= spacing_ms + COVER_SLACK_MS);
                // Not covered although evenly read from end to end is
                // impossible.
                proptest::prop_assert!(!(gaps_ok && *first <= COVER_SLACK_MS && clip_ms - last <= COVER_SLACK_MS));
            }
            // Without a length, never.
            proptest::prop_assert!(!covers_clip(&fixes, None, spacing_ms));
        }
    }

    fn row(channel: Channel, locked: bool, parking: bool) -> ClipRow {
        ClipRow {
            id: viofo_store::ClipId(1),
            camera_id: "cam".into(),
            name: "2026_0101_100000_000001F.MP4".into(),
            remote_path: "/DCIM/Movie/2026_0101_100000_000001F.MP4".into(),
            size: 1,
            size_exact: true,
            locked,
            parking,
            channel,
            recorded_at: None,
            state: ClipState::Pending,
            attempts: 0,
            last_error: None,
            deferrals: 0,
            deferred_in: None,
            priority: 0,
            local_path: None,
            local_size: None,
            gps: None,
            deleted_from_camera_at: None,
            pruned_at: None,
            delete_outcome: None,
            cycle_id: None,
            skip_reason: None,
            superseded_at: None,
            times: viofo_store::StageTimes::default(),
        }
    }

    #[test]
    fn the_filters_name_why_they_leave_a_clip_out() {
        let mut cfg = SyncConfig::new("cam", "/archive");
        let front = row(Channel::Front, false, false);
        assert_eq!(filter_reason(&cfg, &front), None, "no filter");
        cfg.channels = vec![Channel::Rear, Channel::Interior];
        assert_eq!(
            filter_reason(&cfg, &front).as_deref(),
            Some("channel filter (channels = R, I)")
        );
        assert_eq!(filter_reason(&cfg, &row(Channel::Rear, false, false)), None);
        cfg.channels.clear();
        cfg.locked_only = true;
        assert_eq!(
            filter_reason(&cfg, &front).as_deref(),
            Some("not locked (locked_only)")
        );
        assert_eq!(filter_reason(&cfg, &row(Channel::Front, true, false)), None);
        cfg.locked_only = false;
        cfg.include_parking = false;
        assert_eq!(
            filter_reason(&cfg, &row(Channel::Front, false, true)).as_deref(),
            Some("parking clip (include_parking = false)")
        );
        assert_eq!(filter_reason(&cfg, &front), None);
    }
}
