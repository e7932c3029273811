//! An S3-compatible object store as the central store's destination (`s3://bucket/prefix`):
//! a small blocking client over Apache Arrow's `object_store`, driven by a current-thread tokio
//! runtime.
//!
//! - **Credentials** come from the standard AWS chain: the environment (`AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), then the shared files of the profile
//!   `AWS_PROFILE` (`~/.aws/credentials`, `~/.aws/config`; static keys and region), then what
//!   `object_store` finds itself (web identity, ECS, instance metadata).
//! - **Endpoint**: `--endpoint` or `AWS_ENDPOINT_URL` selects an S3-compatible store (path-style
//!   requests; plain `http://` is allowed only when the endpoint says so).
//! - **Retries**: connection failures, 5xx and 429 (throttling) are retried with exponential
//!   backoff, at most [`MAX_RETRIES`] times (`GIT_TOMBSTONE_S3_RETRIES`) and for at most
//!   [`RETRY_TIMEOUT`] per request.
//! - Objects are read with a size cap: an object larger than the caller allows is refused
//!   before its body is read.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    RetryConfig,
};

use super::InterchangeError;

/// Requests are retried at most this many times (connection errors, 5xx, 429), unless
/// `GIT_TOMBSTONE_S3_RETRIES` says otherwise (0-50). With the backoff below (random, from
/// 0.25 s growing up to 15 s) ten retries wait about 40 s in all.
pub const MAX_RETRIES: usize = 10;
/// No request is retried once this long has passed since it was first sent.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(120);
/// Files at least this large are uploaded in parts of this size (S3's minimum part is 5 MiB).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// A shared credentials or config file larger than this is refused.
const AWS_FILE_MAX: u64 = 1024 * 1024;

/// Whether a destination names an object store rather than a directory.
pub fn is_remote(dest: &str) -> bool {
    dest.starts_with("s3://")
}

/// `s3://bucket/prefix`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub bucket: String,
    /// Below the bucket, without leading or trailing `/`; may be empty.
    pub prefix: String,
}

