//! Decoding one GPS `free` block.

use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use crate::Point;

/// Largest GPS block (box size, header included) the crate accepts and
/// holds in memory: 0x8000, the largest size Viofo cameras write.
pub const MAX_BLOCK_SIZE: u32 = 0x8000;
/// Smallest GPS block: box header plus the `GPS ` magic.
pub const MIN_BLOCK_SIZE: u32 = 12;

/// How many `A[NS][EW]` triples (from the last backwards) are tried per block.
const MAX_TRIPLES_TRIED: usize = 8;

const METRES_PER_SECOND_PER_KNOT: f64 = 1852.0 / 3600.0;

/// What one block holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BlockOutcome {
    /// A valid fix (time as written by the camera, taken as UTC).
    Fix(Point),
    /// No fix: all zero after the magic, status `V`, or no `A[NS][EW]` record.
    NoFix,
    /// A record with an impossible date, time or coordinate, or a block that
    /// is not a `free` box carrying the `GPS ` magic.
    Invalid,
}

/// Decode one GPS block: `block` holds the whole box, from its size field.
///
/// Finds the record by the rule that works for every Viofo layout: the
/// record's status triple `A[NS][EW]` is the *last* such triple in the
/// payload and the record starts 24 bytes before it. For type 3 (status at
/// 0x28), A119S (0x48) and the variable A229/A329 layout alike. If the last
/// triple does not give a valid record, up to 8 earlier triples are tried
/// (a float after the real record can contain the bytes `ANE` by chance).
///
/// Record fields (little-endian, relative to the status byte `s`):
/// `s-24` six u32 hour, minute, second, year, month, day; `s+4` f32
/// latitude and `s+8` f32 longitude as NMEA `DDDMM.MMMM`; `s+12` f32 speed
/// in knots; `s+16` f32 course; `s+20` three i32 accelerometer values / 256.
///
/// Never panics, never allocates.
///
/// ```
/// use viofo_gps::{decode_block, BlockOutcome};
/// let mut block = vec![0u8; 0x4000];
/// block[..12].copy_from_slice(b"\0\0\x40\0freeGPS ");
/// assert_eq!(decode_block(&block), BlockOutcome::NoFix);
/// assert_eq!(decode_block(b"junk"), BlockOutcome::Invalid);
/// ```
#[must_use]
pub fn decode_block(block: &[u8]) -> BlockOutcome {
    if block.get(4..12) != Some(b"freeGPS ") {
        return BlockOutcome::Invalid;
    }
    let mut end = block.len();
    let mut tried = 0;
    let mut any = false;
    // Search backwards for the lon-ref byte, then check the two before it.
    while let Some(e) = memchr::memrchr2(b'E', b'W', block.get(..end).unwrap_or(&[])) {
        end = e;
        let Some(s) = e.checked_sub(2) else { break };
        if s < 12 + 24 {
            break;
        }
        let (Some(&a), Some(&ns)) = (block.get(s), block.get(s + 1)) else {
            continue;
        };
        if a != b'A' || (ns != b'N' && ns != b'S') {
            continue;
        }
        if s + 20 > block.len() {
            continue;
        }
        any = true;
        if let Some(p) = decode_record(block, s) {
            return BlockOutcome::Fix(p);
        }
        tried += 1;
        if tried >= MAX_TRIPLES_TRIED {
            break;
        }
    }
    if any {
        BlockOutcome::Invalid
    } else {
        BlockOutcome::NoFix
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(s))
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(i32::from_le_bytes(s))
}

fn f32_at(b: &[u8], at: usize) -> Option<f32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(f32::from_le_bytes(s))
}

/// NMEA `DDDMM.MMMM` to degrees; `None` if not finite, negative, minutes >= 60
/// or degrees above `max`.
fn nmea_to_deg(v: f32, max: f64) -> Option<f64> {
    let v = f64::from(v);
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let deg = (v / 100.0).trunc();
    let min = v - deg * 100.0;
    if !(0.0..60.0).contains(&min) {
        return None;
    }
    let d = deg + min / 60.0;
    (d <= max).then_some(d)
}

