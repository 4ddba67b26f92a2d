//! `viofosync demo`: a simulated camera on 127.0.0.1, synced into a fresh
//! folder with its own state database, then what landed where and the
//! timings. Needs no camera and no configuration, reads no configuration
//! file, and never touches the user's state database.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use viofo_client::{Client, ClientConfig};
use viofo_pipeline::{CycleMode, Event, GpsConfig, Grouping, Shutdown, SyncConfig, Syncer};
use viofo_sim::{ClipDef, ClipSpec, Folder, Sim, SimConfig};
use viofo_store::{Store, StoreOptions};

use crate::config::{ConfigError, clip_size_arg, parse_size};
use crate::errors::Exit;
use crate::output::{self, Progress};
use crate::stdout::{errln, out, outln};

/// Sync a simulated camera into a fresh folder and show what landed where.
#[derive(clap::Args, Debug)]
pub(crate) struct DemoArgs {
    /// Folder for the demo (archive/ and state/ go inside); default: a new
    /// folder in the system's temporary directory, kept afterwards.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Clips on the simulated camera (per cycle).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u16).range(1..=200))]
    clips: u16,
    /// Size of each clip (e.g. 4MB, 1.5GB, 1000000 bytes).
    #[arg(long, default_value = "4MB", value_parser = clip_size_arg)]
    clip_size: u64,
    /// Simulated Wi-Fi bandwidth in bytes per second (e.g. 8MB, 1.5MB); 0 = unlimited.
    #[arg(long, default_value = "8MB", value_parser = parse_size)]
    bandwidth: u64,
    /// Which tail to run: `both` syncs the clips with the pipelined tail,
    /// lets the camera record as many again, syncs those with the inline
    /// tail (the Python tool's way) and compares the two; or only one.
    #[arg(long, value_enum, default_value_t = DemoTail::Both)]
    tail: DemoTail,
}

/// The demo's cycles.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DemoTail {
    /// A pipelined cycle, then an inline one, compared.
    Both,
    /// One pipelined cycle.
    Pipelined,
    /// One inline cycle.
    Inline,
}

/// Runs the demo.
pub(crate) async fn run(args: &DemoArgs, bars: bool) -> Result<Exit> {
    let root = match &args.dir {
        Some(d) => {
            // A second demo in the same folder would find every clip
            // already archived; never clear a folder the user named.
            for sub in ["archive", "state"] {
                if d.join(sub).exists() {
                    return Err(ConfigError::new(format!(
                        "{} already holds a demo ({sub}/ exists): remove it or pick another --dir",
                        d.display()
                    ))
                    .into());
                }
            }
            fs_err::create_dir_all(d)?;
            d.clone()
        }
        None => tempfile::Builder::new()
            .prefix("viofosync-demo-")
            .tempdir()
            .context("creating the demo folder")?
            .keep(),
    };
    let archive = root.join("archive");
    let db = root.join("state").join("viofosync.db");
    // The demo's own folder: created on purpose (a sync never creates one).
    fs_err::create_dir_all(&archive)?;

    let mut sim_cfg = SimConfig::default()
        .with_clips(
            ClipSpec::synthetic(usize::from(args.clips))
                .size(args.clip_size)
                .start_time(FIRST_BATCH),
        )
        .delete_delay(Duration::from_millis(300));
    if args.bandwidth > 0 {
        sim_cfg = sim_cfg.bandwidth(args.bandwidth);
    }
    let sim = Sim::start(sim_cfg)
        .await
        .context("starting the simulated camera")?;
    outln!(
        "simulated camera at {} with {} clips of {} (link {}, deletes take 0.3s)",
        sim.base_url(),
        args.clips,
        output::bytes(args.clip_size),
        if args.bandwidth > 0 {
            format!("{}/s", output::bytes(args.bandwidth))
        } else {
            "unlimited".to_owned()
        }
    );
    outln!(
        "a clip is deleted only once two listings {:.0}s apart show it at the same size \
         (delete_settle: the camera may still be writing it); a cycle waits for that once, at its end",
        SETTLE.as_secs_f64()
    );
    outln!("syncing into {}", archive.display());
    crate::stdout::flush_out();

    let result = sync(&sim, &archive, &db, args, bars).await;
    sim.shutdown().await;
    let (code, store, settles) = result?;

    outln!();
    outln!("what landed where:");
    let mut clips = 0usize;
    let mut sidecars = 0usize;
    let mut journeys = 0usize;
    let journeys_dir = archive.join(viofo_pipeline::journeys::gpx::JOURNEYS_DIR);
    for (path, size) in files(&archive)? {
        if path.file_name() == Some(std::ffi::OsStr::new(viofo_pipeline::archive::LOCK_FILE)) {
            continue;
        }
        let rel = path.strip_prefix(&root).unwrap_or(&path);
        let name = path.to_string_lossy();
        if path.parent() == Some(journeys_dir.as_path()) {
            journeys += 1;
        } else if name.ends_with(".gpx") || name.ends_with(".geojson") {
            sidecars += 1;
        } else {
            clips += 1;
        }
        outln!("  {:<56} {:>10}", rel.display(), output::bytes(size));
    }
    outln!(
        "{clips} clips and {sidecars} GPS sidecars (<clip>.MP4.gpx) in {}",
        archive.display()
    );
    if journeys > 0 {
        outln!(
            "{journeys} journey track(s) in {} (see viofosync trips)",
            journeys_dir.display()
        );
    }
    outln!("state database: {}", store.path().display());
    outln!();
    let cycles = if args.tail == DemoTail::Both { 2 } else { 1 };
    let timings = crate::report::timings(&store, cycles, None).await;
    store.close().await.ok();
    out!("{}", timings?);
    if let [(pm, p), (im, i)] = settles.as_slice() {
        outln!(
            "without the settle wait: {pm} {:.1}s, {im} {:.1}s (the wall times above include it)",
            p.as_secs_f64(),
            i.as_secs_f64()
        );
    }
    outln!();
    outln!(
        "look again with: viofosync timings --state-db {}",
        db.display()
    );
    outln!("remove it with:  rm -r {}", root.display());
    Ok(code)
}

