//! Violation reports: text, JSON, SARIF 2.1.0 (GitHub code scanning) and Markdown.
//!
//! Pure: renders a [`Report`](crate::scan::Report) to a string.

use crate::id::sha256_hex;
use crate::scan::Report;

/// The SARIF rule id for a deletion that skipped its stub. Stable: alerts are matched by it.
pub const RULE_ID: &str = "TS001";
/// Its name.
pub const RULE_NAME: &str = "deletion-without-tombstone";

/// The SARIF rule id for a path in history that git refuses to check out.
pub const UNSAFE_RULE_ID: &str = "TS002";
/// Its name.
pub const UNSAFE_RULE_NAME: &str = "unsafe-path-in-history";

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Markdown,
}

/// The stable fingerprint of a violation: path + blob id.
pub fn fingerprint(path: &str, blob: &str) -> String {
    sha256_hex(format!("{path}\0{blob}").as_bytes())
}

/// Render `report` in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text(report),
        // One object on one line, like every `--json` output.
        Format::Json => serde_json::to_string(report).unwrap_or_default() + "\n",
        Format::Sarif => sarif(report),
        Format::Markdown => markdown(report),
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

fn text(r: &Report) -> String {
    let mut s = format!(
        "scanned {} commit(s): {} deletion(s), {} newly archived, {} already archived, {} stub(s) bound, {} move(s), {} violation(s)\n",
        r.commits,
        r.deletions,
        r.archived,
        r.already,
        r.stubbed,
        r.moves,
        r.violations.len()
    );
    if r.baselined > 0 {
        s.push_str(&format!(
            "{} deletion(s) without a stub from before adoption (baseline): archived, not counted\n",
            r.baselined
        ));
    }
    for v in &r.violations {
        s.push_str(&format!(
            "violation: {} deleted in {} without a stub (archived as {})\n",
            v.path,
            short(&v.commit),
            v.id
        ));
    }
    for u in &r.unsafe_paths {
        s.push_str(&format!(
            "unsafe path: {} deleted in {} ({}): not archived, never restorable\n",
            u.path,
            short(&u.commit),
            u.why
        ));
    }
    s
}

fn markdown(r: &Report) -> String {
    markdown_bounded(r, usize::MAX)
}

/// The Markdown summary listing at most `max` violations, then how many more there are (a
/// step summary must stay small whatever the history holds).
pub fn markdown_bounded(r: &Report, max: usize) -> String {
    let mut s = String::from("## git-tombstone\n\n");
    s.push_str(&format!(
        "| commits | deletions | newly archived | already archived | stubs bound | moves | violations |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n\
         | {} | {} | {} | {} | {} | {} | {} |\n",
        r.commits,
        r.deletions,
        r.archived,
        r.already,
        r.stubbed,
        r.moves,
        r.violations.len()
    ));
    if r.baselined > 0 {
        s.push_str(&format!(
            "\n{} deletion(s) without a stub from before adoption (baseline) are archived and not counted.\n",
            r.baselined
        ));
    }
    if r.violations.is_empty() {
        s.push_str("\nEvery deletion that needed a stub has one.\n");
    } else {
        s.push_str("\n### Deletions without a tombstone stub\n\nThe content is archived; restore it with `git archive-restore <id>`.\n\n| path | commit | id | category |\n|---|---|---|---|\n");
        for v in r.violations.iter().take(max) {
            s.push_str(&format!(
                "| `{}` | `{}` | `{}` | {} |\n",
                v.path.replace('|', "\\|").replace('`', "'"),
                short(&v.commit),
                v.id,
                v.category
            ));
        }
        if r.violations.len() > max {
            s.push_str(&format!(
                "\n… and {} more; the report file lists them all.\n",
                r.violations.len() - max
            ));
        }
    }
    s
}

/// SARIF 2.1.0, as much of it as a report uses (typed, so a field cannot be misspelt).
mod sarif {
    use std::collections::BTreeMap;

    use serde::Serialize;

