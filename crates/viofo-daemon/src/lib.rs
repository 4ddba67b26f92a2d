//! viofo-daemon: what `viofosync watch` runs, as a library, for one camera
//! or several.
//!
//! - [`serve`] runs one camera's [`Watcher`](viofo_pipeline::Watcher) with
//!   its [`Surfaces`] beside it: the status model's refresh, the status
//!   server (page, `/api/status`, `/metrics`) and the Home Assistant device
//!   over MQTT, whose buttons (sync now, pause, resume, retry failed) reach
//!   the watcher's [`WatchControl`](viofo_pipeline::WatchControl) and the
//!   store.
//! - [`Fleet`] watches several [`Camera`]s at once on one store, each with
//!   its own syncer, back-off, status model and surfaces; one injected
//!   [`Shutdown`](viofo_pipeline::Shutdown) stops them all (a first request
//!   drains, a second aborts), each camera's control stops it alone.
//!
//! - [`stop_on_signals`] turns SIGINT/SIGTERM into requests to the
//!   [`Shutdown`](viofo_pipeline::Shutdown): the first drains, the second
//!   aborts.
//!
//! The watch loop itself (pause, resume, sync now, back-off) is
//! [`viofo_pipeline::Watcher`]; the status model is
//! [`viofo_status::StatusModel`]; MQTT is [`viofo_mqtt::run`].
//!
//! ```no_run
//! use std::time::Duration;
//! use viofo_client::{Client, ClientConfig};
//! use viofo_daemon::{Camera, Fleet, Surfaces};
//! use viofo_pipeline::{Shutdown, SyncConfig};
//! use viofo_status::ServerConfig;
//! use viofo_store::{Store, StoreOptions};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::open(StoreOptions::at("/srv/dashcam/state.db")).await?;
//! let shutdown = Shutdown::new();
//! let mut fleet = Fleet::new(store.clone(), Duration::from_secs(60), &shutdown);
//! for (id, url, port) in [("front", "http://192.168.1.254", 8740), ("rear", "http://192.168.1.253", 8741)] {
//!     let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
//!     let surfaces = Surfaces::none()
//!         .with_server(listener, ServerConfig::default())
//!         .with_mqtt(viofo_mqtt::MqttConfig::new("mqtt://127.0.0.1:1883"));
//!     let client = Client::new(ClientConfig::new(url))?;
//!     let config = SyncConfig::new(id, format!("/srv/dashcam/{id}"));
//!     fleet.add(Camera::new(client, config).surfaces(surfaces))?;
//! }
//! viofo_daemon::stop_on_signals(shutdown.clone(), true);
//! for end in fleet.run().await {
//!     println!("{}: {:?}", end.id, end.result);
//! }
//! store.close().await?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod fleet;
mod serve;
mod signals;

pub use fleet::{Camera, CameraEnd, Fleet, nth_port};
pub use serve::{Surfaces, serve};
pub use signals::stop_on_signals;
