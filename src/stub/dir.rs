//! Directory tombstones (format v2): one file, `<dir>.tombstone`, that stands for every file
//! archived when a whole directory was deleted in one commit. The directory itself goes away,
//! so no build tool that discovers directories (Cargo's `members = ["crates/*"]`, npm's
//! `packages/*`, Go's `./...`) ever sees a half-deleted package. Pure: no I/O.
//!
//! ```text
//! git-tombstone v2 directory
//! path crates/foo
//! reason deleted
//! restore git archive-restore crates/foo
//! source-commit 0123…
//! files 2
//! tb_… 100644 17 <sha256> Cargo.toml
//! tb_… 100644 15 <sha256> src/lib.rs
//! ```
//!
//! Keys in that order, then one line per file: id, mode, size, SHA-256 and the path relative
//! to the directory (encoded as in v1 stubs), sorted by path bytes, unique. Every id must
//! re-derive from the file's full path, its SHA-256 and the source commit; every path must pass
//! the path gate. As with v1, exactly one encoding is valid: the parser re-renders what it read
//! and rejects any difference.

use super::{check_relative_as, decode_path, encode_path, Mode, Stub, StubError};
use crate::id;

/// The first line of a directory tombstone.
pub const DIR_MARKER: &str = "git-tombstone v2 directory";
/// The largest directory tombstone, in bytes (about 30,000 files); a larger directory is
/// archived without one (its files are still restorable by directory from the store).
pub const MAX_DIR_TOMBSTONE: usize = 4 << 20;

/// A directory tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirTombstone {
    /// The directory, repository-relative.
    pub path: Vec<u8>,
    pub reason: String,
    pub source_commit: String,
    /// Every archived file below the directory, sorted by path, unique.
    pub files: Vec<DirFile>,
}

/// One file a directory tombstone stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirFile {
    pub id: String,
    pub mode: Mode,
    pub size: u64,
    pub sha256: String,
    /// The full repository-relative path.
    pub path: Vec<u8>,
}

