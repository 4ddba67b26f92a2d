//! Where the database lives: default path, network-filesystem refusal,
//! never inside the recordings folder.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// How a filesystem type (statfs `f_type` magic) is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsClass {
    /// Local (or unknown) filesystem: fine.
    Local,
    /// A network filesystem: refused unless forced.
    Network(&'static str),
    /// FUSE: could be sshfs (network) or mergerfs / Unraid's shfs (local);
    /// statfs cannot tell, so it is allowed with a warning.
    Fuse,
}

/// Classifies a statfs `f_type` magic number. Pure, so it can be tested on
/// faked values.
///
/// Refused: NFS (`0x6969`), SMB (`0x517B`), CIFS (`0xFF534D42`), SMB2
/// (`0xFE534D42`), 9p (`0x01021997`, e.g. WSL2 `/mnt/c`, VM shares), AFS
/// (`0x5346414F`, `0x6B414653`), Coda (`0x73757245`), Ceph (`0x00C36400`).
/// FUSE (`0x65735546`) is warned about, not refused.
pub fn classify_fs_magic(magic: u64) -> FsClass {
    match magic & 0xffff_ffff {
        0x6969 => FsClass::Network("NFS"),
        0x517b => FsClass::Network("SMB"),
        0xff53_4d42 => FsClass::Network("CIFS"),
        0xfe53_4d42 => FsClass::Network("SMB2"),
        0x0102_1997 => FsClass::Network("9p"),
        0x5346_414f | 0x6b41_4653 => FsClass::Network("AFS"),
        0x7375_7245 => FsClass::Network("Coda"),
        0x00c3_6400 => FsClass::Network("Ceph"),
        0x6573_5546 => FsClass::Fuse,
        _ => FsClass::Local,
    }
}

/// statfs magic of the filesystem holding `dir` (Linux only).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn fs_magic(dir: &Path) -> Result<Option<u64>> {
    let st = rustix::fs::statfs(dir).map_err(|e| Error::io("statfs", dir, e.into()))?;
    #[allow(clippy::unnecessary_cast)]
    let magic = st.f_type as i64;
    Ok(Some(magic.cast_unsigned()))
}

/// statfs magic of the filesystem holding `dir` (not available here).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn fs_magic(_dir: &Path) -> Result<Option<u64>> {
    Ok(None)
}

/// Refuses `dir` when `magic` says network filesystem and `allow` is false.
pub(crate) fn check_fs(dir: &Path, magic: Option<u64>, allow: bool) -> Result<()> {
    match magic.map(classify_fs_magic) {
        Some(FsClass::Network(fs)) if !allow => Err(ErrorKind::NetworkFs {
            dir: dir.to_owned(),
            fs,
        }
        .into()),
        Some(FsClass::Network(fs)) => {
            tracing::warn!(dir = %dir.display(), fs, "state database on a network filesystem (forced)");
            Ok(())
        }
        Some(FsClass::Fuse) => {
            tracing::warn!(
                dir = %dir.display(),
                "state database on a FUSE filesystem; if this is a network mount (sshfs), \
                 move it to local disk with --state-db"
            );
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Where a state database would live, as [`check_placement`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Placement {
    /// The database path as given.
    pub db: PathBuf,
    /// Its absolute, symlink-resolved form (what the recordings check
    /// compares).
    pub resolved: PathBuf,
    /// The folder whose filesystem was checked: the database's folder, or
    /// its nearest existing ancestor when the folder does not exist yet.
    pub checked_dir: PathBuf,
    /// That filesystem's class (`None` where statfs is not available).
    pub fs: Option<FsClass>,
    /// Whether the database file exists already.
    pub exists: bool,
}

/// The store's placement check, the one [`Store::open`](crate::Store::open)
/// runs (`doctor` can run the same): refuses a database inside the
/// recordings folder (after resolving symlinks and `..`,
/// [`Error::is_inside_recordings`]) and one on a network filesystem unless
/// `allow_network_fs` ([`Error::is_network_fs`]; FUSE is allowed with a
/// warning). Creates nothing: when the database's folder does not exist
/// yet, its nearest existing ancestor is checked. Blocking (canonicalize,
/// statfs): call it from `spawn_blocking` in async code.
pub fn check_placement(
    db: &Path,
    recordings: Option<&Path>,
    allow_network_fs: bool,
) -> Result<Placement> {
    if let Some(rec) = recordings {
        check_not_inside(db, rec)?;
    }
    let resolved = resolve(db)?;
    let dir = match db.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let checked_dir = dir
        .ancestors()
        .find(|p| p.as_os_str().is_empty() || p.is_dir())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let checked_dir = if checked_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        checked_dir
    };
    let magic = fs_magic(&checked_dir)?;
    check_fs(&checked_dir, magic, allow_network_fs)?;
    Ok(Placement {
        db: db.to_owned(),
        resolved,
        checked_dir,
        fs: magic.map(classify_fs_magic),
        exists: db.is_file(),
    })
}

/// `$XDG_STATE_HOME/viofosync/viofosync.db` (falling back to the local data
/// directory where the platform has no state directory).
pub fn default_db_path() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("viofosync").join("viofosync.db"))
}

/// Absolute, symlink-resolved form of `p`, even when its tail does not exist
/// yet: the deepest existing ancestor is canonicalised and the rest
/// appended lexically.
pub(crate) fn resolve(p: &Path) -> Result<PathBuf> {
    let abs = if p.is_absolute() {
        p.to_owned()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("current directory for", p, e))?
            .join(p)
    };
    let mut existing = abs.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(&existing) {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(normalise(&out));
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_owned();
            }
            _ => return Ok(normalise(&abs)),
        }
    }
}

fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Refuses a database path inside the recordings folder.
pub(crate) fn check_not_inside(db: &Path, recordings: &Path) -> Result<()> {
    let db_abs = resolve(db)?;
    let rec_abs = resolve(recordings)?;
    if db_abs.starts_with(&rec_abs) {
        return Err(ErrorKind::InsideRecordings {
            db: db.to_owned(),
            recordings: recordings.to_owned(),
        }
        .into());
    }
    Ok(())
}

/// The lock file beside the database: `<db>.lock`.
pub(crate) fn lock_path(db: &Path) -> PathBuf {
    let mut name = db
        .file_name()
        .map(std::ffi::OsString::from)
        .unwrap_or_default();
    name.push(".lock");
    db.with_file_name(name)
}

/// What [`lock_exclusive`] found.
#[derive(Debug)]
pub enum Locked {
    /// The lock is ours for as long as this file stays open (the kernel
    /// releases it when the file is closed or the process dies, even by
    /// `kill -9`); our pid is written in it.
    Taken(std::fs::File),
    /// Another open file holds it (another process, or another handle in
    /// this one); `pid` is what its holder wrote, when readable.
    Held {
        /// The holder's pid.
        pid: Option<u32>,
    },
}

/// Takes an exclusive, non-blocking `flock` on `path` (created if missing,
/// never truncated before the lock is ours) and writes our pid in it: the
/// one owner-lock mechanism, for the state database (`<db>.lock`) and for
/// the archive folder (`<archive>/.viofosync.lock`).
pub fn lock_exclusive(path: &Path) -> std::io::Result<Locked> {
    use std::io::{Read, Seek, Write};
    let mut file = fs_err::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?
        .into_parts()
        .0;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let t = text.trim();
            let pid = (!t.is_empty() && t.len() < 12 && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse().ok())
                .flatten();
            return Ok(Locked::Held { pid });
        }
        Err(e) => return Err(e.into()),
    }
    // Who holds it, for the message a second process prints.
    let _ = file.set_len(0);
    let _ = file.seek(std::io::SeekFrom::Start(0));
    let _ = write!(file, "{}", std::process::id());
    Ok(Locked::Taken(file))
}

