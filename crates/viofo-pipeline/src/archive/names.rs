//! The archive's name for a second (third, …) recording under one camera
//! name: `<stem>~<n>.<ext>`.

/// `name` with version `n` (1 is the name itself):
/// `2025_1224_120324_000002PF.MP4`, 2 → `2025_1224_120324_000002PF~2.MP4`.
///
/// ```
/// use viofo_pipeline::archive::{unversioned_name, versioned_name};
/// assert_eq!(versioned_name("A.MP4", 1), "A.MP4");
/// assert_eq!(versioned_name("A.MP4", 3), "A~3.MP4");
/// assert_eq!(versioned_name("NOEXT", 2), "NOEXT~2");
/// assert_eq!(unversioned_name("A~3.MP4"), ("A.MP4".to_owned(), 3));
/// assert_eq!(unversioned_name("A.MP4"), ("A.MP4".to_owned(), 1));
/// ```
pub fn versioned_name(name: &str, n: u32) -> String {
    if n <= 1 {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}~{n}.{ext}"),
        _ => format!("{name}~{n}"),
    }
}

/// The camera name and the version of an archive file name (the inverse of
/// [`versioned_name`]; a name without a version is version 1).
pub fn unversioned_name(file: &str) -> (String, u32) {
    let (stem, ext) = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext)),
        _ => (file, None),
    };
    let Some((base, v)) = stem.rsplit_once('~') else {
        return (file.to_owned(), 1);
    };
    match v.parse::<u32>() {
        Ok(n) if n >= 2 && !base.is_empty() && !v.starts_with('0') => {
            let name = match ext {
                Some(e) => format!("{base}.{e}"),
                None => base.to_owned(),
            };
            (name, n)
        }
        _ => (file.to_owned(), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_and_versions() {
        for (name, n, want) in [
            (
                "2025_1224_120324_000002PF.MP4",
                2,
                "2025_1224_120324_000002PF~2.MP4",
            ),
            (
                "2025_1224_120324_000002PF.MP4",
                10,
                "2025_1224_120324_000002PF~10.MP4",
            ),
            (
                "20260827204333_000029.MP4",
                2,
                "20260827204333_000029~2.MP4",
            ),
            (".hidden", 2, ".hidden~2"),
            ("X.MP4", 1, "X.MP4"),
        ] {
            assert_eq!(versioned_name(name, n), want);
            assert_eq!(unversioned_name(want), (name.to_owned(), n.max(1)));
        }
        // Not versions: a tilde that is not followed by a number >= 2.
        for file in ["A~.MP4", "A~1.MP4", "A~02.MP4", "~2.MP4", "A~x.MP4"] {
            assert_eq!(unversioned_name(file), (file.to_owned(), 1), "{file}");
        }
    }

    proptest! {
        #[test]
        fn a_version_round_trips(stem in "[A-Z0-9_]{1,20}", ext in "[A-Z]{2,4}", n in 2u32..100_000) {
            let name = format!("{stem}.{ext}");
            prop_assert_eq!(unversioned_name(&versioned_name(&name, n)), (name, n));
        }
    }
}
