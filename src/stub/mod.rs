//! Tombstones: rendering and strict parsing. Pure: no I/O.
//!
//! A tombstone names the archive id and the content's SHA-256 of what was deleted, so that
//! anyone who finds it can restore the file. It takes one of three places:
//!
//! - a **sidecar** `<path>.tombstone` beside the deleted file's path (the default: no build
//!   tool picks up a `.tombstone` file, so a deletion never breaks a build);
//! - **in place**, at the deleted file's own path, written as comments of its language (a
//!   policy choice per glob, for teams that want the stub where the file was);
//! - a **directory tombstone** `<dir>.tombstone` ([`dir`], format v2) when a whole directory
//!   was deleted in one commit: the directory goes away and one file lists every archived file.
//!
//! Sidecar and in-place stubs share format v1. This module is the one place that decides
//! whether some bytes are a tombstone:
//!
//! - the marker line `git-tombstone v1` comes first, then `key value` lines in byte order of the
//!   key; unknown keys are kept;
//! - every line is a comment in the file's language ([`Style`]), or, for `.json`, the whole
//!   stub is one JSON object with string values;
//! - there is exactly one valid encoding: the parser re-renders what it read and rejects any
//!   input that differs from that rendering by a single byte;
//! - the id must be the one derived from path, sha256 and source commit, so a stub whose hash
//!   was edited by hand is rejected as forged.

pub mod dir;
mod path;
mod style;

use std::collections::BTreeMap;

pub use dir::{DirTombstone, MAX_DIR_TOMBSTONE};
pub use path::{check_relative, check_relative_as, decode as decode_path, encode as encode_path};
pub use style::Style;

use crate::id;

/// The largest stub, in bytes. Anything larger is not a stub.
pub const MAX_STUB_SIZE: usize = 1024;
/// The first line of every stub (without comment syntax).
pub const MARKER: &str = "git-tombstone v1";
/// The keys every v1 stub carries.
pub const REQUIRED_KEYS: [&str; 8] = [
    "id",
    "mode",
    "path",
    "reason",
    "restore",
    "sha256",
    "size",
    "source-commit",
];

/// Why some bytes are not a valid stub.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StubError {
    #[error("not a stub: it does not start with the `{MARKER}` marker line")]
    NoMarker,
    #[error("not a stub: {size} bytes is larger than the {MAX_STUB_SIZE}-byte limit")]
    TooLarge { size: usize },
    #[error("line {line}: {why}")]
    Syntax { line: usize, why: String },
    #[error("key `{key}` appears more than once")]
    DuplicateKey { key: String },
    #[error("key `{key}` is out of order: keys must be in byte order")]
    KeyOrder { key: String },
    #[error("required key `{key}` is missing")]
    MissingKey { key: String },
    #[error("`{key}` is invalid: {why}")]
    BadValue { key: String, why: String },
    #[error("path `{path}` cannot be decoded: {why}")]
    BadPath { path: String, why: String },
    #[error("path `{path}` is unsafe: {why}")]
    UnsafePath { path: String, why: String },
    #[error("the stub at `{location}` names another path, `{named}`")]
    Elsewhere { location: String, named: String },
    #[error("id {found} does not match path, sha256 and source-commit (expected {expected}): the stub was altered")]
    Forged { found: String, expected: String },
    #[error("not the canonical encoding of this stub (whitespace, quoting or layout differs)")]
    NotCanonical,
    #[error("cannot write `{value}` in a stub with {style}")]
    Unrenderable { value: String, style: &'static str },
}

impl StubError {
    /// What kind of failure this is (see [`crate::error::Kind`]): a stub that does not parse
    /// or is forged fails a check; a path no stub can name is the user's to change.
    pub fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            StubError::NoMarker
            | StubError::TooLarge { .. }
            | StubError::Syntax { .. }
            | StubError::DuplicateKey { .. }
            | StubError::KeyOrder { .. }
            | StubError::MissingKey { .. }
            | StubError::BadValue { .. }
            | StubError::BadPath { .. }
            | StubError::UnsafePath { .. }
            | StubError::Elsewhere { .. }
            | StubError::Forged { .. }
            | StubError::NotCanonical => Kind::Failure,
            StubError::Unrenderable { .. } => Kind::Usage,
        }
    }
}

/// The suffix of sidecar and directory tombstones.
pub const SUFFIX: &[u8] = b".tombstone";

