//! The central store: Parquet files of many repositories under
//! `DEST/hostname=H/namespace=N/project=P/date=D/<dataset>/<file>.parquet`, queried with DuckDB
//! (`read_parquet('DEST/**/items/*.parquet', hive_partitioning=true)`) or `list --global`.
//!
//! Sync is incremental: a file whose copy at the destination has the registered SHA-256 is left
//! alone; a missing or different copy is (re)written atomically and checked by hash; copies of
//! files a compaction retired are removed once their replacement is there.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{files, InterchangeError};
use crate::project::Identity;
use crate::store::Store;

/// The default central store: `~/.tombstone/projects`. An error when there is no home
/// directory (never the current directory, which would scatter central stores).
pub fn default_dest() -> Result<PathBuf, InterchangeError> {
    crate::fsutil::home()
        .map(|home| home.join(".tombstone").join("projects"))
        .ok_or_else(|| InterchangeError::Invalid {
            what: "central store".into(),
            why: "there is no home directory (HOME is not set): give the destination explicitly"
                .into(),
        })
}

/// Where this repository's files go under `dest`.
pub fn project_root(dest: &Path, hostname: &str, id: &Identity) -> PathBuf {
    dest.join(format!("hostname={hostname}"))
        .join(format!("namespace={}", id.namespace))
        .join(format!("project={}", id.project))
}

/// One file's sync.
#[derive(Debug, Clone, Serialize)]
pub struct FileSync {
    pub file: String,
    pub dest: String,
    /// `copy`, `replace`, `up-to-date` or `remove`.
    pub action: String,
}

/// What a sync did (or would do).
#[derive(Debug, Clone, Serialize)]
pub struct Synced {
    pub dest: String,
    pub project_root: String,
    pub files: Vec<FileSync>,
    pub copied: usize,
    pub removed: usize,
    pub up_to_date: usize,
    pub dry_run: bool,
}

fn dest_of(root: &Path, rel: &str, dataset: &str, partition: &str) -> PathBuf {
    let name = Path::new(rel)
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    root.join(partition).join(dataset).join(name)
}

fn hash_of(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| crate::id::sha256_hex(&b))
}

/// Sync (or with `dry_run`, plan) the store's Parquet files into `dest`.
pub fn run(
    store: &Store,
    dest: &Path,
    hostname: &str,
    id: &Identity,
    dry_run: bool,
) -> Result<Synced, InterchangeError> {
    let root = project_root(dest, hostname, id);
    let mut out = Synced {
        dest: dest.display().to_string(),
        project_root: root.display().to_string(),
        files: Vec::new(),
        copied: 0,
        removed: 0,
        up_to_date: 0,
        dry_run,
    };
    let all = files(store.conn(), false)?;
    for f in all
        .iter()
        .filter(|f| f.retired_at.is_none() && f.dataset != "jsonl")
    {
        let target = dest_of(&root, &f.path, &f.dataset, &f.partition);
        let action = match hash_of(&target) {
            Some(h) if h == f.sha256 => "up-to-date",
            Some(_) => "replace",
            None => "copy",
        };
        if action == "up-to-date" {
            out.up_to_date += 1;
        } else {
            if !dry_run {
                let src = store.dir().join(&f.path);
                let bytes = std::fs::read(&src).map_err(|e| InterchangeError::io(&src, e))?;
                if crate::id::sha256_hex(&bytes) != f.sha256 {
                    return Err(InterchangeError::Invalid {
                        what: "export".into(),
                        why: format!("{} no longer matches its registered SHA-256; run `git tombstone verify`", f.path),
                    });
                }
                if let Some(parent) = target.parent() {
                    crate::fsutil::create_dir_all_synced(parent)
                        .map_err(|e| InterchangeError::io(parent, e))?;
                }
                crate::fsutil::write_atomic(&target, &bytes, 0o644)
                    .map_err(|e| InterchangeError::io(&target, e))?;
                if hash_of(&target).as_deref() != Some(f.sha256.as_str()) {
                    return Err(InterchangeError::Invalid {
                        what: "sync".into(),
                        why: format!(
                            "the copy at {} does not hash to its source",
                            target.display()
                        ),
                    });
                }
            }
            out.copied += 1;
        }
        out.files.push(FileSync {
            file: f.path.clone(),
            dest: target.display().to_string(),
            action: action.into(),
        });
    }
    for f in all
        .iter()
        .filter(|f| f.retired_at.is_some() && f.dataset != "jsonl")
    {
        let target = dest_of(&root, &f.path, &f.dataset, &f.partition);
        if target.exists() {
            if !dry_run {
                std::fs::remove_file(&target).map_err(|e| InterchangeError::io(&target, e))?;
            }
            out.removed += 1;
            out.files.push(FileSync {
                file: f.path.clone(),
                dest: target.display().to_string(),
                action: "remove".into(),
            });
        }
    }
    Ok(out)
}

