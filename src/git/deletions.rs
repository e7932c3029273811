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
    /// Files the commit adds (paths HEAD does not have): where a deletion may have moved.
    pub added: Vec<(Vec<u8>, gix::ObjectId, EntryKind)>,
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
        let mut changes = Changes::default();
        let mut prefix = Vec::new();
        self.walk(tree_id, &mut prefix, index.tree(), &index, &mut changes)?;
        let Changes { mut deleted, added } = changes;
        deleted.sort_by(|a, b| a.path.cmp(&b.path));
        // Additions matter only as places a deletion moved to: spelled out only then (most
        // commits delete nothing, and this runs on every one).
        let added = if deleted.is_empty() {
            Vec::new()
        } else {
            added
                .into_iter()
                .map(|(i, kind)| {
                    let e = &index.entries()[i];
                    (e.path(&index).to_vec(), e.id, kind)
                })
                .collect()
        };
        Ok(StagedDeletions {
            head: Some(head),
            deleted,
            added,
        })
    }

    fn walk(
        &self,
        tree_id: gix::ObjectId,
        prefix: &mut Vec<u8>,
        cache: Option<&CacheTree>,
        index: &gix::index::File,
        changes: &mut Changes,
    ) -> Result<(), GitError> {
        let out = &mut changes.deleted;
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
        let base = range.start;
        let entries = &index.entries()[range];
        let tree = self.repo.find_tree(tree_id)?;
        // Names borrowed from the tree's own bytes: no allocation per entry.
        let mut names: HashSet<&[u8]> = HashSet::new();
        let mut subdirs: Vec<(gix::ObjectId, &[u8])> = Vec::new();
        for entry in tree.iter() {
            let entry = entry.map_err(|e| GitError::gix("reading a tree", e))?;
            let name: &[u8] = entry.inner.filename;
            names.insert(name);
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(name);
            let kind = EntryKind::from_gix(entry.mode().kind());
            if kind == EntryKind::Tree {
                subdirs.push((entry.object_id(), name));
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
        // Files the index has under this directory whose first name below it is not in HEAD's
        // tree: additions (a whole new directory's files too). Entries are sorted by path, so
        // a name HEAD has is skipped with everything under it in one step.
        let start = if prefix.is_empty() {
            0
        } else {
            prefix.len() + 1
        };
        let mut i = 0;
        while i < entries.len() {
            let path = entries[i].path(index).as_bytes();
            let rest = &path[start.min(path.len())..];
            let end = rest.iter().position(|&b| b == b'/');
            let first = &rest[..end.unwrap_or(rest.len())];
            if names.contains(first) {
                if end.is_some() {
                    let under = &path[..start + first.len() + 1];
                    i += entries[i..]
                        .partition_point(|e| e.path(index).as_bytes().starts_with(under));
                } else {
                    i += 1;
                }
                continue;
            }
            let e = &entries[i];
            let kind = match e.mode {
                gix::index::entry::Mode::FILE => Some(EntryKind::File),
                gix::index::entry::Mode::FILE_EXECUTABLE => Some(EntryKind::Executable),
                gix::index::entry::Mode::SYMLINK => Some(EntryKind::Symlink),
                _ => None,
            };
            if let (Some(kind), gix::index::entry::Stage::Unconflicted) = (kind, e.stage()) {
                changes.added.push((base + i, kind));
            }
            i += 1;
        }
        for (id, name) in subdirs {
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(name);
            let child = cache.and_then(|c| c.children.iter().find(|t| t.name.as_slice() == name));
            self.walk(id, prefix, child, index, changes)?;
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

fn candidates<'a>(sides: &[Side<'a>], sizes: &[u64]) -> Vec<super::similarity::Candidate<'a>> {
    sides
        .iter()
        .zip(sizes)
        .map(|(side, &size)| super::similarity::Candidate {
            basename: super::similarity::basename(side.0),
            size,
        })
        .collect()
}

impl Deleted {
    /// This deletion as the source of a possible move (`None` for a malformed id).
    pub fn side(&self) -> Option<Side<'_>> {
        let id = gix::ObjectId::from_hex(self.id.as_bytes()).ok()?;
        Some((self.path.as_slice(), id, self.kind))
    }
}

