//! Camera file names: the start time and sequence number they carry, the
//! parking letter, and a stable hash for seeds.

use time::PrimitiveDateTime;

/// `YYYY_MMDD_HHMMSS` of a time.
pub(crate) fn name_time(t: PrimitiveDateTime) -> String {
    format_time(
        t,
        time::macros::format_description!("[year]_[month][day]_[hour][minute][second]"),
    )
}

/// `t` in `f`; a format the time cannot be written in (a year past 9999)
/// falls back to the debug form rather than panicking.
pub(crate) fn format_time(
    t: PrimitiveDateTime,
    f: &[time::format_description::BorrowedFormatItem<'_>],
) -> String {
    t.format(f).unwrap_or_else(|_| format!("{t:?}"))
}

/// Start time from `YYYY_MMDD_HHMMSS_…` or `YYYYMMDDHHMMSS_…`.
pub(crate) fn parse_name_time(name: &str) -> Option<PrimitiveDateTime> {
    let digits: String = name.chars().take(17).filter(|c| *c != '_').collect();
    let d = digits.get(..14)?;
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| d.get(r).and_then(|s| s.parse::<u16>().ok());
    let date = time::Date::from_calendar_date(
        i32::from(n(0..4)?),
        time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?,
        u8::try_from(n(6..8)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(n(8..10)?).ok()?,
        u8::try_from(n(10..12)?).ok()?,
        u8::try_from(n(12..14)?).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, t))
}

pub(crate) fn parse_seq(name: &str) -> Option<u32> {
    let stem = name.split('.').next()?;
    let last = stem.rsplit('_').next()?;
    let digits: String = last.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 5 || digits.len() > 6 {
        return None;
    }
    digits.parse().ok()
}

pub(crate) fn is_parking_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("");
    let tail = stem.rsplit('_').next().unwrap_or("");
    tail.trim_start_matches(|c: char| c.is_ascii_digit())
        .contains('P')
}

pub(crate) fn hash_name(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        let t = parse_name_time("2025_1224_120324_000002PF.MP4").unwrap();
        assert_eq!(name_time(t), "2025_1224_120324");
        assert_eq!(parse_seq("2025_1224_120324_000002PF.MP4"), Some(2));
        assert!(is_parking_name("2025_1224_120324_000002PF.MP4"));
        assert!(!is_parking_name("2025_1224_120324_000002F.MP4"));
        let t = parse_name_time("20260827204333_000029.MP4").unwrap();
        assert_eq!(name_time(t), "2026_0827_204333");
        assert_eq!(parse_name_time("hello.mp4"), None);
        assert_eq!(parse_name_time("2025_1324_120324_000002F.MP4"), None);
    }
}
