//! `git tombstone ci`: the GitHub Actions entry point.
//!
//! Event → range:
//! - `push`: `before..after`. An all-zero `before` is a new branch: what is not on the default
//!   branch (on the default branch itself: its whole history). A force push (`before` not an
//!   ancestor of `after`): from their merge base, or the whole history when `before` is gone.
//! - `pull_request` / `pull_request_target`: `base.sha..head.sha`.
//! - `merge_group`: `base_sha..head_sha`.
//! - anything else (`schedule`, `workflow_dispatch`, …): the history of `GITHUB_REF`.
//!
//! Pushes and other runs on a branch then start where the archive branch records that branch
//! was last scanned, and `--publish` continues the one CI store the archive branch names (see
//! [`continuity`]); the first run that publishes is the adoption point.
//!
//! A shallow clone is deepened (`git fetch --deepen`, doubling, then `--unshallow`) until every
//! commit of the range and its parents are present; a boundary commit would otherwise look
//! like a root that deletes nothing. If the range still cannot be resolved the command fails
//! and names the fix; it never passes vacuously.

use std::io::Write as _;
use std::path::PathBuf;

use crate::cli::CiArgs;
use crate::commands::scan as scan_cmd;
use crate::commands::{CommandError, Ctx};
use crate::error::{Error, Outcome};
use crate::report::{self, Format};
use crate::scan::range::{self as scan_range, Range};
use crate::scan::Report;

mod continuity;

const ZERO: &str = "0000000000000000000000000000000000000000";
/// The most violations annotated (and listed in the step summary); the report file has all.
const ANNOTATIONS: usize = 50;

/// Run `ci`: read the event, scan its range (continuing the archive branch's CI store when
/// publishing, and again after another run published first), then report.
pub fn run(args: &CiArgs, ctx: &Ctx) -> Outcome {
    let event_name = args.event_name.clone().unwrap_or_default();
    let event = read_event(args)?;
    let pr_like = matches!(
        event_name.as_str(),
        "pull_request" | "pull_request_target" | "merge_group"
    );
    // The ref whose scan point the archive branch records (pushes, schedules, manual runs).
    let scan_ref = (args.range.is_none() && !pr_like)
        .then(|| scan_ref(ctx, &event_name, &event))
        .flatten();
    let base_spec = match &args.range {
        Some(r) => explicit_range(ctx, r)?,
        None => range_for(ctx, &args.remote, &event_name, &event, scan_ref.is_some())?,
    };
    let run = Run {
        args,
        ctx,
        event_name,
        branch: args
            .archive_branch
            .clone()
            .unwrap_or_else(crate::publish::branch_name),
        pr_like,
        scan_ref,
        base_spec,
        actor: ctx.actor(None),
    };
    let report = run.scan_and_publish()?;
    let report_path = write_report(ctx, args, &report)?;
    github_outputs(args, &report, &report_path)?;
    annotate(ctx, args, &report, &report_path);
    ctx.out.text(&report::render(&report, Format::Text));
    ctx.out.json(&report);
    Ok(scan_cmd::exit_code(&report, args.fail_on_violation))
}

/// The event file's JSON (`Null` with `--range`); a run with neither is refused.
fn read_event(args: &CiArgs) -> Result<serde_json::Value, Error> {
    if args.event_path.is_none() && args.range.is_none() {
        return Err(CommandError::Invalid {
            what: "ci".into(),
            why: "no event: `git tombstone ci` runs in GitHub Actions (GITHUB_EVENT_PATH), or is given `--event FILE` or `--range A..B`; for a local scan use `git tombstone scan`".into(),
        }
        .into());
    }
    let Some(p) = args.event_path.as_ref().filter(|_| args.range.is_none()) else {
        return Ok(serde_json::Value::Null);
    };
    let text = std::fs::read(p).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => CommandError::Invalid {
            what: "GITHUB_EVENT_PATH".into(),
            why: format!(
                "the event file {} does not exist; pass the runner's event file (--event FILE) or a range (--range A..B)",
                p.display()
            ),
        },
        _ => CommandError::Io {
            path: p.clone(),
            source,
        },
    })?;
    Ok(
        serde_json::from_slice(&text).map_err(|e| CommandError::Invalid {
            what: "GITHUB_EVENT_PATH".into(),
            why: format!("{}: {e}", p.display()),
        })?,
    )
}

