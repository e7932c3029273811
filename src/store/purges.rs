//! Purge requests and their approvals (dual control), and what applying one records.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use super::StoreError;

/// An open or applied request.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub request: i64,
    pub id: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub status: String,
    pub applied_at: Option<String>,
    pub approvals: Vec<Approval>,
}

/// One approval.
#[derive(Debug, Clone, Serialize)]
pub struct Approval {
    pub approver: String,
    pub reason: String,
    pub approved_at: String,
}

/// The latest request for `id` (open, or the applied one), with its approvals.
pub fn request_of(conn: &Connection, id: &str) -> Result<Option<Request>, StoreError> {
    let req = conn
        .prepare_cached(
            "SELECT id, item_id, reason, requested_by, requested_at, status, applied_at
             FROM purge_requests WHERE item_id = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([id], |r| {
            Ok(Request {
                request: r.get(0)?,
                id: r.get(1)?,
                reason: r.get(2)?,
                requested_by: r.get(3)?,
                requested_at: r.get(4)?,
                status: r.get(5)?,
                applied_at: r.get(6)?,
                approvals: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut req) = req else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT approver, reason, approved_at FROM purge_approvals
         WHERE request_id = ?1 ORDER BY approved_at, approver",
    )?;
    req.approvals = stmt
        .query_map([req.request], |r| {
            Ok(Approval {
                approver: r.get(0)?,
                reason: r.get(1)?,
                approved_at: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(req))
}

/// Record an open purge request for item `id`.
pub fn insert_request(
    tx: &Transaction<'_>,
    id: &str,
    reason: &str,
    by: &str,
    at: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO purge_requests (item_id, reason, requested_by, requested_at, status)
         VALUES (?1, ?2, ?3, ?4, 'open')",
        params![id, reason, by, at],
    )?;
    Ok(())
}

/// Record `approver`'s approval of request `request`.
pub fn insert_approval(
    tx: &Transaction<'_>,
    request: i64,
    approver: &str,
    reason: &str,
    at: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO purge_approvals (request_id, approver, reason, approved_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![request, approver, reason, at],
    )?;
    Ok(())
}

/// Mark request `request` applied at `at`.
pub fn mark_applied(tx: &Transaction<'_>, request: i64, at: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE purge_requests SET status = 'applied', applied_at = ?2 WHERE id = ?1",
        params![request, at],
    )?;
    Ok(())
}
