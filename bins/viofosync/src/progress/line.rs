//! The pure parts of the terminal display: the cycle's overall line, and
//! which log lines an idle `watch` keeps at INFO.

use std::time::Duration;

use viofo_status::Throughput;

use crate::output::bytes;

/// The cycle's overall progress, as its line shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Overall {
    /// Clips archived this cycle.
    pub(crate) clips_done: u64,
    /// Clips to download this cycle (done, in flight and pending).
    pub(crate) clips_total: u64,
    /// Bytes downloaded this cycle (archived clips and those in flight).
    pub(crate) bytes_done: u64,
    /// Bytes of this cycle's clips, once the queue's sizes are known.
    pub(crate) bytes_total: Option<u64>,
    /// Since the cycle's first download began (the session speed's clock).
    pub(crate) elapsed: Duration,
}

impl Overall {
    /// Speed since the first download and time left, by the status
    /// model's rule ([`Throughput`]).
    fn throughput(&self) -> Throughput {
        Throughput::of(self.bytes_done, self.bytes_total, self.elapsed)
    }

    /// Bytes per second since the first download, once there is enough
    /// to say.
    pub(crate) fn speed(&self) -> Option<f64> {
        self.throughput().bytes_per_sec
    }

    /// Time left at the session speed, when the total is known.
    pub(crate) fn eta(&self) -> Option<Duration> {
        self.throughput().eta_secs.map(Duration::from_secs)
    }
}

/// `cycle 12.30 MB of 45.60 MB (27%) · 3 of 10 clips · 5.10 MB/s · ETA 6s`;
/// `…` stands for what is not known yet.
pub(crate) fn overall_line(o: &Overall) -> String {
    let done = bytes(o.bytes_done);
    let of = match o.bytes_total {
        Some(t) if t > 0 => {
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            let pct = ((o.bytes_done.min(t) as f64 / t as f64) * 100.0).floor() as u64;
            format!("{done} of {} ({pct}%)", bytes(t))
        }
        Some(_) => done,
        None => format!("{done} of …"),
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let speed = o
        .speed()
        .map_or_else(|| "… /s".to_owned(), |s| format!("{}/s", bytes(s as u64)));
    let eta = o.eta().map_or_else(|| "…".to_owned(), short_duration);
    format!(
        "cycle {of} · {} of {} clips · {speed} · ETA {eta}",
        o.clips_done,
        o.clips_total.max(o.clips_done)
    )
}

/// `45s`, `3m 05s`, `1h 02m`.
pub(crate) fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// What the log said last, so an idle `watch` says a thing at INFO once
/// and repeats it at DEBUG: the camera's presence, what its listing
/// held, that there was nothing to do.
#[derive(Debug, Default)]
pub(crate) struct Quiet {
    /// The camera was last seen online (`Some(true)`) or away.
    camera: Option<bool>,
    /// The clip and pending counts of the last listing.
    listing: Option<(usize, usize)>,
    /// "Nothing to do" was said since the last change.
    idle: bool,
}

impl Quiet {
    /// The camera answered (`true`) or not: INFO when that is news.
    pub(crate) fn camera(&mut self, online: bool) -> bool {
        let news = self.camera != Some(online);
        self.camera = Some(online);
        if news {
            self.idle = false;
        }
        news
    }

    /// A cycle's first listing: INFO when it differs from the last one
    /// (clips found, clips gone, another number waiting), so a clip held
    /// back while the camera records it is not news every cycle.
    pub(crate) fn listed(&mut self, clips: usize, pending: usize) -> bool {
        let news = self.listing != Some((clips, pending));
        self.listing = Some((clips, pending));
        if news {
            self.idle = false;
        }
        news
    }

    /// Clips waiting at the last listing (held back while recorded, or
    /// left for a later cycle).
    pub(crate) fn waiting(&self) -> usize {
        self.listing.map_or(0, |(_, p)| p)
    }

    /// A cycle ended: an idle one is INFO only the first time in a row.
    pub(crate) fn cycle(&mut self, idle: bool) -> bool {
        if !idle {
            self.idle = false;
            return true;
        }
        let news = !self.idle;
        self.idle = true;
        news
    }
}
