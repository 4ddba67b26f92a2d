//! `status`: the camera asked about (`--camera ID`, default every
//! configured camera), its queue and its own last cycle; `status --json`
//! prints the model `watch` serves as `/api/status` for one camera.

use anyhow::{Context as _, Result};
use viofo_pipeline::{Event, EventSink as _};
use viofo_status::{StatusConfig, StatusModel, StickyFile};
use viofo_store::{ClipState, Store, StoreOptions};

use crate::commands::{client, open_existing_store, state_db};
use crate::config::{ConfigError, Loaded};
use crate::errors::Exit;
use crate::output;
use crate::report;
use crate::stdout::outln;

/// A camera `status` reports on: its id (`None`: no camera configured,
/// so the store's numbers of every camera) and its configuration when it
/// is a configured camera (`None`: known to the store only, not asked).
struct Target {
    id: Option<String>,
    config: Option<Loaded>,
}

/// The cameras asked about: `only`, else every configured camera. An id
/// that is not configured is still looked up in the store.
fn targets(l: &Loaded, only: Option<&str>) -> Vec<Target> {
    let all = l.per_camera();
    match only {
        None => all
            .into_iter()
            .map(|c| Target {
                id: c.camera_id(),
                config: Some(c),
            })
            .collect(),
        Some(id) => vec![Target {
            id: Some(id.to_owned()),
            config: all
                .into_iter()
                .find(|c| c.camera_id().as_deref() == Some(id)),
        }],
    }
}

/// `status`: each camera asked about, its queue and its last cycle. Exit 3
/// when a configured camera does not answer.
pub(crate) async fn status(l: &Loaded, only: Option<&str>) -> Result<Exit> {
    crate::commands::known_camera(l, only).await?;
    let targets = targets(l, only);
    let mut code = Exit::Success;
    // One camera keeps the plain labels; several are told apart.
    let several = targets.len() > 1;
    for t in &targets {
        if camera_line(t, several).await? == Exit::CameraUnreachable {
            code = Exit::CameraUnreachable;
        }
    }
    let Some(store) = open_existing_store(l).await? else {
        return Ok(code);
    };
    outln!("state database: {}", store.path().display());
    let result = store_lines(&store, &targets, several).await;
    store.close().await.ok();
    result?;
    Ok(code)
}

/// The camera's line(s): a probe of a configured camera; an id the
/// configuration does not name is not asked.
async fn camera_line(t: &Target, several: bool) -> Result<Exit> {
    let (Some(l), id) = (&t.config, t.id.as_deref()) else {
        outln!(
            "camera {}: not configured (not asked; the state database's numbers follow)",
            t.id.as_deref().unwrap_or("?")
        );
        return Ok(Exit::Success);
    };
    let Some(address) = &l.settings.address else {
        outln!("camera: no address configured");
        return Ok(Exit::Success);
    };
    let named = id
        .filter(|_| several)
        .map(|i| format!(" ({i})"))
        .unwrap_or_default();
    let client = client(l, address)?;
    // The primary, then the fallback addresses: the one that answers.
    if let Err(e) = client.connect().await {
        let tried = if l.settings.client.fallback_urls.is_empty() {
            String::new()
        } else {
            format!(" (and {})", l.settings.client.fallback_urls.join(", "))
        };
        match e.for_people() {
            Some(words) if l.settings.client.fallback_urls.is_empty() => {
                outln!("camera{named}: {words}");
            }
            Some(words) => outln!(
                "camera{named}: {words} (nor at {})",
                l.settings.client.fallback_urls.join(", ")
            ),
            None => outln!(
                "camera{named}: {address}{tried}: {}",
                crate::errors::chain_of(&e)
            ),
        }
        return Ok(Exit::CameraUnreachable);
    }
    let address = client.address().to_owned();
    let info = client.info().await;
    let recording = client.recording_state().await;
    match info {
        Ok(i) => outln!(
            "camera{named}: {address} online, model {}, firmware {}, card free {}",
            i.model.as_deref().unwrap_or("unknown"),
            i.firmware,
            i.free_space.map_or_else(|| "unknown".into(), output::bytes)
        ),
        Err(e) => outln!(
            "camera{named}: {address} online (firmware unknown: {})",
            crate::errors::chain_of(&e)
        ),
    }
    match recording {
        Ok(r) => outln!("recording: {}", if r { "yes" } else { "no" }),
        Err(_) => outln!("recording: unknown"),
    }
    Ok(Exit::Success)
}

