//! The archive is append-only (issue 18, items 1 and 3): a new recording
//! under a name the archive holds is archived beside it, never over it
//! (after a card format or a clock reset, through `accept_camera`, after an
//! earlier run deleted the clip from the camera, through an import), and
//! a second owner of the archive folder is refused before the camera is
//! asked anything.

use std::path::PathBuf;

use viofo_pipeline::archive::versioned_name;
use viofo_sim::{ClipDef, ClipSpec, Folder, SimConfig};
use viofo_store::ClipState;

use crate::harness::start_rig;

/// Bytes that are not any simulated clip's: `n` bytes of `fill`.
fn other_bytes(n: usize, fill: u8) -> Vec<u8> {
    vec![fill; n]
}

/// `import --move` of `source` into the rig's archive, as the rig's camera.
async fn import_moving(
    rig: &viofo_testkit::Rig,
    source: PathBuf,
) -> viofo_pipeline::import::ImportSummary {
    use viofo_pipeline::import::{ImportOptions, Importer};
    let opts = ImportOptions {
        move_sources: true,
        ..ImportOptions::default()
    };
    Importer::new(rig.store.clone(), rig.config(), opts)
        .unwrap()
        .run(&[source], |_| {}, &viofo_pipeline::Shutdown::new())
        .await
        .unwrap()
}

/// Every row of `name`, oldest first.
async fn rows_of(rig: &viofo_testkit::Rig, name: &str) -> Vec<viofo_store::ClipRow> {
    let mut rows: Vec<_> = rig
        .store
        .list(None, &[], u32::MAX)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.name == name)
        .collect();
    rows.sort_by_key(|r| r.id);
    rows
}

/// A card formatted (or a clock reset): the camera records again under
/// the names the archive holds, with other bytes and other sizes. Before,
/// the archived clips were downloaded over (the originals lost, the old
/// GPX left beside the new video). Now each new recording is archived
/// beside the old one under `<stem>~2.<ext>`, with its own sidecar and row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_recording_under_an_archived_name_is_archived_beside_it() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(300_000))).await;
    let names = rig.names();
    rig.cycle(rig.config()).await.unwrap();
    let originals: Vec<(PathBuf, Vec<u8>, Option<Vec<u8>>)> = names
        .iter()
        .map(|n| {
            let p = rig.archive.join(n);
            let gpx = std::fs::read(viofo_gps::sidecar_path(&p, viofo_gps::Format::Gpx)).ok();
            (p.clone(), std::fs::read(&p).unwrap(), gpx)
        })
        .collect();
    assert!(
        originals.iter().any(|o| o.2.is_some()),
        "some clips have a track"
    );

    // The card is formatted: every clip gone, then new recordings reuse
    // two of the names (other bytes, other sizes), one of them shorter.
    for n in &names {
        assert!(rig.sim.remove_clip(n));
    }
    let fresh = [
        (names[0].clone(), other_bytes(70_000, 0x5a)),
        (names[1].clone(), other_bytes(20_000, 0xa5)),
    ];
    for (n, b) in &fresh {
        rig.sim
            .add_clip(ClipDef::from_bytes(n.clone(), Folder::Movie, b.clone()))
            .unwrap();
    }
    // Names known with other sizes may make the identity check refuse the
    // device until the user accepts it; neither way loses anything.
    if let Err(e) = rig.cycle(rig.config()).await {
        assert!(e.is_wrong_camera(), "{e:#}");
    }
    let mut cfg = rig.config();
    cfg.accept_camera = true;
    rig.cycle(cfg).await.unwrap();

    for (path, bytes, gpx) in &originals {
        assert_eq!(&std::fs::read(path).unwrap(), bytes, "{}", path.display());
        let side = viofo_gps::sidecar_path(path, viofo_gps::Format::Gpx);
        assert_eq!(&std::fs::read(side).ok(), gpx, "its GPX kept");
    }
    for (n, b) in &fresh {
        let v2 = rig.archive.join(versioned_name(n, 2));
        assert_eq!(&std::fs::read(&v2).unwrap(), b, "{}", v2.display());
        let rows = rows_of(&rig, n).await;
        assert_eq!(rows.len(), 2, "{rows:#?}");
        assert!(rows[0].superseded_at.is_some());
        assert_eq!(
            rows[0].local_path.as_deref(),
            Some(rig.archive.join(n).as_path())
        );
        assert_eq!(rows[1].state, ClipState::Done);
        assert_eq!(rows[1].local_path.as_deref(), Some(v2.as_path()));
        assert_eq!(rows[1].local_size, Some(b.len() as u64));
    }
    // The same listing again changes nothing.
    let mut cfg = rig.config();
    cfg.accept_camera = true;
    let again = rig.cycle(cfg).await.unwrap();
    assert_eq!(again.clips, 0);
    assert!(!rig.archive.join(versioned_name(&names[0], 3)).exists());
}

