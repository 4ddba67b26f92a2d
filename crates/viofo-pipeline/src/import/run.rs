//! The import's course: scan, sort out what is already archived, copy
//! clip after clip, make each batch durable and record it, remove `--move`
//! sources, then retention.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use viofo_client::Recording;
use viofo_store::{ClipRow, ClipState, ImportedClip, TrackSource};

use super::copy::{Copied, CopyCtx, CopyError, check, copy_one};
use super::scan::{Candidate, check_sources, scan};
use super::{Events, ImportEvent, ImportSummary, Importer, commit};
use crate::disk::DiskSpace;
use crate::shutdown::Shutdown;
use crate::sync::{gps_summary, listed_clip, stored_track};
use crate::{Error, Result};

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::io(std::io::Error::other(e)))
}

impl Importer {
    /// Imports every clip under `sources` (see the [module docs](super)).
    ///
    /// Errors: a source that does not exist, is not a folder or lies inside
    /// the archive, and settings a sync refuses ([`Error::is_config`]); an
    /// archive missing or not writable ([`Error::is_archive`]); a full disk
    /// or one fuller than `max_used_disk`, or the quota reached
    /// ([`Error::is_disk_full`]); the state database failing. Clips that
    /// fail alone are in [`ImportSummary::failed`]. The first shutdown
    /// request finishes the clip being copied and its batch; the second
    /// aborts the copy (its `.part` is removed).
    pub async fn run<F>(
        &self,
        sources: &[PathBuf],
        events: F,
        shutdown: &Shutdown,
    ) -> Result<ImportSummary>
    where
        F: Fn(ImportEvent) + Send + Sync + 'static,
    {
        let started = Instant::now();
        let events: Events = Arc::new(events);
        let owner = self.archive.clone();
        let srcs = sources.to_vec();
        let depth = self.opts.max_depth;
        let found = blocking(move || -> Result<_> {
            let archive = owner.root();
            crate::check_archive(archive)?;
            // One writer into an archive: a running sync or watch (another
            // process) is not written beside.
            owner.claim()?;
            let roots = check_sources(&srcs, archive)?;
            Ok(scan(&roots, archive, depth))
        })
        .await??;
        let mut summary = ImportSummary::default();
        for (path, reason) in found.skipped {
            skip(&events, &mut summary, path, reason);
        }
        let (todo, archived) = self
            .sort_out(found.candidates, &events, &mut summary)
            .await?;
        if self.opts.move_sources && !archived.is_empty() {
            self.remove_archived(archived, &events, &mut summary)
                .await?;
        }
        events(ImportEvent::Planned {
            files: todo.len() as u64,
            bytes: todo.iter().map(|c| c.size).sum(),
        });
        let halted = self.copy_all(todo, &events, &mut summary, shutdown).await;
        if !self.cfg.retention.is_noop() {
            summary.pruned = crate::retention::apply(crate::retention::Apply {
                store: &self.store,
                camera_id: &self.cfg.camera_id,
                policy: &self.cfg.retention,
                root: self.cfg.archive.clone(),
                locked: std::collections::HashSet::new(),
                protect_from: None,
                clock: self.cfg.camera_clock,
                events: &crate::NoEvents,
                shared_root: self.cfg.shared_archive.clone(),
                newest_known: None,
            })
            .await;
        }
        self.store.flush().await?;
        summary.duration = started.elapsed();
        match halted {
            Some(e) => Err(e),
            None if shutdown.is_stopping() => Err(Error::interrupted()),
            None => Ok(summary),
        }
    }

