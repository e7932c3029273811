//! `git archive-restore` / `git tombstone restore`.

use crate::support::*;

const BODY: &[u8] = b"def legacy():\n    return 42\n";

/// A repository where `src/legacy.py` was archived and the stub committed and bound.
fn archived() -> (Repo, String) {
    let repo = Repo::with_files(&[("src/legacy.py", BODY), ("keep.txt", b"k")]);
    let out = repo.tomb(&["--json", "archive", "src/legacy.py"]);
    assert_ok(&out, "archive");
    let id = json_lines(&out)[0]["id"].as_str().expect("id").to_owned();
    repo.commit_all("retire legacy");
    assert_ok(&repo.tomb(&["bind"]), "bind");
    (repo, id)
}

#[test]
fn restore_by_path_through_git_brings_the_bytes_back_staged() {
    let (repo, id) = archived();
    let out = repo
        .command("git")
        .args(["archive-restore", "src/legacy.py"])
        .output()
        .expect("git archive-restore");
    assert_ok(&out, "git archive-restore");
    assert_eq!(repo.read("src/legacy.py"), BODY);
    assert_eq!(repo.staged("src/legacy.py"), BODY);
    assert!(
        !repo.path("src/legacy.py.tombstone").exists(),
        "the sidecar goes"
    );
    assert_eq!(
        repo.git(&["ls-files", "src/legacy.py.tombstone"]),
        "",
        "and its removal is staged"
    );
    let state: String = repo
        .db()
        .query_row("SELECT state FROM items WHERE id = ?1", [&id], |r| r.get(0))
        .expect("state");
    assert_eq!(state, "restored");
    let last = repo.evidence_lines().pop().expect("evidence");
    assert!(
        last.contains("\"op\":\"restore\"") && last.contains(&id),
        "{last}"
    );
}

#[test]
fn restore_by_id_to_another_file_stages_nothing() {
    let (repo, id) = archived();
    let out = repo.restore(&["--json", &id, "--output", "copy.py"]);
    assert_ok(&out, "restore --output");
    let report = &json_lines(&out)[0];
    assert_eq!(report["source"], "store");
    assert_eq!(report["staged"], false);
    assert_eq!(repo.read("copy.py"), BODY);
    assert!(
        repo.read("src/legacy.py.tombstone")
            .starts_with(b"git-tombstone v1"),
        "stub left in place"
    );
    assert_eq!(repo.git(&["diff", "--cached", "--name-only"]), "");
    // --output never overwrites an existing file without --force.
    let err = assert_code(
        &repo.restore(&[&id, "--output", "keep.txt"]),
        2,
        "overwrite",
    );
    assert!(err.contains("is not the stub of"), "{err}");
    assert_eq!(repo.read("keep.txt"), b"k");
    assert_ok(
        &repo.restore(&[&id, "--output", "keep.txt", "--force"]),
        "forced",
    );
    assert_eq!(repo.read("keep.txt"), BODY);
}

#[test]
fn dry_run_writes_nothing() {
    let (repo, _) = archived();
    let before = repo.store_fingerprint();
    let out = repo.restore(&["--dry-run", "src/legacy.py"]);
    assert_ok(&out, "dry run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("would restore src/legacy.py"));
    assert!(repo
        .read("src/legacy.py.tombstone")
        .starts_with(b"git-tombstone v1"));
    assert!(!repo.path("src/legacy.py").exists());
    assert_eq!(repo.store_fingerprint(), before, "store untouched");
}

#[test]
fn refuses_to_overwrite_a_file_that_is_not_the_stub() {
    let (repo, _) = archived();
    repo.write("src/legacy.py", b"someone's new work\n");
    let err = assert_code(&repo.restore(&["src/legacy.py"]), 2, "overwrite");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(repo.read("src/legacy.py"), b"someone's new work\n");
    assert_ok(&repo.restore(&["src/legacy.py", "--force"]), "forced");
    assert_eq!(repo.read("src/legacy.py"), BODY);
}

#[test]
fn without_a_store_the_stub_and_the_git_object_database_suffice() {
    let (repo, _) = archived();
    std::fs::remove_dir_all(repo.store_dir()).expect("drop the store");
    let out = repo.restore(&["--json", "src/legacy.py"]);
    assert_ok(&out, "restore from git");
    assert_eq!(json_lines(&out)[0]["source"], "git-object-db");
    assert_eq!(repo.read("src/legacy.py"), BODY);
}

#[test]
fn an_id_with_no_local_record_is_found_through_the_stub_in_head() {
    let (repo, id) = archived();
    std::fs::remove_dir_all(repo.store_dir()).expect("drop the store");
    assert_ok(
        &repo.restore(&[&id, "--output", "by-id.py"]),
        "restore by id",
    );
    assert_eq!(repo.read("by-id.py"), BODY);
}

#[test]
fn a_damaged_store_blob_falls_back_to_git_with_a_warning() {
    let (repo, _) = archived();
    repo.db()
        .execute("UPDATE blobs SET bytes = zeroblob(length(bytes))", [])
        .expect("damage the blob");
    let out = repo.restore(&["src/legacy.py"]);
    assert_ok(&out, "restore with damaged blob");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("damaged"),
        "warns"
    );
    assert_eq!(repo.read("src/legacy.py"), BODY);
}

