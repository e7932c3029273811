//! Content storage: one row per distinct content, addressed by SHA-256, compressed.
//!
//! Content is deduplicated by its SHA-256; the git blob id is kept beside it so restore can
//! fall back to the git object database. Compression that does not shrink the content is not
//! kept (`none`). Reads verify size and SHA-256 before returning a byte.

use std::io::{Read, Write};

use rusqlite::{params, OptionalExtension, Transaction};

use super::StoreError;
use crate::id::sha256_hex;
use crate::policy::Compression;

/// What `put` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Put {
    pub sha256: String,
    pub size: u64,
    pub stored_size: u64,
    /// False when identical content was already stored (deduplicated).
    pub new: bool,
}

thread_local! {
    /// One zstd context per thread and level: creating a context per file costs more than
    /// compressing a small file.
    static ZSTD: std::cell::RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
}

fn zstd_compress(bytes: &[u8], level: i32) -> Option<Vec<u8>> {
    ZSTD.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(l, _)| *l != level) {
            *slot = Some((level, zstd::bulk::Compressor::new(level).ok()?));
        }
        // `compress` allocates the worst-case bound; the few bytes kept are held until the
        // store writes them (a scan holds hundreds), so give the rest back.
        let mut out = slot.as_mut().and_then(|(_, c)| c.compress(bytes).ok())?;
        out.shrink_to_fit();
        Some(out)
    })
}

/// Content at least this large is compressed as a stream into an unnamed temporary file and
/// written into SQLite in chunks (incremental blob I/O), so capturing it holds the raw content
/// once and little else: no compressed copy in memory, no copy for SQLite to bind.
pub const STREAM_THRESHOLD: usize = 4 << 20;

/// How packed content is held until it is written into the store.
#[derive(Debug)]
pub enum Stored {
    /// Stored as is (`none`): written straight from the raw bytes.
    Raw,
    /// Compressed, in memory (small content).
    Bytes(Vec<u8>),
    /// Compressed, spooled to an unnamed temporary file of `len` bytes (large content).
    File { file: std::fs::File, len: u64 },
}

/// Content compressed for the store: the method actually used and the stored bytes.
#[derive(Debug)]
pub struct Packed {
    pub method: &'static str,
    pub stored: Stored,
    /// The content's size.
    pub size: u64,
}

impl Packed {
    /// How many bytes the store keeps.
    pub fn stored_len(&self) -> u64 {
        match &self.stored {
            Stored::Raw => self.size,
            Stored::Bytes(b) => b.len() as u64,
            Stored::File { len, .. } => *len,
        }
    }

    /// Take ownership of the content when it is stored raw, so the caller can drop its own
    /// copy: a packed capture then holds only what the store will keep.
    pub fn own_raw(&mut self, raw: &mut Vec<u8>) {
        if let Stored::Raw = self.stored {
            self.stored = Stored::Bytes(std::mem::take(raw));
        }
    }
}

/// A writer that gives up once more than `limit` bytes were written to it (compression that
/// does not shrink the content is not kept, so it need not be finished).
struct Bounded<W> {
    inner: W,
    written: u64,
    limit: u64,
}

impl<W: Write> Write for Bounded<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written += buf.len() as u64;
        if self.written >= self.limit {
            return Err(std::io::Error::other(
                "compression does not shrink the content",
            ));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Compress large `bytes` as a stream into an unnamed temporary file; `None` when compression
/// does not shrink them (or the temporary file cannot be written: then they are stored raw).
fn pack_streaming(bytes: &[u8], how: Compression) -> Option<Packed> {
    let file = tempfile::tempfile().ok()?;
    let mut sink = Bounded {
        inner: std::io::BufWriter::with_capacity(1 << 20, file),
        written: 0,
        limit: bytes.len() as u64,
    };
    let method = match how {
        Compression::Zstd(level) => {
            let mut e = zstd::stream::write::Encoder::new(&mut sink, level).ok()?;
            e.write_all(bytes).ok()?;
            e.finish().ok()?;
            "zstd"
        }
        Compression::Gzip(level) => {
            let mut e = flate2::write::GzEncoder::new(&mut sink, flate2::Compression::new(level));
            e.write_all(bytes).ok()?;
            e.finish().ok()?;
            "gzip"
        }
        Compression::None => return None,
    };
    let len = sink.written;
    let file = sink.inner.into_inner().ok()?;
    Some(Packed {
        method,
        stored: Stored::File { file, len },
        size: bytes.len() as u64,
    })
}

/// Compress `bytes` for the store. Content that compression does not shrink is kept raw.
pub fn pack(bytes: &[u8], how: Compression) -> Packed {
    let raw = Packed {
        method: "none",
        stored: Stored::Raw,
        size: bytes.len() as u64,
    };
    if bytes.len() >= STREAM_THRESHOLD {
        return pack_streaming(bytes, how).unwrap_or(raw);
    }
    let packed = match how {
        Compression::Zstd(level) => zstd_compress(bytes, level).map(|b| ("zstd", b)),
        Compression::Gzip(level) => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            e.write_all(bytes)
                .and_then(|_| e.finish())
                .ok()
                .map(|b| ("gzip", b))
        }
        Compression::None => None,
    };
    match packed {
        Some((method, b)) if b.len() < bytes.len() => Packed {
            method,
            stored: Stored::Bytes(b),
            size: bytes.len() as u64,
        },
        _ => raw,
    }
}

