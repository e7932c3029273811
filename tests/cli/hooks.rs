//! The git hooks, always exercised through a real `git commit` firing the installed shims.

use std::ffi::OsStr;

use crate::support::*;
use git_tombstone::stub::{Stub, Tombstone};

fn installed(files: &[(&str, &[u8])]) -> Repo {
    let repo = Repo::with_files(files);
    repo.tomb_ok(&["install"]);
    repo
}

fn commit(repo: &Repo, args: &[&str]) -> std::process::Output {
    let mut full = vec!["commit", "-q"];
    full.extend_from_slice(args);
    repo.command("git")
        .args(&full)
        .output()
        .expect("git commit")
}

fn commit_ok(repo: &Repo, args: &[&str]) -> String {
    let out = commit(repo, args);
    assert_ok(&out, &format!("git commit {args:?}"));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The stub committed in HEAD for `path`: its sidecar `<path>.tombstone` (the default), or
/// the directory tombstone of a directory above it that the commit deleted whole.
fn head_stub(repo: &Repo, path: &[u8]) -> Stub {
    for location in git_tombstone::locate::locations(path).into_iter().skip(1) {
        let spec = [b"HEAD:".as_slice(), &location].concat();
        let out = repo
            .command("git")
            .arg("show")
            .arg(os(&spec))
            .output()
            .expect("git show");
        if !out.status.success() {
            continue;
        }
        let t = Tombstone::parse(&location, &out.stdout).unwrap_or_else(|e| {
            panic!(
                "HEAD:{} is not a tombstone: {e}",
                String::from_utf8_lossy(&location)
            )
        });
        if let Some(stub) = t.stubs().into_iter().find(|s| s.path == path) {
            return stub;
        }
    }
    panic!(
        "no tombstone in HEAD stands for {}",
        String::from_utf8_lossy(path)
    )
}

fn item_field(repo: &Repo, id: &str, field: &str) -> Option<String> {
    repo.db()
        .query_row(
            &format!("SELECT {field} FROM items WHERE id = ?1"),
            [id],
            |r| r.get(0),
        )
        .expect("item")
}

/// Index, work tree status and HEAD, to show a failed commit changed nothing.
fn snapshot(repo: &Repo) -> (String, String, String) {
    (
        repo.git(&["ls-files", "-s"]),
        repo.git(&["status", "--porcelain"]),
        repo.head(),
    )
}

#[test]
fn git_rm_and_commit_leaves_a_stub_a_bound_record_and_a_note() {
    let body = "x = 1\n".repeat(900);
    let repo = installed(&[
        ("src/legacy/billing.py", body.as_bytes()),
        ("keep.txt", b"k"),
    ]);
    repo.git(&["rm", "-q", "src/legacy/billing.py"]);
    let stderr = commit_ok(&repo, &["-m", "drop legacy billing"]);
    assert!(
        stderr.contains("archived src/legacy/billing.py (tb_"),
        "{stderr}"
    );
    assert!(stderr.contains("stub staged"), "{stderr}");
    let stub = head_stub(&repo, b"src/legacy/billing.py");
    let head = repo.head();
    assert_eq!(
        stub.source_commit,
        repo.git(&["rev-parse", "HEAD~1"]).trim()
    );
    assert_eq!(
        item_field(&repo, &stub.id, "state").as_deref(),
        Some("archived")
    );
    assert_eq!(
        item_field(&repo, &stub.id, "removed_in_commit").as_deref(),
        Some(head.as_str())
    );
    let note = repo.git(&["notes", "--ref=tombstone", "show", "HEAD"]);
    assert!(
        note.contains(&stub.id) && note.contains("evidence seq"),
        "{note}"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "nothing left over"
    );
    assert_ok(&repo.restore(&["src/legacy/billing.py"]), "restore");
    assert_eq!(repo.read("src/legacy/billing.py"), body.as_bytes());
}

#[test]
fn rm_and_commit_all() {
    let repo = installed(&[("a.rs", b"fn a() {}\n"), ("b.txt", b"b")]);
    std::fs::remove_file(repo.path("a.rs")).expect("rm");
    commit_ok(&repo, &["-a", "-m", "commit -a"]);
    head_stub(&repo, b"a.rs");
    assert!(repo.read("a.rs.tombstone").starts_with(b"git-tombstone v1"));
    assert!(
        !repo.path("a.rs").exists(),
        "nothing a compiler would pick up"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn partial_commit_with_a_temporary_index() {
    let repo = installed(&[("a.py", b"a\n"), ("b.txt", b"b")]);
    std::fs::remove_file(repo.path("a.py")).expect("rm");
    repo.write("b.txt", b"unstaged edit");
    commit_ok(&repo, &["-m", "only a.py", "a.py"]);
    head_stub(&repo, b"a.py");
    // The main index agrees with HEAD for a.py; b.txt keeps its unstaged edit.
    assert_eq!(repo.git(&["status", "--porcelain"]), " M b.txt\n");
}

#[test]
fn amend_captures_new_deletions_and_moves_bound_records() {
    let repo = installed(&[("a.py", b"a\n"), ("b.py", b"b\n"), ("c.txt", b"c")]);
    repo.git(&["rm", "-q", "a.py"]);
    commit_ok(&repo, &["-m", "drop a"]);
    let a = head_stub(&repo, b"a.py");
    let old = repo.head();
    repo.git(&["rm", "-q", "b.py"]);
    commit_ok(&repo, &["--amend", "-m", "drop a and b"]);
    let new = repo.head();
    assert_ne!(old, new);
    let b = head_stub(&repo, b"b.py");
    assert_eq!(
        item_field(&repo, &a.id, "removed_in_commit").as_deref(),
        Some(new.as_str()),
        "remapped"
    );
    assert_eq!(
        item_field(&repo, &b.id, "removed_in_commit").as_deref(),
        Some(new.as_str())
    );
    let note = repo.git(&["notes", "--ref=tombstone", "show", "HEAD"]);
    assert!(
        note.contains(&b.id) && note.contains(&a.id),
        "both records noted: {note}"
    );
    assert!(repo
        .evidence_lines()
        .iter()
        .any(|l| l.contains("\"op\":\"rewrite\"")));
    assert_eq!(
        repo.count("SELECT count(*) FROM items"),
        2,
        "nothing archived twice"
    );
}

#[test]
fn rebase_moves_records_to_the_new_commits() {
    let repo = installed(&[("a.py", b"a\n"), ("base.txt", b"0")]);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.git(&["rm", "-q", "a.py"]);
    commit_ok(&repo, &["-m", "drop a"]);
    let a = head_stub(&repo, b"a.py");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("base.txt", b"1");
    commit_ok(&repo, &["-am", "main moves on"]);
    repo.git(&["checkout", "-q", "topic"]);
    repo.git(&["rebase", "-q", "main"]);
    let rebased = repo.head();
    assert_eq!(
        item_field(&repo, &a.id, "removed_in_commit").as_deref(),
        Some(rebased.as_str())
    );
    assert_ok(&repo.tomb(&["verify"]), "verify after rebase");
}

#[test]
fn the_first_commit_of_a_repository_deletes_nothing() {
    let repo = Repo::empty();
    repo.tomb_ok(&["install"]);
    repo.write("a.txt", b"a");
    repo.git(&["add", "a.txt"]);
    commit_ok(&repo, &["-m", "root"]);
    assert!(
        !repo.store_dir().join("archive.sqlite").exists(),
        "nothing to capture, no store"
    );
}

#[test]
fn awkward_names_binary_executable_and_symlink() {
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let repo = Repo::with_files(&[
        ("with space.md", b"# doc\n"),
        ("ünïcödé.txt", b"u\n"),
        ("data.bin", &binary),
        ("run.sh", b"#!/bin/sh\n"),
    ]);
    std::fs::set_permissions(
        repo.path("run.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("run.sh", repo.path("link")).expect("symlink");
    let odd: &[u8] = b"caf\xe9.py";
    std::fs::write(repo.path(os(odd)), b"latin1 = True\n").expect("odd");
    repo.commit_all("special files");
    repo.tomb_ok(&["install"]);
    repo.git(&[
        "rm",
        "-q",
        "--",
        "with space.md",
        "ünïcödé.txt",
        "data.bin",
        "run.sh",
        "link",
    ]);
    repo.git_bytes(&[
        OsStr::new("rm"),
        OsStr::new("-q"),
        OsStr::new("--"),
        os(odd),
    ]);
    commit_ok(&repo, &["-m", "drop them all"]);
    for path in [
        b"with space.md".as_slice(),
        "ünïcödé.txt".as_bytes(),
        b"data.bin",
        b"run.sh",
        b"link",
        odd,
    ] {
        head_stub(&repo, path);
        let out = repo
            .command(RESTORE)
            .arg(os(path))
            .output()
            .expect("restore");
        assert_ok(&out, &String::from_utf8_lossy(path));
    }
    assert_eq!(repo.read("data.bin"), binary);
    assert_eq!(
        std::fs::read(repo.path(os(odd))).expect("odd"),
        b"latin1 = True\n"
    );
    assert_eq!(
        std::fs::read_link(repo.path("link")).expect("symlink"),
        std::path::Path::new("run.sh")
    );
    let mode = std::fs::metadata(repo.path("run.sh"))
        .expect("meta")
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o111,
        0o111
    );
}

#[test]
fn a_submodule_deletion_is_recorded_but_never_stubbed() {
    let repo = Repo::with_files(&[("a.txt", b"a")]);
    let head = repo.head();
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},vendor/lib"),
    ]);
    repo.git(&["commit", "-qm", "add submodule"]);
    repo.tomb_ok(&["install"]);
    repo.git(&["rm", "-q", "--cached", "vendor/lib"]);
    commit_ok(&repo, &["-m", "drop submodule"]);
    assert_eq!(repo.git(&["ls-tree", "HEAD", "vendor/lib"]), "", "no stub");
    let lines = repo.evidence_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("submodule-removed") && l.contains(&head)),
        "{lines:?}"
    );
    assert_eq!(repo.count("SELECT count(*) FROM items"), 0);
}

