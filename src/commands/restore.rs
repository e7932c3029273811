//! `git archive-restore PATH|ID` (also `git tombstone restore`): bring archived content back,
//! verified byte for byte.
//!
//! The item is found by id, by the stub at a path, or as the latest version archived at a
//! path; with no local record, a stub (in the work tree, or in HEAD for an id) still names
//! everything needed. Bytes come from the local store, else from the git object database (the
//! recorded blob id, or `source-commit:path`), and must match the recorded SHA-256 and size
//! before anything is written. The write is atomic, restores the mode (executable bit, symlink),
//! and never replaces a file that is not this item's stub unless `--force`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::RestoreArgs;
use crate::commands::{show, shown, CommandError, Ctx};
use crate::error::{Error, Outcome};
use crate::git::Staged;
use crate::id::{is_tombstone_id, sha256_hex};
use crate::store::items::{self, state};
use crate::store::{blobs, evidence, Store};
use crate::stub::{Mode, Stub};
use crate::{clock, fsutil};

/// Everything restore needs to know about what it restores.
#[derive(Debug, Clone)]
struct Target {
    id: String,
    path: Vec<u8>,
    sha256: String,
    size: u64,
    mode: Mode,
    source_commit: String,
    git_blob_id: Option<String>,
    /// The item's state, when the store has a record.
    state: Option<String>,
}

impl Target {
    fn from_item(i: &items::Item) -> Target {
        Target {
            id: i.id.clone(),
            path: i.path.clone(),
            sha256: i.sha256.clone(),
            size: i.size,
            mode: Mode::parse(&i.mode).unwrap_or(Mode::File),
            source_commit: i.source_commit.clone(),
            git_blob_id: i.git_blob_id.clone(),
            state: Some(i.state.clone()),
        }
    }

    /// From an item record on the archive branch (as `list --json` writes it).
    fn from_branch(v: &serde_json::Value) -> Option<Target> {
        let path = crate::id::unhex(v["path_bytes_hex"].as_str()?)?;
        crate::stub::check_relative(&path).ok()?;
        Some(Target {
            id: v["id"].as_str()?.to_owned(),
            path,
            sha256: v["sha256"].as_str()?.to_owned(),
            size: v["size"].as_u64()?,
            mode: Mode::parse(v["mode"].as_str()?)?,
            source_commit: v["source_commit"].as_str()?.to_owned(),
            git_blob_id: v["git_blob_id"].as_str().map(str::to_owned),
            state: None,
        })
    }

    fn from_stub(s: &Stub) -> Target {
        Target {
            id: s.id.clone(),
            path: s.path.clone(),
            sha256: s.sha256.clone(),
            size: s.size,
            mode: s.mode,
            source_commit: s.source_commit.clone(),
            git_blob_id: None,
            state: None,
        }
    }
}

#[derive(Serialize)]
struct Report<'a> {
    id: &'a str,
    path: String,
    sha256: &'a str,
    size: u64,
    mode: &'a str,
    /// `store` or `git-object-db`.
    source: &'a str,
    written_to: String,
    staged: bool,
    dry_run: bool,
}

/// Run `restore`.
pub fn run(args: &RestoreArgs, ctx: &Ctx) -> Outcome {
    let store = ctx.existing_store()?;
    let target = find(ctx, store.as_ref(), &args.target)?;
    if target.state.as_deref() == Some(state::PURGED) {
        let details = match &store {
            Some(s) => crate::governance::purge::describe(s.conn(), &target.id)?,
            None => String::new(),
        };
        return Err(CommandError::Purged {
            id: target.id,
            path: shown(&target.path),
            details,
        }
        .into());
    }
    if target.state.as_deref() == Some(state::VACUUMED) {
        ctx.out.note(&format!(
            "the store's copy of {} was vacuumed (retention); looking for it in the archive branch and the git object database",
            target.id
        ));
    }
    let (bytes, source) = content(ctx, store.as_ref(), &target)?;
    drop(store);

    let to_original = args.output.is_none();
    let dest = match &args.output {
        Some(out) => ctx.cwd.join(out),
        None => ctx.worktree_path(&target.path),
    };
    check_destination(&dest, &target, args.force, to_original)?;
    let stage = to_original && !args.no_stage;
    let report = Report {
        id: &target.id,
        path: shown(&target.path),
        sha256: &target.sha256,
        size: target.size,
        mode: target.mode.as_str(),
        source,
        written_to: dest.display().to_string(),
        staged: stage && !args.dry_run,
        dry_run: args.dry_run,
    };
    if args.dry_run {
        ctx.out.json(&report);
        ctx.out.text(&format!(
            "would restore {} ({}, {} bytes, verified) from {source} to {}",
            report.path, target.id, target.size, report.written_to
        ));
        return Ok(0);
    }

    write(&dest, &bytes, target.mode)?;
    if stage {
        ctx.repo.stage(&[Staged::File {
            path: target.path.clone(),
            bytes,
            mode: target.mode.as_str(),
        }])?;
    }
    let actor = ctx.actor(args.by.as_deref());
    record(ctx, &target, &report, &actor, to_original)?;
    ctx.out.json(&report);
    ctx.out.text(&format!(
        "restored {} ({}, {} bytes, sha256 verified) from {source}{}",
        report.path,
        target.id,
        target.size,
        if to_original {
            String::new()
        } else {
            format!(" to {}", report.written_to)
        }
    ));
    Ok(0)
}

