//! Finds orphans among the retained discovery messages of the broker: the
//! entities of a camera of this node that is no longer configured, or an
//! entity of this camera that no longer exists (`Orphans`).

use std::collections::HashSet;

use crate::config::MqttConfig;
use crate::discovery::{object_topics, slug};

/// Decides which retained discovery messages are orphans.
#[derive(Debug)]
pub(crate) struct Orphans {
    prefix: String,
    /// `<node_id>_`: the start of every device id of this node.
    node: String,
    /// The topic slugs of the configured cameras.
    configured: HashSet<String>,
    /// This camera's slug.
    own: String,
    /// `(component, object)` of this camera's entities.
    objects: HashSet<(String, String)>,
}

/// What to remove.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Orphan {
    /// The retained discovery topic to empty.
    pub(crate) topic: String,
    /// The slug of a camera no longer configured (its state topics are
    /// emptied too), `None` for a vanished entity of this camera.
    pub(crate) camera: Option<String>,
}

impl Orphans {
    pub(crate) fn new(config: &MqttConfig, camera: &str) -> Self {
        let own = slug(camera);
        let mut configured: HashSet<String> = config.cameras.iter().map(|c| slug(c)).collect();
        configured.insert(own.clone());
        Self {
            prefix: format!("{}/", config.discovery_prefix),
            node: format!("{}_", config.node_id),
            configured,
            own,
            objects: object_topics()
                .map(|(c, o)| (c.to_owned(), o.to_owned()))
                .collect(),
        }
    }

    /// Whether a message on `topic` is an orphan's retained discovery.
    /// Only retained, non-empty messages of this node's devices count.
    pub(crate) fn check(&self, topic: &str, retained: bool, empty: bool) -> Option<Orphan> {
        if !retained || empty {
            return None;
        }
        let rest = topic.strip_prefix(&self.prefix)?;
        let mut levels = rest.split('/');
        let (component, device, object, config) = (
            levels.next()?,
            levels.next()?,
            levels.next()?,
            levels.next()?,
        );
        if config != "config" || levels.next().is_some() {
            return None;
        }
        let cam = device.strip_prefix(&self.node)?;
        if cam == self.own {
            let known = self
                .objects
                .contains(&(component.to_owned(), object.to_owned()));
            return (!known).then(|| Orphan {
                topic: topic.to_owned(),
                camera: None,
            });
        }
        (!self.configured.contains(cam)).then(|| Orphan {
            topic: topic.to_owned(),
            camera: Some(cam.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_nodes_unconfigured_cameras_and_vanished_entities_are_orphans() {
        let mut cfg = MqttConfig::new("mqtt://h");
        cfg.cameras = vec!["front".into(), "Rear Cam".into()];
        let o = Orphans::new(&cfg, "front");
        let t = "homeassistant/sensor/viofosync_old/sync_state/config";
        assert_eq!(
            o.check(t, true, false),
            Some(Orphan {
                topic: t.into(),
                camera: Some("old".into())
            })
        );
        assert_eq!(o.check(t, false, false), None, "live, not retained");
        assert_eq!(o.check(t, true, true), None, "already emptied");
        for kept in [
            "homeassistant/sensor/viofosync_front/sync_state/config",
            "homeassistant/sensor/viofosync_rear_cam/sync_state/config",
            "homeassistant/sensor/othernode_old/sync_state/config",
            "homeassistant/sensor/viofosync_old/sync_state/config/x",
            "other/sensor/viofosync_old/sync_state/config",
            "homeassistant/sensor/viofosync_old/sync_state",
        ] {
            assert_eq!(o.check(kept, true, false), None, "{kept}");
        }
        let gone = "homeassistant/sensor/viofosync_front/no_such_entity/config";
        assert_eq!(
            o.check(gone, true, false),
            Some(Orphan {
                topic: gone.into(),
                camera: None
            })
        );
    }
}
