//! The invariants, checked after every step against the model, the
//! simulators, the archive and the store.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use viofo_pipeline::{CycleOutcome, DeleteOutcome, Event};
use viofo_store::ClipState;
use viofo_testkit::{CAMERA, Hash, sha256_file};

use crate::model::{Device, Fate};
use crate::step::Step;
use crate::world::{Ran, World, archive_hashes};

mod operations;
use operations::{
    check_commands, check_dry_run, check_missed, check_second_camera, check_state_full,
};

/// Which promise a violation broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Invariant {
    /// Bytes recorded are neither on the camera nor in the archive.
    Lost,
    /// A file recorded as archived changed or vanished (not by retention).
    ArchivedChanged,
    /// A clip was deleted from the camera without its exact bytes archived.
    DeletedUnarchived,
    /// The archive holds bytes that are not the camera's (another camera's,
    /// a mixture, a partial file under a final name).
    Foreign,
    /// The dry run's plan is not what the real run did.
    DryRunDiffers,
    /// The store disagrees with the disk or the events.
    StoreDisagrees,
    /// A clip skipped as parked was downloaded.
    SkippedDownloaded,
    /// An outcome (what an exit code is made of) does not match what happened.
    Outcome,
    /// `/api/status` or `/metrics` disagree with the store, or show work
    /// in flight after the operation ended.
    Surfaces,
    /// Terminal escapes from the camera reached an output.
    Escapes,
    /// A retained or oversized MQTT command was acted on.
    CommandTaken,
    /// A clip stayed on the camera through two clean syncs, and is not in
    /// the archive.
    Missed,
    /// An operation did not end.
    Hang,
    /// Something panicked.
    Panic,
}

impl Invariant {
    /// Its short name.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::Lost => "lost",
            Invariant::ArchivedChanged => "archived-changed",
            Invariant::DeletedUnarchived => "deleted-unarchived",
            Invariant::Foreign => "foreign-bytes",
            Invariant::DryRunDiffers => "dry-run-differs",
            Invariant::StoreDisagrees => "store-disagrees",
            Invariant::SkippedDownloaded => "skipped-downloaded",
            Invariant::Outcome => "outcome",
            Invariant::Surfaces => "surfaces-disagree",
            Invariant::Escapes => "escapes",
            Invariant::CommandTaken => "command-taken",
            Invariant::Missed => "missed",
            Invariant::Hang => "hang",
            Invariant::Panic => "panic",
        }
    }
}

/// One broken promise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which.
    pub invariant: Invariant,
    /// What exactly, in words.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.invariant.name(), self.detail)
    }
}

fn v(out: &mut Vec<Violation>, invariant: Invariant, detail: String) {
    out.push(Violation { invariant, detail });
}

/// Checks every invariant after `step` did what `ran` says.
pub async fn check(w: &mut World, step: &Step, ran: &Ran) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Some(what) = &ran.hung {
        v(
            &mut out,
            Invariant::Hang,
            format!("{what} did not end within {:?}", crate::world::OP_BOUND),
        );
    }
    for e in &ran.events {
        if let Event::Pruned { path, .. } = e {
            w.model.pruned_paths.insert(path.clone());
            if let Some(seen) = w.model.archive.get(path) {
                w.model.pruned_hashes.insert(seen.hash);
            }
        }
    }
    let files = archive_hashes(w.archive());
    let now: BTreeMap<_, _> = files
        .iter()
        .map(|(p, h, s)| (p.clone(), (*h, *s)))
        .collect();
    let held: BTreeSet<Hash> = files.iter().map(|(_, h, _)| *h).collect();
    check_archive(w, &now, &mut out).await;
    check_deletes(w, &held, &mut out).await;
    check_store(w, &mut out).await;
    check_events(w, step, ran, &mut out);
    check_surfaces(w, ran, &mut out).await;
    check_missed(w, step, ran, &held, &mut out);
    check_second_camera(w, ran, &mut out).await;
    out
}

