//! Staging tombstones: the one path by which `archive`, the pre-commit hook and
//! `scan --write-stubs` put rendered tombstones into the work tree and the index.
//!
//! A [`StubPlan`] decides, once, where each tombstone goes:
//! - into the work tree where its location is free (a file already there is the user's and is
//!   kept, unless the caller replaces it, as `archive` replaces the file it archives);
//! - into the index only where a directory on the way is a link or a file (it is never
//!   followed) or the location lies outside a sparse checkout (`SKIP_WORKTREE`, as git keeps
//!   the files it does not check out);
//! - into the index always.
//!
//! [`StubPlan::write`] does the work tree part (several threads may share it), and
//! [`StubPlan::undo`] removes again every tombstone it wrote where nothing stood before.
//! [`stage_stubs`] is the whole path for a single thread: write, stage, then remove the files
//! that go; on a failure before the index is replaced it undoes the writes, so a refused stage
//! leaves the work tree and the index as they were.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::context::{shown, Notice};
use crate::error::{CommandError, Error};
use crate::git::{Repo, Staged};
use crate::worktree::{Durability, Kind, Worktree};

/// A rendered tombstone: where it stands, and its bytes.
pub type Rendered = (Vec<u8>, Vec<u8>);

/// What to do where a file already stands at a tombstone's location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Present {
    /// Keep it (it is the user's), and stage the tombstone in the index only.
    Keep,
    /// Replace it with the tombstone (the file being archived itself).
    Replace,
}

/// The work tree and index changes that stage a set of tombstones.
#[derive(Debug)]
pub struct StubPlan {
    /// Files that leave the index with the tombstones, and the work tree after them.
    removals: Vec<Vec<u8>>,
    /// The tombstones to write into the work tree (indexes into `staged`), with whether their
    /// location was free.
    writes: Vec<(usize, bool)>,
    staged: Vec<Staged>,
    notices: Vec<Notice>,
    next: AtomicUsize,
}

impl StubPlan {
    /// Plan `tombstones`, where the files `removals` leave (archive's sidecar placement).
    /// `what` names a tombstone in the notices ("tombstone", "stub").
    pub fn new(
        repo: &Repo,
        worktree: &Worktree,
        tombstones: Vec<Rendered>,
        removals: Vec<Vec<u8>>,
        present_policy: Present,
        what: &str,
    ) -> Result<StubPlan, Error> {
        let locations: Vec<&[u8]> = tombstones.iter().map(|(l, _)| l.as_slice()).collect();
        let outside = repo.sparse_excluded(&locations)?;
        let mut staged: Vec<Staged> = removals
            .iter()
            .map(|path| Staged::Remove { path: path.clone() })
            .collect();
        let removed: HashSet<&[u8]> = removals.iter().map(Vec::as_slice).collect();
        // What stands at each location now (a removed file no longer counts).
        let mut present = Vec::with_capacity(tombstones.len());
        for (location, bytes) in tombstones {
            let file =
                worktree.file_type(&location).is_some() && !removed.contains(location.as_slice());
            // (git clears `SKIP_WORKTREE` where a file is present, so only an absent one is
            // skipped.)
            let skip_worktree = outside.contains(&location) && !file;
            present.push((staged.len(), file, skip_worktree));
            staged.push(Staged::File {
                path: location,
                bytes,
                mode: "100644",
                skip_worktree,
            });
        }
        let mut writes = Vec::new();
        let mut notices = Vec::new();
        // Whether each directory on the way is blocked (a link or a file), decided once per
        // directory: a commit may delete thousands of files in one.
        let mut blocked: std::collections::HashMap<&[u8], bool> = Default::default();
        let mut cleaned: HashSet<&[u8]> = HashSet::new();
        for (i, file, skip_worktree) in present {
            let location = staged[i].path();
            let dir = &location[..location.iter().rposition(|&b| b == b'/').unwrap_or(0)];
            if skip_worktree {
                // In the index only.
            } else if *blocked
                .entry(dir)
                .or_insert_with(|| parent_blocked(worktree, location))
            {
                notices.push(Notice::Warning(format!(
                    "{}: a directory on the way is a symbolic link or a file; the commit records its {what}, the work tree is left alone",
                    shown(location)
                )));
            } else if file && present_policy == Present::Keep {
                notices.push(Notice::Warning(format!(
                    "kept your work tree copy of {}; the commit records its {what}",
                    shown(location)
                )));
            } else {
                // Leftovers of a killed run, once per directory written to.
                if cleaned.insert(dir) {
                    worktree.clean_tmp(location);
                }
                writes.push((i, !file));
            }
        }
        Ok(StubPlan {
            removals,
            writes,
            staged,
            notices,
            next: AtomicUsize::new(0),
        })
    }

    /// The index changes: every removal, then every tombstone.
    pub fn staged(&self) -> &[Staged] {
        &self.staged
    }

    /// The notices planning gave (tombstones kept out of the work tree, and why).
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.staged.is_empty()
    }

    /// Write the tombstones into the work tree, each through a temporary file and a rename,
    /// never through a link. Threads may call this at once: each takes the next tombstone
    /// until none is left.
    pub fn write(&self, worktree: &Worktree, durability: Durability) -> Result<(), Error> {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&(at, _)) = self.writes.get(i) else {
                return Ok(());
            };
            let Staged::File {
                path: location,
                bytes,
                ..
            } = &self.staged[at]
            else {
                continue;
            };
            worktree
                .write(location, bytes, Kind::File(0o644), durability)
                .map_err(CommandError::from)?;
        }
    }

    /// Remove every tombstone written where nothing stood (a file a tombstone replaced stays
    /// replaced: the store holds its content, and a rerun finishes the staging).
    pub fn undo(&self, worktree: &Worktree) {
        for &(at, fresh) in &self.writes {
            if fresh {
                let _ = worktree.remove(self.staged[at].path());
            }
        }
    }
}

/// Write `plan`'s tombstones into the work tree, stage the whole plan, and only then remove
/// the files that go from the work tree. On any failure before the index is replaced, the
/// tombstones written are removed again and the index and the files are left as they were.
/// `failpoint` names the point between the work tree and the index (tests kill the process
/// there to check that a rerun finishes, or inject a failure there to check the undo).
pub fn stage_stubs(
    repo: &Repo,
    worktree: &Worktree,
    plan: &StubPlan,
    durability: Durability,
    failpoint: &str,
) -> Result<(), Error> {
    let staged = plan.write(worktree, durability).and_then(|()| {
        crate::failpoint::hit(failpoint);
        if crate::failpoint::error(failpoint) {
            return Err(crate::git::GitError::Command {
                args: "update-index (injected failure)".into(),
                stderr: format!("GIT_TOMBSTONE_FAILPOINT=error:{failpoint}"),
            }
            .into());
        }
        Ok(repo.stage(plan.staged())?)
    });
    if staged.is_err() {
        plan.undo(worktree);
        return staged;
    }
    for path in &plan.removals {
        worktree.remove(path).map_err(CommandError::from)?;
    }
    Ok(())
}

/// Whether a directory on the way to `path` exists as something other than a directory (a
/// link or a file): writing there would follow it or fail.
fn parent_blocked(worktree: &Worktree, path: &[u8]) -> bool {
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
