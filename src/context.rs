//! The context every repository operation runs in: the repository, its policy (loaded on
//! first use), the store's location, the actor, and where messages go. The CLI builds one per
//! command (`src/commands/`); the hooks, scan and capture take it as they take any argument.
//! Nothing here knows about clap.

use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::error::{CommandError, Error};
use crate::git::Repo;
use crate::output::Output;
use crate::policy::Policy;
use crate::store::Store;

/// What every repository command needs: the repository, its policy, the store location.
///
/// The policy (and so the store location, which it may set) is loaded on first use, so a
/// hook with nothing to do never reads or parses `.tombstone.toml`.
pub struct Ctx {
    pub repo: Repo,
    pub out: Output,
    /// The canonical current directory (paths on the command line are relative to it).
    pub cwd: PathBuf,
    store_flag: Option<PathBuf>,
    policy: std::cell::OnceCell<Policy>,
    /// What the context itself has to tell the user (the CLI prints it when the command ends).
    notices: std::cell::RefCell<Vec<Notice>>,
}

impl Ctx {
    /// Discover the repository from the current directory; `store` is the store directory
    /// the user chose (`--store`, `GIT_TOMBSTONE_STORE`), relative to it.
    pub fn new(store: Option<&Path>, out: Output) -> Result<Ctx, Error> {
        let cwd = std::env::current_dir().map_err(|source| CommandError::Io {
            path: ".".into(),
            source,
        })?;
        let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
        let repo = Repo::discover(&cwd)?;
        Ok(Ctx {
            repo,
            out,
            store_flag: store.map(|d| cwd.join(d)),
            cwd,
            policy: std::cell::OnceCell::new(),
            notices: std::cell::RefCell::new(Vec::new()),
        })
    }

    /// The policy (`.tombstone.toml`, or the built-in default), loaded once.
    pub fn policy(&self) -> Result<&Policy, Error> {
        if let Some(p) = self.policy.get() {
            return Ok(p);
        }
        let loaded = match std::env::var_os("GIT_TOMBSTONE_POLICY") {
            Some(file) => Policy::load_file(&self.cwd.join(file))?,
            None => Policy::load(self.repo.workdir())?,
        };
        if let Some(p) = &loaded.store_path {
            self.notices.borrow_mut().push(Notice::Warning(format!(
                "ignoring `store.path = {p:?}` in the policy file: a committed file may not choose where the archive lives; set it with `git config tombstone.store DIR`, GIT_TOMBSTONE_STORE or --store"
            )));
        }
        Ok(self.policy.get_or_init(|| loaded))
    }

