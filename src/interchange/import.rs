//! Rebuild or merge a store from its portable form: a `code_archive.jsonl(.gz)` file or a
//! Parquet directory (a store's `parquet/`, a store directory, or anything holding `items/` and
//! `blobs/` datasets).
//!
//! Every record is checked before anything is written: the id must be the one its path, content
//! hash and source commit give, content must hash to its SHA-256 and have its size, and paths
//! must be safe relative paths. Then one transaction inserts what the store lacks (idempotent:
//! a second import adds nothing).
//!
//! Evidence: into an empty store, a JSONL file's evidence lines are imported verbatim (their
//! chain checked first) together with its tombstone streams, so digests quoted in pull requests
//! still match; one `import` line is appended either way. Into a store that already has
//! evidence, the source's chain is not merged (two chains cannot be one); the `import` line
//! records what came in. Legal holds and purges arrive as item state and `legal_hold`; their
//! detail records live in the imported evidence.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::jsonl::{self, ItemLine, Record};
use super::parquet::{self as pq, ItemRow};
use super::InterchangeError;
use crate::policy::Compression;
use crate::store::{blobs, evidence, Store};

/// What an import did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Imported {
    pub source: String,
    pub items_read: usize,
    pub items_new: usize,
    pub evidence_lines: usize,
    pub tombstones: usize,
    pub evidence: Option<evidence::Appended>,
}

struct Source {
    items: Vec<(ItemRow, Option<Vec<u8>>)>,
    tombstones: Vec<(String, serde_json::Value)>,
    evidence: Vec<String>,
}

fn reject(source: &Path, record: usize, why: impl Into<String>) -> InterchangeError {
    InterchangeError::Rejected {
        source_name: source.display().to_string(),
        record,
        why: why.into(),
    }
}

fn from_jsonl(path: &Path) -> Result<Source, InterchangeError> {
    let mut src = Source {
        items: Vec::new(),
        tombstones: Vec::new(),
        evidence: Vec::new(),
    };
    for (i, rec) in jsonl::read(path)?.into_iter().enumerate() {
        match rec {
            Record::Header { format, .. } if format != jsonl::FORMAT => {
                return Err(reject(path, i + 1, format!("unknown format `{format}`")))
            }
            Record::Header { .. } => {}
            Record::Item(line) => {
                let content = line.content_bytes().map_err(|w| reject(path, i + 1, w))?;
                src.items.push((row_of(&line, path, i + 1)?, content));
            }
            Record::Tombstone { stream, line } => src.tombstones.push((stream, line)),
            Record::Evidence { line } => src.evidence.push(line),
        }
    }
    Ok(src)
}

fn row_of(l: &ItemLine, path: &Path, n: usize) -> Result<ItemRow, InterchangeError> {
    Ok(ItemRow {
        id: l.id.clone(),
        path: l
            .path_bytes()
            .ok_or_else(|| reject(path, n, "bad path_bytes_hex"))?,
        mode: l.mode.clone(),
        language: l.language.clone(),
        mime: l.mime.clone(),
        lines: l.lines,
        binary: l.binary,
        size: l.size,
        sha256: l.sha256.clone(),
        git_blob_id: l.git_blob_id.clone(),
        category: l.category.clone(),
        action: l.action.clone(),
        reason: l.reason.clone(),
        actor: l.actor.clone(),
        source_commit: l.source_commit.clone(),
        removed_in_commit: l.removed_in_commit.clone(),
        archived_at: l.archived_at.clone(),
        updated_at: l.updated_at.clone(),
        removed_at: l.removed_at.clone(),
        state: l.state.clone(),
        legal_hold: l.legal_hold,
        tags: l.tags.to_string(),
        metadata: l.metadata.to_string(),
        change_seq: 0,
    })
}

