//! Error kinds → exit codes.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | a verification or policy failure (the tool worked; what it checked is wrong) |
//! | 2 | usage or configuration error (bad arguments, bad policy, not a repository, …) |
//! | 3 | internal error (I/O, database, git failures the user cannot fix by changing input) |

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
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Git(e) => match e {
                GitError::NotARepo { .. }
                | GitError::UnsupportedObjectFormat { .. }
                | GitError::Bare { .. }
                | GitError::Unborn
                | GitError::BadRevision { .. } => USAGE,
                GitError::CorruptObject { .. } => FAILURE,
                GitError::MissingObject { .. }
                | GitError::Gix { .. }
                | GitError::Command { .. } => INTERNAL,
            },
            Error::Policy(_) => USAGE,
            Error::Store(e) => match e {
                StoreError::Create { .. } | StoreError::Newer { .. } => USAGE,
                StoreError::Evidence { .. } | StoreError::CorruptBlob { .. } => FAILURE,
                StoreError::Database { .. } | StoreError::Sql(_) | StoreError::Io { .. } => {
                    INTERNAL
                }
            },
            Error::Command(e) => e.exit_code(),
        }
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

impl From<crate::bind::BindError> for Error {
    fn from(e: crate::bind::BindError) -> Self {
        match e {
            crate::bind::BindError::Git(g) => Error::Git(g),
            crate::bind::BindError::Store(s) => Error::Store(s),
        }
    }
}
