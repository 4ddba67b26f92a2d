//! Make big sparse fixture clips and time extraction (used by
//! docs/PERFORMANCE-gps.md and the exiftool comparison).
//!
//! ```text
//! cargo run --release -p viofo-gps --example gps_clip -- make /tmp/clip.MP4 1073741824 180 type3|a119s|variable
//! cargo run --release -p viofo-gps --example gps_clip -- extract /tmp/clip.MP4 [repeat]
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{Read, Seek, SeekFrom};
use std::time::Instant;

use time::macros::datetime;
use viofo_gps::fixture::{ClipBuilder, Filler, MoovAt, drive};
use viofo_gps::{Layout, Options, extract_reader};

/// Counts bytes read and read calls.
struct Counting<R> {
    inner: R,
    bytes: u64,
    reads: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        self.reads += 1;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["make", path, size, blocks, layout] => {
            let layout = match *layout {
                "type3" => Layout::Type3,
                "a119s" => Layout::A119S,
                _ => Layout::Variable,
            };
            let pts = drive(
                datetime!(2025-12-24 11:03:24),
                blocks.parse()?,
                52.52,
                13.40,
                14.0,
                90.0,
            );
            let front = if layout == Layout::Variable {
                MoovAt::Front
            } else {
                MoovAt::End
            };
            let clip = ClipBuilder::new(layout)
                .points(pts)
                .total_len(size.parse()?)
                .moov(front)
                .filler(Filler::Zero)
                .build();
            clip.write_sparse(std::path::Path::new(path))?;
            println!(
                "wrote {path}: {} bytes, {} blocks",
                clip.len(),
                clip.block_offsets().len()
            );
        }
        ["extract", path, rest @ ..] => {
            let repeat: u32 = rest.first().map_or(Ok(1), |r| r.parse())?;
            let mut best = f64::MAX;
            let mut last = None;
            for _ in 0..repeat {
                let start = Instant::now();
                let mut r = Counting {
                    inner: std::fs::File::open(path)?,
                    bytes: 0,
                    reads: 0,
                };
                let x = extract_reader(&mut r, &Options::default())?;
                best = best.min(start.elapsed().as_secs_f64());
                last = Some((x.points.len(), r.bytes, r.reads));
            }
            if let Some((points, bytes, reads)) = last {
                println!(
                    "{path}: {points} points, {bytes} bytes read in {reads} reads, best of {repeat}: {:.3} ms",
                    best * 1e3
                );
            }
        }
        _ => eprintln!(
            "usage: gps_clip make PATH SIZE BLOCKS type3|a119s|variable | gps_clip extract PATH [REPEAT]"
        ),
    }
    Ok(())
}
