//! Staged deletions: what the commit being made removes from HEAD's tree.
//!
//! The walk compares HEAD's tree with the index git is committing (`GIT_INDEX_FILE` honoured)
//! the way `git diff --cached` does: a directory whose id matches the index's cache-tree entry
//! is skipped without reading it, so with nothing deleted only the index is read. A path of
//! HEAD with no entry in the index is a deletion; a directory with no index entry under it is
//! deleted whole.

use std::collections::HashSet;

use gix::bstr::ByteSlice;
use gix_index_ext::Tree as CacheTree;

use super::objects::EntryKind;
use super::{GitError, Repo};

mod gix_index_ext {
    pub use gix::index::extension::Tree;
}

/// One file of HEAD that the commit removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub path: Vec<u8>,
    pub kind: EntryKind,
    /// Blob id (or, for a submodule, commit id) in HEAD.
    pub id: String,
}

/// The deletions staged for the next commit, and HEAD (`None` when unborn).
#[derive(Debug, Clone, Default)]
pub struct StagedDeletions {
    pub head: Option<String>,
    pub deleted: Vec<Deleted>,
}

impl Repo {
    /// HEAD's tree vs the index being committed: the files the commit deletes, in path order.
    pub fn staged_deletions(&self) -> Result<StagedDeletions, GitError> {
        let Some(head) = self.head_commit()? else {
            return Ok(StagedDeletions::default());
        };
        let tree_id = self
            .repo
            .find_commit(self.object_id(&head)?)?
            .tree_id()?
            .detach();
        let index = self.repo.index_or_empty()?;
        let mut deleted = Vec::new();
        let mut prefix = Vec::new();
        self.walk(tree_id, &mut prefix, index.tree(), &index, &mut deleted)?;
        deleted.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(StagedDeletions {
            head: Some(head),
            deleted,
        })
    }

    fn walk(
        &self,
        tree_id: gix::ObjectId,
        prefix: &mut Vec<u8>,
        cache: Option<&CacheTree>,
        index: &gix::index::File,
        out: &mut Vec<Deleted>,
    ) -> Result<(), GitError> {
        if cache.is_some_and(|c| c.num_entries.is_some() && c.id == tree_id) {
            return Ok(());
        }
        // The index entries under this directory (all of them at the root); none means the
        // directory is deleted whole.
        let range = if prefix.is_empty() {
            0..index.entries().len()
        } else {
            let dir_prefix = [prefix.as_slice(), b"/"].concat();
            match index.prefixed_entries_range(dir_prefix.as_bstr()) {
                Some(r) => r,
                None => return self.all_files(tree_id, prefix, out),
            }
        };
        let entries = &index.entries()[range];
        let tree = self.repo.find_tree(tree_id)?;
        for entry in tree.iter() {
            let entry = entry.map_err(|e| GitError::Gix {
                message: e.to_string(),
            })?;
            let name = entry.filename();
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(name);
            let kind = EntryKind::from_gix(entry.mode().kind());
            if kind == EntryKind::Tree {
                let child = cache.and_then(|c| {
                    c.children
                        .iter()
                        .find(|t| t.name.as_slice() == name.as_bytes())
                });
                self.walk(entry.object_id(), prefix, child, index, out)?;
            } else if entries
                .binary_search_by(|e| e.path(index).as_bytes().cmp(prefix.as_slice()))
                .is_err()
            {
                out.push(Deleted {
                    path: prefix.clone(),
                    kind,
                    id: entry.object_id().to_string(),
                });
            }
            prefix.truncate(len);
        }
        Ok(())
    }

    fn all_files(
        &self,
        tree_id: gix::ObjectId,
        prefix: &[u8],
        out: &mut Vec<Deleted>,
    ) -> Result<(), GitError> {
        let tree = self.repo.find_tree(tree_id)?;
        for f in tree.traverse().breadthfirst.files()? {
            let kind = EntryKind::from_gix(f.mode.kind());
            if kind == EntryKind::Tree {
                continue;
            }
            out.push(Deleted {
                path: [prefix, b"/", f.filepath.as_bytes()].concat(),
                kind,
                id: f.oid.to_string(),
            });
        }
        Ok(())
    }

