//! Whole-tree snapshot rows (`git tombstone snapshot`): the files of the tree as last
//! snapshotted (`live_files`).

use rusqlite::{params, Connection, Transaction};

use super::StoreError;

/// A file of the last snapshot.
#[derive(Debug, Clone)]
pub struct LiveFile {
    /// The `snapshot_files` row.
    pub id: i64,
    pub path: Vec<u8>,
    pub path_text: String,
    pub mode: String,
    pub sha256: String,
    pub git_blob_id: String,
    pub size: i64,
    pub language: Option<String>,
    pub category: String,
    pub first_commit: String,
    pub first_seen_at: String,
}

/// The live files (of `category`, if given), by path.
pub fn live_files(conn: &Connection, category: Option<&str>) -> Result<Vec<LiveFile>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT path, path_text, mode, sha256, git_blob_id, size, language, category,
                first_commit, first_seen_at, id FROM live_files
             WHERE (?1 IS NULL OR category = ?1) ORDER BY path",
        )?
        .query_map([category], |r| {
            Ok(LiveFile {
                path: r.get(0)?,
                path_text: r.get(1)?,
                mode: r.get(2)?,
                sha256: r.get(3)?,
                git_blob_id: r.get(4)?,
                size: r.get(5)?,
                language: r.get(6)?,
                category: r.get(7)?,
                first_commit: r.get(8)?,
                first_seen_at: r.get(9)?,
                id: r.get(10)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Mark snapshot row `id` superseded by a newer version of its file.
pub fn supersede(tx: &Transaction<'_>, id: i64, at: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE snapshot_files SET superseded_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// A file version a snapshot saw.
#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    pub path: &'a [u8],
    pub mode: &'a str,
    pub sha256: &'a str,
    pub git_blob_id: &'a str,
    pub size: i64,
    pub language: Option<&'a str>,
    pub mime: &'a str,
    pub lines: Option<i64>,
    pub binary: bool,
    pub category: &'a str,
    pub first_commit: &'a str,
    pub first_seen_at: &'a str,
}

/// Record a file version a snapshot saw.
pub fn insert(tx: &Transaction<'_>, f: &NewFile<'_>) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO snapshot_files (path, path_text, mode, sha256, git_blob_id, size,
            language, mime, lines, binary, category, first_commit, first_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        f.path,
        String::from_utf8_lossy(f.path),
        f.mode,
        f.sha256,
        f.git_blob_id,
        f.size,
        f.language,
        f.mime,
        f.lines,
        f.binary,
        f.category,
        f.first_commit,
        f.first_seen_at
    ])?;
    Ok(())
}

/// Mark snapshot row `id` deleted at `at` in `commit`, and record the deletion in its
/// category's tombstone stream. (The row's columns, one argument each.)
#[allow(clippy::too_many_arguments)]
pub fn delete(
    tx: &Transaction<'_>,
    id: i64,
    path: &[u8],
    category: &str,
    sha256: &str,
    first_commit: &str,
    commit: &str,
    at: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE snapshot_files SET deleted_at = ?2, deleted_in_commit = ?3 WHERE id = ?1",
        params![id, at, commit],
    )?;
    tx.execute(
        "INSERT INTO tombstones (stream, deleted_at, origin, item_id, path, path_text,
            category, sha256, source_commit, removed_in_commit, reason)
         VALUES (?1, ?2, 'snapshot', NULL, ?3, ?4, ?5, ?6, ?7, ?8, 'deleted')",
        params![
            super::streams::stream_of(category),
            at,
            path,
            String::from_utf8_lossy(path),
            category,
            sha256,
            first_commit,
            commit
        ],
    )?;
    Ok(())
}
