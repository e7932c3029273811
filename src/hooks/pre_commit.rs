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
use crate::commands::{shown, CommandError, Ctx};
use crate::error::Error;
use crate::git::{EntryKind, Staged};
use crate::output::human_bytes;
use crate::policy::Action;
use crate::store::evidence;
use crate::stub::{Mode, Stub};
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
}

struct Planned {
    capture: Capture,
    stub: Option<Vec<u8>>,
}

/// Run the pre-commit hook.
pub fn run(ctx: &Ctx) -> Result<Summary, Error> {
    let mut phases = crate::trace::Phases::start();
    let staged = ctx.repo.staged_deletions()?;
    phases.lap("staged-deletions");
    let (Some(head), false) = (staged.head.as_deref(), staged.deleted.is_empty()) else {
        return Ok(Summary::default());
    };
    let policy = ctx.policy()?;
    let mut summary = Summary::default();
    let moved = if policy.archive_moves {
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
    phases.lap("moves");

    let mut plan = Vec::new();
    let mut events = Vec::new();
    for d in &staged.deleted {
        let name = shown(&d.path);
        // A path git itself would refuse (`.git/…`, `..`, NTFS/HFS aliases) can only come from
        // a crafted history: it is never archived, stubbed or written.
        if let Err(e) = crate::git::path::check(&d.path, d.kind == EntryKind::Symlink) {
            ctx.out.warn(&format!(
                "{name} is not a safe path ({e}): not archived; `git tombstone scan` reports it"
            ));
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
        if moved.contains(&d.id) {
            ctx.out
                .note(&format!("{name} moved within this commit: not archived"));
            summary.moves.push(name);
            continue;
        }
        // An oversize file is refused from its recorded size, before its bytes are read (a file
        // that large cannot be a stub).
        let size = ctx.repo.blob_size(&d.id)?;
        if size > crate::stub::MAX_STUB_SIZE as u64 {
            crate::commands::check_size(policy, decision.action, &name, size)?;
        }
        let bytes = ctx.repo.blob(&d.id)?;
        if let Ok(stub) = Stub::parse(&d.path, &bytes) {
            events.push((
                "stub-removed",
                serde_json::json!({ "id": stub.id, "path": name, "from": head }),
            ));
            summary.stub_removals.push(name);
            continue;
        }
        crate::commands::check_size(policy, decision.action, &name, bytes.len() as u64)?;
        // A stub needs the path free in the index being committed: not replaced by a
        // directory, and no directory on the way replaced by a file or a symbolic link.
        let stub_here = decision.action == Action::Stub && !ctx.repo.index_blocks_file(&d.path)?;
        if decision.action == Action::Stub && !stub_here {
            ctx.out.note(&format!(
                "{name}: the commit puts a file, link or directory in the way of its stub; archived without a stub"
            ));
        }
        let capture = Capture {
            path: d.path.clone(),
            mode,
            bytes,
            git_blob_id: d.id.clone(),
            source_commit: head.to_owned(),
            removed_in_commit: None,
            removed_at: None,
            action: if stub_here {
                Action::Stub
            } else {
                Action::Archive
            },
            category: decision.category,
            reason: decision.reason,
            tags: Vec::new(),
            metadata: serde_json::Map::new(),
        };
        let stub = if stub_here {
            Some(
                capture
                    .render_stub()
                    .map_err(|source| CommandError::Unrenderable {
                        path: name.clone(),
                        source,
                    })?,
            )
        } else {
            None
        };
        plan.push(Planned { capture, stub });
    }
    if plan.is_empty() && events.is_empty() {
        return Ok(summary);
    }

    phases.lap("plan");

    // Where stubs go: into the work tree only where the path is free (after `git rm --cached`
    // the user's file is still there, and it is never overwritten), into the index always.
    // Work tree writes walk each directory without following links (src/worktree.rs): a
    // directory on the way that is a link or a file gets no stub on disk, only in the index.
    let worktree = crate::worktree::Worktree::open(ctx.repo.workdir())?;
    let mut to_write: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut staged_stubs = Vec::new();
    let mut cleaned: HashSet<&[u8]> = HashSet::new();
    // A path outside a sparse checkout gets its stub in the index only (`SKIP_WORKTREE`), as
    // git keeps the files it does not check out: nothing appears outside the cone.
    let stub_paths: Vec<&[u8]> = plan
        .iter()
        .filter(|p| p.stub.is_some())
        .map(|p| p.capture.path.as_slice())
        .collect();
    let outside = ctx.repo.sparse_excluded(&stub_paths)?;
    for p in &plan {
        let Some(stub) = &p.stub else { continue };
        let path = &p.capture.path;
        // (git clears `SKIP_WORKTREE` where a file is present, so only an absent one is skipped.)
        let present = worktree.file_type(path);
        let skip_worktree = outside.contains(path) && present.is_none();
        match present {
            None if skip_worktree => {}
            None if worktree.parent_exists(path) || !parent_blocked(&worktree, path) => {
                // Leftovers of a killed run, once per directory (a commit may delete thousands
                // of files in one directory).
                let dir = &path[..path.iter().rposition(|&b| b == b'/').unwrap_or(0)];
                if cleaned.insert(dir) {
                    worktree.clean_tmp(path);
                }
                to_write.push((path.clone(), stub.clone()));
            }
            None => ctx.out.warn(&format!(
                "{}: a directory on the way is a symbolic link or a file; the commit records its stub, the work tree is left alone",
                shown(path)
            )),
            Some(_) => ctx.out.warn(&format!(
                "kept your work tree copy of {}; the commit records its stub",
                shown(path)
            )),
        }
        staged_stubs.push(Staged::File {
            path: p.capture.path.clone(),
            bytes: stub.clone(),
            mode: "100644",
            skip_worktree,
        });
    }

    // Two threads: this one makes the capture durable in the store; the other writes stubs
    // into the work tree (paths that were empty) and builds the new index. Both pull stubs to
    // write from one counter, so the main thread helps once the store is committed. The index
    // is only replaced once all of it succeeded; on any failure the stubs are removed again.
    let actor = ctx.actor(None);
    let now = clock::now();
    let compression = policy.compression;
    let worker = ctx.repo.duplicate();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let write_stubs = || -> Result<(), Error> {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some((path, bytes)) = to_write.get(i) else {
                return Ok(());
            };
            worktree
                .write(
                    path,
                    bytes,
                    crate::worktree::Kind::File(0o644),
                    crate::worktree::Durability::Checkout,
                )
                .map_err(CommandError::from)?;
        }
    };
    let result = std::thread::scope(|scope| -> Result<(), Error> {
        let side = scope.spawn(|| -> Result<crate::git::PreparedIndex, Error> {
            write_stubs()?;
            Ok(worker.open().prepare_stage(&staged_stubs)?)
        });
        let stored = (|| -> Result<(), Error> {
            let mut store = ctx.open_store()?;
            summary.captured = store.write(|tx| {
                for (op, data) in &events {
                    evidence::append(tx, op, &actor, &now, data)?;
                }
                let captures: Vec<&capture::Capture> = plan.iter().map(|p| &p.capture).collect();
                capture::record_many(tx, &captures, &actor, &now, compression)
            })?;
            failpoint::hit("pre-commit:after-store");
            phases.lap("store");
            write_stubs()
        })();
        let prepared = side.join().map_err(|_| crate::git::GitError::Gix {
            message: "preparing the index failed (thread panicked)".into(),
        })?;
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
        for (path, _) in &to_write {
            let _ = worktree.remove(path);
        }
        return Err(e);
    }

    for (p, c) in plan.iter().zip(&summary.captured) {
        let what = if p.stub.is_some() {
            summary.stubbed.push(c.path.clone());
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
    if let Some(line) = phases.report() {
        ctx.out.warn(&line);
    }
    for s in &summary.stub_removals {
        ctx.out.note(&format!("stub {s} removed (recorded)"));
    }
    for s in &summary.submodules {
        ctx.out
            .note(&format!("submodule {s} removed (recorded, not stubbed)"));
    }
    Ok(summary)
}

/// Whether a directory on the way to `path` exists as something other than a directory (a
/// link or a file): writing there would follow it or fail.
fn parent_blocked(worktree: &crate::worktree::Worktree, path: &[u8]) -> bool {
    let mut end = path.len();
    while let Some(i) = path[..end].iter().rposition(|&b| b == b'/') {
        let dir = &path[..i];
        match worktree.file_type(dir) {
            Some(rustix::fs::FileType::Directory) => return false,
            Some(_) => return true,
            None => end = i,
        }
    }
    false
}
