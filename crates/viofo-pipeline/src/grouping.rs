//! Folder grouping of archived clips, named like the Python tool's.

use std::fmt;
use std::str::FromStr;

use time::{Date, Weekday};

/// How clips are grouped into folders under the archive root.
///
/// Folder names match the Python tool's, so existing archives keep working:
/// daily `YYYY-MM-DD`, weekly the Monday of the clip's week `YYYY-MM-DD`,
/// monthly `YYYY-MM`, yearly `YYYY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// Every clip directly in the archive root.
    #[default]
    None,
    /// One folder per day.
    Daily,
    /// One folder per week, named after its Monday.
    Weekly,
    /// One folder per month.
    Monthly,
    /// One folder per year.
    Yearly,
}

impl Grouping {
    /// Every grouping, in the order the help text lists them.
    pub const ALL: [Grouping; 5] = [
        Grouping::None,
        Grouping::Daily,
        Grouping::Weekly,
        Grouping::Monthly,
        Grouping::Yearly,
    ];

    /// The folder (relative to the archive root) for a clip recorded on
    /// `date`, or `None` when clips go in the root.
    pub fn folder(self, date: Date) -> Option<String> {
        let (y, m, d) = (date.year(), u8::from(date.month()), date.day());
        match self {
            Grouping::None => None,
            Grouping::Daily => Some(format!("{y:04}-{m:02}-{d:02}")),
            Grouping::Weekly => {
                let back = date.weekday().number_days_from_monday();
                let monday = date
                    .checked_sub(time::Duration::days(i64::from(back)))
                    .unwrap_or(date);
                debug_assert_eq!(monday.weekday(), Weekday::Monday);
                let (y, m, d) = (monday.year(), u8::from(monday.month()), monday.day());
                Some(format!("{y:04}-{m:02}-{d:02}"))
            }
            Grouping::Monthly => Some(format!("{y:04}-{m:02}")),
            Grouping::Yearly => Some(format!("{y:04}")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Grouping::None => "none",
            Grouping::Daily => "daily",
            Grouping::Weekly => "weekly",
            Grouping::Monthly => "monthly",
            Grouping::Yearly => "yearly",
        }
    }
}

impl fmt::Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Grouping {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Grouping::ALL
            .into_iter()
            .find(|g| g.as_str() == lower)
            .ok_or_else(|| {
                format!(
                    "unknown grouping {s:?}: expected one of none, daily, weekly, monthly, yearly"
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn folder_names_match_the_python_tool() {
        let d = date!(2025 - 12 - 24); // a Wednesday
        assert_eq!(Grouping::None.folder(d), None);
        assert_eq!(Grouping::Daily.folder(d).as_deref(), Some("2025-12-24"));
        assert_eq!(Grouping::Weekly.folder(d).as_deref(), Some("2025-12-22"));
        assert_eq!(Grouping::Monthly.folder(d).as_deref(), Some("2025-12"));
        assert_eq!(Grouping::Yearly.folder(d).as_deref(), Some("2025"));
    }

    #[test]
    fn weekly_folder_is_the_monday_even_across_a_year_boundary() {
        // 2026-01-01 is a Thursday; its Monday is in the previous year.
        assert_eq!(
            Grouping::Weekly.folder(date!(2026 - 01 - 01)).as_deref(),
            Some("2025-12-29")
        );
        // A Monday maps to itself, a Sunday to six days before.
        assert_eq!(
            Grouping::Weekly.folder(date!(2025 - 12 - 22)).as_deref(),
            Some("2025-12-22")
        );
        assert_eq!(
            Grouping::Weekly.folder(date!(2025 - 12 - 28)).as_deref(),
            Some("2025-12-22")
        );
    }

    #[test]
    fn parses_case_insensitively_and_rejects_unknown_names() {
        assert_eq!("Weekly".parse::<Grouping>(), Ok(Grouping::Weekly));
        let err = "fortnightly".parse::<Grouping>().unwrap_err();
        assert!(
            err.contains("fortnightly") && err.contains("monthly"),
            "{err}"
        );
        for g in Grouping::ALL {
            assert_eq!(g.to_string().parse::<Grouping>(), Ok(g));
        }
    }
}
