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
    id: gix::ObjectId,
    parents: Vec<gix::ObjectId>,
    /// The commit's tree, when the walk already decoded the commit (so it is not decoded again).
    tree: Option<gix::ObjectId>,
}

impl CommitInfo {
    /// The commit id, in hex.
    pub fn id(&self) -> String {
        self.id.to_string()
    }
}

/// A file whose content a commit replaced by something small enough to be a stub.
#[derive(Debug, Clone)]
pub struct Replaced {
    pub path: Vec<u8>,
    pub old_kind: EntryKind,
    pub old_id: String,
    pub new_bytes: Vec<u8>,
}

/// What a run of [`Repo::changes_of`] calls keeps between commits: the last commit's tree id
/// and a size-capped cache of decoded trees.
///
/// Diffing a commit against its parent needs the parent's root tree and, for every directory
/// that changed, the parent's version of that directory. Those are the trees the diff of the
/// neighbouring commit decoded (the last time the directory changed), so with the cache every
/// tree on the side already seen is a hit and each commit decodes only the trees it changed.
/// gix's pack cache keeps only the last object of a delta chain, so without it a directory
/// tree is mostly a long delta chain resolved again.
///
/// Commits can be diffed oldest first ([`Repo::changes_of`] with [`TreeMemo::default`]) or
/// newest first. Which is faster depends on the pack: decoding an object walks its delta chain
/// back to the first link already decoded, so the order should follow the chains. Packs made
/// by `git gc --aggressive` or `git repack -f` store recent versions whole and older ones as
/// deltas on newer ones (newest first is right); `git fast-import` and packs that reuse its
/// deltas chain the other way. [`Repo::changes_of_run`] measures the links walked and picks.
#[derive(Default)]
pub struct TreeMemo {
    last: Option<(gix::ObjectId, gix::ObjectId)>,
    /// Root trees of the commits about to be diffed, by commit id.
    known: gix::hashtable::HashMap<gix::ObjectId, gix::ObjectId>,
    newest_first: bool,
    order: OrderProbe,
    trees: std::cell::RefCell<TreeCache>,
    state: gix::diff::tree::State,
}

/// Chooses the order of each run from the delta-chain links walked per commit in each order.
///
/// The first run tries both: [`OrderProbe::CHUNK`] commits newest first to warm the caches,
/// the next chunk oldest first and the one after newest first, each measured, and the rest of
/// the run in the cheaper order. Later runs go in the chosen order, except that a recheck run
/// diffs its first chunk the other way: after 2 runs, then 4, 8, … while the choice holds
/// (back to 2 when it flips). A wrong choice costs a few chunks, and a repository whose packs
/// chain both ways is still followed.
#[derive(Debug)]
struct OrderProbe {
    runs: u64,
    /// Links per commit last measured in each order: `[oldest first, newest first]`.
    cost: [Option<f64>; 2],
    choice: bool,
    /// The run that tries the other order next, and the gap after it.
    recheck: u64,
    gap: u64,
}

impl Default for OrderProbe {
    fn default() -> Self {
        OrderProbe {
            runs: 0,
            cost: [None, None],
            choice: true,
            recheck: Self::FIRST_GAP,
            gap: Self::FIRST_GAP,
        }
    }
}

impl OrderProbe {
    /// Commits a probe diffs in one order.
    const CHUNK: usize = 32;
    const FIRST_GAP: u64 = 2;

    fn record(&mut self, newest_first: bool, links: u64, commits: usize) {
        if commits > 0 {
            self.cost[usize::from(newest_first)] = Some(links as f64 / commits as f64);
        }
        if let [Some(old), Some(new)] = self.cost {
            self.choice = new <= old;
        }
    }
}

impl TreeMemo {
    /// Learn the root trees the walk already decoded for `commits`, so a commit's parent tree
    /// is not looked up again when the parent is among them. Replaces what it knew before.
    fn expect(&mut self, commits: &[CommitInfo]) {
        self.known.clear();
        for c in commits {
            if let Some(tree) = c.tree {
                self.known.insert(c.id, tree);
            }
        }
    }
}

impl std::fmt::Debug for TreeMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeMemo")
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

