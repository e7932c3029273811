//! `git tombstone snapshot [REV]`: archive a whole tree (see [`crate::snapshot`]).

use crate::cli::SnapshotArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::output::human_bytes;
use crate::snapshot::{self, Options};

/// Run `snapshot`.
pub fn run(args: &SnapshotArgs, ctx: &Ctx) -> Outcome {
    let globs = |flag: &str, pats: &[String]| -> Result<Vec<globset::GlobMatcher>, CommandError> {
        pats.iter()
            .map(|p| {
                crate::policy::glob(p)
                    .map(|g| g.compile_matcher())
                    .map_err(|why| CommandError::Invalid {
                        what: flag.into(),
                        why,
                    })
            })
            .collect()
    };
    let workers = match args.workers.as_str() {
        "auto" => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| CommandError::Invalid {
                what: "--workers".into(),
                why: format!("`{n}`: expected a number of threads or `auto`"),
            })?,
    };
    let opts = Options {
        commit: ctx.repo.resolve_commit(&args.rev)?,
        allow: globs("--allow-glob", &args.allow_globs)?,
        deny: globs("--deny-glob", &args.deny_globs)?,
        update: args.update,
        workers,
    };
    let policy = ctx.policy()?.clone();
    let mut store = ctx.open_store()?;
    let actor = ctx.actor(args.by.as_deref());
    let done = snapshot::run(
        &ctx.repo,
        &mut store,
        &policy,
        policy.compression,
        &opts,
        &actor,
        &crate::clock::now(),
    )
    .map_err(crate::error::Error::from)?;
    ctx.out.json(&done);
    ctx.out.text(&format!(
        "snapshot of {}: {} file(s), {} unchanged, {} added, {} changed, {} deleted; {} of new content",
        &done.commit[..12],
        done.files,
        done.unchanged,
        done.added,
        done.changed,
        done.deleted,
        human_bytes(done.new_content_bytes)
    ));
    Ok(0)
}
