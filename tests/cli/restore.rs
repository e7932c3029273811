//! `git archive-restore` / `git tombstone restore`.

use crate::support::*;

const BODY: &[u8] = b"def legacy():\n    return 42\n";

/// A repository where `src/legacy.py` was archived and the stub committed and bound.
fn archived() -> (Repo, String) {
    let repo = Repo::with_files(&[("src/legacy.py", BODY), ("keep.txt", b"k")]);
    let out = repo.tomb(&["archive", "src/legacy.py"]);
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
        repo.read("src/legacy.py")
            .starts_with(b"# git-tombstone v1"),
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
        .read("src/legacy.py")
        .starts_with(b"# git-tombstone v1"));
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
    let stub = String::from_utf8(repo.read("src/legacy.py")).expect("stub text");
    let sha = git_tombstone::id::sha256_hex(BODY);
    repo.write(
        "src/legacy.py",
        stub.replace(&sha, &"0".repeat(64)).as_bytes(),
    );
    let err = assert_code(&repo.restore(&["src/legacy.py"]), 1, "forged");
    assert!(
        err.contains("not a valid stub") && err.contains("altered"),
        "{err}"
    );
}
