//! `.tombstone.toml` → a validated [`Policy`], and matching paths against its rules.
//!
//! The policy says, for each deleted path, whether to stub it, archive it without a stub, or
//! ignore it, and with which category and reason. Rules are ordered and the first match wins.
//! Without a policy file the built-in default is the template that `init` writes
//! (`templates/tombstone.toml`), so the two can never drift apart.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

/// The file name of the policy, at the repository root.
pub const FILE_NAME: &str = ".tombstone.toml";
/// The commented template `init` writes; also the built-in default policy.
pub const TEMPLATE: &str = include_str!("../templates/tombstone.toml");

/// What to do with a deleted path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Capture the content and leave a stub at the path.
    Stub,
    /// Capture the content; the deletion stands.
    Archive,
    /// Do nothing.
    Ignore,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Stub => "stub",
            Action::Archive => "archive",
            Action::Ignore => "ignore",
        }
    }
}

/// How stored content is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zstd(i32),
    Gzip(u32),
    None,
}

/// Errors reading or validating the policy file; they point at the offending line.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum PolicyError {
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(tombstone::policy::read))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid policy: {message}")]
    #[diagnostic(
        code(tombstone::policy::invalid),
        help("fix the key marked above in {FILE_NAME} (README.md, \"Policy file\", lists every key), or start again from the template: `git tombstone init --force`")
    )]
    Invalid {
        message: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("{message}")]
        span: Option<SourceSpan>,
    },
}

impl PolicyError {
    /// What kind of failure this is (see [`crate::error::Kind`]): a policy file that cannot
    /// be read or is invalid is configuration the user fixes.
    pub fn kind(&self) -> crate::error::Kind {
        match self {
            PolicyError::Read { .. } | PolicyError::Invalid { .. } => crate::error::Kind::Usage,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Option<Spanned<u32>>,
    default_action: Option<Action>,
    default_category: Option<String>,
    default_reason: Option<String>,
    max_file_size: Option<u64>,
    archive_moves: Option<bool>,
    move_similarity: Option<Spanned<i64>>,
    placement: Option<crate::stub::Placement>,
    directory_tombstones: Option<bool>,
    since: Option<String>,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    retention: RawRetention,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    min_days: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<String>,
    compression: Option<Spanned<String>>,
    level: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    paths: Spanned<Vec<Spanned<String>>>,
    action: Option<Action>,
    category: Option<String>,
    reason: Option<String>,
    placement: Option<crate::stub::Placement>,
}

/// One ordered rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub patterns: Vec<String>,
    set: GlobSet,
    pub action: Action,
    pub category: Option<String>,
    pub reason: Option<String>,
    pub placement: Option<crate::stub::Placement>,
}

/// The validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The file it came from; `None` for the built-in default.
    pub file: Option<PathBuf>,
    pub default_action: Action,
    pub default_category: String,
    pub default_reason: String,
    pub max_file_size: u64,
    pub archive_moves: bool,
    /// How similar (percent) a file added in the same commit must be for a deleted file to
    /// count as moved there (git's rename detection; default 50, git's own default).
    pub move_similarity: u8,
    /// Where a stub stands unless a rule says otherwise (default: a sidecar).
    pub default_placement: crate::stub::Placement,
    /// Whether a directory deleted whole gets one directory tombstone (default: yes).
    pub directory_tombstones: bool,
    /// Adoption: deletions without their stub in commits before this one (a commit, or a
    /// date `YYYY-MM-DD` / RFC 3339) are archived but are not violations.
    pub since: Option<String>,
    pub store_path: Option<String>,
    pub compression: Compression,
    /// `vacuum` refuses a cut-off younger than this many days without `--force`.
    pub retention_min_days: u32,
    pub rules: Vec<Rule>,
}

/// The policy's verdict on one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    pub category: String,
    pub reason: String,
    /// Where the stub stands (for the `stub` action).
    pub placement: crate::stub::Placement,
}

