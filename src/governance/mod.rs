//! Governance of the archive after capture: retention ([`vacuum`]), legal holds ([`hold`]),
//! dual-control purges ([`purge`]) and Merkle checkpoints of the evidence log ([`merkle`]).
//!
//! Each operation runs in one store transaction and appends its evidence line there, so what
//! was done and the record of it cannot part. Metadata and evidence are never deleted: vacuum
//! and purge drop *content* only.

pub mod hold;
pub mod merkle;
pub mod purge;
pub mod vacuum;

use miette::Diagnostic;
use rusqlite::Connection;

use crate::store::items::{self, Item};
use crate::store::StoreError;

/// Refusals of governance operations, each saying what to do.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum GovernanceError {
    #[error("nothing archived matches `{target}`")]
    #[diagnostic(
        code(tombstone::governance::not_found),
        help("`git tombstone list` shows the archived items; pass a tb_… id, a path glob or --commit")
    )]
    NotFound { target: String },
    #[error("{id} is under legal hold ({reason}, placed by {by} at {at})")]
    #[diagnostic(
        code(tombstone::governance::held),
        help("a held item is never vacuumed or purged; `git tombstone release {id} --reason …` lifts the hold when the matter ends")
    )]
    Held {
        id: String,
        reason: String,
        by: String,
        at: String,
    },
    #[error("{who} has already approved the purge of {id}")]
    #[diagnostic(
        code(tombstone::purge::same_approver),
        help("a purge needs two distinct approvers: the second must be someone else (--second or a later `purge --by`)")
    )]
    SameApprover { id: String, who: String },
    #[error("no purge of {id} has been requested")]
    #[diagnostic(
        code(tombstone::purge::no_request),
        help("record the request first: `git tombstone prune-request {id} --reason \"…\"`")
    )]
    NoRequest { id: String },
    #[error(
        "the purge of {id} has {count} approval(s) ({approvers}); it needs two distinct approvers"
    )]
    #[diagnostic(
        code(tombstone::purge::needs_approval),
        help("a second person runs `git tombstone purge {id} --by <them> --reason \"…\" --apply`")
    )]
    NeedsApproval {
        id: String,
        count: usize,
        approvers: String,
    },
    #[error("{id} is already purged")]
    #[diagnostic(code(tombstone::purge::already), help("{details}"))]
    AlreadyPurged { id: String, details: String },
    #[error(
        "the cut-off {cutoff} is only {days} day(s) ago; the policy keeps at least {min_days}"
    )]
    #[diagnostic(
        code(tombstone::vacuum::too_recent),
        help("choose an older cut-off, or pass --force to override `retention.min_days`")
    )]
    TooRecent {
        cutoff: String,
        days: i64,
        min_days: u32,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),
}

impl GovernanceError {
    /// What kind of failure this is (see [`crate::error::Kind`]).
    pub fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            GovernanceError::Held { .. } => Kind::Failure,
            GovernanceError::NotFound { .. }
            | GovernanceError::SameApprover { .. }
            | GovernanceError::NoRequest { .. }
            | GovernanceError::NeedsApproval { .. }
            | GovernanceError::AlreadyPurged { .. }
            | GovernanceError::TooRecent { .. } => Kind::Usage,
            GovernanceError::Store(e) => e.kind(),
        }
    }
}

impl From<rusqlite::Error> for GovernanceError {
    fn from(e: rusqlite::Error) -> Self {
        GovernanceError::Store(StoreError::Sql(e))
    }
}

/// How governance commands name items: ids, path globs, and commits.
#[derive(Debug, Default, Clone)]
pub struct Selector {
    /// `tb_…` ids or path globs (the policy's glob syntax).
    pub targets: Vec<String>,
    /// Items whose source or removing commit starts with this id.
    pub commit: Option<String>,
}

/// The items `sel` names, in path order; an id or glob that matches nothing is an error.
pub fn select(conn: &Connection, sel: &Selector) -> Result<Vec<Item>, GovernanceError> {
    let mut out: Vec<Item> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let all = || items::list(conn, &items::Filter::default());
    let mut cache: Option<Vec<Item>> = None;
    for t in &sel.targets {
        let found: Vec<Item> = if crate::id::is_tombstone_id(t) {
            items::get(conn, t)?.into_iter().collect()
        } else {
            let glob = crate::policy::glob(t)
                .map_err(|_| GovernanceError::NotFound { target: t.clone() })?;
            let m = glob.compile_matcher();
            if cache.is_none() {
                cache = Some(all()?);
            }
            cache
                .iter()
                .flatten()
                .filter(|i| crate::policy::matches(&m, &i.path))
                .cloned()
                .collect()
        };
        if found.is_empty() {
            return Err(GovernanceError::NotFound { target: t.clone() });
        }
        for i in found {
            if seen.insert(i.id.clone()) {
                out.push(i);
            }
        }
    }
    if let Some(c) = &sel.commit {
        let found = items::list(
            conn,
            &items::Filter {
                commit: Some(c.clone()),
                ..items::Filter::default()
            },
        )?;
        if found.is_empty() {
            return Err(GovernanceError::NotFound {
                target: format!("--commit {c}"),
            });
        }
        for i in found {
            if seen.insert(i.id.clone()) {
                out.push(i);
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path).then(a.archived_at.cmp(&b.archived_at)));
    Ok(out)
}

/// The writable store and a selector for the one item `id` names (`tb_…`), for the purge
/// commands; `NotFound` for a malformed id or a missing store.
pub fn one_item(
    id: &str,
    store: Option<crate::store::Store>,
) -> Result<(crate::store::Store, Selector), GovernanceError> {
    let not_found = || GovernanceError::NotFound {
        target: id.to_owned(),
    };
    if !crate::id::is_tombstone_id(id) {
        return Err(not_found());
    }
    let store = store.ok_or_else(not_found)?;
    Ok((
        store,
        Selector {
            targets: vec![id.to_owned()],
            commit: None,
        },
    ))
}
