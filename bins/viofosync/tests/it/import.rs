//! `viofosync import`: exit codes, a folder imported (and moved), a failing
//! read, and an import killed with SIGKILL and run again with nothing lost.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use viofo_testkit::{CAMERA, StoreCheck, sha256, sha256_file};

use crate::{Camera, Env, files, ok};

/// The camera's clips written out as a card under `root`
/// (`DCIM/Movie/...`): each source path with the hash of its bytes.
fn write_card(cam: &Camera, root: &Path) -> BTreeMap<PathBuf, viofo_testkit::Hash> {
    let mut out = BTreeMap::new();
    for c in cam.sim().clips() {
        let bytes = cam.sim().clip_bytes_at(c.folder, &c.name).unwrap();
        let dir = root.join(c.folder.card_dir());
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(&c.name);
        std::fs::write(&p, &bytes).unwrap();
        out.insert(p, sha256(&bytes));
    }
    out
}

/// `viofosync import` in `env` for the archive (created) and camera id
/// [`CAMERA`], no disk limit.
fn import_cmd(env: &Env) -> assert_cmd::Command {
    let mut c = env.cmd();
    c.env("VIOFOSYNC_ARCHIVE", env.make_archive())
        .env("VIOFOSYNC_CAMERA_ID", CAMERA)
        .env("VIOFOSYNC_MAX_USED_DISK", "100")
        .arg("import");
    c
}

#[test]
fn a_missing_path_or_a_file_exits_2_before_anything_is_opened() {
    let env = Env::new();
    let missing = env.path("no-card");
    let o = import_cmd(&env).arg(&missing).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no-card") && err.contains("does not exist"),
        "{err}"
    );
    let file = env.path("a-file.MP4");
    std::fs::write(&file, b"x").unwrap();
    let o = import_cmd(&env).arg(&file).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a folder"));
    assert!(!env.default_db().exists(), "the state database was created");
    // Without a path at all: clap's usage error (2 as well).
    let o = import_cmd(&env).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

#[test]
fn a_folder_is_imported_and_moved_then_nothing_twice() {
    let cam = Camera::with_clips(4, 300_000);
    let catalog = cam.catalog();
    let env = Env::new();
    let card = env.path("card");
    let sources = write_card(&cam, &card);
    std::fs::write(card.join("DCIM/Movie/readme.txt"), b"hello").unwrap();
    let out = ok(import_cmd(&env).arg(&card).arg("--move"));
    assert!(out.contains("imported 4 clips"), "{out}");
    assert!(
        out.contains("readme.txt") && out.contains("not a clip"),
        "{out}"
    );
    assert!(out.contains("4 sources removed"), "{out}");
    for p in sources.keys() {
        assert!(!p.exists(), "{} not removed", p.display());
    }
    // Every clip byte-identical with its GPX, recorded done.
    cam.assert_no_loss(&catalog, &env, StoreCheck::Settled);
    // The sources back (a card read again): nothing is imported twice.
    write_card(&cam, &card);
    let out = ok(import_cmd(&env).arg(&card));
    assert!(
        out.contains("imported 0 clips") && out.contains("4 already archived"),
        "{out}"
    );
}

#[test]
fn a_failing_read_exits_5_and_the_rest_is_imported() {
    let cam = Camera::with_clips(2, 200_000);
    let env = Env::new();
    let card = env.path("card");
    write_card(&cam, &card);
    let broken = card.join("DCIM/Movie/2025_1224_130000_000099F.MP4");
    std::os::unix::fs::symlink(env.path("gone"), &broken).unwrap();
    let o = import_cmd(&env).arg(&card).output().unwrap();
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        out.contains("imported 2 clips") && out.contains("1 failed"),
        "{out}"
    );
    assert!(
        out.contains("000099F") && out.contains("cannot read"),
        "{out}"
    );
    assert!(err.contains("finished with failures"), "{err}");
    assert_eq!(
        files(&env.archive())
            .iter()
            .filter(|f| f.ends_with(".MP4"))
            .count(),
        2
    );
}

/// Is a final-named clip in the archive yet (a batch made durable)?
fn some_clip_archived(archive: &Path) -> bool {
    files(archive).iter().any(|f| f.ends_with(".MP4"))
}

#[test]
fn an_import_killed_with_sigkill_resumes_with_nothing_lost() {
    // Enough clips that the import is still copying when the first batch
    // has taken its final names.
    let cam = Camera::with_clips(300, 400_000);
    let env = Env::new();
    let card = env.path("card");
    let sources = write_card(&cam, &card);
    let archive = env.make_archive();
    let mut child = env
        .std_cmd()
        .env("VIOFOSYNC_ARCHIVE", &archive)
        .env("VIOFOSYNC_CAMERA_ID", CAMERA)
        .env("VIOFOSYNC_MAX_USED_DISK", "100")
        .args(["import", "--move"])
        .arg(&card)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !some_clip_archived(&archive) {
        assert!(Instant::now() < deadline, "no progress within 120 s");
        assert!(child.try_wait().unwrap().is_none(), "import ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(still_running, "the import finished before it was killed");
    // What the kill left: every clip under a final name is whole; every
    // source gone has its whole copy archived.
    let archived = archived_hashes(&archive);
    let mut moved = 0;
    for (src, hash) in &sources {
        let name = src.file_name().unwrap().to_str().unwrap();
        if let Some(h) = archived.get(name) {
            assert_eq!(
                h, hash,
                "{name}: a partial or wrong copy under its final name"
            );
        }
        if !src.exists() {
            moved += 1;
            assert_eq!(
                archived.get(name),
                Some(hash),
                "{name}: removed but not archived"
            );
        }
    }
    assert!(moved < sources.len(), "all moved before the kill");
    // Run again: everything is archived, every source removed.
    let out = ok(import_cmd(&env).arg(&card).arg("--move"));
    assert!(out.contains("0 failed"), "{out}");
    let archived = archived_hashes(&archive);
    for (src, hash) in &sources {
        let name = src.file_name().unwrap().to_str().unwrap();
        assert_eq!(archived.get(name), Some(hash), "{name} lost");
        assert!(!src.exists(), "{} left on the card", src.display());
    }
    let leftovers: Vec<String> = files(&archive)
        .into_iter()
        .filter(|f| f.ends_with(".part") || f.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    cam.assert_no_loss(&cam.catalog(), &env, StoreCheck::Settled);
}

/// Each clip under its final name in the archive, by name: its hash.
fn archived_hashes(archive: &Path) -> BTreeMap<String, viofo_testkit::Hash> {
    files(archive)
        .into_iter()
        .filter(|f| f.ends_with(".MP4"))
        .map(|f| {
            let p = archive.join(&f);
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            (name, sha256_file(&p).unwrap())
        })
        .collect()
}