/// What the status page's model serves, fed every event and refreshed
/// from the store as `watch` does: its queue counts and the metrics'
/// `viofosync_queue_clips` gauges are the store's, and once an operation
/// ended no download or cycle shows as in progress.
async fn check_surfaces(w: &mut World, ran: &Ran, out: &mut Vec<Violation>) {
    use viofo_pipeline::EventSink;
    for e in &ran.events {
        w.status.emit(e.clone());
    }
    if ran.concurrent || ran.hung.is_some() {
        return;
    }
    if let Err(e) = w.status.refresh(&w.rig.store).await {
        v(
            out,
            Invariant::Surfaces,
            format!("the status cannot be refreshed: {e}"),
        );
        return;
    }
    let Ok(counts) = w.rig.store.counts(Some(CAMERA)).await else {
        return;
    };
    let snap = w.status.snapshot();
    let want = viofo_status::QueueCounts::from(counts);
    if snap.queue != want {
        v(
            out,
            Invariant::Surfaces,
            format!("/api/status counts {:?}, the store {:?}", snap.queue, want),
        );
    }
    let metrics = w.status.render_metrics();
    for (state, n) in [
        ("pending", want.pending),
        ("downloaded", want.downloaded),
        ("done", want.done),
        ("failed", want.failed),
        ("gone", want.gone),
        ("pruned", want.pruned),
    ] {
        let line = format!("viofosync_queue_clips{{state=\"{state}\"}} ");
        let got = metrics
            .lines()
            .find_map(|l| l.strip_prefix(line.as_str()))
            .and_then(|v| v.trim().parse::<u64>().ok());
        if got != Some(n) {
            v(
                out,
                Invariant::Surfaces,
                format!("/metrics says {got:?} clips {state}, the store {n}"),
            );
        }
    }
    if !snap.downloads.is_empty() {
        v(
            out,
            Invariant::Surfaces,
            format!(
                "the operation ended and /api/status still shows {} download(s) in flight",
                snap.downloads.len()
            ),
        );
    }
}

/// Every delete the camera saw: the clip's exact bytes are in the archive
/// (or were, until retention removed them). The other camera is never
/// touched.
async fn check_deletes(w: &mut World, held: &BTreeSet<Hash>, out: &mut Vec<Violation>) {
    let deleted = w.rig.sim.deleted_clips();
    for d in deleted.iter().skip(w.model.deletes_seen) {
        let Some(i) = w.model.on_card(Device::Camera, &d.name) else {
            v(
                out,
                Invariant::DeletedUnarchived,
                format!(
                    "{} was deleted from the camera, but the model has no such clip on the card",
                    d.name
                ),
            );
            continue;
        };
        let (hash, size) = w
            .model
            .recs
            .get(i)
            .map(|r| r.current())
            .unwrap_or(([0; 32], 0));
        if size != d.size {
            v(
                out,
                Invariant::DeletedUnarchived,
                format!(
                    "{} deleted at {} bytes; the model has {size}",
                    d.name, d.size
                ),
            );
        }
        // Downloaded, deleted and pruned within one step: the store's row
        // says pruned.
        let pruned_now = !held.contains(&hash) && row_pruned(w, &w.archive().join(&d.name)).await;
        if pruned_now {
            w.model.pruned_hashes.insert(hash);
        }
        if !held.contains(&hash) && !w.model.pruned_hashes.contains(&hash) {
            v(
                out,
                Invariant::DeletedUnarchived,
                format!(
                    "{} ({} B, r{i}) was deleted from the camera but its bytes are not in the archive: LOST",
                    d.name, d.size
                ),
            );
        }
        w.model.set_fate(i, Fate::Deleted);
    }
    w.model.deletes_seen = deleted.len();
    let other = w.other.deleted_clips();
    if let Some(d) = other.first() {
        v(
            out,
            Invariant::Lost,
            format!(
                "{} was deleted from ANOTHER camera (reached at the fallback address); {} deletes there",
                d.name,
                other.len()
            ),
        );
    }
    // The card is what the model says.
    let on: Vec<(usize, String)> = w
        .model
        .on_card_all(Device::Camera)
        .map(|(i, r)| (i, r.name.clone()))
        .collect();
    for (i, name) in on {
        if w.rig.sim.clip(&name).is_none() {
            v(
                out,
                Invariant::Lost,
                format!("r{i} {name} left the camera without a delete (model out of step?)"),
            );
            w.model.set_fate(i, Fate::Overwritten);
        }
    }
}

