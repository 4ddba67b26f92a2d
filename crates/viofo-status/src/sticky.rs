//! Sticky errors: conditions that stay on the status until they clear (never
//! overwritten by the next quiet cycle), and where they are kept across
//! restarts ([`StickyStore`]; [`StickyFile`] is a JSON file per camera
//! beside the state database).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which condition a sticky error stands for. One error per kind at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StickyKind {
    /// The archive's disk is full (or above the configured limit). Clears
    /// when a clip is archived again or a cycle completes.
    DiskFull,
    /// The archive folder is missing, not a folder, or cannot be written.
    /// Clears when a cycle starts (its archive check passed) or the
    /// refresh finds the folder writable again.
    ArchiveUnwritable,
    /// The configuration was refused. Clears when the embedding program
    /// says so ([`StatusModel::clear_error`](crate::StatusModel::clear_error))
    /// or a cycle starts.
    Configuration,
    /// Clips are left failed. Clears when the store holds no failed clip
    /// (after `retry-failed` and a successful download).
    ClipsFailed,
}

impl StickyKind {
    /// `disk_full`, `archive_unwritable`, `configuration`, `clips_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            StickyKind::DiskFull => "disk_full",
            StickyKind::ArchiveUnwritable => "archive_unwritable",
            StickyKind::Configuration => "configuration",
            StickyKind::ClipsFailed => "clips_failed",
        }
    }

    /// The condition in words, for the page: `Disk full`, `Archive not
    /// writable`, `Configuration refused`, `Clips failed`.
    pub fn title(self) -> &'static str {
        match self {
            StickyKind::DiskFull => "Disk full",
            StickyKind::ArchiveUnwritable => "Archive not writable",
            StickyKind::Configuration => "Configuration refused",
            StickyKind::ClipsFailed => "Clips failed",
        }
    }

    /// Does this condition stop every sync (the state is `error` even while
    /// a cycle runs)? `clips_failed` does not.
    pub fn blocks_sync(self) -> bool {
        !matches!(self, StickyKind::ClipsFailed)
    }
}

/// One sticky error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickyError {
    /// The condition.
    pub kind: StickyKind,
    /// What happened, for a person.
    pub message: String,
    /// When it was first seen (RFC 3339); kept while the condition stands.
    pub since: String,
}

/// Where sticky errors are kept between runs. Called off the pipeline's
/// path: `load` once when the model is made, `save` from the refresh task
/// on the blocking pool.
pub trait StickyStore: Send + Sync + 'static {
    /// The errors saved by an earlier run (empty when none).
    fn load(&self) -> Result<Vec<StickyError>>;
    /// Replaces the saved errors (an empty slice clears them).
    fn save(&self, errors: &[StickyError]) -> Result<()>;
}

/// Keeps nothing between runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPersistence;

impl StickyStore for NoPersistence {
    fn load(&self) -> Result<Vec<StickyError>> {
        Ok(Vec::new())
    }
    fn save(&self, _errors: &[StickyError]) -> Result<()> {
        Ok(())
    }
}

/// A JSON file (`{"schema":1,"errors":[...]}`), written whole to a
/// temporary name, synced and renamed, so a crash leaves the old or the new
/// file, never half of one. The state store has no table for these yet.
#[derive(Debug, Clone)]
pub struct StickyFile {
    path: PathBuf,
    read_only: bool,
}

#[derive(Serialize, Deserialize)]
struct FileBody {
    schema: u32,
    errors: Vec<StickyError>,
}

