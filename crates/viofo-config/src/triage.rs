//! The GPS triage row of the settings table (issue 12): learn each pending
//! clip's route from a few ranged reads before it is downloaded.

use std::time::Duration;

use viofo_gps::TriageMode;

use super::parse::{Unit, is_none_word, parse_duration, show_duration};
use super::row::{Accepts, BASE, Key};

/// `off` (default), `full`, `skeleton`, or `skeleton:<every>` (one block
/// every so often, `skeleton` alone meaning every 10 s).
pub(crate) fn parse_triage(v: &str) -> Result<Option<TriageMode>, String> {
    let v = v.trim();
    if is_none_word(v) {
        return Ok(None);
    }
    let lower = v.to_ascii_lowercase();
    match lower.split_once(':') {
        None if lower == "full" => Ok(Some(TriageMode::Full)),
        None if lower == "skeleton" => Ok(Some(TriageMode::skeleton())),
        Some(("skeleton", every)) => {
            let every = parse_duration(every, Unit::Seconds)?;
            if every == Duration::ZERO {
                return Err("a skeleton needs an interval above 0".to_owned());
            }
            Ok(Some(TriageMode::Skeleton { every }))
        }
        _ => Err(format!(
            "{v:?} is not off, full, skeleton or skeleton:<every>"
        )),
    }
}

fn show_triage(t: Option<TriageMode>) -> String {
    match t {
        None => "off".to_owned(),
        Some(TriageMode::Full) => "full".to_owned(),
        Some(TriageMode::Skeleton { every }) => format!("skeleton:{}", show_duration(every)),
    }
}

/// `triage`: off by default, like the tool it follows.
pub(crate) const TRIAGE: Key = Key {
    name: "triage",
    env: "VIOFOSYNC_TRIAGE",
    accepts: Accepts::Text("off, full, skeleton, or skeleton:<every> (e.g. skeleton:5s)"),
    help: "learn each pending clip's GPS track from a few ranged reads before downloading it \
           (one triage between two downloads; needs gps)",
    apply: |s, v| {
        s.sync.triage = parse_triage(v)?;
        Ok(())
    },
    show: |s| show_triage(s.sync.triage),
    ..BASE
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triage_values() {
        assert_eq!(parse_triage("off"), Ok(None));
        assert_eq!(parse_triage(" Full "), Ok(Some(TriageMode::Full)));
        assert_eq!(parse_triage("skeleton"), Ok(Some(TriageMode::skeleton())));
        assert_eq!(
            parse_triage("skeleton:5s"),
            Ok(Some(TriageMode::Skeleton {
                every: Duration::from_secs(5)
            }))
        );
        for bad in ["skeleton:0", "sometimes", "full:5s", "skeleton:soon"] {
            assert!(parse_triage(bad).is_err(), "{bad}");
        }
        for t in [None, Some(TriageMode::Full), Some(TriageMode::skeleton())] {
            assert_eq!(parse_triage(&show_triage(t)), Ok(t), "{t:?}");
        }
    }
}
