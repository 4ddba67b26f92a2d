//! Named places (Home, Office): a centre and a radius. Journeys name their
//! ends by the place they fall in; parking clips recorded entirely at a
//! place flagged `skip_parking` need not be downloaded ([`parked_at`]).
//!
//! The rules, in one place for the pipeline and the command line:
//! - a point is inside a place when its great-circle distance to the
//!   centre is at most the radius (the edge counts as inside);
//! - a clip is parked at a place when its track has at least one fix and
//!   **every** fix lies inside that one place; a clip without a fix is
//!   never parked anywhere;
//! - places are checked by [`validate_places`]: latitude −90..=90,
//!   longitude −180..=180, radius above 0, all finite; names non-empty and
//!   unique ignoring case.

pub use viofo_gps::haversine_m;
use viofo_store::{Store, TrackPoint};

use crate::{Error, Result};

/// Metres per degree of latitude on the haversine's sphere, rounded down
/// (a wider box only lets more candidates through to the exact check).
const M_PER_DEG_LAT: f64 = 111_000.0;

/// A named circle on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Its name as the user wrote it ("Home").
    pub name: String,
    /// Latitude of the centre in degrees (−90..=90).
    pub lat: f64,
    /// Longitude of the centre in degrees (−180..=180).
    pub lon: f64,
    /// Radius in metres (above 0).
    pub radius_m: f64,
    /// Parking clips recorded entirely inside are not downloaded.
    pub skip_parking: bool,
}

impl Place {
    /// Whether the point (`lat`, `lon`, degrees) lies within the radius
    /// (edge included), by great-circle distance. Non-finite input is never
    /// inside.
    ///
    /// ```
    /// use viofo_pipeline::places::Place;
    ///
    /// let home = Place { name: "Home".into(), lat: 51.5, lon: -0.12, radius_m: 100.0, skip_parking: false };
    /// assert!(home.contains(51.5005, -0.12)); // ~56 m north
    /// assert!(!home.contains(51.502, -0.12)); // ~222 m north
    /// ```
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        if !(lat.is_finite() && lon.is_finite()) {
            return false;
        }
        haversine_m(self.lat, self.lon, lat, lon) <= self.radius_m
    }

    /// Whether the track has at least one fix and every fix lies inside.
    pub fn holds_track(&self, points: &[TrackPoint]) -> bool {
        !points.is_empty() && points.iter().all(|p| self.contains(p.lat, p.lon))
    }

    /// `[min_lon, min_lat, max_lon, max_lat]` (degrees) around the circle:
    /// every point inside lies in it (the whole longitude range near a pole
    /// or across the antimeridian). The store's candidates for
    /// [`clips_inside`].
    pub fn bounding_box(&self) -> [f64; 4] {
        let dlat = self.radius_m / M_PER_DEG_LAT;
        let (min_lat, max_lat) = ((self.lat - dlat).max(-90.0), (self.lat + dlat).min(90.0));
        let cos = min_lat.to_radians().cos().min(max_lat.to_radians().cos());
        let dlon = if cos > 1e-6 { dlat / cos } else { 360.0 };
        let (min_lon, max_lon) = (self.lon - dlon, self.lon + dlon);
        if min_lon < -180.0 || max_lon > 180.0 {
            [-180.0, min_lat, 180.0, max_lat]
        } else {
            [min_lon, min_lat, max_lon, max_lat]
        }
    }

    /// The reason a clip parked here is skipped: `parked at <name>`.
    pub fn skip_reason(&self) -> String {
        format!("parked at {}", self.name)
    }

    /// Checks one place's values; errors name the field (`lat`, `lon`,
    /// `radius_m`, `name`) and what is allowed. See [`validate_places`] for
    /// a list (which also checks that names are unique).
    pub fn validate(&self) -> Result<()> {
        self.problem().map_or(Ok(()), |(field, why)| {
            Err(Error::config(format!(
                "place {:?}: {field}{why}",
                self.name
            )))
        })
    }

    /// The first thing wrong with this place: (field, " = value: what is
    /// allowed").
    fn problem(&self) -> Option<(&'static str, String)> {
        if self.name.trim().is_empty() {
            return Some((
                "name",
                " is empty: a place needs a name (e.g. \"Home\")".to_owned(),
            ));
        }
        if !(self.lat.is_finite() && (-90.0..=90.0).contains(&self.lat)) {
            return Some((
                "lat",
                format!(
                    " = {}: must be a latitude in degrees from -90 to 90",
                    self.lat
                ),
            ));
        }
        if !(self.lon.is_finite() && (-180.0..=180.0).contains(&self.lon)) {
            return Some((
                "lon",
                format!(
                    " = {}: must be a longitude in degrees from -180 to 180",
                    self.lon
                ),
            ));
        }
        if !(self.radius_m.is_finite() && self.radius_m > 0.0) {
            return Some((
                "radius_m",
                format!(" = {}: must be a distance in metres above 0", self.radius_m),
            ));
        }
        None
    }
}

