//! Snapshots of what machines and people read: `--json` of the main commands, the scan report
//! in every format, and a miette error as a terminal shows it. A change to any of them shows up
//! in review as a snapshot diff (`INSTA_UPDATE=always cargo test --test cli outputs` to accept).

use crate::support::*;

/// A repository with one file archived by the hook and one deleted without it (a violation),
/// on a fixed clock, so every id, hash and time in the output is the same on every run.
fn fixture() -> Repo {
    let mut repo = Repo::with_files(&[
        ("src/app.py", b"print('app')\n"),
        ("src/old.py", b"def old():\n    return 1\n"),
        ("docs/gone.md", b"# gone\n"),
    ]);
    repo.env
        .push(("GIT_TOMBSTONE_NOW".into(), "2026-02-03T04:05:06Z".into()));
    repo.tomb_ok(&["install"]);
    repo.git(&["rm", "-q", "src/old.py"]);
    repo.commit_all("remove old.py");
    // Deleted with the hooks bypassed: a violation for the scan.
    repo.git(&["rm", "-q", "docs/gone.md"]);
    let out = repo
        .command("git")
        .args(["commit", "-q", "--no-verify", "-m", "remove gone.md"])
        .output()
        .expect("commit");
    assert_ok(&out, "commit --no-verify");
    repo
}

/// stdout with the test's temporary directory replaced.
fn stdout(repo: &Repo, out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).replace(repo.root.to_str().expect("utf8"), "[repo]")
}

#[test]
fn json_of_the_main_commands() {
    let repo = fixture();
    let scan = repo.tomb(&["--json", "scan", "--all"]);
    assert_ok(&scan, "scan");
    insta::assert_snapshot!("scan_json", stdout(&repo, &scan));
    let list = repo.tomb(&["--json", "list"]);
    assert_ok(&list, "list");
    insta::assert_snapshot!("list_json", stdout(&repo, &list));
    let id = json_lines(&list)[0]["id"].as_str().expect("id").to_owned();
    let show = repo.tomb(&["--json", "show", &id]);
    assert_ok(&show, "show");
    insta::assert_snapshot!("show_json", stdout(&repo, &show));
    let check = repo.tomb(&["--json", "stub", "check", "src/old.py.tombstone"]);
    assert_ok(&check, "stub check");
    insta::assert_snapshot!("stub_check_json", stdout(&repo, &check));
    let verify = repo.tomb(&["--json", "verify"]);
    assert_ok(&verify, "verify");
    insta::assert_snapshot!("verify_json", stdout(&repo, &verify));
}

#[test]
fn scan_reports_in_sarif_and_markdown() {
    let repo = fixture();
    let sarif = repo.tomb(&["scan", "--all", "--format", "sarif"]);
    assert_ok(&sarif, "scan sarif");
    insta::assert_snapshot!("scan_sarif", stdout(&repo, &sarif));
    let md = repo.tomb(&["scan", "--all", "--format", "markdown"]);
    assert_ok(&md, "scan markdown");
    insta::assert_snapshot!("scan_markdown", stdout(&repo, &md));
}

#[test]
fn errors_as_a_terminal_shows_them() {
    let repo = fixture();
    let out = repo.restore(&["tb_00000000000000000000"]);
    let stderr = assert_code(&out, 2, "restore of an unknown id");
    insta::assert_snapshot!("error_not_found", stderr);
    let out = repo.tomb(&["--json", "restore", "tb_00000000000000000000"]);
    let stderr = assert_code(&out, 2, "restore of an unknown id, --json");
    insta::assert_snapshot!("error_not_found_json", stderr);
    repo.write(".tombstone.toml", b"default_action = \"shred\"\n");
    let out = repo.tomb(&["archive", "src/app.py"]);
    let stderr = assert_code(&out, 2, "an invalid policy");
    insta::assert_snapshot!("error_invalid_policy", stderr);
}
