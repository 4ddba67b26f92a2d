//! The value parsers every source goes through: UTC offsets.

use time::UtcOffset;
use viofo_config::parse_utc_offset;

#[test]
fn utc_offsets() {
    let ok = |s: &str, h: i8, m: i8| {
        assert_eq!(
            parse_utc_offset(s),
            Ok(UtcOffset::from_hms(h, m, 0).unwrap()),
            "{s}"
        );
    };
    ok("+02:00", 2, 0);
    ok("-05:30", -5, -30);
    ok("+0545", 5, 45);
    ok("-3", -3, 0);
    ok("+00:00", 0, 0);
    ok("Z", 0, 0);
    ok("+14:00", 14, 0);
    for bad in [
        "",
        "02:00",
        "+2:5",
        "+02:60",
        "+19:00",
        "+aa:bb",
        "+02:00:00",
        "++02",
        "+",
        "+123:00",
    ] {
        assert!(parse_utc_offset(bad).is_err(), "{bad:?} accepted");
    }
}
