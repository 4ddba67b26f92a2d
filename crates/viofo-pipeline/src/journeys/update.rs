//! Keeping the store's journeys current: [`rebuild_journeys`] recomputes a
//! camera's journeys from scratch; [`update_journeys_around`] recomputes
//! those around a time range (a track just stored) and replaces them in
//! one store transaction. Both write each journey's merged GPX file when
//! [`JourneySettings::gpx`] is on, rewrite it when the journey changed and
//! remove the file of a journey that is gone or renamed.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use viofo_store::{ClipId, JourneyId, JourneyRow, LinkFacts, NewJourney, Store, TrackPoint};

use super::gpx::{JOURNEYS_DIR, file_name, write_gpx};
use super::{DEFAULT_GAP, Journey, JourneyClip, JourneyOptions, detect, links, merge_tracks};
use crate::config::SyncConfig;
use crate::{Error, Result};

/// Most widenings of the window while a journey reaches past its edge.
const MAX_WIDENINGS: usize = 32;

/// Journey settings of a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneySettings {
    /// Longest break between two clips of one journey (default 5 min).
    pub gap: Duration,
    /// Write a merged GPX file per journey in `<archive>/journeys/`
    /// (default on).
    pub gpx: bool,
}

impl Default for JourneySettings {
    fn default() -> Self {
        Self {
            gap: DEFAULT_GAP,
            gpx: true,
        }
    }
}

/// What a rebuild found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RebuildReport {
    /// Clips read.
    pub clips: usize,
    /// Journeys stored.
    pub journeys: usize,
    /// GPX files written.
    pub gpx_written: usize,
}

fn options(cfg: &SyncConfig) -> JourneyOptions {
    JourneyOptions {
        gap: cfg.journeys.as_ref().map_or(DEFAULT_GAP, |j| j.gap),
        clock: cfg.camera_clock,
        ..JourneyOptions::default()
    }
}

fn gap_ms(cfg: &SyncConfig) -> i64 {
    i64::try_from(options(cfg).gap.as_millis()).unwrap_or(i64::MAX)
}

async fn load(store: &Store, camera_id: &str, from: i64, to: i64) -> Result<Vec<JourneyClip>> {
    let rows = store.clip_points(camera_id, from, to).await?;
    let mut clips: Vec<JourneyClip> = rows
        .into_iter()
        .map(|t| JourneyClip {
            id: t.id,
            name: t.name,
            channel: t.channel,
            parking: t.parking,
            recorded_at: t.recorded_at,
            size: t.size,
            state: t.state,
            points: t.points,
        })
        .collect();
    super::moments::thin(&mut clips);
    Ok(clips)
}

/// The merged track of the stored journey `id` ([`merge_tracks`] of its
/// clips' stored tracks); empty for an unknown journey.
pub async fn journey_track(store: &Store, id: JourneyId) -> Result<Vec<TrackPoint>> {
    let mut clips = Vec::new();
    for c in store.journey_clips(id).await? {
        let points = store
            .track(c.id)
            .await?
            .map(|t| t.track.points)
            .unwrap_or_default();
        clips.push(JourneyClip {
            id: c.id,
            name: c.name,
            channel: c.channel,
            parking: c.parking,
            recorded_at: c.recorded_at,
            size: c.size,
            state: c.state,
            points,
        });
    }
    Ok(merge_tracks(&clips))
}

/// Recomputes all of `camera_id`'s journeys from its clips' stored tracks
/// and replaces the stored ones (for `viofosync trips --rebuild`).
pub async fn rebuild_journeys(
    store: &Store,
    camera_id: &str,
    cfg: &SyncConfig,
) -> Result<RebuildReport> {
    let clips = load(store, camera_id, i64::MIN, i64::MAX).await?;
    let journeys = detect(&clips, &cfg.places, &options(cfg));
    let old = store
        .journeys_between(camera_id, i64::MIN, i64::MAX)
        .await?;
    let facts = facts_of(&clips, &journeys);
    let (n, written) = replace(
        store,
        camera_id,
        cfg,
        (i64::MIN, i64::MAX),
        (journeys, facts),
        old,
    )
    .await?;
    Ok(RebuildReport {
        clips: clips.len(),
        journeys: n,
        gpx_written: written,
    })
}

/// Recomputes `camera_id`'s journeys within a gap of `from_ms..=to_ms`
/// (UTC), widening the window while a journey reaches past it, and
/// replaces them. Returns the number of journeys stored.
pub async fn update_journeys_around(
    store: &Store,
    camera_id: &str,
    cfg: &SyncConfig,
    from_ms: i64,
    to_ms: i64,
) -> Result<usize> {
    let gap = gap_ms(cfg);
    let (mut lo, mut hi) = (from_ms.saturating_sub(gap), to_ms.saturating_add(gap));
    let mut widenings = 0;
    loop {
        let old = store.journeys_between(camera_id, lo, hi).await?;
        let (olo, ohi) = old.iter().fold((lo, hi), |(a, b), j| {
            (
                a.min(j.start_ms.saturating_sub(gap)),
                b.max(j.end_ms.saturating_add(gap)),
            )
        });
        let clips = load(
            store,
            camera_id,
            olo.saturating_sub(gap),
            ohi.saturating_add(gap),
        )
        .await?;
        let touched: Vec<Journey> = detect(&clips, &cfg.places, &options(cfg))
            .into_iter()
            .filter(|j| j.start_ms <= ohi && j.end_ms >= olo)
            .collect();
        let (nlo, nhi) = touched.iter().fold((olo, ohi), |(a, b), j| {
            (
                a.min(j.start_ms.saturating_sub(gap)),
                b.max(j.end_ms.saturating_add(gap)),
            )
        });
        widenings += 1;
        if (nlo, nhi) == (lo, hi) || widenings >= MAX_WIDENINGS {
            let facts = facts_of(&clips, &touched);
            drop(clips);
            let (n, _) = replace(store, camera_id, cfg, (lo, hi), (touched, facts), old).await?;
            return Ok(n);
        }
        (lo, hi) = (nlo, nhi);
    }
}

