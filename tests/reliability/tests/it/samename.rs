//! Issue 10 item 3, one file name in two folders with different content:
//! the archive holds the bytes of the entry the store records (never the
//! other one's, never a mixture), and neither copy is deleted from the
//! camera; the other clips sync and are deleted as usual.

use viofo_sim::{ClipDef, ClipSpec, Folder, SimConfig};
use viofo_store::ClipState;
use viofo_testkit::{CAMERA, Catalog, Rig, note, sha256, sha256_file, walk};

/// Older than the other clips, so it is never the newest of its channel.
const NAME: &str = "2025_1224_110000_000090F.MP4";
use viofosync_reliability::DELETE_SETTLE as SETTLE;

/// The folder a stored camera path points into.
fn folder_of(remote_path: &str) -> Folder {
    let p = remote_path.replace('\\', "/").to_ascii_uppercase();
    if p.contains("/RO/") {
        Folder::Ro
    } else if p.contains("/PARKING/") {
        Folder::Parking
    } else {
        Folder::Movie
    }
}

pub(crate) async fn same_name_two_folders() {
    // Both copies unlocked (Movie and Parking): the only reason not to
    // delete either is that the name is not unique.
    let rig = Rig::start(
        SimConfig::default()
            .with_clip(ClipDef::synthetic(NAME, Folder::Movie, 150_000))
            .with_clip(ClipDef::synthetic(NAME, Folder::Parking, 160_000).allow_same_name())
            .with_clips(ClipSpec::synthetic(2).size(100_000)),
    )
    .await;
    let copies = [Folder::Movie, Folder::Parking].map(|f| {
        let bytes = rig.sim.clip_bytes_at(f, NAME).expect("both copies listed");
        (f, bytes.len() as u64, sha256(&bytes))
    });
    assert_ne!(copies[0].2, copies[1].2, "the two copies differ");
    let mut catalog = Catalog::of(&rig.sim);
    catalog.exempt(NAME);
    let others = catalog.names();

    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = SETTLE;
    rig.cycles_until(&cfg, 4, SETTLE, "the other clips deleted", |r| {
        others.iter().all(|n| r.sim.clip(n).is_none())
    })
    .await;

    // Neither copy deleted, nor asked to be.
    for (f, ..) in &copies {
        assert!(
            rig.sim.clip_at(*f, NAME).is_some(),
            "the {f:?} copy of {NAME} was deleted from the camera"
        );
    }
    assert!(!rig.sim.deleted().iter().any(|d| d == NAME));
    assert_eq!(
        rig.delete_requests_for(NAME),
        0,
        "a delete was sent for a name listed in two folders"
    );

    // The store claims exactly the copy the archive holds.
    let row = rig
        .store
        .get_by_name(CAMERA, NAME)
        .await
        .unwrap()
        .expect("a row for the name");
    assert_eq!(row.state, ClipState::Done, "{row:?}");
    assert!(row.deleted_from_camera_at.is_none());
    let outcome = row.delete_outcome.clone().unwrap_or_default();
    assert!(
        outcome.starts_with("skipped"),
        "delete outcome {outcome:?}, expected a stored skip"
    );
    let recorded = folder_of(&row.remote_path);
    let (_, size, hash) = copies
        .iter()
        .find(|(f, ..)| *f == recorded)
        .expect("a listed folder");
    let local = row.local_path.clone().expect("local path");
    assert_eq!(row.local_size, Some(*size), "{row:?}");
    assert_eq!(
        sha256_file(&local),
        Some(*hash),
        "the archive at {} does not hold the bytes of the {recorded:?} copy the store records ({})",
        local.display(),
        row.remote_path
    );
    // Any other file of that name in the archive is one copy whole, never
    // a mixture of both.
    for f in walk(&rig.archive) {
        if f.path.file_name().is_some_and(|n| n == NAME) {
            let h = sha256_file(&f.path);
            assert!(
                copies.iter().any(|(_, s, c)| f.size == *s && h == Some(*c)),
                "{}: neither copy's bytes",
                f.path.display()
            );
        }
    }
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), others.len(), "{report:?}");
    assert_eq!(report.deleted.len(), others.len(), "{report:?}");
    note(&format!(
        "same_name_two_folders: archived the {recorded:?} copy ({}), both kept on the camera: {outcome}",
        row.remote_path
    ));
}
