//! Whole-tree snapshot rows (`git tombstone snapshot`): the files of the tree as last
//! snapshotted (`live_files`).

use rusqlite::Connection;

use super::StoreError;

/// A file of the last snapshot.
#[derive(Debug, Clone)]
pub struct LiveFile {
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
                first_commit, first_seen_at FROM live_files
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
            })
        })?
        .collect::<Result<_, _>>()?)
}
