//! A camera's identity as last seen ([`CameraSeen`], [`CameraRow`]) and the
//! clips the store believes are still on it ([`KnownClip`]).

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
