//! The two Parquet datasets, `items` and `blobs`: their (pinned) Arrow schemas, building record
//! batches from store rows, and writing and reading files.
//!
//! Timestamps are Parquet timestamps (milliseconds, UTC). Paths are both a UTF-8 (lossy) string
//! and the exact bytes. Blob content is raw or zstd-compressed per row (`content_encoding`);
//! files are zstd-compressed at the page level either way, which on raw content lets the
//! compressor see across small files the way per-file compression cannot.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::InterchangeError;

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// The `items` schema. Stable: a test pins it, and readers rely on it.
pub fn items_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("path_bytes", DataType::Binary, false),
        Field::new("mode", DataType::Utf8, false),
        Field::new("language", DataType::Utf8, true),
        Field::new("mime", DataType::Utf8, false),
        Field::new("lines", DataType::Int64, true),
        Field::new("binary", DataType::Boolean, false),
        Field::new("size", DataType::Int64, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("git_blob_id", DataType::Utf8, true),
        Field::new("category", DataType::Utf8, false),
        Field::new("action", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("actor", DataType::Utf8, false),
        Field::new("source_commit", DataType::Utf8, false),
        Field::new("removed_in_commit", DataType::Utf8, true),
        Field::new("archived_at", ts(), false),
        Field::new("updated_at", ts(), false),
        Field::new("removed_at", ts(), true),
        Field::new("state", DataType::Utf8, false),
        Field::new("legal_hold", DataType::Boolean, false),
        Field::new("tags", DataType::Utf8, false),
        Field::new("metadata", DataType::Utf8, false),
        Field::new("change_seq", DataType::Int64, false),
        Field::new("exported_at", ts(), false),
    ]))
}

/// The `blobs` schema. Stable: a test pins it.
pub fn blobs_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("sha256", DataType::Utf8, false),
        Field::new("size", DataType::Int64, false),
        Field::new("git_blob_id", DataType::Utf8, true),
        Field::new("content_encoding", DataType::Utf8, false),
        Field::new("content", DataType::Binary, true),
        Field::new("created_at", ts(), false),
        Field::new("exported_at", ts(), false),
    ]))
}

/// The `files` schema (snapshot rows): stable, pinned by a test.
pub fn files_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("row_id", DataType::Int64, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("path_bytes", DataType::Binary, false),
        Field::new("mode", DataType::Utf8, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("git_blob_id", DataType::Utf8, false),
        Field::new("size", DataType::Int64, false),
        Field::new("language", DataType::Utf8, true),
        Field::new("mime", DataType::Utf8, false),
        Field::new("lines", DataType::Int64, true),
        Field::new("binary", DataType::Boolean, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("first_commit", DataType::Utf8, false),
        Field::new("first_seen_at", ts(), false),
        Field::new("superseded_at", ts(), true),
        Field::new("deleted_at", ts(), true),
        Field::new("deleted_in_commit", DataType::Utf8, true),
        Field::new("change_seq", DataType::Int64, false),
        Field::new("exported_at", ts(), false),
    ]))
}

pub use crate::store::exports::{FileRow, ItemRow};

/// A record batch of snapshot rows.
pub fn files_batch(rows: &[FileRow], exported_at: &str) -> Result<RecordBatch, InterchangeError> {
    let at = millis(exported_at);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.row_id))),
        Arc::new(
            rows.iter()
                .map(|r| Some(String::from_utf8_lossy(&r.path).into_owned()))
                .collect::<StringArray>(),
        ),
        Arc::new(BinaryArray::from_iter_values(
            rows.iter().map(|r| &r.path[..]),
        )),
        strings(rows.iter().map(|r| r.mode.as_str())),
        strings(rows.iter().map(|r| r.sha256.as_str())),
        strings(rows.iter().map(|r| r.git_blob_id.as_str())),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.size))),
        opt_strings(rows.iter().map(|r| r.language.as_deref())),
        strings(rows.iter().map(|r| r.mime.as_str())),
        Arc::new(rows.iter().map(|r| r.lines).collect::<Int64Array>()),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.binary))
                .collect::<BooleanArray>(),
        ),
        strings(rows.iter().map(|r| r.category.as_str())),
        strings(rows.iter().map(|r| r.first_commit.as_str())),
        stamps(rows.iter().map(|r| Some(millis(&r.first_seen_at)))),
        stamps(rows.iter().map(|r| r.superseded_at.as_deref().map(millis))),
        stamps(rows.iter().map(|r| r.deleted_at.as_deref().map(millis))),
        opt_strings(rows.iter().map(|r| r.deleted_in_commit.as_deref())),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.change_seq),
        )),
        stamps(rows.iter().map(|_| Some(at))),
    ];
    Ok(RecordBatch::try_new(files_schema(), cols)?)
}

