//! What to scan and what to do with a scan's findings: the range (`A..B`, a commit, HEAD's
//! history since the last scan, every branch and tag), scanning it into the store with its
//! checkpoint and evidence line, and setting aside the violations from before adoption.
//! `scan` and `ci` share these.

use crate::clock;
use crate::context::Ctx;
use crate::error::{CommandError, Error};
use crate::scan::Report;
use crate::store::{checkpoints, evidence, Store};

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

/// Resolve the command line's range; with `since_last`, HEAD's history since that store's
/// checkpoint (all of it without one).
pub fn resolve(ctx: &Ctx, range: Option<&str>, since_last: Option<&Store>) -> Result<Range, Error> {
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
    if let Some(store) = since_last {
        let last = checkpoints::get(store.conn(), CHECKPOINT)?;
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
pub fn every_branch(ctx: &Ctx) -> Result<Range, Error> {
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

/// Scan `range` into the store and record the checkpoint and the scan's evidence line.
pub fn scan_range(
    ctx: &Ctx,
    store: &mut super::Target<'_>,
    range: &Range,
    first_parent: bool,
    actor: &str,
    progress: &dyn Fn(usize, usize),
) -> Result<Report, Error> {
    let mut phases = crate::trace::Phases::start();
    let now = clock::now();
    // Recorded in the scan's last transaction, with its last findings.
    let closing = |tx: &rusqlite::Transaction<'_>, report: &Report| {
        if let (true, Some(tip)) = (range.moves_checkpoint, &report.tip) {
            checkpoints::set(tx, CHECKPOINT, tip, &now)?;
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
    };
    let mut report = super::run(
        &ctx.repo,
        store,
        ctx.policy()?,
        &super::Walk {
            tips: &range.tips,
            hidden: &range.hidden,
            first_parent,
        },
        actor,
        &now,
        &closing,
        progress,
    )?;
    phases.lap("diff-store-and-checkpoint");
    if let Some(line) = phases.report() {
        report.notices.push(crate::context::Notice::Warning(line));
    }
    Ok(report)
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