#[test]
fn moves_are_not_archived_unless_the_policy_says_so() {
    let repo = installed(&[("old/name.py", b"moved content\n")]);
    std::fs::create_dir_all(repo.path("new")).expect("mkdir");
    repo.git(&["mv", "old/name.py", "new/name.py"]);
    let stderr = commit_ok(&repo, &["-m", "move"]);
    assert!(stderr.contains("moved within this commit"), "{stderr}");
    assert_eq!(
        repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]),
        "new/name.py\n"
    );
    repo.write(".tombstone.toml", b"archive_moves = true\n");
    repo.git(&["add", ".tombstone.toml"]);
    commit_ok(&repo, &["-m", "policy"]);
    repo.git(&["mv", "new/name.py", "newer.py"]);
    commit_ok(&repo, &["-m", "move again"]);
    head_stub(&repo, b"new/name.py");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1);
}

#[test]
fn deleting_a_stub_is_recorded_not_archived_again() {
    let repo = installed(&[("a.py", b"a\n")]);
    repo.git(&["rm", "-q", "a.py"]);
    commit_ok(&repo, &["-m", "stub it"]);
    repo.git(&["rm", "-q", "a.py.tombstone"]);
    let stderr = commit_ok(&repo, &["-m", "drop the stub"]);
    assert!(stderr.contains("stub a.py.tombstone removed"), "{stderr}");
    assert_eq!(repo.git(&["ls-tree", "HEAD", "a.py.tombstone"]), "");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1);
    assert!(repo
        .evidence_lines()
        .iter()
        .any(|l| l.contains("stub-removed")));
}

