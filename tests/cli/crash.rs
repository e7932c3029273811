//! A crash between any two steps leaves a store that a rerun completes.
//!
//! `GIT_TOMBSTONE_FAILPOINT` makes the process abort (SIGABRT, like a kill) at a named point.

use crate::support::*;

fn crash(repo: &Repo, point: &str, args: &[&str]) {
    let out = repo
        .command(TOMBSTONE)
        .env("GIT_TOMBSTONE_FAILPOINT", point)
        .args(args)
        .output()
        .expect("run");
    assert!(!out.status.success(), "expected a crash at {point}");
    assert_eq!(out.status.code(), None, "killed by a signal at {point}");
}

fn finish_and_check(repo: &Repo) {
    assert_ok(&repo.tomb(&["archive", "a.py"]), "rerun archive");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1, "one item");
    assert_eq!(
        repo.count("SELECT count(*) FROM evidence WHERE op = 'archive'"),
        1,
        "one archive line"
    );
    assert!(
        repo.staged("a.py").starts_with(b"# git-tombstone v1"),
        "stub staged"
    );
    repo.commit_all("stub");
    assert_ok(&repo.tomb(&["bind"]), "bind");
    let out = repo.tomb(&["verify"]);
    assert_ok(&out, "verify after recovery");
}

#[test]
fn crash_after_the_store_commit_before_the_worktree() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n")]);
    crash(&repo, "archive:after-store", &["archive", "a.py"]);
    assert_eq!(repo.read("a.py"), b"x = 1\n", "work tree untouched");
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE state = 'pending'"),
        1
    );
    finish_and_check(&repo);
}

#[test]
fn crash_after_the_worktree_before_the_index() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n")]);
    crash(&repo, "archive:after-worktree", &["archive", "a.py"]);
    assert!(
        repo.read("a.py").starts_with(b"# git-tombstone v1"),
        "stub written"
    );
    assert_eq!(repo.staged("a.py"), b"x = 1\n", "index not yet updated");
    finish_and_check(&repo);
}

#[test]
fn crash_between_database_commit_and_evidence_append() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]);
    crash(&repo, "store:after-commit", &["archive", "a.py"]);
    assert_eq!(
        repo.evidence_lines().len(),
        0,
        "the log is behind the database"
    );
    assert_eq!(repo.count("SELECT count(*) FROM evidence"), 1);
    // verify reports the gap rather than hiding it ...
    assert_code(&repo.tomb(&["verify"]), 1, "verify sees the gap");
    // ... and the next write catches the log up before appending its own line.
    finish_and_check(&repo);
    assert_ok(&repo.tomb(&["archive", "b.py"]), "archive b");
    let lines = repo.evidence_lines();
    assert_eq!(
        lines.len(),
        repo.count("SELECT count(*) FROM evidence") as usize
    );
}

#[test]
fn a_torn_evidence_line_is_repaired_from_the_database() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]);
    assert_ok(&repo.tomb(&["archive", "a.py"]), "archive a");
    let log = repo.store_dir().join("evidence.jsonl");
    let full = std::fs::read(&log).expect("log");
    // Simulate a crash in the middle of appending line 1: only half of it reached the disk.
    std::fs::write(&log, &full[..full.len() / 2]).expect("tear");
    assert_code(&repo.tomb(&["verify"]), 1, "torn line detected");
    assert_ok(&repo.tomb(&["archive", "b.py"]), "next write repairs");
    assert_eq!(
        std::fs::read(&log).expect("log")[..full.len()],
        full[..],
        "line 1 restored exactly"
    );
    assert_eq!(repo.evidence_lines().len(), 2);
    repo.commit_all("stubs");
    assert_ok(&repo.tomb(&["bind"]), "bind");
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

#[test]
fn leftover_temp_files_are_cleaned() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n")]);
    assert_ok(&repo.tomb(&["init"]), "init");
    let leftover = repo.store_dir().join("evidence.jsonl.123.tombstone-tmp");
    std::fs::write(&leftover, b"half-written").expect("leftover");
    assert_ok(&repo.tomb(&["archive", "a.py"]), "archive");
    assert!(!leftover.exists());
}