/// The adoption point the scan was judged by, and whether this run sets it.
type Adoption = (Option<String>, bool);

/// How many times a run that lost the race to publish rebuilds and scans again.
const ATTEMPTS: u32 = 4;

/// One `ci` run, its event resolved.
struct Run<'a> {
    args: &'a CiArgs,
    ctx: &'a Ctx,
    event_name: String,
    /// The archive branch.
    branch: String,
    /// A pull request or merge group: judged by its base branch's adoption point.
    pr_like: bool,
    /// The ref whose scan point the archive branch records, if any.
    scan_ref: Option<String>,
    /// The event's range (a lower bound when the branch records a scan point).
    base_spec: Spec,
    actor: String,
}

impl Run<'_> {
    /// Scan (and with `--publish`, publish), once, or again from the archive branch when
    /// another run published first.
    fn scan_and_publish(&self) -> Result<Report, Error> {
        let mut stubs: Option<(String, Vec<String>)> = None;
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Continuity: the store is the CI store as the archive branch has it.
            let prepared = if self.args.publish {
                Some(continuity::prepare_store(
                    self.ctx,
                    &self.args.remote,
                    &self.branch,
                )?)
            } else {
                None
            };
            let mut store = self.ctx.open_store()?;
            let (report, range, adoption) = self.scan(&mut store, prepared.is_none())?;
            if self.args.write_stubs {
                self.write_stubs(&mut store, &report, &mut stubs, attempt)?;
            }
            if !self.args.publish {
                return Ok(report);
            }
            drop(store);
            let lost_race = self.publish(&range, adoption)?;
            let rebuilt = prepared
                .as_ref()
                .is_some_and(|p| p.created || p.rebuilt_from.is_some());
            match lost_race {
                None => return Ok(report),
                Some(_) if attempt < ATTEMPTS && rebuilt => {
                    self.ctx.out.note(
                        "another run published to the archive branch first: rebuilding from it and scanning again",
                    );
                    continuity::reset_for_retry(self.ctx, &self.branch)?;
                }
                Some(e) => return Err(e.into()),
            }
        }
    }

    /// Scan the range (from where the archive branch says this ref was last scanned), and
    /// apply the baseline and adoption point. Returns the report, the range, and the adoption
    /// point with whether this run sets it.
    fn scan(
        &self,
        store: &mut crate::store::Store,
        fetch: bool,
    ) -> Result<(Report, Range, Adoption), Error> {
        let ctx = self.ctx;
        // The scan starts where the branch says this ref was last scanned, whichever runner
        // did it; the event's range is only a lower bound. A cancelled, skipped or failed run,
        // or a force push, leaves no gap.
        let spec = match &self.scan_ref {
            Some(r) => continue_from_checkpoint(
                ctx,
                (&self.args.remote, &self.branch),
                fetch,
                r,
                self.base_spec.clone(),
            ),
            None => self.base_spec.clone(),
        };
        let spec_base = match &spec {
            Spec::Range { base, .. } => Some(base.clone()),
            _ => None,
        };
        let range = resolve_deepening(ctx, &self.args.remote, store, &spec)?;
        ctx.out
            .note(&format!("{}: scanning {}", self.event_name, range.label));
        let out = ctx.out;
        let mut report = scan_range::scan_range(
            ctx,
            &mut crate::scan::Target::Open(store),
            &range,
            false,
            &self.actor,
            &|done, total| out.progress("scanning commits", done, total),
        )?;
        for n in &report.notices {
            n.show(&ctx.out);
        }
        // A pull request is judged by its base branch's adoption point, not by one it sets.
        let trusted_policy = spec_base.as_deref().filter(|_| self.pr_like);
        let (adopted, adopting) = if self.pr_like {
            (crate::publish::adopted(&ctx.repo), false)
        } else {
            continuity::adoption_point(ctx, &range)
        };
        if let (Some(a), true) = (&adopted, adopting) {
            ctx.out.note(&format!(
                "adopting at {}: deletions in its history are archived as baseline",
                &a[..12.min(a.len())]
            ));
        }
        scan_range::apply_baseline(
            ctx,
            &mut report,
            self.args.baseline.as_deref(),
            trusted_policy,
            adopted.as_deref(),
        )?;
        Ok((report, range, (adopted, adopting)))
    }

    /// `--write-stubs`: commit the missing stubs once, and record them in this attempt's
    /// store (again after a rebuild: the commit was made once, its record is kept).
    fn write_stubs(
        &self,
        store: &mut crate::store::Store,
        report: &Report,
        stubs: &mut Option<(String, Vec<String>)>,
        attempt: u32,
    ) -> Result<(), Error> {
        let ctx = self.ctx;
        if stubs.is_none() && !report.violations.is_empty() {
            let mut notices = Vec::new();
            *stubs = crate::scan::stubs::commit_stubs(ctx, store, report, &mut notices)?;
            for n in &notices {
                n.show(&ctx.out);
            }
            if stubs.is_none() {
                ctx.out
                    .note("no missing stub could be written (the paths are in use again)");
            }
        }
        if let Some((commit, ids)) = stubs {
            crate::scan::stubs::record_stubs(store, commit, ids, &self.actor)?;
            if attempt == 1 {
                ctx.out.note(&format!(
                    "committed {} missing stub(s) as {}",
                    ids.len(),
                    &commit[..12.min(commit.len())]
                ));
            }
        }
        Ok(())
    }

    /// Publish the CI store to the archive branch with this run's scan point and adoption.
    /// `Some(error)` when another run published first (the caller may rebuild and retry).
    fn publish(
        &self,
        range: &Range,
        (adopted, adopting): Adoption,
    ) -> Result<Option<crate::publish::PublishError>, Error> {
        let ctx = self.ctx;
        let store = ctx.open_store()?;
        // The real clock, as before (the test clock would give every run's commit one time).
        let now = jiff::Timestamp::now().as_second();
        let record = crate::publish::CiRecord {
            checkpoint: self.scan_ref.clone().zip(range.tips.first().cloned()),
            ci_store: true,
            adopted: adopted.filter(|_| adopting),
        };
        match crate::publish::publish_ci(
            &ctx.repo,
            &store,
            &self.branch,
            Some(&self.args.remote),
            now,
            record,
        ) {
            Ok(published) => {
                ctx.out.note(&format!(
                    "published {} item(s) to {}{}",
                    published.items,
                    self.branch,
                    published
                        .pushed_to
                        .map(|r| format!(" on {r}"))
                        .unwrap_or_default()
                ));
                Ok(None)
            }
            Err(e @ crate::publish::PublishError::Diverged { .. }) => Ok(Some(e)),
            Err(e) => Err(e.into()),
        }
    }
}