impl Policy {
    /// Load `<root>/.tombstone.toml`, or the built-in default when there is none.
    pub fn load(root: &Path) -> Result<Policy, PolicyError> {
        let path = root.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Policy::parse(&text, FILE_NAME).map(|mut p| {
                p.file = Some(path);
                p
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Policy::builtin(),
            Err(source) => Err(PolicyError::Read { path, source }),
        }
    }

    /// Load the policy from `path` (`GIT_TOMBSTONE_POLICY`); it must exist.
    pub fn load_file(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::parse(&text, &path.display().to_string()).map(|mut p| {
            p.file = Some(path.to_path_buf());
            p
        })
    }

    /// The built-in default policy (the template).
    pub fn builtin() -> Result<Policy, PolicyError> {
        Policy::parse(TEMPLATE, "templates/tombstone.toml")
    }

    /// Parse and validate policy text; `name` is used in diagnostics.
    pub fn parse(text: &str, name: &str) -> Result<Policy, PolicyError> {
        let invalid =
            |message: String, span: Option<std::ops::Range<usize>>| PolicyError::Invalid {
                message,
                src: NamedSource::new(name, text.to_owned()),
                span: span.map(|r| SourceSpan::from(r.start..r.end)),
            };
        let raw: RawPolicy =
            toml::from_str(text).map_err(|e| invalid(e.message().to_owned(), e.span()))?;
        if let Some(v) = &raw.version {
            if *v.get_ref() != 1 {
                return Err(invalid(
                    format!(
                        "unsupported policy version {} (this build reads version 1)",
                        v.get_ref()
                    ),
                    Some(v.span()),
                ));
            }
        }
        let compression = compression_of(&raw.store, &invalid)?;
        let retention_min_days = match &raw.retention.min_days {
            None => 7,
            Some(d) if (0..=36500).contains(d.get_ref()) => *d.get_ref() as u32,
            Some(d) => {
                return Err(invalid(
                    "retention.min_days must be 0 to 36500".into(),
                    Some(d.span()),
                ))
            }
        };
        let move_similarity = match &raw.move_similarity {
            None => 50,
            Some(m) if (1..=100).contains(m.get_ref()) => *m.get_ref() as u8,
            Some(m) => {
                return Err(invalid(
                    "move_similarity must be 1 to 100 (percent)".into(),
                    Some(m.span()),
                ))
            }
        };
        let default_action = raw.default_action.unwrap_or(Action::Stub);
        let rules = rules_of(raw.rules, default_action, &invalid)?;
        Ok(Policy {
            file: None,
            default_action,
            default_category: raw.default_category.unwrap_or_else(|| "code".into()),
            default_reason: raw.default_reason.unwrap_or_else(|| "deleted".into()),
            max_file_size: raw.max_file_size.unwrap_or(50 * 1024 * 1024),
            archive_moves: raw.archive_moves.unwrap_or(false),
            move_similarity,
            default_placement: raw.placement.unwrap_or(crate::stub::Placement::Sidecar),
            directory_tombstones: raw.directory_tombstones.unwrap_or(true),
            since: raw.since.filter(|s| !s.trim().is_empty()),
            store_path: raw.store.path.filter(|p| !p.is_empty()),
            compression,
            retention_min_days,
            rules,
        })
    }

    /// Decide what happens to `path` (repository-relative bytes) when it is deleted.
    pub fn decide(&self, path: &[u8]) -> Decision {
        let p = Path::new(OsStr::from_bytes(path));
        for rule in &self.rules {
            if rule.set.is_match(p) {
                return Decision {
                    action: rule.action,
                    category: rule
                        .category
                        .clone()
                        .unwrap_or_else(|| self.default_category.clone()),
                    reason: rule
                        .reason
                        .clone()
                        .unwrap_or_else(|| self.default_reason.clone()),
                    placement: rule.placement.unwrap_or(self.default_placement),
                };
            }
        }
        Decision {
            action: self.default_action,
            category: self.default_category.clone(),
            reason: self.default_reason.clone(),
            placement: self.default_placement,
        }
    }
}

/// Builds a policy error pointing at a span of the policy text.
type Invalid<'a> = dyn Fn(String, Option<std::ops::Range<usize>>) -> PolicyError + 'a;

/// `[store] compression` and `level`: zstd 1 to 22 (default 3), gzip 0 to 9 (default 6), or
/// none.
fn compression_of(store: &RawStore, invalid: &Invalid<'_>) -> Result<Compression, PolicyError> {
    let level = store.level.as_ref();
    let compression = match store
        .compression
        .as_ref()
        .map(|c| (c.get_ref().as_str(), c.span()))
    {
        None | Some(("zstd", _)) => {
            let l = level.map_or(3, |l| *l.get_ref());
            if !(1..=22).contains(&l) {
                return Err(invalid(
                    "zstd level must be 1 to 22".into(),
                    level.map(Spanned::span),
                ));
            }
            Compression::Zstd(l as i32)
        }
        Some(("gzip", _)) => {
            let l = level.map_or(6, |l| *l.get_ref());
            if !(0..=9).contains(&l) {
                return Err(invalid(
                    "gzip level must be 0 to 9".into(),
                    level.map(Spanned::span),
                ));
            }
            Compression::Gzip(l as u32)
        }
        Some(("none", _)) => Compression::None,
        Some((other, span)) => {
            return Err(invalid(
                format!("unknown compression `{other}`: expected zstd, gzip or none"),
                Some(span),
            ))
        }
    };
    Ok(compression)
}

/// The `[[rules]]`, each with at least one valid glob; a rule without an action takes
/// `default_action`.
fn rules_of(
    raw: Vec<RawRule>,
    default_action: Action,
    invalid: &Invalid<'_>,
) -> Result<Vec<Rule>, PolicyError> {
    let mut rules = Vec::with_capacity(raw.len());
    for r in raw {
        if r.paths.get_ref().is_empty() {
            return Err(invalid(
                "a rule needs at least one pattern in `paths`".into(),
                Some(r.paths.span()),
            ));
        }
        let mut b = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for p in r.paths.get_ref() {
            let pat = p.get_ref();
            let glob = glob(pat).map_err(|why| invalid(why, Some(p.span())))?;
            b.add(glob);
            patterns.push(pat.clone());
        }
        let set = b
            .build()
            .map_err(|e| invalid(format!("bad globs: {e}"), Some(r.paths.span())))?;
        rules.push(Rule {
            patterns,
            set,
            action: r.action.unwrap_or(default_action),
            category: r.category,
            reason: r.reason,
            placement: r.placement,
        });
    }
    Ok(rules)
}

/// Compile a path pattern with the policy's semantics: without `/` it matches the file name in
/// any directory (like .gitignore); with `/` it matches from the repository root; `*` does not
/// cross `/`, `**` does.
pub fn glob(pattern: &str) -> Result<globset::Glob, String> {
    let full = if pattern.contains('/') {
        pattern.trim_start_matches('/').to_owned()
    } else {
        format!("**/{pattern}")
    };
    GlobBuilder::new(&full)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("bad glob `{pattern}`: {}", e.kind()))
}

