//! Ranged reads: exact 206 answers, a camera that ignores Range, wrong
//! Content-Ranges, short bodies, and the limiter's lowest class.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;
use viofo_client::{
    ChunkObserver, Client, DownloadOptions, ListSource, MAX_RANGE_LEN, Recording, Size,
};
use viofo_sim::{ClipSpec, Fault, Sim, SimConfig, Target};

use crate::{client, config, list, sim_with};

const SIZE: u64 = 600_000;

/// The simulator's GETs of a clip: (clip, status, range start, body bytes).
fn clip_gets(sim: &Sim) -> Vec<(String, Option<u16>, u64, u64)> {
    sim.requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.cmd.is_none() && r.clip.is_some())
        .map(|r| (r.clip.unwrap(), r.status, r.range_start, r.body_bytes))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_range_is_read_exactly_with_206() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let name = rec.file_name().as_str().to_owned();
    let want = sim.clip_bytes(&name).unwrap();
    for (offset, len) in [(0, 1), (0, 4096), (123_457, 32_768), (SIZE - 1000, 1000)] {
        let got = c.read_range(rec, offset, len).await.unwrap();
        let (o, l) = (
            usize::try_from(offset).unwrap(),
            usize::try_from(len).unwrap(),
        );
        assert_eq!(&got[..], &want[o..o + l], "{offset} {len}");
    }
    let gets = clip_gets(&sim);
    assert_eq!(
        gets,
        [
            (name.clone(), Some(206), 0, 1),
            (name.clone(), Some(206), 0, 4096),
            (name.clone(), Some(206), 123_457, 32_768),
            (name.clone(), Some(206), SIZE - 1000, 1000),
        ],
        "one request per read, only the bytes asked for"
    );
    assert_eq!(c.connections_in_use(), 0);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn bad_requests_are_refused_before_sending() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    for (offset, len) in [
        (0, 0),
        (SIZE - 10, 11),
        (SIZE, 1),
        (0, MAX_RANGE_LEN + 1),
        (u64::MAX, 2),
    ] {
        let e = c.read_range(rec, offset, len).await.unwrap_err();
        assert!(
            e.is_invalid_input() && !e.is_retryable(),
            "{offset} {len}: {e}"
        );
    }
    assert!(clip_gets(&sim).is_empty(), "nothing was sent");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_range_reader_knows_the_size_and_counts() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    let before = sim.requests().len();
    let mut r = c.range_reader(rec).await.unwrap();
    assert_eq!(
        sim.requests().len(),
        before,
        "the XML size is exact: no HEAD"
    );
    assert_eq!((r.size(), r.recording()), (SIZE, rec));
    assert_eq!(&r.read_at(10, 90).await.unwrap()[..], &want[10..100]);
    assert_eq!(
        &r.read_at(SIZE - 8, 8).await.unwrap()[..],
        &want[want.len() - 8..]
    );
    let e = r.read_at(SIZE - 8, 9).await.unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    assert_eq!((r.requests(), r.bytes_requested()), (2, 98));

    // A rounded (HTML) size is not enough: HEAD gives the exact one.
    let html = c.list(ListSource::Html).await.unwrap();
    let approx = html.recordings[0].clone();
    assert!(approx.size().exact().is_none());
    let mut r = c.range_reader(&approx).await.unwrap();
    assert_eq!(r.size(), SIZE);
    assert!(sim.requests().iter().any(|q| q.method == "HEAD"));
    assert_eq!(
        &r.read_at(SIZE - 8, 8).await.unwrap()[..],
        &want[want.len() - 8..]
    );
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_camera_ignoring_range_is_refused_without_reading_the_clip() {
    const BIG: u64 = 20_000_000;
    const RATE: u64 = 200_000;
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(BIG))
            .bandwidth(RATE)
            .ignore_range(true),
    )
    .await
    .unwrap();
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let started = Instant::now();
    let e = c.read_range(rec, 1000, 100).await.unwrap_err();
    let took = started.elapsed();
    assert!(e.is_range_ignored() && !e.is_retryable(), "{e}");
    assert!(e.to_string().contains("ignores Range"), "{e}");
    // The whole clip would take BIG / RATE = 100 s on this link.
    assert!(
        took < Duration::from_secs(5),
        "the body was not read: {took:?}"
    );
    assert_eq!(c.connections_in_use(), 0);
    assert!(sim.downloaded().is_empty());
    // RangeReader says the same.
    let mut r = c.range_reader(rec).await.unwrap();
    assert!(r.read_at(0, 10).await.unwrap_err().is_range_ignored());
    assert!(Instant::now().duration_since(started) < Duration::from_secs(10));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_content_range_for_other_bytes_is_refused() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    // A clip believed larger than it is (a rounded size): the camera answers
    // the bytes it has, which are not the bytes asked for.
    let bigger = Recording::from_listed_path(rec.listed_path(), Size::Approx(2 * SIZE)).unwrap();
    let e = c.read_range(&bigger, SIZE - 100, 1000).await.unwrap_err();
    assert!(
        !e.is_retryable() && !e.is_range_ignored() && !e.is_invalid_input(),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("bytes {}-{}", SIZE - 100, SIZE - 1)),
        "{msg}"
    );
    assert!(msg.contains("instead"), "{msg}");
    assert_eq!(clip_gets(&sim).len(), 1, "it was sent");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_content_range_total_other_than_the_listed_size_is_refused() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    // The clip grows after the listing (still being finalised).
    assert!(sim.grow_clip(rec.file_name().as_str(), 4096));
    let e = c.read_range(rec, 0, 100).await.unwrap_err();
    assert!(e.is_retryable(), "a fresh listing's size will do: {e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&SIZE.to_string()) && msg.contains(&(SIZE + 4096).to_string()),
        "{msg}"
    );
    // With the new size it reads.
    let rec = &list(&c).await[0];
    assert_eq!(rec.size().exact(), Some(SIZE + 4096));
    c.read_range(rec, 0, 100).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn short_cut_and_stalled_bodies_are_refused_and_retryable() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    for fault in [
        Fault::close_after(5000),
        Fault::drop_after(5000),
        Fault::stall(5000, Duration::from_secs(3600)),
    ] {
        let kind = format!("{fault:?}");
        sim.inject(fault.on(Target::Download));
        let e = c.read_range(rec, 1000, 20_000).await.unwrap_err();
        assert!(e.is_retryable() && !e.is_range_ignored(), "{kind}: {e}");
        assert!(
            format!("{e:#}").contains("bytes 1000-20999"),
            "{kind}: {e:#}"
        );
        assert_eq!(c.connections_in_use(), 0);
        // The retry the predicate allows gets every byte.
        let got = c.read_range(rec, 1000, 20_000).await.unwrap();
        assert_eq!(&got[..], &want[1000..21_000], "{kind}");
    }
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_missing_clip_is_not_found() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    assert!(sim.remove_clip(rec.file_name().as_str()));
    let e = c.read_range(rec, 0, 100).await.unwrap_err();
    assert!(e.is_not_found() && !e.is_retryable(), "{e}");
    sim.shutdown().await;
}

