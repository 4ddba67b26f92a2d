//! Integration tests for viofo-gps (one binary; see the submodules).
#![allow(clippy::cast_possible_truncation, clippy::indexing_slicing)]

mod extract;
mod output;
mod ranged;
mod ranged_bad;
mod robustness;

use std::io::Cursor;

use viofo_gps::{Error, Extraction, Options, StreamExtractor, extract_reader};

/// Extract through the file path and through the streaming path with a
/// few chunkings; assert they agree and return the result.
pub(crate) fn both(bytes: &[u8], opts: &Options) -> Result<Extraction, Error> {
    let file = extract_reader(Cursor::new(bytes), opts);
    for chunk in [1usize, 7, 4096, 65_537, usize::MAX] {
        let mut s = StreamExtractor::new(*opts);
        for c in bytes.chunks(chunk.min(bytes.len().max(1))) {
            s.push(c);
        }
        let streamed = s.finish();
        match (&file, &streamed) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "chunk size {chunk}"),
            (Err(a), Err(b)) => assert_eq!(a.is_not_mp4(), b.is_not_mp4(), "{a} vs {b}"),
            (a, b) => panic!("file {a:?} vs stream {b:?} (chunk {chunk})"),
        }
    }
    file
}
