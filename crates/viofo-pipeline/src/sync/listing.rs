//! Listing the camera: the snapshot of what it holds now, shared by the
//! download workers, the tail and the re-lister, and the store reconcile.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use viofo_client::Recording;
use viofo_store::ListedClip;

use super::convert::{archive_index, listed_clip};
use super::{Cycle, Syncer, lock};
use crate::Result;
use crate::error::Error;
use crate::events::Event;

/// What the camera listing looked like last time, shared by the download
/// workers, the tail and the re-lister.
#[derive(Default)]
pub(super) struct Snapshot {
    pub(super) recordings: HashMap<String, Recording>,
    /// Clips that may still be growing (the newest of each channel while
    /// the camera records).
    pub(super) held_back: HashSet<String>,
}

/// Clips that may still be growing: the newest of each channel.
pub(super) fn newest_per_channel(recs: &[Recording]) -> HashSet<String> {
    let mut newest: HashMap<viofo_client::Channel, &Recording> = HashMap::new();
    for r in recs {
        let key = (r.start(), r.sequence());
        match newest.get(&r.channel()) {
            Some(cur) if (cur.start(), cur.sequence()) >= key => {}
            _ => {
                newest.insert(r.channel(), r);
            }
        }
    }
    newest
        .values()
        .map(|r| r.file_name().as_str().to_owned())
        .collect()
}

impl Syncer {
    /// Lists the camera, reconciles the store and refreshes the snapshot.
    pub(super) async fn refresh(&self, cx: &Cycle) -> Result<()> {
        let s = &*self.inner;
        let t = Instant::now();
        cx.since_listing.store(0, Ordering::SeqCst);
        let listing = s
            .client
            .list(s.cfg.list_source)
            .await
            .map_err(Error::camera)?;
        let recording = match s.client.recording_state().await {
            Ok(r) => r,
            Err(e) if e.is_offline() => return Err(Error::offline(e)),
            Err(e) => {
                tracing::warn!(
                    "could not read the recording state ({e}); holding back the newest clips"
                );
                true
            }
        };
        let listing_time = t.elapsed();
        let held_back = if recording {
            newest_per_channel(&listing.recordings)
        } else {
            HashSet::new()
        };
        let listed: Vec<ListedClip> = listing.recordings.iter().map(listed_clip).collect();
        let archive_root = s.cfg.archive.clone();
        let archived = tokio::task::spawn_blocking(move || archive_index(&archive_root))
            .await
            .unwrap_or_default();
        let report = s
            .store
            .reconcile(&s.cfg.camera_id, &listed, |name| {
                archived.get(name).cloned()
            })
            .await?;
        tracing::debug!(?report, "reconciled the listing");
        let recordings: HashMap<String, Recording> = listing
            .recordings
            .into_iter()
            .map(|r| (r.file_name().as_str().to_owned(), r))
            .collect();
        let counts = s.store.counts(Some(&s.cfg.camera_id)).await?;
        s.events.emit(Event::Listed {
            clips: recordings.len(),
            pending: usize::try_from(counts.pending).unwrap_or(usize::MAX),
        });
        *cx.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Snapshot {
            recordings,
            held_back,
        });
        lock(&cx.counters).listing += listing_time;
        *lock(&cx.last_listing) = Instant::now();
        Ok(())
    }

    pub(super) fn snapshot(cx: &Cycle) -> Arc<Snapshot> {
        cx.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Re-lists on an interval while downloads run, so clips recorded
    /// meanwhile are queued and moved clips' paths refreshed. Runs beside
    /// the downloads: it never pauses them.
    pub(super) async fn relist_loop(&self, cx: &Cycle, done: &CancellationToken) {
        let every = self.inner.cfg.relist_every;
        loop {
            let since = lock(&cx.last_listing).elapsed();
            let wait = every.saturating_sub(since);
            tokio::select! {
                () = done.cancelled() => return,
                () = cx.halt.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            if lock(&cx.last_listing).elapsed() < every {
                continue;
            }
            if let Err(e) = self.refresh(cx).await {
                tracing::warn!("re-listing failed: {e}");
                *lock(&cx.last_listing) = Instant::now();
            }
        }
    }
}
