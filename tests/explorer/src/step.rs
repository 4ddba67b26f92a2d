//! The explorer's vocabulary: camera events and operations ([`Step`]), their
//! kinds ([`Kind`], the one list of what is generated), and the seeded
//! generator of a whole run up front.

use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What a step does, without its parameters: the unit the generator
/// draws and a run's configuration switches on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The camera records new clips (front, maybe rear, maybe parking).
    Record,
    /// A finished clip grows (late finalisation while "not recording").
    Grow,
    /// The user locks a clip (moved to `RO`).
    Lock,
    /// The user unlocks a clip (back out of `RO`).
    Unlock,
    /// The camera's loop recording overwrites its oldest unlocked clips.
    LoopOverwrite,
    /// The card is formatted; with a clock reset, names are taken again.
    Format,
    /// A connection fault on the link (reset burst, cut body, stall).
    Fault,
    /// The camera starts or stops ignoring `Range`.
    IgnoreRange,
    /// The camera's listings end cut short, or whole again.
    CutListing,
    /// The camera's address stops answering and the fallback address
    /// reaches another camera (or the camera comes back).
    SecondDevice,
    /// The firmware string changes (sometimes with terminal escapes).
    Firmware,
    /// One sync cycle.
    Sync,
    /// A few watch-mode cycles.
    Watch,
    /// Import of a copy of the card.
    Import,
    /// `import --move` of a copy of the card.
    ImportMove,
    /// `import --move` of the archive itself reached by another path (a
    /// symlink to it, or a folder of hard links into it).
    ImportArchiveView,
    /// A dry run, then the real sync it plans, compared.
    DryRun,
    /// Two syncers with two state databases sync one archive at once, in
    /// this process (sharing its archive owner lock: not two OS processes).
    TwoProcesses,
    /// Places with `skip_parking` around parking clips (triage on), or none.
    Places,
    /// A quota on the archive, or none.
    Quota,
    /// Only the front channel, or all.
    Channels,
    /// Deletes from the camera on or off.
    Deletes,
    /// GPS triage on or off.
    Triage,
    /// The disk holding the state database fills (or frees) while the
    /// store stays open.
    StateFull,
    /// A message reaches the MQTT command topic (retained or not, an
    /// action's name, an oversized blob or garbage), taken by the next
    /// watch as it connects.
    Mqtt,
    /// The household's second camera (the other simulator, at its own
    /// address) syncs into its own folder on the same state database.
    SecondCamera,
}

/// Every kind, in the order of [`Kind`]'s declaration.
pub const ALL_KINDS: &[Kind] = &[
    Kind::Record,
    Kind::Grow,
    Kind::Lock,
    Kind::Unlock,
    Kind::LoopOverwrite,
    Kind::Format,
    Kind::Fault,
    Kind::IgnoreRange,
    Kind::CutListing,
    Kind::SecondDevice,
    Kind::Firmware,
    Kind::Sync,
    Kind::Watch,
    Kind::Import,
    Kind::ImportMove,
    Kind::ImportArchiveView,
    Kind::DryRun,
    Kind::TwoProcesses,
    Kind::Places,
    Kind::Quota,
    Kind::Channels,
    Kind::Deletes,
    Kind::Triage,
    Kind::StateFull,
    Kind::Mqtt,
    Kind::SecondCamera,
];

impl Kind {
    /// Its name on the command line and in traces (`import-move`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Record => "record",
            Kind::Grow => "grow",
            Kind::Lock => "lock",
            Kind::Unlock => "unlock",
            Kind::LoopOverwrite => "loop-overwrite",
            Kind::Format => "format",
            Kind::Fault => "fault",
            Kind::IgnoreRange => "ignore-range",
            Kind::CutListing => "cut-listing",
            Kind::SecondDevice => "second-device",
            Kind::Firmware => "firmware",
            Kind::Sync => "sync",
            Kind::Watch => "watch",
            Kind::Import => "import",
            Kind::ImportMove => "import-move",
            Kind::ImportArchiveView => "import-archive-view",
            Kind::DryRun => "dry-run",
            Kind::TwoProcesses => "two-processes",
            Kind::Places => "places",
            Kind::Quota => "quota",
            Kind::Channels => "channels",
            Kind::Deletes => "deletes",
            Kind::Triage => "triage",
            Kind::StateFull => "state-full",
            Kind::Mqtt => "mqtt",
            Kind::SecondCamera => "second-camera",
        }
    }

    /// The kind of that name.
    pub fn parse(s: &str) -> Option<Kind> {
        ALL_KINDS.iter().copied().find(|k| k.name() == s)
    }

    /// How often the generator draws it, relative to the others: the
    /// camera records and the user syncs most.
    fn weight(self) -> u32 {
        match self {
            Kind::Record => 6,
            Kind::Sync => 6,
            Kind::Grow | Kind::Lock | Kind::Deletes | Kind::DryRun => 2,
            _ => 1,
        }
    }
}

