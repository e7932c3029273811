//! `git tombstone evidence …`: the evidence log.

use crate::cli::DigestArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::store::evidence;

/// `evidence digest SEQ`: the SHA-256 of one line, to quote in a pull request.
pub fn digest(args: &DigestArgs, ctx: &Ctx) -> Outcome {
    let store = ctx.existing_store()?;
    let found = match &store {
        Some(s) => evidence::line(s.conn(), args.seq)?,
        None => None,
    };
    let Some((digest, line)) = found else {
        let last = match &store {
            Some(s) => evidence::last_seq(s.conn())?,
            None => 0,
        };
        return Err(CommandError::NoSuchEvidence {
            seq: args.seq,
            last,
        }
        .into());
    };
    if ctx.out.json {
        ctx.out
            .json(&serde_json::json!({ "seq": args.seq, "digest": digest, "line": line }));
    } else {
        ctx.out.line(&digest);
    }
    Ok(0)
}
