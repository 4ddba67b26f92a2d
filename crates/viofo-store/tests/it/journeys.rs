//! Journeys (issue 12): replacing them over a time range in one
//! transaction, listing newest first, one journey's clips with their live
//! states, the clips with their tracks by time range, and the `Journeys`
//! download order.

use viofo_store::{
    ArchivedFile, Channel, ClipId, ClipState, Filter, GpsSummary, JourneyId, LinkFacts, NewJourney,
    Policy, Track, TrackPoint, TrackSource,
};

use crate::common::{CAM, T0, clip, fixture, id_of};

const MIN: i64 = 60_000;

fn journey(start_min: i64, end_min: i64, clips: Vec<ClipId>, bytes: u64) -> NewJourney {
    NewJourney {
        start_ms: T0 + start_min * MIN,
        end_ms: T0 + end_min * MIN,
        start_pos: Some((52.5, 13.4)),
        end_pos: Some((52.6, 13.5)),
        from_place: Some("Home".into()),
        to_place: None,
        distance_m: 1234.5,
        moving_ms: 60_000,
        max_speed_mps: 20.0,
        channels: vec![(Channel::Front, u32::try_from(clips.len()).unwrap())],
        facts: Vec::new(),
        clips,
        bytes,
        gpx_path: Some(format!("journeys/{start_min}.gpx")),
    }
}

async fn ids(s: &viofo_store::Store, seqs: &[u32]) -> Vec<ClipId> {
    let mut out = Vec::new();
    for &q in seqs {
        out.push(id_of(s, &clip(q, 0).name).await);
    }
    out
}

