//! `git tombstone purge`: approve, and with `--apply` carry out, a dual-control purge.

use crate::cli::PurgeArgs;
use crate::commands::Ctx;
use crate::error::Outcome;
use crate::governance::{self, purge, GovernanceError};

/// Run `purge`: record the approvals (they stand even if applying is refused), then with
/// `--apply` destroy the content, rewrite the exports and reclaim the pages.
pub fn run(args: &PurgeArgs, ctx: &Ctx) -> Outcome {
    let (mut store, sel) = governance::one_item(&args.id, ctx.existing_store_writable()?)?;
    let now = crate::clock::now();
    let by = args.by.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let second = args
        .second
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if by.is_some() && by == second {
        return Err(GovernanceError::SameApprover {
            id: args.id.clone(),
            who: by.unwrap_or_default().to_owned(),
        }
        .into());
    }
    let (req, approved) = approve(args, ctx, &mut store, &sel, (by, second), &now)?;
    if !args.apply {
        show_approval(ctx, &req, &approved);
        return Ok(0);
    }
    let actor = ctx.actor(by);
    store.secure_delete()?;
    let applied = store.write_with(|tx| {
        let item = governance::select(tx, &sel)?
            .pop()
            .ok_or_else(|| not_found(args))?;
        if item.state == crate::store::items::state::PURGED {
            return Ok(None);
        }
        purge::apply(tx, &item, &actor, &now).map(Some)
    })?;
    // Bytes must not outlive the purge anywhere under the store: exports are rewritten and
    // freed pages reclaimed. Both are idempotent, so rerunning `--apply` after a crash finishes.
    let sha = match &applied {
        Some(a) => a.sha256.clone(),
        None => crate::store::items::get(store.conn(), &args.id)?
            .map(|i| i.sha256)
            .unwrap_or_default(),
    };
    let scrubbed = crate::interchange::export::scrub(&mut store, &[sha], &now)?;
    store.reclaim()?;
    ctx.out.json(&Purged {
        request: &req,
        approval: &approved,
        applied: Some(&applied),
        exports_rewritten: Some(&scrubbed[..]),
    });
    show_applied(ctx, args, &applied, &scrubbed);
    Ok(0)
}

fn not_found(args: &PurgeArgs) -> GovernanceError {
    GovernanceError::NotFound {
        target: args.id.clone(),
    }
}

/// Record this run's approvals in their own transaction; nothing is recorded for `--apply`
/// alone once two approvals stand, or for an item already purged.
fn approve(
    args: &PurgeArgs,
    ctx: &Ctx,
    store: &mut crate::store::Store,
    sel: &governance::Selector,
    (by, second): (Option<&str>, Option<&str>),
    now: &str,
) -> Result<
    (
        Option<purge::Request>,
        Option<crate::store::evidence::Appended>,
    ),
    GovernanceError,
> {
    let (req, approved) = store.write_with(|tx| {
        let item = governance::select(tx, sel)?
            .pop()
            .ok_or_else(|| not_found(args))?;
        if item.state == crate::store::items::state::PURGED && args.apply {
            return Ok((None, None));
        }
        let existing = purge::request_of(tx, &item.id)?
            .filter(|r| r.status == "open")
            .map_or(0, |r| r.approvals.len());
        let mut approvers: Vec<String> = Vec::new();
        match (by, second) {
            (None, None) if args.apply && existing >= 2 => {}
            (None, s) => {
                approvers.push(ctx.actor(None));
                approvers.extend(s.map(str::to_owned));
            }
            (Some(b), s) => {
                approvers.push(b.to_owned());
                approvers.extend(s.map(str::to_owned));
            }
        }
        let (req, ev) = purge::approve(tx, &item, &approvers, &args.reason, now)?;
        Ok::<_, GovernanceError>((Some(req), ev))
    })?;
    if let (Some(req), Some(ev)) = (&req, &approved) {
        let names: Vec<&str> = req.approvals.iter().map(|a| a.approver.as_str()).collect();
        ctx.out.text(&format!(
            "approval recorded (evidence seq {} sha256 {}); {} approval(s): {}",
            ev.seq,
            ev.digest,
            names.len(),
            names.join(", ")
        ));
    }
    Ok((req, approved))
}

/// Without `--apply`: the request, and what it still needs.
fn show_approval(
    ctx: &Ctx,
    req: &Option<purge::Request>,
    approved: &Option<crate::store::evidence::Appended>,
) {
    ctx.out.json(&Purged {
        request: req,
        approval: approved,
        applied: None,
        exports_rewritten: None,
    });
    let Some(req) = req else { return };
    if req.approvals.len() < 2 {
        ctx.out.text(&format!(
            "a second, distinct approver must approve before the content can be destroyed: `git tombstone purge {} --by <them> --reason \"…\" --apply`",
            req.id
        ));
    } else {
        ctx.out.text(&format!(
            "approved by two; nothing is destroyed until `git tombstone purge {} --reason \"…\" --apply`",
            req.id
        ));
    }
}

fn show_applied(
    ctx: &Ctx,
    args: &PurgeArgs,
    applied: &Option<purge::Applied>,
    scrubbed: &[String],
) {
    match applied {
        Some(a) => {
            ctx.out.text(&format!(
                "purged {} (content {}…): the bytes are destroyed; approved by {}; evidence seq {} sha256 {}",
                a.id,
                &a.sha256[..12],
                a.approvers.join(" and "),
                a.evidence.seq,
                a.evidence.digest
            ));
            for other in a.items.iter().filter(|i| **i != a.id) {
                ctx.out
                    .text(&format!("  also purged {other} (same content)"));
            }
        }
        None => ctx.out.text(&format!(
            "{} was already purged; pages reclaimed and exports checked again",
            args.id
        )),
    }
    for f in scrubbed {
        ctx.out
            .text(&format!("  rewrote {f} without the purged content"));
    }
    ctx.out.warn(
        "copies outside this store are not touched: an archive branch already pushed, other clones, and git history keep the content until they are rewritten",
    );
}

/// `purge --json`: the request, the approval this run recorded, and (with `--apply`) what was
/// destroyed and which exports were rewritten; `applied` is `false` without `--apply`.
#[derive(serde::Serialize)]
struct Purged<'a, R, A> {
    request: &'a R,
    approval: &'a A,
    #[serde(serialize_with = "applied_or_false")]
    applied: Option<&'a Option<purge::Applied>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exports_rewritten: Option<&'a [String]>,
}

fn applied_or_false<Z: serde::Serializer>(
    applied: &Option<&Option<purge::Applied>>,
    s: Z,
) -> Result<Z::Ok, Z::Error> {
    use serde::Serialize;
    match applied {
        Some(p) => p.serialize(s),
        None => s.serialize_bool(false),
    }
}
