//! The git side: the only modules that use gix (or run `git`). They speak in plain types
//! (hex ids, path bytes, [`EntryKind`]) so the rest of the code never sees gix.
//!
//! Reads go through gix. Index writes go through git's own `update-index`, so index locking,
//! extensions (split index, untracked cache, fsmonitor) and `GIT_INDEX_FILE` behave exactly as
//! git's do inside `git commit`.

mod deletions;
mod history;
mod index;
mod objects;
pub mod path;
mod plumbing;
pub mod similarity;
mod sparse;

use std::path::{Path, PathBuf};

use miette::Diagnostic;

pub use deletions::{added_sides, Deleted, Side, StagedDeletions};
pub use history::{CommitChanges, CommitInfo, Replaced, TreeMemo};
pub use index::{IndexEntry, PreparedIndex, Staged};
pub use objects::{EntryKind, ReadBlobs, TreeEntry};

/// The error a git library call failed with, kept as the source of [`GitError::Gix`].
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors from git, with what to do about them.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum GitError {
    #[error("not inside a git repository ({})", dir.display())]
    #[diagnostic(
        code(tombstone::git::not_a_repo),
        help("run this inside a git work tree")
    )]
    NotARepo { dir: PathBuf },
    #[error("this repository uses {format} object ids, which git-tombstone does not support yet")]
    #[diagnostic(
        code(tombstone::git::object_format),
        help("only SHA-1 repositories are supported for now; commit without the hooks with `GIT_TOMBSTONE_SKIP=1 git commit …`")
    )]
    UnsupportedObjectFormat { format: String },
    #[error("the repository at {} has no work tree", dir.display())]
    #[diagnostic(
        code(tombstone::git::bare),
        help("git-tombstone works in a checkout, not a bare repository")
    )]
    Bare { dir: PathBuf },
    #[error("HEAD is unborn: nothing has been committed yet")]
    #[diagnostic(
        code(tombstone::git::unborn),
        help("commit the files first; only committed content can be archived")
    )]
    Unborn,
    #[error("`{rev}` does not name a commit")]
    #[diagnostic(
        code(tombstone::git::bad_revision),
        help("pass a commit id, branch or tag")
    )]
    BadRevision { rev: String },
    #[error("git object {id} is missing or unreadable")]
    #[diagnostic(code(tombstone::git::missing_object))]
    MissingObject { id: String, message: String },
    #[error("git object {id} is corrupt: its content hashes to {found}")]
    #[diagnostic(
        code(tombstone::git::corrupt_object),
        help("the repository's object database is damaged; `git fsck` shows what else is")
    )]
    CorruptObject { id: String, found: String },
    #[error("git failed while {context}")]
    #[diagnostic(code(tombstone::git::failed))]
    Gix {
        context: String,
        #[source]
        source: Source,
    },
    #[error("`git {args}` failed: {stderr}")]
    #[diagnostic(
        code(tombstone::git::command),
        help("make sure `git` is on PATH and the index is not locked by another process")
    )]
    Command { args: String, stderr: String },
}

impl GitError {
    /// What kind of failure this is (see [`crate::error::Kind`]).
    pub fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            GitError::NotARepo { .. }
            | GitError::UnsupportedObjectFormat { .. }
            | GitError::Bare { .. }
            | GitError::Unborn
            | GitError::BadRevision { .. } => Kind::Usage,
            GitError::CorruptObject { .. } => Kind::Failure,
            GitError::MissingObject { .. } | GitError::Gix { .. } | GitError::Command { .. } => {
                Kind::Internal
            }
        }
    }
}

impl GitError {
    /// A git library failure while doing `context` (`reading the commit graph`, …).
    pub fn gix(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> GitError {
        GitError::Gix {
            context: context.into(),
            source: Box::new(source),
        }
    }
}

impl From<gix::Error> for GitError {
    fn from(e: gix::Error) -> Self {
        GitError::gix("reading the repository", e)
    }
}

/// A [`Repo`] in transit to another thread.
pub struct SendableRepo {
    repo: gix::ThreadSafeRepository,
    workdir: PathBuf,
}

impl SendableRepo {
    /// The repository, usable on this thread.
    pub fn open(self) -> Repo {
        Repo {
            repo: self.repo.to_thread_local(),
            workdir: self.workdir,
            delta_links: Default::default(),
        }
    }

