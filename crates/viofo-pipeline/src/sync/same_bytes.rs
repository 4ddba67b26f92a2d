//! Before a delete: is the camera's clip the archived bytes? The same name
//! and size are not proof (a card formatted or a clock reset restarts the
//! names, and sizes repeat): the clip's last 64 KiB are read from the
//! camera and compared with the archived copy's.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

use viofo_client::{Client, Recording};

/// How much of the clip's end is compared.
const TAIL: u64 = 64 * 1024;

/// `Some(true)`: the camera's clip ends with the archived copy's bytes;
/// `Some(false)`: it does not (another recording); `None`: the camera
/// cannot be asked for a range (it answers Range with the whole clip), so
/// nothing could be compared (and nothing is deleted). An error (why): a read failed (try again later).
pub(super) async fn check(
    client: &Client,
    rec: &Recording,
    archived: &Path,
    size: u64,
) -> Result<Option<bool>, String> {
    let len = size.min(TAIL);
    if len == 0 {
        return Ok(Some(true));
    }
    let from = size - len;
    let camera = match client.read_range(rec, from, len).await {
        Ok(b) => b,
        Err(e) if e.is_range_ignored() => return Ok(None),
        Err(e) => return Err(format!("{e:#}")),
    };
    let path = archived.to_path_buf();
    let local = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut f = std::fs::File::open(&path)?;
        f.seek(SeekFrom::Start(from))?;
        let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
        f.read_exact(&mut buf)?;
        Ok(buf)
    })
    .await;
    match local {
        Ok(Ok(local)) => Ok(Some(camera.as_ref() == local.as_slice())),
        // The archived copy cannot be read now: no delete on bytes we
        // cannot see (asked again later).
        Ok(Err(e)) => Err(format!("reading {}: {e}", archived.display())),
        Err(e) => Err(format!("reading {}: {e}", archived.display())),
    }
}

/// The camera's clip begins with the archived copy's first bytes (up to
/// 64 KiB): the comparison a camera that ignores `Range` allows (the
/// body's start, the rest unread). An error (why): a read failed.
pub(super) async fn check_head(
    client: &Client,
    rec: &Recording,
    archived: &Path,
    size: u64,
) -> Result<bool, String> {
    let len = size.min(TAIL);
    if len == 0 {
        return Ok(true);
    }
    let camera = client
        .read_head(rec, len)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let path = archived.to_path_buf();
    let local = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut f = std::fs::File::open(&path)?;
        let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
        f.read_exact(&mut buf)?;
        Ok(buf)
    })
    .await
    .map_err(|e| format!("reading {}: {e}", archived.display()))?
    .map_err(|e| format!("reading {}: {e}", archived.display()))?;
    Ok(camera.as_ref() == local.as_slice())
}
