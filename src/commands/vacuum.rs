//! `git tombstone vacuum`: retention (see [`crate::governance::vacuum`]).

use crate::cli::VacuumArgs;
use crate::commands::{shown, CommandError, Ctx};
use crate::error::Outcome;
use crate::git::Staged;
use crate::governance::vacuum::{self, Options, Plan};
use crate::governance::GovernanceError;
use crate::output::human_bytes;
use crate::store::streams;

/// Run `vacuum`.
pub fn run(args: &VacuumArgs, ctx: &Ctx) -> Outcome {
    if args.summary {
        return summary(ctx);
    }
    let cutoff = cutoff(args)?;
    if !args.force {
        let min = ctx.policy()?.retention_min_days;
        let days = crate::clock::days_between(&cutoff, &crate::clock::now()).unwrap_or(i64::MAX);
        if days < i64::from(min) {
            return Err(GovernanceError::TooRecent {
                cutoff,
                days,
                min_days: min,
            }
            .into());
        }
    }
    let opts = Options {
        cutoff,
        category: args.category.clone(),
    };
    if args.dry_run {
        // Read-only: the store is opened without write access and nothing else is touched.
        let Some(store) = ctx.existing_store()? else {
            ctx.out.text("no store yet: nothing to vacuum");
            return Ok(0);
        };
        let plan = vacuum::plan(store.conn(), &opts)?;
        let stubs = if args.remove_stubs {
            stubs_to_remove(ctx, store.conn(), &opts.cutoff, opts.category.as_deref())?
        } else {
            Vec::new()
        };
        report(ctx, &plan, &stubs, true);
        return Ok(0);
    }
    let Some(mut store) = ctx.existing_store_writable()? else {
        ctx.out.text("no store yet: nothing to vacuum");
        return Ok(0);
    };
    let actor = ctx.actor(args.by.as_deref());
    let now = crate::clock::now();
    store.secure_delete()?;
    let (plan, applied) = store.write_with(|tx| {
        let plan = vacuum::plan(tx, &opts)?;
        let applied = vacuum::apply(tx, &plan, &actor, &now)?;
        Ok::<_, GovernanceError>((plan, applied))
    })?;
    // The table is the record; the files follow it (a rerun rewrites them again).
    streams::rewrite_files(store.conn(), store.dir(), args.gzip_tombstones)?;
    // Content the store dropped leaves its exports under the store too (Parquet blobs, JSONL).
    let dropped: Vec<String> = plan.blobs_dropped.iter().map(|(s, _)| s.clone()).collect();
    let scrubbed = if dropped.is_empty() {
        Vec::new()
    } else {
        crate::interchange::export::scrub(&mut store, &dropped, &crate::clock::now())?
    };
    if applied.is_some() {
        store.reclaim()?;
    }
    for f in &scrubbed {
        ctx.out
            .text(&format!("  rewrote {f} without the vacuumed content"));
    }
    let stubs = if args.remove_stubs {
        let stubs = stubs_to_remove(ctx, store.conn(), &opts.cutoff, opts.category.as_deref())?;
        remove_stubs(ctx, &stubs)?;
        stubs
    } else {
        Vec::new()
    };
    report(ctx, &plan, &stubs, false);
    Ok(0)
}

fn cutoff(args: &VacuumArgs) -> Result<String, CommandError> {
    match (&args.before, &args.older_than) {
        (Some(d), _) => crate::clock::parse_bound(d).ok_or_else(|| CommandError::Invalid {
            what: "--before".into(),
            why: format!("`{d}` is not a date (YYYY-MM-DD or RFC 3339)"),
        }),
        (None, Some(age)) => crate::clock::parse_age_days(age)
            .map(crate::clock::days_before_now)
            .ok_or_else(|| CommandError::Invalid {
                what: "--older-than".into(),
                why: format!("`{age}` is not an age like 90d, 12w or 1y"),
            }),
        (None, None) => Err(CommandError::Invalid {
            what: "arguments".into(),
            why: "give a cut-off (--before DATE or --older-than AGE), or --summary".into(),
        }),
    }
}

/// Stubs in the work tree of items removed before the cut-off (not held): (path, id).
fn stubs_to_remove(
    ctx: &Ctx,
    conn: &rusqlite::Connection,
    cutoff: &str,
    category: Option<&str>,
) -> Result<Vec<(Vec<u8>, String)>, crate::error::Error> {
    let rows = crate::store::items::stubbed_removed_before(conn, cutoff, category)?;
    // Read without following links (src/worktree.rs): only a regular file at the item's own
    // path or its sidecar, reached through real directories, can be its stub. A directory
    // tombstone stands for other files too and stays.
    let worktree = crate::worktree::Worktree::open(ctx.repo.workdir())?;
    let mut out = Vec::new();
    for (id, path) in rows {
        // Only the stub of this very item, unmodified: anything else there is the user's.
        let Some((location, stub)) = crate::locate::in_worktree(&worktree, &path) else {
            continue;
        };
        let own = location == path || location == crate::stub::sidecar_of(&path);
        if own && stub.id == id {
            out.push((location, id));
        }
    }
    Ok(out)
}

