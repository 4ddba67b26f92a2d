use super::*;
use time::macros::datetime;

fn clip(name: &str, at: PrimitiveDateTime, size: u64, locked: bool) -> ArchivedClip {
    ArchivedClip {
        path: PathBuf::from(name),
        size,
        recorded_at: at,
        locked,
        sidecars: vec![],
        sidecar_bytes: 0,
    }
}

fn names(clips: &[ArchivedClip], p: &Plan) -> Vec<String> {
    p.evictions
        .iter()
        .map(|e| clips[e.index].path.display().to_string())
        .collect()
}

const NOW: PrimitiveDateTime = datetime!(2026-01-31 12:00);

#[test]
fn keep_days_removes_only_older_unlocked_clips() {
    let clips = vec![
        clip("old", datetime!(2026-01-01 08:00), 10, false),
        clip("old-locked", datetime!(2026-01-01 09:00), 10, true),
        clip("recent", datetime!(2026-01-30 08:00), 10, false),
    ];
    let policy = RetentionPolicy {
        keep: Some(Duration::from_secs(7 * 86_400)),
        ..RetentionPolicy::default()
    };
    let p = plan(&clips, &policy, NOW, None, None);
    assert_eq!(names(&clips, &p), ["old"]);
    assert_eq!(p.evictions[0].reason, EvictReason::Age);
    assert_eq!(p.freed, 10);

    let unprotected = RetentionPolicy {
        protect_locked: false,
        ..policy
    };
    let p = plan(&clips, &unprotected, NOW, None, None);
    assert_eq!(names(&clips, &p), ["old", "old-locked"]);
}

#[test]
fn space_rule_removes_oldest_until_under_the_limit() {
    let clips = vec![
        clip("c", datetime!(2026-01-03 00:00), 100, false),
        clip("a", datetime!(2026-01-01 00:00), 100, false),
        clip("b", datetime!(2026-01-02 00:00), 100, false),
    ];
    let policy = RetentionPolicy {
        max_used_percent: Some(75.0),
        ..RetentionPolicy::default()
    };
    let disk = DiskSpace {
        total: 1000,
        used: 920,
    };
    let p = plan(&clips, &policy, NOW, Some(disk), None);
    // 920 -> 820 -> 720: two clips, oldest first.
    assert_eq!(names(&clips, &p), ["a", "b"]);
    assert!(p.evictions.iter().all(|e| e.reason == EvictReason::Space));
    assert!(!p.still_over_limit);
}

#[test]
fn space_rule_never_evicts_clips_newer_than_the_download_nor_locked_ones() {
    let clips = vec![
        clip("locked", datetime!(2026-01-01 00:00), 100, true),
        clip("older", datetime!(2026-01-02 00:00), 100, false),
        clip("newer", datetime!(2026-01-05 00:00), 100, false),
    ];
    let policy = RetentionPolicy {
        max_used_percent: Some(50.0),
        ..RetentionPolicy::default()
    };
    let disk = DiskSpace {
        total: 1000,
        used: 900,
    };
    let downloading = datetime!(2026-01-03 00:00);
    let p = plan(&clips, &policy, NOW, Some(disk), Some(downloading));
    assert_eq!(names(&clips, &p), ["older"]);
    assert!(p.still_over_limit);
}

#[test]
fn age_evictions_count_towards_the_space_rule() {
    let clips = vec![
        clip("ancient", datetime!(2025-01-01 00:00), 300, false),
        clip("fresh", datetime!(2026-01-30 00:00), 100, false),
    ];
    let policy = RetentionPolicy {
        keep: Some(Duration::from_secs(30 * 86_400)),
        max_used_percent: Some(80.0),
        quota: None,
        protect_locked: true,
    };
    let disk = DiskSpace {
        total: 1000,
        used: 900,
    };
    let p = plan(&clips, &policy, NOW, Some(disk), None);
    assert_eq!(names(&clips, &p), ["ancient"]);
    assert_eq!(p.freed, 300);
}

/// A disk full of other data: the space rule removes old clips but
/// never the newest day, and says the limit is out of reach (issue 14:
/// a dry run used to propose removing the whole archive).
#[test]
fn a_disk_full_of_other_data_never_empties_the_archive() {
    let clips = vec![
        clip("old-1", datetime!(2026-01-20 10:00), 100, false),
        clip("old-2", datetime!(2026-01-25 10:00), 100, false),
        clip("day-1", datetime!(2026-01-29 12:00), 100, false),
        clip("day-2", datetime!(2026-01-30 09:00), 100, false),
        clip("locked", datetime!(2026-01-01 09:00), 100, true),
    ];
    let policy = RetentionPolicy {
        max_used_percent: Some(50.0),
        ..RetentionPolicy::default()
    };
    // 995 of 1000 used, the archive 500 of it: under 50 % is out of reach.
    let disk = DiskSpace {
        total: 1000,
        used: 995,
    };
    let p = plan(&clips, &policy, NOW, Some(disk), None);
    assert_eq!(names(&clips, &p), ["old-1", "old-2"]);
    assert!(p.still_over_limit);
    assert_eq!(p.archive_bytes, 500);
    // When removing some is enough, no more is removed.
    let disk = DiskSpace {
        total: 1000,
        used: 550,
    };
    let p = plan(&clips, &policy, NOW, Some(disk), None);
    assert_eq!(names(&clips, &p), ["old-1"]);
    assert!(!p.still_over_limit);
}

