//! Copying one clip into the archive: to `<final>.part`, hashing the
//! source and feeding the GPS streaming extractor while the bytes pass,
//! then reading the copy back to compare its size and hash. Nothing here
//! is made durable or takes its final name: the batch does that
//! ([`super::commit`]), for many clips at once.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use viofo_gps::StreamExtractor;
use xxhash_rust::xxh3::Xxh3;

use crate::config::GpsConfig;

/// Bytes read (and written) at a time.
const CHUNK: usize = 1 << 20;

/// A copy in `<final>.part`, verified, not yet durable.
#[derive(Debug)]
pub(super) struct Copied {
    pub(super) part: PathBuf,
    pub(super) dest: PathBuf,
    pub(super) bytes: u64,
    /// The source's (and the copy's) XXH3-128.
    pub(super) hash: u128,
    /// Sidecars written to temporary names: (temporary, final).
    pub(super) sidecars: Vec<(PathBuf, PathBuf)>,
    /// The extraction, for the store (`None`: a photo, or GPS off).
    pub(super) gps: Option<viofo_gps::Extraction>,
}

/// Why a copy did not happen.
#[derive(Debug)]
pub(super) enum CopyError {
    /// The source could not be read, or its copy did not match: this clip
    /// fails, the others go on.
    Source(String),
    /// The archive could not be written (full, read only, gone): the
    /// import stops.
    Archive(std::io::Error),
    /// Aborted by a second shutdown request.
    Aborted,
}

/// What the copy needs besides the paths.
pub(super) struct CopyCtx<'a> {
    pub(super) gps: Option<GpsConfig>,
    pub(super) photo: bool,
    /// The size the scan saw (sizes the buffer: a small clip does not need
    /// a whole chunk's).
    pub(super) size: u64,
    /// Called with the bytes of each chunk copied.
    pub(super) progress: &'a dyn Fn(u64),
    pub(super) aborted: &'a dyn Fn() -> bool,
}

/// A copy written to `<final>.part`, not yet checked.
pub(super) struct Written {
    part: PathBuf,
    dest: PathBuf,
    bytes: u64,
    hash: u128,
    gps: Option<StreamExtractor>,
    gps_cfg: Option<GpsConfig>,
}

/// Copies `src` to `<dest>.part` (creating `dest`'s folder), hashing it and
/// feeding the GPS extractor on the way. A failure removes the `.part`.
/// [`check`] then reads the copy back (beside the next clip's copy).
pub(super) fn copy_one(src: &Path, dest: &Path, cx: &CopyCtx<'_>) -> Result<Written, CopyError> {
    let part =
        viofo_client::part_path(dest).map_err(|e| CopyError::Archive(std::io::Error::other(e)))?;
    let r = copy_to_part(src, dest, &part, cx);
    if r.is_err() {
        crate::archive::discard(&part);
    }
    r
}

fn copy_to_part(
    src: &Path,
    dest: &Path,
    part: &Path,
    cx: &CopyCtx<'_>,
) -> Result<Written, CopyError> {
    let source = |e: std::io::Error| CopyError::Source(format!("cannot read it: {e}"));
    let mut input = std::fs::File::open(src).map_err(source)?;
    // A killed import may have left this clip's sidecars' temporary files
    // (its .part kept, or its clip renamed and its sidecar not yet).
    if let Ok(n @ 1..) = viofo_gps::remove_stale_sidecar_temps(dest) {
        tracing::info!("removed {n} leftover temporary sidecar file(s)");
    }
    let mut out = crate::archive::create_part(part).map_err(CopyError::Archive)?;
    let opts = cx.gps.as_ref().map(super::gps_options);
    let mut gps = opts.filter(|_| !cx.photo).map(StreamExtractor::new);
    let mut hasher = Xxh3::new();
    let cap = buffer_for(cx.size);
    let mut buf = vec![0u8; cap];
    let mut bytes = 0u64;
    loop {
        if (cx.aborted)() {
            return Err(CopyError::Aborted);
        }
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(source(e)),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        hasher.update(chunk);
        if let Some(g) = gps.as_mut() {
            g.push(chunk);
        }
        out.write_all(chunk).map_err(CopyError::Archive)?;
        bytes += n as u64;
        (cx.progress)(n as u64);
    }
    Ok(Written {
        part: part.to_owned(),
        dest: dest.to_owned(),
        bytes,
        hash: hasher.digest128(),
        gps,
        gps_cfg: cx.gps,
    })
}

/// A buffer for a clip of `size` bytes: a small clip does not need a whole
/// chunk's (zeroing it would cost more than the copy).
fn buffer_for(size: u64) -> usize {
    usize::try_from(size.saturating_add(1))
        .unwrap_or(CHUNK)
        .clamp(64 * 1024, CHUNK)
}

/// Reads the copy back (its size and hash must be the source's), finishes
/// the track and writes the sidecars to temporary names. A failure removes
/// the `.part`.
pub(super) fn check(w: Written) -> Result<Copied, CopyError> {
    let part = w.part.clone();
    let r = check_part(w);
    if r.is_err() {
        crate::archive::discard(&part);
    }
    r
}

fn check_part(w: Written) -> Result<Copied, CopyError> {
    let Written {
        part,
        dest,
        bytes,
        hash,
        gps,
        gps_cfg,
    } = w;
    let mut buf = vec![0u8; buffer_for(bytes)];
    // The copy read back: its size and hash must be the source's.
    let mut check = fs_err::File::open(&part).map_err(CopyError::Archive)?;
    let mut back = Xxh3::new();
    let mut back_bytes = 0u64;
    loop {
        let n = match check.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Archive(e)),
        };
        back.update(buf.get(..n).unwrap_or_default());
        back_bytes += n as u64;
    }
    if back_bytes != bytes || back.digest128() != hash {
        return Err(CopyError::Source(format!(
            "the copy does not match the source ({back_bytes} of {bytes} bytes, or a different \
             hash): not imported"
        )));
    }
    let mut sidecars = Vec::new();
    let gps = match gps.map(StreamExtractor::finish) {
        None => None,
        Some(Ok(ex)) => {
            if let Some(g) = gps_cfg
                && !ex.points.is_empty()
            {
                let mut formats = vec![viofo_gps::Format::Gpx];
                if g.geojson {
                    formats.push(viofo_gps::Format::GeoJson);
                }
                for f in formats {
                    match crate::archive::stage_sidecar(&dest, &ex.points, f) {
                        Ok(st) => sidecars.push((st.tmp, st.dest)),
                        Err(e) => {
                            for (tmp, _) in &sidecars {
                                crate::archive::discard(tmp);
                            }
                            return Err(CopyError::Archive(std::io::Error::other(e)));
                        }
                    }
                }
            }
            Some(ex)
        }
        Some(Err(e)) => {
            tracing::warn!("{}: GPS extraction failed: {e}", dest.display());
            None
        }
    };
    Ok(Copied {
        part,
        dest,
        bytes,
        hash,
        sidecars,
        gps,
    })
}

/// A file's size and XXH3-128 hash, read through.
pub(super) fn hash_file(path: &Path) -> std::io::Result<(u64, u128)> {
    let mut f = fs_err::File::open(path)?;
    let mut buf = vec![0u8; CHUNK];
    let mut h = Xxh3::new();
    let mut bytes = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(buf.get(..n).unwrap_or_default());
        bytes += n as u64;
    }
    Ok((bytes, h.digest128()))
}