/// Compress `bytes`; returns the method actually used and the stored bytes (in memory).
pub fn compress(bytes: &[u8], how: Compression) -> (&'static str, Vec<u8>) {
    let packed = pack(bytes, how);
    let stored = match packed.stored {
        Stored::Raw => bytes.to_vec(),
        Stored::Bytes(b) => b,
        Stored::File { file, len } => {
            let mut out = Vec::with_capacity(len as usize);
            let read =
                std::io::Seek::rewind(&mut &file).and_then(|_| (&file).read_to_end(&mut out));
            match read {
                Ok(_) => out,
                Err(_) => return ("none", bytes.to_vec()),
            }
        }
    };
    (packed.method, stored)
}

/// The largest content the store holds (and so the most a read may allocate): sizes read from
/// a database or an import are checked against it before anything is allocated from them.
pub const MAX_CONTENT_SIZE: u64 = 4 << 30;

/// Undo [`compress`]; `size` is the expected raw size. Decoding streams into a buffer that
/// grows with what really comes out, and stops one byte past `size`: a forged size cannot make
/// it allocate, and a decompression bomb cannot make it produce more than `size` + 1 bytes.
pub fn decompress(method: &str, stored: &[u8], size: u64) -> Result<Vec<u8>, String> {
    if size > MAX_CONTENT_SIZE {
        return Err(format!(
            "recorded size {size} is larger than the {MAX_CONTENT_SIZE}-byte limit"
        ));
    }
    let limit = size + 1;
    let mut out = Vec::with_capacity(usize::try_from(size.min(1 << 20)).unwrap_or(0));
    match method {
        "none" => out.extend_from_slice(&stored[..stored.len().min(limit as usize)]),
        "zstd" => {
            zstd::stream::read::Decoder::with_buffer(stored)
                .map_err(|e| format!("zstd: {e}"))?
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| format!("zstd: {e}"))?;
        }
        "gzip" => {
            flate2::read::GzDecoder::new(stored)
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| format!("gzip: {e}"))?;
        }
        other => return Err(format!("unknown compression `{other}`")),
    }
    Ok(out)
}

/// Store `bytes` (deduplicated), returning its address and sizes.
pub fn put(
    tx: &Transaction<'_>,
    bytes: &[u8],
    git_blob_id: Option<&str>,
    how: Compression,
    now: &str,
) -> Result<Put, StoreError> {
    let packed = pack(bytes, how);
    put_packed(tx, &sha256_hex(bytes), bytes, &packed, git_blob_id, now)
}

