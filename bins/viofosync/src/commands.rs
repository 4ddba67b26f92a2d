//! The subcommands that work on the configured camera and store.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use viofo_client::Client;
use viofo_pipeline::{EventSink, Shutdown, SyncConfig, Syncer};
use viofo_store::{ClipState, LegacyImport, Store, StoreOptions};

use crate::config::{ConfigError, Loaded};
use crate::errors::Exit;
use crate::output::{self, Progress};
use crate::report;
use crate::stdout::{out, outln};

/// The camera address, or a configuration error saying how to set it.
pub(crate) fn address(l: &Loaded) -> Result<String> {
    Ok(l.address()?)
}

/// The archive folder, checked before anything touches the camera or the
/// state database: it must exist, be a folder and take a real write
/// ([`viofo_pipeline::check_archive`]; exit code 2 otherwise). It is created
/// first only when `create_archive` says so: a missing archive is usually
/// an unmounted disk or share, and filling the system disk instead would be
/// worse.
pub(crate) async fn usable_archive(l: &Loaded) -> Result<PathBuf> {
    let archive = l.archive()?;
    // An object archive's staging folder is local scratch: always created.
    let create = l.settings.create_archive || !l.settings.s3.url.is_empty();
    let path = archive.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        if create && std::fs::symlink_metadata(&path).is_err() {
            fs_err::create_dir_all(&path).map_err(|e| {
                ConfigError::new(format!(
                    "cannot create the archive folder {} (create_archive = true): {e}",
                    path.display()
                ))
            })?;
            tracing::info!(
                "created the archive folder {} (create_archive = true)",
                path.display()
            );
        }
        viofo_pipeline::check_archive(&path)?;
        Ok(())
    })
    .await
    .context("the archive check did not run")??;
    Ok(archive)
}

/// The state database path.
pub(crate) fn state_db(l: &Loaded) -> Result<PathBuf> {
    Ok(l.state_db()?)
}

/// The camera client with the configured timeouts. Settings the client
/// refuses ([`viofo_client::Error::is_config`]) are configuration errors.
pub(crate) fn client(l: &Loaded, address: &str) -> Result<Client> {
    Client::new(l.settings.client_config(address)).map_err(|e| {
        if e.is_config() {
            ConfigError::new(e.to_string()).into()
        } else {
            anyhow::Error::new(e).context("starting the camera client")
        }
    })
}

/// Opens the configured store (creating it), importing the Python tool's
/// database on first run when `legacy` and `import_legacy` say so.
pub(crate) async fn open_store(l: &Loaded, legacy: bool) -> Result<Store> {
    let path = state_db(l)?;
    let camera_id = l.camera_id();
    let opts = StoreOptions {
        path: Some(path.clone()),
        recordings_dir: l.settings.archive.clone(),
        allow_network_fs: l.settings.allow_network_fs,
        legacy: match camera_id {
            Some(camera_id) if legacy && l.settings.import_legacy => Some(LegacyImport {
                camera_id,
                path: None,
            }),
            _ => None,
        },
        ..StoreOptions::default()
    };
    let store = Store::open(opts)
        .await
        .with_context(|| format!("opening the state database {}", path.display()))?;
    if let Some(r) = store.legacy_report() {
        tracing::info!(
            "imported {} clips from the Python tool's database {} ({} already known, {} skipped)",
            r.imported,
            r.source.display(),
            r.already_known,
            r.skipped
        );
    }
    Ok(store)
}

/// Opens the store read-only, only if its file exists: reading commands
/// never create one, and never disturb a sync that is running on it.
pub(crate) async fn open_existing_store(l: &Loaded) -> Result<Option<Store>> {
    let path = state_db(l)?;
    let opts = StoreOptions {
        path: Some(path.clone()),
        ..StoreOptions::default()
    };
    match Store::open_read_only(opts).await {
        Ok(store) => Ok(Some(store)),
        Err(e) if e.is_missing() => {
            outln!("state database: {} (not created yet)", path.display());
            Ok(None)
        }
        Err(e) => Err(e).with_context(|| format!("opening the state database {}", path.display())),
    }
}

/// `--camera ID` of a command that reads the state database: a configured
/// camera, or one the state database knows; any other id is a
/// configuration error (exit 2) naming the configured ones.
pub(crate) async fn known_camera(l: &Loaded, only: Option<&str>) -> Result<()> {
    let Some(id) = only else { return Ok(()) };
    let Err(unknown) = l.select(Some(id)) else {
        return Ok(());
    };
    let path = state_db(l)?;
    if path.exists() {
        let opts = StoreOptions {
            path: Some(path),
            ..StoreOptions::default()
        };
        let store = Store::open_read_only(opts).await?;
        let known = store.camera(id).await;
        store.close().await.ok();
        if known?.is_some() {
            return Ok(());
        }
    }
    Err(ConfigError::new(format!(
        "{unknown}; the state database knows no such camera either"
    ))
    .into())
}

