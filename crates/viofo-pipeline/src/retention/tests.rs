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

fn item(name: &str, at: PrimitiveDateTime, bytes: u64, archived: bool, locked: bool) -> QuotaItem {
    QuotaItem {
        name: name.to_owned(),
        recorded_at: at,
        bytes,
        archived,
        locked,
    }
}

/// The quota keeps the newest clips that fit, archived or waiting; the
/// newest day and locked clips are kept first; a waiting clip not kept is
/// older than what is kept, or, when nothing newer is kept, the quota is
/// full of what cannot go (issue 18 item 7).
#[test]
fn the_quota_keeps_the_newest_that_fit() {
    let d = |day: u8, h: u8| {
        datetime!(2026-01-01 00:00)
            + time::Duration::days(i64::from(day))
            + time::Duration::hours(i64::from(h))
    };
    let items = vec![
        item("a1", d(1, 9), 100, true, false),
        item("a2", d(1, 10), 100, true, true),
        item("a3", d(2, 9), 100, true, false),
        item("w3", d(2, 12), 100, false, false),
        item("w4", d(4, 9), 100, false, false),
        item("w4b", d(4, 10), 100, false, false),
    ];
    let k = quota_keep(&items, 350, 0, true);
    // Locked a2 first (100), then newest first: w4b, w4, then w3 does not
    // fit (400 > 350): w3, a3 and a1 are not kept.
    assert_eq!(k.keep, [false, true, false, false, true, true]);
    assert_eq!((k.locked_bytes, k.newest_day_bytes), (100, 0));
    assert_eq!(k.newest, Some(d(4, 10)));
    assert_eq!(k.verdict(&items, 3), QuotaVerdict::Older);
    assert_eq!(k.verdict(&items, 4), QuotaVerdict::Keep);
    // Reserved bytes (downloads not yet archived) count first.
    let k = quota_keep(&items, 350, 150, true);
    assert_eq!(k.keep, [false, true, false, false, false, true]);
    // The newest day archived and a locked clip fill it: the waiting
    // clips, newer than the archive, cannot be kept: full.
    let full = vec![
        item("old-locked", d(1, 9), 100, true, true),
        item("today", d(4, 8), 200, true, false),
        item("now", d(4, 9), 100, false, false),
    ];
    let k = quota_keep(&full, 300, 0, true);
    assert_eq!(k.keep, [true, true, false]);
    assert_eq!(
        k.verdict(&full, 2),
        QuotaVerdict::Full {
            locked: 100,
            newest_day: 200
        }
    );
    // Locked clips not protected: removable like the rest.
    let k = quota_keep(&full, 300, 0, false);
    assert_eq!(k.keep, [false, true, true]);
}

/// With a newer clip known, the archive's last day is no longer the newest
/// day: the space floor moves with it.
#[test]
fn the_floor_is_the_day_before_the_newest_known() {
    let clips = vec![
        clip("yesterday", datetime!(2026-01-29 10:00), 100, false),
        clip("today", datetime!(2026-01-30 10:00), 100, false),
    ];
    let policy = RetentionPolicy {
        quota: Some(100),
        ..RetentionPolicy::default()
    };
    let p = plan(&clips, &policy, NOW, None, None);
    assert_eq!(names(&clips, &p), ["yesterday"]);
    let p = plan(
        &clips,
        &policy,
        NOW,
        None,
        Some(datetime!(2026-01-30 09:00)),
    );
    assert_eq!(names(&clips, &p), ["yesterday"]);
    let tight = RetentionPolicy {
        quota: Some(0),
        ..RetentionPolicy::default()
    };
    let p = plan(&clips, &tight, NOW, None, None);
    assert_eq!(names(&clips, &p), ["yesterday"], "today is the newest day");
    let p = plan_around(
        &clips,
        &tight,
        NOW,
        None,
        None,
        Some(datetime!(2026-01-31 11:00)),
    );
    assert_eq!(names(&clips, &p), ["yesterday", "today"]);
}

mod rotation {
    use super::*;
    use proptest::prelude::*;

    fn at(minutes: u32) -> PrimitiveDateTime {
        datetime!(2026-01-01 00:00) + time::Duration::minutes(i64::from(minutes))
    }

