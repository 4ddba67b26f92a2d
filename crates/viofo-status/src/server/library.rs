//! What the trips pages read from the store: recent journeys with their
//! tracks, one journey's clips, and which archived file a row id names
//! (checked to lie inside the archive of a camera this server shows).

use std::path::PathBuf;

use viofo_store::{ClipId, ClipState, JourneyId, JourneyRow, Store};

use super::App;
use super::files::inside;
use crate::page::{TripClip, TripView};

/// Trips on the status page, and on `/trips`.
pub(crate) const BRIEF_TRIPS: u32 = 5;
/// Trips on `/trips`.
pub(crate) const LIST_TRIPS: u32 = 50;

impl App {
    /// The archive folder of `camera_id`, when this server shows it.
    pub(crate) fn archive_of(&self, camera_id: &str) -> Option<PathBuf> {
        std::iter::once(&self.status)
            .chain(self.config.cameras.iter())
            .find(|m| m.config().camera_id == camera_id)
            .map(|m| m.config().archive.clone())
    }

    fn camera_ids(&self) -> Vec<String> {
        let mut ids = vec![self.status.config().camera_id.clone()];
        for m in &self.config.cameras {
            if !ids.contains(&m.config().camera_id) {
                ids.push(m.config().camera_id.clone());
            }
        }
        ids
    }

    /// The newest journeys of the cameras shown, newest first, at most
    /// `limit`; `None` without a store.
    pub(crate) async fn trips(&self, limit: u32) -> Option<Vec<TripView>> {
        let store = self.config.store.as_ref()?;
        let mut rows = Vec::new();
        for id in self.camera_ids() {
            match store.journeys(Some(&id), None, limit).await {
                Ok(r) => rows.extend(r),
                Err(e) => tracing::warn!("status page: reading the journeys: {e}"),
            }
        }
        rows.sort_by_key(|j| std::cmp::Reverse((j.start_ms, j.id.0)));
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut out = Vec::with_capacity(rows.len());
        for j in rows {
            out.push(self.view(store, j).await);
        }
        Some(out)
    }

    async fn view(&self, store: &Store, j: JourneyRow) -> TripView {
        let points = match store.clip_tracks(&j.camera_id, j.start_ms, j.end_ms).await {
            Ok(clips) => clips
                .iter()
                .flat_map(|c| c.points.iter())
                .filter(|p| (j.start_ms..=j.end_ms).contains(&p.time_ms))
                .map(|p| (p.time_ms, p.lat, p.lon))
                .collect::<Vec<_>>(),
            Err(e) => {
                tracing::warn!("status page: reading a journey's track: {e}");
                Vec::new()
            }
        };
        let mut points = points;
        points.sort_by_key(|p| p.0);
        let pts: Vec<(f64, f64)> = points.iter().map(|p| (p.1, p.2)).collect();
        let gpx = j.gpx_path.as_deref().is_some_and(|p| {
            self.archive_of(&j.camera_id)
                .is_some_and(|root| inside(&root, p.as_ref()).is_some())
        });
        TripView {
            id: j.id.0,
            camera_id: j.camera_id,
            start_ms: j.start_ms,
            end_ms: j.end_ms,
            from_place: j.from_place,
            to_place: j.to_place,
            start_pos: j.start_pos,
            end_pos: j.end_pos,
            distance_m: j.distance_m,
            clips: j.clips,
            bytes: j.bytes,
            archived_bytes: j.downloaded_bytes,
            gpx,
            points: crate::page::svg::thin(&pts, crate::page::svg::MAX_POINTS * 2),
        }
    }

    /// One journey of a camera shown, with its clips.
    pub(crate) async fn trip(&self, id: i64) -> Option<(TripView, Vec<TripClip>)> {
        let store = self.config.store.as_ref()?;
        let j = store.journey(JourneyId(id)).await.ok().flatten()?;
        let root = self.archive_of(&j.camera_id)?;
        let clips = store.journey_clips(j.id).await.unwrap_or_default();
        let clips = clips
            .into_iter()
            .map(|c| {
                let file = archived(c.state)
                    && c.local_path
                        .as_deref()
                        .is_some_and(|p| inside(&root, p).is_some());
                let gpx = archived(c.state)
                    && c.local_path
                        .as_deref()
                        .is_some_and(|p| inside(&root, &sidecar(p)).is_some());
                TripClip {
                    id: c.id.0,
                    name: c.name,
                    channel: c.channel.as_str().to_owned(),
                    recorded_ms: c.recorded_at,
                    size: c.local_size.unwrap_or(c.size),
                    state: c.state.as_str().to_owned(),
                    file,
                    gpx,
                }
            })
            .collect();
        Some((self.view(store, j).await, clips))
    }

    /// The archived file of clip `id` (or its GPS sidecar), resolved and
    /// checked to lie in its camera's archive, with the name to give it.
    pub(crate) async fn clip_file(&self, id: i64, gpx: bool) -> Option<(PathBuf, String)> {
        let store = self.config.store.as_ref()?;
        let c = store.get(ClipId(id)).await.ok().flatten()?;
        if !archived(c.state) {
            return None;
        }
        let root = self.archive_of(&c.camera_id)?;
        let path = c.local_path?;
        let (path, name) = if gpx {
            (sidecar(&path), format!("{}.gpx", c.name))
        } else {
            (path, c.name)
        };
        Some((inside(&root, &path)?, name))
    }

    /// Journey `id`'s merged GPX, resolved and checked likewise.
    pub(crate) async fn trip_gpx(&self, id: i64) -> Option<(PathBuf, String)> {
        let store = self.config.store.as_ref()?;
        let j = store.journey(JourneyId(id)).await.ok().flatten()?;
        let root = self.archive_of(&j.camera_id)?;
        let path = PathBuf::from(j.gpx_path?);
        let real = inside(&root, &path)?;
        let name = real.file_name().map_or_else(
            || format!("trip-{id}.gpx"),
            |n| n.to_string_lossy().into_owned(),
        );
        Some((real, name))
    }
}

/// States whose file is in the archive.
fn archived(s: ClipState) -> bool {
    matches!(s, ClipState::Downloaded | ClipState::Done)
}

/// A clip's GPS sidecar: `<clip file>.gpx`.
fn sidecar(p: &std::path::Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".gpx");
    PathBuf::from(s)
}
