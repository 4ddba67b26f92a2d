//! Downloads: success, resume, Range ignored, stalls, errors, HEAD dropped,
//! cancellation.

use std::time::Duration;

use viofo_client::{
    CancellationToken, DownloadOptions, ListSource, Progress, SizeSource, part_path,
};
use viofo_sim::{ClipSpec, Fault, Sim, SimConfig, Target};

use crate::{Collect, client, list, sim_with};

const SIZE: u64 = 600_000;

#[tokio::test(start_paused = true)]
async fn full_download_feeds_observer_and_progress() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    let mut obs = Collect::default();
    let mut reports: Vec<Progress> = Vec::new();
    let mut progress = |p: Progress| reports.push(p);
    let d = c
        .download(
            rec,
            &dest,
            DownloadOptions::new()
                .observer(&mut obs)
                .progress(&mut progress),
        )
        .await
        .unwrap();
    assert_eq!(d.bytes, SIZE);
    assert_eq!(d.resumed_from, 0);
    // The XML listing's size is exact: no HEAD, one connection per clip.
    assert_eq!(d.size_source, SizeSource::Listing);
    assert_eq!(d.path, dest);
    assert_eq!(std::fs::read(&dest).unwrap(), want);
    assert!(!part_path(&dest).unwrap().exists());
    assert_eq!(obs.data, want);
    assert_eq!(obs.resets, 1);
    let last = reports.last().unwrap();
    assert_eq!((last.done, last.total), (SIZE, Some(SIZE)));
    assert!(reports.windows(2).all(|w| w[0].done <= w[1].done));
    assert_eq!(sim.downloaded(), [rec.file_name().as_str()]);
    assert!(
        !sim.requests().iter().any(|r| r.method == "HEAD"),
        "no HEAD when the listing gave the exact size: {:?}",
        sim.requests()
    );
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn html_sizes_are_checked_with_head() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let l = c.list(ListSource::Html).await.unwrap();
    let rec = &l.recordings[0];
    assert!(rec.size().exact().is_none());
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    let d = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap();
    assert_eq!(d.size_source, SizeSource::Head);
    assert_eq!(d.bytes, SIZE);
    let heads = sim.requests().iter().filter(|r| r.method == "HEAD").count();
    assert_eq!(heads, 1, "a rounded size needs its HEAD");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_clip_grown_since_the_listing_is_refused_and_left_for_later() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    assert!(sim.grow_clip(rec.file_name().as_str(), 1000));
    // The GET's Content-Length (SIZE + 1000) is not the listed size: the
    // bytes are not taken for the listed clip, and a later try may do.
    let e = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(e.to_string().contains("announces"), "{e}");
    assert!(!dest.exists());
    let part = part_path(&dest).unwrap();
    assert!(std::fs::metadata(&part).map_or(true, |m| m.len() == 0));
    // Listed again, the clip downloads at its new size.
    let rec = &list(&c).await[0];
    let d = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap();
    assert_eq!(d.bytes, SIZE + 1000);
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        sim.clip_bytes(rec.file_name().as_str()).unwrap()
    );
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn dropped_connection_resumes_with_range() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    let part = part_path(&dest).unwrap();

    sim.inject(Fault::drop_after(200_000).on(Target::Download));
    let mut obs = Collect::default();
    let e = c
        .download(rec, &dest, DownloadOptions::new().observer(&mut obs))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(!dest.exists(), "no partial file under the final name");
    let kept = std::fs::read(&part).unwrap();
    assert!(!kept.is_empty() && kept.len() <= 200_000, "{}", kept.len());
    assert_eq!(kept, want[..kept.len()]);

    // The same observer is reused: download resets it and replays the .part.
    let d = c
        .download(rec, &dest, DownloadOptions::new().observer(&mut obs))
        .await
        .unwrap();
    assert_eq!(d.resumed_from, kept.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), want);
    assert_eq!(obs.data, want, "observer saw every byte once, in order");
    let ranged: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.clip.is_some())
        .map(|r| r.range_start)
        .collect();
    // The resume asked again for the .part's last 64 KiB (compared with
    // it, not written), then the rest.
    let overlap = (kept.len() as u64).min(64 * 1024);
    assert_eq!(ranged, [0, kept.len() as u64 - overlap]);
    sim.shutdown().await;
}

