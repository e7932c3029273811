//! The evidence log: one hash-chained JSON line per operation, in the database and in
//! `evidence.jsonl`.
//!
//! Each line carries `seq` and `prev` (the SHA-256 of the previous line; 64 zeros for the
//! first), so an edit, removal or reordering breaks the chain. The SHA-256 of a line is the
//! digest to quote in a pull request.
//!
//! Crash safety: an operation inserts its line into the `evidence` table in the same
//! transaction as its data, so the database never holds an operation without its evidence.
//! After the commit, [`sync_file`] appends to `evidence.jsonl` the lines it lacks, under an
//! exclusive file lock. The database is the durable record (its commit waited for the disk);
//! the file is a copy caught up from it, so appending does not wait for the disk as well. A
//! crash or power cut between commit and append, or before the appended bytes reach the disk,
//! leaves the file behind the database; the next write catches it up (a torn last line is cut
//! back to the last newline first). The file is never ahead of the database and never
//! rewritten.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use super::StoreError;
use crate::id::sha256_hex;

/// File name of the log inside the store directory.
pub const FILE: &str = "evidence.jsonl";
/// `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Serialize)]
struct Line<'a, D: Serialize + ?Sized> {
    seq: i64,
    prev: &'a str,
    at: &'a str,
    op: &'a str,
    actor: &'a str,
    data: &'a D,
}

/// A line that was appended.
#[derive(Debug, Clone, Serialize)]
pub struct Appended {
    pub seq: i64,
    pub digest: String,
}

/// Append an evidence line inside the operation's transaction.
pub fn append<D: Serialize + ?Sized>(
    tx: &Transaction<'_>,
    op: &str,
    actor: &str,
    at: &str,
    data: &D,
) -> Result<Appended, StoreError> {
    let last = last(tx)?;
    append_after(tx, last.as_ref(), op, actor, at, data)
}

/// The log's last line (its seq and digest), if it has one.
pub fn last(tx: &Transaction<'_>) -> Result<Option<Appended>, StoreError> {
    Ok(tx
        .prepare_cached("SELECT seq, digest FROM evidence ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| {
            Ok(Appended {
                seq: r.get(0)?,
                digest: r.get(1)?,
            })
        })
        .optional()?)
}

/// Append a line after `last`, the log's last line as [`last`] or the previous append
/// returned it: for a caller appending a run of lines with nothing else appending between
/// them, which then looks the log's end up once per run instead of once per line. A stale
/// `last` cannot fork the chain: its seq is taken, and the insert fails.
pub fn append_after<D: Serialize + ?Sized>(
    tx: &Transaction<'_>,
    last: Option<&Appended>,
    op: &str,
    actor: &str,
    at: &str,
    data: &D,
) -> Result<Appended, StoreError> {
    let (seq, prev) = match last {
        Some(a) => (a.seq + 1, a.digest.as_str()),
        None => (1, GENESIS),
    };
    let line = serde_json::to_string(&Line {
        seq,
        prev,
        at,
        op,
        actor,
        data,
    })
    .map_err(|e| StoreError::Evidence {
        path: FILE.into(),
        why: format!("cannot encode: {e}"),
    })?;
    let digest = sha256_hex(line.as_bytes());
    tx.prepare_cached("INSERT INTO evidence (seq, op, line, digest) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![seq, op, line, digest])?;
    Ok(Appended { seq, digest })
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Bring `evidence.jsonl` up to date with the database (see the module docs).
pub fn sync_file(conn: &Connection, dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(FILE);
    let io = io_err(&path);
    let db_max: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM evidence", [], |r| {
        r.get(0)
    })?;
    if db_max == 0 && !path.exists() {
        return Ok(());
    }
    let (mut f, last_line) = open_for_append(&path).map_err(&io)?;
    let evidence_err = |why: String| StoreError::Evidence {
        path: path.clone(),
        why,
    };
    let last_seq = match &last_line {
        None => 0,
        Some(line) => serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("seq").and_then(|s| s.as_i64()))
            .ok_or_else(|| evidence_err("the last line is not an evidence record".into()))?,
    };
    if last_seq > db_max {
        return Err(evidence_err(format!(
            "the log ends at seq {last_seq} but the database only has {db_max} lines"
        )));
    }
    if let Some(line) = &last_line {
        let db_line: Option<String> = conn
            .query_row(
                "SELECT line FROM evidence WHERE seq = ?1",
                [last_seq],
                |r| r.get(0),
            )
            .optional()?;
        if db_line.as_deref() != Some(line.as_str()) {
            return Err(evidence_err(format!(
                "line {last_seq} differs from the database; refusing to append after it"
            )));
        }
    }
    if last_seq < db_max {
        let mut stmt = conn.prepare("SELECT line FROM evidence WHERE seq > ?1 ORDER BY seq")?;
        let mut rows = stmt.query([last_seq])?;
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, &mut f);
        while let Some(row) = rows.next()? {
            let line = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            w.write_all(line.as_bytes()).map_err(&io)?;
            w.write_all(b"\n").map_err(&io)?;
        }
        w.flush().map_err(&io)?;
    }
    Ok(())
}