fn decode_record(b: &[u8], s: usize) -> Option<Point> {
    let r = s.checked_sub(24)?;
    let hour = u8::try_from(u32_at(b, r)?).ok()?;
    let minute = u8::try_from(u32_at(b, r + 4)?).ok()?;
    let second = u8::try_from(u32_at(b, r + 8)?).ok()?;
    let year = u32_at(b, r + 12)?;
    let year = if year >= 2000 {
        year
    } else {
        year.checked_add(2000)?
    };
    if !(2000..=2099).contains(&year) {
        return None;
    }
    let month = Month::try_from(u8::try_from(u32_at(b, r + 16)?).ok()?).ok()?;
    let day = u8::try_from(u32_at(b, r + 20)?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, day).ok()?;
    let tod = Time::from_hms(hour, minute, second).ok()?;
    let time = PrimitiveDateTime::new(date, tod).assume_offset(UtcOffset::UTC);

    let lat = nmea_to_deg(f32_at(b, s + 4)?, 90.0)?;
    let lon = nmea_to_deg(f32_at(b, s + 8)?, 180.0)?;
    if lat == 0.0 && lon == 0.0 {
        return None; // "null island": a zeroed record, not a fix
    }
    let lat = if b.get(s + 1) == Some(&b'S') {
        -lat
    } else {
        lat
    };
    let lon = if b.get(s + 2) == Some(&b'W') {
        -lon
    } else {
        lon
    };
    let knots = f64::from(f32_at(b, s + 12)?);
    if !knots.is_finite() || !(0.0..2000.0).contains(&knots) {
        return None;
    }
    let course = f64::from(f32_at(b, s + 16)?);
    if !course.is_finite() || !(-360.0..=720.0).contains(&course) {
        return None;
    }
    let accel = match (i32_at(b, s + 20), i32_at(b, s + 24), i32_at(b, s + 28)) {
        (Some(x), Some(y), Some(z)) => accel_of([x, y, z]),
        _ => None,
    };
    Some(Point {
        time,
        lat,
        lon,
        speed_mps: knots * METRES_PER_SECOND_PER_KNOT,
        course_deg: course.rem_euclid(360.0),
        accel,
    })
}

