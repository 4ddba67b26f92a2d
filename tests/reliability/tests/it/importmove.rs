//! Issue 18 item 2, `import --move` of the archive reached through a bind
//! mount: the archive's root mounted elsewhere is refused as the archive
//! itself, and a folder of the archive mounted elsewhere has every clip
//! kept (each source is its own archived copy); nothing archived is lost
//! and the store still says done.
//!
//! `bind_mounted_archive` mounts with `mount --bind` (root, or a sandbox
//! that permits it). Where mounting is refused, the harness reports it as
//! ignored with the reason, never passed. The same guarantees without a
//! mount (a hard link, a link to the archive, a `..` path) are the
//! pipeline's `import_move` tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use viofo_pipeline::import::{ImportOptions, Importer};
use viofo_pipeline::{Grouping, Shutdown};
use viofo_sim::{ClipSpec, SimConfig};
use viofo_testkit::{Catalog, Rig, note, walk};

const CLIPS: usize = 3;

/// A folder bind-mounted on another, unmounted on drop (lazily if busy).
struct Bind {
    at: PathBuf,
}

impl Bind {
    fn mount(from: &Path, at: &Path) -> Result<Bind, String> {
        std::fs::create_dir_all(at).map_err(|e| format!("{}: {e}", at.display()))?;
        let out = Command::new("mount")
            .arg("--bind")
            .arg(from)
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount --bind failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Bind { at: at.to_owned() })
    }
}

impl Drop for Bind {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.at)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.at).status();
        }
    }
}

/// Whether this machine lets the test bind-mount a folder. `Err` is the
/// reason it cannot.
pub(crate) fn probe_bind() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let from = dir.path().join("from");
    std::fs::create_dir(&from).map_err(|e| format!("temp dir: {e}"))?;
    drop(Bind::mount(&from, &dir.path().join("at"))?);
    Ok(())
}

pub(crate) async fn bind_mounted_archive() {
    let rig =
        Rig::builder(SimConfig::default().with_clips(ClipSpec::synthetic(CLIPS).size(100_000)))
            .sync_config(|c| {
                c.grouping = Grouping::Daily;
                c.max_used_disk = None;
            })
            .start()
            .await;
    let catalog = Catalog::of(&rig.sim);
    let s = rig.cycle(rig.config()).await.expect("the first sync");
    assert_eq!(s.clips, CLIPS as u64, "{s:?}");
    rig.check(&catalog).await.assert_ok();
    let files = walk(&rig.archive);
    let day = rig
        .archive
        .join(rig.names().first().map(|n| day_of(n)).expect("clips"));
    assert!(day.is_dir(), "{}", day.display());
    let moving = ImportOptions {
        move_sources: true,
        ..ImportOptions::default()
    };
    let import = |src: PathBuf| {
        let importer =
            Importer::new(rig.store.clone(), rig.config(), moving.clone()).expect("importer");
        async move { importer.run(&[src], |_| {}, &Shutdown::new()).await }
    };

    // The archive's root by another path: refused before anything.
    let whole = Bind::mount(&rig.archive, &rig.root.path().join("whole"))
        .unwrap_or_else(|why| panic!("bind_mounted_archive needs mount --bind: {why}"));
    let err = import(whole.at.clone())
        .await
        .expect_err("the archive imported into itself");
    assert!(
        err.is_config() && err.to_string().contains("inside the archive"),
        "{err}"
    );
    note(&format!("bind_mounted_archive: the root refused: {err}"));
    drop(whole);
    assert_eq!(walk(&rig.archive), files, "the archive changed");
    rig.check(&catalog).await.assert_ok();

    // One of its folders by another path: each clip is its archived copy.
    let folder = Bind::mount(&day, &rig.root.path().join("day"))
        .unwrap_or_else(|why| panic!("bind_mounted_archive needs mount --bind: {why}"));
    let summary = import(folder.at.clone()).await.expect("the import runs");
    assert_eq!(summary.already_archived, CLIPS as u64, "{summary:?}");
    assert_eq!(summary.removed, 0, "archived clips removed: {summary:?}");
    assert_eq!(summary.not_removed.len(), CLIPS, "{summary:?}");
    assert!(!summary.is_ok());
    drop(folder);
    assert_eq!(walk(&rig.archive), files, "the archive changed");
    rig.check(&catalog).await.assert_ok();
}

/// The daily folder a clip's name puts it in (`2025_1224_…` → `2025-12-24`).
fn day_of(name: &str) -> String {
    let (y, md) = (&name[..4], &name[5..9]);
    format!("{y}-{}-{}", &md[..2], &md[2..])
}
