//! Listing the camera: the snapshot of what it holds now, shared by the
//! download workers, the tail and the re-lister, and the store reconcile.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
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
pub(crate) struct Snapshot {
    /// The first entry of each name (as the store keeps it).
    pub(super) recordings: HashMap<String, Recording>,
    /// Clips that may still be growing (the newest of each channel while
    /// the camera records).
    pub(super) held_back: HashSet<String>,
    /// The newest clip of each channel, recording or not.
    pub(super) newest: HashSet<String>,
    /// Names listed more than once (in two folders).
    pub(super) duplicates: HashSet<String>,
    /// Names whose listed size was the same on an earlier listing at least
    /// the settle time before this one.
    pub(super) settled: HashSet<String>,
    /// The camera said it was recording (or could not say).
    pub(super) recording: bool,
    /// The listing was not cut off.
    pub(super) complete: bool,
    /// When the listing was requested; `None` before the first listing.
    pub(super) taken_at: Option<Instant>,
}

impl Snapshot {
    /// The names this listing shows locked (retention never removes them).
    pub(super) fn locked_names(&self) -> HashSet<String> {
        self.recordings
            .values()
            .filter(|r| r.is_locked())
            .map(|r| r.file_name().as_str().to_owned())
            .collect()
    }
}

impl Default for Snapshot {
    fn default() -> Self {
        Self {
            recordings: HashMap::new(),
            held_back: HashSet::new(),
            newest: HashSet::new(),
            duplicates: HashSet::new(),
            settled: HashSet::new(),
            recording: true,
            complete: false,
            taken_at: None,
        }
    }
}

/// The sizes each clip was listed with, and since when: a clip's size is
/// settled once two listings at least the settle time apart show it.
/// Fold in every listing ([`observe`](Self::observe)), then ask
/// ([`settled`](Self::settled)) for the delete rule's
/// [`CameraState::size_settled`](super::CameraState::size_settled). Keep
/// one across cycles: the listing before the downloads is the first
/// sighting the listing after them needs.
#[derive(Default, Debug)]
pub struct SizeHistory {
    listings: u64,
    seen: HashMap<String, Seen>,
}

#[derive(Debug)]
struct Seen {
    size: u64,
    /// When the listing that first showed this size had been answered.
    since: Instant,
    /// That listing's number.
    listing: u64,
    /// Another size was listed for the name before this one.
    changed: bool,
}

impl SizeHistory {
    /// Folds in a listing answered by `finished`: each clip's name and
    /// listed size (a name listed twice counts once, its first entry). A
    /// complete listing forgets names it no longer shows.
    pub fn observe<'a>(
        &mut self,
        finished: Instant,
        complete: bool,
        items: impl IntoIterator<Item = (&'a str, u64)>,
    ) {
        self.listings += 1;
        let n = self.listings;
        let mut listed = HashSet::new();
        for (name, size) in items {
            if !listed.insert(name.to_owned()) {
                continue;
            }
            match self.seen.get_mut(name) {
                Some(s) if s.size == size => {}
                prev => {
                    let changed = prev.is_some();
                    self.seen.insert(
                        name.to_owned(),
                        Seen {
                            size,
                            since: finished,
                            listing: n,
                            changed,
                        },
                    );
                }
            }
        }
        if complete {
            self.seen.retain(|k, _| listed.contains(k));
        }
    }

    /// Did the latest listing show `name` with another size than the
    /// listing before it? Such a clip is still being written: it is not
    /// downloaded until a listing shows the same size again (otherwise a
    /// clip that grows at every listing would be archived again and again,
    /// each time as a new recording beside the last).
    pub(crate) fn changing(&self, name: &str) -> bool {
        self.seen
            .get(name)
            .is_some_and(|s| s.changed && s.listing == self.listings)
    }

    /// Was `name`'s latest size already shown by an earlier listing answered
    /// at least `gap` before `started` (this listing's request)?
    pub fn settled(&self, name: &str, started: Instant, gap: std::time::Duration) -> bool {
        self.seen.get(name).is_some_and(|s| {
            s.listing < self.listings && started.saturating_duration_since(s.since) >= gap
        })
    }
}

