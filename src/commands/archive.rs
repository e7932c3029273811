//! `git tombstone archive PATH...`: capture committed files and replace each by its stub.
//!
//! Every path is checked before anything is written, so a bad path leaves nothing half-done.
//! Then, in order: the content, items and evidence are committed to the store in one
//! transaction; the stubs are written to the work tree atomically; the index is updated in one
//! `git update-index` run. A crash between those steps is completed by a rerun: the store step
//! is idempotent, and a stub already in the work tree but not in the index is simply staged.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;

use crate::capture::{self, Capture, Captured};
use crate::cli::ArchiveArgs;
use crate::commands::{check_size, shown, CommandError, Ctx};
use crate::error::Outcome;
use crate::git::EntryKind;
use crate::output::human_bytes;
use crate::policy::Action;
use crate::staging::{stage_stubs, Present, StubPlan};
use crate::store::items;
use crate::stub::{Mode, Stub};
use crate::{clock, failpoint};

struct Planned {
    capture: Capture,
    /// The stub to leave (`stub` action), already rendered, and where: the path's sidecar
    /// (default) or the path itself (`placement = "in-place"`).
    stub: Option<Vec<u8>>,
    location: Vec<u8>,
}

/// Run `archive`.
pub fn run(args: &ArchiveArgs, ctx: &Ctx) -> Outcome {
    let reason = args.reason.as_deref().map(check_reason).transpose()?;
    let tags = args
        .tags
        .iter()
        .map(|t| check_text("tag", t).map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = parse_metadata(&args.metadata)?;
    let source = ctx.repo.resolve_commit(&args.commit)?;

    let mut paths = args
        .paths
        .iter()
        .map(|p| ctx.repo_path(p))
        .collect::<Result<Vec<_>, _>>()?;
    paths.sort();
    paths.dedup();

    let mut plan = Vec::with_capacity(paths.len());
    for path in &paths {
        plan.push(check_path(
            ctx,
            path,
            &source,
            reason.as_deref(),
            &tags,
            &metadata,
        )?);
    }

    let actor = ctx.actor(args.by.as_deref());
    let now = clock::now();
    let mut store = ctx.open_store()?;
    let compression = ctx.policy()?.compression;
    let results: Vec<Captured> = store.write(|tx| {
        let captures: Vec<&capture::Capture> = plan.iter().map(|p| &p.capture).collect();
        capture::record_many(tx, &captures, &actor, &now, compression)
    })?;
    failpoint::hit("archive:after-store");

    // The files go (a sidecar stands beside each, or nothing does) and the stubs take their
    // place, through the one staging path (src/staging.rs): never through a link, in the
    // index only outside a sparse checkout.
    let worktree = crate::worktree::Worktree::open(ctx.repo.workdir())?;
    let removals = plan
        .iter()
        .filter(|p| p.location != p.capture.path || p.stub.is_none())
        .map(|p| p.capture.path.clone())
        .collect();
    let stubs = plan
        .iter()
        .filter_map(|p| Some((p.location.clone(), p.stub.clone()?)))
        .collect();
    let mut staging = StubPlan::new(
        &ctx.repo,
        &worktree,
        stubs,
        removals,
        Present::Replace,
        "stub",
    )?;
    stage_stubs(
        &ctx.repo,
        &worktree,
        &staging,
        crate::worktree::Durability::Synced,
        "archive:after-worktree",
    )?;
    for notice in staging.take_notices() {
        notice.show(&ctx.out);
    }

    for (p, r) in plan.iter().zip(&results) {
        ctx.out.json(&Archived {
            id: &r.id,
            path: &r.path,
            sha256: &r.sha256,
            action: p.capture.action.as_str(),
            category: &p.capture.category,
            state: &r.state,
            bytes: Bytes {
                raw: r.size,
                stored: r.stored_size,
            },
            new: r.new_item,
            evidence_seq: r.evidence.as_ref().map(|e| e.seq),
            evidence_digest: r.evidence.as_ref().map(|e| e.digest.as_str()),
        });
        let what = if p.stub.is_some() {
            format!("tombstone {} staged", crate::commands::shown(&p.location))
        } else {
            "deletion staged".to_owned()
        };
        ctx.out.text(&format!(
            "archived {} ({}, {} → {}), {what}",
            r.path,
            r.id,
            human_bytes(r.size),
            human_bytes(r.stored_size)
        ));
    }
    Ok(0)
}

fn check_path(
    ctx: &Ctx,
    path: &[u8],
    source: &str,
    reason: Option<&str>,
    tags: &[String],
    metadata: &serde_json::Map<String, serde_json::Value>,
) -> Result<Planned, crate::error::Error> {
    let name = shown(path);
    let file = ctx.worktree_path(path);
    let meta = std::fs::symlink_metadata(&file).ok();
    if meta.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(CommandError::Directory { path: name }.into());
    }
    let (planned, committed_id) = plan_capture(ctx, path, source, (reason, tags, metadata))?;
    // What is in the work tree and the index now must be the committed content, or (for a
    // rerun after a crash) this very stub.
    let index = ctx.repo.index_entry(path)?;
    refuse_staged_sidecar(ctx, path, &planned.location)?;
    let staged_other = index.as_ref().is_some_and(|e| e.id != committed_id);
    if let Some(meta) = &meta {
        let rerun = check_worktree_copy(ctx, path, source, (&file, meta), &planned, staged_other)?;
        if rerun {
            // Stub written and recorded, but not staged: a rerun after a crash finishes it.
            return Ok(planned);
        }
    }
    if staged_other {
        return Err(CommandError::StagedChanges { path: name }.into());
    }
    Ok(planned)
}

