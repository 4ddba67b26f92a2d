//! Feed arbitrary bytes to the file path and to the streaming path (split
//! at a point chosen by the first input byte); both must not panic and
//! must agree.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use viofo_gps::{Options, StreamExtractor, extract_reader};

fuzz_target!(|data: &[u8]| {
    let opts = Options::default();
    let (split, bytes) = match data.split_first() {
        Some((&s, rest)) => (usize::from(s) * 97, rest),
        None => (0, data),
    };
    let file = extract_reader(Cursor::new(bytes), &opts);
    let mut s = StreamExtractor::new(opts);
    let (a, b) = bytes.split_at(split.min(bytes.len()));
    s.push(a);
    for chunk in b.chunks(4093) {
        s.push(chunk);
    }
    match (file, s.finish()) {
        (Ok(x), Ok(y)) => assert_eq!(x, y),
        (Err(x), Err(y)) => assert_eq!(x.is_not_mp4(), y.is_not_mp4()),
        (x, y) => panic!("paths disagree: {x:?} vs {y:?}"),
    }
});