#[test]
fn archive_and_ignore_actions() {
    let repo = installed(&[
        ("logs/run.log", b"log\n"),
        ("vendor/x.c", b"int x;\n"),
        ("a.txt", b"a"),
    ]);
    repo.write(".tombstone.toml", b"[[rules]]\npaths = [\"vendor/**\"]\naction = \"ignore\"\n[[rules]]\npaths = [\"logs/**\"]\naction = \"archive\"\ncategory = \"logs\"\n");
    repo.git(&["add", ".tombstone.toml"]);
    repo.git(&["rm", "-q", "logs/run.log", "vendor/x.c"]);
    commit_ok(&repo, &["-m", "drop log and vendor"]);
    assert_eq!(
        repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]),
        ".tombstone.toml\na.txt\n"
    );
    let state: (String, String, String) = repo
        .db()
        .query_row("SELECT category, action, state FROM items", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("one item");
    assert_eq!(state, ("logs".into(), "archive".into(), "archived".into()));
}

#[test]
fn git_rm_cached_keeps_the_users_file() {
    let repo = installed(&[("secret.env", b"TOKEN=1\n")]);
    repo.git(&["rm", "-q", "--cached", "secret.env"]);
    commit_ok(&repo, &["-m", "untrack"]);
    assert_eq!(repo.read("secret.env"), b"TOKEN=1\n", "never overwritten");
    head_stub(&repo, b"secret.env");
    assert!(repo
        .read("secret.env.tombstone")
        .starts_with(b"git-tombstone v1"));
}

