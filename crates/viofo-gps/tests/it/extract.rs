//! Fixture clips of every layout through both paths.

use time::macros::{datetime, offset};
use viofo_gps::fixture::{Block, ClipBuilder, FixPoint, Index, MoovAt, RawRecord, drive};
use viofo_gps::{Layout, Options, Source, extract_file};

use crate::both;

fn assert_track(pts: &[FixPoint], got: &[viofo_gps::Point]) {
    assert_eq!(pts.len(), got.len());
    for (want, p) in pts.iter().zip(got) {
        assert_eq!(p.time, want.time.assume_utc());
        assert!((p.lat - want.lat).abs() < 1e-5, "{} vs {}", p.lat, want.lat);
        assert!((p.lon - want.lon).abs() < 1e-5, "{} vs {}", p.lon, want.lon);
        assert!((p.speed_mps - want.speed_mps).abs() < 1e-3);
        assert!((p.course_deg - want.course_deg).abs() < 1e-3);
    }
}

#[test]
fn every_layout_index_and_scan_moov_front_and_end() {
    let pts = drive(
        datetime!(2025-12-24 11:03:24),
        12,
        -33.86,
        151.2,
        16.0,
        300.0,
    );
    for layout in [Layout::Type3, Layout::A119S, Layout::Variable] {
        for moov in [MoovAt::End, MoovAt::Front] {
            for (index, source) in [
                (Index::Normal, Source::Index),
                (Index::None, Source::Scan),
                (Index::Empty, Source::Scan),
            ] {
                let clip = ClipBuilder::new(layout)
                    .points(pts.clone())
                    .gap(3000)
                    .moov(moov)
                    .index(index)
                    .build();
                let x = both(&clip.to_vec(), &Options::default()).unwrap();
                assert_eq!(x.stats.source, source, "{layout:?} {moov:?} {index:?}");
                assert_eq!(x.stats.blocks_seen, 12);
                assert_eq!(x.stats.decoded, 12);
                assert_track(&pts, &x.points);
                let movie = x.movie.unwrap();
                assert_eq!(movie.creation_time, Some(pts[0].time.assume_utc()));
                assert_eq!(movie.duration, Some(time::Duration::seconds(12)));
            }
        }
    }
}

#[test]
fn a229_moov_reserve_and_large_mdat_on_disk() {
    let pts = drive(datetime!(2026-03-13 08:00:00), 20, 48.1, 11.5, 25.0, 45.0);
    let clip = ClipBuilder::new(Layout::Variable)
        .points(pts.clone())
        .moov(MoovAt::Front)
        .moov_reserve(65_536)
        .large_mdat(true)
        .total_len(3 << 20)
        .build();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2026_0313_080000_000001F.MP4");
    clip.write_sparse(&path).unwrap();
    let x = extract_file(&path, &Options::default()).unwrap();
    assert_track(&pts, &x.points);
    assert_eq!(x, both(&clip.to_vec(), &Options::default()).unwrap());
    let info = viofo_gps::clip_info(&path).unwrap().unwrap();
    assert_eq!(info.duration, Some(time::Duration::seconds(20)));
}

#[test]
fn variable_layout_is_not_read_at_the_type3_offset() {
    // The fixture plants a decoy "ANE" at 0x28 in variable blocks.
    let pts = drive(datetime!(2025-06-01 12:00:00), 48, 10.0, 10.0, 5.0, 0.0);
    let clip = ClipBuilder::new(Layout::Variable)
        .points(pts.clone())
        .build();
    let bytes = clip.to_vec();
    let offs: std::collections::BTreeSet<usize> = clip
        .block_offsets()
        .iter()
        .map(|&o| {
            let b = &bytes[o as usize..];
            (36..0x200).rev().find(|&i| &b[i..i + 3] == b"ANE").unwrap()
        })
        .collect();
    assert!(offs.len() > 10, "records sit at many offsets: {offs:?}");
    assert_track(&pts, &both(&bytes, &Options::default()).unwrap().points);
}

#[test]
fn no_fix_and_invalid_blocks_are_counted() {
    let good = drive(datetime!(2025-01-02 03:04:05), 4, 50.0, 8.0, 10.0, 0.0);
    let bad_date = RawRecord {
        month: 13,
        ..RawRecord::from(&good[0])
    };
    let bad_coord = RawRecord {
        lat_nmea: 9500.0,
        ..RawRecord::from(&good[0])
    };
    let blocks = vec![
        Block::NoFixZero,
        Block::Fix(good[0]),
        Block::NoFixV,
        Block::Fix(good[1]),
        Block::Raw(bad_date),
        Block::Fix(good[2]),
        Block::Raw(bad_coord),
        Block::Fix(good[3]),
    ];
    for layout in [Layout::Type3, Layout::A119S, Layout::Variable] {
        let clip = ClipBuilder::new(layout).blocks(blocks.clone()).build();
        let x = both(&clip.to_vec(), &Options::default()).unwrap();
        assert_eq!(x.stats.blocks_seen, 8);
        assert_eq!(x.stats.decoded, 4);
        assert_eq!(x.stats.skipped_no_fix, 2);
        assert_eq!(x.stats.dropped_invalid, 2);
        assert_track(&good, &x.points);
    }
}

