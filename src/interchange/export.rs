//! Parquet delta exports: each run writes, per dataset and date partition, one new immutable
//! file holding only the rows changed since the last run (watermarks in `meta`).
//!
//! Items are ordered by `change_seq` (every insert or update bumps it), blobs by rowid (content
//! never changes; it can only disappear). File names come from the first and last row they hold,
//! so a rerun after a crash rewrites the same names instead of adding duplicates, and files left
//! unregistered by a crash are removed first ([`super::tidy`]).

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;

use super::parquet::{self as pq, BlobRow, ItemRow};
use super::{partition_of, register, ExportFile, InterchangeError};
use crate::store::{blobs, evidence, exports, Store};

/// How blob content is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentEncoding {
    /// The file's bytes (the Parquet page compression sees across files: smallest overall).
    Raw,
    /// Each file's bytes zstd-compressed on their own (readers must decompress).
    Zstd,
}

/// Export options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub content: ContentEncoding,
    /// zstd level of the Parquet pages (1-22).
    pub level: i32,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Exported {
    pub files: Vec<ExportFile>,
    pub items: usize,
    pub blobs: usize,
    pub files_rows: usize,
    pub removed_leftovers: Vec<String>,
    pub evidence: Option<evidence::Appended>,
}

const ITEMS_WM: &str = "export.items.change_seq";
const BLOBS_WM: &str = "export.blobs.rowid";
const FILES_WM: &str = "export.files.change_seq";

/// The blob row of `sha256` with its content encoded as asked (`None` content when the store
/// no longer has it).
pub fn blob_row(
    conn: &Connection,
    sha256: &str,
    size: i64,
    git_blob_id: Option<String>,
    created_at: String,
    encoding: ContentEncoding,
) -> Result<BlobRow, InterchangeError> {
    let content = blobs::get(conn, sha256)?;
    let (content_encoding, content) = match (content, encoding) {
        (None, _) => ("none".to_owned(), None),
        (Some(b), ContentEncoding::Raw) => ("raw".to_owned(), Some(b)),
        (Some(b), ContentEncoding::Zstd) => (
            "zstd".to_owned(),
            Some(
                zstd::bulk::compress(&b, 19)
                    .map_err(|e| InterchangeError::io(Path::new(sha256), e))?,
            ),
        ),
    };
    Ok(BlobRow {
        sha256: sha256.to_owned(),
        size,
        git_blob_id,
        content_encoding,
        content,
        created_at,
    })
}

/// Write the deltas of `store` (see the module docs).
pub fn run(
    store: &mut Store,
    opts: Options,
    actor: &str,
    now: &str,
) -> Result<Exported, InterchangeError> {
    let dir = store.dir().to_path_buf();
    let conn = store.conn();
    let removed_leftovers = super::tidy(conn, &dir)?;
    let items = item_partitions(conn)?;
    let blobs = blob_partitions(conn, opts.content)?;
    let files = file_partitions(conn)?;
    let written = write_partitions(&dir, &items, &blobs, &files, opts.level, now)?;
    crate::failpoint::hit("export:after-files");
    let evidence = if written.is_empty() {
        None
    } else {
        Some(record(store, &written, &items, &blobs, &files, actor, now)?)
    };
    Ok(Exported {
        files: written,
        items: items.count,
        blobs: blobs.count,
        files_rows: files.count,
        removed_leftovers,
        evidence,
    })
}

/// Rows past a dataset's watermark, by partition; the watermark they move it to and how many.
struct Partitions<T> {
    parts: BTreeMap<String, T>,
    max: i64,
    count: usize,
}

/// The items changed since the last export, by partition.
fn item_partitions(conn: &Connection) -> Result<Partitions<Vec<ItemRow>>, InterchangeError> {
    let items_wm = exports::watermark(conn, ITEMS_WM)?;
    let mut by_part: BTreeMap<String, Vec<ItemRow>> = BTreeMap::new();
    let mut items_max = items_wm;
    let mut n_items = 0;
    for row in exports::items_changed_since(conn, items_wm)? {
        items_max = items_max.max(row.change_seq);
        n_items += 1;
        by_part
            .entry(partition_of(&row.archived_at))
            .or_default()
            .push(row);
    }

    Ok(Partitions {
        parts: by_part,
        max: items_max,
        count: n_items,
    })
}

