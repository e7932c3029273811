//! `git tombstone publish`: the store's portable form → the archive branch, pushed.

use crate::cli::PublishArgs;
use crate::commands::Ctx;
use crate::error::Outcome;
use crate::publish;

/// Run `publish`.
pub fn run(args: &PublishArgs, ctx: &Ctx) -> Outcome {
    let store = ctx.open_store()?;
    let branch = args.branch.clone().unwrap_or_else(publish::branch_name);
    let remote = if args.no_push {
        None
    } else {
        match &args.remote {
            Some(r) => Some(r.clone()),
            None => ctx
                .repo
                .run_git(&["remote"])
                .ok()
                .filter(|remotes| remotes.lines().any(|r| r == "origin"))
                .map(|_| "origin".to_owned()),
        }
    };
    let now = crate::clock::now_unix();
    let done = publish::publish(&ctx.repo, &store, &branch, remote.as_deref(), now)?;
    ctx.out.json(&done);
    ctx.out.text(&format!(
        "{} {} item(s) to {}{}{}",
        if done.changed {
            "published"
        } else {
            "already published:"
        },
        done.items,
        branch,
        done.commit
            .as_deref()
            .map(|c| format!(" at {}", &c[..12.min(c.len())]))
            .unwrap_or_default(),
        done.pushed_to
            .as_deref()
            .map(|r| format!(", pushed to {r}"))
            .unwrap_or_default()
    ));
    Ok(0)
}
