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
use viofo_pipeline::places::clips_inside;

use crate::commands::open_existing_store;
use crate::config::Loaded;
use crate::errors::Exit;
use crate::stdout::outln;

/// `places`.
pub(crate) async fn places(l: &Loaded, only: Option<&str>) -> Result<Exit> {
    crate::commands::known_camera(l, only).await?;
    let places = &l.settings.sync.places;
    if places.is_empty() {
        outln!(
            "no places configured: add [[place]] tables (name, lat, lon, radius_m, skip_parking) to {}",
            l.file.display()
        );
        return Ok(Exit::Success);
    }
    let camera = only.map(str::to_owned).or_else(|| l.camera_id());
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
            counts.push((clips_inside(store, camera.as_deref(), p).await?, s));
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