/// Each camera's queue counts and its own last cycle (with no camera
/// configured: every camera's counts and the newest cycle).
async fn store_lines(store: &Store, targets: &[Target], several: bool) -> Result<()> {
    for t in targets {
        let camera = t.id.as_deref();
        let counts = store.counts(camera).await?;
        let named = camera.map(|c| format!(" ({c})")).unwrap_or_default();
        outln!(
            "queue{named}: {}",
            ClipState::ALL
                .iter()
                .map(|s| format!("{} {}", counts.get(*s), s))
                .chain((counts.skipped > 0).then(|| format!("{} skipped", counts.skipped)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let last = match camera {
            Some(c) => store.last_cycles_of(c, 1).await?,
            None => store.last_cycles(1).await?,
        };
        let of = if several { named.as_str() } else { "" };
        if let Some(c) = camera
            && let Some(row) = store.camera(c).await?
        {
            outln!(
                "last answered{of}: at {} as {} ({})",
                row.seen.address,
                row.seen.model.as_deref().unwrap_or("an unknown model"),
                report::when(row.last_seen_at)
            );
        }
        match last.first() {
            None => outln!("last cycle{of}: none yet"),
            Some(t) => outln!("last cycle{of}: {}", report::cycle_line(&t.cycle)),
        }
    }
    Ok(())
}

/// `status --json`: the model `watch` serves as `/api/status` for the
/// camera asked about, built read only (the store opened read only, the
/// sticky errors loaded but never written) beside a probe of the camera
/// when it is configured. Several cameras need `--camera ID` (exit 2).
/// Exit 3 when a configured camera does not answer.
pub(crate) async fn status_json(l: &Loaded, only: Option<&str>) -> Result<Exit> {
    crate::commands::known_camera(l, only).await?;
    let mut targets = targets(l, only);
    if targets.len() > 1 {
        let ids: Vec<String> = targets.iter().filter_map(|t| t.id.clone()).collect();
        return Err(ConfigError::new(format!(
            "status --json shows one camera: add --camera ID (configured: {})",
            ids.join(", ")
        ))
        .into());
    }
    let t = targets.pop().unwrap_or(Target {
        id: None,
        config: None,
    });
    let db = state_db(l)?;
    let archive = t
        .config
        .as_ref()
        .and_then(|c| c.settings.archive.clone())
        .or_else(|| l.settings.archive.clone())
        .unwrap_or_default();
    // The id the watch keys its sticky errors by (its address when none
    // is configured).
    let sticky =
        t.id.clone()
            .or_else(|| t.config.as_ref().and_then(|c| c.settings.address.clone()));
    let sticky = match &sticky {
        Some(id) => StickyFile::for_camera(&db, id),
        None => StickyFile::beside(&db),
    };
    let model = StatusModel::new(
        StatusConfig::new(t.id.clone().unwrap_or_default(), archive),
        sticky.read_only(),
    );
    let mut code = Exit::Success;
    if let Some((c, address)) = t
        .config
        .as_ref()
        .and_then(|c| c.settings.address.as_ref().map(|a| (c, a)))
    {
        let client = client(c, address)?;
        match client.probe().await {
            Err(e) => {
                model.emit(Event::CameraOffline {
                    reason: crate::errors::chain_of(&e),
                });
                code = Exit::CameraUnreachable;
            }
            Ok(()) => {
                let info = client.info().await.ok();
                model.emit(Event::CameraOnline {
                    firmware: info.as_ref().map(|i| i.firmware.clone()),
                    model: info.and_then(|i| i.model),
                });
            }
        }
    }
    let opts = StoreOptions {
        path: Some(db.clone()),
        ..StoreOptions::default()
    };
    match Store::open_read_only(opts).await {
        Ok(store) => {
            let refreshed = model.refresh(&store).await;
            store.close().await.ok();
            refreshed.with_context(|| format!("reading the state database {}", db.display()))?;
        }
        Err(e) if e.is_missing() => {}
        Err(e) => {
            return Err(e).with_context(|| format!("opening the state database {}", db.display()));
        }
    }
    let json = serde_json::to_string_pretty(&model.snapshot()).context("writing the JSON")?;
    outln!("{json}");
    Ok(code)
}