#[tokio::test]
async fn journeys_are_replaced_by_range_and_listed_newest_first() {
    let f = fixture().await;
    let s = &f.store;
    let listing: Vec<_> = (1..=6).map(|q| clip(q, i64::from(q) * 3)).collect();
    // Clip 1 is already archived: downloaded, its bytes count.
    let archived = listing.first().unwrap().clone();
    s.reconcile(CAM, &listing, |name| {
        (name == archived.name).then(|| ArchivedFile {
            path: "/archive/one.mp4".into(),
            size: archived.size,
        })
    })
    .await
    .unwrap();
    let c = ids(s, &[1, 2, 3, 4, 5, 6]).await;
    let (a, b) = (c[..3].to_vec(), c[3..].to_vec());
    let n = s
        .replace_journeys(
            CAM,
            i64::MIN,
            i64::MAX,
            vec![
                journey(0, 10, a.clone(), 3_006),
                journey(30, 40, b.clone(), 3_015),
            ],
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let all = s.journeys(Some(CAM), None, 100).await.unwrap();
    assert_eq!(all.len(), 2);
    let (newer, older) = (&all[0], &all[1]);
    assert_eq!(newer.start_ms, T0 + 30 * MIN);
    assert_eq!(older.start_ms, T0);
    assert_eq!(older.clips, 3);
    assert_eq!(older.channels, vec![(Channel::Front, 3)]);
    assert_eq!(older.from_place.as_deref(), Some("Home"));
    assert_eq!(older.to_place, None);
    assert_eq!(older.start_pos, Some((52.5, 13.4)));
    assert_eq!(older.gpx_path.as_deref(), Some("journeys/0.gpx"));
    assert_eq!(older.bytes, 3_006);
    assert_eq!(older.downloaded_bytes, 1_001, "clip 1 is archived");
    assert_eq!(newer.downloaded_bytes, 0);
    assert!((older.downloaded_fraction() - 1_001.0 / 3_006.0).abs() < 1e-9);
    // Since: only journeys ending at or after it.
    let since = s.journeys(None, Some(T0 + 20 * MIN), 100).await.unwrap();
    assert_eq!(
        since.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![newer.id]
    );
    assert!(
        s.journeys(Some("other"), None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // One journey's clips, with their states.
    let clips = s.journey_clips(older.id).await.unwrap();
    assert_eq!(clips.iter().map(|c| c.id).collect::<Vec<_>>(), a);
    assert_eq!(clips[0].state, ClipState::Downloaded);
    assert_eq!(clips[1].state, ClipState::Pending);
    assert_eq!(s.journey(older.id).await.unwrap().as_ref(), Some(older));
    assert_eq!(s.journey(JourneyId(9_999)).await.unwrap(), None);

    // Recompute around minute 35: the newer journey grows to take clip 3
    // (moved out of the older one, which is outside the range and stays).
    let grown = vec![c[2], c[3], c[4], c[5]];
    s.replace_journeys(
        CAM,
        T0 + 35 * MIN,
        T0 + 36 * MIN,
        vec![journey(12, 45, grown.clone(), 4_018)],
    )
    .await
    .unwrap();
    let all = s.journeys(Some(CAM), None, 100).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].start_ms, T0 + 12 * MIN);
    assert_eq!(all[0].id, newer.id, "a journey keeps its id as it grows");
    assert_eq!(s.journey_clips(all[0].id).await.unwrap().len(), 4);
    assert_eq!(
        s.journey_clips(older.id)
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        c[..2].to_vec()
    );
    let between = s.journeys_between(CAM, T0, T0 + 11 * MIN).await.unwrap();
    assert_eq!(between.len(), 1);
    assert_eq!(between[0].id, older.id);

    // Split in two: the part sharing more clips keeps the id, the other
    // gets a new one.
    let grown_id = all[0].id;
    s.replace_journeys(
        CAM,
        T0 + 35 * MIN,
        T0 + 36 * MIN,
        vec![
            journey(12, 20, vec![c[2]], 1_003),
            journey(30, 45, vec![c[3], c[4], c[5]], 3_015),
        ],
    )
    .await
    .unwrap();
    let all = s.journeys(Some(CAM), None, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].id, grown_id);
    assert_eq!(all[0].start_ms, T0 + 30 * MIN);
    assert!(all[1].id != grown_id && all[1].id != older.id);

    // An empty replacement over everything removes them all.
    s.replace_journeys(CAM, i64::MIN, i64::MAX, Vec::new())
        .await
        .unwrap();
    assert!(s.journeys(None, None, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_clip_of_another_camera_is_not_linked() {
    let f = fixture().await;
    let s = &f.store;
    s.reconcile("other", &[clip(1, 0)], |_| None).await.unwrap();
    let theirs = s
        .get_by_name("other", &clip(1, 0).name)
        .await
        .unwrap()
        .unwrap()
        .id;
    s.replace_journeys(
        CAM,
        i64::MIN,
        i64::MAX,
        vec![journey(0, 1, vec![theirs], 1)],
    )
    .await
    .unwrap();
    let j = s.journeys(Some(CAM), None, 10).await.unwrap();
    assert!(s.journey_clips(j[0].id).await.unwrap().is_empty());
}

fn fixes(start: i64, n: i64) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| TrackPoint {
            time_ms: start + i * 1_000,
            lat: 52.5,
            lon: 13.4,
            speed_mps: 5.0,
            course_deg: 0.0,
        })
        .collect()
}

fn file_track(points: Vec<TrackPoint>) -> Track {
    Track {
        source: TrackSource::File,
        mode: None,
        clip_size: 1,
        summary: GpsSummary {
            points: u32::try_from(points.len()).unwrap(),
            first_fix_ms: points.first().map(|p| p.time_ms),
            last_fix_ms: points.last().map(|p| p.time_ms),
            ..GpsSummary::default()
        },
        points,
        no_track: None,
    }
}

#[tokio::test]
async fn journey_links_tell_what_each_clip_was_taken_in_with_and_has_now() {
    let f = fixture().await;
    let s = &f.store;
    let listing: Vec<_> = (1..=4).map(|q| clip(q, i64::from(q))).collect();
    s.reconcile(CAM, &listing, |_| None).await.unwrap();
    let c = ids(s, &[1, 2, 3, 4]).await;
    let size: Vec<u64> = listing.iter().map(|c| c.size).collect();
    let facts = |fixes, size| LinkFacts { fixes, size };
    let mut j = journey(0, 10, c[..3].to_vec(), 3);
    // Clip 3 without facts: a link as stored before migration 0014.
    j.facts = vec![facts(false, size[0]), facts(true, size[1])];
    s.replace_journeys(CAM, i64::MIN, i64::MAX, vec![j])
        .await
        .unwrap();
    // Clip 1 gets a track without fixes, clip 2 one with.
    let mut none = file_track(Vec::new());
    none.no_track = Some("no GPS fixes in the file".into());
    s.set_track(c[0], none).await.unwrap();
    s.set_track(c[1], file_track(fixes(T0, 3))).await.unwrap();
    let mut links = s.journey_links(&c).await.unwrap();
    links.sort_by_key(|l| l.clip);
    let id = s.journeys(Some(CAM), None, 1).await.unwrap()[0].id;
    let got: Vec<_> = links
        .iter()
        .map(|l| (l.clip, l.journey, l.then, l.now))
        .collect();
    let want = vec![
        (c[0], id, Some(facts(false, size[0])), facts(false, size[0])),
        (c[1], id, Some(facts(true, size[1])), facts(true, size[1])),
        (c[2], id, None, facts(false, size[2])),
    ];
    assert_eq!(got, want, "clip 4 is in no journey");
    assert!(s.journey_links(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn clip_tracks_reads_clips_by_fix_time_or_recording_time() {
    let f = fixture().await;
    let s = &f.store;
    // Recorded at 0, 3 days later, and 6 days later; the second's name is
    // far off but its fixes are in the range.
    let listing = vec![clip(1, 0), clip(2, 3 * 24 * 60), clip(3, 6 * 24 * 60)];
    s.reconcile(CAM, &listing, |_| None).await.unwrap();
    let c = ids(s, &[1, 2, 3]).await;
    s.set_track(c[0], file_track(fixes(T0, 5))).await.unwrap();
    s.set_track(c[1], file_track(fixes(T0 + 10 * MIN, 3)))
        .await
        .unwrap();
    let got = s.clip_tracks(CAM, T0, T0 + 20 * MIN).await.unwrap();
    let names: Vec<_> = got.iter().map(|t| t.clip.id).collect();
    assert_eq!(names, vec![c[0], c[1]]);
    assert_eq!(got[0].points, fixes(T0, 5));
    assert_eq!(got[1].points.len(), 3);
    // Clip 3 (no track) is found by its recording time, within 15 h.
    let later = s
        .clip_tracks(
            CAM,
            T0 + 6 * 24 * 60 * MIN + 14 * 60 * MIN,
            T0 + 7 * 24 * 60 * MIN,
        )
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert!(later[0].points.is_empty());
    assert!(
        s.clip_tracks("other", i64::MIN, i64::MAX)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_journeys_policy_takes_the_newest_journey_first_locked_first() {
    let f = fixture().await;
    let s = &f.store;
    let mut listing: Vec<_> = (1..=7).map(|q| clip(q, i64::from(q) * 3)).collect();
    listing[4].locked = true; // clip 5, in the newer journey
    listing[4].remote_path = "/DCIM/Movie/RO/x.MP4".into();
    s.reconcile(CAM, &listing, |_| None).await.unwrap();
    let c = ids(s, &[1, 2, 3, 4, 5, 6, 7]).await;
    // Older journey: clips 2, 3; newer: 4, 5, 6; clips 1 and 7 in none.
    s.replace_journeys(
        CAM,
        i64::MIN,
        i64::MAX,
        vec![
            journey(6, 9, vec![c[1], c[2]], 2),
            journey(12, 18, vec![c[3], c[4], c[5]], 3),
        ],
    )
    .await
    .unwrap();
    let mut order = Vec::new();
    let mut taken: Vec<ClipId> = Vec::new();
    loop {
        let filter = Filter {
            exclude: &taken,
            ..Filter::default()
        };
        let Some(next) = s
            .next_pending(CAM, Policy::Journeys, &filter)
            .await
            .unwrap()
        else {
            break;
        };
        taken.push(next.id);
        order.push(next.id);
    }
    assert_eq!(order, vec![c[4], c[3], c[5], c[1], c[2], c[0], c[6]]);
}