/// Checks a list of places: each one's values ([`Place::validate`]'s rules)
/// and that no two share a name, ignoring case. Errors name the key as
/// `place[N].<field>`, N counting the `[[place]]` tables from 1, and what
/// is allowed.
pub fn validate_places(places: &[Place]) -> Result<()> {
    let mut seen: Vec<String> = Vec::with_capacity(places.len());
    for (i, p) in places.iter().enumerate() {
        let n = i + 1;
        if let Some((field, why)) = p.problem() {
            return Err(Error::config(format!("place[{n}].{field}{why}")));
        }
        let key = p.name.trim().to_lowercase();
        if let Some(first) = seen.iter().position(|s| *s == key) {
            return Err(Error::config(format!(
                "place[{n}].name = {:?}: already the name of place[{}]; names must be unique (ignoring case)",
                p.name,
                first + 1
            )));
        }
        seen.push(key);
    }
    Ok(())
}

/// The place a parking clip with this track is skipped at: the first place
/// (in the given order) flagged `skip_parking` that holds every fix
/// ([`Place::holds_track`]). `None` for a track without a fix, a track
/// partly outside every such place, or one spread over two places without
/// lying wholly in either.
pub fn parked_at<'a>(places: &'a [Place], points: &[TrackPoint]) -> Option<&'a Place> {
    places
        .iter()
        .find(|p| p.skip_parking && p.holds_track(points))
}

/// The first place (in the given order) that contains the point, if any:
/// how a journey's end is named.
pub fn place_at(places: &[Place], lat: f64, lon: f64) -> Option<&Place> {
    places.iter().find(|p| p.contains(lat, lon))
}