/// Decoded trees by id, least recently used dropped first once over [`TreeCache::CAP`] bytes.
#[derive(Default)]
struct TreeCache {
    // Keyed by object id with gix's hasher (ids are hashes already: SipHash over them was 1%
    // of a scan).
    trees: gix::hashtable::HashMap<gix::ObjectId, (u64, Vec<u8>)>,
    bytes: usize,
    tick: u64,
}

impl TreeCache {
    /// Bytes of tree data kept (per worker): several full trees of a large repository.
    const CAP: usize = 48 * 1024 * 1024;

    fn get(&mut self, id: &gix::oid) -> Option<&[u8]> {
        self.tick += 1;
        let tick = self.tick;
        self.trees.get_mut(id).map(|(used, data)| {
            *used = tick;
            data.as_slice()
        })
    }

    fn remove(&mut self, id: &gix::oid) {
        if let Some((_, data)) = self.trees.remove(id) {
            self.bytes -= data.len();
        }
    }

    fn put(&mut self, id: gix::ObjectId, data: &[u8]) {
        self.tick += 1;
        self.bytes += data.len();
        if let Some((_, old)) = self.trees.insert(id, (self.tick, data.to_vec())) {
            self.bytes -= old.len();
        }
        if self.bytes > Self::CAP {
            // Drop the older half: amortised constant time per insertion.
            let mut ticks: Vec<u64> = self.trees.values().map(|(t, _)| *t).collect();
            let mid = ticks.len() / 2;
            let (_, cut, _) = ticks.select_nth_unstable(mid);
            let cut = *cut;
            self.trees.retain(|_, (t, _)| *t > cut);
            self.bytes = self.trees.values().map(|(_, d)| d.len()).sum();
        }
    }
}

/// The object database seen through a [`TreeCache`]: trees come from the cache when they can,
/// and trees read from the database are added to it.
struct CachedTrees<'a> {
    objects: &'a gix::OdbHandle,
    trees: &'a std::cell::RefCell<TreeCache>,
}

impl gix::objs::Find for CachedTrees<'_> {
    fn try_find<'b>(
        &self,
        id: &gix::oid,
        buffer: &'b mut Vec<u8>,
    ) -> gix::Result<Option<gix::objs::Data<'b>>> {
        let mut trees = self.trees.borrow_mut();
        if let Some(data) = trees.get(id) {
            buffer.clear();
            buffer.extend_from_slice(data);
            return Ok(Some(gix::objs::Data::new(
                buffer,
                gix::objs::Kind::Tree,
                id.kind(),
            )));
        }
        let found = self.objects.try_find(id, buffer)?;
        if let Some(data) = &found {
            if data.kind == gix::objs::Kind::Tree {
                trees.put(id.to_owned(), data.data);
            }
        }
        Ok(found)
    }
}

impl CachedTrees<'_> {
    /// The tree `id`, decoded.
    fn tree(&self, id: &gix::oid) -> Result<Vec<u8>, GitError> {
        use gix::objs::Find;
        let mut buf = Vec::new();
        match self.try_find(id, &mut buf)? {
            Some(data) if data.kind == gix::objs::Kind::Tree => Ok(buf),
            _ => Err(GitError::MissingObject {
                id: id.to_string(),
                message: "not a tree".into(),
            }),
        }
    }
}

/// What one commit removed.
#[derive(Debug, Clone, Default)]
pub struct CommitChanges {
    /// The commit, its (first) parent and its committer time (RFC 3339 UTC): set when the commit
    /// deleted or replaced something, empty otherwise (most commits; spelling ids out costs).
    pub commit: String,
    pub parent: String,
    pub time: String,
    pub deleted: Vec<Deleted>,
    /// Blob ids the commit added (at any path), to tell moves from deletions.
    added: gix::hashtable::HashSet<gix::ObjectId>,
    /// The files the commit added (path, blob, kind), kept when it also deleted something:
    /// the destinations a deletion may have moved to with edits.
    pub added_files: Vec<(Vec<u8>, gix::ObjectId, EntryKind)>,
    pub replaced: Vec<Replaced>,
    /// Sidecar and directory tombstones the commit added (path, bytes), when it deleted
    /// something.
    pub tombstones: Vec<(Vec<u8>, Vec<u8>)>,
}

