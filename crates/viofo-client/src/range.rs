//! Ranged reads: one `Range: bytes=a-b` request for a slice of a clip, its
//! answer checked against exactly what was asked, served in the connection
//! limiter's lowest class; and [`RangeReader`], a clip with its size for
//! callers that read it piece by piece (GPS triage).

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_RANGE, HeaderMap, HeaderValue, RANGE};
use reqwest::{Method, StatusCode};

use crate::client::parse_content_range;
use crate::client::{Client, header_len};
use crate::error::{Error, Kind, Phase};
use crate::limiter::Class;
use crate::recording::Recording;

/// Largest slice one ranged read may ask for (16 MiB). A clip's `moov` is
/// tens of KB to a few MB and a GPS block 16 or 32 KiB; anything larger is
/// a caller's mistake or a hostile box size, refused before it is sent.
pub const MAX_RANGE_LEN: u64 = 16 << 20;

/// Longest piece of an untrusted header quoted in an error message.
const QUOTE_MAX: usize = 80;

impl Client {
    /// Reads `len` bytes of `rec` from `offset` with one
    /// `GET` + `Range: bytes=offset-(offset+len-1)`.
    ///
    /// The answer must be `206 Partial Content` with a `Content-Range` of
    /// exactly the bytes asked for and, when the listing's size is exact, a
    /// total equal to it; a `Content-Length`, if sent, must equal `len`;
    /// the body must be exactly `len` bytes (it is read with `len` as its
    /// cap, so a longer one is refused as soon as it runs over). Refusals:
    ///
    /// - `200`: the camera ignores `Range`; the body is **not** read (the
    ///   connection is closed at once) and the error says so
    ///   ([`Error::is_range_ignored`], not retryable);
    /// - a `Content-Range` for other bytes, or none: malformed, not
    ///   retryable; a total other than the known size: the clip changed
    ///   (still recording, replaced), retryable, read its size again;
    /// - a body that ends short, is reset or stalls for `idle_timeout`:
    ///   retryable ([`Error::is_retryable`]); one longer than `len`: not;
    /// - any other status as for downloads (`404` is
    ///   [`Error::is_not_found`], `416` not retryable, `5xx` retryable).
    ///
    /// `len` must be `1..=`[`MAX_RANGE_LEN`], and with an exact listed size
    /// the range must lie inside the file; otherwise the call fails with
    /// [`Error::is_invalid_input`] and nothing is sent. The URL is the
    /// recording's validated remote path, as for [`download`].
    ///
    /// One connection slot of the **range** class is held for the request:
    /// it waits while any download, listing, command or delete waits, and
    /// never takes the last free slot (see the crate docs). The whole read
    /// must finish within `command_timeout` once the slot is held. Dropping
    /// the future abandons the request and frees the slot.
    ///
    /// [`download`]: Client::download
    pub async fn read_range(&self, rec: &Recording, offset: u64, len: u64) -> Result<Bytes, Error> {
        self.read_range_sized(rec, offset, len, rec.size().exact(), false)
            .await
    }

    /// [`read_range`](Client::read_range) against a known exact `size`
    /// (`None`: unknown, no total or end-of-file check). With `head` (and
    /// `offset` 0), a camera that ignores `Range` gives the whole body's
    /// first `len` bytes, the rest left unread.
    pub(crate) async fn read_range_sized(
        &self,
        rec: &Recording,
        offset: u64,
        len: u64,
        size: Option<u64>,
        head: bool,
    ) -> Result<Bytes, Error> {
        let what = match offset.checked_add(len) {
            Some(end) if len > 0 => format!(
                "bytes {offset}-{} of {}",
                end.saturating_sub(1),
                rec.remote_path()
            ),
            _ => format!("{len} bytes from {offset} of {}", rec.remote_path()),
        };
        let last = last_byte(offset, len, size, &what)?;
        let range = HeaderValue::from_str(&format!("bytes={offset}-{last}"))
            .map_err(|e| Error::invalid_input(format!("{what}: {e}")))?;
        let target = crate::encode::path(rec.remote_path());
        let mut permit = self.inner.limiter.acquire(Class::Range).await;
        Self::within(self.inner.cfg.command_timeout, &what, async {
            let mut headers = HeaderMap::new();
            headers.insert(RANGE, range);
            let resp = self
                .send(&mut permit, Method::GET, &target, headers, &what)
                .await?;
            if head && offset == 0 && resp.status() == StatusCode::OK {
                return self.read_ranged_body(resp, len, &what, false).await;
            }
            check_answer(
                resp.status(),
                resp.headers()
                    .get(CONTENT_RANGE)
                    .map(|v| v.to_str().unwrap_or("(not text)")),
                header_len(&resp),
                (offset, last),
                size,
                &what,
            )?;
            self.read_ranged_body(resp, len, &what, true).await
        })
        .await
    }

