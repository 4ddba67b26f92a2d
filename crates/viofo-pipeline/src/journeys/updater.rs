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

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use viofo_store::{ClipId, Store};

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
    let mut spans: Vec<(i64, i64)> = Vec::new();
    for &id in ids {
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