/// Where a file's stub stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// `<path>.tombstone`, plain text (the default).
    Sidecar,
    /// At the path itself, as comments of the file's language.
    InPlace,
}

impl Placement {
    /// Where the stub of `path` goes. A name too long for a sidecar (file names stop at 255
    /// bytes) keeps its stub in place.
    pub fn location(self, path: &[u8]) -> Vec<u8> {
        match self {
            Placement::Sidecar if sidecar_fits(path) => sidecar_of(path),
            _ => path.to_vec(),
        }
    }
}

/// Whether `<path>.tombstone` is a valid file name (255 bytes at most).
pub fn sidecar_fits(path: &[u8]) -> bool {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    name.len() + SUFFIX.len() <= 255
}

/// `<path>.tombstone`: where the sidecar of a file, or the tombstone of a directory, stands.
pub fn sidecar_of(path: &[u8]) -> Vec<u8> {
    [path, SUFFIX].concat()
}

/// Whether `location` is named like a sidecar or directory tombstone.
pub fn is_tombstone_name(location: &[u8]) -> bool {
    location.len() > SUFFIX.len() && location.ends_with(SUFFIX)
}

/// The most bytes a tombstone at `location` can have (directory tombstones are larger).
pub fn max_size(location: &[u8]) -> usize {
    if is_tombstone_name(location) {
        MAX_DIR_TOMBSTONE
    } else {
        MAX_STUB_SIZE
    }
}

/// A tombstone of any kind, as found at some location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tombstone {
    /// A per-file stub (sidecar or in place).
    File(Stub),
    /// A directory tombstone.
    Dir(DirTombstone),
}

impl Tombstone {
    /// Parse `bytes` found at `location` as any kind of tombstone, strictly.
    pub fn parse(location: &[u8], bytes: &[u8]) -> Result<Tombstone, StubError> {
        if is_tombstone_name(location) && bytes.starts_with(dir::DIR_MARKER.as_bytes()) {
            return DirTombstone::parse(location, bytes).map(Tombstone::Dir);
        }
        Stub::parse(location, bytes).map(Tombstone::File)
    }

    /// The files it stands for, one stub each.
    pub fn stubs(&self) -> Vec<Stub> {
        match self {
            Tombstone::File(s) => vec![s.clone()],
            Tombstone::Dir(d) => d.stubs(),
        }
    }
}

/// File mode of the archived content, as git writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `100644`
    File,
    /// `100755`
    Executable,
    /// `120000`
    Symlink,
}

impl Mode {
    /// The octal text git uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::File => "100644",
            Mode::Executable => "100755",
            Mode::Symlink => "120000",
        }
    }

    /// Parse git's octal text; gitlinks and trees are not file modes.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "100644" => Some(Mode::File),
            "100755" => Some(Mode::Executable),
            "120000" => Some(Mode::Symlink),
            _ => None,
        }
    }
}

/// A parsed (or to-be-rendered) stub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stub {
    pub id: String,
    pub mode: Mode,
    /// Repository-relative path bytes of the archived file.
    pub path: Vec<u8>,
    pub reason: String,
    pub sha256: String,
    pub size: u64,
    pub source_commit: String,
    /// Keys this version does not know, kept verbatim.
    pub extra: BTreeMap<String, String>,
}

impl Stub {
    /// Build a stub for freshly archived content; the id is derived, never supplied.
    pub fn new(
        path: &[u8],
        mode: Mode,
        sha256: &str,
        size: u64,
        source_commit: &str,
        reason: &str,
    ) -> Stub {
        Stub {
            id: id::tombstone_id(path, sha256, source_commit),
            mode,
            path: path.to_vec(),
            reason: reason.to_owned(),
            sha256: sha256.to_owned(),
            size,
            source_commit: source_commit.to_owned(),
            extra: BTreeMap::new(),
        }
    }

    /// The restore command a reader of the stub can run.
    pub fn restore_command(&self) -> String {
        format!("git archive-restore {}", encode_path(&self.path))
    }

    /// All fields as `key → value` text, in byte order of the key.
    pub fn fields(&self) -> BTreeMap<String, String> {
        let mut f = self.extra.clone();
        f.insert("id".into(), self.id.clone());
        f.insert("mode".into(), self.mode.as_str().into());
        f.insert("path".into(), encode_path(&self.path));
        f.insert("reason".into(), self.reason.clone());
        f.insert("restore".into(), self.restore_command());
        f.insert("sha256".into(), self.sha256.clone());
        f.insert("size".into(), self.size.to_string());
        f.insert("source-commit".into(), self.source_commit.clone());
        f
    }

