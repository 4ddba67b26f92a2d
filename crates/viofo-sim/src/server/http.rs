//! HTTP/1.1 on the wire: reading a request head, percent-decoding, the
//! `Range` header, and the reply type with its body sources.

use std::io;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::net::TcpStream;

/// A parsed request head.
#[derive(Debug)]
pub(super) struct Request {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) range: Option<String>,
}

pub(super) async fn read_head(stream: &mut TcpStream) -> io::Result<Option<Request>> {
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 2048];
    let end = loop {
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(tmp.get(..n).unwrap_or_default());
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buf.len() > 16 * 1024 {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target)) = (first.next(), first.next()) else {
        return Ok(None);
    };
    let range = lines.find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("range")
            .then(|| v.trim().to_owned())
    });
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        range,
    }))
}

pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response to write.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: BodySource,
    pub(super) start: u64,
    pub(super) len: u64,
    pub(super) content_length: bool,
    pub(super) clip: Option<String>,
    /// A download whose body ends at the end of this clip (by id).
    pub(super) completes: Option<u64>,
}

pub(super) enum BodySource {
    Bytes(Bytes),
    Synth(viofo_gps::fixture::Clip),
    File(std::path::PathBuf, Option<tokio::fs::File>),
}

impl BodySource {
    pub(super) async fn fill(&mut self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            BodySource::Bytes(b) => {
                let from = usize::try_from(pos).unwrap_or(usize::MAX);
                let src = b.get(from..).unwrap_or_default();
                let n = src.len().min(buf.len());
                if let (Some(d), Some(s)) = (buf.get_mut(..n), src.get(..n)) {
                    d.copy_from_slice(s);
                }
                Ok(n)
            }
            BodySource::Synth(c) => Ok(c.read_at(pos, buf)),
            BodySource::File(path, file) => {
                if file.is_none() {
                    let mut f = tokio::fs::File::open(&*path).await?;
                    f.seek(io::SeekFrom::Start(pos)).await?;
                    *file = Some(f);
                }
                let Some(f) = file else { return Ok(0) };
                let mut n = 0;
                while n < buf.len() {
                    let got = f.read(buf.get_mut(n..).unwrap_or_default()).await?;
                    if got == 0 {
                        break;
                    }
                    n += got;
                }
                Ok(n)
            }
        }
    }
}

impl Reply {
    pub(super) fn doc(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        let body: Bytes = body.into();
        Self {
            status,
            content_type,
            headers: Vec::new(),
            len: body.len() as u64,
            body: BodySource::Bytes(body),
            start: 0,
            content_length: true,
            clip: None,
            completes: None,
        }
    }

    pub(super) fn xml(body: String) -> Self {
        Self::doc(200, "text/xml", body)
    }

    pub(super) fn error(status: u16) -> Self {
        Self::doc(
            status,
            "text/html",
            format!("<html><body><h1>{status}</h1></body></html>\n"),
        )
    }
}

pub(super) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

pub(super) fn parse_range(h: &str) -> Option<(u64, Option<u64>)> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let start = a.trim().parse().ok()?;
    let end = if b.trim().is_empty() {
        None
    } else {
        Some(b.trim().parse().ok()?)
    };
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=100-"), Some((100, None)));
        assert_eq!(parse_range("bytes=1-5"), Some((1, Some(5))));
        assert_eq!(parse_range("bytes=-5"), None);
        assert_eq!(parse_range("bytes=1-2,4-5"), None);
        assert_eq!(parse_range("items=1-"), None);
    }
}