/// Workflow commands for the violations (at most [`ANNOTATIONS`]; the report has all) and the
/// unsafe paths, on a runner; plain warnings elsewhere.
fn annotate(ctx: &Ctx, args: &CiArgs, report: &Report, report_path: &std::path::Path) {
    let on_runner = std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true");
    for v in report.violations.iter().take(ANNOTATIONS) {
        let level = if args.fail_on_violation {
            "error"
        } else {
            "warning"
        };
        let message = format!(
            "{} was deleted in {} without the stub its policy requires; the content is archived as {}",
            v.path,
            &v.commit[..12.min(v.commit.len())],
            v.id
        );
        if on_runner {
            ctx.out.line(&format!(
                "::{level} file={},title=Deletion without tombstone stub::{}",
                escape_property(&v.path),
                escape_data(&message)
            ));
        } else {
            ctx.out.warn(&message);
        }
    }
    if report.violations.len() > ANNOTATIONS {
        ctx.out.warn(&format!(
            "… and {} more deletion(s) without a stub (all in {})",
            report.violations.len() - ANNOTATIONS,
            report_path.display()
        ));
    }
    for u in &report.unsafe_paths {
        ctx.out.line(&format!(
            "::error title=Unsafe path in history::commit {} deletes {}, a path git refuses to check out ({}); it was not archived",
            &u.commit[..12.min(u.commit.len())],
            escape_data(&u.path),
            escape_data(&u.why)
        ));
    }
}

