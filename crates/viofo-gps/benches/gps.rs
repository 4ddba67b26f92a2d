//! Criterion benches: block decoding, file-path extraction on a 1 GB
//! sparse clip, streaming throughput. See docs/PERFORMANCE.md.
#![allow(
    clippy::print_stderr,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    missing_docs
)]

use std::hint::black_box;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::macros::datetime;
use viofo_gps::fixture::{Block, ClipBuilder, Filler, MoovAt, drive, encode_block};
use viofo_gps::{Layout, Options, StreamExtractor, decode_block, extract_file, extract_reader};

fn decode(c: &mut Criterion) {
    let pts = drive(datetime!(2025-12-24 11:03:24), 1, 52.52, 13.40, 14.0, 90.0);
    let mut g = c.benchmark_group("decode_block");
    g.throughput(Throughput::Elements(1));
    for (name, layout, size) in [
        ("type3_0x4000", Layout::Type3, 0x4000),
        ("a119s_0x8000", Layout::A119S, 0x8000),
        ("variable_0x8000", Layout::Variable, 0x8000),
    ] {
        let block = encode_block(layout, &Block::Fix(pts[0]), size, 5);
        g.bench_function(name, |b| b.iter(|| decode_block(black_box(&block))));
    }
    let zero = encode_block(Layout::Type3, &Block::NoFixZero, 0x4000, 0);
    g.bench_function("nofix_zero_0x4000", |b| {
        b.iter(|| decode_block(black_box(&zero)))
    });
    g.finish();
}

struct Counting<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// A 1 GiB sparse clip with 180 blocks in /tmp (created once).
fn big_clip(layout: Layout, name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(name);
    let pts = drive(
        datetime!(2025-12-24 11:03:24),
        180,
        52.52,
        13.40,
        14.0,
        90.0,
    );
    let moov = if layout == Layout::Variable {
        MoovAt::Front
    } else {
        MoovAt::End
    };
    let clip = ClipBuilder::new(layout)
        .points(pts)
        .total_len(1 << 30)
        .moov(moov)
        .filler(Filler::Zero)
        .build();
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(clip.len()) {
        clip.write_sparse(&path).unwrap();
    }
    path
}

fn file_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("extract_file_1GiB_180_blocks");
    for (name, layout) in [("type3", Layout::Type3), ("variable", Layout::Variable)] {
        let path = big_clip(layout, &format!("viofo-gps-bench-{name}.MP4"));
        let mut r = Counting {
            inner: std::fs::File::open(&path).unwrap(),
            bytes: 0,
        };
        let x = extract_reader(&mut r, &Options::default()).unwrap();
        assert_eq!(x.points.len(), 180);
        eprintln!(
            "{name}: 1 GiB clip, {} points, {} bytes read",
            x.points.len(),
            r.bytes
        );
        g.bench_function(name, |b| {
            b.iter(|| extract_file(black_box(&path), &Options::default()).unwrap())
        });
    }
    g.finish();
}

fn streaming(c: &mut Criterion) {
    let pts = drive(datetime!(2025-12-24 11:03:24), 60, 52.52, 13.40, 14.0, 90.0);
    let clip = ClipBuilder::new(Layout::Variable)
        .points(pts)
        .total_len(64 << 20)
        .build();
    let bytes = clip.to_vec();
    // Real video is high-entropy over all byte values (the fixture's
    // filler avoids ASCII, which flatters the substring search): the
    // same clip with the filler between blocks replaced by full-range
    // pseudo-random bytes.
    let mut noisy = bytes.clone();
    let mdat = clip.mdat_range();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut blocks = clip.block_offsets().iter().peekable();
    let mut p = mdat.start + 16;
    while p < mdat.end {
        if let Some(&&b) = blocks.peek()
            && p >= b
        {
            p = b + u64::from(clip.block_size());
            blocks.next();
            continue;
        }
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        noisy[p as usize] = (state >> 24) as u8;
        p += 1;
    }
    let mut g = c.benchmark_group("stream_64MiB_64KiB_chunks");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.sample_size(20);
    for (name, data) in [
        ("variable_moov_end", &bytes),
        ("variable_moov_end_random_filler", &noisy),
    ] {
        let mut s = StreamExtractor::new(Options::default());
        s.push(data);
        assert_eq!(s.finish().unwrap().points.len(), 60, "{name}");
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut s = StreamExtractor::new(Options::default());
                for chunk in data.chunks(64 << 10) {
                    s.push(black_box(chunk));
                }
                s.finish().unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decode, file_path, streaming);
criterion_main!(benches);