/// The pipeline settings from the configuration.
pub(crate) fn sync_config(l: &Loaded, camera_id: &str, archive: &Path) -> SyncConfig {
    l.settings.sync_config(camera_id, archive)
}

/// What a sync runs with.
pub(crate) struct Prepared {
    pub(crate) syncer: Syncer,
    pub(crate) store: Store,
    pub(crate) archive: PathBuf,
}

/// The client, the checked archive, the store and the syncer sending its
/// events to `events`.
pub(crate) async fn prepare(
    l: &Loaded,
    events: impl EventSink,
    camera_id: &str,
    address: &str,
) -> Result<Prepared> {
    let client = client(l, address)?;
    let archive = usable_archive(l).await?;
    let store = open_store(l, true).await?;
    let cfg = sync_config(l, camera_id, &archive);
    let syncer = Syncer::new(client, store.clone(), cfg, events)?;
    Ok(Prepared {
        syncer,
        store,
        archive,
    })
}

/// `sync`: one cycle (or a dry run).
pub(crate) async fn sync(l: &Loaded, bars: bool) -> Result<Exit> {
    let address = address(l)?;
    let camera_id = l.camera_id().unwrap_or_else(|| address.clone());
    if l.settings.dry_run {
        return dry_run(l, &camera_id, &address).await;
    }
    let progress = Progress::new(bars);
    let p = prepare(l, progress.sink(), &camera_id, &address).await?;
    progress.read_queue(p.store.clone(), &camera_id);
    let shutdown = Shutdown::new();
    viofo_daemon::stop_on_signals(shutdown.clone(), true);
    let result = p.syncer.run_cycle(&shutdown).await;
    p.store.close().await.ok();
    match result {
        Ok(summary) => Ok(synced(l, "", &summary, &p.archive)),
        Err(e) => Err(e.into()),
    }
}

/// A sync's closing line (`prefix` names the camera when there are
/// several), and its exit code: a cycle that left clips failed or deferred
/// says so.
pub(crate) fn synced(
    l: &Loaded,
    prefix: &str,
    summary: &viofo_pipeline::CycleSummary,
    archive: &Path,
) -> Exit {
    outln!(
        "{prefix}synced {} clips ({}) into {} in {:.1}s; {} failed, {} deleted from the camera, {} pruned",
        summary.clips,
        output::bytes(summary.bytes),
        archive.display(),
        summary.duration.as_secs_f64(),
        summary.failed,
        summary.deleted,
        summary.pruned
    );
    if summary.is_ok() {
        Exit::Success
    } else {
        crate::errors::report_failures(summary, l.settings.log_format)
    }
}

/// `sync --dry-run`: what a sync would do. Uses the state database when it
/// exists (read only, no legacy import), else an empty temporary one.
pub(crate) async fn dry_run(l: &Loaded, camera_id: &str, address: &str) -> Result<Exit> {
    let archive = l.archive()?;
    let client = client(l, address)?;
    let db = state_db(l)?;
    let _tmp;
    let store = if db.exists() {
        // Read only: a dry run writes nothing, even beside a running sync.
        let opts = StoreOptions {
            path: Some(db.clone()),
            ..StoreOptions::default()
        };
        Store::open_read_only(opts)
            .await
            .with_context(|| format!("opening the state database {}", db.display()))?
    } else {
        let dir = tempfile::tempdir().context("creating a temporary folder")?;
        let store = Store::open(StoreOptions::at(dir.path().join("dry-run.db"))).await?;
        _tmp = dir;
        store
    };
    let cfg = sync_config(l, camera_id, &archive);
    let syncer = Syncer::new(client, store.clone(), cfg, viofo_pipeline::NoEvents)?;
    let plan = syncer.dry_run().await;
    store.close().await.ok();
    let plan = plan?;
    let total: u64 = plan.download.iter().map(|(_, s)| s).sum();
    outln!("dry run: nothing downloaded, deleted or removed");
    if !archive.is_dir() && !l.settings.create_archive {
        outln!(
            "note: the archive {} is not a folder that exists; a real sync would stop there \
             (mount it, or create it on purpose: create_archive = true or `viofosync doctor --init`)",
            archive.display()
        );
    }
    outln!(
        "would download {} clips ({}) into {}:",
        plan.download.len(),
        output::bytes(total),
        archive.display()
    );
    for (name, size) in &plan.download {
        outln!("  download  {name}  {}", output::bytes(*size));
    }
    outln!("would delete {} clips from the camera:", plan.delete.len());
    for name in &plan.delete {
        outln!("  delete    {name}");
    }
    outln!("would prune {} archived clips:", plan.prune.len());
    for path in &plan.prune {
        outln!("  prune     {}", path.display());
    }
    if !plan.skip.is_empty() {
        outln!("would skip {} clips:", plan.skip.len());
        for (name, why) in &plan.skip {
            outln!("  skip      {name}  ({why})");
        }
    }
    Ok(Exit::Success)
}

