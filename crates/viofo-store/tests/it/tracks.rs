//! GPS tracks per clip (issue 12): a triage track before the download, the
//! file track replacing it and never replaced by one, "no track" records,
//! the bounds, and the next clip still to triage.

use std::path::Path;

use viofo_store::{
    Filter, GpsSummary, MAX_NO_TRACK_LEN, MAX_TRACK_POINTS, Policy, SetTrack, Store, Track,
    TrackPoint, TrackSource,
};

use crate::common::{CAM, T0, clip, fixture, id_of};

fn points(n: usize, lat0: f64) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| TrackPoint {
            time_ms: T0 + i64::try_from(i).unwrap() * 1_000,
            lat: lat0 + i as f64 * 1e-4,
            lon: 13.4 - i as f64 * 1e-4,
            speed_mps: 10.0 + i as f32,
            course_deg: 90.0,
        })
        .collect()
}

fn track(source: TrackSource, pts: Vec<TrackPoint>, size: u64) -> Track {
    Track {
        source,
        mode: (source == TrackSource::Triage).then(|| "skeleton 10s".to_owned()),
        clip_size: size,
        summary: GpsSummary {
            points: u32::try_from(pts.len()).unwrap(),
            first_fix_ms: pts.first().map(|p| p.time_ms),
            last_fix_ms: pts.last().map(|p| p.time_ms),
            distance_m: 123.5,
            bbox: Some([13.3, 52.5, 13.4, 52.6]),
            max_speed_mps: 20.0,
        },
        points: pts,
        no_track: None,
    }
}

#[tokio::test]
async fn a_file_track_replaces_a_triage_track_and_never_the_other_way() {
    let f = fixture().await;
    let s = &f.store;
    let c = clip(1, 0);
    s.reconcile(CAM, std::slice::from_ref(&c), |_| None)
        .await
        .unwrap();
    let id = id_of(s, &c.name).await;
    assert_eq!(s.track(id).await.unwrap(), None);

    let triage = track(TrackSource::Triage, points(7, 52.5), c.size);
    let r = s.set_track(id, triage.clone()).await.unwrap();
    assert_eq!(r, SetTrack::Stored);
    let row = s.track(id).await.unwrap().expect("stored");
    assert_eq!(row.clip_id, id);
    assert_eq!(row.track, triage, "read back exactly");
    assert!(row.stored_at > 0);

    // A newer triage replaces a triage.
    let triage2 = track(TrackSource::Triage, points(3, 52.0), c.size);
    assert_eq!(
        s.set_track(id, triage2.clone()).await.unwrap(),
        SetTrack::Stored
    );
    assert_eq!(s.track(id).await.unwrap().unwrap().track, triage2);

    // The downloaded file's track replaces it ...
    s.start_download(id, None).await.unwrap();
    s.finish_download(id, Path::new("/a/1.mp4"), c.size)
        .await
        .unwrap();
    let file = track(TrackSource::File, points(60, 52.5), c.size);
    assert_eq!(
        s.set_track(id, file.clone()).await.unwrap(),
        SetTrack::Stored
    );
    assert_eq!(s.track(id).await.unwrap().unwrap().track, file);

    // ... and a late triage never replaces it.
    let late = track(TrackSource::Triage, points(2, 10.0), c.size);
    assert_eq!(
        s.set_track(id, late).await.unwrap(),
        SetTrack::KeptFileTrack
    );
    assert_eq!(s.track(id).await.unwrap().unwrap().track, file);

    // A file track replaces a file track (a clip downloaded again).
    let file2 = track(TrackSource::File, points(61, 52.4), c.size);
    assert_eq!(
        s.set_track(id, file2.clone()).await.unwrap(),
        SetTrack::Stored
    );
    assert_eq!(s.track(id).await.unwrap().unwrap().track, file2);

    // Survives a reopen (the migration ran once).
    let path = s.path().to_path_buf();
    s.close().await.unwrap();
    let s = Store::open(viofo_store::StoreOptions::at(path))
        .await
        .unwrap();
    assert_eq!(s.track(id).await.unwrap().unwrap().track, file2);
    s.close().await.unwrap();
}

