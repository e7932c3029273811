//! Retention: drop the stored content of items removed before a cut-off, and prune the
//! tombstone streams of older events.
//!
//! Metadata and evidence stay forever; an item's state becomes `vacuumed`. Items under legal
//! hold are never touched, and content that an item which stays still needs is kept. [`plan`]
//! only reads, so a dry run is the plan printed; [`apply`] carries it out in one transaction.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::GovernanceError;
use crate::store::evidence::{self, Appended};
use crate::store::items::state;
use crate::store::retention;

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
    for c in retention::candidates(conn, opts.category.as_deref())? {
        let retention::Candidate {
            id,
            path: path_bytes,
            path_text: path,
            category,
            removed_at,
            sha256,
            action,
            state: st,
            legal_hold: hold,
        } = c;
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
    for sha in shas {
        let ids = retention::users_of(conn, sha)?;
        if let Some(keeper) = ids.iter().find(|i| !going.contains(i.as_str())) {
            blobs_shared.push((sha.to_owned(), keeper.clone()));
            continue;
        }
        if let Some(size) = retention::stored_size(conn, sha)? {
            bytes_freed += size;
            blobs_dropped.push((sha.to_owned(), size));
        }
    }
    let tombstones_pruned =
        retention::tombstones_before(conn, &opts.cutoff, opts.category.as_deref())?;
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
        retention::mark_vacuumed(tx, &i.id, now)?;
    }
    for (sha, _) in &plan.blobs_dropped {
        retention::drop_unused_bytes(tx, sha)?;
    }
    retention::prune_tombstones(tx, &plan.cutoff, plan.category.as_deref())?;
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

pub use crate::store::retention::{
    summary_of as store_summary, CategoryTotals, StreamTotals, Summary,
};

/// Summarise the store.
pub fn summary(conn: &Connection) -> Result<Summary, GovernanceError> {
    Ok(store_summary(conn)?)
}