impl Address {
    /// Parse `s3://bucket[/prefix]`: a bucket name as S3 allows it (3-63 characters of
    /// `a-z 0-9 . -`), and a prefix of plain segments (no `.`, `..` or empty segment, no
    /// control characters).
    pub fn parse(url: &str) -> Result<Address, InterchangeError> {
        let invalid = |why: String| InterchangeError::Invalid {
            what: "object-store address".into(),
            why: format!("`{url}`: {why}"),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| invalid("it does not start with s3://".into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && !bucket.starts_with(['.', '-'])
            && !bucket.ends_with(['.', '-']);
        if !bucket_ok {
            return Err(invalid(format!(
                "`{bucket}` is not a bucket name (3-63 characters: a-z, 0-9, `.`, `-`)"
            )));
        }
        let prefix = prefix.trim_end_matches('/');
        if !prefix.is_empty() {
            for seg in prefix.split('/') {
                if seg.is_empty() || seg == "." || seg == ".." || seg.chars().any(char::is_control)
                {
                    return Err(invalid(format!(
                        "the prefix has an empty, `.`, `..` or control-character segment (`{seg}`)"
                    )));
                }
            }
        }
        Ok(Address {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// The address as `s3://bucket/prefix` (never with credentials).
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// One object of a listing: its key below the address's prefix, and its size.
#[derive(Debug, Clone)]
pub struct Listed {
    pub key: String,
    pub size: u64,
}

/// How a put went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// Written (in parts when `multipart`).
    Written { multipart: bool },
    /// The store already had an object there and refused to overwrite it (a conditional put
    /// the store honours).
    Existed,
}

/// A blocking client for one `s3://bucket/prefix`.
pub struct Remote {
    rt: tokio::runtime::Runtime,
    store: AmazonS3,
    pub address: Address,
}

impl Remote {
    /// Connect (lazily: no request is made here) to `url`, with `endpoint` (else
    /// `AWS_ENDPOINT_URL`) for an S3-compatible store.
    pub fn open(url: &str, endpoint: Option<&str>) -> Result<Remote, InterchangeError> {
        let address = Address::parse(url)?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&address.bucket);
        let endpoint = endpoint
            .map(str::to_owned)
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .filter(|e| !e.is_empty());
        if let Some(e) = &endpoint {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(InterchangeError::Invalid {
                    what: "endpoint".into(),
                    why: format!(
                        "`{e}` (from --endpoint or AWS_ENDPOINT_URL) is not an http:// or https:// URL"
                    ),
                });
            }
            builder = builder.with_endpoint(e);
        }
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            builder = with_profile(builder)?;
        }
        let client = ClientOptions::new()
            .with_allow_http(
                endpoint
                    .as_deref()
                    .is_some_and(|e| e.starts_with("http://")),
            )
            .with_connect_timeout(Duration::from_secs(10))
            .with_timeout(Duration::from_secs(300));
        let retries =
            match std::env::var("GIT_TOMBSTONE_S3_RETRIES") {
                Err(_) => MAX_RETRIES,
                Ok(v) => v.parse().ok().filter(|n| *n <= 50).ok_or_else(|| {
                    InterchangeError::Invalid {
                        what: "GIT_TOMBSTONE_S3_RETRIES".into(),
                        why: format!("`{v}` is not a number of retries from 0 to 50"),
                    }
                })?,
            };
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(250),
                max_backoff: Duration::from_secs(15),
                base: 3.0,
            },
            max_retries: retries,
            retry_timeout: RETRY_TIMEOUT,
        };
        let store = builder
            .with_client_options(client)
            .with_retry(retry)
            .build()
            .map_err(|e| remote_error(&address.url(), "configure the client", e))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| InterchangeError::io(std::path::Path::new("tokio runtime"), e))?;
        Ok(Remote { rt, store, address })
    }

    fn key(&self, rel: &str) -> Key {
        if self.address.prefix.is_empty() {
            Key::from(rel)
        } else {
            Key::from(format!("{}/{rel}", self.address.prefix))
        }
    }

    fn err(&self, what: &str, rel: &str, e: object_store::Error) -> InterchangeError {
        remote_error(&format!("{}/{rel}", self.address.url()), what, e)
    }

    /// The size of the object at `rel`, or `None` when there is none.
    pub fn size_of(&self, rel: &str) -> Result<Option<u64>, InterchangeError> {
        match self.rt.block_on(self.store.head(&self.key(rel))) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("look up", rel, e)),
        }
    }

    /// Write `bytes` at `rel`, refusing to overwrite where the store honours conditional
    /// writes (`If-None-Match: *`); in parts of [`PART_BYTES`] when it is at least that large.
    pub fn put_new(&self, rel: &str, bytes: Bytes) -> Result<Put, InterchangeError> {
        let key = self.key(rel);
        if bytes.len() >= PART_BYTES {
            return self.put_parts(rel, &key, bytes);
        }
        let opts = PutOptions::from(PutMode::Create);
        match self
            .rt
            .block_on(self.store.put_opts(&key, PutPayload::from(bytes), opts))
        {
            Ok(_) => Ok(Put::Written { multipart: false }),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Ok(Put::Existed),
            Err(e) => Err(self.err("upload", rel, e)),
        }
    }

    fn put_parts(&self, rel: &str, key: &Key, bytes: Bytes) -> Result<Put, InterchangeError> {
        self.rt.block_on(async {
            let mut upload = self
                .store
                .put_multipart(key)
                .await
                .map_err(|e| self.err("start a multipart upload of", rel, e))?;
            let mut at = 0;
            while at < bytes.len() {
                let end = (at + PART_BYTES).min(bytes.len());
                let part = upload
                    .put_part(PutPayload::from(bytes.slice(at..end)))
                    .await;
                if let Err(e) = part {
                    // Best effort: a failed abort leaves parts the bucket's lifecycle rule
                    // removes (README); the error that matters is the upload's.
                    let _ = upload.abort().await;
                    return Err(self.err("upload a part of", rel, e));
                }
                at = end;
            }
            upload
                .complete()
                .await
                .map_err(|e| self.err("complete the multipart upload of", rel, e))?;
            Ok(Put::Written { multipart: true })
        })
    }

    /// Read the object at `rel`, refusing one larger than `max` bytes before reading its
    /// body. `None` when there is no such object.
    pub fn get(&self, rel: &str, max: u64) -> Result<Option<Bytes>, InterchangeError> {
        let key = self.key(rel);
        self.rt.block_on(async {
            let got = match self.store.get(&key).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(self.err("download", rel, e)),
            };
            if got.meta.size > max {
                return Err(InterchangeError::Invalid {
                    what: "object".into(),
                    why: format!(
                        "{}/{rel} is {} bytes, more than the {max} allowed here",
                        self.address.url(),
                        got.meta.size
                    ),
                });
            }
            let body = got
                .bytes()
                .await
                .map_err(|e| self.err("download", rel, e))?;
            if body.len() as u64 > max {
                return Err(InterchangeError::Invalid {
                    what: "object".into(),
                    why: format!("{}/{rel} grew past {max} bytes", self.address.url()),
                });
            }
            Ok(Some(body))
        })
    }

    /// Every object below `rel_prefix` (a folder, without trailing `/`), keys relative to the
    /// address's prefix, sorted.
    pub fn list(&self, rel_prefix: &str) -> Result<Vec<Listed>, InterchangeError> {
        let key = self.key(rel_prefix);
        let base = if self.address.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.address.prefix)
        };
        let mut out = Vec::new();
        self.rt.block_on(async {
            let mut stream = self.store.list(Some(&key));
            while let Some(meta) = stream.next().await {
                let meta = meta.map_err(|e| self.err("list", rel_prefix, e))?;
                let full = meta.location.to_string();
                if let Some(rel) = full.strip_prefix(&base) {
                    out.push(Listed {
                        key: rel.to_owned(),
                        size: meta.size,
                    });
                }
            }
            Ok::<_, InterchangeError>(())
        })?;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Delete the object at `rel`; one already gone is not an error.
    pub fn delete(&self, rel: &str) -> Result<(), InterchangeError> {
        match self.rt.block_on(self.store.delete(&self.key(rel))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("delete", rel, e)),
        }
    }
}

