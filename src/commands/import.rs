//! `git tombstone import`: rebuild or merge a store from its portable form.

use crate::cli::ImportArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::interchange::import;

/// Run `import`.
pub fn run(args: &ImportArgs, ctx: &Ctx) -> Outcome {
    let source = ctx.cwd.join(&args.source);
    if !source.exists() {
        return Err(CommandError::Invalid {
            what: "import source".into(),
            why: format!("{} does not exist", source.display()),
        }
        .into());
    }
    let compression = ctx.policy()?.compression;
    let checked = import::check(&source)?;
    let mut store = ctx.open_store()?;
    let actor = ctx.actor(args.by.as_deref());
    let now = crate::clock::now();
    let done = import::run(&mut store, checked, compression, &actor, &now)?;
    ctx.out.json(&done);
    ctx.out.text(&format!(
        "imported {} new item(s) of {} read from {}{}",
        done.items_new,
        done.items_read,
        done.source,
        if done.evidence_lines > 0 {
            format!(
                "; {} evidence line(s) and {} tombstone event(s) carried over",
                done.evidence_lines, done.tombstones
            )
        } else {
            String::new()
        }
    ));
    Ok(0)
}
