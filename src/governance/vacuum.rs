//! Retention: drop the stored content of items removed before a cut-off, and prune the
//! tombstone streams of older events (seed 000's `vacuum`).
//!
//! Metadata and evidence stay forever; an item's state becomes `vacuumed`. Items under legal
//! hold are never touched, and content that an item which stays still needs is kept. [`plan`]
//! only reads, so a dry run is the plan printed; [`apply`] carries it out in one transaction.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;

use super::GovernanceError;
use crate::store::evidence::{self, Appended};
use crate::store::items::state;

/// What to vacuum.
#[derive(Debug, Clone)]
pub struct Options {
    /// RFC 3339 UTC; items removed strictly before it go.
    pub cutoff: String,
    pub category: Option<String>,
}

/// An item whose content goes.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub id: String,
    pub path: String,
    pub category: String,
    pub removed_at: String,
    pub sha256: String,
    pub action: String,
    #[serde(skip)]
    pub path_bytes: Vec<u8>,
}

/// An item older than the cut-off that stays, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub id: String,
    pub path: String,
    pub why: String,
}

/// The plan: what goes, what stays and why.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub cutoff: String,
    pub category: Option<String>,
    pub items: Vec<Planned>,
    /// Older than the cut-off but kept (legal hold).
    pub kept: Vec<Kept>,
    /// Content whose bytes are dropped, with the stored bytes freed.
    pub blobs_dropped: Vec<(String, u64)>,
    /// Content kept because an item that stays uses it: (sha256, that item's id).
    pub blobs_shared: Vec<(String, String)>,
    pub bytes_freed: u64,
    /// Tombstone events pruned, per stream.
    pub tombstones_pruned: BTreeMap<String, u64>,
    /// Why the other items stay: counts of newer, pending, already vacuumed or purged.
    pub not_eligible: BTreeMap<String, u64>,
}

/// Work out what a vacuum with `opts` would do, reading only.
pub fn plan(conn: &Connection, opts: &Options) -> Result<Plan, GovernanceError> {
    let mut items = Vec::new();
    let mut kept = Vec::new();
    let mut not_eligible: BTreeMap<String, u64> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT id, path, path_text, category, removed_at, sha256, action, state, legal_hold
         FROM items WHERE (?1 IS NULL OR category = ?1) ORDER BY path, archived_at, id",
    )?;
    let rows = stmt.query_map([&opts.category], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, bool>(8)?,
        ))
    })?;
    for row in rows {
        let (id, path_bytes, path, category, removed_at, sha256, action, st, hold) = row?;
        let bucket = match (&removed_at, st.as_str()) {
            (_, state::VACUUMED) => Some("already vacuumed"),
            (_, state::PURGED) => Some("purged"),
            (None, _) => Some("pending (not removed yet)"),
            (Some(at), _) if *at >= opts.cutoff => Some("removed on or after the cut-off"),
            _ => None,
        };
        if let Some(b) = bucket {
            *not_eligible.entry(b.to_owned()).or_default() += 1;
            continue;
        }
        if hold {
            let h = super::hold::active(conn, &id)?;
            kept.push(Kept {
                id: id.clone(),
                path,
                why: match h {
                    Some(h) => format!(
                        "legal hold: {} ({}, {})",
                        h.reason, h.placed_by, h.placed_at
                    ),
                    None => "legal hold".into(),
                },
            });
            continue;
        }
        items.push(Planned {
            id,
            path,
            category,
            removed_at: removed_at.unwrap_or_default(),
            sha256,
            action,
            path_bytes,
        });
    }
    let going: HashSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let mut blobs_dropped = Vec::new();
    let mut blobs_shared = Vec::new();
    let mut bytes_freed = 0u64;
    let mut shas: Vec<&str> = items.iter().map(|i| i.sha256.as_str()).collect();
    shas.sort_unstable();
    shas.dedup();
    let mut users = conn.prepare_cached(
        "SELECT id FROM items WHERE sha256 = ?1 AND state NOT IN ('vacuumed', 'purged')
         ORDER BY path, id",
    )?;
    let mut stored = conn
        .prepare_cached("SELECT stored_size FROM blobs WHERE sha256 = ?1 AND bytes IS NOT NULL")?;
    for sha in shas {
        let ids: Vec<String> = users
            .query_map([sha], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if let Some(keeper) = ids.iter().find(|i| !going.contains(i.as_str())) {
            blobs_shared.push((sha.to_owned(), keeper.clone()));
            continue;
        }
        let size: Option<i64> = stored.query_map([sha], |r| r.get(0))?.next().transpose()?;
        if let Some(size) = size {
            bytes_freed += size as u64;
            blobs_dropped.push((sha.to_owned(), size as u64));
        }
    }
    let mut tombstones_pruned = BTreeMap::new();
    let mut t = conn.prepare(
        "SELECT t.stream, COUNT(*) FROM tombstones t LEFT JOIN items i ON i.id = t.item_id
         WHERE t.deleted_at < ?1 AND (?2 IS NULL OR t.category = ?2)
           AND COALESCE(i.legal_hold, 0) = 0
         GROUP BY t.stream ORDER BY t.stream",
    )?;
    for row in t.query_map(params![opts.cutoff, opts.category], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (s, n) = row?;
        tombstones_pruned.insert(s, n as u64);
    }
    Ok(Plan {
        cutoff: opts.cutoff.clone(),
        category: opts.category.clone(),
        items,
        kept,
        blobs_dropped,
        blobs_shared,
        bytes_freed,
        tombstones_pruned,
        not_eligible,
    })
}

