//! Publishing the store's portable form to an archive branch the whole team can restore from.
//!
//! The branch (default `tombstone-archive`) is an orphan history that never touches the work
//! tree or index; commits are built with `git fast-import`. Its tree:
//!
//! ```text
//! README.md                       what this branch is
//! blobs/<aa>/<sha256>             archived content, raw (git compresses and deltas it)
//! items/<store-id>.jsonl          one item per line (as `list --json`), from one store
//! evidence/<store-id>.jsonl       that store's evidence log, line for line
//! checkpoints/<ref>               the commit CI last scanned <ref> up to (written by `ci`)
//! ci-store                        the id of the CI store: every CI run continues it
//! adopted                         the adoption point: deletions in its history are baseline
//! ```
//!
//! Every store writes only its own `items/` and `evidence/` files and content is addressed by
//! hash, so two publishers never conflict: when a push is rejected, the remote branch is
//! fetched, a merge commit takes the union, and the push is retried. No run loses another
//! run's records. Purged or vacuumed content (no bytes in the store) is never published.
//!
//! A store's evidence log on the branch only ever grows: a publish whose log does not extend
//! the one already there (the same store published from two places, two CI runs that both
//! continued it) is refused as [`PublishError::Diverged`] rather than overwriting lines.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::git::{GitError, Repo};
use crate::store::items::{self, Filter};
use crate::store::{Store, StoreError};

/// The default branch name.
pub const DEFAULT_BRANCH: &str = "tombstone-archive";

/// Errors of publishing.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PublishError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),
    #[error("the push to {remote} was rejected {attempts} times")]
    #[diagnostic(
        code(tombstone::publish::contended),
        help("other runs keep publishing at the same moment; rerun, or serialise runs (a `concurrency` group in the workflow)")
    )]
    Contended { remote: String, attempts: u32 },
    #[error("the archive branch's evidence log of store {store_id} has lines this store does not")]
    #[diagnostic(
        code(tombstone::publish::diverged),
        help("the same store was published from somewhere else since this copy was made; a CI run rebuilds its store from the branch and retries by itself, elsewhere start from a fresh store")
    )]
    Diverged { store_id: String },
    #[error("cannot write {what}")]
    #[diagnostic(code(tombstone::publish::io))]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl PublishError {
    /// What kind of failure this is (see [`crate::error::Kind`]): a lost push race or a
    /// diverged branch is not the user's input, and a rerun is the remedy.
    pub fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            PublishError::Git(e) => e.kind(),
            PublishError::Store(e) => e.kind(),
            PublishError::Contended { .. }
            | PublishError::Diverged { .. }
            | PublishError::Io { .. } => Kind::Internal,
        }
    }
}

/// What a CI run records on the branch besides its store's files.
#[derive(Debug, Default, Clone)]
pub struct CiRecord {
    /// `checkpoints/<ref>`: the ref and the commit it was scanned up to.
    pub checkpoint: Option<(String, String)>,
    /// Mark this store as the CI store (`ci-store`).
    pub ci_store: bool,
    /// The adoption point, written only when the branch has none yet.
    pub adopted: Option<String>,
}

/// What publishing did.
#[derive(Debug, Serialize, Default)]
pub struct Published {
    pub branch: String,
    pub commit: Option<String>,
    pub items: usize,
    pub new_blobs: usize,
    pub pushed_to: Option<String>,
    pub merges: u32,
    /// False when the branch already held exactly this store's records.
    pub changed: bool,
}

struct Files {
    store_id: String,
    /// What a CI run adds.
    ci: CiRecord,
    items: Vec<u8>,
    evidence: Vec<u8>,
    /// (sha256, bytes) of every content the store still holds.
    blobs: Vec<(String, Vec<u8>)>,
    count: usize,
}

