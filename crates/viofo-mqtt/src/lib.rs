//! viofo-mqtt: `viofosync watch` in Home Assistant, over MQTT.
//!
//! [`run`] keeps one connection to an MQTT broker (client: `rumqttc`) for the
//! camera of a [`viofo_status::StatusModel`] and publishes, all retained:
//!
//! - **Discovery** under `<discovery_prefix>/<component>/<node>_<camera>/<object>/config`
//!   ([`discovery_messages`]): one device per camera, `Viofo <model>`
//!   (model and firmware from the status snapshot, a link to the status
//!   page), with stable entity ids (`sensor.dashcam_…`): sensors for the
//!   sync state, the problem, clips pending and failed, the current clip,
//!   download and sync progress, time left and speeds (MB/s), disk used,
//!   the last successful sync and the last journey (timestamps, distance)
//!   and the last command's answer; a binary sensor "camera online"; a
//!   "Paused" switch; buttons sync now, pause, resume and retry failed
//!   (the list: docs/STATUS.md). The retained discovery of a camera no
//!   longer configured is removed.
//! - **Availability** on `<node>/<camera>/availability`: `online` on each
//!   connection, `offline` on a clean stop and as the last will.
//! - **State** on `<node>/<camera>/state`: one JSON document
//!   ([`StatePayload`]) the entities read their values from, published on
//!   change, at most once a second while only the figures of a download
//!   change, and not before the camera's first probe (a restart never
//!   replaces the retained state with placeholders); the last successful
//!   sync and the newest journey ([`JourneyPayload`]) on their own
//!   retained topics, once known.
//!
//! A button publishes the action's name (`sync-now`, `pause`, `resume`,
//! `retry-failed`) on `<node>/<camera>/command`; it reaches the embedding
//! program as a [`viofo_status::Action`] through its
//! [`viofo_status::ActionHandler`] (a bounded `mpsc::Sender<Action>` is one).
//! Nothing else is reachable over MQTT.
//!
//! **Never in the way.** The task reads the model (a cheap snapshot every
//! 250 ms); nothing pushes into it, so a broker that is down cannot slow the
//! sync. Publications go through a bounded queue without waiting: when it is
//! full the newest state is retried on the next poll and older ones are
//! dropped. A broker that is away is retried with back-off (1 s doubling to
//! 60 s, starting over after a connection that lasted 60 s). The password is
//! never logged and `Debug` shows it as `***`.
//!
//! ```
//! use viofo_mqtt::{MqttConfig, run};
//! use viofo_status::{Action, NoPersistence, StatusConfig, StatusModel};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), viofo_mqtt::Error> {
//! let status = StatusModel::new(StatusConfig::new("cam-1", "/srv/dashcam"), NoPersistence);
//! let config = MqttConfig::new("mqtt://127.0.0.1:1883").with_credentials("viofosync", "secret");
//! assert!(format!("{config:?}").contains("***"));
//! let (actions, mut asked) = tokio::sync::mpsc::channel::<Action>(8);
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let mqtt = tokio::spawn(run(config, status.clone(), actions, async {
//!     let _ = stopped.await;
//! }));
//! // ... the embedding program receives button presses from `asked` ...
//! # assert!(asked.try_recv().is_err());
//! let _ = stop.send(());
//! mqtt.await.expect("the MQTT task")?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod command;
mod config;
mod discovery;
mod error;
mod orphans;
mod run;
mod state;
mod tls;

pub use command::{Ignored, MAX_COMMAND, command_action};
pub use config::{Broker, DEFAULT_PORT, DEFAULT_TLS_PORT, MqttConfig};
pub use discovery::{ENTITY_COUNT, OFFLINE, ONLINE, Topics, device_name, discovery_messages};
pub use error::{Error, Result};
pub use run::run;
pub use state::{JourneyPayload, StatePayload};
