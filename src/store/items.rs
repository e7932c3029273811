//! Archived file versions: one row per (path, content, source commit), keyed by tombstone id.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

use super::StoreError;

/// The lifecycle of an item.
pub mod state {
    /// Captured; the commit that removes the file is not known yet.
    pub const PENDING: &str = "pending";
    /// Bound to the commit that removed or stubbed it.
    pub const ARCHIVED: &str = "archived";
    /// Brought back by `git archive-restore`.
    pub const RESTORED: &str = "restored";
    /// Content dropped by retention; metadata kept.
    pub const VACUUMED: &str = "vacuumed";
    /// Content destroyed under dual control; metadata kept.
    pub const PURGED: &str = "purged";
    /// Every state, for validating filters.
    pub const ALL: [&str; 5] = [PENDING, ARCHIVED, RESTORED, VACUUMED, PURGED];
}

/// One archived file version, as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    #[serde(skip)]
    pub path: Vec<u8>,
    /// The path as UTF-8 (lossy for non-UTF-8 names; `path_bytes_hex` is exact then).
    #[serde(rename = "path")]
    pub path_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes_hex: Option<String>,
    pub sha256: String,
    pub git_blob_id: Option<String>,
    pub size: u64,
    pub mode: String,
    pub language: Option<String>,
    pub mime: String,
    pub lines: Option<u64>,
    pub binary: bool,
    pub category: String,
    pub action: String,
    pub reason: String,
    pub actor: String,
    pub state: String,
    pub source_commit: String,
    pub removed_in_commit: Option<String>,
    /// When the file left the tree (the removing commit's time for scans; binding time for the
    /// hooks); `None` while pending.
    pub removed_at: Option<String>,
    pub archived_at: String,
    pub updated_at: String,
    pub legal_hold: bool,
    pub tags: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Bytes stored for the content (after compression), when the store still has them.
    pub stored_size: Option<u64>,
}

const COLUMNS: &str =
    "i.id, i.path, i.path_text, i.sha256, i.git_blob_id, i.size, i.mode, i.language, \
    i.mime, i.lines, i.binary, i.category, i.action, i.reason, i.actor, i.state, i.source_commit, \
    i.removed_in_commit, i.archived_at, i.updated_at, i.legal_hold, i.tags, i.metadata, \
    CASE WHEN b.bytes IS NULL THEN NULL ELSE b.stored_size END, i.removed_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Item> {
    let path: Vec<u8> = r.get(1)?;
    let tags: String = r.get(21)?;
    let metadata: String = r.get(22)?;
    Ok(Item {
        id: r.get(0)?,
        path_bytes_hex: std::str::from_utf8(&path)
            .is_err()
            .then(|| crate::id::hex(&path)),
        path,
        path_text: r.get(2)?,
        sha256: r.get(3)?,
        git_blob_id: r.get(4)?,
        size: r.get::<_, i64>(5)? as u64,
        mode: r.get(6)?,
        language: r.get(7)?,
        mime: r.get(8)?,
        lines: r.get::<_, Option<i64>>(9)?.map(|n| n as u64),
        binary: r.get(10)?,
        category: r.get(11)?,
        action: r.get(12)?,
        reason: r.get(13)?,
        actor: r.get(14)?,
        state: r.get(15)?,
        source_commit: r.get(16)?,
        removed_in_commit: r.get(17)?,
        archived_at: r.get(18)?,
        updated_at: r.get(19)?,
        legal_hold: r.get(20)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        metadata: serde_json::from_str(&metadata).unwrap_or_default(),
        stored_size: r.get::<_, Option<i64>>(23)?.map(|n| n as u64),
        removed_at: r.get(24)?,
    })
}

/// Insert a new item; `Ok(false)` if an item with this id already exists (idempotent rerun).
pub fn insert(tx: &Transaction<'_>, item: &Item) -> Result<bool, StoreError> {
    Ok(insert_many(tx, std::slice::from_ref(item))?[0])
}

/// Rows per INSERT statement in [`insert_many`] (25 parameters each, far below SQLite's limit).
const ROWS_PER_INSERT: usize = 64;

