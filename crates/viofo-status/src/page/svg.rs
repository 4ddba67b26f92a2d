//! A journey's track as an inline SVG: no map tiles and nothing fetched,
//! the fixes projected (equirectangular, longitude scaled by the cosine of
//! the middle latitude) and scaled to fit, with start and end marks and a
//! circle at each named place.

use std::fmt::Write;

use super::escape;

/// Most points drawn; a longer track is thinned evenly (ends kept).
pub(crate) const MAX_POINTS: usize = 600;

/// A place mark: where, and its name.
pub(crate) struct Mark<'a> {
    pub(crate) at: (f64, f64),
    pub(crate) name: &'a str,
}

/// `points` thinned to at most `max` (first and last kept).
pub(crate) fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let last = points.len() - 1;
    (0..max)
        .filter_map(|i| points.get(i * last / (max - 1)).copied())
        .collect()
}

/// Writes the SVG of `points` (`(lat, lon)` degrees) into a `w`×`h` box;
/// nothing when there is no valid fix.
pub(crate) fn track(
    out: &mut String,
    points: &[(f64, f64)],
    places: &[Mark<'_>],
    w: u32,
    h: u32,
    label: &str,
) {
    let valid: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(la, lo)| {
            la.is_finite() && lo.is_finite() && la.abs() <= 90.0 && lo.abs() <= 180.0
        })
        .collect();
    let (Some(first), Some(last)) = (valid.first().copied(), valid.last().copied()) else {
        return;
    };
    let pts = thin(&valid, MAX_POINTS);
    let (mut lat0, mut lat1, mut lon0, mut lon1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (la, lo) in pts.iter().chain(places.iter().map(|m| &m.at)) {
        lat0 = lat0.min(*la);
        lat1 = lat1.max(*la);
        lon0 = lon0.min(*lo);
        lon1 = lon1.max(*lo);
    }
    let k = ((lat0 + lat1) / 2.0).to_radians().cos().max(0.01);
    // Metres-ish extents; a track of one point gets a small square.
    let span_x = ((lon1 - lon0) * k).max(1e-4);
    let span_y = (lat1 - lat0).max(1e-4);
    let pad = 14.0;
    let (fw, fh) = (f64::from(w) - 2.0 * pad, f64::from(h) - 2.0 * pad);
    let scale = (fw / span_x).min(fh / span_y);
    let (ox, oy) = (
        pad + (fw - span_x * scale) / 2.0,
        pad + (fh - span_y * scale) / 2.0,
    );
    let xy = |(la, lo): (f64, f64)| (ox + (lo - lon0) * k * scale, oy + (lat1 - la) * scale);
    let _ = write!(
        out,
        "<svg class=\"map\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for m in places {
        let (x, y) = xy(m.at);
        let _ = write!(
            out,
            "<circle class=\"place\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"10\"><title>{name}</title></circle>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\">{name}</text>",
            name = escape(m.name),
            tx = x + 12.0,
            ty = y + 4.0
        );
    }
    out.push_str("<polyline class=\"track\" points=\"");
    for p in &pts {
        let (x, y) = xy(*p);
        let _ = write!(out, "{x:.1},{y:.1} ");
    }
    out.push_str("\"/>");
    let (sx, sy) = xy(first);
    let (ex, ey) = xy(last);
    let _ = write!(
        out,
        "<circle class=\"start\" cx=\"{sx:.1}\" cy=\"{sy:.1}\" r=\"5\"><title>start</title></circle>\
         <rect class=\"end\" x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\"><title>end</title></rect></svg>",
        ex - 5.0,
        ey - 5.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_both_ends_and_the_bound() {
        let pts: Vec<(f64, f64)> = (0..1000).map(|i| (f64::from(i), 0.0)).collect();
        let t = thin(&pts, 100);
        assert_eq!(t.len(), 100);
        assert_eq!(t.first(), pts.first());
        assert_eq!(t.last(), pts.last());
        assert_eq!(thin(&pts[..5], 100).len(), 5);
    }

    #[test]
    fn the_track_fits_its_box_with_marks() {
        let pts = [(52.0, 13.0), (52.01, 13.02), (52.02, 13.01)];
        let mut s = String::new();
        track(
            &mut s,
            &pts,
            &[Mark {
                at: (52.0, 13.0),
                name: "<Home>",
            }],
            300,
            200,
            "trip",
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"), "{s}");
        assert!(s.contains("class=\"start\"") && s.contains("class=\"end\""));
        assert!(s.contains("&lt;Home&gt;") && !s.contains("<Home>"));
        let coords: Vec<f64> = s
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .split([' ', ','])
            .filter(|c| !c.is_empty())
            .map(|c| c.parse().unwrap())
            .collect();
        assert_eq!(coords.len(), 6);
        for (i, c) in coords.iter().enumerate() {
            let max = if i % 2 == 0 { 300.0 } else { 200.0 };
            assert!((0.0..=max).contains(c), "{c} outside the box");
        }
        let mut none = String::new();
        track(&mut none, &[(f64::NAN, 0.0)], &[], 300, 200, "x");
        assert!(none.is_empty());
    }
}
