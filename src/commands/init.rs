//! `git tombstone init`: write the policy template (never overwriting, unless `--force`) and
//! create the store.

use crate::cli::InitArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::policy::{FILE_NAME, TEMPLATE};

/// Run `init`.
pub fn run(args: &InitArgs, ctx: &Ctx) -> Outcome {
    let path = ctx.repo.workdir().join(FILE_NAME);
    let written = if path.exists() && !args.force {
        false
    } else {
        crate::fsutil::write_atomic(&path, TEMPLATE.as_bytes(), 0o644).map_err(|source| {
            CommandError::Io {
                path: path.clone(),
                source,
            }
        })?;
        true
    };
    let store = ctx.open_store()?;
    #[derive(serde::Serialize)]
    struct Initialised {
        policy: String,
        policy_written: bool,
        store: String,
    }
    ctx.out.json(&Initialised {
        policy: path.display().to_string(),
        policy_written: written,
        store: store.dir().display().to_string(),
    });
    if written {
        ctx.out.text(&format!(
            "wrote {} (commit it: it is the team's policy)",
            path.display()
        ));
    } else {
        ctx.out
            .text(&format!("kept the existing {}", path.display()));
        if let Err(e) = crate::policy::Policy::load(ctx.repo.workdir()) {
            ctx.out.warn(&format!(
                "the existing policy is invalid ({e}); `git tombstone init --force` rewrites it from the template"
            ));
        }
    }
    ctx.out
        .text(&format!("store ready at {}", store.dir().display()));
    Ok(0)
}