/// The blobs added since the last export, by partition, each partition with its first and
/// last rowid.
fn blob_partitions(
    conn: &Connection,
    content: ContentEncoding,
) -> Result<Partitions<(i64, i64, Vec<BlobRow>)>, InterchangeError> {
    let blobs_wm = exports::watermark(conn, BLOBS_WM)?;
    let mut blobs_max = blobs_wm;
    let mut blob_parts: BTreeMap<String, (i64, i64, Vec<BlobRow>)> = BTreeMap::new();
    let rows = exports::blobs_since(conn, blobs_wm)?;
    let n_blobs = rows.len();
    for exports::BlobMeta {
        rowid,
        sha256: sha,
        size,
        git_blob_id: git,
        created_at: created,
    } in rows
    {
        blobs_max = blobs_max.max(rowid);
        let part = partition_of(&created);
        let row = blob_row(conn, &sha, size, git, created, content)?;
        let e = blob_parts.entry(part).or_insert((i64::MAX, 0, Vec::new()));
        e.0 = e.0.min(rowid);
        e.1 = e.1.max(rowid);
        e.2.push(row);
    }

    Ok(Partitions {
        parts: blob_parts,
        max: blobs_max,
        count: n_blobs,
    })
}

/// The snapshot rows changed since the last export, by partition.
fn file_partitions(conn: &Connection) -> Result<Partitions<Vec<pq::FileRow>>, InterchangeError> {
    let files_wm = exports::watermark(conn, FILES_WM)?;
    let snapshot_rows = exports::snapshot_files_changed_since(conn, files_wm)?;
    let files_max = snapshot_rows
        .iter()
        .map(|r| r.change_seq)
        .max()
        .unwrap_or(files_wm);
    let n_files = snapshot_rows.len();
    let mut file_parts: BTreeMap<String, Vec<pq::FileRow>> = BTreeMap::new();
    for r in snapshot_rows {
        file_parts
            .entry(partition_of(&r.first_seen_at))
            .or_default()
            .push(r);
    }

    Ok(Partitions {
        parts: file_parts,
        max: files_max,
        count: n_files,
    })
}

/// One Parquet delta file per dataset and partition.
fn write_partitions(
    dir: &Path,
    items: &Partitions<Vec<ItemRow>>,
    blobs: &Partitions<(i64, i64, Vec<BlobRow>)>,
    files: &Partitions<Vec<pq::FileRow>>,
    level: i32,
    now: &str,
) -> Result<Vec<ExportFile>, InterchangeError> {
    let (by_part, blob_parts, file_parts) = (&items.parts, &blobs.parts, &files.parts);
    let mut written = Vec::new();
    for (part, rows) in file_parts {
        let first = rows.iter().map(|r| r.change_seq).min().unwrap_or(0);
        let last = rows.iter().map(|r| r.change_seq).max().unwrap_or(0);
        let rel = format!("parquet/files/{part}/delta-{first:012}-{last:012}.parquet");
        let batch = pq::files_batch(rows, now)?;
        written.push(write(
            dir,
            &rel,
            "files",
            part,
            pq::files_schema(),
            &batch,
            level,
            now,
        )?);
    }
    for (part, rows) in by_part {
        let first = rows.iter().map(|r| r.change_seq).min().unwrap_or(0);
        let last = rows.iter().map(|r| r.change_seq).max().unwrap_or(0);
        let rel = format!("parquet/items/{part}/delta-{first:012}-{last:012}.parquet");
        let batch = pq::items_batch(rows, now)?;
        written.push(write(
            dir,
            &rel,
            "items",
            part,
            pq::items_schema(),
            &batch,
            level,
            now,
        )?);
    }
    for (part, (first, last, rows)) in blob_parts {
        let rel = format!("parquet/blobs/{part}/delta-{first:012}-{last:012}.parquet");
        let batch = pq::blobs_batch(rows, now)?;
        written.push(write(
            dir,
            &rel,
            "blobs",
            part,
            pq::blobs_schema(),
            &batch,
            level,
            now,
        )?);
    }
    Ok(written)
}