/// Widen `spec` to start at the commit the archive branch records `git_ref` was last scanned
/// up to. `fetch`: the branch was not fetched yet (preparing the CI store fetches it).
fn continue_from_checkpoint(
    ctx: &Ctx,
    (remote, branch): (&str, &str),
    fetch: bool,
    git_ref: &str,
    spec: Spec,
) -> Spec {
    let tip = match &spec {
        Spec::Range { tip, .. } | Spec::History { tip } => tip.clone(),
        Spec::SinceLast => return spec,
    };
    if fetch {
        let _ = ctx.repo.fetch_branch(remote, branch);
    }
    match continuity::checkpoint_base(ctx, remote, git_ref, &tip) {
        // This event's commits were already scanned (a run for a later push got there first):
        // nothing to scan, and the checkpoint stays where it is.
        Some(base)
            if base != tip
                && ctx
                    .repo
                    .run_git(&["merge-base", "--is-ancestor", &tip, &base])
                    .is_ok() =>
        {
            ctx.out.note(&format!(
                "the archive branch records {git_ref} scanned up to {}, past this event's {}: nothing left to scan",
                &base[..12.min(base.len())],
                &tip[..12.min(tip.len())]
            ));
            Spec::Range {
                base: base.clone(),
                tip: base,
            }
        }
        Some(base) => {
            ctx.out.note(&format!(
                "the archive branch records {git_ref} scanned up to {}: continuing from there",
                &base[..12.min(base.len())]
            ));
            Spec::Range { base, tip }
        }
        None => spec,
    }
}

/// The ref a push, schedule or manual run scans: the event's, else `GITHUB_REF`, else the
/// branch checked out.
fn scan_ref(ctx: &Ctx, event_name: &str, event: &serde_json::Value) -> Option<String> {
    let from_event = event["ref"].as_str().map(str::to_owned);
    let from_env = std::env::var("GITHUB_REF").ok();
    let checked_out = || {
        ctx.repo
            .run_git(&["symbolic-ref", "-q", "HEAD"])
            .ok()
            .map(|s| s.trim().to_owned())
    };
    let r = if event_name == "push" {
        from_event.or(from_env)
    } else {
        from_env.or(from_event).or_else(checked_out)
    }?;
    r.starts_with("refs/heads/").then_some(r)
}

/// `--range A..B` (or one commit: its history).
fn explicit_range(ctx: &Ctx, r: &str) -> Result<Spec, Error> {
    Ok(match r.split_once("..") {
        Some((a, b)) => Spec::Range {
            base: ctx.repo.resolve_commit(a)?,
            tip: ctx
                .repo
                .resolve_commit(if b.is_empty() { "HEAD" } else { b })?,
        },
        None => Spec::History {
            tip: ctx.repo.resolve_commit(r)?,
        },
    })
}

/// `base..tip` from an event's two commit ids, or a usage error naming the event.
fn event_range(
    what: &str,
    base: &serde_json::Value,
    tip: &serde_json::Value,
) -> Result<Spec, Error> {
    match (sha(base), sha(tip)) {
        (Some(base), Some(tip)) => Ok(Spec::Range { base, tip }),
        _ => Err(CommandError::Invalid {
            what: format!("{what} event"),
            why: "its base and head commit ids are missing or not hex".into(),
        }
        .into()),
    }
}

/// What the event asks to scan: `(tip, Some(base))` for a range, `(tip, None)` for history.
#[derive(Debug, Clone)]
enum Spec {
    Range { base: String, tip: String },
    History { tip: String },
    SinceLast,
}

fn sha(v: &serde_json::Value) -> Option<String> {
    v.as_str()
        .filter(|s| crate::id::is_lower_hex(s, 40) || crate::id::is_lower_hex(s, 64))
        .map(str::to_owned)
}

