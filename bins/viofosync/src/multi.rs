//! Several cameras (issue 14): `sync` and `watch` over the `[[camera]]`
//! tables, every camera's cycle running concurrently and independently
//! (its own client, connection limit, back-off and state) on one store;
//! `watch` is viofo-daemon's `Fleet`, wired from the configuration.
//! With one camera (no tables, or `--camera ID`) the single-camera paths
//! of `commands` and `watch` run unchanged.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use viofo_daemon::{Camera, Fleet};
use viofo_pipeline::Shutdown;

use crate::commands::{self, address, client, open_store, sync_config, usable_archive};
use crate::config::{ConfigError, Loaded};
use crate::errors::{self, Exit};
use crate::output::Progress;
use crate::stdout::{errln, outln};
use crate::watch::{Surfaces, after_watch, status_model};

/// With several cameras, each archives into `<archive>/<camera id>`: the
/// archive itself is checked as for one camera (it must exist: a missing
/// folder is an unmounted disk), then each camera's folder is created in
/// it when missing.
async fn camera_folders(l: &Loaded, cams: &[Loaded]) -> Result<PathBuf> {
    let root = usable_archive(l).await?;
    let folders: Vec<PathBuf> = cams
        .iter()
        .filter_map(|c| c.settings.archive.clone())
        .collect();
    tokio::task::spawn_blocking(move || {
        folders
            .iter()
            .try_for_each(|f| viofo_pipeline::archive::camera_folder(f))
    })
    .await
    .context("the archive check did not run")??;
    Ok(root)
}

/// The most serious of several cameras' exit codes: an interrupt, then a
/// configuration or disk problem, then any other error, then a camera
/// away, then clips left failed.
fn worst(codes: impl IntoIterator<Item = Exit>) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Interrupted => 7,
        Exit::Config => 6,
        Exit::DiskFull => 5,
        Exit::Other => 4,
        Exit::CameraUnreachable => 3,
        Exit::FinishedWithFailures => 2,
        Exit::Success => 1,
    };
    codes
        .into_iter()
        .max_by_key(|e| rank(*e))
        .unwrap_or(Exit::Success)
}

/// `sync [--camera ID]`.
pub(crate) async fn sync(l: &Loaded, only: Option<&str>, bars: bool) -> Result<Exit> {
    let cams = l.select(only)?;
    if l.cameras.len() <= 1 {
        // One camera, today's layout.
        let one = cams.into_iter().next().unwrap_or_else(|| l.clone());
        return commands::sync(&one, bars).await;
    }
    camera_folders(l, &cams).await?;
    if let [one] = cams.as_slice() {
        return commands::sync(one, bars).await;
    }
    if l.settings.dry_run {
        let mut codes = Vec::new();
        for c in &cams {
            let id = c.camera_id().unwrap_or_default();
            outln!("camera {id}:");
            codes.push(match commands::dry_run(c, &id, &address(c)?).await {
                Ok(code) => code,
                Err(e) => errors::report(&e, l.settings.log_format),
            });
        }
        return Ok(worst(codes));
    }
    let store = open_store(l, false).await?;
    let shutdown = Shutdown::new();
    viofo_daemon::stop_on_signals(shutdown.clone(), true);
    let mut fleet = Fleet::new(store.clone(), l.settings.interval, &shutdown);
    // A camera that cannot be set up is reported; the others sync.
    let mut unmade = std::collections::HashMap::new();
    for c in &cams {
        let id = c.camera_id().unwrap_or_default();
        let archive = c.settings.archive.clone().unwrap_or_default();
        let made = address(c).and_then(|address| {
            let camera = Camera::new(client(c, &address)?, sync_config(c, &id, &archive));
            Ok(fleet.add(camera)?)
        });
        if let Err(e) = made {
            unmade.insert(id, e);
        }
    }
    let mut results: std::collections::HashMap<_, _> =
        fleet.sync_once().await.into_iter().collect();
    store.close().await.ok();
    let mut codes = Vec::new();
    for c in &cams {
        let id = c.camera_id().unwrap_or_default();
        let archive = c.settings.archive.clone().unwrap_or_default();
        codes.push(match (unmade.remove(&id), results.remove(&id)) {
            (Some(e), _) => report_camera(&id, &e, l),
            (None, Some(Ok(summary))) => {
                commands::synced(l, &format!("camera {id}: "), &summary, &archive)
            }
            (None, Some(Err(e))) => report_camera(&id, &anyhow::Error::new(e), l),
            (None, None) => continue,
        });
    }
    Ok(worst(codes))
}

