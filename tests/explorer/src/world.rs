//! The world one run drives: the real pipeline and store over an archive in
//! a temp dir, the simulated camera (through viofo-testkit's rig), another
//! camera behind the fallback address, and the model; [`World::apply`]
//! carries out one step.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::PrimitiveDateTime;
use viofo_client::ClientConfig;

use viofo_pipeline::places::Place;
use viofo_pipeline::{CycleSummary, DryRun, Event, Shutdown, SyncConfig};
use viofo_sim::{ClipDef, Fault, Folder, ListingEnd, Sim, SimConfig, Target};
use viofo_store::{Channel, Store};
use viofo_testkit::{Hash, Rig, sha256_file, walk};

use crate::model::{Device, Fate, Model};
use crate::step::{LinkFault, Step};

mod ops;
pub use ops::SECOND_CAMERA;

/// The camera clock at the first recording (and after a reset).
pub const EPOCH: PrimitiveDateTime = time::macros::datetime!(2025-12-20 08:00:00);
/// The cameras' firmware string (one model: the other camera looks alike).
pub const FIRMWARE: &str = "VIOFO_A329S_V2.0_260313";
/// Bound on one operation: past it, a hang.
pub const OP_BOUND: Duration = Duration::from_secs(90);

/// What a sync-like operation did.
#[derive(Debug, Default)]
pub struct Ran {
    /// Each cycle's result (`Err`: its error in words).
    pub cycles: Vec<Result<CycleSummary, String>>,
    /// Every event of the step, in order.
    pub events: Vec<Event>,
    /// Dry run: the plan, if asked and made.
    pub plan: Option<Result<DryRun, String>>,
    /// The operation did not end within [`OP_BOUND`].
    pub hung: Option<String>,
    /// Several processes ran at once (their events interleave).
    pub concurrent: bool,
    /// The errors (of `cycles`) classed as a full disk, which the CLI
    /// makes exit 4.
    pub disk_full: Vec<String>,
    /// The MQTT commands taken (by viofo-mqtt's decision): retained, the
    /// payload's length, the action.
    pub commands: Vec<(bool, usize, viofo_status::Action)>,
    /// The second camera's cycle (its events are not the camera's: not in
    /// `events`).
    pub second_camera: Option<Result<CycleSummary, String>>,
}

impl Ran {
    /// Records one cycle's result.
    fn cycle(&mut self, r: Result<CycleSummary, viofo_pipeline::Error>) {
        match r {
            Ok(s) => self.cycles.push(Ok(s)),
            Err(e) => self.failed(&e),
        }
    }

    /// Records an operation's error.
    fn failed(&mut self, e: &viofo_pipeline::Error) {
        let text = e.to_string();
        if e.is_disk_full() {
            self.disk_full.push(text.clone());
        }
        self.cycles.push(Err(text));
    }
}

/// The world of one run.
pub struct World {
    /// The camera, store and archive.
    pub rig: Rig,
    /// Another camera, at the fallback address.
    pub other: Arc<Sim>,
    /// The sync settings now.
    pub cfg: SyncConfig,
    /// The second process's store, once opened.
    store2: Option<Store>,
    /// The model.
    pub model: Model,
    /// The step being carried out.
    pub step: usize,
    /// The state database's disk is full now ([`Step::StateFull`]).
    pub state_full: bool,
    /// The camera ignores `Range` now ([`Step::IgnoreRange`]).
    pub ignores_range: bool,
    /// The camera's listings end cut short now ([`Step::CutListing`]).
    pub cuts_listings: bool,
    /// Messages on the MQTT command topic the next watch takes as it
    /// connects: (retained, payload).
    mqtt: Vec<(bool, Vec<u8>)>,
    made: usize,
    /// What `/api/status` and `/metrics` serve, fed every event of the
    /// run as `watch` feeds it.
    pub status: viofo_status::StatusModel,
}

fn client_config(base: &str, fallback: &str) -> ClientConfig {
    let mut c = ClientConfig::new(base);
    c.fallback_urls = vec![fallback.to_owned()];
    c.connect_timeout = Duration::from_millis(700);
    c.idle_timeout = Duration::from_millis(700);
    c.probe_timeout = Duration::from_millis(700);
    c.command_timeout = Duration::from_secs(3);
    c.listing_timeout = Duration::from_secs(5);
    c
}

/// SHA-256 of a clip on a simulator as served now.
pub fn hash_on(sim: &Sim, folder: Folder, name: &str) -> Option<Hash> {
    let bytes = sim.clip_bytes_at(folder, name)?;
    Some(viofo_testkit::sha256(&bytes))
}

