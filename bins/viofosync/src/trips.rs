//! `viofosync trips` (issue 12): the journeys the store knows, newest
//! first (`--since DATE`, `--format table|json|geojson|gpx`, `--rebuild`
//! recomputes them from the stored tracks first); `trips show ID`: one
//! journey's clips and their states.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use viofo_pipeline::CameraClock;
use viofo_pipeline::journeys::{
    JourneyClip, JourneyOptions, detect, gpx::sanitize, rebuild_journeys,
};
use viofo_store::{JourneyId, JourneyRow, Store, TrackPoint};

use crate::commands::{open_existing_store, open_store, state_db, sync_config};
use crate::config::{Loaded, SettingsArgs};
use crate::errors::Exit;
use crate::stdout::{out, outln};
use crate::{output, report};

/// Most journeys listed.
const MAX_TRIPS: u32 = 100_000;

/// `trips` options.
#[derive(Debug, Args)]
pub(crate) struct TripsArgs {
    #[command(subcommand)]
    pub(crate) action: Option<TripsAction>,
    /// Only journeys ending on or after this day (YYYY-MM-DD on the
    /// camera's clock) or instant (RFC 3339).
    #[arg(long, value_name = "DATE", global = true)]
    since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TripFormat::Table, global = true)]
    format: TripFormat,
    /// Recompute every journey from the stored tracks first (needs the
    /// state database free: not beside a running sync).
    #[arg(long)]
    rebuild: bool,
    #[command(flatten)]
    pub(crate) settings: SettingsArgs,
}

/// `trips` actions.
#[derive(Debug, Subcommand)]
pub(crate) enum TripsAction {
    /// One journey's clips and their states.
    Show {
        /// The journey's id (the first column of `viofosync trips`).
        id: i64,
    },
}

/// How `trips` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TripFormat {
    /// A table.
    Table,
    /// A JSON array (or object for `show`).
    Json,
    /// A GeoJSON FeatureCollection, one LineString per journey.
    Geojson,
    /// One GPX document, one track per journey.
    Gpx,
}

/// `YYYY-MM-DD` (midnight on the camera's clock) or RFC 3339 → UTC ms.
fn parse_since(s: &str, clock: CameraClock) -> Result<i64> {
    let s = s.trim();
    let at = if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        t
    } else {
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        let d = Date::parse(s, &fmt)
            .with_context(|| format!("--since {s:?}: expected YYYY-MM-DD or an RFC 3339 time"))?;
        d.midnight().assume_offset(clock.offset())
    };
    Ok(i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MIN))
}

fn utc(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn rfc3339(ms: i64) -> String {
    utc(ms).format(&Rfc3339).unwrap_or_default()
}

/// `trips`.
pub(crate) async fn trips(l: &Loaded, args: &TripsArgs) -> Result<Exit> {
    let clock = l.settings.sync.camera_clock;
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, clock))
        .transpose();
    let since = match since {
        Ok(s) => s,
        Err(e) => {
            crate::stdout::errln!("viofosync: {e:#}");
            return Ok(Exit::Config);
        }
    };
    if args.rebuild {
        rebuild(l).await?;
    }
    if !state_db(l)?.exists() {
        if args.format == TripFormat::Table {
            outln!("no journeys yet (no state database)");
        } else {
            print(args.format, &[], &[], clock);
        }
        return Ok(Exit::Success);
    }
    let Some(store) = open_existing_store(l).await? else {
        return Ok(Exit::Success);
    };
    let camera = l.camera_id();
    let result = match args.action {
        Some(TripsAction::Show { id }) => show(&store, JourneyId(id), args.format, clock).await,
        None => list(&store, camera.as_deref(), since, args.format, clock).await,
    };
    store.close().await.ok();
    result
}

