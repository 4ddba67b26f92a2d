//! Tests of the durable-write policy: names taken only when free, a failed
//! item alone, sidecars staged under the gps crate's temporary names.

use super::*;

#[test]
fn every_file_takes_its_name_and_a_missing_one_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("2026-12-02");
    std::fs::create_dir(&sub).unwrap();
    let mut items = Vec::new();
    for (i, folder) in [dir.path(), &sub, &sub].into_iter().enumerate() {
        let tmp = folder.join(format!("c{i}.MP4.part"));
        std::fs::write(&tmp, vec![u8::try_from(i).unwrap(); 1000]).unwrap();
        items.push(Staged {
            tmp,
            dest: folder.join(format!("c{i}.MP4")),
        });
    }
    items.push(Staged {
        tmp: sub.join("gone.MP4.part"),
        dest: sub.join("gone.MP4"),
    });
    let results = commit(&items);
    for (s, r) in items.iter().zip(&results).take(3) {
        assert!(r.is_ok(), "{r:?}");
        assert!(s.dest.is_file() && !s.tmp.exists());
        assert_eq!(std::fs::metadata(&s.dest).unwrap().len(), 1000);
    }
    assert!(results[3].is_err());
    assert!(!sub.join("gone.MP4").exists(), "nothing under a final name");
}

#[test]
fn a_staged_sidecar_is_the_written_track_under_a_temporary_name() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("2026_1202_080000_000001F.MP4");
    let points = vec![viofo_gps::Point {
        time: time::macros::datetime!(2026-12-02 08:00 UTC),
        lat: 52.5,
        lon: 13.4,
        speed_mps: 10.0,
        course_deg: 90.0,
        accel: None,
    }];
    let s = stage_sidecar(&clip, &points, viofo_gps::Format::Gpx).unwrap();
    assert_eq!(
        s.dest,
        viofo_gps::sidecar_path(&clip, viofo_gps::Format::Gpx)
    );
    assert!(!s.dest.exists());
    let mut want = Vec::new();
    viofo_gps::write_track(
        &points,
        Some("2026_1202_080000_000001F.MP4"),
        viofo_gps::Format::Gpx,
        &mut want,
    )
    .unwrap();
    assert_eq!(std::fs::read(&s.tmp).unwrap(), want);
    commit(std::slice::from_ref(&s)).pop().unwrap().unwrap();
    assert_eq!(std::fs::read(&s.dest).unwrap(), want);
    // A crash's leftover of this name is the gps crate's to clean.
    assert_eq!(viofo_gps::remove_stale_sidecar_temps(&clip).unwrap(), 0);
}

#[test]
fn a_final_name_is_never_taken_over_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("2025_1224_120324_000002PF.MP4");
    std::fs::write(&dest, b"archived bytes").unwrap();
    let tmp = dir.path().join(".2025_1224_120324_000002PF.MP4.part");
    std::fs::write(&tmp, b"another recording").unwrap();
    let items = [Staged {
        tmp: tmp.clone(),
        dest: dest.clone(),
    }];
    let r = commit(&items).pop().unwrap();
    assert_eq!(r.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&dest).unwrap(), b"archived bytes");
    assert_eq!(std::fs::read(&tmp).unwrap(), b"another recording", "kept");
    // The next free name takes it.
    let free = crate::archive::Archive::free_name(&dest);
    assert_eq!(free, dir.path().join("2025_1224_120324_000002PF~2.MP4"));
    commit(&[Staged {
        tmp,
        dest: free.clone(),
    }])
    .pop()
    .unwrap()
    .unwrap();
    assert_eq!(std::fs::read(&free).unwrap(), b"another recording");
    assert_eq!(std::fs::read(&dest).unwrap(), b"archived bytes");
}

#[test]
fn the_fallbacks_never_replace_either() {
    // rename_no_replace's answer on an existing name, whichever way the
    // file system lets it rename.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, b"a").unwrap();
    std::fs::write(&b, b"b").unwrap();
    let e = rename_no_replace(&a, &b).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{e}");
    assert_eq!(std::fs::read(&b).unwrap(), b"b");
    rename_no_replace(&a, &dir.path().join("c")).unwrap();
    assert!(!a.exists());
}

#[test]
fn a_derived_file_is_replaced_whole_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir
        .path()
        .join("journeys")
        .join("2026-12-02_0800_home-work.gpx");
    write_derived(&dest, b"first").unwrap();
    write_derived(&dest, b"second, longer").unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), b"second, longer");
    let names: Vec<_> = std::fs::read_dir(dest.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}