/// Says when a download's first bytes arrive (it then holds its slot).
struct FirstChunk(Option<oneshot::Sender<()>>);

impl ChunkObserver for FirstChunk {
    fn reset(&mut self) {}
    fn chunk(&mut self, _bytes: &[u8]) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A camera whose first clip's body pauses for 1 s after 100 kB (below the
/// tests' 2 s idle timeout), so a download of it holds a slot for a while,
/// and every answer takes 20 ms (so the log's order is the requests').
async fn slow_first_clip(max_connections: usize) -> (Sim, Client, Vec<Recording>) {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(SIZE))
            .latency(Duration::from_millis(20)),
    )
    .await
    .unwrap();
    let mut cfg = config(&sim);
    cfg.max_connections = max_connections;
    let c = Client::new(cfg).unwrap();
    let recs = list(&c).await;
    sim.inject(
        Fault::stall(100_000, Duration::from_secs(1))
            .on(Target::PathContains(
                recs.first().unwrap().file_name().as_str().to_owned(),
            ))
            .always(),
    );
    (sim, c, recs)
}

/// Starts downloading `rec` and returns once its body is flowing.
async fn holding_download(
    c: &Client,
    rec: &Recording,
    dir: &std::path::Path,
) -> tokio::task::JoinHandle<()> {
    let (tx, rx) = oneshot::channel();
    let (c2, rec, dest) = (c.clone(), rec.clone(), dir.join(rec.file_name()));
    let task = tokio::spawn(async move {
        let mut obs = FirstChunk(Some(tx));
        c2.download(&rec, &dest, DownloadOptions::new().observer(&mut obs))
            .await
            .unwrap();
    });
    rx.await.unwrap();
    assert_eq!(c.connections_in_use(), 1);
    task
}

