//! Binding pending items to the commit that removed or stubbed them.
//!
//! An item is `pending` from capture until the commit that carries its stub (or its deletion)
//! exists. [`bind_to`] settles every pending item that `commit` completes: for a `stub` item,
//! the commit's tree holds a valid tombstone with the item's id for its path (in place, a
//! sidecar or a directory tombstone, [`crate::locate`]); for an `archive` item,
//! the path no longer holds the archived content. `git tombstone bind` and the post-commit hook
//! both call it.

use serde::Serialize;

use crate::git::{GitError, Repo};
use crate::store::evidence::{self, Appended};
use crate::store::items::{self, state};
use crate::store::{Store, StoreError};

/// What binding did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Bound {
    pub commit: String,
    pub ids: Vec<String>,
    /// Items still pending (their stub or deletion is not in the commit).
    pub still_pending: usize,
    pub evidence: Option<Appended>,
}

/// Errors of binding.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BindError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),
}

/// Bind the pending items that `commit` completes.
pub fn bind_to(
    repo: &Repo,
    store: &mut Store,
    commit: &str,
    actor: &str,
    now: &str,
) -> Result<Bound, BindError> {
    let pending = items::pending(store.conn())?;
    let mut ready = Vec::new();
    for item in &pending {
        let done = if item.action == "stub" {
            crate::locate::in_commit(repo, commit, &item.path).is_some_and(|(_, s)| s.id == item.id)
        } else {
            repo.entry_at(commit, &item.path)?
                .is_none_or(|e| Some(&e.id) != item.git_blob_id.as_ref())
        };
        if done {
            ready.push(item.id.clone());
        }
    }
    let still_pending = pending.len() - ready.len();
    if ready.is_empty() {
        return Ok(Bound {
            commit: commit.to_owned(),
            ids: ready,
            still_pending,
            evidence: None,
        });
    }
    let evidence = store.write(|tx| {
        for id in &ready {
            items::set_state(tx, id, state::ARCHIVED, Some(commit), now)?;
        }
        let data = serde_json::json!({ "commit": commit, "ids": ready });
        evidence::append(tx, "bind", actor, now, &data)
    })?;
    Ok(Bound {
        commit: commit.to_owned(),
        ids: ready,
        still_pending,
        evidence: Some(evidence),
    })
}