    /// The first `len` bytes of `rec` (`1..=`[`MAX_RANGE_LEN`]), asked as a
    /// range; from a camera that ignores `Range` (200 and the whole clip),
    /// the body's first `len` bytes, the rest left unread (the connection
    /// is dropped, never reused).
    pub async fn read_head(&self, rec: &Recording, len: u64) -> Result<Bytes, Error> {
        self.read_range_sized(rec, 0, len, rec.size().exact(), true)
            .await
    }

    /// Reads the first `len` bytes of a body, never more into memory; each
    /// chunk within `idle_timeout`. With `exact`, a longer body is an error
    /// (`LongBody`); without, its rest is left unread.
    async fn read_ranged_body(
        &self,
        mut resp: reqwest::Response,
        len: u64,
        what: &str,
        exact: bool,
    ) -> Result<Bytes, Error> {
        let idle = self.inner.cfg.idle_timeout;
        // `len` is at most MAX_RANGE_LEN, checked before sending.
        let want = usize::try_from(len).unwrap_or(0);
        let mut buf = BytesMut::with_capacity(want);
        loop {
            let got = buf.len() as u64;
            if !exact && buf.len() >= want {
                return Ok(buf.freeze());
            }
            match tokio::time::timeout(idle, resp.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    if exact && got.saturating_add(chunk.len() as u64) > len {
                        return Err(Error::new(Kind::LongBody { expected: len }, what));
                    }
                    let take = (want - buf.len()).min(chunk.len());
                    buf.extend_from_slice(chunk.get(..take).unwrap_or_default());
                }
                Ok(Ok(None)) if got < len => {
                    return Err(Error::new(Kind::ShortBody { expected: len, got }, what));
                }
                Ok(Ok(None)) => return Ok(buf.freeze()),
                Ok(Err(e)) => {
                    return Err(Error::http(
                        e,
                        format!("{what}: after {got} of {len} bytes"),
                    ));
                }
                Err(_) => {
                    return Err(Error::timeout(
                        Phase::Idle,
                        format!("{what}: no data for {idle:?} after {got} of {len} bytes"),
                    ));
                }
            }
        }
    }

    /// A [`RangeReader`] for `rec`: its size is the listing's exact size,
    /// or, for a clip listed with a rounded size (HTML pages), the
    /// camera's answer to HEAD (sent in the range class, within
    /// `command_timeout`).
    pub async fn range_reader(&self, rec: &Recording) -> Result<RangeReader, Error> {
        let size = match rec.size().exact() {
            Some(n) => n,
            None => {
                let what = format!("HEAD {}", rec.remote_path());
                let mut permit = self.inner.limiter.acquire(Class::Range).await;
                Self::within(
                    self.inner.cfg.command_timeout,
                    &what,
                    self.head_unlimited(&mut permit, rec, &what),
                )
                .await?
            }
        };
        Ok(RangeReader::new(self.clone(), rec.clone(), size))
    }
}

/// One clip read piece by piece with [`Client::read_range`], against a size
/// the caller knows exactly (the XML listing's, or HEAD's): every answer's
/// `Content-Range` total must equal it and no read may run past it.
///
/// Keeps count of the requests sent and the bytes they asked for, for
/// budgets ("triage fetched 0.2 % of the clip"). Deliberately no trait:
/// a caller adapts it to whatever range-source trait it needs through the
/// inherent [`read_at`](RangeReader::read_at), so this crate depends on no
/// GPS crate.
#[derive(Clone, Debug)]
pub struct RangeReader {
    client: Client,
    rec: Recording,
    size: u64,
    requests: u64,
    bytes_requested: u64,
}