    /// The repository, set up for walking much history (decoded trees are cached by the
    /// walk's own [`TreeMemo`], so there is no object cache).
    pub fn open_for_history(self) -> Repo {
        let mut repo = self.open();
        // Trees are delta-compressed along history: a hash-mapped delta base cache instead of
        // gix's default 64-entry list, which is searched linearly. Small: the walk's tree cache
        // holds the trees that are used again. Each thread has its own, so its size shows in a
        // scan's peak RSS three times over. Against 4 MiB, 1 MiB takes 2-6 MiB off the peak
        // RSS and scans ripgrep and the generated histories as fast, ripgrep replayed 10x
        // about 1% slower (paired, within the runs' spread); 64 KiB was 20% slower on the
        // fast-import history.
        let links = repo.delta_links.clone();
        repo.repo.objects.set_pack_cache(move || {
            Box::new(CountingCache {
                inner: gix::odb::pack::cache::lru::MemoryCappedHashmap::new(1024 * 1024),
                links: links.clone(),
            })
        });
        repo
    }
}

/// A pack delta cache that counts the delta-chain links walked to decode objects: each
/// lookup is one link (the walk along a chain stops at the first cached one).
struct CountingCache {
    inner: gix::odb::pack::cache::lru::MemoryCappedHashmap,
    links: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl gix::odb::pack::cache::DecodeEntry for CountingCache {
    fn put(
        &mut self,
        pack_id: u32,
        offset: u64,
        data: &[u8],
        kind: gix::object::Kind,
        compressed_size: usize,
    ) {
        self.inner.put(pack_id, offset, data, kind, compressed_size);
    }

    fn get(
        &mut self,
        pack_id: u32,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Option<(gix::object::Kind, usize)> {
        self.links
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.get(pack_id, offset, out)
    }
}

/// An open repository with a work tree.
pub struct Repo {
    repo: gix::Repository,
    workdir: PathBuf,
    /// Delta-chain links walked so far (counted only when opened for history).
    delta_links: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Repo {
    /// Find the repository containing `dir`, honouring `GIT_DIR`, `GIT_WORK_TREE` and
    /// `GIT_INDEX_FILE` the way git does inside hooks.
    pub fn discover(dir: &Path) -> Result<Repo, GitError> {
        // Read the index the way git does: without re-hashing all of it to check its trailing
        // checksum (git only does that in `fsck`). On a 100,000-file index that hash is a third
        // of the hook's time with nothing to do. Only reading changes: the index writer always
        // writes the checksum. Given as an override when opening (as `git -c` would), so the
        // configuration is resolved once.
        let overrides = |o: gix::open::Options| o.config_overrides(["index.skipHash=true"]);
        let defaults = gix::sec::trust::Mapping::<gix::open::Options>::default();
        let trust = gix::sec::trust::Mapping {
            full: overrides(defaults.full),
            reduced: overrides(defaults.reduced),
        };
        let repo: gix::Repository =
            gix::ThreadSafeRepository::discover_with_environment_overrides_opts(
                dir,
                Default::default(),
                trust,
            )
            .map_err(|_| {
                // gix is built for SHA-1 only: say so rather than "not a repository".
                let format = std::process::Command::new("git")
                    .args(["rev-parse", "--show-object-format"])
                    .current_dir(dir)
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
                match format {
                    Some(f) if f != "sha1" => GitError::UnsupportedObjectFormat { format: f },
                    _ => GitError::NotARepo {
                        dir: dir.to_path_buf(),
                    },
                }
            })?
            .into();
        let workdir = repo
            .workdir()
            .ok_or_else(|| GitError::Bare {
                dir: repo.git_dir().to_path_buf(),
            })?
            .to_path_buf();
        let workdir = std::fs::canonicalize(&workdir).unwrap_or(workdir);
        Ok(Repo {
            repo,
            workdir,
            delta_links: Default::default(),
        })
    }

    /// A handle on the same repository that can be sent to another thread.
    pub fn duplicate(&self) -> SendableRepo {
        SendableRepo {
            repo: self.repo.clone().into_sync(),
            workdir: self.workdir.clone(),
        }
    }

    /// The root of the work tree (canonical).
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The common git directory (shared by linked worktrees).
    pub fn common_dir(&self) -> &Path {
        self.repo.common_dir()
    }

    /// The commit HEAD points to, or `None` when HEAD is unborn.
    pub fn head_commit(&self) -> Result<Option<String>, GitError> {
        let mut head = self.repo.head()?;
        Ok(head.try_peel_to_id()?.map(|id| id.to_string()))
    }

    /// Resolve `rev` to a commit id.
    pub fn resolve_commit(&self, rev: &str) -> Result<String, GitError> {
        let bad = || GitError::BadRevision {
            rev: rev.to_owned(),
        };
        let id = self.repo.rev_parse_single(rev).map_err(|_| bad())?;
        let commit = id
            .object()
            .map_err(|_| bad())?
            .peel_to_commit()
            .map_err(|_| bad())?;
        Ok(commit.id.to_string())
    }

    /// `user.name <user.email>` from git config (or git's committer environment).
    ///
    /// The same lookup as gix's `committer()` (committer, then user, then git's environment),
    /// without the commit time it also computes: finding the local time zone's name walks all of
    /// `/usr/share/zoneinfo`, 10 ms on every command that records an actor.
    pub fn identity(&self) -> Option<String> {
        use gix::config::tree::{gitoxide, Committer, User};
        let config = self.repo.config_snapshot();
        let name = config
            .string(Committer::NAME)
            .or_else(|| config.string(User::NAME))
            .or_else(|| config.string(gitoxide::Committer::NAME_FALLBACK))?;
        let email = config
            .string(Committer::EMAIL)
            .or_else(|| config.string(User::EMAIL))
            .or_else(|| config.string(gitoxide::User::EMAIL_FALLBACK))
            .or_else(|| config.string(gitoxide::Committer::EMAIL_FALLBACK))?;
        Some(format!("{name} <{email}>"))
    }

    /// The directory git runs hooks from: `core.hooksPath` (a relative value is relative to
    /// the work tree root, where git runs hooks), else `<common dir>/hooks`.
    pub fn hooks_dir(&self) -> Result<PathBuf, GitError> {
        let configured = self.repo.config_snapshot().trusted_path("core.hooksPath")?;
        Ok(match configured {
            Some(p) if p.is_absolute() => p,
            Some(p) => self.workdir.join(p),
            None => self.common_dir().join("hooks"),
        })
    }

    /// A path-valued git config key (`~/` expanded), if set.
    pub fn config_path(&self, key: &str) -> Result<Option<PathBuf>, GitError> {
        Ok(self.repo.config_snapshot().trusted_path(key)?)
    }

    /// The git directory of this worktree (differs from the common dir in linked worktrees).
    pub fn git_dir(&self) -> &Path {
        self.repo.git_dir()
    }

    /// Attach `message` as the note of `commit` under `refs/notes/<notes_ref>` (replacing one).
    pub fn set_note(&self, notes_ref: &str, commit: &str, message: &str) -> Result<(), GitError> {
        let r = format!("--ref={notes_ref}");
        self.git_run(
            &["notes", &r, "add", "-f", "-F", "-", commit],
            message.as_bytes(),
        )
    }

    /// The note of `commit` under `refs/notes/<notes_ref>`, if any.
    pub fn note(&self, notes_ref: &str, commit: &str) -> Option<String> {
        let r = format!("--ref={notes_ref}");
        self.git_output(&["notes", &r, "show", commit]).ok()
    }

    /// The names of the configured remotes, sorted.
    pub fn remote_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .repo
            .remote_names()
            .into_iter()
            .map(|n| n.to_string())
            .collect();
        names.sort();
        names
    }

    /// The fetch URL of remote `name`, with `url.<base>.insteadOf` rewrites applied, if
    /// configured and valid.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        let remote = self.repo.try_find_remote(name)?.ok()?;
        let url = remote.url(gix::remote::Direction::Fetch)?;
        Some(url.to_bstring().to_string())
    }

    /// The notes under `refs/notes/<notes_ref>` of the commits reachable from `rev`, as
    /// (commit, text), newest commit first.
    pub fn notes_in_history(
        &self,
        notes_ref: &str,
        rev: &str,
    ) -> Result<Vec<(String, String)>, GitError> {
        let r = format!("--ref={notes_ref}");
        let Ok(list) = self.git_output(&["notes", &r, "list"]) else {
            return Ok(Vec::new());
        };
        let noted: std::collections::HashMap<String, String> = list
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(note, commit)| (commit.to_owned(), note.to_owned()))
            .collect();
        if noted.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let tip = self.resolve_commit(rev)?;
        for info in self.repo.rev_walk([self.object_id(&tip)?]).all()? {
            let info = info.map_err(|e| GitError::gix("walking the history for notes", e))?;
            let id = info.id.to_string();
            if let Some(note) = noted.get(&id) {
                let text = String::from_utf8_lossy(&self.blob(note)?).into_owned();
                out.push((id, text));
            }
        }
        Ok(out)
    }