impl CommitChanges {
    /// Whether the commit added blob `id` (hex) at some path.
    pub fn added(&self, id: &str) -> bool {
        gix::ObjectId::from_hex(id.as_bytes()).is_ok_and(|id| self.added.contains(&id))
    }

    /// Whether the commit added any file (a deletion may then be a rename with edits).
    pub fn added_any(&self) -> bool {
        !self.added.is_empty()
    }
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
        if hidden.is_empty() {
            return self.walk_all(tips, first_parent, each);
        }
        let mut walk = self
            .repo
            .rev_walk(tips)
            .sorting(gix::revision::walk::Sorting::BreadthFirst)
            .with_hidden(hidden);
        if first_parent {
            walk = walk.first_parent_only();
        }
        let shallow = self.shallow_boundary();
        for info in walk.all()? {
            let info = info.map_err(|e| GitError::gix("walking the history", e))?;
            let parents = if shallow.contains(&info.id) {
                Vec::new()
            } else {
                info.parent_ids.iter().copied().collect()
            };
            let go_on = each(CommitInfo {
                id: info.id,
                parents,
                tree: None,
            });
            if !go_on {
                break;
            }
        }
        Ok(())
    }

    /// Every commit reachable from `tips`, in the order of gix's breadth-first walk, with its
    /// tree taken from the same decoding as its parents.
    fn walk_all(
        &self,
        tips: Vec<gix::ObjectId>,
        first_parent: bool,
        each: &mut dyn FnMut(CommitInfo) -> bool,
    ) -> Result<(), GitError> {
        use gix::objs::commit::ref_iter::Token;
        let mut seen = gix::hashtable::HashSet::default();
        let mut next = std::collections::VecDeque::new();
        for tip in tips {
            if seen.insert(tip) {
                next.push_back(tip);
            }
        }
        let mut buf = Vec::new();
        use gix::objs::FindExt;
        let hex_len = self.repo.object_hash().len_in_hex();
        let shallow = self.shallow_boundary();
        while let Some(id) = next.pop_front() {
            let missing = |e: &dyn std::fmt::Display| GitError::MissingObject {
                id: id.to_string(),
                message: e.to_string(),
            };
            let data = self
                .repo
                .objects
                .find(&id, &mut buf)
                .map_err(|e| missing(&e))?;
            if data.kind != gix::objs::Kind::Commit {
                return Err(missing(&format!("a {}, not a commit", data.kind)));
            }
            // The tree and parent lines come first: read them as they are, without decoding
            // the author line after them as the commit parser would (16% of the walk).
            let (tree, mut parents) = match tree_and_parents(data.data, hex_len) {
                Some((tree, parents)) => (Some(tree), parents),
                None => {
                    let mut tree = None;
                    let mut parents = Vec::new();
                    for token in gix::objs::CommitRefIter::from_bytes(data.data, id.kind()) {
                        match token
                            .map_err(|e| GitError::gix(format!("decoding commit {id}"), e))?
                        {
                            Token::Tree { id } => tree = Some(id),
                            Token::Parent { id } => parents.push(id),
                            _ => break,
                        }
                    }
                    (tree, parents)
                }
            };
            if first_parent {
                parents.truncate(1);
            }
            // A shallow clone's boundary commit has no parents here: like a root commit, it
            // deletes nothing, and the walk stops there.
            if shallow.contains(&id) {
                parents.clear();
            }
            for p in &parents {
                if seen.insert(*p) {
                    next.push_back(*p);
                }
            }
            let go_on = each(CommitInfo { id, parents, tree });
            if !go_on {
                break;
            }
        }
        Ok(())
    }

    /// The changes of each commit of `run` (consecutive commits as walked, newest first),
    /// passed to `each` with the commit's index in `run`, in the order the pack favours (see
    /// [`TreeMemo`]). Keep one memo across runs: it holds the trees and the orders' costs.
    pub fn changes_of_run<E: From<GitError>>(
        &self,
        run: &[CommitInfo],
        first_parent: bool,
        memo: &mut TreeMemo,
        each: &mut dyn FnMut(usize, Option<CommitChanges>) -> Result<(), E>,
    ) -> Result<(), E> {
        use std::sync::atomic::Ordering::Relaxed;
        const CHUNK: usize = OrderProbe::CHUNK;
        memo.expect(run);
        let n = run.len();
        let index = memo.order.runs;
        memo.order.runs += 1;
        // The commits of `range` in one order; `measure` records the links walked.
        let mut segment = |memo: &mut TreeMemo,
                           range: std::ops::Range<usize>,
                           newest_first: bool,
                           measure: bool|
         -> Result<(), E> {
            memo.newest_first = newest_first;
            memo.last = None;
            let before = self.delta_links.load(Relaxed);
            let mut one = |i: usize| -> Result<(), E> {
                let changes = self.changes_of(&run[i], first_parent, memo)?;
                each(i, changes)
            };
            let commits = range.len();
            if newest_first {
                range.clone().try_for_each(&mut one)?;
            } else {
                range.clone().rev().try_for_each(&mut one)?;
            }
            if measure {
                let links = self.delta_links.load(Relaxed) - before;
                memo.order.record(newest_first, links, commits);
            }
            Ok(())
        };
        let mut rest = 0;
        if index == 0 {
            segment(memo, 0..CHUNK.min(n), true, false)?;
            segment(memo, CHUNK.min(n)..(2 * CHUNK).min(n), false, true)?;
            segment(memo, (2 * CHUNK).min(n)..(3 * CHUNK).min(n), true, true)?;
            rest = (3 * CHUNK).min(n);
        } else if index == memo.order.recheck {
            let held = memo.order.choice;
            segment(memo, 0..CHUNK.min(n), !held, true)?;
            let probe = &mut memo.order;
            probe.gap = if probe.choice == held {
                probe.gap.saturating_mul(2)
            } else {
                OrderProbe::FIRST_GAP
            };
            probe.recheck = index + probe.gap;
            rest = CHUNK.min(n);
        }
        let choice = memo.order.choice;
        segment(memo, rest..n, choice, true)?;
        memo.newest_first = false;
        Ok(())
    }

    /// The deletions (and stub replacements) of `commit` against its (first) parent; `None` for
    /// a root commit, or a merge unless `first_parent`.
    pub fn changes_of(
        &self,
        commit: &CommitInfo,
        first_parent: bool,
        memo: &mut TreeMemo,
    ) -> Result<Option<CommitChanges>, GitError> {
        let parent = match commit.parents.as_slice() {
            [] => return Ok(None),
            [p] => *p,
            [p, ..] if first_parent => *p,
            _ => return Ok(None),
        };
        // Walking a run of history oldest first, the parent is the commit diffed last.
        let old_tree = match memo.last.take() {
            Some((c, tree)) if c == parent => tree,
            _ => match memo.known.get(&parent) {
                Some(tree) => *tree,
                None => self.tree_of(parent)?,
            },
        };
        let new_tree = match commit.tree {
            Some(tree) => tree,
            None => self.tree_of(commit.id)?,
        };
        let records = self.diff_trees(old_tree, new_tree, memo)?;
        let mut out = CommitChanges::default();
        let sorted = sort_changes(records, memo.newest_first, &mut out);
        // Trees of the side already behind the walk (the parent's that the commit replaced or
        // removed, walking oldest first; the commit's own that differ from the parent's,
        // walking newest first): along a line of history nothing needs them again, so the
        // cache keeps (about) the trees of the next commit to diff.
        {
            let mut trees = memo.trees.borrow_mut();
            if old_tree != new_tree {
                trees.remove(if memo.newest_first {
                    &new_tree
                } else {
                    &old_tree
                });
            }
            for id in &sorted.dead {
                trees.remove(id);
            }
        }
        self.read_stub_replacements(sorted.small_modified, &mut out)?;
        if out.deleted.is_empty() {
            out.added_files = Vec::new();
        } else {
            // Sidecar and directory tombstones the commit added: they stand for files it
            // deleted.
            self.read_added_tombstones(sorted.added_tombstones, &mut out)?;
        }
        if !out.deleted.is_empty() || !out.replaced.is_empty() {
            // Decoded (again) only for the few commits that remove something.
            out.commit = commit.id.to_string();
            out.parent = parent.to_string();
            let new_commit = self.repo.find_commit(commit.id)?;
            let seconds = new_commit.time().map(|t| t.seconds).unwrap_or(0);
            out.time = crate::clock::from_unix(seconds);
        }
        memo.last = Some((commit.id, new_tree));
        Ok(Some(out))
    }

    /// The changes between two root trees, their trees read through the walk's cache.
    fn diff_trees(
        &self,
        old_tree: gix::ObjectId,
        new_tree: gix::ObjectId,
        memo: &mut TreeMemo,
    ) -> Result<Vec<gix::diff::tree::recorder::Change>, GitError> {
        let objects = CachedTrees {
            objects: &self.repo.objects,
            trees: &memo.trees,
        };
        let old_data = objects.tree(&old_tree)?;
        let new_data = objects.tree(&new_tree)?;
        // gix-diff's plain tree diff: the high-level `Tree::changes()` builds a diff resource
        // cache (attributes and all) per call, which costs more than the diff itself.
        let mut recorder = gix::diff::tree::Recorder::default();
        // Most of the root entries are the same on both sides: diff only the entries between
        // the longest common run at the start and at the end (parsing an entry costs more than
        // comparing its bytes).
        let (old_part, new_part) =
            trim_common_entries(&old_data, &new_data, old_tree.kind().len_in_bytes());
        gix::diff::tree(
            gix::objs::TreeRefIter::from_bytes(old_part, old_tree.kind()),
            gix::objs::TreeRefIter::from_bytes(new_part, new_tree.kind()),
            &mut memo.state,
            &objects,
            &mut recorder,
        )
        .map_err(|e| GitError::gix("comparing trees", e))?;
        Ok(recorder.records)
    }

    /// Of the modified blobs, those that became a stub (read only when small enough to be
    /// one): the in-place stubs that replaced a file.
    fn read_stub_replacements(
        &self,
        small_modified: Vec<(Vec<u8>, EntryKind, gix::ObjectId, gix::ObjectId)>,
        out: &mut CommitChanges,
    ) -> Result<(), GitError> {
        for (path, old_kind, old_id, new_id) in small_modified {
            let size = self.repo.find_header(new_id)?.size();
            if size > crate::stub::max_size(&path) as u64 {
                continue;
            }
            let bytes = self.repo.find_blob(new_id)?.detach().data;
            if crate::stub::may_be_stub(path.as_bytes(), size, &bytes) {
                out.replaced.push(Replaced {
                    path,
                    old_kind,
                    old_id: old_id.to_string(),
                    new_bytes: bytes,
                });
            }
        }
        Ok(())
    }

    /// The added files named like tombstones that may be one (read only when small enough).
    fn read_added_tombstones(
        &self,
        added: Vec<(Vec<u8>, gix::ObjectId)>,
        out: &mut CommitChanges,
    ) -> Result<(), GitError> {
        for (path, id) in added {
            let size = self.repo.find_header(id)?.size();
            if size > crate::stub::max_size(&path) as u64 {
                continue;
            }
            let bytes = self.repo.find_blob(id)?.detach().data;
            if crate::stub::may_be_stub(&path, size, &bytes) {
                out.tombstones.push((path, bytes));
            }
        }
        Ok(())
    }

    /// The tree id of `commit`.
    fn tree_of(&self, commit: gix::ObjectId) -> Result<gix::ObjectId, GitError> {
        Ok(self.repo.find_commit(commit)?.tree_id()?.detach())
    }

    /// The commits at a shallow clone's boundary (their parents are not in this clone).
    fn shallow_boundary(&self) -> std::collections::HashSet<gix::ObjectId> {
        self.repo
            .shallow_commits()
            .ok()
            .flatten()
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Whether HEAD's repository is a shallow clone.
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow().unwrap_or(false)
    }
}

