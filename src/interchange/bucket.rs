//! The central store on object storage (`sync s3://bucket/prefix`): the same hive layout as a
//! directory, made safe for many writers on stores that may ignore conditional writes.
//!
//! - **Data objects are immutable and content-addressed**:
//!   `PREFIX/hostname=H/namespace=N/project=P/date=D/<dataset>/<stem>-<sha256[..32]>.parquet`.
//!   An object that is already there (same key, same size) is never uploaded again, and two
//!   writers can only ever write the same bytes to the same key, so a lost race loses nothing.
//! - **Each writer has its own manifests**: `PREFIX/_manifests/hostname=H/namespace=N/
//!   project=P/<store id>/<time>-<sha256[..16]>.json`, immutable and content-addressed too. A
//!   manifest lists the writer's live files (key, dataset, SHA-256, bytes, rows) and every key
//!   its compactions retired, cumulatively.
//! - **What is live** in a project: the union of the files its manifests list, minus every key
//!   any of them retired. `list --global` reads exactly that set and checks each file's SHA-256.
//! - **Order of a sync**: data objects, then the new manifest, then (only then) the objects
//!   and the writer's own older manifests that the new one supersedes are deleted. A sync killed
//!   anywhere leaves either the old view or the new one, and a rerun finishes the work without
//!   uploading anything twice. A compaction reaches the bucket the same way: the merged file
//!   is uploaded and registered before any input is deleted.
//!
//! Manifests come from whoever can write the bucket: each is size-capped and checked (keys,
//! hashes, datasets) before it is used, and a file is read only up to the size its manifest
//! gives.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::remote::{Put, Remote};
use super::sync::{FileSync, GlobalItem, Synced};
use super::{files, ExportFile, InterchangeError, DATASETS};
use crate::project::Identity;
use crate::store::Store;

/// The folder of the manifests, beside the projects' folders.
pub const MANIFESTS: &str = "_manifests";
/// What a manifest says it is.
const FORMAT: &str = "git-tombstone-manifest/1";
/// A manifest larger than this is refused.
const MANIFEST_MAX: u64 = 64 * 1024 * 1024;
/// `list` reads an `items` file whole: one a manifest says is larger than this is refused
/// (compaction's default threshold is 64 MiB, so real files stay far below it).
const FILE_MAX: u64 = 1024 * 1024 * 1024;

/// One data object a manifest lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the project's folder: `date=D/<dataset>/<name>.parquet`.
    pub key: String,
    pub dataset: String,
    pub sha256: String,
    pub bytes: u64,
    pub rows: i64,
}

/// One writer's view of one project.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub store_id: String,
    pub written_at: String,
    pub files: Vec<Entry>,
    /// Keys (relative to the project's folder) that a compaction replaced: never live again.
    pub retired: Vec<String>,
}

/// The project's folder: `hostname=H/namespace=N/project=P`.
pub fn project_folder(hostname: &str, id: &Identity) -> String {
    format!(
        "hostname={hostname}/namespace={}/project={}",
        id.namespace, id.project
    )
}