/// Whether `path` (repository-relative bytes) matches a compiled [`glob`].
pub fn matches(matcher: &globset::GlobMatcher, path: &[u8]) -> bool {
    matcher.is_match(Path::new(OsStr::from_bytes(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_follows_the_architecture_defaults() {
        let p = Policy::builtin().expect("template parses");
        let d = |path: &str| p.decide(path.as_bytes());
        assert_eq!(d("src/a.py").action, Action::Stub);
        assert_eq!(d("src/a.py").category, "code");
        assert_eq!(d("docs/guide/x.txt").category, "docs");
        assert_eq!(d("src/README.md").category, "docs");
        assert_eq!(d("tests/test_a.py").category, "tests");
        assert_eq!(d("config/app.yaml").category, "configs");
        assert_eq!(d("build.log").action, Action::Archive);
        assert_eq!(d("deep/dir/build.log").category, "logs");
        assert_eq!(d("logs/2026/x.txt").category, "logs");
        assert_eq!(d("src/a.py").reason, "deleted");
        assert_eq!(p.compression, Compression::Zstd(3));
    }

    #[test]
    fn first_match_wins_and_ignore_is_honoured() {
        let p = Policy::parse(
            "[[rules]]\npaths = [\"vendor/**\"]\naction = \"ignore\"\n\
             [[rules]]\npaths = [\"*.py\"]\naction = \"archive\"\ncategory = \"py\"\nreason = \"retired\"\n\
             [[rules]]\npaths = [\"*\"]\ncategory = \"never\"\n",
            "t.toml",
        )
        .expect("valid");
        assert_eq!(p.decide(b"vendor/x.py").action, Action::Ignore);
        let d = p.decide(b"a/b.py");
        assert_eq!(
            (d.action, d.category.as_str(), d.reason.as_str()),
            (Action::Archive, "py", "retired")
        );
        assert_eq!(p.decide(b"c.rs").category, "never");
        assert_eq!(p.decide(b"non/utf8/\xff.py").action, Action::Archive);
    }

    fn err_of(text: &str) -> (String, Option<SourceSpan>) {
        match Policy::parse(text, "t.toml") {
            Err(PolicyError::Invalid { message, span, .. }) => (message, span),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn errors_point_at_the_offending_line() {
        let text = "version = 1\n[[rules]]\npaths = [\"a/[\"]\n";
        let (msg, span) = err_of(text);
        assert!(msg.contains("bad glob"), "{msg}");
        let span = span.expect("span");
        assert_eq!(&text[span.offset()..span.offset() + span.len()], "\"a/[\"");

        let text = "default_action = \"shred\"\n";
        let (msg, span) = err_of(text);
        assert!(
            msg.contains("shred") || msg.contains("unknown variant"),
            "{msg}"
        );
        assert_eq!(
            span.expect("span").offset(),
            text.find("\"shred\"").expect("in text")
        );

        let (msg, _) = err_of("[store]\ncompression = \"lz4\"\n");
        assert!(msg.contains("lz4"), "{msg}");
        let (msg, _) = err_of("[store]\nlevel = 40\n");
        assert!(msg.contains("1 to 22"), "{msg}");
        let (msg, _) = err_of("typo_key = 1\n");
        assert!(msg.contains("typo_key"), "{msg}");
        let (msg, _) = err_of("version = 2\n");
        assert!(msg.contains("version 2"), "{msg}");
        let (msg, _) = err_of("[[rules]]\npaths = []\n");
        assert!(msg.contains("at least one"), "{msg}");
    }
}
