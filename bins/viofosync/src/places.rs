//! `viofosync places` (issue 12): the configured places and how many clips
//! each matched.
//!
//! - `matched`: the clips (of the configured camera, or of every camera
//!   without one) whose stored GPS track, from a triage or from the
//!   downloaded file, has at least one fix and every fix inside the place:
//!   the same rule that skips parking clips, applied to every clip with a
//!   track whatever its state or kind. Clips without a track yet are not
//!   counted anywhere.
//! - `skipped`: the clips skipped now, "parked at `<name>`" (parking clips
//!   that are not downloaded because the place has `skip_parking`).

use anyhow::Result;
use viofo_pipeline::places::Place;
use viofo_store::Store;

use crate::commands::open_existing_store;
use crate::config::Loaded;
use crate::errors::Exit;
use crate::stdout::outln;

/// Metres per degree of latitude on the haversine's sphere, rounded down
/// (a wider box only lets more candidates through to the exact check).
const M_PER_DEG_LAT: f64 = 111_000.0;

/// `[min_lon, min_lat, max_lon, max_lat]` around the place's circle: every
/// point inside lies in it (the whole longitude range near a pole or across
/// the antimeridian).
fn bounding_box(p: &Place) -> [f64; 4] {
    let dlat = p.radius_m / M_PER_DEG_LAT;
    let (min_lat, max_lat) = ((p.lat - dlat).max(-90.0), (p.lat + dlat).min(90.0));
    let cos = min_lat.to_radians().cos().min(max_lat.to_radians().cos());
    let dlon = if cos > 1e-6 { dlat / cos } else { 360.0 };
    let (min_lon, max_lon) = (p.lon - dlon, p.lon + dlon);
    if min_lon < -180.0 || max_lon > 180.0 {
        [-180.0, min_lat, 180.0, max_lat]
    } else {
        [min_lon, min_lat, max_lon, max_lat]
    }
}

/// Clips whose stored track lies wholly inside `p`.
async fn matched(store: &Store, camera: Option<&str>, p: &Place) -> Result<u64> {
    let mut n = 0;
    for id in store.tracks_within(camera, bounding_box(p)).await? {
        if let Some(t) = store.track(id).await?
            && p.holds_track(&t.track.points)
        {
            n += 1;
        }
    }
    Ok(n)
}

/// `places`.
pub(crate) async fn places(l: &Loaded) -> Result<Exit> {
    let places = &l.settings.sync.places;
    if places.is_empty() {
        outln!(
            "no places configured: add [[place]] tables (name, lat, lon, radius_m, skip_parking) to {}",
            l.file.display()
        );
        return Ok(Exit::Success);
    }
    let camera = l.camera_id();
    let store = open_existing_store(l).await?;
    let mut counts = Vec::with_capacity(places.len());
    if let Some(store) = &store {
        let skipped = store.skipped_by_reason(camera.as_deref()).await?;
        for p in places {
            let reason = p.skip_reason();
            let s = skipped
                .iter()
                .find(|(r, _)| *r == reason)
                .map_or(0, |(_, n)| *n);
            counts.push((matched(store, camera.as_deref(), p).await?, s));
        }
        store.close().await.ok();
    } else {
        counts.resize(places.len(), (0, 0));
    }
    let width = places
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    outln!(
        "{:<width$}  {:>10}  {:>11}  {:>9}  {:<12}  {:>7}  {:>7}",
        "PLACE",
        "LAT",
        "LON",
        "RADIUS",
        "SKIP_PARKING",
        "MATCHED",
        "SKIPPED"
    );
    for (p, (m, s)) in places.iter().zip(&counts) {
        outln!(
            "{:<width$}  {:>10.5}  {:>11.5}  {:>7} m  {:<12}  {m:>7}  {s:>7}",
            p.name,
            p.lat,
            p.lon,
            p.radius_m,
            if p.skip_parking { "yes" } else { "no" },
        );
    }
    outln!(
        "matched: clips whose stored GPS track lies wholly inside the place (every fix); \
         skipped: parking clips not downloaded, parked there"
    );
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use viofo_pipeline::places::haversine_m;

    #[test]
    fn the_box_holds_the_circle() {
        for (lat, lon, r) in [
            (48.85, 2.35, 150.0),
            (-33.9, 151.2, 5_000.0),
            (89.99, 0.0, 2_000.0),
            (0.0, 179.999, 500.0),
        ] {
            let p = Place {
                name: "P".into(),
                lat,
                lon,
                radius_m: r,
                skip_parking: false,
            };
            let [min_lon, min_lat, max_lon, max_lat] = bounding_box(&p);
            for k in 0..360 {
                let a = f64::from(k).to_radians();
                // A point just inside the circle on bearing `a`.
                let d = r * 0.999 / 6_371_008.8;
                let (la, lo) = (lat.to_radians(), lon.to_radians());
                let la2 = (la.sin() * d.cos() + la.cos() * d.sin() * a.cos()).asin();
                let lo2 = lo + (a.sin() * d.sin() * la.cos()).atan2(d.cos() - la.sin() * la2.sin());
                let (la2, mut lo2) = (la2.to_degrees(), lo2.to_degrees());
                if lo2 > 180.0 {
                    lo2 -= 360.0;
                }
                assert!(
                    p.contains(la2, lo2),
                    "{la2},{lo2} {}",
                    haversine_m(lat, lon, la2, lo2)
                );
                assert!((min_lat..=max_lat).contains(&la2), "{p:?} {la2}");
                assert!((min_lon..=max_lon).contains(&lo2), "{p:?} {lo2}");
            }
        }
    }
}