/// Recomputes the journeys of every configured camera.
async fn rebuild(l: &Loaded) -> Result<()> {
    for cam in l.per_camera() {
        let (Some(id), Some(archive)) = (cam.camera_id(), cam.settings.archive.clone()) else {
            bail!("--rebuild needs the camera (address or camera_id) and the archive configured");
        };
        let cfg = sync_config(&cam, &id, &archive);
        let store = open_store(&cam, false).await?;
        let r = rebuild_journeys(&store, &id, &cfg).await;
        store.close().await.ok();
        let r = r.with_context(|| format!("rebuilding the journeys of {id}"))?;
        tracing::info!(
            "{id}: {} journeys from {} clips ({} GPX files written)",
            r.journeys,
            r.clips,
            r.gpx_written
        );
    }
    Ok(())
}

async fn list(
    store: &Store,
    camera: Option<&str>,
    since: Option<i64>,
    format: TripFormat,
    clock: CameraClock,
) -> Result<Exit> {
    let rows = store.journeys(camera, since, MAX_TRIPS).await?;
    let mut tracks = Vec::new();
    if matches!(format, TripFormat::Geojson | TripFormat::Gpx) {
        for j in &rows {
            tracks.push(merged_track(store, j, clock).await?);
        }
    }
    print(format, &rows, &tracks, clock);
    Ok(Exit::Success)
}

fn print(format: TripFormat, rows: &[JourneyRow], tracks: &[Vec<TrackPoint>], clock: CameraClock) {
    match format {
        TripFormat::Table => table(rows, clock),
        TripFormat::Json => {
            let v: Vec<Value> = rows.iter().map(journey_json).collect();
            outln!("{}", Value::Array(v));
        }
        TripFormat::Geojson => outln!("{}", geojson(rows, tracks)),
        TripFormat::Gpx => out!("{}", gpx(rows, tracks, clock)),
    }
}

/// "Tue 2026-03-24 08:12–08:47" on the camera's clock.
fn span(j: &JourneyRow, clock: CameraClock) -> String {
    let (a, b) = (
        clock.local_at(utc(j.start_ms)),
        clock.local_at(utc(j.end_ms)),
    );
    let day = a.weekday().to_string();
    let end = if a.date() == b.date() {
        format!("{:02}:{:02}", b.hour(), b.minute())
    } else {
        format!("{} {:02}:{:02}", b.date(), b.hour(), b.minute())
    };
    format!(
        "{} {} {:02}:{:02}-{end}",
        day.get(..3).unwrap_or(&day),
        a.date(),
        a.hour(),
        a.minute()
    )
}

fn place(p: Option<&str>) -> &str {
    p.unwrap_or("?")
}

fn table(rows: &[JourneyRow], clock: CameraClock) {
    if rows.is_empty() {
        outln!("no journeys");
        return;
    }
    outln!(
        "{:>5}  {:<30} {:<28} {:>8} {:>7} {:>6}  {:<9} {:>10} {:>5}",
        "ID",
        "WHEN",
        "FROM -> TO",
        "KM",
        "MOVING",
        "MAX",
        "CLIPS",
        "SIZE",
        "DONE"
    );
    for j in rows {
        let channels: Vec<String> = j
            .channels
            .iter()
            .map(|(c, n)| format!("{n}{}", c.as_str()))
            .collect();
        outln!(
            "{:>5}  {:<30} {:<28} {:>8.1} {:>5}m {:>4}km/h {:<9} {:>10} {:>4.0}%",
            j.id.0,
            span(j, clock),
            format!(
                "{} -> {}",
                place(j.from_place.as_deref()),
                place(j.to_place.as_deref())
            ),
            j.distance_m / 1000.0,
            j.moving_ms / 60_000,
            (j.max_speed_mps * 3.6).round(),
            channels.join("+"),
            output::bytes(j.bytes),
            j.downloaded_fraction() * 100.0
        );
    }
}

fn pos_json(p: Option<(f64, f64)>) -> Value {
    p.map_or(Value::Null, |(lat, lon)| json!({ "lat": lat, "lon": lon }))
}