fn collect(store: &Store) -> Result<Files, PublishError> {
    let list = items::list(store.conn(), &Filter::default())?;
    let mut items_out = Vec::new();
    let mut shas = Vec::new();
    for item in &list {
        let mut value = serde_json::to_value(item).unwrap_or_default();
        if let Some(obj) = value.as_object_mut() {
            obj.insert("path_bytes_hex".into(), crate::id::hex(&item.path).into());
        }
        items_out.extend_from_slice(value.to_string().as_bytes());
        items_out.push(b'\n');
        shas.push(item.sha256.clone());
    }
    shas.sort();
    shas.dedup();
    let mut blobs = Vec::new();
    for sha in shas {
        if let Some(bytes) = crate::store::blobs::get(store.conn(), &sha)? {
            blobs.push((sha, bytes));
        }
    }
    let evidence = evidence_log(store)?;
    Ok(Files {
        store_id: store.id()?,
        ci: CiRecord::default(),
        items: items_out,
        evidence,
        blobs,
        count: list.len(),
    })
}

/// The store's evidence log as published: every line, in order, each ending in a newline.
pub fn evidence_log(store: &Store) -> Result<Vec<u8>, StoreError> {
    let mut evidence = Vec::new();
    for line in crate::store::evidence::all_lines(store.conn())? {
        evidence.extend_from_slice(line.as_bytes());
        evidence.push(b'\n');
    }
    Ok(evidence)
}

fn blob_path(sha: &str) -> String {
    format!("blobs/{}/{sha}", &sha[..2])
}

fn data(stream: &mut Vec<u8>, path: &str, bytes: &[u8]) {
    stream.extend_from_slice(format!("M 100644 inline {path}\ndata {}\n", bytes.len()).as_bytes());
    stream.extend_from_slice(bytes);
    stream.push(b'\n');
}

const README: &str = "# tombstone-archive\n\nThe portable form of git-tombstone archives: content in `blobs/<aa>/<sha256>`, records in\n`items/<store>.jsonl`, evidence logs in `evidence/<store>.jsonl`. `git archive-restore <path|id>`\nreads it when the local store lacks an item. Written by `git tombstone publish`; do not edit.\n";

/// Write a commit with this store's files on top of `parent` (and `merge`, if any) to
/// `refs/heads/<branch>`; `None` when `parent` already holds exactly them.
fn write_commit(
    repo: &Repo,
    branch: &str,
    files: &Files,
    parent: Option<&str>,
    merge: Option<&str>,
    now_unix: i64,
) -> Result<(Option<String>, usize), PublishError> {
    let items_path = format!("items/{}.jsonl", files.store_id);
    let evidence_path = format!("evidence/{}.jsonl", files.store_id);
    // What the parent holds of this store: read once, for the checks and the no-change test.
    let theirs_evidence = match parent {
        Some(p) => repo.file_at(p, evidence_path.as_bytes())?,
        None => None,
    };
    if theirs_evidence
        .as_ref()
        .is_some_and(|theirs| !files.evidence.starts_with(theirs))
    {
        return Err(PublishError::Diverged {
            store_id: files.store_id.clone(),
        });
    }
    let theirs_ci_store = parent.and_then(|p| ci_store_at(repo, p));
    if let (true, Some(other)) = (files.ci.ci_store, &theirs_ci_store) {
        // Another store became the CI store first (two first runs raced): continue that one.
        if *other != files.store_id {
            return Err(PublishError::Diverged {
                store_id: other.clone(),
            });
        }
    }
    let ci_store_line = files.ci.ci_store.then(|| format!("{}\n", files.store_id));
    let adopted_line = match (&files.ci.adopted, parent) {
        (Some(c), Some(p)) if repo.file_at(p, ADOPTED.as_bytes())?.is_none() => {
            Some(format!("{c}\n"))
        }
        (Some(c), None) => Some(format!("{c}\n")),
        _ => None,
    };
    let existing: HashSet<Vec<u8>> = match parent {
        Some(p) => repo.files_under(p, b"blobs")?,
        None => HashSet::new(),
    };
    let new_blobs: Vec<&(String, Vec<u8>)> = files
        .blobs
        .iter()
        .filter(|(sha, _)| !existing.contains(format!("{}/{sha}", &sha[..2]).as_bytes()))
        .collect();
    if merge.is_none() && new_blobs.is_empty() {
        if let Some(p) = parent {
            let same_items =
                repo.file_at(p, items_path.as_bytes())?.as_deref() == Some(&files.items[..]);
            let same_evidence = theirs_evidence.as_deref() == Some(&files.evidence[..]);
            let same_checkpoint = match &files.ci.checkpoint {
                Some((r, c)) => {
                    repo.file_at(p, format!("checkpoints/{r}").as_bytes())?
                        .as_deref()
                        == Some(format!("{c}\n").as_bytes())
                }
                None => true,
            };
            let same_ci_store = !files.ci.ci_store || theirs_ci_store.is_some();
            if same_items
                && same_evidence
                && same_checkpoint
                && same_ci_store
                && adopted_line.is_none()
            {
                return Ok((None, 0));
            }
        }
    }
    let mut message = String::new();
    let _ = write!(
        message,
        "git-tombstone: publish {} item(s) from store {}\n\n{} new content blob(s).\n",
        files.count,
        files.store_id,
        new_blobs.len()
    );
    let mut stream = Vec::new();
    stream.extend_from_slice(format!("commit refs/heads/{branch}\ncommitter git-tombstone <git-tombstone@localhost> {now_unix} +0000\ndata {}\n{message}\n", message.len()).as_bytes());
    match parent {
        Some(p) => stream.extend_from_slice(format!("from {p}\n").as_bytes()),
        None => data(&mut stream, "README.md", README.as_bytes()),
    }
    if let Some(m) = merge {
        stream.extend_from_slice(format!("merge {m}\n").as_bytes());
    }
    for (sha, bytes) in &new_blobs {
        data(&mut stream, &blob_path(sha), bytes);
    }
    data(&mut stream, &items_path, &files.items);
    data(&mut stream, &evidence_path, &files.evidence);
    if let Some((r, commit)) = &files.ci.checkpoint {
        data(
            &mut stream,
            &format!("checkpoints/{r}"),
            format!("{commit}\n").as_bytes(),
        );
    }
    if let Some(line) = &ci_store_line {
        data(&mut stream, CI_STORE, line.as_bytes());
    }
    if let Some(line) = &adopted_line {
        data(&mut stream, ADOPTED, line.as_bytes());
    }
    stream.extend_from_slice(b"\ndone\n");
    repo.fast_import(&stream)?;
    Ok((
        repo.ref_commit(&format!("refs/heads/{branch}")),
        new_blobs.len(),
    ))
}

