//! Bad input: mutated, truncated and random bytes, any chunking.

use std::io::Cursor;

use proptest::prelude::*;
use time::macros::datetime;
use viofo_gps::fixture::{ClipBuilder, Index, MoovAt, drive};
use viofo_gps::{Error, Extraction, Layout, Options, StreamExtractor, extract_reader};

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Type3),
        Just(Layout::A119S),
        Just(Layout::Variable)
    ]
}

fn clip_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        layout(),
        0usize..8,
        0u64..600,
        any::<bool>(),
        0u8..3,
        any::<bool>(),
        prop_oneof![Just(0x100u32), Just(0x400), Just(0x4000)],
    )
        .prop_map(|(layout, n, gap, front, index, large, bsize)| {
            let pts = drive(datetime!(2025-05-05 05:05:05), n, 45.0, -73.0, 12.0, 200.0);
            ClipBuilder::new(layout)
                .points(pts)
                .gap(gap)
                .block_size(bsize)
                .moov(if front { MoovAt::Front } else { MoovAt::End })
                .index([Index::Normal, Index::None, Index::Empty][usize::from(index)])
                .large_mdat(large)
                .build()
                .to_vec()
        })
}

fn stream(bytes: &[u8], cuts: &[usize], opts: &Options) -> Result<Extraction, Error> {
    let mut s = StreamExtractor::new(*opts);
    let mut at = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    for c in cuts.into_iter().chain([bytes.len()]) {
        s.push(&bytes[at..c.max(at)]);
        at = c.max(at);
    }
    s.finish()
}

fn agree(bytes: &[u8], cuts: &[usize]) {
    let opts = Options::default();
    let file = extract_reader(Cursor::new(bytes), &opts);
    let streamed = stream(bytes, cuts, &opts);
    match (&file, &streamed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.is_not_mp4(), b.is_not_mp4()),
        (a, b) => panic!("file {a:?} vs stream {b:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_chunking_gives_the_file_result(bytes in clip_bytes(), cuts in prop::collection::vec(any::<usize>(), 0..40)) {
        let file = extract_reader(Cursor::new(&bytes), &Options::default()).unwrap();
        let streamed = stream(&bytes, &cuts, &Options::default()).unwrap();
        prop_assert_eq!(&file, &streamed);
        prop_assert_eq!(file.stats.dropped_invalid, 0);
    }

    #[test]
    fn mutated_clips_never_panic_and_paths_agree(
        bytes in clip_bytes(),
        muts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        trunc in prop::option::of(any::<prop::sample::Index>()),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let mut bytes = bytes;
        for (i, b) in muts {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        if let Some(t) = trunc {
            bytes.truncate(t.index(bytes.len() + 1));
        }
        agree(&bytes, &cuts);
    }

    #[test]
    fn header_fields_mutated(
        bytes in clip_bytes(),
        which in any::<prop::sample::Index>(),
        word in prop_oneof![Just(0u32), Just(1), Just(7), Just(8), Just(u32::MAX), any::<u32>()],
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        // Overwrite a size field (of a box, an index count/entry or a block).
        let mut bytes = bytes;
        let spots: Vec<usize> = bytes
            .windows(4)
            .enumerate()
            .filter(|(_, w)| matches!(*w, b"ftyp" | b"moov" | b"mvhd" | b"mdat" | b"free" | b"gps "))
            .flat_map(|(i, _)| [i.saturating_sub(4), i + 4, i + 8, i + 12])
            .filter(|&i| i + 4 <= bytes.len())
            .collect();
        let at = spots[which.index(spots.len())];
        bytes[at..at + 4].copy_from_slice(&word.to_be_bytes());
        agree(&bytes, &cuts);
    }

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000), cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        agree(&bytes, &cuts);
    }

    #[test]
    fn random_bytes_after_an_ftyp(tail in prop::collection::vec(any::<u8>(), 0..3000), cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        let mut bytes = b"\0\0\0\x10ftypisom\0\0\0\0".to_vec();
        bytes.extend(tail);
        agree(&bytes, &cuts);
    }
}

