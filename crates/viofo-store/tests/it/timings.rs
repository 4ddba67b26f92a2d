use std::path::Path;

use viofo_store::{CycleMode, CycleOutcome, CycleStats, Stage, StageStats};

use crate::common::{CAM, clip, fixture, id_of};

/// Crafted timestamps for one pipelined cycle of 5 clips:
/// downloads of 1000, 1100, 900, 1200, 1000 ms separated by gaps of
/// 10, 30, 20, 200 ms; each tail waits 5 ms after its download, runs
/// GPS for 300 ms and delete for 50 ms.
fn crafted() -> Vec<[i64; 8]> {
    let durations = [1000, 1100, 900, 1200, 1000];
    let gaps = [10, 30, 20, 200];
    let mut out = Vec::new();
    let mut t = 100_000;
    for (i, d) in durations.iter().enumerate() {
        let start = t;
        let finish = start + d;
        let submitted = finish + 1;
        let tail_start = submitted + 5;
        let gps = tail_start + 300;
        let del = gps + 50;
        let tail_end = del + 2;
        out.push([
            90_000, start, finish, submitted, tail_start, gps, del, tail_end,
        ]);
        t = finish + gaps.get(i).copied().unwrap_or(0);
    }
    out
}

#[tokio::test]
async fn report_on_crafted_timestamps() {
    let f = fixture().await;
    let s = &f.store;
    let clips: Vec<_> = (0..6).map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &clips, |_| None).await.unwrap();
    let inline = s.begin_cycle(CAM, CycleMode::Inline).await.unwrap();
    let cycle = s.begin_cycle(CAM, CycleMode::Pipelined).await.unwrap();
    let data = crafted();
    let stages = [
        Stage::Listed,
        Stage::DownloadStarted,
        Stage::DownloadFinished,
        Stage::TailSubmitted,
        Stage::TailStarted,
        Stage::GpsFinished,
        Stage::DeleteFinished,
        Stage::TailFinished,
    ];
    for (c, ts) in clips.iter().zip(&data) {
        let id = id_of(s, &c.name).await;
        s.start_download(id, Some(cycle)).await.unwrap();
        for (stage, at) in stages.iter().zip(ts) {
            s.record_timing(id, *stage, *at);
        }
        s.finish_download(id, Path::new("/a/x"), c.size)
            .await
            .unwrap();
    }
    // The sixth clip belongs to the inline cycle.
    let id5 = id_of(s, &clips[5].name).await;
    s.start_download(id5, Some(inline)).await.unwrap();
    s.record_timing(id5, Stage::DownloadStarted, 0);
    s.record_timing(id5, Stage::DownloadFinished, 777);
    s.finish_cycle(
        cycle,
        CycleStats {
            clips: 5,
            bytes: 5_000,
            outcome: CycleOutcome::Completed,
            note: None,
        },
    )
    .await
    .unwrap();
    s.flush().await.unwrap();

    let t = s.cycle_timings(cycle).await.unwrap().unwrap();
    assert_eq!(t.clips, 5);
    assert_eq!(t.cycle.mode, CycleMode::Pipelined);
    assert_eq!(t.cycle.clips, Some(5));
    assert_eq!(t.cycle.outcome, Some(CycleOutcome::Completed));
    // Downloads sorted: 900 1000 1000 1100 1200 -> p50 (rank 3) 1000, p95 (rank 5) 1200.
    assert_eq!(
        t.download,
        StageStats {
            count: 5,
            p50_ms: Some(1000),
            p95_ms: Some(1200),
            max_ms: Some(1200)
        }
    );
    // Gaps 10 20 30 200 -> p50 (rank 2) 20, p95 (rank 4) 200.
    assert_eq!(
        t.gap,
        StageStats {
            count: 4,
            p50_ms: Some(20),
            p95_ms: Some(200),
            max_ms: Some(200)
        }
    );
    assert_eq!(t.tail_wait.p50_ms, Some(5));
    assert_eq!(t.gps.p95_ms, Some(300));
    assert_eq!(t.delete.p50_ms, Some(50));
    assert_eq!(t.tail_run.p50_ms, Some(352));
    assert_eq!(t.tail_total.p50_ms, Some(357));

    // Overlap, computed independently: each tail [finish+6, finish+358]
    // overlaps the next download, which starts finish+gap.
    let mut expect = 0;
    for ts in &data {
        let (a, b) = (ts[4], ts[7]);
        for other in &data {
            let (s0, f0) = (other[1], other[2]);
            expect += (b.min(f0) - a.max(s0)).max(0);
        }
    }
    assert_eq!(t.tail_busy_ms, 5 * 352);
    assert_eq!(t.tail_overlap_ms, expect);
    // The last clip's tail overlaps nothing, the fourth's (gap 200) less.
    assert!(t.tail_overlap_ms < t.tail_busy_ms);
    // Tail i ends 358 ms after its download; the next starts `gap` after it.
    assert_eq!(
        t.tail_overlap_ms,
        (358 - 10) + (358 - 30) + (358 - 20) + (358 - 200)
    );
    let frac = t.overlap_fraction().unwrap();
    assert!(frac > 0.5 && frac < 1.0, "{frac}");

    let last = s.last_cycles(5).await.unwrap();
    assert_eq!(
        last.iter().map(|c| c.cycle.id).collect::<Vec<_>>(),
        vec![cycle, inline]
    );
    let li = s
        .last_cycle_of_mode(CycleMode::Inline)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(li.cycle.id, inline);
    assert_eq!(li.download.p50_ms, Some(777));
    assert_eq!(li.cycle.finished_at, None);
    assert_eq!(
        s.last_cycle_of_mode(CycleMode::Pipelined)
            .await
            .unwrap()
            .unwrap()
            .cycle
            .id,
        cycle
    );
}

#[tokio::test]
async fn last_cycles_of_one_camera() {
    let f = fixture().await;
    let s = &f.store;
    let a1 = s.begin_cycle(CAM, CycleMode::Pipelined).await.unwrap();
    let b1 = s.begin_cycle("cam-2", CycleMode::Pipelined).await.unwrap();
    let a2 = s.begin_cycle(CAM, CycleMode::Inline).await.unwrap();
    let b2 = s.begin_cycle("cam-2", CycleMode::Inline).await.unwrap();
    let ids =
        |v: Vec<viofo_store::CycleTimings>| v.into_iter().map(|t| t.cycle.id).collect::<Vec<_>>();
    assert_eq!(ids(s.last_cycles_of(CAM, 5).await.unwrap()), vec![a2, a1]);
    assert_eq!(
        ids(s.last_cycles_of("cam-2", 5).await.unwrap()),
        vec![b2, b1]
    );
    assert_eq!(ids(s.last_cycles_of("cam-2", 1).await.unwrap()), vec![b2]);
    assert_eq!(ids(s.last_cycles(1).await.unwrap()), vec![b2]);
    assert!(s.last_cycles_of("cam-3", 5).await.unwrap().is_empty());
}