    #[derive(Serialize)]
    pub struct Log<'a> {
        #[serde(rename = "$schema")]
        pub schema: &'static str,
        pub version: &'static str,
        pub runs: Vec<Run<'a>>,
    }

    #[derive(Serialize)]
    pub struct Run<'a> {
        pub tool: Tool,
        pub results: Vec<Result<'a>>,
    }

    #[derive(Serialize)]
    pub struct Tool {
        pub driver: Driver,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Driver {
        pub name: &'static str,
        pub version: &'static str,
        pub information_uri: &'static str,
        pub rules: Vec<Rule>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Rule {
        pub id: &'static str,
        pub name: &'static str,
        pub short_description: Text,
        pub full_description: Text,
        pub help: Text,
        pub default_configuration: Configuration,
    }

    #[derive(Serialize)]
    pub struct Text {
        pub text: String,
    }

    #[derive(Serialize)]
    pub struct Configuration {
        pub level: &'static str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Result<'a> {
        pub rule_id: &'static str,
        pub rule_index: u32,
        pub level: &'static str,
        pub message: Text,
        pub locations: Vec<Location>,
        pub partial_fingerprints: BTreeMap<&'static str, String>,
        pub properties: BTreeMap<&'static str, &'a str>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Location {
        pub physical_location: PhysicalLocation,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PhysicalLocation {
        pub artifact_location: ArtifactLocation,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub region: Option<Region>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ArtifactLocation {
        pub uri: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub uri_base_id: Option<&'static str>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Region {
        pub start_line: u32,
    }
}

/// The bytes RFC 3986 allows as they are in a path: unreserved, sub-delims, `:`, `@` and the
/// `/` between segments. Everything else (space, `#`, `%`, `?`, quotes, `|`, controls,
/// non-ASCII and bytes that are not UTF-8) is percent-encoded.
const URI_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@')
    .remove(b'/');

/// A repository-relative path as a relative URI reference (what SARIF's `uri` holds).
pub fn uri_of(path: &[u8]) -> String {
    let encoded = percent_encoding::percent_encode(path, URI_PATH).to_string();
    // A first segment with a `:` would read as a scheme.
    match encoded.split('/').next() {
        Some(first) if first.contains(':') => format!("./{encoded}"),
        _ => encoded,
    }
}

fn text_of(s: impl Into<String>) -> sarif::Text {
    sarif::Text { text: s.into() }
}

fn rules() -> Vec<sarif::Rule> {
    vec![
        sarif::Rule {
            id: RULE_ID,
            name: RULE_NAME,
            short_description: text_of("A file was deleted without a tombstone stub"),
            full_description: text_of("The policy says deletions of this path leave a tombstone stub naming the archive id, but the commit deleted the file outright (the pre-commit hook was bypassed or not installed). The content was archived by the CI scan."),
            help: text_of("Install the hooks (`git tombstone install`), or add the missing stubs with `git tombstone scan --write-stubs`."),
            default_configuration: sarif::Configuration { level: "warning" },
        },
        sarif::Rule {
            id: UNSAFE_RULE_ID,
            name: UNSAFE_RULE_NAME,
            short_description: text_of("History holds a path git refuses to check out"),
            full_description: text_of("A commit in the scanned range deletes a path that git's fsck rules forbid (a .git component in any spelling, `..`, an absolute or empty component). Such trees are only made by hand; the content is never archived, so no restore can write it."),
            help: text_of("Find who pushed the commit (`git log -1 <commit>`) and treat the repository as hostile input; nothing needs restoring."),
            default_configuration: sarif::Configuration { level: "error" },
        },
    ]
}

fn sarif(r: &Report) -> String {
    let violations = r.violations.iter().map(|v| sarif::Result {
        rule_id: RULE_ID,
        rule_index: 0,
        level: "warning",
        message: text_of(format!(
            "{} was deleted in {} without a tombstone stub. Its content is archived as {}; restore it with `git archive-restore {}`.",
            v.path, short(&v.commit), v.id, v.id
        )),
        locations: vec![sarif::Location {
            physical_location: sarif::PhysicalLocation {
                artifact_location: sarif::ArtifactLocation {
                    uri: uri_of(&v.path_bytes),
                    uri_base_id: None,
                },
                region: Some(sarif::Region { start_line: 1 }),
            },
        }],
        partial_fingerprints: [("deletionWithoutStub/v1", fingerprint(&v.path, &v.blob))]
            .into_iter()
            .collect(),
        properties: [
            ("commit", v.commit.as_str()),
            ("blob", v.blob.as_str()),
            ("tombstoneId", v.id.as_str()),
            ("category", v.category.as_str()),
        ]
        .into_iter()
        .collect(),
    });
    let unsafe_paths = r.unsafe_paths.iter().map(|u| sarif::Result {
        rule_id: UNSAFE_RULE_ID,
        rule_index: 1,
        level: "error",
        message: text_of(format!(
            "Commit {} holds a path git refuses to check out ({}): {}. It was not archived and can never be restored; a crafted history may be trying to write into .git or outside the work tree.",
            short(&u.commit), u.path, u.why
        )),
        locations: vec![sarif::Location {
            physical_location: sarif::PhysicalLocation {
                artifact_location: sarif::ArtifactLocation {
                    uri: ".".into(),
                    uri_base_id: Some("%SRCROOT%"),
                },
                region: None,
            },
        }],
        partial_fingerprints: [("unsafePath/v1", fingerprint(&u.path, &u.blob))]
            .into_iter()
            .collect(),
        properties: [
            ("commit", u.commit.as_str()),
            ("blob", u.blob.as_str()),
            ("path", u.path.as_str()),
        ]
        .into_iter()
        .collect(),
    });
    let log = sarif::Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: vec![sarif::Run {
            tool: sarif::Tool {
                driver: sarif::Driver {
                    name: "git-tombstone",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://github.com/git-tombstone/git-tombstone",
                    rules: rules(),
                },
            },
            results: violations.chain(unsafe_paths).collect(),
        }],
    };
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Violation;

    fn report() -> Report {
        Report {
            commits: 3,
            deletions: 2,
            archived: 2,
            violations: vec![Violation {
                path_bytes: b"src/x|y.py".to_vec(),
                commit: "a".repeat(40),
                path: "src/x|y.py".into(),
                blob: "b".repeat(40),
                id: "tb_0123456789abcdef0123".into(),
                category: "code".into(),
            }],
            ..Report::default()
        }
    }

    #[test]
    fn sarif_has_the_required_shape_and_stable_fingerprints() {
        let v: serde_json::Value =
            serde_json::from_str(&render(&report(), Format::Sarif)).expect("json");
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], RULE_ID);
        let result = &run["results"][0];
        assert_eq!(result["ruleId"], RULE_ID);
        // `|` is not allowed in a URI: percent-encoded (it was the display path, invalid).
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "src/x%7Cy.py"
        );
        assert_eq!(
            result["partialFingerprints"]["deletionWithoutStub/v1"],
            fingerprint("src/x|y.py", &"b".repeat(40))
        );
        assert_eq!(
            render(&report(), Format::Sarif),
            render(&report(), Format::Sarif),
            "deterministic"
        );
    }

    #[test]
    fn uris_are_percent_encoded_relative_references() {
        assert_eq!(uri_of(b"src/lib.rs"), "src/lib.rs");
        assert_eq!(uri_of(b"a b/c#d%e?.txt"), "a%20b/c%23d%25e%3F.txt");
        assert_eq!(uri_of(b"q\"uote'.py"), "q%22uote'.py");
        assert_eq!(uri_of("caf\u{e9}.md".as_bytes()), "caf%C3%A9.md");
        assert_eq!(uri_of(b"bad\xff\n.bin"), "bad%FF%0A.bin");
        assert_eq!(uri_of(b"c:d/e"), "./c:d/e");
        assert_eq!(uri_of(b"d/c:e"), "d/c:e");
    }

    #[test]
    fn sarif_snapshot() {
        let mut r = report();
        r.unsafe_paths.push(crate::scan::UnsafePath {
            commit: "c".repeat(40),
            path: ".git/hooks/post-checkout".into(),
            blob: "d".repeat(40),
            why: "a .git component".into(),
        });
        insta::assert_snapshot!(render(&r, Format::Sarif));
    }

    #[test]
    fn json_and_markdown_snapshots() {
        insta::assert_snapshot!("json", render(&report(), Format::Json));
        insta::assert_snapshot!("markdown", render(&report(), Format::Markdown));
        insta::assert_snapshot!("text", render(&report(), Format::Text));
    }

    #[test]
    fn markdown_escapes_table_cells() {
        let md = render(&report(), Format::Markdown);
        assert!(md.contains("`src/x\\|y.py`"), "{md}");
        assert!(render(&Report::default(), Format::Markdown).contains("Every deletion"));
    }
}
