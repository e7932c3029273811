//! The pre-commit hook: capture every file the commit deletes, before it is lost.
//!
//! Staged deletions are HEAD's tree vs the index git is committing. For each, the policy
//! decides: `stub` captures the content and writes and stages the stub; `archive` captures and
//! lets the deletion stand; `ignore` does nothing. A deleted blob re-added elsewhere in the same
//! commit is a move (not archived unless `archive_moves`). Deleting a stub is recorded as a stub
//! removal. A submodule deletion is recorded (its commit id) and never stubbed.
//!
//! Failure is loud and safe: everything is checked before anything is written; if capturing,
//! writing a stub or staging fails, the stubs written so far are removed again and the error
//! refuses the commit, leaving the index and work tree as they were.

use std::collections::HashSet;

use serde::Serialize;

use crate::capture::{self, Capture, Captured};
use crate::context::{shown, Ctx, Notice};
use crate::error::CommandError;
use crate::error::Error;
use crate::git::EntryKind;
use crate::policy::Action;
use crate::staging::{Present, Rendered, StubPlan};
use crate::store::evidence;
use crate::stub::{DirTombstone, Mode, Placement, Tombstone};
use crate::{clock, failpoint};

/// What the hook did.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub captured: Vec<Captured>,
    /// Paths whose stub was written into the work tree and staged.
    pub stubbed: Vec<String>,
    /// Paths whose content was moved elsewhere in the same commit.
    pub moves: Vec<String>,
    /// Stubs deleted by the commit (recorded, not archived again).
    pub stub_removals: Vec<String>,
    /// Submodules deleted by the commit (recorded by commit id).
    pub submodules: Vec<String>,
    /// Paths the policy ignores.
    pub ignored: Vec<String>,
    /// Paths git would refuse to check out (crafted history): reported, never archived.
    pub unsafe_paths: Vec<String>,
    /// What to tell the user (moves, kept work tree copies, tombstones that could not stand).
    #[serde(skip)]
    pub notices: Vec<Notice>,
}

