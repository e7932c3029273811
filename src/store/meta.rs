//! The `meta` table: one value per key (the store's id, its project, export watermarks, the
//! last snapshot, when the WAL was last made durable). The only place that reads or writes it.

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

/// The value of `key`, if set.
pub fn get(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Set `key` to `value` (inserted, or replacing what was there).
pub fn set(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

/// Set `key` to `value` unless it is set already; whether it was set now.
pub fn set_once(conn: &Connection, key: &str, value: &str) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)")?
        .execute([key, value])?;
    Ok(n > 0)
}
