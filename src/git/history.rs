//! History: which files each commit of a range deleted, the way
//! `git log --no-renames --diff-filter=D` sees it, plus the files a commit replaced by a stub.
//!
//! Each non-merge commit is diffed against its parent; a root commit deletes nothing; a merge
//! adds no events of its own. With `first_parent`, only the first-parent chain is walked and
//! every commit on it, merges included, is diffed against its first parent, so what a merged
//! branch deleted shows up at the merge.

use gix::bstr::ByteSlice;

use super::objects::EntryKind;
use super::{Deleted, GitError, Repo};

/// A commit to scan, with its parents.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: String,
    pub parents: Vec<String>,
}

/// A file whose content a commit replaced by something small enough to be a stub.
#[derive(Debug, Clone)]
pub struct Replaced {
    pub path: Vec<u8>,
    pub old_kind: EntryKind,
    pub old_id: String,
    pub new_bytes: Vec<u8>,
}

/// The tree of the last commit diffed, kept for its child.
#[derive(Debug, Clone)]
pub struct TreeMemo {
    commit: String,
    tree: gix::ObjectId,
    data: Vec<u8>,
}

/// What one commit removed.
#[derive(Debug, Clone, Default)]
pub struct CommitChanges {
    pub commit: String,
    pub parent: String,
    /// The commit's committer time, RFC 3339 UTC.
    pub time: String,
    pub deleted: Vec<Deleted>,
    /// Blob ids the commit added (at any path), to tell moves from deletions.
    pub added: std::collections::HashSet<String>,
    pub replaced: Vec<Replaced>,
}

impl Repo {
    /// Commits reachable from `tips` and not from `hidden`, oldest first.
    pub fn commits(
        &self,
        tips: &[String],
        hidden: &[String],
        first_parent: bool,
    ) -> Result<Vec<CommitInfo>, GitError> {
        let mut out = Vec::new();
        self.walk_commits(tips, hidden, first_parent, &mut |c| {
            out.push(c);
            true
        })?;
        out.reverse();
        Ok(out)
    }

    /// Stream the commits reachable from `tips` and not from `hidden`, newest first, to `each`
    /// (which returns false to stop).
    pub fn walk_commits(
        &self,
        tips: &[String],
        hidden: &[String],
        first_parent: bool,
        each: &mut dyn FnMut(CommitInfo) -> bool,
    ) -> Result<(), GitError> {
        let tips = tips
            .iter()
            .map(|t| self.object_id(t))
            .collect::<Result<Vec<_>, _>>()?;
        let hidden = hidden
            .iter()
            .map(|t| self.object_id(t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut walk = self
            .repo
            .rev_walk(tips)
            .sorting(gix::revision::walk::Sorting::BreadthFirst)
            .with_hidden(hidden);
        if first_parent {
            walk = walk.first_parent_only();
        }
        for info in walk.all()? {
            let info = info.map_err(|e| GitError::Gix {
                message: e.to_string(),
            })?;
            let go_on = each(CommitInfo {
                id: info.id.to_string(),
                parents: info.parent_ids.iter().map(|p| p.to_string()).collect(),
            });
            if !go_on {
                break;
            }
        }
        Ok(())
    }

    /// The deletions (and stub replacements) of `commit` against its (first) parent; `None` for
    /// a root commit, or a merge unless `first_parent`.
    pub fn changes_of(
        &self,
        commit: &CommitInfo,
        first_parent: bool,
        memo: &mut Option<TreeMemo>,
    ) -> Result<Option<CommitChanges>, GitError> {
        let parent = match commit.parents.as_slice() {
            [] => return Ok(None),
            [p] => p,
            [p, ..] if first_parent => p,
            _ => return Ok(None),
        };
        // Walking a run of history oldest first, the parent's tree is the one the previous
        // commit decoded: reuse it instead of decoding the parent and its tree again.
        let (old_id, old_data) = match memo.take() {
            Some(m) if m.commit == *parent => (m.tree, m.data),
            _ => {
                let t = self.repo.find_commit(self.object_id(parent)?)?.tree()?;
                (t.id, t.detach().data)
            }
        };
        let new_commit = self.repo.find_commit(self.object_id(&commit.id)?)?;
        let new = new_commit.tree()?;
        let old_kind = old_id.kind();
        let mut out = CommitChanges {
            commit: commit.id.clone(),
            parent: parent.clone(),
            time: String::new(),
            ..CommitChanges::default()
        };
        // gix-diff's plain tree diff: the high-level `Tree::changes()` builds a diff resource
        // cache (attributes and all) per call, which costs more than the diff itself.
        let mut recorder = gix::diff::tree::Recorder::default();
        gix::diff::tree(
            gix::objs::TreeRefIter::from_bytes(&old_data, old_kind),
            gix::objs::TreeRefIter::from_bytes(&new.data, new.id.kind()),
            &mut gix::diff::tree::State::default(),
            &self.repo.objects,
            &mut recorder,
        )
        .map_err(|e| GitError::Gix {
            message: e.to_string(),
        })?;
        let mut small_modified = Vec::new();
        for change in recorder.records {
            use gix::diff::tree::recorder::Change;
            match change {
                Change::Deletion {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => {
                    let kind = EntryKind::from_gix(entry_mode.kind());
                    if kind != EntryKind::Tree {
                        out.deleted.push(Deleted {
                            path: path.into(),
                            kind,
                            id: oid.to_string(),
                        });
                    }
                }
                Change::Addition {
                    entry_mode, oid, ..
                } => {
                    if entry_mode.is_blob_or_symlink() {
                        out.added.insert(oid.to_string());
                    }
                }
                Change::Modification {
                    previous_entry_mode,
                    previous_oid,
                    entry_mode,
                    oid,
                    path,
                } => {
                    if entry_mode.is_blob() && previous_entry_mode.is_blob_or_symlink() {
                        small_modified.push((
                            Vec::from(path),
                            EntryKind::from_gix(previous_entry_mode.kind()),
                            previous_oid,
                            oid,
                        ));
                    }
                }
            }
        }
        for (path, old_kind, old_id, new_id) in small_modified {
            let header = self.repo.find_header(new_id)?;
            if header.size() as usize > crate::stub::MAX_STUB_SIZE {
                continue;
            }
            let bytes = self.repo.find_blob(new_id)?.detach().data;
            if crate::stub::may_be_stub(path.as_bytes(), header.size(), &bytes) {
                out.replaced.push(Replaced {
                    path,
                    old_kind,
                    old_id: old_id.to_string(),
                    new_bytes: bytes,
                });
            }
        }
        if !out.deleted.is_empty() || !out.replaced.is_empty() {
            // Parsed only for the few commits that remove something.
            let seconds = new_commit.time().map(|t| t.seconds).unwrap_or(0);
            out.time = crate::clock::from_unix(seconds);
        }
        *memo = Some(TreeMemo {
            commit: commit.id.clone(),
            tree: new.id,
            data: new.detach().data,
        });
        Ok(Some(out))
    }

    /// Whether HEAD's repository is a shallow clone.
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow().unwrap_or(false)
    }
}
