//! [`ClipReader`]: a clip's bytes read synchronously, whatever its body
//! (synthetic, in memory, or a file).

use bytes::Bytes;

use crate::card::{Body, Clip};

/// Reads a clip's bytes synchronously (for hashing in tests).
#[derive(Debug)]
pub struct ClipReader {
    inner: ReaderInner,
    pos: u64,
    size: u64,
}

#[derive(Debug)]
enum ReaderInner {
    Synth(viofo_gps::fixture::Clip),
    Bytes(Bytes),
    File(fs_err::File),
}

impl ClipReader {
    pub(crate) fn open(clip: &Clip) -> std::io::Result<Self> {
        let inner = match &clip.body {
            Body::Synth(s) => ReaderInner::Synth(s.at(clip.size)),
            Body::Bytes(b) => ReaderInner::Bytes(b.clone()),
            Body::File(p) => ReaderInner::File(fs_err::File::open(p)?),
        };
        Ok(Self {
            inner,
            pos: 0,
            size: clip.size,
        })
    }

    /// Total length this reader yields.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the clip is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
}

impl std::io::Read for ClipReader {
    // reads from `pos`; the file is kept positioned at `pos` by `seek`
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = usize::try_from(self.size.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        let Some(buf) = buf.get_mut(..want) else {
            return Ok(0);
        };
        let n = match &mut self.inner {
            ReaderInner::Synth(c) => c.read_at(self.pos, buf),
            ReaderInner::Bytes(b) => {
                let from = usize::try_from(self.pos).unwrap_or(usize::MAX);
                match b.get(from..from.saturating_add(want)) {
                    Some(src) => {
                        buf.copy_from_slice(src);
                        want
                    }
                    None => 0,
                }
            }
            ReaderInner::File(f) => f.read(buf)?,
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for ClipReader {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::End(d) => self.size.checked_add_signed(d),
            std::io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let Some(target) = target else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start",
            ));
        };
        if let ReaderInner::File(f) = &mut self.inner {
            f.seek(std::io::SeekFrom::Start(target))?;
        }
        self.pos = target;
        Ok(target)
    }
}