/// Register the files written, move the watermarks and append the evidence line, in one
/// transaction.
fn record(
    store: &mut Store,
    written: &[ExportFile],
    items: &Partitions<Vec<ItemRow>>,
    blobs: &Partitions<(i64, i64, Vec<BlobRow>)>,
    files: &Partitions<Vec<pq::FileRow>>,
    actor: &str,
    now: &str,
) -> Result<evidence::Appended, InterchangeError> {
    let (items_max, blobs_max, files_max) = (items.max, blobs.max, files.max);
    let (n_items, n_blobs, n_files) = (items.count, blobs.count, files.count);
    store.write_with(|tx| {
        for f in written {
            register(tx, f)?;
        }
        exports::set_watermark(tx, ITEMS_WM, items_max)?;
        exports::set_watermark(tx, BLOBS_WM, blobs_max)?;
        exports::set_watermark(tx, FILES_WM, files_max)?;
        let data = serde_json::json!({
            "files": written.iter().map(|f| serde_json::json!({"path": f.path, "rows": f.rows, "sha256": f.sha256})).collect::<Vec<_>>(),
            "items": n_items, "blobs": n_blobs, "files": n_files,
        });
        Ok::<_, InterchangeError>(evidence::append(tx, "export", actor, now, &data)?)
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn write(
    dir: &Path,
    rel: &str,
    dataset: &str,
    part: &str,
    schema: arrow::datatypes::SchemaRef,
    batch: &arrow::array::RecordBatch,
    level: i32,
    now: &str,
) -> Result<ExportFile, InterchangeError> {
    let path = dir.join(rel);
    let bytes = pq::write_file(&path, schema, std::slice::from_ref(batch), level)?;
    let data = std::fs::read(&path).map_err(|e| InterchangeError::io(&path, e))?;
    Ok(ExportFile {
        path: rel.to_owned(),
        dataset: dataset.to_owned(),
        partition: part.to_owned(),
        rows: batch.num_rows() as i64,
        bytes: bytes as i64,
        sha256: crate::id::sha256_hex(&data),
        created_at: now.to_owned(),
        retired_at: None,
        replaced_by: None,
        compacted: false,
    })
}

/// Rewrite every live `blobs` file and every registered JSONL export that still holds the
/// content of any of `shas`, without it. Returns the files rewritten.
pub fn scrub(
    store: &mut Store,
    shas: &[String],
    now: &str,
) -> Result<Vec<String>, InterchangeError> {
    let dir = store.dir().to_path_buf();
    let mut rewritten = Vec::new();
    let mut updates = Vec::new();
    for f in super::files(store.conn(), true)? {
        match f.dataset.as_str() {
            "blobs" => {
                let path = dir.join(&f.path);
                let Ok(batches) = pq::read_file(&path) else {
                    continue;
                };
                let mut rows = Vec::new();
                for b in &batches {
                    rows.extend(pq::blob_rows(b)?);
                }
                let mut hit = false;
                for r in rows.iter_mut() {
                    if shas.contains(&r.sha256) && r.content.is_some() {
                        r.content = None;
                        r.content_encoding = "none".into();
                        hit = true;
                    }
                }
                if hit {
                    let batch = pq::blobs_batch(&rows, now)?;
                    let mut nf = write(
                        &dir,
                        &f.path,
                        "blobs",
                        &f.partition,
                        pq::blobs_schema(),
                        &batch,
                        9,
                        now,
                    )?;
                    nf.compacted = f.compacted;
                    updates.push(nf);
                    rewritten.push(f.path.clone());
                }
            }
            "jsonl" => {
                let path = Path::new(&f.path).to_path_buf();
                if super::jsonl::scrub_file(&path, shas)? {
                    let data = std::fs::read(&path).map_err(|e| InterchangeError::io(&path, e))?;
                    let mut nf = f.clone();
                    nf.bytes = data.len() as i64;
                    nf.sha256 = crate::id::sha256_hex(&data);
                    updates.push(nf);
                    rewritten.push(f.path.clone());
                }
            }
            _ => {}
        }
    }
    if !updates.is_empty() {
        store.write_with(|tx| {
            for f in &updates {
                register(tx, f)?;
            }
            Ok::<_, InterchangeError>(())
        })?;
    }
    Ok(rewritten)
}
