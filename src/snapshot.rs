//! Whole-tree snapshots (`git tombstone snapshot`, `--update`): every file of a commit's tree that the
//! allow/deny globs and the policy's `ignore` rules let through goes into the store, content
//! deduplicated with everything else archived.
//!
//! Only what changed costs anything: a path whose live row has the same git blob id is skipped
//! without reading it. Changed files are read, hashed, compressed and described on `workers`
//! threads; one transaction records them. With `update`, live rows whose path is gone are marked
//! deleted (`deleted_at`, the commit that deleted them when history between the two snapshots
//! shows it) and appended to the tombstone streams (code vs logs).

use std::collections::HashMap;

use serde::Serialize;

use crate::capture::{self, Capture};
use crate::git::{GitError, Repo, TreeMemo};
use crate::policy::{Action, Compression, Policy};
use crate::scan::mode_of;
use crate::store::{evidence, snapshots, Store, StoreError};
use crate::stub::Mode;

/// Snapshot options.
#[derive(Debug, Clone)]
pub struct Options {
    pub commit: String,
    pub allow: Vec<globset::GlobMatcher>,
    pub deny: Vec<globset::GlobMatcher>,
    pub update: bool,
    pub workers: usize,
}

/// What a snapshot did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Snapshotted {
    pub commit: String,
    pub files: usize,
    pub unchanged: usize,
    pub added: usize,
    pub changed: usize,
    pub deleted: usize,
    pub new_content_bytes: u64,
    pub evidence: Option<evidence::Appended>,
}

/// Errors of a snapshot.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SnapshotError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Panicked(#[from] crate::error::Panicked),
}

impl SnapshotError {
    /// What kind of failure this is (see [`crate::error::Kind`]).
    pub fn kind(&self) -> crate::error::Kind {
        match self {
            SnapshotError::Git(e) => e.kind(),
            SnapshotError::Store(e) => e.kind(),
            SnapshotError::Panicked(_) => crate::error::Kind::Internal,
        }
    }
}

impl From<rusqlite::Error> for SnapshotError {
    fn from(e: rusqlite::Error) -> Self {
        SnapshotError::Store(StoreError::Sql(e))
    }
}

fn wanted(opts: &Options, policy: &Policy, path: &[u8]) -> bool {
    let allowed =
        opts.allow.is_empty() || opts.allow.iter().any(|m| crate::policy::matches(m, path));
    let denied = opts.deny.iter().any(|m| crate::policy::matches(m, path));
    allowed && !denied && policy.decide(path).action != Action::Ignore
}

struct Live {
    id: i64,
    git_blob_id: String,
    category: String,
    sha256: String,
    first_commit: String,
}

/// Take the snapshot.
pub fn run(
    repo: &Repo,
    store: &mut Store,
    policy: &Policy,
    compression: Compression,
    opts: &Options,
    actor: &str,
    now: &str,
) -> Result<Snapshotted, SnapshotError> {
    let entries: Vec<(Vec<u8>, Mode, String)> = repo
        .tree_files(&opts.commit)?
        .into_iter()
        .filter(|(p, _, _)| wanted(opts, policy, p))
        .filter_map(|(p, k, id)| mode_of(k).map(|m| (p, m, id)))
        .collect();
    let live = live_files(store)?;
    let todo: Vec<&(Vec<u8>, Mode, String)> = entries
        .iter()
        .filter(|(p, _, id)| live.get(p).is_none_or(|l| l.git_blob_id != *id))
        .collect();
    let mut out = Snapshotted {
        commit: opts.commit.clone(),
        files: entries.len(),
        unchanged: entries.len() - todo.len(),
        ..Snapshotted::default()
    };
    let packed = pack_changed(repo, &todo, opts.workers, compression)?;
    let gone = gone_files(opts, policy, &entries, &live);
    let deleting = if gone.is_empty() {
        HashMap::new()
    } else {
        deleting_commits(
            repo,
            store.meta("snapshot.last_commit")?.as_deref(),
            &opts.commit,
        )?
    };
    out.evidence = record(
        store, policy, opts, &packed, &live, &gone, &deleting, &mut out, actor, now,
    )?;
    Ok(out)
}

/// The files of the last snapshot, by path.
fn live_files(store: &Store) -> Result<HashMap<Vec<u8>, Live>, SnapshotError> {
    let mut live: HashMap<Vec<u8>, Live> = HashMap::new();
    {
        for f in snapshots::live_files(store.conn(), None)? {
            live.insert(
                f.path,
                Live {
                    id: f.id,
                    git_blob_id: f.git_blob_id,
                    category: f.category,
                    sha256: f.sha256,
                    first_commit: f.first_commit,
                },
            );
        }
    }
    Ok(live)
}

