//! Words for people: counts with their plural, times relative to now and
//! of the day, sizes and durations, and each state, outcome and queue
//! column said in words.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::snapshot::SyncState;

/// `1 clip`, `0 clips`, `3 clips`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `then` relative to `now` (both UTC ms): `just now`, `1 min ago`,
/// `3 h ago`, `yesterday`, `4 days ago`, or ahead: `in 20 s`, `in 2 min`.
pub fn ago(then_ms: i64, now_ms: i64) -> String {
    let d = now_ms.saturating_sub(then_ms) / 1000;
    if d < 0 {
        let s = d.unsigned_abs();
        return match s {
            0..60 => format!("in {s} s"),
            60..3600 => format!("in {} min", s.div_ceil(60)),
            3600..86_400 => format!("in {} h", s / 3600),
            _ => format!("in {}", count(s / 86_400, "day", "days")),
        };
    }
    let s = d.unsigned_abs();
    match s {
        0..45 => "just now".to_owned(),
        45..3600 => format!("{} min ago", (s / 60).max(1)),
        3600..86_400 => format!("{} h ago", s / 3600),
        86_400..172_800 => "yesterday".to_owned(),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// An RFC 3339 time as UTC ms.
pub fn parse_ms(rfc3339: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(rfc3339, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The time of day in UTC (`13:33 UTC`), with the day when it is not
/// `now`'s (`Mon 7 Dec 13:33 UTC`): what the page shows before the
/// browser's script puts it in the reader's time zone.
pub fn clock_utc(ms: i64, now_ms: i64) -> String {
    let at = |ms: i64| {
        OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    };
    let (t, now) = (at(ms), at(now_ms));
    let hm = format!("{:02}:{:02} UTC", t.hour(), t.minute());
    if t.date() == now.date() {
        hm
    } else {
        let wd = &t.weekday().to_string()[..3];
        let mon = &t.month().to_string()[..3];
        let year = if t.year() == now.year() {
            String::new()
        } else {
            format!(" {}", t.year())
        };
        format!("{wd} {} {mon}{year} {hm}", t.day())
    }
}

/// Bytes in decimal units: `999 B`, `1.5 MB`.
#[allow(clippy::cast_precision_loss)]
pub fn bytes(n: u64) -> String {
    bytes_f(n as f64)
}

/// [`bytes()`] of a float (speeds).
pub fn bytes_f(v: f64) -> String {
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

/// A duration: `59 s`, `1 min 1 s`, `1 h 1 min`.
pub fn secs(s: u64) -> String {
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// A distance: `850 m`, `12.3 km`.
pub fn distance(m: f64) -> String {
    if m < 1000.0 {
        format!("{:.0} m", m.max(0.0))
    } else {
        format!("{:.1} km", m / 1000.0)
    }
}

/// The state's label and what it means.
pub fn state(s: SyncState, camera_away: bool) -> (&'static str, &'static str) {
    match s {
        SyncState::Downloading => ("Syncing", "Copying clips from the camera now."),
        SyncState::Waiting if camera_away => (
            "Camera away",
            "The camera is not reachable (driving, or switched off); it is asked again now and then. Nothing is wrong.",
        ),
        SyncState::Waiting => ("Waiting", "Up to date; waiting for the next cycle."),
        SyncState::Paused => ("Paused", "No new downloads until you resume."),
        SyncState::Error => (
            "Needs attention",
            "Something below stops the sync or left clips behind.",
        ),
    }
}

/// A cycle's outcome in words.
pub fn outcome(o: Option<&str>) -> &'static str {
    match o {
        None => "Running",
        Some("completed") => "Completed",
        Some("completed_with_failures") => "Completed, some clips failed",
        Some("camera_lost") => "Camera went away",
        Some("cancelled") => "Stopped (paused or shut down)",
        Some("failed") => "Failed",
        Some(_) => "Ended",
    }
}

/// A clip outcome of the recent activity in words.
pub fn clip_outcome(o: &str) -> &'static str {
    match o {
        "archived" => "Archived",
        "skipped" => "Skipped",
        "failed" => "Failed",
        "retrying" => "Failed, will retry",
        _ => "Changed",
    }
}

/// A store state of a clip: its column title and what it means.
pub fn clip_state(name: &str) -> (&'static str, &'static str) {
    match name {
        "pending" => ("Waiting", "Seen on the camera, waiting to be downloaded"),
        "downloading" => ("Downloading", "Being downloaded now"),
        "downloaded" => (
            "Archived, finishing",
            "Archived; its GPS track or the camera delete is still to do",
        ),
        "done" => ("Done", "Archived, nothing left to do"),
        "failed" => (
            "Failed",
            "Failed for good: not tried again until you retry failed clips",
        ),
        "gone" => (
            "Gone",
            "Left the camera before it was archived (overwritten or deleted there)",
        ),
        "pruned" => ("Pruned", "Removed from the archive by the retention rules"),
        "skipped" => (
            "Skipped",
            "Not downloaded on purpose (e.g. parked at a place set to skip)",
        ),
        _ => ("Other", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_765_110_808_000; // 2025-12-07T12:33:28Z, a Sunday

    #[test]
    fn plurals_agree() {
        assert_eq!(count(0, "clip", "clips"), "0 clips");
        assert_eq!(count(1, "clip", "clips"), "1 clip");
        assert_eq!(count(2, "clip", "clips"), "2 clips");
        assert_eq!(count(1, "journey", "journeys"), "1 journey");
    }

    #[test]
    fn times_relative_to_now() {
        let s = 1000;
        assert_eq!(ago(NOW, NOW), "just now");
        assert_eq!(ago(NOW - 44 * s, NOW), "just now");
        assert_eq!(ago(NOW - 50 * s, NOW), "1 min ago");
        assert_eq!(ago(NOW - 3 * 60 * s, NOW), "3 min ago");
        assert_eq!(ago(NOW - 3 * 3600 * s, NOW), "3 h ago");
        assert_eq!(ago(NOW - 30 * 3600 * s, NOW), "yesterday");
        assert_eq!(ago(NOW - 4 * 86_400 * s, NOW), "4 days ago");
        assert_eq!(ago(NOW + 20 * s, NOW), "in 20 s");
        assert_eq!(ago(NOW + 61 * s, NOW), "in 2 min");
        assert_eq!(ago(NOW + 2 * 3600 * s, NOW), "in 2 h");
        assert_eq!(ago(NOW + 86_400 * s, NOW), "in 1 day");
    }

    #[test]
    fn clock_times_name_the_day_when_not_today() {
        assert_eq!(clock_utc(NOW, NOW), "12:33 UTC");
        assert_eq!(clock_utc(NOW - 86_400_000, NOW), "Sat 6 Dec 12:33 UTC");
        assert_eq!(
            clock_utc(NOW - 400 * 86_400_000, NOW),
            "Sat 2 Nov 2024 12:33 UTC"
        );
        assert_eq!(parse_ms("2025-12-07T12:33:28Z"), Some(NOW));
        assert_eq!(parse_ms("yesterday"), None);
    }

    #[test]
    fn human_units() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(secs(59), "59 s");
        assert_eq!(secs(61), "1 min 1 s");
        assert_eq!(secs(3_700), "1 h 1 min");
        assert_eq!(distance(850.4), "850 m");
        assert_eq!(distance(12_345.0), "12.3 km");
    }

    #[test]
    fn every_state_and_outcome_has_words() {
        for s in [
            SyncState::Downloading,
            SyncState::Waiting,
            SyncState::Paused,
            SyncState::Error,
        ] {
            let (label, meaning) = state(s, false);
            assert!(!label.contains('_') && !meaning.is_empty(), "{s:?}");
        }
        assert_eq!(state(SyncState::Waiting, true).0, "Camera away");
        for o in [
            "completed",
            "completed_with_failures",
            "camera_lost",
            "cancelled",
            "failed",
        ] {
            assert!(!outcome(Some(o)).contains('_'), "{o}");
            assert_ne!(outcome(Some(o)), "Ended", "{o}");
        }
        for (name, _) in crate::QueueCounts::default().by_state() {
            let (title, meaning) = clip_state(name);
            assert!(title != "Other" && !meaning.is_empty(), "{name}");
        }
    }
}
