//! Something at the camera's address answers the heartbeat with a body no
//! camera sends (issue 21): an HTML page, XML with another root, text, an
//! oversized body. Each is "HOST:PORT answers, but not as a Viofo camera",
//! never retried as a short read; a camera's answer cut short stays one.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;

use viofo_client::{Client, ClientConfig};

/// A web server on 127.0.0.1 (port 0) that answers every request with
/// `reply` (head and body as given) and closes the connection; its
/// address as `host:port`.
fn serve(reply: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let at = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(buf.get(..n).unwrap_or_default()),
                }
            }
            let _ = s.write_all(&reply);
        }
    });
    at
}

/// A 200 with `body`, with or without a Content-Length (cameras often
/// send none and close).
fn ok_reply(content_type: &str, body: &[u8], length: bool) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n");
    if length {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("Connection: close\r\n\r\n");
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

async fn probe(at: &str) -> viofo_client::Error {
    let c = Client::new(ClientConfig::new(format!("http://{at}"))).unwrap();
    c.probe().await.unwrap_err()
}

#[tokio::test]
async fn a_heartbeat_no_camera_sends_is_not_a_dashcam() {
    let big = {
        let mut b =
            b"<?xml version=\"1.0\"?>\n<Function><Cmd>3016</Cmd><Status>0</Status>".to_vec();
        b.resize(1_100_000, b' ');
        b.extend_from_slice(b"</Function>");
        b
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "an HTML page",
            ok_reply(
                "text/html",
                b"<!DOCTYPE html>\n<html><head><title>Router</title></head><body>Login</body></html>",
                true,
            ),
            "an HTML page",
        ),
        (
            "an HTML page without a doctype, well-formed",
            ok_reply(
                "text/html",
                b"<html><head><title>NAS</title></head><body><p>hi</p></body></html>",
                false,
            ),
            "<html> instead of <Function>",
        ),
        (
            "XML with another root",
            ok_reply(
                "text/xml",
                b"<?xml version=\"1.0\"?><LIST><Status>0</Status></LIST>",
                true,
            ),
            "<LIST> instead of <Function>",
        ),
        (
            "garbage that is not XML",
            ok_reply("text/plain", b"hello, this is not a camera &&& <<", true),
            "not the camera's XML",
        ),
        (
            "garbage XML",
            ok_reply("text/xml", b"<Function><Cmd>3016</Status></Function>", true),
            "not the camera's XML",
        ),
        (
            "an oversized body without a length",
            ok_reply("text/xml", &big, false),
            "an answer over",
        ),
        (
            "an oversized body by its length",
            ok_reply("text/xml", &big, true),
            "an answer over",
        ),
    ];
    for (what, reply, says) in cases {
        let at = serve(reply);
        let e = probe(&at).await;
        assert!(e.is_not_dashcam(), "{what}: {e:#}");
        assert!(
            !e.is_retryable() && !e.is_offline() && !e.is_not_found(),
            "{what}: {e:#}"
        );
        assert!(e.to_string().contains(says), "{what}: {e}");
        assert_eq!(
            e.for_people(),
            Some(format!("{at} answers, but not as a Viofo camera")),
            "{what}: {e:#}"
        );
    }
}

/// The camera's own answer, ended early by the camera (no transport
/// error): a short read worth another try, not "not a camera".
#[tokio::test]
async fn a_cut_function_answer_is_still_a_short_read() {
    let at = serve(ok_reply(
        "text/xml",
        b"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<Function>\n<Cmd>3016</Cmd>\n<Sta",
        false,
    ));
    let e = probe(&at).await;
    assert!(!e.is_not_dashcam() && e.is_retryable(), "{e:#}");
    // A healthy answer from the same kind of server is a camera.
    let at = serve(ok_reply(
        "text/xml",
        b"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<Function>\n<Cmd>3016</Cmd>\n<Status>0</Status>\n</Function>",
        false,
    ));
    let c = Client::new(ClientConfig::new(format!("http://{at}"))).unwrap();
    c.probe().await.unwrap();
}
