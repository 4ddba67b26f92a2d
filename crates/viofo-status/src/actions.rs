//! The actions a person can ask for over HTTP, and how they reach the
//! embedding program ([`ActionHandler`]). Nothing else the camera can do is
//! reachable from HTTP.

use serde::{Deserialize, Serialize};

/// An action asked for by `POST /api/<action>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// `POST /api/sync-now`: start a cycle now instead of waiting.
    SyncNow,
    /// `POST /api/pause`: stop starting downloads until resumed.
    Pause,
    /// `POST /api/resume`: undo a pause.
    Resume,
    /// `POST /api/retry-failed`: return the failed clips to the queue.
    RetryFailed,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [
        Action::SyncNow,
        Action::Pause,
        Action::Resume,
        Action::RetryFailed,
    ];

    /// The path segment: `sync-now`, `pause`, `resume`, `retry-failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SyncNow => "sync-now",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::RetryFailed => "retry-failed",
        }
    }

    /// The action named by a path segment.
    pub fn from_path(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == segment)
    }
}

/// Why an action was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// The program has not taken the previous actions yet (answered 429).
    #[error("busy: earlier actions are still waiting")]
    Busy,
    /// The program takes no actions, or has stopped taking them (503).
    #[error("actions are not available")]
    Unavailable,
}

/// Receives actions from the server's request handlers. Called inline, so
/// it must return at once (hand the action on; never wait for it to be
/// carried out).
pub trait ActionHandler: Send + Sync + 'static {
    /// Takes one action.
    fn handle(&self, action: Action) -> Result<(), ActionError>;
}

/// A bounded channel: the embedding program receives from its
/// [`Receiver`](tokio::sync::mpsc::Receiver). A full channel answers
/// [`ActionError::Busy`], a closed one [`ActionError::Unavailable`].
impl ActionHandler for tokio::sync::mpsc::Sender<Action> {
    fn handle(&self, action: Action) -> Result<(), ActionError> {
        use tokio::sync::mpsc::error::TrySendError;
        self.try_send(action).map_err(|e| match e {
            TrySendError::Full(_) => ActionError::Busy,
            TrySendError::Closed(_) => ActionError::Unavailable,
        })
    }
}

impl<F> ActionHandler for F
where
    F: Fn(Action) -> Result<(), ActionError> + Send + Sync + 'static,
{
    fn handle(&self, action: Action) -> Result<(), ActionError> {
        self(action)
    }
}

/// Takes no action: every action is answered 503.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoActions;

impl ActionHandler for NoActions {
    fn handle(&self, _action: Action) -> Result<(), ActionError> {
        Err(ActionError::Unavailable)
    }
}
