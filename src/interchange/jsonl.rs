//! `code_archive.jsonl` (`.gz` when the name ends so): the store as one line per record.
//!
//! ```text
//! {"type":"header","format":"git-tombstone/code_archive","version":1,"store_id":…,"project":…,"exported_at":…}
//! {"type":"item","id":…,"path":…,"language":…,"encoding":"utf-8"|"base64"|null,"content":…,…}
//! {"type":"tombstone","stream":"code"|"logs",…}    the tombstone streams, line for line
//! {"type":"evidence","line":"<the exact evidence line>"}
//! ```
//!
//! Content is UTF-8 text when it is valid UTF-8 and not binary, else base64; `null` when the
//! store no longer has it (vacuumed, purged). Evidence lines are carried verbatim so their
//! digests survive a rebuild.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::parquet::ItemRow;
use super::InterchangeError;
use crate::store::{blobs, Store};

/// Format name in the header.
pub const FORMAT: &str = "git-tombstone/code_archive";

/// An item line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ItemLine {
    pub id: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_bytes_hex: Option<String>,
    pub language: Option<String>,
    pub mime: String,
    pub lines: Option<i64>,
    pub binary: bool,
    /// `utf-8`, `base64`, or `null` when the content is not in the store.
    pub encoding: Option<String>,
    pub content: Option<String>,
    pub sha256: String,
    pub size: i64,
    pub git_blob_id: Option<String>,
    pub mode: String,
    pub category: String,
    pub action: String,
    pub reason: String,
    pub actor: String,
    pub source_commit: String,
    pub removed_in_commit: Option<String>,
    pub archived_at: String,
    pub updated_at: String,
    pub removed_at: Option<String>,
    pub state: String,
    pub legal_hold: bool,
    pub tags: serde_json::Value,
    pub metadata: serde_json::Value,
}

impl ItemLine {
    /// The line of `row` with `content`.
    pub fn new(row: &ItemRow, content: Option<&[u8]>) -> ItemLine {
        let (encoding, content) = match content {
            None => (None, None),
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) if !row.binary => (Some("utf-8".to_owned()), Some(s.to_owned())),
                _ => (
                    Some("base64".to_owned()),
                    Some(base64::engine::general_purpose::STANDARD.encode(b)),
                ),
            },
        };
        ItemLine {
            id: row.id.clone(),
            path: String::from_utf8_lossy(&row.path).into_owned(),
            path_bytes_hex: std::str::from_utf8(&row.path)
                .is_err()
                .then(|| crate::id::hex(&row.path)),
            language: row.language.clone(),
            mime: row.mime.clone(),
            lines: row.lines,
            binary: row.binary,
            encoding,
            content,
            sha256: row.sha256.clone(),
            size: row.size,
            git_blob_id: row.git_blob_id.clone(),
            mode: row.mode.clone(),
            category: row.category.clone(),
            action: row.action.clone(),
            reason: row.reason.clone(),
            actor: row.actor.clone(),
            source_commit: row.source_commit.clone(),
            removed_in_commit: row.removed_in_commit.clone(),
            archived_at: row.archived_at.clone(),
            updated_at: row.updated_at.clone(),
            removed_at: row.removed_at.clone(),
            state: row.state.clone(),
            legal_hold: row.legal_hold,
            tags: serde_json::from_str(&row.tags).unwrap_or_else(|_| serde_json::json!([])),
            metadata: serde_json::from_str(&row.metadata).unwrap_or_else(|_| serde_json::json!({})),
        }
    }

    /// The exact path bytes.
    pub fn path_bytes(&self) -> Option<Vec<u8>> {
        match &self.path_bytes_hex {
            None => Some(self.path.as_bytes().to_vec()),
            Some(hex) => crate::id::unhex(hex),
        }
    }

    /// The decoded content, if present.
    pub fn content_bytes(&self) -> Result<Option<Vec<u8>>, String> {
        match (self.encoding.as_deref(), &self.content) {
            (_, None) | (None, _) => Ok(None),
            (Some("utf-8"), Some(s)) => Ok(Some(s.as_bytes().to_vec())),
            (Some("base64"), Some(s)) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .map(Some)
                .map_err(|e| format!("bad base64: {e}")),
            (Some(other), _) => Err(format!("unknown encoding `{other}`")),
        }
    }
}

/// One record of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Record {
    Header {
        format: String,
        version: u32,
        store_id: String,
        project: Option<String>,
        exported_at: String,
    },
    Item(Box<ItemLine>),
    Tombstone {
        stream: String,
        line: serde_json::Value,
    },
    Evidence {
        line: String,
    },
}

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Write the whole store to `path` (atomically; gzip if it ends in `.gz`). Returns the number
/// of item lines.
pub fn export(store: &Store, path: &Path, now: &str) -> Result<usize, InterchangeError> {
    let conn = store.conn();
    let mut text = Vec::new();
    let mut push = |r: &Record| -> Result<(), InterchangeError> {
        serde_json::to_writer(&mut text, r).map_err(|e| InterchangeError::Invalid {
            what: "record".into(),
            why: e.to_string(),
        })?;
        text.push(b'\n');
        Ok(())
    };
    push(&Record::Header {
        format: FORMAT.into(),
        version: 1,
        store_id: store.id()?,
        project: store.meta("project")?,
        exported_at: now.to_owned(),
    })?;
    let rows: Vec<ItemRow> = crate::store::exports::all_items(conn)?;
    for row in &rows {
        let content = blobs::get(conn, &row.sha256)?;
        push(&Record::Item(Box::new(ItemLine::new(
            row,
            content.as_deref(),
        ))))?;
    }
    for stream in crate::store::streams::STREAMS {
        for (_, line) in crate::store::streams::lines(conn, stream, 0)? {
            push(&Record::Tombstone {
                stream: stream.to_owned(),
                line: serde_json::from_str(&line).unwrap_or_default(),
            })?;
        }
    }
    for line in crate::store::evidence::all_lines(conn)? {
        push(&Record::Evidence { line })?;
    }
    write_maybe_gz(path, &text)?;
    Ok(rows.len())
}