    /// Leaves out what must not be copied: a name seen before in this
    /// import, a clip already archived with this size, one retention
    /// removed earlier, one older than the keep period. Returns what to
    /// copy, and the sources already archived (with their copies).
    async fn sort_out(
        &self,
        candidates: Vec<Candidate>,
        events: &Events,
        summary: &mut ImportSummary,
    ) -> Result<(Vec<Candidate>, Vec<(PathBuf, PathBuf)>)> {
        let rows = self
            .store
            .list(
                Some(&self.cfg.camera_id),
                &[ClipState::Done, ClipState::Downloaded, ClipState::Pruned],
                u32::MAX,
            )
            .await?;
        let archived_paths: Vec<PathBuf> =
            rows.iter().filter_map(|r| r.local_path.clone()).collect();
        let known: HashMap<String, ClipRow> = rows
            .into_iter()
            .filter(|r| r.superseded_at.is_none())
            .map(|r| (r.name.clone(), r))
            .collect();
        let cfg = self.cfg.clone();
        let (todo, skipped, archived) = blocking(move || {
            let mut first: HashMap<String, PathBuf> = HashMap::new();
            let mut todo = Vec::new();
            let mut skipped = Vec::new();
            let mut archived = Vec::new();
            // The archived files by device and inode, read once if a source
            // is on the archive's file system: a source that *is* an
            // archived file (a hard link, the archive reached by another
            // path) is already archived, whatever its name says.
            let mut inodes: Option<HashMap<(u64, u64), PathBuf>> = None;
            for c in candidates {
                if let Some(at) =
                    super::guard::archived_file(&c.path, &cfg.archive, &archived_paths, &mut inodes)
                {
                    // Already archived; for --move the guard decides (it
                    // never removes an archived file itself).
                    let why = format!("already archived ({})", at.display());
                    archived.push((c.path.clone(), at));
                    skipped.push((c.path, why, true));
                    continue;
                }
                let name = c.rec.file_name().as_str().to_owned();
                if let Some(p) = first.get(&name) {
                    let why = format!("the same clip name as {}, imported from there", p.display());
                    skipped.push((c.path, why, false));
                    continue;
                }
                first.insert(name.clone(), c.path.clone());
                match known.get(&name).map(|r| (r, already_archived(r, c.size))) {
                    Some((r, _)) if r.state == ClipState::Pruned => {
                        let why = "removed from the archive earlier by retention".to_owned();
                        skipped.push((c.path, why, false));
                        continue;
                    }
                    Some((_, Some(at))) => {
                        let why = format!("already archived ({})", at.display());
                        archived.push((c.path.clone(), at));
                        skipped.push((c.path, why, true));
                        continue;
                    }
                    _ => {}
                }
                if too_old(&cfg, &c.rec) {
                    skipped.push((c.path, "older than the keep period".to_owned(), false));
                    continue;
                }
                todo.push(c);
            }
            (todo, skipped, archived)
        })
        .await?;
        for (path, reason, already) in skipped {
            summary.already_archived += u64::from(already);
            skip(events, summary, path, reason);
        }
        Ok((todo, archived))
    }

    /// `--move` of sources archived earlier: each removed once its archived
    /// copy is found identical (size and hash).
    async fn remove_archived(
        &self,
        archived: Vec<(PathBuf, PathBuf)>,
        events: &Events,
        summary: &mut ImportSummary,
    ) -> Result<()> {
        let archive = self.cfg.archive.clone();
        let outcomes = blocking(move || {
            archived
                .into_iter()
                .map(|(src, at)| {
                    let r = commit::remove_if_archived(&src, &at, &archive);
                    (src, r)
                })
                .collect::<Vec<_>>()
        })
        .await?;
        for (src, r) in outcomes {
            match r {
                Ok(()) => {
                    summary.removed += 1;
                    events(ImportEvent::Removed { path: src });
                }
                Err(why) => {
                    tracing::warn!("import: {} kept: {why}", src.display());
                    summary.not_removed.push((src, why));
                }
            }
        }
        Ok(())
    }

    /// Copies clip after clip, each one's check (read back, track,
    /// sidecars) beside the next one's copy, committing a batch whenever
    /// it is full. Returns the error that stopped the import early, if any.
    async fn copy_all(
        &self,
        todo: Vec<Candidate>,
        events: &Events,
        summary: &mut ImportSummary,
        shutdown: &Shutdown,
    ) -> Option<Error> {
        let mut flow = Flow {
            batch: Vec::new(),
            bytes: 0,
            inflight: None,
            max_files: self.opts.batch_files,
            max_bytes: self.opts.batch_bytes,
            cx: CommitCx {
                store: self.store.clone(),
                archive: self.cfg.archive.clone(),
                camera_id: self.cfg.camera_id.clone(),
                move_sources: self.opts.move_sources,
                events: events.clone(),
            },
        };
        let mut checking: Option<(Candidate, tokio::task::JoinHandle<Checked>)> = None;
        let mut halted = None;
        for c in todo {
            if shutdown.is_stopping() {
                break;
            }
            let held = checking.as_ref().map_or(0, |(p, _)| p.size);
            let need = c.size.saturating_add(flow.bytes).saturating_add(held);
            if let Err(e) = self.space_guard(need).await {
                halted = Some(e);
                break;
            }
            events(ImportEvent::Started {
                path: c.path.clone(),
                bytes: c.size,
            });
            let dest = crate::archive::Archive::recording_path(
                &self.cfg.archive,
                self.cfg.grouping,
                &c.rec,
            );
            let (ev, stop) = (events.clone(), shutdown.clone());
            let (gps, photo, src, size) = (self.cfg.gps, c.rec.is_photo(), c.path.clone(), c.size);
            let written = blocking(move || {
                let progress = |n| ev(ImportEvent::Progress { bytes: n });
                let aborted = || stop.is_aborting();
                let cx = CopyCtx {
                    gps,
                    photo,
                    size,
                    progress: &progress,
                    aborted: &aborted,
                };
                copy_one(&src, &dest, &cx)
            })
            .await;
            // The previous clip's check first: batches keep the clips' order.
            if let Some((p, h)) = checking.take()
                && let Err(e) = flow.take(p, joined(h.await), events, summary).await
            {
                halted = Some(e);
                break;
            }
            match written {
                Ok(Ok(w)) => {
                    checking = Some((c, tokio::task::spawn_blocking(move || check(w))));
                }
                Ok(Err(e)) => {
                    if let Err(e) = flow.take(c, Err(e), events, summary).await {
                        halted = Some(e);
                        break;
                    }
                }
                Err(e) => {
                    halted = Some(e);
                    break;
                }
            }
        }
        if let Some((p, h)) = checking.take()
            && let Err(e) = flow.take(p, joined(h.await), events, summary).await
        {
            halted.get_or_insert(e);
        }
        if let Err(e) = flow.finish(shutdown.is_aborting(), summary).await {
            halted.get_or_insert(e);
        }
        halted
    }

