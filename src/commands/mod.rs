//! One verb per file. Each has a `run` that takes its clap args and a [`Ctx`], delegates the
//! work to the library, and hands results to [`Output`].

pub mod archive;
pub mod bind;
pub mod ci;
pub mod compact;
pub mod doctor;
pub mod evidence;
pub mod export;
pub mod hold;
pub mod hook;
pub mod import;
pub mod init;
pub mod install;
pub mod list;
pub mod man;
pub mod prune_request;
pub mod publish;
pub mod purge;
pub mod query;
pub mod restore;
pub mod scan;
pub mod show;
pub mod snapshot;
pub mod stub;
pub mod sync;
pub mod vacuum;
pub mod verify;

use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use miette::Diagnostic;

use crate::cli::{Cli, Command, EvidenceCommand, Global, StubCommand};
use crate::error::{Error, Kind, Outcome};
use crate::git::Repo;
use crate::output::Output;
use crate::policy::Policy;
use crate::store::Store;

/// Errors of the commands themselves: refusals a user can act on.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum CommandError {
    #[error("{path} is outside the repository")]
    #[diagnostic(code(tombstone::path::outside), help("pass paths inside the work tree at {}", root.display()))]
    OutsideRepo { path: String, root: PathBuf },
    #[error("{path} is not tracked in {commit}")]
    #[diagnostic(
        code(tombstone::archive::untracked),
        help("only committed files can be archived; commit it first, or pass --commit")
    )]
    Untracked { path: String, commit: String },
    #[error("{path} is a directory")]
    #[diagnostic(
        code(tombstone::archive::directory),
        help("archive the files inside it, e.g. `git tombstone archive $(git ls-files {path})`")
    )]
    Directory { path: String },
    #[error("{path} is a submodule")]
    #[diagnostic(
        code(tombstone::archive::submodule),
        help("submodules are recorded by commit id and never stubbed; remove it with `git rm`")
    )]
    Submodule { path: String },
    #[error("{path} is {size} bytes, larger than max_file_size ({max} bytes)")]
    #[diagnostic(code(tombstone::archive::too_large), help("raise `max_file_size` in .tombstone.toml, or keep large files out of the archive with an `ignore` rule"))]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("{path} is already a stub ({id})")]
    #[diagnostic(code(tombstone::archive::already_stub), help("`git tombstone show {path}` describes it; `git archive-restore {path}` brings the file back"))]
    AlreadyStub { path: String, id: String },
    #[error("{path} has changes that are not in {commit}")]
    #[diagnostic(code(tombstone::archive::uncommitted), help("commit or stash the changes first: archive stores committed content, and the stub would replace your edits"))]
    Uncommitted { path: String, commit: String },
    #[error("{path} has staged changes")]
    #[diagnostic(
        code(tombstone::archive::staged),
        help("commit or unstage them first (`git restore --staged {path}`)")
    )]
    StagedChanges { path: String },
    #[error("the policy ignores {path}")]
    #[diagnostic(
        code(tombstone::archive::ignored),
        help("change the rule that matches it in .tombstone.toml to `stub` or `archive`")
    )]
    PolicyIgnores { path: String },
    #[error("invalid {what}: {why}")]
    #[diagnostic(code(tombstone::usage::invalid))]
    Invalid { what: String, why: String },
    #[error("cannot write a stub for {path}: {source}")]
    #[diagnostic(
        code(tombstone::stub::unrenderable),
        help("rename the file, or archive it under a rule with `action = \"archive\"` (no stub)")
    )]
    Unrenderable {
        path: String,
        #[source]
        source: crate::stub::StubError,
    },
    #[error("nothing archived matches `{target}`")]
    #[diagnostic(code(tombstone::restore::not_found))]
    NotFound {
        target: String,
        #[help]
        hint: String,
    },
    #[error("{path} has no archived version removed in or archived from {commit} ({count} version(s) archived)")]
    #[diagnostic(
        code(tombstone::restore::no_version_at),
        help("`git tombstone list --json` lists each version with its source and removing commit")
    )]
    NoVersionAt {
        path: String,
        commit: String,
        count: usize,
    },
    #[error("two versions of {path} were asked for ({ids})")]
    #[diagnostic(
        code(tombstone::restore::two_versions),
        help("restore one version of a path at a time")
    )]
    TwoVersions { path: String, ids: String },
    #[error("--output writes one file, and {count} match")]
    #[diagnostic(
        code(tombstone::restore::output_needs_one),
        help("name one file (or one id) with --output, or restore to the original paths")
    )]
    OutputNeedsOne { count: usize },
    #[error("`{glob}` is not a valid glob: {why}")]
    #[diagnostic(code(tombstone::restore::bad_glob))]
    BadGlob { glob: String, why: String },
    #[error("{id} ({path}) was purged; its content is gone: {details}")]
    #[diagnostic(code(tombstone::restore::purged), help("the purge was approved under dual control; `git tombstone show {id}` and the evidence log (op \"purge\") have the record"))]
    Purged {
        id: String,
        path: String,
        details: String,
    },
    #[error("the content of {id} is not available: {why}")]
    #[diagnostic(
        code(tombstone::restore::unavailable),
        help("fetch the commit that contained it ({commit}) or the archive branch, then retry")
    )]
    Unavailable {
        id: String,
        commit: String,
        why: String,
    },
    #[error("content for {id} does not match its record: {why}")]
    #[diagnostic(
        code(tombstone::restore::mismatch),
        help("nothing was written; run `git tombstone verify`")
    )]
    Mismatch { id: String, why: String },
    #[error("{path} exists and is not the stub of {id}")]
    #[diagnostic(
        code(tombstone::restore::would_overwrite),
        help("pass --force to overwrite it, or --output FILE to restore elsewhere")
    )]
    WouldOverwrite { path: String, id: String },
    #[error("{path} is not a valid stub")]
    #[diagnostic(code(tombstone::stub::invalid))]
    InvalidStub {
        path: String,
        #[source]
        source: crate::stub::StubError,
    },
    #[error("the commit range {range} cannot be resolved in this clone: {why}")]
    #[diagnostic(
        code(tombstone::ci::range),
        help("fetch the whole history: `actions/checkout` with `fetch-depth: 0` (git-tombstone never passes a range it could not see)")
    )]
    RangeUnavailable { range: String, why: String },
    #[error("there is no evidence line {seq}")]
    #[diagnostic(code(tombstone::evidence::no_line), help("the log has {last} lines"))]
    NoSuchEvidence { seq: i64, last: i64 },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Install(#[from] crate::hooks::install::InstallError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Publish(crate::publish::PublishError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Governance(crate::governance::GovernanceError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Interchange(crate::interchange::InterchangeError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Worktree(#[from] crate::worktree::WorktreeError),
    #[error("the store directory {dir} is inside the work tree")]
    #[diagnostic(
        code(tombstone::store::in_worktree),
        help("a store in the work tree gets committed (`git add -A`), deleted secrets and all; choose a directory outside it, or leave the default <git dir>/tombstone")
    )]
    StoreInWorktree { dir: String },
    #[error("{path} is not a safe path: {why}")]
    #[diagnostic(
        code(tombstone::path::unsafe_path),
        help("git itself refuses to check out such a path; nothing was written")
    )]
    UnsafePath { path: String, why: String },
    #[error("I/O error on {}", path.display())]
    #[diagnostic(code(tombstone::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CommandError {
    /// What kind of failure this is (see [`crate::error::Kind`]); every variant is named, so a
    /// new one does not compile until its exit code is decided.
    pub fn kind(&self) -> Kind {
        match self {
            CommandError::Purged { .. }
            | CommandError::Unavailable { .. }
            | CommandError::Mismatch { .. }
            | CommandError::NoVersionAt { .. }
            | CommandError::InvalidStub { .. }
            | CommandError::UnsafePath { .. } => Kind::Failure,
            CommandError::OutsideRepo { .. }
            | CommandError::Untracked { .. }
            | CommandError::Directory { .. }
            | CommandError::Submodule { .. }
            | CommandError::TooLarge { .. }
            | CommandError::AlreadyStub { .. }
            | CommandError::Uncommitted { .. }
            | CommandError::StagedChanges { .. }
            | CommandError::PolicyIgnores { .. }
            | CommandError::Invalid { .. }
            | CommandError::Unrenderable { .. }
            | CommandError::NotFound { .. }
            | CommandError::TwoVersions { .. }
            | CommandError::OutputNeedsOne { .. }
            | CommandError::BadGlob { .. }
            | CommandError::WouldOverwrite { .. }
            | CommandError::RangeUnavailable { .. }
            | CommandError::NoSuchEvidence { .. }
            | CommandError::StoreInWorktree { .. } => Kind::Usage,
            CommandError::Io { .. } => Kind::Internal,
            CommandError::Install(e) => e.kind(),
            CommandError::Publish(e) => e.kind(),
            CommandError::Governance(e) => e.kind(),
            CommandError::Interchange(e) => e.kind(),
            CommandError::Worktree(e) => e.kind(),
        }
    }

    /// The exit code for this refusal.
    pub fn exit_code(&self) -> i32 {
        self.kind().exit_code()
    }
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> (Output, Outcome) {
    let out = Output {
        json: cli.global.json,
        quiet: cli.global.quiet,
    };
    let outcome = match cli.command {
        Command::Stub(StubCommand::Check(a)) => stub::run(&a, out),
        Command::Man(a) => man::run(&a, out),
        Command::Completions(a) => man::completions(&a, out),
        command => Ctx::new(&cli.global, out).and_then(|ctx| match command {
            Command::Init(a) => init::run(&a, &ctx),
            Command::Archive(a) => archive::run(&a, &ctx),
            Command::Bind(a) => bind::run(&a, &ctx),
            Command::List(a) => list::run(&a, &ctx),
            Command::Show(a) => show::run(&a, &ctx),
            Command::Restore(a) => restore::run(&a, &ctx),
            Command::Verify(a) => verify::run(&a, &ctx),
            Command::Scan(a) => scan::run(&a, &ctx),
            Command::Ci(a) => ci::run(&a, &ctx),
            Command::Publish(a) => publish::run(&a, &ctx),
            Command::Install(a) => install::install(&a, &ctx),
            Command::Uninstall(a) => install::uninstall(&a, &ctx),
            Command::Doctor(a) => doctor::run(&a, &ctx),
            Command::Hook(a) => hook::run(&a, &ctx),
            Command::Evidence(EvidenceCommand::Digest(a)) => evidence::digest(&a, &ctx),
            Command::Evidence(EvidenceCommand::Verify(a)) => evidence::verify(&a, &ctx),
            Command::Evidence(EvidenceCommand::Checkpoint(a)) => evidence::checkpoint(&a, &ctx),
            Command::Evidence(EvidenceCommand::Export(a)) => evidence::export(&a, &ctx),
            Command::Vacuum(a) => vacuum::run(&a, &ctx),
            Command::Hold(a) => hold::hold(&a, &ctx),
            Command::Release(a) => hold::release(&a, &ctx),
            Command::PruneRequest(a) => prune_request::run(&a, &ctx),
            Command::Purge(a) => purge::run(&a, &ctx),
            Command::Query(a) => query::run(&a, &ctx),
            Command::Export(a) => export::run(&a, &ctx),
            Command::Import(a) => import::run(&a, &ctx),
            Command::Compact(a) => compact::run(&a, &ctx),
            Command::Sync(a) => sync::run(&a, &ctx),
            Command::Snapshot(a) => snapshot::run(&a, &ctx),
            Command::Stub(StubCommand::Check(a)) => stub::run(&a, ctx.out),
            Command::Man(a) => man::run(&a, ctx.out),
            Command::Completions(a) => man::completions(&a, ctx.out),
        }),
    };
    (out, outcome)
}

