//! `viofo_pipeline::import`: a card's layout and plain folders archived as
//! a sync would, with `--move`, twice, with files that are not clips and a
//! clip whose read fails.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use viofo_pipeline::import::{ImportEvent, ImportOptions, ImportSummary, Importer};
use viofo_pipeline::{Grouping, Shutdown, SyncConfig};
use viofo_sim::{ClipSpec, Folder, Sim, SimConfig};
use viofo_store::{ClipState, Store, StoreOptions, TrackSource};

pub(super) const CAMERA: &str = "card-camera";

pub(super) struct Setup {
    pub(super) dir: tempfile::TempDir,
    pub(super) store: Store,
    pub(super) archive: PathBuf,
}

impl Setup {
    pub(super) async fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        std::fs::create_dir(&archive).unwrap();
        let store = Store::open(StoreOptions::at(dir.path().join("state.db")))
            .await
            .unwrap();
        Setup {
            dir,
            store,
            archive,
        }
    }

    pub(super) fn config(&self) -> SyncConfig {
        let mut cfg = SyncConfig::new(CAMERA, &self.archive);
        // The machine's own disk use must not decide a test.
        cfg.max_used_disk = None;
        cfg
    }

    pub(super) async fn import(
        &self,
        cfg: SyncConfig,
        opts: ImportOptions,
        sources: &[PathBuf],
    ) -> (viofo_pipeline::Result<ImportSummary>, Vec<ImportEvent>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let importer = Importer::new(self.store.clone(), cfg, opts).unwrap();
        let r = importer
            .run(
                sources,
                move |e| sink.lock().unwrap().push(e),
                &Shutdown::new(),
            )
            .await;
        let events = events.lock().unwrap().clone();
        (r, events)
    }
}