/// Insert `items` in order, as [`insert`] would one by one: for each, whether it was new (an
/// id that exists, or came earlier in `items`, is not inserted again). Rows go in multi-row
/// statements: SQLite journals every page a statement changes (the insert fires a trigger),
/// so a statement per row copied each index page it touched once per row.
pub fn insert_many(tx: &Transaction<'_>, items: &[Item]) -> Result<Vec<bool>, StoreError> {
    // Each row's change_seq, in order; rows that turn out to exist leave a gap, which the
    // export watermarks (`change_seq > last`) do not mind.
    let first_seq: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(change_seq), 0) FROM items")?
        .query_row([], |r| r.get::<_, i64>(0))?
        + 1;
    let row = format!("({})", (0..25).map(|_| "?").collect::<Vec<_>>().join(", "));
    let mut new = vec![true; items.len()];
    for (c, chunk) in items.chunks(ROWS_PER_INSERT).enumerate() {
        let sql = format!(
            "INSERT OR IGNORE INTO items (id, path, path_text, mode, language, mime, lines, binary,
                size, sha256, git_blob_id, category, action, reason, actor, source_commit,
                removed_in_commit, archived_at, updated_at, state, legal_hold, tags, metadata,
                removed_at, change_seq)
             VALUES {}",
            vec![row.as_str(); chunk.len()].join(", ")
        );
        let mut stmt = tx.prepare_cached(&sql)?;
        let mut values: Vec<rusqlite::types::Value> = Vec::with_capacity(chunk.len() * 25);
        let chunk_seq = first_seq + (c * ROWS_PER_INSERT) as i64;
        for (item, seq) in chunk.iter().zip(chunk_seq..) {
            use rusqlite::types::Value;
            let text = |s: &str| Value::Text(s.to_owned());
            let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, text);
            values.extend([
                text(&item.id),
                Value::Blob(item.path.clone()),
                text(&item.path_text),
                text(&item.mode),
                opt(&item.language),
                text(&item.mime),
                item.lines.map_or(Value::Null, |n| Value::Integer(n as i64)),
                Value::Integer(i64::from(item.binary)),
                Value::Integer(item.size as i64),
                text(&item.sha256),
                opt(&item.git_blob_id),
                text(&item.category),
                text(&item.action),
                text(&item.reason),
                text(&item.actor),
                text(&item.source_commit),
                opt(&item.removed_in_commit),
                text(&item.archived_at),
                text(&item.updated_at),
                text(&item.state),
                Value::Integer(i64::from(item.legal_hold)),
                Value::Text(serde_json::Value::from(item.tags.clone()).to_string()),
                Value::Text(serde_json::Value::Object(item.metadata.clone()).to_string()),
                opt(&item.removed_at),
                Value::Integer(seq),
            ]);
        }
        // Only the rows of `items` count (not the trigger's tombstone rows). When some row was
        // ignored, a row was inserted if and only if its id now carries the change_seq it was
        // given: every seq given here is above any the store held, and an ignored row's seq is
        // stored nowhere.
        let inserted = stmt.execute(rusqlite::params_from_iter(values))?;
        if inserted < chunk.len() {
            let mut seq_of = tx.prepare_cached("SELECT change_seq FROM items WHERE id = ?1")?;
            for ((item, seq), new) in chunk
                .iter()
                .zip(chunk_seq..)
                .zip(&mut new[c * ROWS_PER_INSERT..])
            {
                let stored: Option<Option<i64>> =
                    seq_of.query_row([&item.id], |r| r.get(0)).optional()?;
                *new = stored == Some(Some(seq));
            }
        }
    }
    Ok(new)
}

/// The item with this id.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Item>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM items i LEFT JOIN blobs b ON b.sha256 = i.sha256 WHERE i.id = ?1"
    );
    Ok(conn.query_row(&sql, [id], from_row).optional()?)
}

/// Every item at `path`, the most recently removed first: by `removed_at` (a pending item,
/// not yet committed, counts from when it was archived), then the newest row.
pub fn versions_at_path(conn: &Connection, path: &[u8]) -> Result<Vec<Item>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM items i LEFT JOIN blobs b ON b.sha256 = i.sha256
         WHERE i.path = ?1 ORDER BY coalesce(i.removed_at, i.archived_at) DESC, i.rowid DESC"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([path], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The distinct paths of items below directory `dir` (every path when `dir` is empty).