#[test]
fn zero_size_and_64_bit_boxes() {
    let pts = drive(datetime!(2025-05-05 05:05:05), 4, 45.0, -73.0, 12.0, 200.0);
    let clip = ClipBuilder::new(Layout::Variable)
        .points(pts)
        .moov(MoovAt::Front)
        .build();
    let bytes = clip.to_vec();
    let m = clip.mdat_range().start as usize;
    // mdat size 0 = "to end of file": the blocks are still found.
    let mut z = bytes.clone();
    z[m..m + 4].copy_from_slice(&0u32.to_be_bytes());
    let x = crate::both(&z, &Options::default()).unwrap();
    assert_eq!(x.points.len(), 4);
    // 64-bit size smaller than its header: the walk stops, no blocks.
    let mut small = bytes[..m].to_vec();
    small.extend_from_slice(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x08");
    small.extend_from_slice(&bytes[m + 8..]);
    let x = crate::both(&small, &Options::default()).unwrap();
    assert_eq!(x.stats.blocks_seen, 0);
    // 64-bit size far past EOF: blocks inside the present bytes still count.
    let mut big = bytes[..m].to_vec();
    big.extend_from_slice(b"\0\0\0\x01mdat\x7f\0\0\0\0\0\0\0");
    big.extend_from_slice(&bytes[m + 8..]);
    let x = crate::both(&big, &Options::default()).unwrap();
    // The moov is in front, so every indexed offset is now 8 bytes early:
    // the index points nowhere and the scan finds the blocks.
    assert_eq!(x.stats.bad_index_entries, 4);
    assert_eq!(x.stats.source, viofo_gps::Source::Scan);
    assert_eq!(x.points.len(), 4);
}

#[test]
fn many_tiny_boxes_terminate() {
    let mut bytes = b"\0\0\0\x08ftyp".to_vec();
    for _ in 0..20_000 {
        bytes.extend_from_slice(b"\0\0\0\x08free");
    }
    let x = crate::both(&bytes, &Options::default()).unwrap();
    assert_eq!(x.stats.blocks_seen, 0);
}

#[test]
fn top_level_box_walk_is_capped() {
    use viofo_gps::MAX_TOP_LEVEL_BOXES;
    let pts = drive(datetime!(2025-05-05 05:05:05), 3, 45.0, -73.0, 12.0, 200.0);
    let clip = ClipBuilder::new(Layout::Type3)
        .points(pts)
        .moov(MoovAt::Front)
        .build()
        .to_vec();
    // ftyp, then `pad` tiny boxes, then the rest of the clip (moov, mdat).
    let ftyp_len = u32::from_be_bytes(clip[..4].try_into().unwrap()) as usize;
    let with_padding = |pad: usize| {
        let mut b = clip[..ftyp_len].to_vec();
        for _ in 0..pad {
            b.extend_from_slice(b"\0\0\0\x08free");
        }
        b.extend_from_slice(&clip[ftyp_len..]);
        b
    };
    // Just under the cap: the clip after the padding is still read.
    let x = crate::both(&with_padding(MAX_TOP_LEVEL_BOXES - 3), &Options::default()).unwrap();
    assert_eq!(x.points.len(), 3);
    // Past it: the walk stops inside the padding (both paths alike).
    let x = crate::both(&with_padding(MAX_TOP_LEVEL_BOXES), &Options::default()).unwrap();
    assert_eq!(x.stats.blocks_seen, 0);
    assert!(x.movie.is_none());
}

#[test]
fn retention_cap_bounds_candidate_blocks_in_both_paths() {
    use viofo_gps::{MAX_RETAINED_BLOCKS, Source};
    // An index-less clip whose mdat is nothing but minimal GPS boxes.
    let n = MAX_RETAINED_BLOCKS + 1000;
    let mut bytes = b"\0\0\0\x10ftypisom\0\0\0\0".to_vec();
    bytes.extend_from_slice(&(8 + 12 * n as u32).to_be_bytes());
    bytes.extend_from_slice(b"mdat");
    for _ in 0..n {
        bytes.extend_from_slice(b"\0\0\0\x0cfreeGPS ");
    }
    let x = crate::both(&bytes, &Options::default()).unwrap();
    assert_eq!(x.stats.source, Source::Scan);
    assert_eq!(x.stats.blocks_seen, MAX_RETAINED_BLOCKS as u64);
    assert_eq!(x.stats.skipped_no_fix, MAX_RETAINED_BLOCKS as u64);
    assert_eq!(x.stats.retention_cap_hits, 1000);
    assert!(x.points.is_empty());
}