/// The quota counts clips and sidecars, removes the oldest unlocked
/// first, and keeps the newest day and locked clips.
#[test]
fn the_quota_removes_the_oldest_until_the_archive_fits() {
    let mut clips = vec![
        clip("a", datetime!(2026-01-10 10:00), 300, false),
        clip("b", datetime!(2026-01-11 10:00), 300, true),
        clip("c", datetime!(2026-01-12 10:00), 300, false),
        clip("d", datetime!(2026-01-30 09:00), 300, false),
    ];
    if let Some(c) = clips.get_mut(2) {
        c.sidecar_bytes = 50;
    }
    let policy = RetentionPolicy {
        quota: Some(700),
        ..RetentionPolicy::default()
    };
    assert!(!policy.is_noop());
    let p = plan(&clips, &policy, NOW, None, None);
    assert_eq!(p.archive_bytes, 1250);
    assert_eq!(names(&clips, &p), ["a", "c"]);
    assert_eq!(p.freed, 650);
    assert!(!p.still_over_quota);
    assert!(p.evictions.iter().all(|e| e.reason == EvictReason::Quota));
    let tight = RetentionPolicy {
        quota: Some(100),
        ..RetentionPolicy::default()
    };
    let p = plan(&clips, &tight, NOW, None, None);
    assert_eq!(
        names(&clips, &p),
        ["a", "c"],
        "locked and the newest day stay"
    );
    assert!(p.still_over_quota);
}

#[test]
fn noop_policy_plans_nothing() {
    let clips = vec![clip("a", datetime!(2020-01-01 00:00), 1, false)];
    let p = plan(
        &clips,
        &RetentionPolicy::default(),
        NOW,
        Some(DiskSpace {
            total: 10,
            used: 10,
        }),
        None,
    );
    assert!(p.evictions.is_empty());
    assert!(RetentionPolicy::default().is_noop());
}

#[test]
fn scan_finds_clips_in_groups_with_sidecars_and_remove_takes_them_together() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("2026-01-02");
    std::fs::create_dir(&day).unwrap();
    let clip_path = day.join("2026_0102_101010_000001F.MP4");
    std::fs::write(&clip_path, b"0123456789").unwrap();
    std::fs::write(
        viofo_gps::sidecar_path(&clip_path, viofo_gps::Format::Gpx),
        b"<gpx/>",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
    std::fs::write(dir.path().join("X.MP4.part"), b"x").unwrap();
    let deeper = day.join("deeper");
    std::fs::create_dir(&deeper).unwrap();
    std::fs::write(deeper.join("Y.MP4"), b"x").unwrap();

    let found = scan_archive(
        dir.path(),
        crate::CameraClock::default(),
        &|_| Some(datetime!(2026-01-02 10:10:10)),
        &|n| n.contains("F."),
    )
    .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let c = &found[0];
    assert_eq!(c.path, clip_path);
    assert_eq!(c.size, 10);
    assert!(c.locked);
    assert_eq!(
        c.sidecars,
        [viofo_gps::sidecar_path(&clip_path, viofo_gps::Format::Gpx)]
    );

    remove(c).unwrap();
    assert!(!clip_path.exists());
    assert!(!viofo_gps::sidecar_path(&clip_path, viofo_gps::Format::Gpx).exists());
    // Removing again is fine: already gone.
    remove(c).unwrap();
}

/// A second recording under a name (`<stem>~2.<ext>`) is planned with the
/// camera name's time and lock, and its own sidecar.
#[test]
fn a_versioned_clip_takes_its_camera_names_time_and_lock() {
    let dir = tempfile::tempdir().unwrap();
    let v2 = dir.path().join("2026_0102_101010_000001F~2.MP4");
    std::fs::write(&v2, b"0123").unwrap();
    std::fs::write(
        viofo_gps::sidecar_path(&v2, viofo_gps::Format::Gpx),
        b"<gpx/>",
    )
    .unwrap();
    let found = scan_archive(
        dir.path(),
        crate::CameraClock::default(),
        &|n| (n == "2026_0102_101010_000001F.MP4").then_some(datetime!(2026-01-02 10:10:10)),
        &|n| n == "2026_0102_101010_000001F.MP4",
    )
    .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].recorded_at, datetime!(2026-01-02 10:10:10));
    assert!(found[0].locked);
    assert_eq!(found[0].sidecars.len(), 1);
}