/// The tree and parents named by the first lines of the raw commit `data` (`tree <hex>`, then
/// `parent <hex>` lines), with ids of `hex_len` digits; `None` if it does not start that way.
fn tree_and_parents(data: &[u8], hex_len: usize) -> Option<(gix::ObjectId, Vec<gix::ObjectId>)> {
    let id_line = |rest: &[u8]| -> Option<(gix::ObjectId, usize)> {
        let id = gix::ObjectId::from_hex(rest.get(..hex_len)?).ok()?;
        (rest.get(hex_len) == Some(&b'\n')).then_some((id, hex_len + 1))
    };
    let rest = data.strip_prefix(b"tree ")?;
    let (tree, used) = id_line(rest)?;
    let mut rest = &rest[used..];
    let mut parents = Vec::new();
    while let Some(line) = rest.strip_prefix(b"parent ") {
        let (parent, used) = id_line(line)?;
        parents.push(parent);
        rest = &line[used..];
    }
    Some((tree, parents))
}

/// Where each entry of the raw tree `data` starts, and where the last ends; `None` if `data`
/// is not a sequence of `mode SP name NUL id` entries (then nothing is trimmed).
fn entry_starts(data: &[u8], hash_len: usize) -> Option<Vec<usize>> {
    let mut starts = Vec::with_capacity(data.len() / 32 + 1);
    let mut at = 0;
    while at < data.len() {
        starts.push(at);
        let nul = at + data[at..].find_byte(0)?;
        at = nul + 1 + hash_len;
        if at > data.len() {
            return None;
        }
    }
    starts.push(at);
    Some(starts)
}

