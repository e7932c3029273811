//! The tombstone streams: `tombstones_code.jsonl` and `tombstones_logs.jsonl` in the store
//! directory, one JSON line per tombstone event (a file leaving the tree), split into the `logs`
//! category and everything else.
//!
//! Events are rows of the `tombstones` table, inserted by triggers in the same transaction that
//! records the removal (see the schema), so no code path can forget one. After each write the
//! files are caught up from the table under a file lock, like `evidence.jsonl`: a crash can leave
//! a file behind the table, never ahead of it, and the next write repairs it. `vacuum` prunes old
//! events from the table and rewrites the files from it atomically, optionally with `.gz` copies.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, Row};
use serde::Serialize;

use super::StoreError;

/// The two streams, by name: `code` (everything but logs) and `logs`.
pub const STREAMS: [&str; 2] = ["code", "logs"];

/// The stream an item of `category` goes to.
pub fn stream_of(category: &str) -> &'static str {
    if category == "logs" {
        "logs"
    } else {
        "code"
    }
}

/// The file of `stream` in store directory `dir`.
pub fn file(dir: &Path, stream: &str) -> PathBuf {
    dir.join(format!("tombstones_{stream}.jsonl"))
}

/// The gzip copy of `stream`'s file.
pub fn gz_file(dir: &Path, stream: &str) -> PathBuf {
    dir.join(format!("tombstones_{stream}.jsonl.gz"))
}

#[derive(Serialize)]
struct Line<'a> {
    seq: i64,
    deleted_at: &'a str,
    category: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_bytes_hex: Option<String>,
    origin: &'a str,
    id: Option<&'a str>,
    sha256: Option<&'a str>,
    source_commit: Option<&'a str>,
    removed_in_commit: Option<&'a str>,
    reason: Option<&'a str>,
}

const SELECT: &str = "SELECT seq, deleted_at, category, path, path_text, origin, item_id, sha256,
    source_commit, removed_in_commit, reason FROM tombstones";

/// Render row `r` of [`SELECT`] as its line, into `out` (emptied first): the row's text is
/// borrowed, not copied, and one buffer serves every line.
fn render(r: &Row<'_>, out: &mut Vec<u8>) -> rusqlite::Result<i64> {
    let failed = |i: usize, e: rusqlite::types::FromSqlError| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let text = |i: usize| r.get_ref(i)?.as_str().map_err(|e| failed(i, e));
    let text_or_null = |i: usize| r.get_ref(i)?.as_str_or_null().map_err(|e| failed(i, e));
    let path = r.get_ref(3)?.as_blob().map_err(|e| failed(3, e))?;
    let line = Line {
        seq: r.get(0)?,
        deleted_at: text(1)?,
        category: text(2)?,
        path_bytes_hex: std::str::from_utf8(path)
            .is_err()
            .then(|| crate::id::hex(path)),
        path: text(4)?,
        origin: text(5)?,
        id: text_or_null(6)?,
        sha256: text_or_null(7)?,
        source_commit: text_or_null(8)?,
        removed_in_commit: text_or_null(9)?,
        reason: text_or_null(10)?,
    };
    out.clear();
    // Writing into a Vec fails only if serializing does, which these types never do (the
    // line would be empty, as before).
    if serde_json::to_writer(&mut *out, &line).is_err() {
        out.clear();
    }
    Ok(line.seq)
}

/// The lines of `stream` after `after`, in order, rendered as the file holds them.
pub fn lines(
    conn: &Connection,
    stream: &str,
    after: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut all = Vec::new();
    for_each_line(conn, stream, after, |seq, line| {
        all.push((seq, line.to_owned()));
        Ok(())
    })?;
    Ok(all)
}

