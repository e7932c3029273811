//! Legal holds: an item under hold is never vacuumed or purged.
//!
//! Holds are rows of `holds` (who placed it, why, when; who released it, why, when); an item may
//! carry several at once (one per matter) and `items.legal_hold` is set while any is active.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use super::GovernanceError;
use crate::store::evidence::{self, Appended};
use crate::store::items::Item;

/// An active hold.
#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    pub reason: String,
    pub placed_by: String,
    pub placed_at: String,
}

/// What a hold or release did.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    /// Items whose hold state changed.
    pub ids: Vec<String>,
    /// Items that already were in the requested state (a release of an unheld item).
    pub unchanged: Vec<String>,
    pub evidence: Option<Appended>,
}

/// The first active hold on `id`, if any.
pub fn active(conn: &Connection, id: &str) -> Result<Option<Hold>, GovernanceError> {
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

/// Refuse if `id` is under hold.
pub fn ensure_not_held(conn: &Connection, id: &str) -> Result<(), GovernanceError> {
    match active(conn, id)? {
        Some(h) => Err(GovernanceError::Held {
            id: id.to_owned(),
            reason: h.reason,
            by: h.placed_by,
            at: h.placed_at,
        }),
        None => Ok(()),
    }
}

/// Place a hold with `reason` on each item (a second hold for another matter is recorded too).
pub fn place(
    tx: &Transaction<'_>,
    items: &[Item],
    reason: &str,
    actor: &str,
    now: &str,
) -> Result<Changed, GovernanceError> {
    let mut ids = Vec::new();
    for i in items {
        tx.execute(
            "INSERT INTO holds (item_id, reason, placed_by, placed_at) VALUES (?1, ?2, ?3, ?4)",
            params![i.id, reason, actor, now],
        )?;
        tx.execute(
            "UPDATE items SET legal_hold = 1, updated_at = ?2 WHERE id = ?1",
            params![i.id, now],
        )?;
        ids.push(i.id.clone());
    }
    let data = serde_json::json!({ "ids": ids, "reason": reason });
    let ev = evidence::append(tx, "hold", actor, now, &data)?;
    Ok(Changed {
        ids,
        unchanged: Vec::new(),
        evidence: Some(ev),
    })
}

/// Release every active hold on each item.
pub fn release(
    tx: &Transaction<'_>,
    items: &[Item],
    reason: &str,
    actor: &str,
    now: &str,
) -> Result<Changed, GovernanceError> {
    let mut ids = Vec::new();
    let mut unchanged = Vec::new();
    for i in items {
        let n = tx.execute(
            "UPDATE holds SET released_by = ?2, released_at = ?3, release_reason = ?4
             WHERE item_id = ?1 AND released_at IS NULL",
            params![i.id, actor, now, reason],
        )?;
        if n == 0 {
            unchanged.push(i.id.clone());
            continue;
        }
        tx.execute(
            "UPDATE items SET legal_hold = 0, updated_at = ?2 WHERE id = ?1",
            params![i.id, now],
        )?;
        ids.push(i.id.clone());
    }
    let evidence = if ids.is_empty() {
        None
    } else {
        let data = serde_json::json!({ "ids": ids, "reason": reason });
        Some(evidence::append(tx, "release", actor, now, &data)?)
    };
    Ok(Changed {
        ids,
        unchanged,
        evidence,
    })
}