/// A tree diff's records, sorted: deletions and additions into `out`, and what must be read
/// or dropped next.
struct Sorted {
    /// Blobs modified in place (path, old kind, old id, new id): a stub may have replaced one.
    small_modified: Vec<(Vec<u8>, EntryKind, gix::ObjectId, gix::ObjectId)>,
    /// Added blobs named like tombstones.
    added_tombstones: Vec<(Vec<u8>, gix::ObjectId)>,
    /// Subtrees behind the walk (see [`Repo::changes_of`]).
    dead: Vec<gix::ObjectId>,
}

fn sort_changes(
    records: Vec<gix::diff::tree::recorder::Change>,
    newest_first: bool,
    out: &mut CommitChanges,
) -> Sorted {
    use gix::diff::tree::recorder::Change;
    let mut sorted = Sorted {
        small_modified: Vec::new(),
        added_tombstones: Vec::new(),
        dead: Vec::new(),
    };
    for change in records {
        match change {
            Change::Deletion {
                entry_mode,
                oid,
                path,
                ..
            } => {
                let kind = EntryKind::from_gix(entry_mode.kind());
                if kind == EntryKind::Tree {
                    if !newest_first {
                        sorted.dead.push(oid);
                    }
                } else {
                    out.deleted.push(Deleted {
                        path: path.into(),
                        kind,
                        id: oid.to_string(),
                    });
                }
            }
            Change::Addition {
                entry_mode,
                oid,
                path,
                ..
            } => {
                if newest_first && entry_mode.is_tree() {
                    sorted.dead.push(oid);
                }
                if entry_mode.is_blob() && crate::stub::is_tombstone_name(path.as_slice()) {
                    sorted.added_tombstones.push((Vec::from(path), oid));
                } else if entry_mode.is_blob_or_symlink() {
                    out.added.insert(oid);
                    out.added_files.push((
                        path.into(),
                        oid,
                        EntryKind::from_gix(entry_mode.kind()),
                    ));
                }
            }
            Change::Modification {
                previous_entry_mode,
                previous_oid,
                entry_mode,
                oid,
                path,
            } => {
                let behind = if newest_first {
                    (entry_mode, oid)
                } else {
                    (previous_entry_mode, previous_oid)
                };
                if behind.0.is_tree() && previous_oid != oid {
                    sorted.dead.push(behind.1);
                }
                if entry_mode.is_blob() && previous_entry_mode.is_blob_or_symlink() {
                    sorted.small_modified.push((
                        Vec::from(path),
                        EntryKind::from_gix(previous_entry_mode.kind()),
                        previous_oid,
                        oid,
                    ));
                }
            }
        }
    }
    sorted
}

