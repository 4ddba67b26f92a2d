//! A clip removed by retention is recorded as pruned: never archived in
//! the counts, never downloaded again, never deleted from the camera again.

use std::path::{Path, PathBuf};

use viofo_store::{ArchivedFile, ClipState, DeleteOutcome};

use crate::common::{CAM, clip, fixture, id_of};

#[tokio::test]
async fn pruned_clips_are_counted_apart_and_never_requeued() {
    let f = fixture().await;
    let s = &f.store;
    let clips: Vec<_> = (1..=3).map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &clips, |_| None).await.unwrap();
    let mut ids = Vec::new();
    for c in &clips {
        ids.push(id_of(s, &c.name).await);
    }
    // 0: done; 1: downloaded (tail unfinished); 2: pending.
    for (i, id) in ids.iter().take(2).enumerate() {
        s.start_download(*id, None).await.unwrap();
        s.finish_download(*id, Path::new(&format!("/a/{i}.mp4")), clips[i].size)
            .await
            .unwrap();
    }
    s.finish_tail(ids[0]).await.unwrap();

    s.mark_pruned(ids[0]).await.unwrap();
    s.mark_pruned(ids[1]).await.unwrap();
    let e = s.mark_pruned(ids[2]).await.unwrap_err();
    assert!(e.is_illegal_transition(), "{e}");
    assert_eq!(e.current_state(), Some(ClipState::Pending));

    let row = s.get(ids[0]).await.unwrap().unwrap();
    assert_eq!(row.state, ClipState::Pruned);
    assert!(row.pruned_at.is_some());
    let counts = s.counts(Some(CAM)).await.unwrap();
    assert_eq!(
        (
            counts.pruned,
            counts.done,
            counts.downloaded,
            counts.pending
        ),
        (2, 0, 0, 1)
    );
    assert_eq!(counts.get(ClipState::Pruned), 2);
    assert_eq!(counts.total(), 3);
    assert!(ClipState::ALL.contains(&ClipState::Pruned));
    assert!(s.unfinished_tails(Some(CAM)).await.unwrap().is_empty());
    let listed = s.list(Some(CAM), &[ClipState::Pruned], 10).await.unwrap();
    assert_eq!(listed.len(), 2);

    // Still listed by the camera, even with a copy back in the archive
    // (or a different size): stays pruned, is never offered for download.
    let mut grown = clips[1].clone();
    grown.size += 10;
    let listing = vec![clips[0].clone(), grown, clips[2].clone()];
    let r = s
        .reconcile(CAM, &listing, |n| {
            Some(ArchivedFile {
                path: PathBuf::from(format!("/a/{n}")),
                size: clips.iter().find(|c| c.name == n).map_or(1, |c| c.size),
            })
        })
        .await
        .unwrap();
    assert_eq!(r.healed, 1, "only the pending one: {r:?}");
    for id in &ids[..2] {
        assert_eq!(s.get(*id).await.unwrap().unwrap().state, ClipState::Pruned);
    }
    // Not listed any more: still pruned.
    s.reconcile(CAM, &[], |_| None).await.unwrap();
    assert_eq!(
        s.get(ids[0]).await.unwrap().unwrap().state,
        ClipState::Pruned
    );

    // Never deleted from the camera again, never resumed.
    let e = s
        .record_delete(ids[0], DeleteOutcome::Confirmed)
        .await
        .unwrap_err();
    assert!(e.is_illegal_transition(), "{e}");
    for id in &ids[..2] {
        assert!(
            s.start_download(*id, None)
                .await
                .unwrap_err()
                .is_illegal_transition()
        );
        assert!(
            s.finish_tail(*id)
                .await
                .unwrap_err()
                .is_illegal_transition()
        );
        assert!(
            s.mark_pruned(*id)
                .await
                .unwrap_err()
                .is_illegal_transition()
        );
    }
}

/// A database written by schema version 1 is migrated (clips table rebuilt
/// for the new state) without losing a row or a column.
#[tokio::test]
async fn a_version_1_database_migrates_with_its_rows() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let mut m =
            sqlx::migrate::Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
                .await
                .unwrap();
        m.migrations = m
            .migrations
            .iter()
            .filter(|x| x.version == 1)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        let mut c = sqlx::SqliteConnection::connect_with(
            &sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        m.run(&mut c).await.unwrap();
        sqlx::query(
            "INSERT INTO clips (camera_id, name, remote_path, size, state, local_path, \
             local_size, gps_points, gps_distance_m, attempts, last_error) VALUES \
             ('cam-1', 'a.MP4', '/DCIM/Movie/a.MP4', 10, 'done', '/a/a.MP4', 10, 5, 12.5, 0, NULL), \
             ('cam-1', 'b.MP4', '/DCIM/Movie/b.MP4', 20, 'failed', NULL, NULL, NULL, NULL, 5, 'x')",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }
    let s = viofo_store::Store::open(viofo_store::StoreOptions::at(&path))
        .await
        .unwrap();
    let a = s.get_by_name(CAM, "a.MP4").await.unwrap().unwrap();
    assert_eq!(a.state, ClipState::Done);
    assert_eq!(a.local_path.as_deref(), Some(Path::new("/a/a.MP4")));
    assert_eq!(
        a.gps.as_ref().map(|g| (g.points, g.distance_m)),
        Some((5, 12.5))
    );
    assert_eq!((a.deferrals, a.deferred_in, a.pruned_at), (0, None, None));
    let b = s.get_by_name(CAM, "b.MP4").await.unwrap().unwrap();
    assert_eq!((b.state, b.attempts), (ClipState::Failed, 5));
    assert_eq!(b.last_error.as_deref(), Some("x"));
    s.mark_pruned(a.id).await.unwrap();
    assert_eq!(s.counts(None).await.unwrap().pruned, 1);
    // New rows still get ids after the old ones.
    s.reconcile(CAM, &[clip(1, 0)], |_| None).await.unwrap();
    assert!(id_of(&s, &clip(1, 0).name).await.0 > b.id.0);
    s.close().await.unwrap();
}
