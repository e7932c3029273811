//! The store's portable and analytical forms: Parquet datasets with delta exports and
//! compaction ([`export`], [`compact`]), the JSONL interchange file ([`jsonl`]), rebuilding a
//! store from either ([`import`]), and the central store across repositories ([`sync`]).
//!
//! Layout under the store directory: `parquet/<dataset>/date=YYYY-MM-DD/<file>.parquet`, with
//! `dataset` = `items`, `blobs` or `files` (snapshot rows). Every file written is registered in the `export_files` table
//! (size, SHA-256, rows); files on disk that are not registered are leftovers of a crashed run and
//! are removed by the next one, and files a compaction retired are removed after their
//! replacement is registered.

pub mod bucket;
pub mod compact;
pub mod export;
pub mod import;
pub mod jsonl;
pub mod parquet;
pub mod remote;
pub mod sync;

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use rusqlite::Connection;

use crate::store::StoreError;

/// The Parquet datasets: archived items, content, and snapshot rows.
pub const DATASETS: [&str; 3] = ["items", "blobs", "files"];

/// Errors of exports, imports and syncs.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum InterchangeError {
    #[error("invalid {what}: {why}")]
    #[diagnostic(code(tombstone::interchange::invalid))]
    Invalid { what: String, why: String },
    #[error("{source_name}: record {record}: {why}")]
    #[diagnostic(
        code(tombstone::import::rejected),
        help(
            "nothing was imported; the file is damaged or was edited (ids and SHA-256 are checked)"
        )
    )]
    Rejected {
        source_name: String,
        record: usize,
        why: String,
    },
    #[error("I/O error on {}", path.display())]
    #[diagnostic(code(tombstone::interchange::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Parquet: {0}")]
    #[diagnostic(code(tombstone::interchange::parquet))]
    Parquet(#[from] ::parquet::errors::ParquetError),
    #[error("Arrow: {0}")]
    #[diagnostic(code(tombstone::interchange::arrow))]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("object store: could not {what}")]
    #[diagnostic(
        code(tombstone::interchange::remote),
        help("network failures and throttling were retried with backoff; check the address, the credentials (AWS_* or the profile) and --endpoint, then rerun: a rerun uploads only what is missing")
    )]
    Remote {
        what: String,
        #[source]
        source: Box<object_store::Error>,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),
}

impl InterchangeError {
    /// What kind of failure this is (see [`crate::error::Kind`]).
    pub fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            InterchangeError::Invalid { .. } => Kind::Usage,
            InterchangeError::Rejected { .. } => Kind::Failure,
            InterchangeError::Io { .. }
            | InterchangeError::Parquet(_)
            | InterchangeError::Arrow(_)
            | InterchangeError::Remote { .. } => Kind::Internal,
            InterchangeError::Store(e) => e.kind(),
        }
    }
}

impl From<rusqlite::Error> for InterchangeError {
    fn from(e: rusqlite::Error) -> Self {
        InterchangeError::Store(StoreError::Sql(e))
    }
}

impl InterchangeError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        InterchangeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The Parquet root of a store directory.
pub fn parquet_dir(store_dir: &Path) -> PathBuf {
    store_dir.join("parquet")
}

pub use crate::store::exports::{files, register, ExportFile};

/// Remove Parquet files that are not registered (a crashed export or compaction) or that a
/// compaction retired. Returns the files removed, relative to the store directory.
pub fn tidy(conn: &Connection, store_dir: &Path) -> Result<Vec<String>, InterchangeError> {
    let known: std::collections::HashMap<String, bool> = files(conn, false)?
        .into_iter()
        .map(|f| (f.path, f.retired_at.is_none()))
        .collect();
    let mut removed = Vec::new();
    for rel in parquet_files(store_dir)? {
        if known.get(&rel).copied() != Some(true) {
            let p = store_dir.join(&rel);
            std::fs::remove_file(&p).map_err(|e| InterchangeError::io(&p, e))?;
            removed.push(rel);
        }
    }
    Ok(removed)
}

/// Every `*.parquet` file below `root`, sorted; none if `root` does not exist.
pub fn find_parquet(root: &Path) -> Result<Vec<PathBuf>, InterchangeError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(InterchangeError::io(&d, e)),
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Every `*.parquet` under the store's Parquet root, relative to the store directory.
pub fn parquet_files(store_dir: &Path) -> Result<Vec<String>, InterchangeError> {
    Ok(find_parquet(&parquet_dir(store_dir))?
        .iter()
        .filter_map(|p| p.strip_prefix(store_dir).ok())
        .map(|rel| rel.to_string_lossy().into_owned())
        .collect())
}

/// `date=YYYY-MM-DD` of an RFC 3339 time.
pub fn partition_of(rfc3339: &str) -> String {
    format!("date={}", rfc3339.get(..10).unwrap_or("1970-01-01"))
}
