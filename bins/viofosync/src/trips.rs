//! `viofosync trips` (issue 12): the journeys the store knows, newest
//! first (`--since DATE`, `--format table|json|geojson|gpx`, `--rebuild`
//! recomputes them from the stored tracks first); `trips show ID`: one
//! journey's clips and their states.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use viofo_pipeline::CameraClock;
use viofo_pipeline::journeys::output::{clip_json, geojson, journey_json, span, write_gpx};
use viofo_pipeline::journeys::{SINCE_ACCEPTS, journey_track, rebuild_journeys, since_ms};
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
    /// Only journeys ending on or after this: today, yesterday, 7d (the
    /// last 7 days), a day (YYYY-MM-DD on the camera's clock) or an instant
    /// (RFC 3339).
    #[arg(long, value_name = "DATE", global = true)]
    since: Option<String>,
    /// Only this camera's journeys ([[camera]] id, or one the state
    /// database knows; default: the configured camera, or every camera).
    #[arg(long = "camera", value_name = "ID", global = true)]
    camera_filter: Option<String>,
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

/// `trips`.
pub(crate) async fn trips(l: &Loaded, args: &TripsArgs) -> Result<Exit> {
    crate::commands::known_camera(l, args.camera_filter.as_deref()).await?;
    let clock = l.settings.sync.camera_clock;
    let since = match args.since.as_deref() {
        None => None,
        Some(s) => match since_ms(s, clock, time::OffsetDateTime::now_utc()) {
            Some(ms) => Some(ms),
            None => {
                crate::stdout::errln!(
                    "viofosync: configuration error: --since {s:?}: expected {SINCE_ACCEPTS}"
                );
                return Ok(Exit::Config);
            }
        },
    };
    if args.rebuild {
        rebuild(l).await?;
    }
    if !state_db(l)?.exists() {
        if args.format == TripFormat::Table {
            outln!("no journeys yet (no state database)");
        } else {
            print(args.format, Vec::new(), clock)?;
        }
        return Ok(Exit::Success);
    }
    let Some(store) = open_existing_store(l).await? else {
        return Ok(Exit::Success);
    };
    let camera = args.camera_filter.clone().or_else(|| l.camera_id());
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
    let mut journeys = Vec::with_capacity(rows.len());
    for j in rows {
        let track = if matches!(format, TripFormat::Geojson | TripFormat::Gpx) {
            journey_track(store, j.id).await?
        } else {
            Vec::new()
        };
        journeys.push((j, track));
    }
    print(format, journeys, clock)?;
    Ok(Exit::Success)
}

/// Prints the journeys (with their merged tracks for GeoJSON and GPX): the
/// table here, the rest as the library renders it.
fn print(
    format: TripFormat,
    journeys: Vec<(JourneyRow, Vec<TrackPoint>)>,
    clock: CameraClock,
) -> Result<()> {
    match format {
        TripFormat::Table => {
            let rows: Vec<JourneyRow> = journeys.into_iter().map(|(j, _)| j).collect();
            table(&rows, clock);
        }
        TripFormat::Json => {
            let v: Vec<Value> = journeys.iter().map(|(j, _)| journey_json(j)).collect();
            outln!("{}", Value::Array(v));
        }
        TripFormat::Geojson => outln!("{}", geojson(&journeys)),
        TripFormat::Gpx => {
            let mut buf = Vec::new();
            write_gpx(&journeys, clock, &mut buf).context("writing the GPX document")?;
            out!("{}", String::from_utf8_lossy(&buf));
        }
    }
    Ok(())
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
            let cs: Vec<Value> = clips.iter().map(clip_json).collect();
            let mut v = journey_json(&j);
            if let Some(o) = v.as_object_mut() {
                o.insert("clip_list".into(), Value::Array(cs));
            }
            outln!("{v}");
        }
        TripFormat::Geojson | TripFormat::Gpx => {
            let t = journey_track(store, j.id).await?;
            print(format, vec![(j, t)], clock)?;
        }
    }
    Ok(Exit::Success)
}