/// A simulated camera's clips written out as a card: `DCIM/Movie`,
/// `DCIM/Movie/Parking`, `DCIM/Movie/RO`. Returns the card root and each
/// clip's (name, folder, bytes).
pub(super) async fn card(root: &Path, spec: ClipSpec) -> Vec<(String, Folder, Vec<u8>)> {
    let sim = Sim::start(SimConfig::default().with_clips(spec))
        .await
        .unwrap();
    let mut out = Vec::new();
    for c in sim.clips() {
        let bytes = sim.clip_bytes_at(c.folder, &c.name).unwrap();
        let dir = root.join(c.folder.card_dir());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(&c.name), &bytes).unwrap();
        out.push((c.name, c.folder, bytes));
    }
    out
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The GPX the sync's tail writes for a clip's bytes.
fn tail_gpx(clip: &Path) -> Vec<u8> {
    let ex = viofo_gps::extract_file(clip, &viofo_gps::Options::default()).unwrap();
    let mut out = Vec::new();
    let name = clip.file_name().unwrap().to_str().unwrap();
    viofo_gps::write_track(&ex.points, Some(name), viofo_gps::Format::Gpx, &mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_is_archived_like_a_sync_and_moved() {
    let s = Setup::new().await;
    let card_root = s.dir.path().join("card");
    let spec = ClipSpec::synthetic(6)
        .size(400_000)
        .parking_every(3)
        .locked_every(2);
    let clips = card(&card_root, spec).await;
    assert!(clips.iter().any(|c| c.1 == Folder::Ro));
    assert!(clips.iter().any(|c| c.1 == Folder::Parking));
    std::fs::write(card_root.join("DCIM/Movie/notes.txt"), b"not a clip").unwrap();
    let mut cfg = s.config();
    cfg.grouping = Grouping::Daily;
    let opts = ImportOptions {
        move_sources: true,
        // Several batches.
        batch_files: 4,
        ..ImportOptions::default()
    };
    let (r, events) = s
        .import(cfg.clone(), opts.clone(), std::slice::from_ref(&card_root))
        .await;
    let summary = r.unwrap();
    assert_eq!(summary.imported, clips.len() as u64, "{summary:?}");
    assert!(summary.failed.is_empty() && summary.is_ok(), "{summary:?}");
    let total: u64 = clips.iter().map(|c| c.2.len() as u64).sum();
    assert_eq!(summary.bytes, total);
    assert_eq!(summary.removed, clips.len() as u64);
    // The text file is skipped with the reason.
    assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
    let (path, why) = &summary.skipped[0];
    assert!(
        path.ends_with("notes.txt") && why.contains("not a clip"),
        "{why}"
    );
    // Events: the plan, every byte's progress, each clip imported then removed.
    assert!(events.contains(&ImportEvent::Planned {
        files: clips.len() as u64,
        bytes: total
    }));
    let progressed: u64 = events
        .iter()
        .map(|e| match e {
            ImportEvent::Progress { bytes } => *bytes,
            _ => 0,
        })
        .sum();
    assert_eq!(progressed, total);
    for (name, folder, bytes) in &clips {
        let source = card_root.join(folder.card_dir()).join(name);
        assert!(!source.exists(), "{} not removed", source.display());
        let dest = s.archive.join("2025-12-24").join(name);
        assert_eq!(&std::fs::read(&dest).unwrap(), bytes, "{name}");
        let gpx = viofo_gps::sidecar_path(&dest, viofo_gps::Format::Gpx);
        assert_eq!(std::fs::read(&gpx).unwrap(), tail_gpx(&dest), "{name}");
        let row = s.store.get_by_name(CAMERA, name).await.unwrap().unwrap();
        assert_eq!(row.state, ClipState::Done, "{name}");
        assert_eq!(row.locked, *folder == Folder::Ro, "{name}");
        assert_eq!(row.parking, name.contains("PF."), "{name}");
        assert_eq!(row.local_path.as_deref(), Some(dest.as_path()));
        assert_eq!(row.local_size, Some(bytes.len() as u64));
        assert!(row.gps.as_ref().is_some_and(|g| g.points > 0), "{name}");
        assert_eq!(
            row.remote_path,
            format!("/{}/{name}", folder.card_dir()),
            "the card path"
        );
        assert_eq!(
            s.store.clip_source(row.id).await.unwrap().as_deref(),
            Some("import")
        );
        let track = s.store.track(row.id).await.unwrap().unwrap();
        assert_eq!(track.track.source, TrackSource::File);
        let removed = ImportEvent::Removed {
            path: source.clone(),
        };
        let at = |want: &ImportEvent| events.iter().position(|e| e == want).unwrap();
        let imported = events
            .iter()
            .position(|e| matches!(e, ImportEvent::Imported { path, .. } if *path == source))
            .unwrap();
        assert!(imported < at(&removed), "removed before it was recorded");
    }
    assert!(
        files_under(&s.archive).iter().all(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.ends_with(".part") && !name.contains(".tmp")
        }),
        "{:?}",
        files_under(&s.archive)
    );

    // Again: the text file is all that is left, nothing is imported.
    let (r, _) = s.import(cfg, opts, std::slice::from_ref(&card_root)).await;
    let again = r.unwrap();
    assert_eq!((again.imported, again.removed), (0, 0), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_import_imports_nothing_twice() {
    let s = Setup::new().await;
    let folder = s.dir.path().join("backup");
    let clips = card(&folder, ClipSpec::synthetic(5).size(200_000)).await;
    let opts = ImportOptions {
        batch_files: 2,
        ..ImportOptions::default()
    };
    let (r, _) = s
        .import(s.config(), opts.clone(), std::slice::from_ref(&folder))
        .await;
    assert_eq!(r.unwrap().imported, 5);
    let before: Vec<_> = clips
        .iter()
        .map(|c| {
            std::fs::metadata(s.archive.join(&c.0))
                .unwrap()
                .modified()
                .unwrap()
        })
        .collect();
    let (r, events) = s
        .import(s.config(), opts, std::slice::from_ref(&folder))
        .await;
    let again = r.unwrap();
    assert_eq!(again.imported, 0, "{again:?}");
    assert_eq!(again.already_archived, 5);
    assert!(
        again
            .skipped
            .iter()
            .all(|(_, why)| why.starts_with("already archived")),
        "{:?}",
        again.skipped
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ImportEvent::Started { .. }))
    );
    // Sources kept (no --move), archive copies untouched.
    for (c, t) in clips.iter().zip(before) {
        assert!(folder.join(Folder::Movie.card_dir()).join(&c.0).is_file());
        let now = std::fs::metadata(s.archive.join(&c.0))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(now, t, "{} copied again", c.0);
    }
    // With --move, a source already archived is removed only when its
    // archived copy is identical: here one copy is damaged (same size).
    let damaged = s.archive.join(&clips[0].0);
    let mut bytes = std::fs::read(&damaged).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&damaged, &bytes).unwrap();
    let moving = ImportOptions {
        move_sources: true,
        ..ImportOptions::default()
    };
    let (r, _) = s
        .import(s.config(), moving, std::slice::from_ref(&folder))
        .await;
    let moved = r.unwrap();
    assert_eq!((moved.imported, moved.removed), (0, 4), "{moved:?}");
    assert_eq!(moved.not_removed.len(), 1, "{moved:?}");
    assert!(moved.not_removed[0].1.contains("differs"), "{moved:?}");
    assert!(!moved.is_ok());
    let card = folder.join(Folder::Movie.card_dir());
    assert!(
        card.join(&clips[0].0).is_file(),
        "removed despite the damaged copy"
    );
    for c in &clips[1..] {
        assert!(!card.join(&c.0).exists(), "{} not removed", c.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_read_fails_only_that_clip() {
    let s = Setup::new().await;
    let folder = s.dir.path().join("failing");
    let clips = card(&folder, ClipSpec::synthetic(3).size(200_000)).await;
    // Named like a clip, but its read fails (whoever runs the test, root
    // included): a link to nothing.
    let broken = folder.join("DCIM/Movie/2025_1224_130000_000099F.MP4");
    std::os::unix::fs::symlink(folder.join("gone.MP4"), &broken).unwrap();
    let opts = ImportOptions {
        move_sources: true,
        ..ImportOptions::default()
    };
    let (r, events) = s
        .import(s.config(), opts, std::slice::from_ref(&folder))
        .await;
    let summary = r.unwrap();
    assert_eq!(summary.imported, 3, "{summary:?}");
    assert!(!summary.is_ok());
    assert_eq!(summary.failed.len(), 1, "{:?}", summary.failed);
    assert_eq!(summary.failed[0].0, broken);
    assert!(
        summary.failed[0].1.contains("cannot read"),
        "{}",
        summary.failed[0].1
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ImportEvent::Failed { path, .. } if *path == broken))
    );
    // The failed clip left nothing in the archive and in the store, and
    // its link is still there; the others are archived.
    assert!(std::fs::symlink_metadata(&broken).is_ok());
    assert!(
        !files_under(&s.archive)
            .iter()
            .any(|p| p.to_string_lossy().contains("000099F"))
    );
    assert!(
        s.store
            .get_by_name(CAMERA, "2025_1224_130000_000099F.MP4")
            .await
            .unwrap()
            .is_none()
    );
    for (name, _, bytes) in &clips {
        assert_eq!(&std::fs::read(s.archive.join(name)).unwrap(), bytes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_path_or_a_file_is_a_configuration_error() {
    let s = Setup::new().await;
    let missing = s.dir.path().join("no-such-card");
    let (r, _) = s
        .import(s.config(), ImportOptions::default(), &[missing])
        .await;
    let e = r.unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("does not exist"),
        "{e}"
    );
    let file = s.dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let (r, _) = s
        .import(s.config(), ImportOptions::default(), &[file])
        .await;
    let e = r.unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("not a folder"),
        "{e}"
    );
    // A folder inside the archive would import the archive into itself.
    let inner = s.archive.join("inner");
    std::fs::create_dir(&inner).unwrap();
    let (r, _) = s
        .import(s.config(), ImportOptions::default(), &[inner])
        .await;
    assert!(r.unwrap_err().is_config());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_out_of_the_tree_and_special_files_are_skipped() {
    let s = Setup::new().await;
    let outside = s.dir.path().join("outside");
    let clips = card(&outside, ClipSpec::synthetic(1).size(100_000)).await;
    let folder = s.dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let link = folder.join(&clips[0].0);
    std::os::unix::fs::symlink(
        outside.join(Folder::Movie.card_dir()).join(&clips[0].0),
        &link,
    )
    .unwrap();
    let dir_link = folder.join("loop");
    std::os::unix::fs::symlink(&folder, &dir_link).unwrap();
    let (r, _) = s
        .import(
            s.config(),
            ImportOptions::default(),
            std::slice::from_ref(&folder),
        )
        .await;
    let summary = r.unwrap();
    assert_eq!(summary.imported, 0, "{summary:?}");
    let why = |p: &Path| {
        summary
            .skipped
            .iter()
            .find(|(q, _)| q == p)
            .map(|(_, w)| w.clone())
            .unwrap_or_default()
    };
    assert!(
        why(&link).contains("out of the folder"),
        "{:?}",
        summary.skipped
    );
    assert!(
        why(&dir_link).contains("not followed"),
        "{:?}",
        summary.skipped
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_afterwards_and_clips_past_keep_are_skipped() {
    let s = Setup::new().await;
    let now = time::OffsetDateTime::now_utc();
    let recent = time::PrimitiveDateTime::new(now.date(), now.time()) - time::Duration::hours(2);
    let folder = s.dir.path().join("recent");
    let clips = card(
        &folder,
        ClipSpec::synthetic(2).size(100_000).start_time(recent),
    )
    .await;
    // Older than the keep period: skipped, as a sync would not download it.
    let old = card(&folder, ClipSpec::synthetic(1).size(100_000).first_seq(900)).await;
    // Already in the archive, recorded long ago: retention removes it.
    let stale = s.archive.join("2025_0101_120000_000001F.MP4");
    std::fs::write(&stale, vec![7u8; 1000]).unwrap();
    let mut cfg = s.config();
    cfg.retention.keep = Some(std::time::Duration::from_secs(30 * 24 * 3600));
    let (r, _) = s
        .import(cfg, ImportOptions::default(), std::slice::from_ref(&folder))
        .await;
    let summary = r.unwrap();
    assert_eq!(summary.imported, 2, "{summary:?}");
    assert_eq!(summary.pruned, 1, "{summary:?}");
    assert!(!stale.exists(), "retention did not run");
    let (path, why) = summary
        .skipped
        .iter()
        .find(|(p, _)| p.ends_with(&old[0].0))
        .unwrap();
    assert_eq!(why, "older than the keep period", "{}", path.display());
    for (name, _, bytes) in &clips {
        assert_eq!(&std::fs::read(s.archive.join(name)).unwrap(), bytes);
    }
}
