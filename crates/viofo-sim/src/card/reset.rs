//! What the user does to the card itself: format it (with the camera clock
//! reset, so names are taken again from the start) and unlock a clip.

use time::PrimitiveDateTime;
use tokio::time::Instant;

use super::Card;
use crate::config::Folder;

impl Card {
    /// Formats the card: every clip is gone without a delete being
    /// recorded, the recording in progress stops, sequence numbers start
    /// again at 1 and, with `clock`, the camera clock is set back to it.
    /// Returns how many clips were on the card.
    pub(crate) fn format(&mut self, now: Instant, clock: Option<PrimitiveDateTime>) -> usize {
        let n = self.clips.len();
        self.clips.clear();
        self.recording = None;
        self.growth_per_listing.clear();
        self.lock_on_download.clear();
        self.next_seq = 1;
        if let Some(t) = clock {
            self.clock_base = t;
            self.epoch = now;
        }
        n
    }

    /// Unlocks the first locked clip of that name: out of `RO` back to
    /// `Movie` (its `RO` path goes stale), or its read-only mark cleared.
    /// False if there is no such locked clip, or `Movie` already holds the
    /// name.
    pub(crate) fn unlock(&mut self, name: &str) -> bool {
        let Some(i) = self
            .clips
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name) && c.is_locked())
        else {
            return false;
        };
        let movie_taken = self.find_at(Folder::Movie, name).is_some();
        let Some(c) = self.clips.get_mut(i) else {
            return false;
        };
        if c.folder == Folder::Ro {
            if movie_taken {
                return false;
            }
            c.folder = Folder::Movie;
        }
        c.read_only = false;
        true
    }
}
