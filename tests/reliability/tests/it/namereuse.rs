//! Issue 18 item 1, end to end: a card formatted with the clock set back
//! records again under names the archive holds (other bytes, other sizes,
//! and one with the same size as the clip an earlier run deleted). Every
//! recording ever made is afterwards on the camera or in the archive, byte
//! for byte; the originals and their GPX are untouched; each reused name
//! has a row per recording; nothing is deleted from the camera that is not
//! archived.

use std::collections::BTreeSet;

use viofo_sim::{ClipDef, ClipSpec, Folder, SimConfig};
use viofo_testkit::{Rig, note, sha256, sha256_file, sidecar, walk};
use viofosync_reliability::DELETE_SETTLE as SETTLE;

pub(crate) async fn names_reused_after_a_format() {
    let rig =
        Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(4).size(120_000))).await;
    let names = rig.names();
    let mut ever: BTreeSet<[u8; 32]> = names
        .iter()
        .map(|n| sha256(&rig.sim.clip_bytes(n).unwrap()))
        .collect();
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = SETTLE;
    rig.cycles_until(&cfg, 4, SETTLE, "every clip deleted", |r| {
        r.sim.clips().is_empty()
    })
    .await;
    let originals: Vec<_> = names
        .iter()
        .map(|n| {
            let p = rig.archive.join(n);
            let gpx = sha256_file(&sidecar(&p, "gpx"));
            (p.clone(), sha256_file(&p).expect("archived"), gpx)
        })
        .collect();

    // The format: new recordings under three of the names, one of them
    // with the very size of the clip deleted earlier.
    let sizes = [120_000usize, 90_000, 150_000];
    for (i, size) in sizes.iter().enumerate() {
        let bytes = vec![u8::try_from(0x40 + i).unwrap(); *size];
        ever.insert(sha256(&bytes));
        rig.sim
            .add_clip(ClipDef::from_bytes(names[i].clone(), Folder::Movie, bytes))
            .unwrap();
    }
    let mut cfg = cfg.clone();
    cfg.accept_camera = true;
    rig.cycles_until(&cfg, 4, SETTLE, "the new recordings deleted", |r| {
        r.sim.clips().is_empty()
    })
    .await;

    for (path, hash, gpx) in &originals {
        assert_eq!(sha256_file(path).as_ref(), Some(hash), "{}", path.display());
        let side = sidecar(path, "gpx");
        assert_eq!(&sha256_file(&side), gpx, "{}", side.display());
    }
    let archived: BTreeSet<[u8; 32]> = walk(&rig.archive)
        .iter()
        .filter_map(|f| sha256_file(&f.path))
        .collect();
    let lost: Vec<_> = ever.iter().filter(|h| !archived.contains(*h)).collect();
    assert!(lost.is_empty(), "{} recordings lost", lost.len());
    for d in rig.sim.deleted_clips() {
        let bytes = rig.sim.deleted_clip_reader(&d.name).map(|r| {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut { r }, &mut v).unwrap();
            v
        });
        if let Some(b) = bytes {
            assert!(
                archived.contains(&sha256(&b)),
                "{} deleted unarchived",
                d.name
            );
        }
    }
    let rows = rig.store.list(None, &[], u32::MAX).await.unwrap();
    for n in &names[..3] {
        assert_eq!(rows.iter().filter(|r| &r.name == n).count(), 2, "{n}");
    }
    note(&format!(
        "names_reused_after_a_format: {} recordings, all archived; {} files in the archive",
        ever.len(),
        walk(&rig.archive).len()
    ));
}
