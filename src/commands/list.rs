//! `git tombstone list`: archived items, filtered, as a table or JSON lines.

use crate::cli::ListArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::output::human_bytes;
use crate::store::items::{self, state, Filter, Item};
use crate::{clock, policy};

/// Run `list`.
pub fn run(args: &ListArgs, ctx: &Ctx) -> Outcome {
    if let Some(address) = &args.catalog {
        return from_catalog(args, ctx, address);
    }
    if args.global || args.database.is_some() {
        return global(args, ctx);
    }
    if args.live {
        return live(args, ctx);
    }
    let items = select(args, ctx)?;
    for item in &items {
        ctx.out.json(item);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.id.clone(),
                i.state.clone() + if i.legal_hold { "+hold" } else { "" },
                i.category.clone(),
                human_bytes(i.size),
                i.archived_at.clone(),
                crate::commands::shown(&i.path),
            ]
        })
        .collect();
    if items.is_empty() {
        ctx.out.text("no archived items");
    } else {
        ctx.out.table(
            &["ID", "STATE", "CATEGORY", "SIZE", "ARCHIVED", "PATH"],
            &rows,
        );
    }
    Ok(0)
}

/// The items `args` selects, in path order.
pub fn select(args: &ListArgs, ctx: &Ctx) -> Result<Vec<Item>, crate::error::Error> {
    let invalid = |what: &str, why: String| CommandError::Invalid {
        what: what.into(),
        why,
    };
    if let Some(s) = &args.state {
        if !state::ALL.contains(&s.as_str()) {
            return Err(invalid(
                "--state",
                format!("`{s}`: expected one of {}", state::ALL.join(", ")),
            )
            .into());
        }
    }
    let bound = |flag: &str, v: &Option<String>| -> Result<Option<String>, CommandError> {
        v.as_ref()
            .map(|s| {
                clock::parse_bound(s)
                    .ok_or_else(|| invalid(flag, format!("`{s}` is not YYYY-MM-DD or RFC 3339")))
            })
            .transpose()
    };
    let filter = Filter {
        category: args.category.clone(),
        state: args.state.clone(),
        commit: args.commit.clone(),
        since: bound("--since", &args.since)?,
        until: bound("--until", &args.until)?,
    };
    let matcher = args
        .path
        .as_deref()
        .map(|p| {
            policy::glob(p)
                .map(|g| g.compile_matcher())
                .map_err(|why| invalid("--path", why))
        })
        .transpose()?;
    let Some(store) = ctx.existing_store()? else {
        return Ok(Vec::new());
    };
    let mut found = items::list(store.conn(), &filter)?;
    if let Some(m) = &matcher {
        found.retain(|i| policy::matches(m, &i.path));
    }
    Ok(found)
}

/// `list --global` / `--database DIR`: the central store, across projects.
fn global(args: &ListArgs, ctx: &Ctx) -> Outcome {
    let central = std::env::var_os("GIT_TOMBSTONE_CENTRAL")
        .filter(|c| !c.is_empty())
        .map(std::path::PathBuf::from);
    let database = args.database.clone().or(central);
    if let Some(url) = database.as_ref().and_then(|d| d.to_str()) {
        if crate::interchange::remote::is_remote(url) {
            let remote = crate::interchange::remote::Remote::open(url, args.endpoint.as_deref())?;
            let items = crate::interchange::bucket::read_items(&remote)?;
            return show_global(args, ctx, items, &remote.address.url());
        }
    }
    let root = match &database {
        Some(d) => ctx.cwd.join(d),
        None => crate::interchange::sync::default_dest()?,
    };
    let items = crate::interchange::sync::read_items(&root)?;
    show_global(args, ctx, items, &root.display().to_string())
}

/// `list --catalog ADDRESS`: the PostgreSQL catalog, across projects.
fn from_catalog(args: &ListArgs, ctx: &Ctx, address: &str) -> Outcome {
    let mut catalog = crate::store::catalog::Catalog::connect(address)?;
    let items = catalog
        .items()?
        .into_iter()
        .map(crate::interchange::sync::GlobalItem::from)
        .collect();
    let target = catalog.target().to_owned();
    show_global(args, ctx, items, &target)
}

/// The central store's items that match the filters, across projects.
fn show_global(
    args: &ListArgs,
    ctx: &Ctx,
    mut items: Vec<crate::interchange::sync::GlobalItem>,
    source: &str,
) -> Outcome {
    let matcher = path_matcher(args)?;
    items.retain(|i| {
        args.category.as_ref().is_none_or(|c| *c == i.category)
            && args.state.as_ref().is_none_or(|s| *s == i.state)
            && matcher
                .as_ref()
                .is_none_or(|m| policy::matches(m, i.path.as_bytes()))
    });
    for i in &items {
        ctx.out.json(i);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                format!(
                    "{}/{}",
                    i.namespace.as_deref().unwrap_or("-"),
                    i.project.as_deref().unwrap_or("-")
                ),
                i.hostname.clone().unwrap_or_default(),
                i.id.clone(),
                i.state.clone(),
                human_bytes(i.size as u64),
                i.path.clone(),
            ]
        })
        .collect();
    if items.is_empty() {
        ctx.out.text(&format!("no archived items in {source}"));
    } else {
        ctx.out
            .table(&["PROJECT", "HOST", "ID", "STATE", "SIZE", "PATH"], &rows);
    }
    Ok(0)
}

/// `list --live`: the active rows of the snapshots.
fn live(args: &ListArgs, ctx: &Ctx) -> Outcome {
    let Some(store) = ctx.existing_store()? else {
        ctx.out.text("no snapshot yet");
        return Ok(0);
    };
    let matcher = path_matcher(args)?;
    let rows: Vec<crate::store::snapshots::LiveFile> =
        crate::store::snapshots::live_files(store.conn(), args.category.as_deref())?
            .into_iter()
            .filter(|f| matcher.as_ref().is_none_or(|m| policy::matches(m, &f.path)))
            .collect();
    /// `list --live --json`: one line per file of the last snapshot.
    #[derive(serde::Serialize)]
    struct Live<'a> {
        path: &'a str,
        mode: &'a str,
        sha256: &'a str,
        git_blob_id: &'a str,
        size: i64,
        language: Option<&'a str>,
        category: &'a str,
        first_commit: &'a str,
        first_seen_at: &'a str,
    }
    let mut table = Vec::new();
    for f in &rows {
        ctx.out.json(&Live {
            path: &f.path_text,
            mode: &f.mode,
            sha256: &f.sha256,
            git_blob_id: &f.git_blob_id,
            size: f.size,
            language: f.language.as_deref(),
            category: &f.category,
            first_commit: &f.first_commit,
            first_seen_at: &f.first_seen_at,
        });
        table.push(vec![
            f.category.clone(),
            human_bytes(u64::try_from(f.size).unwrap_or(0)),
            f.first_commit.chars().take(12).collect(),
            f.path_text.clone(),
        ]);
    }
    if rows.is_empty() {
        ctx.out.text("no live files (run `git tombstone snapshot`)");
    } else {
        ctx.out
            .table(&["CATEGORY", "SIZE", "SINCE", "PATH"], &table);
    }
    Ok(0)
}

/// `--path GLOB`, compiled.
fn path_matcher(args: &ListArgs) -> Result<Option<globset::GlobMatcher>, CommandError> {
    args.path
        .as_deref()
        .map(|p| policy::glob(p).map(|g| g.compile_matcher()))
        .transpose()
        .map_err(|why| CommandError::Invalid {
            what: "--path".into(),
            why,
        })
}
