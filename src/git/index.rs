//! Reading the index being committed, and staging changes to it.
//!
//! Staging rewrites the index in-process from the copy already read (a 100,000-entry index is
//! about 8 MB; reading and writing it again in a `git update-index` child costs more than the
//! whole of `git diff --cached`). Only what git needs is touched: the changed entries (with
//! zeroed stat data, so git compares their content instead of trusting the work tree's
//! timestamps) and the cache-tree nodes along their paths, which are invalidated. Optional
//! caches gix does not write (untracked cache, fsmonitor) are dropped, as git allows; a split
//! index, or a change that would put a file where the index has a directory (or the reverse),
//! is handed to `git update-index`, which keeps the split index and reports the conflict.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{GitError, Repo};

/// One entry of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// git's octal mode text (`100644`, `100755`, `120000`, `160000`).
    pub mode: String,
    pub id: String,
}

/// A change to stage.
#[derive(Debug, Clone)]
pub enum Staged {
    /// Put `bytes` at `path` with git mode `mode` (`100644`, `100755` or `120000`).
    File {
        path: Vec<u8>,
        bytes: Vec<u8>,
        mode: &'static str,
        /// Staged with `SKIP_WORKTREE`: the path lies outside a sparse checkout, so the entry
        /// exists only in the index (as git keeps the files it does not check out).
        skip_worktree: bool,
    },
    /// Stage the deletion of `path`.
    Remove { path: Vec<u8> },
}

impl Staged {
    /// The path the change is at.
    pub fn path(&self) -> &[u8] {
        match self {
            Staged::File { path, .. } | Staged::Remove { path } => path,
        }
    }
}

/// An index ready to replace the one being committed.
#[derive(Debug)]
pub enum PreparedIndex {
    /// Nothing to change.
    Nothing,
    /// The serialised index and where it goes.
    InProcess {
        path: std::path::PathBuf,
        bytes: Vec<u8>,
    },
    /// Changes `git update-index` must apply (split index, directory/file conflicts).
    WithGit(Vec<Staged>),
}

impl PreparedIndex {
    /// Replace the index the way git does: write `<index>.lock` (created exclusively, so a
    /// concurrent git fails rather than races), then rename it over the index.
    pub fn write(self, repo: &Repo) -> Result<(), GitError> {
        let (path, bytes) = match self {
            PreparedIndex::Nothing => return Ok(()),
            PreparedIndex::WithGit(changes) => return repo.stage_with_git(&changes),
            PreparedIndex::InProcess { path, bytes } => (path, bytes),
        };
        let failed = |source: std::io::Error| {
            GitError::gix(format!("writing the index {}", path.display()), source)
        };
        let mut lock_name = path.as_os_str().to_os_string();
        lock_name.push(".lock");
        let lock = std::path::PathBuf::from(lock_name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
            .map_err(|e| {
                let why = format!(
                    "cannot create {}: {e} (is another git process running?)",
                    lock.display()
                );
                failed(std::io::Error::new(e.kind(), why))
            })?;
        let written = f
            .write_all(&bytes)
            .and_then(|_| std::fs::rename(&lock, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&lock);
            return Err(failed(e));
        }
        Ok(())
    }
}

/// What staging does to an entry of the index, by its position.
enum Mark<'a> {
    Remove,
    Update(NewEntry<'a>),
}

/// An entry to add, or the new content of one to update.
struct NewEntry<'a> {
    path: &'a [u8],
    id: gix::ObjectId,
    mode: gix::index::entry::Mode,
    skip_worktree: bool,
}

/// The on-disk flag of an entry with extended flags, and the extended flag `skip-worktree`.
const FLAG_EXTENDED: u16 = 0x4000;
const EXTENDED_SKIP_WORKTREE: u16 = 0x4000;