/// Lets every other task run until it waits (on a socket, timer or slot).
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_waiting_download_gets_the_slot_before_an_earlier_waiting_ranged_read() {
    let (sim, c, recs) = slow_first_clip(1).await;
    let dir = tempfile::tempdir().unwrap();
    let a = holding_download(&c, &recs[0], dir.path()).await;
    // The only slot is A's. A ranged read queues first, a download second.
    let r = tokio::spawn({
        let (c, rec) = (c.clone(), recs[2].clone());
        async move { c.read_range(&rec, 0, 1000).await.unwrap() }
    });
    settle().await;
    let b = tokio::spawn({
        let (c, rec, dest) = (
            c.clone(),
            recs[1].clone(),
            dir.path().join(recs[1].file_name()),
        );
        async move {
            c.download(&rec, &dest, DownloadOptions::new())
                .await
                .unwrap();
        }
    });
    settle().await;
    assert!(!a.is_finished() && !r.is_finished() && !b.is_finished());
    a.await.unwrap();
    r.await.unwrap();
    b.await.unwrap();

    let order: Vec<(String, String, Option<u16>)> = sim
        .requests()
        .into_iter()
        .filter(|q| q.cmd.is_none())
        .map(|q| (q.method, q.clip.unwrap_or_default(), q.status))
        .collect();
    let (a, b, r) = (
        recs[0].file_name().as_str(),
        recs[1].file_name().as_str(),
        recs[2].file_name().as_str(),
    );
    let at = |m: &str, clip: &str| {
        order
            .iter()
            .position(|(qm, qc, _)| qm == m && qc == clip)
            .unwrap()
    };
    // A's GET ends, then B's GET (B was waiting; the listing's exact size
    // needs no HEAD) goes before the ranged read that queued earlier.
    assert!(at("GET", a) < at("GET", b), "{order:?}");
    assert!(at("GET", b) < at("GET", r), "{order:?}");
    assert_eq!(order[at("GET", r)].2, Some(206));
    assert_eq!(sim.peak_connections(), 1);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_ranged_read_never_takes_the_last_free_slot() {
    let (sim, c, recs) = slow_first_clip(2).await;
    let dir = tempfile::tempdir().unwrap();
    let a = holding_download(&c, &recs[0], dir.path()).await;
    // One slot is A's, one is free: the last, kept for downloads.
    let r = tokio::spawn({
        let (c, rec) = (c.clone(), recs[2].clone());
        async move { c.read_range(&rec, 0, 1000).await.unwrap() }
    });
    // A download still gets the free slot at once, beside A.
    let dest = dir.path().join(recs[1].file_name());
    c.download(&recs[1], &dest, DownloadOptions::new())
        .await
        .unwrap();
    assert!(!a.is_finished(), "B ran while A still held its slot");
    assert!(
        !r.is_finished(),
        "the read waits for A although a slot was free"
    );
    a.await.unwrap();
    r.await.unwrap();
    let order: Vec<_> = clip_gets(&sim).into_iter().map(|g| (g.0, g.1)).collect();
    let r_name = recs[2].file_name().as_str();
    assert_eq!(
        order.last(),
        Some(&(r_name.to_owned(), Some(206))),
        "the read went only after A's GET ended: {order:?}"
    );
    assert_eq!(sim.peak_connections(), 2);
    sim.shutdown().await;
}

/// The head of a clip: asked as a range; from a camera that ignores Range,
/// the whole body's first bytes, the rest unread (20 MB at 200 kB/s would
/// take 100 s of the paused clock), its connection given back.
#[tokio::test(start_paused = true)]
async fn the_head_of_a_clip_even_from_a_camera_ignoring_range() {
    const BIG: u64 = 20_000_000;
    for ignore in [false, true] {
        let sim = Sim::start(
            SimConfig::default()
                .with_clips(ClipSpec::synthetic(1).size(BIG))
                .bandwidth(200_000)
                .ignore_range(ignore),
        )
        .await
        .unwrap();
        let c = client(&sim);
        let rec = &list(&c).await[0];
        let want = sim
            .clip_bytes_at(rec_folder(&sim), rec.file_name().as_str())
            .unwrap();
        let started = Instant::now();
        let got = c.read_head(rec, 4096).await.unwrap();
        assert_eq!(got.as_ref(), &want[..4096], "ignore Range {ignore}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "ignore {ignore}"
        );
        assert_eq!(c.connections_in_use(), 0);
        if ignore {
            assert!(sim.downloaded().is_empty(), "the whole clip was sent");
        }
        sim.shutdown().await;
    }
}

fn rec_folder(sim: &Sim) -> viofo_sim::Folder {
    sim.clips().first().map(|c| c.folder).unwrap()
}
