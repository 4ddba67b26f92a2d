//! The MQTT task ([`run`]): one connection to the broker, reconnected with
//! back-off, that publishes discovery, availability and state from the
//! status model and hands button presses to the embedding program. Nothing
//! here ever waits on the network on anyone else's path.

use std::future::Future;
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, Outgoing, Packet, QoS, Transport,
};
use tokio::sync::mpsc;
use viofo_status::{Action, ActionHandler, StatusModel, StatusSnapshot, SyncState};

use crate::config::{Broker, MqttConfig};
use crate::discovery::{OFFLINE, ONLINE, Topics, discovery_messages, slug};
use crate::error::Result;
use crate::orphans::Orphans;
use crate::state::{JourneyPayload, StatePayload, Throttle, probed};

/// Requests the client holds for the connection at most. A full queue
/// refuses new publications at once (they are retried with the newest
/// state on the next poll); it never makes the caller wait.
const QUEUE: usize = 64;
/// How long a clean stop waits to say `offline` before it drops the
/// connection (the broker's last will says it otherwise).
const GOODBYE: Duration = Duration::from_secs(1);
/// Largest packet taken from the broker. The client drops the connection
/// on a bigger one, so it is well above any command: a stray big message
/// on the command topic is read and ignored, not a reconnect loop (and a
/// retained one is cleared at each connection, see [`Publisher::announce`]).
const MAX_INCOMING: usize = 1024 * 1024;

/// Runs the MQTT surface for the camera of `status` until `shutdown`
/// completes: connects to the broker (retrying with back-off while it is
/// away; the waits double from `reconnect_min` to `reconnect_max` and start
/// over after a connection that lasted `stable_after`), and on each
/// connection subscribes to the command topic and publishes the discovery
/// configuration, `online` and the state, all retained. The state is
/// republished when it changes (see [`StatePayload`]); button presses
/// reach `actions` as [`Action`]s. On shutdown it publishes `offline` and
/// disconnects (waiting at most 1 s).
///
/// Only a configuration that is not usable is an error, returned at once;
/// a broker that is down or refuses the connection is logged and retried.
pub async fn run<A, S>(
    config: MqttConfig,
    status: StatusModel,
    actions: A,
    shutdown: S,
) -> Result<()>
where
    A: ActionHandler,
    S: Future<Output = ()>,
{
    let broker = config.validate()?;
    let camera = status.config().camera_id.clone();
    let topics = Topics::new(&config, &camera);
    let client_id = config
        .client_id
        .clone()
        .unwrap_or_else(|| format!("{}-{}", config.node_id, slug(&camera)));
    let mut opts = MqttOptions::new(client_id, broker.host.clone(), broker.port);
    opts.set_keep_alive(config.keep_alive)
        .set_clean_session(true)
        .set_max_packet_size(MAX_INCOMING, 256 * 1024)
        .set_last_will(LastWill::new(
            &topics.availability,
            OFFLINE,
            QoS::AtLeastOnce,
            true,
        ));
    if let Some(user) = &config.username {
        opts.set_credentials(user.clone(), config.password.clone().unwrap_or_default());
    }
    if broker.tls {
        opts.set_transport(Transport::tls_with_config(crate::tls::client_config(
            config.ca_file.as_deref(),
        )?));
    }
    let (client, mut eventloop) = AsyncClient::new(opts, QUEUE);
    eventloop.network_options.set_connection_timeout(5);

    let (tx, mut rx) = mpsc::channel(16);
    let backoff = Backoff::new(
        config.reconnect_min,
        config.reconnect_max,
        config.stable_after,
    );
    let orphans = Orphans::new(&config, &camera);
    let mut driver = tokio::spawn(drive(
        eventloop,
        tx,
        backoff,
        broker,
        topics.command.clone(),
        orphans,
    ));
    let mut publisher = Publisher {
        client,
        topics,
        config: config.clone(),
        connected: false,
        sync_due: false,
        device: None,
        throttle: Throttle::new(config.state_min_gap),
        last_sync: None,
        sent_last_sync: None,
        sent_journey: None,
        hold_until: Some(Instant::now() + config.first_probe_wait),
        cleared: std::collections::HashSet::new(),
        refused: 0,
    };
    let mut tick = tokio::time::interval(config.poll_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            link = rx.recv() => match link {
                Some(Link::Up) => publisher.connected(&status.snapshot()),
                Some(Link::Down) => publisher.connected = false,
                Some(Link::Command(action)) => publisher.command(action, &actions, &status.snapshot()),
                Some(Link::Orphan(o)) => publisher.remove_orphan(&o),
                None => {
                    tracing::error!("MQTT connection task ended; MQTT stays off");
                    break;
                }
            },
            _ = tick.tick() => publisher.tick(&status.snapshot(), Instant::now()),
        }
    }
    if publisher.connected {
        let said = publisher
            .client
            .try_publish(
                &publisher.topics.availability,
                QoS::AtLeastOnce,
                true,
                OFFLINE,
            )
            .and_then(|()| publisher.client.try_disconnect());
        if said.is_ok() && tokio::time::timeout(GOODBYE, &mut driver).await.is_ok() {
            return Ok(());
        }
    }
    driver.abort();
    Ok(())
}

