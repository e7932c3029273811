//! Dual-control purge (docs/governance.md, "Purge with dual control"): destroy an item's
//! content for good.
//!
//! `prune-request` records a request; `purge` records approvals, at least two from distinct
//! identities, given together or in separate runs; `purge --apply` then nulls the content's
//! bytes (with `secure_delete` on, so SQLite zeroes them) and the caller reclaims the pages.
//! Content is shared between items with the same bytes, so applying a purge purges every item
//! that holds those bytes; each is named in the evidence line. Metadata and evidence stay.

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::{hold, GovernanceError};
use crate::store::evidence::{self, Appended};
use crate::store::items::{self, state, Item};
use crate::store::{blobs, purges};

pub use crate::store::purges::{Approval, Request};

/// The latest request for `id` (open, or the applied one), with its approvals.
pub fn request_of(conn: &Connection, id: &str) -> Result<Option<Request>, GovernanceError> {
    Ok(purges::request_of(conn, id)?)
}

/// "purged at T, approved by A (T1) and B (T2)", for messages about a purged item.
pub fn describe(conn: &Connection, id: &str) -> Result<String, GovernanceError> {
    let Some(req) = request_of(conn, id)? else {
        return Ok("no purge request is recorded for it".into());
    };
    let approvals = req
        .approvals
        .iter()
        .map(|a| format!("{} at {}", a.approver, a.approved_at))
        .collect::<Vec<_>>()
        .join(" and ");
    Ok(format!(
        "purged at {} (requested by {} at {}: {}), approved by {approvals}",
        req.applied_at.as_deref().unwrap_or("?"),
        req.requested_by,
        req.requested_at,
        req.reason
    ))
}

/// Record a purge request for `item`; an open request is returned as it is.
pub fn request(
    tx: &Transaction<'_>,
    item: &Item,
    reason: &str,
    actor: &str,
    now: &str,
) -> Result<(Request, Option<Appended>), GovernanceError> {
    if item.state == state::PURGED {
        return Err(GovernanceError::AlreadyPurged {
            id: item.id.clone(),
            details: describe(tx, &item.id)?,
        });
    }
    if let Some(r) = request_of(tx, &item.id)?.filter(|r| r.status == "open") {
        return Ok((r, None));
    }
    purges::insert_request(tx, &item.id, reason, actor, now)?;
    let data = serde_json::json!({
        "id": item.id, "path": item.path_text, "sha256": item.sha256, "reason": reason,
    });
    let ev = evidence::append(tx, "prune-request", actor, now, &data)?;
    let req = request_of(tx, &item.id)?.ok_or_else(|| GovernanceError::NoRequest {
        id: item.id.clone(),
    })?;
    Ok((req, Some(ev)))
}

/// The open request of `item`, or why there is none.
fn open_request(conn: &Connection, item: &Item) -> Result<Request, GovernanceError> {
    if item.state == state::PURGED {
        return Err(GovernanceError::AlreadyPurged {
            id: item.id.clone(),
            details: describe(conn, &item.id)?,
        });
    }
    request_of(conn, &item.id)?
        .filter(|r| r.status == "open")
        .ok_or_else(|| GovernanceError::NoRequest {
            id: item.id.clone(),
        })
}

/// The items that share `item`'s content and are not purged yet (`item` included).
fn sharing(conn: &Connection, item: &Item) -> Result<Vec<String>, GovernanceError> {
    Ok(items::unpurged_with_content(conn, &item.sha256)?)
}

/// Record approvals of `item`'s open request by each of `approvers` (distinct from each other
/// and from those already recorded).
pub fn approve(
    tx: &Transaction<'_>,
    item: &Item,
    approvers: &[String],
    reason: &str,
    now: &str,
) -> Result<(Request, Option<Appended>), GovernanceError> {
    let req = open_request(tx, item)?;
    for id in sharing(tx, item)? {
        hold::ensure_not_held(tx, &id)?;
    }
    let mut seen: Vec<&str> = req.approvals.iter().map(|a| a.approver.as_str()).collect();
    for who in approvers {
        if seen.contains(&who.as_str()) {
            return Err(GovernanceError::SameApprover {
                id: item.id.clone(),
                who: who.clone(),
            });
        }
        seen.push(who);
    }
    if approvers.is_empty() {
        return Ok((req, None));
    }
    for who in approvers {
        purges::insert_approval(tx, req.request, who, reason, now)?;
    }
    let data = serde_json::json!({
        "id": item.id, "request": req.request, "approvers": approvers, "reason": reason,
    });
    let ev = evidence::append(tx, "purge-approve", &approvers.join(", "), now, &data)?;
    let req = request_of(tx, &item.id)?.ok_or_else(|| GovernanceError::NoRequest {
        id: item.id.clone(),
    })?;
    Ok((req, Some(ev)))
}

/// What applying a purge did.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub id: String,
    pub sha256: String,
    /// Every item purged (those sharing the content included).
    pub items: Vec<String>,
    pub approvers: Vec<String>,
    pub evidence: Appended,
}

/// Destroy `item`'s content: null the blob's bytes and mark every item holding them `purged`.
/// Needs two distinct approvals and no hold on any of those items.
pub fn apply(
    tx: &Transaction<'_>,
    item: &Item,
    actor: &str,
    now: &str,
) -> Result<Applied, GovernanceError> {
    let req = open_request(tx, item)?;
    if req.approvals.len() < 2 {
        return Err(GovernanceError::NeedsApproval {
            id: item.id.clone(),
            count: req.approvals.len(),
            approvers: req
                .approvals
                .iter()
                .map(|a| a.approver.clone())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let ids = sharing(tx, item)?;
    for id in &ids {
        hold::ensure_not_held(tx, id)?;
    }
    for id in &ids {
        items::set_state(tx, id, state::PURGED, None, now)?;
    }
    blobs::drop_bytes(tx, &item.sha256)?;
    purges::mark_applied(tx, req.request, now)?;
    let approvers: Vec<String> = req.approvals.iter().map(|a| a.approver.clone()).collect();
    let data = serde_json::json!({
        "id": item.id, "request": req.request, "sha256": item.sha256, "items": ids,
        "approvers": approvers, "reason": req.reason,
    });
    let evidence = evidence::append(tx, "purge", actor, now, &data)?;
    Ok(Applied {
        id: item.id.clone(),
        sha256: item.sha256.clone(),
        items: ids,
        approvers,
        evidence,
    })
}