    /// Render the stub for a file at `file_path` (its name picks the comment style).
    pub fn render(&self, file_path: &[u8]) -> Result<Vec<u8>, StubError> {
        let style = Style::for_path(file_path);
        let fields = self.fields();
        for value in fields.values() {
            validate_value(value, style)?;
        }
        let mut out = String::new();
        if style == Style::Json {
            out.push_str("{\n");
            out.push_str(&format!("  \"git-tombstone\": {}", json_str("v1")));
            for (k, v) in &fields {
                out.push_str(&format!(",\n  {}: {}", json_str(k), json_str(v)));
            }
            out.push_str("\n}\n");
        } else {
            let (open, close) = style.delimiters();
            out.push_str(&format!("{open}{MARKER}{close}\n"));
            for (k, v) in &fields {
                out.push_str(&format!("{open}{k} {v}{close}\n"));
            }
        }
        if out.len() > MAX_STUB_SIZE {
            return Err(StubError::TooLarge { size: out.len() });
        }
        Ok(out.into_bytes())
    }

    /// Parse `bytes` found at `file_path`, strictly.
    pub fn parse(file_path: &[u8], bytes: &[u8]) -> Result<Stub, StubError> {
        if bytes.len() > MAX_STUB_SIZE {
            return Err(StubError::TooLarge { size: bytes.len() });
        }
        let style = Style::for_path(file_path);
        let text = std::str::from_utf8(bytes).map_err(|_| StubError::NoMarker)?;
        let pairs = if style == Style::Json {
            parse_json(text)?
        } else {
            parse_lines(text, style)?
        };
        let stub = from_pairs(pairs)?;
        // A stub restores to the path it names: one standing anywhere but there (or its
        // sidecar location) would write elsewhere.
        if stub.path != file_path && sidecar_of(&stub.path) != file_path {
            return Err(StubError::Elsewhere {
                location: encode_path(file_path),
                named: encode_path(&stub.path),
            });
        }
        if stub.render(file_path)? != bytes {
            return Err(StubError::NotCanonical);
        }
        Ok(stub)
    }
}

/// Cheap test used before reading a whole candidate: could these first bytes start a
/// tombstone (a stub, or for a `.tombstone` name, a directory tombstone)?
pub fn may_be_stub(file_path: &[u8], size: u64, head: &[u8]) -> bool {
    if size > max_size(file_path) as u64 {
        return false;
    }
    if is_tombstone_name(file_path) && head.starts_with(dir::DIR_MARKER.as_bytes()) {
        return true;
    }
    if size as usize > MAX_STUB_SIZE {
        return false;
    }
    let style = Style::for_path(file_path);
    if style == Style::Json {
        return head.starts_with(b"{\n  \"git-tombstone\": \"v1\"");
    }
    let open = style.delimiters().0.as_bytes();
    head.starts_with(open) && head[open.len()..].starts_with(MARKER.as_bytes())
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn validate_value(value: &str, style: Style) -> Result<(), StubError> {
    let unrenderable = || StubError::Unrenderable {
        value: value.to_owned(),
        style: style.name(),
    };
    if value.chars().any(char::is_control) {
        return Err(unrenderable());
    }
    if let Some(closer) = style.closer() {
        if value.contains(closer) {
            return Err(unrenderable());
        }
    }
    Ok(())
}

fn parse_lines(text: &str, style: Style) -> Result<Vec<(String, String)>, StubError> {
    let (open, close) = style.delimiters();
    let body = text.strip_suffix('\n').ok_or(StubError::Syntax {
        line: text.lines().count().max(1),
        why: "the stub must end with a newline".into(),
    })?;
    let mut pairs = Vec::new();
    for (i, raw) in body.split('\n').enumerate() {
        let line_no = i + 1;
        let content = raw
            .strip_prefix(open)
            .and_then(|r| r.strip_suffix(close))
            .ok_or_else(|| {
                if line_no == 1 {
                    StubError::NoMarker
                } else {
                    StubError::Syntax {
                        line: line_no,
                        why: format!("not written with {}", style.name()),
                    }
                }
            })?;
        if line_no == 1 {
            if content != MARKER {
                return Err(StubError::NoMarker);
            }
            continue;
        }
        let (k, v) = content.split_once(' ').ok_or_else(|| StubError::Syntax {
            line: line_no,
            why: "expected `key value`".into(),
        })?;
        pairs.push((k.to_owned(), v.to_owned()));
    }
    Ok(pairs)
}

fn parse_json(text: &str) -> Result<Vec<(String, String)>, StubError> {
    // serde_json keeps only the last of duplicate keys, so duplicates and order are checked on
    // the raw lines first; the canonical re-render then rejects anything else.
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| StubError::Syntax {
        line: e.line(),
        why: format!("not valid JSON: {e}"),
    })?;
    let obj = value.as_object().ok_or(StubError::NoMarker)?;
    if obj.get("git-tombstone").and_then(|v| v.as_str()) != Some("v1") {
        return Err(StubError::NoMarker);
    }
    let mut pairs = Vec::new();
    for line in text.lines().skip(1) {
        let line = line.trim().trim_end_matches(',');
        if line == "}" || line.is_empty() {
            continue;
        }
        let Ok(serde_json::Value::Object(one)) =
            serde_json::from_str::<serde_json::Value>(&format!("{{{line}}}"))
        else {
            return Err(StubError::NotCanonical);
        };
        for (k, v) in one {
            if k == "git-tombstone" {
                continue;
            }
            let v = v.as_str().ok_or_else(|| StubError::BadValue {
                key: k.clone(),
                why: "must be a JSON string".into(),
            })?;
            pairs.push((k, v.to_owned()));
        }
    }
    Ok(pairs)
}

