//! Hostile input (issue "Security"): crafted histories, stubs, archive branches, imports and
//! stores. Each test is one finding of the adversarial review, reproduced as an attack, and
//! shows it failing safely: a clear error and a documented exit code, nothing written outside
//! the work tree or into `.git`, and the store and index unchanged where the operation was
//! refused.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use crate::support::*;

/// Run git with `input` on stdin; returns stdout trimmed.
fn git_in(repo: &Repo, args: &[&str], input: &[u8]) -> String {
    let mut child = repo
        .command("git")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("git");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("feed git");
    let out = child.wait_with_output().expect("git");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A tree holding `leaf` (mode, blob) at `components`, built with `git mktree` (which, unlike
/// `git add`, accepts any name): what a crafted history looks like.
fn crafted_tree(repo: &Repo, components: &[&str], mode: &str, blob: &str) -> String {
    let (leaf, dirs) = components.split_last().expect("a path");
    let mut id = git_in(
        repo,
        &["mktree"],
        format!("{mode} blob {blob}\t{leaf}\n").as_bytes(),
    );
    for dir in dirs.iter().rev() {
        id = git_in(
            repo,
            &["mktree"],
            format!("040000 tree {id}\t{dir}\n").as_bytes(),
        );
    }
    id
}

/// Commits on `main`: one that adds `components` (next to README.md), one that removes it.
fn crafted_history(repo: &Repo, components: &[&str], mode: &str, content: &[u8]) {
    let blob = git_in(repo, &["hash-object", "-w", "--stdin"], content);
    let base = repo.git(&["rev-parse", "HEAD^{tree}"]).trim().to_owned();
    let evil = crafted_tree(repo, components, mode, &blob);
    let listing = repo.git(&["ls-tree", &base]);
    let (first, _) = components.split_first().expect("path");
    let kind = if components.len() == 1 {
        "blob"
    } else {
        "tree"
    };
    let entry_mode = if components.len() == 1 {
        mode
    } else {
        "040000"
    };
    let top_id = if components.len() == 1 {
        blob.clone()
    } else {
        git_in(repo, &["ls-tree", &evil], b"")
            .split_whitespace()
            .nth(2)
            .expect("id")
            .to_owned()
    };
    let with = git_in(
        repo,
        &["mktree"],
        format!("{listing}{entry_mode} {kind} {top_id}\t{first}\n").as_bytes(),
    );
    let head = repo.head();
    let c1 = git_in(repo, &["commit-tree", &with, "-p", &head, "-m", "add"], b"");
    let c2 = git_in(
        repo,
        &["commit-tree", &base, "-p", &c1, "-m", "remove"],
        b"",
    );
    repo.git(&["update-ref", "refs/heads/main", &c2]);
    repo.git(&["reset", "-q", "--hard", "main"]);
}

fn hook_file(repo: &Repo, name: &str) -> std::path::PathBuf {
    repo.root.join(".git").join("hooks").join(name)
}

// Finding 1 (critical): `scan` archived tree entries git refuses to check out, and restore then
// wrote `.git/hooks/post-checkout`, which the next `git checkout` ran.
#[test]
fn a_crafted_history_can_never_restore_into_git_dir_or_outside() {
    for components in [
        &[".git", "hooks", "post-checkout"][..],
        &[".GIT", "hooks", "post-checkout"],
        &["git~1", "hooks", "post-checkout"],
        &[".git.", "hooks", "post-checkout"],
        &["..", "..", "X"],
    ] {
        let repo = Repo::with_files(&[("README.md", b"hello\n")]);
        crafted_history(&repo, components, "100755", b"#!/bin/sh\ntouch pwned\n");
        let out = repo.tomb(&["--json", "scan", "--all", "--format", "json"]);
        let err = assert_code(&out, 1, "scan reports an unsafe path");
        let report: serde_json::Value = serde_json::from_str(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .expect("a report"),
        )
        .expect("json report");
        assert_eq!(
            report["unsafe_paths"].as_array().map(Vec::len),
            Some(1),
            "{components:?}: {report} {err}"
        );
        assert_eq!(repo.count("SELECT count(*) FROM items"), 0, "never an item");
        // SARIF names its own rule.
        let sarif = repo.tomb(&["scan", "--all", "--format", "sarif"]);
        let sarif: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("sarif");
        assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "TS002");
        // Nothing restorable: by id (derived as it would be) or by path.
        let path = components.join("/");
        let out = repo.restore(&[&path]);
        assert!(!out.status.success());
        assert!(!hook_file(&repo, "post-checkout").exists());
        repo.git(&["checkout", "-q", "-b", "x"]);
        assert!(!repo.path("pwned").exists());
        assert!(!repo.root.parent().expect("parent").join("X").exists());
    }
}

// Finding 2 (high): restore followed a symlinked parent directory out of the work tree.
#[test]
fn restore_never_writes_through_a_symlinked_directory() {
    let repo = Repo::with_files(&[("x/y.txt", b"secret\n"), ("keep", b"k")]);
    let out = repo.tomb(&["--json", "archive", "x/y.txt"]);
    assert_ok(&out, "archive");
    let id = json_lines(&out)[0]["items"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            repo.db()
                .query_row("SELECT id FROM items", [], |r| r.get(0))
                .expect("id")
        });
    repo.commit_all("archive");
    let outside = repo.home.join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::remove_dir_all(repo.path("x")).expect("rm x");
    std::os::unix::fs::symlink(&outside, repo.path("x")).expect("symlink");
    let before = repo.store_fingerprint();
    let index_before = repo.git(&["ls-files", "-s"]);
    for args in [vec![id.as_str()], vec![id.as_str(), "--force"]] {
        let out = repo.restore(&args);
        let err = assert_code(&out, 1, "refused");
        assert!(err.contains("symbolic link"), "{err}");
    }
    assert_eq!(std::fs::read_dir(&outside).expect("ls").count(), 0);
    assert_eq!(repo.store_fingerprint(), before, "store unchanged");
    assert_eq!(
        repo.git(&["ls-files", "-s"]),
        index_before,
        "index unchanged"
    );
}

