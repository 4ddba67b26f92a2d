//! Ranged extraction (triage): the same points as the file path for every
//! fixture layout, the skeleton a subset, the byte budget, and bad input.

use std::io::Cursor;
use std::time::Duration;

use proptest::prelude::*;
use time::macros::datetime;
use viofo_gps::fixture::{Block, ClipBuilder, ClipSource, Filler, Index, MoovAt, drive};
use viofo_gps::{
    Error, Layout, MAX_TRIAGE_READS, NoTriage, Options, RangeSource, Source, Triage, TriageMode,
    extract_ranged, extract_reader,
};

/// Run a future whose source never waits (an in-memory one).
fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn triage<S: RangeSource>(src: &mut S, mode: TriageMode, opts: &Options) -> Result<Triage, Error> {
    run(extract_ranged(src, mode, opts))
}

/// Arbitrary bytes as a range source (answers exactly what is asked).
struct Bytes(Vec<u8>);

impl RangeSource for Bytes {
    type Error = std::io::Error;
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    async fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, Self::Error> {
        let (a, b) = (offset as usize, (offset + len) as usize);
        assert!(len > 0 && b <= self.0.len(), "asked {offset}+{len}");
        Ok(self.0[a..b].to_vec())
    }
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Type3),
        Just(Layout::A119S),
        Just(Layout::Variable)
    ]
}

prop_compose! {
    /// A fixture clip: any layout, 1..40 blocks (some without a fix),
    /// moov in front (with or without the A229's reserve) or at the end,
    /// 32- or 64-bit mdat, small gaps or a spread-out clip, and sometimes
    /// a view of it at another length (a recording in progress).
    fn clip()(
        layout in layout(),
        n in 1usize..40,
        nofix in proptest::collection::vec(any::<bool>(), 40),
        front in any::<bool>(),
        reserve in prop_oneof![Just(None), Just(Some(0x1_0000u32))],
        large in any::<bool>(),
        bsize in prop_oneof![Just(None), Just(Some(0x400u32)), Just(Some(0x4000))],
        spread in prop_oneof![Just(None), (1u64 << 20..8 << 20).prop_map(Some)],
        gap in 0u64..5000,
        cut in prop_oneof![Just(None), (0.3f64..1.2).prop_map(Some)],
    ) -> viofo_gps::fixture::Clip {
        let pts = drive(datetime!(2025-12-24 11:03:24), n, -33.86, 151.2, 16.0, 300.0);
        let blocks = pts.into_iter().zip(nofix).map(|(p, z)| {
            if z && n > 1 { Block::NoFixV } else { Block::Fix(p) }
        });
        let mut b = ClipBuilder::new(layout)
            .blocks(blocks)
            .gap(gap)
            .moov(if front { MoovAt::Front } else { MoovAt::End })
            .large_mdat(large);
        if let Some(r) = reserve { b = b.moov_reserve(r); }
        if let Some(s) = bsize { b = b.block_size(s); }
        if let Some(len) = spread { b = b.total_len(len); }
        let c = b.build();
        match cut {
            Some(f) => { let len = (c.len() as f64 * f) as u64; c.at_len(len) }
            None => c,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Full triage equals the file path on the same bytes; the skeleton's
    /// points are among the file path's (spike filter off) and include the
    /// first and last block's fix.
    #[test]
    fn ranged_full_equals_the_file_path_and_skeleton_is_a_subset(
        c in clip(),
        every in 1u64..30,
    ) {
        let bytes = c.to_vec();
        let file = extract_reader(Cursor::new(&bytes), &Options::default());
        let mut src = ClipSource::new(c.clone());
        let full = triage(&mut src, TriageMode::Full, &Options::default());
        let (file, full) = match (file, full) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(a), Err(b)) => {
                prop_assert!(a.is_not_mp4() && b.is_not_mp4(), "{a} / {b}");
                return Ok(());
            }
            // A clip cut inside its moov (a truncated copy): triage refuses
            // the moov, while the file path finds the fixes by scanning
            // mdat, which triage never does; the index was not used.
            (Ok(f), Err(b)) if b.is_malformed() && f.stats.source != Source::Index => {
                return Ok(());
            }
            (a, b) => panic!("file {a:?} vs ranged {b:?}"),
        };
        prop_assert_eq!(src.bytes, full.bytes_requested);
        prop_assert_eq!(src.requests.len() as u64, full.reads);
        match full.track() {
            Some(x) => {
                prop_assert_eq!(x, &file);
                prop_assert_eq!(file.stats.source, Source::Index);
            }
            None => {
                // No index blocks: the file path found none through the index either.
                prop_assert_ne!(file.stats.source, Source::Index);
                prop_assert!(c.block_offsets().is_empty() || file.movie.is_none());
            }
        }
        let raw = extract_reader(Cursor::new(&bytes), &Options::default().spike_filter(false)).unwrap();
        let mode = TriageMode::Skeleton { every: Duration::from_secs(every) };
        let sk = triage(&mut ClipSource::new(c.clone()), mode, &Options::default()).unwrap();
        prop_assert_eq!(sk.no_triage(), full.no_triage());
        prop_assert!(sk.bytes_requested <= full.bytes_requested);
        if let Some(x) = sk.track() {
            let mut rest = raw.points.iter();
            for p in &x.points {
                prop_assert!(rest.any(|q| q == p), "{p:?} not in the file path's points, in order");
            }
            prop_assert!(x.points.len() <= raw.points.len());
            prop_assert!(x.stats.blocks_seen <= sk.blocks_chosen);
            let fixes = |b: &Block| matches!(b, Block::Fix(_));
            if c.blocks().first().is_some_and(fixes) {
                prop_assert_eq!(x.points.first(), raw.points.first());
            }
            if c.blocks().last().is_some_and(fixes) {
                prop_assert_eq!(x.points.last(), raw.points.last());
            }
        }
    }

    /// Random bytes, and clips with bytes overwritten: never a panic, every
    /// read inside the file (`Bytes` checks), and the reads within the cap.
    #[test]
    fn hostile_bytes_end_cleanly(
        c in clip(),
        muts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        junk in proptest::collection::vec(any::<u8>(), 0..300),
        use_junk in any::<bool>(),
    ) {
        let mut bytes = if use_junk { junk } else { c.to_vec() };
        if !bytes.is_empty() {
            for (i, v) in muts {
                let at = i.index(bytes.len().min(70_000));
                bytes[at] = v;
            }
        }
        for mode in [TriageMode::Full, TriageMode::skeleton()] {
            let mut src = Bytes(bytes.clone());
            if let Ok(t) = triage(&mut src, mode, &Options::default()) {
                prop_assert!(t.reads <= MAX_TRIAGE_READS);
            }
        }
    }
}