/// Each line of `stream` after `after`, in order, one at a time (a stream may hold millions).
pub fn for_each_line(
    conn: &Connection,
    stream: &str,
    after: i64,
    mut f: impl FnMut(i64, &str) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE stream = ?1 AND seq > ?2 ORDER BY seq"
    ))?;
    let mut rows = stmt.query(rusqlite::params![stream, after])?;
    let mut buf = Vec::with_capacity(512);
    while let Some(row) = rows.next()? {
        let seq = render(row, &mut buf)?;
        // serde_json writes UTF-8.
        let line = std::str::from_utf8(&buf).unwrap_or_default();
        f(seq, line).map_err(|source| StoreError::Io {
            path: stream.into(),
            source,
        })?;
    }
    Ok(())
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Bring both stream files up to date with the table (see the module docs).
pub fn sync_files(conn: &Connection, dir: &Path) -> Result<(), StoreError> {
    for stream in STREAMS {
        let path = file(dir, stream);
        let db_max: i64 = conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM tombstones WHERE stream = ?1")?
            .query_row([stream], |r| r.get(0))?;
        if db_max == 0 && !path.exists() {
            continue;
        }
        let io = io_err(&path);
        let (mut f, last) = super::evidence::open_for_append(&path).map_err(&io)?;
        let last_seq = last
            .as_deref()
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .and_then(|v| v.get("seq").and_then(|s| s.as_i64()))
            .unwrap_or(0);
        if last_seq >= db_max {
            continue;
        }
        // A copy of the table, caught up by the next write after a crash (as evidence.jsonl),
        // written a line at a time through a buffer: never the whole stream in memory.
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, &mut f);
        for_each_line(conn, stream, last_seq, |_, line| {
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")
        })?;
        w.flush().map_err(&io)?;
    }
    Ok(())
}

/// Rewrite both stream files from the table, atomically; with `gzip`, also (re)write their
/// `.gz` copies. Returns the number of lines written per stream.
pub fn rewrite_files(
    conn: &Connection,
    dir: &Path,
    gzip: bool,
) -> Result<Vec<(String, usize)>, StoreError> {
    let mut counts = Vec::new();
    for stream in STREAMS {
        let path = file(dir, stream);
        let all = lines(conn, stream, 0)?;
        if all.is_empty() && !path.exists() {
            counts.push((stream.to_owned(), 0));
            continue;
        }
        let mut buf = String::new();
        for (_, line) in &all {
            buf.push_str(line);
            buf.push('\n');
        }
        crate::fsutil::write_atomic(&path, buf.as_bytes(), 0o644).map_err(io_err(&path))?;
        if gzip {
            let gz = gz_file(dir, stream);
            let bytes = gzip_bytes(buf.as_bytes()).map_err(io_err(&gz))?;
            crate::fsutil::write_atomic(&gz, &bytes, 0o644).map_err(io_err(&gz))?;
        }
        counts.push((stream.to_owned(), all.len()));
    }
    Ok(counts)
}

/// gzip `bytes` (level 9; the streams are small and compress well).
pub fn gzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    enc.finish()
}

/// Compare the stream files with the table: the problems found, as `(file, problem)`. Both
/// sides are read one line at a time (a stream may hold millions of lines).
pub fn verify(conn: &Connection, dir: &Path) -> Result<Vec<(String, String)>, StoreError> {
    use std::io::BufRead;
    let mut problems = Vec::new();
    for stream in STREAMS {
        let path = file(dir, stream);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut found = match std::fs::File::open(&path) {
            Ok(f) => Some(std::io::BufReader::new(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&path)(e)),
        };
        // The file's next line, without its newline (`None` at the end).
        let mut buf = Vec::new();
        let mut next_found = |buf: &mut Vec<u8>| -> std::io::Result<bool> {
            buf.clear();
            match found.as_mut() {
                None => Ok(false),
                Some(r) => {
                    let n = r.read_until(b'\n', buf)?;
                    if buf.last() == Some(&b'\n') {
                        buf.pop();
                    }
                    Ok(n > 0)
                }
            }
        };
        let (mut expected, mut lines_found) = (0usize, 0usize);
        let mut first_diff: Option<usize> = None;
        for_each_line(conn, stream, 0, |_, line| {
            expected += 1;
            if next_found(&mut buf)? {
                lines_found += 1;
                if first_diff.is_none() && String::from_utf8_lossy(&buf) != line {
                    first_diff = Some(expected);
                }
            }
            Ok(())
        })?;
        while next_found(&mut buf).map_err(io_err(&path))? {
            lines_found += 1;
        }
        if lines_found != expected {
            problems.push((
                name.clone(),
                format!("has {lines_found} lines where the store records {expected} events"),
            ));
        }
        if let Some(line) = first_diff {
            problems.push((
                name,
                format!("line {line} differs from the store's record of it"),
            ));
        }
    }
    Ok(problems)
}

