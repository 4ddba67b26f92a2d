//! A copy of the database (for a dry run) holds the same rows, is made from
//! a read-only store, and writing to the copy leaves the original alone.

use viofo_store::{ClipState, Store, StoreOptions};

use crate::common::{CAM, clip, fixture, id_of, options};

#[tokio::test]
async fn a_copy_holds_the_rows_and_is_independent() {
    let f = fixture().await;
    let clips: Vec<_> = (1..=3).map(|i| clip(i, i64::from(i))).collect();
    f.store.reconcile(CAM, &clips, |_| None).await.unwrap();
    let id = id_of(&f.store, &clips[0].name).await;
    f.store.start_download(id, None).await.unwrap();
    f.store.fail(id, "boom", false).await.unwrap();
    f.store.flush().await.unwrap();
    let db = options(&f._dir).path.unwrap();

    // From a read-only store, as the dry run opens it.
    let ro = Store::open_read_only(StoreOptions::at(&db)).await.unwrap();
    let dest = f._dir.path().join("copy.db");
    ro.copy_to(&dest).await.unwrap();
    assert!(
        ro.copy_to(&dest).await.is_err(),
        "an existing file is not overwritten"
    );

    let copy = Store::open(StoreOptions::at(&dest)).await.unwrap();
    let counts = copy.counts(Some(CAM)).await.unwrap();
    assert_eq!((counts.pending, counts.failed), (2, 1));
    // Writes to the copy do not reach the original.
    let id2 = id_of(&copy, &clips[1].name).await;
    copy.start_download(id2, None).await.unwrap();
    let orig = f.store.get(id2).await.unwrap().unwrap();
    assert_eq!(orig.state, ClipState::Pending);
    assert_eq!(
        copy.get(id2).await.unwrap().unwrap().state,
        ClipState::Downloading
    );
}
