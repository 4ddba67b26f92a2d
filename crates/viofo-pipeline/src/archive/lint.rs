//! The archive type is the only writer into the archive: a test that reads
//! the pipeline's sources and fails when a file-system write appears
//! outside `src/archive/` (save the few places listed, which write
//! elsewhere: the `--move` removal of a card's sources, the dry run's
//! scratch copy of the store in the temp folder).

use std::path::{Path, PathBuf};

/// Calls that create, write, rename or remove files or folders.
const WRITES: &[&str] = &[
    "File::create(",
    "OpenOptions::new(",
    "::rename(",
    "::remove_file(",
    "::remove_dir",
    "::create_dir",
    "::hard_link(",
    "::write(",
    "::copy(",
    "::set_len(",
    "::set_permissions(",
];

/// Files allowed a write, with why: none of them writes into the archive.
const ALLOWED: &[(&str, &str)] = &[
    (
        "import/commit.rs",
        "removes a card's sources for --move (outside the archive; the guard against a source \
         that is an archived file is in the same file)",
    ),
    (
        "sync/dry_run.rs",
        "the dry run's scratch copy of the store, in the temp folder",
    ),
    (
        "doctor.rs",
        "the trial import's copy of a Python-tool database, in a scratch temp folder",
    ),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_file_system_write_outside_the_archive_type() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let is_test = rel.ends_with("tests.rs") || rel.contains("/tests/");
        if rel.starts_with("archive/") || is_test || ALLOWED.iter().any(|(a, _)| *a == rel) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        // Unit tests at the end of a file may write what they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in code.lines().enumerate() {
            let l = line.trim_start();
            if l.starts_with("//") || l.contains("archive::") {
                continue;
            }
            if WRITES.iter().any(|w| l.contains(w)) {
                found.push(format!("src/{rel}:{}: {}", i + 1, l));
            }
        }
    }
    assert!(
        found.is_empty(),
        "file-system writes outside src/archive/ (the archive type is the one writer into \
         the archive; move them there, or list the file in ALLOWED with why it writes \
         elsewhere):\n{}",
        found.join("\n")
    );
    // The lint sees what it is meant to: the archive's own writes.
    let own = std::fs::read_to_string(src.join("archive/durable.rs")).unwrap();
    assert!(WRITES.iter().filter(|w| own.contains(*w)).count() >= 3);
}
