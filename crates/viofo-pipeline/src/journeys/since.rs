//! Where a list of journeys starts, in words people use: `today`,
//! `yesterday`, `7d` (the last seven days), a day on the camera's clock
//! (`2026-03-29`) or an instant (RFC 3339).

use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};

use crate::CameraClock;

/// What [`since_ms`] accepts, in words (for help and errors).
pub const SINCE_ACCEPTS: &str = "today, yesterday, Nd (the last N days, e.g. 7d), \
                                 YYYY-MM-DD (midnight on the camera's clock) or an \
                                 RFC 3339 time (2026-03-29T08:00:00Z)";

/// The instant `s` names, as UTC milliseconds: `today` and `yesterday`
/// are midnight on the camera's clock (`clock`) of the day `now` falls on
/// and the one before; `Nd` is `now` less N days. `None` when `s` is none
/// of these ([`SINCE_ACCEPTS`] says what is).
pub fn since_ms(s: &str, clock: CameraClock, now: OffsetDateTime) -> Option<i64> {
    let s = s.trim();
    let today = || clock.local_at(now).date();
    let midnight = |d: Date| d.midnight().assume_offset(clock.offset());
    let at = if s.eq_ignore_ascii_case("today") {
        midnight(today())
    } else if s.eq_ignore_ascii_case("yesterday") {
        midnight(today().previous_day()?)
    } else if let Some(days) = s.strip_suffix(['d', 'D']) {
        let days: i64 = days.trim().parse().ok().filter(|d| *d >= 0)?;
        now.checked_sub(Duration::days(days))?
    } else if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        t
    } else {
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        midnight(Date::parse(s, &fmt).ok()?)
    };
    Some(i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MIN))
}
