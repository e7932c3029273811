//! `git tombstone scan [RANGE | --all | --since-last]`: archive the deletions of a range of
//! history and report those that skipped their stub.

use rusqlite::OptionalExtension;

use crate::cli::ScanArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::{Error, Outcome, FAILURE};
use crate::git::Staged;
use crate::report::{self, Format};
use crate::scan::{self, Report};
use crate::store::{evidence, items, Store};
use crate::stub::{Mode, Stub};
use crate::{clock, fsutil};

/// The checkpoint name `--since-last` reads and HEAD scans write.
pub const CHECKPOINT: &str = "head";

/// What to scan: commits reachable from `tips` but not from `hidden`.
#[derive(Debug, Clone)]
pub struct Range {
    pub tips: Vec<String>,
    pub hidden: Vec<String>,
    /// Whether this is (a continuation of) HEAD's history, so the checkpoint moves.
    pub moves_checkpoint: bool,
    pub label: String,
}

/// Resolve the command line's range.
pub fn resolve(
    ctx: &Ctx,
    store: &Store,
    range: Option<&str>,
    since_last: bool,
) -> Result<Range, Error> {
    let head = || ctx.repo.head_commit()?.ok_or(crate::git::GitError::Unborn);
    if let Some(spec) = range {
        if let Some((a, b)) = spec.split_once("..") {
            if b.starts_with('.') {
                return Err(CommandError::Invalid {
                    what: "range".into(),
                    why: format!("`{spec}`: symmetric ranges (A...B) are not supported; use A..B"),
                }
                .into());
            }
            let a = ctx
                .repo
                .resolve_commit(if a.is_empty() { "HEAD" } else { a })?;
            let b = ctx
                .repo
                .resolve_commit(if b.is_empty() { "HEAD" } else { b })?;
            return Ok(Range {
                tips: vec![b],
                hidden: vec![a],
                moves_checkpoint: false,
                label: spec.to_owned(),
            });
        }
        return Ok(Range {
            tips: vec![ctx.repo.resolve_commit(spec)?],
            hidden: Vec::new(),
            moves_checkpoint: false,
            label: spec.to_owned(),
        });
    }
    let head = head()?;
    if since_last {
        let last: Option<String> = store
            .conn()
            .query_row(
                "SELECT commit_id FROM checkpoints WHERE name = ?1",
                [CHECKPOINT],
                |r| r.get(0),
            )
            .optional()
            .map_err(crate::store::StoreError::from)?;
        if let Some(last) = last.filter(|c| ctx.repo.has_object(c)) {
            return Ok(Range {
                label: format!("{}..HEAD (since last scan)", &last[..12.min(last.len())]),
                tips: vec![head],
                hidden: vec![last],
                moves_checkpoint: true,
            });
        }
    }
    Ok(Range {
        tips: vec![head],
        hidden: Vec::new(),
        moves_checkpoint: true,
        label: "HEAD (all history)".into(),
    })
}

/// The history of every local branch, remote-tracking branch and tag (peeled to its commit),
/// without the archive branch (the archive's own data, not the project's history).
fn every_branch(ctx: &Ctx) -> Result<Range, Error> {
    let listing = ctx.repo.run_git(&[
        "for-each-ref",
        "--format=%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)",
        "refs/heads",
        "refs/remotes",
        "refs/tags",
    ])?;
    let archive = format!("/{}", crate::publish::branch_name());
    let mut tips: Vec<String> = Vec::new();
    for line in listing.lines() {
        let f: Vec<&str> = line.split('\0').collect();
        let [name, kind, id, peeled_kind, peeled] = f[..] else {
            continue;
        };
        if name.ends_with(&archive) || name.ends_with("/HEAD") {
            continue;
        }
        let commit = match (kind, peeled_kind) {
            ("commit", _) => id,
            (_, "commit") => peeled,
            _ => continue,
        };
        if !tips.iter().any(|t| t == commit) {
            tips.push(commit.to_owned());
        }
    }
    if tips.is_empty() {
        return Err(crate::git::GitError::Unborn.into());
    }
    Ok(Range {
        label: format!("{} branch(es) and tag(s)", tips.len()),
        tips,
        hidden: Vec::new(),
        moves_checkpoint: false,
    })
}