/// The archive: a final name once seen keeps its bytes until retention
/// removes it; every file there is bytes the camera recorded.
async fn check_archive(
    w: &mut World,
    now: &BTreeMap<std::path::PathBuf, (Hash, u64)>,
    out: &mut Vec<Violation>,
) {
    let step = w.step;
    let before: Vec<_> = w
        .model
        .archive
        .iter()
        .map(|(p, s)| (p.clone(), *s))
        .collect();
    // Whether the archive held this camera's clips: before that, nothing
    // tells another device at the address from it (a first sync of a new
    // camera id takes whatever answers).
    let known = before.iter().any(|(_, s)| {
        w.model
            .whose(&s.hash)
            .is_some_and(|r| r.device == Device::Camera)
    });
    for (path, seen) in before {
        let pruned = w.model.pruned_paths.contains(&path) || row_pruned(w, &path).await;
        if pruned && !now.contains_key(&path) {
            // Retention removed it (an import's retention reports no event;
            // the store's row says pruned): its bytes may go.
            w.model.pruned_hashes.insert(seen.hash);
        }
        match now.get(&path) {
            Some((h, _)) if *h == seen.hash => {}
            Some((h, size)) => {
                if !pruned && !w.model.is_later_version(&seen.hash, h) {
                    v(
                        out,
                        Invariant::ArchivedChanged,
                        format!(
                            "{} held {} since step {}; now {size} B of {}: the archived bytes were replaced",
                            path.display(),
                            w.model.describe(&seen.hash),
                            seen.step,
                            w.model.describe(h)
                        ),
                    );
                }
                w.model.archive.remove(&path);
                if w.model.is_later_version(&seen.hash, h) {
                    w.model
                        .archive
                        .insert(path.clone(), crate::model::Seen { hash: *h, step });
                }
            }
            None => {
                if !pruned {
                    v(
                        out,
                        Invariant::ArchivedChanged,
                        format!(
                            "{} held {} since step {} and is gone, not removed by retention",
                            path.display(),
                            w.model.describe(&seen.hash),
                            seen.step
                        ),
                    );
                }
                w.model.archive.remove(&path);
            }
        }
    }
    for (path, (hash, size)) in now {
        if w.model.archive.contains_key(path) {
            continue;
        }
        match w.model.whose(hash) {
            None => v(
                out,
                Invariant::Foreign,
                format!(
                    "{} ({size} B) under a final name holds bytes no recording ever had",
                    path.display()
                ),
            ),
            Some(r) if r.device == Device::Other && known => v(
                out,
                Invariant::Foreign,
                format!(
                    "{} holds {}: another camera's clip in this camera's archive",
                    path.display(),
                    w.model.describe(hash)
                ),
            ),
            Some(r) if r.device == Device::Other => {
                w.model.taken_for_ours.insert(*hash);
            }
            Some(_) => {}
        }
        w.model.pruned_paths.remove(path);
        w.model
            .archive
            .insert(path.clone(), crate::model::Seen { hash: *hash, step });
    }
    // Nothing the camera lost by the sync's doing is missing.
    let held: BTreeSet<Hash> = now.values().map(|(h, _)| *h).collect();
    for (i, r) in w.model.recs.iter().enumerate() {
        if r.device == Device::Camera && r.fate == Fate::Deleted {
            let (h, _) = r.current();
            if !held.contains(&h) && !w.model.pruned_hashes.contains(&h) {
                v(
                    out,
                    Invariant::Lost,
                    format!(
                        "r{i} {} (recorded at step {}) was deleted from the camera and its bytes are no longer in the archive",
                        r.name, r.step
                    ),
                );
            }
        }
    }
}

async fn row_pruned(w: &World, path: &std::path::Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    // Any store on this archive (a second process has its own) with a
    // pruned row for that file: by its path, or by its name (rows of a
    // reused name are several).
    for store in w.stores() {
        if let Ok(rows) = store
            .list(Some(CAMERA), &[ClipState::Pruned], u32::MAX)
            .await
            && rows
                .iter()
                .any(|r| r.local_path.as_deref() == Some(path) || r.name.eq_ignore_ascii_case(name))
        {
            return true;
        }
    }
    false
}

