//! `git tombstone evidence …`: the evidence log (digest, verify, checkpoint, export).

use serde::Serialize;

use crate::cli::{CheckpointArgs, DigestArgs, EvidenceVerifyArgs, ExportEvidenceArgs};
use crate::commands::{CommandError, Ctx};
use crate::error::{Outcome, FAILURE};
use crate::governance::merkle;
use crate::hooks::NOTES_REF;
use crate::store::{evidence, Store};

/// The prefix of a checkpoint line in a note.
const CHECKPOINT: &str = "evidence-checkpoint";

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
        ctx.out.json(&EvidenceLine {
            seq: args.seq,
            op: None,
            digest: &digest,
            line: &line,
        });
    } else {
        ctx.out.line(&digest);
    }
    Ok(0)
}

/// A checkpoint as recorded in a note.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
struct Checkpoint {
    store: String,
    size: usize,
    root: String,
    commit: String,
}

fn parse_checkpoints(commit: &str, note: &str) -> Vec<Checkpoint> {
    note.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(CHECKPOINT)?;
            let field = |k: &str| {
                rest.split_whitespace()
                    .find_map(|f| f.strip_prefix(k).map(str::to_owned))
            };
            Some(Checkpoint {
                store: field("store=")?,
                size: field("size=")?.parse().ok()?,
                root: field("root=")?,
                commit: commit.to_owned(),
            })
        })
        .collect()
}

fn require_store(ctx: &Ctx) -> Result<Store, crate::error::Error> {
    ctx.existing_store()?.ok_or_else(|| {
        CommandError::Invalid {
            what: "store".into(),
            why: format!(
                "there is no store at {} yet (nothing archived)",
                ctx.store_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()
            ),
        }
        .into()
    })
}

#[derive(Serialize)]
struct VerifyReport {
    file: String,
    lines: usize,
    ok: bool,
    first_bad_line: Option<evidence::Finding>,
    findings: Vec<evidence::Finding>,
    checkpoints: Vec<CheckpointResult>,
}

#[derive(Serialize)]
struct CheckpointResult {
    #[serde(flatten)]
    checkpoint: Checkpoint,
    ok: bool,
    problem: Option<String>,
}

/// `evidence verify`: the whole chain, with the first bad line; optionally against the
/// checkpoints recorded in git notes.
pub fn verify(args: &EvidenceVerifyArgs, ctx: &Ctx) -> Outcome {
    let Log {
        file,
        text,
        mut findings,
        store_id,
    } = read_log(args, ctx)?;
    let lines: Vec<&[u8]> = text
        .strip_suffix(b"\n")
        .unwrap_or(&text)
        .split(|&b| b == b'\n')
        .filter(|_| !text.is_empty())
        .collect();
    let checkpoints = match &args.against_checkpoint {
        Some(rev) => {
            let checked = check_checkpoints(ctx, rev, store_id.as_deref(), &lines)?;
            if checked.is_empty() {
                findings.push(evidence::Finding {
                    line: 0,
                    problem: format!(
                        "no evidence checkpoint for this store in the notes of {rev} or its history (run `git tombstone evidence checkpoint`, and fetch refs/notes/tombstone)"
                    ),
                });
            }
            checked
        }
        None => Vec::new(),
    };
    let ok = findings.is_empty() && checkpoints.iter().all(|c| c.ok);
    let report = VerifyReport {
        file,
        lines: lines.len(),
        ok,
        first_bad_line: findings.iter().find(|f| f.line > 0).cloned(),
        findings,
        checkpoints,
    };
    show_verify(ctx, &report);
    Ok(if ok { 0 } else { FAILURE })
}

/// The log `evidence verify` checks, with what its chain check found.
struct Log {
    /// For messages.
    file: String,
    text: Vec<u8>,
    findings: Vec<evidence::Finding>,
    /// The store the log belongs to (for its checkpoints), if known.
    store_id: Option<String>,
}

