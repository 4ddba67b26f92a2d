//! The crate's one error type.

use std::io;
use std::path::PathBuf;

/// Why extraction or writing failed.
///
/// "No GPS in the clip" is not an error: it is an [`Extraction`](crate::Extraction)
/// with zero points whose [`Stats`](crate::Stats) say why. Branch on the
/// predicates; the kind itself is private so it can grow.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug, thiserror::Error)]
enum Kind {
    /// Reading the clip or writing output failed (fs-err errors carry the path).
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The bytes do not start with an MP4 box.
    #[error("{}not an MP4 file (no box header at the start)", path_prefix(.path))]
    NotMp4 { path: Option<PathBuf> },
    /// A point's time cannot be written as an RFC 3339 UTC timestamp.
    #[error("writing GPX failed: the time {0} cannot be written as an RFC 3339 UTC timestamp")]
    UnwritableTime(time::OffsetDateTime),
    /// Serialising GeoJSON failed.
    #[error("writing GeoJSON failed: {0}")]
    Json(#[from] serde_json::Error),
    /// The clip path has no file name to derive a sidecar name from.
    #[error("{} has no file name", .0.display())]
    NoFileName(PathBuf),
    /// A [`RangeSource`](crate::RangeSource) read failed.
    #[error("reading {len} bytes at offset {offset} of the clip failed")]
    Source {
        offset: u64,
        len: u64,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A [`RangeSource`](crate::RangeSource) returned more or fewer bytes than asked.
    #[error("the range source returned {got} bytes for a read of {asked} at offset {offset}")]
    ReadLength { offset: u64, asked: u64, got: u64 },
    /// Ranged extraction met a box structure it cannot trust.
    #[error("malformed MP4 for ranged extraction: {0}")]
    Malformed(String),
    /// Ranged extraction would need more reads than its cap.
    #[error(
        "ranged extraction stopped: the clip needs more than {0} reads (the cap; a real clip needs a few plus one per block fetched)"
    )]
    TooManyReads(u64),
}

fn path_prefix(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

impl Error {
    pub(crate) fn not_mp4() -> Self {
        Error {
            kind: Kind::NotMp4 { path: None },
        }
    }

    pub(crate) fn with_path(mut self, p: &std::path::Path) -> Self {
        if let Kind::NotMp4 { path } = &mut self.kind {
            *path = Some(p.to_path_buf());
        }
        self
    }

    pub(crate) fn unwritable_time(t: time::OffsetDateTime) -> Self {
        Error {
            kind: Kind::UnwritableTime(t),
        }
    }

    pub(crate) fn no_file_name(p: &std::path::Path) -> Self {
        Error {
            kind: Kind::NoFileName(p.to_path_buf()),
        }
    }

    pub(crate) fn source(
        offset: u64,
        len: u64,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error {
            kind: Kind::Source {
                offset,
                len,
                source: Box::new(source),
            },
        }
    }

    pub(crate) fn read_length(offset: u64, asked: u64, got: u64) -> Self {
        Error {
            kind: Kind::ReadLength { offset, asked, got },
        }
    }

    pub(crate) fn malformed(why: impl Into<String>) -> Self {
        Error {
            kind: Kind::Malformed(why.into()),
        }
    }

    pub(crate) fn too_many_reads(cap: u64) -> Self {
        Error {
            kind: Kind::TooManyReads(cap),
        }
    }

    /// A [`RangeSource`](crate::RangeSource) read failed (its error is the
    /// [`source`](std::error::Error::source) of this one): a transport
    /// problem, worth another try later.
    #[must_use]
    pub fn is_source(&self) -> bool {
        matches!(self.kind, Kind::Source { .. })
    }

    /// A [`RangeSource`](crate::RangeSource) returned more or fewer bytes
    /// than asked (a short body, or a server that ignored the range).
    #[must_use]
    pub fn is_wrong_read_length(&self) -> bool {
        matches!(self.kind, Kind::ReadLength { .. })
    }

    /// Ranged extraction found a box structure it cannot trust (a box
    /// smaller than its header, a `moov` or other box running past the end
    /// of the file, …) or would have needed more than
    /// [`MAX_TRIAGE_READS`](crate::MAX_TRIAGE_READS) reads.
    #[must_use]
    pub fn is_malformed(&self) -> bool {
        matches!(self.kind, Kind::Malformed(_) | Kind::TooManyReads(_))
    }

    /// An I/O error reading the clip or writing output.
    #[must_use]
    pub fn is_io(&self) -> bool {
        matches!(self.kind, Kind::Io(_))
    }

    /// The file is missing (I/O error of kind `NotFound`).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(&self.kind, Kind::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }

    /// The bytes are not an MP4 file (empty, too short, or no box header at the start).
    #[must_use]
    pub fn is_not_mp4(&self) -> bool {
        matches!(self.kind, Kind::NotMp4 { .. })
    }

    /// Producing GPX / GeoJSON output failed (other than by I/O).
    #[must_use]
    pub fn is_output(&self) -> bool {
        matches!(
            self.kind,
            Kind::UnwritableTime(_) | Kind::Json(_) | Kind::NoFileName(_)
        )
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error { kind: Kind::Io(e) }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error {
            kind: Kind::Json(e),
        }
    }
}
