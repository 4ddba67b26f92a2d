//! The checks a sync depends on (the state database's placement, a Python-tool
//! database to import, the archive and its disk, the camera), each a
//! [`Check`]: what `viofosync doctor` prints, for any embedder to run.

use std::path::{Path, PathBuf};

use tracing::instrument::WithSubscriber as _;
use viofo_client::{Client, ClientConfig};
use viofo_store::{FsClass, LegacyImport, LegacyOutcome, Store, StoreOptions};

use crate::causes::one_line;

/// What kind of problem a failed check is (the command's exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The configuration (or the archive or database placement) is wrong.
    Config,
    /// The camera does not answer.
    CameraUnreachable,
    /// The disk is full, or fuller than `max_used_disk`.
    DiskFull,
    /// Anything else.
    Other,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Passed.
    Ok(String),
    /// Passed, with something to look at.
    Warn(String),
    /// Failed.
    Fail(Problem, String),
    /// The archive's disk is under `max_used_disk`: its use and free bytes.
    DiskSpace {
        /// Percent of the disk used.
        used_percent: f64,
        /// Bytes free.
        available: u64,
    },
}

/// What the checks look at.
#[derive(Debug, Clone, Default)]
pub struct Doctor {
    /// The state database (`None`: the system has no state directory).
    pub state_db: Option<PathBuf>,
    /// The archive folder (`None`: not set; nothing to check).
    pub archive: Option<PathBuf>,
    /// Create a missing archive folder (nothing else is ever created).
    pub init: bool,
    /// A state database on a network filesystem is allowed.
    pub allow_network_fs: bool,
    /// A Python-tool database would be imported by the next sync.
    pub import_legacy: bool,
    /// The camera id a legacy import records its clips under.
    pub camera_id: Option<String>,
    /// The archive disk's limit, in percent.
    pub max_used_disk: Option<f64>,
    /// The camera's client settings (`None`: no address; nothing to check).
    pub camera: Option<ClientConfig>,
}

impl Doctor {
    /// Runs every check in order; `found` gets each result as it is known.
    pub async fn run(&self, mut found: impl FnMut(Check)) {
        self.state_database(&mut found).await;
        self.legacy_database(&mut found).await;
        if let Some(a) = &self.archive {
            self.archive_folder(a, &mut found).await;
        }
        if let Some(c) = &self.camera {
            camera(c, &mut found).await;
        }
    }

    /// The store's own placement rule ([`viofo_store::check_placement`]:
    /// not inside the archive, not on a network filesystem unless
    /// allowed), then whether an existing database opens.
    async fn state_database(&self, found: &mut impl FnMut(Check)) {
        let Some(db) = self.state_db.clone() else {
            return found(Check::Fail(
                Problem::Config,
                "this system has no state directory: set `state_db`".into(),
            ));
        };
        let (path, recordings) = (db.clone(), self.archive.clone());
        let allow = self.allow_network_fs;
        let placement = tokio::task::spawn_blocking(move || {
            viofo_store::check_placement(&path, recordings.as_deref(), allow)
        })
        .await;
        found(match placement {
            Err(e) => Check::Fail(Problem::Other, format!("placement check did not run: {e}")),
            Ok(Err(e)) => Check::Fail(
                if e.is_network_fs() || e.is_inside_recordings() {
                    Problem::Config
                } else {
                    Problem::Other
                },
                format!("state database: {}", one_line(&e)),
            ),
            Ok(Ok(p)) => {
                let state = if p.exists {
                    "exists"
                } else {
                    "will be created"
                };
                let db = db.display();
                match p.fs {
                    Some(FsClass::Fuse) => Check::Warn(format!(
                        "state database {db} ({state}) is on a FUSE filesystem; make sure it is local disk"
                    )),
                    Some(FsClass::Network(fs)) => Check::Ok(format!(
                        "state database {db} ({state}, network filesystem {fs}, allowed)"
                    )),
                    _ => Check::Ok(format!("state database {db} ({state}, local filesystem)")),
                }
            }
        });
        if !db.exists() {
            return;
        }
        let opts = StoreOptions {
            path: Some(db.clone()),
            ..StoreOptions::default()
        };
        match Store::open_read_only(opts).await {
            Ok(store) => {
                found(match store.counts(None).await {
                    Ok(n) => Check::Ok(format!("state database opens ({} clips)", n.total())),
                    Err(e) => {
                        Check::Fail(Problem::Other, format!("state database: {}", one_line(&e)))
                    }
                });
                store.close().await.ok();
            }
            Err(e) if e.is_missing() => {}
            Err(e) => found(Check::Fail(
                if e.is_network_fs() || e.is_inside_recordings() {
                    Problem::Config
                } else if e.is_disk_full() {
                    Problem::DiskFull
                } else {
                    Problem::Other
                },
                format!(
                    "state database: opening the state database {}: {}",
                    db.display(),
                    one_line(&e)
                ),
            )),
        }
    }

