//! `--write-stubs`: the stubs that deletions in history lacked, written where the policy puts
//! them and committed in one commit of their own, and recorded in the store.

use crate::clock;
use crate::context::{Ctx, Notice};
use crate::error::Error;
use crate::scan::Report;
use crate::staging::{stage_stubs, Present, StubPlan};
use crate::store::{evidence, items, Store};
use crate::stub::{Mode, Stub};

/// Add the stubs the violations lack, in one commit of their own.
pub fn write_stubs(
    ctx: &Ctx,
    store: &mut Store,
    report: &Report,
    actor: &str,
    notices: &mut Vec<Notice>,
) -> Result<String, Error> {
    let Some((commit, ids)) = commit_stubs(ctx, store, report, notices)? else {
        return Ok("no missing stub could be written (the paths are in use again)".into());
    };
    record_stubs(store, &commit, &ids, actor)?;
    Ok(format!(
        "committed {} missing stub(s) as {}",
        ids.len(),
        &commit[..12]
    ))
}

/// Record in the store that `commit` added the stubs of items `ids`.
pub fn record_stubs(
    store: &mut Store,
    commit: &str,
    ids: &[String],
    actor: &str,
) -> Result<(), Error> {
    let now = clock::now();
    store.write(|tx| {
        for id in ids {
            items::mark_stubbed(tx, id, &now)?;
        }
        evidence::append(
            tx,
            "stubs-written",
            actor,
            &now,
            &serde_json::json!({ "commit": commit, "ids": ids }),
        )?;
        Ok(())
    })?;
    Ok(())
}

/// Commit the stubs the violations lack; `None` when none could be written. Returns the
/// commit and the ids of the items whose stubs it adds.
pub fn commit_stubs(
    ctx: &Ctx,
    store: &Store,
    report: &Report,
    notices: &mut Vec<Notice>,
) -> Result<Option<(String, Vec<String>)>, Error> {
    let head = ctx
        .repo
        .head_commit()?
        .ok_or(crate::git::GitError::Unborn)?;
    let mut stubs = Vec::new();
    let mut ids = Vec::new();
    let mut done: Vec<Vec<u8>> = Vec::new();
    let policy = ctx.policy()?;
    // The newest deletion of a path gets its stub (violations are in commit order), where the
    // policy places it (a sidecar by default).
    for v in report.violations.iter().rev() {
        if done.contains(&v.path_bytes) {
            continue;
        }
        let location = policy
            .decide(&v.path_bytes)
            .placement
            .location(&v.path_bytes);
        if ctx.repo.entry_at(&head, &v.path_bytes)?.is_some()
            || ctx.repo.entry_at(&head, &location)?.is_some()
            || ctx.repo.index_has_children(&location)?
        {
            continue; // the path (or the stub's place) holds something again
        }
        let Some(item) = items::get(store.conn(), &v.id)? else {
            continue;
        };
        let mode = Mode::parse(&item.mode).unwrap_or(Mode::File);
        let stub = Stub::new(
            &item.path,
            mode,
            &item.sha256,
            item.size,
            &item.source_commit,
            &item.reason,
        );
        let Ok(bytes) = stub.render(&location) else {
            continue;
        };
        stubs.push((location, bytes));
        done.push(item.path.clone());
        ids.push(item.id);
    }
    if stubs.is_empty() {
        return Ok(None);
    }
    // Written through the one staging path (src/staging.rs): where the place is free, never
    // through a link; a directory on the way that is a link or a file, or a place outside a
    // sparse checkout, gets the stub in the index only.
    let worktree = crate::worktree::Worktree::open(ctx.repo.workdir())?;
    let committed = stubs.clone();
    let mut staging = StubPlan::new(
        &ctx.repo,
        &worktree,
        stubs,
        Vec::new(),
        Present::Keep,
        "stub",
    )?;
    notices.extend(staging.take_notices());
    stage_stubs(
        &ctx.repo,
        &worktree,
        &staging,
        crate::worktree::Durability::Synced,
        "scan:after-stubs",
    )?;
    let message = format!(
        "git-tombstone: add {} missing tombstone stub(s)\n\nThese files were deleted without the stub the policy requires; their content is\narchived. Restore one with `git archive-restore <path>`.\n",
        ids.len()
    );
    let commit = ctx.repo.commit_files(&message, &committed)?;
    Ok(Some((commit, ids)))
}