/// Publish the store to `branch`, and push it to `remote` if given.
pub fn publish(
    repo: &Repo,
    store: &Store,
    branch: &str,
    remote: Option<&str>,
    now_unix: i64,
) -> Result<Published, PublishError> {
    publish_ci(repo, store, branch, remote, now_unix, CiRecord::default())
}

/// [`publish`], also recording what a CI run adds ([`CiRecord`]): that `git_ref` was scanned up
/// to a commit (`checkpoints/<ref>`; the next CI run, on any runner, scans from there, so a run
/// that was cancelled, skipped or failed leaves no gap; two runs racing may leave the older
/// checkpoint, which only makes the next run scan again, never skip), which store CI continues,
/// and the adoption point.
pub fn publish_ci(
    repo: &Repo,
    store: &Store,
    branch: &str,
    remote: Option<&str>,
    now_unix: i64,
    mut ci: CiRecord,
) -> Result<Published, PublishError> {
    let mut files = collect(store)?;
    ci.checkpoint = ci.checkpoint.filter(|(r, c)| {
        r.starts_with("refs/")
            && crate::git::path::check(r.as_bytes(), false).is_ok()
            && is_commit_id(c)
    });
    ci.adopted = ci.adopted.filter(|c| is_commit_id(c));
    files.ci = ci;
    let local_ref = format!("refs/heads/{branch}");
    let mut out = Published {
        branch: branch.to_owned(),
        items: files.count,
        ..Published::default()
    };
    let remote_tip = match remote {
        Some(r) => {
            if repo.fetch_branch(r, branch)? {
                repo.ref_commit(&format!("refs/remotes/{r}/{branch}"))
            } else {
                None
            }
        }
        None => None,
    };
    // Start from the local branch, or the remote one when the local branch is missing or behind.
    let mut parent = repo.ref_commit(&local_ref);
    let mut merge = None;
    if let Some(tip) = &remote_tip {
        match &parent {
            None => parent = Some(tip.clone()),
            Some(local) if local != tip => {
                let base = repo
                    .run_git(&["merge-base", local, tip])
                    .ok()
                    .map(|s| s.trim().to_owned());
                if base.as_deref() == Some(local.as_str()) {
                    parent = Some(tip.clone()); // fast-forward
                } else if base.as_deref() != Some(tip.as_str()) {
                    merge = Some(local.clone());
                    parent = Some(tip.clone());
                }
            }
            _ => {}
        }
    }
    let (commit, new_blobs) = write_commit(
        repo,
        branch,
        &files,
        parent.as_deref(),
        merge.as_deref(),
        now_unix,
    )?;
    out.changed = commit.is_some();
    out.new_blobs = new_blobs;
    out.commit = commit.or(parent);
    if merge.is_some() {
        out.merges += 1;
    }
    let Some(remote) = remote else { return Ok(out) };
    const ATTEMPTS: u32 = 5;
    for attempt in 1..=ATTEMPTS {
        if repo.push_branch(remote, branch)? {
            out.pushed_to = Some(remote.to_owned());
            out.commit = repo.ref_commit(&local_ref);
            return Ok(out);
        }
        // Someone published in between: take their branch and ours together, and retry.
        repo.fetch_branch(remote, branch)?;
        let theirs = repo.ref_commit(&format!("refs/remotes/{remote}/{branch}"));
        let ours = repo.ref_commit(&local_ref);
        let (Some(theirs), Some(ours)) = (theirs, ours) else {
            continue;
        };
        write_commit(
            repo,
            branch,
            &files,
            Some(&theirs),
            Some(&ours),
            now_unix + i64::from(attempt),
        )?;
        out.merges += 1;
        out.changed = true;
    }
    Err(PublishError::Contended {
        remote: remote.to_owned(),
        attempts: ATTEMPTS,
    })
}