/// A tombstone event, as a stream file or an import carries it.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// The event's own sequence number (`None`: the next one).
    pub seq: Option<i64>,
    pub stream: &'a str,
    pub deleted_at: Option<&'a str>,
    pub origin: &'a str,
    pub item_id: Option<&'a str>,
    pub path: &'a [u8],
    pub path_text: Option<&'a str>,
    pub category: Option<&'a str>,
    pub sha256: Option<&'a str>,
    pub source_commit: Option<&'a str>,
    pub removed_in_commit: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// Insert one tombstone event.
pub fn insert_event(tx: &rusqlite::Transaction<'_>, e: &Event<'_>) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO tombstones (seq, stream, deleted_at, origin, item_id, path,
            path_text, category, sha256, source_commit, removed_in_commit, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(rusqlite::params![
        e.seq,
        e.stream,
        e.deleted_at,
        e.origin,
        e.item_id,
        e.path,
        e.path_text,
        e.category,
        e.sha256,
        e.source_commit,
        e.removed_in_commit,
        e.reason
    ])?;
    Ok(())
}

/// Delete every tombstone event (an import that carries the source's streams replaces the
/// ones the triggers derived).
pub fn clear_events(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("DELETE FROM tombstones", [])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line as the file holds it: fields in order, absent ones `null`, and the exact bytes
    /// of a path that is not UTF-8 in `path_bytes_hex` (only then).
    #[test]
    fn lines_render_each_row_with_nulls_and_the_bytes_of_a_non_utf8_path() {
        let conn = super::super::schema::in_memory();
        conn.execute_batch(
            "INSERT INTO tombstones (stream, deleted_at, origin, item_id, path, path_text,
                 category, sha256, source_commit, removed_in_commit, reason)
             VALUES ('code', '2026-01-01T00:00:00Z', 'archive', 'tb_1', x'612f62', 'a/b', 'code',
                 'ab', 'c1', 'c2', 'gone \"quoted\"'),
                    ('code', '2026-01-02T00:00:00Z', 'hook', NULL, x'ff61', '\u{fffd}a', 'code',
                 NULL, NULL, NULL, NULL),
                    ('logs', '2026-01-03T00:00:00Z', 'archive', 'tb_3', x'6c', 'l', 'logs',
                 NULL, NULL, NULL, NULL);",
        )
        .expect("rows");
        let code = lines(&conn, "code", 0).expect("lines");
        assert_eq!(
            code,
            [
                (
                    1,
                    r#"{"seq":1,"deleted_at":"2026-01-01T00:00:00Z","category":"code","path":"a/b","origin":"archive","id":"tb_1","sha256":"ab","source_commit":"c1","removed_in_commit":"c2","reason":"gone \"quoted\""}"#
                        .to_owned()
                ),
                (
                    2,
                    r#"{"seq":2,"deleted_at":"2026-01-02T00:00:00Z","category":"code","path":"\u{fffd}a","path_bytes_hex":"ff61","origin":"hook","id":null,"sha256":null,"source_commit":null,"removed_in_commit":null,"reason":null}"#
                        .replace("\\u{fffd}", "\u{fffd}")
                ),
            ]
        );
        assert_eq!(lines(&conn, "code", 1).expect("after 1").len(), 1);
        let logs = lines(&conn, "logs", 0).expect("logs");
        assert_eq!(logs.len(), 1);
        assert!(logs[0].1.starts_with(r#"{"seq":3,"#), "{}", logs[0].1);
    }
}
