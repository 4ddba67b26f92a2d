//! Issue 18 items 6 and 7, end to end with the real binary and a
//! configuration file, as a user sets them up.
//!
//! - `parked_at_home`: triage on, Home a place that skips parking clips,
//!   deletes on; 12 clips parked at Home between two drives. Not one of
//!   the 12 is downloaded (no whole-clip GET) or deleted, over two runs;
//!   the drives are archived and deleted.
//! - `quota_rotates`: four days of clips and a quota that holds four.
//!   Each run exits 0 (not 4), the archive ends holding the newest clips
//!   that fit, within the quota, none downloaded only to be pruned; a
//!   newer clip takes the oldest kept one's place.

use std::process::Stdio;
use std::time::Duration;

use time::PrimitiveDateTime;
use time::macros::datetime;
use viofo_gps::Layout;
use viofo_gps::fixture::{ClipBuilder, drive};
use viofo_sim::{ClipDef, Folder, Sim, SimConfig};
use viofo_testkit::{Rig, note, walk};
use viofosync_reliability::viofosync_binary;

const BOUND: Duration = Duration::from_secs(120);
const HOME: (f64, f64) = (48.8566, 2.3522);

async fn sync(home: &std::path::Path, rig: &Rig, extra: &[&str]) -> (Option<i32>, String) {
    let bin = viofosync_binary().unwrap_or_else(|e| panic!("the viofosync binary: {e}"));
    let mut args = vec!["--delete-settle", "200ms"];
    args.extend_from_slice(extra);
    let out = tokio::time::timeout(
        BOUND,
        viofosync_reliability::sync_command(
            &bin,
            home,
            &rig.sim.base_url(),
            &rig.archive,
            &home.join("state.db"),
            &args,
        )
        .stderr(Stdio::piped())
        .output(),
    )
    .await
    .expect("the sync ends")
    .expect("run the sync");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes the configuration file `sync_command`'s environment reads.
fn config_file(home: &std::path::Path, text: &str) {
    let dir = home.join("config").join("viofosync");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

fn gps_clip(name: &str, folder: Folder, start: PrimitiveDateTime, speed: f64) -> ClipDef {
    let (lat, lon) = HOME;
    let bytes = ClipBuilder::new(Layout::Variable)
        .total_len(300_000)
        .points(drive(start, 30, lat, lon, speed, 0.0))
        .build()
        .to_vec();
    ClipDef::from_bytes(name, folder, bytes).start_time(start)
}

/// Was `name` ever served whole (a GET from byte 0 of all its bytes)?
fn served_whole(sim: &Sim, name: &str, size: u64) -> bool {
    sim.requests().iter().any(|r| {
        r.method == "GET"
            && r.clip.as_deref() == Some(name)
            && r.range_start == 0
            && r.body_len >= size
    })
}

pub(crate) async fn parked_at_home() {
    let t0 = datetime!(2025-12-24 08:00:00);
    let at = |m: i64| t0 + time::Duration::minutes(m);
    let mut sim = SimConfig::default().with_clip(gps_clip(
        "2025_1224_080000_000001F.MP4",
        Folder::Movie,
        at(0),
        12.0,
    ));
    let mut parked = Vec::new();
    for i in 0..12 {
        let t = at(1 + i);
        let name = format!("2025_1224_08{:02}00_{:06}P.MP4", 1 + i, 2 + i);
        sim = sim.with_clip(gps_clip(&name, Folder::Parking, t, 0.0));
        parked.push(name);
    }
    sim = sim.with_clip(gps_clip(
        "2025_1224_081300_000014F.MP4",
        Folder::Movie,
        at(13),
        12.0,
    ));
    let rig = Rig::start(sim).await;
    let home = tempfile::tempdir().unwrap();
    config_file(
        home.path(),
        &format!(
            "triage = \"skeleton\"\n\n[[place]]\nname = \"Home\"\nlat = {}\nlon = {}\nradius_m = 150\nskip_parking = true\n",
            HOME.0, HOME.1
        ),
    );
    for run in 0..2 {
        let (code, err) = sync(home.path(), &rig, &[]).await;
        assert_eq!(code, Some(0), "run {run}: {err}");
    }
    for name in &parked {
        let size = rig.sim.clip(name).expect("still on the camera").size;
        assert!(!served_whole(&rig.sim, name, size), "{name} downloaded");
        assert!(!rig.archive.join(name).exists(), "{name} archived");
    }
    assert!(
        rig.sim.deleted().iter().all(|d| !parked.contains(d)),
        "a parked clip deleted: {:?}",
        rig.sim.deleted()
    );
    for drive in [
        "2025_1224_080000_000001F.MP4",
        "2025_1224_081300_000014F.MP4",
    ] {
        assert!(
            walk(&rig.archive).iter().any(|f| f.path.ends_with(drive)),
            "{drive} archived"
        );
        assert!(
            rig.sim.deleted().iter().any(|d| d == drive),
            "{drive} deleted"
        );
    }
    note(
        "parked_at_home: 12 parked clips at Home never downloaded nor deleted; the drives archived",
    );
}

pub(crate) async fn quota_rotates() {
    const SIZE: u64 = 100_000;
    let t0 = datetime!(2025-12-20 09:00:00);
    let mut clips = Vec::new();
    for day in 0..4 {
        for k in 0..3 {
            let t = t0 + time::Duration::days(day) + time::Duration::hours(k);
            let name = format!(
                "{}_{:06}F.MP4",
                t.format(time::macros::format_description!(
                    "[year]_[month][day]_[hour][minute][second]"
                ))
                .unwrap(),
                day * 3 + k + 1
            );
            clips.push((name, t));
        }
    }
    let mut sim = SimConfig::default();
    for (name, t) in &clips {
        sim = sim.with_clip(ClipDef::synthetic(name, Folder::Movie, SIZE).start_time(*t));
    }
    let rig = Rig::start(sim).await;
    let home = tempfile::tempdir().unwrap();
    config_file(home.path(), "");
    let quota = "--quota=450KB";
    for run in 0..2 {
        let (code, err) = sync(home.path(), &rig, &[quota]).await;
        assert_eq!(code, Some(0), "run {run}: {err}");
    }
    let names: Vec<&str> = clips.iter().map(|(n, _)| n.as_str()).collect();
    let held = |n: &str| walk(&rig.archive).iter().any(|f| f.path.ends_with(n));
    let (old, kept) = names.split_at(8);
    for n in kept {
        assert!(held(n), "{n} kept");
    }
    for n in old {
        assert!(!held(n), "{n} left out");
        assert!(
            !served_whole(&rig.sim, n, SIZE),
            "{n} downloaded only to be pruned"
        );
    }
    let used: u64 = walk(&rig.archive).iter().map(|f| f.size).sum();
    assert!(used <= 450_000, "{used} B over the quota");

    // A newer clip: downloaded, the oldest kept one pruned for it.
    let t = clips[11].1 + time::Duration::hours(1);
    let newer = "2025_1223_120000_000013F.MP4";
    rig.sim
        .add_clip(ClipDef::synthetic(newer, Folder::Movie, SIZE).start_time(t))
        .unwrap();
    let (code, err) = sync(home.path(), &rig, &[quota]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(held(newer));
    assert!(!held(kept[0]), "the oldest kept one pruned");
    let used: u64 = walk(&rig.archive).iter().map(|f| f.size).sum();
    assert!(used <= 450_000, "{used} B over the quota");
    note(
        "quota_rotates: exit 0 each run, the newest that fit kept, none downloaded only to be pruned",
    );
}