pub fn paths_under(conn: &Connection, dir: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
    if dir.is_empty() {
        let mut stmt = conn.prepare("SELECT DISTINCT path FROM items ORDER BY path")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        return Ok(rows.collect::<Result<_, _>>()?);
    }
    // Byte order: `dir/` ≤ path < `dir0` (`0` follows `/`) is exactly "below `dir`".
    let low = [dir, b"/"].concat();
    let high = [dir, b"0"].concat();
    let mut stmt = conn
        .prepare("SELECT DISTINCT path FROM items WHERE path >= ?1 AND path < ?2 ORDER BY path")?;
    let rows = stmt.query_map(params![low, high], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The most recently removed item at `path` (the first of [`versions_at_path`]).
pub fn latest_at_path(conn: &Connection, path: &[u8]) -> Result<Option<Item>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM items i LEFT JOIN blobs b ON b.sha256 = i.sha256
         WHERE i.path = ?1 ORDER BY coalesce(i.removed_at, i.archived_at) DESC, i.rowid DESC LIMIT 1"
    );
    Ok(conn.query_row(&sql, [path], from_row).optional()?)
}

/// Filters for [`list`]; every field narrows the result.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub category: Option<String>,
    pub state: Option<String>,
    /// Matches `source_commit` or `removed_in_commit` by prefix.
    pub commit: Option<String>,
    /// Inclusive lower bound on `archived_at` (RFC 3339 UTC).
    pub since: Option<String>,
    /// Exclusive upper bound on `archived_at` (RFC 3339 UTC).
    pub until: Option<String>,
}

/// Items matching `filter`, sorted by path bytes, then archive time.
pub fn list(conn: &Connection, filter: &Filter) -> Result<Vec<Item>, StoreError> {
    let mut sql =
        format!("SELECT {COLUMNS} FROM items i LEFT JOIN blobs b ON b.sha256 = i.sha256 WHERE 1=1");
    let mut args: Vec<String> = Vec::new();
    // Each clause names its value as `?N`; `$` in a clause stands for that N.
    let mut clause = |template: &str, value: String| {
        args.push(value);
        sql.push_str(&template.replace('$', &format!("?{}", args.len())));
    };
    if let Some(c) = &filter.category {
        clause(" AND i.category = $", c.clone());
    }
    if let Some(s) = &filter.state {
        clause(" AND i.state = $", s.clone());
    }
    if let Some(c) = &filter.commit {
        let prefix = format!("{}%", c.to_ascii_lowercase());
        clause(
            " AND (i.source_commit LIKE $ OR i.removed_in_commit LIKE $)",
            prefix,
        );
    }
    if let Some(s) = &filter.since {
        clause(" AND i.archived_at >= $", s.clone());
    }
    if let Some(u) = &filter.until {
        clause(" AND i.archived_at < $", u.clone());
    }
    sql.push_str(" ORDER BY i.path, i.archived_at, i.id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every item, `chunk` at a time, in id order: the rows are read as `f` goes, so a store of
/// millions of items is never held in memory whole.
pub fn for_each_chunk<E: From<StoreError>>(
    conn: &Connection,
    chunk: usize,
    f: &mut dyn FnMut(&[Item]) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!(
        "SELECT {COLUMNS} FROM items i LEFT JOIN blobs b ON b.sha256 = i.sha256 ORDER BY i.id"
    );
    let mut stmt = conn.prepare(&sql).map_err(StoreError::from)?;
    let mut rows = stmt.query([]).map_err(StoreError::from)?;
    let mut buf = Vec::with_capacity(chunk);
    while let Some(row) = rows.next().map_err(StoreError::from)? {
        buf.push(from_row(row).map_err(StoreError::from)?);
        if buf.len() == chunk {
            f(&buf)?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        f(&buf)?;
    }
    Ok(())
}

/// Items still `pending`, in path order.
pub fn pending(conn: &Connection) -> Result<Vec<Item>, StoreError> {
    list(
        conn,
        &Filter {
            state: Some(state::PENDING.into()),
            ..Filter::default()
        },
    )
}

/// Record that the item now has a stub in history (`scan --write-stubs` committed it).
pub fn mark_stubbed(tx: &Transaction<'_>, id: &str, now: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE items SET action = 'stub', updated_at = ?2 WHERE id = ?1",
        [id, now],
    )?;
    Ok(())
}

/// Set state (and optionally the removing commit) of one item. Binding a removing commit also
/// records when the file left the tree (`removed_at`, default `now`), once.
pub fn set_state(
    tx: &Transaction<'_>,
    id: &str,
    new_state: &str,
    removed_in_commit: Option<&str>,
    now: &str,
) -> Result<(), StoreError> {
    bind_removal(tx, id, new_state, removed_in_commit, None, now)
}

/// [`set_state`] with the time the file left the tree, when it is known (a commit's time).
pub fn bind_removal(
    tx: &Transaction<'_>,
    id: &str,
    new_state: &str,
    removed_in_commit: Option<&str>,
    removed_at: Option<&str>,
    now: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE items SET state = ?2, removed_in_commit = COALESCE(?3, removed_in_commit),
            removed_at = COALESCE(removed_at, CASE WHEN ?3 IS NULL THEN NULL ELSE COALESCE(?5, ?4) END),
            updated_at = ?4
         WHERE id = ?1",
    )?
    .execute(params![id, new_state, removed_in_commit, now, removed_at])?;
    Ok(())
}

/// Point an item's removal at another commit (the same change, rewritten).
pub fn rebind_removal(
    tx: &Transaction<'_>,
    id: &str,
    removed_in_commit: &str,
    now: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE items SET removed_in_commit = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, removed_in_commit, now],
    )?;
    Ok(())
}

