//! The tail's upload step for an archive on object storage: a staged clip
//! and its sidecars go to the bucket before the clip may join the pending
//! deletes; the staged copy goes once the clip's tail is done.

use std::path::Path;

use super::tail::TailJob;
use super::{Cycle, Syncer};

impl Syncer {
    /// Uploads the clip and its sidecars when the archive is on object
    /// storage (true at once otherwise). Returns `false` when the clip is
    /// not complete in the bucket: its tail stays unfinished (the clip
    /// staged and on the camera), and the next run uploads it.
    pub(super) async fn tail_upload(&self, cx: &Cycle, job: &TailJob) -> bool {
        #[cfg(feature = "s3")]
        {
            // Boxed: the upload's state stays off the cycle's future.
            Box::pin(self.upload_staged(cx, job)).await
        }
        #[cfg(not(feature = "s3"))]
        {
            let _ = (cx, job);
            true
        }
    }

    #[cfg(feature = "s3")]
    async fn upload_staged(&self, cx: &Cycle, job: &TailJob) -> bool {
        {
            let s = &*self.inner;
            let Some(obj) = s.archive.object() else {
                return true;
            };
            let Some(key) = job
                .path
                .strip_prefix(s.archive.root())
                .ok()
                .and_then(|rel| obj.key_for(rel))
            else {
                tracing::error!(
                    "{}: staged at {}, outside the staging folder: not uploaded",
                    job.name,
                    job.path.display()
                );
                cx.st().counters.upload_failures += 1;
                return false;
            };
            if fs_err::tokio::metadata(&job.path).await.is_err() {
                // Removed after its upload was checked and its tail recorded
                // done, a crash before the record committed: the object is
                // what is left.
                return match obj.exists(&key).await {
                    Ok(true) => true,
                    Ok(false) | Err(_) => {
                        tracing::error!(
                            "{}: its staged copy is gone and {key} is not in the bucket",
                            job.name
                        );
                        cx.st().counters.upload_failures += 1;
                        false
                    }
                };
            }
            let up = match obj.upload(&job.path, &key).await {
                Ok(up) => up,
                Err(e) => {
                    tracing::warn!(
                        "{}: not uploaded ({e}); it stays staged and on the camera, uploaded next run",
                        job.name
                    );
                    cx.st().counters.upload_failures += 1;
                    return false;
                }
            };
            if up.existed {
                tracing::info!(
                    "{}: already in the bucket as {} (same size and ETag)",
                    job.name,
                    up.key
                );
            } else {
                tracing::debug!("{}: uploaded as {} ({})", job.name, up.key, up.etag);
            }
            for f in [viofo_gps::Format::Gpx, viofo_gps::Format::GeoJson] {
                let side = viofo_gps::sidecar_path(&job.path, f);
                if !fs_err::tokio::metadata(&side)
                    .await
                    .is_ok_and(|m| m.is_file())
                {
                    continue;
                }
                let ext = sidecar_suffix(&job.path, &side);
                if let Err(e) = obj.upload_sidecar(&side, &format!("{}{ext}", up.key)).await {
                    tracing::warn!(
                        "{}: sidecar not uploaded ({e}); uploaded next run",
                        job.name
                    );
                    cx.st().counters.upload_failures += 1;
                    return false;
                }
            }
            true
        }
    }

    /// The clip's tail is done (`done`, the store's write saying so): with
    /// an object archive, once that write is durable, its staged copy and
    /// sidecars leave the staging folder (a failure is only logged).
    /// Otherwise the write is only submitted.
    pub(super) async fn unstage(&self, done: viofo_store::Ack<()>, path: &Path) {
        #[cfg(feature = "s3")]
        {
            let archive = std::sync::Arc::clone(&self.inner.archive);
            if archive.object().is_none() {
                return done.submit();
            }
            if let Err(e) = done.await {
                tracing::warn!("{}: could not record its tail done: {e}", path.display());
                return;
            }
            let p = path.to_path_buf();
            let r = Box::pin(tokio::task::spawn_blocking(move || {
                archive.remove_staged(&p)
            }))
            .await;
            if let Ok(Err(e)) = r {
                tracing::warn!("could not remove the staged {}: {e}", path.display());
            }
        }
        #[cfg(not(feature = "s3"))]
        {
            let _ = path;
            done.submit();
        }
    }
}

/// `.gpx` for `<clip>.gpx` beside `<clip>`.
#[cfg(feature = "s3")]
fn sidecar_suffix(clip: &Path, side: &Path) -> String {
    let c = clip.file_name().unwrap_or_default().to_string_lossy();
    let s = side.file_name().unwrap_or_default().to_string_lossy();
    s.strip_prefix(c.as_ref()).unwrap_or(".gpx").to_owned()
}