    /// The sync's space rules before a clip starts: the disk no fuller than
    /// `max_used_disk`, the archive (with the batch not yet recorded) plus
    /// this clip within the quota.
    async fn space_guard(&self, need: u64) -> Result<()> {
        let cfg = &self.cfg;
        if let Some(limit) = cfg.max_used_disk {
            let root = cfg.archive.clone();
            let d = blocking(move || DiskSpace::of(&root))
                .await?
                .map_err(Error::io)?;
            if d.used_percent() >= limit {
                return Err(Error::disk_guard(
                    cfg.archive.clone(),
                    d.used_percent(),
                    limit,
                ));
            }
        }
        if let Some(quota) = cfg.retention.quota {
            let have = self.store.archived_bytes(None).await?;
            if have.saturating_add(need) > quota {
                return Err(Error::quota(have, need, quota));
            }
        }
        Ok(())
    }
}

/// A clip's check, as its task ends.
type Checked = std::result::Result<Copied, CopyError>;

/// A check task's result (a panicked task: the import stops).
fn joined(r: std::result::Result<Checked, tokio::task::JoinError>) -> Checked {
    r.unwrap_or_else(|e| Err(CopyError::Archive(std::io::Error::other(e))))
}

/// The batch being filled and the commit in flight.
struct Flow {
    batch: Vec<(Candidate, Copied)>,
    bytes: u64,
    inflight: Option<tokio::task::JoinHandle<Result<Committed>>>,
    max_files: usize,
    max_bytes: u64,
    cx: CommitCx,
}

impl Flow {
    /// Takes a checked clip into the batch (committing it once full, one
    /// commit at a time beside the next copies), or records its failure.
    /// An error stops the import.
    async fn take(
        &mut self,
        c: Candidate,
        r: Checked,
        events: &Events,
        summary: &mut ImportSummary,
    ) -> Result<()> {
        match r {
            Ok(k) => {
                self.bytes += k.bytes;
                self.batch.push((c, k));
            }
            Err(CopyError::Source(reason)) => {
                tracing::warn!("import: {}: {reason}", c.path.display());
                events(ImportEvent::Failed {
                    path: c.path.clone(),
                    reason: reason.clone(),
                });
                summary.failed.push((c.path, reason));
            }
            Err(CopyError::Archive(e)) => return Err(Error::io(e)),
            Err(CopyError::Aborted) => return Err(Error::interrupted()),
        }
        if self.batch.len() >= self.max_files || self.bytes >= self.max_bytes {
            settle(&mut self.inflight, summary).await?;
            self.bytes = 0;
            let b = std::mem::take(&mut self.batch);
            self.inflight = Some(tokio::spawn(commit_batch(self.cx.clone(), b)));
        }
        Ok(())
    }

    /// Waits for the commit in flight, then commits the last batch (or,
    /// aborted, removes its copies).
    async fn finish(mut self, aborted: bool, summary: &mut ImportSummary) -> Result<()> {
        let settled = settle(&mut self.inflight, summary).await;
        if self.batch.is_empty() {
            return settled;
        }
        if aborted || settled.is_err() {
            let batch = self.batch;
            let _ = blocking(move || {
                let copies: Vec<&Copied> = batch.iter().map(|(_, k)| k).collect();
                commit::discard(&copies);
            })
            .await;
            return settled;
        }
        commit_batch(self.cx, self.batch).await?.apply(summary);
        Ok(())
    }
}

/// What a batch's commit needs, owned: it runs beside the next copies.
#[derive(Clone)]
struct CommitCx {
    store: viofo_store::Store,
    /// The archive's folder (a `--move` source must not lie in it).
    archive: PathBuf,
    camera_id: String,
    move_sources: bool,
    events: Events,
}

