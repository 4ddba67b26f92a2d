//! The status page: one server-rendered HTML document with inline style, no
//! script and no external asset (it works with no internet). Every string
//! that came from the camera, the store or an error is escaped.

use std::fmt::Write;

use crate::actions::Action;
use crate::snapshot::{StatusSnapshot, SyncState};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;max-width:60em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}\
table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}\
.state{display:inline-block;padding:.2em .6em;border-radius:.3em;color:#fff}\
.downloading{background:#2a7}.waiting{background:#678}.paused{background:#c80}.error{background:#c33}\
.bar{background:#eee;width:30em;max-width:100%;height:1em;border-radius:.3em;overflow:hidden}\
.bar>div{background:#2a7;height:100%}.err{color:#c33}form{display:inline}\
button{margin-right:.5em}";

/// Renders the page for `s`.
pub fn render(s: &StatusSnapshot) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let state = s.state.as_str();
    // `write!` into a String cannot fail.
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <meta http-equiv=\"refresh\" content=\"5\">\
         <title>viofosync: {state}</title><style>{STYLE}</style></head><body>\
         <h1>viofosync <span class=\"state {state}\" id=\"state\">{state}</span></h1>"
    );
    for e in &s.errors {
        let _ = write!(
            h,
            "<p class=\"err\"><b>{}</b>: {} (since {})</p>",
            e.kind.as_str(),
            escape(&e.message),
            escape(&e.since)
        );
    }
    camera(&mut h, s);
    actions(&mut h, s.state);
    downloads(&mut h, s);
    cycle(&mut h, s);
    queue(&mut h, s);
    failed(&mut h, s);
    last_cycles(&mut h, s);
    disk(&mut h, s);
    let _ = write!(
        h,
        "<p><small>Updated {} · <a href=\"/api/status\">JSON</a> · \
         <a href=\"/metrics\">metrics</a></small></p></body></html>",
        escape(&s.generated_at)
    );
    h
}

fn camera(h: &mut String, s: &StatusSnapshot) {
    let c = &s.camera;
    let online = if c.online { "online" } else { "offline" };
    let _ = write!(
        h,
        "<p id=\"camera\">Camera <b>{}</b>: {online}",
        escape(&c.id)
    );
    if let Some(m) = &c.model {
        let _ = write!(h, ", model {}", escape(m));
    }
    if let Some(f) = &c.firmware {
        let _ = write!(h, ", firmware {}", escape(f));
    }
    if let Some(r) = &c.offline_reason {
        let _ = write!(h, " ({})", escape(r));
    }
    if let Some(n) = &s.next_cycle {
        let why = if n.camera_away { " (camera away)" } else { "" };
        let _ = write!(h, "<br>Next cycle at {}{why}", escape(&n.at));
    }
    h.push_str("</p>");
}

fn actions(h: &mut String, state: SyncState) {
    h.push_str("<p>");
    for a in Action::ALL {
        let hide = match a {
            Action::Pause => state == SyncState::Paused,
            Action::Resume => state != SyncState::Paused,
            _ => false,
        };
        if !hide {
            let _ = write!(
                h,
                "<form method=\"post\" action=\"/api/{0}\"><button>{0}</button></form>",
                a.as_str()
            );
        }
    }
    h.push_str("</p>");
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

fn downloads(h: &mut String, s: &StatusSnapshot) {
    h.push_str("<h2>Current download</h2><div id=\"downloads\">");
    if s.downloads.is_empty() {
        h.push_str("<p>None.</p>");
    }
    for d in &s.downloads {
        let _ = write!(
            h,
            "<p class=\"clip\">{} — {}",
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
            let _ = write!(h, ", {}/s", bytes_f(v));
        }
        if let Some(e) = d.eta_secs {
            let _ = write!(h, ", {} left", secs(e));
        }
        h.push_str("</p>");
        bar(h, d.percent);
    }
    h.push_str("</div>");
}

fn cycle(h: &mut String, s: &StatusSnapshot) {
    let Some(c) = &s.cycle else {
        return;
    };
    let _ = write!(
        h,
        "<h2>This cycle</h2><p id=\"cycle\">Started {}: {} clips done, {} failed, {}",
        escape(&c.started_at),
        c.clips_done,
        c.clips_failed,
        bytes(c.bytes_done)
    );
    if let Some(t) = c.bytes_total {
        let _ = write!(h, " of {}", bytes(t));
    }
    if let Some(v) = c.speed_bps {
        let _ = write!(h, ", {}/s", bytes_f(v));
    }
    if let Some(e) = c.eta_secs {
        let _ = write!(h, ", {} left", secs(e));
    }
    h.push_str("</p>");
    bar(h, c.percent);
}

fn queue(h: &mut String, s: &StatusSnapshot) {
    h.push_str("<h2>Queue</h2><table id=\"queue\"><tr>");
    for (name, _) in s.queue.by_state() {
        let _ = write!(h, "<th>{name}</th>");
    }
    h.push_str("</tr><tr>");
    for (_, n) in s.queue.by_state() {
        let _ = write!(h, "<td>{n}</td>");
    }
    h.push_str("</tr></table>");
}

fn failed(h: &mut String, s: &StatusSnapshot) {
    if s.failed.is_empty() {
        return;
    }
    h.push_str("<h2>Failed clips</h2><table id=\"failed\"><tr><th>clip</th><th>reason</th><th>attempts</th></tr>");
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
        let _ = write!(h, "<p>{} failed in all.</p>", s.queue.failed);
    }
}

fn last_cycles(h: &mut String, s: &StatusSnapshot) {
    if s.last_cycles.is_empty() {
        return;
    }
    h.push_str(
        "<h2>Last cycles</h2><table id=\"cycles\"><tr><th>started</th><th>outcome</th>\
         <th>clips</th><th>bytes</th><th>failed</th><th>median gap</th><th>note</th></tr>",
    );
    for c in &s.last_cycles {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(c.started_at.as_deref().unwrap_or("")),
            escape(c.outcome.as_deref().unwrap_or("running")),
            c.clips.map(|n| n.to_string()).unwrap_or_default(),
            c.bytes.map(bytes).unwrap_or_default(),
            c.failed.map(|n| n.to_string()).unwrap_or_default(),
            c.gap_p50_ms.map(|n| format!("{n} ms")).unwrap_or_default(),
            escape(c.note.as_deref().unwrap_or("")),
        );
    }
    h.push_str("</table>");
}

fn disk(h: &mut String, s: &StatusSnapshot) {
    let _ = write!(
        h,
        "<h2>Disk</h2><p id=\"disk\">Archive {}: {} in {} clips",
        escape(&s.archive.path),
        bytes(s.archive.bytes),
        s.archive.clips
    );
    if let Some(d) = &s.disk {
        let _ = write!(
            h,
            "; filesystem {} used of {} ({:.1}%), {} free",
            bytes(d.used_bytes),
            bytes(d.total_bytes),
            d.used_percent,
            bytes(d.available_bytes)
        );
    }
    h.push_str("</p>");
    bar(h, s.disk.as_ref().map(|d| d.used_percent));
}

#[allow(clippy::cast_precision_loss)]
fn bytes(n: u64) -> String {
    bytes_f(n as f64)
}

fn bytes_f(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = v;
    let mut unit = "B";
    for u in UNITS {
        unit = u;
        if v < 1000.0 || u == "TB" {
            break;
        }
        v /= 1000.0;
    }
    if unit == "B" {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {unit}")
    }
}

fn secs(s: u64) -> String {
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn human_units() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(secs(59), "59 s");
        assert_eq!(secs(61), "1 min 1 s");
        assert_eq!(secs(3_700), "1 h 1 min");
    }
}
