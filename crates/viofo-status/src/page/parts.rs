//! The parts of the status page: the state, the cameras, the buttons, the
//! downloads and the cycle, the queue, failed clips, recent activity, the
//! last cycles and the disk.

use std::fmt::Write;

use super::words::{self, bytes, bytes_f, count, secs};
use super::{escape, when};
use crate::snapshot::{StatusSnapshot, SyncState};

/// Waiting because the camera is away (its last probe failed, or the wait
/// is the back-off for an absent camera), not merely between cycles.
pub(super) fn camera_away(s: &StatusSnapshot) -> bool {
    s.state == SyncState::Waiting
        && (s.next_cycle.as_ref().is_some_and(|n| n.camera_away)
            || (!s.camera.online && s.camera.offline_reason.is_some()))
}

pub(super) fn header(h: &mut String, s: &StatusSnapshot, now: i64) {
    let (label, meaning) = words::state(s.state, camera_away(s));
    let state = s.state.as_str();
    let _ = write!(
        h,
        "<h1>viofosync <span class=\"state {state}\" id=\"state\" data-state=\"{state}\" \
         title=\"{meaning}\">{label}</span></h1><p id=\"meaning\">{meaning}</p>"
    );
    for e in &s.errors {
        let _ = write!(
            h,
            "<p class=\"err\"><b>{}</b>: {} (since ",
            e.kind.title(),
            escape(&e.message),
        );
        when(h, &e.since, now);
        h.push_str(")</p>");
    }
}

pub(super) fn cameras(h: &mut String, all: &[StatusSnapshot], shown: &str, now: i64) {
    h.push_str(
        "<h2>Cameras</h2><table id=\"cameras\"><tr><th>camera</th><th>state</th>\
         <th>now</th><th>waiting</th><th>failed</th><th>last seen</th></tr>",
    );
    for c in all {
        let (label, _) = words::state(c.state, camera_away(c));
        let id = escape(&c.camera.id);
        let link = if c.camera.id == shown {
            format!("<b>{id}</b>")
        } else {
            format!(
                "<a href=\"/camera/{}\">{id}</a>",
                escape(&path_segment(&c.camera.id))
            )
        };
        let _ = write!(
            h,
            "<tr data-camera=\"{id}\"><td>{link}</td><td><span class=\"state {}\">{label}</span></td><td>",
            c.state.as_str()
        );
        match c.downloads.first() {
            Some(d) => {
                let _ = write!(h, "{}", escape(&d.clip));
                if let Some(p) = d.percent {
                    let _ = write!(h, " ({p:.0}%)");
                }
            }
            None => h.push('—'),
        }
        let _ = write!(
            h,
            "</td><td>{}</td><td>{}</td><td>",
            count(c.queue.pending, "clip", "clips"),
            count(c.queue.failed, "clip", "clips")
        );
        match &c.camera.last_seen_at {
            Some(t) => when(h, t, now),
            None => h.push_str("not yet"),
        }
        h.push_str("</td></tr>");
    }
    h.push_str("</table>");
}

/// A camera id as one URL path segment (percent-encoded but for letters,
/// digits and `-._~`).
pub(crate) fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

pub(super) fn camera(h: &mut String, s: &StatusSnapshot, now: i64) {
    let c = &s.camera;
    let _ = write!(h, "<p id=\"camera\">Camera <b>{}</b>", escape(&c.id));
    if let Some(m) = &c.model {
        let _ = write!(h, " ({}", escape(m));
        if let Some(f) = &c.firmware {
            let _ = write!(h, ", firmware {}", escape(f));
        }
        h.push(')');
    }
    if let Some(a) = &c.address {
        let _ = write!(h, " at {}", escape(a));
    }
    h.push_str(if c.online {
        ": <span id=\"online\">reachable</span>"
    } else {
        ": <span id=\"online\">not reachable</span>"
    });
    if let Some(r) = &c.offline_reason {
        let _ = write!(h, " ({})", escape(r));
    }
    h.push_str("<br>Last seen ");
    match &c.last_seen_at {
        Some(t) => when(h, t, now),
        None => h.push_str("not yet"),
    }
    if let Some(n) = &s.next_cycle {
        h.push_str(if n.camera_away {
            "<br>Asking the camera again at "
        } else {
            "<br>Next cycle at "
        });
        when(h, &n.at, now);
    }
    h.push_str("</p>");
}

