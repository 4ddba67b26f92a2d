//! The journeys task of a syncer: told of each track stored (by the tail
//! or the triage), it waits for the store's writer to commit what was
//! queued before, then recomputes the journeys around those clips, off the
//! download path (nothing on it awaits this task). Started on first use;
//! [`Updater::settle`] waits until everything sent before it is done (the
//! end of a cycle).
//!
//! Tracks arriving close together are taken together: after the first of
//! a batch the task gathers for up to [`GATHER`] (less when a settle is
//! asked for), so a fast sync of many small clips of one long drive
//! recomputes (and rewrites the GPX of) that journey a few times, not once
//! per clip, which grew quadratically with the drive's length; a batch
//! gathers longer after a slow update (see [`GATHER_PER_UPDATE`]).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use viofo_store::{ClipId, Store};

use super::links;
use super::update::update_journeys_around;
use crate::config::SyncConfig;

/// Shortest time a batch of tracks gathers before its journeys are
/// recomputed.
const GATHER: Duration = Duration::from_secs(1);

/// A batch gathers at least this many times as long as the last update
/// took: an update reads and rewrites whole journeys, so a drive of
/// thousands of clips takes longer to update, and gathering in proportion
/// keeps the task's share of the time (and its cost per clip) bounded
/// whatever the drive's length.
const GATHER_PER_UPDATE: u32 = 4;

enum Msg {
    Stored(ClipId),
    Settle(oneshot::Sender<()>),
}

/// Handle of the journeys task (none until the first track).
#[derive(Debug, Default)]
pub(crate) struct Updater {
    tx: Mutex<Option<mpsc::UnboundedSender<Msg>>>,
}

impl Updater {
    /// Tells the task a track of `id` was stored (queued to the writer
    /// before this call). Never waits. Journeys off: nothing.
    pub(crate) fn track_stored(&self, store: &Store, cfg: &SyncConfig, id: ClipId) {
        if cfg.journeys.is_none() {
            return;
        }
        let mut tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        let sender = tx.get_or_insert_with(|| {
            let (t, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(store.clone(), cfg.clone(), rx));
            t
        });
        let _ = sender.send(Msg::Stored(id));
    }

