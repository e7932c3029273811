//! The post-rewrite hook: after `git commit --amend` or `git rebase`, records bound to a
//! rewritten commit follow it to its new id, and so do their git notes.

use std::io::BufRead;

use serde::Serialize;

use crate::context::Ctx;
use crate::error::Error;
use crate::hooks::NOTES_REF;
use crate::store::evidence::{self, Appended};
use crate::{clock, id};

/// What the hook remapped.
#[derive(Debug, Default, Serialize)]
pub struct Remapped {
    /// `(old, new)` pairs that carried records.
    pub commits: Vec<(String, String)>,
    pub ids: Vec<String>,
    pub evidence: Option<Appended>,
    /// Without `old new` lines: records reconciled with the rewritten history, and how many of
    /// them went back to pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconciled: Option<(usize, usize)>,
}

/// The lines of `a`, then those of `b` that `a` lacks.
fn merge_notes(a: &str, b: &str) -> String {
    let mut lines: Vec<&str> = a.lines().collect();
    for line in b.lines() {
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Run the post-rewrite hook with git's `old new [extra]` lines on `input`.
pub fn run(ctx: &Ctx, kind: &str, input: impl BufRead) -> Result<Remapped, Error> {
    let pairs: Vec<(String, String)> = input
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let (old, new) = (parts.next()?, parts.next()?);
            let ok = |s: &str| id::is_lower_hex(s, 40) || id::is_lower_hex(s, 64);
            (ok(old) && ok(new) && old != new).then(|| (old.to_owned(), new.to_owned()))
        })
        .collect();
    let mut out = Remapped::default();
    if pairs.is_empty() {
        // No `old new` lines (the pre-commit framework does not forward them): find the
        // records left on rewritten commits and bind them to what HEAD's history has now.
        if let Some(mut store) = ctx.existing_store_writable()? {
            let r = crate::bind::reconcile(&ctx.repo, &mut store, &ctx.actor(None), &clock::now())?;
            if !r.rebound.is_empty() || !r.unbound.is_empty() {
                out.reconciled = Some((r.rebound.len() + r.unbound.len(), r.unbound.len()));
            }
            out.ids = r.rebound.into_iter().map(|(id, _, _)| id).collect();
        }
        return Ok(out);
    }
    let Some(mut store) = ctx.existing_store_writable()? else {
        return Ok(out);
    };
    let actor = ctx.actor(None);
    let now = clock::now();
    let (commits, ids, appended) = store.write(|tx| {
        let mut commits = Vec::new();
        let mut ids = Vec::new();
        for (old, new) in &pairs {
            let moved = crate::store::items::move_removals(tx, old, new, &now)?;
            if moved.is_empty() {
                continue;
            }
            commits.push((old.clone(), new.clone()));
            ids.extend(moved);
        }
        let appended = if commits.is_empty() {
            None
        } else {
            let data = serde_json::json!({ "kind": kind, "commits": commits, "ids": ids });
            Some(evidence::append(tx, "rewrite", &actor, &now, &data)?)
        };
        Ok((commits, ids, appended))
    })?;
    for (old, new) in &commits {
        if let Some(old_note) = ctx.repo.note(NOTES_REF, old) {
            // post-commit may already have noted the new commit (amend): merge, never replace.
            let merged = merge_notes(
                ctx.repo.note(NOTES_REF, new).as_deref().unwrap_or(""),
                &old_note,
            );
            ctx.repo.set_note(NOTES_REF, new, &merged)?;
        }
    }
    out.commits = commits;
    out.ids = ids;
    out.evidence = appended;
    Ok(out)
}
