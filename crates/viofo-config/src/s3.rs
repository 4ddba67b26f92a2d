//! The object archive's rows of the settings table (`archive =
//! "s3://bucket/prefix"`, issue 23): the store's endpoint and region, the
//! credentials (shown as `***`, never logged) and the local staging folder.

use super::parse::parse_path;
use super::row::{Accepts, BASE, Key};

fn text(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|t| !t.is_empty())
}

fn shown(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(unset)".to_owned())
}

/// `s3_endpoint`.
pub(crate) const ENDPOINT: Key = Key {
    name: "s3_endpoint",
    env: "VIOFOSYNC_S3_ENDPOINT",
    accepts: Accepts::Text("an http(s) URL (default: AWS S3, or AWS_ENDPOINT_URL)"),
    help: "with archive = s3://…: the S3-compatible store's endpoint (Garage, MinIO, B2, …)",
    apply: |s, v| {
        s.s3.endpoint = text(v);
        if let Some(e) = &s.s3.endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err("must start with http:// or https://".into());
        }
        Ok(())
    },
    show: |s| shown(&s.s3.endpoint),
    ..BASE
};

/// `s3_region`.
pub(crate) const REGION: Key = Key {
    name: "s3_region",
    env: "VIOFOSYNC_S3_REGION",
    accepts: Accepts::Text("a region name (default: AWS_REGION, else us-east-1)"),
    help: "with archive = s3://…: the store's region (Garage's default is `garage`)",
    apply: |s, v| {
        s.s3.region = text(v);
        Ok(())
    },
    show: |s| shown(&s.s3.region),
    ..BASE
};

/// `s3_access_key_id`.
pub(crate) const ACCESS_KEY_ID: Key = Key {
    name: "s3_access_key_id",
    env: "VIOFOSYNC_S3_ACCESS_KEY_ID",
    accepts: Accepts::Text("a key id (default: AWS_ACCESS_KEY_ID)"),
    help: "with archive = s3://…: the access key id",
    apply: |s, v| {
        s.s3.access_key_id = text(v);
        Ok(())
    },
    show: |s| shown(&s.s3.access_key_id),
    ..BASE
};

/// `s3_secret_access_key`: never printed (`***`) or logged.
pub(crate) const SECRET_ACCESS_KEY: Key = Key {
    name: "s3_secret_access_key",
    env: "VIOFOSYNC_S3_SECRET_ACCESS_KEY",
    accepts: Accepts::Text("a secret (shown as ***; default: AWS_SECRET_ACCESS_KEY)"),
    help: "with archive = s3://…: the secret access key",
    apply: |s, v| {
        s.s3.secret_access_key = text(v);
        Ok(())
    },
    show: |s| {
        s.s3.secret_access_key
            .as_ref()
            .map_or_else(|| "(unset)".to_owned(), |_| "***".to_owned())
    },
    ..BASE
};

/// `s3_staging`.
pub(crate) const STAGING: Key = Key {
    name: "s3_staging",
    env: "VIOFOSYNC_S3_STAGING",
    accepts: Accepts::Text("a folder path on local disk (created when missing)"),
    help: "with archive = s3://…: where clips are downloaded before their upload (default: \
           `staging` beside the state database)",
    doc_default: Some("<state_db's folder>/staging"),
    apply: |s, v| {
        s.s3_staging = Some(parse_path(v)?);
        Ok(())
    },
    show: |s| {
        s.s3_staging.as_ref().map_or_else(
            || "(beside the state database)".to_owned(),
            |p| p.display().to_string(),
        )
    },
    ..BASE
};
