//! The camera's anchor (issue 18, item 4): which archived clip stays on
//! the card so a fallback address can prove the device there is this
//! camera, and recording it in the store.

use viofo_store::ClipId;

use super::identity::{Shown, pick_anchor, same_clip};
use super::listing::Snapshot;
use super::tail::{PendingDelete, shown_archived};
use super::{Cycle, Syncer, lock};

impl Syncer {
    /// With fallback addresses, once the identity is proved: the clip left
    /// on the card as the camera's anchor (the newest of `pending` the
    /// listing shows as archived), recorded in the store when it changes.
    pub(super) fn keep_anchor(&self, snap: &Snapshot, pending: &[PendingDelete]) -> Option<ClipId> {
        let archived = shown_archived(pending);
        let candidates: Vec<(ClipId, bool)> = pending
            .iter()
            .zip(&archived)
            .map(|(d, a)| {
                let shown = snap
                    .recordings
                    .get_key_value(&d.name)
                    .is_some_and(|(name, r)| {
                        let l = Shown {
                            name,
                            remote_path: r.remote_path(),
                            size: r.size().bytes(),
                            exact: r.size().exact().is_some(),
                        };
                        same_clip(&l, a)
                    });
                (d.id, shown && !snap.duplicates.contains(&d.name))
            })
            .collect();
        let id = pick_anchor(&candidates)?;
        let d = pending.iter().find(|d| d.id == id)?;
        self.set_anchor(
            id,
            viofo_store::Anchor {
                name: d.name.clone(),
                remote_path: d.remote_path.clone(),
                size: d.bytes,
            },
        );
        Some(id)
    }

    /// At a cycle's end, where the device is certain to be this camera
    /// (its primary address, or proved): the newest clip it archived that
    /// the latest listing shows as archived becomes its anchor, recorded
    /// when it changes (see `identity`).
    pub(super) async fn record_anchor(&self, cx: &Cycle) {
        let s = &*self.inner;
        if s.client.at_fallback() && !self.identity_proved() {
            return;
        }
        let newest = match s.store.newest_archived(&s.cfg.camera_id).await {
            Ok(Some(n)) => n,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!("the newest archived clip could not be read: {e}");
                return;
            }
        };
        let snap = cx.snapshot();
        let (id, anchor) = newest;
        let listed = snap
            .recordings
            .get_key_value(&anchor.name)
            .is_some_and(|(name, r)| {
                let l = Shown {
                    name,
                    remote_path: r.remote_path(),
                    size: r.size().bytes(),
                    exact: r.size().exact().is_some(),
                };
                let a = Shown {
                    name: &anchor.name,
                    remote_path: &anchor.remote_path,
                    size: anchor.size,
                    exact: true,
                };
                same_clip(&l, &a) && !snap.duplicates.contains(name)
            });
        if listed {
            self.set_anchor(id, anchor);
        }
    }

    /// Records `anchor` (row `id`) as the camera's, unless it already is.
    fn set_anchor(&self, id: ClipId, anchor: viofo_store::Anchor) {
        let s = &*self.inner;
        let mut proof = lock(&s.proof);
        if proof.anchor == Some(id) {
            return;
        }
        proof.anchor = Some(id);
        drop(proof);
        tracing::debug!("{}: the camera's anchor", anchor.name);
        s.store.set_anchor(&s.cfg.camera_id, anchor).submit();
    }
}
