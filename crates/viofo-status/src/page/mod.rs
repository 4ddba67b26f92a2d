//! The status page: server-rendered HTML with inline style and one small
//! same-origin script (`/page.js`, which only puts the times in the
//! reader's time zone; the page reads fine without it), no external asset.
//! Every string that came from the camera, the store or an error is
//! escaped.

pub(crate) mod assets;
mod parts;
pub(crate) mod svg;
pub(crate) mod trips;
pub mod words;

use std::fmt::Write;

use crate::snapshot::StatusSnapshot;
pub use trips::{TripClip, TripView};

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

/// What the status page shows besides the camera's own status.
#[derive(Debug, Default)]
pub struct PageExtras {
    /// Recent journeys, newest first; `None` when the server has no store.
    pub trips: Option<Vec<TripView>>,
    /// Every camera this server shows (more than one: the overview).
    pub cameras: Vec<StatusSnapshot>,
    /// The camera shown is one of the others (`/camera/<id>`): its buttons
    /// are on its own server.
    pub peer: bool,
}

/// The document around `body`, titled `title`.
pub(crate) fn document(h: &mut String, title: &str, refresh: bool, body: impl FnOnce(&mut String)) {
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">{}\
         <title>{}</title><style>{}</style>\
         <script src=\"/page.js\" defer></script></head><body>",
        if refresh {
            "<meta http-equiv=\"refresh\" content=\"5\">"
        } else {
            ""
        },
        escape(title),
        assets::STYLE
    );
    body(h);
    h.push_str("</body></html>");
}

/// A time as `<time>`: its UTC clock (the script puts it in the reader's
/// time zone) and how long ago it was, relative to `now_ms`.
pub(crate) fn when(h: &mut String, rfc3339: &str, now_ms: i64) {
    match words::parse_ms(rfc3339) {
        Some(ms) => {
            let _ = write!(
                h,
                "<time datetime=\"{}\">{}</time> <span class=\"ago\">({})</span>",
                escape(rfc3339),
                words::clock_utc(ms, now_ms),
                words::ago(ms, now_ms)
            );
        }
        None => h.push_str(&escape(rfc3339)),
    }
}

/// Renders the page for `s` alone.
pub fn render(s: &StatusSnapshot) -> String {
    render_with(s, &PageExtras::default())
}

/// Renders the page for `s` with the trips and the other cameras.
pub fn render_with(s: &StatusSnapshot, extras: &PageExtras) -> String {
    let now = words::parse_ms(&s.generated_at).unwrap_or_else(viofo_store::now_ms);
    let (label, _) = words::state(s.state, parts::camera_away(s));
    let mut h = String::with_capacity(16 * 1024);
    document(&mut h, &format!("viofosync: {label}"), true, |h| {
        parts::header(h, s, now);
        if extras.cameras.len() > 1 {
            parts::cameras(h, &extras.cameras, &s.camera.id, now);
        }
        parts::camera(h, s, now);
        if extras.peer {
            h.push_str("<p class=\"why\">This camera's buttons are on its own status server.</p>");
        } else {
            parts::actions(h, s);
        }
        parts::downloads(h, s);
        parts::cycle(h, s, now);
        parts::queue(h, s);
        parts::failed(h, s);
        parts::recent(h, s, now);
        if let Some(t) = &extras.trips {
            trips::list(h, t, now, true);
        }
        parts::last_cycles(h, s, now);
        parts::disk(h, s);
        h.push_str("<p><small>Updated ");
        when(h, &s.generated_at, now);
        h.push_str(
            " · <a href=\"/trips\">trips</a> · <a href=\"/api/status\">JSON</a> · \
             <a href=\"/metrics\">metrics</a></small></p>",
        );
    });
    h
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
}