/// Store content already hashed (`sha256`) and [`pack`]ed elsewhere (deduplicated by
/// `sha256`). `raw` is the content itself, read only when it is stored raw
/// ([`Stored::Raw`]); a packing that owns its bytes needs none.
pub fn put_packed(
    tx: &Transaction<'_>,
    sha256: &str,
    raw: &[u8],
    packed: &Packed,
    git_blob_id: Option<&str>,
    now: &str,
) -> Result<Put, StoreError> {
    let sha256 = sha256.to_owned();
    let size = packed.size;
    if matches!(packed.stored, Stored::Raw) && raw.len() as u64 != size {
        return Err(StoreError::CorruptBlob {
            sha256,
            why: format!("{} raw bytes given for content of {size}", raw.len()),
        });
    }
    let stored_size = packed.stored_len();
    // Most content is new: the insert comes first (a conflict on the address does nothing),
    // and the row already there is read only when there is one, instead of looking it up
    // before every insert. Content of at most one chunk goes into the row with the insert;
    // larger content is streamed into it in chunks.
    let whole = match &packed.stored {
        Stored::Raw => Some(raw),
        Stored::Bytes(b) => Some(b.as_slice()),
        Stored::File { .. } => None,
    }
    .filter(|b| b.len() <= BODY_CHUNK);
    let inserted = match whole {
        Some(bytes) => tx
            .prepare_cached(
                "INSERT INTO blobs (sha256, size, compression, stored_size, bytes, git_blob_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (sha256) DO NOTHING",
            )?
            .execute(params![sha256, size as i64, packed.method, stored_size as i64, bytes, git_blob_id, now])?,
        None => tx
            .prepare_cached(
                "INSERT INTO blobs (sha256, size, compression, stored_size, bytes, git_blob_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, zeroblob(?4), ?5, ?6) ON CONFLICT (sha256) DO NOTHING",
            )?
            .execute(params![sha256, size as i64, packed.method, stored_size as i64, git_blob_id, now])?,
    };
    let rowid = if inserted == 1 {
        if whole.is_some() {
            return Ok(Put {
                sha256,
                size,
                stored_size,
                new: true,
            });
        }
        tx.last_insert_rowid()
    } else {
        let (rowid, length, existing_size): (i64, Option<i64>, i64) = tx
            .prepare_cached(
                "SELECT rowid, length(bytes), stored_size FROM blobs WHERE sha256 = ?1",
            )?
            .query_row([&sha256], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if length.is_some() {
            return Ok(Put {
                sha256,
                size,
                stored_size: existing_size as u64,
                new: false,
            });
        }
        refill(tx, &sha256, packed.method, stored_size, size)?;
        rowid
    };
    write_body(tx, rowid, raw, packed)?;
    Ok(Put {
        sha256,
        size,
        stored_size,
        new: true,
    })
}

/// Make the row of content whose bytes were vacuumed ready to take them again (zeroed bytes of
/// the stored size), when a new deletion captures that content. Its size is set again too: the
/// bytes hash to the address, so theirs is the true size (an imported record without content
/// may have carried any size).
fn refill(
    tx: &Transaction<'_>,
    sha256: &str,
    method: &str,
    stored_size: u64,
    size: u64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE blobs SET compression = ?2, stored_size = ?3, bytes = zeroblob(?3), size = ?4
         WHERE sha256 = ?1",
    )?
    .execute(params![sha256, method, stored_size as i64, size as i64])?;
    Ok(())
}

/// The most bytes handed to SQLite in one piece.
const BODY_CHUNK: usize = 1 << 20;

/// Fill the zeroed `bytes` of blob row `rowid` with the stored bytes, in chunks: SQLite never
/// gets (or copies) the whole content in one buffer.
fn write_body(
    tx: &Transaction<'_>,
    rowid: i64,
    raw: &[u8],
    packed: &Packed,
) -> Result<(), StoreError> {
    const CHUNK: usize = BODY_CHUNK;
    let mut blob = tx.blob_open(rusqlite::MAIN_DB, "blobs", "bytes", rowid, false)?;
    let io = |source: std::io::Error| StoreError::Io {
        path: format!("blobs row {rowid} (streamed content)").into(),
        source,
    };
    match &packed.stored {
        Stored::Raw => {
            for chunk in raw.chunks(CHUNK) {
                blob.write_all(chunk).map_err(io)?;
            }
        }
        Stored::Bytes(b) => blob.write_all(b).map_err(io)?,
        Stored::File { file, len } => {
            let mut buf = vec![0u8; CHUNK];
            let mut at = 0u64;
            while at < *len {
                let n = (*len - at).min(CHUNK as u64) as usize;
                std::os::unix::fs::FileExt::read_exact_at(file, &mut buf[..n], at).map_err(io)?;
                blob.write_all(&buf[..n]).map_err(io)?;
                at += n as u64;
            }
        }
    }
    blob.close()?;
    Ok(())
}