    proptest! {
        /// Rotation: whatever the archive holds and the camera has waiting
        /// (unlocked, over several days), downloading the waiting clips the
        /// quota keeps, oldest first as a cycle may, each after making
        /// room with retention's plan (never a clip newer than it), never
        /// prunes a clip downloaded in the same run, and ends with the
        /// archive holding exactly the clips kept: the newest that fit,
        /// within the quota unless the newest day alone is over it.
        #[test]
        fn a_cycle_under_a_quota_ends_with_the_newest_that_fit(
            raw in proptest::collection::vec((0u32..(6 * 1440), 1u64..50, any::<bool>()), 1..30),
            quota in 0u64..400,
        ) {
            let mut items: Vec<QuotaItem> = raw
                .iter()
                .enumerate()
                .map(|(i, (m, b, archived))| item(&format!("c{i:02}"), at(*m), *b, *archived, false))
                .collect();
            items.sort_by(|a, b| (a.recorded_at, &a.name).cmp(&(b.recorded_at, &b.name)));
            let k = quota_keep(&items, quota, 0, true);
            // The kept clips that may go are the newest: none older than
            // one that is not kept.
            for (i, a) in items.iter().enumerate() {
                for (j, b) in items.iter().enumerate() {
                    if k.keep[i] && !k.pinned[i] && !k.keep[j] {
                        prop_assert!((a.recorded_at, &a.name) > (b.recorded_at, &b.name));
                    }
                }
            }
            let kept_bytes: u64 = (0..items.len()).filter(|&i| k.keep[i]).map(|i| items[i].bytes).sum();
            let pinned_bytes: u64 = (0..items.len()).filter(|&i| k.pinned[i]).map(|i| items[i].bytes).sum();
            prop_assert!(kept_bytes <= quota.max(pinned_bytes));

            // Run it: the archive, then the kept waiting clips oldest first.
            let mut archive: Vec<ArchivedClip> = items
                .iter()
                .filter(|c| c.archived)
                .map(|c| clip(&c.name, c.recorded_at, c.bytes, false))
                .collect();
            let mut downloaded: Vec<String> = Vec::new();
            for (i, c) in items.iter().enumerate() {
                if c.archived || !k.keep[i] {
                    continue;
                }
                let size: u64 = archive.iter().map(|a| a.size).sum();
                if size + c.bytes > quota {
                    let policy = RetentionPolicy {
                        quota: Some(quota.saturating_sub(c.bytes)),
                        ..RetentionPolicy::default()
                    };
                    let p = plan_around(&archive, &policy, NOW, None, Some(c.recorded_at), k.newest);
                    let gone: Vec<String> = names(&archive, &p);
                    for g in &gone {
                        prop_assert!(!downloaded.contains(g), "{g} downloaded, then pruned");
                    }
                    archive.retain(|a| !gone.contains(&a.path.display().to_string()));
                }
                let size: u64 = archive.iter().map(|a| a.size).sum();
                prop_assert!(size + c.bytes <= quota.max(pinned_bytes + c.bytes), "no room made for {}", c.name);
                archive.push(clip(&c.name, c.recorded_at, c.bytes, false));
                downloaded.push(c.name.clone());
            }
            // What is left of the old archive beyond the kept set goes at
            // the cycle's end (the plan without a download in flight).
            let policy = RetentionPolicy { quota: Some(quota), ..RetentionPolicy::default() };
            let p = plan_around(&archive, &policy, NOW, None, None, k.newest);
            let gone = names(&archive, &p);
            for g in &gone {
                prop_assert!(!downloaded.contains(g), "{g} downloaded, then pruned");
            }
            archive.retain(|a| !gone.contains(&a.path.display().to_string()));
            let left: Vec<String> = archive.iter().map(|a| a.path.display().to_string()).collect();
            // Every clip kept is there; anything else left is an old
            // archived clip the quota has room for still.
            for i in (0..items.len()).filter(|&i| k.keep[i]) {
                prop_assert!(left.contains(&items[i].name), "{} kept, not there", items[i].name);
            }
            for name in &left {
                let i = items.iter().position(|c| &c.name == name).unwrap();
                prop_assert!(k.keep[i] || items[i].archived, "{name}");
            }
            let size: u64 = archive.iter().map(|a| a.size).sum();
            prop_assert!(size <= quota.max(pinned_bytes), "{size} over {quota}");
        }
    }
}
