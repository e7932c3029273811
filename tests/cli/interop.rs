//! Our hooks next to other tools' hooks: git-lfs and the pre-commit framework, for real.
//! Both tools are installed by `scripts/setup-test-deps.sh` (run by `.ci/run`).

use crate::support::*;

fn commit_deletion_with_trace(repo: &Repo, path: &str) -> String {
    repo.git(&["rm", "-q", path]);
    let out = repo
        .command("git")
        .args(["commit", "-q", "-m", &format!("drop {path}")])
        .env("GIT_TRACE", "1")
        .output()
        .expect("commit");
    assert_ok(&out, "commit");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_stubbed(repo: &Repo, path: &str) {
    // Its sidecar, or the tombstone of a directory above it deleted whole.
    let found = git_tombstone::locate::locations(path.as_bytes())
        .into_iter()
        .skip(1)
        .any(|location| {
            let spec = format!("HEAD:{}", String::from_utf8_lossy(&location));
            let out = repo
                .command("git")
                .args(["show", &spec])
                .output()
                .expect("git show");
            out.status.success()
                && git_tombstone::stub::Tombstone::parse(&location, &out.stdout)
                    .is_ok_and(|t| t.stubs().iter().any(|s| s.path == path.as_bytes()))
        });
    assert!(found, "HEAD has a tombstone for {path}");
}

#[test]
fn git_lfs_installed_first_keeps_running_after_ours() {
    require("git-lfs");
    let repo = Repo::with_files(&[("a.py", b"a\n"), ("b.py", b"b\n")]);
    repo.git(&["lfs", "install", "--local"]);
    let lfs_post_commit = repo.read(".git/hooks/post-commit");
    let out = repo.tomb_ok(&["install"]);
    assert!(out.contains("post-commit   chained"), "{out}");
    let trace = commit_deletion_with_trace(&repo, "a.py");
    assert!(
        trace.contains("lfs post-commit"),
        "git-lfs's post-commit ran:\n{trace}"
    );
    assert_stubbed(&repo, "a.py");
    repo.tomb_ok(&["uninstall"]);
    assert_eq!(
        repo.read(".git/hooks/post-commit"),
        lfs_post_commit,
        "lfs hook restored byte for byte"
    );
    assert!(
        repo.read(".git/hooks/pre-push").starts_with(b"#!/bin/sh"),
        "lfs's other hooks untouched"
    );
}

#[test]
fn git_lfs_installed_second_is_chained_on_reinstall() {
    require("git-lfs");
    let repo = Repo::with_files(&[("a.py", b"a\n")]);
    repo.tomb_ok(&["install"]);
    // git-lfs refuses to replace a hook it does not own; it installs the rest and says so.
    let out = repo
        .command("git")
        .args(["lfs", "install", "--local"])
        .output()
        .expect("lfs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Hook already exists: post-commit"));
    // The documented way: let lfs write its hook, then reinstall ours, which chains it.
    repo.git(&["lfs", "install", "--local", "--force"]);
    let out = repo.tomb_ok(&["install"]);
    assert!(out.contains("post-commit   chained"), "{out}");
    let trace = commit_deletion_with_trace(&repo, "a.py");
    assert!(
        trace.contains("lfs post-commit"),
        "git-lfs's post-commit ran:\n{trace}"
    );
    assert!(
        trace.contains("bound 1 archived file"),
        "ours ran:\n{trace}"
    );
    assert_stubbed(&repo, "a.py");
    assert_ok(&repo.tomb(&["doctor"]), "doctor is happy with the chain");
}