/// The schema of `dataset`.
pub fn schema_of(dataset: &str) -> SchemaRef {
    match dataset {
        "items" => items_schema(),
        "files" => files_schema(),
        _ => blobs_schema(),
    }
}

/// Milliseconds since the epoch of an RFC 3339 time (0 if unparsable, which the store never
/// writes).
pub fn millis(rfc3339: &str) -> i64 {
    crate::clock::unix_millis(rfc3339).unwrap_or(0)
}

/// The RFC 3339 text of milliseconds since the epoch.
pub fn rfc3339(ms: i64) -> String {
    crate::clock::from_unix(ms.div_euclid(1000))
}

/// One blob row, as exported.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobRow {
    pub sha256: String,
    pub size: i64,
    pub git_blob_id: Option<String>,
    /// `raw` or `zstd`; `none` when the content is gone (vacuumed or purged).
    pub content_encoding: String,
    pub content: Option<Vec<u8>>,
    pub created_at: String,
}

fn strings<'a>(v: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(v))
}

fn opt_strings<'a>(v: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(v.collect::<StringArray>())
}

fn stamps(v: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(
        v.collect::<TimestampMillisecondArray>()
            .with_timezone("UTC"),
    )
}

/// A record batch of `rows`, exported at `exported_at` (RFC 3339).
pub fn items_batch(rows: &[ItemRow], exported_at: &str) -> Result<RecordBatch, InterchangeError> {
    let at = millis(exported_at);
    let cols: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|r| r.id.as_str())),
        Arc::new(
            rows.iter()
                .map(|r| Some(String::from_utf8_lossy(&r.path).into_owned()))
                .collect::<StringArray>(),
        ),
        Arc::new(BinaryArray::from_iter_values(
            rows.iter().map(|r| &r.path[..]),
        )),
        strings(rows.iter().map(|r| r.mode.as_str())),
        opt_strings(rows.iter().map(|r| r.language.as_deref())),
        strings(rows.iter().map(|r| r.mime.as_str())),
        Arc::new(rows.iter().map(|r| r.lines).collect::<Int64Array>()),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.binary))
                .collect::<BooleanArray>(),
        ),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.size))),
        strings(rows.iter().map(|r| r.sha256.as_str())),
        opt_strings(rows.iter().map(|r| r.git_blob_id.as_deref())),
        strings(rows.iter().map(|r| r.category.as_str())),
        strings(rows.iter().map(|r| r.action.as_str())),
        strings(rows.iter().map(|r| r.reason.as_str())),
        strings(rows.iter().map(|r| r.actor.as_str())),
        strings(rows.iter().map(|r| r.source_commit.as_str())),
        opt_strings(rows.iter().map(|r| r.removed_in_commit.as_deref())),
        stamps(rows.iter().map(|r| Some(millis(&r.archived_at)))),
        stamps(rows.iter().map(|r| Some(millis(&r.updated_at)))),
        stamps(rows.iter().map(|r| r.removed_at.as_deref().map(millis))),
        strings(rows.iter().map(|r| r.state.as_str())),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.legal_hold))
                .collect::<BooleanArray>(),
        ),
        strings(rows.iter().map(|r| r.tags.as_str())),
        strings(rows.iter().map(|r| r.metadata.as_str())),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.change_seq),
        )),
        stamps(rows.iter().map(|_| Some(at))),
    ];
    Ok(RecordBatch::try_new(items_schema(), cols)?)
}

/// A record batch of `rows`, exported at `exported_at`.
pub fn blobs_batch(rows: &[BlobRow], exported_at: &str) -> Result<RecordBatch, InterchangeError> {
    let at = millis(exported_at);
    let cols: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|r| r.sha256.as_str())),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.size))),
        opt_strings(rows.iter().map(|r| r.git_blob_id.as_deref())),
        strings(rows.iter().map(|r| r.content_encoding.as_str())),
        Arc::new(
            rows.iter()
                .map(|r| r.content.as_deref())
                .collect::<BinaryArray>(),
        ),
        stamps(rows.iter().map(|r| Some(millis(&r.created_at)))),
        stamps(rows.iter().map(|_| Some(at))),
    ];
    Ok(RecordBatch::try_new(blobs_schema(), cols)?)
}

/// Writer settings: zstd at `level`, large pages and row groups so small files compress
/// together, no dictionary on the content column (it never repeats; dedup happens first).
pub fn properties(level: i32) -> Result<WriterProperties, InterchangeError> {
    let zstd = ZstdLevel::try_new(level).map_err(|e| InterchangeError::Invalid {
        what: "zstd level".into(),
        why: e.to_string(),
    })?;
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_data_page_size_limit(4 * 1024 * 1024)
        .set_max_row_group_row_count(Some(64 * 1024))
        .set_column_dictionary_enabled("content".into(), false)
        .set_created_by(format!("git-tombstone {}", env!("CARGO_PKG_VERSION")))
        .build())
}

