//! The import benchmark of docs/PERFORMANCE.md ("Import"): `viofosync
//! import`'s library path against `cp -r` followed by `sync` of the same
//! files, on the same disk.
//!
//! ```text
//! cargo run --release -p viofo-pipeline --example import_bench -- \
//!     [--clips 1400] [--size 330000] [--rounds 5] [--batch-files 64] [--dir DIR] [--no-cp]
//! cargo run --release -p viofo-pipeline --example import_bench -- --clips 2 --size 2000000000
//! ```
//!
//! The source clips are the simulator's synthetic Viofo clips (with GPS),
//! written once into `DIR/src/DCIM/Movie` and synced; each round then
//! times `cp -r src copy && sync` and an import of `src` into a fresh
//! archive with a fresh state database, both reading the sources from the
//! page cache and both ending with everything durable, each round in its
//! own folder (all removed at the end), in alternating order. Prints each round, the median and
//! best of each with their ratios, and the process's peak RSS (the source
//! generation included). `DIR` defaults to a folder under the system's
//! temporary folder; it is removed at the end. `--no-cp` times the import
//! alone (to profile it).
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use viofo_pipeline::import::{ImportOptions, Importer};
use viofo_pipeline::{Shutdown, SyncConfig};
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_store::{Store, StoreOptions};

struct Args {
    clips: usize,
    size: u64,
    rounds: usize,
    batch_files: usize,
    dir: Option<PathBuf>,
    /// Skip `cp` (to profile the import alone).
    no_cp: bool,
}

fn args() -> Args {
    let mut a = Args {
        clips: 1400,
        size: 330_000,
        rounds: 5,
        batch_files: ImportOptions::default().batch_files,
        dir: None,
        no_cp: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--no-cp" {
            a.no_cp = true;
            continue;
        }
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--clips" => a.clips = v.parse().expect("--clips N"),
            "--size" => a.size = v.parse().expect("--size BYTES"),
            "--rounds" => a.rounds = v.parse().expect("--rounds N"),
            "--batch-files" => a.batch_files = v.parse().expect("--batch-files N"),
            "--dir" => a.dir = Some(PathBuf::from(v)),
            // `cargo bench`-style flags are ignored.
            _ => {}
        }
    }
    a
}

fn run(cmd: &mut Command) {
    let st = cmd.status().expect("running a command");
    assert!(st.success(), "{cmd:?}: {st}");
}

fn sync() {
    run(&mut Command::new("sync"));
}

/// Peak resident set size of this process, from /proc (Linux).
fn peak_rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + sys) of this process and of its waited-for children
/// (`cp`, `sync`), in ms, from `/proc/self/stat` (clock ticks of 10 ms).
fn cpu_ms() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces).
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    // utime, stime, cutime, cstime are fields 14-17 (11-14 after the name).
    ((at(11) + at(12)) * 10, (at(13) + at(14)) * 10)
}

async fn write_sources(root: &Path, clips: usize, size: u64) -> u64 {
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(clips).size(size)))
        .await
        .expect("simulator");
    let dir = root.join("DCIM/Movie");
    std::fs::create_dir_all(&dir).unwrap();
    let mut total = 0;
    for c in sim.clips() {
        let mut r = sim.clip_reader_at(c.folder, &c.name).unwrap();
        let mut f = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(dir.join(&c.name)).unwrap(),
        );
        total += std::io::copy(&mut r, &mut f).unwrap();
    }
    sim.shutdown().await;
    total
}

async fn import_once(base: &Path, src: &Path, batch_files: usize) -> Duration {
    let archive = base.join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let store = Store::open(StoreOptions::at(base.join("state.db")))
        .await
        .unwrap();
    let mut cfg = SyncConfig::new("bench", &archive);
    cfg.max_used_disk = None;
    let opts = ImportOptions {
        batch_files,
        ..ImportOptions::default()
    };
    let importer = Importer::new(store.clone(), cfg, opts).unwrap();
    let t = Instant::now();
    let s = importer
        .run(&[src.to_owned()], |_| {}, &Shutdown::new())
        .await
        .unwrap();
    let took = t.elapsed();
    assert!(s.is_ok() && s.failed.is_empty(), "{s:?}");
    store.close().await.unwrap();
    took
}