impl RangeReader {
    /// A reader of `rec`, whose exact size is `size`. Nothing is sent.
    pub fn new(client: Client, rec: Recording, size: u64) -> Self {
        RangeReader {
            client,
            rec,
            size,
            requests: 0,
            bytes_requested: 0,
        }
    }

    /// The clip's exact size, as given.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The clip being read.
    pub fn recording(&self) -> &Recording {
        &self.rec
    }

    /// Requests sent so far (failed ones included; reads refused before
    /// sending are not counted).
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Bytes those requests asked for.
    pub fn bytes_requested(&self) -> u64 {
        self.bytes_requested
    }

    /// `len` bytes from `offset`: [`Client::read_range`] checked against
    /// [`size`](RangeReader::size). A range reaching past the size is
    /// refused before sending ([`Error::is_invalid_input`]).
    pub async fn read_at(&mut self, offset: u64, len: u64) -> Result<Bytes, Error> {
        let read = self
            .client
            .read_range_sized(&self.rec, offset, len, Some(self.size), false)
            .await;
        // A read refused before sending is not counted.
        if !read.as_ref().is_err_and(Error::is_invalid_input) {
            self.requests += 1;
            self.bytes_requested = self.bytes_requested.saturating_add(len);
        }
        read
    }
}

/// The inclusive last byte of `len` bytes from `offset`, or why the read is
/// refused before anything is sent.
fn last_byte(offset: u64, len: u64, size: Option<u64>, what: &str) -> Result<u64, Error> {
    if len == 0 {
        return Err(Error::invalid_input(format!("{what}: empty range")));
    }
    if len > MAX_RANGE_LEN {
        return Err(Error::invalid_input(format!(
            "{what}: {len} bytes is over the {MAX_RANGE_LEN}-byte cap of one ranged read"
        )));
    }
    let Some(end) = offset.checked_add(len) else {
        return Err(Error::invalid_input(format!("{what}: range overflows")));
    };
    if let Some(size) = size
        && end > size
    {
        return Err(Error::invalid_input(format!(
            "{what}: past the end of the {size}-byte file"
        )));
    }
    Ok(end - 1)
}

/// Checks a ranged read's status and headers against the bytes asked for
/// (`first..=last`) and the known size.
fn check_answer(
    status: StatusCode,
    content_range: Option<&str>,
    content_length: Option<u64>,
    (first, last): (u64, u64),
    size: Option<u64>,
    what: &str,
) -> Result<(), Error> {
    match status {
        StatusCode::PARTIAL_CONTENT => {}
        StatusCode::OK => return Err(Error::new(Kind::RangeIgnored, what)),
        s => return Err(Error::new(Kind::Status(s.as_u16()), what)),
    }
    let Some((a, b, total)) = content_range.and_then(parse_content_range) else {
        return Err(Error::malformed(format!(
            "{what}: 206 without a usable Content-Range ({})",
            quote(content_range.unwrap_or("none"))
        )));
    };
    if (a, b) != (first, last) {
        return Err(Error::malformed(format!(
            "{what}: the camera sent bytes {a}-{b} instead"
        )));
    }
    if let Some(size) = size {
        match total {
            Some(t) if t == size => {}
            Some(t) => {
                return Err(Error::new(
                    Kind::SizeChanged(format!(
                        "the file was {size} bytes, the camera now says {t}"
                    )),
                    what,
                ));
            }
            None => {
                return Err(Error::malformed(format!(
                    "{what}: Content-Range without the file's size (expected {size})"
                )));
            }
        }
    }
    let len = last - first + 1;
    if let Some(cl) = content_length
        && cl != len
    {
        return Err(Error::malformed(format!(
            "{what}: Content-Length {cl} for a {len}-byte range"
        )));
    }
    Ok(())
}

/// An untrusted header value, cut to a printable length.
fn quote(v: &str) -> String {
    match v.char_indices().nth(QUOTE_MAX) {
        Some((i, _)) => format!("{:?}...", v.get(..i).unwrap_or_default()),
        None => format!("{v:?}"),
    }
}

#[cfg(test)]
mod tests;
