//! `git tombstone init` and `evidence digest`.

use crate::support::*;

#[test]
fn init_writes_the_template_and_never_overwrites() {
    let repo = Repo::with_files(&[("a.txt", b"a")]);
    let text = repo.tomb_ok(&["init"]);
    assert!(text.contains("wrote"), "{text}");
    let written = repo.read(".tombstone.toml");
    assert_eq!(written, git_tombstone::policy::TEMPLATE.as_bytes());
    assert!(repo.store_dir().join("archive.sqlite").exists());
    repo.write(".tombstone.toml", b"# ours\ndefault_action = \"archive\"\n");
    let text = repo.tomb_ok(&["init"]);
    assert!(text.contains("kept the existing"), "{text}");
    assert_eq!(
        repo.read(".tombstone.toml"),
        b"# ours\ndefault_action = \"archive\"\n"
    );
}

#[test]
fn the_store_is_a_real_sqlite_database_in_wal_mode_with_the_schema_version() {
    let repo = Repo::with_files(&[("a.txt", b"a")]);
    repo.tomb_ok(&["init"]);
    let db = repo.db();
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(mode, "wal");
    let version: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(version, 7);
    // A store from the future is refused rather than damaged.
    db.pragma_update(None, "user_version", 99).expect("bump");
    drop(db);
    let err = assert_code(&repo.tomb(&["init"]), 2, "newer store");
    assert!(err.contains("newer git-tombstone"), "{err}");
}

#[test]
fn evidence_digest_is_the_sha256_of_the_line() {
    let repo = Repo::with_files(&[("a.txt", b"a"), ("b.txt", b"b")]);
    assert_ok(&repo.tomb(&["archive", "a.txt", "b.txt"]), "archive");
    let lines = repo.evidence_lines();
    assert_eq!(lines.len(), 2);
    let digest = repo.tomb_ok(&["evidence", "digest", "2"]);
    assert_eq!(
        digest.trim(),
        git_tombstone::id::sha256_hex(lines[1].as_bytes())
    );
    let second: serde_json::Value = serde_json::from_str(&lines[1]).expect("json");
    assert_eq!(
        second["prev"],
        git_tombstone::id::sha256_hex(lines[0].as_bytes())
    );
    let err = assert_code(&repo.tomb(&["evidence", "digest", "9"]), 2, "no line");
    assert!(err.contains("no evidence line 9"), "{err}");
}

#[test]
fn store_location_can_be_overridden() {
    let repo = Repo::with_files(&[("a.txt", b"a")]);
    let elsewhere = repo.home.join("shared-store");
    let mut cmd = repo.command(TOMBSTONE);
    cmd.env("GIT_TOMBSTONE_STORE", &elsewhere)
        .args(["archive", "a.txt"]);
    assert_ok(
        &cmd.output().expect("run"),
        "archive with GIT_TOMBSTONE_STORE",
    );
    assert!(elsewhere.join("archive.sqlite").exists());
    assert!(!repo.store_dir().exists());
    repo.write(".tombstone.toml", b"[store]\npath = \"archive-store\"\n");
    assert_ok(&repo.tomb(&["init"]), "init with store.path");
    assert!(repo.path("archive-store/archive.sqlite").exists());
}