/// Write `batches` (all of `schema`) to `path` atomically: temp file, fsync, rename, fsync dir.
pub fn write_file(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
    level: i32,
) -> Result<u64, InterchangeError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::fsutil::create_dir_all_synced(dir).map_err(|e| InterchangeError::io(dir, e))?;
    let mut buf = Vec::new();
    {
        let mut w = ArrowWriter::try_new(&mut buf, schema, Some(properties(level)?))?;
        for b in batches {
            w.write(b)?;
        }
        w.close()?;
    }
    crate::fsutil::write_atomic(path, &buf, 0o644).map_err(|e| InterchangeError::io(path, e))?;
    Ok(buf.len() as u64)
}

/// Call `f` with each record batch of the Parquet file at `path` in turn (batches of at most
/// `rows` rows), so a reader holds one batch at a time.
pub fn for_each_batch(
    path: &Path,
    rows: usize,
    mut f: impl FnMut(RecordBatch) -> Result<(), InterchangeError>,
) -> Result<(), InterchangeError> {
    let file = File::open(path).map_err(|e| InterchangeError::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(rows)
        .build()?;
    for b in reader {
        f(b?)?;
    }
    Ok(())
}

/// Every record batch in the Parquet file at `path`.
pub fn read_file(path: &Path) -> Result<Vec<RecordBatch>, InterchangeError> {
    let f = File::open(path).map_err(|e| InterchangeError::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)?.build()?;
    let mut out = Vec::new();
    for b in reader {
        out.push(b?);
    }
    Ok(out)
}

/// Every record batch in a Parquet file held in memory (one read from an object store).
pub fn read_bytes(bytes: bytes::Bytes) -> Result<Vec<RecordBatch>, InterchangeError> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
    let mut out = Vec::new();
    for b in reader {
        out.push(b?);
    }
    Ok(out)
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T, InterchangeError> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| InterchangeError::Invalid {
            what: "Parquet file".into(),
            why: format!("column `{name}` is missing or has the wrong type"),
        })
}

fn opt_str(a: &StringArray, i: usize) -> Option<String> {
    (!a.is_null(i)).then(|| a.value(i).to_owned())
}

fn opt_ts(a: &TimestampMillisecondArray, i: usize) -> Option<String> {
    (!a.is_null(i)).then(|| rfc3339(a.value(i)))
}

/// The item rows of a batch of the `items` dataset.
pub fn item_rows(b: &RecordBatch) -> Result<Vec<ItemRow>, InterchangeError> {
    let s = |n| col::<StringArray>(b, n);
    let t = |n| col::<TimestampMillisecondArray>(b, n);
    let (id, path_bytes, mode, language, mime) = (
        s("id")?,
        col::<BinaryArray>(b, "path_bytes")?,
        s("mode")?,
        s("language")?,
        s("mime")?,
    );
    let (lines, binary, size, sha256, git_blob_id) = (
        col::<Int64Array>(b, "lines")?,
        col::<BooleanArray>(b, "binary")?,
        col::<Int64Array>(b, "size")?,
        s("sha256")?,
        s("git_blob_id")?,
    );
    let (category, action, reason, actor, source, removed) = (
        s("category")?,
        s("action")?,
        s("reason")?,
        s("actor")?,
        s("source_commit")?,
        s("removed_in_commit")?,
    );
    let (archived, updated, removed_at, state, hold, tags, metadata, seq) = (
        t("archived_at")?,
        t("updated_at")?,
        t("removed_at")?,
        s("state")?,
        col::<BooleanArray>(b, "legal_hold")?,
        s("tags")?,
        s("metadata")?,
        col::<Int64Array>(b, "change_seq")?,
    );
    Ok((0..b.num_rows())
        .map(|i| ItemRow {
            id: id.value(i).to_owned(),
            path: path_bytes.value(i).to_vec(),
            mode: mode.value(i).to_owned(),
            language: opt_str(language, i),
            mime: mime.value(i).to_owned(),
            lines: (!lines.is_null(i)).then(|| lines.value(i)),
            binary: binary.value(i),
            size: size.value(i),
            sha256: sha256.value(i).to_owned(),
            git_blob_id: opt_str(git_blob_id, i),
            category: category.value(i).to_owned(),
            action: action.value(i).to_owned(),
            reason: reason.value(i).to_owned(),
            actor: actor.value(i).to_owned(),
            source_commit: source.value(i).to_owned(),
            removed_in_commit: opt_str(removed, i),
            archived_at: rfc3339(archived.value(i)),
            updated_at: rfc3339(updated.value(i)),
            removed_at: opt_ts(removed_at, i),
            state: state.value(i).to_owned(),
            legal_hold: hold.value(i),
            tags: tags.value(i).to_owned(),
            metadata: metadata.value(i).to_owned(),
            change_seq: seq.value(i),
        })
        .collect())
}