fn range_for(
    ctx: &Ctx,
    remote: &str,
    event_name: &str,
    event: &serde_json::Value,
    has_ref: bool,
) -> Result<Spec, Error> {
    let head = || -> Result<String, Error> {
        Ok(ctx
            .repo
            .head_commit()?
            .ok_or(crate::git::GitError::Unborn)?)
    };
    Ok(match event_name {
        "push" => {
            let after = sha(&event["after"])
                .or_else(|| std::env::var("GITHUB_SHA").ok())
                .map_or_else(head, Ok)?;
            let before = sha(&event["before"]).unwrap_or_else(|| ZERO.to_owned());
            let default = event["repository"]["default_branch"]
                .as_str()
                .unwrap_or("main");
            let on_default = event["ref"].as_str() == Some(&format!("refs/heads/{default}"));
            if before.chars().all(|c| c == '0') {
                if on_default {
                    Spec::History { tip: after }
                } else {
                    let _ = ctx.repo.run_git(&[
                        "fetch",
                        "--quiet",
                        "--no-tags",
                        remote,
                        &format!("+refs/heads/{default}:refs/remotes/{remote}/{default}"),
                    ]);
                    match ctx
                        .repo
                        .ref_commit(&format!("refs/remotes/{remote}/{default}"))
                    {
                        Some(base) => Spec::Range { base, tip: after },
                        None => Spec::History { tip: after },
                    }
                }
            } else {
                Spec::Range {
                    base: before,
                    tip: after,
                }
            }
        }
        "merge_group" => event_range(
            "merge_group",
            &event["merge_group"]["base_sha"],
            &event["merge_group"]["head_sha"],
        )?,
        "pull_request" | "pull_request_target" => event_range(
            "pull_request",
            &event["pull_request"]["base"]["sha"],
            &event["pull_request"]["head"]["sha"],
        )?,
        // A schedule or manual run: the ref's history (narrowed by its checkpoint).
        _ if has_ref => Spec::History {
            tip: std::env::var("GITHUB_SHA")
                .ok()
                .filter(|s| sha(&serde_json::Value::from(s.as_str())).is_some())
                .map_or_else(head, Ok)?,
        },
        _ => Spec::SinceLast,
    })
}

