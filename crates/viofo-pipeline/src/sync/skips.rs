//! Skipped clips: a pending clip the sync will not download gets a skip
//! reason (the store's queues pass it over; never archived, so never
//! deleted from the camera): left out by the filters (`channels`,
//! `locked_only`, `include_parking`), or a parking clip whose track (learnt
//! by triage, stored before its download) lies wholly inside a place
//! flagged `skip_parking` ("parked at `<name>`"). Decided when a triage
//! track is stored and re-decided at the start of every cycle against the
//! current settings, so a clip comes back when they no longer skip it.

use viofo_store::{Channel, ClipRow, ClipState, Track};

use super::Syncer;
use crate::config::SyncConfig;
use crate::events::Event;
use crate::places::{Place, parked_at};

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

/// The skip reason a clip (`parking` or not, listed with `size` bytes)
/// should have now: `Some("parked at <name>")` for a parking clip whose
/// track, taken at the clip's current size, has at least one fix and every
/// fix inside one `skip_parking` place.
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
    parked_at(places, &t.points).map(Place::skip_reason)
}

impl Syncer {
    /// At the start of a cycle (after the listing): every pending clip
    /// decided again against the current filters and places. A store
    /// failure is logged; the cycle goes on (the queues keep the reasons
    /// they had).
    pub(super) async fn recheck_skips(&self) {
        let s = &*self.inner;
        let rows = match s
            .store
            .list(Some(&s.cfg.camera_id), &[ClipState::Pending], u32::MAX)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("skipped clips not re-checked: the store could not be read: {e:#}");
                return;
            }
        };
        let any_skip_place = s.cfg.places.iter().any(|p| p.skip_parking);
        for row in rows {
            if let Some(why) = filter_reason(&s.cfg, &row) {
                self.apply_skip(&row, Some(why)).await;
                continue;
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
                        continue;
                    }
                }
            } else {
                None
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

    /// Records `want` as the clip's skip reason if it differs from the one
    /// it has, and says so.
    async fn apply_skip(&self, row: &ClipRow, want: Option<String>) {
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
            mode: None,
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
        home.skip_parking = false;
        assert_eq!(
            skip_reason(&[home], true, 100, Some(&t)),
            None,
            "not skip_parking"
        );
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
