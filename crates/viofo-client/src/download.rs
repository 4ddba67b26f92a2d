//! Downloads: `.part` file, resume, size checks, atomic rename.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_RANGE, HeaderMap, HeaderValue, RANGE};
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::sync::CancellationToken;

use crate::client::parse_content_range;
use crate::client::{Client, header_len};
use crate::error::{Error, Kind, Phase};
use crate::limiter::Class;
use crate::recording::Recording;
use chunks::Chunks;

mod chunks;
mod options;
pub use options::{ChunkObserver, DownloadOptions, Downloaded, Progress, SizeSource, part_path};

const WRITE_BUFFER: usize = 1 << 20;
const REPLAY_CHUNK: usize = 1 << 20;
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// How much of a `.part`'s end is fetched again, and compared, before the
/// `.part` is resumed: it must be this clip's bytes, not another
/// recording's left under the same name (a card formatted mid-download),
/// nor bytes another writer left.
const OVERLAP: u64 = 64 * 1024;

struct Run<'o, 'a> {
    what: String,
    part: PathBuf,
    cancel: CancellationToken,
    observer: &'o mut dyn ChunkObserver,
    progress: Option<&'a mut (dyn FnMut(Progress) + Send)>,
    /// Leave the complete `.part` for the caller ([`DownloadOptions::staged`]).
    staged: bool,
}

/// Runs `fut` unless `cancel` fires first. (A free function: holding a
/// `&Run` across an await would make the download future `!Send`.)
async fn cancellable<T>(
    cancel: &CancellationToken,
    what: &str,
    fut: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Error::cancelled(what.to_owned())),
        r = fut => r,
    }
}

impl Run<'_, '_> {
    fn io(&self, e: std::io::Error) -> Error {
        Error::io(&self.part, e, self.what.clone())
    }

    /// Feeds the first `len` bytes of the `.part` to the observer.
    async fn replay(&mut self, file: &mut fs_err::tokio::File, len: u64) -> Result<(), Error> {
        file.seek(SeekFrom::Start(0))
            .await
            .map_err(|e| self.io(e))?;
        let mut buf = vec![0u8; REPLAY_CHUNK];
        let mut left = len;
        while left > 0 {
            if self.cancel.is_cancelled() {
                return Err(Error::cancelled(self.what.clone()));
            }
            let want = usize::try_from(left.min(REPLAY_CHUNK as u64)).unwrap_or(REPLAY_CHUNK);
            let Some(slot) = buf.get_mut(..want) else {
                break;
            };
            let n = file.read(slot).await.map_err(|e| self.io(e))?;
            if n == 0 {
                return Err(self.io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the .part file shrank while being replayed",
                )));
            }
            if let Some(read) = buf.get(..n) {
                self.observer.chunk(read);
            }
            left -= n as u64;
        }
        Ok(())
    }

    /// Drops the `.part`'s bytes and what the observer saw of them: the
    /// download starts over from byte 0.
    async fn start_over(&mut self, file: &mut fs_err::tokio::File) -> Result<(), Error> {
        file.set_len(0).await.map_err(|e| self.io(e))?;
        self.observer.reset();
        Ok(())
    }

    fn report(&mut self, p: Progress) {
        if let Some(f) = self.progress.as_mut() {
            f(p);
        }
    }
}

/// What a GET answered.
enum Answer {
    /// 206 from `have`; `total` from Content-Range if given.
    Partial { total: Option<u64> },
    /// 200: the whole file; Content-Length if given.
    Whole { len: Option<u64> },
    /// 416 to our Range: the `.part` does not fit the file.
    RangeRefused,
}

