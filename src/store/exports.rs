//! What export, sync, compaction and the JSONL interchange read from the store: the rows they
//! write out (items, blobs, snapshot files) past each dataset's watermark, and the registry of
//! files written (`export_files`).

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::{meta, StoreError};

/// One snapshot row, as exported.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    pub row_id: i64,
    pub path: Vec<u8>,
    pub mode: String,
    pub sha256: String,
    pub git_blob_id: String,
    pub size: i64,
    pub language: Option<String>,
    pub mime: String,
    pub lines: Option<i64>,
    pub binary: bool,
    pub category: String,
    pub first_commit: String,
    pub first_seen_at: String,
    pub superseded_at: Option<String>,
    pub deleted_at: Option<String>,
    pub deleted_in_commit: Option<String>,
    pub change_seq: i64,
}

/// One item row, as exported.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub id: String,
    pub path: Vec<u8>,
    pub mode: String,
    pub language: Option<String>,
    pub mime: String,
    pub lines: Option<i64>,
    pub binary: bool,
    pub size: i64,
    pub sha256: String,
    pub git_blob_id: Option<String>,
    pub category: String,
    pub action: String,
    pub reason: String,
    pub actor: String,
    pub source_commit: String,
    pub removed_in_commit: Option<String>,
    pub archived_at: String,
    pub updated_at: String,
    pub removed_at: Option<String>,
    pub state: String,
    pub legal_hold: bool,
    pub tags: String,
    pub metadata: String,
    pub change_seq: i64,
}

/// The SELECT list that builds an [`ItemRow`].
pub const ITEM_COLUMNS: &str = "id, path, mode, language, mime, lines, binary, size, sha256,
    git_blob_id, category, action, reason, actor, source_commit, removed_in_commit, archived_at,
    updated_at, removed_at, state, legal_hold, tags, metadata, change_seq";

/// An [`ItemRow`] from a row selected with [`ITEM_COLUMNS`].
fn item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ItemRow> {
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

/// The items changed since `change_seq` (exclusive), in change order.
pub fn items_changed_since(conn: &Connection, change_seq: i64) -> Result<Vec<ItemRow>, StoreError> {
    Ok(conn
        .prepare(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE change_seq > ?1 ORDER BY change_seq"
        ))?
        .query_map([change_seq], item_row)?
        .collect::<Result<_, _>>()?)
}

/// Every item, by path, archive time and id.
pub fn all_items(conn: &Connection) -> Result<Vec<ItemRow>, StoreError> {
    Ok(conn
        .prepare(&format!(
            "SELECT {ITEM_COLUMNS} FROM items ORDER BY path, archived_at, id"
        ))?
        .query_map([], item_row)?
        .collect::<Result<_, _>>()?)
}

/// A blob's row without its content.
#[derive(Debug, Clone)]
pub struct BlobMeta {
    pub rowid: i64,
    pub sha256: String,
    pub size: i64,
    pub git_blob_id: Option<String>,
    pub created_at: String,
}

/// The blobs added since `rowid` (exclusive), ordered by the path that uses them so similar
/// files sit next to each other.
pub fn blobs_since(conn: &Connection, rowid: i64) -> Result<Vec<BlobMeta>, StoreError> {
    Ok(conn
        .prepare(
            "SELECT b.rowid, b.sha256, b.size, b.git_blob_id, b.created_at FROM blobs b
             WHERE b.rowid > ?1
             ORDER BY (SELECT MIN(path) FROM items i WHERE i.sha256 = b.sha256), b.sha256",
        )?
        .query_map([rowid], |r| {
            Ok(BlobMeta {
                rowid: r.get(0)?,
                sha256: r.get(1)?,
                size: r.get(2)?,
                git_blob_id: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// The snapshot rows changed since `change_seq` (exclusive), in change order.
pub fn snapshot_files_changed_since(
    conn: &Connection,
    change_seq: i64,
) -> Result<Vec<FileRow>, StoreError> {
    Ok(conn
        .prepare(
            "SELECT id, path, mode, sha256, git_blob_id, size, language, mime, lines, binary, category,
                first_commit, first_seen_at, superseded_at, deleted_at, deleted_in_commit, change_seq
             FROM snapshot_files WHERE change_seq > ?1 ORDER BY change_seq",
        )?
        .query_map([change_seq], |r| {
            Ok(FileRow {
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
        .collect::<Result<_, _>>()?)
}

/// An export watermark (`meta` key `key`), 0 when there is none yet.
pub fn watermark(conn: &Connection, key: &str) -> Result<i64, StoreError> {
    Ok(meta::get(conn, key)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Move an export watermark.
pub fn set_watermark(conn: &Connection, key: &str, value: i64) -> Result<(), StoreError> {
    meta::set(conn, key, &value.to_string())
}

/// A file registered in `export_files`.
#[derive(Debug, Clone, Serialize)]
pub struct ExportFile {
    /// Relative to the store directory (`parquet/items/date=…/…`), or absolute for JSONL.
    pub path: String,
    pub dataset: String,
    /// `date=YYYY-MM-DD`, empty for JSONL.
    pub partition: String,
    pub rows: i64,
    pub bytes: i64,
    pub sha256: String,
    pub created_at: String,
    pub retired_at: Option<String>,
    pub replaced_by: Option<String>,
    pub compacted: bool,
}

/// Registered files, live (`retired_at IS NULL`) or all.
pub fn files(conn: &Connection, live_only: bool) -> Result<Vec<ExportFile>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, dataset, partition, rows, bytes, sha256, created_at, retired_at, replaced_by,
            compacted FROM export_files WHERE (?1 = 0 OR retired_at IS NULL) ORDER BY path",
    )?;
    let rows = stmt.query_map([live_only as i64], |r| {
        Ok(ExportFile {
            path: r.get(0)?,
            dataset: r.get(1)?,
            partition: r.get(2)?,
            rows: r.get(3)?,
            bytes: r.get(4)?,
            sha256: r.get(5)?,
            created_at: r.get(6)?,
            retired_at: r.get(7)?,
            replaced_by: r.get(8)?,
            compacted: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Register a written file (replacing an earlier registration of the same path).
pub fn register(tx: &Connection, f: &ExportFile) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO export_files (path, dataset, partition, rows, bytes, sha256, created_at,
            retired_at, replaced_by, compacted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, ?8)
         ON CONFLICT (path) DO UPDATE SET rows = excluded.rows, bytes = excluded.bytes,
            sha256 = excluded.sha256, created_at = excluded.created_at, retired_at = NULL,
            replaced_by = NULL, compacted = excluded.compacted",
        rusqlite::params![
            f.path,
            f.dataset,
            f.partition,
            f.rows,
            f.bytes,
            f.sha256,
            f.created_at,
            f.compacted
        ],
    )?;
    Ok(())
}

/// Mark the registered file `path` retired at `at`, replaced by `replaced_by` (a compaction).
pub fn retire(
    tx: &Transaction<'_>,
    path: &str,
    at: &str,
    replaced_by: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE export_files SET retired_at = ?2, replaced_by = ?3 WHERE path = ?1",
        rusqlite::params![path, at, replaced_by],
    )?;
    Ok(())
}