// Finding 3 (high): an imported record with `content: null` and a forged size made every later
// read allocate that size and abort (exit 134).
#[test]
fn a_forged_size_never_reaches_an_allocation() {
    let repo = Repo::with_files(&[("a.txt", b"real content\n")]);
    assert_ok(&repo.tomb(&["archive", "a.txt"]), "archive");
    repo.commit_all("archive");
    let exported = repo.home.join("x.jsonl");
    assert_ok(
        &repo.tomb(&["export", "--jsonl", exported.to_str().expect("utf8")]),
        "export",
    );
    // A fresh store imports the record without content and with a forged size: refused.
    let other = Repo::with_files(&[("b.txt", b"b")]);
    let text = std::fs::read_to_string(&exported).expect("read");
    let mut forged = String::new();
    for line in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("json");
        if v["type"] == "item" {
            v["content"] = serde_json::Value::Null;
            v["encoding"] = serde_json::Value::Null;
            v["size"] = serde_json::json!(4611686018427387904u64);
        }
        forged.push_str(&v.to_string());
        forged.push('\n');
    }
    let file = other.home.join("forged.jsonl");
    std::fs::write(&file, forged).expect("write");
    let err = assert_code(
        &other.tomb(&["import", file.to_str().expect("utf8")]),
        1,
        "forged size",
    );
    assert!(err.contains("out of range"), "{err}");
    // The same size written into SQLite by hand: verify reports it, never aborts.
    repo.db()
        .execute("UPDATE blobs SET size = 4611686018427387904", [])
        .expect("tamper");
    let out = repo.tomb(&["verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("limit") || text.contains("differs"), "{text}");
    // Restore does not abort either: the store's copy is refused as damaged, and the bytes
    // come from the git object database, verified against the record.
    let out = repo.restore(&["a.txt"]);
    assert_ok(&out, "restore falls back to git");
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"));
    assert_eq!(repo.read("a.txt"), b"real content\n");
}

// Finding 4 (medium): archive-branch records were trusted by id, so a forged record with a
// legitimate id planted a path in a fresh clone.
#[test]
fn forged_archive_branch_records_are_ignored() {
    let repo = Repo::with_files(&[("a.txt", b"a\n")]);
    // A branch that holds one record whose id was never derived, and one whose id belongs
    // to another path.
    let sha = git_tombstone::id::sha256_hex(b"evil\n");
    let blob = git_in(&repo, &["hash-object", "-w", "--stdin"], b"evil\n");
    let commit = repo.head();
    let real_id = git_tombstone::id::tombstone_id(b"a.txt", &sha, &commit);
    let record = |id: &str, path: &str| {
        serde_json::json!({
            "id": id, "path": path,
            "path_bytes_hex": git_tombstone::id::hex(path.as_bytes()),
            "sha256": sha, "size": 5, "mode": "100755", "source_commit": commit,
            "git_blob_id": blob, "archived_at": "2099-01-01T00:00:00Z", "state": "archived",
        })
        .to_string()
    };
    let items = format!(
        "{}\n{}\n",
        record("tb_00000000000000000000", "planted.sh"),
        record(&real_id, "b/planted.sh")
    );
    let items_blob = git_in(&repo, &["hash-object", "-w", "--stdin"], items.as_bytes());
    let shards = format!("blobs/{}/{sha}", &sha[..2]);
    let _ = shards;
    let items_tree = git_in(
        &repo,
        &["mktree"],
        format!("100644 blob {items_blob}\tforged.jsonl\n").as_bytes(),
    );
    let root = git_in(
        &repo,
        &["mktree"],
        format!("040000 tree {items_tree}\titems\n").as_bytes(),
    );
    let c = git_in(&repo, &["commit-tree", &root, "-m", "forged"], b"");
    repo.git(&["update-ref", "refs/heads/tombstone-archive", &c]);
    for target in ["tb_00000000000000000000", real_id.as_str(), "b/planted.sh"] {
        let out = repo.restore(&[target]);
        assert!(!out.status.success(), "{target}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("ignoring archive-branch record") || err.contains("nothing archived"),
            "{target}: {err}"
        );
    }
    assert!(!repo.path("planted.sh").exists());
    assert!(!repo.path("b/planted.sh").exists());
}

// Finding 5 (medium): decompression bombs in import took gigabytes.
#[test]
fn import_rejects_decompression_bombs() {
    let repo = Repo::with_files(&[("a.txt", b"a")]);
    // 256 MiB of zeros in about 256 KiB of gzip: no newline, so one "record" past the limit.
    let file = repo.home.join("bomb.jsonl.gz");
    let f = std::fs::File::create(&file).expect("create");
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        gz.write_all(&zeros).expect("write");
    }
    gz.finish().expect("finish");
    let before = repo.store_fingerprint();
    let err = assert_code(
        &repo.tomb(&["import", file.to_str().expect("utf8")]),
        1,
        "bomb",
    );
    assert!(
        err.contains("longer than") || err.contains("expands"),
        "{err}"
    );
    assert_eq!(repo.store_fingerprint(), before);
    // Corrupt gzip and invalid UTF-8 are rejected input (1), not internal errors (3).
    let corrupt = repo.home.join("corrupt.jsonl.gz");
    std::fs::write(&corrupt, b"\x1f\x8b\x08\x00garbage").expect("write");
    assert_code(
        &repo.tomb(&["import", corrupt.to_str().expect("utf8")]),
        1,
        "corrupt gzip",
    );
    let latin = repo.home.join("latin.jsonl");
    std::fs::write(&latin, b"{\"type\":\"header\xff\"}\n").expect("write");
    assert_code(
        &repo.tomb(&["import", latin.to_str().expect("utf8")]),
        1,
        "not UTF-8",
    );
}

