//! `git tombstone verify`: is the archive intact and does the tree agree with it?
//!
//! Checks, in order: the evidence chain (and that the log matches the database line for line);
//! the tombstone streams against the store's events; the items and blobs tables against the
//! log ([`crate::store::audit`]: ids re-derived, state, hold, path and mode as the log leaves
//! them, every item's blob present with its size, every blob against its SHA-256 and size); every stub in HEAD against its item; every
//! archived `stub` item's stub present in HEAD. Exit 1 with the findings if anything is wrong.

use serde::Serialize;

use crate::cli::VerifyArgs;
use crate::commands::{shown, Ctx};
use crate::error::{Outcome, FAILURE};
use crate::store::items::{self, state, Filter};
use crate::store::{blobs, evidence};
use crate::stub::Tombstone;

/// One problem found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `evidence`, `tombstones`, `blob`, `stub` or `item`.
    pub check: &'static str,
    /// What the problem is about: a line number, a sha256, a path, an id.
    pub subject: String,
    pub problem: String,
}

#[derive(Debug, Default, Serialize)]
struct Checked {
    evidence_lines: i64,
    blobs: usize,
    stubs_in_head: usize,
    archived_items: usize,
}

/// Run `verify`.
pub fn run(_args: &VerifyArgs, ctx: &Ctx) -> Outcome {
    let mut findings = Vec::new();
    let mut checked = Checked::default();
    let store = ctx.existing_store()?;
    if let Some(store) = &store {
        verify_store(ctx, store, &mut checked, &mut findings)?;
    }
    if let Some(head) = ctx.repo.head_commit()? {
        let stub_ids =
            verify_stubs_in_head(ctx, store.as_ref(), &head, &mut checked, &mut findings)?;
        if let Some(store) = &store {
            verify_items_have_stubs(ctx, store, &head, &stub_ids, &mut checked, &mut findings)?;
        }
    }
    let ok = findings.is_empty();
    #[derive(serde::Serialize)]
    struct Verified<C, F> {
        ok: bool,
        checked: C,
        findings: F,
    }
    ctx.out.json(&Verified {
        ok,
        checked: &checked,
        findings: &findings,
    });
    if ok {
        ctx.out.text(&format!(
            "ok: {} evidence lines chained, {} blobs intact, {} stubs in HEAD match the archive",
            checked.evidence_lines, checked.blobs, checked.stubs_in_head
        ));
        Ok(0)
    } else {
        for f in &findings {
            ctx.out
                .text(&format!("{}: {}: {}", f.check, f.subject, f.problem));
        }
        ctx.out
            .text(&format!("{} problem(s) found", findings.len()));
        Ok(FAILURE)
    }
}

/// The store: the evidence chain, the tombstone streams, every item and its content.
fn verify_store(
    ctx: &Ctx,
    store: &crate::store::Store,
    checked: &mut Checked,
    findings: &mut Vec<Finding>,
) -> Result<(), crate::error::Error> {
    checked.evidence_lines = evidence::last_seq(store.conn())?;
    for f in evidence::verify(store.conn(), store.dir())? {
        findings.push(Finding {
            check: "evidence",
            subject: format!("line {}", f.line),
            problem: f.problem,
        });
    }
    for (file, problem) in crate::store::streams::verify(store.conn(), store.dir())? {
        findings.push(Finding {
            check: "tombstones",
            subject: file,
            problem,
        });
    }
    checked.blobs = blobs::count_with_bytes(store.conn())?;
    let out = ctx.out;
    let progress = |done, total| out.progress("checking items and content", done, total);
    for p in crate::store::audit::check_with_progress(store.conn(), &progress)? {
        findings.push(Finding {
            check: p.check,
            subject: p.subject,
            problem: p.problem,
        });
    }
    Ok(())
}

/// Every stub in HEAD parses and matches its item; returns the ids they stand for, with their
/// paths.
fn verify_stubs_in_head(
    ctx: &Ctx,
    store: Option<&crate::store::Store>,
    head: &str,
    checked: &mut Checked,
    findings: &mut Vec<Finding>,
) -> Result<std::collections::HashMap<String, Vec<u8>>, crate::error::Error> {
    let candidates = ctx.repo.stub_candidates(head)?;
    checked.stubs_in_head = candidates.len();
    let mut stub_ids = std::collections::HashMap::new();
    for (path, bytes) in &candidates {
        let tombstone = match Tombstone::parse(path, bytes) {
            Ok(t) => t,
            Err(e) => {
                findings.push(Finding {
                    check: "stub",
                    subject: shown(path),
                    problem: format!("invalid stub: {e}"),
                });
                continue;
            }
        };
        for stub in tombstone.stubs() {
            let subject = shown(path);
            stub_ids.insert(stub.id.clone(), path.clone());
            let item = match &store {
                Some(s) => items::get(s.conn(), &stub.id)?,
                None => None,
            };
            let Some(item) = item else {
                findings.push(Finding {
                    check: "stub",
                    subject,
                    problem: format!("no archive record for {} in this store", stub.id),
                });
                continue;
            };
            if item.sha256 != stub.sha256 || item.size != stub.size || item.path != stub.path {
                findings.push(Finding {
                    check: "stub",
                    subject,
                    problem: format!(
                        "does not match item {}: stub sha256 {} size {}, item sha256 {} size {}",
                        item.id, stub.sha256, stub.size, item.sha256, item.size
                    ),
                });
            }
        }
    }
    Ok(stub_ids)
}

/// Every stubbed item removed in HEAD's history (and not un-stubbed since) has its stub in
/// HEAD, and no record is bound to a commit no ref reaches.
fn verify_items_have_stubs(
    ctx: &Ctx,
    store: &crate::store::Store,
    head: &str,
    stub_ids: &std::collections::HashMap<String, Vec<u8>>,
    checked: &mut Checked,
    findings: &mut Vec<Finding>,
) -> Result<(), crate::error::Error> {
    let archived = items::list(
        store.conn(),
        &Filter {
            state: Some(state::ARCHIVED.into()),
            ..Filter::default()
        },
    )?;
    // Only items removed in HEAD's history, and whose stub no later commit deleted, must
    // have their stub in HEAD (items of other branches live on those branches).
    let history = ctx.repo.ancestors(head)?;
    let removed_stubs = evidence::ids_in(store.conn(), "stub-removed")?;
    let expected = archived.iter().filter(|i| {
        i.action == "stub"
            && i.removed_in_commit
                .as_ref()
                .is_some_and(|c| history.contains(c))
            && !removed_stubs.contains(&i.id)
    });
    for item in expected {
        checked.archived_items += 1;
        if !stub_ids.contains_key(&item.id) {
            findings.push(Finding {
                check: "item",
                subject: item.id.clone(),
                problem: format!("its stub is missing from HEAD at {}", shown(&item.path)),
            });
        }
    }
    // Records bound to a commit that no ref reaches: history was rewritten under them.
    for item in crate::bind::unreachable(&ctx.repo, store)? {
        findings.push(Finding {
            check: "item",
            subject: item.id.clone(),
            problem: format!(
                "{} is bound to commit {}, which no ref reaches (rewritten history); run `git tombstone bind` to reconcile it",
                shown(&item.path),
                item.removed_in_commit.as_deref().unwrap_or_default()
            ),
        });
    }
    Ok(())
}
