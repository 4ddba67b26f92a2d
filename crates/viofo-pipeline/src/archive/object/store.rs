//! The bucket an object archive uploads into: a staged file becomes an
//! object under a key that no other object has, checked complete (size and
//! ETag read back) before it counts as archived.

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::path::Path as Key;
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
};

use super::ObjectConfig;
use crate::archive::versioned_name;

/// The size of an upload's parts: a clip larger than one part is uploaded
/// in parts, one part in memory at a time.
pub(crate) const PART: u64 = 8 * 1024 * 1024;

/// How many versioned keys (`~2`, `~3`, …) are tried before giving up.
const MAX_VERSIONS: u32 = 1000;

/// A failed upload or check. The clip stays staged and on the camera.
#[derive(Debug)]
pub struct ObjectError {
    msg: String,
    unreachable: bool,
}

impl std::fmt::Display for ObjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for ObjectError {}

impl ObjectError {
    fn new(msg: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            unreachable: false,
        }
    }

    fn store(what: &str, key: &Key, e: &object_store::Error) -> Self {
        // Anything but a definite answer about the object (a refused or
        // cut connection, a timeout, a 5xx after the retries) means the
        // store cannot be reached for now.
        let unreachable = matches!(e, object_store::Error::Generic { .. });
        Self {
            msg: format!("{what} {key}: {e}"),
            unreachable,
        }
    }

    /// The store could not be reached (rather than answering no): the
    /// rest of the cycle leaves its uploads for a later one.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable
    }
}

/// A staged file complete in the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// Its key.
    pub key: String,
    /// Its size.
    pub size: u64,
    /// Its ETag (without quotes).
    pub etag: String,
    /// It was there already with these bytes (an earlier run, or another
    /// host, uploaded it): nothing was sent.
    pub existed: bool,
}

/// The staged file's size and expected ETag, computed from its bytes.
struct Digests {
    size: u64,
    etag: String,
}

/// An object archive: a bucket and a prefix. Cheap to share.
#[derive(Debug, Clone)]
pub struct ObjectArchive {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
    down: Arc<Mutex<Down>>,
}

/// The back-off after the store could not be reached: no upload is tried
/// before `until`; the wait doubles from 15 s up to 5 min.
#[derive(Debug, Default)]
struct Down {
    until: Option<Instant>,
    wait: Duration,
    last: String,
}

const FIRST_WAIT: Duration = Duration::from_secs(15);
const LONGEST_WAIT: Duration = Duration::from_secs(300);