// Finding 6 (medium): the hook wrote a stub through a symlink staged in the same commit.
#[test]
fn the_hook_never_writes_a_stub_through_a_staged_symlink() {
    let repo = Repo::with_files(&[("x/y.txt", b"content\n"), ("keep", b"k")]);
    assert_ok(&repo.tomb(&["install"]), "install");
    let outside = repo.home.join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    repo.git(&["rm", "-q", "x/y.txt"]);
    std::os::unix::fs::symlink(&outside, repo.path("x")).expect("symlink");
    repo.git(&["add", "x"]);
    repo.git(&["commit", "-q", "-m", "x becomes a link"]);
    assert_eq!(std::fs::read_dir(&outside).expect("ls").count(), 0);
    let tree = repo.git(&["ls-tree", "-r", "HEAD"]);
    assert!(
        tree.contains("120000"),
        "the user's symlink was committed: {tree}"
    );
    assert!(!tree.contains("x/y.txt"), "{tree}");
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE path = CAST('x/y.txt' AS BLOB)"),
        1,
        "the content was still archived"
    );
}

// Finding 7 (medium): verify passed after the tables were tampered with.
#[test]
fn verify_catches_tampering_with_the_tables() {
    let tampers = [
        "UPDATE items SET state = 'purged'",
        "UPDATE items SET legal_hold = 1",
        "UPDATE items SET path = CAST('.git/hooks/post-checkout' AS BLOB)",
        "UPDATE items SET mode = '100755'",
        "DELETE FROM items",
        "UPDATE blobs SET bytes = NULL",
        "DELETE FROM blobs",
        "UPDATE items SET size = size + 1",
    ];
    for sql in tampers {
        let repo = Repo::with_files(&[("a.txt", b"original\n")]);
        assert_ok(&repo.tomb(&["archive", "a.txt"]), "archive");
        repo.commit_all("archive");
        assert_ok(&repo.tomb(&["verify"]), "clean store verifies");
        repo.db()
            .execute_batch(&format!("PRAGMA foreign_keys = OFF; {sql}"))
            .expect(sql);
        let out = repo.tomb(&["verify"]);
        assert_eq!(out.status.code(), Some(1), "{sql}: {out:?}");
        let out = repo.tomb(&["evidence", "verify"]);
        assert_eq!(out.status.code(), Some(1), "evidence verify, {sql}");
    }
    // A swapped blob with a consistent hash and size: the item no longer matches its line.
    let repo = Repo::with_files(&[("a.txt", b"original\n")]);
    assert_ok(&repo.tomb(&["archive", "a.txt"]), "archive");
    let fake = b"forged!!!\n";
    let sha = git_tombstone::id::sha256_hex(fake);
    let db = repo.db();
    db.execute(
        "INSERT INTO blobs (sha256, size, compression, stored_size, bytes, created_at)
         VALUES (?1, ?2, 'none', ?2, ?3, 'x')",
        rusqlite::params![sha, fake.len() as i64, fake.to_vec()],
    )
    .expect("insert");
    db.execute(
        "UPDATE items SET sha256 = ?1, size = ?2",
        rusqlite::params![sha, fake.len() as i64],
    )
    .expect("swap");
    assert_eq!(
        repo.tomb(&["verify"]).status.code(),
        Some(1),
        "swapped content"
    );
}