fn name_of(t: PrimitiveDateTime, seq: u32, parking: bool, cam: char) -> String {
    let f = time::macros::format_description!("[year]_[month][day]_[hour][minute][second]");
    let stamp = t.format(f).unwrap_or_default();
    format!(
        "{stamp}_{seq:06}{}{cam}.MP4",
        if parking { "P" } else { "" }
    )
}

impl World {
    /// A fresh world: an empty camera at [`EPOCH`], another camera at the
    /// fallback address holding clips under the names the camera's first
    /// recordings will take, an empty archive and store.
    pub async fn start() -> World {
        let other = Arc::new(
            Sim::start(SimConfig::default().firmware(FIRMWARE).clock(EPOCH))
                .await
                .expect("the other camera starts"),
        );
        let mut model = Model::new(EPOCH);
        let mut t = EPOCH;
        for seq in 1..=4u32 {
            let name = name_of(t, seq, false, 'F');
            // Sizes no recording of this camera has (its are round): two
            // cameras' clips of one length rarely match to the byte.
            let size = 90_001 + 2 * u64::from(seq);
            let def = ClipDef::synthetic(&name, Folder::Movie, size)
                .start_time(t)
                .variant(1_000_000 + u64::from(seq));
            if other.add_clip(def).is_ok()
                && let Some(h) = hash_on(&other, Folder::Movie, &name)
            {
                model.record(Device::Other, &name, h, size, 0);
            }
            t += time::Duration::minutes(1);
        }
        let fallback = other.base_url();
        let rig = Rig::builder(SimConfig::default().firmware(FIRMWARE).clock(EPOCH))
            .client_config(move |base| client_config(base, &fallback))
            .test_sized_waits()
            .start()
            .await;
        let cfg = rig.config();
        let status = viofo_status::StatusModel::new(
            viofo_status::StatusConfig::new(viofo_testkit::CAMERA, &rig.archive),
            viofo_status::NoPersistence,
        );
        World {
            rig,
            other,
            cfg,
            store2: None,
            model,
            step: 0,
            state_full: false,
            ignores_range: false,
            cuts_listings: false,
            mqtt: Vec::new(),
            made: 0,
            status,
        }
    }

    /// The archive.
    pub fn archive(&self) -> &Path {
        &self.rig.archive
    }

