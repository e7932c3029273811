//! `git tombstone compact`: merge small Parquet files per partition.

use crate::cli::CompactArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::interchange::compact;
use crate::output::human_bytes;

/// Run `compact`.
pub fn run(args: &CompactArgs, ctx: &Ctx) -> Outcome {
    if !(1..=22).contains(&args.level) {
        return Err(CommandError::Invalid {
            what: "--level".into(),
            why: format!("{} is not a zstd level (1-22)", args.level),
        }
        .into());
    }
    let before_partition = match &args.older_than {
        None => None,
        Some(age) => {
            let days = crate::clock::parse_age_days(age).ok_or_else(|| CommandError::Invalid {
                what: "--older-than".into(),
                why: format!("`{age}` is not an age like 30d, 12w or 1y"),
            })?;
            Some(crate::interchange::partition_of(
                &crate::clock::days_before_now(days),
            ))
        }
    };
    let Some(mut store) = ctx.existing_store_writable()? else {
        ctx.out.text("no store yet: nothing to compact");
        return Ok(0);
    };
    let opts = compact::Options {
        before_partition,
        level: args.level,
        threshold: args.threshold,
        dry_run: args.dry_run,
    };
    let actor = ctx.actor(args.by.as_deref());
    let done = compact::run(&mut store, &opts, &actor, &crate::clock::now())?;
    ctx.out.json(&done);
    for m in &done.merges {
        ctx.out.text(&format!(
            "{} {} file(s) of {}/{} ({}) into {}{}",
            if done.dry_run {
                "would merge"
            } else {
                "merged"
            },
            m.inputs.len(),
            m.dataset,
            m.partition,
            human_bytes(m.input_bytes as u64),
            m.output,
            m.output_bytes
                .map(|b| format!(" ({})", human_bytes(b as u64)))
                .unwrap_or_default()
        ));
    }
    if done.merges.is_empty() {
        ctx.out.text("nothing to compact");
    }
    if let Some(dest) = &args.dest {
        if done.dry_run {
            ctx.out
                .note("--dry-run: the central store at --dest is not touched");
        } else {
            let synced =
                super::sync::to_dest(ctx, &store, Some(dest), args.endpoint.as_deref(), false)?;
            ctx.out.json(&synced);
            super::sync::report(ctx, &synced, false);
        }
    }
    if done.skipped_large > 0 {
        ctx.out.text(&format!(
            "{} file(s) at or above the {}-byte threshold left alone",
            done.skipped_large, args.threshold
        ));
    }
    Ok(0)
}