// Finding 9 (medium): a stub could name another path, and restore wrote that path.
#[test]
fn a_stub_restores_only_the_path_it_stands_at() {
    let repo = Repo::with_files(&[("b/planted.sh", b"#!/bin/sh\n"), ("docs/a.sh", b"doc\n")]);
    assert_ok(&repo.tomb(&["archive", "b/planted.sh"]), "archive");
    let stub = repo.read("b/planted.sh.tombstone");
    std::fs::remove_file(repo.path("b/planted.sh.tombstone")).expect("rm");
    let parsed =
        git_tombstone::stub::Stub::parse(b"b/planted.sh.tombstone", &stub).expect("a stub");
    for at in ["docs/a.sh.tombstone", "docs/a.sh"] {
        // The same stub, written as a sidecar and as an in-place stub (comment syntax of .sh).
        repo.write(at, &parsed.render(at.as_bytes()).expect("render"));
        let err = assert_code(&repo.tomb(&["stub", "check", at]), 1, "stub check");
        assert!(err.contains("names another path"), "{err}");
        let out = repo.restore(&["docs/a.sh"]);
        assert!(!out.status.success());
        assert!(!repo.path("b/planted.sh").exists());
        std::fs::remove_file(repo.path(at)).expect("rm");
    }
}

// Finding 10 (low): on a read-only store, restore wrote and staged the file, then failed.
#[test]
fn restore_on_a_read_only_store_changes_nothing() {
    let repo = Repo::with_files(&[("a.txt", b"content\n")]);
    assert_ok(&repo.tomb(&["archive", "a.txt"]), "archive");
    repo.commit_all("archive");
    let stub = repo.read("a.txt.tombstone");
    let index_before = repo.git(&["ls-files", "-s"]);
    // A store the restore cannot write: every file read-only, and the directory too.
    let store = repo.store_dir();
    for e in std::fs::read_dir(&store).expect("ls").flatten() {
        std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o444)).expect("chmod");
    }
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    // Root ignores permission bits; the failpoint makes the last step fail the same way.
    let mut cmd = repo.command(RESTORE);
    cmd.env("GIT_TOMBSTONE_FAILPOINT", "error:restore:after-write")
        .arg("a.txt");
    let out = cmd.output().expect("run");
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for e in std::fs::read_dir(&store).expect("ls").flatten() {
        std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(repo.read("a.txt.tombstone"), stub, "the stub is back");
    assert!(!repo.path("a.txt").exists(), "the file is not");
    assert_eq!(
        repo.git(&["ls-files", "-s"]),
        index_before,
        "index unchanged"
    );
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE state = 'restored'"),
        0
    );
    assert!(!repo
        .evidence_lines()
        .iter()
        .any(|l| l.contains("\"restore\"")));
}

