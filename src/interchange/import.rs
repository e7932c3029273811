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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::jsonl::{self, ItemLine, Record};
use super::parquet::{self as pq, ItemRow};
use super::InterchangeError;
use crate::policy::Compression;
use crate::store::{blobs, evidence, Store};

/// The most content one imported record may carry (decoded): with one record in memory at a
/// time, an import stays within a few hundred MiB whatever the input.
pub const MAX_CONTENT: u64 = 64 << 20;
/// The most evidence (bytes of lines) an import carries over: the chain is checked whole.
const MAX_EVIDENCE: usize = 128 << 20;
/// Rows per Parquet batch read at a time.
const PARQUET_ROWS: usize = 64;

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

fn reject(source: &Path, record: usize, why: impl Into<String>) -> InterchangeError {
    InterchangeError::Rejected {
        source_name: source.display().to_string(),
        record,
        why: why.into(),
    }
}

fn is_hex_id(s: &str) -> bool {
    crate::id::is_lower_hex(s, 40) || crate::id::is_lower_hex(s, 64)
}

/// Everything a record must satisfy, re-derived from what it carries; `seen` holds the ids
/// of the records before it.
fn check_row(
    row: &ItemRow,
    content: Option<&[u8]>,
    seen: &mut HashSet<String>,
) -> Result<(), String> {
    let mode = crate::stub::Mode::parse(&row.mode).ok_or_else(|| {
        format!(
            "mode `{}` is not 100644, 100755 or 120000 (only files are archived)",
            row.mode
        )
    })?;
    crate::stub::check_relative_as(&row.path, mode == crate::stub::Mode::Symlink)
        .map_err(|e| e.to_string())?;
    if !crate::id::is_lower_hex(&row.sha256, 64) {
        return Err("sha256 is not 64 lowercase hex digits".into());
    }
    if !is_hex_id(&row.source_commit) {
        return Err("source_commit is not a 40 or 64 hex digit commit id".into());
    }
    if let Some(c) = row.removed_in_commit.as_deref().filter(|c| !is_hex_id(c)) {
        return Err(format!("removed_in_commit `{c}` is not a commit id"));
    }
    if let Some(b) = row.git_blob_id.as_deref().filter(|b| !is_hex_id(b)) {
        return Err(format!("git_blob_id `{b}` is not an object id"));
    }
    if row.size < 0 || row.size as u64 > blobs::MAX_CONTENT_SIZE {
        return Err(format!("size {} is out of range", row.size));
    }
    let id = crate::id::tombstone_id(&row.path, &row.sha256, &row.source_commit);
    if id != row.id {
        return Err(format!(
            "id {} does not match its path, content and commit (expected {id})",
            row.id
        ));
    }
    if let Some(c) = content {
        if c.len() as i64 != row.size || crate::id::sha256_hex(c) != row.sha256 {
            return Err(format!(
                "content of {} does not match its SHA-256 and size",
                row.id
            ));
        }
    }
    if !crate::store::items::state::ALL.contains(&row.state.as_str()) {
        return Err(format!("unknown state `{}`", row.state));
    }
    if !seen.insert(row.id.clone()) {
        return Err(format!("id {} appears more than once", row.id));
    }
    Ok(())
}

/// Check one JSONL record as `import` does (the fuzzing entry point for the record parser):
/// parse it, decode its content and path, and re-derive and bound everything an item carries.
pub fn check_record(line: &[u8]) -> Result<(), String> {
    if line.len() > jsonl::MAX_RECORD {
        return Err("record too long".into());
    }
    let text = std::str::from_utf8(line).map_err(|e| e.to_string())?;
    let rec: Record = serde_json::from_str(text.trim()).map_err(|e| e.to_string())?;
    if let Record::Item(item) = rec {
        let (row, content) = item_of(&item, Path::new("record"), 1).map_err(|e| e.to_string())?;
        check_row(&row, content.as_deref(), &mut HashSet::new())?;
    }
    Ok(())
}

