//! The no-data-loss checker every scenario ends with: the camera's clips
//! hashed at the start ([`Catalog`]), compared with the camera, the archive
//! and the store now ([`check_no_loss`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use viofo_sim::Sim;
use viofo_store::{ClipState, Store, StoreOptions};

use crate::CAMERA;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// SHA-256 of a byte slice.
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// SHA-256 of a file, streamed; `None` if it cannot be read.
pub fn sha256_file(path: &Path) -> Option<Hash> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).ok()?;
    Some(h.finalize().into())
}

/// SHA-256 of a clip as the simulator serves it now, streamed.
pub fn sha256_sim(sim: &Sim, name: &str) -> Option<Hash> {
    let mut r = sim.clip_reader(name)?;
    let mut h = Sha256::new();
    std::io::copy(&mut r, &mut h).ok()?;
    Some(h.finalize().into())
}

/// What one clip looked like on the camera when a scenario started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes.
    pub hash: Hash,
    /// Whether it carries GPS fixes (so it needs a GPX sidecar once archived).
    pub has_gps: bool,
}

/// The camera's clips at the start of a scenario, hashed.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// By clip name.
    pub clips: BTreeMap<String, CatalogEntry>,
    /// Names the scenario checks itself (a clip that grows, a name listed
    /// in two folders): [`check_no_loss`] ignores their files in the
    /// archive and their store rows, but still requires that what the
    /// camera lost on deleting one is what the archive holds.
    pub exempt: BTreeSet<String>,
}

impl Catalog {
    /// Hashes every clip on the simulator now.
    pub fn of(sim: &Sim) -> Catalog {
        let mut clips = BTreeMap::new();
        for c in sim.clips() {
            let hash = sha256_sim(sim, &c.name).expect("the simulator serves its own clip");
            let has_gps = sim.gps_points(&c.name).is_some_and(|p| !p.is_empty());
            clips.insert(
                c.name.clone(),
                CatalogEntry {
                    size: c.size,
                    hash,
                    has_gps,
                },
            );
        }
        Catalog {
            clips,
            exempt: BTreeSet::new(),
        }
    }

    /// Leaves `name` to the scenario (see [`Catalog::exempt`](Catalog#structfield.exempt)).
    pub fn exempt(&mut self, name: &str) {
        self.clips.remove(name);
        self.exempt.insert(name.to_owned());
    }

    /// Clip names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.clips.keys().cloned().collect()
    }
}

/// A file found in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    /// Its path.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
}

