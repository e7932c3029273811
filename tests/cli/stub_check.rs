//! `git tombstone stub check FILE`.

use crate::support::*;

#[test]
fn a_valid_stub_prints_its_fields() {
    let repo = Repo::with_files(&[("a.sql", b"select 1;\n")]);
    assert_ok(&repo.tomb(&["archive", "a.sql"]), "archive");
    let text = repo.tomb_ok(&["stub", "check", "a.sql.tombstone"]);
    assert!(text.contains("valid git-tombstone v1 stub"), "{text}");
    assert!(text.contains("source-commit"), "{text}");
    let out = repo.tomb(&["--json", "stub", "check", "a.sql.tombstone"]);
    let v = &json_lines(&out)[0];
    assert_eq!(v["valid"], true);
    assert_eq!(v["fields"]["mode"], "100644");
}

#[test]
fn invalid_stubs_exit_1_saying_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let commit = "2c3b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
    let good = git_tombstone::stub::Stub::new(
        b"a.py",
        git_tombstone::stub::Mode::File,
        sha,
        4,
        commit,
        "x",
    )
    .render(b"a.py")
    .expect("render");
    let good = String::from_utf8(good).expect("utf-8");
    let traversal_id = git_tombstone::id::tombstone_id(b"../../x", sha, commit);
    let cases = [
        ("plain.py", "print(1)\n".to_owned(), "does not start with"),
        ("forged.py", good.replace(sha, &"0".repeat(64)), "altered"),
        ("badhex.py", good.replace(sha, &"z".repeat(64)), "64 lowercase hex"),
        (
            "traversal.py",
            format!(
                "# git-tombstone v1\n# id {traversal_id}\n# mode 100644\n# path ../../x\n# reason x\n\
                 # restore git archive-restore ../../x\n# sha256 {sha}\n# size 4\n# source-commit {commit}\n"
            ),
            "traversal",
        ),
        ("dup.py", good.replacen("# mode 100644\n", "# mode 100644\n# mode 100644\n", 1), "more than once"),
    ];
    for (name, body, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).expect("write");
        let out = std::process::Command::new(TOMBSTONE)
            .args(["stub", "check"])
            .arg(&path)
            .env("NO_COLOR", "1")
            .output()
            .expect("run");
        let err = assert_code(&out, 1, name);
        assert!(err.contains(expected), "{name}: {err}");
    }
    let link = dir.path().join("link.py");
    std::os::unix::fs::symlink("plain.py", &link).expect("symlink");
    let out = std::process::Command::new(TOMBSTONE)
        .args(["stub", "check"])
        .arg(&link)
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&assert_code(&out, 1, "symlink").into_bytes())
            .contains("symbolic link")
    );
}