/// `old` and `new` (raw trees) without the entries both start with and both end with: git's
/// tree diff of what remains is the diff of the whole, as the entries are sorted the same way
/// on both sides and equal entries change nothing.
fn trim_common_entries<'a>(old: &'a [u8], new: &'a [u8], hash_len: usize) -> (&'a [u8], &'a [u8]) {
    let (Some(a), Some(b)) = (entry_starts(old, hash_len), entry_starts(new, hash_len)) else {
        return (old, new);
    };
    let (na, nb) = (a.len() - 1, b.len() - 1);
    let entry = |data: &'a [u8], starts: &[usize], i: usize| &data[starts[i]..starts[i + 1]];
    let mut head = 0;
    while head < na && head < nb && entry(old, &a, head) == entry(new, &b, head) {
        head += 1;
    }
    let mut tail = 0;
    while tail < na - head
        && tail < nb - head
        && entry(old, &a, na - 1 - tail) == entry(new, &b, nb - 1 - tail)
    {
        tail += 1;
    }
    (&old[a[head]..a[na - tail]], &new[b[head]..b[nb - tail]])
}

#[cfg(test)]
mod tests {
    use super::{tree_and_parents, trim_common_entries};

    #[test]
    fn reads_tree_and_parents_from_the_first_lines_of_a_commit() {
        let t = "1".repeat(40);
        let p1 = "2".repeat(40);
        let p2 = "3".repeat(40);
        let id = |h: &str| gix::ObjectId::from_hex(h.as_bytes()).expect("hex");
        let merge = format!("tree {t}\nparent {p1}\nparent {p2}\nauthor A <a@x> 1 +0000\n");
        assert_eq!(
            tree_and_parents(merge.as_bytes(), 40),
            Some((id(&t), vec![id(&p1), id(&p2)]))
        );
        let root = format!("tree {t}\nauthor A <a@x> 1 +0000\n");
        assert_eq!(
            tree_and_parents(root.as_bytes(), 40),
            Some((id(&t), vec![]))
        );
        // Anything else is left to gix's parser.
        for bad in [
            format!("tree {}\n", &t[..39]),
            format!("tree {t} \n"),
            format!("parent {p1}\ntree {t}\n"),
            format!("tree {t}\nparent {}zz\n", &p1[..38]),
            String::new(),
        ] {
            assert_eq!(tree_and_parents(bad.as_bytes(), 40), None, "{bad:?}");
        }
    }

