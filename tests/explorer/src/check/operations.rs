//! The invariants on what operations report and leave behind: a full state
//! database (a full disk, never a wedged writer), MQTT commands taken, the
//! dry run's plan, and liveness (no clip left unarchived through two clean
//! syncs).

use std::collections::{BTreeMap, BTreeSet};

use viofo_pipeline::{CycleOutcome, DeleteOutcome, Event};
use viofo_testkit::Hash;

use super::{Invariant, Violation, v};
use crate::model::Device;
use crate::step::Step;
use crate::world::{Ran, SECOND_CAMERA, World, archive_hashes};

/// No retained MQTT command, and none longer than an action's name, is taken.
pub(super) fn check_commands(ran: &Ran, out: &mut Vec<Violation>) {
    for (retained, len, action) in &ran.commands {
        if *retained || *len > viofo_mqtt::MAX_COMMAND {
            v(
                out,
                Invariant::CommandTaken,
                format!(
                    "an MQTT command of {len} B{} was taken: {}",
                    if *retained { ", retained," } else { "" },
                    action.as_str()
                ),
            );
        }
    }
}

/// A sync whose one cycle completed, met no failure, and ran with nothing
/// that leaves clips out on purpose (no quota, every channel, no places,
/// room in the state database), against a camera whose listings are
/// whole.
fn clean_sync(w: &World, step: &Step, ran: &Ran) -> bool {
    let cfg = &w.cfg;
    matches!(step, Step::Sync | Step::DryRun)
        // A listing cut short never shows its last clips.
        && !w.cuts_listings
        && !ran.concurrent
        && ran.hung.is_none()
        && !w.state_full
        && cfg.retention.quota.is_none()
        && cfg.channels.is_empty()
        && cfg.places.is_empty()
        && matches!(ran.cycles.as_slice(), [Ok(s)] if s.outcome == CycleOutcome::Completed)
        && !ran.events.iter().any(|e| {
            matches!(
                e,
                Event::ItemFailed { .. } | Event::TriageFailed { .. } | Event::DeleteRetried { .. }
            )
        })
}

/// Liveness: a clip on the camera (the same bytes) at the end of two clean
/// syncs in a row is archived by the second. One clean sync may leave a
/// clip for the next on purpose (its size changed since the last listing;
/// a recording found to differ from an archived one of its name and size
/// is downloaded from the next listing); two may not: a clip that stays
/// unarchived is lost when loop recording overwrites it.
pub(super) fn check_missed(
    w: &mut World,
    step: &Step,
    ran: &Ran,
    held: &BTreeSet<Hash>,
    out: &mut Vec<Violation>,
) {
    if !matches!(step, Step::Sync | Step::DryRun) {
        return;
    }
    if !clean_sync(w, step, ran) {
        w.model.clean_seen = None;
        return;
    }
    let sim = w.rig.sim.clone();
    let now: BTreeMap<Hash, String> = sim
        .clips()
        .into_iter()
        .filter(|c| !c.growing && !w.model.skipped.contains(&c.name))
        .filter_map(|c| crate::world::hash_on(&sim, c.folder, &c.name).map(|h| (h, c.name)))
        .collect();
    if let Some(before) = &w.model.clean_seen {
        for (h, name) in &now {
            if before.contains(h) && !held.contains(h) && !w.model.pruned_hashes.contains(h) {
                v(
                    out,
                    Invariant::Missed,
                    format!(
                        "{name} ({}) was on the camera through two clean syncs and is not archived",
                        w.model.describe(h)
                    ),
                );
            }
        }
    }
    w.model.clean_seen = Some(now.into_keys().collect());
}

/// SQLite's words for a full state database, in the store's error.
const STATE_FULL: &str = "state database is full";

