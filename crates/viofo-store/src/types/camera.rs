//! A camera's identity as last seen ([`CameraSeen`], [`CameraRow`], its
//! [`Anchor`]) and the clips the store believes are still on it ([`KnownClip`]).

/// What a camera id answered as, to record with
/// [`Store::saw_camera`](crate::Store::saw_camera).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CameraSeen {
    /// The camera id (the clips' `camera_id`).
    pub camera_id: String,
    /// The model read from the firmware string, if known.
    pub model: Option<String>,
    /// The firmware string, if the camera gave one.
    pub firmware: Option<String>,
    /// The address that answered.
    pub address: String,
}

/// A camera id's stored identity ([`Store::camera`](crate::Store::camera)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CameraRow {
    /// The identity last recorded. A `None` model or firmware in a later
    /// [`CameraSeen`] keeps the stored one.
    pub seen: CameraSeen,
    /// When it was first recorded (ms since the Unix epoch).
    pub first_seen_at: i64,
    /// When it was last recorded.
    pub last_seen_at: i64,
    /// The camera's anchor, if one was chosen
    /// ([`Store::set_anchor`](crate::Store::set_anchor)).
    pub anchor: Option<Anchor>,
}

/// A clip this camera archived while its identity was certain, left on
/// the card so that a listing at a fallback address can prove the device
/// there is this camera by showing it (issue 18).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// File name.
    pub name: String,
    /// The camera path it was listed at.
    pub remote_path: String,
    /// Its size in bytes, as archived.
    pub size: u64,
}

/// A clip the store believes is still on the camera
/// ([`Store::known_on_camera`](crate::Store::known_on_camera)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownClip {
    /// File name.
    pub name: String,
    /// Size in bytes as last listed.
    pub size: u64,
    /// Recording time from the name (camera local time as UTC ms), if known.
    pub recorded_at: Option<i64>,
}