/// One button: a form posting to `/api/<action>`, or disabled with the
/// reason beside it.
fn button(h: &mut String, action: &str, label: &str, disabled: Option<&str>) {
    match disabled {
        None => {
            let _ = write!(
                h,
                "<form method=\"post\" action=\"/api/{action}\"><button id=\"btn-{action}\">{label}</button></form>"
            );
        }
        Some(why) => {
            let _ = write!(
                h,
                "<button id=\"btn-{action}\" disabled title=\"{why}\">{label}</button>\
                 <span class=\"why\" id=\"why-{action}\">{why}</span>"
            );
        }
    }
}

pub(super) fn actions(h: &mut String, s: &StatusSnapshot) {
    let paused = s.state == SyncState::Paused;
    // A div: a <form> would close a <p> (HTML's parsing rules).
    h.push_str("<div id=\"actions\">");
    button(
        h,
        "sync-now",
        "Sync now",
        paused.then_some("Paused: resume first"),
    );
    if paused {
        button(h, "resume", "Resume", None);
    } else {
        button(h, "pause", "Pause", None);
    }
    button(
        h,
        "retry-failed",
        "Retry failed",
        (s.queue.failed == 0).then_some("No failed clips"),
    );
    h.push_str("</div>");
}

fn bar(h: &mut String, percent: Option<f64>) {
    if let Some(p) = percent {
        let _ = write!(
            h,
            "<div class=\"bar\" role=\"progressbar\" aria-valuenow=\"{p:.0}\" \
             aria-valuemin=\"0\" aria-valuemax=\"100\"><div style=\"width:{p:.1}%\"></div></div>"
        );
    }
}

pub(super) fn downloads(h: &mut String, s: &StatusSnapshot) {
    h.push_str("<h2>Downloading now</h2><div id=\"downloads\">");
    if s.downloads.is_empty() {
        h.push_str("<p>Nothing.</p>");
    }
    for d in &s.downloads {
        let _ = write!(
            h,
            "<p class=\"clip\">{}: {}",
            escape(&d.clip),
            bytes(d.bytes)
        );
        if let Some(t) = d.total {
            let _ = write!(h, " of {}", bytes(t));
        }
        if let Some(p) = d.percent {
            let _ = write!(h, " ({p:.0}%)");
        }
        if let Some(v) = d.speed_bps {
            let _ = write!(h, " at {}/s", bytes_f(v));
        }
        if let Some(e) = d.eta_secs {
            let _ = write!(h, ", about {} left", secs(e));
        }
        h.push_str("</p>");
        bar(h, d.percent);
    }
    h.push_str("</div>");
}

pub(super) fn cycle(h: &mut String, s: &StatusSnapshot, now: i64) {
    let Some(c) = &s.cycle else {
        return;
    };
    h.push_str("<h2>This cycle</h2><p id=\"cycle\">Started ");
    when(h, &c.started_at, now);
    let _ = write!(
        h,
        ": {} archived, {} failed, {}",
        count(c.clips_done, "clip", "clips"),
        c.clips_failed,
        bytes(c.bytes_done)
    );
    if let Some(t) = c.bytes_total {
        let _ = write!(h, " of {}", bytes(t));
    }
    if let Some(v) = c.speed_bps {
        let _ = write!(h, " at {}/s", bytes_f(v));
    }
    if let Some(e) = c.eta_secs {
        let _ = write!(h, ", about {} left", secs(e));
    }
    h.push_str("</p>");
    bar(h, c.percent);
}

