//! The pipeline's error type.

use std::fmt;
use std::path::PathBuf;

/// The archive problem of a folder that is not there.
pub(crate) const MISSING: &str = "does not exist";

/// Why a sync cycle stopped. Branch on the predicates
/// ([`Error::is_offline`], [`Error::is_disk_full`], ...), not on the message.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

#[derive(Debug)]
enum ErrorKind {
    Offline(viofo_client::Error),
    Camera(viofo_client::Error),
    Store(viofo_store::Error),
    DiskGuard {
        path: PathBuf,
        used_percent: f64,
        limit: f64,
    },
    DiskFull(String),
    /// The next clip would take the archive over its quota.
    Quota {
        archive: u64,
        clip: u64,
        quota: u64,
        /// Why retention can free no more (`None`: locked clips or the
        /// newest day).
        why: Option<String>,
    },
    Io(std::io::Error),
    Interrupted,
    Config(String),
    /// A different device answers at the camera's address.
    WrongCamera {
        camera_id: String,
        address: String,
        why: String,
    },
    /// Another process owns the archive folder (its owner lock).
    ArchiveInUse {
        path: PathBuf,
        pid: Option<u32>,
    },
    /// The archive folder is missing, not a folder, or cannot be written.
    Archive {
        path: PathBuf,
        problem: &'static str,
        source: Option<std::io::Error>,
    },
}

impl Error {
    pub(crate) fn offline(e: viofo_client::Error) -> Self {
        Self {
            kind: ErrorKind::Offline(e),
        }
    }
    pub(crate) fn camera(e: viofo_client::Error) -> Self {
        if e.is_offline() {
            return Self::offline(e);
        }
        if e.is_disk_full() {
            return Self {
                kind: ErrorKind::DiskFull(e.to_string()),
            };
        }
        Self {
            kind: ErrorKind::Camera(e),
        }
    }
    pub(crate) fn disk_guard(path: PathBuf, used_percent: f64, limit: f64) -> Self {
        Self {
            kind: ErrorKind::DiskGuard {
                path,
                used_percent,
                limit,
            },
        }
    }
    pub(crate) fn quota(archive: u64, clip: u64, quota: u64) -> Self {
        Self {
            kind: ErrorKind::Quota {
                archive,
                clip,
                quota,
                why: None,
            },
        }
    }
    /// [`Error::quota`] with why retention can free no more.
    pub(crate) fn quota_because(archive: u64, clip: u64, quota: u64, why: String) -> Self {
        Self {
            kind: ErrorKind::Quota {
                archive,
                clip,
                quota,
                why: Some(why),
            },
        }
    }
    pub(crate) fn io(e: std::io::Error) -> Self {
        if e.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()) {
            return Self {
                kind: ErrorKind::DiskFull(e.to_string()),
            };
        }
        Self {
            kind: ErrorKind::Io(e),
        }
    }
    pub(crate) fn archive(
        path: PathBuf,
        problem: &'static str,
        source: Option<std::io::Error>,
    ) -> Self {
        Self {
            kind: ErrorKind::Archive {
                path,
                problem,
                source,
            },
        }
    }
    pub(crate) fn archive_in_use(path: &std::path::Path, pid: Option<u32>) -> Self {
        Self {
            kind: ErrorKind::ArchiveInUse {
                path: path.to_owned(),
                pid,
            },
        }
    }
    pub(crate) fn interrupted() -> Self {
        Self {
            kind: ErrorKind::Interrupted,
        }
    }
    pub(crate) fn wrong_camera(camera_id: &str, address: &str, why: String) -> Self {
        Self {
            kind: ErrorKind::WrongCamera {
                camera_id: camera_id.to_owned(),
                address: address.to_owned(),
                why,
            },
        }
    }
    pub(crate) fn config(msg: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Config(msg.into()),
        }
    }

    /// The camera did not answer (away, Wi-Fi down): try again later.
    pub fn is_offline(&self) -> bool {
        matches!(self.kind, ErrorKind::Offline(_))
    }

    /// The archive's disk is full, or fuller than the configured guard, or
    /// the next clip would take the archive over its quota; or the disk
    /// holding the state database is full (then [`is_store`](Self::is_store)
    /// too).
    pub fn is_disk_full(&self) -> bool {
        match &self.kind {
            ErrorKind::DiskFull(_) | ErrorKind::DiskGuard { .. } | ErrorKind::Quota { .. } => true,
            ErrorKind::Store(e) => e.is_disk_full(),
            _ => false,
        }
    }

    /// The cycle stopped because shutdown was requested.
    pub fn is_interrupted(&self) -> bool {
        matches!(self.kind, ErrorKind::Interrupted)
    }

    /// The configuration given to the pipeline is invalid.
    pub fn is_config(&self) -> bool {
        matches!(self.kind, ErrorKind::Config(_))
    }

    /// The archive folder is missing, not a folder, or cannot be written
    /// (an unmounted share, a read-only mount, no permission): nothing was
    /// downloaded or marked; fix the folder and run again.
    pub fn is_archive(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Archive { .. } | ErrorKind::ArchiveInUse { .. }
        )
    }

    /// Another process writes into this archive folder (it holds the
    /// folder's owner lock: another `sync`, `watch` or `import`, maybe
    /// with another state database or through another path to the same
    /// folder): nothing was done. One of [`is_archive`](Self::is_archive).
    pub fn is_archive_in_use(&self) -> bool {
        matches!(self.kind, ErrorKind::ArchiveInUse { .. })
    }

    /// The device answering at the camera's address is not the camera the
    /// store knows under this camera id (another model, or none of the
    /// clips it should still hold): nothing was synced. Fix the address or
    /// the camera id (or accept the device on purpose).
    pub fn is_wrong_camera(&self) -> bool {
        matches!(self.kind, ErrorKind::WrongCamera { .. })
    }

    /// The state store failed.
    pub fn is_store(&self) -> bool {
        matches!(self.kind, ErrorKind::Store(_))
    }

    /// A short outcome word for logs and the cycles table.
    pub fn outcome(&self) -> &'static str {
        match self.kind {
            ErrorKind::Offline(_) => "camera offline",
            ErrorKind::Camera(_) => "camera error",
            ErrorKind::Store(_) => "store error",
            ErrorKind::DiskGuard { .. } | ErrorKind::DiskFull(_) => "disk full",
            ErrorKind::Quota { .. } => "quota reached",
            ErrorKind::Io(_) => "io error",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Config(_) => "configuration error",
            ErrorKind::WrongCamera { .. } => "wrong camera",
            ErrorKind::Archive { .. } => "archive unusable",
            ErrorKind::ArchiveInUse { .. } => "archive in use",
        }
    }
}