fn assert_refused(repo: &Repo, env: &[(&str, &str)], expected: &str) {
    let before = snapshot(repo);
    let mut cmd = repo.command("git");
    cmd.args(["commit", "-q", "-m", "should be refused"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("commit");
    assert!(!out.status.success(), "commit must be refused ({expected})");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in:\n{stderr}"
    );
    assert_eq!(
        snapshot(repo),
        before,
        "index, work tree and HEAD exactly as before"
    );
}

#[test]
fn failures_refuse_the_commit_and_leave_everything_as_it_was() {
    let repo = installed(&[("a.py", b"a\n"), ("big.py", &[b'#'; 2048])]);
    let file = repo.home.join("not-a-dir");
    std::fs::write(&file, b"file").expect("write");
    let store = file.join("store");
    repo.git(&["rm", "-q", "a.py"]);
    assert_refused(
        &repo,
        &[("GIT_TOMBSTONE_STORE", store.to_str().expect("utf8"))],
        "cannot create the store",
    );
    assert_refused(
        &repo,
        &[("GIT_TOMBSTONE_FAILPOINT", "error:pre-commit:stage")],
        "injected failure",
    );
    assert!(
        !repo.path("a.py").exists(),
        "the stub written before the failure was removed"
    );
    repo.write(".tombstone.toml", b"max_file_size = 1024\n");
    repo.git(&["add", ".tombstone.toml"]);
    repo.git(&["rm", "-q", "big.py"]);
    assert_refused(&repo, &[], "larger than max_file_size");
    repo.write(".tombstone.toml", b"default_action = \"shred\"\n");
    assert_refused(&repo, &[], "invalid policy");
}

#[test]
fn a_panic_in_the_hook_refuses_the_commit_as_an_internal_error() {
    let repo = installed(&[("a.py", b"a\n"), ("b.py", b"b\n")]);
    repo.git(&["rm", "-q", "a.py"]);
    assert_refused(
        &repo,
        &[("GIT_TOMBSTONE_FAILPOINT", "panic:pre-commit:prepare-index")],
        "internal error: preparing the index panicked",
    );
    assert!(!repo.path("a.py").exists(), "no stub is left behind");
    let out = commit(&repo, &["-m", "rm a"]);
    assert_ok(&out, "the commit goes through once the bug is gone");
    assert!(repo.path("a.py.tombstone").exists() || repo.path("a.py").exists());
}

#[test]
fn skip_bypasses_the_hook_visibly() {
    let repo = installed(&[("a.py", b"a\n")]);
    repo.git(&["rm", "-q", "a.py"]);
    let out = repo
        .command("git")
        .args(["commit", "-q", "-m", "skip"])
        .env("GIT_TOMBSTONE_SKIP", "1")
        .output()
        .expect("commit");
    assert_ok(&out, "skipped commit");
    assert!(String::from_utf8_lossy(&out.stderr).contains("GIT_TOMBSTONE_SKIP=1"));
    assert_eq!(
        repo.git(&["ls-tree", "HEAD", "a.py"]),
        "",
        "a plain deletion"
    );
}

#[test]
fn an_aborted_commit_leaves_records_pending_and_the_next_commit_settles_them() {
    let repo = installed(&[("a.py", b"a\n"), ("b.txt", b"b")]);
    let commit_msg = repo.path(".git/hooks/commit-msg");
    std::fs::write(
        &commit_msg,
        "#!/bin/sh\necho 'commit-msg: no' >&2\nexit 1\n",
    )
    .expect("hook");
    std::fs::set_permissions(
        &commit_msg,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    repo.git(&["rm", "-q", "a.py"]);
    assert!(!commit(&repo, &["-m", "blocked"]).status.success());
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE state = 'pending'"),
        1
    );
    // An empty message aborts too.
    assert!(!commit(&repo, &["-m", ""]).status.success());
    std::fs::remove_file(&commit_msg).expect("rm hook");
    commit_ok(&repo, &["-m", "now"]);
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1, "archived once");
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE state = 'archived'"),
        1
    );
    assert_eq!(
        repo.count("SELECT count(*) FROM evidence WHERE op = 'archive'"),
        1
    );
}