/// `--log FILE` (its chain only), or the store's log: its chain, and whether the tables agree
/// with it (src/store/audit.rs), since the log is only evidence if they do.
fn read_log(args: &EvidenceVerifyArgs, ctx: &Ctx) -> Result<Log, crate::error::Error> {
    if let Some(path) = &args.log {
        let path = ctx.cwd.join(path);
        let text = std::fs::read(&path).map_err(|source| CommandError::Io {
            path: path.clone(),
            source,
        })?;
        let findings = evidence::verify_text(&text, None);
        // On the archive branch a store's log is evidence/<store-id>.jsonl.
        let store_id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| crate::id::is_lower_hex(s, 16));
        return Ok(Log {
            file: path.display().to_string(),
            text,
            findings,
            store_id,
        });
    }
    let store = require_store(ctx)?;
    let path = store.dir().join(evidence::FILE);
    let text = std::fs::read(&path).unwrap_or_default();
    let mut findings = evidence::verify(store.conn(), store.dir())?;
    for p in crate::store::audit::check(store.conn())? {
        findings.push(evidence::Finding {
            line: 0,
            problem: format!("{} {}: {}", p.check, p.subject, p.problem),
        });
    }
    Ok(Log {
        file: path.display().to_string(),
        text,
        findings,
        store_id: Some(store.id()?),
    })
}

/// Every checkpoint of this store in the notes of `rev` and its history, each checked: the
/// log still has its lines, and its first lines still hash to its root.
fn check_checkpoints(
    ctx: &Ctx,
    rev: &str,
    store_id: Option<&str>,
    lines: &[&[u8]],
) -> Result<Vec<CheckpointResult>, crate::error::Error> {
    let mut checkpoints = Vec::new();
    for (commit, note) in &ctx.repo.notes_in_history(NOTES_REF, rev)? {
        for cp in parse_checkpoints(commit, note) {
            if store_id.is_some_and(|s| s != cp.store) {
                continue;
            }
            let problem = if lines.len() < cp.size {
                Some(format!(
                    "the checkpoint covers {} lines but the log has only {}: lines were removed",
                    cp.size,
                    lines.len()
                ))
            } else if merkle::root_hex(lines[..cp.size].iter().copied()) != cp.root {
                Some(format!(
                    "the first {} lines no longer hash to the recorded root: the log was changed, not only appended to",
                    cp.size
                ))
            } else {
                None
            };
            checkpoints.push(CheckpointResult {
                ok: problem.is_none(),
                problem,
                checkpoint: cp,
            });
        }
    }
    Ok(checkpoints)
}

fn show_verify(ctx: &Ctx, report: &VerifyReport) {
    ctx.out.json(report);
    for f in &report.findings {
        if f.line > 0 {
            ctx.out
                .text(&format!("{}: line {}: {}", report.file, f.line, f.problem));
        } else {
            ctx.out.text(&format!("{}: {}", report.file, f.problem));
        }
    }
    for c in &report.checkpoints {
        match &c.problem {
            None => ctx.out.text(&format!(
                "checkpoint at {} ({} lines, root {}): matches",
                &c.checkpoint.commit[..12.min(c.checkpoint.commit.len())],
                c.checkpoint.size,
                &c.checkpoint.root[..16]
            )),
            Some(p) => ctx.out.text(&format!(
                "checkpoint at {}: {p}",
                &c.checkpoint.commit[..12.min(c.checkpoint.commit.len())]
            )),
        }
    }
    if report.ok {
        ctx.out.text(&format!(
            "ok: {} evidence lines, chain intact{}",
            report.lines,
            if report.checkpoints.is_empty() {
                ""
            } else {
                "; only appended to since every checkpoint"
            }
        ));
    }
}

#[derive(Serialize)]
struct CheckpointReport {
    store: String,
    size: usize,
    root: String,
    commit: String,
    evidence: evidence::Appended,
}

