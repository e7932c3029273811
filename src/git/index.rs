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
    fn path(&self) -> &[u8] {
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

/// Serialise `index` with its trailing hash. The entries are serialised first and hashed in
/// one pass (hashing an 8 MB index piecemeal costs more than the rest of the work).
fn serialize_index(index: &gix::index::File) -> Result<(std::path::PathBuf, Vec<u8>), GitError> {
    let context = || format!("writing the index {}", index.path().display());
    let mut buf = Vec::with_capacity(index.entries().len() * 80 + 4096);
    let options = gix::index::write::Options {
        skip_hash: true,
        ..Default::default()
    };
    index
        .write_to(&mut buf, options)
        .map_err(|e| GitError::gix(context(), e))?;
    let kind = index.object_hash();
    buf.truncate(buf.len() - kind.len_in_bytes());
    match kind {
        // The trailing hash is only a checksum of the file (git checks it on reading), not an
        // object id that anything trusts: the plain SHA-1 (with the CPU's SHA instructions)
        // does, where gix's collision-detecting one costs several times as much on an 8 MB
        // index.
        gix::hash::Kind::Sha1 => {
            use sha1::Digest as _;
            buf.extend_from_slice(&sha1::Sha1::digest(&buf));
        }
        #[allow(unreachable_patterns)]
        _ => {
            let mut hasher = gix::hash::hasher(kind);
            hasher.update(&buf);
            let digest = hasher
                .try_finalize()
                .map_err(|e| GitError::gix(context(), e))?;
            buf.extend_from_slice(digest.as_slice());
        }
    }
    Ok((index.path().to_path_buf(), buf))
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
        let mut index: gix::index::File = (**snapshot).clone();
        drop(snapshot);
        if index.link().is_some() || changes.iter().any(|c| dir_file_conflict(&index, c.path())) {
            return Ok(PreparedIndex::WithGit(changes.to_vec()));
        }
        // 1. Plain stage-0 entries are updated in place; 2. everything else (removals, new
        // paths, conflicted paths) loses its old entries in one pass; 3. new entries are added.
        let mut blobs = Vec::with_capacity(changes.len());
        let mut replace: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
        for c in changes {
            if let Some(tree) = index.tree_mut() {
                invalidate(tree, c.path());
            }
            match c {
                Staged::File {
                    path,
                    bytes,
                    mode,
                    skip_worktree,
                } => {
                    let id = self.repo.write_blob(bytes)?.detach();
                    let flags = if *skip_worktree {
                        gix::index::entry::Flags::SKIP_WORKTREE | gix::index::entry::Flags::EXTENDED
                    } else {
                        gix::index::entry::Flags::empty()
                    };
                    let mode = match *mode {
                        "100755" => gix::index::entry::Mode::FILE_EXECUTABLE,
                        "120000" => gix::index::entry::Mode::SYMLINK,
                        _ => gix::index::entry::Mode::FILE,
                    };
                    let bpath: &gix::bstr::BStr = path.as_slice().into();
                    let existing = index.entry_range(bpath).map(|r| r.len());
                    let only_stage0 = existing == Some(1);
                    match index
                        .entry_mut_by_path_and_stage(bpath, gix::index::entry::Stage::Unconflicted)
                    {
                        Some(e) if only_stage0 => {
                            e.id = id;
                            e.mode = mode;
                            e.stat = Default::default();
                            e.flags.remove(
                                gix::index::entry::Flags::ASSUME_VALID
                                    | gix::index::entry::Flags::SKIP_WORKTREE,
                            );
                            e.flags.insert(flags);
                        }
                        None if existing.is_none() => blobs.push((path, id, mode, flags)),
                        _ => {
                            replace.insert(path);
                            blobs.push((path, id, mode, flags));
                        }
                    }
                }
                Staged::Remove { path } => {
                    if index.entry_range(path.as_slice().into()).is_some() {
                        replace.insert(path);
                    }
                }
            }
        }
        if !replace.is_empty() {
            index.remove_entries(|_, p, _| {
                let p: &[u8] = p;
                replace.contains(p)
            });
        }
        let pushed = !blobs.is_empty();
        for (path, id, mode, flags) in blobs {
            index.dangerously_push_entry(
                Default::default(),
                id,
                flags,
                mode,
                path.as_slice().into(),
            );
        }
        if pushed {
            index.sort_entries();
        }
        serialize_index(&index).map(|(path, bytes)| PreparedIndex::InProcess { path, bytes })
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
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.workdir).args(args);
        // A relative GIT_INDEX_FILE is relative to our working directory; -C would move it.
        if let Some(idx) = std::env::var_os("GIT_INDEX_FILE") {
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
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(e.to_string()))?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin).map_err(|e| failed(e.to_string()))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| failed(e.to_string()))?;
        if !out.status.success() {
            return Err(failed(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        Ok(())
    }
}