/// Read content by SHA-256, verified. `Ok(None)` when the store has no bytes for it (never
/// stored, vacuumed or purged).
pub fn get(conn: &rusqlite::Connection, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let row: Option<(String, i64, Option<Vec<u8>>)> = conn
        .query_row(
            "SELECT compression, size, bytes FROM blobs WHERE sha256 = ?1",
            [sha256],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((method, size, Some(stored))) = row else {
        return Ok(None);
    };
    checked(sha256, &method, size, &stored).map(Some)
}

/// The content of a blob row, decompressed with its size bounded first, and checked against
/// its recorded size and address.
fn checked(sha256: &str, method: &str, size: i64, stored: &[u8]) -> Result<Vec<u8>, StoreError> {
    let corrupt = |why: String| StoreError::CorruptBlob {
        sha256: sha256.to_owned(),
        why,
    };
    let size = u64::try_from(size).map_err(|_| corrupt(format!("negative size {size}")))?;
    let bytes = decompress(method, stored, size).map_err(corrupt)?;
    if bytes.len() as u64 != size {
        return Err(corrupt(format!("{} bytes, expected {size}", bytes.len())));
    }
    let actual = sha256_hex(&bytes);
    if actual != sha256 {
        return Err(corrupt(format!("content hashes to {actual}")));
    }
    Ok(bytes)
}

/// Check every blob that has bytes, one row in memory at a time, in address order: `each`
/// gets its address and what is wrong with it (None when its bytes decompress to its size
/// and hash to its address).
pub fn check_all(
    conn: &rusqlite::Connection,
    each: &mut dyn FnMut(&str, Option<StoreError>),
) -> Result<(), StoreError> {
    // In table order: by address would read the table at random, one page per blob.
    let mut stmt =
        conn.prepare("SELECT sha256, compression, size, bytes FROM blobs WHERE bytes IS NOT NULL")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let sha: String = row.get(0)?;
        let method: String = row.get(1)?;
        let size: i64 = row.get(2)?;
        let stored = row.get_ref(3)?.as_blob().map_err(rusqlite::Error::from)?;
        each(&sha, checked(&sha, &method, size, stored).err());
    }
    Ok(())
}

/// A content address (SHA-256) as a lookup key: its 32 bytes, ordered as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Address([u8; 32]);

impl Address {
    /// The address spelt as the store spells it, 64 lowercase hex digits; `None` for
    /// anything else.
    pub fn parse(hex: &str) -> Option<Address> {
        crate::id::lower_hex_bytes(hex).map(Address)
    }
}

/// Every blob's size and whether it still has bytes, sorted by address: 48 bytes a blob (a
/// hash map took about twice that, with its empty buckets). A lookup goes to the run of
/// addresses that share its first two bytes (where each run starts is kept: 512 KiB), then
/// searches that run by bisection, so it touches a few neighbouring entries, and no choice of
/// addresses (a store edited by hand) makes it slower than a bisection of the whole.
pub struct Facts {
    entries: Vec<(Address, i64, bool)>,
    /// Where the addresses starting with each two-byte prefix start in `entries`, and its end.
    starts: Vec<usize>,
}

impl Facts {
    fn prefix(address: &Address) -> usize {
        usize::from(u16::from_be_bytes([address.0[0], address.0[1]]))
    }

    /// The size of the blob at `address` and whether it has bytes; `None` without a row.
    pub fn get(&self, address: &Address) -> Option<(i64, bool)> {
        let p = Facts::prefix(address);
        let run = &self.entries[self.starts[p]..self.starts[p + 1]];
        run.binary_search_by(|(a, _, _)| a.cmp(address))
            .ok()
            .map(|i| (run[i].1, run[i].2))
    }
}

/// Every blob's [`Facts`], read in one pass in table order; `expected` is how many the caller
/// counted (room is made for them up front, up to [`super::audit::PRESIZE_MAX`]).
pub fn facts(conn: &rusqlite::Connection, expected: usize) -> Result<Facts, StoreError> {
    let mut entries = Vec::with_capacity(expected.min(super::audit::PRESIZE_MAX));
    let mut stmt = conn.prepare("SELECT sha256, size, bytes IS NOT NULL FROM blobs")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let sha = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        if let Some(address) = Address::parse(sha) {
            entries.push((address, row.get(1)?, row.get(2)?));
        }
    }
    // Addresses are unique (the primary key), so an unstable sort is exact.
    entries.sort_unstable_by_key(|e| e.0);
    let mut starts = vec![entries.len(); (1 << 16) + 1];
    for (i, (address, _, _)) in entries.iter().enumerate().rev() {
        starts[Facts::prefix(address)] = i;
    }
    // A prefix no address has starts where the next one does.
    for p in (0..1 << 16).rev() {
        starts[p] = starts[p].min(starts[p + 1]);
    }
    Ok(Facts { entries, starts })
}

/// How many blobs have bytes.
pub fn count_with_bytes(conn: &rusqlite::Connection) -> Result<usize, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM blobs WHERE bytes IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as usize)
}

/// Destroy the stored bytes of `sha256` (a purge; the row, its hash and size stay).
pub fn drop_bytes(tx: &rusqlite::Transaction<'_>, sha256: &str) -> Result<(), StoreError> {
    tx.execute("UPDATE blobs SET bytes = NULL WHERE sha256 = ?1", [sha256])?;
    Ok(())
}

