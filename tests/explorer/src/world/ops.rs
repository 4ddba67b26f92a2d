//! The world's operations on other sources than the camera: import of a
//! copy of the card or of the archive reached by another path, and two
//! processes (two state databases) syncing one archive at once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use viofo_pipeline::import::{ImportEvent, ImportOptions, Importer};
use viofo_pipeline::{Event, Shutdown, Syncer};
use viofo_store::{Store, StoreOptions};
use viofo_testkit::walk;

use super::{OP_BOUND, Ran, World};

impl World {
    /// A copy of the card as a card reader shows it (`DCIM/Movie`, ...).
    pub(super) fn card_copy(&mut self) -> PathBuf {
        self.made += 1;
        let card = self.rig.root.path().join(format!("cards/{}", self.made));
        for c in self.rig.sim.clips() {
            let dir = card.join(c.folder.card_dir());
            if std::fs::create_dir_all(&dir).is_ok()
                && let Some(bytes) = self.rig.sim.clip_bytes_at(c.folder, &c.name)
            {
                let _ = std::fs::write(dir.join(&c.name), bytes);
            }
        }
        let _ = std::fs::create_dir_all(&card);
        card
    }

    /// The archive reached by another path: a symlink to it, or a folder
    /// of hard links to its files.
    pub(super) fn archive_view(&mut self, symlink: bool) -> PathBuf {
        self.made += 1;
        let views = self.rig.root.path().join("views");
        let _ = std::fs::create_dir_all(&views);
        let view = views.join(format!("{}", self.made));
        let archive = self.rig.archive.clone();
        if symlink {
            let _ = std::os::unix::fs::symlink(&archive, &view);
        } else {
            for f in walk(&archive) {
                if let Ok(rel) = f.path.strip_prefix(&archive) {
                    let to = view.join(rel);
                    if let Some(parent) = to.parent() {
                        let _ = std::fs::create_dir_all(parent);
                    }
                    let _ = std::fs::hard_link(&f.path, &to);
                }
            }
            let _ = std::fs::create_dir_all(&view);
        }
        view
    }

    pub(super) async fn import(&self, source: PathBuf, moved: bool) -> Ran {
        let opts = ImportOptions {
            move_sources: moved,
            ..ImportOptions::default()
        };
        let mut ran = Ran::default();
        let importer = match Importer::new(self.rig.store.clone(), self.cfg.clone(), opts) {
            Ok(i) => i,
            Err(e) => {
                ran.failed(&e);
                return ran;
            }
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let r = tokio::time::timeout(
            OP_BOUND,
            importer.run(
                &[source],
                move |e: ImportEvent| sink.lock().unwrap_or_else(|p| p.into_inner()).push(e),
                &Shutdown::new(),
            ),
        )
        .await;
        if let Ok(Err(e)) = &r {
            ran.failed(e);
        }
        if r.is_err() {
            ran.hung = Some("an import".into());
        }
        ran
    }

    pub(super) async fn two_processes(&mut self) -> Ran {
        if self.store2.is_none() {
            let state = self.rig.root.path().join("state2");
            let _ = std::fs::create_dir_all(&state);
            let opened = Store::open(StoreOptions {
                recordings_dir: Some(self.rig.archive.clone()),
                ..StoreOptions::at(state.join("viofosync.db"))
            })
            .await;
            match opened {
                Ok(s) => self.store2 = Some(s),
                Err(e) => {
                    return Ran {
                        cycles: vec![Err(format!("second store: {e}"))],
                        ..Ran::default()
                    };
                }
            }
        }
        let Some(store2) = self.store2.clone() else {
            return Ran::default();
        };
        self.rig.clear_events();
        let events = self.rig.events.clone();
        let sink = move |e: Event| events.lock().unwrap_or_else(|p| p.into_inner()).push(e);
        let second = match Syncer::new(self.rig.client(), store2, self.cfg.clone(), sink) {
            Ok(s) => s,
            Err(e) => {
                return Ran {
                    cycles: vec![Err(e.to_string())],
                    ..Ran::default()
                };
            }
        };
        let first = self.rig.syncer(self.cfg.clone());
        let (sd1, sd2) = (Shutdown::new(), Shutdown::new());
        let both = async { tokio::join!(first.run_cycle(&sd1), second.run_cycle(&sd2)) };
        let r = Box::pin(tokio::time::timeout(OP_BOUND, both)).await;
        let mut ran = Ran {
            events: self.rig.events(),
            concurrent: true,
            ..Ran::default()
        };
        match r {
            Ok((a, b)) => {
                ran.cycle(a);
                ran.cycle(b);
            }
            Err(_) => ran.hung = Some("two processes syncing".into()),
        }
        ran
    }

    /// The folder the second camera archives into, beside the archive.
    pub fn second_archive(&self) -> PathBuf {
        self.rig
            .root
            .path()
            .join(format!("archive-{SECOND_CAMERA}"))
    }

    /// One cycle of the household's second camera: the other simulator at
    /// its own address (no fallback), its own id and folder, deletes off,
    /// no places; the same store (and so the same state database) as the
    /// camera's.
    pub(super) async fn second_camera(&mut self) -> Ran {
        let archive = self.second_archive();
        let _ = std::fs::create_dir_all(&archive);
        let mut cfg = self.cfg.clone();
        cfg.camera_id = SECOND_CAMERA.to_owned();
        cfg.archive = archive;
        cfg.delete_after_download = false;
        cfg.delete_archived = false;
        cfg.places.clear();
        cfg.triage = None;
        let mut client = viofo_client::ClientConfig::new(self.other.base_url());
        client.connect_timeout = std::time::Duration::from_millis(700);
        client.idle_timeout = std::time::Duration::from_millis(700);
        client.probe_timeout = std::time::Duration::from_millis(700);
        let mut ran = Ran::default();
        let made = viofo_client::Client::new(client)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                Syncer::new(c, self.rig.store.clone(), cfg, |_e: Event| {})
                    .map_err(|e| e.to_string())
            });
        let syncer = match made {
            Ok(s) => s,
            Err(e) => {
                ran.second_camera = Some(Err(e));
                return ran;
            }
        };
        let r = tokio::time::timeout(OP_BOUND, syncer.run_cycle(&Shutdown::new())).await;
        match r {
            Ok(Ok(s)) => ran.second_camera = Some(Ok(s)),
            Ok(Err(e)) => {
                if e.is_disk_full() {
                    ran.disk_full.push(e.to_string());
                }
                ran.second_camera = Some(Err(e.to_string()));
            }
            Err(_) => ran.hung = Some("the second camera's sync".into()),
        }
        ran
    }
}

/// The second camera's id.
pub const SECOND_CAMERA: &str = "b";