/// Undo an item's removal: its deletion is no longer in history, so it waits for one again.
pub fn unbind_removal(tx: &Transaction<'_>, id: &str, now: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE items SET state = 'pending', removed_in_commit = NULL, removed_at = NULL,
            updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Move every item removed in commit `old` to commit `new` (a rebase or amend rewrote it);
/// returns the ids moved.
pub fn move_removals(
    tx: &Transaction<'_>,
    old: &str,
    new: &str,
    now: &str,
) -> Result<Vec<String>, StoreError> {
    let moved: Vec<String> = tx
        .prepare_cached("SELECT id FROM items WHERE removed_in_commit = ?1 ORDER BY id")?
        .query_map([old], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if !moved.is_empty() {
        tx.execute(
            "UPDATE items SET removed_in_commit = ?2, updated_at = ?3 WHERE removed_in_commit = ?1",
            [old, new, now],
        )?;
    }
    Ok(moved)
}

/// How many items the store holds.
pub fn count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?)
}

/// (id, path) of the stubbed items removed before `cutoff` and not held (of `category`, if
/// given), by path: the stubs retention may take out of the work tree.
pub fn stubbed_removed_before(
    conn: &Connection,
    cutoff: &str,
    category: Option<&str>,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, path FROM items WHERE action = 'stub' AND removed_at < ?1
               AND legal_hold = 0 AND (?2 IS NULL OR category = ?2) ORDER BY path, id",
        )?
        .query_map(params![cutoff, category], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}