fn remote_error(url: &str, what: &str, e: object_store::Error) -> InterchangeError {
    InterchangeError::Remote {
        what: format!("{what} {url}"),
        source: Box::new(e),
    }
}

/// The profile's static keys and region from the shared files (`AWS_SHARED_CREDENTIALS_FILE`,
/// else `~/.aws/credentials`; `AWS_CONFIG_FILE`, else `~/.aws/config`), when they have them.
fn with_profile(mut builder: AmazonS3Builder) -> Result<AmazonS3Builder, InterchangeError> {
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let home = crate::fsutil::home();
    let file = |var: &str, name: &str| {
        std::env::var_os(var)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    if let Some(path) = file("AWS_SHARED_CREDENTIALS_FILE", "credentials") {
        let section = read_section(&path, &profile)?;
        let get = |k: &str| section.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
            if let Some(token) = get("aws_session_token") {
                builder = builder.with_token(token);
            }
        }
    }
    // AmazonS3Builder::from_env has read AWS_REGION and AWS_DEFAULT_REGION already.
    let has_region = std::env::var_os("AWS_REGION").is_some()
        || std::env::var_os("AWS_DEFAULT_REGION").is_some();
    if !has_region {
        if let Some(path) = file("AWS_CONFIG_FILE", "config") {
            let name = if profile == "default" {
                profile.clone()
            } else {
                format!("profile {profile}")
            };
            let section = read_section(&path, &name)?;
            if let Some((_, region)) = section.iter().find(|(k, _)| k == "region") {
                builder = builder.with_region(region);
            }
        }
    }
    Ok(builder)
}

/// The `key = value` lines of `[section]` in an INI-style AWS file; none when the file does
/// not exist. A file over [`AWS_FILE_MAX`] bytes is refused.
fn read_section(
    path: &std::path::Path,
    section: &str,
) -> Result<Vec<(String, String)>, InterchangeError> {
    use std::io::Read;
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(InterchangeError::io(path, e)),
    };
    let mut text = String::new();
    f.take(AWS_FILE_MAX + 1)
        .read_to_string(&mut text)
        .map_err(|e| InterchangeError::io(path, e))?;
    if text.len() as u64 > AWS_FILE_MAX {
        return Err(InterchangeError::Invalid {
            what: "AWS shared file".into(),
            why: format!("{} is larger than {AWS_FILE_MAX} bytes", path.display()),
        });
    }
    Ok(parse_section(&text, section))
}

fn parse_section(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == section;
        } else if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        let a = Address::parse("s3://tombstone/org/central/").expect("valid");
        assert_eq!(a.bucket, "tombstone");
        assert_eq!(a.prefix, "org/central");
        assert_eq!(a.url(), "s3://tombstone/org/central");
        assert_eq!(Address::parse("s3://tombstone").expect("valid").prefix, "");
        for bad in [
            "s3://Tomb/x",
            "s3://ab",
            "s3://tomb/../x",
            "s3://tomb/a//b",
            "s3://tomb/a/./b",
            "/tmp/x",
            "s3://tomb-/x",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn profile_sections_are_read_by_name() {
        let text = "[default]\naws_access_key_id = A\n\n[ci]\n# note\naws_access_key_id=B\nAWS_Secret_Access_Key = s = t\n[other]\naws_access_key_id = C\n";
        assert_eq!(
            parse_section(text, "ci"),
            vec![
                ("aws_access_key_id".to_owned(), "B".to_owned()),
                ("aws_secret_access_key".to_owned(), "s = t".to_owned()),
            ]
        );
        assert_eq!(parse_section(text, "missing"), Vec::new());
    }
}