/// The content-addressed key of a local export file, relative to the project's folder.
pub fn key_of(f: &ExportFile) -> String {
    let stem = std::path::Path::new(&f.path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hash = f.sha256.get(..32).unwrap_or(&f.sha256);
    format!("{}/{}/{stem}-{hash}.parquet", f.partition, f.dataset)
}

fn invalid(what: &str, why: String) -> InterchangeError {
    InterchangeError::Invalid {
        what: what.into(),
        why,
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `date=YYYY-MM-DD/<dataset>/<name>.parquet`, with a name of `A-Z a-z 0-9 . _ -` not
/// starting with `.`.
fn valid_key(key: &str, dataset: Option<&str>) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    let [date, set, name] = parts[..] else {
        return false;
    };
    let date_ok = date.strip_prefix("date=").is_some_and(|d| {
        d.len() == 10
            && d.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    });
    let name_ok = name.len() <= 200
        && name.ends_with(".parquet")
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    date_ok && DATASETS.contains(&set) && dataset.is_none_or(|d| d == set) && name_ok
}

/// A store id or hive value as it may appear in a key: 1-128 characters, no `/`, no control
/// character, not `.` or `..`.
fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s != "."
        && s != ".."
        && !s.contains('/')
        && !s.chars().any(char::is_control)
}

impl Manifest {
    /// Parse and check a manifest read from `object` (for messages).
    fn parse(object: &str, bytes: &[u8]) -> Result<Manifest, InterchangeError> {
        let bad = |why: String| invalid("manifest", format!("{object}: {why}"));
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not a manifest: {e}")))?;
        if m.format != FORMAT {
            return Err(bad(format!("format `{}`, expected `{FORMAT}`", m.format)));
        }
        if !valid_segment(&m.store_id) {
            return Err(bad("the store id is not a plain name".into()));
        }
        for e in &m.files {
            if !valid_key(&e.key, Some(&e.dataset)) || !is_hex(&e.sha256, 64) || e.rows < 0 {
                return Err(bad(format!("a bad file entry ({})", e.key)));
            }
        }
        if let Some(k) = m.retired.iter().find(|k| !valid_key(k, None)) {
            return Err(bad(format!("a bad retired key ({k})")));
        }
        Ok(m)
    }

    fn bytes(&self) -> Result<Vec<u8>, InterchangeError> {
        serde_json::to_vec_pretty(self)
            .map_err(|e| invalid("manifest", format!("cannot encode: {e}")))
    }
}

/// A manifest and where it was read from.
struct Found {
    /// Its object key (relative to the address's prefix).
    object: String,
    /// The project's folder it describes.
    folder: String,
    /// The writer: the store id folder the manifest is in.
    writer: String,
    manifest: Manifest,
}

/// Every manifest below `MANIFESTS/<under>` (or every one, with `under` empty), checked.
fn load(remote: &Remote, under: &str) -> Result<Vec<Found>, InterchangeError> {
    let base = if under.is_empty() {
        MANIFESTS.to_owned()
    } else {
        format!("{MANIFESTS}/{under}")
    };
    let mut out = Vec::new();
    for obj in remote.list(&base)? {
        let rel = obj.key.strip_prefix(&format!("{MANIFESTS}/")).unwrap_or("");
        let parts: Vec<&str> = rel.split('/').collect();
        let [host, ns, project, writer, name] = parts[..] else {
            continue;
        };
        let hive_ok = [
            ("hostname=", host),
            ("namespace=", ns),
            ("project=", project),
        ]
        .iter()
        .all(|(k, v)| v.strip_prefix(k).is_some_and(valid_segment));
        if !hive_ok || !valid_segment(writer) || !name.ends_with(".json") {
            continue;
        }
        let Some(bytes) = remote.get(&obj.key, MANIFEST_MAX)? else {
            // Superseded and deleted since the listing: its successor is listed too.
            continue;
        };
        let manifest = Manifest::parse(&format!("{}/{}", remote.address.url(), obj.key), &bytes)?;
        out.push(Found {
            object: obj.key.clone(),
            folder: format!("{host}/{ns}/{project}"),
            writer: writer.to_owned(),
            manifest,
        });
    }
    Ok(out)
}

/// The live files of one project's manifests: listed by any, retired by none.
fn live_of<'a>(manifests: impl Iterator<Item = &'a Manifest> + Clone) -> Vec<Entry> {
    let retired: BTreeSet<&str> = manifests
        .clone()
        .flat_map(|m| m.retired.iter().map(String::as_str))
        .collect();
    let mut live: BTreeMap<&str, &Entry> = BTreeMap::new();
    for m in manifests {
        for e in m.files.iter().filter(|e| !retired.contains(e.key.as_str())) {
            live.entry(e.key.as_str()).or_insert(e);
        }
    }
    live.into_values().cloned().collect()
}

/// What one sync plans for one local file.
struct Planned {
    file: ExportFile,
    key: String,
    action: &'static str,
}