    /// Every commit reachable from `tip` (its history), as hex ids.
    pub fn ancestors(&self, tip: &str) -> Result<std::collections::HashSet<String>, GitError> {
        let mut out = std::collections::HashSet::new();
        for info in self.repo.rev_walk([self.object_id(tip)?]).all()? {
            let info = info.map_err(|e| GitError::gix("walking the ancestors", e))?;
            out.insert(info.id.to_string());
        }
        Ok(out)
    }

    /// Commit `files` (regular files: path and content) on top of HEAD with `message`, and
    /// nothing else that is staged; returns the new HEAD. The commit is built from HEAD's tree
    /// in a temporary index (`read-tree`, `update-index`, `write-tree`, `commit-tree`,
    /// `update-ref`), never from the work tree: an entry outside a sparse checkout has no file
    /// there, and `git commit <paths>` would refuse it. No hook runs; `commit.gpgSign` is
    /// honoured as `git commit-tree` honours it.
    pub fn commit_files(
        &self,
        message: &str,
        files: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<String, GitError> {
        let head = self.head_commit()?.ok_or(GitError::Unborn)?;
        let failed = |e: std::io::Error| GitError::Command {
            args: "commit-tree".into(),
            stderr: e.to_string(),
        };
        let scratch = tempfile::tempdir().map_err(failed)?;
        let index = scratch.path().join("index");
        self.git_exec(&["read-tree", &head], b"", Some(&index))?;
        let mut info = Vec::new();
        for (path, bytes) in files {
            let id = self.repo.write_blob(bytes)?;
            info.extend_from_slice(format!("100644 {id}\t").as_bytes());
            info.extend_from_slice(path);
            info.push(0);
        }
        self.git_exec(&["update-index", "-z", "--index-info"], &info, Some(&index))?;
        let tree = self.git_exec(&["write-tree"], b"", Some(&index))?;
        let tree = String::from_utf8_lossy(&tree).trim().to_owned();
        let commit = self.git_exec(
            &["commit-tree", &tree, "-p", &head, "-F", "-"],
            message.as_bytes(),
            None,
        )?;
        let commit = String::from_utf8_lossy(&commit).trim().to_owned();
        let subject = message.lines().next().unwrap_or_default();
        self.git_exec(
            &[
                "update-ref",
                "-m",
                &format!("commit: {subject}"),
                "HEAD",
                &commit,
                &head,
            ],
            b"",
            None,
        )?;
        Ok(commit)
    }

    pub(crate) fn object_id(&self, hex: &str) -> Result<gix::ObjectId, GitError> {
        gix::ObjectId::from_hex(hex.as_bytes()).map_err(|_| GitError::BadRevision {
            rev: hex.to_owned(),
        })
    }
}

/// The host and path of a git remote URL (`scheme://[user@]host[:port]/path`, scp-like
/// `user@host:path`, IPv6 hosts in brackets), as git parses it; `None` for a local path or an
/// invalid URL.
pub fn url_host_and_path(url: &str) -> Option<(String, String)> {
    // A space is taken in a remote URL as git takes it (gix wants it percent-encoded).
    let url = url.trim().replace(' ', "%20");
    let url = gix::url::parse(gix::bstr::BStr::new(&url)).ok()?;
    let host = url.host()?.to_owned();
    Some((host, url.path.to_string()))
}
