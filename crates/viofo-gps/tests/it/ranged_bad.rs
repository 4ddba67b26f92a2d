//! Ranged extraction on bad input and bad sources: truncated and hostile
//! `moov`, boxes past the end, huge counts, the read cap, failing, short
//! and range-ignoring sources.

use std::io::Cursor;

use time::macros::datetime;
use viofo_gps::fixture::{ClipBuilder, ClipSource, Fault, MoovAt, drive};
use viofo_gps::{
    Error, Layout, MAX_MOOV_SIZE, MAX_TRIAGE_READS, NoTriage, Options, RangeSource, Triage,
    TriageMode, extract_ranged, extract_reader,
};

fn triage<S: RangeSource>(src: &mut S, mode: TriageMode) -> Result<Triage, Error> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(extract_ranged(src, mode, &Options::default()))
}

/// A file of `size` bytes: `prefix`, then zeros, plus an 8-byte box header
/// every `every` bytes from `from` on (type `free`, size `every`). Nothing
/// is held but the prefix; reads are counted.
struct Virtual {
    size: u64,
    prefix: Vec<u8>,
    from: u64,
    every: u64,
    reads: u64,
}

impl Virtual {
    fn new(size: u64, prefix: Vec<u8>) -> Self {
        Virtual {
            size,
            prefix,
            from: u64::MAX,
            every: 1,
            reads: 0,
        }
    }
}

impl RangeSource for Virtual {
    type Error = std::io::Error;
    fn size(&self) -> u64 {
        self.size
    }
    async fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, Self::Error> {
        assert!(len > 0 && offset + len <= self.size, "asked {offset}+{len}");
        assert!(len <= 64 << 20, "asked {len} bytes");
        self.reads += 1;
        let mut v = vec![0u8; len as usize];
        let p = self.prefix.len() as u64;
        if offset < p {
            let end = (offset + len).min(p);
            v[..(end - offset) as usize]
                .copy_from_slice(&self.prefix[offset as usize..end as usize]);
        }
        if self.from != u64::MAX {
            let mut hdr = [0u8; 8];
            hdr[..4].copy_from_slice(&(self.every as u32).to_be_bytes());
            hdr[4..].copy_from_slice(b"free");
            let first = offset.saturating_sub(self.from).div_ceil(self.every);
            let mut k = first;
            loop {
                let at = self.from + k * self.every;
                if at >= offset + len {
                    break;
                }
                for (j, &h) in hdr.iter().enumerate() {
                    if let Some(b) = v.get_mut((at + j as u64 - offset) as usize) {
                        *b = h;
                    }
                }
                k += 1;
            }
        }
        Ok(v)
    }
}

fn bx(typ: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(typ);
    v.extend_from_slice(body);
    v
}

