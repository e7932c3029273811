//! `git tombstone sync`: into the central store.

use crate::cli::SyncArgs;
use crate::commands::Ctx;
use crate::error::Outcome;
use crate::interchange::{export, sync};

/// Run `sync`.
pub fn run(args: &SyncArgs, ctx: &Ctx) -> Outcome {
    let dest = match &args.dest {
        Some(d) => ctx.cwd.join(d),
        None => sync::default_dest()?,
    };
    let Some(mut store) = ctx.existing_store_writable()? else {
        ctx.out.text("no store yet: nothing to sync");
        return Ok(0);
    };
    let read_only = args.dry_run || args.status;
    if !read_only {
        let opts = export::Options {
            content: export::ContentEncoding::Raw,
            level: 9,
        };
        export::run(&mut store, opts, &ctx.actor(None), &crate::clock::now())?;
    }
    let id = ctx.project();
    let host = crate::project::hostname();
    let done = sync::run(&store, &dest, &host, &id, read_only)?;
    ctx.out.json(&done);
    if args.status {
        for f in &done.files {
            let state = match f.action.as_str() {
                "up-to-date" => "synced",
                "copy" => "missing",
                "replace" => "differs",
                _ => "stale copy",
            };
            ctx.out.text(&format!("{state:<10} {}", f.file));
        }
    } else {
        for f in done.files.iter().filter(|f| f.action != "up-to-date") {
            let verb = if args.dry_run { "would " } else { "" };
            ctx.out.text(&format!("{verb}{} {}", f.action, f.dest));
        }
    }
    ctx.out.text(&format!(
        "{}: {} to copy, {} to remove, {} up to date ({}/{})",
        done.project_root, done.copied, done.removed, done.up_to_date, id.namespace, id.project
    ));
    Ok(0)
}
