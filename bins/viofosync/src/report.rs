//! Rendering of the store's rows: a clip's state, cycle lines and timing
//! summaries.

use std::fmt::Write as _;

use viofo_store::{
    ClipRow, ClipState, CycleMode, CycleOutcome, CycleRow, CycleTimings, StageStats, Store,
};

use crate::output;

fn mode(m: CycleMode) -> &'static str {
    match m {
        CycleMode::Pipelined => "pipelined",
        CycleMode::Inline => "inline",
    }
}

fn outcome(o: Option<CycleOutcome>) -> &'static str {
    o.map_or("unfinished", viofo_pipeline::words::outcome_words)
}

/// A clip's state as `queue` shows it, with what explains it: where an
/// archived clip is, why one failed, how often a pending one was deferred,
/// that a pruned one is no longer in the archive.
pub(crate) fn clip_state(r: &ClipRow) -> String {
    let path = || {
        r.local_path.as_ref().map_or_else(
            || "(no path recorded)".to_owned(),
            |p| p.display().to_string(),
        )
    };
    let error = || r.last_error.as_deref().unwrap_or("no error recorded");
    match r.state {
        ClipState::Pending if r.skip_reason.is_some() => {
            format!("skipped: {}", r.skip_reason.as_deref().unwrap_or_default())
        }
        ClipState::Pending if r.deferrals > 0 => {
            format!("pending (deferred {}x: {})", r.deferrals, error())
        }
        ClipState::Pending if r.last_error.is_some() => format!("pending (last try: {})", error()),
        ClipState::Downloaded => format!("downloaded: {} (tail unfinished)", path()),
        ClipState::Done => format!("done: {}", path()),
        ClipState::Failed => format!("failed: {}", error()),
        ClipState::Gone => "gone (no longer on the camera)".to_owned(),
        ClipState::Pruned => {
            let when = r
                .pruned_at
                .map(|t| format!(" {}", when(t)))
                .unwrap_or_default();
            format!(
                "pruned: removed from the archive by retention{when} (was {})",
                path()
            )
        }
        other => other.as_str().to_owned(),
    }
}

/// `2026-11-23 10:00:00 UTC`.
pub(crate) fn when(ms: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return ms.to_string();
    };
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.format(&f).unwrap_or_else(|_| ms.to_string())
}

fn wall_ms(c: &CycleRow) -> Option<i64> {
    c.finished_at.map(|f| f.saturating_sub(c.started_at))
}

/// One line about a cycle.
pub(crate) fn cycle_line(c: &CycleRow) -> String {
    let mut s = format!(
        "#{} {} {} ({}): {} clips, {}",
        c.id.0,
        when(c.started_at),
        mode(c.mode),
        outcome(c.outcome),
        c.clips.unwrap_or(0),
        output::bytes(c.bytes.unwrap_or(0)),
    );
    if let Some(ms) = wall_ms(c) {
        let _ = write!(s, " in {}", secs(ms));
    }
    if let Some(n) = &c.note {
        let _ = write!(s, " — {n}");
    }
    s
}

fn secs(ms: i64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let s = ms as f64 / 1000.0;
    format!("{s:.2}s")
}

fn ms(v: Option<i64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v} ms"))
}

fn stage_row(out: &mut String, name: &str, s: &StageStats) {
    let _ = writeln!(
        out,
        "    {name:<11} {:>5} {:>10} {:>10} {:>10}",
        s.count,
        ms(s.p50_ms),
        ms(s.p95_ms),
        ms(s.max_ms)
    );
}

/// The timing block of one cycle.
pub(crate) fn cycle_block(t: &CycleTimings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "cycle {}", cycle_line(&t.cycle));
    let _ = writeln!(
        out,
        "    {:<11} {:>5} {:>10} {:>10} {:>10}",
        "stage", "n", "p50", "p95", "max"
    );
    stage_row(&mut out, "download", &t.download);
    stage_row(&mut out, "gap", &t.gap);
    stage_row(&mut out, "tail wait", &t.tail_wait);
    stage_row(&mut out, "gps", &t.gps);
    stage_row(&mut out, "delete", &t.delete);
    stage_row(&mut out, "tail run", &t.tail_run);
    stage_row(&mut out, "tail total", &t.tail_total);
    let overlap = t.overlap_fraction().map_or_else(
        || "no tail work".to_owned(),
        |f| format!("{:.0}%", f * 100.0),
    );
    let _ = writeln!(
        out,
        "    tail work {} of which during downloads {} ({overlap})",
        secs(t.tail_busy_ms),
        secs(t.tail_overlap_ms)
    );
    out
}

fn rate(t: &CycleTimings) -> Option<f64> {
    let wall = wall_ms(&t.cycle)?;
    let bytes = t.cycle.bytes?;
    #[allow(clippy::cast_precision_loss)]
    (wall > 0).then(|| bytes as f64 / (wall as f64 / 1000.0))
}

/// Pipelined against inline, when both have run.
pub(crate) fn compare(p: &CycleTimings, i: &CycleTimings) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "last pipelined (#{}) vs last inline (#{}):",
        p.cycle.id.0, i.cycle.id.0
    );
    let row = |out: &mut String, what: &str, a: String, b: String| {
        let _ = writeln!(out, "    {what:<24} {a:>14} {b:>14}");
    };
    row(&mut out, "", "pipelined".into(), "inline".into());
    row(
        &mut out,
        "clips",
        p.cycle.clips.unwrap_or(0).to_string(),
        i.cycle.clips.unwrap_or(0).to_string(),
    );
    row(
        &mut out,
        "wall time",
        wall_ms(&p.cycle).map_or("-".into(), secs),
        wall_ms(&i.cycle).map_or("-".into(), secs),
    );
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let r =
        |t: &CycleTimings| rate(t).map_or("-".into(), |r| format!("{}/s", output::bytes(r as u64)));
    row(&mut out, "throughput", r(p), r(i));
    row(&mut out, "gap p50", ms(p.gap.p50_ms), ms(i.gap.p50_ms));
    row(&mut out, "gap p95", ms(p.gap.p95_ms), ms(i.gap.p95_ms));
    let ov = |t: &CycleTimings| {
        t.overlap_fraction()
            .map_or("-".into(), |f| format!("{:.0}%", f * 100.0))
    };
    row(&mut out, "tail during downloads", ov(p), ov(i));
    out
}

/// The `timings` report: the last `n` cycles, then the comparison.
pub(crate) async fn timings(store: &Store, n: u32, camera: Option<&str>) -> anyhow::Result<String> {
    let cycles = match camera {
        Some(id) => store.last_cycles_of(id, n.max(1)).await?,
        None => store.last_cycles(n.max(1)).await?,
    };
    let mut out = String::new();
    if cycles.is_empty() {
        out.push_str("no cycles recorded yet\n");
        return Ok(out);
    }
    for t in cycles.iter().rev() {
        out.push_str(&cycle_block(t));
    }
    let p = store.last_cycle_of_mode(CycleMode::Pipelined).await?;
    let i = store.last_cycle_of_mode(CycleMode::Inline).await?;
    match (p, i) {
        (Some(p), Some(i)) => out.push_str(&compare(&p, &i)),
        _ => out.push_str(
            "(run a cycle with --tail inline to compare the pipelined and inline tails)\n",
        ),
    }
    Ok(out)
}