#[test]
fn clip_without_gps_is_not_an_error() {
    let clip = ClipBuilder::new(Layout::Type3)
        .index(Index::None)
        .gap(50_000)
        .build();
    let x = both(&clip.to_vec(), &Options::default()).unwrap();
    assert!(x.points.is_empty());
    assert_eq!(x.stats.source, Source::None);
    assert_eq!(x.stats.blocks_seen, 0);
}

#[test]
fn utc_offset_shifts_local_camera_time() {
    let pts = drive(datetime!(2025-07-01 14:00:00), 3, 50.0, 8.0, 10.0, 0.0);
    let clip = ClipBuilder::new(Layout::Type3).points(pts).build();
    let opts = Options::default().utc_offset(offset!(+2));
    let x = both(&clip.to_vec(), &opts).unwrap();
    assert_eq!(x.points[0].time, datetime!(2025-07-01 12:00:00 UTC));
    assert_eq!(x.points[2].time, datetime!(2025-07-01 12:00:02 UTC));
    let west = both(
        &clip.to_vec(),
        &Options::default().utc_offset(offset!(-5:30)),
    )
    .unwrap();
    assert_eq!(west.points[0].time, datetime!(2025-07-01 19:30:00 UTC));
}

#[test]
fn spike_filter_on_by_default_and_can_be_turned_off() {
    let mut pts = drive(datetime!(2025-07-01 14:00:00), 10, 50.0, 8.0, 10.0, 0.0);
    pts[4].lat += 0.01; // ~1.1 km jump
    let clip = ClipBuilder::new(Layout::A119S).points(pts).build();
    let on = both(&clip.to_vec(), &Options::default()).unwrap();
    assert_eq!(on.points.len(), 9);
    assert_eq!(on.stats.dropped_spike, 1);
    let off = both(&clip.to_vec(), &Options::default().spike_filter(false)).unwrap();
    assert_eq!(off.points.len(), 10);
    assert_eq!(off.stats.dropped_spike, 0);
}

#[test]
fn index_pointing_nowhere_falls_back_to_scan() {
    let pts = drive(datetime!(2025-01-01 00:00:00), 5, 1.0, 1.0, 1.0, 1.0);
    let clip = ClipBuilder::new(Layout::Type3).points(pts.clone()).build();
    let mut bytes = clip.to_vec();
    // Rewrite every index entry: offset 0, past EOF, at ftyp, wrong size, into moov.
    let gps = bytes.windows(4).rposition(|w| w == b"gps ").unwrap();
    let entries = gps + 12;
    let len = bytes.len() as u32;
    let bad: [(u32, u32); 5] = [
        (0, 0x4000),
        (len + 10, 0x4000),
        (0, 32),
        (clip.block_offsets()[0] as u32, 0x8000),
        (gps as u32 - 4, 0x4000),
    ];
    for (i, (o, s)) in bad.iter().enumerate() {
        bytes[entries + 8 * i..entries + 8 * i + 4].copy_from_slice(&o.to_be_bytes());
        bytes[entries + 8 * i + 4..entries + 8 * i + 8].copy_from_slice(&s.to_be_bytes());
    }
    let x = both(&bytes, &Options::default()).unwrap();
    assert_eq!(x.stats.source, Source::Scan);
    assert_eq!(x.stats.bad_index_entries, 5);
    assert_track(&pts, &x.points);
}

#[test]
fn huge_index_count_is_clamped() {
    let pts = drive(datetime!(2025-01-01 00:00:00), 3, 1.0, 1.0, 1.0, 1.0);
    let mut bytes = ClipBuilder::new(Layout::Type3)
        .points(pts.clone())
        .build()
        .to_vec();
    let gps = bytes.windows(4).rposition(|w| w == b"gps ").unwrap();
    bytes[gps + 8..gps + 12].copy_from_slice(&u32::MAX.to_be_bytes());
    let x = both(&bytes, &Options::default()).unwrap();
    assert_eq!(x.stats.index_entries, 3);
    assert_track(&pts, &x.points);
}

#[test]
fn missing_file_is_an_io_error_with_the_path() {
    let e = extract_file("/nonexistent/clip.MP4", &Options::default()).unwrap_err();
    assert!(e.is_io() && e.is_not_found());
    assert!(e.to_string().contains("/nonexistent/clip.MP4"), "{e}");
}

#[test]
fn not_mp4() {
    for bytes in [&b""[..], b"\0\0\0", b"GIF89a..........", b"\0\0\0\x04ftyp"] {
        let e = both(bytes, &Options::default()).unwrap_err();
        assert!(e.is_not_mp4(), "{bytes:?}: {e}");
    }
}

#[test]
fn accelerometer_triple_through_both_paths() {
    let mut pts = drive(datetime!(2025-07-01 14:00:00), 4, 50.0, 8.0, 10.0, 0.0);
    pts[0].accel = Some([256, -512, 1024]);
    pts[1].accel = Some([1, 2, 3]); // "no sensor" as some firmware writes it
    pts[2].accel = Some([-64, 0, 300]);
    for layout in [Layout::Type3, Layout::A119S, Layout::Variable] {
        let clip = ClipBuilder::new(layout).points(pts.clone()).build();
        let x = both(&clip.to_vec(), &Options::default()).unwrap();
        let acc: Vec<_> = x.points.iter().map(|p| p.accel).collect();
        assert_eq!(
            acc,
            [
                Some([1.0, -2.0, 4.0]),
                None,
                Some([-0.25, 0.0, 300.0 / 256.0]),
                None
            ],
            "{layout:?}"
        );
    }
}
