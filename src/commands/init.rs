//! `git tombstone init`: write the policy template (never overwriting) and create the store.

use crate::cli::InitArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::policy::{FILE_NAME, TEMPLATE};

/// Run `init`.
pub fn run(_args: &InitArgs, ctx: &Ctx) -> Outcome {
    let path = ctx.repo.workdir().join(FILE_NAME);
    let written = if path.exists() {
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
    ctx.out.json(&serde_json::json!({
        "policy": path.display().to_string(),
        "policy_written": written,
        "store": store.dir().display().to_string(),
    }));
    if written {
        ctx.out.text(&format!(
            "wrote {} (commit it: it is the team's policy)",
            path.display()
        ));
    } else {
        ctx.out
            .text(&format!("kept the existing {}", path.display()));
    }
    ctx.out
        .text(&format!("store ready at {}", store.dir().display()));
    Ok(0)
}
