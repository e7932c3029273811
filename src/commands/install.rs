//! `git tombstone install` / `uninstall`: the hook shims.

use crate::cli::{InstallArgs, UninstallArgs};
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::hooks::install::{self, HookStatus};

/// Run `install`.
pub fn install(args: &InstallArgs, ctx: &Ctx) -> Outcome {
    let dir = ctx.repo.hooks_dir()?;
    let done = install::install(&dir, args.force).map_err(CommandError::from)?;
    report(ctx, &done);
    ctx.out.text(&format!("hooks in {}", dir.display()));
    Ok(0)
}

/// Run `uninstall`.
pub fn uninstall(_args: &UninstallArgs, ctx: &Ctx) -> Outcome {
    let dir = ctx.repo.hooks_dir()?;
    let done = install::uninstall(&dir).map_err(CommandError::from)?;
    report(ctx, &done);
    Ok(0)
}

fn report(ctx: &Ctx, statuses: &[HookStatus]) {
    for s in statuses {
        ctx.out.json(s);
        let chained = s
            .chained
            .as_ref()
            .map(|c| format!(" (then runs {})", c.display()))
            .unwrap_or_default();
        ctx.out.text(&format!(
            "{:<13} {}{chained}",
            s.name,
            s.action.as_deref().unwrap_or("-")
        ));
    }
}
