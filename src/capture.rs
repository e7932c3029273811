//! Capturing content into the store: the one path by which archive, the hooks and CI scans
//! record a file version.
//!
//! A capture is idempotent: the item id is derived from path, content and source commit, so
//! capturing the same deletion twice (a rerun after a crash, or a hook then a CI scan) finds
//! the existing item and appends no second evidence line.

use rusqlite::Transaction;
use serde::Serialize;

use crate::content;
use crate::id;
use crate::policy::{Action, Compression};
use crate::store::evidence::{self, Appended};
use crate::store::items::{self, state, Item};
use crate::store::{blobs, StoreError};
use crate::stub::Mode;

/// One file version to capture.
#[derive(Debug, Clone)]
pub struct Capture {
    pub path: Vec<u8>,
    pub mode: Mode,
    pub bytes: Vec<u8>,
    pub git_blob_id: String,
    pub source_commit: String,
    pub removed_in_commit: Option<String>,
    /// When the removing commit was made, if known (scans); else the time of recording.
    pub removed_at: Option<String>,
    pub action: Action,
    pub category: String,
    pub reason: String,
    pub tags: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl Capture {
    /// The stub that stands for this file at `location` (its path, or its sidecar): it names
    /// this capture's id, content and source.
    pub fn render_stub_at(&self, location: &[u8]) -> Result<Vec<u8>, crate::stub::StubError> {
        let sha = id::sha256_hex(&self.bytes);
        crate::stub::Stub::new(
            &self.path,
            self.mode,
            &sha,
            self.bytes.len() as u64,
            &self.source_commit,
            &self.reason,
        )
        .render(location)
    }

    /// The in-place stub of this file.
    pub fn render_stub(&self) -> Result<Vec<u8>, crate::stub::StubError> {
        self.render_stub_at(&self.path)
    }

    /// The tombstone id this capture gets.
    pub fn id(&self) -> String {
        id::tombstone_id(
            &self.path,
            &id::sha256_hex(&self.bytes),
            &self.source_commit,
        )
    }
}

/// What recording one capture did.
#[derive(Debug, Clone, Serialize)]
pub struct Captured {
    pub id: String,
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub stored_size: u64,
    /// False when the item already existed (a rerun, or a hook and a scan of the same event).
    pub new_item: bool,
    /// False when identical content was already stored.
    pub new_content: bool,
    pub state: String,
    pub evidence: Option<Appended>,
}

/// The CPU-heavy half of a capture (hash, compress, describe), which can run on any thread.
#[derive(Debug)]
pub struct Packed {
    pub sha256: String,
    pub content: blobs::Packed,
    pub info: content::ContentInfo,
}

/// Hash, compress and describe `c`'s content.
pub fn pack(c: &Capture, compression: Compression) -> Packed {
    Packed {
        sha256: id::sha256_hex(&c.bytes),
        content: blobs::pack(&c.bytes, compression),
        info: content::describe(&c.path, &c.bytes),
    }
}

/// [`pack`] `c`, then drop its raw bytes: the packing holds all the store will keep (the raw
/// bytes themselves when they do not compress). For captures queued before they are recorded
/// (a scan's), so each holds its content once. The capture's content is then gone: use the
/// packing's `sha256` and `content.size`.
pub fn pack_owned(c: &mut Capture, compression: Compression) -> Packed {
    let mut packed = pack(c, compression);
    packed.content.own_raw(&mut c.bytes);
    c.bytes = Vec::new();
    packed
}

/// Record `c` (content, item, evidence line) inside `tx`.
pub fn record(
    tx: &Transaction<'_>,
    c: &Capture,
    actor: &str,
    now: &str,
    compression: Compression,
) -> Result<Captured, StoreError> {
    record_packed(tx, c, &pack(c, compression), actor, now)
}

/// Record `captures` in order inside `tx`, as [`record`] one after the other would.
pub fn record_many(
    tx: &Transaction<'_>,
    captures: &[&Capture],
    actor: &str,
    now: &str,
    compression: Compression,
) -> Result<Vec<Captured>, StoreError> {
    let packed: Vec<Packed> = captures.iter().map(|c| pack(c, compression)).collect();
    let batch: Vec<(&Capture, &Packed)> = captures.iter().copied().zip(&packed).collect();
    record_packed_many(tx, &batch, actor, now)
}

/// Record `c`, already [`pack`]ed, inside `tx`. An item that exists and is `pending` is bound
/// when `c` knows the commit that removed it.
pub fn record_packed(
    tx: &Transaction<'_>,
    c: &Capture,
    packed: &Packed,
    actor: &str,
    now: &str,
) -> Result<Captured, StoreError> {
    let mut one = record_packed_many(tx, &[(c, packed)], actor, now)?;
    Ok(one.remove(0))
}

/// Record several [`pack`]ed captures in order, exactly as [`record_packed`] one after the
/// other would, with the items inserted in multi-row statements.
pub fn record_packed_many(
    tx: &Transaction<'_>,
    batch: &[(&Capture, &Packed)],
    actor: &str,
    now: &str,
) -> Result<Vec<Captured>, StoreError> {
    let mut puts = Vec::with_capacity(batch.len());
    let mut rows = Vec::with_capacity(batch.len());
    for (c, packed) in batch {
        let put = put_content(tx, c, packed, now)?;
        rows.push(item_of(c, packed, &put, actor, now));
        puts.push(put);
    }
    let new = items::insert_many(tx, &rows)?;
    let mut out = Vec::with_capacity(batch.len());
    // The evidence lines follow one another: the log's end is looked up once.
    let mut last = evidence::last(tx)?;
    for ((((c, _), put), item), new_item) in batch.iter().zip(puts).zip(rows).zip(new) {
        out.push(finish(tx, c, put, item, new_item, (actor, now), &mut last)?);
    }
    Ok(out)
}

/// Store `c`'s content (once per SHA-256), [`pack`]ed.
pub fn put_content(
    tx: &Transaction<'_>,
    c: &Capture,
    packed: &Packed,
    now: &str,
) -> Result<blobs::Put, StoreError> {
    blobs::put_packed(
        tx,
        &packed.sha256,
        &c.bytes,
        &packed.content,
        Some(&c.git_blob_id),
        now,
    )
}

/// The item row `c` makes, its content stored as `put`.
fn item_of(c: &Capture, packed: &Packed, put: &blobs::Put, actor: &str, now: &str) -> Item {
    let info = &packed.info;
    Item {
        id: id::tombstone_id(&c.path, &put.sha256, &c.source_commit),
        path: c.path.clone(),
        path_text: String::from_utf8_lossy(&c.path).into_owned(),
        path_bytes_hex: None,
        sha256: put.sha256.clone(),
        git_blob_id: Some(c.git_blob_id.clone()),
        size: put.size,
        mode: c.mode.as_str().to_owned(),
        language: info.language.map(str::to_owned),
        mime: info.mime.to_owned(),
        lines: info.lines,
        binary: info.binary,
        category: c.category.clone(),
        action: c.action.as_str().to_owned(),
        reason: c.reason.clone(),
        actor: actor.to_owned(),
        state: initial_state(c).to_owned(),
        source_commit: c.source_commit.clone(),
        removed_in_commit: c.removed_in_commit.clone(),
        removed_at: c
            .removed_in_commit
            .as_ref()
            .map(|_| c.removed_at.clone().unwrap_or_else(|| now.to_owned())),
        archived_at: now.to_owned(),
        updated_at: now.to_owned(),
        legal_hold: false,
        tags: c.tags.clone(),
        metadata: c.metadata.clone(),
        stored_size: Some(put.stored_size),
    }
}

/// A capture that knows its removing commit is archived at once; else it waits for it.
fn initial_state(c: &Capture) -> &'static str {
    if c.removed_in_commit.is_some() {
        state::ARCHIVED
    } else {
        state::PENDING
    }
}

