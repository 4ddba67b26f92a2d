//! The model of everything ever recorded: each recording's versions (bytes
//! hashed), where it is now (on the card, overwritten by the camera,
//! deleted by the sync), and what the archive was seen to hold.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use time::PrimitiveDateTime;
use viofo_testkit::Hash;

/// Which device recorded a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// The camera being synced.
    Camera,
    /// Another camera, reachable at the fallback address.
    Other,
}

/// Where a recording is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// On its device's card.
    OnCard,
    /// The camera itself removed it (loop overwrite, format): not the
    /// sync's doing, so not a loss the sync answers for (unless it was
    /// archived: the archive still must keep it).
    Overwritten,
    /// The sync deleted it from the camera.
    Deleted,
}

/// One recording: a clip as the camera wrote it, under a name that may be
/// used again later by another recording.
#[derive(Debug, Clone)]
pub struct Recording {
    /// Its device.
    pub device: Device,
    /// Its file name.
    pub name: String,
    /// Hash and size of each version (a late-finalised clip grows: a new
    /// version), oldest first.
    pub versions: Vec<(Hash, u64)>,
    /// Where it is.
    pub fate: Fate,
    /// The step that recorded it.
    pub step: usize,
}

impl Recording {
    /// Its bytes now (the last version).
    pub fn current(&self) -> (Hash, u64) {
        self.versions.last().copied().unwrap_or(([0; 32], 0))
    }
}

/// What the archive held at a final clip name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Its bytes' hash.
    pub hash: Hash,
    /// The step it was first seen after.
    pub step: usize,
}

/// The model a run's invariants are checked against.
#[derive(Debug)]
pub struct Model {
    /// Every recording ever made, in order.
    pub recs: Vec<Recording>,
    /// Version hash → recording index and version.
    by_hash: HashMap<Hash, (usize, usize)>,
    /// The camera clock: the next recording's start time.
    pub clock: PrimitiveDateTime,
    /// The next sequence number in a name.
    pub seq: u32,
    /// Final clip names in the archive, as first seen.
    pub archive: BTreeMap<PathBuf, Seen>,
    /// Archive paths retention reported removing (their bytes may go).
    pub pruned_paths: BTreeSet<PathBuf>,
    /// Hashes of archived bytes retention removed (a clip deleted from the
    /// camera and then pruned is not lost: retention removed it).
    pub pruned_hashes: BTreeSet<Hash>,
    /// How many of the camera's deleted clips are accounted for.
    pub deletes_seen: usize,
    /// Clips skipped as parked (`Event::Skipped`), not lifted since.
    pub skipped: BTreeSet<String>,
    /// The other camera's recordings archived while nothing of this
    /// camera was: nothing told the two apart then, so they are this
    /// camera's as far as the archive can know (not a violation).
    pub taken_for_ours: BTreeSet<Hash>,
    /// The camera's clips (by hash) at the end of the last clean sync
    /// (see `check::check_missed`); `None` after one that was not clean.
    pub clean_seen: Option<BTreeSet<Hash>>,
}

impl Model {
    /// An empty model, the camera clock at `epoch`.
    pub fn new(epoch: PrimitiveDateTime) -> Self {
        Self {
            recs: Vec::new(),
            by_hash: HashMap::new(),
            clock: epoch,
            seq: 1,
            archive: BTreeMap::new(),
            pruned_paths: BTreeSet::new(),
            pruned_hashes: BTreeSet::new(),
            deletes_seen: 0,
            skipped: BTreeSet::new(),
            taken_for_ours: BTreeSet::new(),
            clean_seen: None,
        }
    }

    /// A number no recording used yet (for [`viofo_sim::ClipDef::variant`]).
    pub fn next_variant(&self) -> u64 {
        self.recs.len() as u64 + 1
    }

    /// Adds a recording now on its card.
    pub fn record(&mut self, device: Device, name: &str, hash: Hash, size: u64, step: usize) {
        self.by_hash.insert(hash, (self.recs.len(), 0));
        self.recs.push(Recording {
            device,
            name: name.to_owned(),
            versions: vec![(hash, size)],
            fate: Fate::OnCard,
            step,
        });
    }

    /// The recording of `device` on its card under `name` (names are
    /// unique on one card).
    pub fn on_card(&self, device: Device, name: &str) -> Option<usize> {
        self.recs.iter().position(|r| {
            r.device == device && r.fate == Fate::OnCard && r.name.eq_ignore_ascii_case(name)
        })
    }

    /// A recording's new version (it grew on the card).
    pub fn new_version(&mut self, i: usize, hash: Hash, size: u64) {
        if let Some(r) = self.recs.get_mut(i) {
            self.by_hash.insert(hash, (i, r.versions.len()));
            r.versions.push((hash, size));
        }
    }

    /// Sets a recording's fate.
    pub fn set_fate(&mut self, i: usize, fate: Fate) {
        if let Some(r) = self.recs.get_mut(i) {
            r.fate = fate;
        }
    }

    /// The recording (and which version) some bytes are, if any.
    pub fn whose(&self, hash: &Hash) -> Option<&Recording> {
        self.by_hash.get(hash).and_then(|&(i, _)| self.recs.get(i))
    }

    /// Whether `new` is a later version of the recording `old` is (the
    /// clip grew on the camera after it was archived: the archive may take
    /// its final bytes).
    pub fn is_later_version(&self, old: &Hash, new: &Hash) -> bool {
        match (self.by_hash.get(old), self.by_hash.get(new)) {
            (Some(&(a, va)), Some(&(b, vb))) => a == b && vb > va,
            _ => false,
        }
    }

    /// The camera's recordings on its card now.
    pub fn on_card_all(&self, device: Device) -> impl Iterator<Item = (usize, &Recording)> {
        self.recs
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.device == device && r.fate == Fate::OnCard)
    }

    /// A short description of a recording for messages.
    pub fn describe(&self, hash: &Hash) -> String {
        match self
            .by_hash
            .get(hash)
            .and_then(|&(i, _)| self.recs.get(i).map(|r| (i, r)))
        {
            Some((i, r)) => format!(
                "recording r{i} ({}{}, recorded at step {})",
                r.name,
                if r.device == Device::Other {
                    ", by the OTHER camera"
                } else {
                    ""
                },
                r.step
            ),
            None => "bytes no recording ever had".to_owned(),
        }
    }
}