/// A clip an earlier run deleted from the camera, then a recording under
/// its name with the same size (a clock reset, a fixed-size camera): not
/// the archived bytes, so archived beside them and only then deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_under_the_name_of_a_clip_deleted_earlier_is_new() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(40_000))).await;
    let names = rig.names();
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    rig.cycle(cfg.clone()).await.unwrap();
    assert_eq!(rig.sim.deleted().len(), 2, "both deleted after archiving");
    let first = std::fs::read(rig.archive.join(&names[0])).unwrap();

    let again = other_bytes(first.len(), 0x33);
    rig.sim
        .add_clip(ClipDef::from_bytes(
            names[0].clone(),
            Folder::Movie,
            again.clone(),
        ))
        .unwrap();
    rig.cycle(cfg).await.unwrap();
    assert_eq!(std::fs::read(rig.archive.join(&names[0])).unwrap(), first);
    let v2 = rig.archive.join(versioned_name(&names[0], 2));
    assert_eq!(std::fs::read(&v2).unwrap(), again);
    let rows = rows_of(&rig, &names[0]).await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(rows[1].local_path.as_deref(), Some(v2.as_path()));
}

/// Another process owning the archive folder (another `sync` with its own
/// state database, or the same folder through a bind mount): the cycle is
/// refused with the holder's pid before the camera is asked anything, so
/// it can never write into (or truncate) a `.part` the other one writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_owner_of_the_archive_is_refused_before_the_camera() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(30_000))).await;
    // A lock taken on its own open file, as another process's would be.
    let held = viofo_store::lock_exclusive(&rig.archive.join(".viofosync.lock")).unwrap();
    assert!(matches!(held, viofo_store::Locked::Taken(_)));
    let e = rig.cycle(rig.config()).await.unwrap_err();
    assert!(e.is_archive_in_use() && e.is_archive(), "{e:#}");
    assert!(
        format!("{e}").contains(&format!("pid {}", std::process::id())),
        "{e}"
    );
    assert_eq!(rig.sim.requests().len(), 0, "the camera was not asked");
    assert!(
        rig.store
            .list(None, &[], u32::MAX)
            .await
            .unwrap()
            .is_empty()
    );
    drop(held);
    let s = rig.cycle(rig.config()).await.unwrap();
    assert_eq!(s.clips, 2, "once the other owner is gone");
}

/// `import --move` of a card whose clip has a name the archive holds with
/// other bytes (another camera's card, a card from before a format): the
/// archived clip is kept as it was, the card's is archived beside it, and
/// only then is the source removed. Before, the copy was renamed over the
/// archived clip and the store's row overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_under_an_archived_name_is_archived_beside_it() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(80_000))).await;
    let names = rig.names();
    rig.cycle(rig.config()).await.unwrap();
    let archived = std::fs::read(rig.archive.join(&names[0])).unwrap();

    let card = tempfile::tempdir().unwrap();
    let movie = card.path().join("DCIM").join("Movie");
    std::fs::create_dir_all(&movie).unwrap();
    let other = other_bytes(55_000, 0x77);
    let src = movie.join(&names[0]);
    std::fs::write(&src, &other).unwrap();
    let summary = import_moving(&rig, card.path().to_path_buf()).await;
    assert_eq!(summary.imported, 1, "{summary:?}");
    assert_eq!(
        std::fs::read(rig.archive.join(&names[0])).unwrap(),
        archived
    );
    let v2 = rig.archive.join(versioned_name(&names[0], 2));
    assert_eq!(std::fs::read(&v2).unwrap(), other);
    assert!(!src.exists(), "moved once archived beside");
    let rows = rows_of(&rig, &names[0]).await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows[0].superseded_at.is_some());
    assert_eq!(
        rows[0].local_path.as_deref(),
        Some(rig.archive.join(&names[0]).as_path())
    );
    assert_eq!(rows[1].local_path.as_deref(), Some(v2.as_path()));
}