/// Commits listed in the shallow file: their parents are not in this clone.
fn shallow_boundary(ctx: &Ctx) -> std::collections::HashSet<String> {
    std::fs::read_to_string(ctx.repo.common_dir().join("shallow"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_owned())
        .collect()
}

/// Turn the spec into a range whose every commit (and parent) is present, deepening a shallow
/// clone as needed.
fn resolve_deepening(
    ctx: &Ctx,
    remote: &str,
    store: &crate::store::Store,
    spec: &Spec,
) -> Result<Range, Error> {
    let label = match spec {
        Spec::Range { base, tip } => format!(
            "{}..{}",
            &base[..12.min(base.len())],
            &tip[..12.min(tip.len())]
        ),
        Spec::History { tip } => format!("the history of {}", &tip[..12.min(tip.len())]),
        Spec::SinceLast => "since the last scan".into(),
    };
    let mut depth = 50u32;
    let mut why = String::new();
    for attempt in 0..8 {
        match try_resolve(ctx, store, spec) {
            Ok(Some(range)) => return Ok(range),
            Ok(None) => why = "some of its commits or their parents are not in this clone".into(),
            Err(e) => why = e,
        }
        let shallow = ctx.repo.is_shallow() || ctx.repo.common_dir().join("shallow").exists();
        if !shallow && attempt > 0 {
            break;
        }
        let deepen = if attempt < 5 {
            format!("--deepen={depth}")
        } else {
            "--unshallow".to_owned()
        };
        ctx.out.note(&format!(
            "the range {label} is not complete in this clone: git fetch {deepen}"
        ));
        let mut fetch = vec!["fetch", "--quiet", "--no-tags", deepen.as_str(), remote];
        if let Spec::Range { base, tip } = spec {
            // Ask for the endpoints too (a force-pushed `before` may be reachable only by id).
            let _ = ctx
                .repo
                .run_git(&["fetch", "--quiet", "--no-tags", remote, base, tip]);
        }
        if !shallow {
            fetch.retain(|a| !a.starts_with("--deepen") && *a != "--unshallow");
        }
        if ctx.repo.run_git(&fetch).is_err() && deepen == "--unshallow" {
            break;
        }
        depth = depth.saturating_mul(2);
    }
    Err(CommandError::RangeUnavailable { range: label, why }.into())
}

/// `Ok(None)`: not complete yet (deepen and retry); `Err`: cannot be resolved as asked.
fn try_resolve(
    ctx: &Ctx,
    store: &crate::store::Store,
    spec: &Spec,
) -> Result<Option<Range>, String> {
    let present = |c: &str| ctx.repo.has_object(c);
    let range = match spec {
        Spec::SinceLast => {
            scan_range::resolve(ctx, None, Some(store)).map_err(|e| e.to_string())?
        }
        Spec::History { tip } => {
            if !present(tip) {
                return Ok(None);
            }
            Range {
                tips: vec![tip.clone()],
                hidden: Vec::new(),
                moves_checkpoint: false,
                label: format!("history of {tip}"),
            }
        }
        Spec::Range { base, tip } => {
            if !present(tip) {
                return Ok(None);
            }
            if !present(base) {
                if !shallow_boundary(ctx).is_empty() {
                    return Ok(None); // may be further back: deepen
                }
                // A complete clone without `before`: force-pushed away. Scan everything.
                return Ok(Some(Range {
                    tips: vec![tip.clone()],
                    hidden: Vec::new(),
                    moves_checkpoint: false,
                    label: format!("history of {tip} (before is gone: force push)"),
                }));
            }
            // A force push: scan from the merge base (or everything, if there is none).
            let is_ancestor = ctx
                .repo
                .run_git(&["merge-base", "--is-ancestor", base, tip])
                .is_ok();
            let base = if is_ancestor {
                Some(base.clone())
            } else {
                ctx.repo
                    .run_git(&["merge-base", base, tip])
                    .ok()
                    .map(|s| s.trim().to_owned())
            };
            Range {
                tips: vec![tip.clone()],
                hidden: base.iter().cloned().collect(),
                moves_checkpoint: false,
                label: format!("{}..{tip}", base.as_deref().unwrap_or("(root)")),
            }
        }
    };
    let boundary = shallow_boundary(ctx);
    if boundary.is_empty() {
        return Ok(Some(range));
    }
    let commits = ctx
        .repo
        .commits(&range.tips, &range.hidden, false)
        .map_err(|e| e.to_string())?;
    if commits.iter().any(|c| boundary.contains(&c.id())) {
        return Ok(None);
    }
    Ok(Some(range))
}

fn write_report(ctx: &Ctx, args: &CiArgs, report: &Report) -> Result<PathBuf, Error> {
    let ext = match args.report_format {
        Format::Text => "txt",
        Format::Json => "json",
        Format::Sarif => "sarif",
        Format::Markdown => "md",
    };
    let path = match &args.report {
        Some(p) => ctx.cwd.join(p),
        // Never into the work tree unasked (it would show up untracked, or be committed).
        None => std::env::var_os("RUNNER_TEMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(format!("tombstone-report.{ext}")),
    };
    crate::fsutil::write_atomic(
        &path,
        report::render(report, args.report_format).as_bytes(),
        0o644,
    )
    .map_err(|source| CommandError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

fn append(var: &str, text: &str) -> Result<(), Error> {
    let Some(path) = std::env::var_os(var) else {
        return Ok(());
    };
    let path = PathBuf::from(path);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|source| CommandError::Io {
            path: path.clone(),
            source,
        })?;
    f.write_all(text.as_bytes())
        .map_err(|source| CommandError::Io { path, source })?;
    Ok(())
}

fn github_outputs(
    args: &CiArgs,
    report: &Report,
    report_path: &std::path::Path,
) -> Result<(), Error> {
    append(
        "GITHUB_STEP_SUMMARY",
        &report::markdown_bounded(report, ANNOTATIONS),
    )?;
    append(
        "GITHUB_OUTPUT",
        &format!(
            "archived={}\nviolations={}\ndeletions={}\nreport={}\nreport-format={}\n",
            report.archived,
            report.violations.len(),
            report.deletions,
            report_path.display(),
            format!("{:?}", args.report_format).to_lowercase()
        ),
    )
}

/// Workflow-command escaping for a message (`%`, CR, LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow-command escaping for a property value (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