/// The file naming the CI store.
pub const CI_STORE: &str = "ci-store";
/// The file holding the adoption point.
pub const ADOPTED: &str = "adopted";

fn is_commit_id(c: &str) -> bool {
    crate::id::is_lower_hex(c, 40) || crate::id::is_lower_hex(c, 64)
}

/// One line of a small file on the branch at `tip`, when it passes `valid`.
fn tip_line(repo: &Repo, tip: &str, name: &str, valid: impl Fn(&str) -> bool) -> Option<String> {
    let bytes = repo.file_at(tip, name.as_bytes()).ok().flatten()?;
    if bytes.len() > 200 {
        return None;
    }
    let text = String::from_utf8(bytes).ok()?.trim().to_owned();
    valid(&text).then_some(text)
}

/// The id of the CI store recorded at `tip` (16 lowercase hex digits).
pub fn ci_store_at(repo: &Repo, tip: &str) -> Option<String> {
    tip_line(repo, tip, CI_STORE, |s| crate::id::is_lower_hex(s, 16))
}

/// The adoption point recorded on the archive branch (the remote's first, then the local one).
pub fn adopted(repo: &Repo) -> Option<String> {
    branch_tips(repo)
        .iter()
        .rev()
        .find_map(|tip| tip_line(repo, tip, ADOPTED, is_commit_id))
}

