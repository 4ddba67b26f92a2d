//! viofo-gps: turn a Viofo dashcam clip into its GPS track.
//!
//! Viofo cameras (A119 V3, A119S, A129, A139, A229, A329, …) store one GPS
//! record per second in `free` boxes inside `mdat`, each starting with the
//! magic `GPS `, and list them in a `gps ` box inside `moov`. This crate
//! finds the blocks (through the index, or by scanning `mdat` when a clip
//! has none), decodes every known layout — including the variable-offset
//! record of the A229/A329 that fixed-offset decoders read as zeros — and
//! writes GPX 1.1 (speed and course per point in a Garmin
//! TrackPointExtension v2 `<extensions>` element, see [`write_gpx`]) or
//! GeoJSON.
//!
//! Two ways in, with identical results for the same bytes:
//! - [`extract_file`] / [`extract_reader`]: seek to what is needed (box
//!   headers, `moov`, the blocks); a 1 GB clip costs a few MB of reads.
//! - [`StreamExtractor`]: fed the bytes as they arrive (during a download),
//!   bounded memory, no second pass over the clip.
//!
//! Camera bytes are untrusted: nothing here panics, loops forever or
//! allocates more than fixed caps ([`MAX_BLOCK_SIZE`] per block,
//! [`MAX_MOOV_SIZE`], [`MAX_INDEX_ENTRIES`], [`MAX_RETAINED_BLOCKS`]) on
//! any input, and walks at most [`MAX_TOP_LEVEL_BOXES`] boxes. A clip without GPS is not an error: it gives an
//! [`Extraction`] with no points, and [`Stats`] tell why.
//!
//! ```
//! use viofo_gps::{extract_file, write_sidecar, Format, Options};
//! # use viofo_gps::fixture::{drive, ClipBuilder};
//! # let dir = tempfile::tempdir()?;
//! # let clip = dir.path().join("2025_1224_120324_000002PF.MP4");
//! # let pts = drive(time::macros::datetime!(2025-12-24 11:03:24), 30, 52.52, 13.40, 14.0, 90.0);
//! # ClipBuilder::new(viofo_gps::Layout::Variable).points(pts).build()
//! #     .write_to(std::fs::File::create(&clip)?)?;
//! let track = extract_file(&clip, &Options::default())?;
//! assert_eq!(track.points.len(), 30);
//! assert_eq!(track.stats.decoded, 30);
//! let summary = track.summary();
//! assert!(summary.distance_m > 390.0 && summary.distance_m < 420.0);
//!
//! let sidecar = write_sidecar(&clip, &track.points, Format::Gpx)?;
//! assert!(sidecar.ends_with("2025_1224_120324_000002PF.MP4.gpx"));
//! // GPX 1.1 has no <speed>: it travels in a TrackPointExtension (m/s).
//! let gpx = std::fs::read_to_string(&sidecar)?;
//! assert!(gpx.contains("<gpxtpx:speed>14.000</gpxtpx:speed>"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Triage: the track before the download
//!
//! [`extract_ranged`] reads a remote clip through any [`RangeSource`] (an
//! async "read `len` bytes at `offset`" with the file size known up front):
//! the top-level box headers, the `moov`, and the GPS blocks its `gps `
//! index lists — every one ([`TriageMode::Full`], the same [`Extraction`]
//! as [`extract_file`]) or the first, the last and one every 10 s
//! ([`TriageMode::skeleton`]). On a 1 GiB clip with 180 blocks that is at
//! most 0.07 % (skeleton, about 20 requests) or 0.56 % (full) of its bytes.
//! The `moov`'s metadata (creation time, duration, tracks) comes along as
//! [`MoovMetadata`], read by the same nom box walker. A clip without a `gps `
//! index has no triage ([`TriageOutcome::NoTriage`], not an error).
//!
//! ```
//! use viofo_gps::{extract_ranged, Options, RangeSource, TriageMode};
//!
//! /// A clip held in memory; a real source would send `Range: bytes=a-b`.
//! struct InMemory(Vec<u8>);
//!
//! impl RangeSource for InMemory {
//!     type Error = std::io::Error;
//!     fn size(&self) -> u64 {
//!         self.0.len() as u64
//!     }
//!     async fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, Self::Error> {
//!         let range = usize::try_from(offset).unwrap()..usize::try_from(offset + len).unwrap();
//!         self.0.get(range).map(<[u8]>::to_vec).ok_or(std::io::ErrorKind::UnexpectedEof.into())
//!     }
//! }
//!
//! # use viofo_gps::fixture::{drive, ClipBuilder};
//! # let pts = drive(time::macros::datetime!(2025-12-24 11:03:24), 60, 52.52, 13.40, 14.0, 90.0);
//! # let bytes = ClipBuilder::new(viofo_gps::Layout::Variable).points(pts).gap(100_000).build().to_vec();
//! let mut clip = InMemory(bytes); // an 8 MB clip with 60 GPS blocks
//! let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! let triage = rt.block_on(extract_ranged(&mut clip, TriageMode::skeleton(), &Options::default()))?;
//! let track = triage.track().expect("the clip has a gps index");
//! assert_eq!(track.points.len(), 7); // seconds 0, 10, 20, 30, 40, 50 and 59
//! assert!(triage.fraction_requested() < 0.07);
//! let full = rt.block_on(extract_ranged(&mut clip, TriageMode::Full, &Options::default()))?;
//! let from_file = viofo_gps::extract_reader(std::io::Cursor::new(&clip.0), &Options::default())?;
//! assert_eq!(full.track(), Some(&from_file));
//! assert_eq!(full.metadata.unwrap().duration, Some(time::Duration::seconds(60)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the `fixture` feature, `viofo_gps::fixture` builds Viofo-like clips of any
//! size for tests, benches and the camera simulator; its `ClipSource` is a
//! [`RangeSource`] over such a clip.
#![deny(missing_docs)]

mod decode;
mod error;
mod extract;
mod meta;
mod mp4box;
mod output;
mod ranged;
mod stream;
mod track;

#[cfg(feature = "fixture")]
pub mod fixture;

pub use decode::{BlockOutcome, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, decode_block};
pub use error::Error;
pub use extract::{MAX_RETAINED_BLOCKS, clip_info, extract_file, extract_reader};
pub use meta::{MAX_TRACKS, MoovMetadata, TrackInfo, TrackKind};
pub use mp4box::{
    MAX_INDEX_ENTRIES, MAX_MDAT_BOXES, MAX_MOOV_SIZE, MAX_TOP_LEVEL_BOXES, MovieInfo,
};
pub use output::{
    Format, GpxTrack, remove_stale_sidecar_temps, sidecar_path, write_geojson, write_gpx,
    write_gpx_iter, write_gpx_tracks, write_sidecar, write_track,
};
pub use ranged::{
    MAX_TRIAGE_READS, NoTriage, RangeSource, Triage, TriageMode, TriageOutcome, extract_ranged,
};
pub use stream::StreamExtractor;
pub use track::{
    BoundingBox, Extraction, Options, Point, SPIKE_RADIUS_M, Source, Stats, Summary, haversine_m,
    spike_filter,
};

/// The GPS block layouts Viofo cameras write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// A119 V3 / A129 / A139 ("type 3"): record at 0x10, status at 0x28.
    Type3,
    /// A119S: the type-3 record shifted by 0x20 (status at 0x48).
    A119S,
    /// A229 / A329 and newer: the record at a varying offset (the last
    /// `A[NS][EW]` triple, record 24 bytes before it).
    Variable,
}
