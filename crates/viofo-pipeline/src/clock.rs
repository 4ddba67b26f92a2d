//! The camera's clock: its readings are wall-clock times in the UTC offset
//! the camera was set to, never UTC; [`CameraClock`] carries that offset so
//! they are compared with "now" like with like.

use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The camera's clock setting: the UTC offset its wall clock runs at (the
/// time in its file names and listings). Cameras keep a fixed offset (they
/// do not follow daylight saving time by themselves), so one offset is all
/// there is to know.
///
/// ```
/// use time::macros::{datetime, offset};
/// use viofo_pipeline::CameraClock;
///
/// // A camera in California (UTC−8) named a clip 09:00 on 1 Jan.
/// let clock = CameraClock::new(offset!(-8));
/// let t = clock.reading(datetime!(2026-01-01 09:00));
/// assert_eq!(t.to_utc(), datetime!(2026-01-01 17:00 UTC));
/// // Now, on the camera's clock, compares with its readings directly.
/// assert_eq!(clock.local_at(datetime!(2026-01-01 17:00 UTC)), datetime!(2026-01-01 09:00));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraClock {
    offset: UtcOffset,
}

/// A camera set to UTC.
impl Default for CameraClock {
    fn default() -> Self {
        Self::new(UtcOffset::UTC)
    }
}

/// One reading of the camera's clock with the offset it was taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CameraTime {
    local: PrimitiveDateTime,
    offset: UtcOffset,
}

impl CameraClock {
    /// A camera whose clock runs at `offset` from UTC.
    pub fn new(offset: UtcOffset) -> Self {
        Self { offset }
    }

    /// Its offset from UTC.
    pub fn offset(self) -> UtcOffset {
        self.offset
    }

    /// A wall-clock reading of this camera (a name's or listing's time).
    pub fn reading(self, local: PrimitiveDateTime) -> CameraTime {
        CameraTime {
            local,
            offset: self.offset,
        }
    }

    /// What the camera's clock shows at the real instant `at`.
    pub fn local_at(self, at: OffsetDateTime) -> PrimitiveDateTime {
        let t = at.to_offset(self.offset);
        PrimitiveDateTime::new(t.date(), t.time())
    }

    /// What the camera's clock shows now.
    pub fn now(self) -> PrimitiveDateTime {
        self.local_at(OffsetDateTime::now_utc())
    }
}

impl CameraTime {
    /// The wall-clock reading as the camera shows it.
    pub fn local(self) -> PrimitiveDateTime {
        self.local
    }

    /// The real instant of the reading.
    pub fn to_utc(self) -> OffsetDateTime {
        self.local
            .assume_offset(self.offset)
            .to_offset(UtcOffset::UTC)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, offset};

    use super::*;

    /// UTC−8, UTC+1 in winter and in summer (a camera does not change its
    /// offset for daylight saving time), UTC+13, UTC.
    #[test]
    fn readings_convert_both_ways_at_every_offset() {
        let cases = [
            (
                offset!(-8),
                datetime!(2026-01-15 09:00),
                datetime!(2026-01-15 17:00 UTC),
            ),
            (
                offset!(+1),
                datetime!(2026-01-15 09:00),
                datetime!(2026-01-15 08:00 UTC),
            ),
            (
                offset!(+1),
                datetime!(2026-07-15 09:00),
                datetime!(2026-07-15 08:00 UTC),
            ),
            (
                offset!(+13),
                datetime!(2026-07-15 09:00),
                datetime!(2026-07-14 20:00 UTC),
            ),
            (
                UtcOffset::UTC,
                datetime!(2026-07-15 09:00),
                datetime!(2026-07-15 09:00 UTC),
            ),
        ];
        for (off, local, utc) in cases {
            let clock = CameraClock::new(off);
            assert_eq!(clock.reading(local).to_utc(), utc, "{off}");
            assert_eq!(clock.local_at(utc), local, "{off}");
            assert_eq!(clock.reading(local).local(), local);
        }
    }
}
