//! Error kinds → exit codes.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | a verification or policy failure (the tool worked; what it checked is wrong) |
//! | 2 | usage or configuration error (bad arguments, bad policy, not a repository, …) |
//! | 3 | internal error (I/O, database, git failures the user cannot fix by changing input; a bug) |
//!
//! Every error type has a `kind()` that names its [`Kind`] for each variant, with no catch-all
//! arm: a new variant does not compile until someone decides its exit code.

use std::path::PathBuf;

use miette::Diagnostic;

use crate::git::GitError;
use crate::policy::PolicyError;
use crate::store::StoreError;

/// Exit code for success.
pub const OK: i32 = 0;
/// Exit code for a verification or policy failure.
pub const FAILURE: i32 = 1;
/// Exit code for a usage or configuration error.
pub const USAGE: i32 = 2;
/// Exit code for an internal error.
pub const INTERNAL: i32 = 3;

/// What kind of failure an error is; each maps to one exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The tool worked; what it checked is wrong (exit 1).
    Failure,
    /// Bad arguments, configuration or input the user can fix (exit 2).
    Usage,
    /// I/O, database, git or a bug: not fixable by changing the input (exit 3).
    Internal,
}

impl Kind {
    /// The process exit code of this kind.
    pub const fn exit_code(self) -> i32 {
        match self {
            Kind::Failure => FAILURE,
            Kind::Usage => USAGE,
            Kind::Internal => INTERNAL,
        }
    }
}

/// A worker thread panicked: a bug, reported as an internal error (exit 3) instead of a crash
/// or a misleading message. The work in flight was not committed.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("internal error: {what} panicked: {message}")]
#[diagnostic(
    code(tombstone::internal::panic),
    help("this is a bug in git-tombstone; nothing of the failed step was committed, and a rerun starts over. Please report it with this message")
)]
pub struct Panicked {
    pub what: &'static str,
    pub message: String,
}

impl Panicked {
    /// From a thread's panic payload (`JoinHandle::join`'s or `catch_unwind`'s error).
    pub fn from_payload(what: &'static str, payload: &(dyn std::any::Any + Send)) -> Panicked {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        Panicked { what, message }
    }
}

/// Every error a command can end with.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Panicked(#[from] Panicked),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> Kind {
        match self {
            Error::Git(e) => e.kind(),
            Error::Policy(e) => e.kind(),
            Error::Store(e) => e.kind(),
            Error::Command(e) => e.kind(),
            Error::Panicked(_) => Kind::Internal,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        self.kind().exit_code()
    }
}

/// Result of a command: the exit code to end with (0, or 1 for "checked and found problems").
pub type Outcome = Result<i32, Error>;

impl From<crate::worktree::WorktreeError> for Error {
    fn from(e: crate::worktree::WorktreeError) -> Self {
        Error::Command(CommandError::Worktree(e))
    }
}

impl From<crate::publish::PublishError> for Error {
    fn from(e: crate::publish::PublishError) -> Self {
        match e {
            crate::publish::PublishError::Git(g) => Error::Git(g),
            crate::publish::PublishError::Store(s) => Error::Store(s),
            e => Error::Command(CommandError::Publish(e)),
        }
    }
}

impl From<crate::governance::GovernanceError> for Error {
    fn from(e: crate::governance::GovernanceError) -> Self {
        match e {
            crate::governance::GovernanceError::Store(s) => Error::Store(s),
            other => Error::Command(CommandError::Governance(other)),
        }
    }
}

impl From<crate::interchange::InterchangeError> for Error {
    fn from(e: crate::interchange::InterchangeError) -> Self {
        match e {
            crate::interchange::InterchangeError::Store(s) => Error::Store(s),
            other => Error::Command(CommandError::Interchange(other)),
        }
    }
}

impl From<crate::store::catalog::CatalogError> for Error {
    fn from(e: crate::store::catalog::CatalogError) -> Self {
        Error::Command(CommandError::Catalog(e))
    }
}

impl From<crate::snapshot::SnapshotError> for Error {
    fn from(e: crate::snapshot::SnapshotError) -> Self {
        match e {
            crate::snapshot::SnapshotError::Git(g) => Error::Git(g),
            crate::snapshot::SnapshotError::Store(s) => Error::Store(s),
            crate::snapshot::SnapshotError::Panicked(p) => Error::Panicked(p),
        }
    }
}

impl From<crate::bind::BindError> for Error {
    fn from(e: crate::bind::BindError) -> Self {
        match e {
            crate::bind::BindError::Git(g) => Error::Git(g),
            crate::bind::BindError::Store(s) => Error::Store(s),
        }
    }
}

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
    Catalog(#[from] crate::store::catalog::CatalogError),
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
            CommandError::Catalog(e) => e.kind(),
            CommandError::Worktree(e) => e.kind(),
        }
    }

    /// The exit code for this refusal.
    pub fn exit_code(&self) -> i32 {
        self.kind().exit_code()
    }
}