/// Open an append-only JSONL file (created if missing) under an exclusive lock, cut a torn
/// final line left by a crash mid-append (the database has the whole line), and return the
/// file with its last complete line.
pub(super) fn open_for_append(path: &Path) -> std::io::Result<(File, Option<String>)> {
    let mut f = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    f.lock()?;
    let len = f.metadata()?.len();
    let (last, complete_len) = read_tail(&mut f, len)?;
    if complete_len < len {
        f.set_len(complete_len)?;
    }
    Ok((f, last))
}

/// The last complete line (without its newline) of a file `len` bytes long, and the length up
/// to and including it.
fn read_tail(f: &mut File, len: u64) -> std::io::Result<(Option<String>, u64)> {
    // Most lines are well under 4 KiB: read that much first, more only for a longer line
    // (every write reads the tails of the log and the streams, twice).
    let mut window: u64 = 4 * 1024;
    let mut buf = Vec::new();
    loop {
        let start = len.saturating_sub(window);
        f.seek(SeekFrom::Start(start))?;
        buf.clear();
        f.read_to_end(&mut buf)?;
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            if start == 0 {
                return Ok((None, 0));
            }
            window *= 4;
            continue;
        };
        let before = &buf[..end];
        match before.iter().rposition(|&b| b == b'\n') {
            Some(s) => {
                let line = String::from_utf8_lossy(&before[s + 1..]).into_owned();
                return Ok((Some(line), start + end as u64 + 1));
            }
            None if start == 0 => {
                let line = String::from_utf8_lossy(before).into_owned();
                return Ok((Some(line), end as u64 + 1));
            }
            None => window *= 4,
        }
    }
}

/// One problem found in the evidence log.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// 1-based line number in `evidence.jsonl` (or the seq the database expects there).
    pub line: i64,
    pub problem: String,
}

/// Check the chain in `evidence.jsonl` and that it matches the database line for line. The
/// file and the table are read one line at a time (a log may hold millions of lines).
pub fn verify(conn: &Connection, dir: &Path) -> Result<Vec<Finding>, StoreError> {
    use std::io::BufRead;
    let path = dir.join(FILE);
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => Some(std::io::BufReader::new(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&path)(e)),
    };
    let mut stmt = conn.prepare("SELECT seq, line FROM evidence ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut chain = Chain::default();
    let mut db_count = 0i64;
    let mut raw = Vec::new();
    let mut incomplete = false;
    while let Some(reader) = file.as_mut() {
        raw.clear();
        if reader.read_until(b'\n', &mut raw).map_err(io_err(&path))? == 0 {
            break;
        }
        if raw.last() == Some(&b'\n') {
            raw.pop();
        } else {
            incomplete = true;
        }
        let db = match rows.next()? {
            Some(r) => {
                db_count += 1;
                Some((r.get(0)?, r.get(1)?))
            }
            None => None,
        };
        chain.line(&raw, Some(db.as_ref()));
    }
    while rows.next()?.is_some() {
        db_count += 1;
    }
    Ok(chain.finish(Some(db_count), incomplete))
}

