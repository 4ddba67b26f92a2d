//! Issue 10 item 2, a newest clip that keeps growing while the camera says
//! it is not recording: never deleted while the camera lists a size other
//! than the archived copy's, nor before its size was seen settled; once it
//! stops growing a later run downloads it again and the archive ends with
//! the camera's final bytes (which are what a delete then takes away).

use std::sync::Arc;
use std::time::{Duration, Instant};

use viofo_pipeline::{DeleteOutcome, Event, SyncConfig};
use viofo_sim::{ClipSpec, SimConfig};
use viofo_store::ClipState;
use viofo_testkit::{CAMERA, Catalog, CatalogEntry, Hook, Rig, note, sha256_file, sha256_sim};

const SIZE: u64 = 200_000;
use viofosync_reliability::DELETE_SETTLE as SETTLE;

async fn rig(clips: usize) -> (Rig, Catalog, String, SyncConfig) {
    let rig =
        Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(clips).size(SIZE))).await;
    let catalog = Catalog::of(&rig.sim);
    let newest = rig.sim.clips().last().expect("clips").name.clone();
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = SETTLE;
    (rig, catalog, newest, cfg)
}

/// The growing clip is on the camera, never the object of a delete
/// request, and no copy the archive holds of it is larger than it.
async fn assert_kept(rig: &Rig, name: &str, when: &str) {
    let listed = rig
        .sim
        .clip(name)
        .unwrap_or_else(|| panic!("{when}: {name} deleted while growing"))
        .size;
    assert!(
        !rig.sim.deleted().iter().any(|d| d == name),
        "{when}: {name}"
    );
    assert_eq!(
        rig.delete_requests_for(name),
        0,
        "{when}: a delete was sent for {name} while the camera lists {listed} bytes"
    );
    let row = rig.store.get_by_name(CAMERA, name).await.unwrap();
    if let Some(local) = row.as_ref().and_then(|r| r.local_size) {
        assert!(
            local <= listed,
            "{when}: archive {local} bytes, camera {listed}"
        );
    }
    assert!(row.is_none_or(|r| r.deleted_from_camera_at.is_none()));
}

/// Once the clip stopped growing (at `fin`): later runs take its final bytes and then delete it; what
/// the camera lost is what the archive holds.
async fn settle_and_take(
    rig: &Rig,
    mut catalog: Catalog,
    name: &str,
    fin: CatalogEntry,
    cfg: &SyncConfig,
    label: &str,
) {
    let (final_size, final_hash) = (fin.size, fin.hash);
    let runs = rig
        .cycles_until(
            cfg,
            5,
            SETTLE,
            &format!("{label}: {name} deleted once settled"),
            |r| r.sim.deleted().iter().any(|d| d == name),
        )
        .await;
    let row = rig
        .store
        .get_by_name(CAMERA, name)
        .await
        .unwrap()
        .expect("row");
    assert_eq!(row.state, ClipState::Done, "{label}: {row:?}");
    assert_eq!(row.local_size, Some(final_size), "{label}: {row:?}");
    let local = row.local_path.expect("local path");
    assert_eq!(
        sha256_file(&local),
        Some(final_hash),
        "{label}: the archive does not hold the camera's final bytes"
    );
    let downloads = rig.sim.downloaded().iter().filter(|d| *d == name).count();
    assert!(
        downloads >= 2,
        "{label}: {name} was not downloaded again after it grew"
    );
    let lost = rig.sim.deleted_clips();
    let lost = lost.iter().rev().find(|c| c.name == name).expect("deleted");
    assert_eq!(lost.size, final_size, "{label}: deleted at another size");
    catalog.exempt.remove(name);
    catalog.clips.insert(name.to_owned(), fin);
    // Also compares the deleted clip's bytes with the archive's.
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(
        report.archived.len(),
        catalog.clips.len(),
        "{label}: {report:?}"
    );
    assert_eq!(
        report.deleted.len(),
        catalog.clips.len(),
        "{label}: {report:?}"
    );
    note(&format!(
        "growing_newest_clip: {label}: archived at its final {final_size} bytes ({downloads} downloads), deleted {} run(s) after it stopped growing",
        runs.len()
    ));
}

/// The clip as the camera serves it now.
fn entry_now(rig: &Rig, name: &str) -> CatalogEntry {
    CatalogEntry {
        size: rig.sim.clip(name).expect("on the camera").size,
        hash: sha256_sim(&rig.sim, name).expect("camera serves it"),
        has_gps: rig.sim.gps_points(name).is_some_and(|p| !p.is_empty()),
    }
}

/// Grows on every listing served (so on every listing the pipeline takes),
/// cmd 3014 saying "not recording" throughout.
async fn grows_on_every_listing() {
    let (rig, mut catalog, newest, cfg) = rig(3).await;
    catalog.exempt(&newest);
    assert!(rig.sim.set_growth_per_listing(&newest, 10_000));
    for run in 1..=3 {
        if run > 1 {
            // Long enough for a steady size to count as settled.
            tokio::time::sleep(SETTLE).await;
        }
        rig.cycle(cfg.clone()).await.expect("cycle completes");
        assert!(!rig.sim.is_recording());
        assert_kept(&rig, &newest, &format!("every listing, run {run}")).await;
        rig.check(&catalog).await.assert_ok();
    }
    assert!(rig.sim.set_growth_per_listing(&newest, 0));
    let fin = entry_now(&rig, &newest);
    settle_and_take(&rig, catalog, &newest, fin, &cfg, "grows on every listing").await;
}

