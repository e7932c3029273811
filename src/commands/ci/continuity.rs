//! One continuous CI archive across runners: the store, the scanned range and the adoption
//! point all come from the archive branch, never from the runner.
//!
//! - **The store.** The branch names the CI store (`ci-store`). A run on an empty runner
//!   rebuilds that store from the branch's portable form (its items, their content from
//!   `blobs/`, its evidence log), checked record by record as `import` checks, under the same
//!   id: the evidence log continues one chain. A store left by an earlier run on the same
//!   machine is kept when the branch's log is a prefix of its own, rebuilt when it is behind.
//! - **The range.** Scanning starts where the branch records the ref was last scanned
//!   (`checkpoints/<ref>`); the event's range is only a lower bound.
//! - **Adoption.** The first run that publishes records its scan point (`adopted`): deletions in
//!   the history it reached are archived as baseline, not reported as violations.

use crate::commands::{CommandError, Ctx};
use crate::error::Error;
use crate::store::Store;

/// How the run's store was made ready.
#[derive(Debug, Default)]
pub(super) struct Prepared {
    /// The store did not exist before this run: it may be discarded and rebuilt on a retry.
    pub created: bool,
    /// The archive branch commit the store was rebuilt from.
    pub rebuilt_from: Option<String>,
}

/// The archive branch's tip to continue from: the remote's (fetched), else the local one.
pub(super) fn branch_tip(ctx: &Ctx, remote: &str, branch: &str) -> Option<String> {
    let _ = ctx.repo.fetch_branch(remote, branch);
    ctx.repo
        .ref_commit(&format!("refs/remotes/{remote}/{branch}"))
        .or_else(|| ctx.repo.ref_commit(&format!("refs/heads/{branch}")))
}

/// Make the store the CI store the archive branch names, as the branch has it.
pub(super) fn prepare_store(ctx: &Ctx, remote: &str, branch: &str) -> Result<Prepared, Error> {
    let dir = ctx.store_dir()?;
    let created = !dir.join(crate::store::DB_FILE).exists();
    let mut out = Prepared {
        created,
        rebuilt_from: None,
    };
    let Some(tip) = branch_tip(ctx, remote, branch) else {
        return Ok(out); // the first run: this store becomes the CI store
    };
    let Some(ci_id) = crate::publish::ci_store_at(&ctx.repo, &tip) else {
        return Ok(out);
    };
    let store = ctx.open_store()?;
    if !store.is_empty()? {
        let local_id = store.id()?;
        if local_id != ci_id {
            return Err(CommandError::Invalid {
                what: "ci --publish".into(),
                why: format!(
                    "the archive branch continues CI store {ci_id}, but this clone's store ({}) is store {local_id}; run CI where the store is empty (a fresh clone, or --store / GIT_TOMBSTONE_STORE naming an empty directory)",
                    dir.display()
                ),
            }
            .into());
        }
        let ours = crate::publish::evidence_log(&store)?;
        let theirs = ctx
            .repo
            .file_at(&tip, format!("evidence/{ci_id}.jsonl").as_bytes())?
            .unwrap_or_default();
        if ours.starts_with(&theirs) {
            return Ok(out); // as published, or ahead with lines not yet published
        }
        if !theirs.starts_with(&ours) {
            return Err(crate::publish::PublishError::Diverged { store_id: ci_id }.into());
        }
        // Behind: everything it has is on the branch; take the branch's.
        drop(store);
        Store::discard(&dir).map_err(|source| CommandError::Io {
            path: dir.clone(),
            source,
        })?;
    } else {
        drop(store);
    }
    rebuild(ctx, &tip, &ci_id)?;
    out.rebuilt_from = Some(tip);
    Ok(out)
}

/// Rebuild the (empty) store as CI store `ci_id` from the archive branch at `tip`.
fn rebuild(ctx: &Ctx, tip: &str, ci_id: &str) -> Result<(), Error> {
    let dir = ctx.store_dir()?;
    let mut store = ctx.open_store()?;
    let io = |source| CommandError::Io {
        path: dir.clone(),
        source,
    };
    let mut file = tempfile::Builder::new()
        .suffix(crate::fsutil::TMP_SUFFIX)
        .tempfile_in(&dir)
        .map_err(io)?;
    {
        let mut w = std::io::BufWriter::new(file.as_file_mut());
        crate::publish::write_portable(
            &ctx.repo,
            tip,
            ci_id,
            crate::interchange::import::MAX_CONTENT,
            &mut w,
        )?;
        std::io::Write::flush(&mut w).map_err(io)?;
    }
    let checked = crate::interchange::import::check(file.path())?;
    let policy = ctx.policy()?;
    let cont = crate::interchange::import::Continue {
        store_id: ci_id.to_owned(),
        source: format!(
            "archive branch {} at {}",
            crate::publish::branch_name(),
            &tip[..12.min(tip.len())]
        ),
    };
    let done = crate::interchange::import::run_as(
        &mut store,
        checked,
        policy.compression,
        &ctx.actor(None),
        &crate::clock::now(),
        Some(&cont),
    )?;
    ctx.out.note(&format!(
        "rebuilt CI store {ci_id} from the archive branch: {} item(s), {} evidence line(s)",
        done.items_new, done.evidence_lines
    ));
    Ok(())
}

/// After a publish found the branch's log moved on (another run published first): drop what
/// this run built, so the next attempt starts again from the branch.
pub(super) fn reset_for_retry(ctx: &Ctx, branch: &str) -> Result<(), Error> {
    let dir = ctx.store_dir()?;
    Store::discard(&dir).map_err(|source| CommandError::Io {
        path: dir.clone(),
        source,
    })?;
    let _ = ctx
        .repo
        .run_git(&["update-ref", "-d", &format!("refs/heads/{branch}")]);
    Ok(())
}

/// The commit whose history counts as adopted: the branch's record, else (this run adopts)
/// the start of a range, or the tip of a whole-history scan.
pub(super) fn adoption_point(
    ctx: &Ctx,
    range: &crate::scan::range::Range,
) -> (Option<String>, bool) {
    if let Some(a) = crate::publish::adopted(&ctx.repo) {
        return (Some(a), false);
    }
    let point = if range.hidden.is_empty() {
        range.tips.first().cloned()
    } else {
        range.hidden.first().cloned()
    };
    (point, true)
}

/// Widen `(base, tip)` to start at the commit the archive branch records `git_ref` was last
/// scanned up to (fetching the commit if this clone lacks it). Of several recorded checkpoints,
/// the newest that is an ancestor of the tip wins; one that was force-pushed away still covers
/// everything the rewrite introduced (the scan goes down to the merge base).
pub(super) fn checkpoint_base(ctx: &Ctx, remote: &str, git_ref: &str, tip: &str) -> Option<String> {
    let mut best: Option<String> = None;
    let mut rewritten: Option<String> = None;
    for c in crate::publish::checkpoints(&ctx.repo, git_ref) {
        if !ctx.repo.has_object(&c) {
            let _ = ctx
                .repo
                .run_git(&["fetch", "--quiet", "--no-tags", remote, &c]);
        }
        if !ctx.repo.has_object(&c) {
            continue;
        }
        let below_tip = ctx
            .repo
            .run_git(&["merge-base", "--is-ancestor", &c, tip])
            .is_ok();
        let newer = best.as_ref().is_none_or(|b| {
            ctx.repo
                .run_git(&["merge-base", "--is-ancestor", b, &c])
                .is_ok()
        });
        if below_tip && newer {
            best = Some(c);
        } else if !below_tip {
            rewritten.get_or_insert(c);
        }
    }
    best.or(rewritten)
}