// Finding 11 (low): names of 236-255 bytes could not be deleted with the hooks installed (the
// temporary name passed NAME_MAX).
#[test]
fn long_names_can_be_deleted_with_the_hooks() {
    let name = format!("{}.py", "n".repeat(252));
    let repo = Repo::with_files(&[(name.as_str(), b"x\n")]);
    assert_ok(&repo.tomb(&["install"]), "install");
    repo.git(&["rm", "-q", &name]);
    repo.git(&["commit", "-q", "-m", "delete"]);
    // A sidecar name would pass 255 bytes: the stub stays in place.
    assert!(repo.read(&name).starts_with(b"#"), "the stub is there");
}

// Finding 14 (low): import accepted bad modes, negative sizes, non-hex commits, duplicate ids,
// unknown header versions and a missing header.
#[test]
fn import_rejects_what_it_cannot_re_derive() {
    let repo = Repo::with_files(&[("a.txt", b"a\n")]);
    assert_ok(&repo.tomb(&["archive", "a.txt"]), "archive");
    let exported = repo.home.join("x.jsonl");
    assert_ok(
        &repo.tomb(&["export", "--jsonl", exported.to_str().expect("utf8")]),
        "export",
    );
    let text = std::fs::read_to_string(&exported).expect("read");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let item = lines
        .iter()
        .find(|v| v["type"] == "item")
        .expect("item")
        .clone();
    let header = lines[0].clone();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut i = item.clone();
        f(&mut i);
        format!("{header}\n{i}\n")
    };
    let cases: Vec<(&str, String)> = vec![
        ("mode 040000", with(&|i| i["mode"] = "040000".into())),
        ("mode 160000", with(&|i| i["mode"] = "160000".into())),
        ("mode abc", with(&|i| i["mode"] = "abc".into())),
        ("negative size", with(&|i| i["size"] = (-1).into())),
        (
            "non-hex commit",
            with(&|i| i["source_commit"] = "zz".into()),
        ),
        ("duplicate ids", format!("{header}\n{item}\n{item}\n")),
        ("no header", format!("{item}\n")),
        (
            "version 99",
            format!("{}\n{item}\n", {
                let mut h = header.clone();
                h["version"] = 99.into();
                h
            }),
        ),
    ];
    let other = Repo::with_files(&[("b.txt", b"b")]);
    for (what, body) in cases {
        let file = other.home.join("case.jsonl");
        std::fs::write(&file, body).expect("write");
        let before = other.store_fingerprint();
        assert_code(
            &other.tomb(&["import", file.to_str().expect("utf8")]),
            1,
            what,
        );
        assert_eq!(other.store_fingerprint(), before, "{what}: nothing written");
    }
}