impl ObjectArchive {
    /// The store for `cfg`: no request is made. Credentials not in `cfg`
    /// come from the `AWS_*` environment variables.
    pub fn open(cfg: &ObjectConfig) -> Result<Self, ObjectError> {
        let (bucket, prefix) = cfg.bucket_and_prefix().map_err(ObjectError::new)?;
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            // Never replace an object: `If-None-Match: *` on single puts.
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(20),
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(120))
                    .with_allow_http(
                        cfg.endpoint
                            .as_deref()
                            .is_some_and(|e| e.starts_with("http://")),
                    ),
            );
        if let Some(e) = &cfg.endpoint {
            b = b
                .with_endpoint(e)
                .with_virtual_hosted_style_request(false)
                .with_allow_http(e.starts_with("http://"));
        }
        if let Some(r) = &cfg.region {
            b = b.with_region(r);
        }
        if let Some(k) = &cfg.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(s) = &cfg.secret_access_key {
            b = b.with_secret_access_key(s);
        }
        let store = b
            .build()
            .map_err(|e| ObjectError::new(format!("{}: {e}", cfg.url)))?;
        Ok(Self {
            store: Arc::new(store),
            bucket,
            prefix,
            down: Arc::default(),
        })
    }

    /// The object at `key`, whole (small objects and tests).
    pub async fn read(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        let k = to_key(key);
        let got = self
            .store
            .get(&k)
            .await
            .map_err(|e| ObjectError::store("reading", &k, &e))?;
        let bytes = got
            .bytes()
            .await
            .map_err(|e| ObjectError::store("reading", &k, &e))?;
        Ok(bytes.to_vec())
    }

    /// The size and ETag (without quotes) of the object at `key`, if any.
    pub async fn stat(&self, key: &str) -> Result<Option<(u64, String)>, ObjectError> {
        Ok(self.head(&to_key(key)).await?.map(|m| {
            let etag = m.e_tag.unwrap_or_default().trim_matches('"').to_owned();
            (m.size, etag)
        }))
    }

    /// Every key under the prefix, sorted.
    pub async fn keys(&self) -> Result<Vec<String>, ObjectError> {
        use futures_util::TryStreamExt as _;
        let k = to_key(self.prefix.as_str());
        let mut keys: Vec<String> = self
            .store
            .list(Some(&k))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .map_err(|e| ObjectError::store("listing", &k, &e))?;
        keys.sort();
        Ok(keys)
    }

    /// `s3://bucket/prefix`, for messages.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// The key a staged file at `relative` (to the staging folder) wants:
    /// the prefix and its path, `/`-separated. `None` for a path that is
    /// not plain names.
    pub fn key_for(&self, relative: &Path) -> Option<String> {
        let mut parts: Vec<&str> = Vec::new();
        if !self.prefix.is_empty() {
            parts.push(&self.prefix);
        }
        for c in relative.components() {
            match c {
                std::path::Component::Normal(n) => parts.push(n.to_str()?),
                _ => return None,
            }
        }
        (parts.len() > usize::from(!self.prefix.is_empty())).then(|| parts.join("/"))
    }

    /// Checks that the bucket answers (a listing of at most the prefix).
    pub async fn check(&self) -> Result<(), ObjectError> {
        let key = to_key(self.prefix.as_str());
        self.store
            .list_with_delimiter(Some(&key))
            .await
            .map(|_| ())
            .map_err(|e| ObjectError::store("listing", &key, &e))
    }

    /// Uploads the staged file `local` under `key`, or under the first
    /// versioned key (`<stem>~2.<ext>`, …) that holds no other bytes:
    /// an object already there with the file's size and ETag is this
    /// file's (an earlier run's upload, or another host's) and is not sent
    /// again; an object with other bytes is never replaced. The object
    /// counts as uploaded only when a `HEAD` after the upload shows the
    /// file's size and ETag. Memory: one part (8 MiB) at a time.
    pub async fn upload(&self, local: &Path, key: &str) -> Result<Uploaded, ObjectError> {
        if let Some(e) = self.backing_off() {
            return Err(e);
        }
        let r = self.upload_now(local, key).await;
        let mut down = self
            .down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &r {
            Err(e) if e.unreachable => {
                down.wait = (down.wait * 2).clamp(FIRST_WAIT, LONGEST_WAIT);
                down.until = Some(Instant::now() + down.wait);
                down.last = e.msg.clone();
            }
            _ => *down = Down::default(),
        }
        r
    }

    /// The store was unreachable a moment ago: the error that says so and
    /// when it is tried again.
    fn backing_off(&self) -> Option<ObjectError> {
        let down = self
            .down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let left = down.until?.checked_duration_since(Instant::now())?;
        Some(ObjectError {
            msg: format!(
                "{} was unreachable ({}); tried again in {} s",
                self.url(),
                down.last,
                left.as_secs().max(1)
            ),
            unreachable: true,
        })
    }

    async fn upload_now(&self, local: &Path, key: &str) -> Result<Uploaded, ObjectError> {
        let file = local.to_path_buf();
        let digests = tokio::task::spawn_blocking(move || digests(&file))
            .await
            .map_err(|e| ObjectError::new(format!("hashing: {e}")))?
            .map_err(|e| ObjectError::new(format!("reading {}: {e}", local.display())))?;
        let (dir, name) = key.rsplit_once('/').unwrap_or(("", key));
        for n in 1..=MAX_VERSIONS {
            let name_n = versioned_name(name, n);
            let k = to_key(if dir.is_empty() {
                name_n
            } else {
                format!("{dir}/{name_n}")
            });
            match self.head(&k).await? {
                Some(meta) if matches(&meta, &digests) => {
                    return Ok(Uploaded {
                        key: k.to_string(),
                        size: digests.size,
                        etag: digests.etag,
                        existed: true,
                    });
                }
                Some(_) => continue,
                None => {}
            }
            match self.put(local, &k, &digests).await {
                Ok(()) => {}
                // Taken between the check and the put: look at it again.
                Err(Put::Taken) => match self.head(&k).await? {
                    Some(meta) if matches(&meta, &digests) => {
                        return Ok(Uploaded {
                            key: k.to_string(),
                            size: digests.size,
                            etag: digests.etag,
                            existed: true,
                        });
                    }
                    _ => continue,
                },
                Err(Put::Failed(e)) => return Err(e),
            }
            return match self.head(&k).await? {
                Some(meta) if matches(&meta, &digests) => Ok(Uploaded {
                    key: k.to_string(),
                    size: digests.size,
                    etag: digests.etag,
                    existed: false,
                }),
                Some(meta) => Err(ObjectError::new(format!(
                    "{k}: after the upload the store shows {} bytes, ETag {:?}; the staged file \
                     has {} bytes, ETag {}: not counted as archived",
                    meta.size, meta.e_tag, digests.size, digests.etag
                ))),
                None => Err(ObjectError::new(format!(
                    "{k}: not in the store after its upload: not counted as archived"
                ))),
            };
        }
        Err(ObjectError::new(format!(
            "{key}: {MAX_VERSIONS} versions of the name already hold other bytes"
        )))
    }

    /// Uploads a derived file (a sidecar) next to its clip's object at
    /// `key`: a small single put, never over an existing object (one
    /// already there was made from the same clip and stays).
    pub async fn upload_sidecar(&self, local: &Path, key: &str) -> Result<(), ObjectError> {
        let k = to_key(key);
        let bytes = fs_err::tokio::read(local)
            .await
            .map_err(|e| ObjectError::new(format!("reading {}: {e}", local.display())))?;
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self.store.put_opts(&k, bytes.into(), opts).await {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(ObjectError::store("uploading", &k, &e)),
        }
    }

    /// Is there an object at `key`?
    pub async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        Ok(self.head(&to_key(key)).await?.is_some())
    }

    async fn head(&self, k: &Key) -> Result<Option<object_store::ObjectMeta>, ObjectError> {
        match self.store.head(k).await {
            Ok(m) => Ok(Some(m)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(ObjectError::store("looking at", k, &e)),
        }
    }

    /// Sends the file: one conditional put (`If-None-Match: *`) when it
    /// fits a part, else a multipart upload of parts read one at a time
    /// (its completion is not conditional on every store: the check
    /// before and the `HEAD` after stand in for it).
    async fn put(&self, local: &Path, k: &Key, d: &Digests) -> Result<(), Put> {
        let read_err = |e: std::io::Error| {
            Put::Failed(ObjectError::new(format!(
                "reading {}: {e}",
                local.display()
            )))
        };
        if d.size <= PART {
            let bytes = fs_err::tokio::read(local).await.map_err(read_err)?;
            let opts = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            return match self.store.put_opts(k, bytes.into(), opts).await {
                Ok(_) => Ok(()),
                Err(object_store::Error::AlreadyExists { .. }) => Err(Put::Taken),
                Err(e) => Err(Put::Failed(ObjectError::store("uploading", k, &e))),
            };
        }
        let mut upload = self
            .store
            .put_multipart(k)
            .await
            .map_err(|e| Put::Failed(ObjectError::store("starting the upload of", k, &e)))?;
        let sent = async {
            let mut file = fs_err::tokio::File::open(local).await.map_err(read_err)?;
            let mut left = d.size;
            while left > 0 {
                let n = left.min(PART);
                let mut buf = vec![0u8; usize::try_from(n).unwrap_or(usize::MAX)];
                tokio::io::AsyncReadExt::read_exact(&mut file, &mut buf)
                    .await
                    .map_err(read_err)?;
                upload
                    .put_part(PutPayload::from(buf))
                    .await
                    .map_err(|e| Put::Failed(ObjectError::store("uploading a part of", k, &e)))?;
                left -= n;
            }
            upload
                .complete()
                .await
                .map_err(|e| Put::Failed(ObjectError::store("completing", k, &e)))?;
            Ok(())
        }
        .await;
        if sent.is_err() {
            // Best effort: a store keeps an abandoned upload's parts until
            // its own clean-up otherwise; never an object.
            let _ = upload.abort().await;
        }
        sent
    }
}

