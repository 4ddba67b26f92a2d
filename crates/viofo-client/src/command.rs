//! The only camera commands this client can send.
//!
//! Every `/?custom=1&cmd=...` URL is built from [`Command`]; there is no
//! way to send an arbitrary command number. The commands CAMERA-FACTS.md
//! lists as unsafe (3010, 3011, 3013, 3018, 3023, 4004, 8230, 9316, 9317)
//! and the record start/stop command 2001 have no variant.

/// Command numbers that must never be sent (they wedge some cameras or
/// change their state).
#[cfg(test)]
pub(crate) const FORBIDDEN: &[u32] = &[2001, 3010, 3011, 3013, 3018, 3023, 4004, 8230, 9316, 9317];

/// A command the client sends as `GET /?custom=1&cmd=N[...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// 3015 par=1: list every recording (XML).
    ListAll,
    /// 3016: heartbeat.
    Heartbeat,
    /// 3012: firmware version string.
    Firmware,
    /// 3014: current state (Cmd/Status pairs).
    State,
    /// 3017: free space on the card.
    FreeSpace,
    /// 4003 str=<path>: delete one file.
    Delete(String),
}

impl Command {
    /// The command number.
    pub(crate) fn number(&self) -> u32 {
        match self {
            Command::ListAll => 3015,
            Command::Heartbeat => 3016,
            Command::Firmware => 3012,
            Command::State => 3014,
            Command::FreeSpace => 3017,
            Command::Delete(_) => 4003,
        }
    }

    /// The request target, path and query: `/?custom=1&cmd=3015&par=1`.
    pub(crate) fn target(&self) -> String {
        let n = self.number();
        match self {
            Command::ListAll => format!("/?custom=1&cmd={n}&par=1"),
            Command::Delete(path) => format!(
                "/?custom=1&cmd={n}&str={}",
                crate::encode::query_value(path)
            ),
            Command::Heartbeat | Command::Firmware | Command::State | Command::FreeSpace => {
                format!("/?custom=1&cmd={n}")
            }
        }
    }

    /// One of each variant (for the test that pins the allowed set).
    #[cfg(test)]
    pub(crate) fn samples() -> Vec<Command> {
        vec![
            Command::ListAll,
            Command::Heartbeat,
            Command::Firmware,
            Command::State,
            Command::FreeSpace,
            Command::Delete("A:\\DCIM\\Movie\\x.MP4".into()),
        ]
    }
}

/// Reads the model out of a firmware string such as
/// `VIOFO_A329S_V2.0_260313` (-> `A329S`): the first `_`-separated token
/// after an optional `VIOFO` that starts with a letter and holds a digit.
pub(crate) fn model_from_firmware(fw: &str) -> Option<String> {
    fw.trim()
        .split(['_', '-', ' '])
        .filter(|t| !t.eq_ignore_ascii_case("VIOFO"))
        .find(|t| {
            t.len() <= 32
                && t.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && !t.starts_with(['V', 'v'])
                && t.chars().any(|c| c.is_ascii_digit())
                && t.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_forbidden_command_can_be_built() {
        // `samples` must list every variant: this match fails to compile
        // when a variant is added without updating it.
        for c in Command::samples() {
            match &c {
                Command::ListAll
                | Command::Heartbeat
                | Command::Firmware
                | Command::State
                | Command::FreeSpace
                | Command::Delete(_) => {}
            }
            assert!(!FORBIDDEN.contains(&c.number()), "{c:?}");
            let t = c.target();
            assert!(
                t.starts_with(&format!("/?custom=1&cmd={}", c.number())),
                "{t}"
            );
            for f in FORBIDDEN {
                assert!(!t.contains(&format!("cmd={f}")), "{t}");
            }
        }
    }

    #[test]
    fn delete_argument_cannot_smuggle_a_command() {
        let t = Command::Delete("x&cmd=4004#".into()).target();
        assert_eq!(t.matches("cmd=").count(), 1, "{t}");
        let arg = t.split_once("str=").unwrap().1;
        assert!(!arg.contains(['&', '#', '=']), "{t}");
    }

    #[test]
    fn models() {
        assert_eq!(
            model_from_firmware("VIOFO_A329S_V2.0_260313").as_deref(),
            Some("A329S")
        );
        assert_eq!(
            model_from_firmware("A229PRO_V1.2").as_deref(),
            Some("A229PRO")
        );
        assert_eq!(model_from_firmware("V2.0"), None);
        assert_eq!(model_from_firmware(""), None);
    }
}
