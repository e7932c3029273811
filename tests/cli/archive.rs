//! `git tombstone archive`.

use crate::support::*;
use git_tombstone::stub::Stub;

fn archive_json(repo: &Repo, args: &[&str]) -> Vec<serde_json::Value> {
    let args: Vec<&str> = std::iter::once("--json")
        .chain(args.iter().copied())
        .collect();
    let out = repo.tomb(&args);
    assert_ok(&out, &format!("archive {args:?}"));
    json_lines(&out)
}

#[test]
fn archive_replaces_the_file_by_its_stub_in_worktree_and_index() {
    let repo = Repo::with_files(&[("src/old.py", b"def old():\n    return 1\n")]);
    let head = repo.head();
    let results = archive_json(
        &repo,
        &[
            "archive",
            "src/old.py",
            "--reason",
            "retired",
            "--tag",
            "legacy",
            "--metadata",
            "ticket=OPS-1234",
        ],
    );
    assert_eq!(results.len(), 1);
    let r = &results[0];
    let id = r["id"].as_str().expect("id");
    assert_eq!(r["path"], "src/old.py");
    assert_eq!(r["state"], "pending");
    assert_eq!(r["bytes"]["raw"], 24);
    assert_eq!(
        r["sha256"],
        git_tombstone::id::sha256_hex(b"def old():\n    return 1\n")
    );

    // The default: a sidecar beside the path, which no build tool picks up; the file goes.
    let stub_bytes = repo.read("src/old.py.tombstone");
    let stub =
        Stub::parse(b"src/old.py.tombstone", &stub_bytes).expect("work tree holds a valid stub");
    assert_eq!(stub.id, id);
    assert_eq!(stub.path, b"src/old.py");
    assert_eq!(stub.source_commit, head);
    assert_eq!(stub.reason, "retired");
    assert_eq!(
        repo.staged("src/old.py.tombstone"),
        stub_bytes,
        "the stub is staged"
    );
    assert!(!repo.path("src/old.py").exists(), "the file is gone");
    assert_eq!(repo.git(&["ls-files", "src/old.py"]), "", "and unstaged");

    let db = repo.db();
    let (tags, metadata, actor, category): (String, String, String, String) = db
        .query_row(
            "SELECT tags, metadata, actor, category FROM items WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("item row");
    assert_eq!(tags, r#"["legacy"]"#);
    assert_eq!(metadata, r#"{"ticket":"OPS-1234"}"#);
    assert_eq!(actor, "Cid Committer <cid@example.com>");
    assert_eq!(category, "code");
}

#[test]
fn paths_are_processed_in_byte_order_and_deduplicated() {
    let repo = Repo::with_files(&[("b.txt", b"b"), ("a.txt", b"a"), ("C.txt", b"c")]);
    let results = archive_json(&repo, &["archive", "b.txt", "a.txt", "C.txt", "./a.txt"]);
    let paths: Vec<&str> = results
        .iter()
        .map(|r| r["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, ["C.txt", "a.txt", "b.txt"]);
    let seqs: Vec<i64> = results
        .iter()
        .map(|r| r["evidence_seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[test]
fn identical_content_is_stored_once() {
    let repo = Repo::with_files(&[("a.txt", b"same bytes\n"), ("b.txt", b"same bytes\n")]);
    archive_json(&repo, &["archive", "a.txt", "b.txt"]);
    assert_eq!(repo.count("SELECT count(*) FROM items"), 2);
    assert_eq!(repo.count("SELECT count(*) FROM blobs"), 1);
}

#[test]
fn a_bad_path_among_good_ones_writes_nothing() {
    let repo = Repo::with_files(&[("a.txt", b"a"), ("big.txt", &[b'x'; 300])]);
    repo.write(".tombstone.toml", b"max_file_size = 100\n");
    let out = repo.tomb(&["archive", "a.txt", "big.txt"]);
    let err = assert_code(&out, 2, "too large");
    assert!(err.contains("larger than max_file_size"), "{err}");
    assert_eq!(repo.read("a.txt"), b"a", "a.txt untouched");
    assert!(
        !repo.store_dir().join("archive.sqlite").exists(),
        "no store written"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain", "--", "a.txt", "big.txt"]),
        ""
    );
}

#[test]
fn refusals_have_clear_errors_and_exit_2() {
    let repo = Repo::with_files(&[("src/a.py", b"x = 1\n"), ("src/b.py", b"y = 2\n")]);
    repo.write("untracked.py", b"new\n");
    let cases: &[(&[&str], &str)] = &[
        (&["archive", "untracked.py"], "is not tracked"),
        (&["archive", "src"], "is a directory"),
        (&["archive", "../elsewhere.py"], "outside the repository"),
        (&["archive", "/etc/passwd"], "outside the repository"),
        (
            &["archive", "src/a.py", "--reason", "two\nlines"],
            "control characters",
        ),
        (
            &["archive", "src/a.py", "--metadata", "novalue"],
            "not KEY=VALUE",
        ),
        (
            &["archive", "src/a.py", "--commit", "no-such-rev"],
            "does not name a commit",
        ),
    ];
    for (args, expected) in cases {
        let out = repo.tomb(args);
        let err = assert_code(&out, 2, &format!("{args:?}"));
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    // Uncommitted edits would be lost under the stub: refused.
    repo.write("src/b.py", b"y = 3  # edited\n");
    let err = assert_code(&repo.tomb(&["archive", "src/b.py"]), 2, "uncommitted");
    assert!(err.contains("changes that are not in"), "{err}");
    assert_eq!(repo.read("src/b.py"), b"y = 3  # edited\n");
    // Staged but uncommitted changes: refused too.
    repo.git(&["add", "src/b.py"]);
    repo.write("src/b.py", b"y = 2\n");
    let err = assert_code(&repo.tomb(&["archive", "src/b.py"]), 2, "staged");
    assert!(err.contains("staged changes"), "{err}");
    assert!(
        !repo.store_dir().join("archive.sqlite").exists(),
        "nothing was stored"
    );
}

#[test]
fn in_place_stubs_are_a_policy_choice_per_glob() {
    let repo = Repo::with_files(&[("docs/a.md", b"# a\n"), ("src/b.py", b"b = 1\n")]);
    repo.write(
        ".tombstone.toml",
        b"[[rules]]\npaths = [\"docs/**\"]\nplacement = \"in-place\"\n",
    );
    archive_json(&repo, &["archive", "docs/a.md", "src/b.py"]);
    let in_place = repo.read("docs/a.md");
    assert!(
        in_place.starts_with(b"<!-- git-tombstone v1 -->"),
        "comment syntax of Markdown"
    );
    assert!(!repo.path("docs/a.md.tombstone").exists());
    assert!(repo
        .read("src/b.py.tombstone")
        .starts_with(b"git-tombstone v1"));
    assert!(!repo.path("src/b.py").exists());
}

#[test]
fn archiving_a_stub_again_is_refused() {
    let repo = Repo::with_files(&[("a.py", b"x\n")]);
    archive_json(&repo, &["archive", "a.py"]);
    let err = assert_code(&repo.tomb(&["archive", "a.py"]), 2, "again before commit");
    assert!(err.contains("already a stub"), "{err}");
    repo.commit_all("stub");
    let err = assert_code(&repo.tomb(&["archive", "a.py"]), 2, "again after commit");
    assert!(err.contains("not tracked"), "{err}");
    let err = assert_code(
        &repo.tomb(&["archive", "a.py.tombstone"]),
        2,
        "the tombstone itself",
    );
    assert!(err.contains("already a stub"), "{err}");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1);
}

#[test]
fn empty_repository_has_nothing_to_archive() {
    let repo = Repo::empty();
    repo.write("a.txt", b"a");
    let err = assert_code(&repo.tomb(&["archive", "a.txt"]), 2, "unborn");
    assert!(
        err.contains("does not name a commit") || err.contains("unborn"),
        "{err}"
    );
    // Read-only commands work on an empty repository.
    assert_ok(&repo.tomb(&["list"]), "list");
    assert_ok(&repo.tomb(&["verify"]), "verify");
    assert_ok(&repo.tomb(&["bind"]), "bind");
}

#[test]
fn policy_archive_action_stages_a_deletion_and_ignore_is_refused() {
    let repo = Repo::with_files(&[("logs/run.log", b"line\n"), ("vendor/x.c", b"int x;\n")]);
    repo.write(".tombstone.toml", b"[[rules]]\npaths = [\"vendor/**\"]\naction = \"ignore\"\n[[rules]]\npaths = [\"logs/**\"]\naction = \"archive\"\ncategory = \"logs\"\n");
    let r = archive_json(&repo, &["archive", "logs/run.log"]);
    assert_eq!(r[0]["action"], "archive");
    assert_eq!(r[0]["category"], "logs");
    assert!(!repo.path("logs/run.log").exists());
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-status"]),
        "D\tlogs/run.log\n"
    );
    let err = assert_code(&repo.tomb(&["archive", "vendor/x.c"]), 2, "ignored");
    assert!(err.contains("policy ignores"), "{err}");
}

#[test]
fn a_bad_policy_file_points_at_the_line() {
    let repo = Repo::with_files(&[("a.py", b"x\n")]);
    repo.write(
        ".tombstone.toml",
        b"version = 1\n\n[[rules]]\npaths = [\"src/[\"]\n",
    );
    let err = assert_code(&repo.tomb(&["archive", "a.py"]), 2, "bad policy");
    assert!(err.contains("bad glob"), "{err}");
    assert!(err.contains(".tombstone.toml:4"), "points at line 4: {err}");
    let out = repo.tomb(&["--json", "archive", "a.py"]);
    let err = assert_code(&out, 2, "bad policy json");
    let v: serde_json::Value = serde_json::from_str(err.trim()).expect("JSON error");
    assert_eq!(v["error"]["code"], "tombstone::policy::invalid");
}

#[test]
fn an_unwritable_store_is_a_clear_error_and_leaves_the_tree_alone() {
    let repo = Repo::with_files(&[("a.py", b"x\n")]);
    // A store path below a regular file can never be created (even by root, unlike chmod).
    // Outside the work tree: a store inside it is refused outright (tests/cli/security.rs).
    let file = repo.home.join("not-a-dir");
    std::fs::write(&file, b"file").expect("write");
    let store = file.join("store");
    let out = repo.tomb(&["--store", store.to_str().expect("utf8"), "archive", "a.py"]);
    let err = assert_code(&out, 2, "unwritable store");
    assert!(err.contains("cannot create the store"), "{err}");
    assert_eq!(repo.read("a.py"), b"x\n");
    assert_eq!(repo.git(&["status", "--porcelain", "--", "a.py"]), "");
}

#[test]
fn special_files_round_trip_through_archive_and_restore() {
    let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let repo = Repo::with_files(&[
        ("empty.txt", b""),
        ("blob.bin", &binary),
        ("run.sh", b"#!/bin/sh\necho hi\n"),
    ]);
    std::fs::set_permissions(
        repo.path("run.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("run.sh", repo.path("link")).expect("symlink");
    let odd: &[u8] = b"caf\xe9 na\xefve.py";
    std::fs::write(repo.path(os(odd)), b"print('latin-1 name')\n").expect("write odd name");
    repo.commit_all("special files");

    let mut args: Vec<&std::ffi::OsStr> = [
        "--json",
        "archive",
        "empty.txt",
        "blob.bin",
        "run.sh",
        "link",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .collect();
    args.push(os(odd));
    let out = repo.tomb_os(&args);
    assert_ok(&out, "archive special files");
    let results = json_lines(&out);
    assert_eq!(results.len(), 5);
    assert!(
        !repo.path("link").is_symlink(),
        "the symlink is replaced by a stub file"
    );
    repo.commit_all("stubs");
    assert_ok(&repo.tomb(&["bind"]), "bind");

    for (path, _) in [
        ("empty.txt", 0),
        ("blob.bin", 0),
        ("run.sh", 0),
        ("link", 0),
    ] {
        assert_ok(&repo.restore(&[path]), &format!("restore {path}"));
    }
    let out = repo
        .command(RESTORE)
        .arg(os(odd))
        .output()
        .expect("restore odd");
    assert_ok(&out, "restore non-UTF-8 path");
    assert_eq!(repo.read("empty.txt"), b"");
    assert_eq!(repo.read("blob.bin"), binary);
    assert_eq!(
        std::fs::read(repo.path(os(odd))).expect("odd"),
        b"print('latin-1 name')\n"
    );
    let mode = std::fs::metadata(repo.path("run.sh"))
        .expect("meta")
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o111,
        0o111,
        "executable again"
    );
    assert_eq!(
        std::fs::read_link(repo.path("link")).expect("a symlink again"),
        std::path::Path::new("run.sh")
    );
    // Restores are staged with their original modes.
    let ls = repo.git(&["ls-files", "-s", "run.sh", "link"]);
    assert!(ls.contains("100755") && ls.contains("120000"), "{ls}");
    let binary_row: (i64, Option<i64>) = repo
        .db()
        .query_row(
            "SELECT binary, lines FROM items WHERE path = CAST('blob.bin' AS BLOB)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!(binary_row, (1, None));
}

#[test]
fn submodules_are_refused() {
    let repo = Repo::with_files(&[("a.txt", b"a")]);
    let head = repo.head();
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},sub"),
    ]);
    repo.git(&["commit", "-qm", "gitlink"]);
    let err = assert_code(&repo.tomb(&["archive", "sub"]), 2, "gitlink");
    assert!(err.contains("submodule"), "{err}");
}

#[test]
fn works_from_a_subdirectory_and_through_git() {
    let repo = Repo::with_files(&[("src/deep/a.rs", b"fn a() {}\n")]);
    let out = repo
        .command("git")
        .current_dir(repo.path("src"))
        .args([
            "tombstone",
            "archive",
            "deep/a.rs",
            "--by",
            "ops@example.com",
        ])
        .output()
        .expect("git tombstone");
    assert_ok(&out, "git tombstone archive from a subdirectory");
    let stub = repo.read("src/deep/a.rs.tombstone");
    assert!(
        stub.starts_with(b"git-tombstone v1\n"),
        "{}",
        String::from_utf8_lossy(&stub)
    );
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE actor = 'ops@example.com'"),
        1
    );
}

// Archive, the hook and `scan --write-stubs` share one staging path (src/staging.rs): a stage
// that fails takes the stubs it wrote back out, and the file that was to go stays.
#[test]
fn a_failed_stage_leaves_the_work_tree_and_the_index_as_they_were() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]);
    let out = repo
        .command(TOMBSTONE)
        .env("GIT_TOMBSTONE_FAILPOINT", "error:archive:after-worktree")
        .args(["archive", "a.py", "b.py"])
        .output()
        .expect("run");
    let err = assert_code(&out, 3, "injected stage failure");
    assert!(err.contains("update-index"), "{err}");
    assert_eq!(repo.read("a.py"), b"x = 1\n", "the file stays");
    assert!(
        !repo.path("a.py.tombstone").exists() && !repo.path("b.py.tombstone").exists(),
        "the stubs written are removed again"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "", "index untouched");
    // The store kept the content (idempotent); a rerun finishes the job.
    assert_ok(&repo.tomb(&["archive", "a.py", "b.py"]), "rerun");
    assert!(repo
        .staged("a.py.tombstone")
        .starts_with(b"git-tombstone v1"));
    assert!(!repo.path("a.py").exists(), "the file went once staged");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 2);
}

// git does not check the index's trailing checksum when it reads the index (only fsck does);
// neither do we (`index.skipHash`, given to gix when the repository is opened): re-hashing a
// 100,000-file index was a third of the hook's time with nothing to do.
#[test]
fn an_index_is_read_as_git_reads_it_without_checking_its_trailing_checksum() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]);
    let index = repo.path(".git/index");
    let mut bytes = std::fs::read(&index).expect("index");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&index, &bytes).expect("write index");
    assert_eq!(
        repo.git(&["ls-files", "a.py"]).trim(),
        "a.py",
        "git reads it"
    );
    assert_ok(&repo.tomb(&["archive", "a.py"]), "archive with that index");
    assert!(repo
        .staged("a.py.tombstone")
        .starts_with(b"git-tombstone v1"));
}
