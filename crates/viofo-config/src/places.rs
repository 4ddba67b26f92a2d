//! Named places (issue 12): the `[[place]]` tables of the configuration
//! file, each `name`, `lat`, `lon`, `radius_m` and `skip_parking` (default
//! false). Places live only in the file (a list of tables has no flag or
//! environment form). The rules are the pipeline's
//! ([`viofo_pipeline::places::validate_places`]); a bad value is a
//! configuration error naming the key (`place[2].radius_m`, counting the
//! tables from 1) and what is allowed.

use std::path::Path;

use viofo_pipeline::places::{Place, validate_places};

use super::ConfigError;

/// The file key that holds the places.
pub(crate) const KEY: &str = "place";

const FIELDS: &str = "name, lat, lon, radius_m, skip_parking";

/// The places of the file's `place` value (an array of tables).
pub(crate) fn parse(v: &toml::Value, file: &Path) -> Result<Vec<Place>, ConfigError> {
    let err = |msg: String| ConfigError::new(format!("{}: {msg}", file.display()));
    let toml::Value::Array(items) = v else {
        return Err(err(format!(
            "`place` must be [[place]] tables ({FIELDS}), not {}",
            v.type_str()
        )));
    };
    let mut places = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let n = i + 1;
        let toml::Value::Table(t) = item else {
            return Err(err(format!(
                "place[{n}] must be a [[place]] table ({FIELDS}), not {}",
                item.type_str()
            )));
        };
        if let Some(k) = t
            .keys()
            .find(|k| !FIELDS.split(", ").any(|f| f == k.as_str()))
        {
            return Err(err(format!(
                "place[{n}]: unknown key `{k}`; known keys: {FIELDS}"
            )));
        }
        let number = |field: &str, what: &str| -> Result<f64, ConfigError> {
            match t.get(field) {
                #[allow(clippy::cast_precision_loss)] // degrees and metres
                Some(toml::Value::Integer(i)) => Ok(*i as f64),
                Some(toml::Value::Float(f)) => Ok(*f),
                Some(other) => Err(err(format!("place[{n}].{field} = {other}: must be {what}"))),
                None => Err(err(format!(
                    "place[{n}].{field} is missing: must be {what}"
                ))),
            }
        };
        let name = match t.get("name") {
            Some(toml::Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(err(format!(
                    "place[{n}].name = {other}: must be a text (e.g. name = \"Home\")"
                )));
            }
            None => {
                return Err(err(format!(
                    "place[{n}].name is missing: must be a text (e.g. name = \"Home\")"
                )));
            }
        };
        let skip_parking = match t.get("skip_parking") {
            None => false,
            Some(toml::Value::Boolean(b)) => *b,
            Some(other) => {
                return Err(err(format!(
                    "place[{n}].skip_parking = {other}: must be true or false"
                )));
            }
        };
        places.push(Place {
            name,
            lat: number("lat", "a latitude in degrees from -90 to 90")?,
            lon: number("lon", "a longitude in degrees from -180 to 180")?,
            radius_m: number("radius_m", "a distance in metres above 0")?,
            skip_parking,
        });
    }
    validate_places(&places).map_err(|e| {
        let msg = e.to_string();
        err(msg
            .strip_prefix("configuration: ")
            .map_or(msg.clone(), str::to_owned))
    })?;
    Ok(places)
}

/// The places as `viofosync config` shows them: `[[place]]` tables, each
/// with the source as a comment.
pub(crate) fn render(places: &[Place], source: &str) -> String {
    let mut out = String::new();
    for p in places {
        out.push_str(&format!(
            "\n[[place]]  # {source}\nname = {:?}\nlat = {}\nlon = {}\nradius_m = {}\nskip_parking = {}\n",
            p.name, p.lat, p.lon, p.radius_m, p.skip_parking
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(text: &str) -> Result<Vec<Place>, String> {
        let t: toml::Table = text.parse().unwrap();
        parse(t.get(KEY).unwrap(), Path::new("c.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn tables_with_defaults() {
        let p = places(
            "[[place]]\nname = \"Home\"\nlat = 48.85\nlon = 2\nradius_m = 100\nskip_parking = true\n\
             [[place]]\nname = \"Office\"\nlat = -33.9\nlon = 151.2\nradius_m = 250.5\n",
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].name.as_str(), p[0].lon, p[0].skip_parking),
            ("Home", 2.0, true)
        );
        assert_eq!((p[1].radius_m, p[1].skip_parking), (250.5, false));
        let shown = render(&p, "file c.toml");
        assert!(
            shown.contains(
                "name = \"Home\"\nlat = 48.85\nlon = 2\nradius_m = 100\nskip_parking = true"
            ),
            "{shown}"
        );
    }

    #[test]
    fn bad_places_name_the_key_and_what_is_allowed() {
        let one = |body: &str| {
            places(&format!(
                "[[place]]\nname = \"A\"\nlat = 1\nlon = 1\nradius_m = 5\n[[place]]\n{body}"
            ))
        };
        for (body, want) in [
            (
                "name = \"B\"\nlat = 91\nlon = 1\nradius_m = 5",
                "c.toml: place[2].lat = 91: must be a latitude in degrees from -90 to 90",
            ),
            (
                "name = \"B\"\nlat = 1\nlon = -181\nradius_m = 5",
                "place[2].lon = -181: must be a longitude",
            ),
            (
                "name = \"B\"\nlat = 1\nlon = 1\nradius_m = -5",
                "place[2].radius_m = -5: must be a distance in metres above 0",
            ),
            (
                "name = \"B\"\nlat = 1\nlon = 1\nradius_m = 0",
                "place[2].radius_m = 0",
            ),
            (
                "name = \"B\"\nlat = 1\nlon = 1\nradius_m = nan",
                "place[2].radius_m = NaN",
            ),
            (
                "name = \"a\"\nlat = 1\nlon = 1\nradius_m = 5",
                "place[2].name = \"a\": already the name of place[1]",
            ),
            (
                "name = \"\"\nlat = 1\nlon = 1\nradius_m = 5",
                "place[2].name is empty",
            ),
            ("lat = 1\nlon = 1\nradius_m = 5", "place[2].name is missing"),
            (
                "name = \"B\"\nlon = 1\nradius_m = 5",
                "place[2].lat is missing",
            ),
            (
                "name = \"B\"\nlat = \"north\"\nlon = 1\nradius_m = 5",
                "place[2].lat = \"north\": must be a latitude",
            ),
            (
                "name = \"B\"\nlat = 1\nlon = 1\nradius_m = 5\nskip_parking = \"yes\"",
                "place[2].skip_parking = \"yes\": must be true or false",
            ),
            (
                "name = \"B\"\nlat = 1\nlon = 1\nradius = 5",
                "place[2]: unknown key `radius`; known keys: name, lat, lon, radius_m, skip_parking",
            ),
        ] {
            let e = one(body).unwrap_err();
            assert!(e.contains(want), "{body:?}: {e}");
        }
        let e = places("place = 5").unwrap_err();
        assert!(e.contains("`place` must be [[place]] tables"), "{e}");
    }
}