fn cp_once(base: &Path, src: &Path) -> Duration {
    let dst = base.join("copy");
    let t = Instant::now();
    run(Command::new("cp").arg("-r").arg(src).arg(&dst));
    sync();
    t.elapsed()
}

/// Removes every round's copies at the end. Not between rounds: ext4
/// makes creating files slow for a while after many were deleted (its
/// inode allocator skips recently deleted inodes), which would slow the
/// next measurement, whichever it is.
fn clean(base: &Path, rounds: usize) {
    for r in 1..=rounds {
        let _ = std::fs::remove_dir_all(base.join(format!("round{r}")));
    }
    sync();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let tmp;
    let base = match &a.dir {
        Some(d) => {
            std::fs::create_dir_all(d).unwrap();
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir().unwrap();
            tmp.path().to_owned()
        }
    };
    let src = base.join("src");
    let bytes = write_sources(&src, a.clips, a.size).await;
    sync();
    println!(
        "{} clips of {} bytes ({:.1} MB) in {}",
        a.clips,
        a.size,
        bytes as f64 / 1e6,
        src.display()
    );
    let (mut cps, mut imps, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=a.rounds {
        let dir = base.join(format!("round{round}"));
        std::fs::create_dir_all(&dir).unwrap();
        sync();
        // Alternated: whichever runs second meets the first one's flush
        // still draining on a shared host.
        let cp_first = round % 2 == 1;
        let mut imp = Duration::ZERO;
        let mut imp_cpu = 0;
        let mut timed_import = async || {
            let before = cpu_ms().0;
            imp = import_once(&dir, &src, a.batch_files).await;
            imp_cpu = cpu_ms().0 - before;
        };
        if !cp_first {
            timed_import().await;
        }
        let cp_before = cpu_ms().1;
        let cp = if a.no_cp {
            Duration::from_secs(1)
        } else {
            cp_once(&dir, &src)
        };
        let cp_cpu = cpu_ms().1 - cp_before;
        if cp_first {
            timed_import().await;
        }
        if a.clips <= 16 {
            // Few inodes: nothing for ext4 to skip; the space is wanted.
            let _ = std::fs::remove_dir_all(&dir);
            sync();
        }
        ratios.push(imp.as_secs_f64() / cp.as_secs_f64());
        println!(
            "round {round}: cp -r + sync {:.3} s, import {:.3} s ({:.2}x); CPU cp + sync {cp_cpu} ms, \
             import {imp_cpu} ms",
            cp.as_secs_f64(),
            imp.as_secs_f64(),
            imp.as_secs_f64() / cp.as_secs_f64()
        );
        cps.push(cp);
        imps.push(imp);
    }
    clean(&base, a.rounds);
    let _ = std::fs::remove_dir_all(&src);
    cps.sort();
    imps.sort();
    let median = |v: &[Duration]| v.get(v.len() / 2).copied().unwrap_or_default();
    let (best_cp, best_imp) = (
        cps.first().copied().unwrap_or_default(),
        imps.first().copied().unwrap_or_default(),
    );
    let (med_cp, med_imp) = (median(&cps), median(&imps));
    ratios.sort_by(f64::total_cmp);
    println!(
        "median: cp -r + sync {:.3} s, import {:.3} s; median of the rounds' ratios {:.2}x",
        med_cp.as_secs_f64(),
        med_imp.as_secs_f64(),
        ratios.get(ratios.len() / 2).copied().unwrap_or_default()
    );
    println!(
        "best: cp -r + sync {:.3} s ({:.0} MB/s), import {:.3} s ({:.0} MB/s): import takes {:.2}x \
         the time of cp + sync ({:.0} % of its speed); peak RSS {} MB",
        best_cp.as_secs_f64(),
        bytes as f64 / 1e6 / best_cp.as_secs_f64(),
        best_imp.as_secs_f64(),
        bytes as f64 / 1e6 / best_imp.as_secs_f64(),
        best_imp.as_secs_f64() / best_cp.as_secs_f64(),
        100.0 * best_cp.as_secs_f64() / best_imp.as_secs_f64(),
        peak_rss_kb().map_or_else(|| "?".to_owned(), |k| (k / 1024).to_string()),
    );
}