#[test]
fn pre_commit_framework_runs_our_manifest() {
    require("pre-commit");
    // A hook repository holding our manifest, as pre-commit would clone it.
    let hook_repo = Repo::empty();
    let manifest = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.pre-commit-hooks.yaml"
    ))
    .expect("manifest");
    hook_repo.write(".pre-commit-hooks.yaml", &manifest);
    hook_repo.commit_all("manifest");
    let rev = hook_repo.head();

    let repo = Repo::with_files(&[("src/legacy.py", b"legacy = True\n"), ("keep.txt", b"k")]);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: git-tombstone\n      - id: git-tombstone-post-commit\n      - id: git-tombstone-post-rewrite\n",
        hook_repo.root.display()
    );
    repo.write(".pre-commit-config.yaml", config.as_bytes());
    repo.commit_all("pre-commit config");
    let out = repo
        .command("pre-commit")
        .args([
            "install",
            "--hook-type",
            "pre-commit",
            "--hook-type",
            "post-commit",
            "--hook-type",
            "post-rewrite",
        ])
        .output()
        .expect("pre-commit install");
    assert_ok(&out, "pre-commit install");
    repo.git(&["rm", "-q", "src/legacy.py"]);
    let out = repo
        .command("git")
        .args(["commit", "-m", "drop legacy"])
        .output()
        .expect("commit");
    assert_ok(&out, "commit through pre-commit");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("git-tombstone (archive deleted files"),
        "{all}"
    );
    assert_stubbed(&repo, "src/legacy.py");
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE state = 'archived'"),
        1,
        "bound by post-commit"
    );
    // After an amend the framework's post-rewrite stage moves the record to the new commit.
    let out = repo
        .command("git")
        .args(["commit", "--amend", "-m", "drop legacy (reworded)"])
        .output()
        .expect("amend");
    assert_ok(&out, "amend through pre-commit");
    let bound: String = repo
        .db()
        .query_row("SELECT removed_in_commit FROM items", [], |r| r.get(0))
        .expect("item");
    assert_eq!(bound, repo.head(), "the record follows the amended commit");
    assert_ok(&repo.tomb(&["verify"]), "verify after the amend");
    // doctor sees the framework's hooks as ours, and does not suggest installing twice.
    let out = repo.tomb(&["--json", "doctor"]);
    let checks = &json_lines(&out)[0]["checks"];
    for name in ["hook pre-commit", "hook post-commit", "hook post-rewrite"] {
        let c = checks
            .as_array()
            .and_then(|a| a.iter().find(|c| c["check"] == name))
            .unwrap_or_else(|| panic!("{name}: {checks}"));
        assert_eq!(c["ok"], true, "{c}");
    }
}

#[test]
fn install_github_action_writes_the_workflow_once() {
    let repo = Repo::with_files(&[("a.txt", b"a")]);
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let out = repo.tomb_ok(&[
        "install",
        "--github-action",
        "--action-ref",
        &format!("acme/git-tombstone/action@{sha}"),
    ]);
    assert!(out.contains("wrote"), "{out}");
    let workflow =
        String::from_utf8(repo.read(".github/workflows/git-tombstone.yml")).expect("utf-8");
    assert!(
        workflow.contains(&format!("uses: acme/git-tombstone/action@{sha}")),
        "{workflow}"
    );
    assert!(
        workflow.contains("branches: [main]") && workflow.contains("fetch-depth: 0"),
        "{workflow}"
    );
    assert!(
        workflow.contains("concurrency:") && workflow.contains("contents: write"),
        "{workflow}"
    );
    assert!(
        !workflow.contains("__"),
        "every placeholder filled: {workflow}"
    );
    // Never overwrites.
    repo.write(".github/workflows/git-tombstone.yml", b"# mine\n");
    let out = repo.tomb_ok(&["install", "--github-action"]);
    assert!(out.contains("kept the existing"), "{out}");
    assert_eq!(
        repo.read(".github/workflows/git-tombstone.yml"),
        b"# mine\n"
    );
    assert!(
        !repo.path(".git/hooks/pre-commit").exists(),
        "--github-action installs no hooks"
    );
    let err = assert_code(
        &repo.tomb(&["install", "--github-action", "--action-ref", "nonsense"]),
        2,
        "bad ref",
    );
    assert!(err.contains("OWNER/REPO"), "{err}");
}
