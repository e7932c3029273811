//! Parquet delta exports: each run writes, per dataset and date partition, one new immutable
//! file holding only the rows changed since the last run (watermarks in `meta`).
//!
//! Items are ordered by `change_seq` (every insert or update bumps it), blobs by rowid (content
//! never changes; it can only disappear). File names come from the first and last row they hold,
//! so a rerun after a crash rewrites the same names instead of adding duplicates, and files left
//! unregistered by a crash are removed first ([`super::tidy`]).

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::parquet::{self as pq, BlobRow, ItemRow};
use super::{partition_of, register, ExportFile, InterchangeError};
use crate::store::{blobs, evidence, Store};

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

fn watermark(conn: &Connection, key: &str) -> Result<i64, InterchangeError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// The SELECT list that builds an [`ItemRow`].
pub const ITEM_COLUMNS: &str = "id, path, mode, language, mime, lines, binary, size, sha256,
    git_blob_id, category, action, reason, actor, source_commit, removed_in_commit, archived_at,
    updated_at, removed_at, state, legal_hold, tags, metadata, change_seq";

/// An [`ItemRow`] from a row selected with [`ITEM_COLUMNS`].
pub fn item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ItemRow> {
    Ok(ItemRow {
        id: r.get(0)?,
        path: r.get(1)?,
        mode: r.get(2)?,
        language: r.get(3)?,
        mime: r.get(4)?,
        lines: r.get(5)?,
        binary: r.get(6)?,
        size: r.get(7)?,
        sha256: r.get(8)?,
        git_blob_id: r.get(9)?,
        category: r.get(10)?,
        action: r.get(11)?,
        reason: r.get(12)?,
        actor: r.get(13)?,
        source_commit: r.get(14)?,
        removed_in_commit: r.get(15)?,
        archived_at: r.get(16)?,
        updated_at: r.get(17)?,
        removed_at: r.get(18)?,
        state: r.get(19)?,
        legal_hold: r.get(20)?,
        tags: r.get(21)?,
        metadata: r.get(22)?,
        change_seq: r.get::<_, Option<i64>>(23)?.unwrap_or(0),
    })
}

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
    let items_wm = watermark(conn, ITEMS_WM)?;
    let blobs_wm = watermark(conn, BLOBS_WM)?;

    let mut by_part: BTreeMap<String, Vec<ItemRow>> = BTreeMap::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE change_seq > ?1 ORDER BY change_seq"
    ))?;
    let mut items_max = items_wm;
    let mut n_items = 0;
    for row in stmt.query_map([items_wm], item_row)? {
        let row = row?;
        items_max = items_max.max(row.change_seq);
        n_items += 1;
        by_part
            .entry(partition_of(&row.archived_at))
            .or_default()
            .push(row);
    }
    drop(stmt);

    // Blobs, ordered by the path that uses them so similar files sit next to each other.
    let mut stmt = conn.prepare(
        "SELECT b.rowid, b.sha256, b.size, b.git_blob_id, b.created_at FROM blobs b
         WHERE b.rowid > ?1
         ORDER BY (SELECT MIN(path) FROM items i WHERE i.sha256 = b.sha256), b.sha256",
    )?;
    let mut blobs_max = blobs_wm;
    let mut blob_parts: BTreeMap<String, (i64, i64, Vec<BlobRow>)> = BTreeMap::new();
    let rows: Vec<(i64, String, i64, Option<String>, String)> = stmt
        .query_map([blobs_wm], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    drop(stmt);
    let n_blobs = rows.len();
    for (rowid, sha, size, git, created) in rows {
        blobs_max = blobs_max.max(rowid);
        let part = partition_of(&created);
        let row = blob_row(conn, &sha, size, git, created, opts.content)?;
        let e = blob_parts.entry(part).or_insert((i64::MAX, 0, Vec::new()));
        e.0 = e.0.min(rowid);
        e.1 = e.1.max(rowid);
        e.2.push(row);
    }

    let files_wm = watermark(conn, FILES_WM)?;
    let mut stmt = conn.prepare(
        "SELECT id, path, mode, sha256, git_blob_id, size, language, mime, lines, binary, category,
            first_commit, first_seen_at, superseded_at, deleted_at, deleted_in_commit, change_seq
         FROM snapshot_files WHERE change_seq > ?1 ORDER BY change_seq",
    )?;
    let snapshot_rows: Vec<pq::FileRow> = stmt
        .query_map([files_wm], |r| {
            Ok(pq::FileRow {
                row_id: r.get(0)?,
                path: r.get(1)?,
                mode: r.get(2)?,
                sha256: r.get(3)?,
                git_blob_id: r.get(4)?,
                size: r.get(5)?,
                language: r.get(6)?,
                mime: r.get(7)?,
                lines: r.get(8)?,
                binary: r.get(9)?,
                category: r.get(10)?,
                first_commit: r.get(11)?,
                first_seen_at: r.get(12)?,
                superseded_at: r.get(13)?,
                deleted_at: r.get(14)?,
                deleted_in_commit: r.get(15)?,
                change_seq: r.get::<_, Option<i64>>(16)?.unwrap_or(0),
            })
        })?
        .collect::<Result<_, _>>()?;
    drop(stmt);
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

    let mut written = Vec::new();
    for (part, rows) in &file_parts {
        let first = rows.iter().map(|r| r.change_seq).min().unwrap_or(0);
        let last = rows.iter().map(|r| r.change_seq).max().unwrap_or(0);
        let rel = format!("parquet/files/{part}/delta-{first:012}-{last:012}.parquet");
        let batch = pq::files_batch(rows, now)?;
        written.push(write(
            &dir,
            &rel,
            "files",
            part,
            pq::files_schema(),
            &batch,
            opts.level,
            now,
        )?);
    }
    for (part, rows) in &by_part {
        let first = rows.iter().map(|r| r.change_seq).min().unwrap_or(0);
        let last = rows.iter().map(|r| r.change_seq).max().unwrap_or(0);
        let rel = format!("parquet/items/{part}/delta-{first:012}-{last:012}.parquet");
        let batch = pq::items_batch(rows, now)?;
        written.push(write(
            &dir,
            &rel,
            "items",
            part,
            pq::items_schema(),
            &batch,
            opts.level,
            now,
        )?);
    }
    for (part, (first, last, rows)) in &blob_parts {
        let rel = format!("parquet/blobs/{part}/delta-{first:012}-{last:012}.parquet");
        let batch = pq::blobs_batch(rows, now)?;
        written.push(write(
            &dir,
            &rel,
            "blobs",
            part,
            pq::blobs_schema(),
            &batch,
            opts.level,
            now,
        )?);
    }
    crate::failpoint::hit("export:after-files");
    let evidence = if written.is_empty() {
        None
    } else {
        let files = written.clone();
        Some(store.write_with(|tx| {
            for f in &files {
                register(tx, f)?;
            }
            set_meta(tx, ITEMS_WM, items_max)?;
            set_meta(tx, BLOBS_WM, blobs_max)?;
            set_meta(tx, FILES_WM, files_max)?;
            let data = serde_json::json!({
                "files": files.iter().map(|f| serde_json::json!({"path": f.path, "rows": f.rows, "sha256": f.sha256})).collect::<Vec<_>>(),
                "items": n_items, "blobs": n_blobs, "files": n_files,
            });
            Ok::<_, InterchangeError>(evidence::append(tx, "export", actor, now, &data)?)
        })?)
    };
    Ok(Exported {
        files: written,
        items: n_items,
        blobs: n_blobs,
        files_rows: n_files,
        removed_leftovers,
        evidence,
    })
}

fn set_meta(tx: &Connection, key: &str, value: i64) -> Result<(), InterchangeError> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        rusqlite::params![key, value.to_string()],
    )?;
    Ok(())
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