/// The delete settle time the demo's cycles use (the syncer's default).
const SETTLE: Duration = Duration::from_secs(5);

/// When the demo camera's first clip was recorded.
const FIRST_BATCH: time::PrimitiveDateTime = time::macros::datetime!(2025-12-24 12:00:00);

/// The longest time without any event in a cycle: the end-of-cycle wait
/// for the clips' sizes to settle before their deletes, when it is that
/// long.
#[derive(Debug, Default)]
struct Quiet {
    last: Option<Instant>,
    longest: Duration,
}

impl Quiet {
    fn note(&mut self, now: Instant) {
        if let Some(l) = self.last {
            self.longest = self.longest.max(now.saturating_duration_since(l));
        }
        self.last = Some(now);
    }
}

/// The settle wait in a cycle whose longest quiet time was `longest`: that
/// time when it is (nearly) the whole settle time, else none.
fn settle_wait(longest: Duration, settle: Duration) -> Option<Duration> {
    (longest >= settle.mul_f64(0.9)).then_some(longest)
}

/// The mode's cycle time with its settle wait taken out.
type Settled = (CycleMode, Duration);

/// The demo's cycles: one per tail mode asked for. Before the second, the
/// camera "records" as many clips again, an hour later.
async fn sync(
    sim: &Sim,
    archive: &Path,
    db: &Path,
    args: &DemoArgs,
    bars: bool,
) -> Result<(Exit, Store, Vec<Settled>)> {
    let client = Client::new(ClientConfig::new(sim.base_url()))?;
    let store = Store::open(StoreOptions {
        path: Some(db.to_path_buf()),
        recordings_dir: Some(archive.to_path_buf()),
        ..StoreOptions::default()
    })
    .await
    .context("opening the demo's state database")?;
    let modes: &[CycleMode] = match args.tail {
        DemoTail::Both => &[CycleMode::Pipelined, CycleMode::Inline],
        DemoTail::Pipelined => &[CycleMode::Pipelined],
        DemoTail::Inline => &[CycleMode::Inline],
    };
    let shutdown = Shutdown::new();
    viofo_daemon::stop_on_signals(shutdown.clone(), true);
    let progress = Progress::new(bars);
    let mut settles = Vec::new();
    for (i, mode) in modes.iter().enumerate() {
        let how = match mode {
            CycleMode::Inline => {
                "GPX, camera deletes and database writes between downloads, as the Python tool did"
            }
            _ => "GPX, camera deletes and database writes beside the downloads",
        };
        if i > 0 {
            record_more(sim, args.clips, args.clip_size)?;
            outln!(
                "\nthe camera recorded {} more clips; syncing them with the {mode} tail ({how})",
                args.clips
            );
        } else {
            outln!("syncing with the {mode} tail ({how})");
        }
        crate::stdout::flush_out();
        let mut cfg = SyncConfig::new("demo-camera", archive);
        cfg.grouping = Grouping::Daily;
        cfg.delete_after_download = true;
        cfg.gps = Some(GpsConfig::default());
        cfg.tail = *mode;
        cfg.delete_settle = SETTLE;
        let quiet = Arc::new(Mutex::new(Quiet::default()));
        let sink = {
            let (quiet, progress) = (quiet.clone(), progress.sink());
            move |e: Event| {
                quiet
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .note(Instant::now());
                progress(e);
            }
        };
        let syncer = Syncer::new(client.clone(), store.clone(), cfg, sink)?;
        match syncer.run_cycle(&shutdown).await {
            Ok(s) => {
                let longest = quiet
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .longest;
                let wait = settle_wait(longest, SETTLE);
                outln!(
                    "synced {} clips ({}) in {:.1}s with the {mode} tail{}, {} deleted from the simulated camera",
                    s.clips,
                    output::bytes(s.bytes),
                    s.duration.as_secs_f64(),
                    wait.map_or_else(String::new, |w| format!(
                        " ({:.1}s of it waiting for the sizes to settle before deleting)",
                        w.as_secs_f64()
                    )),
                    s.deleted
                );
                settles.push((*mode, s.duration.saturating_sub(wait.unwrap_or_default())));
            }
            Err(e) => {
                errln!("viofosync demo: {}", crate::errors::chain_of(&e));
                return Ok((crate::errors::exit_for_pipeline(&e), store, settles));
            }
        }
    }
    Ok((Exit::Success, store, settles))
}

