//! The archive on S3-compatible object storage: its settings (always
//! compiled, so configuration can name them) and, with the `s3` feature,
//! the store that uploads staged clips and their sidecars to a bucket
//! without ever replacing an object.
//!
//! With `archive = "s3://bucket/prefix"` the archive folder becomes local
//! staging: downloads, resumes and sidecars happen there exactly as in a
//! folder archive, and the tail uploads each clip and its sidecars before
//! the clip may join the pending deletes. A clip counts as safe to delete
//! only once its object is complete in the bucket: its size and ETag (the
//! MD5 of a single-part object, the MD5 of the parts' MD5s and their count
//! for a multipart one, computed here from the staged bytes) read back
//! with a `HEAD` equal the staged file's.

#[cfg(feature = "s3")]
mod store;

#[cfg(feature = "s3")]
pub use store::{ObjectArchive, ObjectError, Uploaded};

/// Where an object archive is and how to reach it. Credentials left out
/// come from the usual `AWS_*` environment variables.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ObjectConfig {
    /// `s3://bucket/prefix` (the prefix may be empty).
    pub url: String,
    /// The store's endpoint (`https://s3.example.net`, or `http://…` for a
    /// store on loopback); `None`: AWS S3 (or `AWS_ENDPOINT_URL`).
    pub endpoint: Option<String>,
    /// The region (`None`: `AWS_REGION`, else `us-east-1`; Garage's default
    /// region is `garage`).
    pub region: Option<String>,
    /// The access key id (`None`: `AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// The secret key (`None`: `AWS_SECRET_ACCESS_KEY`). Never printed.
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for ObjectConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectConfig")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl ObjectConfig {
    /// Is `archive` an object archive's URL rather than a folder?
    pub fn is_object_url(archive: &str) -> bool {
        archive.starts_with("s3://")
    }

    /// The bucket and the prefix (without a trailing `/`) of `url`, or why
    /// it is not one.
    pub fn bucket_and_prefix(&self) -> Result<(String, String), String> {
        let rest = self
            .url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{}: an object archive is s3://bucket/prefix", self.url))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(format!(
                "{}: the bucket name must be 3 to 63 lowercase letters, digits, '-' or '.'",
                self.url
            ));
        }
        if prefix
            .split('/')
            .any(|p| p == "." || p == ".." || p.chars().any(char::is_control))
        {
            return Err(format!(
                "{}: the prefix has '.', '..' or control characters",
                self.url
            ));
        }
        Ok((bucket.to_owned(), prefix.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::ObjectConfig;

    fn parse(url: &str) -> Result<(String, String), String> {
        ObjectConfig {
            url: url.into(),
            ..ObjectConfig::default()
        }
        .bucket_and_prefix()
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse("s3://dashcam").unwrap(),
            ("dashcam".into(), String::new())
        );
        assert_eq!(
            parse("s3://dashcam/van-3/").unwrap(),
            ("dashcam".into(), "van-3".into())
        );
        assert!(parse("/srv/dashcam").is_err());
        assert!(parse("s3://Bad_Bucket/x").is_err());
        assert!(parse("s3://dashcam/../x").is_err());
        assert!(parse("s3://ab").is_err());
    }

    #[test]
    fn the_secret_is_never_printed() {
        let c = ObjectConfig {
            url: "s3://dashcam".into(),
            secret_access_key: Some("hunter2-secret".into()),
            ..ObjectConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