/// A link fault armed on the camera, fired by the next matching requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFault {
    /// The next few downloads are reset at once.
    ResetBurst(u8),
    /// The next download's body is cut after so many bytes.
    CutBody(u32),
    /// The next download stalls after so many bytes (longer than the
    /// client's idle timeout).
    Stall(u32),
    /// The next delete is refused.
    RefuseDelete,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Record `clips` clips of `size` bytes, `gap_hours` after the last.
    Record {
        /// How many.
        clips: u8,
        /// Parking recordings (`P`).
        parking: bool,
        /// A rear clip beside each front one.
        rear: bool,
        /// Bytes each.
        size: u32,
        /// Hours the camera was off before.
        gap_hours: u16,
    },
    /// Grow the `pick`-th clip on the card by `bytes`.
    Grow {
        /// Index into the card's clips, modulo their number.
        pick: u32,
        /// Bytes appended.
        bytes: u32,
    },
    /// Lock the `pick`-th clip on the card.
    Lock {
        /// Index into the card's clips, modulo their number.
        pick: u32,
    },
    /// Unlock the `pick`-th locked clip on the card.
    Unlock {
        /// Index into the locked clips, modulo their number.
        pick: u32,
    },
    /// The camera overwrites its `clips` oldest unlocked clips.
    LoopOverwrite {
        /// How many.
        clips: u8,
    },
    /// Format the card; with `reset_clock`, the clock goes back to the
    /// first recording's time and sequence numbers start at 1 again.
    Format {
        /// Set the camera clock back.
        reset_clock: bool,
    },
    /// Arm a link fault.
    Fault(LinkFault),
    /// The camera ignores `Range` (or not).
    IgnoreRange(bool),
    /// Listings cut short (or whole).
    CutListing(bool),
    /// The camera's address stops answering, the fallback reaches another
    /// camera (`true`); the camera answers again (`false`).
    SecondDevice(bool),
    /// A new firmware string, with terminal escapes or not.
    Firmware {
        /// Escape sequences in it.
        escape: bool,
    },
    /// One sync cycle.
    Sync,
    /// `cycles` watch-mode cycles.
    Watch {
        /// How many.
        cycles: u8,
    },
    /// Import a copy of the card, moving the sources or not.
    Import {
        /// `--move`.
        moved: bool,
    },
    /// `import --move` of the archive reached by a symlink (or a folder of
    /// hard links into it).
    ImportArchiveView {
        /// A symlink to the archive; else hard links.
        symlink: bool,
    },
    /// A dry run, then the real sync, compared.
    DryRun,
    /// Two processes sync one archive at once.
    TwoProcesses,
    /// Places skipping parking clips (with triage), or none.
    Places(bool),
    /// A quota in bytes on the archive, or none.
    Quota(Option<u64>),
    /// Only the front channel (`true`) or all.
    FrontOnly(bool),
    /// Deletes from the camera (and of clips archived earlier) on or off.
    Deletes(bool),
    /// GPS triage on or off.
    Triage(bool),
    /// The state database's disk full (`true`) or with room again.
    StateFull(bool),
    /// One sync cycle of the second camera.
    SecondCamera,
    /// A message on the MQTT command topic.
    Mqtt {
        /// Retained by the broker (delivered again at every connection).
        retained: bool,
        /// What it says.
        payload: MqttPayload,
    },
}

/// What a message on the MQTT command topic says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqttPayload {
    /// An action's name (`pause`, `resume`, `sync-now`, `retry-failed`).
    Action(&'static str),
    /// So many bytes of something else (a stray camera image, say).
    Blob(u32),
    /// Bytes that are not text.
    Garbage,
}

impl MqttPayload {
    /// Its bytes.
    pub fn bytes(self) -> Vec<u8> {
        match self {
            MqttPayload::Action(a) => a.as_bytes().to_vec(),
            MqttPayload::Blob(n) => vec![b'p'; usize::try_from(n).unwrap_or(0)],
            MqttPayload::Garbage => vec![0xff, 0xfe, 0x1b, b'['],
        }
    }
}

