use crate::{get, xml_value};
use viofo_sim::{ClipDef, ClipSpec, Folder, Sim, SimConfig};

#[tokio::test]
async fn synthetic_names_pairs_parking_and_locked() {
    let sim = Sim::start(
        SimConfig::default().with_clips(
            ClipSpec::synthetic(4)
                .size(100_000)
                .rear(true)
                .parking_every(2)
                .locked_every(4),
        ),
    )
    .await
    .unwrap();
    let names: Vec<String> = sim.clips().into_iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "2025_1224_120000_000001F.MP4",
            "2025_1224_120000_000001R.MP4",
            "2025_1224_120100_000002PF.MP4",
            "2025_1224_120100_000002PR.MP4",
            "2025_1224_120200_000003F.MP4",
            "2025_1224_120200_000003R.MP4",
            "2025_1224_120300_000004PF.MP4",
            "2025_1224_120300_000004PR.MP4",
        ]
    );
    let c = sim.clip("2025_1224_120100_000002PF.MP4").unwrap();
    assert_eq!(c.folder, Folder::Parking);
    assert!(c.parking && !c.locked);
    assert_eq!(
        c.fpath,
        "A:\\DCIM\\Movie\\Parking\\2025_1224_120100_000002PF.MP4"
    );
    let l = sim.clip("2025_1224_120300_000004PF.MP4").unwrap();
    assert!(l.locked);
    assert_eq!(l.url_path, "/DCIM/Movie/RO/2025_1224_120300_000004PF.MP4");
    // front and rear of one slot differ in content
    assert!(sim.clip_bytes(&names[0]) != sim.clip_bytes(&names[1]));
}

#[tokio::test]
async fn same_seed_same_bytes_and_sizes_within_range() {
    let cfg = || {
        SimConfig::default()
            .seed(9)
            .with_clips(ClipSpec::synthetic(5).size_range(100_000, 200_000))
    };
    let a = Sim::start(cfg()).await.unwrap();
    let b = Sim::start(cfg()).await.unwrap();
    let sizes: Vec<u64> = a.clips().iter().map(|c| c.size).collect();
    assert!(sizes.iter().all(|s| (100_000..=200_000).contains(s)));
    assert!(sizes.iter().any(|s| *s != sizes[0]));
    for c in a.clips() {
        assert!(a.clip_bytes(&c.name) == b.clip_bytes(&c.name));
    }
}

#[tokio::test]
async fn clips_carry_gps_in_the_variable_offset_layout() {
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(4_000_000)))
        .await
        .unwrap();
    let c = &sim.clips()[1];
    let bytes = sim.clip_bytes(&c.name).unwrap();
    let points = sim.gps_points(&c.name).unwrap();
    assert_eq!(points.len(), 60);
    assert_eq!(points[0].time, c.start);
    let mut triples = std::collections::HashSet::new();
    for (k, p) in points.iter().enumerate() {
        let off = p.box_offset as usize;
        assert_eq!(&bytes[off + 4..off + 12], b"freeGPS ", "block {k}");
        let block = &bytes[off..off + 0x8000];
        let a = block
            .windows(3)
            .rposition(|w| {
                w[0] == b'A' && matches!(w[1], b'N' | b'S') && matches!(w[2], b'E' | b'W')
            })
            .unwrap();
        triples.insert(a);
        assert_eq!(block[a + 1] == b'S', p.lat < 0.0);
        assert_eq!(block[a + 2] == b'W', p.lon < 0.0);
    }
    assert!(
        triples.len() > 3,
        "the record offset must vary between blocks"
    );
    // consecutive fixes are about `speed` apart (1 s at 20-60 knots => 10-31 m)
    let d = (points[1].lat - points[0].lat)
        .hypot((points[1].lon - points[0].lon) * points[0].lat.to_radians().cos());
    let metres = d * 111_320.0;
    assert!((5.0..40.0).contains(&metres), "{metres}");
    // the moov holds the index: the file is an MP4 with ftyp then moov
    assert_eq!(&bytes[4..8], b"ftyp");
    let no_gps = Sim::start(
        SimConfig::default().with_clips(ClipSpec::synthetic(1).size(4_000_000).gps(false)),
    )
    .await
    .unwrap();
    let name = no_gps.clips()[0].name.clone();
    assert!(no_gps.gps_points(&name).unwrap().is_empty());
    assert!(
        !no_gps
            .clip_bytes(&name)
            .unwrap()
            .windows(4)
            .any(|w| w == b"gps ")
    );
}