/// Check the chain of a log's bytes; with `db`, also that each line is the database's record.
pub fn verify_text(text: &[u8], db: Option<&[(i64, String)]>) -> Vec<Finding> {
    let mut chain = Chain::default();
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    for (i, raw) in body
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|_| !text.is_empty())
    {
        chain.line(raw, db.map(|db| db.get(i)));
    }
    let incomplete = !text.is_empty() && !text.ends_with(b"\n");
    chain.finish(db.map(|db| db.len() as i64), incomplete)
}

/// The hash chain, checked one line at a time.
struct Chain {
    findings: Vec<Finding>,
    /// The SHA-256 of the previous line (the genesis value before the first).
    prev: String,
    /// Lines seen.
    count: i64,
}

impl Default for Chain {
    fn default() -> Chain {
        Chain {
            findings: Vec::new(),
            prev: GENESIS.to_owned(),
            count: 0,
        }
    }
}

impl Chain {
    /// Check the next line: its seq and prev; with `db` (`Some`), also that it is the
    /// database's record at that position (`Some(None)`: the database has no such line).
    fn line(&mut self, raw: &[u8], db: Option<Option<&(i64, String)>>) {
        self.count += 1;
        let n = self.count;
        let line = String::from_utf8_lossy(raw);
        // Only `seq` and `prev` are read: the rest of the line (an import's lists a million
        // ids) is skipped, not built. A line where either is missing, of another type, or
        // given twice is no evidence record.
        #[derive(serde::Deserialize)]
        struct Head<'a> {
            seq: Option<i64>,
            #[serde(borrow)]
            prev: Option<std::borrow::Cow<'a, str>>,
        }
        let head: Option<Head<'_>> = serde_json::from_str(&line).ok();
        let seq = head.as_ref().and_then(|h| h.seq);
        let line_prev = head.as_ref().and_then(|h| h.prev.as_deref());
        let findings = &mut self.findings;
        match (seq, line_prev) {
            (None, _) | (_, None) => findings.push(Finding {
                line: n,
                problem: "not an evidence record (no seq/prev)".into(),
            }),
            (Some(s), Some(p)) => {
                if s != n {
                    findings.push(Finding {
                        line: n,
                        problem: format!(
                            "seq {s} where {n} was expected (a line was removed or reordered)"
                        ),
                    });
                }
                if p != self.prev {
                    findings.push(Finding {
                        line: n,
                        problem:
                            "prev does not match the SHA-256 of the previous line (chain broken)"
                                .into(),
                    });
                }
            }
        }
        match db {
            None => {}
            Some(Some((_, db_line))) if db_line.as_bytes() == raw => {}
            Some(Some((s, _))) => findings.push(Finding {
                line: n,
                problem: format!("differs from the database's record of seq {s} (edited)"),
            }),
            Some(None) => findings.push(Finding {
                line: n,
                problem: "not in the database".into(),
            }),
        }
        self.prev = sha256_hex(raw);
    }

    /// The findings, given how many lines the database has (when compared) and whether the
    /// last line lacked its newline.
    fn finish(mut self, db_count: Option<i64>, incomplete: bool) -> Vec<Finding> {
        let count = self.count;
        if incomplete {
            self.findings.insert(
                0,
                Finding {
                    line: count,
                    problem: "the last line is incomplete (no newline)".into(),
                },
            );
        }
        let db_count = db_count.unwrap_or_default();
        if db_count > count {
            self.findings.push(Finding {
                line: count + 1,
                problem: format!(
                    "the database has {db_count} evidence lines but the log has {count}: lines {}..={db_count} are missing from {FILE}",
                    count + 1,
                ),
            });
        }
        self.findings
    }
}