/// Adds `n` clips of `size` to the simulated camera, recorded an hour
/// after the first batch.
fn record_more(sim: &Sim, n: u16, size: u64) -> Result<()> {
    let start = FIRST_BATCH + time::Duration::HOUR;
    for i in 0..n {
        let t = start + time::Duration::minutes(i64::from(i));
        let name = format!(
            "{:04}_{:02}{:02}_{:02}{:02}{:02}_{:06}F.MP4",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            u32::from(n) + u32::from(i) + 1
        );
        sim.add_clip(ClipDef::synthetic(name, Folder::Movie, size).start_time(t))
            .context("adding a clip to the simulated camera")?;
    }
    Ok(())
}

/// Files under `dir` (two levels: grouping folders), sorted.
fn files(dir: &Path) -> Result<Vec<(PathBuf, u64)>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut stack = vec![(dir.to_path_buf(), 0u8)];
    while let Some((d, depth)) = stack.pop() {
        for entry in fs_err::read_dir(&d)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() && depth < 2 {
                stack.push((entry.path(), depth + 1));
            } else if meta.is_file() {
                out.push((entry.path(), meta.len()));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    /// The settle wait is the cycle's longest quiet time when it is about
    /// the settle time, and only then.
    #[test]
    fn the_settle_wait_is_told_apart() {
        use std::time::{Duration, Instant};

        use super::{Quiet, settle_wait};
        let s = Duration::from_secs(5);
        assert_eq!(
            settle_wait(Duration::from_millis(5_020), s),
            Some(Duration::from_millis(5_020))
        );
        assert_eq!(
            settle_wait(Duration::from_millis(4_600), s),
            Some(Duration::from_millis(4_600))
        );
        assert_eq!(settle_wait(Duration::from_millis(300), s), None);
        let t0 = Instant::now();
        let mut q = Quiet::default();
        for ms in [0, 100, 250, 5_300, 5_350] {
            q.note(t0 + Duration::from_millis(ms));
        }
        assert_eq!(q.longest, Duration::from_millis(5_050));
    }
}
