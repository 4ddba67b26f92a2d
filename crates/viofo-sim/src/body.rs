//! A synthetic clip's body: a `viofo_gps::fixture` plan shaped like an
//! A229/A329 recording, served at the clip's current size.
//!
//! The plan is built once per clip (cheap: the bytes are computed from the
//! offset, never held), with `moov` in a fixed front region and one
//! variable-offset GPS block per second spread through `mdat`; the fixture
//! builder's [`Clip::at_len`] gives the bytes at whatever size the clip has
//! now (a recording in progress, or a clip that grew after it looked
//! finished).

use time::PrimitiveDateTime;
use viofo_gps::Layout;
use viofo_gps::fixture::{Block, Clip, ClipBuilder, Index, MoovAt, RawRecord, Route};

/// Box size of one GPS block.
const BLOCK: u64 = 0x8000;
const BLOCK_U32: u32 = 0x8000;
/// `ftyp` plus the `mdat` header around the reserved `moov` region.
const FRAME: u64 = 32 + 8;
/// `moov` header, `mvhd`, `gps ` header and the padding `free` header.
const MOOV_FIXED: u64 = 8 + 108 + 16 + 8;

/// One GPS fix as a decoder should read it back from the clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpsPoint {
    /// UTC time of the fix (the sim's camera clock is UTC).
    pub time: PrimitiveDateTime,
    /// Latitude in degrees, negative south.
    pub lat: f64,
    /// Longitude in degrees, negative west.
    pub lon: f64,
    /// Speed in knots, as stored.
    pub speed_knots: f32,
    /// Course over ground in degrees, as stored.
    pub course_deg: f32,
    /// Absolute file offset of the `free` box holding this fix.
    pub box_offset: u64,
}

/// The plan of one synthetic clip.
#[derive(Debug, Clone)]
pub(crate) struct Synth {
    plan: Clip,
}

impl Synth {
    /// A finished clip of `size` bytes covering `duration_secs` seconds
    /// (one block per second, as many as fit), GPS from `route` if any.
    pub(crate) fn for_size(
        seed: u64,
        size: u64,
        duration_secs: u64,
        route: Option<Route>,
        start: PrimitiveDateTime,
    ) -> Self {
        let reserve = reserve_for(size);
        // Room counted from the first block-aligned offset after the front
        // region, so small clips carry as many blocks as they always did
        // (none below 64 KiB).
        let first = (FRAME + reserve).div_ceil(BLOCK) * BLOCK;
        let room = size.saturating_sub(first) / BLOCK;
        Self::build(seed, size, reserve, duration_secs.min(room), route, start)
    }

    /// A clip recorded at `rate` bytes per second for up to `duration_secs`:
    /// planned at its final size, served at the size it has reached.
    pub(crate) fn for_rate(
        seed: u64,
        rate: u64,
        duration_secs: u64,
        route: Option<Route>,
        start: PrimitiveDateTime,
    ) -> Self {
        let data = rate.saturating_mul(duration_secs);
        let reserve = reserve_for(data);
        let n = duration_secs.min(data / BLOCK);
        Self::build(seed, FRAME + reserve + data, reserve, n, route, start)
    }

    fn build(
        seed: u64,
        total: u64,
        reserve: u64,
        blocks: u64,
        route: Option<Route>,
        start: PrimitiveDateTime,
    ) -> Self {
        let capacity = (reserve - MOOV_FIXED) / 8;
        let n = usize::try_from(blocks.min(capacity)).unwrap_or(0);
        let (fixes, index) = match route {
            Some(r) => (r.fixes(start, n), Index::Normal),
            None => (Vec::new(), Index::None),
        };
        let plan = ClipBuilder::new(Layout::Variable)
            .points(fixes)
            .block_size(BLOCK_U32)
            .moov(MoovAt::Front)
            .moov_reserve(u32::try_from(reserve).unwrap_or(0x1000))
            .index(index)
            .creation_time(start)
            .total_len(total)
            .seed(seed)
            .build();
        Self { plan }
    }

    /// Size of a clip that has nothing in `mdat` yet (a recording's start).
    pub(crate) fn data_start(&self) -> u64 {
        self.plan.data_start()
    }

    /// The bytes of the clip at `size`.
    pub(crate) fn at(&self, size: u64) -> Clip {
        self.plan.at_len(size)
    }

    /// Every fix a clip of `size` bytes carries (the blocks its index lists).
    pub(crate) fn points(&self, size: u64) -> Vec<GpsPoint> {
        let view = self.at(size);
        view.blocks()
            .iter()
            .zip(view.block_offsets())
            .filter_map(|(b, &box_offset)| match b {
                Block::Fix(p) => {
                    let raw = RawRecord::from(p);
                    Some(GpsPoint {
                        time: p.time,
                        lat: raw.latitude(),
                        lon: raw.longitude(),
                        speed_knots: raw.speed_knots,
                        course_deg: raw.course,
                        box_offset,
                    })
                }
                _ => None,
            })
            .collect()
    }
}

/// The fixed front region for `moov`: ~65 KB on real clips, 4 KB on tiny
/// test clips so they still hold blocks.
fn reserve_for(len_hint: u64) -> u64 {
    if len_hint >= 1 << 20 { 0x10000 } else { 0x1000 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn sizes_are_exact_and_blocks_fit_the_reserve() {
        let t0 = datetime!(2025-12-24 12:00:00);
        let route = Some(Route::from_seed(1, t0));
        for (size, blocks) in [
            (1, 0),
            (5_000, 0),
            (60_000, 0),
            (65_535, 0),
            (65_536, 1),
            (100_000, 2),
            (1_000_000, 29),
            (3_000_000, 60),
        ] {
            let s = Synth::for_size(7, size, 60, route, t0);
            assert_eq!(s.at(size).len(), size);
            assert_eq!(s.points(size).len(), blocks, "{size}");
        }
        // An hour-long 4 KB-reserve clip holds as many blocks as its index can.
        let s = Synth::for_size(7, 900_000, 3600, route, t0);
        assert_eq!(s.points(900_000).len(), 26);
        let s = Synth::for_size(7, 1 << 30, 3600, route, t0);
        assert_eq!(s.points(1 << 30).len(), 3600);
        let rec = Synth::for_rate(7, 200_000, 60, route, t0);
        assert_eq!(rec.data_start(), FRAME + 0x10000);
        assert!(rec.points(rec.data_start()).is_empty());
        assert_eq!(rec.points(rec.data_start() + 12_000_000).len(), 60);
        assert!(
            Synth::for_size(7, 1 << 20, 60, None, t0)
                .points(1 << 20)
                .is_empty()
        );
    }
}
