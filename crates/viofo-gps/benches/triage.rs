//! Triage budget: bytes requested ÷ clip size for skeleton and full ranged
//! extraction on 1 GiB fixture clips of every layout (moov in front or at
//! the end, 32- or 64-bit mdat), served by an in-memory `ClipSource` that
//! never holds the clip; plus the CPU time of one triage. The budget table
//! is printed to stderr. See docs/PERFORMANCE.md.
#![allow(
    clippy::print_stderr,
    clippy::cast_precision_loss,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use time::macros::datetime;
use viofo_gps::fixture::{Clip, ClipBuilder, ClipSource, Filler, MoovAt, drive};
use viofo_gps::{Layout, Options, TriageMode, extract_ranged};

const GIB: u64 = 1 << 30;

fn clip(layout: Layout, moov: MoovAt, large: bool, blocks: usize) -> Clip {
    let pts = drive(
        datetime!(2025-12-24 11:03:24),
        blocks,
        52.52,
        13.40,
        14.0,
        90.0,
    );
    ClipBuilder::new(layout)
        .points(pts)
        .total_len(GIB)
        .moov(moov)
        .moov_reserve(65_536) // the A229's front region (front moov only)
        .large_mdat(large)
        .filler(Filler::Zero)
        .build()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn budget(c: &mut Criterion) {
    let rt = rt();
    let opts = Options::default();
    let mut rows = vec![
        "| clip (1 GiB) | blocks | mode | points | reads | bytes requested | of the clip | target |"
            .to_string(),
        "|---|---|---|---|---|---|---|---|".to_string(),
    ];
    let mut worst = [0f64; 2];
    let mut timed = Vec::new();
    for (name, layout, moov, large) in [
        ("type3 16K, moov end", Layout::Type3, MoovAt::End, false),
        ("type3 16K, moov front", Layout::Type3, MoovAt::Front, false),
        (
            "a119s 32K, moov end, 64-bit mdat",
            Layout::A119S,
            MoovAt::End,
            true,
        ),
        (
            "variable 32K, moov front (A229)",
            Layout::Variable,
            MoovAt::Front,
            false,
        ),
        (
            "variable 32K, moov front, 64-bit mdat",
            Layout::Variable,
            MoovAt::Front,
            true,
        ),
        (
            "variable 32K, moov end",
            Layout::Variable,
            MoovAt::End,
            false,
        ),
    ] {
        // 180 blocks: a 3-minute clip; 60: a 1-minute clip at a high bitrate.
        for blocks in [180, 60] {
            let clip = clip(layout, moov, large, blocks);
            assert_eq!(clip.len(), GIB);
            for (i, (mode, target)) in [(TriageMode::skeleton(), 0.003), (TriageMode::Full, 0.02)]
                .into_iter()
                .enumerate()
            {
                let mut src = ClipSource::new(clip.clone());
                let t = rt.block_on(extract_ranged(&mut src, mode, &opts)).unwrap();
                let x = t.track().unwrap();
                assert_eq!(t.bytes_requested, src.bytes);
                let frac = t.fraction_requested();
                worst[i] = worst[i].max(frac);
                let mode_name = match mode {
                    TriageMode::Full => "full",
                    TriageMode::Skeleton { .. } => "skeleton",
                };
                rows.push(format!(
                    "| {name} | {blocks} | {mode_name} | {} | {} | {} | {:.3} % | ≤ {} % |",
                    x.points.len(),
                    t.reads,
                    t.bytes_requested,
                    frac * 100.0,
                    target * 100.0
                ));
                assert!(frac <= target, "{name} {mode:?}: {frac}");
                if blocks == 180
                    && (layout, moov, large) == (Layout::Variable, MoovAt::Front, false)
                {
                    timed.push((mode_name, mode, clip.clone()));
                }
            }
        }
    }
    rows.push(format!(
        "worst: skeleton {:.3} % (target ≤ 0.3 %), full {:.3} % (target ≤ 2 %)",
        worst[0] * 100.0,
        worst[1] * 100.0
    ));
    let mut g = c.benchmark_group("triage_1GiB_variable_front_180_blocks");
    for (mode_name, mode, clip) in timed {
        g.bench_function(mode_name, |b| {
            b.iter(|| {
                let mut src = ClipSource::new(clip.clone());
                rt.block_on(extract_ranged(black_box(&mut src), mode, &opts))
                    .unwrap()
            })
        });
    }
    g.finish();
    eprintln!("\n{}", rows.join("\n"));
}

criterion_group!(benches, budget);
criterion_main!(benches);