#[test]
fn a_custom_hook_still_runs_and_can_still_block() {
    let repo = Repo::with_files(&[("a.py", b"a\n")]);
    let hook = repo.path(".git/hooks/pre-commit");
    let text = "#!/bin/sh\necho custom-hook-ran >&2\n[ -f BLOCK ] && { echo blocked-by-custom >&2; exit 1; }\nexit 0\n";
    std::fs::write(&hook, text).expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    repo.tomb_ok(&["install"]);
    repo.write("BLOCK", b"");
    repo.git(&["rm", "-q", "a.py"]);
    let out = commit(&repo, &["-m", "blocked"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Ours ran first (captured and staged the stub), then the chained hook blocked the commit.
    assert!(
        stderr.contains("archived a.py") && stderr.contains("blocked-by-custom"),
        "{stderr}"
    );
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE state = 'pending'"),
        1
    );
    std::fs::remove_file(repo.path("BLOCK")).expect("unblock");
    let stderr = commit_ok(&repo, &["-m", "allowed"]);
    assert!(
        stderr.contains("custom-hook-ran") && stderr.contains("bound 1"),
        "{stderr}"
    );
    head_stub(&repo, b"a.py");
    repo.tomb_ok(&["uninstall"]);
    assert_eq!(
        std::fs::read_to_string(&hook).expect("restored"),
        text,
        "byte for byte"
    );
    let names: Vec<String> = std::fs::read_dir(repo.path(".git/hooks"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".sample"))
        .collect();
    assert_eq!(names, ["pre-commit"]);
}

#[test]
fn reinstall_is_idempotent_and_upgrades_old_shims() {
    let repo = installed(&[("a.py", b"a\n")]);
    let out = repo.tomb_ok(&["--json", "install"]);
    assert_eq!(out.matches("\"unchanged\"").count(), 3, "{out}");
    let hook = repo.path(".git/hooks/pre-commit");
    std::fs::write(
        &hook,
        "#!/bin/sh\n# git-tombstone hook v1\n# an older shim\ngit-tombstone hook pre-commit\n",
    )
    .expect("old");
    let out = repo.tomb_ok(&["install"]);
    assert!(out.contains("pre-commit    upgraded"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&hook).expect("hook"),
        git_tombstone::hooks::SHIMS[0].1
    );
    assert!(
        !repo
            .path(".git/hooks/pre-commit.tombstone-chained")
            .exists(),
        "our old shim is not chained"
    );
}

#[test]
fn a_missing_binary_blocks_with_instructions() {
    let repo = installed(&[("a.py", b"a\n")]);
    repo.git(&["rm", "-q", "a.py"]);
    let before = snapshot(&repo);
    let git_dir = std::path::Path::new(
        &String::from_utf8_lossy(
            &std::process::Command::new("sh")
                .args(["-c", "command -v git"])
                .output()
                .expect("which git")
                .stdout,
        )
        .trim()
        .to_owned(),
    )
    .parent()
    .expect("dir")
    .to_path_buf();
    let out = repo
        .command("git")
        .args(["commit", "-q", "-m", "no binary"])
        .env("PATH", format!("{}:/usr/bin:/bin", git_dir.display()))
        .output()
        .expect("commit");
    assert!(!out.status.success(), "never passes silently");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs git-tombstone on PATH") && stderr.contains("GIT_TOMBSTONE_SKIP=1"),
        "{stderr}"
    );
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn core_hooks_path_relative_to_the_work_tree() {
    let repo = Repo::with_files(&[("a.py", b"a\n")]);
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    repo.tomb_ok(&["install"]);
    assert!(repo.path(".githooks/pre-commit").exists());
    assert!(!repo.path(".git/hooks/pre-commit").exists());
    repo.git(&["rm", "-q", "a.py"]);
    // Commit from a subdirectory: git still runs hooks from the work tree root.
    std::fs::create_dir_all(repo.path("sub")).expect("mkdir");
    let out = repo
        .command("git")
        .current_dir(repo.path("sub"))
        .args(["commit", "-q", "-m", "x"])
        .output()
        .expect("commit");
    assert_ok(&out, "commit from subdir");
    head_stub(&repo, b"a.py");
}

#[test]
fn linked_worktrees_share_hooks_and_store() {
    let repo = installed(&[("a.py", b"a\n"), ("b.py", b"b\n")]);
    let wt = repo.home.join("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        wt.to_str().expect("utf-8"),
    ]);
    let out = repo
        .command("git")
        .current_dir(&wt)
        .args(["rm", "-q", "b.py"])
        .output()
        .expect("rm");
    assert_ok(&out, "rm in worktree");
    let out = repo
        .command("git")
        .current_dir(&wt)
        .args(["commit", "-q", "-m", "drop b in worktree"])
        .output()
        .expect("commit");
    assert_ok(&out, "commit in worktree");
    assert!(std::fs::read(wt.join("b.py.tombstone"))
        .expect("stub")
        .starts_with(b"git-tombstone v1"));
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE state = 'archived'"),
        1,
        "one shared store"
    );
}

#[test]
fn two_worktrees_committing_at_once_both_succeed() {
    let files: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| (format!("f{i:02}.py"), format!("v = {i}\n").into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let repo = installed(&refs);
    let wt = repo.home.join("wt2");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "other",
        wt.to_str().expect("utf-8"),
    ]);
    // Worktree 1 deletes the even files, worktree 2 the odd ones.
    for (i, (p, _)) in files.iter().enumerate() {
        let dir = if i % 2 == 0 {
            repo.root.clone()
        } else {
            wt.clone()
        };
        let out = repo
            .command("git")
            .current_dir(&dir)
            .args(["rm", "-q", p])
            .output()
            .expect("rm");
        assert_ok(&out, "rm");
    }
    let spawn = |dir: std::path::PathBuf, msg: &'static str| {
        let mut cmd = repo.command("git");
        cmd.current_dir(dir).args(["commit", "-q", "-m", msg]);
        std::thread::spawn(move || cmd.output().expect("commit"))
    };
    let a = spawn(repo.root.clone(), "evens");
    let b = spawn(wt.clone(), "odds");
    assert_ok(&a.join().expect("thread"), "commit in worktree 1");
    assert_ok(&b.join().expect("thread"), "commit in worktree 2");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 40);
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE state = 'archived'"),
        40
    );
    let lines = repo.evidence_lines();
    assert_eq!(
        lines.len() as i64,
        repo.count("SELECT count(*) FROM evidence")
    );
    assert_ok(&repo.tomb(&["verify"]), "verify in worktree 1");
}

#[test]
fn doctor_reports_what_needs_fixing() {
    let repo = Repo::with_files(&[("a.py", b"a\n")]);
    let out = repo.tomb(&["doctor"]);
    assert_code(&out, 1, "doctor before install");
    assert!(String::from_utf8_lossy(&out.stdout).contains("git tombstone install"));
    repo.tomb_ok(&["install"]);
    let out = repo.tomb(&["--json", "doctor"]);
    assert_ok(&out, "doctor after install");
    assert_eq!(json_lines(&out)[0]["ok"], true);
    repo.write(".tombstone.toml", b"nonsense = [\n");
    assert_code(&repo.tomb(&["doctor"]), 1, "bad policy");
}