/// Clips that may still be growing: the newest of each channel.
/// Only videos count: a photo taken after the last clip must not make that
/// clip look finished.
pub(super) fn newest_per_channel(recs: &[Recording]) -> HashSet<String> {
    let mut newest: HashMap<viofo_client::Channel, &Recording> = HashMap::new();
    for r in recs.iter().filter(|r| !r.is_photo()) {
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
    /// One listing at a time: a caller that waited for another's listing
    /// returns at once when that one started after it asked.
    pub(super) async fn refresh(&self, cx: &Cycle) -> Result<()> {
        let asked = Instant::now();
        let _one = cx.listing.lock().await;
        if cx.snapshot().taken_at.is_some_and(|t| t >= asked) {
            return Ok(());
        }
        let s = &*self.inner;
        let t = Instant::now();
        cx.st().since_listing = 0;
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
        let answered = Instant::now();
        let listing_time = t.elapsed();
        let complete = listing.is_complete();
        let newest = newest_per_channel(&listing.recordings);
        let held_back = if recording {
            newest.clone()
        } else {
            HashSet::new()
        };
        let listed: Vec<ListedClip> = listing.recordings.iter().map(listed_clip).collect();
        let first = lock(&cx.identity).take();
        let first_listing = first.is_some();
        if let Some(info) = first {
            self.check_identity(info.as_ref(), &listed, complete)
                .await?;
        }
        // The archive is looked in only for clips that could heal: none
        // when every listed clip is archived already (an idle cycle over a
        // year's archive walks no folder).
        let archive_root = s.cfg.archive.clone();
        let scan = || {
            let root = archive_root.clone();
            async move {
                tokio::task::spawn_blocking(move || archive_index(&root))
                    .await
                    .unwrap_or_default()
            }
        };
        let settled_now = s.store.settled_names(&s.cfg.camera_id, &listed).await?;
        let mut archived = if listed.iter().all(|l| settled_now.contains(&l.name)) {
            HashMap::new()
        } else {
            scan().await
        };
        let mut report = s
            .store
            .reconcile(&s.cfg.camera_id, &listed, |name| {
                archived.get(name).cloned()
            })
            .await?;
        // A card reused under archived names: the new recordings become
        // rows of their own, downloaded this cycle.
        // Also with deletes on: a locked clip is never deleted, so never
        // compared before a delete.
        if first_listing && Box::pin(self.find_reused(&listing.recordings)).await? > 0 {
            // New rows of reused names could heal: look in the archive.
            if archived.is_empty() {
                archived = scan().await;
            }
            report = s
                .store
                .reconcile(&s.cfg.camera_id, &listed, |name| {
                    archived.get(name).cloned()
                })
                .await?;
        }
        tracing::debug!(?report, "reconciled the listing");
        // The first entry of a name wins, as in the store; a name listed
        // twice is never deleted (which of the two is ours is not sure).
        let mut recordings: HashMap<String, Recording> = HashMap::new();
        let mut duplicates = HashSet::new();
        for r in listing.recordings {
            let name = r.file_name().as_str().to_owned();
            if let Some(first) = recordings.get(&name) {
                tracing::warn!(
                    "{name} is listed twice ({} and {}); the first is downloaded, neither is deleted",
                    first.remote_path(),
                    r.remote_path()
                );
                duplicates.insert(name);
            } else {
                recordings.insert(name, r);
            }
        }
        let settled = {
            let mut h = lock(&s.sizes);
            h.observe(
                answered,
                complete,
                recordings
                    .iter()
                    .map(|(n, r)| (n.as_str(), r.size().bytes())),
            );
            recordings
                .keys()
                .filter(|n| h.settled(n, t, s.cfg.delete_settle))
                .cloned()
                .collect()
        };
        let counts = s.store.counts(Some(&s.cfg.camera_id)).await?;
        s.events.emit(Event::Listed {
            clips: recordings.len(),
            pending: usize::try_from(counts.pending).unwrap_or(usize::MAX),
        });
        let snapshot = Arc::new(Snapshot {
            recordings,
            held_back,
            newest,
            duplicates,
            settled,
            recording,
            complete,
            taken_at: Some(t),
        });
        let mut st = cx.st();
        st.snapshot = snapshot;
        st.counters.listing += listing_time;
        st.last_listing = Instant::now();
        Ok(())
    }

    /// Re-lists on an interval while downloads run, so clips recorded
    /// meanwhile are queued and moved clips' paths refreshed, and sooner
    /// (but not within [`DELETE_RELIST_GAP`] of the last listing) while an
    /// archived clip waits for a listing that decides its delete, so the
    /// deletes follow the downloads instead of piling up at the cycle's
    /// end. Runs beside the downloads: it never pauses them.
    pub(super) async fn relist_loop(&self, cx: &Cycle, done: &CancellationToken) {
        let every = self.inner.cfg.relist_every;
        loop {
            let (since, deletes_due) = {
                let st = cx.st();
                let taken = st.snapshot.taken_at;
                (
                    st.last_listing.elapsed(),
                    st.deletes.iter().any(|d| d.needs_listing_after(taken)),
                )
            };
            let due_in = if deletes_due {
                DELETE_RELIST_GAP.min(every).saturating_sub(since)
            } else {
                every.saturating_sub(since)
            };
            if !due_in.is_zero() {
                tokio::select! {
                    () = done.cancelled() => return,
                    () = cx.halt.cancelled() => return,
                    () = cx.deletes_added.notified() => {}
                    () = tokio::time::sleep(due_in) => {}
                }
                continue;
            }
            if done.is_cancelled() || cx.halt.is_cancelled() {
                return;
            }
            match self.refresh(cx).await {
                Ok(()) => self.decide_deletes(cx).await,
                Err(e) => {
                    tracing::warn!("re-listing failed: {e:#}");
                    cx.st().last_listing = Instant::now();
                }
            }
        }
    }
}

/// While archived clips wait for a listing that decides their delete, the
/// camera is listed again this long after the previous listing ended (a
/// listing per downloaded clip at most, beside the download).
pub(super) const DELETE_RELIST_GAP: std::time::Duration = std::time::Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use viofo_client::{Recording, Size};

    use super::newest_per_channel;

    fn rec(path: &str) -> Recording {
        Recording::from_listed_path(path, Size::Exact(1)).unwrap()
    }

    #[test]
    fn the_newest_clip_of_a_channel_is_a_video_even_after_a_photo() {
        let recs = [
            rec("/DCIM/Movie/2026_0101_100000_000001F.MP4"),
            rec("/DCIM/Movie/2026_0101_100100_000002F.MP4"),
            rec("/DCIM/Photo/2026_0101_100200_000003F.JPG"),
            rec("/DCIM/Movie/2026_0101_100000_000001R.MP4"),
        ];
        let newest = newest_per_channel(&recs);
        assert_eq!(newest.len(), 2, "{newest:?}");
        assert!(newest.contains("2026_0101_100100_000002F.MP4"));
        assert!(newest.contains("2026_0101_100000_000001R.MP4"));
    }
}