fn big(layout: Layout, moov: MoovAt, large: bool, blocks: usize) -> viofo_gps::fixture::Clip {
    let pts = drive(
        datetime!(2025-12-24 11:03:24),
        blocks,
        52.52,
        13.40,
        14.0,
        90.0,
    );
    ClipBuilder::new(layout)
        .points(pts)
        .total_len(1 << 30)
        .moov(moov)
        .moov_reserve(65_536)
        .large_mdat(large)
        .filler(Filler::Zero)
        .build()
}

/// The budget on 1 GiB clips (also printed by `cargo bench
/// --bench triage`): skeleton ≤ 0.3 %, full ≤ 2 % of the clip's bytes.
#[test]
fn budget_on_one_gib_clips() {
    for layout in [Layout::Type3, Layout::A119S, Layout::Variable] {
        for moov in [MoovAt::Front, MoovAt::End] {
            let clip = big(layout, moov, layout == Layout::A119S, 180);
            let mut src = ClipSource::new(clip.clone());
            let full = triage(&mut src, TriageMode::Full, &Options::default()).unwrap();
            assert_eq!(full.track().unwrap().points.len(), 180);
            assert!(full.fraction_requested() <= 0.02, "{layout:?} {moov:?}");
            // One request per block plus two for the headers and moov.
            assert!(full.reads <= 180 + 3, "{} reads", full.reads);
            let mut src = ClipSource::new(clip);
            let sk = triage(&mut src, TriageMode::skeleton(), &Options::default()).unwrap();
            assert_eq!(sk.track().unwrap().points.len(), 19);
            assert!(sk.fraction_requested() <= 0.003, "{layout:?} {moov:?}");
            assert!(sk.reads <= 19 + 3, "{} reads", sk.reads);
        }
    }
}

#[test]
fn a_clip_without_an_index_has_no_triage_and_the_file_path_scans() {
    let pts = drive(datetime!(2025-06-01 10:00:00), 12, 48.0, 11.0, 20.0, 10.0);
    for (index, why) in [
        (Index::None, NoTriage::NoGpsIndex),
        (Index::Empty, NoTriage::EmptyIndex),
    ] {
        let clip = ClipBuilder::new(Layout::Variable)
            .points(pts.clone())
            .index(index)
            .build();
        let t = triage(
            &mut ClipSource::new(clip.clone()),
            TriageMode::Full,
            &Options::default(),
        )
        .unwrap();
        assert_eq!(t.no_triage(), Some(why));
        assert!(why.to_string().starts_with("no GPS triage: "), "{why}");
        assert!(t.metadata.is_some());
        let file = extract_reader(Cursor::new(clip.to_vec()), &Options::default()).unwrap();
        assert_eq!((file.stats.source, file.points.len()), (Source::Scan, 12));
    }
    // A camera writing moov at the end, still recording: no moov yet.
    let clip = ClipBuilder::new(Layout::Type3)
        .points(pts)
        .total_len(4 << 20)
        .build();
    let t = triage(
        &mut ClipSource::new(clip.at_len(3 << 20)),
        TriageMode::skeleton(),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(t.no_triage(), Some(NoTriage::NoMoov));
    assert_eq!(t.metadata, None);
    assert!(t.reads <= 2, "{} reads", t.reads);
}