    /// Paths of the index holding one of `ids` that HEAD does not hold with that id: where a
    /// deleted blob was re-added in the same commit (a move).
    pub fn readded_elsewhere(
        &self,
        head: &str,
        ids: &HashSet<String>,
    ) -> Result<HashSet<String>, GitError> {
        let index = self.repo.index_or_empty()?;
        let wanted: HashSet<gix::ObjectId> =
            ids.iter().filter_map(|i| self.object_id(i).ok()).collect();
        let mut moved = HashSet::new();
        for e in index.entries() {
            if !wanted.contains(&e.id) {
                continue;
            }
            let id = e.id.to_string();
            if moved.contains(&id) {
                continue;
            }
            let path = e.path(&index);
            let same_in_head = self
                .entry_at(head, path.as_bytes())?
                .is_some_and(|h| h.id == id);
            if !same_in_head {
                moved.insert(id);
            }
        }
        Ok(moved)
    }
}

impl Repo {
    /// Of the `deleted` paths, those the commit renames with edits: HEAD's tree against the
    /// index being committed, with gix's rename tracking (git's algorithm) at `similarity`
    /// (0.0–1.0; git's default is 0.5). Returns source path → destination path.
    pub fn renamed_with_edits(
        &self,
        head: &str,
        deleted: &HashSet<Vec<u8>>,
        similarity: f32,
    ) -> Result<std::collections::HashMap<Vec<u8>, Vec<u8>>, GitError> {
        let mut out = std::collections::HashMap::new();
        if deleted.is_empty() {
            return Ok(out);
        }
        let tree_id = self
            .repo
            .find_commit(self.object_id(head)?)?
            .tree_id()?
            .detach();
        let index = self.repo.index_or_empty()?;
        let rewrites = renames_only(similarity);
        self.repo
            .tree_index_status(
                &tree_id,
                &index,
                None,
                gix::status::tree_index::TrackRenames::Given(rewrites),
                |change, _, _| {
                    if let gix::diff::index::ChangeRef::Rewrite {
                        source_location,
                        location,
                        copy: false,
                        ..
                    } = change
                    {
                        let from: &[u8] = source_location.as_ref();
                        if deleted.contains(from) {
                            out.insert(from.to_vec(), location.to_vec());
                        }
                    }
                    Ok(std::ops::ControlFlow::Continue(()))
                },
            )
            .map_err(|e| GitError::Gix {
                message: format!("rename tracking: {e}"),
            })?;
        Ok(out)
    }
}

impl Repo {
    /// Of the `deleted` paths, those `commit` renamed (with or without edits) relative to
    /// `parent`, by gix's rename tracking at `similarity`: source path → destination path.
    /// Scans call it only for the few commits that delete a file without a tombstone.
    pub fn renamed_in_commit(
        &self,
        parent: &str,
        commit: &str,
        deleted: &HashSet<Vec<u8>>,
        similarity: f32,
    ) -> Result<std::collections::HashMap<Vec<u8>, Vec<u8>>, GitError> {
        let mut out = std::collections::HashMap::new();
        if deleted.is_empty() {
            return Ok(out);
        }
        let old = self.repo.find_commit(self.object_id(parent)?)?.tree()?;
        let new = self.repo.find_commit(self.object_id(commit)?)?.tree()?;
        let options = gix::diff::Options::default().with_rewrites(Some(renames_only(similarity)));
        let changes = self
            .repo
            .diff_tree_to_tree(&old, &new, options)
            .map_err(|e| GitError::Gix {
                message: format!("rename tracking: {e}"),
            })?;
        for change in changes {
            if let gix::object::tree::diff::ChangeDetached::Rewrite {
                source_location,
                location,
                copy: false,
                ..
            } = change
            {
                let from: Vec<u8> = source_location.into();
                if deleted.contains(&from) {
                    out.insert(from, location.into());
                }
            }
        }
        Ok(out)
    }
}

/// git's rename detection (no copies) at `similarity` (0.0–1.0), pairing at most 1,000 files.
fn renames_only(similarity: f32) -> gix::diff::Rewrites {
    gix::diff::Rewrites {
        copies: None,
        percentage: Some(similarity),
        limit: 1000,
        track_empty: false,
    }
}