#[tokio::test]
async fn no_track_records_bounds_and_unknown_clips() {
    let f = fixture().await;
    let s = &f.store;
    let c = clip(1, 0);
    s.reconcile(CAM, std::slice::from_ref(&c), |_| None)
        .await
        .unwrap();
    let id = id_of(s, &c.name).await;

    let long = "x".repeat(MAX_NO_TRACK_LEN + 50);
    let none = Track::none(TrackSource::Triage, Some("full".into()), c.size, long);
    assert!(!none.found());
    assert_eq!(s.set_track(id, none).await.unwrap(), SetTrack::Stored);
    let row = s.track(id).await.unwrap().unwrap();
    assert!(!row.track.found() && row.track.points.is_empty());
    assert_eq!(row.track.no_track.unwrap().len(), MAX_NO_TRACK_LEN, "cut");
    assert_eq!(row.track.summary.points, 0);
    assert_eq!(row.track.summary.bbox, None);

    // More fixes than the cap: refused before anything is written.
    let big = track(
        TrackSource::Triage,
        points(MAX_TRACK_POINTS + 1, 50.0),
        c.size,
    );
    let e = s.set_track(id, big).await.unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    assert!(!s.track(id).await.unwrap().unwrap().track.found(), "kept");
    // Exactly the cap is fine.
    let max = track(TrackSource::Triage, points(MAX_TRACK_POINTS, 50.0), c.size);
    s.set_track(id, max).await.unwrap();
    assert_eq!(
        s.track(id).await.unwrap().unwrap().track.points.len(),
        MAX_TRACK_POINTS
    );

    let e = s
        .set_track(
            viofo_store::ClipId(999),
            track(TrackSource::File, vec![], 1),
        )
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(s.track(viofo_store::ClipId(999)).await.unwrap(), None);
}

#[tokio::test]
async fn next_untriaged_follows_the_queue_order_and_skips_tracked_clips() {
    let f = fixture().await;
    let s = &f.store;
    // Listed newest first on purpose: the order is the queue's.
    let clips: Vec<_> = (1..=4).rev().map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &clips, |_| None).await.unwrap();
    let ids = [
        id_of(s, &clips[3].name).await, // seq 1, oldest
        id_of(s, &clips[2].name).await,
        id_of(s, &clips[1].name).await,
        id_of(s, &clips[0].name).await, // seq 4, newest
    ];
    let next = async |policy: Policy, exclude: &[viofo_store::ClipId]| {
        let filter = Filter {
            exclude,
            ..Filter::default()
        };
        s.next_untriaged_at(CAM, policy, &filter, T0)
            .await
            .unwrap()
            .map(|r| r.id)
    };
    // With nothing tracked, the same clip as the download queue's.
    for policy in [Policy::OldestFirst, Policy::NewestFirst] {
        let pending = s
            .next_pending_at(CAM, policy, &Filter::default(), T0)
            .await
            .unwrap()
            .map(|r| r.id);
        assert_eq!(next(policy, &[]).await, pending);
    }
    assert_eq!(next(Policy::OldestFirst, &[]).await, Some(ids[0]));
    assert_eq!(next(Policy::NewestFirst, &[]).await, Some(ids[3]));

    // A triaged clip (or one recorded as having no track) is passed over.
    let size_of = |i: usize| clips[3 - i].size;
    s.set_track(
        ids[0],
        track(TrackSource::Triage, points(3, 52.0), size_of(0)),
    )
    .await
    .unwrap();
    s.set_track(
        ids[1],
        Track::none(TrackSource::Triage, None, size_of(1), "no gps index"),
    )
    .await
    .unwrap();
    assert_eq!(next(Policy::OldestFirst, &[]).await, Some(ids[2]));
    assert_eq!(next(Policy::OldestFirst, &[ids[2]]).await, Some(ids[3]));

    // A clip listed again with another size is triaged again.
    let mut grown = clips.clone();
    grown[3].size += 500; // seq 1
    s.reconcile(CAM, &grown, |_| None).await.unwrap();
    assert_eq!(next(Policy::OldestFirst, &[]).await, Some(ids[0]));

    // A clip with a file track is never offered, whatever its size, and a
    // clip that is not pending is not offered either.
    s.set_track(ids[0], track(TrackSource::File, points(3, 52.0), 1))
        .await
        .unwrap();
    assert_eq!(next(Policy::OldestFirst, &[]).await, Some(ids[2]));
    s.start_download(ids[2], None).await.unwrap();
    assert_eq!(next(Policy::OldestFirst, &[]).await, Some(ids[3]));
    s.set_track(
        ids[3],
        track(TrackSource::Triage, points(1, 52.0), size_of(3)),
    )
    .await
    .unwrap();
    assert_eq!(next(Policy::OldestFirst, &[]).await, None);
}