/// Sync (or with `dry_run`, plan) the store's Parquet files into the bucket.
pub fn sync(
    store: &Store,
    remote: &Remote,
    hostname: &str,
    id: &Identity,
    dry_run: bool,
) -> Result<Synced, InterchangeError> {
    let folder = project_folder(hostname, id);
    let store_id = store.id()?;
    let manifests = load(remote, &folder)?;
    let retired_remotely: BTreeSet<&str> = manifests
        .iter()
        .flat_map(|f| f.manifest.retired.iter().map(String::as_str))
        .collect();
    let present: HashMap<String, u64> = remote
        .list(&folder)?
        .into_iter()
        .filter_map(|o| {
            Some((
                o.key.strip_prefix(&format!("{folder}/"))?.to_owned(),
                o.size,
            ))
        })
        .collect();
    let all = files(store.conn(), false)?;
    let mut plan = Vec::new();
    for f in all
        .iter()
        .filter(|f| f.retired_at.is_none() && f.dataset != "jsonl")
    {
        let key = key_of(f);
        let action = match present.get(&key) {
            _ if retired_remotely.contains(key.as_str()) => "retired-remotely",
            Some(&size) if size == f.bytes as u64 => "up-to-date",
            Some(_) => "replace",
            None => "copy",
        };
        plan.push(Planned {
            file: f.clone(),
            key,
            action,
        });
    }
    let own: Vec<&Found> = manifests.iter().filter(|f| f.writer == store_id).collect();
    let mut retired: BTreeSet<String> = own
        .iter()
        .flat_map(|f| f.manifest.retired.iter().cloned())
        .collect();
    retired.extend(
        all.iter()
            .filter(|f| f.retired_at.is_some() && f.dataset != "jsonl")
            .map(key_of),
    );
    let root_url = format!("{}/{folder}", remote.address.url());
    let mut out = Synced {
        dest: remote.address.url(),
        project_root: root_url.clone(),
        files: Vec::new(),
        copied: 0,
        removed: 0,
        up_to_date: 0,
        dry_run,
    };
    for p in &plan {
        match p.action {
            "copy" | "replace" => {
                if !dry_run {
                    upload(store, remote, &folder, p)?;
                }
                out.copied += 1;
            }
            _ => out.up_to_date += 1,
        }
        out.files.push(FileSync {
            file: p.file.path.clone(),
            dest: format!("{root_url}/{}", p.key),
            action: p.action.into(),
        });
    }
    let doomed: Vec<String> = retired
        .iter()
        .filter(|k| present.contains_key(*k))
        .cloned()
        .collect();
    for key in &doomed {
        out.removed += 1;
        out.files.push(FileSync {
            file: key.clone(),
            dest: format!("{root_url}/{key}"),
            action: "remove".into(),
        });
    }
    if dry_run {
        return Ok(out);
    }
    let entries: Vec<Entry> = plan
        .iter()
        .filter(|p| p.action != "retired-remotely")
        .map(|p| Entry {
            key: p.key.clone(),
            dataset: p.file.dataset.clone(),
            sha256: p.file.sha256.clone(),
            bytes: p.file.bytes as u64,
            rows: p.file.rows,
        })
        .collect();
    let manifest = Manifest {
        format: FORMAT.into(),
        store_id: store_id.clone(),
        written_at: crate::clock::now(),
        files: entries,
        retired: retired.into_iter().collect(),
    };
    publish(remote, &folder, &own, &manifest)?;
    crate::failpoint::hit("s3:after-manifest");
    for key in doomed {
        remote.delete(&format!("{folder}/{key}"))?;
    }
    Ok(out)
}