// Finding 15 (low): a killed hook left `<path>.<pid>.tombstone-tmp` files forever.
#[test]
fn leftover_temporaries_are_cleaned_by_the_next_run() {
    let repo = Repo::with_files(&[("d/a.py", b"a\n"), ("d/b.py", b"b\n")]);
    assert_ok(&repo.tomb(&["install"]), "install");
    repo.write("d/a.py.999999999.tombstone-tmp", b"half");
    repo.write("d/.tbtmp-999999999-0", b"half");
    repo.git(&["rm", "-q", "d/b.py"]);
    repo.git(&["commit", "-q", "-m", "delete"]);
    assert!(!repo.path("d/a.py.999999999.tombstone-tmp").exists());
    assert!(!repo.path("d/.tbtmp-999999999-0").exists());
}

// Finding 16 (low): a hand-edited `mode 100755` in a stub passed and restored an executable.
#[test]
fn a_stubs_mode_is_taken_from_the_source_commit() {
    let repo = Repo::with_files(&[("tool.py", b"print(1)\n")]);
    assert_ok(&repo.tomb(&["archive", "tool.py"]), "archive");
    repo.commit_all("archive");
    let stub = String::from_utf8(repo.read("tool.py.tombstone")).expect("utf8");
    repo.write(
        "tool.py.tombstone",
        stub.replace("mode 100644", "mode 100755").as_bytes(),
    );
    // A fresh clone has no store: the stub and the git objects are all it has.
    std::fs::remove_dir_all(repo.store_dir()).expect("rm store");
    let out = repo.restore(&["tool.py", "--force"]);
    assert_ok(&out, "restore");
    let mode = std::fs::metadata(repo.path("tool.py"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0, "not executable");
}

// Finding 12 (low): `scan --all` in a shallow clone failed with `missing_object` (exit 3).
#[test]
fn a_shallow_scan_stops_at_the_boundary_and_says_so() {
    let origin = Repo::with_files(&[("old.txt", b"old\n"), ("new.txt", b"new\n"), ("k", b"k")]);
    origin.git(&["rm", "-q", "old.txt"]);
    origin.git(&["commit", "-q", "-m", "delete old"]);
    for i in 0..3 {
        origin.write("k", format!("{i}").as_bytes());
        origin.commit_all("change");
    }
    origin.git(&["rm", "-q", "new.txt"]);
    origin.git(&["commit", "-q", "-m", "delete new"]);
    let clone = Repo::empty();
    let url = format!("file://{}", origin.root.display());
    std::fs::remove_dir_all(&clone.root).expect("rm");
    let out = clone
        .command("git")
        .current_dir(&clone.home)
        .args(["clone", "-q", "--depth", "2", &url])
        .arg(&clone.root)
        .output()
        .expect("clone");
    assert!(out.status.success(), "{out:?}");
    let out = clone.tomb(&["--json", "scan", "--all"]);
    assert_ok(&out, "shallow scan");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shallow"), "{err}");
    assert_eq!(
        clone.count("SELECT count(*) FROM items WHERE path = CAST('new.txt' AS BLOB)"),
        1
    );
    assert_eq!(
        clone.count("SELECT count(*) FROM items"),
        1,
        "old.txt is beyond the boundary"
    );
}

// Finding 13 (low): a SHA-256 repository was "not inside a git repository", and with the hooks
// every commit was refused without a way out.
#[test]
fn sha256_repositories_get_a_clear_not_supported_error() {
    let repo = Repo::empty();
    let dir = repo.home.join("sha256");
    repo.git(&[
        "init",
        "-q",
        "--object-format=sha256",
        dir.to_str().expect("utf8"),
    ]);
    let mut cmd = repo.command(TOMBSTONE);
    let out = cmd.current_dir(&dir).arg("list").output().expect("run");
    let err = assert_code(&out, 2, "sha256");
    assert!(err.contains("tombstone::git::object_format"), "{err}");
    assert!(err.contains("GIT_TOMBSTONE_SKIP"), "{err}");
}

// Finding 17 (low): stubs were written into the work tree outside the sparse cone.
#[test]
fn a_sparse_checkout_gets_no_stub_outside_its_cone() {
    let repo = Repo::with_files(&[
        ("inside/a.txt", b"a\n"),
        ("outside/b.txt", b"b\n"),
        ("outside/c.txt", b"c\n"),
        ("top.txt", b"t\n"),
    ]);
    assert_ok(&repo.tomb(&["install"]), "install");
    repo.git(&["sparse-checkout", "set", "inside"]);
    assert!(!repo.path("outside").exists(), "git left the cone out");
    repo.git(&["rm", "-q", "--sparse", "outside/b.txt"]);
    repo.git(&["rm", "-q", "inside/a.txt"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "delete one file in and one out of the cone",
    ]);
    assert!(
        !repo.path("outside").exists(),
        "nothing was written outside the cone"
    );
    // inside/ was deleted whole: one directory tombstone beside it.
    let inside = String::from_utf8(repo.read("inside.tombstone")).expect("utf8");
    assert!(inside.contains("git-tombstone v2 directory"), "{inside}");
    let stub = repo.git(&["show", "HEAD:outside/b.txt.tombstone"]);
    assert!(stub.contains("tb_"), "the commit records the stub: {stub}");
    let listed = repo.git(&[
        "ls-files",
        "-t",
        "outside/b.txt.tombstone",
        "inside.tombstone",
    ]);
    assert!(
        listed.contains("S outside/b.txt.tombstone") && listed.contains("H inside.tombstone"),
        "the stub outside is skip-worktree, as git keeps such files: {listed}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "", "clean");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 2);
}

// Finding 18 (low): capturing a large file held several copies of it. Large content is now
// compressed as a stream and written into SQLite in chunks; what is checked here is that it
// round-trips exactly, compressible or not (peak RSS is measured by bench/memory.py).
#[test]
fn large_files_are_captured_streaming_and_restore_exactly() {
    let mut mixed = Vec::with_capacity(12 << 20);
    let mut noise = Vec::with_capacity(6 << 20);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while noise.len() < 6 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    for i in 0..12 {
        if i % 2 == 0 {
            mixed.extend_from_slice(&noise[(i / 2) << 20..((i / 2) + 1) << 20]);
        } else {
            mixed.extend(std::iter::repeat_n(b'z', 1 << 20));
        }
    }
    let repo = Repo::with_files(&[("big/mixed.bin", &mixed), ("big/noise.bin", &noise)]);
    repo.write(".tombstone.toml", b"max_file_size = 67108864\n");
    let out = repo.tomb(&["--json", "archive", "big/mixed.bin", "big/noise.bin"]);
    assert_ok(&out, "archive");
    let rows = json_lines(&out);
    let stored = |p: &str| {
        rows.iter()
            .find(|r| r["path"] == p)
            .map(|r| r["bytes"]["stored"].as_u64().expect("stored"))
            .expect("row")
    };
    assert!(stored("big/mixed.bin") < (9 << 20), "compressed");
    assert_eq!(stored("big/noise.bin"), 6 << 20, "kept raw");
    repo.commit_all("archive");
    assert_ok(&repo.tomb(&["verify"]), "verify");
    for (path, bytes) in [("big/mixed.bin", &mixed), ("big/noise.bin", &noise)] {
        assert_ok(&repo.restore(&[path, "--force"]), "restore");
        assert!(repo.read(path) == *bytes, "{path} restored exactly");
    }
}

// `scan --write-stubs` goes through the same staging path as the hook: outside a sparse
// checkout's cone, the missing stub is committed but never written into the work tree.
#[test]
fn write_stubs_keeps_out_of_a_sparse_checkouts_work_tree() {
    let repo = Repo::with_files(&[("inside/a.txt", b"a\n"), ("outside/b.txt", b"b\n")]);
    repo.git(&["sparse-checkout", "set", "inside"]);
    repo.git(&["rm", "-q", "--sparse", "outside/b.txt"]);
    repo.git(&["commit", "-qm", "deleted without the hook"]);
    assert_ok(&repo.tomb(&["scan", "--write-stubs"]), "write stubs");
    let stub = repo.git(&["show", "HEAD:outside/b.txt.tombstone"]);
    assert!(stub.contains("tb_"), "the commit has the stub: {stub}");
    assert!(
        !repo.path("outside").exists(),
        "nothing was written outside the cone"
    );
    let listed = repo.git(&["ls-files", "-t", "outside/b.txt.tombstone"]);
    assert!(listed.starts_with("S "), "skip-worktree: {listed}");
    assert_eq!(repo.git(&["status", "--porcelain"]), "", "clean");
}