impl Client {
    /// Downloads `rec` to `dest` through `<dest>.part`.
    ///
    /// 1. The XML listing's exact size is the size (no HEAD: the GET's
    ///    Content-Length must equal it); with only an approximate (HTML)
    ///    size, HEAD gives it, and if HEAD fails the GET's Content-Length
    ///    must be present and the body must end cleanly at it.
    /// 2. An existing `.part` is resumed after its bytes are replayed into
    ///    the observer: its last 64 KiB are asked for again
    ///    (`Range: bytes=N-64Ki-`) and must be the camera's, else it holds
    ///    another recording's bytes (a card formatted mid-download, a name
    ///    reused) and is started over from byte 0; only then are the
    ///    missing bytes appended (one exactly as long costs just that
    ///    read). A `.part` longer than the expected size is discarded. If
    ///    the camera answers 200 instead of 206 the observer is reset and
    ///    the file rewritten from byte 0; a 416 restarts once without
    ///    `Range`.
    /// 3. A body shorter than expected is a retryable error and the
    ///    `.part` keeps what arrived (for the next resume); a longer one is
    ///    an error. Stalls fail after `idle_timeout`, cancellation as soon
    ///    as the token fires; both keep the `.part`.
    /// 4. On success the file is fsynced, renamed onto `dest` atomically
    ///    and the directory fsynced. A partial file never has `dest`'s
    ///    name.
    ///
    /// `dest`'s directory must exist. Build `dest` from
    /// [`Recording::file_name`], the only part of a recording safe to use
    /// as a path component. There is no internal retry beyond the Range
    /// fallbacks above: the caller retries when
    /// [`Error::is_retryable`] says so. One connection slot (normal class)
    /// is held for the HEAD (HTML sizes only) and again for the GET.
    pub async fn download(
        &self,
        rec: &Recording,
        dest: &Path,
        opts: DownloadOptions<'_>,
    ) -> Result<Downloaded, Error> {
        let started = Instant::now();
        let mut unit = ();
        let DownloadOptions {
            progress,
            observer,
            cancel,
            staged,
        } = opts;
        let mut run = Run {
            what: format!("download {} to {}", rec.remote_path(), dest.display()),
            part: part_path(dest)?,
            cancel,
            observer: match observer {
                Some(o) => o,
                None => &mut unit,
            },
            progress,
            staged,
        };
        if run.cancel.is_cancelled() {
            return Err(Error::cancelled(run.what));
        }
        run.observer.reset();

        let (expected, source) =
            cancellable(&run.cancel, &run.what, self.expected_size(rec, &run.what)).await?;
        let result = self
            .fetch(&mut run, rec, dest, expected, source, started)
            .await;
        if result.is_err()
            && let Ok(meta) = fs_err::tokio::metadata(&run.part).await
            && meta.len() == 0
        {
            // Nothing worth resuming (e.g. a 404): leave no litter.
            let _ = fs_err::tokio::remove_file(&run.part).await;
        }
        result
    }