/// Upload one planned file after checking it still has its registered SHA-256; then check the
/// object's size.
fn upload(
    store: &Store,
    remote: &Remote,
    folder: &str,
    p: &Planned,
) -> Result<(), InterchangeError> {
    let src = store.dir().join(&p.file.path);
    let bytes = std::fs::read(&src).map_err(|e| InterchangeError::io(&src, e))?;
    if crate::id::sha256_hex(&bytes) != p.file.sha256 {
        return Err(invalid(
            "export",
            format!(
                "{} no longer matches its registered SHA-256; run `git tombstone verify`",
                p.file.path
            ),
        ));
    }
    let rel = format!("{folder}/{}", p.key);
    let len = bytes.len() as u64;
    let body = Bytes::from(bytes);
    match remote.put_new(&rel, body.clone())? {
        Put::Written { .. } => {}
        // The store honoured If-None-Match: the object was there (a racing writer, or a
        // `replace` of a damaged copy, which a store with conditional writes keeps).
        Put::Existed if p.action == "copy" => {}
        Put::Existed => {
            remote.delete(&rel)?;
            remote.put_new(&rel, body)?;
        }
    }
    crate::failpoint::hit("s3:after-upload");
    match remote.size_of(&rel)? {
        Some(n) if n == len => Ok(()),
        got => Err(invalid(
            "sync",
            format!(
                "{}/{rel} is {got:?} bytes after the upload, expected {len}",
                remote.address.url()
            ),
        )),
    }
}

/// Write `manifest` unless the writer's latest already says the same; then delete the
/// writer's older manifests that it covers.
fn publish(
    remote: &Remote,
    folder: &str,
    own: &[&Found],
    manifest: &Manifest,
) -> Result<(), InterchangeError> {
    let same = |m: &Manifest| m.files == manifest.files && m.retired == manifest.retired;
    let latest = own.iter().max_by(|a, b| a.object.cmp(&b.object));
    let unchanged = latest.is_some_and(|f| same(&f.manifest));
    let keep = if unchanged {
        latest.map(|f| f.object.clone())
    } else {
        let bytes = manifest.bytes()?;
        let stamp: String = manifest
            .written_at
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let hash = crate::id::sha256_hex(&bytes);
        let name = format!(
            "{MANIFESTS}/{folder}/{}/{stamp}-{}.json",
            manifest.store_id,
            &hash[..16]
        );
        remote.put_new(&name, Bytes::from(bytes))?;
        Some(name)
    };
    let listed: BTreeSet<&str> = manifest
        .files
        .iter()
        .map(|e| e.key.as_str())
        .chain(manifest.retired.iter().map(String::as_str))
        .collect();
    let retired: BTreeSet<&str> = manifest.retired.iter().map(String::as_str).collect();
    for old in own.iter().filter(|f| Some(&f.object) != keep.as_ref()) {
        // Only a manifest whose every file and retirement the new one carries: another copy
        // of this store (a restored CI cache) may have written one this store knows nothing of.
        let covered = old
            .manifest
            .files
            .iter()
            .all(|e| listed.contains(e.key.as_str()))
            && old
                .manifest
                .retired
                .iter()
                .all(|k| retired.contains(k.as_str()));
        if covered {
            remote.delete(&old.object)?;
        }
    }
    Ok(())
}

/// Every item in the bucket's central store (any number of projects): the live files of each
/// project's manifests, each checked against its SHA-256, the latest version of each item.
pub fn read_items(remote: &Remote) -> Result<Vec<GlobalItem>, InterchangeError> {
    // A file deleted between reading the manifests and reading it was superseded by a
    // concurrent sync: read the manifests again, once.
    match read_items_once(remote) {
        Err(Missing(_)) => match read_items_once(remote) {
            Err(Missing(key)) => Err(invalid(
                "central store",
                format!(
                    "{}/{key} is listed by a manifest but is not in the bucket",
                    remote.address.url()
                ),
            )),
            Ok(items) => Ok(items),
            Err(Other(e)) => Err(e),
        },
        Ok(items) => Ok(items),
        Err(Other(e)) => Err(e),
    }
}

enum ReadError {
    Missing(String),
    Other(InterchangeError),
}
use ReadError::{Missing, Other};

impl From<InterchangeError> for ReadError {
    fn from(e: InterchangeError) -> Self {
        Other(e)
    }
}

