//! `viofosync import PATH... [--camera ID] [--move]`: archives the clips of
//! an SD card or a folder exactly as a sync would
//! ([`viofo_pipeline::import`]), with a progress bar on a terminal and a
//! closing line with the counts.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use clap::Args;
use indicatif::{DecimalBytes, ProgressBar, ProgressStyle};
use viofo_pipeline::Shutdown;
use viofo_pipeline::import::{ImportEvent, ImportOptions, ImportSummary, Importer};

use crate::config::{ConfigError, Loaded, LogFormat, SettingsArgs};
use crate::errors::Exit;
use crate::stdout::{errln, outln};

/// `import` options.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Folders to import: an SD card (its root or its DCIM folder) or any
    /// folder of Viofo-named clips.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The camera the clips are archived for [default: the configured
    /// camera_id, else the address's].
    #[arg(long = "camera", value_name = "ID")]
    camera: Option<String>,
    /// Remove each source file once its copy is durable, verified and
    /// recorded.
    #[arg(long = "move")]
    move_sources: bool,
    #[command(flatten)]
    pub(crate) settings: SettingsArgs,
}

/// Runs the import. Exit 2 for a path that does not exist or is not a
/// folder (and the other configuration errors), 5 when some clips failed.
pub(crate) async fn run(l: &Loaded, args: &ImportArgs, bars: bool) -> Result<Exit> {
    // The paths first: a mistyped one needs no archive, store or camera.
    for p in &args.paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(ConfigError::new(format!("{} is not a folder", p.display())).into());
            }
            Err(e) => {
                let what = if e.kind() == std::io::ErrorKind::NotFound {
                    "does not exist".to_owned()
                } else {
                    format!("cannot be read: {e}")
                };
                return Err(ConfigError::new(format!("{} {what}", p.display())).into());
            }
        }
    }
    let (cam, camera_id, archive) = camera(l, args.camera.as_deref()).await?;
    let store = crate::commands::open_store(l, false).await?;
    let cfg = cam.settings.sync_config(&camera_id, &archive);
    let opts = ImportOptions {
        move_sources: args.move_sources,
        ..ImportOptions::default()
    };
    let importer = Importer::new(store.clone(), cfg, opts)?;
    let shutdown = Shutdown::new();
    viofo_daemon::stop_on_signals(shutdown.clone(), false);
    let bar = Bar::new(bars);
    let sink = bar.clone();
    let result = importer
        .run(&args.paths, move |e| sink.event(&e), &shutdown)
        .await;
    bar.finish();
    store.close().await.ok();
    let summary = result?;
    report(&summary, &archive, l.settings.log_format);
    Ok(if summary.is_ok() {
        Exit::Success
    } else {
        Exit::FinishedWithFailures
    })
}

/// The camera imported for, its id and its archive folder (checked; with
/// several `[[camera]]` tables, `<archive>/<camera id>`, created in the
/// archive when missing). Without tables `--camera` names the camera
/// freely (default: the configured one); with tables it picks one of them,
/// and is needed when there are several.
async fn camera(l: &Loaded, only: Option<&str>) -> Result<(Loaded, String, PathBuf)> {
    if l.cameras.is_empty() {
        let id = only
            .map(str::to_owned)
            .or_else(|| l.camera_id())
            .ok_or_else(|| {
                ConfigError::new(
                    "no camera to import for: pass --camera ID, or set `camera_id` (or `address`) \
                 in the config file",
                )
            })?;
        let archive = crate::commands::usable_archive(l).await?;
        return Ok((l.clone(), id, archive));
    }
    let cams = l.select(only)?;
    let [cam] = cams.as_slice() else {
        let ids: Vec<String> = cams.iter().filter_map(Loaded::camera_id).collect();
        return Err(ConfigError::new(format!(
            "several cameras are configured: pass --camera ID (one of {})",
            ids.join(", ")
        ))
        .into());
    };
    let id = cam.camera_id().unwrap_or_default();
    let root = crate::commands::usable_archive(l).await?;
    let archive = cam.settings.archive.clone().unwrap_or(root);
    if l.cameras.len() > 1 {
        let dir = archive.clone();
        tokio::task::spawn_blocking(move || viofo_pipeline::archive::camera_folder(&dir)).await??;
    }
    Ok((cam.clone(), id, archive))
}

/// The skipped and failed files, then the closing line (and, when clips
/// failed, the line that says so on stderr).
fn report(s: &ImportSummary, archive: &std::path::Path, format: LogFormat) {
    for (path, why) in &s.skipped {
        if !why.starts_with("already archived") {
            outln!("  skipped  {}  ({why})", path.display());
        }
    }
    for (path, why) in &s.failed {
        outln!("  failed   {}  ({why})", path.display());
    }
    for (path, why) in &s.not_removed {
        outln!(
            "  kept     {}  (archived, but not removed: {why})",
            path.display()
        );
    }
    outln!(
        "imported {} clips ({}) into {} in {:.1}s; {} skipped ({} already archived), {} failed, {} \
         sources removed, {} pruned",
        s.imported,
        DecimalBytes(s.bytes),
        archive.display(),
        s.duration.as_secs_f64(),
        s.skipped.len(),
        s.already_archived,
        s.failed.len(),
        s.removed,
        s.pruned
    );
    if !s.is_ok() {
        let line = format!(
            "finished with failures: {} clip(s) not imported, {} source(s) not removed (listed \
             above); run the import again once the cause is fixed",
            s.failed.len(),
            s.not_removed.len()
        );
        if format == LogFormat::Json {
            tracing::error!(exit_code = Exit::FinishedWithFailures as u8, "{line}");
        } else {
            errln!("viofosync: {line}");
        }
    }
}

/// The progress bar (files, bytes, speed, ETA) on a terminal, drawn on
/// the command's bars (log lines print above it); log lines otherwise.
#[derive(Clone)]
struct Bar {
    bar: Option<ProgressBar>,
    files: Arc<Mutex<(u64, u64)>>,
}

impl Bar {
    fn new(bars: bool) -> Bar {
        let bar = crate::output::bars().filter(|_| bars).map(|mp| {
            let style = ProgressStyle::with_template(
                "{spinner} {msg} {wide_bar} {decimal_bytes}/{decimal_total_bytes} \
                 {decimal_bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            mp.add(ProgressBar::hidden().with_style(style))
        });
        Bar {
            bar,
            files: Arc::new(Mutex::new((0, 0))),
        }
    }

    fn event(&self, e: &ImportEvent) {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            ImportEvent::Planned { files: n, bytes } => {
                files.1 = *n;
                tracing::info!("importing {n} clips ({})", DecimalBytes(*bytes));
                if let Some(b) = &self.bar {
                    b.set_length(*bytes);
                    b.set_message(format!("clips 0/{n}"));
                    b.reset_elapsed();
                    b.enable_steady_tick(std::time::Duration::from_millis(200));
                }
            }
            ImportEvent::Progress { bytes } => {
                if let Some(b) = &self.bar {
                    b.inc(*bytes);
                }
            }
            ImportEvent::Imported { path, dest, .. } => {
                files.0 += 1;
                tracing::debug!("imported {} as {}", path.display(), dest.display());
                if let Some(b) = &self.bar {
                    b.set_message(format!("clips {}/{}", files.0, files.1));
                }
            }
            ImportEvent::Failed { path, reason } => {
                tracing::warn!("{}: {reason}", path.display());
            }
            ImportEvent::Started { path, .. } => tracing::debug!("copying {}", path.display()),
            ImportEvent::Removed { path } => tracing::debug!("removed {}", path.display()),
            _ => {}
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
