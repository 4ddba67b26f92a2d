//! Place-aware sync: a pending parking clip whose track (learnt by triage,
//! stored before its download) lies wholly inside a place flagged
//! `skip_parking` is skipped, "parked at `<name>`": the store's queues pass
//! it over, so it is never downloaded and, never archived, never deleted
//! from the camera. Decided when its triage track is stored and re-decided
//! at the start of every cycle against the current places, so a clip comes
//! back when the places no longer skip it.

use viofo_store::{ClipRow, Track};

use super::Syncer;
use crate::events::Event;
use crate::places::{Place, parked_at};

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
    /// At the start of a cycle (after the listing): every pending parking
    /// clip with a track, and every skipped one, decided again against the
    /// current places. A store failure is logged; the cycle goes on (the
    /// queues keep the reasons they had).
    pub(super) async fn recheck_skips(&self) {
        let s = &*self.inner;
        let rows = match s.store.skip_candidates(&s.cfg.camera_id).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("skipped clips not re-checked: the store could not be read: {e:#}");
                return;
            }
        };
        let any_skip_place = s.cfg.places.iter().any(|p| p.skip_parking);
        for row in rows {
            let want = if any_skip_place {
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
}
