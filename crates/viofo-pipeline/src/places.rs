//! Named places (Home, Office): a centre and a radius. Journeys name their
//! ends by the place they fall in; parking clips recorded entirely at a
//! place flagged `skip_parking` need not be downloaded.

/// Mean Earth radius in metres (the haversine's sphere).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A named circle on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Its name as the user wrote it ("Home").
    pub name: String,
    /// Latitude of the centre in degrees (−90..=90).
    pub lat: f64,
    /// Longitude of the centre in degrees (−180..=180).
    pub lon: f64,
    /// Radius in metres (≥ 0).
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
}

/// Great-circle distance in metres between two points in degrees.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
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
}