/// The ids of the items whose content is `sha256` and that are not purged, by path.
pub fn unpurged_with_content(conn: &Connection, sha256: &str) -> Result<Vec<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM items WHERE sha256 = ?1 AND state != 'purged' ORDER BY path, id",
        )?
        .query_map([sha256], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Insert an item as exported (an import), unless its id is there; the rows inserted (0 or 1).
pub fn insert_row(
    tx: &Transaction<'_>,
    row: &super::exports::ItemRow,
) -> Result<usize, StoreError> {
    // Prepared once per import (an import runs this a million times).
    Ok(tx
        .prepare_cached(
            "INSERT OR IGNORE INTO items (id, path, path_text, mode, language, mime, lines,
            binary, size, sha256, git_blob_id, category, action, reason, actor,
            source_commit, removed_in_commit, archived_at, updated_at, state, legal_hold,
            tags, metadata, removed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
            ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
        )?
        .execute(params![
            row.id,
            row.path,
            String::from_utf8_lossy(&row.path),
            row.mode,
            row.language,
            row.mime,
            row.lines,
            row.binary,
            row.size,
            row.sha256,
            row.git_blob_id,
            row.category,
            row.action,
            row.reason,
            row.actor,
            row.source_commit,
            row.removed_in_commit,
            row.archived_at,
            row.updated_at,
            row.state,
            row.legal_hold,
            row.tags,
            row.metadata,
            row.removed_at
        ])?)
}

/// Set an item's state and nothing else (an imported log line replayed).
pub fn set_state_only(
    tx: &Transaction<'_>,
    id: &str,
    st: &str,
    now: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE items SET state = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, st, now],
    )?;
    Ok(())
}

/// Bind a pending item to the commit that removed it (an imported `bind` line replayed).
pub fn bind_pending(
    tx: &Transaction<'_>,
    id: &str,
    commit: Option<&str>,
    now: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE items SET state = 'archived', removed_in_commit = ?2, updated_at = ?3
         WHERE id = ?1 AND state = 'pending'",
        params![id, commit, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, sha256: &str) -> Item {
        Item {
            id: id.to_owned(),
            path: id.as_bytes().to_vec(),
            path_text: id.to_owned(),
            path_bytes_hex: None,
            sha256: sha256.to_owned(),
            git_blob_id: None,
            size: 1,
            mode: "100644".into(),
            language: None,
            mime: "text/plain".into(),
            lines: Some(1),
            binary: false,
            category: "code".into(),
            action: "archive".into(),
            reason: "r".into(),
            actor: "a".into(),
            state: state::ARCHIVED.into(),
            source_commit: "c".into(),
            removed_in_commit: Some("d".into()),
            removed_at: Some("t".into()),
            archived_at: "t".into(),
            updated_at: "t".into(),
            legal_hold: false,
            tags: Vec::new(),
            metadata: serde_json::Map::new(),
            stored_size: None,
        }
    }

    /// Whether each row was new, across statements (more rows than one holds): an id already
    /// stored, or given twice (in one statement or two), is inserted once, the first time; the
    /// rows inserted get increasing change_seqs and one tombstone row each.
    #[test]
    fn insert_many_reports_which_rows_were_new_and_inserts_each_id_once() {
        let mut conn = super::super::schema::in_memory();
        let tx = conn.transaction().expect("transaction");
        let sha = "a".repeat(64);
        tx.execute(
            "INSERT INTO blobs (sha256, size, compression, stored_size, created_at)
             VALUES (?1, 1, 'none', 1, 't')",
            [&sha],
        )
        .expect("blob");
        assert_eq!(
            insert_many(&tx, &[item("old", &sha)]).expect("first"),
            [true]
        );
        let n = ROWS_PER_INSERT * 2 + 5;
        let mut ids: Vec<String> = (0..n).map(|i| format!("tb_{i}")).collect();
        ids[3] = "old".into(); // stored already
        ids[7] = "tb_2".into(); // twice in one statement
        ids[ROWS_PER_INSERT + 1] = "tb_5".into(); // twice, in another statement
        let rows: Vec<Item> = ids.iter().map(|id| item(id, &sha)).collect();
        let new = insert_many(&tx, &rows).expect("insert");
        let expected: Vec<bool> = (0..n)
            .map(|i| !matches!(i, 3 | 7) && i != ROWS_PER_INSERT + 1)
            .collect();
        assert_eq!(new, expected);
        // All new rows in full, nothing rewritten: every one of them is fresh (old has seq 1).
        let seqs: Vec<i64> = tx
            .prepare("SELECT change_seq FROM items ORDER BY rowid")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .expect("seqs");
        assert_eq!(seqs.len(), 1 + expected.iter().filter(|b| **b).count());
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        let tombstones: i64 = tx
            .query_row("SELECT count(*) FROM tombstones", [], |r| r.get(0))
            .expect("tombstones");
        assert_eq!(tombstones as usize, seqs.len());
    }
}