/// Read, hash, compress and describe the files in `todo` on `workers` threads; the results
/// come back in path order.
fn pack_changed(
    repo: &Repo,
    todo: &[&(Vec<u8>, Mode, String)],
    workers: usize,
    compression: Compression,
) -> Result<Vec<(Capture, capture::Packed)>, SnapshotError> {
    let workers = workers.max(1).min(todo.len().max(1));
    let chunk = todo.len().div_ceil(workers).max(1);
    let mut packed: Vec<(Capture, capture::Packed)> = Vec::with_capacity(todo.len());
    std::thread::scope(|s| -> Result<(), SnapshotError> {
        let handles: Vec<_> = todo
            .chunks(chunk)
            .map(|part| {
                let sendable = repo.duplicate();
                s.spawn(
                    move || -> Result<Vec<(Capture, capture::Packed)>, GitError> {
                        let r = sendable.open();
                        let mut done = Vec::with_capacity(part.len());
                        for (path, mode, id) in part {
                            let bytes = r.blob(id)?;
                            let c = Capture {
                                path: path.clone(),
                                mode: *mode,
                                bytes,
                                git_blob_id: id.clone(),
                                source_commit: String::new(),
                                removed_in_commit: None,
                                removed_at: None,
                                action: Action::Archive,
                                category: String::new(),
                                reason: String::new(),
                                tags: Vec::new(),
                                metadata: serde_json::Map::new(),
                            };
                            let p = capture::pack(&c, compression);
                            done.push((c, p));
                        }
                        Ok(done)
                    },
                )
            })
            .collect();
        for h in handles {
            let part = h
                .join()
                .map_err(|p| crate::error::Panicked::from_payload("a snapshot worker", &*p))??;
            packed.extend(part);
        }
        Ok(())
    })?;

    Ok(packed)
}

/// With `--update`: the live files the tree no longer has (among those the filters still
/// select), by path.
fn gone_files<'a>(
    opts: &Options,
    policy: &Policy,
    entries: &[(Vec<u8>, Mode, String)],
    live: &'a HashMap<Vec<u8>, Live>,
) -> Vec<(&'a Vec<u8>, &'a Live)> {
    let present: std::collections::HashSet<&[u8]> =
        entries.iter().map(|(p, _, _)| p.as_slice()).collect();
    if opts.update {
        let mut g: Vec<_> = live
            .iter()
            .filter(|(p, _)| !present.contains(p.as_slice()) && wanted(opts, policy, p))
            .collect();
        g.sort_by(|a, b| a.0.cmp(b.0));
        g
    } else {
        Vec::new()
    }
}

/// In one transaction: the new and changed files' content and rows, the deletions and their
/// tombstone events, the last snapshot's commit, and one evidence line when anything changed.
#[allow(clippy::too_many_arguments)]
fn record(
    store: &mut Store,
    policy: &Policy,
    opts: &Options,
    packed: &[(Capture, capture::Packed)],
    live: &HashMap<Vec<u8>, Live>,
    gone: &[(&Vec<u8>, &Live)],
    deleting: &HashMap<Vec<u8>, (String, String)>,
    out: &mut Snapshotted,
    actor: &str,
    now: &str,
) -> Result<Option<evidence::Appended>, SnapshotError> {
    let data_commit = opts.commit.clone();
    store.write_with(|tx| -> Result<Option<evidence::Appended>, SnapshotError> {
        for (c, p) in packed {
            let put = crate::capture::put_content(tx, c, p, now)?;
            if put.new {
                out.new_content_bytes += put.stored_size;
            }
            let category = policy.decide(&c.path).category;
            if let Some(l) = live.get(&c.path) {
                snapshots::supersede(tx, l.id, now)?;
                out.changed += 1;
            } else {
                out.added += 1;
            }
            snapshots::insert(
                tx,
                &snapshots::NewFile {
                    path: &c.path,
                    mode: c.mode.as_str(),
                    sha256: &p.sha256,
                    git_blob_id: &c.git_blob_id,
                    size: c.bytes.len() as i64,
                    language: p.info.language,
                    mime: p.info.mime,
                    lines: p.info.lines.map(|n| n as i64),
                    binary: p.info.binary,
                    category: &category,
                    first_commit: &data_commit,
                    first_seen_at: now,
                },
            )?;
        }
        for (path, l) in gone {
            let (commit, at) = deleting
                .get(*path)
                .cloned()
                .unwrap_or_else(|| (data_commit.clone(), now.to_owned()));
            snapshots::delete(
                tx,
                l.id,
                path,
                &l.category,
                &l.sha256,
                &l.first_commit,
                &commit,
                &at,
            )?;
            out.deleted += 1;
        }
        crate::store::meta::set(tx, "snapshot.last_commit", &data_commit)?;
        if out.added + out.changed + out.deleted == 0 {
            return Ok(None);
        }
        let data = serde_json::json!({
            "commit": data_commit, "files": out.files, "added": out.added,
            "changed": out.changed, "deleted": out.deleted, "update": opts.update,
        });
        Ok(Some(evidence::append(tx, "snapshot", actor, now, &data)?))
    })
}

/// For each path deleted between `from` (the previous snapshot) and `to`, the commit that
/// deleted it last and that commit's time. Empty when there is no previous snapshot.
fn deleting_commits(
    repo: &Repo,
    from: Option<&str>,
    to: &str,
) -> Result<HashMap<Vec<u8>, (String, String)>, SnapshotError> {
    let mut out = HashMap::new();
    let Some(from) = from else {
        return Ok(out);
    };
    if !repo.has_object(from) {
        return Ok(out);
    }
    let mut memo = TreeMemo::default();
    for c in repo.commits(&[to.to_owned()], &[from.to_owned()], false)? {
        if let Some(ch) = repo.changes_of(&c, false, &mut memo)? {
            for d in ch.deleted {
                out.insert(d.path, (ch.commit.clone(), ch.time.clone()));
            }
        }
    }
    Ok(out)
}