fn journey_json(j: &JourneyRow) -> Value {
    let channels: serde_json::Map<String, Value> = j
        .channels
        .iter()
        .map(|(c, n)| (c.as_str().to_owned(), Value::from(*n)))
        .collect();
    json!({
        "id": j.id.0,
        "camera_id": j.camera_id,
        "start": rfc3339(j.start_ms),
        "end": rfc3339(j.end_ms),
        "start_ms": j.start_ms,
        "end_ms": j.end_ms,
        "from": j.from_place,
        "to": j.to_place,
        "start_position": pos_json(j.start_pos),
        "end_position": pos_json(j.end_pos),
        "distance_m": j.distance_m,
        "moving_s": j.moving_ms / 1000,
        "max_speed_mps": j.max_speed_mps,
        "clips": j.clips,
        "channels": channels,
        "bytes": j.bytes,
        "downloaded_bytes": j.downloaded_bytes,
        "downloaded_fraction": j.downloaded_fraction(),
        "gpx": j.gpx_path,
    })
}

/// The journey's merged track, from its clips' stored tracks (one channel
/// per moment, as detection takes it).
async fn merged_track(
    store: &Store,
    j: &JourneyRow,
    clock: CameraClock,
) -> Result<Vec<TrackPoint>> {
    let mut clips = Vec::new();
    for c in store.journey_clips(j.id).await? {
        let points = store
            .track(c.id)
            .await?
            .map(|t| t.track.points)
            .unwrap_or_default();
        clips.push(JourneyClip {
            id: c.id,
            name: c.name,
            channel: c.channel,
            parking: false,
            recorded_at: c.recorded_at,
            size: c.size,
            state: c.state,
            points,
        });
    }
    let opts = JourneyOptions {
        gap: std::time::Duration::from_secs(u64::MAX / 4_000),
        clock,
        ..JourneyOptions::default()
    };
    Ok(detect(&clips, &[], &opts)
        .into_iter()
        .flat_map(|x| x.points)
        .collect())
}

