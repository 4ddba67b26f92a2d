//! One owner per database; readers beside it disturb nothing.

use viofo_store::{ClipState, Stage, Store};

use crate::common::{CAM, clip, id_of, options};

#[tokio::test]
async fn a_second_writer_is_refused_and_a_reader_disturbs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Store::open(options(&dir)).await.unwrap();
    let clips = [clip(1, 1), clip(2, 2)];
    owner.reconcile(CAM, &clips, |_| None).await.unwrap();
    let id = id_of(&owner, &clips[0].name).await;
    owner.start_download(id, None).await.unwrap();

    // A second sync on the same database is refused, naming the holder.
    let Err(err) = Store::open(options(&dir)).await else {
        panic!("refused")
    };
    assert!(err.is_in_use(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );

    // A reader (status, queue, timings) opens beside it: it sees the clip
    // being downloaded and does not "recover" it to pending.
    let reader = Store::open_read_only(options(&dir)).await.unwrap();
    assert!(reader.is_read_only());
    let row = reader.get(id).await.unwrap().unwrap();
    assert_eq!(row.state, ClipState::Downloading);
    assert_eq!(reader.recovery().returned_to_pending, 0);
    let Err(err) = reader.retry_failed(None).await else {
        panic!("read-only")
    };
    assert!(err.is_read_only(), "{err}");
    reader.record_timing(id, Stage::TailStarted, 1);

    // The owner carries on undisturbed.
    owner
        .finish_download(id, std::path::Path::new("/archive/1.mp4"), clips[0].size)
        .await
        .unwrap();
    assert_eq!(
        reader.get(id).await.unwrap().unwrap().state,
        ClipState::Downloaded
    );
    assert!(
        reader
            .get(id)
            .await
            .unwrap()
            .unwrap()
            .times
            .tail_started_at
            .is_none()
    );

    // Once the owner is closed, the next writer opens (and recovers).
    owner.close().await.unwrap();
    drop(owner);
    let next = Store::open(options(&dir)).await.unwrap();
    assert_eq!(next.recovery().unfinished_tails, 1);
    next.close().await.unwrap();
}

#[tokio::test]
async fn a_reader_of_a_missing_database_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let Err(err) = Store::open_read_only(options(&dir)).await else {
        panic!("missing")
    };
    assert!(err.is_missing(), "{err}");
    assert!(!dir.path().join("state").join("viofosync.db").exists());
}

#[tokio::test]
async fn list_filters_by_state_and_camera_in_recording_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(options(&dir)).await.unwrap();
    let clips: Vec<_> = (1..=5).map(|i| clip(i, 10 - i64::from(i))).collect();
    s.reconcile(CAM, &clips, |_| None).await.unwrap();
    s.reconcile("other", &clips[..1], |_| None).await.unwrap();
    let id = id_of(&s, &clips[2].name).await;
    s.start_download(id, None).await.unwrap();

    let all = s.list(None, &[], 100).await.unwrap();
    assert_eq!(all.len(), 6);
    let mine = s.list(Some(CAM), &[], 100).await.unwrap();
    let names: Vec<&str> = mine.iter().map(|r| r.name.as_str()).collect();
    let mut want: Vec<&str> = clips.iter().rev().map(|c| c.name.as_str()).collect();
    want.dedup();
    assert_eq!(names, want, "oldest recording first");
    let pending = s.list(Some(CAM), &[ClipState::Pending], 2).await.unwrap();
    assert_eq!(pending.len(), 2, "limit");
    assert!(pending.iter().all(|r| r.state == ClipState::Pending));
    let busy = s
        .list(Some(CAM), &[ClipState::Downloading, ClipState::Failed], 100)
        .await
        .unwrap();
    assert_eq!(busy.len(), 1);
    assert_eq!(busy[0].id, id);
    s.close().await.unwrap();
}
