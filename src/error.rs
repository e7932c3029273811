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

use miette::Diagnostic;

use crate::commands::CommandError;
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
