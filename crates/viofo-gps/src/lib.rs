//! viofo-gps: extract GPS tracks from Viofo dashcam MP4 clips.
//!
//! Work in progress (issue 2). The [`fixture`] module (feature `fixture`)
//! builds Viofo-like test clips.
#![deny(missing_docs)]

#[cfg(feature = "fixture")]
pub mod fixture;

/// The GPS block layouts Viofo cameras write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// A119 V3 / A129 / A139: record at 0x10, status at 0x28.
    Type3,
    /// A119S: the type-3 record shifted by 0x20.
    A119S,
    /// A229 / A329 and newer: the record at a varying offset (last `A[NS][EW]` triple, minus 24).
    Variable,
}
