//! `git tombstone hook NAME [ARGS]`: what the installed shims run.

use crate::cli::{HookArgs, HookName};
use crate::commands::Ctx;
use crate::error::Outcome;
use crate::hooks;

/// Run one hook.
pub fn run(args: &HookArgs, ctx: &Ctx) -> Outcome {
    match args.name {
        HookName::PreCommit => {
            let summary = hooks::pre_commit::run(ctx)?;
            ctx.out.json(&summary);
        }
        HookName::PostCommit => {
            let bound = hooks::post_commit::run(ctx)?;
            ctx.out.json(&bound);
        }
        HookName::PostRewrite => {
            let kind = args
                .args
                .first()
                .map(|a| a.to_string_lossy().into_owned())
                .unwrap_or_default();
            let remapped = hooks::post_rewrite::run(ctx, &kind, std::io::stdin().lock())?;
            ctx.out.json(&remapped);
        }
    }
    Ok(0)
}