fn ftyp() -> Vec<u8> {
    bx(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41")
}

fn small_clip(moov: MoovAt) -> viofo_gps::fixture::Clip {
    let pts = drive(datetime!(2025-12-24 11:03:24), 8, 10.0, 20.0, 5.0, 45.0);
    ClipBuilder::new(Layout::Type3)
        .points(pts)
        .gap(40_000)
        .moov(moov)
        .build()
}

fn bytes_source(bytes: Vec<u8>) -> Virtual {
    Virtual::new(bytes.len() as u64, bytes)
}

#[test]
fn a_truncated_moov_is_malformed() {
    let full = small_clip(MoovAt::End).to_vec();
    let cut = full[..full.len() - 10].to_vec();
    // The file path reads what there is; ranged triage refuses it.
    assert!(extract_reader(Cursor::new(&cut), &Options::default()).is_ok());
    let e = triage(&mut bytes_source(cut), TriageMode::Full).unwrap_err();
    assert!(e.is_malformed(), "{e}");
    assert!(e.to_string().contains("moov box at offset"), "{e}");
}

#[test]
fn boxes_past_the_end_and_smaller_than_their_header() {
    let mut f = ftyp();
    f.extend_from_slice(&(1u32 << 30).to_be_bytes());
    f.extend_from_slice(b"free");
    f.resize(1000, 0);
    let e = triage(&mut bytes_source(f), TriageMode::Full).unwrap_err();
    assert!(
        e.is_malformed() && e.to_string().contains("\"free\" box"),
        "{e}"
    );

    let mut f = ftyp();
    f.extend_from_slice(b"\0\0\0\x04free");
    f.resize(100, 0);
    let e = triage(&mut bytes_source(f), TriageMode::Full).unwrap_err();
    assert!(e.is_malformed() && e.to_string().contains("smaller than its own header"));

    // An mdat running past the end with no moov: a recording in progress.
    let mut f = ftyp();
    f.extend_from_slice(&(1u32 << 30).to_be_bytes());
    f.extend_from_slice(b"mdat");
    f.resize(1000, 0);
    let t = triage(&mut bytes_source(f), TriageMode::Full).unwrap();
    assert_eq!(t.no_triage(), Some(NoTriage::NoMoov));
}

#[test]
fn not_mp4_and_empty() {
    for bytes in [vec![], b"hello world, not a box".to_vec(), vec![0xff; 64]] {
        let e = triage(&mut bytes_source(bytes.clone()), TriageMode::Full).unwrap_err();
        assert!(e.is_not_mp4(), "{bytes:?}: {e}");
    }
}

#[test]
fn huge_index_count_and_bad_entries_match_the_file_path() {
    let clip = small_clip(MoovAt::Front);
    let mut b = clip.to_vec();
    let gps = b.windows(4).position(|w| w == b"gps ").unwrap();
    b[gps + 8..gps + 12].copy_from_slice(&u32::MAX.to_be_bytes()); // count
    b[gps + 12..gps + 16].copy_from_slice(&0u32.to_be_bytes()); // entry 0: offset 0
    b[gps + 20..gps + 24].copy_from_slice(&0xffff_fff0u32.to_be_bytes()); // past EOF
    let file = extract_reader(Cursor::new(&b), &Options::default()).unwrap();
    let mut src = bytes_source(b);
    let t = triage(&mut src, TriageMode::Full).unwrap();
    assert_eq!(t.track(), Some(&file));
    assert_eq!(file.stats.bad_index_entries, 2);
    assert_eq!(file.points.len(), 6);
    // One read for the front region, one per good block; none for the bad.
    assert_eq!(src.reads, t.reads);
    assert!(t.reads <= 1 + 6, "{} reads", t.reads);
}

#[test]
fn a_moov_over_the_cap_is_not_read() {
    let mut f = ftyp();
    let size = MAX_MOOV_SIZE + 1024;
    f.extend_from_slice(&u32::try_from(size + 8).unwrap().to_be_bytes());
    f.extend_from_slice(b"moov");
    let mut src = Virtual::new(size + 4096, f);
    let t = triage(&mut src, TriageMode::Full).unwrap();
    assert_eq!(t.no_triage(), Some(NoTriage::MoovTooLarge { size }));
    assert!(t.bytes_requested <= 256 << 10, "{}", t.bytes_requested);
}

#[test]
fn a_walk_needing_too_many_reads_stops_at_the_cap() {
    // ftyp, then 1 MiB `free` boxes forever: every header needs a read.
    let mut src = Virtual::new(1 << 40, ftyp());
    src.from = 32;
    src.every = 1 << 20;
    let e = triage(&mut src, TriageMode::skeleton()).unwrap_err();
    assert!(e.is_malformed() && e.to_string().contains("reads"), "{e}");
    assert_eq!(src.reads, MAX_TRIAGE_READS);
}

#[test]
fn zero_size_box_inside_moov_ends_cleanly() {
    // The input on which mp4 0.14's own moov walk never returns.
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    let mut body = bx(b"mvhd", &mvhd);
    body.extend_from_slice(b"\0\0\0\0junk");
    let mut f = ftyp();
    f.extend(bx(b"moov", &body));
    f.extend(bx(b"mdat", &[0; 64]));
    let t = triage(&mut bytes_source(f), TriageMode::Full).unwrap();
    assert_eq!(t.no_triage(), Some(NoTriage::NoGpsIndex));
    assert!(t.metadata.unwrap().tracks.is_empty());
}

#[test]
fn failing_short_and_range_ignoring_sources_are_errors() {
    for moov in [MoovAt::Front, MoovAt::End] {
        let clip = small_clip(moov);
        assert!(clip.len() > 300_000);
        for at in [0, 1, 3] {
            let mut src = ClipSource::new(clip.clone()).fault(Fault::FailAt(at));
            let e = triage(&mut src, TriageMode::Full).unwrap_err();
            assert!(e.is_source(), "{e}");
            let cause = std::error::Error::source(&e).unwrap().to_string();
            assert!(cause.contains("connection reset"), "{cause}");
            assert_eq!(src.requests.len() as u64, at + 1);
        }
        for fault in [Fault::Short, Fault::IgnoreRange] {
            let mut src = ClipSource::new(clip.clone()).fault(fault);
            let e = triage(&mut src, TriageMode::Full).unwrap_err();
            assert!(e.is_wrong_read_length(), "{fault:?}: {e}");
            assert!(e.to_string().contains("bytes for a read of"), "{e}");
        }
    }
}

#[test]
fn metadata_agrees_with_the_file_path() {
    for moov in [MoovAt::Front, MoovAt::End] {
        let clip = small_clip(moov);
        let t = triage(&mut ClipSource::new(clip.clone()), TriageMode::skeleton()).unwrap();
        let movie = t.track().unwrap().movie.unwrap();
        let md = t.metadata.unwrap();
        assert_eq!(md.creation_time, movie.creation_time);
        assert_eq!(md.duration, movie.duration);
        assert_eq!(md.duration, Some(time::Duration::seconds(8)));
        assert_eq!(
            md.creation_time,
            Some(datetime!(2025-12-24 11:03:24 UTC)),
            "the fixture writes the first fix's time"
        );
    }
}
