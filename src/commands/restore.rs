//! `git archive-restore PATH|ID` (also `git tombstone restore`): bring archived content back,
//! verified byte for byte.
//!
//! The item is found by id, by the stub at a path, or as the latest version archived at a
//! path; with no local record, a stub (in the work tree, or in HEAD for an id) still names
//! everything needed. Bytes come from the local store, else from the git object database (the
//! recorded blob id, or `source-commit:path`), and must match the recorded SHA-256 and size
//! before anything is written. The write is atomic, restores the mode (executable bit, symlink),
//! and never replaces a file that is not this item's stub unless `--force`.
//!
//! Hostile input: the path must pass the path gate and is written through [`Worktree`] (never
//! through a link, never outside the work tree or into `.git`); a stub restores only the path
//! it stands at; archive-branch records count only when their id re-derives, and a stub in HEAD
//! wins over them; the mode comes from the store or the source commit, never from a stub's word
//! alone. File, index and store change together: the store's transaction is open while the file
//! is written and staged, and a failure at any step puts the file and index back.

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
use crate::worktree::{Durability, Kind, Worktree};
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
    /// Whether `mode` comes from a trusted record (the store, the source commit, a re-derived
    /// branch record) rather than a stub's word alone.
    mode_bound: bool,
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
            mode_bound: true,
        }
    }

    /// From an item record on the archive branch (as `list --json` writes it), if its id
    /// re-derives from its path, content hash and source commit and its path passes the gate.
    fn from_branch(v: &serde_json::Value) -> Option<Target> {
        let path = crate::id::unhex(v["path_bytes_hex"].as_str()?)?;
        let mode = Mode::parse(v["mode"].as_str()?)?;
        crate::stub::check_relative_as(&path, mode == Mode::Symlink).ok()?;
        let id = v["id"].as_str()?;
        let sha256 = v["sha256"].as_str()?;
        let source_commit = v["source_commit"].as_str()?;
        if !crate::id::is_lower_hex(sha256, 64)
            || !(crate::id::is_lower_hex(source_commit, 40)
                || crate::id::is_lower_hex(source_commit, 64))
            || crate::id::tombstone_id(&path, sha256, source_commit) != id
        {
            return None;
        }
        Some(Target {
            id: id.to_owned(),
            path,
            sha256: sha256.to_owned(),
            size: v["size"].as_u64()?,
            mode,
            source_commit: source_commit.to_owned(),
            git_blob_id: v["git_blob_id"]
                .as_str()
                .filter(|b| crate::id::is_lower_hex(b, 40) || crate::id::is_lower_hex(b, 64))
                .map(str::to_owned),
            state: None,
            mode_bound: true,
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
            mode_bound: false,
        }
    }
}

