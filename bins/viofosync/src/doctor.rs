//! `viofosync doctor`: every check a sync depends on (configuration, the
//! state database's placement, a Python-tool database to import, the
//! archive, the camera), each printed OK, WARN or FAIL.

use std::path::Path;

use anyhow::Result;
use tracing::instrument::WithSubscriber as _;
use viofo_store::{FsClass, LegacyImport, LegacyOutcome, Store, StoreOptions};

use crate::commands::{client, open_existing_store, state_db};
use crate::config::Loaded;
use crate::errors::{Exit, chain, chain_of, classify};
use crate::output;
use crate::stdout::outln;

/// The checks' results so far.
#[derive(Default)]
struct Checks {
    fails: Vec<Exit>,
}

impl Checks {
    fn ok(&self, what: &str) {
        outln!("OK    {what}");
    }

    fn warn(&self, what: &str) {
        outln!("WARN  {what}");
    }

    fn fail(&mut self, code: Exit, what: &str) {
        outln!("FAIL  {what}");
        self.fails.push(code);
    }
}

/// `doctor`: the exit code is the first failure's class (configuration 2,
/// camera 3, disk 4, other 1). With `init` a missing archive folder is
/// created; nothing else is ever created or changed.
pub(crate) async fn doctor(l: &Loaded, init: bool) -> Result<Exit> {
    let mut c = Checks::default();
    if l.file_found {
        c.ok(&format!("configuration file {}", l.file.display()));
    } else {
        c.warn(&format!(
            "no configuration file at {} (environment and flags only)",
            l.file.display()
        ));
    }
    let address = l.settings.address.clone();
    match &address {
        Some(a) => c.ok(&format!("address {a} ({})", l.source("address"))),
        None => c.fail(Exit::Config, "no camera address (set `address`)"),
    }
    let archive = l.settings.archive.clone();
    if archive.is_none() {
        c.fail(Exit::Config, "no archive folder (set `archive`)");
    }
    state_database(l, archive.as_deref(), &mut c).await;
    legacy_database(l, archive.as_deref(), &mut c).await;
    if let Some(a) = &archive {
        archive_folder(l, a, init, &mut c).await;
    }
    if let Some(a) = &address {
        camera(l, a, &mut c).await;
    }
    let code = c.fails.first().copied().unwrap_or(Exit::Success);
    if code == Exit::Success {
        outln!("all checks passed");
    }
    Ok(code)
}

/// The store's own placement rule ([`viofo_store::check_placement`]: not
/// inside the archive, not on a network filesystem unless allowed), then
/// whether an existing database opens.
async fn state_database(l: &Loaded, archive: Option<&Path>, c: &mut Checks) {
    let db = match state_db(l) {
        Ok(db) => db,
        Err(e) => return c.fail(Exit::Config, &chain(&e)),
    };
    let (path, recordings) = (db.clone(), archive.map(Path::to_path_buf));
    let allow = l.settings.allow_network_fs;
    let placement = tokio::task::spawn_blocking(move || {
        viofo_store::check_placement(&path, recordings.as_deref(), allow)
    })
    .await;
    match placement {
        Err(e) => c.fail(Exit::Other, &format!("placement check did not run: {e}")),
        Ok(Err(e)) => {
            let code = if e.is_network_fs() || e.is_inside_recordings() {
                Exit::Config
            } else {
                Exit::Other
            };
            c.fail(code, &format!("state database: {}", chain_of(&e)));
        }
        Ok(Ok(p)) => {
            let state = if p.exists {
                "exists"
            } else {
                "will be created"
            };
            match p.fs {
                Some(FsClass::Fuse) => c.warn(&format!(
                    "state database {} ({state}) is on a FUSE filesystem; make sure it is local disk",
                    db.display()
                )),
                Some(FsClass::Network(fs)) => c.ok(&format!(
                    "state database {} ({state}, network filesystem {fs}, allowed)",
                    db.display()
                )),
                _ => c.ok(&format!(
                    "state database {} ({state}, local filesystem)",
                    db.display()
                )),
            }
        }
    }
    if db.exists() {
        match open_existing_store(l).await {
            Ok(None) => {}
            Ok(Some(store)) => {
                match store.counts(None).await {
                    Ok(n) => c.ok(&format!("state database opens ({} clips)", n.total())),
                    Err(e) => c.fail(Exit::Other, &format!("state database: {}", chain_of(&e))),
                }
                store.close().await.ok();
            }
            Err(e) => c.fail(classify(&e), &format!("state database: {}", chain(&e))),
        }
    }
}

