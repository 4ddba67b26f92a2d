//! Trips: the list of recent journeys (day, start and end, places,
//! distance, clips, how much is archived, the track as an inline SVG) and
//! one journey's page with its clips and links to their archived files.

use std::fmt::Write;

use super::svg::{self, Mark};
use super::words::{self, bytes, count, distance};
use super::{document, escape};
use crate::time::rfc3339;

/// A journey as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TripView {
    /// Its store id (the link `/trips/<id>`).
    pub id: i64,
    /// The camera.
    pub camera_id: String,
    /// Start and end, UTC ms.
    pub start_ms: i64,
    /// End, UTC ms.
    pub end_ms: i64,
    /// Where it started and ended, when in a named place.
    pub from_place: Option<String>,
    /// Where it ended.
    pub to_place: Option<String>,
    /// First and last fix, `(lat, lon)`.
    pub start_pos: Option<(f64, f64)>,
    /// Last fix.
    pub end_pos: Option<(f64, f64)>,
    /// Metres driven.
    pub distance_m: f64,
    /// Its clips, all channels.
    pub clips: u32,
    /// Bytes of its clips, and of those archived.
    pub bytes: u64,
    /// Bytes archived.
    pub archived_bytes: u64,
    /// Its merged GPX can be fetched (`/trips/<id>/gpx`).
    pub gpx: bool,
    /// The track, `(lat, lon)`, thinned.
    pub points: Vec<(f64, f64)>,
}

/// One clip of a journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TripClip {
    /// Its store id (the links `/clips/<id>` and `/clips/<id>/gpx`).
    pub id: i64,
    /// Name on the camera.
    pub name: String,
    /// `F`, `R`, ...
    pub channel: String,
    /// Recording start, ms (the camera's clock).
    pub recorded_ms: Option<i64>,
    /// Size in bytes.
    pub size: u64,
    /// Its store state (`done`, `pending`, ...).
    pub state: String,
    /// The archived file can be fetched.
    pub file: bool,
    /// Its GPS sidecar (`<clip>.gpx`) can be fetched.
    pub gpx: bool,
}

impl TripView {
    fn places(&self) -> Vec<Mark<'_>> {
        let mut out = Vec::new();
        if let (Some(at), Some(name)) = (self.start_pos, self.from_place.as_deref()) {
            out.push(Mark { at, name });
        }
        if let (Some(at), Some(name)) = (self.end_pos, self.to_place.as_deref())
            && self.to_place != self.from_place
        {
            out.push(Mark { at, name });
        }
        out
    }

    /// `Home → Work`, `Home → ?`, or without places `A 3.4 km drive`.
    fn title(&self) -> String {
        match (self.from_place.as_deref(), self.to_place.as_deref()) {
            (None, None) => format!("A {} drive", distance(self.distance_m)),
            (from, to) => format!("{} → {}", from.unwrap_or("?"), to.unwrap_or("?")),
        }
    }

    fn facts(&self, h: &mut String, now: i64) {
        let _ = write!(h, "<b>{}</b><br>", escape(&self.title()));
        super::when(h, &rfc3339(self.start_ms), now);
        h.push_str(" – ");
        super::when(h, &rfc3339(self.end_ms), now);
        let mins = (self.end_ms - self.start_ms).max(0) / 60_000;
        let _ = write!(
            h,
            "<br>{}, {} min, {}; {} archived of {}",
            distance(self.distance_m),
            mins,
            count(u64::from(self.clips), "clip", "clips"),
            percent(self.archived_bytes, self.bytes),
            bytes(self.bytes)
        );
    }
}

#[allow(clippy::cast_precision_loss)]
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "all".to_owned();
    }
    format!("{:.0}%", (part as f64 / whole as f64 * 100.0).min(100.0))
}

/// The trips section: each journey with its small map, newest first;
/// `brief` (on the status page) links to the full list.
pub(crate) fn list(h: &mut String, trips: &[TripView], now: i64, brief: bool) {
    h.push_str(if brief {
        "<h2>Recent trips</h2><div id=\"trips\">"
    } else {
        "<h1>Trips</h1><div id=\"trips\">"
    });
    if trips.is_empty() {
        h.push_str("<p>No trips yet: they appear once clips with GPS are archived.</p></div>");
        return;
    }
    for t in trips {
        let _ = write!(
            h,
            "<div class=\"trip\" data-trip=\"{0}\"><a href=\"/trips/{0}\">",
            t.id
        );
        svg::track(h, &t.points, &t.places(), 240, 160, &t.title());
        h.push_str("</a><div>");
        t.facts(h, now);
        let _ = write!(h, "<br><a href=\"/trips/{}\">clips and map</a>", t.id);
        h.push_str("</div></div>");
    }
    if brief {
        h.push_str("<p><a href=\"/trips\">all trips</a></p>");
    }
    h.push_str("</div>");
}

/// `GET /trips`: the recent journeys.
pub(crate) fn render_list(trips: &[TripView], now: i64) -> String {
    let mut h = String::with_capacity(32 * 1024);
    document(&mut h, "viofosync: trips", false, |h| {
        h.push_str("<p><a href=\"/\">← status</a></p>");
        list(h, trips, now, false);
    });
    h
}

/// `GET /trips/<id>`: one journey, its map and its clips.
pub(crate) fn render_trip(t: &TripView, clips: &[TripClip], now: i64) -> String {
    let mut h = String::with_capacity(32 * 1024);
    document(&mut h, &format!("viofosync: {}", t.title()), false, |h| {
        h.push_str("<p><a href=\"/trips\">← trips</a></p><h1>Trip</h1><p id=\"trip\">");
        t.facts(h, now);
        if t.gpx {
            let _ = write!(
                h,
                "<br><a id=\"trip-gpx\" href=\"/trips/{}/gpx\">GPX track</a>",
                t.id
            );
        }
        h.push_str("</p><div id=\"map\">");
        svg::track(h, &t.points, &t.places(), 800, 500, &t.title());
        h.push_str(
            "</div><h2>Clips</h2><table id=\"clips\"><tr><th title=\"As the camera's clock says\">recorded</th><th>clip</th>\
                    <th>camera</th><th>size</th><th>state</th><th>files</th></tr>",
        );
        for c in clips {
            let (state, meaning) = words::clip_state(&c.state);
            h.push_str("<tr><td>");
            if let Some(ms) = c.recorded_ms {
                // The camera's clock: shown as recorded, not converted.
                let _ = write!(h, "{}", words::clock_utc(ms, now).trim_end_matches(" UTC"));
            }
            let _ = write!(
                h,
                "</td><td>{}</td><td>{}</td><td>{}</td><td title=\"{meaning}\">{state}</td><td>",
                escape(&c.name),
                escape(&c.channel),
                bytes(c.size)
            );
            if c.file {
                let _ = write!(
                    h,
                    "<a class=\"clip-file\" href=\"/clips/{}\">clip</a> ",
                    c.id
                );
            }
            if c.gpx {
                let _ = write!(
                    h,
                    "<a class=\"clip-gpx\" href=\"/clips/{}/gpx\">GPX</a>",
                    c.id
                );
            }
            h.push_str("</td></tr>");
        }
        h.push_str("</table>");
    });
    h
}