fn remove_stubs(ctx: &Ctx, stubs: &[(Vec<u8>, String)]) -> Result<(), crate::error::Error> {
    if stubs.is_empty() {
        return Ok(());
    }
    let changes: Vec<Staged> = stubs
        .iter()
        .map(|(p, _)| Staged::Remove { path: p.clone() })
        .collect();
    ctx.repo.stage(&changes)?;
    // Removed without following links (src/worktree.rs): a stub behind a link is left alone.
    let worktree = crate::worktree::Worktree::open(ctx.repo.workdir())?;
    for (path, _) in stubs {
        worktree.remove(path).map_err(CommandError::from)?;
    }
    Ok(())
}

fn report(ctx: &Ctx, plan: &Plan, stubs: &[(Vec<u8>, String)], dry_run: bool) {
    let stub_paths: Vec<String> = stubs.iter().map(|(p, _)| shown(p)).collect();
    #[derive(serde::Serialize)]
    struct Vacuumed<'a> {
        dry_run: bool,
        plan: &'a Plan,
        stubs_removed: &'a [String],
    }
    ctx.out.json(&Vacuumed {
        dry_run,
        plan,
        stubs_removed: &stub_paths,
    });
    let verb = if dry_run { "would vacuum" } else { "vacuumed" };
    ctx.out.text(&format!(
        "{verb} {} item(s) removed before {}{}: {} of stored content in {} blob(s)",
        plan.items.len(),
        plan.cutoff,
        plan.category
            .as_deref()
            .map(|c| format!(" (category {c})"))
            .unwrap_or_default(),
        human_bytes(plan.bytes_freed),
        plan.blobs_dropped.len()
    ));
    for i in &plan.items {
        ctx.out
            .text(&format!("  {}  {}  removed {}", i.id, i.path, i.removed_at));
    }
    for k in &plan.kept {
        ctx.out
            .text(&format!("  kept {}  {}: {}", k.id, k.path, k.why));
    }
    for (sha, by) in &plan.blobs_shared {
        ctx.out.text(&format!(
            "  kept content {}… (still used by {by})",
            &sha[..12]
        ));
    }
    for (why, n) in &plan.not_eligible {
        ctx.out.text(&format!("  stays: {n} item(s) {why}"));
    }
    for (stream, n) in &plan.tombstones_pruned {
        let verb = if dry_run { "would prune" } else { "pruned" };
        ctx.out.text(&format!(
            "  {verb} {n} event(s) from tombstones_{stream}.jsonl"
        ));
    }
    for p in &stub_paths {
        let verb = if dry_run {
            "would remove stub"
        } else {
            "removed and staged stub"
        };
        ctx.out.text(&format!("  {verb} {p}"));
    }
    if dry_run {
        ctx.out.text("dry run: nothing was changed");
    }
}

fn summary(ctx: &Ctx) -> Outcome {
    let Some(store) = ctx.existing_store()? else {
        ctx.out.json(&vacuum::Summary::default());
        ctx.out.text("no store yet: nothing archived");
        return Ok(0);
    };
    let s = vacuum::summary(store.conn())?;
    ctx.out.json(&s);
    let range = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => format!("{a} .. {b}"),
        _ => "-".into(),
    };
    ctx.out.text(&format!(
        "{} item(s), {} unique path(s), {} under legal hold",
        s.items, s.unique_paths, s.legal_holds
    ));
    ctx.out.text(&format!(
        "removed:  {}",
        range(&s.removed_first, &s.removed_last)
    ));
    ctx.out.text(&format!(
        "archived: {}",
        range(&s.archived_first, &s.archived_last)
    ));
    ctx.out.text(&format!(
        "content:  {} in the store ({} before compression)",
        human_bytes(s.stored_bytes),
        human_bytes(s.content_bytes)
    ));
    let states: Vec<String> = s.by_state.iter().map(|(k, v)| format!("{k} {v}")).collect();
    ctx.out.text(&format!("states:   {}", states.join(", ")));
    let rows: Vec<Vec<String>> = s
        .by_category
        .iter()
        .map(|(k, v)| vec![k.clone(), v.items.to_string(), human_bytes(v.bytes)])
        .collect();
    ctx.out.table(&["CATEGORY", "ITEMS", "BYTES"], &rows);
    let rows: Vec<Vec<String>> = s
        .tombstones
        .iter()
        .map(|(k, v)| {
            vec![
                format!("tombstones_{k}.jsonl"),
                v.events.to_string(),
                range(&v.first, &v.last),
            ]
        })
        .collect();
    if !rows.is_empty() {
        ctx.out.table(&["STREAM", "EVENTS", "DELETED"], &rows);
    }
    Ok(0)
}
