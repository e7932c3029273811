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
use crate::commands::{shown, CommandError, Ctx};
use crate::error::{Error, Outcome};
use crate::git::Staged;
use crate::id::{is_tombstone_id, sha256_hex};
use crate::store::items::{self, state};
use crate::store::{blobs, evidence, Store};
use crate::stub::{Mode, Stub, Tombstone};
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

/// One file to restore, found, checked and with its verified bytes in hand.
struct Ready {
    target: Target,
    bytes: Vec<u8>,
    source: &'static str,
    /// The stub at the path that the file replaces, if any (put back on failure).
    previous: Option<Vec<u8>>,
    /// The index entry at the path before (put back on failure).
    index_before: Option<crate::git::IndexEntry>,
}

/// Run `restore`: resolve every target, check and verify every file, then write them all or
/// none.
pub fn run(args: &RestoreArgs, ctx: &Ctx) -> Outcome {
    let mut phases = crate::trace::Phases::start();
    // Opened once, writable when the restore will record itself (a second open costs as much
    // as the rest of a one-file restore); a dry run only reads.
    let store = if args.dry_run {
        ctx.existing_store()?
    } else {
        ctx.existing_store_writable()?
    };
    phases.lap("open-store");
    let targets = resolve_all(args, ctx, store.as_ref())?;
    phases.lap("resolve");
    // Every file is checked and its bytes verified before any is written.
    let worktree = Worktree::open(ctx.repo.workdir())?;
    let to_original = args.output.is_none();
    let stage = to_original && !args.no_stage;
    let ready = verify_all(args, ctx, store.as_ref(), &worktree, targets)?;
    phases.lap("verify");
    let removals = if to_original {
        tombstones_to_remove(ctx, &worktree, &ready, stage && !args.dry_run)?
    } else {
        Vec::new()
    };
    let plan = Plan {
        ctx,
        worktree: &worktree,
        ready: &ready,
        removals: &removals,
        output: args.output.as_ref().map(|out| ctx.cwd.join(out)),
        stage,
    };
    if let (Some(r), Some(dest)) = (ready.first(), &plan.output) {
        check_destination(dest, &r.target, args.force)?;
    }
    let reports = plan.reports(args.dry_run);
    if args.dry_run {
        plan.show_dry_run(&reports);
        return Ok(0);
    }
    let store = match store {
        Some(s) => s,
        None => ctx.open_store()?,
    };
    plan.write_and_record(store, &reports, &ctx.actor(args.by.as_deref()))?;
    phases.lap("write-and-record");
    if let Some(line) = phases.report() {
        ctx.out.warn(&line);
    }
    plan.show_restored(&reports);
    Ok(0)
}

/// Resolve every target argument; two versions of one path are refused, and `--output` takes
/// exactly one file.
fn resolve_all(args: &RestoreArgs, ctx: &Ctx, store: Option<&Store>) -> Result<Vec<Target>, Error> {
    let mut targets: Vec<Target> = Vec::new();
    for arg in &args.targets {
        for t in resolve(ctx, store, arg, args.at.as_deref())? {
            match targets.iter().find(|o| o.path == t.path) {
                Some(o) if o.id != t.id => {
                    return Err(CommandError::TwoVersions {
                        path: shown(&t.path),
                        ids: format!("{} and {}", o.id, t.id),
                    }
                    .into())
                }
                Some(_) => {}
                None => targets.push(t),
            }
        }
    }
    if args.output.is_some() && targets.len() != 1 {
        return Err(CommandError::OutputNeedsOne {
            count: targets.len(),
        }
        .into());
    }
    Ok(targets)
}

/// Check every target and read and verify its bytes, with what stands at its path now (put
/// back on failure).
fn verify_all(
    args: &RestoreArgs,
    ctx: &Ctx,
    store: Option<&Store>,
    worktree: &Worktree,
    targets: Vec<Target>,
) -> Result<Vec<Ready>, Error> {
    let to_original = args.output.is_none();
    let stage = to_original && !args.no_stage;
    let mut ready = Vec::with_capacity(targets.len());
    for mut target in targets {
        check_target(ctx, store, &mut target)?;
        let (bytes, source) = content(ctx, store, &target)?;
        let previous = if to_original {
            check_in_worktree(worktree, &target, &bytes, args.force)?
        } else {
            None
        };
        let index_before = if stage && !args.dry_run {
            ctx.repo.index_entry(&target.path)?
        } else {
            None
        };
        ready.push(Ready {
            target,
            bytes,
            source,
            previous,
            index_before,
        });
    }
    Ok(ready)
}

