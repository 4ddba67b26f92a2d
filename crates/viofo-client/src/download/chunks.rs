//! The body's chunks held as they arrived (no copy) and written to the
//! `.part` by one vectored write off the async threads, once enough are
//! held or on flush.

use std::io::{IoSlice, Write};

use bytes::Bytes;

/// Chunks waiting for their write, and the file they go to (at its
/// current offset; a clone of the download's handle, sharing its offset).
pub(super) struct Chunks {
    held: Vec<Bytes>,
    len: usize,
    cap: usize,
    file: Option<fs_err::File>,
}

impl Chunks {
    /// Writes through `file` (already at the offset the bytes go to) once
    /// `cap` bytes are held.
    pub(super) async fn new(file: &fs_err::tokio::File, cap: usize) -> std::io::Result<Self> {
        let file = file.try_clone().await?.into_std().await;
        Ok(Chunks {
            held: Vec::new(),
            len: 0,
            cap,
            file: Some(file),
        })
    }

    /// Holds the chunk; writes what is held once `cap` bytes are.
    pub(super) async fn push(&mut self, chunk: Bytes) -> std::io::Result<()> {
        self.len += chunk.len();
        self.held.push(chunk);
        if self.len >= self.cap {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes every chunk held, in order.
    pub(super) async fn flush(&mut self) -> std::io::Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        self.len = 0;
        let Some(mut file) = self.file.take() else {
            return Err(std::io::Error::other("an earlier write did not finish"));
        };
        let (file, r) = tokio::task::spawn_blocking(move || {
            let r = write_all(&mut file, &held);
            (file, r)
        })
        .await
        .map_err(std::io::Error::other)?;
        self.file = Some(file);
        r
    }
}

/// `write_all` for several buffers (`Write::write_all_vectored` is not
/// stable).
fn write_all(file: &mut fs_err::File, chunks: &[Bytes]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut bufs = &mut slices[..];
    while !bufs.is_empty() {
        match file.write_vectored(bufs) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