/// A clip archived while deletes were off, then the card formatted and a
/// new recording made under its name with the very same size: the delete
/// rule sees the archived name and size listed, but the camera's bytes are
/// not the archived ones (their last 64 KiB are compared before any
/// delete), so the clip is kept, archived beside the old one, and only then
/// deleted. Before, it was deleted unarchived (the explorer's `format`
/// case).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_size_recording_under_an_archived_name_is_never_deleted_unarchived() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(90_000))).await;
    let names = rig.names();
    rig.cycle(rig.config()).await.unwrap();
    let original = std::fs::read(rig.archive.join(&names[0])).unwrap();

    assert!(rig.sim.remove_clip(&names[0]));
    let again = other_bytes(original.len(), 0x21);
    rig.sim
        .add_clip(ClipDef::from_bytes(
            names[0].clone(),
            Folder::Movie,
            again.clone(),
        ))
        .unwrap();
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_archived = true;
    for _ in 0..3 {
        rig.cycle(cfg.clone()).await.unwrap();
    }
    assert_eq!(
        std::fs::read(rig.archive.join(&names[0])).unwrap(),
        original
    );
    let v2 = rig.archive.join(versioned_name(&names[0], 2));
    assert_eq!(std::fs::read(&v2).unwrap(), again, "archived beside");
    let deleted = rig.sim.deleted_clip_reader(&names[0]).map(|r| {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut { r }, &mut v).unwrap();
        v
    });
    assert_eq!(
        deleted.as_deref(),
        Some(again.as_slice()),
        "deleted once archived"
    );
    let rows = rows_of(&rig, &names[0]).await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows[0].superseded_at.is_some());
}

/// `import --move` of a folder of hard links to the archive (a view of
/// it): every source is an archived file, versioned ones (`X~2.MP4`)
/// included, so nothing is copied again and nothing removed. Before, a
/// versioned copy was imported again as `X~2~2.MP4` (the explorer's
/// `import-archive-view` case).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_of_hard_links_to_the_archive_copies_nothing() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(70_000))).await;
    let names = rig.names();
    rig.cycle(rig.config()).await.unwrap();
    assert!(rig.sim.remove_clip(&names[0]));
    rig.sim
        .add_clip(ClipDef::from_bytes(
            names[0].clone(),
            Folder::Movie,
            other_bytes(30_000, 9),
        ))
        .unwrap();
    let mut cfg = rig.config();
    cfg.accept_camera = true;
    rig.cycle(cfg).await.unwrap();
    let v2 = rig.archive.join(versioned_name(&names[0], 2));
    assert!(v2.is_file());

    let view = tempfile::tempdir_in(rig.archive.parent().unwrap()).unwrap();
    let movie = view.path().join("DCIM").join("Movie");
    std::fs::create_dir_all(&movie).unwrap();
    let mut clips = Vec::new();
    for e in std::fs::read_dir(&rig.archive).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "MP4") {
            std::fs::hard_link(&p, movie.join(p.file_name().unwrap())).unwrap();
            clips.push(p);
        }
    }
    assert_eq!(clips.len(), 3, "{clips:?}");
    let before = viofo_testkit::walk(&rig.archive).len();
    let summary = import_moving(&rig, view.path().to_path_buf()).await;
    assert_eq!(summary.imported, 0, "{summary:?}");
    assert_eq!(
        viofo_testkit::walk(&rig.archive).len(),
        before,
        "nothing added"
    );
    for p in &clips {
        assert!(p.is_file(), "{} kept", p.display());
    }
    assert!(
        !rig.archive
            .join(versioned_name(&versioned_name(&names[0], 2), 2))
            .exists()
    );
}
