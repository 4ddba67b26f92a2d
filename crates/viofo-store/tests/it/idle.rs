//! What an idle sync, `status` and `queue` read does not grow with the
//! store (issue 24, migration 0013): the query plans, the counts the store
//! keeps against counting, and the known clips a listing is judged by.

use std::path::Path;

use viofo_store::{ClipState, ImportedClip, Store};

use crate::common::{CAM, T0, clip, fixture, id_of};

/// Whether a plan line reads every row of `clips` (not an index range).
fn scans_clips(line: &str) -> bool {
    line.starts_with("SCAN clips") && !line.contains("INDEX clips_unsettled")
}

#[tokio::test]
async fn the_idle_queries_read_indexes_not_the_store() {
    let f = fixture().await;
    let s = &f.store;
    let listed: Vec<_> = (0..200).map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &listed, |_| None).await.unwrap();
    // Sorting the answer's few rows is allowed; a sort of the store is
    // not (these read a range of the asked state or of in-flight rows).
    let may_sort = [
        "queue failed",
        "queue failed, every camera",
        "unfinished tails",
    ];
    let plans = s.explain_scaled_queries().await.unwrap();
    assert_eq!(plans.len(), 12);
    for (name, plan) in &plans {
        let text = plan.join("\n");
        assert!(!plan.is_empty(), "{name}: no plan");
        assert!(
            !plan.iter().any(|l| scans_clips(l)),
            "{name} scans the clips:\n{text}"
        );
        if !may_sort.contains(name) {
            assert!(
                !plan.iter().any(|l| l.contains("TEMP B-TREE")),
                "{name} sorts:\n{text}"
            );
        }
    }
    // Which index each reads, by what (the camera alone is a year of rows).
    let expected = [
        ("reconcile rows", "clips_queue (camera_id=? AND state=?)"),
        (
            "reconcile rows",
            "clips_current_name (camera_id=? AND name=?)",
        ),
        ("recorded paths", "clips_local_path (local_path=?)"),
        (
            "settled names",
            "clips_current_name (camera_id=? AND name=?)",
        ),
        (
            "known listed",
            "clips_current_name (camera_id=? AND name=?)",
        ),
        (
            "known in window",
            "clips_on_camera (camera_id=? AND recorded_at>?",
        ),
        ("known any", "clips_on_camera (camera_id=?)"),
        ("counts", "clip_counts USING PRIMARY KEY (camera_id=?)"),
        (
            "archived bytes",
            "clip_counts USING PRIMARY KEY (camera_id=? AND state=?)",
        ),
        ("queue failed", "clips_queue (camera_id=? AND state=?)"),
        (
            "queue failed, every camera",
            "clips_queue (camera_id=? AND state=?)",
        ),
        ("unfinished tails", "clips_unsettled (state=?)"),
        ("recovery", "clips_unsettled (state=?)"),
    ];
    for (name, index) in expected {
        let plan = &plans.iter().find(|(k, _)| *k == name).unwrap().1;
        assert!(
            plan.iter().any(|l| l.contains(index)),
            "{name} does not read {index}:\n{}",
            plan.join("\n")
        );
    }
}

/// Asserts the counts and archived bytes the store keeps are what
/// counting every row says, for `CAM`, `other` and every camera.
async fn assert_kept(s: &Store, step: &str) {
    for cam in [Some(CAM), Some("other"), None] {
        assert_eq!(
            s.counts(cam).await.unwrap(),
            s.counts_by_scan(cam).await.unwrap(),
            "counts of {cam:?} after {step}"
        );
        assert_eq!(
            s.archived_bytes(cam).await.unwrap(),
            s.archived_bytes_by_scan(cam).await.unwrap(),
            "archived bytes of {cam:?} after {step}"
        );
    }
}