/// One camera's error, named, with the exit code it calls for.
fn report_camera(id: &str, e: &anyhow::Error, l: &Loaded) -> Exit {
    let code = errors::classify(e);
    let text = errors::chain(e);
    if l.settings.log_format == crate::config::LogFormat::Json {
        tracing::error!(camera = %id, exit_code = code as u8, "{text}");
    } else {
        errln!("viofosync: camera {id}: {text}");
    }
    code
}

/// `watch` with several cameras: every camera's watch loop at once (its
/// own back-off: one camera away never delays another) on one store,
/// until SIGINT/SIGTERM, each with its own status surfaces: its status
/// page on `listen`'s port plus its place in the configuration (the first
/// camera on 8740, the second on 8741, ...) and its own MQTT device.
pub(crate) async fn watch(l: &Loaded, only: Option<&str>, bars: bool) -> Result<Exit> {
    let cams = l.select(only)?;
    if l.cameras.len() <= 1 {
        let one = cams.into_iter().next().unwrap_or_else(|| l.clone());
        return crate::watch::watch(&one, bars).await;
    }
    camera_folders(l, &cams).await?;
    if let [one] = cams.as_slice() {
        return crate::watch::watch(one, bars).await;
    }
    if l.settings.dry_run {
        tracing::info!("dry run: showing one plan instead of watching");
        return Box::pin(sync(l, only, bars)).await;
    }
    // Every camera's surfaces are checked before the store is opened.
    let mut checked = Vec::new();
    for (i, c) in cams.iter().enumerate() {
        let listen = match c.settings.listen {
            None => None,
            Some(a) => Some(viofo_daemon::nth_port(a, i).ok_or_else(|| {
                ConfigError::new(format!(
                    "listen = {a}: no port left for camera {} (each camera serves on \
                     the next port)",
                    i + 1
                ))
            })?),
        };
        checked.push(Surfaces::checked(c, listen)?);
    }
    let ids: Vec<String> = cams.iter().filter_map(Loaded::camera_id).collect();
    let checked: Vec<Surfaces> = checked.into_iter().map(|s| s.in_fleet(&ids)).collect();
    let store = open_store(l, false).await?;
    let shutdown = Shutdown::new();
    let (fleet, progress) =
        match fleet(&cams, &store, checked, l.settings.interval, &shutdown).await {
            Ok(f) => f,
            Err(e) => {
                store.close().await.ok();
                return Err(e);
            }
        };
    viofo_daemon::stop_on_signals(shutdown.clone(), true);
    let ends = fleet.run().await;
    store.close().await.ok();
    let codes: Vec<Exit> = ends
        .into_iter()
        .zip(progress.iter().zip(&cams))
        .map(|(end, (progress, c))| match end.result {
            Ok(()) => after_watch(progress, c),
            Err(e) => report_camera(&end.id, &anyhow::Error::new(e), l),
        })
        .collect();
    tracing::info!("stopped");
    Ok(worst(codes))
}

/// The cameras' fleet: each camera's client, sync configuration, status
/// model, terminal progress and bound surfaces, on the shared store.
async fn fleet(
    cams: &[Loaded],
    store: &viofo_store::Store,
    checked: Vec<Surfaces>,
    interval: std::time::Duration,
    shutdown: &Shutdown,
) -> Result<(Fleet, Vec<Progress>)> {
    let mut fleet = Fleet::new(store.clone(), interval, shutdown);
    let mut progresses = Vec::new();
    for (c, surfaces) in cams.iter().zip(checked) {
        let id = c.camera_id().unwrap_or_default();
        let address = address(c)?;
        let archive = c.settings.archive.clone().unwrap_or_default();
        let progress = Progress::new(false).announce_failures();
        let camera = Camera::new(client(c, &address)?, sync_config(c, &id, &archive))
            .status(status_model(c, &id)?)
            .events(progress.sink())
            .surfaces(surfaces.bind().await?);
        fleet.add(camera)?;
        progress.read_queue(store.clone(), &id);
        tracing::info_span!("camera", id = %id).in_scope(|| {
            tracing::info!(
                "watching {address} every {}; archive {}",
                crate::config::show_duration(interval),
                archive.display()
            );
        });
        progresses.push(progress);
    }
    Ok((fleet, progresses))
}