fn from_parquet(dir: &Path) -> Result<Source, InterchangeError> {
    let root = if dir.join("parquet").is_dir() {
        dir.join("parquet")
    } else {
        dir.to_path_buf()
    };
    let files = |dataset: &str| super::find_parquet(&root.join(dataset));
    let item_files = files("items")?;
    if item_files.is_empty() {
        return Err(InterchangeError::Invalid {
            what: "import source".into(),
            why: format!("{} holds no items/*.parquet", root.display()),
        });
    }
    // Deltas may hold several versions of an item: the highest change_seq wins.
    let mut latest: HashMap<String, ItemRow> = HashMap::new();
    for f in item_files {
        for b in pq::read_file(&f)? {
            for r in pq::item_rows(&b)? {
                match latest.get(&r.id) {
                    Some(old) if old.change_seq >= r.change_seq => {}
                    _ => {
                        latest.insert(r.id.clone(), r);
                    }
                }
            }
        }
    }
    let mut content: HashMap<String, Vec<u8>> = HashMap::new();
    for f in files("blobs")? {
        for b in pq::read_file(&f)? {
            for r in pq::blob_rows(&b)? {
                let bytes = match (r.content_encoding.as_str(), r.content) {
                    (_, None) | ("none", _) => continue,
                    ("raw", Some(c)) => c,
                    ("zstd", Some(c)) => zstd::stream::decode_all(&c[..])
                        .map_err(|e| reject(&f, 0, format!("blob {}: {e}", r.sha256)))?,
                    (other, _) => return Err(reject(&f, 0, format!("unknown encoding `{other}`"))),
                };
                content.insert(r.sha256, bytes);
            }
        }
    }
    let mut items: Vec<(ItemRow, Option<Vec<u8>>)> = latest
        .into_values()
        .map(|r| {
            let c = content.get(&r.sha256).cloned();
            (r, c)
        })
        .collect();
    items.sort_by(|a, b| a.0.path.cmp(&b.0.path).then(a.0.id.cmp(&b.0.id)));
    Ok(Source {
        items,
        tombstones: Vec::new(),
        evidence: Vec::new(),
    })
}

fn check(src: &Source, path: &Path) -> Result<(), InterchangeError> {
    for (i, (row, content)) in src.items.iter().enumerate() {
        let n = i + 1;
        crate::stub::check_relative(&row.path).map_err(|e| reject(path, n, e.to_string()))?;
        if !crate::id::is_lower_hex(&row.sha256, 64) {
            return Err(reject(path, n, "sha256 is not 64 hex digits"));
        }
        let id = crate::id::tombstone_id(&row.path, &row.sha256, &row.source_commit);
        if id != row.id {
            return Err(reject(
                path,
                n,
                format!(
                    "id {} does not match its path, content and commit (expected {id})",
                    row.id
                ),
            ));
        }
        if let Some(c) = content {
            if c.len() as i64 != row.size || crate::id::sha256_hex(c) != row.sha256 {
                return Err(reject(
                    path,
                    n,
                    format!("content of {} does not match its SHA-256 and size", row.id),
                ));
            }
        }
        if !crate::store::items::state::ALL.contains(&row.state.as_str()) {
            return Err(reject(path, n, format!("unknown state `{}`", row.state)));
        }
    }
    if !src.evidence.is_empty() {
        let text: String = src.evidence.iter().map(|l| format!("{l}\n")).collect();
        if let Some(f) = evidence::verify_text(text.as_bytes(), None).first() {
            return Err(reject(
                path,
                0,
                format!("evidence line {}: {}", f.line, f.problem),
            ));
        }
    }
    Ok(())
}

/// When a store lost its database, its `evidence.jsonl` may have survived with lines written
/// after the export: if it continues the imported chain, the whole file is the chain to keep.
/// A file that disagrees with the imported lines is refused rather than overwritten.
fn reconcile_with_log(dir: &Path, imported: Vec<String>) -> Result<Vec<String>, InterchangeError> {
    let path = dir.join(evidence::FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(imported),
        Err(e) => return Err(InterchangeError::io(&path, e)),
    };
    let on_disk: Vec<String> = text.lines().map(str::to_owned).collect();
    let common = on_disk.len().min(imported.len());
    if on_disk[..common] != imported[..common] {
        return Err(InterchangeError::Invalid {
            what: "evidence".into(),
            why: format!(
                "{} in the store directory does not continue the imported log; move it aside to import",
                path.display()
            ),
        });
    }
    if on_disk.len() <= imported.len() {
        return Ok(imported);
    }
    if let Some(f) = evidence::verify_text(text.as_bytes(), None).first() {
        return Err(InterchangeError::Invalid {
            what: "evidence".into(),
            why: format!("{} line {}: {}", path.display(), f.line, f.problem),
        });
    }
    Ok(on_disk)
}

