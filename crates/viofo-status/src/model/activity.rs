//! Recent activity: the last clips archived, skipped or failed, with their
//! reasons, as the pipeline's events report them (newest first, bounded).

use std::collections::VecDeque;

use viofo_pipeline::Event;

use crate::snapshot::RecentClip;
use crate::time::rfc3339;

/// How many recent clips are kept.
pub(crate) const RECENT_KEPT: usize = 20;

/// The recent clips, newest first, at most [`RECENT_KEPT`].
#[derive(Debug, Default)]
pub(crate) struct Recent(VecDeque<(i64, &'static str, String, Option<String>)>);

impl Recent {
    /// Notes what `event` did to a clip, if anything.
    pub(crate) fn note(&mut self, event: &Event, wall_ms: i64) {
        let (what, name, reason) = match event {
            Event::ItemDone { name, .. } => ("archived", name, None),
            Event::ItemFailed {
                name,
                error,
                retryable,
            } => {
                let what = if *retryable { "retrying" } else { "failed" };
                (what, name, Some(error.clone()))
            }
            Event::ItemSkipped { name, reason } | Event::Skipped { name, reason } => {
                ("skipped", name, Some(reason.clone()))
            }
            _ => return,
        };
        self.0.push_front((wall_ms, what, name.clone(), reason));
        self.0.truncate(RECENT_KEPT);
    }

    /// As the snapshot shows them.
    pub(crate) fn list(&self) -> Vec<RecentClip> {
        self.0
            .iter()
            .map(|(at, what, clip, reason)| RecentClip {
                at: rfc3339(*at),
                outcome: (*what).to_owned(),
                clip: clip.clone(),
                reason: reason.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn keeps_the_newest_first_and_bounded() {
        let mut r = Recent::default();
        for i in 0..(RECENT_KEPT + 5) {
            r.note(
                &Event::ItemDone {
                    name: format!("c{i}"),
                    bytes: 1,
                    duration: Duration::from_secs(1),
                },
                i64::try_from(i).unwrap() * 1000,
            );
        }
        r.note(
            &Event::ItemSkipped {
                name: "p".into(),
                reason: "parked at Home".into(),
            },
            99_000,
        );
        r.note(
            &Event::Listed {
                clips: 1,
                pending: 1,
            },
            100_000,
        );
        let l = r.list();
        assert_eq!(l.len(), RECENT_KEPT);
        assert_eq!(
            (l[0].clip.as_str(), l[0].outcome.as_str()),
            ("p", "skipped")
        );
        assert_eq!(l[0].reason.as_deref(), Some("parked at Home"));
        assert_eq!(l[1].clip, format!("c{}", RECENT_KEPT + 4));
    }
}