/// The capture of `path` as committed in `source` (refused when the policy ignores it or it
/// is too large, by its recorded size before its bytes are read), with its stub rendered
/// where the policy places it. Also returns the committed blob id.
fn plan_capture(
    ctx: &Ctx,
    path: &[u8],
    source: &str,
    (reason, tags, metadata): (
        Option<&str>,
        &[String],
        &serde_json::Map<String, serde_json::Value>,
    ),
) -> Result<(Planned, String), crate::error::Error> {
    let name = shown(path);
    let entry = ctx
        .repo
        .entry_at(source, path)?
        .ok_or_else(|| CommandError::Untracked {
            path: name.clone(),
            commit: short(source),
        })?;
    let mode = match entry.kind {
        EntryKind::File => Mode::File,
        EntryKind::Executable => Mode::Executable,
        EntryKind::Symlink => Mode::Symlink,
        EntryKind::Gitlink => return Err(CommandError::Submodule { path: name }.into()),
        EntryKind::Tree => return Err(CommandError::Directory { path: name }.into()),
    };
    let policy = ctx.policy()?;
    let decision = policy.decide(path);
    if decision.action == Action::Ignore {
        return Err(CommandError::PolicyIgnores { path: name }.into());
    }
    // Refused from the recorded size, before the bytes are read.
    check_size(
        policy,
        decision.action,
        &name,
        ctx.repo.blob_size(&entry.id)?,
    )?;
    let bytes = ctx.repo.blob(&entry.id)?;
    let capture = Capture {
        path: path.to_vec(),
        mode,
        git_blob_id: entry.id.clone(),
        source_commit: source.to_owned(),
        removed_in_commit: None,
        removed_at: None,
        action: decision.action,
        category: decision.category,
        reason: reason.map_or(decision.reason, str::to_owned),
        tags: tags.to_vec(),
        metadata: metadata.clone(),
        bytes,
    };
    let location = decision.placement.location(path);
    let stub = match decision.action {
        Action::Stub => Some(capture.render_stub_at(&location).map_err(|source| {
            CommandError::Unrenderable {
                path: name.clone(),
                source,
            }
        })?),
        _ => None,
    };
    let planned = Planned {
        capture,
        stub,
        location,
    };
    Ok((planned, entry.id))
}

/// Refuse a path whose sidecar is already staged: archived before, waiting for its commit.
fn refuse_staged_sidecar(
    ctx: &Ctx,
    path: &[u8],
    location: &[u8],
) -> Result<(), crate::error::Error> {
    if location == path {
        return Ok(());
    }
    let Some(e) = ctx.repo.index_entry(location)? else {
        return Ok(());
    };
    let staged = ctx
        .repo
        .blob(&e.id)
        .ok()
        .and_then(|b| crate::stub::Stub::parse(location, &b).ok());
    match staged.filter(|s| s.path == path) {
        Some(existing) => Err(CommandError::AlreadyStub {
            path: shown(path),
            id: existing.id,
        }
        .into()),
        None => Ok(()),
    }
}