    /// Opens the `.part`, resumes or restarts, streams, checks, renames.
    async fn fetch(
        &self,
        run: &mut Run<'_, '_>,
        rec: &Recording,
        dest: &Path,
        mut expected: Option<u64>,
        mut source: SizeSource,
        started: Instant,
    ) -> Result<Downloaded, Error> {
        let staged = run.staged;
        let mut file = fs_err::tokio::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&run.part)
            .await
            .map_err(|e| run.io(e))?;
        let mut have = file.metadata().await.map_err(|e| run.io(e))?.len();
        if let Some(exp) = expected
            && have > exp
        {
            tracing::warn!(part = %run.part.display(), have, expected = exp, "discarding a .part longer than the clip");
            file.set_len(0).await.map_err(|e| run.io(e))?;
            have = 0;
        }
        if have > 0 {
            run.replay(&mut file, have).await?;
        }
        let resumed_from;
        {
            let mut restarted = false;
            loop {
                // A `.part` is resumed from `have - overlap`: its last bytes
                // are fetched again and must match before any byte is
                // appended (a complete one costs that one small read).
                let overlap = have.min(OVERLAP);
                let from = have - overlap;
                let check = if overlap > 0 {
                    Some(
                        read_tail(&mut file, from, overlap)
                            .await
                            .map_err(|e| run.io(e))?,
                    )
                } else {
                    None
                };
                let mut permit = cancellable(&run.cancel, &run.what, async {
                    Ok(self.inner.limiter.acquire(Class::Normal).await)
                })
                .await?;
                let mut headers = HeaderMap::new();
                if have > 0 {
                    let v = HeaderValue::from_str(&format!("bytes={from}-"))
                        .map_err(|e| Error::invalid_input(format!("{}: {e}", run.what)))?;
                    headers.insert(RANGE, v);
                }
                let target = crate::encode::path(rec.remote_path());
                let resp = cancellable(
                    &run.cancel,
                    &run.what,
                    self.send(&mut permit, Method::GET, &target, headers, &run.what),
                )
                .await?;
                let answer = classify(&resp, have > 0, from, &run.what)?;
                let announced = match answer {
                    Answer::RangeRefused if !restarted => {
                        tracing::warn!(what = %run.what, have, "camera refused the Range; starting over");
                        drop(resp);
                        drop(permit);
                        run.start_over(&mut file).await?;
                        have = 0;
                        restarted = true;
                        continue;
                    }
                    Answer::RangeRefused => {
                        return Err(Error::new(Kind::Status(416), run.what.clone()));
                    }
                    Answer::Partial { total } => total,
                    Answer::Whole { len } => {
                        if have > 0 {
                            tracing::info!(what = %run.what, have, "camera ignored Range; restarting from byte 0");
                            run.start_over(&mut file).await?;
                            have = 0;
                        }
                        len
                    }
                };
                match (expected, announced) {
                    (Some(exp), Some(ann)) if exp != ann => {
                        // The file is not what HEAD/listing said (still
                        // growing, replaced): our bytes may belong to
                        // another version, so drop them.
                        file.set_len(0).await.map_err(|e| run.io(e))?;
                        return Err(Error::new(
                            Kind::SizeChanged(format!(
                                "expected {exp} bytes, the camera now announces {ann}"
                            )),
                            run.what.clone(),
                        ));
                    }
                    (None, Some(ann)) => {
                        expected = Some(ann);
                        source = SizeSource::ContentLength;
                    }
                    _ => {}
                }
                file.seek(SeekFrom::Start(have))
                    .await
                    .map_err(|e| run.io(e))?;
                let check = if have > 0 { check.as_deref() } else { None };
                let done = match self
                    .stream(run, resp, &mut file, have, expected, check)
                    .await
                {
                    Err(e) if e.is_resume_mismatch() && !restarted => {
                        tracing::warn!(
                            what = %run.what,
                            have,
                            "the .part does not end with the camera's bytes (another recording \
                             under this name?); starting over"
                        );
                        drop(permit);
                        run.start_over(&mut file).await?;
                        have = 0;
                        restarted = true;
                        continue;
                    }
                    r => r?,
                };
                resumed_from = have;
                drop(permit);
                let Some(exp) = expected else {
                    return Err(Error::new(
                        Kind::SizeUnknown(format!(
                            "{done} bytes arrived but neither HEAD, the listing nor the GET gave an exact size"
                        )),
                        run.what.clone(),
                    ));
                };
                if done < exp {
                    return Err(Error::new(
                        Kind::ShortBody {
                            expected: exp,
                            got: done,
                        },
                        run.what.clone(),
                    ));
                }
                break;
            }
        }
        let bytes = expected.unwrap_or(have).max(resumed_from);
        if !staged {
            file.sync_all().await.map_err(|e| run.io(e))?;
        }
        drop(file);
        if !staged {
            fs_err::tokio::rename(&run.part, dest)
                .await
                .map_err(|e| Error::io(dest, e, run.what.clone()))?;
            sync_dir(dest)
                .await
                .map_err(|e| Error::io(dest, e, run.what.clone()))?;
        }
        run.report(Progress {
            done: bytes,
            total: Some(bytes),
            bytes_per_sec: rate(bytes - resumed_from, started.elapsed()),
        });
        Ok(Downloaded {
            path: if staged {
                run.part.clone()
            } else {
                dest.to_path_buf()
            },
            staged,
            bytes,
            resumed_from,
            size_source: source,
            duration: started.elapsed(),
        })
    }

    /// The listing's exact size (XML) without a request: the GET's
    /// Content-Length must then equal it (else `SizeChanged`) and the body
    /// end at it. Otherwise (an HTML listing's rounded size) HEAD, else
    /// unknown (the GET's Content-Length decides). The camera closes its
    /// socket after each request: a HEAD is a TCP connection per clip.
    async fn expected_size(
        &self,
        rec: &Recording,
        what: &str,
    ) -> Result<(Option<u64>, SizeSource), Error> {
        if let Some(n) = rec.size().exact() {
            return Ok((Some(n), SizeSource::Listing));
        }
        let head_what = format!("HEAD {}", rec.remote_path());
        let head = {
            let mut permit = self.inner.limiter.acquire(Class::Normal).await;
            Self::within(
                self.inner.cfg.command_timeout,
                &head_what,
                self.head_unlimited(&mut permit, rec, &head_what),
            )
            .await
        };
        match head {
            Ok(n) => Ok((Some(n), SizeSource::Head)),
            Err(e) if e.is_offline() => Err(e),
            Err(e) => {
                tracing::warn!(error = %format_args!("{e:#}"), what, "HEAD failed; the GET's Content-Length decides");
                Ok((None, SizeSource::ContentLength))
            }
        }
    }

    /// Streams the body into the file from offset `have`; returns the file
    /// length reached. On any error the bytes received so far are flushed
    /// to the `.part` first.
    async fn stream(
        &self,
        run: &mut Run<'_, '_>,
        mut resp: reqwest::Response,
        file: &mut fs_err::tokio::File,
        have: u64,
        expected: Option<u64>,
        check: Option<&[u8]>,
    ) -> Result<u64, Error> {
        let idle = self.inner.cfg.idle_timeout;
        // The chunks are held as they came (no copy) and written by one
        // vectored write per `cap` bytes; a small clip holds no megabyte.
        let want = expected.map_or(WRITE_BUFFER as u64, |e| e.saturating_sub(have));
        let cap = usize::try_from(want)
            .unwrap_or(WRITE_BUFFER)
            .clamp(64 * 1024, WRITE_BUFFER);
        let mut out = Chunks::new(file, cap).await.map_err(|e| run.io(e))?;
        let mut done = have;
        // The bytes the body starts with must be these (the `.part`'s end,
        // asked for again): compared, neither written nor observed.
        let mut check = check.unwrap_or_default();
        let started = Instant::now();
        let mut last_report = started;
        let failure = loop {
            let next = tokio::select! {
                biased;
                () = run.cancel.cancelled() => break Error::cancelled(run.what.clone()),
                r = tokio::time::timeout(idle, resp.chunk()) => r,
            };
            let mut chunk = match next {
                Ok(Ok(Some(c))) => c,
                Ok(Ok(None)) if !check.is_empty() => {
                    break Error::new(
                        Kind::ShortBody {
                            expected: expected.unwrap_or(done),
                            got: done,
                        },
                        run.what.clone(),
                    );
                }
                Ok(Ok(None)) => {
                    out.flush().await.map_err(|e| run.io(e))?;
                    return Ok(done);
                }
                Ok(Err(e)) => break Error::http(e, run.what.clone()),
                Err(_) => {
                    break Error::timeout(
                        Phase::Idle,
                        format!("{}: no data for {idle:?}", run.what),
                    );
                }
            };
            if !check.is_empty() {
                let n = chunk.len().min(check.len());
                let (want, rest) = check.split_at(n);
                if chunk.get(..n) != Some(want) {
                    break Error::new(Kind::ResumeMismatch, run.what.clone());
                }
                check = rest;
                chunk = chunk.split_off(n);
                if chunk.is_empty() {
                    continue;
                }
            }
            let len = chunk.len() as u64;
            if let Some(exp) = expected
                && done + len > exp
            {
                break Error::new(Kind::LongBody { expected: exp }, run.what.clone());
            }
            run.observer.chunk(&chunk);
            if let Err(e) = out.push(chunk).await {
                // Keep what reached the disk; the observer saw this chunk
                // but will be reset and replayed on the next attempt.
                let _ = out.flush().await;
                return Err(run.io(e));
            }
            done += len;
            let now = Instant::now();
            if now.duration_since(last_report) >= PROGRESS_EVERY {
                last_report = now;
                run.report(Progress {
                    done,
                    total: expected,
                    bytes_per_sec: rate(done - have, now.duration_since(started)),
                });
            }
        };
        out.flush().await.map_err(|e| run.io(e))?;
        Err(failure)
    }
}

