//! `git tombstone list`: archived items, filtered, as a table or JSON lines.

use crate::cli::ListArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::output::human_bytes;
use crate::store::items::{self, state, Filter, Item};
use crate::{clock, policy};

/// Run `list`.
pub fn run(args: &ListArgs, ctx: &Ctx) -> Outcome {
    if args.global || args.database.is_some() {
        return global(args, ctx);
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
    let root = args
        .database
        .as_ref()
        .map_or_else(crate::interchange::sync::default_dest, |d| ctx.cwd.join(d));
    let matcher = args
        .path
        .as_deref()
        .map(|p| policy::glob(p).map(|g| g.compile_matcher()))
        .transpose()
        .map_err(|why| CommandError::Invalid {
            what: "--path".into(),
            why,
        })?;
    let mut items = crate::interchange::sync::read_items(&root)?;
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
        ctx.out
            .text(&format!("no archived items under {}", root.display()));
    } else {
        ctx.out
            .table(&["PROJECT", "HOST", "ID", "STATE", "SIZE", "PATH"], &rows);
    }
    Ok(0)
}