/// Every regular file under `root`, recursively, by file name (bounded
/// depth 8).
pub fn walk(root: &Path) -> Vec<ArchiveFile> {
    fn go(dir: &Path, depth: usize, out: &mut Vec<ArchiveFile>) {
        if depth > 8 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                go(&p, depth + 1, out);
            } else {
                out.push(ArchiveFile {
                    path: p,
                    size: m.len(),
                });
            }
        }
    }
    let mut out = Vec::new();
    go(root, 0, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Whether a file name is a final clip name (not a temporary `.part` or a
/// sidecar).
pub fn is_clip_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".mp4", ".mov", ".ts", ".jpg"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// What [`check_no_loss`] found: the violations, and what it looked at.
#[derive(Debug, Clone, Default)]
pub struct LossReport {
    /// Every broken promise, one sentence each. Empty = nothing lost.
    pub violations: Vec<String>,
    /// Clips found in the archive byte-identical.
    pub archived: BTreeSet<String>,
    /// Clips still on the camera (not archived).
    pub on_camera_only: BTreeSet<String>,
    /// Clips deleted from the camera.
    pub deleted: BTreeSet<String>,
}

impl LossReport {
    /// Panics with every violation listed, if there is any.
    pub fn assert_ok(&self) {
        assert!(
            self.violations.is_empty(),
            "no-data-loss violations:\n  {}",
            self.violations.join("\n  ")
        );
    }
}

/// How strictly [`check_no_loss`] compares the store with the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreCheck {
    /// Every archived clip must be `done` in the store and every `done` /
    /// `downloaded` row must point at an identical file (after a run that
    /// completed).
    Settled,
    /// Rows that claim a local copy must point at an identical file; archived
    /// clips may still be waiting for their record (after an interrupted
    /// run: the next run reconciles them).
    Interrupted,
}

/// The no-data-loss checker. Compares the camera as it started
/// (`catalog`) with the camera now (`sim`), the archive and the store.
pub async fn check_no_loss(
    catalog: &Catalog,
    sim: &Sim,
    archive: &Path,
    store: &Store,
    strict: StoreCheck,
) -> LossReport {
    let mut r = LossReport::default();
    let files = walk(archive);
    let mut by_name: BTreeMap<String, Vec<&ArchiveFile>> = BTreeMap::new();
    for f in &files {
        let file = f
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // A new recording under an archived name is archived beside it as
        // `<stem>~N.<ext>`: grouped under the camera's name.
        let (name, _) = viofo_pipeline::archive::unversioned_name(file);
        by_name.entry(name).or_default().push(f);
    }
    // No file under a final name is partial or foreign.
    for (name, fs) in &by_name {
        if !is_clip_name(name) || catalog.exempt.contains(name) {
            continue;
        }
        let Some(entry) = catalog.clips.get(name) else {
            r.violations.push(format!(
                "{name}: a clip file in the archive the camera never listed"
            ));
            continue;
        };
        let matching =
            |f: &&ArchiveFile| f.size == entry.size && sha256_file(&f.path) == Some(entry.hash);
        if fs.iter().filter(|f| matching(f)).count() > 1 {
            r.violations
                .push(format!("{name}: {} copies in the archive", fs.len()));
        }
        // Several files of a name are several recordings (the others'
        // bytes were the camera's at some other time); one file must be
        // the camera's bytes.
        if fs.len() > 1 && fs.iter().any(matching) {
            continue;
        }
        for f in fs {
            if f.size != entry.size || sha256_file(&f.path) != Some(entry.hash) {
                r.violations.push(format!(
                    "{}: under its final name but not the camera's bytes ({} of {} bytes)",
                    f.path.display(),
                    f.size,
                    entry.size
                ));
            }
        }
    }
    let deleted: BTreeSet<String> = sim.deleted().into_iter().collect();
    for (name, entry) in &catalog.clips {
        let local = by_name.get(name).and_then(|v| {
            v.iter()
                .find(|f| f.size == entry.size && sha256_file(&f.path) == Some(entry.hash))
                .or_else(|| v.first())
        });
        let identical =
            local.is_some_and(|f| f.size == entry.size && sha256_file(&f.path) == Some(entry.hash));
        let on_camera = sim.clip(name).is_some();
        if identical {
            r.archived.insert(name.clone());
        } else if on_camera {
            r.on_camera_only.insert(name.clone());
        }
        if !on_camera && !identical {
            r.violations.push(format!(
                "{name}: LOST: neither on the camera nor in the archive byte-identical"
            ));
        }
        if on_camera && sha256_sim(sim, name) != Some(entry.hash) {
            r.violations
                .push(format!("{name}: the camera's copy changed (test bug?)"));
        }
        if deleted.contains(name) {
            r.deleted.insert(name.clone());
            if !identical {
                r.violations.push(format!(
                    "{name}: deleted from the camera but the local copy is missing or different"
                ));
            }
        }
        // GPX sidecar for every archived clip with GPS.
        if identical
            && entry.has_gps
            && let Some(f) = local
        {
            let gpx = sidecar(&f.path, "gpx");
            match std::fs::read_to_string(&gpx) {
                Ok(s) if s.contains("<trkpt") && s.trim_end().ends_with("</gpx>") => {}
                Ok(_) => r
                    .violations
                    .push(format!("{}: GPX sidecar is incomplete", gpx.display())),
                Err(e) => {
                    if strict == StoreCheck::Settled {
                        r.violations.push(format!(
                            "{}: GPX sidecar missing for a clip with GPS ({e})",
                            gpx.display()
                        ));
                    }
                }
            }
        }
    }
    // What the camera lost on each delete is what the archive holds, also
    // for a clip that changed on the camera since the catalog was taken
    // (the checks above compare with the catalog's bytes).
    let mut lost: BTreeMap<String, u64> = BTreeMap::new();
    for c in sim.deleted_clips() {
        lost.insert(c.name, c.size);
    }
    for (name, size) in &lost {
        if catalog.clips.get(name).is_some_and(|e| e.size == *size) {
            continue;
        }
        let hash = sim.deleted_clip_reader(name).and_then(|mut rd| {
            let mut h = Sha256::new();
            std::io::copy(&mut rd, &mut h).ok()?;
            Some(Hash::from(h.finalize()))
        });
        let held = by_name.get(name).is_some_and(|fs| {
            fs.iter()
                .any(|f| f.size == *size && hash.is_some() && sha256_file(&f.path) == hash)
        });
        if !held {
            r.violations.push(format!(
                "{name}: deleted from the camera at {size} bytes but the archive holds no copy with those bytes"
            ));
        }
    }
    // The store agrees with the disk.
    for (name, entry) in &catalog.clips {
        // The row that records the archived copy (a reused name has a row
        // per recording), else the name's current row.
        let archived_at = by_name.get(name).and_then(|v| {
            v.iter()
                .find(|f| f.size == entry.size && sha256_file(&f.path) == Some(entry.hash))
        });
        let row = match archived_at {
            Some(f) => match store.get_by_local_path(&f.path).await {
                Ok(Some(row)) => Ok(Some(row)),
                _ => store.get_by_name(CAMERA, name).await,
            },
            None => store.get_by_name(CAMERA, name).await,
        };
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                r.violations.push(format!("{name}: store read failed: {e}"));
                continue;
            }
        };
        let archived = r.archived.contains(name);
        match row {
            None => {
                if archived || strict == StoreCheck::Settled {
                    r.violations
                        .push(format!("{name}: no store row (archived: {archived})"));
                }
            }
            Some(row) => {
                let claims_local = matches!(row.state, ClipState::Downloaded | ClipState::Done);
                if claims_local {
                    let ok = row
                        .local_path
                        .as_deref()
                        .is_some_and(|p| sha256_file(p) == Some(entry.hash))
                        && row.local_size == Some(entry.size);
                    if !ok {
                        r.violations.push(format!(
                            "{name}: store says {} at {:?} ({:?} bytes) but the disk disagrees",
                            row.state.as_str(),
                            row.local_path,
                            row.local_size
                        ));
                    }
                }
                if row.deleted_from_camera_at.is_some() && !deleted.contains(name) {
                    r.violations.push(format!(
                        "{name}: store says deleted from the camera, the camera has it"
                    ));
                }
                if deleted.contains(name) && !claims_local {
                    r.violations.push(format!(
                        "{name}: deleted from the camera while the store says {}",
                        row.state.as_str()
                    ));
                }
                if strict == StoreCheck::Settled && archived && row.state != ClipState::Done {
                    r.violations.push(format!(
                        "{name}: archived but the store says {} after a completed run",
                        row.state.as_str()
                    ));
                }
            }
        }
    }
    r
}