impl Step {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Step::Record { .. } => Kind::Record,
            Step::Grow { .. } => Kind::Grow,
            Step::Lock { .. } => Kind::Lock,
            Step::Unlock { .. } => Kind::Unlock,
            Step::LoopOverwrite { .. } => Kind::LoopOverwrite,
            Step::Format { .. } => Kind::Format,
            Step::Fault(_) => Kind::Fault,
            Step::IgnoreRange(_) => Kind::IgnoreRange,
            Step::CutListing(_) => Kind::CutListing,
            Step::SecondDevice(_) => Kind::SecondDevice,
            Step::Firmware { .. } => Kind::Firmware,
            Step::Sync => Kind::Sync,
            Step::Watch { .. } => Kind::Watch,
            Step::Import { moved: false } => Kind::Import,
            Step::Import { moved: true } => Kind::ImportMove,
            Step::ImportArchiveView { .. } => Kind::ImportArchiveView,
            Step::DryRun => Kind::DryRun,
            Step::TwoProcesses => Kind::TwoProcesses,
            Step::Places(_) => Kind::Places,
            Step::Quota(_) => Kind::Quota,
            Step::FrontOnly(_) => Kind::Channels,
            Step::Deletes(_) => Kind::Deletes,
            Step::Triage(_) => Kind::Triage,
            Step::StateFull(_) => Kind::StateFull,
            Step::Mqtt { .. } => Kind::Mqtt,
            Step::SecondCamera => Kind::SecondCamera,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        match self {
            Step::Record {
                clips,
                parking,
                rear,
                size,
                gap_hours,
            } => {
                write!(f, "record {clips} x {size} B")?;
                if *parking {
                    f.write_str(" parking")?;
                }
                if *rear {
                    f.write_str(" +rear")?;
                }
                if *gap_hours > 0 {
                    write!(f, " after {gap_hours} h off")?;
                }
                Ok(())
            }
            Step::Grow { pick, bytes } => write!(f, "grow clip #{pick} by {bytes} B"),
            Step::Lock { pick } => write!(f, "lock clip #{pick}"),
            Step::Unlock { pick } => write!(f, "unlock locked clip #{pick}"),
            Step::LoopOverwrite { clips } => write!(f, "loop-overwrite the {clips} oldest"),
            Step::Format { reset_clock } => {
                write!(f, "format the card")?;
                if *reset_clock {
                    f.write_str(", clock reset (names reused)")?;
                }
                Ok(())
            }
            Step::Fault(l) => write!(f, "fault {l:?}"),
            Step::IgnoreRange(b) => write!(f, "ignore Range {}", on(*b)),
            Step::CutListing(b) => write!(f, "cut listings {}", on(*b)),
            Step::SecondDevice(b) => write!(f, "second device at the fallback address {}", on(*b)),
            Step::Firmware { escape } => {
                write!(f, "firmware string changes")?;
                if *escape {
                    f.write_str(" (with escape sequences)")?;
                }
                Ok(())
            }
            Step::Sync => f.write_str("sync"),
            Step::Watch { cycles } => write!(f, "watch {cycles} cycles"),
            Step::Import { moved } => {
                write!(
                    f,
                    "import{} a copy of the card",
                    if *moved { " --move" } else { "" }
                )
            }
            Step::ImportArchiveView { symlink } => write!(
                f,
                "import --move of the archive via {}",
                if *symlink { "a symlink" } else { "hard links" }
            ),
            Step::DryRun => f.write_str("dry run, then sync (compared)"),
            Step::TwoProcesses => f.write_str("two processes sync one archive"),
            Step::Places(b) => write!(f, "skip_parking places {}", on(*b)),
            Step::Quota(q) => match q {
                Some(q) => write!(f, "quota {q} B"),
                None => f.write_str("quota off"),
            },
            Step::FrontOnly(b) => write!(f, "front channel only {}", on(*b)),
            Step::Deletes(b) => write!(f, "deletes {}", on(*b)),
            Step::Triage(b) => write!(f, "triage {}", on(*b)),
            Step::StateFull(b) => write!(f, "the state database's disk full {}", on(*b)),
            Step::SecondCamera => f.write_str("the second camera syncs (same state database)"),
            Step::Mqtt { retained, payload } => {
                write!(f, "MQTT command ")?;
                match payload {
                    MqttPayload::Action(a) => write!(f, "{a:?}")?,
                    MqttPayload::Blob(n) => write!(f, "of {n} B")?,
                    MqttPayload::Garbage => f.write_str("of garbage")?,
                }
                if *retained {
                    f.write_str(", retained")?;
                }
                Ok(())
            }
        }
    }
}