/// The `data` of an `archive` evidence line. Its fields are in the order of their names, as
/// in every other line's `data` (a JSON object, whose keys serde_json keeps sorted): the
/// lines read the same whichever way they were built.
#[derive(Serialize)]
struct ArchiveData<'a> {
    action: &'a str,
    category: &'a str,
    git_blob_id: &'a str,
    id: &'a str,
    metadata: &'a serde_json::Map<String, serde_json::Value>,
    mode: &'a str,
    path: &'a str,
    path_bytes_hex: Option<String>,
    reason: &'a str,
    removed_in_commit: Option<&'a str>,
    sha256: &'a str,
    size: u64,
    source_commit: &'a str,
    tags: &'a [String],
}

/// After `item` was inserted (`new_item`) or found: the evidence line of a new item (after
/// `last`, the log's last line, which it then is), or the binding of a pending one.
fn finish(
    tx: &Transaction<'_>,
    c: &Capture,
    put: blobs::Put,
    item: Item,
    new_item: bool,
    (actor, now): (&str, &str),
    last: &mut Option<Appended>,
) -> Result<Captured, StoreError> {
    let id = item.id.clone();
    let initial_state = initial_state(c);
    let evidence = if new_item {
        let data = ArchiveData {
            action: &item.action,
            category: &item.category,
            git_blob_id: &c.git_blob_id,
            id: &id,
            metadata: &c.metadata,
            mode: &item.mode,
            path: &item.path_text,
            path_bytes_hex: std::str::from_utf8(&c.path)
                .is_err()
                .then(|| id::hex(&c.path)),
            reason: &item.reason,
            removed_in_commit: c.removed_in_commit.as_deref(),
            sha256: &put.sha256,
            size: put.size,
            source_commit: &c.source_commit,
            tags: &c.tags,
        };
        let appended = evidence::append_after(tx, last.as_ref(), "archive", actor, now, &data)?;
        *last = Some(appended.clone());
        Some(appended)
    } else {
        None
    };
    let current_state = if new_item {
        initial_state.to_owned()
    } else {
        let existing = items::get(tx, &id)?.map_or_else(|| initial_state.to_owned(), |i| i.state);
        match &c.removed_in_commit {
            Some(commit) if existing == state::PENDING => {
                items::bind_removal(
                    tx,
                    &id,
                    state::ARCHIVED,
                    Some(commit),
                    c.removed_at.as_deref(),
                    now,
                )?;
                state::ARCHIVED.to_owned()
            }
            _ => existing,
        }
    };
    Ok(Captured {
        id,
        path: crate::stub::encode_path(&c.path),
        sha256: put.sha256,
        size: put.size,
        stored_size: put.stored_size,
        new_item,
        new_content: put.new,
        state: current_state,
        evidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `archive` line's data reads as the `serde_json::json!` object it replaced: the same
    /// keys in the same order, `null` for what is absent.
    #[test]
    fn archive_data_serializes_as_the_json_object_it_replaced() {
        let mut metadata = serde_json::Map::new();
        metadata.insert("zeta".into(), serde_json::json!(1));
        metadata.insert(
            "alpha".into(),
            serde_json::json!({"b": [1, "x"], "a": null}),
        );
        let tags = vec!["generated".to_owned(), "é".to_owned()];
        for (path, hex, removed) in [
            ("src/a \"q\".rs", None, Some("ab".repeat(20))),
            ("bin\u{fffd}.dat", Some("62696eff2e646174".to_owned()), None),
        ] {
            let data = ArchiveData {
                action: "archive",
                category: "code",
                git_blob_id: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
                id: "tmb_0123",
                metadata: &metadata,
                mode: "100644",
                path,
                path_bytes_hex: hex.clone(),
                reason: "deleted in a commit",
                removed_in_commit: removed.as_deref(),
                sha256: "00ff",
                size: 12,
                source_commit: "cd",
                tags: &tags,
            };
            let expected = serde_json::json!({
                "id": "tmb_0123",
                "path": path,
                "path_bytes_hex": hex,
                "sha256": "00ff",
                "git_blob_id": "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
                "size": 12u64,
                "mode": "100644",
                "action": "archive",
                "category": "code",
                "reason": "deleted in a commit",
                "source_commit": "cd",
                "removed_in_commit": removed,
                "tags": tags,
                "metadata": metadata,
            });
            assert_eq!(
                serde_json::to_string(&data).expect("the struct serializes"),
                serde_json::to_string(&expected).expect("the object serializes")
            );
        }
    }
}