impl DirTombstone {
    /// A tombstone for `dir` standing for `files` (full paths, under `dir`); ids are derived.
    pub fn new(
        dir: &[u8],
        reason: &str,
        source_commit: &str,
        files: impl IntoIterator<Item = (Vec<u8>, Mode, u64, String)>,
    ) -> DirTombstone {
        let mut files: Vec<DirFile> = files
            .into_iter()
            .map(|(path, mode, size, sha256)| DirFile {
                id: id::tombstone_id(&path, &sha256, source_commit),
                mode,
                size,
                sha256,
                path,
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path);
        DirTombstone {
            path: dir.to_vec(),
            reason: reason.to_owned(),
            source_commit: source_commit.to_owned(),
            files,
        }
    }

    /// The restore command a reader can run.
    pub fn restore_command(&self) -> String {
        format!("git archive-restore {}", encode_path(&self.path))
    }

    /// The canonical bytes.
    pub fn render(&self) -> Result<Vec<u8>, StubError> {
        for value in [&self.reason] {
            if value.chars().any(char::is_control) {
                return Err(StubError::Unrenderable {
                    value: value.clone(),
                    style: "a directory tombstone",
                });
            }
        }
        let mut out = String::with_capacity(128 + self.files.len() * 140);
        out.push_str(DIR_MARKER);
        out.push('\n');
        out.push_str(&format!("path {}\n", encode_path(&self.path)));
        out.push_str(&format!("reason {}\n", self.reason));
        out.push_str(&format!("restore {}\n", self.restore_command()));
        out.push_str(&format!("source-commit {}\n", self.source_commit));
        out.push_str(&format!("files {}\n", self.files.len()));
        let prefix = self.path.len() + 1;
        for f in &self.files {
            out.push_str(&format!(
                "{} {} {} {} {}\n",
                f.id,
                f.mode.as_str(),
                f.size,
                f.sha256,
                encode_path(&f.path[prefix..])
            ));
            if out.len() > MAX_DIR_TOMBSTONE {
                return Err(StubError::TooLarge { size: out.len() });
            }
        }
        Ok(out.into_bytes())
    }

    /// Parse `bytes` found at `location` (which must be `<path>.tombstone`), strictly.
    pub fn parse(location: &[u8], bytes: &[u8]) -> Result<DirTombstone, StubError> {
        if bytes.len() > MAX_DIR_TOMBSTONE {
            return Err(StubError::TooLarge { size: bytes.len() });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| StubError::NoMarker)?;
        let body = text.strip_suffix('\n').ok_or(StubError::Syntax {
            line: text.lines().count().max(1),
            why: "the tombstone must end with a newline".into(),
        })?;
        let mut lines = body.split('\n').enumerate().map(|(i, l)| (i + 1, l));
        if lines.next().map(|(_, l)| l) != Some(DIR_MARKER) {
            return Err(StubError::NoMarker);
        }
        let mut key = |want: &str| -> Result<String, StubError> {
            let (n, line) = lines
                .next()
                .ok_or_else(|| StubError::MissingKey { key: want.into() })?;
            line.strip_prefix(want)
                .and_then(|r| r.strip_prefix(' '))
                .map(str::to_owned)
                .ok_or_else(|| StubError::Syntax {
                    line: n,
                    why: format!("expected `{want} …`"),
                })
        };
        let path = decode_path(&key("path")?)?;
        check_relative_as(&path, false)?;
        let reason = key("reason")?;
        let _restore = key("restore")?;
        let source_commit = key("source-commit")?;
        if !id::is_lower_hex(&source_commit, 40) && !id::is_lower_hex(&source_commit, 64) {
            return Err(StubError::BadValue {
                key: "source-commit".into(),
                why: "expected a 40 (or 64) hex digit commit id".into(),
            });
        }
        let count = parse_count(&key("files")?, bytes.len())?;
        let mut files = Vec::with_capacity(count);
        for (n, line) in lines.by_ref() {
            files.push(parse_entry(n, line, &path, &source_commit)?);
        }
        if files.windows(2).any(|w| w[0].path >= w[1].path) {
            return Err(StubError::NotCanonical);
        }
        if files.len() != count {
            return Err(StubError::BadValue {
                key: "files".into(),
                why: format!("says {count}, the tombstone lists {}", files.len()),
            });
        }
        let t = DirTombstone {
            path,
            reason,
            source_commit,
            files,
        };
        if super::sidecar_of(&t.path) != location {
            return Err(StubError::Elsewhere {
                location: encode_path(location),
                named: encode_path(&t.path),
            });
        }
        // Sorted, unique, canonical: the one valid encoding.
        if t.render()? != bytes {
            return Err(StubError::NotCanonical);
        }
        Ok(t)
    }

    /// One v1 stub per file, as the rest of the code reads stubs.
    pub fn stubs(&self) -> Vec<Stub> {
        self.files
            .iter()
            .map(|f| Stub {
                id: f.id.clone(),
                mode: f.mode,
                path: f.path.clone(),
                reason: self.reason.clone(),
                sha256: f.sha256.clone(),
                size: f.size,
                source_commit: self.source_commit.clone(),
                extra: Default::default(),
            })
            .collect()
    }
}

/// The `files` count: positive, canonical decimal, and no more entries than `len` bytes can
/// hold (each entry line is more than 90 bytes), so nothing is allocated from a count the
/// file cannot back.
fn parse_count(text: &str, len: usize) -> Result<usize, StubError> {
    let count: usize = text
        .parse()
        .ok()
        .filter(|n: &usize| n.to_string() == text && *n > 0)
        .ok_or_else(|| StubError::BadValue {
            key: "files".into(),
            why: "expected a positive decimal count".into(),
        })?;
    if count > len / 90 {
        return Err(StubError::BadValue {
            key: "files".into(),
            why: format!("{count} entries cannot fit in {len} bytes"),
        });
    }
    Ok(count)
}

/// One entry line (`<id> <mode> <size> <sha256> <path>`, line `n`) of the tombstone of
/// directory `dir`: a safe path below it, and an id that re-derives.
fn parse_entry(
    n: usize,
    line: &str,
    dir: &[u8],
    source_commit: &str,
) -> Result<DirFile, StubError> {
    let bad = |why: &str| StubError::Syntax {
        line: n,
        why: why.into(),
    };
    let mut parts = line.splitn(5, ' ');
    let (Some(fid), Some(mode), Some(size), Some(sha256), Some(rel)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad("expected `<id> <mode> <size> <sha256> <path>`"));
    };
    let mode = Mode::parse(mode).ok_or_else(|| bad("mode must be 100644, 100755 or 120000"))?;
    let size: u64 = size
        .parse()
        .ok()
        .filter(|s: &u64| s.to_string() == size)
        .ok_or_else(|| bad("size must be a decimal byte count"))?;
    if !id::is_lower_hex(sha256, 64) {
        return Err(bad("sha256 must be 64 lowercase hex digits"));
    }
    let rel = decode_path(rel)?;
    let full = [dir, b"/", rel.as_slice()].concat();
    check_relative_as(&full, mode == Mode::Symlink)?;
    let expected = id::tombstone_id(&full, sha256, source_commit);
    if fid != expected {
        return Err(StubError::Forged {
            found: fid.to_owned(),
            expected,
        });
    }
    Ok(DirFile {
        id: fid.to_owned(),
        mode,
        size,
        sha256: sha256.to_owned(),
        path: full,
    })
}
