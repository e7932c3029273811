//! `git tombstone sync`: into the central store.

use crate::cli::SyncArgs;
use crate::commands::Ctx;
use crate::error::Outcome;
use crate::interchange::{bucket, export, remote, sync};

/// Run `sync`: into the central store (a directory or an s3:// bucket), and with `--catalog`
/// (or `GIT_TOMBSTONE_CATALOG`) into the PostgreSQL catalog too.
pub fn run(args: &SyncArgs, ctx: &Ctx) -> Outcome {
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
    let done = to_dest(
        ctx,
        &store,
        args.dest.as_deref(),
        args.endpoint.as_deref(),
        read_only,
    )?;
    ctx.out.json(&done);
    if args.status {
        for f in &done.files {
            let state = match f.action.as_str() {
                "up-to-date" => "synced",
                "copy" => "missing",
                "replace" => "differs",
                "retired-remotely" => "replaced",
                _ => "stale copy",
            };
            ctx.out.text(&format!("{state:<10} {}", f.file));
        }
    } else {
        report(ctx, &done, args.dry_run);
    }
    // The catalog after the files, so it has this sync's export line too.
    if let Some(address) = &args.catalog {
        if read_only {
            ctx.out
                .note("--dry-run and --status compare files: the catalog is not touched");
        } else {
            sync_catalog(ctx, &store, address)?;
        }
    }
    Ok(0)
}

/// Sync (or plan, `read_only`) the store's Parquet files into `dest`: an `s3://` bucket, a
/// directory, or by default `~/.tombstone/projects`.
pub fn to_dest(
    ctx: &Ctx,
    store: &crate::store::Store,
    dest: Option<&std::path::Path>,
    endpoint: Option<&str>,
    read_only: bool,
) -> Result<sync::Synced, crate::error::Error> {
    let id = ctx.project();
    let host = crate::project::hostname();
    if let Some(url) = dest
        .and_then(|d| d.to_str())
        .filter(|d| remote::is_remote(d))
    {
        let remote = remote::Remote::open(url, endpoint)?;
        return Ok(bucket::sync(store, &remote, &host, &id, read_only)?);
    }
    let dest = match dest {
        Some(d) => ctx.cwd.join(d),
        None => sync::default_dest()?,
    };
    Ok(sync::run(store, &dest, &host, &id, read_only)?)
}

/// Say what a sync did (or, dry, would do).
pub fn report(ctx: &Ctx, done: &sync::Synced, dry_run: bool) {
    for f in done.files.iter().filter(|f| f.action != "up-to-date") {
        let verb = if dry_run { "would " } else { "" };
        ctx.out.text(&format!("{verb}{} {}", f.action, f.dest));
    }
    let id = ctx.project();
    ctx.out.text(&format!(
        "{}: {} to copy, {} to remove, {} up to date ({}/{})",
        done.project_root, done.copied, done.removed, done.up_to_date, id.namespace, id.project
    ));
}

/// Upsert the store into the catalog at `address` (one transaction) and say what changed.
fn sync_catalog(
    ctx: &Ctx,
    store: &crate::store::Store,
    address: &str,
) -> Result<(), crate::error::Error> {
    let mut catalog = crate::store::catalog::Catalog::connect(address)?;
    let id = ctx.project();
    let slug = id.slug();
    let host = crate::project::hostname();
    let store_id = store.id()?;
    let done = catalog.upsert(
        store.conn(),
        &crate::store::catalog::Project {
            repo: &slug,
            namespace: &id.namespace,
            project: &id.project,
            hostname: &host,
            store_id: &store_id,
        },
    )?;
    ctx.out.json(&done);
    ctx.out.text(&format!(
        "{}: {} item(s), {} evidence line(s), {} tombstone event(s) new or changed ({slug})",
        done.catalog, done.items, done.evidence, done.tombstone_events
    ));
    Ok(())
}