/// The store agrees with the disk: a row that says its clip is archived
/// points at a file of that size holding a version of a recording of that
/// name.
async fn check_store(w: &mut World, out: &mut Vec<Violation>) {
    let rows = match w
        .rig
        .store
        .list(
            Some(CAMERA),
            &[ClipState::Done, ClipState::Downloaded],
            u32::MAX,
        )
        .await
    {
        Ok(r) => r,
        Err(e) => {
            v(
                out,
                Invariant::StoreDisagrees,
                format!("the store cannot be read: {e}"),
            );
            return;
        }
    };
    for row in rows {
        let Some(path) = row.local_path.as_deref() else {
            v(
                out,
                Invariant::StoreDisagrees,
                format!("{} is {} with no local path", row.name, row.state.as_str()),
            );
            continue;
        };
        let Some(h) = sha256_file(path) else {
            v(
                out,
                Invariant::StoreDisagrees,
                format!(
                    "{} is {} at {} but there is no such file",
                    row.name,
                    row.state.as_str(),
                    path.display()
                ),
            );
            continue;
        };
        let size = std::fs::metadata(path).map(|m| m.len()).ok();
        if size != row.local_size {
            v(
                out,
                Invariant::StoreDisagrees,
                format!(
                    "{}: the store says {:?} B at {}, the file has {size:?}",
                    row.name,
                    row.local_size,
                    path.display()
                ),
            );
        }
        match w.model.whose(&h) {
            Some(r) if r.device == Device::Camera && r.name.eq_ignore_ascii_case(&row.name) => {}
            Some(_) if w.model.taken_for_ours.contains(&h) => {}
            _ => v(
                out,
                Invariant::StoreDisagrees,
                format!(
                    "{}: the store's file {} holds {}",
                    row.name,
                    path.display(),
                    w.model.describe(&h)
                ),
            ),
        }
    }
}

fn has_escape(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// What the events say: skipped parking clips never downloaded, outcomes
/// that match what happened, no escapes, and a dry run's plan done.
fn check_events(w: &mut World, step: &Step, ran: &Ran, out: &mut Vec<Violation>) {
    for e in &ran.events {
        match e {
            Event::Skipped { name, .. } => {
                w.model.skipped.insert(name.clone());
            }
            Event::SkipLifted { name, .. } => {
                w.model.skipped.remove(name);
            }
            Event::ItemStarted { name, .. } | Event::ItemDone { name, .. }
                if w.model.skipped.contains(name) =>
            {
                v(
                    out,
                    Invariant::SkippedDownloaded,
                    format!("{name} was skipped as parked, then downloaded"),
                );
            }
            Event::ItemFailed { name, error, .. } if has_escape(error) => {
                v(
                    out,
                    Invariant::Escapes,
                    format!("{name}: an error with control characters: {error:?}"),
                );
            }
            _ => {}
        }
    }
    for c in ran.cycles.iter().flatten() {
        if let Some(note) = &c.note
            && has_escape(note)
        {
            v(
                out,
                Invariant::Escapes,
                format!("a cycle's note has control characters: {note:?}"),
            );
        }
        let left = c.failed + c.deferred + c.write_failures;
        if left > 0 && c.outcome == CycleOutcome::Completed {
            v(
                out,
                Invariant::Outcome,
                format!(
                    "a cycle left {} failed, {} deferred, {} writes failed, and says Completed",
                    c.failed, c.deferred, c.write_failures
                ),
            );
        }
    }
    for c in ran.cycles.iter().flat_map(|c| c.as_ref().err()) {
        if has_escape(c) {
            v(
                out,
                Invariant::Escapes,
                format!("an error with control characters: {c:?}"),
            );
        }
    }
    if !ran.concurrent
        && let [Ok(s)] = ran.cycles.as_slice()
    {
        let done = ran
            .events
            .iter()
            .filter(|e| matches!(e, Event::ItemDone { .. }))
            .count() as u64;
        if s.clips != done {
            v(
                out,
                Invariant::Outcome,
                format!(
                    "the summary says {} clips downloaded, the events {done}",
                    s.clips
                ),
            );
        }
        let deleted = ran
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::Delete {
                        outcome: DeleteOutcome::Confirmed,
                        ..
                    }
                )
            })
            .count() as u64;
        if s.deleted != deleted {
            v(
                out,
                Invariant::Outcome,
                format!(
                    "the summary says {} clips deleted, the events {deleted}",
                    s.deleted
                ),
            );
        }
    }
    if matches!(step, Step::DryRun) {
        check_dry_run(ran, out);
    }
    check_state_full(w, ran, out);
    check_commands(ran, out);
}
