//! `git tombstone list`: archived items, filtered, as a table or JSON lines.

use crate::cli::ListArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::output::human_bytes;
use crate::store::items::{self, state, Filter, Item};
use crate::{clock, policy};

/// Run `list`.
pub fn run(args: &ListArgs, ctx: &Ctx) -> Outcome {
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
