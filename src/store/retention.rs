//! What retention reads and changes: the items removed before a cut-off, who else uses their
//! content, the tombstone events before it, and the store's totals (`vacuum --summary`).

use std::collections::BTreeMap;

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;

use super::StoreError;

/// An item as retention sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub path: Vec<u8>,
    pub path_text: String,
    pub category: String,
    pub removed_at: Option<String>,
    pub sha256: String,
    pub action: String,
    pub state: String,
    pub legal_hold: bool,
}

/// Every item (of `category`, if given), by path, archive time and id.
pub fn candidates(conn: &Connection, category: Option<&str>) -> Result<Vec<Candidate>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, path, path_text, category, removed_at, sha256, action, state, legal_hold
             FROM items WHERE (?1 IS NULL OR category = ?1) ORDER BY path, archived_at, id",
        )?
        .query_map([category], |r| {
            Ok(Candidate {
                id: r.get(0)?,
                path: r.get(1)?,
                path_text: r.get(2)?,
                category: r.get(3)?,
                removed_at: r.get(4)?,
                sha256: r.get(5)?,
                action: r.get(6)?,
                state: r.get(7)?,
                legal_hold: r.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// The items that still use content `sha256` (not vacuumed or purged), by path.
pub fn users_of(conn: &Connection, sha256: &str) -> Result<Vec<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM items WHERE sha256 = ?1 AND state NOT IN ('vacuumed', 'purged')
             ORDER BY path, id",
        )?
        .query_map([sha256], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// The stored (compressed) size of content `sha256`, if its bytes are still there.
pub fn stored_size(conn: &Connection, sha256: &str) -> Result<Option<u64>, StoreError> {
    let size: Option<i64> = conn
        .prepare_cached("SELECT stored_size FROM blobs WHERE sha256 = ?1 AND bytes IS NOT NULL")?
        .query_map([sha256], |r| r.get(0))?
        .next()
        .transpose()?;
    Ok(size.map(|s| s as u64))
}

/// Tombstone events before `cutoff` (of `category`) whose item is not held, per stream.
pub fn tombstones_before(
    conn: &Connection,
    cutoff: &str,
    category: Option<&str>,
) -> Result<BTreeMap<String, u64>, StoreError> {
    let mut out = BTreeMap::new();
    let mut t = conn.prepare_cached(
        "SELECT t.stream, COUNT(*) FROM tombstones t LEFT JOIN items i ON i.id = t.item_id
         WHERE t.deleted_at < ?1 AND (?2 IS NULL OR t.category = ?2)
           AND COALESCE(i.legal_hold, 0) = 0
         GROUP BY t.stream ORDER BY t.stream",
    )?;
    for row in t.query_map(params![cutoff, category], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (s, n) = row?;
        out.insert(s, n as u64);
    }
    Ok(out)
}

/// Mark item `id` vacuumed, unless a hold was placed since or it is vacuumed or purged.
pub fn mark_vacuumed(tx: &Transaction<'_>, id: &str, now: &str) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE items SET state = 'vacuumed', updated_at = ?2
         WHERE id = ?1 AND legal_hold = 0 AND state NOT IN ('vacuumed', 'purged')",
    )?
    .execute(params![id, now])?;
    Ok(())
}

/// Drop the bytes of content `sha256` unless an item still uses it.
pub fn drop_unused_bytes(tx: &Transaction<'_>, sha256: &str) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE blobs SET bytes = NULL WHERE sha256 = ?1 AND NOT EXISTS (
            SELECT 1 FROM items WHERE sha256 = ?1 AND state NOT IN ('vacuumed', 'purged'))",
    )?
    .execute([sha256])?;
    Ok(())
}

/// Delete the tombstone events [`tombstones_before`] counts.
pub fn prune_tombstones(
    tx: &Transaction<'_>,
    cutoff: &str,
    category: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM tombstones WHERE seq IN (
            SELECT t.seq FROM tombstones t LEFT JOIN items i ON i.id = t.item_id
            WHERE t.deleted_at < ?1 AND (?2 IS NULL OR t.category = ?2)
              AND COALESCE(i.legal_hold, 0) = 0)",
        params![cutoff, category],
    )?;
    Ok(())
}

/// `vacuum --summary`: what the store holds.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub items: u64,
    pub unique_paths: u64,
    pub by_state: BTreeMap<String, u64>,
    pub by_category: BTreeMap<String, CategoryTotals>,
    pub removed_first: Option<String>,
    pub removed_last: Option<String>,
    pub archived_first: Option<String>,
    pub archived_last: Option<String>,
    pub content_bytes: u64,
    pub stored_bytes: u64,
    pub legal_holds: u64,
    pub tombstones: BTreeMap<String, StreamTotals>,
}

/// Totals of one category.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CategoryTotals {
    pub items: u64,
    pub bytes: u64,
}

/// Totals of one tombstone stream.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StreamTotals {
    pub events: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// Summarise the store.
pub fn summary_of(conn: &Connection) -> Result<Summary, StoreError> {
    let mut s = conn.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT path), MIN(removed_at), MAX(removed_at),
            MIN(archived_at), MAX(archived_at), COALESCE(SUM(legal_hold), 0) FROM items",
        [],
        |r| {
            Ok(Summary {
                items: r.get::<_, i64>(0)? as u64,
                unique_paths: r.get::<_, i64>(1)? as u64,
                removed_first: r.get(2)?,
                removed_last: r.get(3)?,
                archived_first: r.get(4)?,
                archived_last: r.get(5)?,
                legal_holds: r.get::<_, i64>(6)? as u64,
                ..Summary::default()
            })
        },
    )?;
    let mut stmt =
        conn.prepare("SELECT state, COUNT(*) FROM items GROUP BY state ORDER BY state")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (k, v) = row?;
        s.by_state.insert(k, v as u64);
    }
    let mut stmt = conn.prepare(
        "SELECT category, COUNT(*), COALESCE(SUM(size), 0) FROM items GROUP BY category ORDER BY category",
    )?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (k, n, b) = row?;
        s.by_category.insert(
            k,
            CategoryTotals {
                items: n as u64,
                bytes: b as u64,
            },
        );
    }
    (s.content_bytes, s.stored_bytes) = conn.query_row(
        "SELECT COALESCE(SUM(size), 0), COALESCE(SUM(stored_size), 0) FROM blobs WHERE bytes IS NOT NULL",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )?;
    let mut stmt = conn.prepare(
        "SELECT stream, COUNT(*), MIN(deleted_at), MAX(deleted_at) FROM tombstones
         GROUP BY stream ORDER BY stream",
    )?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            StreamTotals {
                events: r.get::<_, i64>(1)? as u64,
                first: r.get(2)?,
                last: r.get(3)?,
            },
        ))
    })? {
        let (k, v) = row?;
        s.tombstones.insert(k, v);
    }
    Ok(s)
}
