//! `git tombstone hold` / `release`: legal holds (see [`crate::governance::hold`]).

use crate::cli::HoldArgs;
use crate::commands::Ctx;
use crate::error::Outcome;
use crate::governance::{self, hold, GovernanceError, Selector};

fn selector(args: &HoldArgs) -> Selector {
    Selector {
        targets: args.targets.clone(),
        commit: args.commit.clone(),
    }
}

/// Run `hold`.
pub fn hold(args: &HoldArgs, ctx: &Ctx) -> Outcome {
    change(args, ctx, true)
}

/// Run `release`.
pub fn release(args: &HoldArgs, ctx: &Ctx) -> Outcome {
    change(args, ctx, false)
}

fn change(args: &HoldArgs, ctx: &Ctx, place: bool) -> Outcome {
    let Some(mut store) = ctx.existing_store_writable()? else {
        return Err(GovernanceError::NotFound {
            target: args.targets.join(" "),
        }
        .into());
    };
    let actor = ctx.actor(args.by.as_deref());
    let now = crate::clock::now();
    let sel = selector(args);
    let changed = store.write_with(|tx| {
        let items = governance::select(tx, &sel)?;
        if place {
            hold::place(tx, &items, &args.reason, &actor, &now)
        } else {
            hold::release(tx, &items, &args.reason, &actor, &now)
        }
    })?;
    ctx.out.json(&changed);
    let verb = if place { "held" } else { "released" };
    for id in &changed.ids {
        ctx.out.text(&format!("{verb} {id}"));
    }
    for id in &changed.unchanged {
        ctx.out.text(&format!("{id} was not under hold"));
    }
    if let Some(e) = &changed.evidence {
        ctx.out.text(&format!(
            "{} item(s) {verb} by {actor}: {} (evidence seq {}, sha256 {})",
            changed.ids.len(),
            args.reason,
            e.seq,
            e.digest
        ));
    }
    Ok(0)
}