/// What the connection task tells the publishing loop.
#[derive(Debug)]
enum Link {
    /// Connected (a ConnAck was received).
    Up,
    /// The connection was lost.
    Down,
    /// A message on the command topic.
    Command(Action),
    /// A retained discovery message this program no longer publishes.
    Orphan(crate::orphans::Orphan),
}

/// Drives the client's event loop: reconnects with back-off and forwards
/// connections, losses and commands. Ends when the publishing loop is gone
/// or after a clean disconnect.
async fn drive(
    mut eventloop: EventLoop,
    tx: mpsc::Sender<Link>,
    mut backoff: Backoff,
    broker: Broker,
    command_topic: String,
    orphans: Orphans,
) {
    let mut connected_at: Option<Instant> = None;
    let mut failures = 0u32;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                tracing::info!(broker = %broker, "MQTT connected");
                connected_at = Some(Instant::now());
                failures = 0;
                if tx.send(Link::Up).await.is_err() {
                    return;
                }
            }
            // A retained command is an old one (a retained `pause` would
            // pause every start): never acted on; nor an oversized one.
            Ok(Event::Incoming(Packet::Publish(p))) if p.topic == command_topic => {
                match crate::command::command_action(p.retain, &p.payload) {
                    Ok(action) => {
                        if tx.send(Link::Command(action)).await.is_err() {
                            return;
                        }
                    }
                    Err(why @ crate::command::Ignored::Retained) => tracing::info!(
                        bytes = p.payload.len(),
                        "MQTT command ignored: {}",
                        why.as_str()
                    ),
                    Err(why) => tracing::warn!(
                        bytes = p.payload.len(),
                        "MQTT command ignored: {}",
                        why.as_str()
                    ),
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                if let Some(o) = orphans.check(&p.topic, p.retain, p.payload.is_empty())
                    && tx.send(Link::Orphan(o)).await.is_err()
                {
                    return;
                }
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(e) => {
                let lasted = connected_at.take().map(|t| t.elapsed());
                let wait = backoff.failed(lasted);
                failures = failures.saturating_add(1);
                if lasted.is_some() {
                    tracing::warn!(broker = %broker, "MQTT connection lost: {e}; reconnecting in {wait:?}");
                    if tx.send(Link::Down).await.is_err() {
                        return;
                    }
                } else if failures == 1 {
                    tracing::warn!(broker = %broker, "MQTT broker not reachable: {e}; retrying in {wait:?}");
                } else {
                    tracing::debug!(broker = %broker, failures, "MQTT broker still not reachable: {e}; retrying in {wait:?}");
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Publishes discovery, availability and state through the client's bounded
/// queue, never waiting: what does not fit is retried on the next poll with
/// the newest state (older states are dropped, never queued).
struct Publisher {
    client: AsyncClient,
    topics: Topics,
    config: MqttConfig,
    connected: bool,
    /// The subscription, discovery and `online` still have to be handed over.
    sync_due: bool,
    /// Model and firmware the published discovery names.
    device: Option<(Option<String>, Option<String>)>,
    throttle: Throttle,
    last_sync: Option<String>,
    /// The last successful sync and the journey as published on their own
    /// topics (`None`: not yet on this connection).
    sent_last_sync: Option<String>,
    sent_journey: Option<JourneyPayload>,
    /// Until the camera's first probe (or this instant), no state is
    /// published (`None`: the state is published).
    hold_until: Option<Instant>,
    /// Cameras whose retained topics were emptied.
    cleared: std::collections::HashSet<String>,
    /// Publications refused by a full queue (for the log).
    refused: u64,
}

impl Publisher {
    fn connected(&mut self, snapshot: &StatusSnapshot) {
        self.connected = true;
        self.sync_due = true;
        self.throttle.reset();
        self.sent_last_sync = None;
        self.sent_journey = None;
        self.tick(snapshot, Instant::now());
    }

    fn tick(&mut self, snapshot: &StatusSnapshot, now: Instant) {
        let device = (
            snapshot.camera.model.clone(),
            snapshot.camera.firmware.clone(),
        );
        if !self.connected {
            return;
        }
        if self.sync_due || self.device.as_ref() != Some(&device) {
            match self.announce(snapshot) {
                Ok(()) => {
                    self.sync_due = false;
                    self.device = Some(device);
                }
                Err(e) => {
                    self.refused += 1;
                    tracing::debug!(refused = self.refused, "MQTT discovery deferred: {e}");
                    return;
                }
            }
        }
        let state = StatePayload::from_snapshot(snapshot, self.last_sync.as_deref());
        self.last_sync.clone_from(&state.last_sync);
        self.side_topics(snapshot);
        if let Some(until) = self.hold_until {
            if probed(snapshot) || snapshot.state == SyncState::Paused || now >= until {
                self.hold_until = None;
            } else {
                return;
            }
        }
        if !self.throttle.due(&state, now) {
            return;
        }
        match self
            .client
            .try_publish(&self.topics.state, QoS::AtLeastOnce, true, state.to_json())
        {
            Ok(()) => self.throttle.sent(state, now),
            Err(e) => {
                self.refused += 1;
                tracing::debug!(refused = self.refused, "MQTT state deferred: {e}");
            }
        }
    }

    /// The last successful sync and the newest journey, each on its own
    /// retained topic, once known and when they change: never a
    /// placeholder over a value Home Assistant has.
    fn side_topics(&mut self, snapshot: &StatusSnapshot) {
        if let Some(at) = &self.last_sync
            && self.sent_last_sync.as_ref() != Some(at)
        {
            let topic = &self.topics.last_sync;
            match self
                .client
                .try_publish(topic, QoS::AtLeastOnce, true, at.clone())
            {
                Ok(()) => self.sent_last_sync = Some(at.clone()),
                Err(e) => tracing::debug!("MQTT last sync deferred: {e}"),
            }
        }
        if let Some(j) = JourneyPayload::from_snapshot(snapshot)
            && self.sent_journey.as_ref() != Some(&j)
        {
            let topic = &self.topics.journey;
            match self
                .client
                .try_publish(topic, QoS::AtLeastOnce, true, j.to_json())
            {
                Ok(()) => self.sent_journey = Some(j),
                Err(e) => tracing::debug!("MQTT journey deferred: {e}"),
            }
        }
    }

    /// A button press (the payload named an [`Action`], see
    /// [`command_action`](crate::command_action)); what became of it is
    /// said on the result topic ("Last command").
    fn command(&self, action: Action, actions: &impl ActionHandler, snapshot: &StatusSnapshot) {
        let said = match actions.handle(action) {
            Ok(()) => {
                tracing::info!(action = action.as_str(), "MQTT: action asked for");
                if action == Action::SyncNow && snapshot.state == SyncState::Paused {
                    "sync now: nothing done while paused; resume first".to_owned()
                } else {
                    format!("{}: asked", action.as_str())
                }
            }
            Err(e) => {
                tracing::warn!(action = action.as_str(), "MQTT action not taken: {e}");
                format!("{}: not taken ({e})", action.as_str())
            }
        };
        if let Err(e) = self
            .client
            .try_publish(&self.topics.result, QoS::AtLeastOnce, false, said)
        {
            tracing::debug!("MQTT command result not sent: {e}");
        }
    }

    /// Empties a retained discovery message this program no longer
    /// publishes (Home Assistant then removes the entity, and a device
    /// left without entities), and the retained topics of a camera no
    /// longer configured.
    fn remove_orphan(&mut self, o: &crate::orphans::Orphan) {
        let mut topics = vec![o.topic.clone()];
        if let Some(cam) = &o.camera
            && self.cleared.insert(cam.clone())
        {
            let node = &self.config.node_id;
            for leaf in ["availability", "state", "last_sync", "journey"] {
                topics.push(format!("{node}/{cam}/{leaf}"));
            }
            tracing::info!(
                camera = cam.as_str(),
                "removing a camera that is no longer configured from Home Assistant"
            );
        }
        for t in topics {
            if let Err(e) = self
                .client
                .try_publish(t, QoS::AtLeastOnce, true, Vec::new())
            {
                tracing::debug!("MQTT orphan removal deferred: {e}");
            }
        }
    }

    /// Clears any retained message on the command topic (a command is
    /// never retained; one left there would come back at every
    /// connection), subscribes to commands and to the discovery topics
    /// (to find orphans), publishes every discovery message and then
    /// `online`.
    fn announce(&self, snapshot: &StatusSnapshot) -> Result<(), rumqttc::ClientError> {
        if self.sync_due {
            self.client
                .try_publish(&self.topics.command, QoS::AtLeastOnce, true, Vec::new())?;
            self.client
                .try_subscribe(&self.topics.command, QoS::AtLeastOnce)?;
            self.client.try_subscribe(
                format!("{}/+/+/+/config", self.config.discovery_prefix),
                QoS::AtMostOnce,
            )?;
        }
        for (topic, payload) in discovery_messages(&self.config, &self.topics, snapshot) {
            self.client
                .try_publish(topic, QoS::AtLeastOnce, true, payload)?;
        }
        self.client
            .try_publish(&self.topics.availability, QoS::AtLeastOnce, true, ONLINE)
    }
}

/// Waits between reconnection attempts: doubling from `min` to `max`,
/// back to `min` after a connection that lasted `stable_after`.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    stable_after: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration, stable_after: Duration) -> Self {
        Self {
            min,
            max,
            stable_after,
            next: min,
        }
    }

    /// The wait after a failure; `connected_for` is how long the connection
    /// that just failed lasted (`None`: connecting failed).
    pub(crate) fn failed(&mut self, connected_for: Option<Duration>) -> Duration {
        if connected_for.is_some_and(|d| d >= self.stable_after) {
            self.next = self.min;
        }
        let wait = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets_after_a_stable_connection() {
        let s = Duration::from_secs;
        let mut b = Backoff::new(s(1), s(8), s(60));
        let waits: Vec<_> = (0..6).map(|_| b.failed(None)).collect();
        assert_eq!(waits, [s(1), s(2), s(4), s(8), s(8), s(8)]);
        assert_eq!(
            b.failed(Some(s(5))),
            s(8),
            "a short connection is not stable"
        );
        assert_eq!(b.failed(Some(s(60))), s(1), "a stable one starts over");
        assert_eq!(b.failed(None), s(2));
    }
}
