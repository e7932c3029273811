//! The post-commit hook: bind the records pre-commit captured to the new commit.
//!
//! Also adds a git note on the commit under `refs/notes/tombstone` listing the ids and the
//! evidence digest of the bind, and, after a partial commit (`git commit <paths>`), puts the
//! committed stub into the main index when git left the deletion there.

use crate::bind::{self, Bound};
use crate::clock;
use crate::context::{shown, Ctx};
use crate::error::Error;
use crate::git::Staged;
use crate::hooks::NOTES_REF;
use crate::store::items;

/// Run the post-commit hook; `None` when there was nothing to do.
pub fn run(ctx: &Ctx) -> Result<Option<Bound>, Error> {
    let Some(head) = ctx.repo.head_commit()? else {
        return Ok(None);
    };
    // Most commits archive nothing: look for pending records read-only before taking the
    // store's write lock.
    let pending = match ctx.existing_store()? {
        Some(store) => !items::pending(store.conn())?.is_empty(),
        None => false,
    };
    if !pending {
        return Ok(None);
    }
    let Some(mut store) = ctx.existing_store_writable()? else {
        return Ok(None);
    };
    let actor = ctx.actor(None);
    let bound = bind::bind_to(&ctx.repo, &mut store, &head, &actor, &clock::now())?;
    if bound.ids.is_empty() {
        return Ok(None);
    }
    let mut note = String::from("git-tombstone v1\n");
    let mut repair = Vec::new();
    for id in &bound.ids {
        let Some(item) = items::get(store.conn(), id)? else {
            continue;
        };
        note.push_str(&format!("archived {id} {}\n", shown(&item.path)));
        if item.action != "stub" {
            continue;
        }
        // After a partial commit the main index holds what git prepared before the hook ran:
        // the committed tombstone (in place, a sidecar or a directory tombstone) may be
        // missing from it while the work tree and HEAD hold it.
        let Some((location, _)) = crate::locate::in_commit(&ctx.repo, &head, &item.path) else {
            continue;
        };
        if repair.iter().any(|r: &Staged| match r {
            Staged::File { path, .. } => *path == location,
            Staged::Remove { .. } => false,
        }) {
            continue;
        }
        let Some(in_head) = ctx.repo.entry_at(&head, &location)? else {
            continue;
        };
        let in_index = ctx.repo.index_entry(&location)?;
        if in_index.is_none() && !ctx.repo.index_has_children(&location)? {
            let bytes = ctx.repo.blob(&in_head.id)?;
            let worktree = crate::worktree::Worktree::open(ctx.repo.workdir())?;
            if worktree
                .read_small(&location, crate::stub::max_size(&location))
                .is_some_and(|w| w == bytes)
            {
                repair.push(Staged::File {
                    path: location,
                    bytes,
                    mode: "100644",
                    skip_worktree: false,
                });
            }
        }
    }
    if let Some(e) = &bound.evidence {
        note.push_str(&format!("evidence seq {} sha256 {}\n", e.seq, e.digest));
    }
    ctx.repo.set_note(NOTES_REF, &head, &note)?;
    ctx.repo.stage(&repair)?;
    Ok(Some(bound))
}