#[test]
fn content_that_does_not_match_the_record_is_never_written() {
    let (repo, id) = archived();
    // Damage the store and point the record at another blob: no source can be verified.
    let other = repo.git(&["rev-parse", "HEAD:keep.txt"]).trim().to_owned();
    let db = repo.db();
    db.execute("UPDATE blobs SET bytes = NULL", [])
        .expect("drop bytes");
    db.execute("UPDATE items SET git_blob_id = ?1", [&other])
        .expect("repoint");
    let err = assert_code(&repo.restore(&[&id, "--output", "out.py"]), 1, "mismatch");
    assert!(err.contains("does not match its record"), "{err}");
    assert!(!repo.path("out.py").exists());
}

#[test]
fn unknown_targets_and_missing_content_are_clear_errors() {
    let (repo, id) = archived();
    let err = assert_code(&repo.restore(&["no/such/file.py"]), 2, "unknown path");
    assert!(err.contains("nothing archived matches"), "{err}");
    let err = assert_code(&repo.restore(&["tb_00000000000000000000"]), 2, "unknown id");
    assert!(err.contains("nothing archived matches"), "{err}");
    repo.db()
        .execute("UPDATE items SET state = 'purged'", [])
        .expect("purge");
    let err = assert_code(&repo.restore(&[&id]), 1, "purged");
    assert!(err.contains("was purged"), "{err}");
}

#[test]
fn a_forged_stub_is_not_trusted() {
    let (repo, _) = archived();
    std::fs::remove_dir_all(repo.store_dir()).expect("drop the store");
    let stub = String::from_utf8(repo.read("src/legacy.py.tombstone")).expect("stub text");
    let sha = git_tombstone::id::sha256_hex(BODY);
    repo.write(
        "src/legacy.py.tombstone",
        stub.replace(&sha, &"0".repeat(64)).as_bytes(),
    );
    let err = assert_code(&repo.restore(&["src/legacy.py"]), 1, "forged");
    assert!(
        err.contains("not a valid stub") && err.contains("altered"),
        "{err}"
    );
}

/// Commit with a committer date of its own (the scan records it as `removed_at`).
fn commit_at(repo: &Repo, msg: &str, date: Option<&str>) -> String {
    let mut c = repo.command("git");
    c.args(["commit", "-q", "-m", msg]);
    if let Some(d) = date {
        c.env("GIT_COMMITTER_DATE", d).env("GIT_AUTHOR_DATE", d);
    }
    assert!(c.status().expect("git commit").success(), "commit {msg}");
    repo.head()
}

/// `a.txt` deleted twice: v1 in the first returned commit, v2 in the second. The newer
/// deletion is scanned first, so it is the older row: ordering by when a row was archived
/// (the old behaviour) picks v1.
fn deleted_twice(dated: bool) -> (Repo, String, String) {
    let repo = Repo::with_files(&[("a.txt", b"v1\n"), ("keep", b"k")]);
    repo.git(&["rm", "-q", "a.txt"]);
    let first = commit_at(&repo, "drop v1", dated.then_some("2026-02-01T00:00:00Z"));
    repo.write("a.txt", b"v2\n");
    repo.git(&["add", "a.txt"]);
    commit_at(&repo, "v2", dated.then_some("2026-03-01T00:00:00Z"));
    repo.git(&["rm", "-q", "a.txt"]);
    let second = commit_at(&repo, "drop v2", dated.then_some("2026-04-01T00:00:00Z"));
    let range = format!("{second}~1..{second}");
    assert_ok(&repo.tomb(&["scan", &range]), "scan the newer deletion");
    assert_ok(&repo.tomb(&["scan", "--all"]), "scan the rest");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 2);
    (repo, first, second)
}

#[test]
fn restore_by_path_brings_back_the_most_recently_removed_version() {
    for dated in [true, false] {
        // Dated: by removal time. Undated (same second): by commit topology.
        let (repo, first, _) = deleted_twice(dated);
        let out = repo.restore(&["a.txt"]);
        assert_ok(&out, "restore");
        assert_eq!(repo.read("a.txt"), b"v2\n", "dated={dated}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("of 2 archived versions") && err.contains("--at"),
            "says which version among how many: {err}"
        );
        let out = repo.restore(&["a.txt", "--at", &first, "--force"]);
        assert_ok(&out, "restore --at");
        assert_eq!(repo.read("a.txt"), b"v1\n", "--at picks the other");
    }
}