/// Scan `range` into the store and record the checkpoint.
pub fn scan_range(
    ctx: &Ctx,
    store: &mut Store,
    range: &Range,
    first_parent: bool,
    actor: &str,
) -> Result<Report, Error> {
    let mut phases = crate::trace::Phases::start();
    let now = clock::now();
    let out = ctx.out;
    let report = scan::run(
        &ctx.repo,
        store,
        ctx.policy()?,
        &scan::Walk {
            tips: &range.tips,
            hidden: &range.hidden,
            first_parent,
        },
        actor,
        &now,
        &|done, total| out.progress("scanning commits", done, total),
    )?;
    phases.lap("diff-and-store");
    store.write(|tx| {
        if let (true, Some(tip)) = (range.moves_checkpoint, &report.tip) {
            tx.execute(
                "INSERT INTO checkpoints (name, commit_id, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET commit_id = excluded.commit_id, at = excluded.at",
                [CHECKPOINT, tip.as_str(), now.as_str()],
            )?;
        }
        if report.archived > 0 || !report.violations.is_empty() || report.stubbed > 0 {
            let data = serde_json::json!({
                "range": range.label,
                "tip": report.tip,
                "commits": report.commits,
                "deletions": report.deletions,
                "archived": report.archived,
                "stubbed": report.stubbed,
                "violations": report.violations.iter().map(|v| &v.id).collect::<Vec<_>>(),
            });
            evidence::append(tx, "scan", actor, &now, &data)?;
        }
        Ok(())
    })?;
    phases.lap("checkpoint");
    if let Some(line) = phases.report() {
        ctx.out.warn(&line);
    }
    Ok(report)
}

/// Run `scan`.
pub fn run(args: &ScanArgs, ctx: &Ctx) -> Outcome {
    let mut store = ctx.open_store()?;
    let range = if args.branches {
        every_branch(ctx)?
    } else {
        resolve(ctx, &store, args.range.as_deref(), args.since_last)?
    };
    let actor = ctx.actor(args.by.as_deref());
    let mut report = scan_range(ctx, &mut store, &range, args.first_parent, &actor)?;
    apply_baseline(ctx, &mut report, args.baseline.as_deref(), None, None)?;
    if ctx.repo.is_shallow() {
        ctx.out.warn(
            "this clone is shallow: the scan stopped at its boundary, and deletions in older history were not seen; `git fetch --unshallow` and scan again to cover them",
        );
    }
    let format = if ctx.out.json {
        Format::Json
    } else {
        args.format
    };
    let rendered = report::render(&report, format);
    match &args.output {
        Some(path) => {
            let path = ctx.cwd.join(path);
            fsutil::write_atomic(&path, rendered.as_bytes(), 0o644)
                .map_err(|source| CommandError::Io { path, source })?;
        }
        None => ctx.out.raw(&rendered),
    }
    if args.write_stubs && !report.violations.is_empty() {
        let written = write_stubs(ctx, &mut store, &report, &actor)?;
        ctx.out.note(&written);
    }
    Ok(exit_code(&report, args.fail_on_violation))
}

/// Set aside the violations from before adoption: in a commit before the policy's `since`
/// (a commit: it and its ancestors; a date: commits made before it), or listed in the
/// `baseline` file (a previous JSON report, or one tombstone id per line). They stay archived
/// and are counted in `baselined`; `--fail-on-violation` and the annotations see only the rest.
///
/// `policy_from`: take `since` from the policy committed there instead of the work tree's (a
/// pull request's own `.tombstone.toml` must not baseline its own violations).
pub fn apply_baseline(
    ctx: &Ctx,
    report: &mut Report,
    baseline: Option<&std::path::Path>,
    policy_from: Option<&str>,
    adopted: Option<&str>,
) -> Result<(), Error> {
    let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
    if let Some(file) = baseline {
        let text =
            std::fs::read_to_string(ctx.cwd.join(file)).map_err(|e| CommandError::Invalid {
                what: "--baseline".into(),
                why: format!("{}: {e}", file.display()),
            })?;
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => known.extend(
                v["violations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x["id"].as_str().map(str::to_owned)),
            ),
            Err(_) => known.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| crate::id::is_tombstone_id(l))
                    .map(str::to_owned),
            ),
        }
    }
    let since = match policy_from {
        None => ctx.policy()?.since.clone(),
        Some(commit) => ctx
            .repo
            .file_at(commit, crate::policy::FILE_NAME.as_bytes())?
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|text| crate::policy::Policy::parse(&text, crate::policy::FILE_NAME).ok())
            .and_then(|p| p.since),
    };
    let before_since = |commit: &str| -> bool {
        if adopted.is_some_and(|a| {
            ctx.repo
                .run_git(&["merge-base", "--is-ancestor", commit, a])
                .is_ok()
        }) {
            return true;
        }
        let Some(since) = &since else { return false };
        let as_date = crate::clock::parse_bound(since).and_then(|t| crate::clock::unix_seconds(&t));
        match as_date {
            Some(limit) => ctx
                .repo
                .run_git(&["show", "-s", "--format=%ct", commit])
                .ok()
                .and_then(|t| t.trim().parse::<i64>().ok())
                .is_some_and(|t| t < limit),
            None => ctx.repo.resolve_commit(since).ok().is_some_and(|s| {
                ctx.repo
                    .run_git(&["merge-base", "--is-ancestor", commit, &s])
                    .is_ok()
            }),
        }
    };
    let mut verdict: std::collections::HashMap<String, bool> = Default::default();
    let before = report.violations.len();
    report.violations.retain(|v| {
        if known.contains(&v.id) {
            return false;
        }
        let old = *verdict
            .entry(v.commit.clone())
            .or_insert_with(|| before_since(&v.commit));
        !old
    });
    report.baselined += before - report.violations.len();
    Ok(())
}