#[tokio::test]
async fn serves_a_card_folder_and_never_deletes_files() {
    let dir = tempfile::tempdir().unwrap();
    let movie = dir.path().join("DCIM/Movie");
    std::fs::create_dir_all(movie.join("RO")).unwrap();
    std::fs::create_dir_all(movie.join("Parking")).unwrap();
    let a: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(movie.join("2025_0101_080000_000010F.MP4"), &a).unwrap();
    std::fs::write(movie.join("RO/2025_0101_080100_000011F.MP4"), b"locked").unwrap();
    std::fs::write(
        movie.join("Parking/2025_0101_090000_000012PF.MP4"),
        b"parked",
    )
    .unwrap();
    let sim = Sim::start(
        SimConfig::default()
            .serve_dir(dir.path())
            .delete_delay(std::time::Duration::ZERO),
    )
    .await
    .unwrap();
    let clips = sim.clips();
    assert_eq!(clips.len(), 3);
    assert!(clips.iter().any(|c| c.locked && c.size == 6));
    let r = crate::request(
        sim.addr(),
        "GET",
        "/DCIM/Movie/2025_0101_080000_000010F.MP4",
        &[("Range", "bytes=1000-")],
    )
    .await;
    assert!(r.body == a[1000..]);
    let doc = get(
        sim.addr(),
        "/?custom=1&cmd=4003&str=/DCIM/Movie/2025_0101_080000_000010F.MP4",
    )
    .await
    .text();
    assert_eq!(xml_value(&doc, "Status").unwrap(), "0");
    assert_eq!(sim.clips().len(), 2);
    assert!(movie.join("2025_0101_080000_000010F.MP4").exists());
}

#[tokio::test]
async fn lock_moves_to_ro_and_the_old_path_goes_stale() {
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(10_000)))
        .await
        .unwrap();
    let c = sim.clips()[0].clone();
    assert!(sim.lock_clip(&c.name));
    assert!(!sim.lock_clip("nope.MP4"));
    assert_eq!(get(sim.addr(), &c.url_path).await.status, 404);
    let now = sim.clip(&c.name).unwrap();
    assert!(now.locked);
    assert!(get(sim.addr(), &now.url_path).await.body == sim.clip_bytes(&c.name).unwrap());
    let doc = get(sim.addr(), "/?custom=1&cmd=3015").await.text();
    assert_eq!(xml_value(&doc, "ATTR").unwrap(), "33");
}

#[tokio::test]
async fn explicit_clips_and_duplicates() {
    let sim = Sim::start(SimConfig::default().with_clip(ClipDef::from_bytes(
        "20260827204333_000029.MP4",
        Folder::Movie,
        &b"tiny"[..],
    )))
    .await
    .unwrap();
    let c = sim.clip("20260827204333_000029.MP4").unwrap();
    assert_eq!(c.start, time::macros::datetime!(2026-08-27 20:43:33));
    assert_eq!(get(sim.addr(), &c.url_path).await.body, b"tiny");
    sim.add_clip(ClipDef::synthetic(
        "2026_0827_210000_000030F.MP4",
        Folder::Movie,
        5000,
    ))
    .unwrap();
    assert!(
        sim.add_clip(ClipDef::synthetic(
            "2026_0827_210000_000030F.MP4",
            Folder::Ro,
            5
        ))
        .unwrap_err()
        .is_config()
    );
    assert!(sim.remove_clip("2026_0827_210000_000030F.MP4"));
    assert!(sim.deleted().is_empty());
    let err = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1))
            .with_clips(ClipSpec::synthetic(1)),
    )
    .await
    .unwrap_err();
    assert!(err.is_config());
}

#[tokio::test]
async fn viofo_gps_decodes_what_the_sim_says_it_wrote() {
    let sim = Sim::start(
        SimConfig::default()
            .seed(3)
            .with_clips(ClipSpec::synthetic(2).size(3_000_000).rear(true)),
    )
    .await
    .unwrap();
    for c in sim.clips() {
        let expected = sim.gps_points(&c.name).unwrap();
        assert!(expected.len() > 30, "{}", expected.len());
        let reader = sim.clip_reader(&c.name).unwrap();
        let got = viofo_gps::extract_reader(reader, &viofo_gps::Options::default()).unwrap();
        assert_eq!(got.stats.source, viofo_gps::Source::Index);
        assert_eq!(got.points.len(), expected.len(), "{:?}", got.stats);
        for (g, e) in got.points.iter().zip(&expected) {
            assert_eq!(
                g.time.unix_timestamp(),
                e.time.assume_utc().unix_timestamp()
            );
            assert!((g.lat - e.lat).abs() < 1e-6, "{} vs {}", g.lat, e.lat);
            assert!((g.lon - e.lon).abs() < 1e-6, "{} vs {}", g.lon, e.lon);
        }
    }
}

/// Clips dated relative to a given "now" end an hour before it (issue 21):
/// a retention by age keeps them; `recent` uses the clock.
#[tokio::test]
async fn clips_dated_relative_to_now_end_an_hour_before_it() {
    let now = time::macros::datetime!(2026-12-07 17:45:31);
    let sim =
        Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(3).ending_before(now)))
            .await
            .unwrap();
    let mut names: Vec<String> = sim.clips().into_iter().map(|c| c.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "2026_1207_164200_000001F.MP4",
            "2026_1207_164300_000002F.MP4",
            "2026_1207_164400_000003F.MP4"
        ]
    );
    sim.shutdown().await;
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).recent()))
        .await
        .unwrap();
    let today = time::OffsetDateTime::now_utc();
    let stamp = |d: time::OffsetDateTime| {
        format!("{:04}_{:02}{:02}_", d.year(), u8::from(d.month()), d.day())
    };
    // Today's or yesterday's date (just after midnight), never the fixed one.
    let days = [stamp(today), stamp(today - time::Duration::DAY)];
    for c in sim.clips() {
        assert!(
            days.iter().any(|d| c.name.starts_with(d.as_str())),
            "{}",
            c.name
        );
    }
    sim.shutdown().await;
}
