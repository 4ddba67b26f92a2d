//! Scenario 3, disk full: the sync stops with a clear "disk full" error,
//! keeps no partial file under a final name, deletes from the camera only
//! what is safely archived (never the clip that did not fit), and resumes
//! once space is freed.
//!
//! `disk_full` puts the archive on a small tmpfs the test mounts (root, or
//! a sandbox that permits it). Where mounting is refused, the harness
//! (`main.rs`) reports it as **ignored** with the reason on stderr
//! (`SKIPPED: …`), never as passed; run with `--include-ignored` there and
//! it fails with that reason. `disk_full_enospc` always runs: a real
//! ENOSPC from `/dev/full` (the first clip's `.part` file is a symlink to
//! it), the same stop-safely-and-resume promise on any machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use viofo_pipeline::{Event, SyncConfig};
use viofo_sim::{ClipSpec, SimConfig};
use viofo_testkit::{Catalog, Rig, StoreCheck, check_no_loss, note, run_until_complete, walk};

const CLIPS: usize = 6;
const SIZE: u64 = 1_000_000;

/// A tmpfs mounted for the test, unmounted on drop (lazily if busy).
/// Also used by `archive::unwritable_archive` (mounted read-only).
pub(crate) struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        Self::mount_with(dir, &format!("size={size},mode=0700"))
    }

    /// Mounts a tmpfs on `dir` with these `-o` options.
    pub(crate) fn mount_with(dir: &Path, options: &str) -> Result<Tmpfs, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }

    fn resize(&self, size: &str) {
        self.remount(&format!("size={size}"));
    }

    /// Remounts it with these `-o` options (after `remount,`); panics if
    /// that fails.
    pub(crate) fn remount(&self, options: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "remount: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

async fn rig_on(root: tempfile::TempDir, archive: PathBuf) -> (Rig, Catalog, SyncConfig) {
    let rig = Rig::builder(SimConfig::default().with_clips(ClipSpec::synthetic(CLIPS).size(SIZE)))
        .archive_at(root, archive)
        .start()
        .await;
    let catalog = Catalog::of(&rig.sim);
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = viofosync_reliability::DELETE_SETTLE;
    (rig, catalog, cfg)
}

/// What must hold right after the disk filled.
async fn assert_stopped_safely(rig: &Rig, catalog: &Catalog, err: &viofo_pipeline::Error) {
    assert!(err.is_disk_full(), "not reported as disk full: {err}");
    let msg = format!("{err:#}");
    assert!(err.to_string().contains("disk full"), "unclear: {msg}");
    let report = check_no_loss(
        catalog,
        &rig.sim,
        &rig.archive,
        &rig.store,
        StoreCheck::Interrupted,
    )
    .await;
    report.assert_ok();
    assert!(
        report.archived.len() < CLIPS,
        "everything fit; the disk never filled: {report:?}"
    );
    // Only what is archived byte-identical was deleted (checked above);
    // the clip that did not fit stayed on the camera.
    for name in catalog.names() {
        if !report.archived.contains(&name) {
            assert!(
                rig.sim.clip(&name).is_some(),
                "{name} not archived and not on the camera"
            );
        }
    }
    let failed: Vec<String> = rig
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::ItemFailed { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    for n in &failed {
        assert!(
            !rig.sim.deleted().contains(n),
            "{n} failed on a full disk and was deleted"
        );
    }
    note(&format!(
        "disk_full: stopped with: {msg}; {} of {CLIPS} clips archived",
        report.archived.len()
    ));
    for name in &report.archived {
        let row = rig
            .store
            .get_by_name(viofo_testkit::CAMERA, name)
            .await
            .unwrap();
        let gpx = viofo_testkit::sidecar(&rig.archive.join(name), "gpx");
        note(&format!(
            "disk_full:   {name}: store {:?}, gps recorded {}, delete {:?}, GPX sidecar {}",
            row.as_ref().map(|r| r.state.as_str()),
            row.as_ref().is_some_and(|r| r.gps.is_some()),
            row.as_ref().and_then(|r| r.delete_outcome.clone()),
            if gpx.is_file() { "present" } else { "MISSING" }
        ));
    }
}

async fn on_a_small_tmpfs(mount: Tmpfs, root: tempfile::TempDir, archive: PathBuf) {
    let (rig, catalog, cfg) = rig_on(root, archive).await;
    let err = rig
        .cycle(cfg.clone())
        .await
        .expect_err("a 3 MB disk cannot hold 6 MB of clips");
    assert_stopped_safely(&rig, &catalog, &err).await;
    // A second try on the still-full disk stops the same way, losing nothing.
    if let Err(e) = rig.cycle(cfg.clone()).await {
        assert!(e.is_disk_full(), "{e}");
    }
    check_no_loss(
        &catalog,
        &rig.sim,
        &rig.archive,
        &rig.store,
        StoreCheck::Interrupted,
    )
    .await
    .assert_ok();
    // Space freed: the sync resumes and finishes.
    mount.resize("32m");
    run_until_complete(&rig, &cfg, 3).await;
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), CLIPS, "{report:?}");
    assert_eq!(report.deleted.len(), CLIPS);
    assert!(
        walk(&rig.archive)
            .iter()
            .all(|f| !f.path.to_string_lossy().ends_with(".part"))
    );
    drop(rig);
    drop(mount);
}

async fn on_dev_full(root: tempfile::TempDir, archive: PathBuf) {
    let (rig, catalog, cfg) = rig_on(root, archive).await;
    // The oldest clip goes first: its .part is /dev/full.
    let first = catalog.names().into_iter().next().unwrap();
    let part = rig.archive.join(format!("{first}.part"));
    std::os::unix::fs::symlink("/dev/full", &part).expect("symlink to /dev/full");
    let err = rig
        .cycle(cfg.clone())
        .await
        .expect_err("ENOSPC stops the cycle");
    assert_stopped_safely(&rig, &catalog, &err).await;
    assert!(!rig.sim.deleted().contains(&first));
    // The failed download may have removed its (empty) `.part` already.
    match std::fs::remove_file(&part) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("remove {}: {e}", part.display()),
    }
    assert!(
        std::fs::metadata("/dev/full").is_ok_and(|m| !m.is_file()),
        "/dev/full is still the device (nothing was renamed onto it)"
    );
    run_until_complete(&rig, &cfg, 3).await;
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), CLIPS, "{report:?}");
}

/// Whether this machine lets the test mount a small tmpfs: mounts one on a
/// temp dir and unmounts it. `Err` is the reason it cannot.
pub(crate) fn probe_tmpfs() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let m = Tmpfs::mount(dir.path(), "1m")?;
    drop(m);
    Ok(())
}

pub(crate) async fn disk_full() {
    let root = tempfile::tempdir().unwrap();
    let archive = root.path().join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let mount = Tmpfs::mount(&archive, "3m").unwrap_or_else(|why| {
        panic!("disk_full needs a small tmpfs and this machine refuses it: {why}")
    });
    on_a_small_tmpfs(mount, root, archive).await;
}

pub(crate) async fn disk_full_enospc() {
    let root = tempfile::tempdir().unwrap();
    let archive = root.path().join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    on_dev_full(root, archive).await;
}