    /// Waits until every track reported before has been taken into the
    /// journeys.
    pub(crate) async fn settle(&self) {
        let sender = self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(sender) = sender else { return };
        let (done, wait) = oneshot::channel();
        if sender.send(Msg::Settle(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(store: Store, cfg: SyncConfig, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut last = Duration::ZERO;
    while let Some(first) = rx.recv().await {
        let mut ids = Vec::new();
        let mut waiters = Vec::new();
        let mut take = |m: Msg| match m {
            Msg::Stored(id) => {
                ids.push(id);
                false
            }
            Msg::Settle(w) => {
                waiters.push(w);
                true
            }
        };
        let mut settle = take(first);
        let deadline = tokio::time::Instant::now() + GATHER.max(last * GATHER_PER_UPDATE);
        while !settle {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(m)) => settle = take(m),
                Ok(None) | Err(_) => break,
            }
        }
        while let Ok(m) = rx.try_recv() {
            take(m);
        }
        if !ids.is_empty() {
            let t = tokio::time::Instant::now();
            update(&store, &cfg, &ids).await;
            last = t.elapsed();
        }
        for w in waiters {
            let _ = w.send(());
        }
    }
}

/// Those of `ids` whose track may change a journey: a clip already in a
/// journey, taken in without fixes and still without any at the same size,
/// changes none ([`links::unchanged`]). All of them when the links cannot
/// be read.
async fn changed(store: &Store, ids: &[ClipId]) -> Vec<ClipId> {
    let same: HashSet<ClipId> = match store.journey_links(ids).await {
        Ok(links) => links
            .into_iter()
            .filter(|l| links::unchanged(l.then, l.now))
            .map(|l| l.clip)
            .collect(),
        Err(e) => {
            tracing::warn!("journeys: could not read the clips' journeys: {e:#}");
            HashSet::new()
        }
    };
    ids.iter()
        .copied()
        .filter(|id| !same.contains(id))
        .collect()
}

/// The UTC span of each clip (its fixes; or its recording time on the
/// camera's clock), merged where they are within a day of each other, and
/// the journeys around each span recomputed.
async fn update(store: &Store, cfg: &SyncConfig, ids: &[ClipId]) {
    // Everything queued before these tracks (the tracks themselves) is
    // committed once this resolves: one writer, in order.
    if let Err(e) = store.flush().await {
        tracing::warn!("journeys not updated: the store could not be written: {e:#}");
        return;
    }
    let offset_ms = i64::from(cfg.camera_clock.offset().whole_seconds()) * 1000;
    let ids = changed(store, ids).await;
    let mut spans: Vec<(i64, i64)> = Vec::new();
    for &id in &ids {
        let span = match store.track(id).await {
            Ok(Some(t)) => t
                .track
                .summary
                .first_fix_ms
                .zip(t.track.summary.last_fix_ms),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("journeys: could not read the track of clip {id}: {e:#}");
                None
            }
        };
        let span = match span {
            Some(s) => Some(s),
            None => match store.get(id).await {
                Ok(Some(c)) => c
                    .recorded_at
                    .map(|t| (t.saturating_sub(offset_ms), t.saturating_sub(offset_ms))),
                _ => None,
            },
        };
        spans.extend(span);
    }
    spans.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(86_400_000) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    for (a, b) in merged {
        if let Err(e) = update_journeys_around(store, &cfg.camera_id, cfg, a, b).await {
            tracing::warn!("journeys not updated: {e:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    use viofo_store::{
        Channel, GpsSummary, ListedClip, StoreOptions, Track, TrackPoint, TrackSource,
    };

    use super::*;

    const T0: i64 = 1_774_742_400_000;

    fn track(points: Vec<TrackPoint>) -> Track {
        Track {
            source: TrackSource::File,
            mode: None,
            clip_size: 1_000,
            summary: GpsSummary {
                points: u32::try_from(points.len()).unwrap_or(0),
                first_fix_ms: points.first().map(|p| p.time_ms),
                last_fix_ms: points.last().map(|p| p.time_ms),
                ..GpsSummary::default()
            },
            no_track: points.is_empty().then(|| "no GPS fixes in the file".into()),
            points,
        }
    }

    #[tokio::test]
    async fn a_track_without_fixes_of_a_clip_in_a_journey_is_skipped_and_one_with_fixes_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(StoreOptions::at(dir.path().join("state.db")))
            .await
            .expect("store");
        let cfg = SyncConfig::new("cam", dir.path().join("archive"));
        let listing: Vec<ListedClip> = (0..4i64)
            .map(|k| {
                let name = format!("2026_0329_0{k}0000_00000{k}F.MP4");
                ListedClip {
                    remote_path: format!("/DCIM/Movie/{name}"),
                    name,
                    size: 1_000,
                    size_exact: true,
                    locked: false,
                    parking: false,
                    channel: Channel::Front,
                    recorded_at: Some(T0 + k * 60_000),
                }
            })
            .collect();
        store
            .reconcile("cam", &listing, |_| None)
            .await
            .expect("listing");
        let mut ids = Vec::new();
        for c in &listing {
            let row = store.get_by_name("cam", &c.name).await.expect("read");
            ids.push(row.expect("listed").id);
        }
        // Not in a journey yet: every track counts.
        assert_eq!(changed(&store, &ids).await, ids);
        update_journeys_around(&store, "cam", &cfg, T0, T0 + 3 * 60_000)
            .await
            .expect("journeys");
        assert_eq!(store.journeys(None, None, 9).await.expect("read").len(), 1);
        store
            .set_track(ids[0], track(Vec::new()))
            .await
            .expect("track");
        let fix = TrackPoint {
            time_ms: T0 + 60_000,
            lat: 48.0,
            lon: 2.0,
            speed_mps: 1.0,
            course_deg: 0.0,
        };
        store
            .set_track(ids[1], track(vec![fix]))
            .await
            .expect("track");
        assert_eq!(changed(&store, &ids[..2]).await, vec![ids[1]]);
    }
}