/// The verified files, where they go, and the tombstones that go with them.
struct Plan<'a> {
    ctx: &'a Ctx,
    worktree: &'a Worktree,
    ready: &'a [Ready],
    removals: &'a [Removal],
    /// `--output` (one file, anywhere), else every file goes back to its path.
    output: Option<PathBuf>,
    /// Stage the restored files and the removed tombstones.
    stage: bool,
}

impl Plan<'_> {
    fn to_original(&self) -> bool {
        self.output.is_none()
    }

    fn dest(&self, r: &Ready) -> PathBuf {
        match &self.output {
            Some(out) => out.clone(),
            None => self.worktree.display(&r.target.path),
        }
    }

    fn reports(&self, dry_run: bool) -> Vec<Report<'_>> {
        self.ready
            .iter()
            .map(|r| Report {
                id: &r.target.id,
                path: shown(&r.target.path),
                sha256: &r.target.sha256,
                size: r.target.size,
                mode: r.target.mode.as_str(),
                source: r.source,
                written_to: self.dest(r).display().to_string(),
                staged: self.stage && !dry_run,
                dry_run,
            })
            .collect()
    }

    /// Write every file and record the restore in one store transaction, which is open (so a
    /// read-only or locked store fails first) while the files are written and staged; if
    /// anything fails, every file and the index go back.
    fn write_and_record(
        &self,
        store: Store,
        reports: &[Report<'_>],
        actor: &str,
    ) -> Result<(), Error> {
        let written = std::cell::Cell::new(0usize);
        let recorded = record(
            store,
            self.ready,
            reports,
            actor,
            self.to_original(),
            |r| {
                written.set(written.get() + 1);
                self.apply(r)
            },
            || self.finish(),
        );
        if recorded.is_err() {
            self.undo(written.get());
        }
        recorded
    }

    /// Write one file where it goes.
    fn apply(&self, r: &Ready) -> Result<(), Error> {
        if let Some(dest) = &self.output {
            return write_elsewhere(dest, &r.bytes, r.target.mode).map_err(Error::from);
        }
        self.worktree.write(
            &r.target.path,
            &r.bytes,
            kind(r.target.mode),
            Durability::Synced,
        )?;
        Ok(())
    }

    /// After every file: the tombstones that stood for them go, then the index follows.
    fn finish(&self) -> Result<(), Error> {
        for t in self.removals {
            self.worktree.remove(&t.location)?;
        }
        if !self.stage {
            return Ok(());
        }
        let mut changes: Vec<Staged> = self
            .ready
            .iter()
            .map(|r| Staged::File {
                path: r.target.path.clone(),
                bytes: r.bytes.clone(),
                mode: r.target.mode.as_str(),
                skip_worktree: false,
            })
            .collect();
        changes.extend(self.removals.iter().map(|t| Staged::Remove {
            path: t.location.clone(),
        }));
        self.ctx.repo.stage(&changes)?;
        Ok(())
    }

    /// Put back the first `count` files, the tombstones and the index as they were.
    fn undo(&self, count: usize) {
        let worktree = self.worktree;
        for r in self.ready.iter().take(count) {
            if let Some(dest) = &self.output {
                let _ = std::fs::remove_file(dest);
                continue;
            }
            match &r.previous {
                Some(old) => {
                    let _ =
                        worktree.write(&r.target.path, old, Kind::File(0o644), Durability::Synced);
                }
                None => {
                    let _ = worktree.remove(&r.target.path);
                }
            }
        }
        for t in self.removals {
            if worktree.file_type(&t.location).is_none() {
                let _ =
                    worktree.write(&t.location, &t.bytes, Kind::File(0o644), Durability::Synced);
            }
        }
        if self.stage {
            let mut back: Vec<Staged> = self
                .ready
                .iter()
                .take(count)
                .map(|r| self.index_entry_back(&r.target.path, r.index_before.as_ref()))
                .collect();
            back.extend(
                self.removals
                    .iter()
                    .filter(|t| t.index_before.is_some())
                    .map(|t| self.index_entry_back(&t.location, t.index_before.as_ref())),
            );
            let _ = self.ctx.repo.stage(&back);
        }
    }

    /// The index change that puts `path` back to the entry it had (`before`), or removes it.
    fn index_entry_back(&self, path: &[u8], before: Option<&crate::git::IndexEntry>) -> Staged {
        before
            .and_then(|e| {
                let mode = match e.mode.as_str() {
                    "100755" => "100755",
                    "120000" => "120000",
                    _ => "100644",
                };
                Some(Staged::File {
                    path: path.to_vec(),
                    bytes: self.ctx.repo.blob(&e.id).ok()?,
                    mode,
                    skip_worktree: false,
                })
            })
            .unwrap_or(Staged::Remove {
                path: path.to_vec(),
            })
    }

    fn show_dry_run(&self, reports: &[Report<'_>]) {
        let out = &self.ctx.out;
        for (r, report) in self.ready.iter().zip(reports) {
            out.json(report);
            out.text(&format!(
                "would restore {} ({}, {} bytes, verified) from {} to {}",
                report.path, r.target.id, r.target.size, r.source, report.written_to
            ));
        }
        for t in self.removals {
            out.text(&format!(
                "would remove the tombstone {}",
                shown(&t.location)
            ));
        }
    }

    fn show_restored(&self, reports: &[Report<'_>]) {
        let out = &self.ctx.out;
        for (r, report) in self.ready.iter().zip(reports) {
            out.json(report);
            out.text(&format!(
                "restored {} ({}, {} bytes, sha256 verified) from {}{}",
                report.path,
                r.target.id,
                r.target.size,
                r.source,
                if self.to_original() {
                    String::new()
                } else {
                    format!(" to {}", report.written_to)
                }
            ));
        }
        for t in self.removals {
            out.text(&format!("removed the tombstone {}", shown(&t.location)));
        }
    }
}

/// A tombstone that goes once the files it stands for are back.
struct Removal {
    location: Vec<u8>,
    bytes: Vec<u8>,
    index_before: Option<crate::git::IndexEntry>,
}

/// The sidecar and directory tombstones standing for files in `ready` whose every file is
/// restored by this run (a directory tombstone with files left to restore stays).
fn tombstones_to_remove(
    ctx: &Ctx,
    worktree: &Worktree,
    ready: &[Ready],
    stage: bool,
) -> Result<Vec<Removal>, Error> {
    let restored: std::collections::HashSet<&str> =
        ready.iter().map(|r| r.target.id.as_str()).collect();
    let mut out: Vec<Removal> = Vec::new();
    for r in ready {
        for location in crate::locate::locations(&r.target.path).into_iter().skip(1) {
            let Some(t) = crate::locate::at(worktree, &location) else {
                continue;
            };
            let stubs = t.stubs();
            if !stubs.iter().any(|s| s.path == r.target.path) {
                continue;
            }
            let all_back = stubs.iter().all(|s| restored.contains(s.id.as_str()));
            if all_back && !out.iter().any(|o| o.location == location) {
                let bytes = worktree
                    .read_small(&location, crate::stub::max_size(&location))
                    .unwrap_or_default();
                let index_before = if stage {
                    ctx.repo.index_entry(&location)?
                } else {
                    None
                };
                out.push(Removal {
                    location,
                    bytes,
                    index_before,
                });
            }
            break; // the nearest tombstone standing for the file is the one that counts
        }
    }
    Ok(out)
}

/// Re-derive `t`'s id, gate its path, refuse purged content, and bind its mode.
fn check_target(ctx: &Ctx, store: Option<&Store>, t: &mut Target) -> Result<(), Error> {
    let expected = crate::id::tombstone_id(&t.path, &t.sha256, &t.source_commit);
    if expected != t.id {
        return Err(CommandError::Mismatch {
            id: t.id.clone(),
            why: format!(
                "its id does not re-derive from its path, sha256 and source commit (expected {expected}); run `git tombstone verify`"
            ),
        }
        .into());
    }
    crate::stub::check_relative_as(&t.path, t.mode == Mode::Symlink).map_err(|e| {
        CommandError::UnsafePath {
            path: shown(&t.path),
            why: e.to_string(),
        }
    })?;
    if t.state.as_deref() == Some(state::PURGED) {
        let details = match store {
            Some(s) => crate::governance::purge::describe(s.conn(), &t.id)?,
            None => String::new(),
        };
        return Err(CommandError::Purged {
            id: t.id.clone(),
            path: shown(&t.path),
            details,
        }
        .into());
    }
    if t.state.as_deref() == Some(state::VACUUMED) {
        ctx.out.note(&format!(
            "the store's copy of {} was vacuumed (retention); looking for it in the archive branch and the git object database",
            t.id
        ));
    }
    bind_mode(ctx, t);
    Ok(())
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

/// A version of a file, as a candidate for "the latest".
struct Version {
    target: Target,
    /// When it left the tree (`removed_at`, else when it was archived).
    when: String,
    removed_in: Option<String>,
}

impl Version {
    fn of_item(i: &items::Item) -> Version {
        Version {
            target: Target::from_item(i),
            when: i
                .removed_at
                .clone()
                .unwrap_or_else(|| i.archived_at.clone()),
            removed_in: i.removed_in_commit.clone(),
        }
    }
}

/// Everything `arg` names: an id; the stub at a path; the latest (or `--at`) version of a
/// path; every archived path below a directory; every archived path a glob matches. Store
/// records first, then the archive branch; nothing found says how to fetch the branch.
fn resolve(
    ctx: &Ctx,
    store: Option<&Store>,
    arg: &OsStr,
    at: Option<&str>,
) -> Result<Vec<Target>, Error> {
    if let Some(id) = arg.to_str().filter(|t| is_tombstone_id(t)) {
        return find_id(ctx, store, id).map(|t| vec![t]);
    }
    let path = ctx.repo_path(Path::new(arg))?;
    // The tombstone standing for the path names its version, unless another is asked for.
    if at.is_none() {
        if let Some(targets) = standing_tombstone(ctx, store, &path)? {
            return Ok(targets);
        }
    }
    let at = at.map(|c| ctx.repo.resolve_commit(c).unwrap_or_else(|_| c.to_owned()));
    let glob = glob_of(arg, &path)?;
    let by_path = versions_by_path(ctx, store, &path, glob.as_ref())?;
    if by_path.is_empty() {
        return Err(not_found(ctx, &arg.to_string_lossy()).into());
    }
    let single = by_path.len() == 1 && by_path.contains_key(&path);
    let mut out = Vec::with_capacity(by_path.len());
    for (p, versions) in by_path {
        out.push(choose(ctx, &p, versions, at.as_deref(), single)?);
    }
    Ok(out)
}

/// The targets the tombstone standing for `path` names: a directory tombstone
/// `<path>.tombstone` (every file it lists), the stub at the path itself, the sidecar
/// `<path>.tombstone`, or a directory tombstone above it. A file there that looks like a
/// tombstone must be a valid one.
fn standing_tombstone(
    ctx: &Ctx,
    store: Option<&Store>,
    path: &[u8],
) -> Result<Option<Vec<Target>>, Error> {
    let worktree = Worktree::open(ctx.repo.workdir())?;
    let from = |stub: &Stub| -> Target {
        match store.and_then(|s| items::get(s.conn(), &stub.id).ok().flatten()) {
            Some(item) => Target::from_item(&item),
            None => Target::from_stub(stub),
        }
    };
    let sidecar = crate::stub::sidecar_of(path);
    if let Some(bytes) = worktree.read_small(&sidecar, crate::stub::max_size(&sidecar)) {
        if crate::stub::may_be_stub(&sidecar, bytes.len() as u64, &bytes) {
            let t =
                Tombstone::parse(&sidecar, &bytes).map_err(|source| CommandError::InvalidStub {
                    path: shown(&sidecar),
                    source,
                })?;
            return Ok(Some(t.stubs().iter().map(from).collect()));
        }
    }
    if let Some(bytes) = worktree.read_small(path, crate::stub::MAX_STUB_SIZE) {
        if crate::stub::may_be_stub(path, bytes.len() as u64, &bytes) {
            let stub = Stub::parse(path, &bytes).map_err(|source| CommandError::InvalidStub {
                path: shown(path),
                source,
            })?;
            return Ok(Some(vec![from(&stub)]));
        }
    }
    Ok(crate::locate::in_worktree(&worktree, path).map(|(_, stub)| vec![from(&stub)]))
}

/// The glob `arg` is, if it has glob characters.
fn glob_of(arg: &OsStr, path: &[u8]) -> Result<Option<globset::GlobMatcher>, Error> {
    if !arg
        .to_str()
        .is_some_and(|a| a.contains(['*', '?', '[', '{']))
    {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(path).into_owned();
    let glob = globset::GlobBuilder::new(&text)
        .literal_separator(true)
        .build()
        .map_err(|e| CommandError::BadGlob {
            glob: text.clone(),
            why: e.to_string(),
        })?;
    Ok(Some(glob.compile_matcher()))
}

/// The archived versions of `path`, of every path below it, or of every path `glob`
/// matches, by path: from the store, else from the archive branch (newest first).
fn versions_by_path(
    ctx: &Ctx,
    store: Option<&Store>,
    path: &[u8],
    glob: Option<&globset::GlobMatcher>,
) -> Result<std::collections::BTreeMap<Vec<u8>, Vec<Version>>, Error> {
    let mut by_path: std::collections::BTreeMap<Vec<u8>, Vec<Version>> = Default::default();
    if let Some(store) = store {
        let conn = store.conn();
        let exact = items::versions_at_path(conn, path)?;
        if !exact.is_empty() {
            by_path.insert(path.to_vec(), exact.iter().map(Version::of_item).collect());
            return Ok(by_path);
        }
        let paths = match glob {
            Some(g) => items::paths_under(conn, b"")?
                .into_iter()
                .filter(|p| g.is_match(std::ffi::OsStr::from_bytes(p)))
                .collect(),
            None => items::paths_under(conn, path)?,
        };
        for p in paths {
            let versions = items::versions_at_path(conn, &p)?;
            by_path.insert(p, versions.iter().map(Version::of_item).collect());
        }
        if !by_path.is_empty() {
            return Ok(by_path);
        }
    }
    let below = [path, b"/"].concat();
    for t in branch_targets(ctx, |_| true) {
        let wanted = match glob {
            Some(g) => g.is_match(std::ffi::OsStr::from_bytes(&t.path)),
            None => t.path == path || t.path.starts_with(&below),
        };
        if wanted {
            let v = branch_version(ctx, t);
            by_path.entry(v.target.path.clone()).or_default().push(v);
        }
    }
    for versions in by_path.values_mut() {
        versions.sort_by(|a, b| b.when.cmp(&a.when));
    }
    Ok(by_path)
}

/// The version of `path` to restore: the one removed in or taken from commit `at`, else the
/// latest. For a single path with several versions, a note says which and how to pick
/// another.
fn choose(
    ctx: &Ctx,
    path: &[u8],
    mut versions: Vec<Version>,
    at: Option<&str>,
    single: bool,
) -> Result<Target, Error> {
    let count = versions.len();
    let chosen = match at {
        Some(c) => versions
            .iter()
            .position(|v| {
                v.removed_in.as_deref().is_some_and(|r| r.starts_with(c))
                    || v.target.source_commit.starts_with(c)
            })
            .ok_or_else(|| CommandError::NoVersionAt {
                path: shown(path),
                commit: c.to_owned(),
                count,
            })?,
        None => latest(ctx, &versions),
    };
    let v = versions.swap_remove(chosen);
    if single && count > 1 {
        ctx.out.note(&format!(
            "{}: restoring the version removed {}{} ({}), {} of {count} archived versions; pick another with --at <commit> or its id (`git tombstone list --json`)",
            shown(path),
            v.removed_in
                .as_deref()
                .map(|c| format!("in {} ", &c[..c.len().min(12)]))
                .unwrap_or_default(),
            v.when,
            v.target.id,
            if at.is_some() { "chosen" } else { "the newest" },
        ));
    }
    Ok(v.target)
}

/// Index of the most recently removed of `versions` (sorted newest first): among those
/// removed at the same time, one whose removing commit descends from the others' wins.
fn latest(ctx: &Ctx, versions: &[Version]) -> usize {
    let Some(first) = versions.first() else {
        return 0;
    };
    let mut best = 0;
    for (i, v) in versions.iter().enumerate().skip(1) {
        if v.when != first.when {
            break;
        }
        if let (Some(a), Some(b)) = (&versions[best].removed_in, &v.removed_in) {
            if a != b
                && ctx
                    .repo
                    .run_git(&["merge-base", "--is-ancestor", a, b])
                    .is_ok()
            {
                best = i;
            }
        }
    }
    best
}

/// An archive-branch target as a version (its record's `removed_at`, else `archived_at`).
fn branch_version(ctx: &Ctx, t: Target) -> Version {
    let id = t.id.clone();
    let record = crate::publish::items_on_branch(&ctx.repo, |v| v["id"] == id.as_str()).pop();
    let field = |k: &str| {
        record
            .as_ref()
            .and_then(|r| r[k].as_str().map(str::to_owned))
    };
    Version {
        when: field("removed_at")
            .or_else(|| field("archived_at"))
            .unwrap_or_default(),
        removed_in: field("removed_in_commit").filter(|c| crate::id::is_lower_hex(c, 40)),
        target: t,
    }
}

/// Nothing matched: say so, and if the archive branch is not in this clone, how to fetch it.
fn not_found(ctx: &Ctx, target: &str) -> CommandError {
    let branch = crate::publish::branch_name();
    let hint = if crate::publish::branch_tips(&ctx.repo).is_empty() {
        format!(
            "this clone has no archive branch: fetch it with `git fetch origin {branch}:refs/remotes/origin/{branch}` (a --single-branch clone leaves it out), then retry; `git tombstone list` shows what the local store has"
        )
    } else {
        "`git tombstone list` shows what is archived; pass a path, a directory, a glob or a tb_… id"
            .to_owned()
    };
    CommandError::NotFound {
        target: target.to_owned(),
        hint,
    }
}

/// The item with id `id`: the store's record, else a stub in HEAD carrying it (HEAD is what the
/// team reviewed), else the archive branch's re-derived record.
fn find_id(ctx: &Ctx, store: Option<&Store>, id: &str) -> Result<Target, Error> {
    if let Some(store) = store {
        if let Some(item) = items::get(store.conn(), id)? {
            return Ok(Target::from_item(&item));
        }
    }
    if let Some(head) = ctx.repo.head_commit()? {
        for (path, bytes) in ctx.repo.stub_candidates(&head)? {
            if let Ok(t) = Tombstone::parse(&path, &bytes) {
                if let Some(stub) = t.stubs().into_iter().find(|s| s.id == id) {
                    return Ok(Target::from_stub(&stub));
                }
            }
        }
    }
    if let Some(t) = branch_targets(ctx, |v| v["id"] == id).pop() {
        return Ok(t);
    }
    Err(not_found(ctx, id).into())
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

/// May restore write `t` (content `bytes`) at its own path? Yes where the path is free, holds
/// this item's stub, or already holds exactly this content (restored before; a directory
/// restore passes over it). Returns what it replaces (put back on failure).
fn check_in_worktree(
    wt: &Worktree,
    t: &Target,
    bytes: &[u8],
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
            // Read as much as the content (or a stub) could be: a larger file is neither.
            let existing = wt.read_small(&t.path, bytes.len().max(crate::stub::MAX_STUB_SIZE));
            if t.mode != Mode::Symlink && existing.as_deref() == Some(bytes) {
                return Ok(existing);
            }
            let is_our_stub = existing
                .as_ref()
                .filter(|b| b.len() <= crate::stub::MAX_STUB_SIZE)
                .and_then(|b| Stub::parse(&t.path, b).ok())
                .is_some_and(|s| s.id == t.id);
            if is_our_stub || force {
                Ok(existing)
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
        fsutil::create_dir_all_synced(parent).map_err(io)?;
    }
    match mode {
        Mode::Symlink => fsutil::symlink_atomic(dest, &PathBuf::from(OsStr::from_bytes(bytes))),
        Mode::Executable => fsutil::write_atomic(dest, bytes, 0o755),
        Mode::File => fsutil::write_atomic(dest, bytes, 0o644),
    }
    .map_err(io)
}

/// In one store transaction: one evidence line per file (and its state), then every file
/// written (`apply`) and the index updated (`stage`). Any failure rolls the store back; the
/// caller puts the files and index back.
fn record(
    mut store: crate::store::Store,
    ready: &[Ready],
    reports: &[Report<'_>],
    actor: &str,
    to_original: bool,
    mut apply: impl FnMut(&Ready) -> Result<(), Error>,
    stage: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    let now = clock::now();
    store.write_with(|tx| -> Result<(), Error> {
        for (r, report) in ready.iter().zip(reports) {
            let t = &r.target;
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
        }
        crate::failpoint::hit("restore:before-write");
        for r in ready {
            apply(r)?;
        }
        stage()?;
        if crate::failpoint::error("restore:after-write") {
            return Err(CommandError::Io {
                path: reports.last().map(|r| r.written_to.clone()).unwrap_or_default().into(),
                source: std::io::Error::other("injected failure (restore:after-write)"),
            }
            .into());
        }
        Ok(())
    })?;
    Ok(())
}
