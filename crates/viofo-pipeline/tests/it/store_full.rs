//! A full state-database disk stops an import as a full disk (the exit
//! code a full disk has), and no source is removed for a clip that could
//! not be recorded.

use viofo_pipeline::import::{ImportOptions, Importer};
use viofo_pipeline::{Shutdown, SyncConfig};
use viofo_sim::{ClipSpec, Folder};
use viofo_store::{Store, StoreOptions};

use super::import::card;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_state_database_is_a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let mut opts = StoreOptions::at(dir.path().join("state.db"));
    // No room beyond what the new database holds.
    opts.max_page_count = Some(1);
    let store = Store::open(opts).await.unwrap();
    let card_root = dir.path().join("card");
    let clips = card(&card_root, ClipSpec::synthetic(40).size(100_000)).await;
    let mut cfg = SyncConfig::new("card-camera", &archive);
    cfg.max_used_disk = None;
    let moving = ImportOptions {
        move_sources: true,
        ..ImportOptions::default()
    };
    let importer = Importer::new(store.clone(), cfg, moving).unwrap();
    let err = importer
        .run(std::slice::from_ref(&card_root), |_| {}, &Shutdown::new())
        .await
        .expect_err("the state database had no room");
    assert!(err.is_disk_full() && err.is_store(), "{err:#}");
    let text = format!("{err:#}");
    assert!(text.contains("state database is full"), "unclear: {text}");
    // Every source whose clip is not recorded is still on the card.
    for (name, folder, _) in &clips {
        assert_eq!(*folder, Folder::Movie);
        let recorded = store
            .get_by_name("card-camera", name)
            .await
            .unwrap()
            .is_some();
        let source = card_root.join(folder.card_dir()).join(name);
        assert!(
            recorded || source.is_file(),
            "{name}: removed, not recorded"
        );
    }
}
