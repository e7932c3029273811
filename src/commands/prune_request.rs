//! `git tombstone prune-request`: the first step of a dual-control purge.

use crate::cli::PruneRequestArgs;
use crate::commands::Ctx;
use crate::error::Outcome;
use crate::governance::{self, purge, GovernanceError};

/// Run `prune-request`.
pub fn run(args: &PruneRequestArgs, ctx: &Ctx) -> Outcome {
    let not_found = || GovernanceError::NotFound {
        target: args.id.clone(),
    };
    let (mut store, sel) = governance::one_item(&args.id, ctx.existing_store_writable()?)?;
    let actor = ctx.actor(args.by.as_deref());
    let now = crate::clock::now();
    let (req, ev, held) = store.write_with(|tx| {
        let item = governance::select(tx, &sel)?.pop().ok_or_else(not_found)?;
        let held = governance::hold::active(tx, &item.id)?;
        let (req, ev) = purge::request(tx, &item, &args.reason, &actor, &now)?;
        Ok::<_, GovernanceError>((req, ev, held))
    })?;
    #[derive(serde::Serialize)]
    struct Requested<'a, E> {
        request: &'a purge::Request,
        evidence: &'a E,
    }
    ctx.out.json(&Requested {
        request: &req,
        evidence: &ev,
    });
    match &ev {
        Some(e) => ctx.out.text(&format!(
            "purge of {} requested by {} ({}); evidence seq {} sha256 {}\nnext: two distinct approvers run `git tombstone purge {} --by <approver> --reason \"…\"`, the last with --apply",
            req.id, req.requested_by, req.reason, e.seq, e.digest, req.id
        )),
        None => ctx.out.text(&format!(
            "a purge of {} is already requested (by {} at {}); approvals so far: {}",
            req.id,
            req.requested_by,
            req.requested_at,
            req.approvals.len()
        )),
    }
    if let Some(h) = held {
        ctx.out.warn(&format!(
            "{} is under legal hold ({}): the purge cannot be approved or applied until it is released",
            req.id, h.reason
        ));
    }
    Ok(0)
}