pub(super) fn queue(h: &mut String, s: &StatusSnapshot) {
    h.push_str("<h2>Clips</h2><table id=\"queue\"><tr>");
    for (name, _) in s.queue.by_state() {
        let (title, meaning) = words::clip_state(name);
        let _ = write!(
            h,
            "<th title=\"{meaning}\" data-state=\"{name}\">{title}</th>"
        );
    }
    h.push_str("</tr><tr>");
    for (_, n) in s.queue.by_state() {
        let _ = write!(h, "<td>{n}</td>");
    }
    h.push_str("</tr></table>");
}

pub(super) fn failed(h: &mut String, s: &StatusSnapshot) {
    if s.failed.is_empty() {
        return;
    }
    h.push_str(
        "<h2>Failed clips</h2><table id=\"failed\"><tr><th>clip</th><th>why</th><th>tries</th></tr>",
    );
    for f in &s.failed {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&f.clip),
            escape(f.reason.as_deref().unwrap_or("")),
            f.attempts
        );
    }
    h.push_str("</table>");
    if s.queue.failed > u64::try_from(s.failed.len()).unwrap_or(u64::MAX) {
        let _ = write!(
            h,
            "<p>{} failed in all.</p>",
            count(s.queue.failed, "clip", "clips")
        );
    }
}

pub(super) fn recent(h: &mut String, s: &StatusSnapshot, now: i64) {
    h.push_str("<h2>Recent activity</h2>");
    if s.recent.is_empty() {
        h.push_str("<p id=\"recent\">Nothing since the program started.</p>");
        return;
    }
    h.push_str("<table id=\"recent\"><tr><th>when</th><th>clip</th><th>what</th><th>why</th></tr>");
    for r in &s.recent {
        h.push_str("<tr><td>");
        when(h, &r.at, now);
        let _ = write!(
            h,
            "</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.clip),
            words::clip_outcome(&r.outcome),
            escape(r.reason.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table>");
}

pub(super) fn last_cycles(h: &mut String, s: &StatusSnapshot, now: i64) {
    if s.last_cycles.is_empty() {
        return;
    }
    h.push_str(
        "<h2>Last cycles</h2><table id=\"cycles\"><tr><th>started</th><th>how it ended</th>\
         <th>clips</th><th>size</th><th>failed</th><th title=\"Median idle time of the camera link between two downloads\">median gap</th><th>note</th></tr>",
    );
    for c in &s.last_cycles {
        h.push_str("<tr><td>");
        if let Some(t) = &c.started_at {
            when(h, t, now);
        }
        let _ = write!(
            h,
            "</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            words::outcome(c.outcome.as_deref()),
            c.clips.map(|n| n.to_string()).unwrap_or_default(),
            c.bytes.map(bytes).unwrap_or_default(),
            c.failed.map(|n| n.to_string()).unwrap_or_default(),
            c.gap_p50_ms.map(|n| format!("{n} ms")).unwrap_or_default(),
            escape(c.note.as_deref().unwrap_or("")),
        );
    }
    h.push_str("</table>");
}

pub(super) fn disk(h: &mut String, s: &StatusSnapshot) {
    let _ = write!(
        h,
        "<h2>Disk</h2><p id=\"disk\">Archive {}: {} in {}",
        escape(&s.archive.path),
        bytes(s.archive.bytes),
        count(s.archive.clips, "clip", "clips")
    );
    if let Some(d) = &s.disk {
        let _ = write!(
            h,
            "; its disk has {} used of {} ({:.1}%), {} free",
            bytes(d.used_bytes),
            bytes(d.total_bytes),
            d.used_percent,
            bytes(d.available_bytes)
        );
    }
    h.push_str("</p>");
    bar(h, s.disk.as_ref().map(|d| d.used_percent));
}

#[cfg(test)]
mod tests {
    #[test]
    fn camera_ids_become_one_path_segment() {
        assert_eq!(super::path_segment("cam-1"), "cam-1");
        assert_eq!(super::path_segment("a/b c"), "a%2Fb%20c");
    }
}