/// `<clip path>.<ext>`, the sidecar naming the pipeline uses.
pub fn sidecar(clip: &Path, ext: &str) -> PathBuf {
    let mut s = clip.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// [`check_no_loss`] (interrupted mode) against a **copy** of the database
/// at `db`, so the check itself never repairs the state a later run must
/// recover from (opening a [`Store`] runs its crash recovery). For use while
/// no process writes the database (e.g. right after `kill -9`).
pub async fn check_db_copy(catalog: &Catalog, sim: &Sim, archive: &Path, db: &Path) -> LossReport {
    let tmp = tempfile::tempdir().expect("temp dir");
    let copy = tmp.path().join("copy.db");
    for suffix in ["", "-wal", "-shm"] {
        let mut from = db.as_os_str().to_owned();
        from.push(suffix);
        let mut to = copy.as_os_str().to_owned();
        to.push(suffix);
        let from = PathBuf::from(from);
        if from.is_file() {
            std::fs::copy(&from, PathBuf::from(to)).expect("copy the database");
        }
    }
    let store = Store::open(StoreOptions {
        recordings_dir: Some(archive.to_path_buf()),
        ..StoreOptions::at(&copy)
    })
    .await
    .expect("the database left behind opens");
    let r = check_no_loss(catalog, sim, archive, &store, StoreCheck::Interrupted).await;
    drop(store.close().await);
    r
}