    /// Carries out one step (camera events change the simulator and the
    /// model; operations run the pipeline and report what they did).
    pub async fn apply(&mut self, step: &Step) -> Ran {
        let sim = self.rig.sim.clone();
        match step {
            Step::Record {
                clips,
                parking,
                rear,
                size,
                gap_hours,
            } => {
                self.model.clock += time::Duration::hours(i64::from(*gap_hours));
                for _ in 0..*clips {
                    let (t, seq) = (self.model.clock, self.model.seq);
                    self.model.seq += 1;
                    self.model.clock += time::Duration::minutes(1);
                    let cams: &[char] = if *rear { &['F', 'R'] } else { &['F'] };
                    for &cam in cams {
                        let name = name_of(t, seq, *parking, cam);
                        let folder = if *parking {
                            Folder::Parking
                        } else {
                            Folder::Movie
                        };
                        let def = ClipDef::synthetic(&name, folder, u64::from(*size))
                            .start_time(t)
                            .variant(self.model.next_variant());
                        if sim.add_clip(def).is_ok()
                            && let Some(h) = hash_on(&sim, folder, &name)
                        {
                            self.model.record(
                                Device::Camera,
                                &name,
                                h,
                                u64::from(*size),
                                self.step,
                            );
                        }
                    }
                }
            }
            Step::Grow { pick, bytes } => {
                let clips = sim.clips();
                if let Some(c) = pick_of(&clips, *pick, |_| true)
                    && sim.grow_clip(&c.name, u64::from(*bytes))
                    && let Some(i) = self.model.on_card(Device::Camera, &c.name)
                    && let Some(now) = sim.clip(&c.name)
                    && let Some(h) = hash_on(&sim, now.folder, &c.name)
                {
                    self.model.new_version(i, h, now.size);
                }
            }
            Step::Lock { pick } => {
                let clips = sim.clips();
                if let Some(c) = pick_of(&clips, *pick, |c| !c.locked) {
                    sim.lock_clip(&c.name);
                }
            }
            Step::Unlock { pick } => {
                let clips = sim.clips();
                if let Some(c) = pick_of(&clips, *pick, |c| c.locked) {
                    sim.unlock_clip(&c.name);
                }
            }
            Step::LoopOverwrite { clips } => {
                let mut card = sim.clips();
                card.retain(|c| !c.locked);
                card.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.name.cmp(&b.name)));
                for c in card.iter().take(usize::from(*clips)) {
                    if sim.remove_clip(&c.name)
                        && let Some(i) = self.model.on_card(Device::Camera, &c.name)
                    {
                        self.model.set_fate(i, Fate::Overwritten);
                    }
                }
            }
            Step::Format { reset_clock } => {
                sim.format_card(reset_clock.then_some(EPOCH));
                let on: Vec<usize> = self
                    .model
                    .on_card_all(Device::Camera)
                    .map(|(i, _)| i)
                    .collect();
                for i in on {
                    self.model.set_fate(i, Fate::Overwritten);
                }
                self.model.seq = 1;
                if *reset_clock {
                    self.model.clock = EPOCH;
                }
            }
            Step::Fault(f) => sim.inject(match *f {
                LinkFault::ResetBurst(n) => Fault::reset_burst(u64::from(n)).on(Target::Download),
                LinkFault::CutBody(b) => Fault::drop_after(u64::from(b)).on(Target::Download),
                LinkFault::Stall(b) => {
                    Fault::stall(u64::from(b), Duration::from_millis(1500)).on(Target::Download)
                }
                LinkFault::RefuseDelete => Fault::refuse_delete(-1),
            }),
            Step::IgnoreRange(on) => {
                self.ignores_range = *on;
                sim.set_ignore_range(*on);
                self.other.set_ignore_range(*on);
            }
            Step::CutListing(on) => {
                self.cuts_listings = *on;
                sim.set_listing_end(if *on {
                    ListingEnd::CutMidItem
                } else {
                    ListingEnd::Complete
                });
            }
            Step::SecondDevice(on) => {
                if *on {
                    sim.go_offline(Duration::from_secs(24 * 3600));
                } else {
                    sim.go_online();
                }
            }
            Step::Firmware { escape } => sim.set_firmware(if *escape {
                "VIOFO_A329S_V2.1\u{1b}[2J\u{1b}]0;owned\u{7}_260401"
            } else {
                "VIOFO_A329S_V2.1_260401"
            }),
            Step::Sync => return self.sync(self.cfg.clone()).await,
            Step::Watch { cycles } => return Box::pin(self.watch(*cycles)).await,
            Step::SecondCamera => return Box::pin(self.second_camera()).await,
            Step::Import { moved } => {
                let card = self.card_copy();
                return self.import(card, *moved).await;
            }
            Step::ImportArchiveView { symlink } => {
                let view = self.archive_view(*symlink);
                return self.import(view, true).await;
            }
            Step::DryRun => {
                let (syncer, _rx) = self.rig.syncer_with(self.cfg.clone(), None);
                let plan = tokio::time::timeout(OP_BOUND, syncer.dry_run()).await;
                return match plan {
                    Ok(p) => {
                        let plan = Some(p.map_err(|e| e.to_string()));
                        self.rig.clear_events();
                        let mut ran = self.sync(self.cfg.clone()).await;
                        ran.plan = plan;
                        ran
                    }
                    Err(_) => Ran {
                        hung: Some("the dry run".into()),
                        ..Ran::default()
                    },
                };
            }
            Step::TwoProcesses => return Box::pin(self.two_processes()).await,
            Step::Places(on) => {
                self.cfg.places.clear();
                if *on {
                    self.cfg.triage = Some(viofo_gps::TriageMode::Full);
                    let parked = sim.clips().into_iter().filter(|c| c.parking).take(4);
                    for (k, c) in parked.enumerate() {
                        if let Some(p) = sim
                            .gps_points_at(c.folder, &c.name)
                            .and_then(|p| p.first().copied())
                        {
                            self.cfg.places.push(Place {
                                name: format!("Place{k}"),
                                lat: p.lat,
                                lon: p.lon,
                                radius_m: 5_000.0,
                                skip_parking: true,
                            });
                        }
                    }
                }
            }
            Step::Quota(q) => self.cfg.retention.quota = *q,
            Step::FrontOnly(on) => {
                self.cfg.channels = if *on {
                    vec![Channel::Front]
                } else {
                    Vec::new()
                };
            }
            Step::Deletes(on) => {
                self.cfg.delete_after_download = *on;
                self.cfg.delete_archived = *on;
            }
            Step::Triage(on) => {
                self.cfg.triage = on.then_some(viofo_gps::TriageMode::Full);
            }
            Step::StateFull(on) => {
                // Full at the size it has now; or the cap lifted. The
                // store stays open, as under a long `watch`.
                let r = self.rig.store.set_page_limit(on.then_some(1)).await;
                if let Err(e) = r {
                    return Ran {
                        cycles: vec![Err(format!("the page limit: {e}"))],
                        ..Ran::default()
                    };
                }
                self.state_full = *on;
            }
            Step::Mqtt { retained, payload } => {
                // A new message is delivered once, to the next watch; a
                // retained one at every connection (see `watch`).
                self.mqtt.push((*retained, payload.bytes()));
            }
        }
        Ran::default()
    }

    async fn sync(&self, cfg: SyncConfig) -> Ran {
        self.rig.clear_events();
        let syncer = self.rig.syncer(cfg);
        let r = tokio::time::timeout(OP_BOUND, syncer.run_cycle(&Shutdown::new())).await;
        let mut ran = Ran {
            events: self.rig.events(),
            ..Ran::default()
        };
        match r {
            Ok(r) => ran.cycle(r),
            Err(_) => ran.hung = Some("a sync cycle".into()),
        }
        ran
    }

    async fn watch(&mut self, cycles: u8) -> Ran {
        self.rig.clear_events();
        let mut cfg = self.cfg.clone();
        cfg.backoff = viofo_pipeline::backoff::Backoff::with_steps(vec![Duration::from_millis(30)]);
        let shutdown = Shutdown::new();
        let stop = shutdown.clone();
        let done = Arc::new(Mutex::new(0u8));
        let hook: viofo_testkit::Hook = Arc::new(move |e: &Event| {
            if matches!(e, Event::CycleDone(_)) {
                let mut n = done.lock().unwrap_or_else(|p| p.into_inner());
                *n += 1;
                if *n >= cycles {
                    stop.stop();
                }
            }
        });
        let (syncer, _rx) = self.rig.syncer_with(cfg, Some(hook));
        let watcher = viofo_pipeline::Watcher::new(syncer, Duration::from_millis(30), &shutdown);
        // The MQTT command topic's messages, as the watch connects: each
        // through viofo-mqtt's one decision; a retained one stays for the
        // next connection.
        let mut ran = Ran::default();
        let control = watcher.control();
        for (retained, payload) in &self.mqtt {
            if let Ok(action) = viofo_mqtt::command_action(*retained, payload) {
                ran.commands.push((*retained, payload.len(), action));
                match action {
                    viofo_status::Action::Pause => {
                        control.pause();
                    }
                    viofo_status::Action::Resume => {
                        control.resume();
                    }
                    viofo_status::Action::SyncNow => {
                        control.sync_now();
                    }
                    viofo_status::Action::RetryFailed => {
                        let _ = self
                            .rig
                            .store
                            .retry_failed(Some(viofo_testkit::CAMERA))
                            .await;
                    }
                }
            }
        }
        self.mqtt.retain(|(retained, _)| *retained);
        let r = tokio::time::timeout(OP_BOUND, watcher.run()).await;
        let events = self.rig.events();
        for e in &events {
            if let Event::CycleDone(s) = e {
                ran.cycles.push(Ok(s.clone()));
            }
        }
        ran.events = events;
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => ran.failed(&e),
            Err(_) => ran.hung = Some("watch".into()),
        }
        ran
    }

    /// The stores on this archive: the rig's, and the second process's once
    /// opened.
    pub fn stores(&self) -> Vec<Store> {
        let mut v = vec![self.rig.store.clone()];
        v.extend(self.store2.clone());
        v
    }

    /// Closes the stores.
    pub async fn close(self) {
        if let Some(s) = self.store2 {
            let _ = s.close().await;
        }
        let _ = self.rig.store.close().await;
    }
}

/// The `pick`-th clip (modulo) of those `keep` accepts, sorted by name.
fn pick_of(
    clips: &[viofo_sim::ClipInfo],
    pick: u32,
    keep: impl Fn(&viofo_sim::ClipInfo) -> bool,
) -> Option<viofo_sim::ClipInfo> {
    let mut c: Vec<&viofo_sim::ClipInfo> = clips.iter().filter(|c| keep(c) && !c.growing).collect();
    c.sort_by(|a, b| a.name.cmp(&b.name));
    if c.is_empty() {
        return None;
    }
    let i = usize::try_from(pick).unwrap_or(0) % c.len();
    c.get(i).map(|c| (*c).clone())
}

/// SHA-256 of every final clip file in the archive, by path.
pub fn archive_hashes(archive: &Path) -> Vec<(PathBuf, Hash, u64)> {
    walk(archive)
        .into_iter()
        .filter(|f| {
            f.path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(viofo_testkit::is_clip_name)
        })
        .filter_map(|f| sha256_file(&f.path).map(|h| (f.path, h, f.size)))
        .collect()
}
