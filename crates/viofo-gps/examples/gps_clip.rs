//! Make big sparse fixture clips and time extraction (used by
//! docs/PERFORMANCE.md and the exiftool comparison).
//!
//! ```text
//! cargo run --release -p viofo-gps --example gps_clip -- make /tmp/clip.MP4 1073741824 180 type3|a119s|variable [accel]
//! cargo run --release -p viofo-gps --example gps_clip -- extract /tmp/clip.MP4 [repeat]
//! cargo run --release -p viofo-gps --example gps_clip -- points /tmp/clip.MP4...
//! cargo run --release -p viofo-gps --example gps_clip -- gpx /tmp/clip.MP4 [+HH:MM]
//! ```
//!
//! `extract` times the file path and counts the bytes it reads; `points`
//! prints one fix per line (`time lat lon`, unfiltered, like `exiftool -ee
//! -n`); `gpx` writes the GPX sidecar document to stdout (camera UTC
//! offset optional).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Instant;

use time::macros::datetime;
use viofo_gps::fixture::{ClipBuilder, Filler, MoovAt, drive};
use viofo_gps::{Layout, Options, extract_file, extract_reader, write_gpx};

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
        ["make", path, size, blocks, layout, extra @ ..] => {
            let layout = match *layout {
                "type3" => Layout::Type3,
                "a119s" => Layout::A119S,
                _ => Layout::Variable,
            };
            let mut pts = drive(
                datetime!(2025-12-24 11:03:24),
                blocks.parse()?,
                52.52,
                13.40,
                14.0,
                90.0,
            );
            if extra.contains(&"accel") {
                for (i, p) in pts.iter_mut().enumerate() {
                    let i = i32::try_from(i % 64).unwrap_or(0);
                    p.accel = Some([256 + i, -128, 64 - i]);
                }
            }
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
        ["points", paths @ ..] => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for path in paths {
                let x = extract_file(path, &Options::default().spike_filter(false))?;
                for p in &x.points {
                    writeln!(out, "{} {:.7} {:.7}", p.time.unix_timestamp(), p.lat, p.lon)?;
                }
                eprintln!("{path}: {:?}", x.stats);
            }
            out.flush()?;
        }
        ["gpx", path, rest @ ..] => {
            let mut opts = Options::default();
            if let Some(off) = rest.first() {
                let fmt = time::macros::format_description!("[offset_hour]:[offset_minute]");
                opts = opts.utc_offset(time::UtcOffset::parse(off, &fmt)?);
            }
            let x = extract_file(path, &opts)?;
            let name = std::path::Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            write_gpx(&x.points, name.as_deref(), std::io::stdout().lock())?;
        }
        _ => eprintln!(
            "usage: gps_clip make PATH SIZE BLOCKS type3|a119s|variable [accel] | extract PATH [REPEAT] | points PATH... | gpx PATH [+HH:MM]"
        ),
    }
    Ok(())
}