/// A Python-tool database the next sync would import: the store's import
/// is run on a copy in a scratch store (so the file is neither renamed nor
/// locked), and one it cannot read is reported with the setting that
/// turns the import off.
async fn legacy_database(l: &Loaded, archive: Option<&Path>, c: &mut Checks) {
    if !l.settings.import_legacy {
        return;
    }
    let Some(source) = viofo_store::legacy_candidates(None, archive)
        .into_iter()
        .find(|p| p.is_file())
    else {
        return;
    };
    let off = "set import_legacy = false (VIOFOSYNC_IMPORT_LEGACY=false) to stop importing it";
    let camera_id = l.camera_id().unwrap_or_else(|| "doctor".to_owned());
    // The scratch store's own warning would name the copy; this check
    // reports the file itself below.
    let trial = trial_import(&source, camera_id)
        .with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await;
    match trial {
        Ok(Some(LegacyOutcome::Imported(r))) => c.ok(&format!(
            "the Python tool's database {} is readable: the next sync imports {} clips",
            source.display(),
            r.imported
        )),
        Ok(Some(LegacyOutcome::Skipped { reason, .. })) => c.warn(&format!(
            "the Python tool's database {} cannot be read ({reason}); a sync skips it and \
             leaves it as it is; {off}",
            source.display()
        )),
        Ok(_) => {}
        Err(e) => c.warn(&format!(
            "the Python tool's database {} cannot be read ({}); {off}",
            source.display(),
            chain(&e)
        )),
    }
}

/// The store's legacy import of a copy of `source` (with its `-wal`), into
/// a scratch store that is thrown away.
async fn trial_import(source: &Path, camera_id: String) -> Result<Option<LegacyOutcome>> {
    let dir = tempfile::tempdir()?;
    let copy = dir.path().join("legacy.db");
    fs_err::copy(source, &copy)?;
    let mut wal = source.as_os_str().to_owned();
    wal.push("-wal");
    if Path::new(&wal).is_file() {
        fs_err::copy(&wal, dir.path().join("legacy.db-wal"))?;
    }
    let store = Store::open(StoreOptions {
        legacy: Some(LegacyImport {
            camera_id,
            path: Some(copy),
        }),
        ..StoreOptions::at(dir.path().join("scratch.db"))
    })
    .await?;
    let outcome = store.legacy_outcome().cloned();
    store.close().await.ok();
    Ok(outcome)
}

/// The archive exists (created only with `init`), is a folder, takes a
/// write; its disk is under `max_used_disk`.
async fn archive_folder(l: &Loaded, a: &Path, init: bool, c: &mut Checks) {
    let missing = std::fs::symlink_metadata(a).is_err();
    if missing && init {
        match fs_err::create_dir_all(a) {
            Ok(()) => c.ok(&format!("archive {} created (--init)", a.display())),
            Err(e) => return c.fail(Exit::Config, &format!("cannot create the archive: {e}")),
        }
    } else if missing {
        return c.fail(
            Exit::Config,
            &format!(
                "archive {} does not exist: mount it, or create it on purpose with \
                 `viofosync doctor --init` (or create_archive = true)",
                a.display()
            ),
        );
    }
    let path = a.to_path_buf();
    match tokio::task::spawn_blocking(move || viofo_pipeline::check_archive(&path)).await {
        Ok(Ok(())) => c.ok(&format!("archive {} is writable", a.display())),
        Ok(Err(e)) => c.fail(Exit::Config, &chain_of(&e)),
        Err(e) => c.fail(Exit::Other, &format!("archive check did not run: {e}")),
    }
    match viofo_pipeline::disk::DiskSpace::of(a) {
        Ok(d) => {
            let used = d.used_percent();
            match l.settings.sync.max_used_disk {
                Some(limit) if used > limit => c.fail(
                    Exit::DiskFull,
                    &format!("archive disk {used:.1}% used, above max_used_disk {limit}%"),
                ),
                _ => c.ok(&format!(
                    "archive disk {used:.1}% used, {} free",
                    output::bytes(d.available())
                )),
            }
        }
        Err(e) => c.warn(&format!("archive disk usage unknown: {e}")),
    }
}

/// The client's settings are valid ([`viofo_client::ClientConfig::validate`]),
/// then the camera answers.
async fn camera(l: &Loaded, a: &str, c: &mut Checks) {
    if let Err(e) = l.settings.client_config(a).validate() {
        return c.fail(Exit::Config, &format!("camera settings: {}", chain_of(&e)));
    }
    let client = match client(l, a) {
        Ok(client) => client,
        Err(e) => return c.fail(classify(&e), &chain(&e)),
    };
    match client.probe().await {
        Err(e) => c.fail(
            Exit::CameraUnreachable,
            &format!("camera {a}: {}", chain_of(&e)),
        ),
        Ok(()) => match client.info().await {
            Ok(i) => c.ok(&format!(
                "camera {a} answers: model {}, firmware {}",
                i.model.as_deref().unwrap_or("unknown"),
                i.firmware
            )),
            Err(e) => c.warn(&format!(
                "camera {a} answers but its firmware is unknown: {}",
                chain_of(&e)
            )),
        },
    }
}