/// Import `source` into the store in `dir` (created if needed).
pub fn run(
    store: &mut Store,
    source: &Path,
    compression: Compression,
    actor: &str,
    now: &str,
) -> Result<Imported, InterchangeError> {
    let src = if source.is_dir() {
        from_parquet(source)?
    } else {
        from_jsonl(source)?
    };
    let mut src = src;
    check(&src, source)?;
    let fresh: bool = store.conn().query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM items) AND NOT EXISTS (SELECT 1 FROM evidence)",
        [],
        |r| r.get(0),
    )?;
    let carry_evidence = fresh && !src.evidence.is_empty();
    if carry_evidence {
        src.evidence = reconcile_with_log(store.dir(), src.evidence)?;
    }
    let mut report = Imported {
        source: source.display().to_string(),
        items_read: src.items.len(),
        ..Imported::default()
    };
    let f = |tx: &rusqlite::Transaction<'_>| -> Result<Imported, InterchangeError> {
        let mut report = report.clone();
        for (row, content) in &src.items {
            match content {
                Some(c) => {
                    blobs::put(tx, c, row.git_blob_id.as_deref(), compression, now)?;
                }
                None => {
                    tx.execute(
                        "INSERT OR IGNORE INTO blobs (sha256, size, compression, stored_size, bytes,
                            git_blob_id, created_at) VALUES (?1, ?2, 'none', 0, NULL, ?3, ?4)",
                        rusqlite::params![row.sha256, row.size, row.git_blob_id, now],
                    )?;
                }
            }
            let n = tx.execute(
                "INSERT OR IGNORE INTO items (id, path, path_text, mode, language, mime, lines,
                    binary, size, sha256, git_blob_id, category, action, reason, actor,
                    source_commit, removed_in_commit, archived_at, updated_at, state, legal_hold,
                    tags, metadata, removed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
                rusqlite::params![
                    row.id,
                    row.path,
                    String::from_utf8_lossy(&row.path),
                    row.mode,
                    row.language,
                    row.mime,
                    row.lines,
                    row.binary,
                    row.size,
                    row.sha256,
                    row.git_blob_id,
                    row.category,
                    row.action,
                    row.reason,
                    row.actor,
                    row.source_commit,
                    row.removed_in_commit,
                    row.archived_at,
                    row.updated_at,
                    row.state,
                    row.legal_hold,
                    row.tags,
                    row.metadata,
                    row.removed_at
                ],
            )?;
            report.items_new += n;
        }
        if carry_evidence {
            for line in &src.evidence {
                let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
                tx.execute(
                    "INSERT INTO evidence (seq, op, line, digest) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![
                        v["seq"].as_i64().unwrap_or(0),
                        v["op"].as_str().unwrap_or(""),
                        line,
                        crate::id::sha256_hex(line.as_bytes())
                    ],
                )?;
            }
            report.evidence_lines = src.evidence.len();
            if !src.tombstones.is_empty() {
                // The source's streams, as they were (pruned by its vacuums), replace the ones
                // the triggers re-derived.
                tx.execute("DELETE FROM tombstones", [])?;
                for (stream, l) in &src.tombstones {
                    let path = l["path_bytes_hex"]
                        .as_str()
                        .and_then(crate::id::unhex)
                        .unwrap_or_else(|| {
                            l["path"].as_str().unwrap_or_default().as_bytes().to_vec()
                        });
                    tx.execute(
                        "INSERT INTO tombstones (seq, stream, deleted_at, origin, item_id, path,
                            path_text, category, sha256, source_commit, removed_in_commit, reason)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                        rusqlite::params![
                            l["seq"].as_i64(),
                            stream,
                            l["deleted_at"].as_str(),
                            l["origin"].as_str().unwrap_or("archive"),
                            l["id"].as_str(),
                            path,
                            l["path"].as_str(),
                            l["category"].as_str(),
                            l["sha256"].as_str(),
                            l["source_commit"].as_str(),
                            l["removed_in_commit"].as_str(),
                            l["reason"].as_str()
                        ],
                    )?;
                }
                report.tombstones = src.tombstones.len();
            }
        }
        if report.items_new > 0 || report.evidence_lines > 0 {
            let data = serde_json::json!({
                "source": report.source, "items_read": report.items_read,
                "items_new": report.items_new, "evidence_lines_imported": report.evidence_lines,
            });
            report.evidence = Some(evidence::append(tx, "import", actor, now, &data)?);
        }
        Ok(report)
    };
    report = if carry_evidence {
        store.write_fresh(f)?
    } else {
        store.write_with(f)?
    };
    Ok(report)
}
