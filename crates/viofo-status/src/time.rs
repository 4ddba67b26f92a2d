//! Wall-clock times as the status shows them: RFC 3339, UTC, whole seconds.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `ms` since the Unix epoch as RFC 3339 (`1970-01-01T00:00:00Z` when out
/// of range).
pub(crate) fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_whole_seconds_in_utc() {
        assert_eq!(super::rfc3339(1_766_577_804_999), "2025-12-24T12:03:24Z");
        assert_eq!(super::rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
    }
}
