//! What a download is given and gives back: the byte observer, progress
//! reports, the options, the result, and the `.part` path beside a
//! destination.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

#[cfg(doc)]
use crate::client::Client;
use crate::error::Error;

/// Sees a download's bytes as they arrive, e.g. to feed a streaming GPS
/// extractor so a clip is never read twice.
///
/// Contract: after the last [`reset`](ChunkObserver::reset) of a
/// successful [`Client::download`], the observer has been given the file's
/// bytes in order from byte 0, exactly once. `download` calls `reset`
/// when it starts; when it resumes a `.part` it first replays the bytes
/// already on disk (a local read, only on resume), then the network bytes;
/// when the camera ignores `Range` it calls `reset` again and starts over.
/// After a failed download the observer holds an unfinished prefix: a later
/// `download` of the same clip resets and replays it.
///
/// Both methods are called inline on the download's task, between socket
/// reads: they must be cheap and must not block.
pub trait ChunkObserver: Send {
    /// Forget everything seen so far; the next chunk is byte 0.
    fn reset(&mut self);
    /// The next bytes of the file.
    fn chunk(&mut self, bytes: &[u8]);
}

/// The no-op observer.
impl ChunkObserver for () {
    fn reset(&mut self) {}
    fn chunk(&mut self, _bytes: &[u8]) {}
}

/// A progress report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Bytes of the file present so far (resumed prefix included).
    pub done: u64,
    /// Expected total, when known.
    pub total: Option<u64>,
    /// Network rate of this transfer so far, bytes per second.
    pub bytes_per_sec: u64,
}

/// Options for [`Client::download`]. All optional.
#[derive(Default)]
pub struct DownloadOptions<'a> {
    pub(super) progress: Option<&'a mut (dyn FnMut(Progress) + Send)>,
    pub(super) observer: Option<&'a mut dyn ChunkObserver>,
    pub(super) cancel: CancellationToken,
    pub(super) staged: bool,
}

impl fmt::Debug for DownloadOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("progress", &self.progress.is_some())
            .field("observer", &self.observer.is_some())
            .field("cancel", &self.cancel)
            .field("staged", &self.staged)
            .finish()
    }
}

impl<'a> DownloadOptions<'a> {
    /// No progress, no observer, never cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Call `f` with progress: at most every 100 ms while bytes flow, and
    /// once at the end. Called inline; must not block.
    pub fn progress(mut self, f: &'a mut (dyn FnMut(Progress) + Send)) -> Self {
        self.progress = Some(f);
        self
    }
    /// Feed every byte of the file to `o` (see [`ChunkObserver`]).
    pub fn observer(mut self, o: &'a mut dyn ChunkObserver) -> Self {
        self.observer = Some(o);
        self
    }
    /// Stop promptly when `token` is cancelled (also while waiting for a
    /// connection slot or a chunk). The `.part` file keeps what arrived.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }
    /// Leave the complete file as `<dest>.part`, neither synced nor
    /// renamed ([`Downloaded::staged`]): the caller makes it durable and
    /// gives it its final name, so that many small files finished close
    /// together share one flush of the disk. Until then the file is a
    /// `.part` like any other, resumed (without a request, when complete)
    /// by the next download of the same clip.
    pub fn staged(mut self) -> Self {
        self.staged = true;
        self
    }
}

/// Where the size a download was checked against came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeSource {
    /// The camera's answer to HEAD (the listing's size was approximate).
    Head,
    /// The exact size in the XML listing (no HEAD sent; the GET's
    /// Content-Length, when given, equalled it).
    Listing,
    /// The Content-Length (or Content-Range total) of the GET itself
    /// (the listing's size was approximate and HEAD failed).
    ContentLength,
}

/// A finished download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Downloaded {
    /// The destination, now holding the complete file; with
    /// [`DownloadOptions::staged`], the complete `.part` beside it.
    pub path: PathBuf,
    /// The file is complete at [`path`](Self::path) but not yet synced nor
    /// renamed onto the destination ([`DownloadOptions::staged`]).
    pub staged: bool,
    /// The file's size.
    pub bytes: u64,
    /// Bytes taken from an existing `.part` (0 for a fresh download or
    /// when the camera ignored `Range`).
    pub resumed_from: u64,
    /// What the size was checked against.
    pub size_source: SizeSource,
    /// Wall time of the call.
    pub duration: Duration,
}

/// `<dest>.part`, beside `dest`.
pub fn part_path(dest: &Path) -> Result<PathBuf, Error> {
    let name = dest.file_name().ok_or_else(|| {
        Error::invalid_input(format!("destination {} has no file name", dest.display()))
    })?;
    let mut part = name.to_os_string();
    part.push(".part");
    Ok(dest.with_file_name(part))
}