/// Reads the GET's status and headers.
/// `ranged`: a `Range: bytes={from}-` was sent.
fn classify(
    resp: &reqwest::Response,
    ranged: bool,
    from: u64,
    what: &str,
) -> Result<Answer, Error> {
    match resp.status() {
        StatusCode::OK => Ok(Answer::Whole {
            len: header_len(resp),
        }),
        StatusCode::PARTIAL_CONTENT if ranged => {
            let range = resp
                .headers()
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_content_range);
            match range {
                Some((start, _, total)) if start == from => {
                    let total = total.or_else(|| header_len(resp).map(|l| l + from));
                    Ok(Answer::Partial { total })
                }
                Some((start, _, _)) => Err(Error::malformed(format!(
                    "{what}: asked for bytes from {from}, got a range from {start}"
                ))),
                None => Err(Error::malformed(format!(
                    "{what}: 206 without a usable Content-Range"
                ))),
            }
        }
        StatusCode::RANGE_NOT_SATISFIABLE if ranged => Ok(Answer::RangeRefused),
        s => Err(Error::new(Kind::Status(s.as_u16()), what.to_owned())),
    }
}

/// The `len` bytes of `file` from `from` (the `.part`'s end, to compare
/// with the camera's).
async fn read_tail(
    file: &mut fs_err::tokio::File,
    from: u64,
    len: u64,
) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(from)).await?;
    let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
    file.read_exact(&mut buf).await?;
    Ok(buf)
}

fn rate(bytes: u64, elapsed: Duration) -> u64 {
    let ms = elapsed.as_millis().max(1);
    u64::try_from(u128::from(bytes) * 1000 / ms).unwrap_or(u64::MAX)
}

/// fsyncs the directory holding `path` so the rename is durable.
async fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        tokio::task::spawn_blocking(move || fs_err::File::open(&dir)?.sync_all())
            .await
            .map_err(std::io::Error::other)?
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