fn find(ctx: &Ctx, store: Option<&Store>, target: &OsStr) -> Result<Target, Error> {
    let not_found = || CommandError::NotFound {
        target: target.to_string_lossy().into_owned(),
    };
    if let Some(store) = store {
        if let Some(item) = show::find(ctx, store, target)? {
            return Ok(Target::from_item(&item));
        }
    }
    if let Some(target) = target.to_str().filter(|t| is_tombstone_id(t)) {
        // No local record: the team's archive branch may have it.
        if let Some(t) = crate::publish::items_on_branch(&ctx.repo, |v| v["id"] == target)
            .last()
            .and_then(Target::from_branch)
        {
            return Ok(t);
        }
        // Or a stub committed in HEAD may still carry this id.
        if let Some(head) = ctx.repo.head_commit()? {
            for (path, bytes) in ctx.repo.stub_candidates(&head)? {
                if let Ok(stub) = Stub::parse(&path, &bytes) {
                    if stub.id == target {
                        return Ok(Target::from_stub(&stub));
                    }
                }
            }
        }
        return Err(not_found().into());
    }
    let path = ctx.repo_path(Path::new(target))?;
    let file = ctx.worktree_path(&path);
    match std::fs::read(&file) {
        Ok(bytes) if crate::stub::may_be_stub(&path, bytes.len() as u64, &bytes) => {
            Stub::parse(&path, &bytes)
                .map(|s| Target::from_stub(&s))
                .map_err(|source| {
                    CommandError::InvalidStub {
                        path: shown(&path),
                        source,
                    }
                    .into()
                })
        }
        _ => {
            let text = String::from_utf8_lossy(&path).into_owned();
            crate::publish::items_on_branch(&ctx.repo, |v| v["path"] == text.as_str())
                .last()
                .and_then(Target::from_branch)
                .filter(|t| t.path == path)
                .ok_or_else(|| not_found().into())
        }
    }
}

/// The verified bytes of `t`, and where they came from.
fn content(ctx: &Ctx, store: Option<&Store>, t: &Target) -> Result<(Vec<u8>, &'static str), Error> {
    let mut why = Vec::new();
    if let Some(store) = store {
        match blobs::get(store.conn(), &t.sha256) {
            Ok(Some(bytes)) => return Ok((bytes, "store")),
            Ok(None) => why.push("the store has no bytes for it".to_owned()),
            Err(e) => {
                ctx.out
                    .warn(&format!("{e}; trying the git object database"));
                why.push(e.to_string());
            }
        }
    }
    if let Some(bytes) = crate::publish::blob_on_branch(&ctx.repo, &t.sha256) {
        if bytes.len() as u64 == t.size {
            return Ok((bytes, "archive-branch"));
        }
    }
    let mut candidates = Vec::new();
    if let Some(id) = &t.git_blob_id {
        candidates.push(id.clone());
    }
    if ctx.repo.has_object(&t.source_commit) {
        if let Ok(Some(e)) = ctx.repo.entry_at(&t.source_commit, &t.path) {
            candidates.push(e.id);
        }
    } else {
        why.push(format!("commit {} is not in this clone", t.source_commit));
    }
    for id in candidates {
        let Ok(bytes) = ctx.repo.blob(&id) else {
            why.push(format!("git blob {id} is not in this clone"));
            continue;
        };
        let actual = sha256_hex(&bytes);
        if actual != t.sha256 || bytes.len() as u64 != t.size {
            return Err(CommandError::Mismatch {
                id: t.id.clone(),
                why: format!(
                    "git blob {id} has sha256 {actual} and {} bytes; the record says {} and {}",
                    bytes.len(),
                    t.sha256,
                    t.size
                ),
            }
            .into());
        }
        return Ok((bytes, "git-object-db"));
    }
    Err(CommandError::Unavailable {
        id: t.id.clone(),
        commit: t.source_commit.clone(),
        why: why.join("; "),
    }
    .into())
}

fn check_destination(
    dest: &Path,
    t: &Target,
    force: bool,
    to_original: bool,
) -> Result<(), CommandError> {
    let Ok(meta) = std::fs::symlink_metadata(dest) else {
        return Ok(());
    };
    let would_overwrite = || CommandError::WouldOverwrite {
        path: dest.display().to_string(),
        id: t.id.clone(),
    };
    if meta.is_dir() {
        return Err(would_overwrite());
    }
    if force {
        return Ok(());
    }
    let is_our_stub = to_original
        && meta.is_file()
        && (meta.len() as usize) <= crate::stub::MAX_STUB_SIZE
        && std::fs::read(dest)
            .ok()
            .and_then(|b| Stub::parse(&t.path, &b).ok())
            .is_some_and(|s| s.id == t.id);
    if is_our_stub {
        Ok(())
    } else {
        Err(would_overwrite())
    }
}

fn write(dest: &Path, bytes: &[u8], mode: Mode) -> Result<(), CommandError> {
    let io = |source| CommandError::Io {
        path: dest.to_path_buf(),
        source,
    };
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    match mode {
        Mode::Symlink => fsutil::symlink_atomic(dest, &PathBuf::from(OsStr::from_bytes(bytes))),
        Mode::Executable => fsutil::write_atomic(dest, bytes, 0o755),
        Mode::File => fsutil::write_atomic(dest, bytes, 0o644),
    }
    .map_err(io)
}

fn record(
    ctx: &Ctx,
    t: &Target,
    report: &Report<'_>,
    actor: &str,
    to_original: bool,
) -> Result<(), Error> {
    let mut store = ctx.open_store()?;
    let now = clock::now();
    store.write(|tx| {
        if to_original && t.state.is_some() {
            items::set_state(tx, &t.id, state::RESTORED, None, &now)?;
        }
        let data = serde_json::json!({
            "id": t.id,
            "path": report.path,
            "sha256": t.sha256,
            "source": report.source,
            "written_to": if to_original { report.path.clone() } else { report.written_to.clone() },
            "staged": report.staged,
        });
        evidence::append(tx, "restore", actor, &now, &data)
    })?;
    Ok(())
}