/// Check the work tree copy of `path`: it must be the committed content and mode, or this
/// very stub, recorded and not staged (a rerun after a crash: returns true). `staged_other`:
/// the index holds other content for the path. A file too large to be a stub is compared in
/// chunks, never read whole: archiving a large file holds its content once.
fn check_worktree_copy(
    ctx: &Ctx,
    path: &[u8],
    source: &str,
    (file, meta): (&std::path::Path, &std::fs::Metadata),
    planned: &Planned,
    staged_other: bool,
) -> Result<bool, crate::error::Error> {
    let name = shown(path);
    let io = |source| CommandError::Io {
        path: file.to_path_buf(),
        source,
    };
    let current: Option<Vec<u8>> = if meta.file_type().is_symlink() {
        match std::fs::read_link(file) {
            Ok(t) => Some(t.as_os_str().as_bytes().to_vec()),
            Err(_) => return Ok(false),
        }
    } else if meta.len() <= crate::stub::MAX_STUB_SIZE as u64 {
        Some(std::fs::read(file).map_err(io)?)
    } else {
        None
    };
    if let Some(Ok(existing)) = current.as_deref().map(|c| Stub::parse(path, c)) {
        let in_store = ctx
            .existing_store()?
            .and_then(|s| items::get(s.conn(), &existing.id).ok().flatten())
            .is_some();
        if !in_store || staged_other || current != planned.stub {
            return Err(CommandError::AlreadyStub {
                path: name,
                id: existing.id,
            }
            .into());
        }
        return Ok(true);
    }
    let capture = &planned.capture;
    let same = match &current {
        Some(bytes) => *bytes == capture.bytes,
        None => same_content(file, &capture.bytes).map_err(io)?,
    };
    let executable = meta.permissions().mode() & 0o111 != 0;
    let mode_changed =
        capture.mode != Mode::Symlink && executable != (capture.mode == Mode::Executable);
    if !same || mode_changed {
        return Err(CommandError::Uncommitted {
            path: name,
            commit: short(source),
        }
        .into());
    }
    Ok(false)
}

/// Whether the file at `file` holds exactly `expected`, read in chunks.
fn same_content(file: &std::path::Path, expected: &[u8]) -> std::io::Result<bool> {
    use std::io::Read;
    let mut f = std::fs::File::open(file)?;
    if f.metadata()?.len() != expected.len() as u64 {
        return Ok(false);
    }
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(at == expected.len());
        }
        if expected.get(at..at + n) != Some(&buf[..n]) {
            return Ok(false);
        }
        at += n;
    }
}

fn short(commit: &str) -> String {
    commit.chars().take(12).collect()
}

fn check_text<'a>(what: &str, s: &'a str) -> Result<&'a str, CommandError> {
    let invalid = |why: &str| CommandError::Invalid {
        what: what.into(),
        why: why.into(),
    };
    if s.trim().is_empty() {
        return Err(invalid("it is empty"));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(
            "it contains control characters (newlines, tabs, …)",
        ));
    }
    if s.len() > 200 {
        return Err(invalid("it is longer than 200 bytes"));
    }
    Ok(s)
}

fn check_reason(s: &str) -> Result<String, CommandError> {
    check_text("--reason", s).map(|s| s.trim().to_owned())
}

fn parse_metadata(
    pairs: &[String],
) -> Result<serde_json::Map<String, serde_json::Value>, CommandError> {
    let mut map = serde_json::Map::new();
    for pair in pairs {
        let (k, v) = pair.split_once('=').ok_or_else(|| CommandError::Invalid {
            what: "--metadata".into(),
            why: format!("`{pair}` is not KEY=VALUE"),
        })?;
        if k.trim().is_empty() {
            return Err(CommandError::Invalid {
                what: "--metadata".into(),
                why: format!("`{pair}` has an empty key"),
            });
        }
        map.insert(k.trim().to_owned(), serde_json::Value::String(v.to_owned()));
    }
    Ok(map)
}

/// `archive --json`: one line per file archived.
#[derive(serde::Serialize)]
struct Archived<'a> {
    id: &'a str,
    path: &'a str,
    sha256: &'a str,
    action: &'a str,
    category: &'a str,
    state: &'a str,
    bytes: Bytes,
    new: bool,
    evidence_seq: Option<i64>,
    evidence_digest: Option<&'a str>,
}

/// Raw and stored (compressed) sizes.
#[derive(serde::Serialize)]
struct Bytes {
    raw: u64,
    stored: u64,
}
