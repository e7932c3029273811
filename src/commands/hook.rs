//! `git tombstone hook NAME [ARGS]`: what the installed shims run.

use crate::cli::{HookArgs, HookName};
use crate::commands::Ctx;
use crate::error::Outcome;
use crate::hooks;
use crate::output::human_bytes;

/// Run one hook.
pub fn run(args: &HookArgs, ctx: &Ctx) -> Outcome {
    match args.name {
        HookName::PreCommit => {
            let summary = hooks::pre_commit::run(ctx)?;
            report_pre_commit(ctx, &summary);
            ctx.out.json(&summary);
        }
        HookName::PostCommit => {
            let bound = hooks::post_commit::run(ctx)?;
            if let Some(b) = &bound {
                ctx.out.note(&format!(
                    "bound {} archived file(s) to {}",
                    b.ids.len(),
                    &b.commit[..12.min(b.commit.len())]
                ));
            }
            ctx.out.json(&bound);
        }
        HookName::PostRewrite => {
            // git passes `amend`/`rebase` as the argument; the pre-commit framework passes it
            // as PRE_COMMIT_REWRITE_COMMAND and may not forward git's `old new` lines.
            let kind = args
                .args
                .first()
                .map(|a| a.to_string_lossy().into_owned())
                .or_else(|| std::env::var("PRE_COMMIT_REWRITE_COMMAND").ok())
                .unwrap_or_default();
            let remapped = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                hooks::post_rewrite::run(ctx, &kind, std::io::empty())?
            } else {
                hooks::post_rewrite::run(ctx, &kind, std::io::stdin().lock())?
            };
            if let Some((n, pending)) = remapped.reconciled {
                ctx.out.note(&format!(
                    "reconciled {n} record(s) with the rewritten history ({pending} back to pending)"
                ));
            }
            if !remapped.commits.is_empty() && !remapped.ids.is_empty() {
                ctx.out.note(&format!(
                    "moved {} record(s) to their rewritten commits",
                    remapped.ids.len()
                ));
            }
            ctx.out.json(&remapped);
        }
    }
    Ok(0)
}

/// One note per file the pre-commit hook archived, stub removal and submodule.
fn report_pre_commit(ctx: &Ctx, summary: &hooks::pre_commit::Summary) {
    for n in &summary.notices {
        n.show(&ctx.out);
    }
    for c in &summary.captured {
        let what = if summary.stubbed.contains(&c.path) {
            "stub staged"
        } else {
            "deletion kept"
        };
        ctx.out.note(&format!(
            "archived {} ({}, {} → {}), {what}",
            c.path,
            c.id,
            human_bytes(c.size),
            human_bytes(c.stored_size)
        ));
    }
    for s in &summary.stub_removals {
        ctx.out.note(&format!("stub {s} removed (recorded)"));
    }
    for s in &summary.submodules {
        ctx.out
            .note(&format!("submodule {s} removed (recorded, not stubbed)"));
    }
}
