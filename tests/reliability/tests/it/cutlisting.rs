//! Issue 10 item 4, listings cut like real firmware's (`</LIST` without its
//! final `>`, or cut in the middle of an item): the cycle succeeds, every
//! complete item is archived, and nothing is decided for good on the
//! strength of a clip's absence from a cut listing.

use viofo_sim::{ClipDef, ClipSpec, Fault, Folder, ListingEnd, SimConfig, Target};
use viofo_store::ClipState;
use viofo_testkit::{CAMERA, Catalog, Rig, StoreCheck, check_no_loss, note};

use viofosync_reliability::DELETE_SETTLE as SETTLE;

async fn rig(clips: usize, end: ListingEnd) -> (Rig, Catalog) {
    let rig = Rig::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(clips).size(100_000))
            .listing_end(end),
    )
    .await;
    let catalog = Catalog::of(&rig.sim);
    (rig, catalog)
}

fn deleting(rig: &Rig) -> viofo_pipeline::SyncConfig {
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = SETTLE;
    cfg
}

/// The real capture's end: every item complete, the final `>` missing.
async fn missing_final_gt() {
    let (rig, catalog) = rig(3, ListingEnd::MissingFinalGt).await;
    let cfg = deleting(&rig);
    let s = rig
        .cycle(cfg.clone())
        .await
        .expect("a listing ending `</LIST` syncs");
    assert_eq!(s.clips, 3, "{s:?}");
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), 3, "{report:?}");
    // And again, with a clip recorded since: the cut is not a one-off
    // tolerance.
    let later = rig
        .sim
        .add_clip(ClipDef::synthetic(
            "2025_1224_130000_000010F.MP4",
            Folder::Movie,
            100_000,
        ))
        .expect("a new clip");
    let mut catalog = catalog;
    catalog.clips.extend(Catalog::of(&rig.sim).clips);
    tokio::time::sleep(SETTLE).await;
    let s = rig.cycle(cfg).await.expect("the next run syncs too");
    assert_eq!(s.clips, 1, "{s:?}");
    let report = check_no_loss(
        &catalog,
        &rig.sim,
        &rig.archive,
        &rig.store,
        StoreCheck::Settled,
    )
    .await;
    report.assert_ok();
    assert!(report.archived.contains(&later.name), "{report:?}");
    note(&format!(
        "cut_listings: `</LIST`: 4 of 4 archived over two runs, {} deleted",
        rig.sim.deleted().len()
    ));
}

/// Cut in the middle of the last item: the complete ones are taken, the
/// cut one is neither taken nor deleted, and syncs once a listing shows it
/// whole.
async fn cut_mid_item() {
    let (rig, catalog) = rig(4, ListingEnd::CutMidItem).await;
    let cut = rig.sim.clips().last().expect("clips").name.clone();
    let cfg = deleting(&rig);
    let s = rig
        .cycle(cfg.clone())
        .await
        .expect("a listing cut mid-item syncs its complete items");
    assert_eq!(s.clips, 3, "{s:?}");
    // The cut item has no store row yet: it was never listed whole.
    let report = check_no_loss(
        &catalog,
        &rig.sim,
        &rig.archive,
        &rig.store,
        StoreCheck::Interrupted,
    )
    .await;
    report.assert_ok();
    for n in catalog.names() {
        if n == cut {
            assert!(
                !report.archived.contains(&n),
                "{n}: archived from a cut item"
            );
            assert!(rig.sim.clip(&n).is_some(), "{n}: deleted");
            assert_eq!(rig.delete_requests_for(&n), 0);
        } else {
            assert!(report.archived.contains(&n), "{n} not archived: {report:?}");
        }
    }
    rig.sim.set_listing_end(ListingEnd::Complete);
    rig.cycles_until(
        &cfg,
        4,
        SETTLE,
        "everything archived once the listing is whole",
        |r| r.sim.clip(&cut).is_none(),
    )
    .await;
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), 4, "{report:?}");
}

/// An archived clip whose camera delete is still to be decided is missing
/// from a later, cut listing: that is no reason to give up on it (no stored
/// "not listed" outcome); once a whole listing shows it again, it is
/// deleted.
async fn archived_then_cut() {
    let (rig, catalog) = rig(3, ListingEnd::Complete).await;
    let names = catalog.names();
    let cut = names.last().expect("clips").clone();
    let cfg = deleting(&rig);
    // First run: every delete request is reset, so every clip is archived
    // with its camera delete still to do (a retryable failure).
    rig.sim.inject(Fault::reset().on(Target::Delete).always());
    rig.cycle(cfg.clone()).await.expect("first run completes");
    rig.sim.clear_faults();
    for n in &names {
        let row = rig
            .store
            .get_by_name(CAMERA, n)
            .await
            .unwrap()
            .expect("row");
        assert_eq!(row.state, ClipState::Downloaded, "{n}: {row:?}");
        assert!(rig.sim.clip(n).is_some(), "{n}");
    }
    // Second run: the listing is cut inside the newest clip's item.
    rig.sim.set_listing_end(ListingEnd::CutMidItem);
    let asked = rig.delete_requests_for(&cut);
    tokio::time::sleep(SETTLE).await;
    rig.cycle(cfg.clone())
        .await
        .expect("a cut listing does not stop the cycle");
    assert!(rig.sim.clip(&cut).is_some(), "{cut}: deleted");
    assert_eq!(
        rig.delete_requests_for(&cut),
        asked,
        "{cut}: a delete was sent while the listing did not show it"
    );
    let row = rig
        .store
        .get_by_name(CAMERA, &cut)
        .await
        .unwrap()
        .expect("row");
    assert_eq!(
        row.state,
        ClipState::Downloaded,
        "{cut}: absent from a cut listing is a passing reason, the tail stays unfinished ({row:?})"
    );
    assert!(!row.delete_decided(), "{cut}: {row:?}");
    assert!(
        row.delete_outcome
            .as_deref()
            .is_some_and(|o| o.starts_with("waiting: ") && o.contains("cut off")),
        "{cut}: the passing reason is stored: {row:?}"
    );
    // Its tail is unfinished on purpose: not `done` yet.
    check_no_loss(
        &catalog,
        &rig.sim,
        &rig.archive,
        &rig.store,
        StoreCheck::Interrupted,
    )
    .await
    .assert_ok();
    // A whole listing again: the delete goes ahead.
    rig.sim.set_listing_end(ListingEnd::Complete);
    rig.cycles_until(
        &cfg,
        4,
        SETTLE,
        "the cut clip deleted once listed whole",
        |r| r.sim.clip(&cut).is_none(),
    )
    .await;
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), 3, "{report:?}");
    let row = rig
        .store
        .get_by_name(CAMERA, &cut)
        .await
        .unwrap()
        .expect("row");
    assert_eq!(row.state, ClipState::Done, "{row:?}");
    assert!(row.deleted_from_camera_at.is_some(), "{row:?}");
}

pub(crate) async fn cut_listings() {
    tokio::join!(missing_final_gt(), cut_mid_item(), archived_then_cut());
}
