//! Archived files served read-only: a clip, its GPS sidecar or a journey's
//! GPX, found by its store row id (never by a path from the URL), opened
//! only when it lies inside the archive of a camera this server shows, and
//! sent whole or by one byte range (`Range: bytes=…`), streamed.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
use tokio::sync::mpsc;

use super::routes::{Resp, boxed, text};

/// Bytes read and sent at a time.
const CHUNK: usize = 64 * 1024;

/// A body fed by a reading task, chunk by chunk.
struct Streamed(mpsc::Receiver<std::io::Result<Bytes>>);

impl Body for Streamed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|c| c.map(|r| r.map(Frame::data)))
    }
}

/// A byte range asked for, resolved against the file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// The whole file (no `Range`, or one not understood: ignored, as
    /// RFC 9110 allows).
    Whole,
    /// `start..=end`.
    Part(u64, u64),
    /// No byte of it is in the file (416).
    Unsatisfiable,
}

/// Reads one `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`) against a
/// file of `len` bytes. Several ranges are answered with the whole file.
pub(crate) fn wanted(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let num = |s: &str| s.trim().parse::<u64>().ok();
    match (a.trim().is_empty(), num(a), num(b)) {
        // Suffix: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || len == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(len.saturating_sub(n), len - 1)
            }
        }
        (false, Some(start), end) if b.trim().is_empty() || end.is_some() => {
            if start >= len {
                return Wanted::Unsatisfiable;
            }
            let end = end.map_or(len - 1, |e| e.min(len - 1));
            if end < start {
                Wanted::Whole
            } else {
                Wanted::Part(start, end)
            }
        }
        _ => Wanted::Whole,
    }
}

/// Is `path` a regular file inside `root` once every link is resolved?
/// Returns the resolved path.
pub(crate) fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    let root = std::fs::canonicalize(root).ok()?;
    let real = std::fs::canonicalize(path).ok()?;
    (real.starts_with(&root) && real != root && real.is_file()).then_some(real)
}

/// A file name safe for `Content-Disposition` (anything but letters,
/// digits and `._-` becomes `_`).
fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Answers `GET`/`HEAD` of the file at `real` (already checked by
/// [`inside`]), named `name` for the download.
pub(crate) async fn send(real: PathBuf, name: &str, headers: &HeaderMap) -> Resp {
    let Ok(mut file) = tokio::fs::File::open(&real).await else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    let Ok(len) = file.metadata().await.map(|m| m.len()) else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, end) = match wanted(range, len) {
        Wanted::Whole => (StatusCode::OK, 0, len.checked_sub(1)),
        Wanted::Part(a, b) => (StatusCode::PARTIAL_CONTENT, a, Some(b)),
        Wanted::Unsatisfiable => {
            let mut r = text(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let count = end.map_or(0, |e| e + 1 - start);
    let (tx, rx) = mpsc::channel(4);
    if count > 0 {
        tokio::spawn(async move {
            if let Err(e) = file.seek(std::io::SeekFrom::Start(start)).await {
                let _ = tx.send(Err(e)).await;
                return;
            }
            let mut left = count;
            while left > 0 {
                let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
                let mut buf = vec![0u8; want];
                match file.read(&mut buf).await {
                    // The file shrank under us: end the body short (the
                    // client sees fewer bytes than announced).
                    Ok(0) => return,
                    Ok(n) => {
                        buf.truncate(n);
                        left -= n as u64;
                        if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
    }
    let mut r = Response::new(boxed(Streamed(rx)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    let kind = if name.to_ascii_lowercase().ends_with(".gpx") {
        "application/gpx+xml"
    } else {
        "video/mp4"
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{}\"", safe_name(name))) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Some(e) = end
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{e}/{len}"))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let w = |r: &str| wanted(Some(r), 1000);
        assert_eq!(wanted(None, 1000), Wanted::Whole);
        assert_eq!(w("bytes=0-99"), Wanted::Part(0, 99));
        assert_eq!(w("bytes=900-"), Wanted::Part(900, 999));
        assert_eq!(w("bytes=-100"), Wanted::Part(900, 999));
        assert_eq!(w("bytes=-5000"), Wanted::Part(0, 999));
        assert_eq!(w("bytes=990-2000"), Wanted::Part(990, 999));
        assert_eq!(w("bytes=1000-"), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=-0"), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=0-1,5-9"), Wanted::Whole);
        assert_eq!(w("bytes=9-1"), Wanted::Whole);
        assert_eq!(w("items=0-1"), Wanted::Whole);
        assert_eq!(w("bytes=x-1"), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
    }

    #[test]
    fn only_regular_files_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("archive");
        std::fs::create_dir_all(root.join("day")).unwrap();
        std::fs::write(root.join("day/a.MP4"), b"x").unwrap();
        std::fs::write(d.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(d.path().join("secret"), root.join("day/link.MP4")).unwrap();
        assert!(inside(&root, &root.join("day/a.MP4")).is_some());
        assert!(inside(&root, &root.join("day/../day/a.MP4")).is_some());
        assert!(inside(&root, &root.join("../secret")).is_none());
        assert!(inside(&root, &root.join("day/link.MP4")).is_none());
        assert!(inside(&root, &root.join("day")).is_none());
        assert!(inside(&root, &root.join("day/missing.MP4")).is_none());
        assert_eq!(safe_name("a\"b\r\n.MP4"), "a_b__.MP4");
    }
}