/// The index `snapshot` becomes with the entries `marks` names (sorted by position) removed
/// or given their new content (zeroed stat data, so git compares content rather than trusting
/// the work tree's timestamps), `added` (sorted by path) merged in, and the cache-tree
/// `tree`: written in one pass into one buffer, git's index format (version 2, or 3 when an
/// entry has extended flags), with its trailing checksum. The snapshot is read, never
/// copied or re-sorted: an 8 MB index costs a pass over it, not a clone, a sort and a
/// re-encoding through many small writes.
fn serialize_staged(
    snapshot: &gix::index::File,
    marks: &[(usize, Mark<'_>)],
    added: &[NewEntry<'_>],
    tree: Option<&gix::index::extension::Tree>,
) -> std::io::Result<Vec<u8>> {
    use gix::index::entry::Flags;
    let entries = snapshot.entries();
    let mark_of = |i: usize| -> Option<&Mark<'_>> {
        marks
            .binary_search_by_key(&i, |(at, _)| *at)
            .ok()
            .map(|k| &marks[k].1)
    };
    // The flags only index version 3 can store.
    let extended_flags = Flags::INTENT_TO_ADD | Flags::SKIP_WORKTREE;
    let updated = |e: &gix::index::Entry, n: &NewEntry<'_>| {
        let mut e = e.clone();
        e.id = n.id;
        e.mode = n.mode;
        e.stat = Default::default();
        e.flags.remove(Flags::ASSUME_VALID | Flags::SKIP_WORKTREE);
        if n.skip_worktree {
            e.flags.insert(Flags::SKIP_WORKTREE | Flags::EXTENDED);
        }
        if !e.flags.intersects(extended_flags) {
            e.flags.remove(Flags::EXTENDED);
        }
        e
    };
    let removed = marks
        .iter()
        .filter(|(i, m)| matches!(m, Mark::Remove) && !entries[*i].flags.contains(Flags::REMOVE))
        .count();
    let count = entries
        .iter()
        .filter(|e| !e.flags.contains(Flags::REMOVE))
        .count()
        - removed
        + added.len();
    let extended = added.iter().any(|n| n.skip_worktree)
        || marks.iter().any(|(i, m)| match m {
            Mark::Update(n) => updated(&entries[*i], n).flags.contains(Flags::EXTENDED),
            Mark::Remove => false,
        })
        || entries.iter().enumerate().any(|(i, e)| {
            e.flags.contains(Flags::EXTENDED)
                && !e.flags.contains(Flags::REMOVE)
                && mark_of(i).is_none()
        });
    // The whole file in one allocation: an entry is 62 bytes, its path and 1 to 8 bytes of
    // padding (2 more with extended flags); the cache-tree about a name, two numbers and an
    // id per directory.
    let capacity = (count + 1) * 72
        + snapshot.path_backing().len()
        + added.iter().map(|a| a.path.len()).sum::<usize>()
        + tree.map_or(0, tree_size)
        + 4096;
    let mut buf = Vec::with_capacity(capacity);
    buf.extend_from_slice(b"DIRC");
    buf.extend_from_slice(&(if extended { 3u32 } else { 2u32 }).to_be_bytes());
    buf.extend_from_slice(
        &u32::try_from(count)
            .map_err(std::io::Error::other)?
            .to_be_bytes(),
    );
    let mut next_new = added.iter().peekable();
    let mut next_mark = marks.iter().peekable();
    for (i, e) in entries.iter().enumerate() {
        if next_new.peek().is_some() {
            let path: &[u8] = e.path(snapshot).as_ref();
            while let Some(n) = next_new.next_if(|n| n.path < path) {
                write_new(&mut buf, n);
            }
        }
        if e.flags.contains(Flags::REMOVE) {
            continue;
        }
        match next_mark.next_if(|(at, _)| *at == i) {
            Some((_, Mark::Remove)) => {}
            Some((_, Mark::Update(n))) => write_existing(&mut buf, &updated(e, n), snapshot)?,
            None => write_existing(&mut buf, e, snapshot)?,
        }
    }
    for n in next_new {
        write_new(&mut buf, n);
    }
    if let Some(tree) = tree {
        tree.write_to(&mut buf)?;
    }
    if snapshot.is_sparse() {
        // The `sdir` extension: empty, it marks a sparse index.
        buf.extend_from_slice(b"sdir");
        buf.extend_from_slice(&0u32.to_be_bytes());
    }
    // The trailing hash is only a checksum of the file (git checks it on reading), not an
    // object id that anything trusts: the plain SHA-1 (with the CPU's SHA instructions) does,
    // where gix's collision-detecting one costs several times as much on an 8 MB index.
    match snapshot.object_hash() {
        gix::hash::Kind::Sha1 => {
            use sha1::Digest as _;
            let digest = sha1::Sha1::digest(&buf);
            buf.extend_from_slice(&digest);
        }
        #[allow(unreachable_patterns)]
        kind => {
            let mut hasher = gix::hash::hasher(kind);
            hasher.update(&buf);
            let digest = hasher.try_finalize().map_err(std::io::Error::other)?;
            buf.extend_from_slice(digest.as_slice());
        }
    }
    Ok(buf)
}

/// An entry of the snapshot, as gix encodes it, padded with NULs to a multiple of 8 bytes.
fn write_existing(
    buf: &mut Vec<u8>,
    e: &gix::index::Entry,
    snapshot: &gix::index::File,
) -> std::io::Result<()> {
    let start = buf.len();
    e.write_to(&mut *buf, snapshot)?;
    pad(buf, start);
    Ok(())
}

/// A new entry: no stat data (git compares its content), stage 0.
fn write_new(buf: &mut Vec<u8>, n: &NewEntry<'_>) {
    let start = buf.len();
    buf.extend_from_slice(&[0u8; 24]); // ctime, mtime, dev, ino
    buf.extend_from_slice(&n.mode.bits().to_be_bytes());
    buf.extend_from_slice(&[0u8; 12]); // uid, gid, size
    buf.extend_from_slice(n.id.as_bytes());
    let name_len = n.path.len().min(0xfff) as u16;
    if n.skip_worktree {
        buf.extend_from_slice(&(FLAG_EXTENDED | name_len).to_be_bytes());
        buf.extend_from_slice(&EXTENDED_SKIP_WORKTREE.to_be_bytes());
    } else {
        buf.extend_from_slice(&name_len.to_be_bytes());
    }
    buf.extend_from_slice(n.path);
    buf.push(0);
    pad(buf, start);
}

/// NULs after the entry that starts at `start`, up to a multiple of 8 bytes (the entry already
/// ends in the one NUL it always has).
fn pad(buf: &mut Vec<u8>, start: usize) {
    let len = buf.len() - start;
    let padded = len.div_ceil(8) * 8;
    buf.resize(start + padded, 0);
}

/// An upper bound of the serialised size of the cache-tree extension rooted at `tree`.
fn tree_size(tree: &gix::index::extension::Tree) -> usize {
    tree.name.len() + 64 + tree.children.iter().map(tree_size).sum::<usize>()
}

/// Would adding `path` put a file where the index has a directory, or under a file?
fn dir_file_conflict(index: &gix::index::File, path: &[u8]) -> bool {
    use gix::bstr::ByteSlice;
    let dir = [path, b"/"].concat();
    if index.prefixed_entries_range(dir.as_bstr()).is_some() {
        return true;
    }
    path.iter()
        .enumerate()
        .filter(|(_, &b)| b == b'/')
        .any(|(i, _)| index.entry_index_by_path(path[..i].as_bstr()).is_ok())
}

/// Mark the cache-tree nodes along `path` as invalid (git recomputes them).
fn invalidate(root: &mut gix::index::extension::Tree, path: &[u8]) {
    root.num_entries = None;
    let mut node = root;
    let mut components = path.split(|&b| b == b'/').peekable();
    while let Some(name) = components.next() {
        if components.peek().is_none() {
            break;
        }
        let Some(i) = node.children.iter().position(|c| c.name.as_slice() == name) else {
            break;
        };
        node = &mut node.children[i];
        node.num_entries = None;
    }
}

impl Repo {
    /// The entry for `path` in the index (honours `GIT_INDEX_FILE`).
    pub fn index_entry(&self, path: &[u8]) -> Result<Option<IndexEntry>, GitError> {
        let index = self.repo.index_or_empty()?;
        Ok(index.entry_by_path(path.into()).map(|e| IndexEntry {
            mode: format!("{:o}", e.mode.bits()),
            id: e.id.to_string(),
        }))
    }

    /// Whether the index has entries below directory `path` (so a file cannot be put there).
    pub fn index_has_children(&self, path: &[u8]) -> Result<bool, GitError> {
        let index = self.repo.index_or_empty()?;
        let prefix = [path, b"/"].concat();
        Ok(index
            .prefixed_entries_range(prefix.as_slice().into())
            .is_some())
    }

    /// Whether a file cannot be put at `path` in the index: it has entries below `path`, or an
    /// entry (a file, link or submodule) at a directory on the way.
    pub fn index_blocks_file(&self, path: &[u8]) -> Result<bool, GitError> {
        let index = self.repo.index_or_empty()?;
        Ok(dir_file_conflict(&index, path))
    }

    /// Apply `changes` to the index being committed.
    pub fn stage(&self, changes: &[Staged]) -> Result<(), GitError> {
        self.prepare_stage(changes)?.write(self)
    }

    /// Build the index that staging `changes` produces, without writing it yet: the work (and
    /// the blobs it writes) can run on another thread while the caller does other I/O, and the
    /// index is only replaced by [`PreparedIndex::write`].
    pub fn prepare_stage(&self, changes: &[Staged]) -> Result<PreparedIndex, GitError> {
        if changes.is_empty() {
            return Ok(PreparedIndex::Nothing);
        }
        let snapshot = self.repo.index_or_empty()?;
        if snapshot.link().is_some()
            || changes
                .iter()
                .any(|c| dir_file_conflict(&snapshot, c.path()))
        {
            return Ok(PreparedIndex::WithGit(changes.to_vec()));
        }
        // 1. Plain stage-0 entries are updated in place; 2. everything else (removals, new
        // paths, conflicted paths) loses its old entries; 3. new entries are added. Entries
        // are marked by their position (a binary search per change), so writing the index
        // never hashes or compares the paths of the entries nothing touches.
        let mut marks: Vec<(usize, Mark<'_>)> = Vec::new();
        let mut added: Vec<NewEntry<'_>> = Vec::new();
        let mut tree = snapshot.tree().cloned();
        for c in changes {
            if let Some(tree) = tree.as_mut() {
                invalidate(tree, c.path());
            }
            let bpath: &gix::bstr::BStr = c.path().into();
            let existing = snapshot.entry_range(bpath);
            let remove_all = |marks: &mut Vec<(usize, Mark<'_>)>| {
                marks.extend(
                    existing
                        .clone()
                        .into_iter()
                        .flatten()
                        .map(|i| (i, Mark::Remove)),
                );
            };
            match c {
                Staged::File {
                    path,
                    bytes,
                    mode,
                    skip_worktree,
                } => {
                    let entry = NewEntry {
                        path,
                        id: self.repo.write_blob(bytes)?.detach(),
                        mode: match *mode {
                            "100755" => gix::index::entry::Mode::FILE_EXECUTABLE,
                            "120000" => gix::index::entry::Mode::SYMLINK,
                            _ => gix::index::entry::Mode::FILE,
                        },
                        skip_worktree: *skip_worktree,
                    };
                    let only_stage0 = existing.as_ref().is_some_and(|r| {
                        r.len() == 1
                            && snapshot.entries()[r.start].stage()
                                == gix::index::entry::Stage::Unconflicted
                    });
                    match &existing {
                        Some(r) if only_stage0 => marks.push((r.start, Mark::Update(entry))),
                        None => added.push(entry),
                        Some(_) => {
                            remove_all(&mut marks);
                            added.push(entry);
                        }
                    }
                }
                Staged::Remove { .. } => remove_all(&mut marks),
            }
        }
        // One mark per entry: a removal wins, else the last change to it.
        marks.reverse();
        marks.sort_by_key(|(i, m)| (*i, !matches!(m, Mark::Remove)));
        marks.dedup_by_key(|(i, _)| *i);
        added.sort_by(|a, b| a.path.cmp(b.path));
        let bytes = serialize_staged(&snapshot, &marks, &added, tree.as_ref()).map_err(|e| {
            GitError::gix(
                format!("writing the index {}", snapshot.path().display()),
                e,
            )
        })?;
        Ok(PreparedIndex::InProcess {
            path: snapshot.path().to_path_buf(),
            bytes,
        })
    }

    /// Apply `changes` with `git update-index --index-info` (split indexes, conflicts).
    pub(crate) fn stage_with_git(&self, changes: &[Staged]) -> Result<(), GitError> {
        let zero = "0".repeat(self.repo.object_hash().len_in_hex());
        let mut input = Vec::new();
        let mut skip = Vec::new();
        for c in changes {
            match c {
                Staged::File {
                    path,
                    bytes,
                    mode,
                    skip_worktree,
                } => {
                    if *skip_worktree {
                        skip.extend_from_slice(path);
                        skip.push(0);
                    }
                    let id = self.repo.write_blob(bytes)?;
                    input.extend_from_slice(format!("{mode} {id} 0\t").as_bytes());
                    input.extend_from_slice(path);
                }
                Staged::Remove { path } => {
                    input.extend_from_slice(format!("0 {zero}\t").as_bytes());
                    input.extend_from_slice(path);
                }
            }
            input.push(0);
        }
        self.git_run(&["update-index", "-z", "--index-info"], &input)?;
        if skip.is_empty() {
            return Ok(());
        }
        self.git_run(&["update-index", "-z", "--skip-worktree", "--stdin"], &skip)
    }

    /// Run `git -C <workdir> args…` and return its stdout, failing with its stderr.
    pub(crate) fn git_output(&self, args: &[&str]) -> Result<String, GitError> {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.workdir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| GitError::Command {
                args: args.join(" "),
                stderr: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(GitError::Command {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Run `git -C <workdir> args…` with `stdin`, failing with its stderr.
    pub(crate) fn git_run(&self, args: &[&str], stdin: &[u8]) -> Result<(), GitError> {
        self.git_exec(args, stdin, None).map(drop)
    }

    /// Run `git -C <workdir> args` with `stdin`, on the index file `index` when given (else
    /// the repository's, or `GIT_INDEX_FILE`); returns its standard output.
    pub(crate) fn git_exec(
        &self,
        args: &[&str],
        stdin: &[u8],
        index: Option<&std::path::Path>,
    ) -> Result<Vec<u8>, GitError> {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.workdir).args(args);
        if let Some(index) = index {
            cmd.env("GIT_INDEX_FILE", index);
        } else if let Some(idx) = std::env::var_os("GIT_INDEX_FILE") {
            // A relative GIT_INDEX_FILE is relative to our working directory; -C would move it.
            let idx = PathBuf::from(idx);
            if idx.is_relative() {
                if let Ok(cwd) = std::env::current_dir() {
                    cmd.env("GIT_INDEX_FILE", cwd.join(idx));
                }
            }
        }
        let failed = |stderr: String| GitError::Command {
            args: args.join(" "),
            stderr,
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(e.to_string()))?;
        // Input is written on its own thread while the output is read, so neither pipe can
        // fill up and block the other (no thread when there is no input).
        let input = child.stdin.take().filter(|_| !stdin.is_empty());
        let (written, out) = std::thread::scope(|scope| {
            if input.is_none() {
                return (Ok(Ok(())), child.wait_with_output());
            }
            let writer = scope.spawn(move || match input {
                Some(mut input) => input.write_all(stdin),
                None => Ok(()),
            });
            let out = child.wait_with_output();
            (writer.join(), out)
        });
        let out = out.map_err(|e| failed(e.to_string()))?;
        if !out.status.success() {
            return Err(failed(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        // git that stopped reading its input early did not see all of it.
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(failed(format!("writing its input: {e}"))),
            Err(_) => return Err(failed("writing its input panicked".into())),
        }
        Ok(out.stdout)
    }
}