fn geojson(rows: &[JourneyRow], tracks: &[Vec<TrackPoint>]) -> Value {
    let features: Vec<Value> = rows
        .iter()
        .zip(tracks)
        .map(|(j, t)| {
            let coords: Vec<Value> = t.iter().map(|p| json!([p.lon, p.lat])).collect();
            json!({
                "type": "Feature",
                "geometry": { "type": "LineString", "coordinates": coords },
                "properties": journey_json(j),
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
}

fn gps_points(t: &[TrackPoint]) -> Vec<viofo_gps::Point> {
    t.iter()
        .map(|p| viofo_gps::Point {
            time: utc(p.time_ms),
            lat: p.lat,
            lon: p.lon,
            speed_mps: f64::from(p.speed_mps),
            course_deg: f64::from(p.course_deg),
            accel: None,
        })
        .collect()
}

/// One GPX document with a track per journey: each written by
/// viofo-gps's writer, their `<trk>` elements put under one `<gpx>`.
fn gpx(rows: &[JourneyRow], tracks: &[Vec<TrackPoint>], clock: CameraClock) -> String {
    let mut head = String::new();
    let mut body = String::new();
    let docs = rows.iter().zip(tracks).map(|(j, t)| {
        let name = format!(
            "{} {}-{}",
            span(j, clock),
            sanitize(j.from_place.as_deref()),
            sanitize(j.to_place.as_deref())
        );
        let mut buf = Vec::new();
        let _ = viofo_gps::write_gpx(&gps_points(t), Some(&name), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    });
    for doc in docs.chain(rows.is_empty().then(|| {
        let mut buf = Vec::new();
        let _ = viofo_gps::write_gpx(&[], None, &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })) {
        let (Some(a), Some(b)) = (doc.find("<trk>"), doc.rfind("</trk>")) else {
            continue;
        };
        if head.is_empty() {
            head = doc.get(..a).unwrap_or_default().to_owned();
        }
        if !rows.is_empty() {
            body.push_str("  ");
            body.push_str(doc.get(a..b + "</trk>".len()).unwrap_or_default());
            body.push('\n');
        }
    }
    format!("{head}{}</gpx>\n", body.trim_start())
}

async fn show(
    store: &Store,
    id: JourneyId,
    format: TripFormat,
    clock: CameraClock,
) -> Result<Exit> {
    let Some(j) = store.journey(id).await? else {
        crate::stdout::errln!("viofosync: no journey {id} (see viofosync trips)");
        return Ok(Exit::Other);
    };
    let clips = store.journey_clips(id).await?;
    match format {
        TripFormat::Table => {
            outln!(
                "journey {}: {}, {} -> {}, {:.1} km, {} clips, {:.0} % downloaded",
                j.id,
                span(&j, clock),
                place(j.from_place.as_deref()),
                place(j.to_place.as_deref()),
                j.distance_m / 1000.0,
                j.clips,
                j.downloaded_fraction() * 100.0
            );
            outln!("{:>10}  {:<40} STATE", "SIZE", "NAME");
            for c in &clips {
                let flag = if c.locked { " [locked]" } else { "" };
                outln!(
                    "{:>10}  {:<40} {}",
                    output::bytes(c.size),
                    format!("{}{flag}", c.name),
                    report::clip_state(c)
                );
            }
        }
        TripFormat::Json => {
            let cs: Vec<Value> = clips
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id.0,
                        "name": c.name,
                        "channel": c.channel.as_str(),
                        "locked": c.locked,
                        "size": c.size,
                        "state": c.state.as_str(),
                        "local_path": c.local_path,
                    })
                })
                .collect();
            let mut v = journey_json(&j);
            if let Some(o) = v.as_object_mut() {
                o.insert("clip_list".into(), Value::Array(cs));
            }
            outln!("{v}");
        }
        TripFormat::Geojson | TripFormat::Gpx => {
            let t = merged_track(store, &j, clock).await?;
            print(format, std::slice::from_ref(&j), &[t], clock);
        }
    }
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use time::macros::offset;

    use super::*;

    #[test]
    fn since_takes_a_day_on_the_camera_clock_or_an_instant() {
        let clock = CameraClock::new(offset!(+2));
        // 2026-03-29 00:00 at UTC+2 = 2026-03-28 22:00 UTC.
        assert_eq!(parse_since("2026-03-29", clock).unwrap(), 1_774_735_200_000);
        assert_eq!(
            parse_since("2026-03-29T00:00:00Z", clock).unwrap(),
            1_774_742_400_000
        );
        assert!(parse_since("yesterday", clock).is_err());
    }

    #[test]
    fn gpx_output_is_one_document_with_a_track_each() {
        let row = |id, start_ms| JourneyRow {
            id: JourneyId(id),
            camera_id: "c".into(),
            start_ms,
            end_ms: start_ms + 60_000,
            start_pos: None,
            end_pos: None,
            from_place: Some("Home".into()),
            to_place: None,
            distance_m: 0.0,
            moving_ms: 0,
            max_speed_mps: 0.0,
            clips: 1,
            channels: Vec::new(),
            bytes: 0,
            downloaded_bytes: 0,
            gpx_path: None,
            updated_at: 0,
        };
        let pt = |t| TrackPoint {
            time_ms: t,
            lat: 1.0,
            lon: 2.0,
            speed_mps: 1.0,
            course_deg: 0.0,
        };
        let t0 = 1_774_742_400_000;
        let doc = gpx(
            &[row(2, t0 + 3_600_000), row(1, t0)],
            &[vec![pt(t0 + 3_600_000)], vec![pt(t0), pt(t0 + 1000)]],
            CameraClock::default(),
        );
        assert_eq!(doc.matches("<gpx ").count(), 1, "{doc}");
        assert_eq!(doc.matches("<trk>").count(), 2, "{doc}");
        assert_eq!(doc.matches("<trkpt").count(), 3, "{doc}");
        assert!(doc.trim_end().ends_with("</gpx>"));
        assert!(doc.contains("Home-unknown"));
        let empty = gpx(&[], &[], CameraClock::default());
        assert!(
            empty.contains("<gpx") && !empty.contains("<trk>"),
            "{empty}"
        );
    }
}
