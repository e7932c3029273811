//! `git tombstone bind`: settle pending items whose stub (or deletion) is committed in HEAD.

use crate::cli::BindArgs;
use crate::commands::Ctx;
use crate::error::Outcome;
use crate::{bind, clock};

/// Run `bind`.
pub fn run(_args: &BindArgs, ctx: &Ctx) -> Outcome {
    let Some(head) = ctx.repo.head_commit()? else {
        ctx.out.note("HEAD is unborn: nothing to bind");
        return Ok(0);
    };
    let Some(mut store) = ctx.existing_store_writable()? else {
        ctx.out.note("no store yet: nothing to bind");
        return Ok(0);
    };
    let actor = ctx.actor(None);
    // Records that rewritten history left bound to unreachable commits first.
    let reconciled = bind::reconcile(&ctx.repo, &mut store, &actor, &clock::now())?;
    for (id, from, to) in &reconciled.rebound {
        ctx.out.note(&format!(
            "{id}: its commit {} is gone from history (rewritten); bound to {}",
            &from[..12.min(from.len())],
            &to[..12.min(to.len())]
        ));
    }
    for (id, from) in &reconciled.unbound {
        ctx.out.warn(&format!(
            "{id}: its commit {} is gone from history and HEAD no longer deletes it: back to pending",
            &from[..12.min(from.len())]
        ));
    }
    let bound = bind::bind_to(&ctx.repo, &mut store, &head, &actor, &clock::now())?;
    #[derive(serde::Serialize)]
    struct Bound<'a, R: serde::Serialize> {
        #[serde(flatten)]
        bound: &'a crate::bind::Bound,
        reconciled: R,
    }
    ctx.out.json(&Bound {
        bound: &bound,
        reconciled: &reconciled,
    });
    ctx.out.text(&format!(
        "bound {} item(s) to {}; {} still pending",
        bound.ids.len(),
        &head[..12.min(head.len())],
        bound.still_pending
    ));
    for id in &bound.ids {
        ctx.out.text(&format!("  {id}"));
    }
    Ok(0)
}