/// What the first pass over a source learned.
#[derive(Default)]
struct Pass {
    items: usize,
    evidence: Vec<String>,
    /// Parquet: the content hashes whose bytes the source carries (verified).
    contents: HashSet<String>,
}

/// A JSONL source, one record at a time: `f` gets each item (with content), tombstone line and
/// evidence line, after the header was checked.
fn each_jsonl(
    path: &Path,
    mut f: impl FnMut(usize, Record) -> Result<(), InterchangeError>,
) -> Result<(), InterchangeError> {
    let mut header = false;
    for rec in jsonl::Records::open(path)? {
        let (n, rec) = rec?;
        match rec {
            Record::Header {
                format, version, ..
            } => {
                if header || n == 0 {
                    return Err(reject(path, n, "a second header"));
                }
                if format != jsonl::FORMAT {
                    return Err(reject(path, n, format!("unknown format `{format}`")));
                }
                if version != 1 {
                    return Err(reject(
                        path,
                        n,
                        format!("format version {version} is not known to this release (1)"),
                    ));
                }
                header = true;
            }
            _ if !header => {
                return Err(reject(
                    path,
                    n,
                    format!("the file does not start with a `{}` header", jsonl::FORMAT),
                ))
            }
            other => f(n, other)?,
        }
    }
    if !header {
        return Err(reject(path, 0, "the file is empty (no header)"));
    }
    Ok(())
}

fn item_of(
    line: &ItemLine,
    path: &Path,
    n: usize,
) -> Result<(ItemRow, Option<Vec<u8>>), InterchangeError> {
    let content = line.content_bytes().map_err(|w| reject(path, n, w))?;
    if content
        .as_ref()
        .is_some_and(|c| c.len() as u64 > MAX_CONTENT)
    {
        return Err(reject(
            path,
            n,
            format!("content larger than {} MiB", MAX_CONTENT >> 20),
        ));
    }
    Ok((row_of(line, path, n)?, content))
}

fn check_jsonl(path: &Path) -> Result<Pass, InterchangeError> {
    let mut checked = Pass::default();
    let mut seen = HashSet::new();
    let mut evidence_bytes = 0;
    each_jsonl(path, |n, rec| {
        match rec {
            Record::Item(line) => {
                let (row, content) = item_of(&line, path, n)?;
                check_row(&row, content.as_deref(), &mut seen).map_err(|w| reject(path, n, w))?;
                checked.items += 1;
            }
            Record::Evidence { line } => {
                evidence_bytes += line.len();
                if evidence_bytes > MAX_EVIDENCE {
                    return Err(reject(path, n, "more evidence than an import carries"));
                }
                checked.evidence.push(line);
            }
            Record::Tombstone { .. } | Record::Header { .. } => {}
        }
        Ok(())
    })?;
    Ok(checked)
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

fn parquet_root(dir: &Path) -> PathBuf {
    if dir.join("parquet").is_dir() {
        dir.join("parquet")
    } else {
        dir.to_path_buf()
    }
}

/// The item rows of a Parquet source (deltas may hold several versions of an item: the
/// highest change_seq wins), sorted by path and id.
fn parquet_items(root: &Path) -> Result<Vec<ItemRow>, InterchangeError> {
    let item_files = super::find_parquet(&root.join("items"))?;
    if item_files.is_empty() {
        return Err(InterchangeError::Invalid {
            what: "import source".into(),
            why: format!("{} holds no items/*.parquet", root.display()),
        });
    }
    let mut latest: HashMap<String, ItemRow> = HashMap::new();
    for f in item_files {
        pq::for_each_batch(&f, 4096, |b| {
            for r in pq::item_rows(&b)? {
                match latest.get(&r.id) {
                    Some(old) if old.change_seq >= r.change_seq => {}
                    _ => {
                        latest.insert(r.id.clone(), r);
                    }
                }
            }
            Ok(())
        })?;
    }
    let mut items: Vec<ItemRow> = latest.into_values().collect();
    items.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));
    Ok(items)
}

