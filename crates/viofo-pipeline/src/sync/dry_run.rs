//! The dry run: what a sync would do, touching nothing.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use viofo_store::{Store, StoreOptions};

use super::convert::recorded_at_from_name;
use super::{Cycle, Syncer, lock};
use crate::disk::DiskSpace;
use crate::events::Event;
use crate::retention;
use crate::{Error, Result};

/// What a dry run would do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DryRun {
    /// Clips that would be downloaded, in order: name and size.
    pub download: Vec<(String, u64)>,
    /// Clips that would be deleted from the camera once archived.
    pub delete: Vec<String>,
    /// Clips held back (still being recorded) or filtered out, with why.
    pub skip: Vec<(String, String)>,
    /// Archive files retention would remove.
    pub prune: Vec<PathBuf>,
}

impl Syncer {
    /// Lists what a sync would do, touching nothing: no store write, no
    /// download, no delete, no file removed.
    ///
    /// It runs the real rules, not a copy of them: the state database is
    /// copied to a scratch file ([`Store::copy_to`]), the listing is
    /// reconciled into the copy, and the download workers' own pick (store
    /// order: priority, policy, filters, deferrals, failed clips excluded;
    /// then the listing checks) is asked for clip after clip.
    pub async fn dry_run(&self) -> Result<DryRun> {
        let s = &*self.inner;
        // As a cycle: the address in use, then the fallbacks.
        s.client.connect().await.map_err(Error::offline)?;
        let info = s.client.info().await.ok();
        let scratch = Scratch::new()?;
        s.store.copy_to(&scratch.db).await?;
        let store = Store::open(StoreOptions::at(&scratch.db)).await?;
        let skipped = Arc::new(Mutex::new(Vec::new()));
        let seen = skipped.clone();
        let sink = move |e: Event| match e {
            Event::ItemSkipped { name, reason } | Event::Skipped { name, reason } => {
                let mut seen = lock(&seen);
                if !seen.iter().any(|(n, _)| *n == name) {
                    seen.push((name, reason));
                }
            }
            _ => {}
        };
        let planned = async {
            let plan = Syncer::new(s.client.clone(), store.clone(), s.cfg.clone(), sink)?;
            let id = store.begin_cycle(&s.cfg.camera_id, s.cfg.tail).await?;
            let cx = Cycle::new(id, Instant::now());
            cx.st().dry_pruned = Some(Vec::new());
            // The device is judged as a cycle judges it (into the copy).
            *lock(&cx.identity) = Some(info);
            plan.refresh(&cx).await?;
            // The skips decided as a cycle decides them (into the copy).
            plan.recheck_skips(&cx).await;
            let mut download = Vec::new();
            // The workers' own pick and quota check, clip after clip; a
            // quota that stops them stops the plan there.
            while let Some((row, rec)) = plan.pick(&cx).await? {
                match plan.quota_guard(&cx, &row, &rec).await {
                    Ok(super::quota::Admit::Go(_)) => download.push((row, rec)),
                    Ok(super::quota::Admit::Skip(reason)) => {
                        plan.inner.events.emit(Event::ItemSkipped {
                            name: row.name.clone(),
                            reason,
                        });
                    }
                    Err(e) if e.is_disk_full() => {
                        plan.inner.events.emit(Event::ItemSkipped {
                            name: row.name.clone(),
                            reason: format!("{e}"),
                        });
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            let tails = store.unfinished_tails(Some(&s.cfg.camera_id)).await?;
            // With delete_archived the clips archived earlier join the
            // deletes, as queue_archived_deletes has them join a cycle's.
            let earlier: Vec<String> = if s.cfg.delete_archived {
                store
                    .list(
                        Some(&s.cfg.camera_id),
                        &[viofo_store::ClipState::Done],
                        u32::MAX,
                    )
                    .await?
                    .into_iter()
                    .filter(|r| r.deleted_from_camera_at.is_none() && r.superseded_at.is_none())
                    .filter(|r| r.local_path.is_some() && r.local_size.is_some())
                    .map(|r| r.name)
                    .collect()
            } else {
                Vec::new()
            };
            let room = cx.st().dry_pruned.take().unwrap_or_default();
            let dests: Vec<(PathBuf, u64, Option<time::PrimitiveDateTime>)> = download
                .iter()
                .map(|(_, rec)| (plan.dest_for(rec), rec.size().bytes(), rec.start()))
                .collect();
            Ok::<_, Error>((download, tails, earlier, cx.snapshot(), room, dests))
        }
        .await;
        store.close().await.ok();
        let (download, tails, earlier, snap, room, dests) = planned?;
        let mut out = DryRun {
            skip: std::mem::take(&mut *lock(&skipped)),
            ..DryRun::default()
        };
        if s.cfg.delete_after_download || s.cfg.delete_archived {
            // Once archived, each is deleted if the delete rule allows it
            // then; what can be told now: locked, listed twice, recording.
            let fresh = download
                .iter()
                .map(|(row, _)| row.name.as_str())
                .chain(tails.iter().map(|r| r.name.as_str()))
                .filter(|_| s.cfg.delete_after_download);
            let names = fresh.chain(earlier.iter().map(String::as_str));
            for name in names {
                let Some(rec) = snap.recordings.get(name) else {
                    continue;
                };
                let kept = (rec.is_locked() && !s.cfg.delete_locked)
                    || snap.duplicates.contains(name)
                    || snap.held_back.contains(name);
                if !kept {
                    out.delete.push(name.to_owned());
                }
            }
        }
        out.download = download
            .into_iter()
            .map(|(row, rec)| (row.name, rec.size().bytes()))
            .collect();
        if !s.cfg.retention.is_noop() {
            let root = s.cfg.archive.clone();
            let policy = s.cfg.retention.clone();
            let clock = s.cfg.camera_clock;
            let locked: HashSet<String> = snap.locked_names();
            let gone: Vec<PathBuf> = room.iter().map(|(p, _)| p.clone()).collect();
            let pruned = tokio::task::spawn_blocking(move || {
                // The archive as the cycle's end would find it: what making
                // room removed gone, the planned downloads there.
                let mut clips: Vec<retention::ArchivedClip> =
                    retention::scan_archive(&root, clock, &recorded_at_from_name, &|n| {
                        locked.contains(n)
                    })
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| !gone.contains(&c.path))
                    .collect();
                let real = clips.len();
                for (path, size, start) in dests {
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    let Some(at) = start.or_else(|| recorded_at_from_name(name)) else {
                        continue;
                    };
                    clips.push(retention::ArchivedClip {
                        locked: locked.contains(name),
                        path,
                        size,
                        recorded_at: at,
                        sidecars: Vec::new(),
                        sidecar_bytes: 0,
                    });
                }
                let disk = DiskSpace::of(&root).ok();
                let plan = retention::plan(&clips, &policy, clock.now(), disk, None);
                let mut out = gone;
                out.extend(
                    plan.evictions
                        .iter()
                        .filter(|e| e.index < real)
                        .filter_map(|e| clips.get(e.index).map(|c| c.path.clone())),
                );
                out
            })
            .await
            .unwrap_or_default();
            out.prune = pruned;
        }
        Ok(out)
    }
}

/// A scratch database file in the temporary folder, removed (with its WAL
/// and shared-memory files) when dropped.
struct Scratch {
    dir: PathBuf,
    db: PathBuf,
}

impl Scratch {
    fn new() -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("viofosync-dry-run-{}-{nanos}", std::process::id()));
        fs_err::create_dir_all(&dir).map_err(Error::io)?;
        let db = dir.join("plan.db");
        Ok(Self { dir, db })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("could not remove {}: {e}", self.dir.display());
        }
    }
}