/// An evidence line to append: its operation and data.
type Event = (&'static str, serde_json::Value);

struct Planned {
    capture: Capture,
    /// Where its stub goes (`stub` action); set to `None` when no tombstone can stand for it.
    placement: Option<Placement>,
}

/// Run the pre-commit hook: find what the commit deletes, decide each deletion with the
/// policy, then capture, write tombstones and stage them, all or nothing. Returns what it did
/// (`src/commands/hook.rs` reports it).
pub fn run(ctx: &Ctx) -> Result<Summary, Error> {
    let mut phases = crate::trace::Phases::start();
    let staged = ctx.repo.staged_deletions()?;
    phases.lap("staged-deletions");
    let (Some(head), false) = (staged.head.as_deref(), staged.deleted.is_empty()) else {
        return Ok(Summary::default());
    };
    let policy = ctx.policy()?;
    let moves = find_moves(ctx, policy, head, &staged)?;
    phases.lap("moves");
    let mut summary = Summary::default();
    let (mut plan, events) = plan_deletions(ctx, policy, head, &staged, &moves, &mut summary)?;
    if plan.is_empty() && events.is_empty() {
        return Ok(summary);
    }
    phases.lap("plan");
    let tombstones = place_tombstones(ctx, policy, head, &mut plan, &mut summary.notices)?;
    let worktree = crate::worktree::Worktree::open(ctx.repo.workdir())?;
    // Where the tombstones go (src/staging.rs): into the work tree only where the location is
    // free (after `git rm --cached` the user's file is still there, and it is never
    // overwritten), into the index always.
    let mut writes = StubPlan::new(
        &ctx.repo,
        &worktree,
        tombstones,
        Vec::new(),
        Present::Keep,
        "tombstone",
    )?;
    summary.notices.extend(writes.take_notices());
    summary.captured =
        capture_and_stage(ctx, policy, &worktree, &plan, &events, &writes, &mut phases)?;
    for (p, c) in plan.iter().zip(&summary.captured) {
        if p.placement.is_some() {
            summary.stubbed.push(c.path.clone());
        }
    }
    if let Some(line) = phases.report() {
        summary.notices.push(Notice::Warning(line));
    }
    Ok(summary)
}

/// Deleted blobs the commit adds again elsewhere (exact moves), and deleted files a file the
/// commit adds resembles by at least `move_similarity`% (renames with edits, git's way).
struct Moves {
    exact: HashSet<String>,
    renamed: std::collections::HashMap<Vec<u8>, Vec<u8>>,
}

fn find_moves(
    ctx: &Ctx,
    policy: &crate::policy::Policy,
    head: &str,
    staged: &crate::git::StagedDeletions,
) -> Result<Moves, Error> {
    let exact = if policy.archive_moves {
        HashSet::new()
    } else {
        let ids: HashSet<String> = staged
            .deleted
            .iter()
            .filter(|d| d.kind != EntryKind::Gitlink)
            .map(|d| d.id.clone())
            .collect();
        ctx.repo.readded_elsewhere(head, &ids)?
    };
    // Renames with edits: a deleted file at least `move_similarity`% like a file the commit
    // adds (git's rename detection, through gix) is a move too. Only when some deletion is not
    // already an exact move.
    let renamed = {
        let sources: Vec<crate::git::Side<'_>> = staged
            .deleted
            .iter()
            .filter(|d| d.kind != EntryKind::Gitlink && !exact.contains(&d.id))
            .filter(|d| !crate::stub::is_tombstone_name(&d.path))
            .filter_map(crate::git::Deleted::side)
            .collect();
        // The files the commit adds, found by the same walk that found the deletions.
        let destinations = crate::git::added_sides(&staged.added);
        if policy.archive_moves || policy.move_similarity >= 100 {
            std::collections::HashMap::new()
        } else {
            ctx.repo
                .moves(&sources, &destinations, policy.move_similarity, None)?
        }
    };
    Ok(Moves { exact, renamed })
}

/// Decide every deletion with the policy: what to capture (with where its stub goes), and the
/// evidence events of moves, stub removals and submodules. Unsafe, ignored, moved, stub and
/// submodule paths are noted in `summary`.
fn plan_deletions(
    ctx: &Ctx,
    policy: &crate::policy::Policy,
    head: &str,
    staged: &crate::git::StagedDeletions,
    moves: &Moves,
    summary: &mut Summary,
) -> Result<(Vec<Planned>, Vec<Event>), Error> {
    let (moved, renamed) = (&moves.exact, &moves.renamed);
    let mut plan = Vec::new();
    let mut events = Vec::new();
    for d in &staged.deleted {
        let name = shown(&d.path);
        // A path git itself would refuse (`.git/…`, `..`, NTFS/HFS aliases) can only come from
        // a crafted history: it is never archived, stubbed or written.
        if let Err(e) = crate::git::path::check(&d.path, d.kind == EntryKind::Symlink) {
            summary.notices.push(Notice::Warning(format!(
                "{name} is not a safe path ({e}): not archived; `git tombstone scan` reports it"
            )));
            summary.unsafe_paths.push(name);
            continue;
        }
        let decision = policy.decide(&d.path);
        if decision.action == Action::Ignore {
            summary.ignored.push(name);
            continue;
        }
        let mode = match d.kind {
            EntryKind::File => Mode::File,
            EntryKind::Executable => Mode::Executable,
            EntryKind::Symlink => Mode::Symlink,
            EntryKind::Gitlink | EntryKind::Tree => {
                events.push((
                    "submodule-removed",
                    serde_json::json!({ "path": name, "commit": d.id, "from": head }),
                ));
                summary.submodules.push(name);
                continue;
            }
        };
        if moved.contains(&d.id) || renamed.contains_key(&d.path) {
            let to = renamed.get(&d.path).map(|p| shown(p));
            let edited = !moved.contains(&d.id);
            summary.notices.push(Notice::Note(format!(
                "{name} moved within this commit{}: not archived",
                to.as_ref()
                    .map(|t| format!(" to {t}{}", if edited { " (edited)" } else { "" }))
                    .unwrap_or_default()
            )));
            events.push((
                "moved",
                serde_json::json!({ "path": name, "to": to, "blob": d.id, "edited": edited, "from": head }),
            ));
            summary.moves.push(name);
            continue;
        }
        // An oversize file is refused from its recorded size, before its bytes are read (a file
        // that large cannot be a stub).
        let size = ctx.repo.blob_size(&d.id)?;
        if size > crate::stub::max_size(&d.path) as u64 {
            crate::context::check_size(policy, decision.action, &name, size)?;
        }
        let bytes = ctx.repo.blob(&d.id)?;
        if let Ok(t) = Tombstone::parse(&d.path, &bytes) {
            let ids: Vec<String> = t.stubs().into_iter().map(|s| s.id).collect();
            let data = match &ids[..] {
                [id] => serde_json::json!({ "id": id, "path": name, "from": head }),
                _ => serde_json::json!({ "ids": ids, "path": name, "from": head }),
            };
            events.push(("stub-removed", data));
            summary.stub_removals.push(name);
            continue;
        }
        crate::context::check_size(policy, decision.action, &name, bytes.len() as u64)?;
        let capture = Capture {
            path: d.path.clone(),
            mode,
            bytes,
            git_blob_id: d.id.clone(),
            source_commit: head.to_owned(),
            removed_in_commit: None,
            removed_at: None,
            action: decision.action,
            category: decision.category,
            reason: decision.reason,
            tags: Vec::new(),
            metadata: serde_json::Map::new(),
        };
        let placement = (decision.action == Action::Stub).then_some(decision.placement);
        plan.push(Planned { capture, placement });
    }
    Ok((plan, events))
}

/// Capture `plan` and record `events` in one store transaction on this thread while another
/// writes the tombstones and builds the new index; the index is replaced only once all of it
/// succeeded, and on any failure the tombstones written are removed again.
fn capture_and_stage(
    ctx: &Ctx,
    policy: &crate::policy::Policy,
    worktree: &crate::worktree::Worktree,
    plan: &[Planned],
    events: &[Event],
    writes: &StubPlan,
    phases: &mut crate::trace::Phases,
) -> Result<Vec<Captured>, Error> {
    let mut captured = Vec::new();
    // Two threads: this one makes the capture durable in the store; the other writes stubs
    // into the work tree (paths that were empty) and builds the new index. Both pull stubs to
    // write from one counter, so the main thread helps once the store is committed. The index
    // is only replaced once all of it succeeded; on any failure the stubs are removed again.
    let actor = ctx.actor(None);
    let now = clock::now();
    let compression = policy.compression;
    let worker = ctx.repo.duplicate();
    let write_stubs = || writes.write(worktree, crate::worktree::Durability::Checkout);
    let result = std::thread::scope(|scope| -> Result<(), Error> {
        let side = scope.spawn(|| -> Result<crate::git::PreparedIndex, Error> {
            failpoint::panic_at("pre-commit:prepare-index");
            write_stubs()?;
            Ok(worker.open().prepare_stage(writes.staged())?)
        });
        let stored = (|| -> Result<(), Error> {
            let mut store = ctx.open_store()?;
            captured = store.write(|tx| {
                for (op, data) in events {
                    evidence::append(tx, op, &actor, &now, data)?;
                }
                let captures: Vec<&capture::Capture> = plan.iter().map(|p| &p.capture).collect();
                capture::record_many(tx, &captures, &actor, &now, compression)
            })?;
            failpoint::hit("pre-commit:after-store");
            phases.lap("store");
            write_stubs()
        })();
        let prepared = side
            .join()
            .map_err(|p| crate::error::Panicked::from_payload("preparing the index", &*p))?;
        phases.lap("stubs-and-index");
        stored?;
        let prepared = prepared?;
        failpoint::hit("pre-commit:before-stage");
        if failpoint::error("pre-commit:stage") {
            return Err(crate::git::GitError::Command {
                args: "update-index (injected failure)".into(),
                stderr: "GIT_TOMBSTONE_FAILPOINT=error:pre-commit:stage".into(),
            }
            .into());
        }
        prepared.write(&ctx.repo)?;
        phases.lap("stage");
        Ok(())
    });
    if let Err(e) = result {
        writes.undo(worktree);
        return Err(e);
    }
    Ok(captured)
}

/// Decide where the tombstone of every stubbed file in `plan` stands and render it: one
/// directory tombstone (`<dir>.tombstone`) for each directory the commit deletes whole (when
/// the policy allows it, and no in-place stub goes into it), else the file's own sidecar or
/// in-place stub. A location the index being committed has in use (a file there, a directory
/// there, or a file or link on the way) gets no tombstone: the file is archived, its deletion
/// stands, and the user is told. Returns (location, bytes) in plan order.
fn place_tombstones(
    ctx: &Ctx,
    policy: &crate::policy::Policy,
    head: &str,
    plan: &mut [Planned],
    notices: &mut Vec<Notice>,
) -> Result<Vec<Rendered>, Error> {
    let (groups, singles) = group_by_deleted_dir(ctx, policy, plan)?;
    let mut out = Vec::new();
    for (dir, members) in groups {
        if let Some(rendered) = dir_tombstone(ctx, policy, head, plan, &dir, &members, notices)? {
            out.push(rendered);
        }
    }
    for n in singles {
        if let Some(rendered) = file_tombstone(ctx, &mut plan[n], notices)? {
            out.push(rendered);
        }
    }
    Ok(out)
}

/// Whether the index being committed leaves `location` free for a tombstone: no entry there,
/// and no file or link on the way.
fn location_free(ctx: &Ctx, location: &[u8]) -> Result<bool, Error> {
    Ok(ctx.repo.index_entry(location)?.is_none() && !ctx.repo.index_blocks_file(location)?)
}

/// The stubbed files of `plan` by the outermost directory the commit deletes whole (with
/// `directory_tombstones` on, for sidecar-placed files; a directory an in-place stub
/// recreates stays), and the rest (their own stub each), as indexes into `plan`.
#[allow(clippy::type_complexity)]
fn group_by_deleted_dir(
    ctx: &Ctx,
    policy: &crate::policy::Policy,
    plan: &[Planned],
) -> Result<(std::collections::BTreeMap<Vec<u8>, Vec<usize>>, Vec<usize>), Error> {
    let dirs_of = |path: &[u8]| -> Vec<usize> {
        path.iter()
            .enumerate()
            .filter(|(_, &b)| b == b'/')
            .map(|(i, _)| i)
            .collect()
    };
    // Directories an in-place stub will recreate cannot go away.
    let mut kept: HashSet<Vec<u8>> = HashSet::new();
    for p in plan {
        if p.placement == Some(Placement::InPlace) {
            let path = &p.capture.path;
            for i in dirs_of(path) {
                kept.insert(path[..i].to_vec());
            }
        }
    }
    let mut gone: std::collections::HashMap<Vec<u8>, bool> = Default::default();
    let mut groups: std::collections::BTreeMap<Vec<u8>, Vec<usize>> = Default::default();
    let mut singles = Vec::new();
    for (n, p) in plan.iter().enumerate() {
        match p.placement {
            None => continue,
            Some(Placement::InPlace) => {
                singles.push(n);
                continue;
            }
            Some(Placement::Sidecar) => {}
        }
        let path = &p.capture.path;
        let mut outermost = None;
        if policy.directory_tombstones {
            for i in dirs_of(path) {
                let dir = &path[..i];
                let whole = match gone.get(dir) {
                    Some(&g) => g,
                    None => {
                        let g = !kept.contains(dir)
                            && crate::stub::sidecar_fits(dir)
                            && !ctx.repo.index_has_children(dir)?;
                        gone.insert(dir.to_vec(), g);
                        g
                    }
                };
                if whole {
                    outermost = Some(dir.to_vec());
                    break;
                }
            }
        }
        match outermost {
            Some(dir) => groups.entry(dir).or_default().push(n),
            None => singles.push(n),
        }
    }
    Ok((groups, singles))
}

/// One tombstone `<dir>.tombstone` for the `members` of `plan` under `dir`, which the commit
/// deletes whole; when its location is in use, they are archived without one (and the user
/// is told).
#[allow(clippy::too_many_arguments)]
fn dir_tombstone(
    ctx: &Ctx,
    policy: &crate::policy::Policy,
    head: &str,
    plan: &mut [Planned],
    dir: &[u8],
    members: &[usize],
    notices: &mut Vec<Notice>,
) -> Result<Option<Rendered>, Error> {
    let location = crate::stub::sidecar_of(dir);
    let mut reasons: Vec<&str> = members
        .iter()
        .map(|&n| plan[n].capture.reason.as_str())
        .collect();
    reasons.dedup();
    let reason = match reasons[..] {
        [one] => one.to_owned(),
        _ => policy.default_reason.clone(),
    };
    let tombstone = DirTombstone::new(
        dir,
        &reason,
        head,
        members.iter().map(|&n| {
            let c = &plan[n].capture;
            (
                c.path.clone(),
                c.mode,
                c.bytes.len() as u64,
                crate::id::sha256_hex(&c.bytes),
            )
        }),
    );
    let rendered = if location_free(ctx, &location)? {
        tombstone.render().map_err(|e| e.to_string())
    } else {
        Err("the commit has a file or directory at that name".to_owned())
    };
    match rendered {
        Ok(bytes) => {
            notices.push(Notice::Note(format!(
                "{}/ deleted whole: one tombstone, {} ({} file(s))",
                shown(dir),
                shown(&location),
                members.len()
            )));
            Ok(Some((location, bytes)))
        }
        Err(why) => {
            notices.push(Notice::Warning(format!(
                "{}/: no directory tombstone at {} ({why}); its {} file(s) are archived without one (`git archive-restore {}` restores them from the store)",
                shown(dir),
                shown(&location),
                members.len(),
                shown(dir)
            )));
            for &n in members {
                plan[n].placement = None;
                plan[n].capture.action = Action::Archive;
            }
            Ok(None)
        }
    }
}

/// The file's own tombstone (its sidecar or in-place stub); when the commit has its location
/// in use, the file is archived without one (and the user is told).
fn file_tombstone(
    ctx: &Ctx,
    p: &mut Planned,
    notices: &mut Vec<Notice>,
) -> Result<Option<Rendered>, Error> {
    let Some(placement) = p.placement else {
        return Ok(None);
    };
    let name = shown(&p.capture.path);
    let location = placement.location(&p.capture.path);
    if !location_free(ctx, &location)? {
        notices.push(Notice::Note(format!(
            "{name}: the commit puts a file, link or directory in the way of its tombstone ({}); archived without one",
            shown(&location)
        )));
        p.placement = None;
        p.capture.action = Action::Archive;
        return Ok(None);
    }
    let bytes = p
        .capture
        .render_stub_at(&location)
        .map_err(|source| CommandError::Unrenderable { path: name, source })?;
    Ok(Some((location, bytes)))
}