/// What a batch's commit did.
#[derive(Debug, Default)]
struct Committed {
    imported: u64,
    bytes: u64,
    removed: u64,
    not_removed: Vec<(PathBuf, String)>,
}

impl Committed {
    fn apply(self, summary: &mut ImportSummary) {
        summary.imported += self.imported;
        summary.bytes += self.bytes;
        summary.removed += self.removed;
        summary.not_removed.extend(self.not_removed);
    }
}

/// Waits for the commit in flight, if any, and counts what it did.
async fn settle(
    inflight: &mut Option<tokio::task::JoinHandle<Result<Committed>>>,
    summary: &mut ImportSummary,
) -> Result<()> {
    let Some(h) = inflight.take() else {
        return Ok(());
    };
    let c = h.await.map_err(|e| Error::io(std::io::Error::other(e)))??;
    c.apply(summary);
    Ok(())
}

/// The batch's durable point: the archive's one commit (one sync of the
/// filesystem, a sync of each file, the renames never over an existing
/// file, one sync per folder), one store transaction; then the `--move`
/// removals.
async fn commit_batch(cx: CommitCx, batch: Vec<(Candidate, Copied)>) -> Result<Committed> {
    let (batch, durable) = blocking(move || {
        let mut batch = batch;
        let mut copies: Vec<&mut Copied> = batch.iter_mut().map(|(_, k)| k).collect();
        let r = commit::make_durable(&mut copies);
        (batch, r)
    })
    .await?;
    durable.map_err(Error::io)?;
    let clips = batch.iter().map(|(c, k)| imported(&c.rec, k)).collect();
    cx.store.record_imports(&cx.camera_id, clips).await?;
    let mut done = Committed::default();
    for (c, k) in &batch {
        done.imported += 1;
        done.bytes += k.bytes;
        (cx.events)(ImportEvent::Imported {
            path: c.path.clone(),
            dest: k.dest.clone(),
            bytes: k.bytes,
        });
    }
    if cx.move_sources {
        let pairs: Vec<(PathBuf, PathBuf)> =
            batch.into_iter().map(|(c, k)| (c.path, k.dest)).collect();
        let archive = cx.archive.clone();
        let (sources, failed) = blocking(move || {
            let failed = commit::remove_sources(&pairs, &archive);
            (
                pairs.into_iter().map(|(s, _)| s).collect::<Vec<_>>(),
                failed,
            )
        })
        .await?;
        for s in sources {
            if !failed.iter().any(|(p, _)| *p == s) {
                done.removed += 1;
                (cx.events)(ImportEvent::Removed { path: s });
            }
        }
        for (p, why) in failed {
            tracing::warn!(
                "import: {} is archived but could not be removed: {why}",
                p.display()
            );
            done.not_removed.push((p, why));
        }
    }
    Ok(done)
}

fn skip(events: &Events, summary: &mut ImportSummary, path: PathBuf, reason: String) {
    tracing::debug!("import: skipped {}: {reason}", path.display());
    events(ImportEvent::Skipped {
        path: path.clone(),
        reason: reason.clone(),
    });
    summary.skipped.push((path, reason));
}

/// Where the store says this clip is archived with this size (its copy
/// still that size), if it is.
fn already_archived(row: &ClipRow, size: u64) -> Option<PathBuf> {
    if !matches!(row.state, ClipState::Done | ClipState::Downloaded) {
        return None;
    }
    let path = row.local_path.as_ref()?;
    let on_disk = std::fs::metadata(path).ok().map(|m| m.len());
    (row.local_size == Some(size) && on_disk == Some(size)).then(|| path.clone())
}

/// Recorded (on the camera's clock) before the keep period: the sync does
/// not download such a clip, and retention would remove it at once.
fn too_old(cfg: &crate::SyncConfig, rec: &Recording) -> bool {
    let (Some(keep), Some(start)) = (cfg.retention.keep, rec.start()) else {
        return false;
    };
    let keep = time::Duration::try_from(keep).unwrap_or(time::Duration::MAX);
    time::OffsetDateTime::now_utc()
        .checked_sub(keep)
        .is_some_and(|cut| cfg.camera_clock.reading(start).to_utc() < cut)
}

/// The store's record of a durable copy.
fn imported(rec: &Recording, k: &Copied) -> ImportedClip {
    let mut clip = listed_clip(rec);
    clip.size = k.bytes;
    clip.size_exact = true;
    ImportedClip {
        clip,
        local_path: k.dest.clone(),
        local_size: k.bytes,
        gps: k.gps.as_ref().map(|ex| gps_summary(&ex.summary())),
        track: k.gps.as_ref().map(|ex| {
            stored_track(
                TrackSource::File,
                None,
                k.bytes,
                ex,
                "no GPS fixes in the file",
            )
        }),
    }
}