    /// A Python-tool database the next sync would import: the store's
    /// import is run on a copy in a scratch store (so the file is neither
    /// renamed nor locked), and one it cannot read is reported with the
    /// setting that turns the import off.
    async fn legacy_database(&self, found: &mut impl FnMut(Check)) {
        if !self.import_legacy {
            return;
        }
        let Some(source) = viofo_store::legacy_candidates(None, self.archive.as_deref())
            .into_iter()
            .find(|p| p.is_file())
        else {
            return;
        };
        let off = "set import_legacy = false (VIOFOSYNC_IMPORT_LEGACY=false) to stop importing it";
        let camera_id = self
            .camera_id
            .clone()
            .unwrap_or_else(|| "doctor".to_owned());
        // The scratch store's own warning would name the copy; this check
        // reports the file itself below.
        let trial = trial_import(&source, camera_id)
            .with_subscriber(tracing::subscriber::NoSubscriber::default())
            .await;
        let source = source.display();
        match trial {
            Ok(Some(LegacyOutcome::Imported(r))) => found(Check::Ok(format!(
                "the Python tool's database {source} is readable: the next sync imports {} clips",
                r.imported
            ))),
            Ok(Some(LegacyOutcome::Skipped { reason, .. })) => found(Check::Warn(format!(
                "the Python tool's database {source} cannot be read ({reason}); a sync skips it \
                 and leaves it as it is; {off}"
            ))),
            Ok(_) => {}
            Err(e) => found(Check::Warn(format!(
                "the Python tool's database {source} cannot be read ({}); {off}",
                one_line(e.as_ref())
            ))),
        }
    }

    /// The archive exists (created only with `init`), is a folder, takes a
    /// write; its disk is under `max_used_disk`.
    async fn archive_folder(&self, a: &Path, found: &mut impl FnMut(Check)) {
        let missing = std::fs::symlink_metadata(a).is_err();
        if missing && self.init {
            match crate::archive::create_archive(a) {
                Ok(()) => found(Check::Ok(format!(
                    "archive {} created (--init)",
                    a.display()
                ))),
                Err(e) => {
                    return found(Check::Fail(
                        Problem::Config,
                        format!("cannot create the archive: {e}"),
                    ));
                }
            }
        } else if missing {
            return found(Check::Fail(
                Problem::Config,
                format!(
                    "archive {} does not exist: mount it, or create it on purpose with \
                     `viofosync doctor --init` (or create_archive = true)",
                    a.display()
                ),
            ));
        }
        let path = a.to_path_buf();
        found(
            match tokio::task::spawn_blocking(move || crate::check_archive(&path)).await {
                Ok(Ok(())) => Check::Ok(format!("archive {} is writable", a.display())),
                Ok(Err(e)) => Check::Fail(Problem::Config, one_line(&e)),
                Err(e) => Check::Fail(Problem::Other, format!("archive check did not run: {e}")),
            },
        );
        found(match crate::disk::DiskSpace::of(a) {
            Ok(d) => {
                let used = d.used_percent();
                match self.max_used_disk {
                    Some(limit) if used > limit => Check::Fail(
                        Problem::DiskFull,
                        format!("archive disk {used:.1}% used, above max_used_disk {limit}%"),
                    ),
                    _ => Check::DiskSpace {
                        used_percent: used,
                        available: d.available(),
                    },
                }
            }
            Err(e) => Check::Warn(format!("archive disk usage unknown: {e}")),
        });
    }
}

/// The store's legacy import of a copy of `source` (with its `-wal`), into
/// a scratch store that is thrown away.
async fn trial_import(
    source: &Path,
    camera_id: String,
) -> Result<Option<LegacyOutcome>, Box<dyn std::error::Error + Send + Sync>> {
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

/// The client's settings are valid ([`ClientConfig::validate`]), then the
/// camera answers.
async fn camera(config: &ClientConfig, found: &mut impl FnMut(Check)) {
    let a = &config.base_url;
    if let Err(e) = config.validate() {
        return found(Check::Fail(
            Problem::Config,
            format!("camera settings: {}", one_line(&e)),
        ));
    }
    let client = match Client::new(config.clone()) {
        Ok(client) => client,
        Err(e) if e.is_config() => return found(Check::Fail(Problem::Config, e.to_string())),
        Err(e) => {
            return found(Check::Fail(
                Problem::Other,
                format!("starting the camera client: {}", one_line(&e)),
            ));
        }
    };
    found(match client.probe().await {
        Err(e) => Check::Fail(
            Problem::CameraUnreachable,
            format!("camera {a}: {}", one_line(&e)),
        ),
        Ok(()) => match client.info().await {
            Ok(i) => Check::Ok(format!(
                "camera {a} answers: model {}, firmware {}",
                i.model.as_deref().unwrap_or("unknown"),
                i.firmware
            )),
            Err(e) => Check::Warn(format!(
                "camera {a} answers but its firmware is unknown: {}",
                one_line(&e)
            )),
        },
    });
}
