//! Disk usage of the archive's filesystem.

use std::path::Path;

/// Space on the filesystem holding a path, as `df` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    /// Bytes usable by an unprivileged user in all (used + available).
    pub total: u64,
    /// Bytes in use.
    pub used: u64,
}

impl DiskSpace {
    /// Reads the filesystem that holds `path`.
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let st = rustix::fs::statvfs(path).map_err(std::io::Error::from)?;
        let frsize = st.f_frsize.max(1);
        let used_blocks = st.f_blocks.saturating_sub(st.f_bfree);
        let used = used_blocks.saturating_mul(frsize);
        let avail = st.f_bavail.saturating_mul(frsize);
        Ok(Self {
            total: used.saturating_add(avail),
            used,
        })
    }

    /// Percentage of the space in use (0 when the filesystem reports no size).
    #[allow(clippy::cast_precision_loss)]
    pub fn used_percent(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.used as f64 * 100.0 / self.total as f64
        }
    }

    /// The usage after `bytes` more are freed.
    pub fn after_freeing(&self, bytes: u64) -> Self {
        Self {
            total: self.total,
            used: self.used.saturating_sub(bytes),
        }
    }

    /// Bytes still available.
    pub fn available(&self) -> u64 {
        self.total.saturating_sub(self.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_and_freeing() {
        let d = DiskSpace {
            total: 1000,
            used: 900,
        };
        assert!((d.used_percent() - 90.0).abs() < 1e-9);
        let after = d.after_freeing(400);
        assert_eq!(after.used, 500);
        assert_eq!(after.available(), 500);
        assert_eq!(d.after_freeing(5000).used, 0);
        assert_eq!(DiskSpace { total: 0, used: 0 }.used_percent(), 0.0);
    }

    #[test]
    fn reads_a_real_filesystem() {
        let d = DiskSpace::of(Path::new(".")).unwrap();
        assert!(d.total > 0 && d.used <= d.total, "{d:?}");
    }
}