/// A `.part` left by another recording under the same name (a card
/// formatted mid-download): its end is not the camera's, so it is started
/// over from byte 0 instead of being completed with this clip's tail.
#[tokio::test(start_paused = true)]
async fn a_part_of_another_recording_is_started_over() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    let part = part_path(&dest).unwrap();
    let other = vec![0x11u8; 100_000];
    std::fs::write(&part, &other).unwrap();
    let mut obs = Collect::default();
    let d = c
        .download(rec, &dest, DownloadOptions::new().observer(&mut obs))
        .await
        .unwrap();
    assert_eq!(d.resumed_from, 0);
    assert_eq!(std::fs::read(&dest).unwrap(), want);
    assert_eq!(obs.data, want, "the observer was reset");
    let ranged: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.clip.is_some())
        .map(|r| r.range_start)
        .collect();
    assert_eq!(ranged, [100_000 - 64 * 1024, 0]);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn camera_ignoring_range_restarts_from_zero() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(SIZE))
            .ignore_range(true),
    )
    .await
    .unwrap();
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    std::fs::write(part_path(&dest).unwrap(), &want[..1234]).unwrap();
    let mut obs = Collect::default();
    let d = c
        .download(rec, &dest, DownloadOptions::new().observer(&mut obs))
        .await
        .unwrap();
    assert_eq!(d.resumed_from, 0);
    assert_eq!(
        obs.resets, 2,
        "reset at start and again when Range was ignored"
    );
    assert_eq!(obs.data, want);
    assert_eq!(std::fs::read(&dest).unwrap(), want);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn stall_longer_than_idle_timeout_fails_in_bounded_time() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    sim.inject(Fault::stall(100_000, Duration::from_secs(3600)).on(Target::Download));
    let t0 = tokio::time::Instant::now();
    let e = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap_err();
    let took = t0.elapsed();
    assert!(e.is_retryable() && e.is_timeout(), "{e}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(!dest.exists());
    let kept = std::fs::metadata(part_path(&dest).unwrap()).unwrap().len();
    assert!(kept > 0 && kept <= 100_000, "{kept}");
    // And it resumes.
    let d = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap();
    assert_eq!((d.resumed_from, d.bytes), (kept, SIZE));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn server_error_and_not_found() {
    let sim = sim_with(2, 20_000).await;
    let c = client(&sim);
    let recs = list(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(recs[0].file_name());
    sim.inject(Fault::status(500).on(Target::Download));
    let e = c
        .download(&recs[0], &dest, DownloadOptions::new())
        .await
        .unwrap_err();
    assert!(e.is_retryable() && e.status() == Some(500), "{e}");
    assert!(e.to_string().contains(recs[0].remote_path()), "{e}");
    assert!(!dest.exists());

    assert!(sim.remove_clip(recs[1].file_name().as_str()));
    let dest = dir.path().join(recs[1].file_name());
    let e = c
        .download(&recs[1], &dest, DownloadOptions::new())
        .await
        .unwrap_err();
    assert!(e.is_not_found() && !e.is_retryable(), "{e}");
    assert!(!dest.exists());
    assert!(
        !part_path(&dest).unwrap().exists(),
        "no empty .part left behind"
    );
    let e = c.head(&recs[1]).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(c.head(&recs[0]).await.unwrap(), 20_000);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn head_dropped_uses_listing_size_and_never_accepts_a_short_body() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());

    sim.set_head_supported(false);
    sim.inject(Fault::close_after(300_000).on(Target::Download));
    let e = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(!dest.exists(), "a truncated body is never accepted");

    let d = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap();
    assert_eq!(d.size_source, SizeSource::Listing);
    assert_eq!(std::fs::read(&dest).unwrap(), want);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn head_dropped_with_html_sizes_relies_on_content_length() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let l = c.list(ListSource::Html).await.unwrap();
    let rec = &l.recordings[0];
    assert!(rec.size().exact().is_none());
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    sim.inject(Fault::drop_head());
    let d = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap();
    assert_eq!(d.size_source, SizeSource::ContentLength);
    assert_eq!(std::fs::read(&dest).unwrap(), want);

    // Short body with HEAD dropped and only a rounded size: refused.
    std::fs::remove_file(&dest).unwrap();
    sim.inject(Fault::drop_head());
    sim.inject(Fault::close_after(100_000).on(Target::Download));
    let e = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(!dest.exists());
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn offline_camera() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = list(&c).await.remove(0);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    let url = sim.base_url();
    sim.shutdown().await;
    let c = viofo_client::Client::new(viofo_client::ClientConfig::new(url)).unwrap();
    let e = c
        .download(&rec, &dest, DownloadOptions::new())
        .await
        .unwrap_err();
    assert!(e.is_offline() && e.is_retryable(), "{e}");
    assert!(!dest.exists());
}

#[tokio::test(start_paused = true)]
async fn offline_mid_download_keeps_the_part() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    sim.inject(Fault::offline(Duration::from_secs(30)).on(Target::Download));
    let e = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(!dest.exists());
    sim.go_online();
    c.download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap();
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), SIZE);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn cancellation_mid_body_and_mid_stall() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());

    // Cancelled from the observer after 100 kB have arrived.
    let token = CancellationToken::new();
    let mut obs = Collect {
        cancel_after: Some((100_000, token.clone())),
        ..Collect::default()
    };
    let e = c
        .download(
            rec,
            &dest,
            DownloadOptions::new().observer(&mut obs).cancel(token),
        )
        .await
        .unwrap_err();
    assert!(e.is_cancelled() && !e.is_retryable(), "{e}");
    assert!(!dest.exists());
    let kept = std::fs::metadata(part_path(&dest).unwrap()).unwrap().len();
    assert!((100_000..SIZE).contains(&kept), "{kept}");

    // Cancelled while the camera stalls (idle timeout far away).
    let mut cfg = crate::config(&sim);
    cfg.idle_timeout = Duration::from_secs(300);
    let c = viofo_client::Client::new(cfg).unwrap();
    sim.inject(Fault::stall(50_000, Duration::from_secs(3600)).on(Target::Download));
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        t.cancel();
    });
    let t0 = tokio::time::Instant::now();
    let e = c
        .download(rec, &dest, DownloadOptions::new().cancel(token))
        .await
        .unwrap_err();
    assert!(e.is_cancelled(), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert!(!dest.exists());
    // (The resume first asks again for the .part's last 64 KiB, compared
    // and not written: a stall inside them adds nothing.)
    assert!(std::fs::metadata(part_path(&dest).unwrap()).unwrap().len() >= kept);

    // An already-cancelled token sends nothing.
    let before = sim.requests().len();
    let token = CancellationToken::new();
    token.cancel();
    let e = c
        .download(rec, &dest, DownloadOptions::new().cancel(token))
        .await
        .unwrap_err();
    assert!(e.is_cancelled());
    assert_eq!(sim.requests().len(), before);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn odd_part_files() {
    let sim = sim_with(1, 50_000).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    let part = part_path(&dest).unwrap();

    // Longer than the clip: discarded.
    std::fs::write(&part, vec![7u8; 60_000]).unwrap();
    let d = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap();
    assert_eq!(d.resumed_from, 0);
    assert_eq!(std::fs::read(&dest).unwrap(), want);

    // Already complete: finished after one read of its end (here the whole
    // clip: it is shorter than 64 KiB) shows it is the camera's; the
    // observer still fed once.
    std::fs::remove_file(&dest).unwrap();
    std::fs::write(&part, &want).unwrap();
    let gets_before = sim.requests().iter().filter(|r| r.method == "GET").count();
    let mut obs = Collect::default();
    let d = c
        .download(rec, &dest, DownloadOptions::new().observer(&mut obs))
        .await
        .unwrap();
    assert_eq!(d.resumed_from, 50_000);
    assert_eq!(obs.data, want);
    let gets: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(gets.len(), gets_before + 1);
    assert_eq!(gets.last().map(|r| r.range_start), Some(0));
    assert!(!part.exists());

    // Destination without a file name.
    let e = c
        .download(rec, std::path::Path::new("/"), DownloadOptions::new())
        .await
        .unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    sim.shutdown().await;
}

/// A staged download leaves the complete file as its `.part` (never under
/// the final name); a later plain download of the clip finishes that
/// `.part` asking the camera only for its last 64 KiB, to compare.
#[tokio::test(start_paused = true)]
async fn a_staged_download_leaves_a_complete_part_for_the_caller() {
    let sim = sim_with(1, SIZE).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let want = sim.clip_bytes(rec.file_name().as_str()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(rec.file_name());
    let part = part_path(&dest).unwrap();
    let d = c
        .download(rec, &dest, DownloadOptions::new().staged())
        .await
        .unwrap();
    assert!(d.staged);
    assert_eq!(d.path, part);
    assert_eq!(d.bytes, SIZE);
    assert!(
        !dest.exists(),
        "never under the final name before the caller says"
    );
    assert_eq!(std::fs::read(&part).unwrap(), want);

    let before = sim.requests().len();
    let d = c
        .download(rec, &dest, DownloadOptions::new())
        .await
        .unwrap();
    assert!(!d.staged);
    assert_eq!(d.path, dest);
    assert_eq!(d.resumed_from, SIZE);
    assert_eq!(std::fs::read(&dest).unwrap(), want);
    assert!(!part.exists());
    let asked: Vec<_> = sim.requests()[before..]
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| (r.range_start, r.body_bytes))
        .collect();
    assert_eq!(
        asked,
        [(SIZE - 64 * 1024, 64 * 1024)],
        "only its end, again"
    );
    sim.shutdown().await;
}
