//! Legal holds: an item under hold is never vacuumed or purged.
//!
//! Holds are rows of `holds` (who placed it, why, when; who released it, why, when); an item may
//! carry several at once (one per matter) and `items.legal_hold` is set while any is active.

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::GovernanceError;
use crate::store::evidence::{self, Appended};
use crate::store::holds;
use crate::store::items::Item;

pub use crate::store::holds::Hold;

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
    Ok(holds::active(conn, id)?)
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
        holds::place(tx, &i.id, reason, actor, now)?;
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
        if holds::release(tx, &i.id, reason, actor, now)? {
            ids.push(i.id.clone());
        } else {
            unchanged.push(i.id.clone());
        }
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