/// `{}` is this layer's text only (its causes come from
/// [`source`](std::error::Error::source), so a chain printer shows each
/// once); `{:#}` adds the causes after it.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            // Unreachable, or something else answers: one line for people
            // with the cause once and what to try (issue 21).
            ErrorKind::Offline(e) | ErrorKind::Camera(e) if e.for_people().is_some() => {
                f.write_str(&e.for_people().unwrap_or_default())?;
            }
            ErrorKind::Offline(_) => f.write_str("camera offline")?,
            ErrorKind::Camera(_) => f.write_str("camera error")?,
            ErrorKind::Store(_) => f.write_str("state store")?,
            ErrorKind::DiskGuard {
                path,
                used_percent,
                limit,
            } => write!(
                f,
                "disk full: {} is {used_percent:.1}% used, above the {limit:.0}% limit; \
                 free space or raise the limit (max_used_disk)",
                path.display()
            )?,
            ErrorKind::DiskFull(e) => write!(f, "disk full: {e}")?,
            ErrorKind::Quota {
                archive,
                clip,
                quota,
                why,
            } => write!(
                f,
                "quota reached: the archive holds {} MB; the next clip ({} MB) would take it \
                 over its quota of {} MB, and retention can free no more ({}); raise the quota \
                 or free space",
                archive / 1_000_000,
                clip / 1_000_000,
                quota / 1_000_000,
                why.as_deref()
                    .unwrap_or("what is left is locked or the newest day")
            )?,
            ErrorKind::Io(_) => f.write_str("local file operation failed")?,
            ErrorKind::Interrupted => f.write_str("interrupted")?,
            ErrorKind::Config(m) => write!(f, "configuration: {m}")?,
            ErrorKind::WrongCamera {
                camera_id,
                address,
                why,
            } => write!(
                f,
                "the device at {address} is not camera {camera_id}: {why}; nothing was synced \
                 (check the address, give this camera its own camera_id, or accept it with \
                 `viofosync sync --accept-camera`)"
            )?,
            ErrorKind::ArchiveInUse { path, pid } => {
                write!(
                    f,
                    "archive folder {} is in use by another viofosync process",
                    path.display()
                )?;
                if let Some(pid) = pid {
                    write!(f, " (pid {pid})")?;
                }
                f.write_str(
                    "; nothing was downloaded (one process writes into an archive at a time: \
                     stop the other one, or let it do this work)",
                )?;
            }
            ErrorKind::Archive { path, problem, .. } => {
                write!(
                    f,
                    "archive folder {} {problem}; nothing was downloaded",
                    path.display()
                )?;
                if *problem == MISSING {
                    f.write_str(
                        " (mount it, or create it on purpose: create_archive = true \
                         or `viofosync doctor --init`)",
                    )?;
                }
            }
        }
        if f.alternate() {
            let mut next = std::error::Error::source(self);
            while let Some(e) = next {
                write!(f, ": {e}")?;
                next = e.source();
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            // The words for people already say the cause.
            ErrorKind::Offline(e) | ErrorKind::Camera(e) if e.for_people().is_some() => None,
            ErrorKind::Offline(e) | ErrorKind::Camera(e) => Some(e),
            ErrorKind::Store(e) => Some(e),
            ErrorKind::Io(e) => Some(e),
            ErrorKind::Archive {
                source: Some(e), ..
            } => Some(e),
            _ => None,
        }
    }
}

impl From<viofo_store::Error> for Error {
    fn from(e: viofo_store::Error) -> Self {
        Self {
            kind: ErrorKind::Store(e),
        }
    }
}

/// Result with the pipeline's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
