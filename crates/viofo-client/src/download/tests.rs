use super::*;

#[test]
fn content_range() {
    assert_eq!(
        parse_content_range("bytes 100-199/200"),
        Some((100, 199, Some(200)))
    );
    assert_eq!(parse_content_range("bytes 0-0/*"), Some((0, 0, None)));
    assert_eq!(parse_content_range("bytes 5-4/200"), None);
    assert_eq!(parse_content_range("bytes 100-299/200"), None);
    assert_eq!(parse_content_range("items 1-2/3"), None);
    assert_eq!(parse_content_range("bytes x-1/2"), None);
}

#[test]
fn part_beside_dest() {
    assert_eq!(
        part_path(Path::new("/a/b/x.MP4")).unwrap(),
        Path::new("/a/b/x.MP4.part")
    );
    assert!(part_path(Path::new("/")).unwrap_err().is_invalid_input());
    assert!(part_path(Path::new("a/..")).is_err());
}

#[test]
fn rates() {
    assert_eq!(rate(1000, Duration::from_secs(1)), 1000);
    assert_eq!(rate(5, Duration::ZERO), 5000);
}
