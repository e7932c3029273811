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

fn sarif(r: &Report) -> String {
    let results: Vec<serde_json::Value> = r
        .violations
        .iter()
        .map(|v| {
            serde_json::json!({
                "ruleId": RULE_ID,
                "ruleIndex": 0,
                "level": "warning",
                "message": {
                    "text": format!(
                        "{} was deleted in {} without a tombstone stub. Its content is archived as {}; restore it with `git archive-restore {}`.",
                        v.path, short(&v.commit), v.id, v.id
                    )
                },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": v.path },
                        "region": { "startLine": 1 }
                    }
                }],
                "partialFingerprints": { "deletionWithoutStub/v1": fingerprint(&v.path, &v.blob) },
                "properties": { "commit": v.commit, "blob": v.blob, "tombstoneId": v.id, "category": v.category }
            })
        })
        .chain(r.unsafe_paths.iter().map(|u| {
            serde_json::json!({
                "ruleId": UNSAFE_RULE_ID,
                "ruleIndex": 1,
                "level": "error",
                "message": {
                    "text": format!(
                        "Commit {} holds a path git refuses to check out ({}): {}. It was not archived and can never be restored; a crafted history may be trying to write into .git or outside the work tree.",
                        short(&u.commit), u.path, u.why
                    )
                },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": ".", "uriBaseId": "%SRCROOT%" }
                    }
                }],
                "partialFingerprints": { "unsafePath/v1": fingerprint(&u.path, &u.blob) },
                "properties": { "commit": u.commit, "blob": u.blob, "path": u.path }
            })
        }))
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "git-tombstone",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/git-tombstone/git-tombstone",
                    "rules": [{
                        "id": RULE_ID,
                        "name": RULE_NAME,
                        "shortDescription": { "text": "A file was deleted without a tombstone stub" },
                        "fullDescription": { "text": "The policy says deletions of this path leave a tombstone stub naming the archive id, but the commit deleted the file outright (the pre-commit hook was bypassed or not installed). The content was archived by the CI scan." },
                        "help": { "text": "Install the hooks (`git tombstone install`), or add the missing stubs with `git tombstone scan --write-stubs`." },
                        "defaultConfiguration": { "level": "warning" }
                    }, {
                        "id": UNSAFE_RULE_ID,
                        "name": UNSAFE_RULE_NAME,
                        "shortDescription": { "text": "History holds a path git refuses to check out" },
                        "fullDescription": { "text": "A commit in the scanned range deletes a path that git's fsck rules forbid (a .git component in any spelling, `..`, an absolute or empty component). Such trees are only made by hand; the content is never archived, so no restore can write it." },
                        "help": { "text": "Find who pushed the commit (`git log -1 <commit>`) and treat the repository as hostile input; nothing needs restoring." },
                        "defaultConfiguration": { "level": "error" }
                    }]
                }
            },
            "results": results
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
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
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "src/x|y.py"
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
    fn markdown_escapes_table_cells() {
        let md = render(&report(), Format::Markdown);
        assert!(md.contains("`src/x\\|y.py`"), "{md}");
        assert!(render(&Report::default(), Format::Markdown).contains("Every deletion"));
    }
}
