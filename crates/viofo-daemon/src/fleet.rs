//! Several cameras watched at once on one store ([`Fleet`]), each with its
//! own syncer, back-off, status model and surfaces.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument as _;
use viofo_client::Client;
use viofo_pipeline::{
    CycleSummary, Event, EventSink as _, Shutdown, SyncConfig, Syncer, WatchControl, Watcher,
};
use viofo_status::{NoPersistence, StatusConfig, StatusModel};
use viofo_store::Store;

use crate::serve::{Surfaces, serve};

/// Where a camera's events go besides its status model (a terminal's
/// progress, a log).
type Sink = Arc<dyn Fn(Event) + Send + Sync>;

/// One camera of a [`Fleet`]: how to reach it, how to sync it, and what
/// shows it.
pub struct Camera {
    client: Client,
    config: SyncConfig,
    status: Option<StatusModel>,
    events: Option<Sink>,
    surfaces: Surfaces,
}

impl std::fmt::Debug for Camera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Camera")
            .field("camera_id", &self.config.camera_id)
            .field("archive", &self.config.archive)
            .field("surfaces", &self.surfaces)
            .finish_non_exhaustive()
    }
}

impl Camera {
    /// The camera `client` reaches, synced as `config` says (its
    /// `camera_id` names it in the store, its `archive` is its own folder).
    /// Its status model keeps no sticky errors across runs until
    /// [`Camera::status`] gives one that does; it has no surface until
    /// [`Camera::surfaces`].
    pub fn new(client: Client, config: SyncConfig) -> Self {
        Self {
            client,
            config,
            status: None,
            events: None,
            surfaces: Surfaces::none(),
        }
    }

    /// Its status model (e.g. with a `StickyFile` beside the store).
    #[must_use]
    pub fn status(mut self, status: StatusModel) -> Self {
        self.status = Some(status);
        self
    }

    /// Also sends its events to `sink`.
    #[must_use]
    pub fn events(mut self, sink: impl Fn(Event) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(sink));
        self
    }

    /// Its status server and MQTT device.
    #[must_use]
    pub fn surfaces(mut self, surfaces: Surfaces) -> Self {
        self.surfaces = surfaces;
        self
    }

    /// Its camera id.
    pub fn id(&self) -> &str {
        &self.config.camera_id
    }
}

/// Several cameras watched at once on one store: each its own syncer
/// (client, connection limit, back-off, state), its own [`Watcher`] (one
/// camera away never delays another), status model and surfaces, its log
/// lines in a `camera` span; all stopped by one injected [`Shutdown`],
/// each one alone by its [`WatchControl`].
///
/// `examples/fleet.rs` runs two simulated cameras with their status pages
/// and MQTT devices.
pub struct Fleet {
    store: Store,
    interval: Duration,
    shutdown: Shutdown,
    members: Vec<Member>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("interval", &self.interval)
            .field("cameras", &self.members.len())
            .finish_non_exhaustive()
    }
}

/// A camera added, ready to run.
struct Member {
    watcher: Watcher,
    status: StatusModel,
    surfaces: Surfaces,
}

/// How one camera's watch ended.
#[derive(Debug)]
pub struct CameraEnd {
    /// Its camera id.
    pub id: String,
    /// Its status model (the last cycle, the sticky errors).
    pub status: StatusModel,
    /// `Ok` when stopped; the error a later cycle could not fix otherwise.
    pub result: viofo_pipeline::Result<()>,
}

impl Fleet {
    /// No camera yet; each added camera waits `interval` between cycles,
    /// and all stop when `shutdown` asks.
    pub fn new(store: Store, interval: Duration, shutdown: &Shutdown) -> Self {
        Self {
            store,
            interval,
            shutdown: shutdown.clone(),
            members: Vec::new(),
        }
    }

    /// Adds a camera; its syncer is made now, on the fleet's store (an
    /// unusable sync configuration is an error here). Returns the handle
    /// that pauses, resumes, syncs now and stops it alone.
    pub fn add(&mut self, camera: Camera) -> viofo_pipeline::Result<WatchControl> {
        let status = camera.status.unwrap_or_else(|| {
            StatusModel::new(
                StatusConfig::new(&camera.config.camera_id, &camera.config.archive),
                NoPersistence,
            )
        });
        let sink = {
            let (status, extra) = (status.clone(), camera.events);
            move |e: Event| match &extra {
                Some(extra) => {
                    status.emit(e.clone());
                    extra(e);
                }
                None => status.emit(e),
            }
        };
        let syncer = Syncer::new(camera.client, self.store.clone(), camera.config, sink)?;
        let watcher = Watcher::new(syncer, self.interval, &self.shutdown);
        let control = watcher.control();
        self.members.push(Member {
            watcher,
            status,
            surfaces: camera.surfaces,
        });
        Ok(control)
    }

    /// Its cameras' ids, in the order they were added.
    pub fn ids(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|m| m.watcher.syncer().config().camera_id.clone())
            .collect()
    }

    /// Runs one cycle of every camera at once (`sync` of several cameras),
    /// each in its `camera` span, stopped by the fleet's shutdown; returns
    /// each camera's id and how its cycle ended, in the order they were
    /// added.
    pub async fn sync_once(&self) -> Vec<(String, viofo_pipeline::Result<CycleSummary>)> {
        let runs = self.members.iter().map(|m| {
            let syncer = m.watcher.syncer();
            let id = syncer.config().camera_id.clone();
            let span = tracing::info_span!("camera", id = %id);
            async move { (id, syncer.run_cycle(&self.shutdown).await) }.instrument(span)
        });
        futures_util::future::join_all(runs).await
    }

    /// Watches every camera at once (see [`serve`]) until each has stopped;
    /// returns how each ended, in the order they were added. The store
    /// stays open (the caller closes it).
    pub async fn run(self) -> Vec<CameraEnd> {
        let store = self.store;
        // Every camera's page shows them all.
        let all: Vec<StatusModel> = self.members.iter().map(|m| m.status.clone()).collect();
        let runs = self.members.into_iter().map(|mut m| {
            if let Some((_, cfg)) = &mut m.surfaces.server {
                *cfg = cfg.clone().with_cameras(all.clone());
            }
            let id = m.watcher.syncer().config().camera_id.clone();
            let span = tracing::info_span!("camera", id = %id);
            let store = store.clone();
            async move {
                let result = Box::pin(serve(m.watcher, &store, m.status.clone(), m.surfaces)).await;
                CameraEnd {
                    id,
                    status: m.status,
                    result,
                }
            }
            .instrument(span)
        });
        futures_util::future::join_all(runs).await
    }
}

/// The status server address of the `index`-th camera (from 0) when every
/// camera serves on the port after the one before: `listen`'s port plus
/// `index`. `None` when no port is left.
pub fn nth_port(listen: SocketAddr, index: usize) -> Option<SocketAddr> {
    let port = u16::try_from(index)
        .ok()
        .and_then(|i| listen.port().checked_add(i))?;
    Some(SocketAddr::new(listen.ip(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_camera_serves_on_the_next_port_while_there_is_one() {
        let a: SocketAddr = "127.0.0.1:8740".parse().unwrap();
        assert_eq!(nth_port(a, 0), Some(a));
        assert_eq!(nth_port(a, 2).unwrap().port(), 8742);
        let top: SocketAddr = "127.0.0.1:65534".parse().unwrap();
        assert_eq!(nth_port(top, 1).unwrap().port(), 65535);
        assert_eq!(nth_port(top, 2), None);
        assert_eq!(nth_port(a, usize::MAX), None);
    }
}