#[tokio::test]
async fn the_kept_counts_are_what_counting_says_after_every_change() {
    let f = fixture().await;
    let s = &f.store;
    assert_kept(s, "nothing").await;
    let listed: Vec<_> = (1..=12).map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &listed, |_| None).await.unwrap();
    s.reconcile("other", &listed[..4], |_| None).await.unwrap();
    assert_kept(s, "inserting").await;
    let mut ids = Vec::new();
    for c in &listed {
        ids.push(id_of(s, &c.name).await);
    }
    for (i, id) in ids.iter().enumerate().take(6) {
        s.start_download(*id, None).await.unwrap();
        s.finish_download(*id, Path::new(&format!("/a/{i}.MP4")), listed[i].size)
            .await
            .unwrap();
    }
    assert_kept(s, "downloads").await;
    s.finish_tail(ids[0]).await.unwrap();
    s.finish_tail(ids[1]).await.unwrap();
    s.mark_pruned(ids[1]).await.unwrap();
    assert_kept(s, "a tail and a prune").await;
    s.start_download(ids[6], None).await.unwrap();
    s.fail(ids[6], "boom", false).await.unwrap();
    s.start_download(ids[7], None).await.unwrap();
    s.release(ids[7]).await.unwrap();
    assert_kept(s, "a failure and a release").await;
    s.set_skip(ids[8], Some("parking".into())).await.unwrap();
    s.set_skip(ids[9], Some("parking".into())).await.unwrap();
    s.set_skip(ids[9], Some("too old".into())).await.unwrap();
    assert_kept(s, "skips").await;
    s.set_skip(ids[8], None).await.unwrap();
    s.retry_failed(Some(CAM)).await.unwrap();
    assert_kept(s, "an unskip and a retry").await;
    // Gone, back, superseded by another size, healed from the archive.
    let mut relisted: Vec<_> = listed[2..].to_vec();
    relisted[0].size += 5;
    let heal = listed[10].name.clone();
    s.reconcile(CAM, &relisted, |n| {
        (n == heal).then(|| viofo_store::ArchivedFile {
            path: "/a/healed.MP4".into(),
            size: 1_010,
        })
    })
    .await
    .unwrap();
    assert_kept(s, "a listing with gone, superseded and healed clips").await;
    s.reconcile(CAM, &listed, |_| None).await.unwrap();
    assert_kept(s, "the gone clips back").await;
    let imported = ImportedClip {
        clip: clip(40, 40),
        local_path: "/a/imported.MP4".into(),
        local_size: 77,
        gps: None,
        track: None,
    };
    let again = ImportedClip {
        clip: listed[11].clone(),
        local_path: "/a/again.MP4".into(),
        local_size: 78,
        gps: None,
        track: None,
    };
    s.record_imports(CAM, vec![imported, again]).await.unwrap();
    assert_kept(s, "imports (a new row and an update)").await;
    let c = s.counts(Some(CAM)).await.unwrap();
    assert!(c.done >= 3 && c.pruned == 1 && c.skipped == 1, "{c:?}");
}

#[tokio::test]
async fn the_known_clips_of_a_listing_are_its_names_a_few_missing_and_one() {
    let f = fixture().await;
    let s = &f.store;
    // Known on the camera: minutes 0..40. Gone (not known): 40..50.
    let all: Vec<_> = (0..50).map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &all, |_| None).await.unwrap();
    s.reconcile(CAM, &all[..40], |_| None).await.unwrap();
    let names = |r: &[viofo_store::KnownClip]| {
        let mut v: Vec<String> = r.iter().map(|k| k.name.clone()).collect();
        v.sort();
        v
    };
    let listed = [
        all[5].name.as_str(),
        all[6].name.as_str(),
        all[45].name.as_str(),
    ];
    let at = |m: i64| T0 + m * 60_000;
    // The listed names known (not the gone one), 3 of the 9 missing
    // between minutes 5 and 15, and one known clip, any (here the first).
    let got = s
        .known_for_listing(CAM, &listed, Some((at(5), at(15))), 3)
        .await
        .unwrap();
    assert_eq!(got.len(), 6, "{:?}", names(&got));
    for n in [&all[5].name, &all[6].name] {
        assert!(
            got.iter().any(|k| &k.name == n),
            "{n} not in {:?}",
            names(&got)
        );
    }
    let window_missing = got
        .iter()
        .filter(|k| k.recorded_at.is_some_and(|t| (at(7)..=at(15)).contains(&t)))
        .count();
    assert_eq!(window_missing, 3, "{:?}", names(&got));
    assert!(got.iter().all(|k| k.name != all[45].name));
    // Nothing listed is known and the window is empty: one known clip, so
    // that something known is still told apart from nothing.
    let got = s
        .known_for_listing(CAM, &[all[45].name.as_str()], Some((at(100), at(110))), 3)
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "{:?}", names(&got));
    let row = s.get_by_name(CAM, &got[0].name).await.unwrap().unwrap();
    assert_ne!(row.state, ClipState::Gone);
    // Another camera knows nothing.
    let got = s
        .known_for_listing("other", &listed, Some((at(0), at(50))), 3)
        .await
        .unwrap();
    assert!(got.is_empty(), "{:?}", names(&got));
}