/// `evidence checkpoint`: the Merkle root of the log, in a note on HEAD.
pub fn checkpoint(args: &CheckpointArgs, ctx: &Ctx) -> Outcome {
    let Some(mut store) = ctx.existing_store_writable()? else {
        return Err(require_store(ctx).err().unwrap_or_else(|| {
            CommandError::Invalid {
                what: "store".into(),
                why: "there is no store".into(),
            }
            .into()
        }));
    };
    let findings = evidence::verify(store.conn(), store.dir())?;
    if let Some(f) = findings.first() {
        return Err(crate::store::StoreError::Evidence {
            path: store.dir().join(evidence::FILE),
            why: format!(
                "line {}: {} (a broken log is not checkpointed)",
                f.line, f.problem
            ),
        }
        .into());
    }
    let commit = ctx.repo.resolve_commit(&args.rev)?;
    let lines = crate::store::evidence::all_lines(store.conn())?;
    let root = merkle::root_hex(lines.iter().map(|l| l.as_bytes()));
    let store_id = store.id()?;
    let line = format!(
        "{CHECKPOINT} store={store_id} size={} root={root} at={}",
        lines.len(),
        crate::clock::now()
    );
    let existing = ctx.repo.note(NOTES_REF, &commit).unwrap_or_default();
    let already = parse_checkpoints(&commit, &existing)
        .into_iter()
        .any(|c| c.store == store_id && c.size == lines.len() && c.root == root);
    if !already {
        let mut note = existing.trim_end().to_owned();
        if !note.is_empty() {
            note.push('\n');
        }
        note.push_str(&line);
        note.push('\n');
        ctx.repo.set_note(NOTES_REF, &commit, &note)?;
    }
    let actor = ctx.actor(args.by.as_deref());
    let now = crate::clock::now();
    let data = serde_json::json!({ "size": lines.len(), "root": root, "commit": commit, "notes_ref": format!("refs/notes/{NOTES_REF}") });
    let appended = store.write(|tx| evidence::append(tx, "checkpoint", &actor, &now, &data))?;
    let report = CheckpointReport {
        store: store_id,
        size: lines.len(),
        root,
        commit,
        evidence: appended,
    };
    ctx.out.json(&report);
    ctx.out.text(&format!(
        "checkpoint: {} evidence lines, Merkle root {} noted on {} (refs/notes/{NOTES_REF}); push it with `git push origin refs/notes/{NOTES_REF}`",
        report.size, report.root, &report.commit[..12]
    ));
    Ok(0)
}

/// `evidence export --since SEQ`: lines with their digests, for a pull request description.
pub fn export(args: &ExportEvidenceArgs, ctx: &Ctx) -> Outcome {
    let store = require_store(ctx)?;
    let rows: Vec<(i64, String, String, String)> =
        crate::store::evidence::lines_from(store.conn(), args.since)?
            .into_iter()
            .map(|n| (n.seq, n.op, n.digest, n.line))
            .collect();
    if ctx.out.json {
        for (seq, op, digest, line) in &rows {
            ctx.out.json(&EvidenceLine {
                seq: *seq,
                op: Some(op),
                digest,
                line,
            });
        }
        return Ok(0);
    }
    let mut text = String::new();
    if args.markdown {
        text.push_str("| seq | operation | SHA-256 of the line |\n|---:|---|---|\n");
        for (seq, op, digest, _) in &rows {
            text.push_str(&format!("| {seq} | {op} | `{digest}` |\n"));
        }
        text.push_str("\n<details><summary>evidence lines</summary>\n\n```jsonl\n");
        for (_, _, _, line) in &rows {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str("```\n\n</details>\n");
    } else {
        for (_, _, digest, line) in &rows {
            text.push_str(&format!("{digest}  {line}\n"));
        }
    }
    ctx.out.raw(&text);
    Ok(0)
}

/// One evidence line with its digest (`evidence digest`, `evidence export --json`).
#[derive(serde::Serialize)]
struct EvidenceLine<'a> {
    seq: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    op: Option<&'a str>,
    digest: &'a str,
    line: &'a str,
}