/// The recorded size of content `sha256`, if the store knows it.
pub fn size_of(conn: &rusqlite::Connection, sha256: &str) -> Result<Option<i64>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT size FROM blobs WHERE sha256 = ?1")?
        .query_row([sha256], |r| r.get(0))
        .optional()?)
}

/// Record content `sha256` by address and size only, without its bytes (an import without
/// content).
pub fn insert_bare(
    tx: &rusqlite::Transaction<'_>,
    sha256: &str,
    size: i64,
    git_blob_id: Option<&str>,
    now: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO blobs (sha256, size, compression, stored_size, bytes,
            git_blob_id, created_at) VALUES (?1, ?2, 'none', 0, NULL, ?3, ?4)",
    )?
    .execute(rusqlite::params![sha256, size, git_blob_id, now])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_64_lowercase_hex_digits_read_as_its_32_bytes() {
        let bytes: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37)).collect();
        let hex = crate::id::hex(&bytes);
        assert_eq!(Address::parse(&hex).map(|a| a.0.to_vec()), Some(bytes));
        assert_eq!(
            Address::parse(&hex.to_uppercase()),
            None,
            "the store spells it lowercase"
        );
        assert_eq!(Address::parse(&hex[..62]), None);
        assert_eq!(Address::parse(&format!("{hex}00")), None);
        assert_eq!(Address::parse(&format!("{}g", &hex[..63])), None);
        assert_eq!(
            Address::parse(&format!("é{}", &hex[..62])),
            None,
            "not ASCII"
        );
    }

    /// Every way `put` meets an address: new (small, in the row; large, streamed), already
    /// there with its bytes (deduplicated, nothing written), there without them (vacuumed, or
    /// imported bare with another size: captured again, size corrected), each read back.
    #[test]
    fn put_inserts_new_content_dedups_stored_content_and_refills_content_without_bytes() {
        let mut conn = super::super::schema::in_memory();
        let tx = conn.transaction().expect("transaction");
        let small = b"fn main() {}\n".repeat(10);
        // Over one chunk and incompressible enough to stay large: streamed into the row.
        let large: Vec<u8> = (0..(BODY_CHUNK + 4096) as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for bytes in [&small, &large] {
            let put = |tx: &Transaction<'_>| {
                put(tx, bytes, Some("blob"), Compression::Zstd(3), "t").expect("put")
            };
            let first = put(&tx);
            assert!(first.new);
            assert_eq!(first.size, bytes.len() as u64);
            assert_eq!(get(&tx, &first.sha256).expect("get"), Some(bytes.clone()));
            let again = put(&tx);
            assert_eq!(
                again,
                Put {
                    new: false,
                    ..first.clone()
                },
                "deduplicated"
            );
            drop_bytes(&tx, &first.sha256).expect("vacuum");
            assert_eq!(get(&tx, &first.sha256).expect("get"), None);
            let refilled = put(&tx);
            assert!(refilled.new, "content without bytes is captured again");
            assert_eq!(get(&tx, &first.sha256).expect("get"), Some(bytes.clone()));
            let rows: i64 = tx
                .query_row(
                    "SELECT count(*) FROM blobs WHERE sha256 = ?1",
                    [&first.sha256],
                    |r| r.get(0),
                )
                .expect("count");
            assert_eq!(rows, 1);
        }
        let sha = sha256_hex(b"imported");
        insert_bare(&tx, &sha, 999, None, "t").expect("bare");
        let put = put(&tx, b"imported", None, Compression::None, "t").expect("put");
        assert!(put.new);
        assert_eq!(size_of(&tx, &sha).expect("size"), Some(8), "its true size");
        assert_eq!(get(&tx, &sha).expect("get"), Some(b"imported".to_vec()));
    }

    #[test]
    fn compression_round_trips_and_never_grows() {
        let text = b"hello hello hello hello hello hello hello hello".repeat(20);
        for how in [
            Compression::Zstd(3),
            Compression::Gzip(6),
            Compression::None,
        ] {
            let (m, stored) = compress(&text, how);
            assert!(stored.len() <= text.len());
            assert_eq!(
                decompress(m, &stored, text.len() as u64).expect("round trip"),
                text
            );
        }
        let (m, stored) = compress(b"x", Compression::Zstd(3));
        assert_eq!(
            (m, stored.as_slice()),
            ("none", &b"x"[..]),
            "tiny content stays raw"
        );
        assert!(decompress("lz4", b"", 0).is_err());
    }
}