/// An item read from a central store, with its hive columns.
#[derive(Debug, Clone, Serialize)]
pub struct GlobalItem {
    pub hostname: Option<String>,
    pub namespace: Option<String>,
    pub project: Option<String>,
    pub date: Option<String>,
    pub id: String,
    pub path: String,
    pub state: String,
    pub category: String,
    pub size: i64,
    pub sha256: String,
    pub archived_at: String,
    pub removed_in_commit: Option<String>,
    #[serde(skip)]
    change_seq: i64,
}

impl From<crate::store::catalog::CatalogItem> for GlobalItem {
    fn from(i: crate::store::catalog::CatalogItem) -> GlobalItem {
        GlobalItem {
            date: Some(i.archived_at.get(..10).unwrap_or_default().to_owned()),
            hostname: Some(i.hostname),
            namespace: Some(i.namespace),
            project: Some(i.project),
            id: i.id,
            path: i.path,
            state: i.state,
            category: i.category,
            size: i.size,
            sha256: i.sha256,
            archived_at: i.archived_at,
            removed_in_commit: i.removed_in_commit,
            change_seq: 0,
        }
    }
}

/// (hostname, namespace, project, id): one item of one project.
type ItemKey = (Option<String>, Option<String>, Option<String>, String);

/// The hive columns of one file of a central store.
#[derive(Debug, Clone, Default)]
pub struct Hive {
    pub hostname: Option<String>,
    pub namespace: Option<String>,
    pub project: Option<String>,
    pub date: Option<String>,
}

/// The latest version (highest `change_seq`) of each item of each project seen so far.
#[derive(Default)]
pub struct Latest {
    found: std::collections::HashMap<ItemKey, GlobalItem>,
}

impl Latest {
    /// Take the rows of one file at `at`.
    pub fn add(&mut self, at: &Hive, rows: Vec<crate::store::exports::ItemRow>) {
        for r in rows {
            let key = (
                at.hostname.clone(),
                at.namespace.clone(),
                at.project.clone(),
                r.id.clone(),
            );
            if self
                .found
                .get(&key)
                .is_some_and(|g| g.change_seq >= r.change_seq)
            {
                continue;
            }
            self.found.insert(
                key,
                GlobalItem {
                    hostname: at.hostname.clone(),
                    namespace: at.namespace.clone(),
                    project: at.project.clone(),
                    date: at.date.clone(),
                    path: String::from_utf8_lossy(&r.path).into_owned(),
                    id: r.id,
                    state: r.state,
                    category: r.category,
                    size: r.size,
                    sha256: r.sha256,
                    archived_at: r.archived_at,
                    removed_in_commit: r.removed_in_commit,
                    change_seq: r.change_seq,
                },
            );
        }
    }

    /// The items, sorted by project, path and id.
    pub fn into_sorted(self) -> Vec<GlobalItem> {
        let mut items: Vec<GlobalItem> = self.found.into_values().collect();
        items.sort_by(|a, b| {
            (&a.hostname, &a.namespace, &a.project, &a.path, &a.id).cmp(&(
                &b.hostname,
                &b.namespace,
                &b.project,
                &b.path,
                &b.id,
            ))
        });
        items
    }
}

/// Every item in the central store at `root` (any number of projects), the latest version of
/// each, sorted by project, path and id.
pub fn read_items(root: &Path) -> Result<Vec<GlobalItem>, InterchangeError> {
    if !root.is_dir() {
        return Err(InterchangeError::io(
            root,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no central store here"),
        ));
    }
    let mut found = Latest::default();
    for p in super::find_parquet(root)? {
        let in_items = p
            .parent()
            .and_then(|d| d.file_name())
            .is_some_and(|n| n == "items");
        if !in_items {
            continue;
        }
        let hive = |key: &str| {
            p.ancestors().find_map(|a| {
                a.file_name()?
                    .to_str()?
                    .strip_prefix(&format!("{key}="))
                    .map(str::to_owned)
            })
        };
        let at = Hive {
            hostname: hive("hostname"),
            namespace: hive("namespace"),
            project: hive("project"),
            date: hive("date"),
        };
        for b in super::parquet::read_file(&p)? {
            found.add(&at, super::parquet::item_rows(&b)?);
        }
    }
    Ok(found.into_sorted())
}