/// Regression guard for the in-process index writer: a cache-tree left valid after staging
/// would make `git write-tree` (and so the commit) silently keep the old subtree.
#[test]
fn staging_invalidates_the_cache_tree() {
    let repo = Repo::with_files(&[
        ("a/b/c/deep.py", b"deep = 1\n"),
        ("a/b/other.py", b"o\n"),
        ("top.txt", b"t"),
    ]);
    repo.git(&["write-tree"]); // prime a fully valid cache-tree
    assert_ok(&repo.tomb(&["archive", "a/b/c/deep.py"]), "archive");
    let tree = repo.git(&["write-tree"]).trim().to_owned();
    let staged = repo
        .git(&["rev-parse", &format!("{tree}:a/b/c/deep.py.tombstone")])
        .trim()
        .to_owned();
    let stub_blob = repo
        .git(&["rev-parse", ":a/b/c/deep.py.tombstone"])
        .trim()
        .to_owned();
    assert_eq!(staged, stub_blob, "write-tree sees the staged stub");
    assert_ne!(tree, repo.git(&["rev-parse", "HEAD^{tree}"]).trim());
}

#[test]
fn the_index_we_write_is_one_git_accepts() {
    let repo = installed(&[("x/a.py", b"a\n"), ("x/b.py", b"b\n"), ("y.txt", b"y")]);
    repo.git(&["config", "core.untrackedCache", "true"]);
    repo.git(&["update-index", "--untracked-cache"]);
    repo.git(&["rm", "-q", "x/a.py"]);
    commit_ok(&repo, &["-m", "drop a"]);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    repo.git(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(repo.git(&["diff", "--cached", "--name-only"]), "");
    // A file replaced by a directory in the same commit still takes its sidecar beside it.
    repo.git(&["rm", "-q", "y.txt"]);
    repo.write("y.txt/inner.txt", b"now a dir");
    repo.git(&["add", "y.txt/inner.txt"]);
    commit_ok(&repo, &["-m", "file becomes dir"]);
    assert_eq!(
        repo.git(&["ls-tree", "-r", "--name-only", "HEAD", "y.txt"]),
        "y.txt/inner.txt\n"
    );
    head_stub(&repo, b"y.txt");
    // An in-place stub (by policy) cannot stand where the directory now is: captured only.
    repo.write(".tombstone.toml", b"placement = \"in-place\"\n");
    repo.git(&["add", ".tombstone.toml"]);
    commit_ok(&repo, &["-m", "in-place stubs"]);
    repo.git(&["rm", "-q", "-r", "y.txt"]);
    repo.write("y.txt", b"a file again");
    repo.git(&["add", "y.txt"]);
    commit_ok(&repo, &["-m", "dir becomes file"]);
    assert_eq!(
        repo.count(
            "SELECT count(*) FROM items WHERE path = CAST('y.txt/inner.txt' AS BLOB) AND action = 'archive'"
        ),
        1
    );
}

#[test]
fn a_split_index_is_staged_through_git() {
    let repo = installed(&[("a.py", b"a\n"), ("b.py", b"b\n")]);
    repo.git(&["update-index", "--split-index"]);
    repo.git(&["rm", "-q", "a.py"]);
    commit_ok(&repo, &["-m", "drop a with a split index"]);
    head_stub(&repo, b"a.py");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert!(std::fs::read_dir(repo.path(".git"))
        .expect("git dir")
        .any(|e| e
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .starts_with("sharedindex.")));
}

#[test]
fn a_chained_post_rewrite_hook_gets_the_same_arguments_and_stdin() {
    let repo = Repo::with_files(&[("a.py", b"a\n")]);
    let hook = repo.path(".git/hooks/post-rewrite");
    std::fs::write(
        &hook,
        "#!/bin/sh\n{ echo \"args: $*\"; cat; } > \"$(git rev-parse --git-dir)/rewrite-seen\"\n",
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    repo.tomb_ok(&["install"]);
    let old = repo.head();
    commit_ok(&repo, &["--amend", "-m", "amended"]);
    let seen = String::from_utf8(repo.read(".git/rewrite-seen")).expect("utf-8");
    assert!(seen.starts_with("args: amend\n"), "{seen}");
    assert!(
        seen.contains(&format!("{old} {}", repo.head())),
        "stdin passed through: {seen}"
    );
}

#[test]
fn a_shallow_clone_archives_and_restores_and_says_what_it_lacks() {
    let origin = Repo::with_files(&[("old.py", b"old = 1\n"), ("keep.txt", b"k")]);
    let first = origin.head();
    origin.tomb_ok(&["archive", "old.py"]);
    origin.commit_all("stub old.py");
    origin.write("new.py", b"new = 2\n");
    origin.commit_all("more history");
    // A clone with only the last commit: the stub's source commit is not in it.
    let clone = Repo::empty();
    let url = format!("file://{}", origin.root.display());
    std::fs::remove_dir_all(&clone.root).expect("rm");
    let out = clone
        .command("git")
        .current_dir(&clone.home)
        .args([
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            clone.root.to_str().expect("utf-8"),
        ])
        .output()
        .expect("clone");
    assert_ok(&out, "shallow clone");
    assert_eq!(
        clone.git(&["rev-parse", "--is-shallow-repository"]).trim(),
        "true"
    );
    // Archiving in a shallow clone works: HEAD's content is there.
    assert_ok(
        &clone.tomb(&["archive", "new.py"]),
        "archive in a shallow clone",
    );
    clone.commit_all("stub new.py");
    assert_ok(&clone.restore(&["new.py"]), "restore from the local store");
    // A stub whose source commit is beyond the shallow boundary, with no local record.
    let out = clone.restore(&["--json", "old.py"]);
    let err = assert_code(&out, 1, "content beyond the shallow boundary");
    let v: serde_json::Value = serde_json::from_str(err.trim()).expect("JSON error");
    let message = v["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("commit {first} is not in this clone")),
        "{message}"
    );
    assert_eq!(v["error"]["code"], "tombstone::restore::unavailable");
    assert!(v["error"]["help"]
        .as_str()
        .expect("help")
        .contains("fetch the commit"));
}

/// `git mv` plus an edit in the same commit is a move (git's rename detection at the policy's
/// `move_similarity`, default 50%): recorded in the evidence, not stubbed; a CI scan of the
/// same history agrees (no violation). Below the threshold it is a deletion and an addition.
#[test]
fn a_rename_with_an_edit_is_a_move_not_a_stub() {
    let body: String = (0..20).map(|i| format!("line {i}\n")).collect();
    let repo = installed(&[("old/name.py", body.as_bytes()), ("keep.txt", b"k")]);
    repo.git(&["mv", "old/name.py", "new.py"]);
    repo.write(
        "new.py",
        body.replace("line 3\n", "line three\n").as_bytes(),
    );
    repo.git(&["add", "new.py"]);
    let stderr = commit_ok(&repo, &["-m", "move and edit"]);
    assert!(
        stderr.contains("moved within this commit to new.py (edited)"),
        "{stderr}"
    );
    assert_eq!(
        repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]),
        "keep.txt\nnew.py\n",
        "no tombstone"
    );
    assert_eq!(repo.count("SELECT count(*) FROM items"), 0, "not archived");
    let moved = repo
        .evidence_lines()
        .into_iter()
        .find(|l| l.contains("\"op\":\"moved\""))
        .expect("a moved evidence line");
    assert!(
        moved.contains("\"to\":\"new.py\"") && moved.contains("\"edited\":true"),
        "{moved}"
    );
    let out = repo.tomb(&["--json", "scan", "--all", "--fail-on-violation"]);
    assert_ok(&out, "the scan sees a move, not a violation");
    assert_eq!(json_lines(&out)[0]["moves"], 1);

    // Mostly rewritten: not a move at the default threshold.
    let other: String = (0..20).map(|i| format!("other {i}\n")).collect();
    repo.git(&["mv", "new.py", "newer.py"]);
    repo.write("newer.py", other.as_bytes());
    repo.git(&["add", "newer.py"]);
    commit_ok(&repo, &["-m", "rewrite"]);
    head_stub(&repo, b"new.py");
    // And `move_similarity = 100` makes any edit a deletion.
    repo.write(".tombstone.toml", b"move_similarity = 100\n");
    repo.git(&["add", ".tombstone.toml"]);
    commit_ok(&repo, &["-m", "policy"]);
    repo.git(&["mv", "keep.txt", "kept.txt"]);
    repo.write("kept.txt", b"k2");
    repo.git(&["add", "kept.txt"]);
    commit_ok(&repo, &["-m", "edit while moving"]);
    head_stub(&repo, b"keep.txt");
}