fn read_items_once(remote: &Remote) -> Result<Vec<GlobalItem>, ReadError> {
    let manifests = load(remote, "")?;
    let mut by_folder: BTreeMap<&str, Vec<&Manifest>> = BTreeMap::new();
    for f in &manifests {
        by_folder
            .entry(f.folder.as_str())
            .or_default()
            .push(&f.manifest);
    }
    let mut found = super::sync::Latest::default();
    for (folder, ms) in by_folder {
        let hive = |k: &str| {
            folder
                .split('/')
                .find_map(|s| s.strip_prefix(&format!("{k}=")).map(str::to_owned))
        };
        for e in live_of(ms.iter().copied())
            .iter()
            .filter(|e| e.dataset == "items")
        {
            let rel = format!("{folder}/{}", e.key);
            if e.bytes > FILE_MAX {
                return Err(Other(invalid(
                    "central store",
                    format!(
                        "{}/{rel} is {} bytes by its manifest, more than the {FILE_MAX} `list` reads",
                        remote.address.url(),
                        e.bytes
                    ),
                )));
            }
            let Some(bytes) = remote.get(&rel, e.bytes)? else {
                return Err(Missing(rel));
            };
            if crate::id::sha256_hex(&bytes) != e.sha256 {
                return Err(Other(invalid(
                    "central store",
                    format!(
                        "{}/{rel} does not match the SHA-256 its manifest gives",
                        remote.address.url()
                    ),
                )));
            }
            let date = e
                .key
                .split('/')
                .next()
                .and_then(|d| d.strip_prefix("date="));
            let at = super::sync::Hive {
                hostname: hive("hostname"),
                namespace: hive("namespace"),
                project: hive("project"),
                date: date.map(str::to_owned),
            };
            for b in super::parquet::read_bytes(bytes)? {
                found.add(&at, super::parquet::item_rows(&b)?);
            }
        }
    }
    Ok(found.into_sorted())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> Entry {
        Entry {
            key: key.into(),
            dataset: "items".into(),
            sha256: "a".repeat(64),
            bytes: 1,
            rows: 1,
        }
    }

    fn manifest(files: &[&str], retired: &[&str]) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            store_id: "s".into(),
            written_at: "2026-12-05T00:00:00Z".into(),
            files: files.iter().map(|k| entry(k)).collect(),
            retired: retired.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    #[test]
    fn a_retired_key_is_never_live_whoever_lists_it() {
        let a = manifest(
            &[
                "date=2026-01-01/items/a.parquet",
                "date=2026-01-01/items/b.parquet",
            ],
            &[],
        );
        let b = manifest(
            &["date=2026-01-01/items/m.parquet"],
            &["date=2026-01-01/items/a.parquet"],
        );
        let live: Vec<String> = live_of([&a, &b].into_iter())
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(
            live,
            vec![
                "date=2026-01-01/items/b.parquet",
                "date=2026-01-01/items/m.parquet"
            ]
        );
    }

    #[test]
    fn manifests_with_bad_keys_or_hashes_are_refused() {
        let good = manifest(&["date=2026-01-01/items/a.parquet"], &[]);
        let ok = serde_json::to_vec(&good).expect("json");
        assert!(Manifest::parse("m", &ok).is_ok());
        for key in [
            "../x/items/a.parquet",
            "date=2026-01-01/items/../../a.parquet",
            "date=2026-01-01/blobs/a.parquet",
            "date=2026-1-01/items/a.parquet",
            "date=2026-01-01/items/.a.parquet",
            "date=2026-01-01/items/a.json",
        ] {
            let mut m = good.clone();
            m.files[0].key = key.into();
            let bytes = serde_json::to_vec(&m).expect("json");
            assert!(Manifest::parse("m", &bytes).is_err(), "{key} accepted");
        }
        let mut m = good.clone();
        m.files[0].sha256 = "A".repeat(64);
        assert!(Manifest::parse("m", &serde_json::to_vec(&m).expect("json")).is_err());
        let mut m = good;
        m.store_id = "../x".into();
        assert!(Manifest::parse("m", &serde_json::to_vec(&m).expect("json")).is_err());
        assert!(Manifest::parse("m", b"{").is_err());
    }
}
