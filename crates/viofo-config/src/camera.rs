//! The settings about reaching the camera and trusting what answers:
//! fallback addresses and accepting a device that does not look like the
//! camera the store knows (issue 14).

use super::keys::{Accepts, BASE, Key};
use super::parse::{is_none_word, parse_address, parse_bool};

pub(crate) const FALLBACK_ADDRESSES: Key = Key {
    name: "fallback_addresses",
    env: "VIOFOSYNC_FALLBACK_ADDRESSES",
    accepts: Accepts::Text("addresses like `address`, comma-separated (default none)"),
    help: "other addresses of the same camera (a VPN address), tried in order when the one \
           in use does not answer; the one that answers is kept until it fails",
    apply: |s, v| {
        s.client.fallback_urls = if is_none_word(v) {
            Vec::new()
        } else {
            v.split(',').map(parse_address).collect::<Result<_, _>>()?
        };
        Ok(())
    },
    show: |s| match s.client.fallback_urls.join(", ") {
        l if l.is_empty() => "(none)".to_owned(),
        l => l,
    },
    ..BASE
};

pub(crate) const ACCEPT_CAMERA: Key = Key {
    name: "accept_camera",
    env: "VIOFOSYNC_ACCEPT_CAMERA",
    accepts: Accepts::Bool,
    help: "sync the device at the address even when it does not look like the camera the \
           state database knows under camera_id (another model, none of its clips); meant \
           as a one-off flag: `sync --accept-camera`",
    apply: |s, v| {
        s.sync.accept_camera = parse_bool(v)?;
        Ok(())
    },
    show: |s| s.sync.accept_camera.to_string(),
    ..BASE
};