/// The archive-branch records that `matches`, re-derived; a record that does not re-derive is
/// ignored with a warning (someone with push access to the branch forged or damaged it).
fn branch_targets(ctx: &Ctx, matches: impl Fn(&serde_json::Value) -> bool) -> Vec<Target> {
    crate::publish::items_on_branch(&ctx.repo, matches)
        .iter()
        .filter_map(|v| {
            let t = Target::from_branch(v);
            if t.is_none() {
                ctx.out.warn(&format!(
                    "ignoring archive-branch record {}: its id does not re-derive from its path, sha256 and source commit, or its path is unsafe",
                    v["id"].as_str().unwrap_or("(no id)")
                ));
            }
            t
        })
        .collect()
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
    let mut target = find(ctx, store.as_ref(), &args.target)?;
    let expected = crate::id::tombstone_id(&target.path, &target.sha256, &target.source_commit);
    if expected != target.id {
        return Err(CommandError::Mismatch {
            id: target.id.clone(),
            why: format!(
                "its id does not re-derive from its path, sha256 and source commit (expected {expected}); run `git tombstone verify`"
            ),
        }
        .into());
    }
    crate::stub::check_relative_as(&target.path, target.mode == Mode::Symlink).map_err(|e| {
        CommandError::UnsafePath {
            path: shown(&target.path),
            why: e.to_string(),
        }
    })?;
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
    bind_mode(ctx, &mut target);
    let (bytes, source) = content(ctx, store.as_ref(), &target)?;
    drop(store);

    let to_original = args.output.is_none();
    let worktree = Worktree::open(ctx.repo.workdir())?;
    let dest = match &args.output {
        Some(out) => ctx.cwd.join(out),
        None => worktree.display(&target.path),
    };
    let previous = if to_original {
        check_in_worktree(&worktree, &target, args.force)?
    } else {
        check_destination(&dest, &target, args.force)?;
        None
    };
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

    let actor = ctx.actor(args.by.as_deref());
    let index_before = if stage {
        ctx.repo.index_entry(&target.path)?
    } else {
        None
    };
    let apply = || -> Result<(), Error> {
        if !to_original {
            return write_elsewhere(&dest, &bytes, target.mode).map_err(Error::from);
        }
        worktree.write(&target.path, &bytes, kind(target.mode), Durability::Synced)?;
        if stage {
            ctx.repo.stage(&[Staged::File {
                path: target.path.clone(),
                bytes: bytes.clone(),
                mode: target.mode.as_str(),
                skip_worktree: false,
            }])?;
        }
        Ok(())
    };
    // The store's transaction is open (so a read-only or locked store fails first) while the
    // file is written and staged; if anything after the write fails, file and index go back.
    let undo = || {
        if !to_original {
            let _ = std::fs::remove_file(&dest);
            return;
        }
        match &previous {
            Some(old) => {
                let _ = worktree.write(&target.path, old, Kind::File(0o644), Durability::Synced);
            }
            None => {
                let _ = worktree.remove(&target.path);
            }
        }
        if stage {
            let back = index_before
                .as_ref()
                .and_then(|e| {
                    let mode = match e.mode.as_str() {
                        "100755" => "100755",
                        "120000" => "120000",
                        _ => "100644",
                    };
                    Some(Staged::File {
                        path: target.path.clone(),
                        bytes: ctx.repo.blob(&e.id).ok()?,
                        mode,
                        skip_worktree: false,
                    })
                })
                .unwrap_or(Staged::Remove {
                    path: target.path.clone(),
                });
            let _ = ctx.repo.stage(&[back]);
        }
    };
    let mut written = false;
    let recorded = record(ctx, &target, &report, &actor, to_original, || {
        written = true;
        apply()
    });
    if let Err(e) = recorded {
        if written {
            undo();
        }
        return Err(e);
    }
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

fn kind(mode: Mode) -> Kind {
    match mode {
        Mode::Symlink => Kind::Symlink,
        Mode::Executable => Kind::File(0o755),
        Mode::File => Kind::File(0o644),
    }
}

/// A stub's `mode` line is not covered by its id: take the mode from the source commit or a
/// re-derived archive-branch record, else restore a plain file and say so.
fn bind_mode(ctx: &Ctx, t: &mut Target) {
    if t.mode_bound {
        return;
    }
    let from_commit = ctx
        .repo
        .has_object(&t.source_commit)
        .then(|| ctx.repo.entry_at(&t.source_commit, &t.path).ok().flatten())
        .flatten()
        .and_then(|e| match e.kind {
            crate::git::EntryKind::File => Some(Mode::File),
            crate::git::EntryKind::Executable => Some(Mode::Executable),
            crate::git::EntryKind::Symlink => Some(Mode::Symlink),
            _ => None,
        });
    let id = t.id.clone();
    let bound = from_commit.or_else(|| {
        branch_targets(ctx, |v| v["id"] == id.as_str())
            .last()
            .map(|b| b.mode)
    });
    match bound {
        Some(m) => {
            if m != t.mode {
                ctx.out.warn(&format!(
                    "the stub of {} says mode {}, its source commit says {}: restoring {}",
                    t.id,
                    t.mode.as_str(),
                    m.as_str(),
                    m.as_str()
                ));
            }
            t.mode = m;
        }
        None if t.mode != Mode::File => {
            ctx.out.warn(&format!(
                "the mode of {} ({}) cannot be checked (its source commit is not in this clone): restoring it as a plain file",
                t.id,
                t.mode.as_str()
            ));
            t.mode = Mode::File;
        }
        None => {}
    }
    t.mode_bound = true;
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
        // No local record: a stub committed in HEAD may carry this id (it wins: HEAD is what
        // the team reviewed), else the team's archive branch may have it.
        if let Some(head) = ctx.repo.head_commit()? {
            for (path, bytes) in ctx.repo.stub_candidates(&head)? {
                if let Ok(stub) = Stub::parse(&path, &bytes) {
                    if stub.id == target {
                        return Ok(Target::from_stub(&stub));
                    }
                }
            }
        }
        if let Some(t) = branch_targets(ctx, |v| v["id"] == target).pop() {
            return Ok(t);
        }
        return Err(not_found().into());
    }
    let path = ctx.repo_path(Path::new(target))?;
    let worktree = Worktree::open(ctx.repo.workdir())?;
    match worktree.read_small(&path, crate::stub::MAX_STUB_SIZE) {
        Some(bytes) if crate::stub::may_be_stub(&path, bytes.len() as u64, &bytes) => {
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
            branch_targets(ctx, |v| v["path"] == text.as_str())
                .into_iter()
                .rfind(|t| t.path == path)
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

/// May restore write `t` at its own path? Returns the bytes of the stub it replaces, if any.
fn check_in_worktree(
    wt: &Worktree,
    t: &Target,
    force: bool,
) -> Result<Option<Vec<u8>>, CommandError> {
    use rustix::fs::FileType;
    let would_overwrite = || CommandError::WouldOverwrite {
        path: shown(&t.path),
        id: t.id.clone(),
    };
    match wt.file_type(&t.path) {
        None => Ok(None),
        Some(FileType::Directory) => Err(would_overwrite()),
        Some(_) => {
            let stub = wt.read_small(&t.path, crate::stub::MAX_STUB_SIZE);
            let is_our_stub = stub
                .as_ref()
                .and_then(|b| Stub::parse(&t.path, b).ok())
                .is_some_and(|s| s.id == t.id);
            if is_our_stub || force {
                Ok(stub)
            } else {
                Err(would_overwrite())
            }
        }
    }
}

/// `--output FILE`: the user names the place on purpose; never over a directory, nor over a
/// file that is already there without `--force`.
fn check_destination(dest: &Path, t: &Target, force: bool) -> Result<(), CommandError> {
    let Ok(meta) = std::fs::symlink_metadata(dest) else {
        return Ok(());
    };
    if meta.is_dir() || !force {
        return Err(CommandError::WouldOverwrite {
            path: dest.display().to_string(),
            id: t.id.clone(),
        });
    }
    Ok(())
}

fn write_elsewhere(dest: &Path, bytes: &[u8], mode: Mode) -> Result<(), CommandError> {
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
    apply: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    let mut store = ctx.open_store()?;
    let now = clock::now();
    store.write_with(|tx| -> Result<(), Error> {
        let restored = to_original && t.state.is_some();
        if restored {
            items::set_state(tx, &t.id, state::RESTORED, None, &now)?;
        }
        let data = serde_json::json!({
            "id": t.id,
            "path": report.path,
            "sha256": t.sha256,
            "mode": t.mode.as_str(),
            "source": report.source,
            "written_to": if to_original { report.path.clone() } else { report.written_to.clone() },
            "staged": report.staged,
            "state": restored.then_some(state::RESTORED),
        });
        evidence::append(tx, "restore", actor, &now, &data)?;
        crate::failpoint::hit("restore:before-write");
        apply()?;
        if crate::failpoint::error("restore:after-write") {
            return Err(CommandError::Io {
                path: report.written_to.clone().into(),
                source: std::io::Error::other("injected failure (restore:after-write)"),
            }
            .into());
        }
        Ok(())
    })?;
    Ok(())
}
