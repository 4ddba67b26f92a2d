//! Imported clips (issue 14): recorded `done` with source `import`, over a
//! row a listing made, with their GPS summary and track; synced clips keep
//! source `camera`.

use std::path::PathBuf;

use viofo_store::{ClipState, GpsSummary, ImportedClip, Track, TrackPoint, TrackSource};

use crate::common::{CAM, T0, clip, fixture, id_of};

fn imported(seq: u32, locked: bool, with_track: bool) -> ImportedClip {
    let mut c = clip(seq, i64::from(seq));
    c.locked = locked;
    c.remote_path = format!("/DCIM/Movie/RO/{}", c.name);
    let summary = GpsSummary {
        points: 2,
        first_fix_ms: Some(T0),
        last_fix_ms: Some(T0 + 1_000),
        distance_m: 12.0,
        bbox: Some([13.3, 52.5, 13.4, 52.6]),
        max_speed_mps: 9.0,
    };
    let points = (0..2)
        .map(|i| TrackPoint {
            time_ms: T0 + i * 1_000,
            lat: 52.5,
            lon: 13.4,
            speed_mps: 9.0,
            course_deg: 0.0,
        })
        .collect();
    ImportedClip {
        local_path: PathBuf::from(format!("/archive/{}", c.name)),
        local_size: c.size,
        gps: with_track.then(|| summary.clone()),
        track: with_track.then_some(Track {
            source: TrackSource::File,
            mode: None,
            clip_size: c.size,
            summary,
            points,
            no_track: None,
        }),
        clip: c,
    }
}

#[tokio::test]
async fn imports_are_recorded_done_with_their_source_and_track() {
    let f = fixture().await;
    // Clip 1 was listed by a sync and is pending; clip 3 synced normally.
    let listing = vec![clip(1, 1), clip(3, 3)];
    f.store.reconcile(CAM, &listing, |_| None).await.unwrap();
    let n = f
        .store
        .record_imports(
            CAM,
            vec![imported(1, true, true), imported(2, false, false)],
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    for (seq, locked, gps) in [(1, true, true), (2, false, false)] {
        let name = clip(seq, 0).name;
        let row = f.store.get_by_name(CAM, &name).await.unwrap().unwrap();
        assert_eq!(row.state, ClipState::Done, "{name}");
        assert_eq!(row.locked, locked);
        assert_eq!(row.remote_path, format!("/DCIM/Movie/RO/{name}"));
        assert_eq!(
            row.local_path,
            Some(PathBuf::from(format!("/archive/{name}")))
        );
        assert_eq!(row.local_size, Some(row.size));
        assert_eq!(row.gps.is_some(), gps);
        assert_eq!(
            f.store.clip_source(row.id).await.unwrap().as_deref(),
            Some("import")
        );
        let track = f.store.track(row.id).await.unwrap();
        assert_eq!(track.is_some(), gps);
    }
    // The row the listing made is the one imported: one row per name.
    let rows = f.store.list(Some(CAM), &ClipState::ALL, 100).await.unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let synced = id_of(&f.store, &clip(3, 0).name).await;
    assert_eq!(
        f.store.clip_source(synced).await.unwrap().as_deref(),
        Some("camera")
    );
    // A later listing of an imported clip with its size leaves it done.
    f.store
        .reconcile(CAM, &[clip(1, 1)], |_| None)
        .await
        .unwrap();
    let row = f
        .store
        .get_by_name(CAM, &clip(1, 0).name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, ClipState::Done);
}

#[tokio::test]
async fn a_batch_refused_before_the_writer_records_nothing() {
    let f = fixture().await;
    let mut bad = imported(2, false, true);
    if let Some(t) = bad.track.as_mut() {
        t.points = vec![t.points[0]; viofo_store::MAX_TRACK_POINTS + 1];
    }
    let e = f
        .store
        .record_imports(CAM, vec![imported(1, false, true), bad])
        .await
        .unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    assert!(
        f.store
            .get_by_name(CAM, &clip(1, 0).name)
            .await
            .unwrap()
            .is_none()
    );
}