/// Accelerometer values /256; `None` when all zero or all tiny (0..=6 as
/// i16), which cameras without a sensor write.
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn accel_of(raw: [i32; 3]) -> Option<[f32; 3]> {
    if raw.iter().all(|&v| (0..=6).contains(&(v as i16))) {
        return None;
    }
    Some(raw.map(|v| v as f32 / 256.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    }

    fn fix(o: BlockOutcome) -> Point {
        match o {
            BlockOutcome::Fix(p) => p,
            other => panic!("expected a fix, got {other:?}"),
        }
    }

    /// Real A119 V3 block head from CAMERA-FACTS.md (box size 0x4000).
    #[test]
    fn a119_v3_vector() {
        let mut b = hex("00 00 40 00 66 72 65 65 47 50 53 20 f0 03 00 00
             05 00 00 00 2f 00 00 00 03 00 00 00 13 00 00 00
             09 00 00 00 1b 00 00 00 41 4e 57 00 25 d1 99 45
             f1 47 40 46 66 66 d2 41 85 eb 83 41 00 00 00 00");
        b.resize(0x4000, 0);
        let p = fix(decode_block(&b));
        assert_eq!(p.time, datetime!(2019-09-27 05:47:03 UTC));
        assert!((p.lat - 49.369_051_106_770_8).abs() < 1e-9, "{}", p.lat);
        assert!((p.lon - -123.099_755_859_375).abs() < 1e-9, "{}", p.lon);
        assert!((p.speed_mps / METRES_PER_SECOND_PER_KNOT - 26.3).abs() < 1e-4);
        assert!((p.course_deg - 16.49).abs() < 1e-4);
        assert_eq!(p.accel, None);
    }

    /// Real A119S block head from CAMERA-FACTS.md (box size 0x8000).
    #[test]
    fn a119s_vector() {
        let mut b = hex("00 00 80 00 66 72 65 65 47 50 53 20 4c 00 00 00");
        b.extend_from_slice(&[0; 32]);
        b.extend(hex("10 00 00 00 2d 00 00 00 14 00 00 00 11 00 00 00
             0c 00 00 00 1f 00 00 00 41 4e 45 00 5d 9a a9 45
             ab 1e e5 44 ec 51 f0 40 b8 5e a5 43 00 00 00 00"));
        b.resize(0x8000, 0);
        let p = fix(decode_block(&b));
        assert_eq!(p.time, datetime!(2017-12-31 16:45:20 UTC));
        assert!((p.lat - 54.454_923_502_604_2).abs() < 1e-9, "{}", p.lat);
        assert!((p.lon - 18.549_306_233_724).abs() < 1e-9, "{}", p.lon);
        assert!((p.speed_mps / METRES_PER_SECOND_PER_KNOT - 7.51).abs() < 1e-4);
        assert!((p.course_deg - 330.74).abs() < 1e-3);
    }

    fn block_with_record(at: usize, rec: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 0x8000];
        b[..12].copy_from_slice(b"\0\0\x80\0freeGPS ");
        b[at..at + rec.len()].copy_from_slice(rec);
        b
    }

    fn record(status: &[u8; 3], y: u32, mo: u32, d: u32, lat: f32, lon: f32) -> Vec<u8> {
        let mut r = Vec::new();
        for v in [12u32, 30, 15, y, mo, d] {
            r.extend_from_slice(&v.to_le_bytes());
        }
        r.extend_from_slice(status);
        r.push(0);
        for v in [lat, lon, 10.0, 90.0] {
            r.extend_from_slice(&v.to_le_bytes());
        }
        for v in [256i32, -512, 1024] {
            r.extend_from_slice(&v.to_le_bytes());
        }
        r
    }

    #[test]
    fn variable_offset_uses_last_triple_and_ignores_decoy() {
        let mut b = block_with_record(0x94, &record(b"ASE", 25, 6, 1, 3330.0, 15100.0));
        b[0x28..0x2b].copy_from_slice(b"ANE"); // decoy where type 3 would look
        let p = fix(decode_block(&b));
        assert_eq!(p.time, datetime!(2025-06-01 12:30:15 UTC));
        assert!((p.lat - -33.5).abs() < 1e-9);
        assert!((p.lon - 151.0).abs() < 1e-9);
        assert_eq!(p.accel, Some([1.0, -2.0, 4.0]));
    }

    #[test]
    fn absolute_year_is_accepted() {
        let b = block_with_record(0x10, &record(b"ANE", 2024, 2, 29, 4000.0, 500.0));
        assert_eq!(
            fix(decode_block(&b)).time,
            datetime!(2024-02-29 12:30:15 UTC)
        );
    }

    #[test]
    fn no_fix_and_invalid() {
        let zero = block_with_record(0x10, &[]);
        assert_eq!(decode_block(&zero), BlockOutcome::NoFix);
        let v = block_with_record(0x10, &record(b"VNE", 25, 1, 1, 4000.0, 500.0));
        assert_eq!(decode_block(&v), BlockOutcome::NoFix);
        for rec in [
            record(b"ANE", 25, 13, 1, 4000.0, 500.0),  // month 13
            record(b"ANE", 25, 2, 30, 4000.0, 500.0),  // 30 February
            record(b"ANE", 25, 1, 1, 9100.0, 500.0),   // lat 91
            record(b"ANE", 25, 1, 1, 4000.0, 18100.0), // lon 181
            record(b"ANE", 25, 1, 1, 4075.0, 500.0),   // 75 minutes
            record(b"ANE", 25, 1, 1, f32::NAN, 500.0),
            record(b"ANE", 25, 1, 1, 0.0, 0.0), // null island
            record(b"ANE", 150, 1, 1, 4000.0, 500.0), // year 2150
        ] {
            let b = block_with_record(0x10, &rec);
            assert_eq!(decode_block(&b), BlockOutcome::Invalid, "{rec:?}");
        }
    }

    #[test]
    fn short_and_foreign_blocks_do_not_panic() {
        assert_eq!(decode_block(&[]), BlockOutcome::Invalid);
        assert_eq!(decode_block(b"\0\0\0\x0cfreeGPS "), BlockOutcome::NoFix);
        // A triple too close to the end for the floats: no record.
        let mut b = b"\0\0\0\x30freeGPS ".to_vec();
        b.resize(0x30, 0);
        b[0x2c..0x2f].copy_from_slice(b"ANE");
        assert_eq!(decode_block(&b), BlockOutcome::NoFix);
        assert_eq!(decode_block(b"\0\0\0\x0cmoovGPS "), BlockOutcome::Invalid);
    }
}