#[test]
fn at_a_commit_without_that_path_is_a_clear_error() {
    let (repo, _, _) = deleted_twice(true);
    repo.write("other", b"o\n");
    repo.commit_all("unrelated");
    let err = assert_code(
        &repo.restore(&["a.txt", "--at", "HEAD"]),
        1,
        "no version there",
    );
    assert!(err.contains("no archived version"), "{err}");
    assert!(!repo.path("a.txt").exists(), "nothing written");
}

/// A tree with two crates and some docs, all deleted in one commit and scanned.
fn deleted_tree() -> Repo {
    let repo = Repo::with_files(&[
        ("crates/foo/Cargo.toml", b"[package]\nname = \"foo\"\n"),
        ("crates/foo/src/lib.rs", b"pub fn foo() {}\n"),
        ("crates/bar/src/lib.rs", b"pub fn bar() {}\n"),
        ("docs/a.md", b"# a\n"),
        ("docs/b.md", b"# b\n"),
        ("keep", b"k"),
    ]);
    repo.git(&["rm", "-q", "-r", "crates", "docs"]);
    repo.git(&["commit", "-q", "-m", "drop"]);
    assert_ok(&repo.tomb(&["scan", "--all"]), "scan");
    repo
}

#[test]
fn a_directory_a_glob_and_several_paths_restore_together() {
    let repo = deleted_tree();
    let before = repo.evidence_lines().len();
    let out = repo.restore(&["crates/foo"]);
    assert_ok(&out, "restore a directory");
    assert_eq!(repo.read("crates/foo/src/lib.rs"), b"pub fn foo() {}\n");
    assert!(repo.read("crates/foo/Cargo.toml").starts_with(b"[package]"));
    assert!(!repo.path("crates/bar").exists(), "only below crates/foo");
    assert_eq!(repo.evidence_lines().len(), before + 2, "one line per file");

    let dry = repo.restore(&["--dry-run", "--json", "crates/**"]);
    assert_ok(&dry, "dry run");
    assert_eq!(
        json_lines(&dry).len(),
        3,
        "lists every file the glob matches"
    );
    assert!(!repo.path("crates/bar").exists(), "dry run writes nothing");

    assert_ok(&repo.restore(&["crates/**"]), "restore a glob");
    assert_eq!(repo.read("crates/bar/src/lib.rs"), b"pub fn bar() {}\n");

    assert_ok(&repo.restore(&["docs/a.md", "docs/b.md"]), "several paths");
    assert_eq!(repo.read("docs/b.md"), b"# b\n");
    let staged = repo.git(&["diff", "--cached", "--name-only"]);
    assert_eq!(staged.lines().count(), 5, "all staged: {staged}");
}

#[test]
fn restore_is_all_or_nothing_when_one_file_fails_verification() {
    let repo = deleted_tree();
    // One record no longer re-derives (its content hash was altered).
    repo.db()
        .execute(
            "UPDATE items SET source_commit = '1111111111111111111111111111111111111111' WHERE path = CAST('docs/b.md' AS BLOB)",
            [],
        )
        .expect("tamper");
    let before = repo.store_fingerprint();
    let index = repo.git(&["ls-files", "-s"]);
    let err = assert_code(&repo.restore(&["docs"]), 1, "verification fails");
    assert!(
        err.contains("docs/b.md") || err.contains("re-derive"),
        "{err}"
    );
    assert!(
        !repo.path("docs").exists(),
        "no file written, not even docs/a.md"
    );
    assert_eq!(repo.store_fingerprint(), before, "store unchanged");
    assert_eq!(repo.git(&["ls-files", "-s"]), index, "index unchanged");
}

#[test]
fn a_failure_while_writing_puts_every_file_back() {
    let repo = deleted_tree();
    let mut cmd = repo.command(bin_dir().join("git-tombstone"));
    cmd.args(["restore", "docs"])
        .env("GIT_TOMBSTONE_FAILPOINT", "error:restore:after-write");
    let out = cmd.output().expect("run");
    assert_code(&out, 3, "injected failure");
    assert!(!repo.path("docs/a.md").exists() && !repo.path("docs/b.md").exists());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_clone_without_the_archive_branch_is_told_how_to_fetch_it() {
    let repo = Repo::with_files(&[("keep", b"k")]);
    let err = assert_code(&repo.restore(&["gone.rs"]), 2, "nothing matches");
    let err = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        err.contains("git fetch origin tombstone-archive:refs/remotes/origin/tombstone-archive"),
        "{err}"
    );
}
