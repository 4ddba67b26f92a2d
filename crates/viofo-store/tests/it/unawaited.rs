//! Writes nobody awaits are never lost silently: a failure is logged with
//! the clip and the command, and counted.

use std::path::Path;

use viofo_store::{ClipState, Stage};

use crate::common::{CAM, Logs, clip, fixture, id_of};

#[tokio::test]
async fn refused_unawaited_writes_are_logged_and_counted() {
    let logs = Logs::default();
    // Current-thread runtime: the writer task logs on this thread too.
    let _guard = logs.capture();

    let f = fixture().await;
    let s = &f.store;
    let c = clip(1, 0);
    s.reconcile(CAM, std::slice::from_ref(&c), |_| None)
        .await
        .unwrap();
    let id = id_of(s, &c.name).await;
    assert_eq!(s.unawaited_write_failures(), 0);

    // Successful unawaited writes count nothing.
    s.start_download(id, None).submit();
    s.record_timing(id, Stage::DownloadStarted, 1);
    s.flush().await.unwrap();
    assert_eq!(s.unawaited_write_failures(), 0);

    // A refused write nobody waits for (pending -> done is illegal here:
    // the clip is downloading), dropped or submitted.
    drop(s.finish_tail(id));
    s.set_gps(id, viofo_store::GpsSummary::default()).submit();
    s.flush().await.unwrap();
    assert_eq!(s.unawaited_write_failures(), 2);
    let text = logs.text();
    assert!(text.contains("finishing a tail"), "{text}");
    assert!(text.contains("recording a GPS summary"), "{text}");
    assert!(text.contains(&id.to_string()), "{text}");

    // Refused before it reaches the writer (a path that is not UTF-8).
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bad = Path::new(std::ffi::OsStr::from_bytes(b"/a/\xff.mp4"));
        s.finish_download(id, bad, 1).submit();
        assert_eq!(s.unawaited_write_failures(), 3);
        assert!(logs.text().contains("recording a download"));
    }

    // An awaited failure is the caller's to handle: not counted.
    let before = s.unawaited_write_failures();
    assert!(s.finish_tail(id).await.unwrap_err().is_illegal_transition());
    assert_eq!(s.unawaited_write_failures(), before);
    assert_eq!(
        s.get(id).await.unwrap().unwrap().state,
        ClipState::Downloading
    );

    // Writes after close fail as closed: counted too when not awaited.
    s.close().await.unwrap();
    s.release(id).submit();
    assert_eq!(s.unawaited_write_failures(), before + 1);
}
