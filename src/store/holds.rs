//! Legal hold rows: who placed a hold on an item, why and when, and who released it. An item
//! may carry several at once (one per matter); `items.legal_hold` is set while any is active.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use super::StoreError;

/// An active hold.
#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    pub reason: String,
    pub placed_by: String,
    pub placed_at: String,
}

/// The first active hold on item `id`, if any.
pub fn active(conn: &Connection, id: &str) -> Result<Option<Hold>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT reason, placed_by, placed_at FROM holds
             WHERE item_id = ?1 AND released_at IS NULL ORDER BY id LIMIT 1",
        )?
        .query_row([id], |r| {
            Ok(Hold {
                reason: r.get(0)?,
                placed_by: r.get(1)?,
                placed_at: r.get(2)?,
            })
        })
        .optional()?)
}

/// Place a hold on item `id`; false (and nothing recorded) when there is no such item.
pub fn place(
    tx: &Transaction<'_>,
    id: &str,
    reason: &str,
    by: &str,
    at: &str,
) -> Result<bool, StoreError> {
    if !set_flag(tx, id, true, at)? {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO holds (item_id, reason, placed_by, placed_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, reason, by, at],
    )?;
    Ok(true)
}

/// Release every active hold on item `id`; false when it had none (nothing changes then).
pub fn release(
    tx: &Transaction<'_>,
    id: &str,
    reason: &str,
    by: &str,
    at: &str,
) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE holds SET released_by = ?2, released_at = ?3, release_reason = ?4
         WHERE item_id = ?1 AND released_at IS NULL",
        params![id, by, at, reason],
    )?;
    if n == 0 {
        return Ok(false);
    }
    set_flag(tx, id, false, at)?;
    Ok(true)
}

/// Set or clear `items.legal_hold`; false when there is no such item.
pub fn set_flag(tx: &Transaction<'_>, id: &str, held: bool, at: &str) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE items SET legal_hold = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, i64::from(held), at],
    )?;
    Ok(n > 0)
}
