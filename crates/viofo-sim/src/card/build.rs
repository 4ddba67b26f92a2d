//! Clips made for the card: from a [`ClipDef`], from a [`ClipSpec`]'s
//! synthetic series, or from the files of a card folder.

use time::PrimitiveDateTime;
use viofo_gps::fixture::{Route, splitmix64};

use super::{Body, Clip};
use crate::body::Synth;
use crate::config::{ClipDef, ClipSpec, DefBody, Folder};
use crate::error::{ErrorKind, SimError};
use crate::names::{hash_name, name_time, parse_name_time};

pub(super) fn from_def(def: &ClipDef, seed: u64, start: PrimitiveDateTime) -> Clip {
    // A clip sharing its name with another gets distinct content.
    let seed = if def.same_name {
        splitmix64(seed ^ hash_name(def.folder.url_dir()))
    } else {
        seed
    };
    // Another recording under a reused name gets its own content.
    let seed = if def.variant == 0 {
        seed
    } else {
        splitmix64(seed ^ def.variant.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    };
    let (body, size) = match &def.body {
        DefBody::Bytes(b) => (Body::Bytes(b.clone()), b.len() as u64),
        DefBody::Synthetic { size, gps } => {
            let route = gps.then(|| Route::from_seed(seed, start));
            let s = Synth::for_size(seed, *size, def.duration.as_secs(), route, start);
            (Body::Synth(s), *size)
        }
    };
    Clip {
        id: 0,
        name: def.name.clone(),
        folder: def.folder,
        size,
        start,
        end: start + def.duration,
        body,
        growing: false,
        read_only: false,
        same_name: def.same_name,
    }
}

pub(super) fn synthetic(spec: &ClipSpec, seed: u64, out: &mut Vec<Clip>) {
    let track = Route::from_seed(seed, spec.start);
    let secs = spec.duration.as_secs();
    for i in 0..spec.count {
        let start = spec.start + spec.duration * u32::try_from(i).unwrap_or(u32::MAX);
        let seq = spec
            .first_seq
            .saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        let nth = |k: usize| k > 0 && (i + 1) % k == 0;
        let parking = nth(spec.parking_every);
        let folder = if nth(spec.locked_every) {
            Folder::Ro
        } else if parking {
            Folder::Parking
        } else {
            Folder::Movie
        };
        let letter = if parking { "P" } else { "" };
        let r = splitmix64(seed ^ (i as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let span = spec.size_max - spec.size;
        let front = spec.size + if span > 0 { r % (span + 1) } else { 0 };
        let mut cams = vec![('F', front)];
        if spec.rear {
            cams.push(('R', spec.rear_size.unwrap_or(front)));
        }
        for (cam, size) in cams {
            let name = format!("{}_{seq:06}{letter}{cam}.MP4", name_time(start));
            let cseed = splitmix64(seed ^ hash_name(&name));
            let synth = Synth::for_size(cseed, size, secs, spec.gps.then_some(track), start);
            out.push(Clip {
                id: 0,
                name,
                folder,
                size,
                start,
                end: start + spec.duration,
                body: Body::Synth(synth),
                growing: false,
                read_only: false,
                same_name: false,
            });
        }
    }
}

pub(super) fn scan_dir(root: &std::path::Path, out: &mut Vec<Clip>) -> Result<(), SimError> {
    let io = |e| SimError::new(ErrorKind::Io(e));
    fs_err::metadata(root).map_err(io)?;
    for folder in Folder::ALL {
        let dir = root.join(folder.card_dir());
        let Ok(entries) = fs_err::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.map_err(io)?;
            let path = entry.path();
            let meta = fs_err::metadata(&path).map_err(io)?;
            if !meta.is_file() {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                tracing::warn!(path = %path.display(), "skipping a file whose name is not UTF-8");
                continue;
            };
            let mtime = meta
                .modified()
                .ok()
                .map(|t| {
                    let t = time::OffsetDateTime::from(t);
                    PrimitiveDateTime::new(t.date(), t.time())
                })
                .unwrap_or(time::macros::datetime!(2025-12-24 12:00:00));
            let start = parse_name_time(&name).unwrap_or(mtime - time::Duration::minutes(1));
            out.push(Clip {
                id: 0,
                name,
                folder,
                size: meta.len(),
                start,
                end: start + time::Duration::minutes(1),
                body: Body::File(path),
                growing: false,
                read_only: false,
                same_name: false,
            });
        }
    }
    Ok(())
}