/// 1 when history holds a path git refuses (always: a security finding), or when there are
/// violations and `--fail-on-violation`; else 0.
pub fn exit_code(report: &crate::scan::Report, fail_on_violation: bool) -> i32 {
    if !report.unsafe_paths.is_empty() || (fail_on_violation && !report.violations.is_empty()) {
        FAILURE
    } else {
        0
    }
}

/// Add the stubs the violations lack, in one commit of their own.
pub fn write_stubs(
    ctx: &Ctx,
    store: &mut Store,
    report: &Report,
    actor: &str,
) -> Result<String, Error> {
    let Some((commit, ids)) = commit_stubs(ctx, store, report)? else {
        return Ok("no missing stub could be written (the paths are in use again)".into());
    };
    record_stubs(store, &commit, &ids, actor)?;
    Ok(format!(
        "committed {} missing stub(s) as {}",
        ids.len(),
        &commit[..12]
    ))
}

/// Record in the store that `commit` added the stubs of items `ids`.
pub fn record_stubs(
    store: &mut Store,
    commit: &str,
    ids: &[String],
    actor: &str,
) -> Result<(), Error> {
    let now = clock::now();
    store.write(|tx| {
        for id in ids {
            tx.execute(
                "UPDATE items SET action = 'stub', updated_at = ?2 WHERE id = ?1",
                [id.as_str(), now.as_str()],
            )?;
        }
        evidence::append(
            tx,
            "stubs-written",
            actor,
            &now,
            &serde_json::json!({ "commit": commit, "ids": ids }),
        )?;
        Ok(())
    })?;
    Ok(())
}

/// Commit the stubs the violations lack; `None` when none could be written. Returns the
/// commit and the ids of the items whose stubs it adds.
pub fn commit_stubs(
    ctx: &Ctx,
    store: &Store,
    report: &Report,
) -> Result<Option<(String, Vec<String>)>, Error> {
    let head = ctx
        .repo
        .head_commit()?
        .ok_or(crate::git::GitError::Unborn)?;
    let worktree = crate::worktree::Worktree::open(ctx.repo.workdir())?;
    let mut staged = Vec::new();
    let mut ids = Vec::new();
    let mut paths: Vec<Vec<u8>> = Vec::new();
    let mut done: Vec<Vec<u8>> = Vec::new();
    let policy = ctx.policy()?;
    // The newest deletion of a path gets its stub (violations are in commit order), where the
    // policy places it (a sidecar by default).
    for v in report.violations.iter().rev() {
        if done.contains(&v.path_bytes) {
            continue;
        }
        let location = policy
            .decide(&v.path_bytes)
            .placement
            .location(&v.path_bytes);
        if ctx.repo.entry_at(&head, &v.path_bytes)?.is_some()
            || ctx.repo.entry_at(&head, &location)?.is_some()
            || ctx.repo.index_has_children(&location)?
        {
            continue; // the path (or the stub's place) holds something again
        }
        let Some(item) = items::get(store.conn(), &v.id)? else {
            continue;
        };
        let mode = Mode::parse(&item.mode).unwrap_or(Mode::File);
        let stub = Stub::new(
            &item.path,
            mode,
            &item.sha256,
            item.size,
            &item.source_commit,
            &item.reason,
        );
        let Ok(bytes) = stub.render(&location) else {
            continue;
        };
        // Written without following links (src/worktree.rs), where the place is free; a
        // directory on the way that is a link or a file gets the stub in the index only.
        if worktree.file_type(&location).is_none() {
            match worktree.write(
                &location,
                &bytes,
                crate::worktree::Kind::File(0o644),
                crate::worktree::Durability::Synced,
            ) {
                Ok(()) => {}
                Err(crate::worktree::WorktreeError::Refused { .. }) => ctx.out.warn(&format!(
                    "{}: a directory on the way is a symbolic link or a file; the commit records its stub, the work tree is left alone",
                    crate::commands::shown(&location)
                )),
                Err(e) => return Err(CommandError::from(e).into()),
            }
        }
        staged.push(Staged::File {
            path: location.clone(),
            bytes,
            mode: "100644",
            skip_worktree: false,
        });
        done.push(item.path.clone());
        paths.push(location);
        ids.push(item.id);
    }
    if staged.is_empty() {
        return Ok(None);
    }
    ctx.repo.stage(&staged)?;
    let message = format!(
        "git-tombstone: add {} missing tombstone stub(s)\n\nThese files were deleted without the stub the policy requires; their content is\narchived. Restore one with `git archive-restore <path>`.\n",
        ids.len()
    );
    let commit = ctx.repo.commit_paths(&message, &paths)?;
    Ok(Some((commit, ids)))
}
