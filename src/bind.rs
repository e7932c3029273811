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

impl BindError {
    /// What kind of failure this is (see [`crate::error::Kind`]).
    pub fn kind(&self) -> crate::error::Kind {
        match self {
            BindError::Git(e) => e.kind(),
            BindError::Store(e) => e.kind(),
        }
    }
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

/// What reconciling records with rewritten history did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Reconciled {
    /// Items whose removing commit no ref reaches, found again in HEAD's history:
    /// (id, old commit, new commit).
    pub rebound: Vec<(String, String, String)>,
    /// Items whose deletion no longer exists in HEAD's history (the commit was dropped):
    /// back to `pending`, their old commit recorded in the evidence: (id, old commit).
    pub unbound: Vec<(String, String)>,
}

/// `archived` items bound to a commit that no ref reaches (history was rewritten: a rebase
/// dropped or rewrote the commit without post-rewrite seeing it, a force push, a reset).
pub fn unreachable(repo: &Repo, store: &Store) -> Result<Vec<items::Item>, BindError> {
    let archived = items::list(
        store.conn(),
        &items::Filter {
            state: Some(state::ARCHIVED.into()),
            ..items::Filter::default()
        },
    )?;
    let bound: Vec<items::Item> = archived
        .into_iter()
        .filter(|i| i.removed_in_commit.is_some())
        .collect();
    if bound.is_empty() {
        return Ok(bound);
    }
    let reachable: std::collections::HashSet<String> = repo
        .run_git(&["rev-list", "--all"])?
        .lines()
        .map(str::to_owned)
        .collect();
    Ok(bound
        .into_iter()
        .filter(|i| {
            i.removed_in_commit
                .as_ref()
                .is_some_and(|c| !reachable.contains(c))
        })
        .collect())
}

/// The commit of HEAD's history that removed `item` (added its tombstone, or deleted its
/// content at its path), if there is one.
fn removal_in_head(repo: &Repo, head: &str, item: &items::Item) -> Option<String> {
    let last = |filter: &str, path: &[u8]| -> Option<String> {
        let path = std::str::from_utf8(path).ok()?;
        let spec = format!(":(literal){path}");
        let out = repo
            .run_git(&["log", "-1", "--format=%H", filter, head, "--", &spec])
            .ok()?;
        let c = out.trim();
        (!c.is_empty()).then(|| c.to_owned())
    };
    if item.action == "stub" {
        let (location, stub) = crate::locate::in_commit(repo, head, &item.path)?;
        return (stub.id == item.id)
            .then(|| last("--diff-filter=A", &location))
            .flatten();
    }
    let commit = last("--diff-filter=D", &item.path)?;
    let parent = repo.run_git(&["rev-parse", &format!("{commit}^")]).ok()?;
    let before = repo.entry_at(parent.trim(), &item.path).ok()??;
    (Some(&before.id) == item.git_blob_id.as_ref()).then_some(commit)
}

/// Reconcile the records that rewritten history left bound to unreachable commits: each is
/// bound to the commit of HEAD's history that removes it, or, when its deletion no longer
/// exists there, goes back to `pending` (never silently left `archived`). One evidence line.
pub fn reconcile(
    repo: &Repo,
    store: &mut Store,
    actor: &str,
    now: &str,
) -> Result<Reconciled, BindError> {
    let stale = unreachable(repo, store)?;
    let mut out = Reconciled::default();
    if stale.is_empty() {
        return Ok(out);
    }
    let Some(head) = repo.head_commit()? else {
        return Ok(out);
    };
    for item in &stale {
        let old = item.removed_in_commit.clone().unwrap_or_default();
        match removal_in_head(repo, &head, item) {
            Some(new) => out.rebound.push((item.id.clone(), old, new)),
            None => out.unbound.push((item.id.clone(), old)),
        }
    }
    store.write(|tx| {
        for (id, _, new) in &out.rebound {
            items::rebind_removal(tx, id, new, now)?;
        }
        for (id, _) in &out.unbound {
            items::unbind_removal(tx, id, now)?;
        }
        let data = serde_json::json!({
            "rebound": out.rebound.iter().map(|(id, from, to)| serde_json::json!({"id": id, "from": from, "to": to})).collect::<Vec<_>>(),
            "unbound": out.unbound.iter().map(|(id, from)| serde_json::json!({"id": id, "from": from})).collect::<Vec<_>>(),
        });
        evidence::append(tx, "reconcile", actor, now, &data)
    })?;
    Ok(out)
}