fn from_pairs(pairs: Vec<(String, String)>) -> Result<Stub, StubError> {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for (k, v) in pairs {
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(StubError::BadValue {
                key: k,
                why: "keys are lowercase letters, digits and `-`".into(),
            });
        }
        if fields.contains_key(&k) {
            return Err(StubError::DuplicateKey { key: k });
        }
        if last.as_ref().is_some_and(|l| l.as_str() > k.as_str()) {
            return Err(StubError::KeyOrder { key: k });
        }
        last = Some(k.clone());
        fields.insert(k, v);
    }
    for key in REQUIRED_KEYS {
        if !fields.contains_key(key) {
            return Err(StubError::MissingKey { key: key.into() });
        }
    }
    let mut take = |k: &str| fields.remove(k).unwrap_or_default();
    let bad = |key: &str, why: &str| StubError::BadValue {
        key: key.into(),
        why: why.into(),
    };

    let id_text = take("id");
    if !id::is_tombstone_id(&id_text) {
        return Err(bad("id", "expected `tb_` and 20 lowercase hex digits"));
    }
    let mode_text = take("mode");
    let mode =
        Mode::parse(&mode_text).ok_or_else(|| bad("mode", "expected 100644, 100755 or 120000"))?;
    let path = decode_path(&take("path"))?;
    check_relative_as(&path, mode == Mode::Symlink)?;
    let reason = take("reason");
    let restore = take("restore");
    let sha256 = take("sha256");
    if !id::is_lower_hex(&sha256, 64) {
        return Err(bad("sha256", "expected 64 lowercase hex digits"));
    }
    let size_text = take("size");
    let size: u64 = size_text
        .parse()
        .ok()
        .filter(|n: &u64| n.to_string() == size_text)
        .ok_or_else(|| {
            bad(
                "size",
                "expected a decimal byte count without leading zeros",
            )
        })?;
    let source_commit = take("source-commit");
    if !id::is_lower_hex(&source_commit, 40) && !id::is_lower_hex(&source_commit, 64) {
        return Err(bad(
            "source-commit",
            "expected a 40 (or 64) hex digit commit id",
        ));
    }
    let stub = Stub {
        id: id_text,
        mode,
        path,
        reason,
        sha256,
        size,
        source_commit,
        extra: fields,
    };
    if restore != stub.restore_command() {
        return Err(bad("restore", "does not name this stub's path"));
    }
    let expected = id::tombstone_id(&stub.path, &stub.sha256, &stub.source_commit);
    if stub.id != expected {
        return Err(StubError::Forged {
            found: stub.id,
            expected,
        });
    }
    Ok(stub)
}

#[cfg(test)]
mod tests;