    /// The notices the context gathered (a policy setting it ignores), for the CLI to print.
    pub fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(&mut self.notices.borrow_mut())
    }

    /// The store directory, chosen only by the user: `--store`/`GIT_TOMBSTONE_STORE`, else git
    /// config `tombstone.store` (relative to the work tree root), else
    /// `<git common dir>/tombstone`. Never the committed policy file, and never a directory
    /// inside the work tree (where `git add -A` would commit the archive), except under `.git`.
    pub fn store_dir(&self) -> Result<PathBuf, Error> {
        let dir = if let Some(dir) = &self.store_flag {
            dir.clone()
        } else if let Some(p) = self.repo.config_path("tombstone.store")? {
            self.repo.workdir().join(p)
        } else {
            return Ok(self.repo.common_dir().join("tombstone"));
        };
        let resolved = resolve_lexically(&dir);
        let git_dirs = [self.repo.git_dir(), self.repo.common_dir()]
            .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.to_path_buf()));
        if resolved.starts_with(self.repo.workdir())
            && !git_dirs.iter().any(|g| resolved.starts_with(g))
        {
            return Err(CommandError::StoreInWorktree {
                dir: dir.display().to_string(),
            }
            .into());
        }
        Ok(dir)
    }

    /// Open the store for writing, creating it if needed; the store follows the project
    /// identity (which changes when a remote is added or renamed).
    pub fn open_store(&self) -> Result<Store, Error> {
        let slug = self.project().slug();
        let mut store = Store::open_with(&self.store_dir()?, &[("project", &slug)])?;
        if store.meta("project")?.as_deref() != Some(slug.as_str()) {
            store.set_meta("project", &slug)?;
        }
        Ok(store)
    }

    /// The repository's identity: from the `origin` remote (else the first remote that parses),
    /// else from the work tree path.
    pub fn project(&self) -> crate::project::Identity {
        let remotes = self.repo.remote_names();
        let ordered = std::iter::once("origin".to_owned()).chain(remotes);
        ordered
            .filter_map(|r| self.repo.remote_url(&r))
            .find_map(|u| crate::project::from_remote(&u))
            .unwrap_or_else(|| crate::project::from_path(self.repo.workdir()))
    }

    /// Open the store for reading; `None` if it does not exist yet.
    pub fn existing_store(&self) -> Result<Option<Store>, Error> {
        Ok(Store::open_existing(&self.store_dir()?)?)
    }

    /// Open the store for writing if it exists; `None` if there is no store yet.
    pub fn existing_store_writable(&self) -> Result<Option<Store>, Error> {
        if !self.store_dir()?.join(crate::store::DB_FILE).exists() {
            return Ok(None);
        }
        self.open_store().map(Some)
    }

    /// The actor to record: `--by`, else `GITHUB_ACTOR` in GitHub Actions, else git identity.
    pub fn actor(&self, by: Option<&str>) -> String {
        if let Some(by) = by.filter(|b| !b.trim().is_empty()) {
            return by.trim().to_owned();
        }
        if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
            if let Ok(actor) = std::env::var("GITHUB_ACTOR") {
                if !actor.is_empty() {
                    return actor;
                }
            }
        }
        self.repo.identity().unwrap_or_else(|| "unknown".into())
    }

    /// Turn a path from the command line into repository-relative bytes (lexically: the file
    /// need not exist, and a symlink is not followed).
    pub fn repo_path(&self, user_path: &Path) -> Result<Vec<u8>, CommandError> {
        let norm = normalize(&self.cwd.join(user_path));
        let outside = || CommandError::OutsideRepo {
            path: user_path.display().to_string(),
            root: self.repo.workdir().to_path_buf(),
        };
        let rel = norm
            .strip_prefix(self.repo.workdir())
            .map_err(|_| outside())?;
        if rel.as_os_str().is_empty() {
            return Err(CommandError::Directory {
                path: user_path.display().to_string(),
            });
        }
        if rel
            .components()
            .next()
            .is_some_and(|c| c.as_os_str() == ".git")
        {
            return Err(outside());
        }
        Ok(rel.as_os_str().as_bytes().to_vec())
    }

    /// The absolute work tree path of repository-relative `path`.
    pub fn worktree_path(&self, path: &[u8]) -> PathBuf {
        self.repo.workdir().join(std::ffi::OsStr::from_bytes(path))
    }
}

/// Absolute `path` with `.` and `..` applied lexically (links are not consulted).
fn normalize(path: &Path) -> PathBuf {
    let mut norm = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                norm.pop();
            }
            Component::CurDir => {}
            other => norm.push(other.as_os_str()),
        }
    }
    norm
}

/// Where absolute `path` really is: `..` and `.` applied, and links in the part of it that
/// exists resolved (the rest may not exist yet).
fn resolve_lexically(path: &Path) -> PathBuf {
    let norm = normalize(path);
    let mut existing = norm.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            return rest.iter().rev().fold(real, |p, n| p.join(n));
        }
        match existing.file_name() {
            Some(n) => rest.push(n.to_os_string()),
            None => return norm,
        }
        existing.pop();
    }
}

/// Refuse content larger than `max_file_size` when the policy wants a stub for it.
pub fn check_size(
    policy: &Policy,
    action: crate::policy::Action,
    path: &str,
    size: u64,
) -> Result<(), CommandError> {
    if action == crate::policy::Action::Stub && size > policy.max_file_size {
        return Err(CommandError::TooLarge {
            path: path.to_owned(),
            size,
            max: policy.max_file_size,
        });
    }
    Ok(())
}

/// A path for messages (lossy UTF-8, quoted when unusual).
pub fn shown(path: &[u8]) -> String {
    crate::stub::encode_path(path)
}

/// Something an operation wants the user told, returned in its summary for the CLI to print
/// (the library does not print).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "level", content = "message", rename_all = "lowercase")]
pub enum Notice {
    /// Informational (`--quiet` hides it).
    Note(String),
    /// Something the user should look at.
    Warning(String),
}

impl Notice {
    /// Print it through `out`.
    pub fn show(&self, out: &Output) {
        match self {
            Notice::Note(m) => out.note(m),
            Notice::Warning(m) => out.warn(m),
        }
    }
}
