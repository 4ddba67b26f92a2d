//! Skipped clips (issue 12, migration 0007): a pending clip with a skip
//! reason is passed over by the download and triage queues, counted apart,
//! keeps its reason across listings, and comes back when it is cleared.

use std::path::Path;

use viofo_store::{ClipState, Filter, GpsSummary, Policy, Track, TrackPoint, TrackSource};

use crate::common::{CAM, T0, clip, fixture, id_of};

fn parked_track(size: u64, lat: f64, lon: f64) -> Track {
    let points: Vec<TrackPoint> = (0..3)
        .map(|i| TrackPoint {
            time_ms: T0 + i * 1_000,
            lat,
            lon,
            speed_mps: 0.0,
            course_deg: 0.0,
        })
        .collect();
    Track {
        source: TrackSource::Triage,
        mode: Some("skeleton 10s".to_owned()),
        clip_size: size,
        summary: GpsSummary {
            points: 3,
            first_fix_ms: Some(T0),
            last_fix_ms: Some(T0 + 2_000),
            distance_m: 0.0,
            bbox: Some([lon, lat, lon, lat]),
            max_speed_mps: 0.0,
        },
        points,
        no_track: None,
    }
}

#[tokio::test]
async fn a_skipped_clip_is_passed_over_counted_apart_and_comes_back() {
    let f = fixture().await;
    let s = &f.store;
    let mut clips: Vec<_> = (1..=3).map(|i| clip(i, i64::from(i))).collect();
    for c in &mut clips {
        c.parking = true;
    }
    s.reconcile(CAM, &clips, |_| None).await.unwrap();
    let ids = [
        id_of(s, &clips[0].name).await,
        id_of(s, &clips[1].name).await,
        id_of(s, &clips[2].name).await,
    ];
    // Clip 0 has a track with fixes; clip 1 none: only clip 0 is a
    // candidate until one is skipped.
    s.set_track(ids[0], parked_track(clips[0].size, 48.85, 2.35))
        .await
        .unwrap();
    let cands = s.skip_candidates(CAM).await.unwrap();
    assert_eq!(cands.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[0]]);

    assert!(
        s.set_skip(ids[0], Some("parked at Home".into()))
            .await
            .unwrap()
    );
    let row = s.get(ids[0]).await.unwrap().unwrap();
    assert_eq!(row.state, ClipState::Pending);
    assert_eq!(row.skip_reason.as_deref(), Some("parked at Home"));
    let counts = s.counts(Some(CAM)).await.unwrap();
    assert_eq!((counts.pending, counts.skipped, counts.total()), (2, 1, 3));

    // Neither queue offers it.
    let filter = Filter::default();
    let next = s
        .next_pending(CAM, Policy::OldestFirst, &filter)
        .await
        .unwrap();
    assert_eq!(next.map(|c| c.id), Some(ids[1]));
    let untriaged = s
        .next_untriaged_at(CAM, Policy::OldestFirst, &filter, T0)
        .await
        .unwrap();
    assert_eq!(untriaged.map(|c| c.id), Some(ids[1]));
    let mut taken = Vec::new();
    while let Some(c) = s
        .next_pending(CAM, Policy::OldestFirst, &filter)
        .await
        .unwrap()
    {
        s.start_download(c.id, None).await.unwrap();
        taken.push(c.id);
    }
    assert_eq!(taken, [ids[1], ids[2]], "the skipped clip is never offered");
    assert_eq!(
        s.skipped_by_reason(Some(CAM)).await.unwrap(),
        [("parked at Home".to_owned(), 1)]
    );

    // A later listing keeps the reason.
    s.reconcile(CAM, &clips, |_| None).await.unwrap();
    let row = s.get(ids[0]).await.unwrap().unwrap();
    assert_eq!(row.skip_reason.as_deref(), Some("parked at Home"));

    // A reason is not set on a clip that is no longer pending.
    assert!(
        !s.set_skip(ids[1], Some("parked at Home".into()))
            .await
            .unwrap()
    );
    assert_eq!(s.get(ids[1]).await.unwrap().unwrap().skip_reason, None);

    // Cleared: offered again, counted as pending.
    assert!(s.set_skip(ids[0], None).await.unwrap());
    let next = s
        .next_pending(CAM, Policy::OldestFirst, &filter)
        .await
        .unwrap();
    assert_eq!(next.map(|c| c.id), Some(ids[0]));
    let counts = s.counts(Some(CAM)).await.unwrap();
    assert_eq!((counts.pending, counts.skipped), (1, 0));

    // Starting a download clears a reason set meanwhile.
    assert!(
        s.set_skip(ids[0], Some("parked at Home".into()))
            .await
            .unwrap()
    );
    s.start_download(ids[0], None).await.unwrap();
    s.finish_download(ids[0], Path::new("/a/0.mp4"), clips[0].size)
        .await
        .unwrap();
    assert_eq!(s.get(ids[0]).await.unwrap().unwrap().skip_reason, None);
    assert!(s.skipped_by_reason(None).await.unwrap().is_empty());

    let e = s
        .set_skip(viofo_store::ClipId(9_999), Some("x".into()))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn tracks_within_a_box() {
    let f = fixture().await;
    let s = &f.store;
    let clips: Vec<_> = (1..=2).map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &clips, |_| None).await.unwrap();
    let a = id_of(s, &clips[0].name).await;
    let b = id_of(s, &clips[1].name).await;
    s.set_track(a, parked_track(clips[0].size, 48.85, 2.35))
        .await
        .unwrap();
    s.set_track(b, parked_track(clips[1].size, 52.5, 13.4))
        .await
        .unwrap();
    let near_paris = [2.3, 48.8, 2.4, 48.9];
    assert_eq!(s.tracks_within(Some(CAM), near_paris).await.unwrap(), [a]);
    assert_eq!(
        s.tracks_within(Some("other"), near_paris).await.unwrap(),
        []
    );
    let everywhere = [-180.0, -90.0, 180.0, 90.0];
    assert_eq!(s.tracks_within(None, everywhere).await.unwrap(), [a, b]);
}