/// Each blob of a Parquet source with its decoded, verified bytes (`None` when it has none).
fn each_parquet_blob(
    root: &Path,
    mut f: impl FnMut(&pq::BlobRow, Option<Vec<u8>>) -> Result<(), InterchangeError>,
) -> Result<(), InterchangeError> {
    for file in super::find_parquet(&root.join("blobs"))? {
        pq::for_each_batch(&file, PARQUET_ROWS, |b| {
            for mut r in pq::blob_rows(&b)? {
                let bad = |why: String| reject(&file, 0, format!("blob {}: {why}", r.sha256));
                if r.size < 0 || r.size as u64 > MAX_CONTENT {
                    return Err(bad(format!(
                        "size {} is out of range (at most {} MiB a record)",
                        r.size,
                        MAX_CONTENT >> 20
                    )));
                }
                let bytes = match (r.content_encoding.as_str(), r.content.take()) {
                    (_, None) | ("none", _) => None,
                    ("raw", Some(c)) => Some(c),
                    ("zstd", Some(c)) => {
                        Some(blobs::decompress("zstd", &c, r.size as u64).map_err(bad)?)
                    }
                    (other, _) => return Err(bad(format!("unknown encoding `{other}`"))),
                };
                if let Some(b) = &bytes {
                    if b.len() as i64 != r.size || crate::id::sha256_hex(b) != r.sha256 {
                        return Err(bad("content does not match its SHA-256 and size".into()));
                    }
                }
                f(&r, bytes)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn check_parquet(root: &Path) -> Result<(Pass, Vec<ItemRow>), InterchangeError> {
    let items = parquet_items(root)?;
    let mut checked = Pass::default();
    let mut sizes = HashMap::new();
    each_parquet_blob(root, |r, bytes| {
        if bytes.is_some() {
            checked.contents.insert(r.sha256.clone());
        }
        sizes.insert(r.sha256.clone(), r.size);
        Ok(())
    })?;
    let mut seen = HashSet::new();
    for (i, row) in items.iter().enumerate() {
        check_row(row, None, &mut seen).map_err(|w| reject(root, i + 1, w))?;
        if sizes.get(&row.sha256).is_some_and(|s| *s != row.size) {
            return Err(reject(
                root,
                i + 1,
                format!("item {} and its blob disagree on the size", row.id),
            ));
        }
    }
    checked.items = items.len();
    Ok((checked, items))
}

/// A content-less blob row for `row` (the store keeps its address and size), unless the store
/// has one; a size that disagrees with the store's is refused.
fn insert_bare_blob(
    tx: &rusqlite::Transaction<'_>,
    row: &ItemRow,
    now: &str,
) -> Result<(), InterchangeError> {
    match blobs::size_of(tx, &row.sha256)? {
        Some(size) if size != row.size => Err(InterchangeError::Invalid {
            what: format!("item {}", row.id),
            why: format!(
                "its size {} disagrees with the store's {size} for the same content",
                row.size
            ),
        }),
        Some(_) => Ok(()),
        None => Ok(blobs::insert_bare(
            tx,
            &row.sha256,
            row.size,
            row.git_blob_id.as_deref(),
            now,
        )?),
    }
}

fn insert_item(tx: &rusqlite::Transaction<'_>, row: &ItemRow) -> Result<usize, InterchangeError> {
    Ok(crate::store::items::insert_row(tx, row)?)
}

fn insert_tombstone(
    tx: &rusqlite::Transaction<'_>,
    stream: &str,
    l: &serde_json::Value,
) -> Result<(), InterchangeError> {
    let path = l["path_bytes_hex"]
        .as_str()
        .and_then(crate::id::unhex)
        .unwrap_or_else(|| l["path"].as_str().unwrap_or_default().as_bytes().to_vec());
    crate::store::streams::insert_event(
        tx,
        &crate::store::streams::Event {
            seq: l["seq"].as_i64(),
            stream,
            deleted_at: l["deleted_at"].as_str(),
            origin: l["origin"].as_str().unwrap_or("archive"),
            item_id: l["id"].as_str(),
            path: &path,
            path_text: l["path"].as_str(),
            category: l["category"].as_str(),
            sha256: l["sha256"].as_str(),
            source_commit: l["source_commit"].as_str(),
            removed_in_commit: l["removed_in_commit"].as_str(),
            reason: l["reason"].as_str(),
        },
    )?;
    Ok(())
}

/// Apply the effect on items of an evidence line written after the export being imported.
fn replay_line(tx: &rusqlite::Transaction<'_>, line: &str) -> Result<(), InterchangeError> {
    use crate::store::items::state;
    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
        return Ok(());
    };
    let (d, at, actor) = (
        &v["data"],
        v["at"].as_str().unwrap_or_default(),
        v["actor"].as_str().unwrap_or_default(),
    );
    let ids = |key: &str| -> Vec<String> {
        d[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let set_state = |ids: Vec<String>, st: &str| -> Result<(), InterchangeError> {
        for id in ids {
            crate::store::items::set_state_only(tx, &id, st, at)?;
        }
        Ok(())
    };
    match v["op"].as_str().unwrap_or_default() {
        "hold" => {
            let reason = d["reason"].as_str().unwrap_or_default();
            for id in ids("ids") {
                crate::store::holds::place(tx, &id, reason, actor, at)?;
            }
        }
        "release" => {
            let reason = d["reason"].as_str().unwrap_or_default();
            for id in ids("ids") {
                if !crate::store::holds::release(tx, &id, reason, actor, at)? {
                    crate::store::holds::set_flag(tx, &id, false, at)?;
                }
            }
        }
        "bind" => {
            for id in ids("ids") {
                crate::store::items::bind_pending(tx, &id, d["commit"].as_str(), at)?;
            }
        }
        "vacuum" => set_state(ids("ids"), state::VACUUMED)?,
        "purge" => {
            set_state(ids("items"), state::PURGED)?;
            blobs::drop_bytes(tx, d["sha256"].as_str().unwrap_or_default())?;
        }
        "restore"
            if d["state"] == state::RESTORED
                || (d["state"].is_null() && d["written_to"] == d["path"]) =>
        {
            set_state(
                d["id"].as_str().map(str::to_owned).into_iter().collect(),
                state::RESTORED,
            )?;
        }
        _ => {}
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

/// The `import` evidence line's data (keys in the order the log has always had them).
#[derive(Serialize)]
struct ImportLine<'a> {
    evidence_lines_imported: usize,
    ids: Ids<'a>,
    items_new: usize,
    items_read: usize,
    source: &'a str,
}

/// Comma-separated ids, serialized as a JSON array of strings.
struct Ids<'a>(&'a str);

impl Serialize for Ids<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        for id in self.0.split(',').filter(|i| !i.is_empty()) {
            seq.serialize_element(id)?;
        }
        seq.end()
    }
}

/// A source whose every record was checked ([`check`]), ready for [`run`].
pub struct Checked {
    source: PathBuf,
    pass: Pass,
    parquet_rows: Option<(PathBuf, Vec<ItemRow>)>,
}

/// The first pass over `source`, one record in memory at a time: every record is checked
/// (re-derived and bounded) before anything, the store included, is opened for writing.
pub fn check(source: &Path) -> Result<Checked, InterchangeError> {
    let (pass, parquet_rows) = if source.is_dir() {
        let root = parquet_root(source);
        let (c, rows) = check_parquet(&root)?;
        (c, Some((root, rows)))
    } else {
        (check_jsonl(source)?, None)
    };
    if !pass.evidence.is_empty() {
        let text: String = pass.evidence.iter().map(|l| format!("{l}\n")).collect();
        if let Some(f) = evidence::verify_text(text.as_bytes(), None).first() {
            return Err(reject(
                source,
                0,
                format!("evidence line {}: {}", f.line, f.problem),
            ));
        }
    }
    Ok(Checked {
        source: source.to_path_buf(),
        pass,
        parquet_rows,
    })
}

/// Import a [`check`]ed source into `store`: the second pass inserts in one transaction.
pub fn run(
    store: &mut Store,
    checked: Checked,
    compression: Compression,
    actor: &str,
    now: &str,
) -> Result<Imported, InterchangeError> {
    run_as(store, checked, compression, actor, now, None)
}

/// A store rebuilt as the continuation of another: it takes that store's id (in the same
/// transaction as the records), so its evidence log and published files are that store's.
#[derive(Debug, Clone)]
pub struct Continue {
    pub store_id: String,
    /// What the records came from, for the `import` evidence line.
    pub source: String,
}

/// [`run`]; with `cont`, into an empty store only (else nothing is written), which becomes
/// the continuation of the source store.
pub fn run_as(
    store: &mut Store,
    checked: Checked,
    compression: Compression,
    actor: &str,
    now: &str,
    cont: Option<&Continue>,
) -> Result<Imported, InterchangeError> {
    let Checked {
        source,
        pass: mut checked,
        parquet_rows,
    } = checked;
    let source = source.as_path();
    // A large import touches every index page over and over: a 64 MiB page cache (not the
    // default 2 MiB) keeps them in memory instead of re-reading them from the WAL.
    store.set_cache_mib(64)?;
    let fresh = store.is_empty()?;
    if cont.is_some() && !fresh {
        return Err(InterchangeError::Invalid {
            what: "store".into(),
            why: format!(
                "{} already holds records; only an empty store continues another",
                store.dir().display()
            ),
        });
    }
    let carry_evidence = fresh && !checked.evidence.is_empty();
    let exported_lines = checked.evidence.len();
    if carry_evidence {
        checked.evidence = reconcile_with_log(store.dir(), std::mem::take(&mut checked.evidence))?;
    }
    let mut report = Imported {
        source: cont.map_or_else(|| source.display().to_string(), |c| c.source.clone()),
        items_read: checked.items,
        ..Imported::default()
    };
    let fill = Fill {
        source,
        checked: &checked,
        compression,
        now,
        carry_evidence,
        exported_lines,
    };
    let f = |tx: &rusqlite::Transaction<'_>| -> Result<Imported, InterchangeError> {
        let mut report = report.clone();
        let mut new_ids = NewIds::default();
        match &parquet_rows {
            Some((root, rows)) => fill.parquet(tx, root, rows, &mut report, &mut new_ids)?,
            None => fill.jsonl(tx, &mut report, &mut new_ids)?,
        }
        if carry_evidence {
            fill.carry_log(tx, &mut report)?;
        }
        if let Some(c) = cont {
            crate::store::meta::set(tx, "store_id", &c.store_id)?;
        }
        if report.items_new > 0 || report.evidence_lines > 0 {
            // The ids this import added, so `verify` can tell them from rows added by hand.
            let data = ImportLine {
                evidence_lines_imported: report.evidence_lines,
                ids: Ids(if carry_evidence { "" } else { &new_ids.0 }),
                items_new: report.items_new,
                items_read: report.items_read,
                source: &report.source,
            };
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

/// The new ids, comma-separated (ids are `tb_` and hex: nothing to escape), for the import's
/// evidence line: 23 bytes an item, not a string and a JSON value each.
#[derive(Default)]
struct NewIds(String);

/// What filling the store from a checked source needs.
struct Fill<'a> {
    source: &'a Path,
    checked: &'a Pass,
    compression: Compression,
    now: &'a str,
    /// The store is empty and the source carries its log: the log and streams come along.
    carry_evidence: bool,
    /// How many log lines the export itself held (the rest survived it).
    exported_lines: usize,
}

impl Fill<'_> {
    /// Insert an item; count it and remember its id when it is new.
    fn item(
        &self,
        tx: &rusqlite::Transaction<'_>,
        row: &ItemRow,
        report: &mut Imported,
        new_ids: &mut NewIds,
    ) -> Result<(), InterchangeError> {
        let n = insert_item(tx, row)?;
        report.items_new += n;
        if n > 0 {
            if !new_ids.0.is_empty() {
                new_ids.0.push(',');
            }
            new_ids.0.push_str(&row.id);
        }
        Ok(())
    }

    /// A Parquet source: the content its blobs carry, then every item.
    fn parquet(
        &self,
        tx: &rusqlite::Transaction<'_>,
        root: &Path,
        rows: &[ItemRow],
        report: &mut Imported,
        new_ids: &mut NewIds,
    ) -> Result<(), InterchangeError> {
        let (compression, now, checked) = (self.compression, self.now, self.checked);
        let wanted: HashSet<&str> = rows.iter().map(|r| r.sha256.as_str()).collect();
        each_parquet_blob(root, |r, bytes| {
            if let Some(b) = bytes.filter(|_| wanted.contains(r.sha256.as_str())) {
                blobs::put(tx, &b, r.git_blob_id.as_deref(), compression, now)?;
            }
            Ok(())
        })?;
        for row in rows {
            if !checked.contents.contains(&row.sha256) {
                insert_bare_blob(tx, row, now)?;
            }
            self.item(tx, row, report, new_ids)?;
        }
        Ok(())
    }

    /// A JSONL source, one record at a time: items with their content, and (when the log
    /// comes along) the source's tombstone streams as they were.
    fn jsonl(
        &self,
        tx: &rusqlite::Transaction<'_>,
        report: &mut Imported,
        new_ids: &mut NewIds,
    ) -> Result<(), InterchangeError> {
        let (source, compression, now, carry_evidence) =
            (self.source, self.compression, self.now, self.carry_evidence);
        let mut tombstones_cleared = false;
        each_jsonl(source, |n, rec| {
            match rec {
                Record::Item(line) => {
                    let (row, content) = item_of(&line, source, n)?;
                    match content {
                        Some(c) => {
                            blobs::put(tx, &c, row.git_blob_id.as_deref(), compression, now)?;
                        }
                        None => insert_bare_blob(tx, &row, now)?,
                    }
                    self.item(tx, &row, report, new_ids)?;
                }
                // The source's streams, as they were (pruned by its vacuums), replace
                // the ones the triggers re-derived.
                Record::Tombstone { stream, line } if carry_evidence => {
                    if !tombstones_cleared {
                        crate::store::streams::clear_events(tx)?;
                        tombstones_cleared = true;
                    }
                    insert_tombstone(tx, &stream, &line)?;
                    report.tombstones += 1;
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(())
    }

    /// The source's log, as it was, then the operations of the lines that survived past the
    /// export replayed onto the rebuilt tables.
    fn carry_log(
        &self,
        tx: &rusqlite::Transaction<'_>,
        report: &mut Imported,
    ) -> Result<(), InterchangeError> {
        let (checked, exported_lines) = (self.checked, self.exported_lines);
        for line in &checked.evidence {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            crate::store::evidence::insert_line(
                tx,
                v["seq"].as_i64().unwrap_or(0),
                v["op"].as_str().unwrap_or(""),
                line,
            )?;
        }
        report.evidence_lines = checked.evidence.len();
        // Lines the surviving log has past the export: their operations happened after it,
        // so the rebuilt tables take them too (a hold placed after the export stays on).
        for line in &checked.evidence[exported_lines.min(checked.evidence.len())..] {
            replay_line(tx, line)?;
        }
        Ok(())
    }
}