/// Grows once, right after its download, before any later listing.
async fn grows_once_after_download() {
    let (rig, mut catalog, newest, cfg) = rig(3).await;
    catalog.exempt(&newest);
    let sim = rig.sim.clone();
    let grown = Arc::new(std::sync::Mutex::new(None));
    let (g, n) = (grown.clone(), newest.clone());
    let hook: Hook = Arc::new(move |e| {
        if let Event::ItemDone { name, .. } = e
            && *name == n
        {
            let mut g = g.lock().unwrap_or_else(|p| p.into_inner());
            if g.is_none() && sim.grow_clip(&n, 77_777) {
                *g = Some(CatalogEntry {
                    size: sim.clip(&n).expect("grown").size,
                    hash: sha256_sim(&sim, &n).expect("served"),
                    has_gps: sim.gps_points(&n).is_some_and(|p| !p.is_empty()),
                });
            }
        }
    });
    rig.cycle_with(cfg.clone(), hook)
        .await
        .expect("cycle completes");
    let grown = grown
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| panic!("{newest} was never downloaded"));
    assert_eq!(grown.size, SIZE + 77_777);
    // Kept unless the run already took the grown bytes (then the checker
    // compares what the camera lost with the archive).
    let row = rig
        .store
        .get_by_name(CAMERA, &newest)
        .await
        .unwrap()
        .expect("row");
    if row.local_size == Some(SIZE) {
        assert_kept(&rig, &newest, "grown after its download").await;
    } else {
        note(&format!(
            "growing_newest_clip: the first run downloaded {newest} again after it grew ({:?} bytes)",
            row.local_size
        ));
    }
    rig.check(&catalog).await.assert_ok();
    settle_and_take(
        &rig,
        catalog,
        &newest,
        grown,
        &cfg,
        "grows once after download",
    )
    .await;
}

/// With the default settle time (5 s): the older clip goes in the first
/// run, it and the newest each only once a listing at least 5 s after its
/// first showed the same size (issue 18: every clip). If a run ends before
/// that, the newest stays on the camera with its tail unfinished (a
/// passing reason) and a later run decides.
async fn newest_waits_for_settle() {
    let (rig, catalog, newest, mut cfg) = rig(2).await;
    let older = catalog.names()[0].clone();
    cfg.delete_settle = SyncConfig::new(CAMERA, &rig.archive).delete_settle;
    let settle = cfg.delete_settle;
    assert!(
        settle >= Duration::from_secs(1),
        "default settle {settle:?}"
    );
    let deleted_at = Arc::new(std::sync::Mutex::new(Vec::new()));
    let d = deleted_at.clone();
    let hook: Hook = Arc::new(move |e| {
        if let Event::Delete {
            name,
            outcome: DeleteOutcome::Confirmed,
        } = e
        {
            d.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((name.clone(), Instant::now()));
        }
    });
    // Before the cycle, so before its first listing.
    let started = Instant::now();
    rig.cycle_with(cfg.clone(), hook)
        .await
        .expect("cycle completes");
    let deleted_at = deleted_at.lock().unwrap().clone();
    let when = |n: &str| {
        deleted_at
            .iter()
            .find(|(d, _)| d == n)
            .map(|(_, t)| t.duration_since(started))
    };
    let older_after = when(&older).expect("the older clip is deleted in the first run");
    match when(&newest) {
        Some(after) => {
            assert!(
                after >= settle,
                "{newest} (newest) deleted {after:?} after the run began, before its size could be seen settled {settle:?} apart"
            );
            note(&format!(
                "growing_newest_clip: default settle: older clip deleted after {older_after:?}, newest after {after:?}"
            ));
        }
        None => {
            assert!(rig.sim.clip(&newest).is_some());
            let row = rig
                .store
                .get_by_name(CAMERA, &newest)
                .await
                .unwrap()
                .expect("row");
            assert_eq!(
                row.state,
                ClipState::Downloaded,
                "not yet settled is a passing reason: the tail stays unfinished ({row:?})"
            );
            // A passing reason is stored as "waiting: …" so `queue` says
            // why the clip is still on the camera; never a final outcome.
            assert!(
                row.delete_outcome
                    .as_deref()
                    .is_none_or(|o| o.starts_with("waiting")),
                "{row:?}"
            );
            cfg.delete_settle = SETTLE;
            rig.cycles_until(&cfg, 4, SETTLE, "newest clip deleted by a later run", |r| {
                r.sim.clip(&newest).is_none()
            })
            .await;
            note(
                "growing_newest_clip: default settle: newest left to a later run, which deleted it",
            );
        }
    }
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.deleted.len(), 2, "{report:?}");
}

pub(crate) async fn growing_newest_clip() {
    tokio::join!(
        grows_on_every_listing(),
        grows_once_after_download(),
        newest_waits_for_settle()
    );
}