/// The files a commit adds, as destinations of possible moves: every one but tombstones (a
/// tombstone stands for a deletion; it is never where a file moved).
pub fn added_sides(added: &[(Vec<u8>, gix::ObjectId, EntryKind)]) -> Vec<Side<'_>> {
    added
        .iter()
        .filter(|(path, _, _)| !crate::stub::is_tombstone_name(path))
        .map(|(path, id, kind)| (path.as_slice(), *id, *kind))
        .collect()
}

/// What the walk finds.
#[derive(Default)]
struct Changes {
    deleted: Vec<Deleted>,
    /// Index positions of the files added.
    added: Vec<(usize, EntryKind)>,
}

/// A file on one side of a possible move: path, blob, kind.
pub type Side<'a> = (&'a [u8], gix::ObjectId, EntryKind);

/// git stops looking for inexact renames when sources × destinations exceed this (its default
/// `diff.renameLimit` of 1,000, squared).
const RENAME_PAIRS_LIMIT: usize = 1000 * 1000;

impl Repo {
    /// Which `sources` (deleted files) moved to which `destinations` (added files) with edits,
    /// as `git diff -M<percent>%` pairs them (see [`super::similarity`]): content is read only
    /// for pairs whose sizes allow the score, a file never pairs with a symlink, and above
    /// git's rename limit nothing is paired. Returns source path → destination path. The
    /// sources it reads are kept in `read`, if given.
    pub fn moves(
        &self,
        sources: &[Side<'_>],
        destinations: &[Side<'_>],
        percent: u8,
        mut read: Option<&mut super::ReadBlobs>,
    ) -> Result<std::collections::HashMap<Vec<u8>, Vec<u8>>, GitError> {
        use super::similarity::{self, Spans};
        let mut out = std::collections::HashMap::new();
        if sources.is_empty() || destinations.is_empty() || percent >= 100 {
            return Ok(out);
        }
        let size =
            |id: gix::ObjectId| -> Result<u64, GitError> { Ok(self.repo.find_header(id)?.size()) };
        let src_sizes = sources
            .iter()
            .map(|s| size(s.1))
            .collect::<Result<Vec<_>, _>>()?;
        let dst_sizes = destinations
            .iter()
            .map(|d| size(d.1))
            .collect::<Result<Vec<_>, _>>()?;
        let mut failed: Option<GitError> = None;
        let min = similarity::min_score(percent);
        let (src_c, dst_c) = (
            candidates(sources, &src_sizes),
            candidates(destinations, &dst_sizes),
        );
        let mut scores =
            similarity::ContentScores::new(sources.len(), destinations.len(), |side, i| {
                let (_, id, kind) = match side {
                    similarity::Side::Source => sources[i],
                    similarity::Side::Destination => destinations[i],
                };
                // Only regular files are scored (git's estimate_similarity).
                if kind == EntryKind::Symlink {
                    return None;
                }
                match self.repo.find_blob(id) {
                    Ok(blob) => {
                        let spans = Spans::of(&blob.data);
                        if let (similarity::Side::Source, Some(read)) = (side, read.as_deref_mut())
                        {
                            read.keep(id, blob.detach().data);
                        }
                        Some(spans)
                    }
                    Err(e) => {
                        failed.get_or_insert(e.into());
                        None
                    }
                }
            });
        let pairs = similarity::pair(&src_c, &dst_c, min, RENAME_PAIRS_LIMIT, &mut scores);
        drop(scores); // it borrows `failed`
        if let Some(e) = failed {
            return Err(e);
        }
        for (s, d) in pairs {
            out.insert(sources[s].0.to_vec(), destinations[d].0.to_vec());
        }
        Ok(out)
    }
}