    fn tree(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (mode, name, id) in entries {
            out.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            out.extend_from_slice(&[*id; 20]);
        }
        out
    }

    #[test]
    fn trims_the_entries_both_sides_share_at_either_end() {
        let a = tree(&[
            ("100644", "a", 1),
            ("40000", "b", 2),
            ("100644", "c", 3),
            ("100644", "d", 4),
        ]);
        let b = tree(&[
            ("100644", "a", 1),
            ("40000", "b", 9),
            ("100644", "bb", 7),
            ("100644", "d", 4),
        ]);
        let (x, y) = trim_common_entries(&a, &b, 20);
        assert_eq!(x, tree(&[("40000", "b", 2), ("100644", "c", 3)]).as_slice());
        assert_eq!(
            y,
            tree(&[("40000", "b", 9), ("100644", "bb", 7)]).as_slice()
        );
        // Identical trees leave nothing to diff; one empty side leaves the other whole.
        let (x, y) = trim_common_entries(&a, &a, 20);
        assert!(x.is_empty() && y.is_empty());
        let (x, y) = trim_common_entries(&a, &[], 20);
        assert_eq!((x, y), (a.as_slice(), &[][..]));
        // An entry present only on one side, at the end or the start.
        let c = tree(&[("100644", "a", 1), ("40000", "b", 2), ("100644", "c", 3)]);
        assert_eq!(
            trim_common_entries(&a, &c, 20),
            (&tree(&[("100644", "d", 4)])[..], &[][..])
        );
        let d = tree(&[("40000", "b", 2), ("100644", "c", 3), ("100644", "d", 4)]);
        assert_eq!(
            trim_common_entries(&a, &d, 20),
            (&tree(&[("100644", "a", 1)])[..], &[][..])
        );
        // Same name and id but another mode (a file that became executable) is a change.
        let e = tree(&[
            ("100644", "a", 1),
            ("40000", "b", 2),
            ("100755", "c", 3),
            ("100644", "d", 4),
        ]);
        let (x, y) = trim_common_entries(&a, &e, 20);
        assert_eq!(x, tree(&[("100644", "c", 3)]).as_slice());
        assert_eq!(y, tree(&[("100755", "c", 3)]).as_slice());
        // Bytes that are not a tree are left alone (gix reports them).
        let bad = b"100644 no-terminator".to_vec();
        assert_eq!(
            trim_common_entries(&bad, &a, 20),
            (bad.as_slice(), a.as_slice())
        );
    }
}