/// What each clip of each journey was taken in with ([`links::facts`]),
/// in the order of its clips.
fn facts_of(clips: &[JourneyClip], journeys: &[Journey]) -> Vec<Vec<LinkFacts>> {
    let by_id: HashMap<ClipId, LinkFacts> = clips.iter().map(|c| (c.id, links::facts(c))).collect();
    journeys
        .iter()
        .map(|j| {
            j.clips
                .iter()
                .map(|id| by_id.get(id).copied().unwrap_or_default())
                .collect()
        })
        .collect()
}

/// Writes the GPX files, replaces the journeys in the store, then removes
/// the files of old journeys no new one kept. Returns (journeys, files
/// written).
async fn replace(
    store: &Store,
    camera_id: &str,
    cfg: &SyncConfig,
    (lo, hi): (i64, i64),
    (journeys, facts): (Vec<Journey>, Vec<Vec<LinkFacts>>),
    old: Vec<JourneyRow>,
) -> Result<(usize, usize)> {
    let gpx = cfg.journeys.as_ref().is_some_and(|j| j.gpx);
    let dir = cfg.archive.join(JOURNEYS_DIR);
    let clock = cfg.camera_clock;
    let old_paths: Vec<(String, i64, i64, u32)> = old
        .iter()
        .filter_map(|j| Some((j.gpx_path.clone()?, j.start_ms, j.end_ms, j.clips)))
        .collect();
    let work = move || -> std::io::Result<(Vec<NewJourney>, usize, Vec<PathBuf>)> {
        let mut out = Vec::with_capacity(journeys.len());
        let mut written = 0;
        let mut used: HashSet<String> = HashSet::new();
        for (j, facts) in journeys.into_iter().zip(facts) {
            let mut path = None;
            if gpx && !j.points.is_empty() {
                let first = file_name(
                    j.start_ms,
                    j.from_place.as_deref(),
                    j.to_place.as_deref(),
                    clock,
                );
                // Two journeys of the same minute and places in one batch.
                let base = first.trim_end_matches(".gpx").to_owned();
                let mut name = first;
                let mut k = 2;
                while used.contains(&name) {
                    name = format!("{base}_{k}.gpx");
                    k += 1;
                }
                used.insert(name.clone());
                let dest = dir.join(&name);
                let text = dest.to_string_lossy().into_owned();
                // The same journey, unchanged, with its file in place.
                #[allow(clippy::cast_possible_truncation)] // clip counts fit
                let same = old_paths.iter().any(|(p, s, e, n)| {
                    *p == text && *s == j.start_ms && *e == j.end_ms && *n == j.clips.len() as u32
                }) && dest.is_file();
                if !same {
                    let title = name.trim_end_matches(".gpx").to_owned();
                    write_gpx(&dir, &name, &title, &j.points)?;
                    written += 1;
                }
                path = Some(text);
            }
            out.push(new_journey(j, facts, path));
        }
        let keep: HashSet<&str> = out.iter().filter_map(|j| j.gpx_path.as_deref()).collect();
        let stale = old_paths
            .iter()
            .filter(|(p, ..)| !keep.contains(p.as_str()))
            .map(|(p, ..)| PathBuf::from(p))
            .collect();
        Ok((out, written, stale))
    };
    let (new, written, stale) = tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::io(std::io::Error::other(e)))?
        .map_err(Error::io)?;
    let n = new.len();
    store.replace_journeys(camera_id, lo, hi, new).await?;
    for p in stale {
        // Only our own files: inside the journeys folder.
        if p.parent() == Some(cfg.archive.join(JOURNEYS_DIR).as_path())
            && let Err(e) = crate::archive::remove_file(&p)
        {
            tracing::warn!("could not remove an old journey file: {e}");
        }
    }
    Ok((n, written))
}

fn new_journey(j: Journey, facts: Vec<LinkFacts>, gpx_path: Option<String>) -> NewJourney {
    NewJourney {
        start_ms: j.start_ms,
        end_ms: j.end_ms,
        start_pos: j.start_pos.map(|p| (p.lat, p.lon)),
        end_pos: j.end_pos.map(|p| (p.lat, p.lon)),
        from_place: j.from_place,
        to_place: j.to_place,
        distance_m: j.distance_m,
        moving_ms: j.moving_ms,
        max_speed_mps: j.max_speed_mps,
        channels: j.channels.iter().map(|c| (c.channel, c.clips)).collect(),
        clips: j.clips,
        facts,
        bytes: j.bytes,
        gpx_path,
    }
}
