//! The checks a ranged read makes before sending and on the answer's head.

use super::*;

const W: &str = "bytes 100-199 of /DCIM/Movie/X.MP4";

fn answer(
    status: u16,
    content_range: Option<&str>,
    content_length: Option<u64>,
    size: Option<u64>,
) -> Result<(), Error> {
    check_answer(
        StatusCode::from_u16(status).unwrap(),
        content_range,
        content_length,
        (100, 199),
        size,
        W,
    )
}

#[test]
fn requests_refused_before_sending() {
    assert_eq!(last_byte(100, 100, Some(1000), W).unwrap(), 199);
    assert_eq!(last_byte(900, 100, Some(1000), W).unwrap(), 999);
    assert_eq!(last_byte(900, 100, None, W).unwrap(), 999);
    assert_eq!(
        last_byte(0, MAX_RANGE_LEN, None, W).unwrap(),
        MAX_RANGE_LEN - 1
    );
    for (offset, len, size) in [
        (0, 0, None),
        (0, MAX_RANGE_LEN + 1, None),
        (u64::MAX, 1, None),
        (u64::MAX - 5, 10, None),
        (901, 100, Some(1000)),
        (1000, 1, Some(1000)),
    ] {
        let e = last_byte(offset, len, size, W).unwrap_err();
        assert!(
            e.is_invalid_input() && !e.is_retryable(),
            "{offset} {len} {size:?}: {e}"
        );
    }
}

#[test]
fn an_exact_answer_passes() {
    answer(206, Some("bytes 100-199/1000"), Some(100), Some(1000)).unwrap();
    // No Content-Length (close-delimited body): the body is counted instead.
    answer(206, Some("bytes 100-199/1000"), None, Some(1000)).unwrap();
    // Size unknown (rounded listing): any total that holds the range.
    answer(206, Some("bytes 100-199/5000"), Some(100), None).unwrap();
    answer(206, Some("bytes 100-199/*"), Some(100), None).unwrap();
}

#[test]
fn a_whole_file_answer_says_range_is_ignored() {
    let e = answer(200, None, Some(1000), Some(1000)).unwrap_err();
    assert!(e.is_range_ignored() && !e.is_retryable(), "{e}");
    assert!(e.to_string().contains("ignores Range"), "{e}");
    assert!(e.to_string().contains(W), "{e}");
}

#[test]
fn other_statuses_classify_as_for_downloads() {
    assert!(answer(404, None, None, None).unwrap_err().is_not_found());
    let e = answer(416, Some("bytes */1000"), None, Some(1000)).unwrap_err();
    assert!(!e.is_retryable() && e.status() == Some(416), "{e}");
    assert!(answer(503, None, None, None).unwrap_err().is_retryable());
}

#[test]
fn a_content_range_for_other_bytes_is_refused() {
    for cr in [
        "bytes 0-99/1000",
        "bytes 100-198/1000",
        "bytes 100-200/1000",
        "bytes 101-199/1000",
        "bytes 100-999/1000",
    ] {
        let e = answer(206, Some(cr), None, Some(1000)).unwrap_err();
        assert!(!e.is_retryable() && !e.is_range_ignored(), "{cr}: {e}");
        assert!(e.to_string().contains("instead"), "{cr}: {e}");
    }
}

#[test]
fn a_missing_or_unusable_content_range_is_refused() {
    let long = format!("bytes {}", "9".repeat(500));
    for cr in [
        None,
        Some(""),
        Some("bytes=100-199/1000"),
        Some("bytes 199-100/1000"),
        Some("bytes 100-199/150"),
        Some("items 100-199/1000"),
        Some(long.as_str()),
    ] {
        let e = answer(206, cr, None, Some(1000)).unwrap_err();
        assert!(!e.is_retryable(), "{cr:?}: {e}");
        assert!(e.to_string().contains("Content-Range"), "{cr:?}: {e}");
        assert!(e.to_string().len() < 300, "untrusted text is cut: {e}");
    }
}

#[test]
fn a_total_other_than_the_known_size_is_refused() {
    // The clip grew or was replaced: worth another try with its new size.
    let e = answer(206, Some("bytes 100-199/2000"), None, Some(1000)).unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(e.to_string().contains("1000") && e.to_string().contains("2000"));
    // Unknown total while the size is known: cannot be checked.
    let e = answer(206, Some("bytes 100-199/*"), None, Some(1000)).unwrap_err();
    assert!(!e.is_retryable() && e.to_string().contains("1000"), "{e}");
}

#[test]
fn a_content_length_other_than_the_range_is_refused() {
    for cl in [99, 101, 1000] {
        let e = answer(206, Some("bytes 100-199/1000"), Some(cl), Some(1000)).unwrap_err();
        assert!(!e.is_retryable() && e.to_string().contains("Content-Length"));
    }
}