/// The digest (SHA-256 of the line) and the line itself for `seq`.
pub fn line(conn: &Connection, seq: i64) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT digest, line FROM evidence WHERE seq = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// The `data.id` of every evidence line of operation `op`.
pub fn ids_in(
    conn: &Connection,
    op: &str,
) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut stmt = conn.prepare("SELECT line FROM evidence WHERE op = ?1")?;
    let lines = stmt.query_map([op], |r| r.get::<_, String>(0))?;
    let mut ids = std::collections::HashSet::new();
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(&line?).unwrap_or_default();
        if let Some(id) = v.pointer("/data/id").and_then(|i| i.as_str()) {
            ids.insert(id.to_owned());
        }
        // A directory tombstone's removal names all of its files.
        if let Some(list) = v.pointer("/data/ids").and_then(|i| i.as_array()) {
            ids.extend(list.iter().filter_map(|i| i.as_str()).map(str::to_owned));
        }
    }
    Ok(ids)
}

/// The highest seq recorded, 0 for an empty log.
pub fn last_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM evidence", [], |r| {
            r.get(0)
        })?,
    )
}

/// Every line of the log, in order.
pub fn all_lines(conn: &Connection) -> Result<Vec<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT line FROM evidence ORDER BY seq")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// One line of the log with its sequence number, operation and digest.
#[derive(Debug, Clone)]
pub struct Numbered {
    pub seq: i64,
    pub op: String,
    pub digest: String,
    pub line: String,
}

/// The lines from `seq` on, in order.
pub fn lines_from(conn: &Connection, seq: i64) -> Result<Vec<Numbered>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT seq, op, digest, line FROM evidence WHERE seq >= ?1 ORDER BY seq")?
        .query_map([seq], |r| {
            Ok(Numbered {
                seq: r.get(0)?,
                op: r.get(1)?,
                digest: r.get(2)?,
                line: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Whether the log already records the removal of a submodule in `commit`.
pub fn has_submodule_removal(tx: &Transaction<'_>, commit: &str) -> Result<bool, StoreError> {
    let seen: i64 = tx
        .prepare_cached(
            "SELECT count(*) FROM evidence WHERE op = 'submodule-removed' AND line LIKE ?1",
        )?
        .query_row([format!("%\"removed_in_commit\":\"{commit}\"%")], |r| {
            r.get(0)
        })?;
    Ok(seen > 0)
}

/// Insert a line of an imported log as it is (its digest recomputed).
pub fn insert_line(tx: &Transaction<'_>, seq: i64, op: &str, line: &str) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO evidence (seq, op, line, digest) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![seq, op, line, sha256_hex(line.as_bytes())])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of appends chains each line on the one before, as appends one by one do; an
    /// append after a line that is no longer the last fails and writes nothing.
    #[test]
    fn append_after_chains_on_the_last_line_and_refuses_a_stale_one() {
        let mut conn = super::super::schema::in_memory();
        let tx = conn.transaction().expect("transaction");
        let first = append(&tx, "archive", "a", "t", &1).expect("first");
        let second = append_after(&tx, Some(&first), "archive", "a", "t", &2).expect("second");
        let third = append(&tx, "archive", "a", "t", &3).expect("third");
        assert_eq!((first.seq, second.seq, third.seq), (1, 2, 3));
        let prev_of = |seq: i64| -> String {
            let line: String = tx
                .query_row("SELECT line FROM evidence WHERE seq = ?1", [seq], |r| {
                    r.get(0)
                })
                .expect("line");
            let v: serde_json::Value = serde_json::from_str(&line).expect("json");
            v["prev"].as_str().expect("prev").to_owned()
        };
        assert_eq!(prev_of(1), GENESIS);
        assert_eq!(prev_of(2), first.digest);
        assert_eq!(prev_of(3), second.digest);
        assert_eq!(last(&tx).expect("last").map(|a| a.seq), Some(3));
        assert!(
            append_after(&tx, Some(&second), "archive", "a", "t", &4).is_err(),
            "a stale end would fork the chain"
        );
        let n: i64 = tx
            .query_row("SELECT count(*) FROM evidence", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 3);
    }
}