/// Carry out `plan` in `tx`: items become `vacuumed`, dropped content loses its bytes, old
/// tombstone events are pruned, and one evidence line records it all. The caller then rewrites
/// the stream files and reclaims the freed pages.
pub fn apply(
    tx: &Transaction<'_>,
    plan: &Plan,
    actor: &str,
    now: &str,
) -> Result<Option<Appended>, GovernanceError> {
    let pruned: u64 = plan.tombstones_pruned.values().sum();
    if plan.items.is_empty() && plan.blobs_dropped.is_empty() && pruned == 0 {
        return Ok(None);
    }
    for i in &plan.items {
        // Re-checked inside the transaction: a hold placed since the plan was made wins.
        tx.prepare_cached(
            "UPDATE items SET state = 'vacuumed', updated_at = ?2
             WHERE id = ?1 AND legal_hold = 0 AND state NOT IN ('vacuumed', 'purged')",
        )?
        .execute(params![i.id, now])?;
    }
    for (sha, _) in &plan.blobs_dropped {
        tx.prepare_cached(
            "UPDATE blobs SET bytes = NULL WHERE sha256 = ?1 AND NOT EXISTS (
                SELECT 1 FROM items WHERE sha256 = ?1 AND state NOT IN ('vacuumed', 'purged'))",
        )?
        .execute([sha])?;
    }
    tx.execute(
        "DELETE FROM tombstones WHERE seq IN (
            SELECT t.seq FROM tombstones t LEFT JOIN items i ON i.id = t.item_id
            WHERE t.deleted_at < ?1 AND (?2 IS NULL OR t.category = ?2)
              AND COALESCE(i.legal_hold, 0) = 0)",
        params![plan.cutoff, plan.category],
    )?;
    let data = serde_json::json!({
        "cutoff": plan.cutoff,
        "category": plan.category,
        "ids": plan.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        "blobs_dropped": plan.blobs_dropped.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        "bytes_freed": plan.bytes_freed,
        "tombstones_pruned": plan.tombstones_pruned,
        "kept_on_hold": plan.kept.iter().map(|k| &k.id).collect::<Vec<_>>(),
    });
    Ok(Some(evidence::append(tx, "vacuum", actor, now, &data)?))
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
pub fn summary(conn: &Connection) -> Result<Summary, GovernanceError> {
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