/// Takes the database's owner lock: [`lock_exclusive`] on `<db>.lock`,
/// held for as long as the returned file is open (the writer keeps it).
/// Only the owner migrates, recovers and writes; a second writer is
/// refused.
pub(crate) fn take_owner_lock(db: &Path) -> Result<std::fs::File> {
    let path = lock_path(db);
    match lock_exclusive(&path) {
        Ok(Locked::Taken(file)) => Ok(file),
        Ok(Locked::Held { pid }) => Err(ErrorKind::InUse {
            path: db.to_owned(),
            holder: pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        }
        .into()),
        Err(e) => Err(Error::io("locking", &path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_magics_are_refused() {
        for (m, name) in [
            (0x6969u64, "NFS"),
            (0x517b, "SMB"),
            (0xff53_4d42, "CIFS"),
            (0xfe53_4d42, "SMB2"),
            (0x0102_1997, "9p"),
        ] {
            assert_eq!(classify_fs_magic(m), FsClass::Network(name), "{m:#x}");
            let err = check_fs(Path::new("/mnt/nas/state"), Some(m), false).unwrap_err();
            assert!(err.is_network_fs());
            let msg = err.to_string();
            assert!(msg.contains(name), "{msg}");
            assert!(msg.contains("--state-db"), "{msg}");
            assert!(msg.contains("VIOFOSYNC_STATE_DB"), "{msg}");
            assert!(msg.contains("--allow-network-state-db"), "{msg}");
            assert!(msg.contains("/mnt/nas/state"), "{msg}");
            // Forced: allowed.
            check_fs(Path::new("/mnt/nas/state"), Some(m), true).unwrap();
        }
    }

    #[test]
    fn sign_extended_magic_is_recognised() {
        // f_type is a signed word on some targets: CIFS's magic comes back
        // negative and sign-extended.
        let signed = 0xff53_4d42u32.cast_signed() as i64;
        assert_eq!(
            classify_fs_magic(signed.cast_unsigned()),
            FsClass::Network("CIFS")
        );
    }

    #[test]
    fn local_magics_pass() {
        for m in [
            0xef53u64,   /* ext4 */
            0x9123_683e, /* btrfs */
            0x5846_5342, /* xfs */
            0x0102_1994, /* tmpfs */
        ] {
            assert_eq!(classify_fs_magic(m), FsClass::Local, "{m:#x}");
            check_fs(Path::new("/var/lib"), Some(m), false).unwrap();
        }
        assert_eq!(classify_fs_magic(0x6573_5546), FsClass::Fuse);
        check_fs(Path::new("/mnt/user"), Some(0x6573_5546), false).unwrap();
        check_fs(Path::new("/x"), None, false).unwrap();
    }

    #[test]
    fn inside_recordings_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let rec = t.path().join("rec");
        std::fs::create_dir(&rec).unwrap();
        let err = check_not_inside(&rec.join("sub/../state.db"), &rec).unwrap_err();
        assert!(err.is_inside_recordings());
        check_not_inside(&t.path().join("state/viofosync.db"), &rec).unwrap();
        // A sibling whose name shares the prefix is not inside.
        check_not_inside(&t.path().join("rec2/viofosync.db"), &rec).unwrap();
    }

    #[test]
    fn placement_check_creates_nothing_and_checks_the_nearest_folder() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("not/yet/viofosync.db");
        let p = check_placement(&db, None, false).unwrap();
        assert_eq!(p.checked_dir, t.path());
        assert!(!p.exists);
        assert!(!t.path().join("not").exists(), "nothing created");
        assert_eq!(p.resolved, resolve(&db).unwrap());
        if p.fs.is_some() {
            assert!(!matches!(p.fs, Some(FsClass::Network(_))));
        }

        // Inside the recordings folder, through a symlink: refused.
        let rec = t.path().join("rec");
        std::fs::create_dir(&rec).unwrap();
        #[cfg(unix)]
        {
            let link = t.path().join("link");
            std::os::unix::fs::symlink(&rec, &link).unwrap();
            let err = check_placement(&link.join("state.db"), Some(&rec), false).unwrap_err();
            assert!(err.is_inside_recordings(), "{err}");
            // The other way round too: recordings given through the link.
            let err = check_placement(&rec.join("s.db"), Some(&link), false).unwrap_err();
            assert!(err.is_inside_recordings(), "{err}");
        }
        // A sibling sharing the prefix is fine.
        check_placement(&t.path().join("rec2/s.db"), Some(&rec), false).unwrap();
        // A relative path with no folder is checked in ".".
        let p = check_placement(Path::new("viofosync-test-nonexistent.db"), None, false).unwrap();
        assert_eq!(p.checked_dir, Path::new("."));
    }

    #[test]
    fn real_statfs_of_tempdir_is_not_network() {
        let t = tempfile::tempdir().unwrap();
        let magic = fs_magic(t.path()).unwrap();
        if let Some(m) = magic {
            assert!(!matches!(classify_fs_magic(m), FsClass::Network(_)));
        }
    }
}
