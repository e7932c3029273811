//! `git tombstone list` and `show`.

use crate::support::*;

fn repo_with_items() -> Repo {
    let mut repo = Repo::with_files(&[
        ("src/z.py", b"z\n"),
        ("docs/guide.md", b"# guide\n"),
        ("tests/test_a.py", b"def test(): pass\n"),
        ("build.log", b"log\n"),
    ]);
    repo.env
        .push(("GIT_TOMBSTONE_NOW".into(), "2025-05-01T10:00:00Z".into()));
    assert_ok(
        &repo.tomb(&["archive", "src/z.py", "docs/guide.md"]),
        "archive 1",
    );
    repo.commit_all("first batch");
    assert_ok(&repo.tomb(&["bind"]), "bind");
    repo.env.pop();
    repo.env
        .push(("GIT_TOMBSTONE_NOW".into(), "2025-07-01T10:00:00Z".into()));
    assert_ok(
        &repo.tomb(&["archive", "tests/test_a.py", "build.log"]),
        "archive 2",
    );
    repo
}

fn listed(repo: &Repo, args: &[&str]) -> Vec<String> {
    let mut full = vec!["--json", "list"];
    full.extend_from_slice(args);
    let out = repo.tomb(&full);
    assert_ok(&out, "list");
    json_lines(&out)
        .iter()
        .map(|v| v["path"].as_str().expect("path").to_owned())
        .collect()
}

#[test]
fn list_is_sorted_and_json_has_the_documented_fields() {
    let repo = repo_with_items();
    assert_eq!(
        listed(&repo, &[]),
        ["build.log", "docs/guide.md", "src/z.py", "tests/test_a.py"]
    );
    let out = repo.tomb(&["--json", "list"]);
    for v in json_lines(&out) {
        for key in [
            "id",
            "path",
            "sha256",
            "git_blob_id",
            "size",
            "mode",
            "category",
            "reason",
            "state",
            "source_commit",
            "removed_in_commit",
            "archived_at",
        ] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
    }
    let text = repo.tomb_ok(&["list"]);
    assert!(text.starts_with("ID "), "{text}");
    assert_eq!(text.lines().count(), 5);
}

#[test]
fn list_filters() {
    let repo = repo_with_items();
    assert_eq!(listed(&repo, &["--category", "docs"]), ["docs/guide.md"]);
    assert_eq!(listed(&repo, &["--category", "logs"]), ["build.log"]);
    assert_eq!(
        listed(&repo, &["--state", "pending"]),
        ["build.log", "tests/test_a.py"]
    );
    assert_eq!(
        listed(&repo, &["--state", "archived"]),
        ["docs/guide.md", "src/z.py"]
    );
    assert_eq!(
        listed(&repo, &["--path", "*.py"]),
        ["src/z.py", "tests/test_a.py"]
    );
    assert_eq!(listed(&repo, &["--path", "src/**"]), ["src/z.py"]);
    assert_eq!(
        listed(&repo, &["--since", "2025-06-01"]),
        ["build.log", "tests/test_a.py"]
    );
    assert_eq!(
        listed(&repo, &["--until", "2025-06-01"]),
        ["docs/guide.md", "src/z.py"]
    );
    // The first batch came from the initial commit; the second batch's source is HEAD, which
    // is also the commit that removed the first batch.
    let initial = repo.git(&["rev-parse", "HEAD~1"]);
    assert_eq!(
        listed(&repo, &["--commit", &initial[..10]]),
        ["docs/guide.md", "src/z.py"]
    );
    assert_eq!(listed(&repo, &["--commit", &repo.head()[..10]]).len(), 4);
    let err = assert_code(&repo.tomb(&["list", "--state", "gone"]), 2, "bad state");
    assert!(err.contains("expected one of"), "{err}");
    let err = assert_code(&repo.tomb(&["list", "--since", "yesterday"]), 2, "bad date");
    assert!(err.contains("not YYYY-MM-DD"), "{err}");
}

#[test]
fn show_by_path_and_by_id() {
    let repo = repo_with_items();
    let out = repo.tomb(&["--json", "show", "src/z.py"]);
    assert_ok(&out, "show path");
    let item = &json_lines(&out)[0];
    assert_eq!(item["state"], "archived");
    assert_eq!(item["language"], "python");
    let id = item["id"].as_str().expect("id");
    let text = repo.tomb_ok(&["show", id]);
    assert!(
        text.contains("removed in commit") && text.contains(&repo.head()),
        "{text}"
    );
    let err = assert_code(&repo.tomb(&["show", "nothing.py"]), 2, "unknown");
    assert!(err.contains("nothing archived matches"), "{err}");
}
