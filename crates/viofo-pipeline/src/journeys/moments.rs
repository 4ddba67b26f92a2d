//! Moments: the clips of one recording time (one per channel) taken
//! together, with their UTC span.

use std::collections::BTreeMap;

use viofo_store::{Channel, TrackPoint};

use super::JourneyClip;
use crate::CameraClock;

/// Offsets are learnt rounded to this (real time zones are whole quarter
/// hours; a clip starts recording a few seconds before its first fix).
const OFFSET_STEP_MS: i64 = 15 * 60 * 1000;

/// Largest offset believed (UTC−12 to UTC+14, with a margin).
const MAX_OFFSET_MS: i64 = 15 * 3_600_000;

/// The clips recorded at one time, one per channel.
#[derive(Debug)]
pub(super) struct Moment<'a> {
    pub(super) start_ms: i64,
    pub(super) end_ms: i64,
    pub(super) parking: bool,
    pub(super) clips: Vec<&'a JourneyClip>,
    /// The fixes of one channel (front first), in time order.
    pub(super) track: &'a [TrackPoint],
}

/// Channel preference for the positions.
pub(super) fn channel_rank(c: Channel) -> u8 {
    match c {
        Channel::Front => 0,
        Channel::Rear => 1,
        Channel::Interior => 2,
        Channel::Telephoto => 3,
        Channel::Unknown => 4,
    }
}

/// The first and last fix times over the clips' tracks.
fn fix_span(clips: &[&JourneyClip]) -> Option<(i64, i64)> {
    let mut span: Option<(i64, i64)> = None;
    for p in clips.iter().flat_map(|c| c.points.iter()) {
        let (lo, hi) = span.get_or_insert((p.time_ms, p.time_ms));
        *lo = (*lo).min(p.time_ms);
        *hi = (*hi).max(p.time_ms);
    }
    span
}

/// The offset (ms, local − UTC) a clock ran at when it named a clip
/// `recorded_at` whose first fix was `first_fix`, or `None` when that is no
/// believable time zone.
fn learnt_offset(recorded_at: i64, first_fix: i64) -> Option<i64> {
    let raw = recorded_at.checked_sub(first_fix)?;
    let steps = (raw as f64 / OFFSET_STEP_MS as f64).round();
    #[allow(clippy::cast_possible_truncation)] // bounded just below
    let off = (steps as i64).saturating_mul(OFFSET_STEP_MS);
    (off.abs() <= MAX_OFFSET_MS).then_some(off)
}

/// The clips grouped into moments, oldest first by UTC start.
pub(super) fn moments(clips: &[JourneyClip], clock: CameraClock) -> Vec<Moment<'_>> {
    // Group: same recording time and parking flag; a clip without a
    // recording time stands alone.
    let mut groups: BTreeMap<(i64, bool), Vec<&JourneyClip>> = BTreeMap::new();
    let mut loose: Vec<Vec<&JourneyClip>> = Vec::new();
    for c in clips {
        match c.recorded_at {
            Some(t) => groups.entry((t, c.parking)).or_default().push(c),
            None if !c.points.is_empty() => loose.push(vec![c]),
            None => {}
        }
    }
    let default_offset = i64::from(clock.offset().whole_seconds()) * 1000;
    // Offsets learnt from the groups with a fix, by recording time.
    let learnt: Vec<(i64, i64)> = groups
        .iter()
        .filter_map(|(&(t, _), cs)| {
            let (first, _) = fix_span(cs)?;
            Some((t, learnt_offset(t, first)?))
        })
        .collect();
    let offset_near = |t: i64| -> i64 {
        let i = learnt.partition_point(|&(lt, _)| lt < t);
        let after = learnt.get(i);
        let before = i.checked_sub(1).and_then(|j| learnt.get(j));
        match (before, after) {
            (Some(b), Some(a)) => {
                if t.saturating_sub(b.0) <= a.0.saturating_sub(t) {
                    b.1
                } else {
                    a.1
                }
            }
            (Some(x), None) | (None, Some(x)) => x.1,
            (None, None) => default_offset,
        }
    };
    let mut out: Vec<Moment<'_>> = groups
        .into_iter()
        .map(|((t, parking), cs)| {
            let (start_ms, end_ms) = fix_span(&cs).unwrap_or_else(|| {
                let utc = t.saturating_sub(offset_near(t));
                (utc, utc)
            });
            moment(start_ms, end_ms, parking, cs)
        })
        .chain(loose.into_iter().filter_map(|cs| {
            let (s, e) = fix_span(&cs)?;
            let parking = cs.first().is_some_and(|c| c.parking);
            Some(moment(s, e, parking, cs))
        }))
        .collect();
    out.sort_by_key(|m| (m.start_ms, m.end_ms));
    out
}

/// The merged track of `moments`: each one's track (one channel), fixes
/// with a non-finite position left out, in time order (stable: fixes of
/// one time keep the moments' order).
pub(super) fn merged<'a>(moments: impl IntoIterator<Item = &'a Moment<'a>>) -> Vec<TrackPoint> {
    let mut points: Vec<TrackPoint> = moments
        .into_iter()
        .flat_map(|m| m.track.iter().copied())
        .filter(|p| p.lat.is_finite() && p.lon.is_finite())
        .collect();
    points.sort_by_key(|p| p.time_ms);
    points
}

/// Drops the fixes [`moments`] never reads: in each moment only the track
/// of its first channel with fixes gives positions, the other clips only
/// their first and last fix times. What is kept gives the same journeys;
/// a front and rear card holds half the points in memory.
pub(super) fn thin(clips: &mut [JourneyClip]) {
    // Each moment's track: its first clip with fixes in `moment`'s order.
    let mut owner: BTreeMap<(i64, bool), (u8, &str, i64)> = BTreeMap::new();
    for c in clips.iter() {
        if let Some(t) = c.recorded_at
            && !c.points.is_empty()
        {
            let key = (channel_rank(c.channel), c.name.as_str(), c.id.0);
            owner
                .entry((t, c.parking))
                .and_modify(|k| *k = (*k).min(key))
                .or_insert(key);
        }
    }
    let owner: BTreeMap<(i64, bool), i64> = owner.into_iter().map(|(g, k)| (g, k.2)).collect();
    for c in clips.iter_mut() {
        let Some(t) = c.recorded_at else { continue };
        if owner.get(&(t, c.parking)).is_none_or(|&id| id == c.id.0) || c.points.len() <= 2 {
            continue;
        }
        let lo = c.points.iter().min_by_key(|p| p.time_ms).copied();
        let hi = c.points.iter().max_by_key(|p| p.time_ms).copied();
        c.points = lo.into_iter().chain(hi).collect();
    }
}

fn moment(start_ms: i64, end_ms: i64, parking: bool, mut clips: Vec<&JourneyClip>) -> Moment<'_> {
    clips.sort_by_key(|c| (channel_rank(c.channel), c.name.as_str(), c.id.0));
    let track = clips
        .iter()
        .find(|c| !c.points.is_empty())
        .map_or(&[][..], |c| c.points.as_slice());
    Moment {
        start_ms,
        end_ms,
        parking,
        clips,
        track,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_to_quarter_hours_and_refuse_nonsense() {
        let h = 3_600_000;
        assert_eq!(learnt_offset(2 * h + 3_000, 0), Some(2 * h));
        assert_eq!(
            learnt_offset(-5 * h - 40 * 60_000, 0),
            Some(-5 * h - 45 * 60_000)
        );
        assert_eq!(learnt_offset(0, 1_500), Some(0));
        assert_eq!(learnt_offset(40 * h, 0), None);
    }
}
