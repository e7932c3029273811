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
    assert_eq!(version, 9);
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
    // git config tombstone.store, the user's own setting, is the other way to choose it.
    let configured = repo.home.join("configured-store");
    repo.git(&[
        "config",
        "tombstone.store",
        configured.to_str().expect("utf8"),
    ]);
    assert_ok(&repo.tomb(&["init"]), "init with tombstone.store");
    assert!(configured.join("archive.sqlite").exists());
}

// Regression (security finding 8): a committed `.tombstone.toml` could put the store anywhere,
// even inside the work tree, where `git add -A` then committed archive.sqlite and every deleted
// secret in it. The committed file no longer chooses; a store inside the work tree is refused.
#[test]
fn a_committed_policy_cannot_choose_the_store() {
    let repo = Repo::with_files(&[
        ("a0.txt", b"a"),
        ("a1.txt", b"b"),
        ("a2.txt", b"c"),
        ("creds.env", b"TOKEN=1\n"),
    ]);
    for (i, hostile) in ["docs/archive", "/tmp/elsewhere-store", "../../x"]
        .iter()
        .enumerate()
    {
        repo.write(
            ".tombstone.toml",
            format!("[store]\npath = {hostile:?}\n").as_bytes(),
        );
        let out = repo.tomb(&["archive", &format!("a{i}.txt")]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        assert!(err.contains("ignoring `store.path"), "{err}");
        assert!(!repo.path("docs/archive").exists(), "{hostile}");
        assert!(!std::path::Path::new("/tmp/elsewhere-store/archive.sqlite").exists());
    }
    assert!(
        repo.store_dir().join("archive.sqlite").exists(),
        "the default store was used"
    );
    // A store inside the work tree is refused, however the user names it.
    for inside in ["store-here", "./x/../store-here"] {
        let out = repo.tomb(&["--store", inside, "archive", "creds.env"]);
        let err = assert_code(&out, 2, "store in work tree");
        assert!(err.contains("tombstone::store::in_worktree"), "{err}");
    }
    repo.git(&["config", "tombstone.store", "docs/archive"]);
    let err = assert_code(
        &repo.tomb(&["archive", "creds.env"]),
        2,
        "config in work tree",
    );
    assert!(err.contains("tombstone::store::in_worktree"), "{err}");
    assert!(!repo.path("store-here").exists());
    assert!(!repo.path("docs/archive").exists());
    assert_eq!(repo.read("creds.env"), b"TOKEN=1\n", "nothing changed");
}

/// A broken policy: `init` keeps it but says so, `init --force` rewrites it from the template,
/// and the policy error's help names that command instead of sending the user in a circle.
#[test]
fn init_force_rewrites_a_broken_policy() {
    let repo = Repo::with_files(&[("a.txt", b"a")]);
    repo.write(".tombstone.toml", b"bogus_key = 1\n");
    let err = assert_code(&repo.tomb(&["archive", "a.txt"]), 2, "broken policy");
    let err = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        err.contains("bogus_key") && err.contains("git tombstone init --force"),
        "{err}"
    );
    let out = repo.tomb(&["init"]);
    assert_ok(&out, "init keeps it");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is invalid"));
    assert_eq!(repo.read(".tombstone.toml"), b"bogus_key = 1\n");
    assert_ok(&repo.tomb(&["init", "--force"]), "init --force");
    assert_eq!(
        repo.read(".tombstone.toml"),
        git_tombstone::policy::TEMPLATE.as_bytes()
    );
    assert_ok(
        &repo.tomb(&["archive", "a.txt"]),
        "the policy is valid again",
    );
}