/// The store's path for `s`, as written (`Path::from` would percent-encode
/// the `~` of a versioned name).
fn to_key(s: impl AsRef<str>) -> Key {
    Key::parse(s.as_ref()).unwrap_or_else(|_| Key::from(s.as_ref()))
}

enum Put {
    Taken,
    Failed(ObjectError),
}

fn matches(meta: &object_store::ObjectMeta, d: &Digests) -> bool {
    meta.size == d.size
        && meta
            .e_tag
            .as_deref()
            .is_some_and(|e| e.trim_matches('"').eq_ignore_ascii_case(&d.etag))
}

/// The file's size and the ETag an S3 store gives it when uploaded as
/// [`ObjectArchive::put`] does: the MD5 of the bytes for one put, the MD5
/// of the parts' MD5s and `-<parts>` for a multipart upload.
fn digests(path: &Path) -> std::io::Result<Digests> {
    let mut f = fs_err::File::open(path)?;
    let size = f.metadata()?.len();
    let mut whole = Md5::new();
    let mut of_parts = Md5::new();
    let mut parts = 0u64;
    let mut buf = vec![0u8; 1024 * 1024];
    let mut left = size;
    while left > 0 {
        let mut part = Md5::new();
        let in_part = left.min(PART);
        left -= in_part;
        let mut reader = (&mut f).take(in_part);
        let mut read = 0u64;
        loop {
            let n = reader.read(&mut buf)?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            part.update(chunk);
            if size <= PART {
                whole.update(chunk);
            }
            read += n as u64;
        }
        if read != in_part {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        of_parts.update(part.finalize());
        parts += 1;
    }
    let etag = if size <= PART {
        hex(&whole.finalize())
    } else {
        format!("{}-{parts}", hex(&of_parts.finalize()))
    };
    Ok(Digests { size, etag })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