/// A state `queue --state` selects: a clip state, or `skipped` (pending
/// clips with a skip reason: filtered out, parked at a place, older than
/// what the quota keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueState {
    /// Clips in this state (`pending` includes the skipped ones).
    Clip(ClipState),
    /// Pending clips with a skip reason.
    Skipped,
}

/// `queue`: clips by state.
pub(crate) async fn queue(
    l: &Loaded,
    states: &[QueueState],
    camera: Option<&str>,
    limit: usize,
) -> Result<Exit> {
    known_camera(l, camera).await?;
    let Some(store) = open_existing_store(l).await? else {
        return Ok(Exit::Success);
    };
    let counts = store.counts(camera).await?;
    let skipped = states.contains(&QueueState::Skipped);
    let mut clip_states: Vec<ClipState> = states
        .iter()
        .filter_map(|s| match s {
            QueueState::Clip(c) => Some(*c),
            QueueState::Skipped => None,
        })
        .collect();
    let with_pending = clip_states.contains(&ClipState::Pending);
    // Skipped clips are pending ones (listed with them).
    let matching: u64 = if states.is_empty() {
        counts.total()
    } else {
        clip_states.iter().map(|s| counts.get(*s)).sum::<u64>()
            + if with_pending || skipped {
                counts.skipped
            } else {
                0
            }
    };
    let take = u32::try_from(limit).unwrap_or(u32::MAX);
    let selected = if skipped && !with_pending {
        // Skipped alone (or with other states): pending rows, then only
        // those with a reason.
        clip_states.push(ClipState::Pending);
        let rows = store.list(camera, &clip_states, u32::MAX).await?;
        rows.into_iter()
            .filter(|r| r.state != ClipState::Pending || r.skip_reason.is_some())
            .take(limit)
            .collect()
    } else {
        store.list(camera, &clip_states, take).await?
    };
    store.close().await.ok();
    outln!("{:>10} {:>3}  {:<40} STATE", "SIZE", "TRY", "NAME");
    for r in &selected {
        let flags = match (r.locked, r.parking) {
            (true, _) => " [locked]",
            (_, true) => " [parking]",
            _ => "",
        };
        outln!(
            "{:>10} {:>3}  {:<40} {}",
            output::bytes(r.size),
            r.attempts,
            format!("{}{flags}", r.name),
            report::clip_state(r),
        );
    }
    let shown = selected.len() as u64;
    if matching > shown {
        outln!("... and {} more (--limit)", matching - shown);
    }
    outln!("{matching} clips");
    Ok(Exit::Success)
}

/// `retry-failed`.
pub(crate) async fn retry_failed(l: &Loaded, only: Option<&str>) -> Result<Exit> {
    known_camera(l, only).await?;
    let path = state_db(l)?;
    if !path.exists() {
        outln!("state database: {} (not created yet)", path.display());
        return Ok(Exit::Success);
    }
    let store = open_store(l, false).await?;
    let camera = only.map(str::to_owned).or_else(|| l.camera_id());
    let n = store.retry_failed(camera.as_deref()).await?;
    store.close().await.ok();
    outln!("{n} failed clips returned to the queue");
    Ok(Exit::Success)
}

/// `timings`.
pub(crate) async fn timings(l: &Loaded, cycles: u32, camera: Option<&str>) -> Result<Exit> {
    known_camera(l, camera).await?;
    let Some(store) = open_existing_store(l).await? else {
        return Ok(Exit::Success);
    };
    let text = report::timings(&store, cycles, camera).await;
    store.close().await.ok();
    out!("{}", text?);
    Ok(Exit::Success)
}

/// `config`.
pub(crate) fn render_config(l: &Loaded) -> String {
    format!(
        "# configuration file: {} ({})\n{}",
        l.file.display(),
        if l.file_found { "found" } else { "not found" },
        l.render()
    )
}
