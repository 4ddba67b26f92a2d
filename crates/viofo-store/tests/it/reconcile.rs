use std::collections::HashMap;
use std::path::{Path, PathBuf};

use viofo_store::{ArchivedFile, ClipState};

use crate::common::{CAM, clip, fixture, id_of};

#[tokio::test]
async fn new_moved_to_ro_gone_healed_reappeared() {
    let f = fixture().await;
    let s = &f.store;
    let clips: Vec<_> = (1..=6).map(|i| clip(i, i64::from(i))).collect();
    let r = s.reconcile(CAM, &clips, |_| None).await.unwrap();
    assert_eq!((r.new, r.unchanged, r.gone, r.healed), (6, 0, 0, 0));
    let ids: Vec<_> = {
        let mut v = Vec::new();
        for c in &clips {
            v.push(id_of(s, &c.name).await);
        }
        v
    };
    let listed_at = s.get(ids[0]).await.unwrap().unwrap().times.listed_at;
    assert!(listed_at.is_some());

    // Same listing again: nothing changes.
    let r = s.reconcile(CAM, &clips, |_| None).await.unwrap();
    assert_eq!((r.new, r.unchanged, r.refreshed_paths), (0, 6, 0));

    // clip 0: done; clip 1: downloaded; clip 2: failed; clip 3: pending.
    s.start_download(ids[0], None).await.unwrap();
    s.finish_download(ids[0], Path::new("/a/0.mp4"), clips[0].size)
        .await
        .unwrap();
    s.finish_tail(ids[0]).await.unwrap();
    s.start_download(ids[1], None).await.unwrap();
    s.finish_download(ids[1], Path::new("/a/1.mp4"), clips[1].size)
        .await
        .unwrap();
    s.start_download(ids[2], None).await.unwrap();
    s.fail(ids[2], "boom", false).await.unwrap();

    // Next listing: 0..3 vanished (rotated / deleted); 4 was locked on the
    // camera (moved to RO); 5 unchanged; 7 is new; 8 is new and already in
    // the archive; 9 is new, in the archive with the wrong size.
    let mut moved = clips[4].clone();
    moved.locked = true;
    moved.remote_path = format!("A:\\DCIM\\Movie\\RO\\{}", moved.name);
    let new7 = clip(7, 7);
    let new8 = clip(8, 8);
    let new9 = clip(9, 9);
    let listing = vec![
        moved.clone(),
        clips[5].clone(),
        new7.clone(),
        new8.clone(),
        new9.clone(),
    ];
    let mut archive = HashMap::new();
    archive.insert(
        new8.name.clone(),
        ArchivedFile {
            path: PathBuf::from("/a/8.mp4"),
            size: new8.size,
        },
    );
    archive.insert(
        new9.name.clone(),
        ArchivedFile {
            path: PathBuf::from("/a/9.mp4"),
            size: new9.size - 1,
        },
    );
    let mut asked = Vec::new();
    let r = s
        .reconcile(CAM, &listing, |n| {
            asked.push(n.to_owned());
            archive.get(n).cloned()
        })
        .await
        .unwrap();
    assert_eq!(r.new, 2, "{r:?}"); // 7, 9
    assert_eq!(r.healed, 1, "{r:?}"); // 8
    assert_eq!(r.refreshed_paths, 1, "{r:?}"); // 4
    assert_eq!(r.gone, 2, "{r:?}"); // 2 (failed), 3 (pending)
    assert_eq!(r.unchanged, 1, "{r:?}"); // 5
    assert!(
        !asked.contains(&clips[0].name),
        "done clips are not looked up"
    );

    let st = |i: usize| {
        let s = s.clone();
        let id = ids[i];
        async move { s.get(id).await.unwrap().unwrap() }
    };
    assert_eq!(
        st(0).await.state,
        ClipState::Done,
        "done stays done when it leaves the camera"
    );
    assert_eq!(
        st(1).await.state,
        ClipState::Downloaded,
        "downloaded keeps its tail"
    );
    assert_eq!(st(2).await.state, ClipState::Gone);
    assert_eq!(st(3).await.state, ClipState::Gone);
    let r4 = st(4).await;
    assert!(r4.locked);
    assert_eq!(r4.remote_path, moved.remote_path);
    assert_eq!(r4.state, ClipState::Pending);
    let r8 = s.get_by_name(CAM, &new8.name).await.unwrap().unwrap();
    assert_eq!(r8.state, ClipState::Downloaded);
    assert_eq!(r8.local_path.as_deref(), Some(Path::new("/a/8.mp4")));
    let r9 = s.get_by_name(CAM, &new9.name).await.unwrap().unwrap();
    assert_eq!(r9.state, ClipState::Pending, "size mismatch does not heal");

    // Clip 3 shows up again (flaky SSD listing) -> pending; clip 2 shows up
    // again and is found in the archive -> downloaded.
    let mut listing2 = listing.clone();
    listing2.push(clips[3].clone());
    listing2.push(clips[2].clone());
    let r = s
        .reconcile(CAM, &listing2, |n| {
            (n == clips[2].name).then(|| ArchivedFile {
                path: PathBuf::from("/a/2.mp4"),
                size: clips[2].size,
            })
        })
        .await
        .unwrap();
    assert_eq!((r.reappeared, r.healed), (1, 1), "{r:?}");
    assert_eq!(st(3).await.state, ClipState::Pending);
    assert_eq!(st(2).await.state, ClipState::Downloaded);
    let tails: Vec<_> = s
        .unfinished_tails(Some(CAM))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(tails.len(), 3); // 1, 2, 8
    assert!(tails.contains(&new8.name) && tails.contains(&clips[1].name));

    // Another camera with the same names is a separate identity.
    let r = s.reconcile("cam-2", &clips, |_| None).await.unwrap();
    assert_eq!(r.new, 6);
    assert_eq!(s.counts(Some("cam-2")).await.unwrap().pending, 6);
}