/// The steps of run `seed`: `len` steps drawn from `kinds` by one seeded
/// generator, before anything runs (so a trace is printable and
/// shrinkable). The same seed, length and kinds give the same steps.
pub fn generate(seed: u64, len: usize, kinds: &[Kind]) -> Vec<Step> {
    let mut rng = StdRng::seed_from_u64(seed);
    let total: u32 = kinds.iter().map(|k| k.weight()).sum();
    let mut out = Vec::with_capacity(len);
    if total == 0 {
        return out;
    }
    for _ in 0..len {
        let mut x = rng.random_range(0..total);
        let mut kind = Kind::Sync;
        for k in kinds {
            if x < k.weight() {
                kind = *k;
                break;
            }
            x -= k.weight();
        }
        out.push(draw(kind, &mut rng));
    }
    out
}

/// Clip sizes: few, so names reused after a format often come back with
/// the archived size (other bytes) and often with another.
const SIZES: [u32; 3] = [60_000, 90_000, 120_000];

fn draw(kind: Kind, rng: &mut StdRng) -> Step {
    match kind {
        Kind::Record => Step::Record {
            clips: rng.random_range(1..=3),
            parking: rng.random_bool(0.25),
            rear: rng.random_bool(0.3),
            size: SIZES
                .get(rng.random_range(0..SIZES.len()))
                .copied()
                .unwrap_or(90_000),
            gap_hours: if rng.random_bool(0.2) {
                rng.random_range(1..=30)
            } else {
                0
            },
        },
        Kind::Grow => Step::Grow {
            pick: rng.random(),
            bytes: rng.random_range(1..=20_000),
        },
        Kind::Lock => Step::Lock { pick: rng.random() },
        Kind::Unlock => Step::Unlock { pick: rng.random() },
        Kind::LoopOverwrite => Step::LoopOverwrite {
            clips: rng.random_range(1..=3),
        },
        Kind::Format => Step::Format {
            reset_clock: rng.random_bool(0.7),
        },
        Kind::Fault => Step::Fault(match rng.random_range(0..4) {
            0 => LinkFault::ResetBurst(rng.random_range(1..=4)),
            1 => LinkFault::CutBody(rng.random_range(1_000..50_000)),
            2 => LinkFault::Stall(rng.random_range(1_000..50_000)),
            _ => LinkFault::RefuseDelete,
        }),
        Kind::IgnoreRange => Step::IgnoreRange(rng.random_bool(0.6)),
        Kind::CutListing => Step::CutListing(rng.random_bool(0.5)),
        Kind::SecondDevice => Step::SecondDevice(rng.random_bool(0.6)),
        Kind::Firmware => Step::Firmware {
            escape: rng.random_bool(0.5),
        },
        Kind::Sync => Step::Sync,
        Kind::Watch => Step::Watch {
            cycles: rng.random_range(2..=3),
        },
        Kind::Import => Step::Import { moved: false },
        Kind::ImportMove => Step::Import { moved: true },
        Kind::ImportArchiveView => Step::ImportArchiveView {
            symlink: rng.random_bool(0.5),
        },
        Kind::DryRun => Step::DryRun,
        Kind::TwoProcesses => Step::TwoProcesses,
        Kind::Places => Step::Places(rng.random_bool(0.7)),
        Kind::Quota => Step::Quota(
            rng.random_bool(0.7)
                .then(|| u64::from(rng.random_range(4u32..=12)) * 100_000),
        ),
        Kind::Channels => Step::FrontOnly(rng.random_bool(0.5)),
        Kind::Deletes => Step::Deletes(rng.random_bool(0.7)),
        Kind::Triage => Step::Triage(rng.random_bool(0.6)),
        Kind::StateFull => Step::StateFull(rng.random_bool(0.5)),
        Kind::SecondCamera => Step::SecondCamera,
        Kind::Mqtt => {
            let retained = rng.random_bool(0.5);
            // A pause that is taken stops the watch until a resume: only a
            // retained one (which must not be taken) is generated.
            let names: &[&'static str] = if retained {
                &["pause", "resume", "sync-now", "retry-failed"]
            } else {
                &["resume", "sync-now", "retry-failed"]
            };
            let payload = match rng.random_range(0..5) {
                0 => MqttPayload::Blob(rng.random_range(65..=300_000)),
                1 => MqttPayload::Garbage,
                _ => MqttPayload::Action(
                    names
                        .get(rng.random_range(0..names.len()))
                        .copied()
                        .unwrap_or("sync-now"),
                ),
            };
            Step::Mqtt { retained, payload }
        }
    }
}
