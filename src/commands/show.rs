//! `git tombstone show PATH|ID`: one item in full.

use crate::cli::ShowArgs;
use crate::commands::{shown, CommandError, Ctx};
use crate::error::{Error, Outcome};
use crate::id::is_tombstone_id;
use crate::output::human_bytes;
use crate::store::items::{self, Item};
use crate::store::Store;
use crate::stub::Stub;

/// Run `show`.
pub fn run(args: &ShowArgs, ctx: &Ctx) -> Outcome {
    let not_found = || CommandError::NotFound {
        target: args.target.to_string_lossy().into_owned(),
        hint: "`git tombstone list` shows what is archived; pass a path or a tb_… id".to_owned(),
    };
    let store = ctx.existing_store()?.ok_or_else(not_found)?;
    let item = find(ctx, &store, &args.target)?.ok_or_else(not_found)?;
    let hold = crate::governance::hold::active(store.conn(), &item.id)?;
    let purge = crate::governance::purge::request_of(store.conn(), &item.id)?;
    ctx.out.json(&Shown {
        item: &item,
        hold: hold.as_ref(),
        purge: purge.as_ref(),
    });
    let field = |k: &str, v: &str| ctx.out.text(&format!("{k:<18} {v}"));
    field("id", &item.id);
    field("path", &shown(&item.path));
    field("state", &item.state);
    field(
        "legal hold",
        &match &hold {
            Some(h) => format!(
                "yes: {} (placed by {} at {})",
                h.reason, h.placed_by, h.placed_at
            ),
            None => "no".into(),
        },
    );
    if let Some(p) = &purge {
        let approvals: Vec<String> = p
            .approvals
            .iter()
            .map(|a| format!("{} at {}", a.approver, a.approved_at))
            .collect();
        field(
            "purge",
            &format!(
                "{} (requested by {} at {}: {}; approved by {})",
                p.status,
                p.requested_by,
                p.requested_at,
                p.reason,
                if approvals.is_empty() {
                    "nobody yet".into()
                } else {
                    approvals.join(", ")
                }
            ),
        );
    }
    field("category", &item.category);
    field("action", &item.action);
    field("reason", &item.reason);
    field("actor", &item.actor);
    field("archived at", &item.archived_at);
    field("updated at", &item.updated_at);
    field(
        "removed at",
        item.removed_at.as_deref().unwrap_or("(pending)"),
    );
    field("source commit", &item.source_commit);
    field(
        "removed in commit",
        item.removed_in_commit.as_deref().unwrap_or("(pending)"),
    );
    field("sha256", &item.sha256);
    field("git blob id", item.git_blob_id.as_deref().unwrap_or("-"));
    field("mode", &item.mode);
    field(
        "size",
        &format!("{} ({})", item.size, human_bytes(item.size)),
    );
    field(
        "stored",
        &item
            .stored_size
            .map_or("(content not in the store)".into(), |s| {
                format!("{s} ({})", human_bytes(s))
            }),
    );
    field("language", item.language.as_deref().unwrap_or("-"));
    field("mime", &item.mime);
    field(
        "lines",
        &item.lines.map_or("- (binary)".into(), |n| n.to_string()),
    );
    field("tags", &item.tags.join(", "));
    field(
        "metadata",
        &serde_json::Value::Object(item.metadata.clone()).to_string(),
    );
    Ok(0)
}

/// `show --json`: the item with its governance records.
#[derive(serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    item: &'a Item,
    hold: Option<&'a crate::governance::hold::Hold>,
    purge: Option<&'a crate::governance::purge::Request>,
}

/// Find an item by id, by the stub at a path, or by the latest version archived at a path.
pub fn find(ctx: &Ctx, store: &Store, target: &std::ffi::OsStr) -> Result<Option<Item>, Error> {
    if let Some(id) = target.to_str().filter(|t| is_tombstone_id(t)) {
        return Ok(items::get(store.conn(), id)?);
    }
    let path = ctx.repo_path(std::path::Path::new(target))?;
    if let Some(stub) = read_stub(ctx, &path) {
        if let Some(item) = items::get(store.conn(), &stub.id)? {
            return Ok(Some(item));
        }
    }
    Ok(items::latest_at_path(store.conn(), &path)?)
}

/// The tombstone in the work tree that stands for `path` (in place, its sidecar, or a
/// directory tombstone above it), read without following links.
pub fn read_stub(ctx: &Ctx, path: &[u8]) -> Option<Stub> {
    let worktree = crate::worktree::Worktree::open(ctx.repo.workdir()).ok()?;
    crate::locate::in_worktree(&worktree, path).map(|(_, stub)| stub)
}
