//! `import --move` never removes the archive's own files: not a source
//! that is its archived copy by another name (a hard link), nor a folder
//! that is the archive by another spelling (a link to it, a `..` path).
//! (A bind mount of the archive needs root: the reliability suite's
//! `importmove` scenario.)

use std::path::{Path, PathBuf};

use viofo_pipeline::Grouping;
use viofo_pipeline::import::ImportOptions;
use viofo_sim::{ClipSpec, Folder};
use viofo_store::ClipState;

use super::import::{CAMERA, Setup, card};

fn moving() -> ImportOptions {
    ImportOptions {
        move_sources: true,
        ..ImportOptions::default()
    }
}

/// Imports a card of `n` clips (daily folders, no `--move`); returns each
/// clip's name, bytes and archive path.
async fn archived(s: &Setup, n: usize) -> Vec<(String, Vec<u8>, PathBuf)> {
    let card_root = s.dir.path().join("card");
    let clips = card(&card_root, ClipSpec::synthetic(n).size(100_000)).await;
    let mut cfg = s.config();
    cfg.grouping = Grouping::Daily;
    let (r, _) = s.import(cfg, ImportOptions::default(), &[card_root]).await;
    assert_eq!(r.unwrap().imported, n as u64);
    let mut out = Vec::new();
    for (name, folder, bytes) in clips {
        assert_eq!(folder, Folder::Movie);
        let row = s.store.get_by_name(CAMERA, &name).await.unwrap().unwrap();
        let at = row.local_path.unwrap();
        out.push((name, bytes, at));
    }
    out
}

/// Every archived copy still there with its bytes, still recorded done.
async fn archive_intact(s: &Setup, clips: &[(String, Vec<u8>, PathBuf)], when: &str) {
    for (name, bytes, at) in clips {
        assert_eq!(
            std::fs::read(at).ok().as_ref(),
            Some(bytes),
            "{when}: {name}'s archived copy lost"
        );
        let row = s.store.get_by_name(CAMERA, name).await.unwrap().unwrap();
        assert_eq!(row.state, ClipState::Done, "{when}: {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_link_to_an_archived_copy_is_kept() {
    let s = Setup::new().await;
    let clips = archived(&s, 3).await;
    // A "card" whose clips are the archive's own files under other names.
    let links = s.dir.path().join("links");
    let movie = links.join(Folder::Movie.card_dir());
    std::fs::create_dir_all(&movie).unwrap();
    for (name, _, at) in &clips {
        std::fs::hard_link(at, movie.join(name)).unwrap();
    }
    let mut cfg = s.config();
    cfg.grouping = Grouping::Daily;
    let (r, _) = s.import(cfg, moving(), &[links]).await;
    let summary = r.unwrap();
    assert_eq!(summary.already_archived, 3, "{summary:?}");
    assert_eq!(
        summary.removed, 0,
        "the archive's own files removed: {summary:?}"
    );
    assert_eq!(summary.not_removed.len(), 3, "{summary:?}");
    for (_, why) in &summary.not_removed {
        assert!(why.contains("is the archived copy itself"), "{why}");
    }
    for (name, _, _) in &clips {
        assert!(movie.join(name).is_file(), "{name}: link removed");
    }
    archive_intact(&s, &clips, "after --move of hard links").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_by_another_spelling_is_refused() {
    let s = Setup::new().await;
    let clips = archived(&s, 2).await;
    let day = clips[0].2.parent().unwrap().to_owned();
    let alias = s.dir.path().join("alias");
    std::os::unix::fs::symlink(&s.archive, &alias).unwrap();
    let day_alias = s.dir.path().join("day-alias");
    std::os::unix::fs::symlink(&day, &day_alias).unwrap();
    let dotted = s.dir.path().join("card").join("..").join("archive");
    let through_alias = alias.join(day.file_name().unwrap());
    let spellings: [&Path; 4] = [&alias, &day_alias, &dotted, &through_alias];
    for src in spellings {
        let mut cfg = s.config();
        cfg.grouping = Grouping::Daily;
        let (r, _) = s.import(cfg, moving(), &[src.to_owned()]).await;
        let e = r.expect_err("the archive imported into itself");
        assert!(
            e.is_config() && e.to_string().contains("inside the archive"),
            "{}: {e}",
            src.display()
        );
        archive_intact(&s, &clips, &src.display().to_string()).await;
    }
}
