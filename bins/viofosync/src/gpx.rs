//! `viofosync gpx FILE...`: extract GPS tracks from clips already on disk,
//! as a plain synchronous path (no async runtime, no configuration file).

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use time::UtcOffset;
use viofo_gps::{Format, Options};

use crate::errors::Exit;
use crate::stdout::{Out, errln};

/// Output format of `viofosync gpx`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OutFormat {
    /// GPX 1.1 (`<clip>.MP4.gpx`).
    #[default]
    Gpx,
    /// GeoJSON LineString (`<clip>.MP4.geojson`).
    Geojson,
}

/// Extract the GPS track of clips on disk and write `<clip>.MP4.gpx` beside each.
#[derive(clap::Args, Debug)]
pub(crate) struct GpxArgs {
    /// Clip files (MP4).
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Write the track(s) to standard output instead of sidecar files.
    #[arg(long)]
    pub(crate) stdout: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutFormat::Gpx)]
    pub(crate) format: OutFormat,
    /// The camera's UTC offset, for firmware that writes local time labelled as UTC (e.g. +02:00, -05:30).
    #[arg(long, value_name = "±HH:MM", value_parser = crate::config::parse_utc_offset, allow_hyphen_values = true)]
    pub(crate) utc_offset: Option<UtcOffset>,
    /// Keep every fix (turn the spike filter off).
    #[arg(long)]
    pub(crate) no_filter: bool,
}

/// Standard output for `--stdout`: one buffer in front of
/// [`crate::stdout::Out`], so the tracks of every file reach the reader in
/// a few large writes (one for a clip's track) instead of one per line,
/// under the rule of [`crate::stdout`]: once the reader is gone (a closed
/// pipe) the rest is dropped quietly, and any other failure (a full disk)
/// is remembered there.
fn track_out() -> BufWriter<Out> {
    BufWriter::with_capacity(64 * 1024, Out)
}

/// Run `viofosync gpx`. Exit code 1 when any file could not be read or
/// its sidecar could not be written (the other files are still done), or
/// standard output failed (a closed pipe is not a failure); a clip without
/// GPS, or a file that is not an MP4, is only reported on stderr. Called
/// from `main` before any async runtime exists.
pub(crate) fn run(args: &GpxArgs) -> ExitCode {
    let mut opts = Options::default().spike_filter(!args.no_filter);
    if let Some(off) = args.utc_offset {
        opts = opts.utc_offset(off);
    }
    let format = match args.format {
        OutFormat::Gpx => Format::Gpx,
        OutFormat::Geojson => Format::GeoJson,
    };
    let mut out = args.stdout.then(track_out);
    let mut failed = false;
    for file in &args.files {
        let track = match viofo_gps::extract_file(file, &opts) {
            Ok(t) => t,
            Err(e) if e.is_not_mp4() => {
                // Readable, just not a clip: no track, not an error.
                errln!("viofosync gpx: {}: no GPS ({e})", file.display());
                continue;
            }
            Err(e) => {
                errln!("viofosync gpx: {}: {e}", file.display());
                failed = true;
                continue;
            }
        };
        if track.points.is_empty() {
            let s = track.stats;
            errln!(
                "viofosync gpx: {}: no GPS fixes ({} blocks: {} without fix, {} invalid)",
                file.display(),
                s.blocks_seen,
                s.skipped_no_fix,
                s.dropped_invalid
            );
            continue;
        }
        if let Some(out) = out.as_mut() {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            // `Out` takes every byte, so an error here is the writer's own;
            // stdout's are remembered by `crate::stdout`.
            if let Err(e) =
                viofo_gps::write_track(&track.points, name.as_deref(), format, &mut *out)
            {
                errln!(
                    "viofosync gpx: writing the track of {}: {e}",
                    file.display()
                );
                return Exit::Other.into();
            }
        } else {
            let path = match viofo_gps::write_sidecar(file, &track.points, format) {
                Ok(p) => p,
                Err(e) => {
                    errln!(
                        "viofosync gpx: {}: writing the sidecar failed: {e}",
                        file.display()
                    );
                    failed = true;
                    continue;
                }
            };
            errln!(
                "viofosync gpx: {}: {} points -> {}",
                file.display(),
                track.points.len(),
                path.display()
            );
        }
    }
    if let Some(mut out) = out {
        // `Out` never fails; a failed stdout is in `stdout::failed`.
        let _ = out.flush();
        if crate::stdout::failed() {
            errln!("viofosync gpx: cannot write to standard output");
            failed = true;
        }
    }
    if failed {
        Exit::Other.into()
    } else {
        ExitCode::SUCCESS
    }
}
