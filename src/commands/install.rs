//! `git tombstone install` / `uninstall`: the hook shims.

use crate::cli::{InstallArgs, UninstallArgs};
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::hooks::install::{self, HookStatus};

/// The workflow template `install --github-action` renders.
pub const WORKFLOW_TEMPLATE: &str = include_str!("../../templates/workflow.yml");
/// The action reference used when none is given (pin it to a commit with `--action-ref`).
pub const DEFAULT_ACTION: &str = "git-tombstone/git-tombstone/action@v0.1.0";

/// Run `install`.
pub fn install(args: &InstallArgs, ctx: &Ctx) -> Outcome {
    if args.github_action {
        return install_workflow(args, ctx);
    }
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

fn install_workflow(args: &InstallArgs, ctx: &Ctx) -> Outcome {
    let action = args
        .action_ref
        .clone()
        .unwrap_or_else(|| DEFAULT_ACTION.to_owned());
    let valid = action.split_once('@').is_some_and(|(repo, r)| {
        repo.split('/').count() >= 2 && !r.is_empty() && !r.contains(char::is_whitespace)
    });
    if !valid {
        return Err(CommandError::Invalid {
            what: "--action-ref".into(),
            why: format!("`{action}` is not OWNER/REPO[/PATH]@REF"),
        }
        .into());
    }
    let path = ctx
        .repo
        .workdir()
        .join(".github/workflows/git-tombstone.yml");
    if path.exists() {
        ctx.out.json(&Workflow {
            workflow: path.display().to_string(),
            written: false,
            action: None,
        });
        ctx.out
            .text(&format!("kept the existing {}", path.display()));
        return Ok(0);
    }
    let default_branch = ctx
        .repo
        .run_git(&["symbolic-ref", "--short", "refs/remotes/origin/HEAD"])
        .ok()
        .and_then(|s| s.trim().strip_prefix("origin/").map(str::to_owned))
        .or_else(|| {
            ctx.repo
                .run_git(&["symbolic-ref", "--short", "HEAD"])
                .ok()
                .map(|s| s.trim().to_owned())
        })
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "main".into());
    let text = WORKFLOW_TEMPLATE
        .replace("__DEFAULT_BRANCH__", &default_branch)
        .replace("__ACTION__", &action);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| CommandError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    crate::fsutil::write_atomic(&path, text.as_bytes(), 0o644).map_err(|source| {
        CommandError::Io {
            path: path.clone(),
            source,
        }
    })?;
    ctx.out.json(&Workflow {
        workflow: path.display().to_string(),
        written: true,
        action: Some(&action),
    });
    ctx.out.text(&format!(
        "wrote {} (uses {action}; commit it)",
        path.display()
    ));
    if args.action_ref.is_none() {
        ctx.out.warn("pin the action to a commit for supply-chain safety: --action-ref OWNER/REPO/action@<sha>");
    }
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

/// `install --workflow --json`: the workflow file, whether it was written, and the action
/// reference it uses.
#[derive(serde::Serialize)]
struct Workflow<'a> {
    workflow: String,
    written: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'a str>,
}