fn write_maybe_gz(path: &Path, text: &[u8]) -> Result<(), InterchangeError> {
    let bytes = if is_gz(path) {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text)
            .map_err(|e| InterchangeError::io(path, e))?;
        enc.finish().map_err(|e| InterchangeError::io(path, e))?
    } else {
        text.to_vec()
    };
    crate::fsutil::write_atomic(path, &bytes, 0o644).map_err(|e| InterchangeError::io(path, e))
}

/// The longest record (one line, decompressed) a reader accepts.
pub const MAX_RECORD: usize = 96 << 20;
/// How much more a `.gz` may expand than it is long, past its first [`RATIO_GRACE`] bytes.
pub const MAX_RATIO: u64 = 200;
/// Output a `.gz` may produce before [`MAX_RATIO`] applies.
pub const RATIO_GRACE: u64 = 64 << 20;

/// Counts the bytes read through it (the compressed side of a `.gz`).
struct Counted<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// The records of a JSONL (or `.jsonl.gz`) file, one at a time, with limits: a record may be
/// at most [`MAX_RECORD`] bytes, and a `.gz` may not expand more than [`MAX_RATIO`] times (past
/// its first [`RATIO_GRACE`] bytes). Memory stays bounded by one record whatever the input; a
/// decompression bomb, a damaged gzip stream or invalid UTF-8 is a rejected record.
pub struct Records {
    source: String,
    reader: BufReader<Box<dyn Read>>,
    compressed: Option<std::rc::Rc<std::cell::Cell<u64>>>,
    produced: u64,
    line: usize,
    done: bool,
}

impl Records {
    /// Open `path` for reading.
    pub fn open(path: &Path) -> Result<Records, InterchangeError> {
        let f = std::fs::File::open(path).map_err(|e| InterchangeError::io(path, e))?;
        let (reader, compressed): (Box<dyn Read>, _) = if is_gz(path) {
            let count = std::rc::Rc::new(std::cell::Cell::new(0));
            let counted = Counted {
                inner: f,
                count: count.clone(),
            };
            (
                Box::new(flate2::read::MultiGzDecoder::new(counted)),
                Some(count),
            )
        } else {
            (Box::new(f), None)
        };
        Ok(Records {
            source: path.display().to_string(),
            reader: BufReader::with_capacity(256 << 10, reader),
            compressed,
            produced: 0,
            line: 0,
            done: false,
        })
    }

    fn reject(&mut self, why: String) -> Option<Result<(usize, Record), InterchangeError>> {
        self.done = true;
        Some(Err(InterchangeError::Rejected {
            source_name: self.source.clone(),
            record: self.line,
            why,
        }))
    }
}

impl Iterator for Records {
    /// The line number and the record.
    type Item = Result<(usize, Record), InterchangeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = Vec::new();
        while !self.done {
            buf.clear();
            self.line += 1;
            let read = (&mut self.reader)
                .take(MAX_RECORD as u64 + 1)
                .read_until(b'\n', &mut buf);
            match read {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(n) => self.produced += n as u64,
                Err(e) => return self.reject(format!("unreadable (damaged compression?): {e}")),
            }
            if buf.len() > MAX_RECORD {
                return self.reject(format!(
                    "a record is longer than {} MiB (a decompression bomb, or not a JSONL export)",
                    MAX_RECORD >> 20
                ));
            }
            if let Some(c) = &self.compressed {
                let compressed = c.get().max(1);
                if self.produced > RATIO_GRACE && self.produced / compressed > MAX_RATIO {
                    return self.reject(format!(
                        "the gzip stream expands more than {MAX_RATIO} times (a decompression bomb)"
                    ));
                }
            }
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => t.trim(),
                Err(e) => return self.reject(format!("not UTF-8: {e}")),
            };
            if text.is_empty() {
                continue;
            }
            return match serde_json::from_str::<Record>(text) {
                Ok(r) => Some(Ok((self.line, r))),
                Err(e) => self.reject(format!("not a record: {e}")),
            };
        }
        None
    }
}

/// Every record of a JSONL (or `.jsonl.gz`) file (for files this tool wrote itself).
pub fn read(path: &Path) -> Result<Vec<Record>, InterchangeError> {
    Records::open(path)?
        .map(|r| r.map(|(_, rec)| rec))
        .collect()
}

/// Drop the content of `shas` from the JSONL export at `path`, if it exists and holds any.
pub fn scrub_file(path: &Path, shas: &[String]) -> Result<bool, InterchangeError> {
    if !path.exists() {
        return Ok(false);
    }
    let records = read(path)?;
    let mut hit = false;
    let mut text = Vec::new();
    for mut r in records {
        if let Record::Item(item) = &mut r {
            if shas.contains(&item.sha256) && item.content.is_some() {
                item.content = None;
                item.encoding = None;
                hit = true;
            }
        }
        serde_json::to_writer(&mut text, &r).map_err(|e| InterchangeError::Invalid {
            what: "record".into(),
            why: e.to_string(),
        })?;
        text.push(b'\n');
    }
    if hit {
        write_maybe_gz(path, &text)?;
    }
    Ok(hit)
}