/// A full state-database disk is a full disk (the CLI's exit 4) with a
/// clear message, never wedges the writer, and once it has room again no
/// write fails for it.
pub(super) fn check_state_full(w: &World, ran: &Ran, out: &mut Vec<Violation>) {
    let failed = ran.events.iter().filter_map(|e| match e {
        Event::ItemFailed { error, .. } => Some(error.as_str()),
        _ => None,
    });
    let errors = ran.cycles.iter().filter_map(|c| c.as_ref().err());
    for e in errors.clone().map(String::as_str).chain(failed) {
        if e.contains("transaction depth") {
            v(
                out,
                Invariant::Outcome,
                format!("the state database's writer is wedged: {e}"),
            );
        }
        if e.contains(STATE_FULL) && !w.state_full {
            v(
                out,
                Invariant::Outcome,
                format!("the state database has room again, and still: {e}"),
            );
        }
    }
    for e in errors {
        if e.contains(STATE_FULL) && !ran.disk_full.contains(e) {
            v(
                out,
                Invariant::Outcome,
                format!("a full state database is not classed a full disk (exit 4): {e}"),
            );
        }
    }
}

/// The dry run's downloads are the real run's (when the real run met no
/// fault: a failed download is a difference the plan cannot foresee), and
/// it deleted nothing the plan did not name.
pub(super) fn check_dry_run(ran: &Ran, out: &mut Vec<Violation>) {
    let Some(Ok(plan)) = &ran.plan else { return };
    let [Ok(s)] = ran.cycles.as_slice() else {
        return;
    };
    let troubled = ran.events.iter().any(|e| {
        matches!(
            e,
            Event::ItemFailed { .. } | Event::DeleteRetried { .. } | Event::TriageFailed { .. }
        )
    });
    if s.outcome != CycleOutcome::Completed || troubled {
        return;
    }
    let planned: BTreeSet<&str> = plan.download.iter().map(|(n, _)| n.as_str()).collect();
    let done: BTreeSet<&str> = ran
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ItemDone { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    if planned != done {
        v(
            out,
            Invariant::DryRunDiffers,
            format!(
                "the dry run planned {:?}, the real run downloaded {:?}",
                planned, done
            ),
        );
    }
    let planned_del: BTreeSet<&str> = plan.delete.iter().map(String::as_str).collect();
    for e in &ran.events {
        if let Event::Delete {
            name,
            outcome: DeleteOutcome::Confirmed,
        } = e
            && !planned_del.contains(name.as_str())
        {
            v(
                out,
                Invariant::DryRunDiffers,
                format!("{name} was deleted; the dry run did not plan it"),
            );
        }
    }
}

/// The household's second camera, on the same state database: its cycle
/// ends well (but on a full state database), its folder holds only its
/// own camera's recordings, and its archived rows point into its folder.
pub(super) async fn check_second_camera(w: &World, ran: &Ran, out: &mut Vec<Violation>) {
    if let Some(Err(e)) = &ran.second_camera
        && !(w.state_full && ran.disk_full.contains(e))
    {
        v(
            out,
            Invariant::Outcome,
            format!("the second camera's sync failed: {e}"),
        );
    }
    let folder = w.second_archive();
    for (path, hash, size) in archive_hashes(&folder) {
        if !w
            .model
            .whose(&hash)
            .is_some_and(|r| r.device == Device::Other)
        {
            v(
                out,
                Invariant::Foreign,
                format!(
                    "{} ({size} B) in the second camera's folder holds {}",
                    path.display(),
                    w.model.describe(&hash)
                ),
            );
        }
    }
    let archived = [
        viofo_store::ClipState::Done,
        viofo_store::ClipState::Downloaded,
    ];
    if let Ok(rows) = w
        .rig
        .store
        .list(Some(SECOND_CAMERA), &archived, u32::MAX)
        .await
    {
        for row in rows {
            if !row
                .local_path
                .as_deref()
                .is_some_and(|p| p.starts_with(&folder))
            {
                v(
                    out,
                    Invariant::StoreDisagrees,
                    format!(
                        "the second camera's {} is archived at {:?}, outside its folder",
                        row.name, row.local_path
                    ),
                );
            }
        }
    }
}