/// The blob rows of a batch of the `blobs` dataset.
pub fn blob_rows(b: &RecordBatch) -> Result<Vec<BlobRow>, InterchangeError> {
    let s = |n| col::<StringArray>(b, n);
    let (sha, size, git, enc, content, created) = (
        s("sha256")?,
        col::<Int64Array>(b, "size")?,
        s("git_blob_id")?,
        s("content_encoding")?,
        col::<BinaryArray>(b, "content")?,
        col::<TimestampMillisecondArray>(b, "created_at")?,
    );
    Ok((0..b.num_rows())
        .map(|i| BlobRow {
            sha256: sha.value(i).to_owned(),
            size: size.value(i),
            git_blob_id: opt_str(git, i),
            content_encoding: enc.value(i).to_owned(),
            content: (!content.is_null(i)).then(|| content.value(i).to_vec()),
            created_at: rfc3339(created.value(i)),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(schema: &Schema) -> Vec<String> {
        schema
            .fields()
            .iter()
            .map(|f| {
                format!(
                    "{}:{}{}",
                    f.name(),
                    f.data_type(),
                    if f.is_nullable() { "?" } else { "" }
                )
            })
            .collect()
    }

    /// The datasets' schemas are a public contract (README, "Parquet datasets"): changing them
    /// must be deliberate, here and in the README.
    #[test]
    fn dataset_schemas_are_pinned() {
        let ts = "Timestamp(ms, \"UTC\")";
        assert_eq!(
            shape(&items_schema()),
            [
                "id:Utf8",
                "path:Utf8",
                "path_bytes:Binary",
                "mode:Utf8",
                "language:Utf8?",
                "mime:Utf8",
                "lines:Int64?",
                "binary:Boolean",
                "size:Int64",
                "sha256:Utf8",
                "git_blob_id:Utf8?",
                "category:Utf8",
                "action:Utf8",
                "reason:Utf8",
                "actor:Utf8",
                "source_commit:Utf8",
                "removed_in_commit:Utf8?",
                &format!("archived_at:{ts}"),
                &format!("updated_at:{ts}"),
                &format!("removed_at:{ts}?"),
                "state:Utf8",
                "legal_hold:Boolean",
                "tags:Utf8",
                "metadata:Utf8",
                "change_seq:Int64",
                &format!("exported_at:{ts}"),
            ]
            .map(String::from)
        );
        assert_eq!(
            shape(&blobs_schema()),
            [
                "sha256:Utf8",
                "size:Int64",
                "git_blob_id:Utf8?",
                "content_encoding:Utf8",
                "content:Binary?",
                &format!("created_at:{ts}"),
                &format!("exported_at:{ts}"),
            ]
            .map(String::from)
        );
        assert_eq!(
            shape(&files_schema()),
            [
                "row_id:Int64",
                "path:Utf8",
                "path_bytes:Binary",
                "mode:Utf8",
                "sha256:Utf8",
                "git_blob_id:Utf8",
                "size:Int64",
                "language:Utf8?",
                "mime:Utf8",
                "lines:Int64?",
                "binary:Boolean",
                "category:Utf8",
                "first_commit:Utf8",
                &format!("first_seen_at:{ts}"),
                &format!("superseded_at:{ts}?"),
                &format!("deleted_at:{ts}?"),
                "deleted_in_commit:Utf8?",
                "change_seq:Int64",
                &format!("exported_at:{ts}"),
            ]
            .map(String::from)
        );
    }

    #[test]
    fn rows_survive_a_write_and_read() {
        let row = BlobRow {
            sha256: "ab".repeat(32),
            size: 3,
            git_blob_id: None,
            content_encoding: "raw".into(),
            content: Some(b"abc".to_vec()),
            created_at: "2026-01-02T03:04:05Z".into(),
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("b.parquet");
        let batch = blobs_batch(std::slice::from_ref(&row), "2026-01-02T03:04:05Z").expect("batch");
        write_file(&path, blobs_schema(), &[batch], 3).expect("write");
        let back = blob_rows(&read_file(&path).expect("read")[0]).expect("rows");
        assert_eq!(back, vec![row]);
        assert_eq!(
            rfc3339(millis("2026-01-02T03:04:05Z")),
            "2026-01-02T03:04:05Z"
        );
    }
}