impl StickyFile {
    /// The file at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            read_only: false,
        }
    }

    /// The same file, loaded but never written: for a report beside a
    /// running sync (`viofosync status --json`), which must not overwrite
    /// the running program's errors with its own view.
    pub fn read_only(self) -> Self {
        Self {
            read_only: true,
            ..self
        }
    }

    /// `<dir>/<stem>.status.json` beside the state database `db`
    /// (`viofosync.db` → `viofosync.status.json`).
    pub fn beside(db: &Path) -> Self {
        let stem = db
            .file_stem()
            .map_or_else(|| "viofosync".into(), |s| s.to_string_lossy().into_owned());
        Self::at(db.with_file_name(format!("{stem}.status.json")))
    }

    /// `<dir>/<stem>.<camera>.status.json` beside the state database `db`:
    /// one camera's file, so cameras sharing a state database keep their
    /// errors apart (and their writes never meet). A camera id's bytes
    /// other than letters, digits, `-` and `_` are written `%XX`, so two
    /// ids never share a file and none names a path.
    pub fn for_camera(db: &Path, camera_id: &str) -> Self {
        let stem = db
            .file_stem()
            .map_or_else(|| "viofosync".into(), |s| s.to_string_lossy().into_owned());
        let mut id = String::with_capacity(camera_id.len());
        for b in camera_id.bytes() {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                id.push(char::from(b));
            } else {
                id.push_str(&format!("%{b:02X}"));
            }
        }
        Self::at(db.with_file_name(format!("{stem}.{id}.status.json")))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: std::io::Error) -> Error {
        Error::StickyFile {
            path: self.path.clone(),
            source,
        }
    }
}

impl StickyStore for StickyFile {
    fn load(&self) -> Result<Vec<StickyError>> {
        let text = match fs_err::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.err(e)),
        };
        let body: FileBody = serde_json::from_str(&text).map_err(|e| self.err(e.into()))?;
        Ok(body.errors)
    }

    fn save(&self, errors: &[StickyError]) -> Result<()> {
        use std::io::Write;
        if self.read_only {
            return Ok(());
        }
        let body = FileBody {
            schema: 1,
            errors: errors.to_vec(),
        };
        let text = serde_json::to_vec_pretty(&body).map_err(|e| self.err(e.into()))?;
        let tmp = self.path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = fs_err::File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
            drop(f);
            fs_err::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // The rename is durable once the folder is synced.
                fs_err::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = StickyFile::beside(&dir.path().join("viofosync.db"));
        assert_eq!(f.path(), dir.path().join("viofosync.status.json"));
        assert!(f.load().unwrap().is_empty(), "no file yet: nothing saved");
        let e = StickyError {
            kind: StickyKind::DiskFull,
            message: "disk full".into(),
            since: "2026-01-01T00:00:00Z".into(),
        };
        f.save(std::slice::from_ref(&e)).unwrap();
        assert_eq!(f.load().unwrap(), vec![e]);
        let reader = f.clone().read_only();
        reader.save(&[]).unwrap();
        assert_eq!(
            reader.load().unwrap().len(),
            1,
            "a read-only file is never written"
        );
        f.save(&[]).unwrap();
        assert!(f.load().unwrap().is_empty());
    }

    #[test]
    fn cameras_sharing_a_database_keep_their_errors_apart() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("viofosync.db");
        let err = |kind, message: &str| StickyError {
            kind,
            message: message.into(),
            since: "2026-01-01T00:00:00Z".into(),
        };
        let front = StickyFile::for_camera(&db, "front");
        let rear = StickyFile::for_camera(&db, "rear");
        assert_ne!(front.path(), rear.path());
        let f = err(StickyKind::DiskFull, "front's disk is full");
        let r = err(StickyKind::ArchiveUnwritable, "rear's archive is read-only");
        front.save(std::slice::from_ref(&f)).unwrap();
        rear.save(std::slice::from_ref(&r)).unwrap();
        // Both persisted, each its own (as a restart loads them).
        assert_eq!(
            StickyFile::for_camera(&db, "front").load().unwrap(),
            vec![f]
        );
        assert_eq!(StickyFile::for_camera(&db, "rear").load().unwrap(), vec![r]);
        // Ids that differ only in characters a file name cannot hold do
        // not share a file, and none leaves the folder.
        let odd = ["a.b", "a_b", "a%2Eb", "../x", "a/b", "192.168.1.254"];
        let mut paths = std::collections::HashSet::new();
        for id in odd {
            let p = StickyFile::for_camera(&db, id).path().to_owned();
            assert_eq!(p.parent(), Some(dir.path()), "{id}: {}", p.display());
            assert!(paths.insert(p), "{id} shares a file");
        }
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = StickyFile::at(dir.path().join("s.json"));
        std::fs::write(f.path(), "{not json").unwrap();
        let e = f.load().unwrap_err();
        assert!(e.to_string().contains("s.json"), "{e}");
    }
}
