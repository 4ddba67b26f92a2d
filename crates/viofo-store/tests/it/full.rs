//! A full state-database disk fails the write that needed the space with a
//! clear "full" error, applies none of it, and does not wedge the writer:
//! the next writes that fit succeed, and nothing recorded is lost. The
//! disk is made full deterministically with SQLite's `max_page_count`
//! ([`StoreOptions::max_page_count`](viofo_store::StoreOptions)).

use std::path::PathBuf;

use viofo_store::{
    ClipState, GpsSummary, ImportedClip, ListedClip, Store, Track, TrackPoint, TrackSource,
};

use crate::common::{CAM, T0, clip, id_of, options};

/// A clip recorded as imported from a card, with a long track or none.
fn imported(c: &ListedClip, with_track: bool) -> ImportedClip {
    // A track of a few thousand fixes: a blob that takes pages of its own.
    let points: Vec<TrackPoint> = (0..4_000)
        .map(|i| TrackPoint {
            time_ms: T0 + i * 1_000,
            lat: 52.5 + i as f64 * 1e-5,
            lon: 13.4,
            speed_mps: 9.0,
            course_deg: 0.0,
        })
        .collect();
    let summary = GpsSummary {
        points: 4_000,
        first_fix_ms: Some(T0),
        last_fix_ms: Some(T0 + 3_999_000),
        distance_m: 1.0,
        bbox: Some([13.4, 52.5, 13.4, 52.6]),
        max_speed_mps: 9.0,
    };
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
        clip: c.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_fails_clearly_and_the_writer_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(&dir);
    // No room beyond what the new database holds.
    opts.max_page_count = Some(1);
    let store = Store::open(opts).await.unwrap();

    // A few clips fit in the pages the database has.
    let mut recorded: Vec<ListedClip> = (1..=4).map(|i| clip(i, 0)).collect();
    let imports = recorded.iter().map(|c| imported(c, false)).collect();
    store.record_imports(CAM, imports).await.unwrap();
    // Clips with long tracks until the database cannot take them.
    let mut full = None;
    for batch in 1..100u32 {
        let listing: Vec<_> = (0..4).map(|i| clip(batch * 4 + i + 1, 0)).collect();
        let imports = listing.iter().map(|c| imported(c, true)).collect();
        match store.record_imports(CAM, imports).await {
            Ok(_) => recorded.extend(listing),
            Err(e) => {
                full = Some((e, listing));
                break;
            }
        }
    }
    let (err, refused) = full.expect("the database never filled");
    assert!(err.is_disk_full(), "not reported as a full disk: {err}");
    let text = err.to_string();
    assert!(text.contains("full"), "unclear: {text}");
    // None of the refused listing was applied.
    for c in &refused {
        assert!(
            store.get_by_name(CAM, &c.name).await.unwrap().is_none(),
            "{} half-recorded",
            c.name
        );
    }

    // Writes that need no new page still succeed: the writer is not stuck.
    let first = id_of(&store, &recorded[0].name).await;
    store
        .set_gps(first, GpsSummary::default())
        .await
        .expect("a write after the full disk");
    assert_eq!(
        store.get(first).await.unwrap().unwrap().state,
        ClipState::Done
    );
    store.flush().await.expect("a flush after the full disk");
    // Nothing recorded before was lost.
    for c in &recorded {
        assert!(
            store.get_by_name(CAM, &c.name).await.unwrap().is_some(),
            "{} lost",
            c.name
        );
    }
    store.close().await.unwrap();

    // Space back (no cap): the refused clips are taken.
    let store = Store::open(options(&dir)).await.unwrap();
    let imports = refused.iter().map(|c| imported(c, true)).collect();
    store.record_imports(CAM, imports).await.unwrap();
    for c in recorded.iter().chain(&refused) {
        assert!(store.get_by_name(CAM, &c.name).await.unwrap().is_some());
    }
}

/// The disk fills and frees while the store stays open (as under `watch`):
/// the write that needed space fails as full, and once the cap is lifted the
/// same write succeeds on the same writer, without a reopen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_that_returns_is_used_without_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(&dir)).await.unwrap();
    let first: Vec<ListedClip> = (1..=4).map(|i| clip(i, 0)).collect();
    store
        .record_imports(CAM, first.iter().map(|c| imported(c, false)).collect())
        .await
        .unwrap();
    // Full at today's size.
    store.set_page_limit(Some(1)).await.unwrap();
    let big: Vec<ListedClip> = (10..=13).map(|i| clip(i, 0)).collect();
    let err = store
        .record_imports(CAM, big.iter().map(|c| imported(c, true)).collect())
        .await
        .expect_err("a write past the cap");
    assert!(err.is_disk_full(), "not reported as a full disk: {err}");
    assert!(
        store
            .get_by_name(CAM, &big[0].name)
            .await
            .unwrap()
            .is_none()
    );
    // Space returns.
    store.set_page_limit(None).await.unwrap();
    store
        .record_imports(CAM, big.iter().map(|c| imported(c, true)).collect())
        .await
        .expect("the same write once space returned");
    for c in first.iter().chain(&big) {
        assert!(store.get_by_name(CAM, &c.name).await.unwrap().is_some());
    }
    store.close().await.unwrap();
}