/// How many clips (of `camera_id`, or of every camera) have a stored track
/// (from a triage or the downloaded file) lying wholly inside `place`
/// ([`Place::holds_track`]), whatever their state or kind: the same rule
/// that skips parking clips.
pub async fn clips_inside(store: &Store, camera_id: Option<&str>, place: &Place) -> Result<u64> {
    let mut n = 0;
    for id in store.tracks_within(camera_id, place.bounding_box()).await? {
        if let Some(t) = store.track(id).await?
            && place.holds_track(&t.track.points)
        {
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(radius_m: f64) -> Place {
        Place {
            name: "Home".into(),
            lat: 48.8566,
            lon: 2.3522,
            radius_m,
            skip_parking: true,
        }
    }

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = haversine_m(0.0, 0.0, 1.0, 0.0);
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
    }

    #[test]
    fn inside_edge_and_outside() {
        let p = place(200.0);
        assert!(p.contains(p.lat, p.lon));
        // 0.0017° of latitude ≈ 189 m: inside; 0.0019° ≈ 211 m: outside.
        assert!(p.contains(p.lat + 0.0017, p.lon));
        assert!(!p.contains(p.lat + 0.0019, p.lon));
        assert!(!p.contains(f64::NAN, p.lon));
        assert!(place(0.0).contains(48.8566, 2.3522));
    }

    fn fix(lat: f64, lon: f64) -> TrackPoint {
        TrackPoint {
            time_ms: 0,
            lat,
            lon,
            speed_mps: 0.0,
            course_deg: 0.0,
        }
    }

    fn named(name: &str, lat: f64, lon: f64, radius_m: f64, skip: bool) -> Place {
        Place {
            name: name.into(),
            lat,
            lon,
            radius_m,
            skip_parking: skip,
        }
    }

    #[test]
    fn parked_inside() {
        let places = [place(200.0)];
        let track = [
            fix(48.8566, 2.3522),
            fix(48.8570, 2.3525),
            fix(48.8560, 2.3520),
        ];
        assert_eq!(
            parked_at(&places, &track).map(|p| p.name.as_str()),
            Some("Home")
        );
        assert_eq!(places[0].skip_reason(), "parked at Home");
    }

    #[test]
    fn parked_exactly_on_the_edge() {
        let centre = place(1.0);
        // A fix at some distance; a place whose radius is exactly that
        // distance holds it, one a hair smaller does not.
        let edge = fix(48.8566 + 0.0009, 2.3522 + 0.0011);
        let d = haversine_m(centre.lat, centre.lon, edge.lat, edge.lon);
        let exact = [place(d)];
        assert!(parked_at(&exact, &[edge]).is_some(), "the edge is inside");
        let smaller = [place(d * (1.0 - 1e-9))];
        assert!(parked_at(&smaller, &[edge]).is_none());
    }

    #[test]
    fn partly_outside_is_not_parked() {
        let places = [place(200.0)];
        // One fix ~1.1 km north.
        let track = [
            fix(48.8566, 2.3522),
            fix(48.8666, 2.3522),
            fix(48.8566, 2.3522),
        ];
        assert!(parked_at(&places, &track).is_none());
    }

    #[test]
    fn no_fix_is_never_parked() {
        let places = [place(1e7)];
        assert!(parked_at(&places, &[]).is_none());
    }

    #[test]
    fn only_skip_parking_places_count() {
        let mut p = place(200.0);
        p.skip_parking = false;
        let places = [p];
        assert!(parked_at(&places, &[fix(48.8566, 2.3522)]).is_none());
        assert_eq!(
            place_at(&places, 48.8566, 2.3522).map(|p| p.name.as_str()),
            Some("Home")
        );
    }

    #[test]
    fn two_overlapping_places() {
        // A wide "Town" and a small "Home" inside it, both skipping.
        let places = [
            named("Home", 48.8566, 2.3522, 100.0, true),
            named("Town", 48.8566, 2.3522, 5_000.0, true),
        ];
        let at_home = [fix(48.8566, 2.3522), fix(48.8567, 2.3523)];
        // Wholly in both: the first listed wins.
        assert_eq!(
            parked_at(&places, &at_home).map(|p| p.name.as_str()),
            Some("Home")
        );
        // Wholly in Town only.
        let in_town = [fix(48.8566, 2.3522), fix(48.8666, 2.3522)];
        assert_eq!(
            parked_at(&places, &in_town).map(|p| p.name.as_str()),
            Some("Town")
        );
        // Spread over two places, wholly in neither: not parked.
        let split = [
            named("A", 0.0, 0.0, 200.0, true),
            named("B", 0.0, 0.003, 200.0, true),
        ];
        assert!(split[0].contains(0.0, 0.0015) && split[1].contains(0.0, 0.0015));
        assert!(parked_at(&split, &[fix(0.0, 0.0), fix(0.0, 0.003)]).is_none());
    }

    #[test]
    fn validation_names_the_key_and_what_is_allowed() {
        let ok = named("Home", 48.0, 2.0, 50.0, true);
        assert!(validate_places(std::slice::from_ref(&ok)).is_ok());
        assert!(ok.validate().is_ok());
        let bad = |p: Place, want: &str| {
            let e = validate_places(&[ok.clone(), p.clone()]).unwrap_err();
            assert!(e.is_config(), "{e}");
            assert!(e.to_string().contains(want), "{e} lacks {want}");
            assert!(p.validate().is_err());
        };
        bad(
            named("Work", 91.0, 2.0, 50.0, false),
            "place[2].lat = 91: must be a latitude",
        );
        bad(named("Work", -90.5, 2.0, 50.0, false), "place[2].lat");
        bad(named("Work", f64::NAN, 2.0, 50.0, false), "place[2].lat");
        bad(
            named("Work", 48.0, 180.5, 50.0, false),
            "place[2].lon = 180.5: must be a longitude",
        );
        bad(
            named("Work", 48.0, f64::INFINITY, 50.0, false),
            "place[2].lon",
        );
        bad(
            named("Work", 48.0, 2.0, -1.0, false),
            "place[2].radius_m = -1: must be a distance in metres above 0",
        );
        bad(
            named("Work", 48.0, 2.0, 0.0, false),
            "place[2].radius_m = 0",
        );
        bad(
            named("Work", 48.0, 2.0, f64::NAN, false),
            "place[2].radius_m = NaN",
        );
        bad(named("  ", 48.0, 2.0, 5.0, false), "place[2].name is empty");
        let e = validate_places(&[ok.clone(), named("HOME", 1.0, 1.0, 5.0, false)]).unwrap_err();
        assert!(
            e.to_string()
                .contains("place[2].name = \"HOME\": already the name of place[1]"),
            "{e}"
        );
        // SyncConfig::validate (so Syncer::new) checks them too.
        let mut cfg = crate::SyncConfig::new("cam", "/archive");
        assert!(cfg.validate().is_ok());
        cfg.places = vec![ok.clone(), named("Work", 48.0, 2.0, -3.0, true)];
        let e = cfg.validate().unwrap_err();
        assert!(
            e.is_config() && e.to_string().contains("place[2].radius_m"),
            "{e}"
        );
        // The bounds themselves are allowed.
        assert!(validate_places(&[named("Pole", 90.0, -180.0, 0.001, false)]).is_ok());
    }
}