/// `git-archive-restore`'s dispatch: the restore command alone.
pub fn run_restore(
    global: &crate::cli::Global,
    args: &crate::cli::RestoreArgs,
) -> (Output, Outcome) {
    let out = Output {
        json: global.json,
        quiet: global.quiet,
    };
    (
        out,
        Ctx::new(global, out).and_then(|ctx| restore::run(args, &ctx)),
    )
}

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
}

impl Ctx {
    /// Discover the repository from the current directory and load its policy.
    pub fn new(global: &Global, out: Output) -> Result<Ctx, Error> {
        let cwd = std::env::current_dir().map_err(|source| CommandError::Io {
            path: ".".into(),
            source,
        })?;
        let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
        let repo = Repo::discover(&cwd)?;
        Ok(Ctx {
            repo,
            out,
            store_flag: global.store.as_ref().map(|d| cwd.join(d)),
            cwd,
            policy: std::cell::OnceCell::new(),
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
            self.out.warn(&format!(
                "ignoring `store.path = {p:?}` in the policy file: a committed file may not choose where the archive lives; set it with `git config tombstone.store DIR`, GIT_TOMBSTONE_STORE or --store"
            ));
        }
        Ok(self.policy.get_or_init(|| loaded))
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
        let mut store = Store::open(&self.store_dir()?)?;
        let slug = self.project().slug();
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