/// Write the portable form of store `store_id` as it is at `tip` (its items with their content
/// from `blobs/`, and its evidence log) as an import file (`code_archive.jsonl`) to `out`;
/// `import` then checks every record before anything is written. Content over `max_content`
/// bytes, or missing from the branch, is left out (the record keeps its address).
pub fn write_portable(
    repo: &Repo,
    tip: &str,
    store_id: &str,
    max_content: u64,
    out: &mut impl std::io::Write,
) -> Result<usize, PublishError> {
    use crate::interchange::jsonl::{ItemLine, Record};
    let io = |source: std::io::Error| PublishError::Io {
        what: "the portable form of the CI store",
        source,
    };
    let put = |out: &mut dyn std::io::Write, r: &Record| -> Result<(), PublishError> {
        let mut line = serde_json::to_vec(r).map_err(|e| io(std::io::Error::other(e)))?;
        line.push(b'\n');
        out.write_all(&line).map_err(io)
    };
    put(
        out,
        &Record::Header {
            format: crate::interchange::jsonl::FORMAT.into(),
            version: 1,
            store_id: store_id.to_owned(),
            project: None,
            exported_at: String::new(),
        },
    )?;
    let mut count = 0;
    let items = repo
        .file_at(tip, format!("items/{store_id}.jsonl").as_bytes())?
        .unwrap_or_default();
    for line in items.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        // A record that does not parse is passed on as it is, for `import` to refuse.
        let Ok(mut item) = serde_json::from_slice::<ItemLine>(line) else {
            out.write_all(line).map_err(io)?;
            out.write_all(b"\n").map_err(io)?;
            continue;
        };
        let content = (item.size >= 0
            && (item.size as u64) <= max_content
            && crate::id::is_lower_hex(&item.sha256, 64))
        .then(|| {
            repo.file_at(tip, blob_path(&item.sha256).as_bytes())
                .ok()
                .flatten()
        })
        .flatten();
        if let Some(bytes) = content {
            match std::str::from_utf8(&bytes) {
                Ok(s) if !item.binary => {
                    item.encoding = Some("utf-8".into());
                    item.content = Some(s.to_owned());
                }
                _ => {
                    use base64::Engine;
                    item.encoding = Some("base64".into());
                    item.content = Some(base64::engine::general_purpose::STANDARD.encode(&bytes));
                }
            }
        }
        put(out, &Record::Item(Box::new(item)))?;
        count += 1;
    }
    let evidence = repo
        .file_at(tip, format!("evidence/{store_id}.jsonl").as_bytes())?
        .unwrap_or_default();
    for line in evidence.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        put(
            out,
            &Record::Evidence {
                line: String::from_utf8_lossy(line).into_owned(),
            },
        )?;
    }
    Ok(count)
}

/// The archive branch name: `GIT_TOMBSTONE_ARCHIVE_BRANCH`, else [`DEFAULT_BRANCH`].
pub fn branch_name() -> String {
    std::env::var("GIT_TOMBSTONE_ARCHIVE_BRANCH")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_BRANCH.to_owned())
}

/// The commits `git_ref` was last scanned up to, as recorded on the archive branch (local and
/// `origin/` tips), that are valid commit ids.
pub fn checkpoints(repo: &Repo, git_ref: &str) -> Vec<String> {
    let mut out = Vec::new();
    if crate::git::path::check(git_ref.as_bytes(), false).is_err() {
        return out;
    }
    for tip in branch_tips(repo) {
        let Ok(Some(bytes)) = repo.file_at(&tip, format!("checkpoints/{git_ref}").as_bytes())
        else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).trim().to_owned();
        if (crate::id::is_lower_hex(&text, 40) || crate::id::is_lower_hex(&text, 64))
            && !out.contains(&text)
        {
            out.push(text);
        }
    }
    out
}

/// The commits of the archive branch to read from: the local branch, then `origin/`'s.
pub fn branch_tips(repo: &Repo) -> Vec<String> {
    let branch = branch_name();
    let mut tips = Vec::new();
    for r in [
        format!("refs/heads/{branch}"),
        format!("refs/remotes/origin/{branch}"),
    ] {
        if let Some(c) = repo.ref_commit(&r) {
            if !tips.contains(&c) {
                tips.push(c);
            }
        }
    }
    tips
}

/// Content with this SHA-256 from the archive branch, verified.
pub fn blob_on_branch(repo: &Repo, sha256: &str) -> Option<Vec<u8>> {
    if !crate::id::is_lower_hex(sha256, 64) {
        return None;
    }
    branch_tips(repo).into_iter().find_map(|tip| {
        repo.file_at(&tip, blob_path(sha256).as_bytes())
            .ok()
            .flatten()
            .filter(|b| crate::id::sha256_hex(b) == sha256)
    })
}

/// Item records (as JSON) on the archive branch that `matches`, newest `archived_at` last.
pub fn items_on_branch(
    repo: &Repo,
    matches: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    for tip in branch_tips(repo) {
        let Ok(files) = repo.files_under(&tip, b"items") else {
            continue;
        };
        for name in files {
            let path = [b"items/".as_slice(), &name].concat();
            let Ok(Some(bytes)) = repo.file_at(&tip, &path) else {
                continue;
            };
            for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
                    if matches(&v) {
                        found.push(v);
                    }
                }
            }
        }
    }
    found.sort_by(|a, b| a["archived_at"].as_str().cmp(&b["archived_at"].as_str()));
    found
}
