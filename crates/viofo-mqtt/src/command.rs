//! Decides what a message on the command topic asks for: an action, or
//! nothing (retained, oversized, not an action's name), as a pure function.

use viofo_status::Action;

/// Longest command payload acted on (an action's name is a few bytes).
pub const MAX_COMMAND: usize = 64;

/// Why a message on the command topic is not acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// A retained message is an old one (a retained `pause` would pause
    /// every start): commands are never retained.
    Retained,
    /// Longer than any action's name.
    TooLong,
    /// Not an action's name (nor UTF-8 text).
    NotAnAction,
}

impl Ignored {
    /// In words, for the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::Retained => "a retained message (commands are never retained)",
            Ignored::TooLong => "longer than any action name",
            Ignored::NotAnAction => "not an action name",
        }
    }
}

/// The action a message on the command topic asks for, if it is to be
/// taken: only a message the broker delivers as new (not retained) whose
/// payload is an action's name ([`Action::from_path`]), surrounding white
/// space aside.
pub fn command_action(retained: bool, payload: &[u8]) -> Result<Action, Ignored> {
    if retained {
        return Err(Ignored::Retained);
    }
    if payload.len() > MAX_COMMAND {
        return Err(Ignored::TooLong);
    }
    let name = std::str::from_utf8(payload).map_err(|_| Ignored::NotAnAction)?;
    Action::from_path(name.trim()).ok_or(Ignored::NotAnAction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn what_is_taken_and_what_is_not() {
        let big = vec![b'p'; 300_000];
        let cases: &[(bool, &[u8], Result<Action, Ignored>)] = &[
            (false, b"pause", Ok(Action::Pause)),
            (false, b" resume\n", Ok(Action::Resume)),
            (false, b"sync-now", Ok(Action::SyncNow)),
            (false, b"retry-failed", Ok(Action::RetryFailed)),
            (true, b"pause", Err(Ignored::Retained)),
            (true, b"sync-now", Err(Ignored::Retained)),
            (false, &big, Err(Ignored::TooLong)),
            (true, &big, Err(Ignored::Retained)),
            (false, b"PAUSE", Err(Ignored::NotAnAction)),
            (false, b"", Err(Ignored::NotAnAction)),
            (false, b"\xff\xfe", Err(Ignored::NotAnAction)),
            (false, b"pause; rm -rf /", Err(Ignored::NotAnAction)),
        ];
        for (retained, payload, want) in cases {
            assert_eq!(
                command_action(*retained, payload),
                *want,
                "retained {retained}, {} bytes",
                payload.len()
            );
        }
    }

    proptest! {
        /// Whatever arrives: a retained or oversized message never acts,
        /// and what acts is an action's own name.
        #[test]
        fn only_new_short_names_act(retained: bool, payload in proptest::collection::vec(any::<u8>(), 0..200)) {
            match command_action(retained, &payload) {
                Ok(a) => {
                    prop_assert!(!retained);
                    prop_assert!(payload.len() <= MAX_COMMAND);
                    let text = std::str::from_utf8(&payload).unwrap_or("");
                    prop_assert_eq!(text.trim(), a.as_str());
                }
                Err(why) => prop_assert!(
                    retained || payload.len() > MAX_COMMAND || why == Ignored::NotAnAction
                ),
            }
        }
    }
}