#[tokio::test]
async fn untrusted_listing_entries_are_refused_not_fatal() {
    let f = fixture().await;
    let mut bad_nul = clip(1, 0);
    bad_nul.name = "evil\0.MP4".into();
    let mut empty = clip(2, 0);
    empty.name.clear();
    let mut huge = clip(3, 0);
    huge.size = u64::MAX;
    let good = clip(4, 0);
    let r = f
        .store
        .reconcile(
            CAM,
            &[bad_nul, empty, huge, good.clone(), good.clone()],
            |_| None,
        )
        .await
        .unwrap();
    assert_eq!((r.new, r.invalid), (1, 4));
}

#[tokio::test]
async fn ten_thousand_clip_listing_reconciles() {
    let f = fixture().await;
    let clips: Vec<_> = (0..10_000).map(|i| clip(i, i64::from(i))).collect();
    let r = f.store.reconcile(CAM, &clips, |_| None).await.unwrap();
    assert_eq!(r.new, 10_000);
    let r = f
        .store
        .reconcile(CAM, &clips[5_000..], |_| None)
        .await
        .unwrap();
    assert_eq!((r.unchanged, r.gone), (5_000, 5_000));
}

/// A name listed with another size than its archived copy is another
/// recording (a card formatted, a clock reset, a clip that kept growing):
/// the archived row keeps its file and size, marked superseded, and the
/// listed clip is a new pending row of that name. Before, the archived row
/// went back to pending and its file was downloaded over.
#[tokio::test]
async fn an_archived_name_listed_with_another_size_is_a_new_recording() {
    let f = fixture().await;
    let s = &f.store;
    let clips: Vec<_> = (1..=5).map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &clips, |_| None).await.unwrap();
    let mut ids = Vec::new();
    for c in &clips {
        ids.push(id_of(s, &c.name).await);
    }
    // 0: done, 1: downloaded (tail unfinished), 2: done, 3: done with a
    // rounded listing size, 4: done and deleted from the camera.
    for (i, id) in ids.iter().enumerate() {
        s.start_download(*id, None).await.unwrap();
        s.finish_download(*id, Path::new(&format!("/a/{i}.mp4")), clips[i].size)
            .await
            .unwrap();
        if i != 1 {
            s.finish_tail(*id).await.unwrap();
        }
    }
    s.record_delete(ids[4], viofo_store::DeleteOutcome::Confirmed)
        .await
        .unwrap();
    let mut listing = clips.clone();
    listing[0].size += 4_096; // another recording, or grew after the download
    listing[1].size -= 1; // shorter: another recording
    listing[3].size_exact = false; // rounded, within 1 %
    listing[3].size += 5;
    // 4: the same name and size, listed after the camera deleted it.
    let r = s.reconcile(CAM, &listing, |_| None).await.unwrap();
    assert_eq!((r.superseded, r.unchanged, r.new), (3, 1, 0), "{r:?}");
    for i in [0, 1, 4] {
        let old = s.get(ids[i]).await.unwrap().unwrap();
        assert!(old.superseded_at.is_some(), "clip {i} superseded");
        assert_eq!(old.size, clips[i].size, "clip {i}: its listed size kept");
        assert_eq!(old.local_size, Some(clips[i].size), "archived size kept");
        assert_eq!(
            old.local_path.as_deref(),
            Some(Path::new(&format!("/a/{i}.mp4")))
        );
        let new = s.get_by_name(CAM, &clips[i].name).await.unwrap().unwrap();
        assert_ne!(new.id, old.id, "clip {i}: a row of its own");
        assert_eq!(new.state, ClipState::Pending, "clip {i}");
        assert_eq!(new.size, listing[i].size);
        assert_eq!((new.local_path, new.local_size), (None, None));
        assert!(new.superseded_at.is_none());
    }
    for i in [2, 3] {
        let row = s.get(ids[i]).await.unwrap().unwrap();
        assert_eq!(row.state, ClipState::Done, "clip {i} is the same clip");
        assert!(row.superseded_at.is_none());
    }
    // The superseded rows are matched to no later listing: the same
    // listing again changes nothing.
    let again = s.reconcile(CAM, &listing, |_| None).await.unwrap();
    assert_eq!((again.superseded, again.new), (0, 0), "{again:?}");
}