/// A deletion whose commit `rebase -i` dropped: `verify` and `doctor` report the record bound
/// to an unreachable commit; `bind` puts it back to pending (the file is back in the tree), and
/// re-binds a record whose commit was rewritten behind the hooks' back.
#[test]
fn records_of_dropped_and_rewritten_commits_are_reconciled() {
    let repo = installed(&[("a.py", b"a\n"), ("b.py", b"b\n"), ("keep.txt", b"k")]);
    repo.git(&["rm", "-q", "a.py"]);
    commit_ok(&repo, &["-m", "drop a"]);
    let a = head_stub(&repo, b"a.py");
    repo.git(&["rm", "-q", "b.py"]);
    commit_ok(&repo, &["-m", "drop b"]);
    let b = head_stub(&repo, b"b.py");
    // Drop the first of the two commits.
    let out = repo
        .command("git")
        .args(["rebase", "-q", "-i", "HEAD~2"])
        .env("GIT_SEQUENCE_EDITOR", "sed -i '1s/^pick/drop/'")
        .output()
        .expect("rebase");
    assert_ok(&out, "rebase -i dropping a commit");
    assert_eq!(repo.read("a.py"), b"a\n", "a.py is back");
    let out = repo.tomb(&["verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&a.id) && text.contains("no ref reaches"),
        "{text}"
    );
    assert_code(&repo.tomb(&["doctor"]), 1, "doctor");
    // Also amend the surviving commit with the hooks skipped (post-rewrite never sees it).
    let out = repo
        .command("git")
        .args(["commit", "-q", "--amend", "-m", "drop b (reworded)"])
        .env("GIT_TOMBSTONE_SKIP", "1")
        .output()
        .expect("amend");
    assert_ok(&out, "amend");
    let out = repo.tomb(&["--json", "bind"]);
    assert_ok(&out, "bind reconciles");
    let v = &json_lines(&out)[0]["reconciled"];
    assert_eq!(v["unbound"][0][0], a.id.as_str(), "{v}");
    assert_eq!(v["rebound"][0][0], b.id.as_str(), "{v}");
    assert_eq!(v["rebound"][0][2], repo.head().as_str(), "{v}");
    assert_eq!(
        item_field(&repo, &a.id, "state").as_deref(),
        Some("pending")
    );
    assert_eq!(
        item_field(&repo, &b.id, "removed_in_commit"),
        Some(repo.head())
    );
    assert!(repo
        .evidence_lines()
        .iter()
        .any(|l| l.contains("\"op\":\"reconcile\"")));
    assert_ok(&repo.tomb(&["verify"]), "verify after reconciling");
    assert_ok(&repo.tomb(&["doctor"]), "doctor after reconciling");
}

#[test]
fn the_hook_keeps_every_index_flag_it_does_not_touch() {
    // An intent-to-add entry and a skip-worktree entry need index version 3 (extended flags);
    // the hook rewrites the index in one pass and must keep both, and git must read it back.
    let repo = installed(&[
        ("keep.txt", b"keep\n"),
        ("old.py", b"def old():\n    pass\n"),
        ("src/a.py", b"a\n"),
    ]);
    repo.write("new.txt", b"new\n");
    repo.git(&["add", "-N", "new.txt"]);
    repo.git(&["update-index", "--skip-worktree", "keep.txt"]);
    repo.git(&["rm", "-q", "old.py"]);
    let out = commit(&repo, &["-m", "rm old.py"]);
    assert_ok(&out, "commit");
    let listed = repo.git(&["ls-files", "-v"]);
    assert!(listed.lines().any(|l| l == "S keep.txt"), "{listed}");
    assert!(
        listed.lines().any(|l| l == "H old.py.tombstone"),
        "{listed}"
    );
    let status = repo.git(&["status", "--porcelain"]);
    assert!(status.lines().any(|l| l == " A new.txt"), "{status}");
    assert_eq!(
        repo.git(&["ls-files", "--stage", "src/a.py"])
            .split_whitespace()
            .nth(2),
        Some("0")
    );
    let fsck = repo
        .command("git")
        .args(["fsck", "--no-progress"])
        .output()
        .expect("fsck");
    assert_ok(&fsck, "git fsck");
}

// The shims run `git-tombstone-hook` (the hooks alone, a small binary), else fall back to
// `git tombstone hook`: both capture the deletion the same way.
#[test]
fn the_shims_run_the_hook_binary_or_fall_back_to_the_cli() {
    let hook_bin = bin_dir().join("git-tombstone-hook");
    assert!(hook_bin.exists(), "cargo builds git-tombstone-hook");
    for with_hook_binary in [true, false] {
        let repo = Repo::with_files(&[("a.py", b"x = 1\n")]);
        assert_ok(&repo.tomb(&["install"]), "install");
        // A PATH with git and one of our binaries: the hook binary alone (so the commit
        // succeeds only if the shim runs it), or the CLI alone (the fallback).
        let only = repo.home.join("only-bin");
        std::fs::create_dir_all(&only).expect("bin dir");
        if with_hook_binary {
            std::os::unix::fs::symlink(&hook_bin, only.join("git-tombstone-hook")).expect("link");
        } else {
            std::os::unix::fs::symlink(TOMBSTONE, only.join("git-tombstone")).expect("link");
        }
        let git = std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .expect("find git");
        let git_dir = std::path::Path::new(String::from_utf8_lossy(&git.stdout).trim())
            .parent()
            .expect("git's directory")
            .to_path_buf();
        let path = std::env::join_paths([only.clone(), git_dir, "/usr/bin".into(), "/bin".into()])
            .expect("PATH");
        repo.git(&["rm", "-q", "a.py"]);
        let out = repo
            .command("git")
            .env("PATH", &path)
            .args(["commit", "-qm", "delete a.py"])
            .output()
            .expect("commit");
        assert_ok(&out, &format!("commit (hook binary: {with_hook_binary})"));
        assert_eq!(
            repo.count("SELECT count(*) FROM items"),
            1,
            "archived (hook binary: {with_hook_binary})"
        );
        assert!(repo.git(&["ls-files"]).contains("a.py.tombstone"));
    }
}
