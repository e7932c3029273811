//! `git tombstone ci` with realistic GitHub event payloads, against a bare "origin", and
//! `publish` / restore from the archive branch.

use crate::support::*;

/// A bare origin with history pushed by a developer whose hooks were bypassed.
fn origin_with_history() -> (Repo, std::path::PathBuf, String, String) {
    let dev = Repo::with_files(&[
        ("src/keep.py", b"k\n"),
        ("src/old.py", b"old\n"),
        ("docs/a.md", b"# a\n"),
    ]);
    let origin = bare_origin(&dev);
    let before = dev.head();
    for i in 0..5 {
        dev.write(format!("filler{i}.txt"), b"x");
        dev.commit_all(&format!("filler {i}"));
    }
    dev.git(&["rm", "-q", "src/old.py", "docs/a.md"]);
    dev.git(&["commit", "-qm", "delete without hooks"]);
    dev.git(&["push", "-q", "origin", "main"]);
    let after = dev.head();
    (dev, origin, before, after)
}

/// A bare `origin` for `dev`, with its `main` pushed.
fn bare_origin(dev: &Repo) -> std::path::PathBuf {
    let origin = dev.home.join("origin.git");
    dev.git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        origin.to_str().expect("utf-8"),
    ]);
    dev.git(&["remote", "add", "origin", origin.to_str().expect("utf-8")]);
    dev.git(&["push", "-q", "origin", "main"]);
    origin
}

fn ci_clone(dev: &Repo, origin: &std::path::Path, depth: Option<u32>) -> Repo {
    let ci = Repo::empty();
    std::fs::remove_dir_all(&ci.root).expect("rm");
    let url = format!("file://{}", origin.display());
    let mut args = vec!["clone", "-q"];
    let d;
    if let Some(n) = depth {
        d = format!("--depth={n}");
        args.push(&d);
    }
    args.extend([url.as_str(), ci.root.to_str().expect("utf-8")]);
    let out = dev.command("git").args(&args).output().expect("clone");
    assert_ok(&out, "clone");
    ci
}

fn run_ci(
    ci: &Repo,
    event_name: &str,
    event: serde_json::Value,
    extra: &[&str],
) -> (std::process::Output, String, String) {
    let event_path = ci.home.join("event.json");
    std::fs::write(&event_path, event.to_string()).expect("event");
    let output = ci.home.join("github_output");
    let summary = ci.home.join("step_summary");
    let mut cmd = ci.command(TOMBSTONE);
    cmd.args(["ci"])
        .args(extra)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ACTOR", "ci-bot")
        .env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", &ci.home);
    let out = cmd.output().expect("ci");
    (
        out,
        std::fs::read_to_string(&output).unwrap_or_default(),
        std::fs::read_to_string(&summary).unwrap_or_default(),
    )
}

fn push_event(before: &str, after: &str) -> serde_json::Value {
    serde_json::json!({
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "forced": false,
        "repository": { "default_branch": "main", "full_name": "acme/app" },
        "head_commit": { "id": after }
    })
}

#[test]
fn push_event_on_a_shallow_clone_is_deepened_and_reported() {
    let (dev, origin, before, after) = origin_with_history();
    let ci = ci_clone(&dev, &origin, Some(1));
    assert_eq!(
        ci.git(&["rev-parse", "--is-shallow-repository"]).trim(),
        "true"
    );
    let (out, outputs, summary) = run_ci(
        &ci,
        "push",
        push_event(&before, &after),
        &["--fail-on-violation"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "violations fail the job:\n{stderr}"
    );
    assert!(stderr.contains("git fetch --deepen"), "deepened: {stderr}");
    assert!(
        outputs.contains("archived=2\n") && outputs.contains("violations=2\n"),
        "{outputs}"
    );
    assert!(
        outputs.contains("report=") && outputs.contains("tombstone-report.sarif"),
        "{outputs}"
    );
    assert!(
        summary.contains("Deletions without a tombstone stub") && summary.contains("src/old.py"),
        "{summary}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error file=src/old.py,title=Deletion without tombstone stub::"),
        "{stdout}"
    );
    let sarif: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ci.home.join("tombstone-report.sarif")).expect("report"),
    )
    .expect("sarif");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(2)
    );
    // Recorded with the actor from the environment.
    assert_eq!(
        ci.count("SELECT count(*) FROM items WHERE actor = 'ci-bot'"),
        2
    );
}

#[test]
fn a_range_that_cannot_be_resolved_fails_closed() {
    let (dev, origin, before, after) = origin_with_history();
    let ci = ci_clone(&dev, &origin, Some(1));
    // Nothing to deepen from: the shallow clone cannot see `before` or the parents.
    ci.git(&["remote", "remove", "origin"]);
    let (out, outputs, _) = run_ci(
        &ci,
        "push",
        push_event(&before, &after),
        &["--report-format", "json"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "names the fix: {stderr}");
    assert!(
        outputs.is_empty(),
        "no outputs from a scan that did not happen: {outputs}"
    );
}

#[test]
fn an_unknown_before_in_a_complete_clone_scans_everything() {
    // A force push can leave `before` unreachable: the whole history is scanned instead.
    let (dev, origin, _before, after) = origin_with_history();
    let ci = ci_clone(&dev, &origin, None);
    let gone = "1234567890123456789012345678901234567890";
    let (out, outputs, _) = run_ci(&ci, "push", push_event(gone, &after), &[]);
    assert_ok(&out, "ci after a force push");
    assert!(outputs.contains("deletions=2\n"), "{outputs}");
}

#[test]
fn pull_request_event_scans_base_to_head_and_publishes() {
    let (dev, origin, _before, base) = origin_with_history();
    dev.git(&["checkout", "-q", "-b", "feature"]);
    dev.git(&["rm", "-q", "src/keep.py"]);
    dev.git(&["commit", "-qm", "drop keep in the PR"]);
    dev.git(&["push", "-q", "origin", "feature"]);
    let head = dev.head();
    let ci = ci_clone(&dev, &origin, None);
    ci.git(&["checkout", "-q", "feature"]);
    let event = serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "base": { "ref": "main", "sha": base },
            "head": { "ref": "feature", "sha": head }
        },
        "repository": { "default_branch": "main" }
    });
    let (out, outputs, _) = run_ci(
        &ci,
        "pull_request",
        event,
        &["--publish", "--report-format", "markdown"],
    );
    assert_ok(&out, "ci on a pull request");
    assert!(
        outputs.contains("deletions=1\n") && outputs.contains("violations=1\n"),
        "only the PR's deletion: {outputs}"
    );
    // The archive branch reached origin; a fresh clone restores from it without any store.
    let fresh = ci_clone(&dev, &origin, None);
    fresh.git(&[
        "fetch",
        "-q",
        "origin",
        "tombstone-archive:refs/remotes/origin/tombstone-archive",
    ]);
    let id: String = ci
        .db()
        .query_row("SELECT id FROM items", [], |r| r.get(0))
        .expect("id");
    let out = fresh.restore(&["--json", &id, "--output", "keep-restored.py"]);
    assert_ok(&out, "restore from the archive branch");
    assert_eq!(json_lines(&out)[0]["source"], "archive-branch");
    assert_eq!(fresh.read("keep-restored.py"), b"k\n");
}

#[test]
fn concurrent_publishers_both_keep_their_records() {
    let (dev, origin, _, _) = origin_with_history();
    let a = ci_clone(&dev, &origin, None);
    let b = ci_clone(&dev, &origin, None);
    a.tomb_ok(&["scan", "HEAD~1..HEAD"]);
    b.write("b-only.txt", b"b");
    b.commit_all("b adds");
    b.git(&["rm", "-q", "b-only.txt"]);
    b.git(&["commit", "-qm", "b deletes"]);
    b.tomb_ok(&["scan", "HEAD~1..HEAD"]);
    // b commits its branch locally, then a publishes: b's branch and origin's have diverged.
    assert_ok(&b.tomb(&["publish", "--no-push"]), "b commits locally");
    assert_ok(&a.tomb(&["publish"]), "a publishes");
    // And origin rejects b's first push (another run got in between): b must fetch, merge, retry.
    let hook = origin.join("hooks/pre-receive");
    let flag = origin.join("rejected-once");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\n[ -f '{0}' ] && exit 0\ntouch '{0}'\necho 'busy, try again' >&2\nexit 1\n",
            flag.display()
        ),
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let out = b.tomb(&["--json", "publish"]);
    assert_ok(&out, "b publishes after a");
    assert!(flag.exists(), "the first push was rejected");
    let published = &json_lines(&out)[0];
    assert!(
        published["merges"].as_u64().unwrap_or(0) >= 2,
        "merged the divergence and the rejection: {published}"
    );
    let fresh = ci_clone(&dev, &origin, None);
    fresh.git(&[
        "fetch",
        "-q",
        "origin",
        "tombstone-archive:refs/remotes/origin/tombstone-archive",
    ]);
    let files = fresh.git(&[
        "ls-tree",
        "-r",
        "--name-only",
        "origin/tombstone-archive",
        "items/",
    ]);
    assert_eq!(files.lines().count(), 2, "both stores' records: {files}");
    // Publishing again without changes adds no commit.
    let tip = a.git(&["ls-remote", "origin", "tombstone-archive"]);
    assert_ok(&b.tomb(&["publish"]), "idempotent");
    assert_eq!(a.git(&["ls-remote", "origin", "tombstone-archive"]), tip);
}

#[test]
fn write_stubs_commits_the_missing_stubs() {
    let (dev, origin, before, after) = origin_with_history();
    let ci = ci_clone(&dev, &origin, None);
    let (out, outputs, _) = run_ci(&ci, "push", push_event(&before, &after), &["--write-stubs"]);
    assert_ok(&out, "ci --write-stubs");
    assert!(outputs.contains("violations=2\n"), "{outputs}");
    assert_eq!(
        ci.git(&["rev-parse", "HEAD~1"]).trim(),
        after,
        "one follow-up commit"
    );
    let added = ci.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(added, "docs/a.md.tombstone\nsrc/old.py.tombstone\n");
    assert_ok(&ci.tomb(&["verify"]), "stubs match the archive");
}

/// Outside GitHub Actions: no event and no range is refused (exit 2, naming the fix); a
/// missing event file is a usage error (2), not an internal one; with a range it scans, prints
/// plain warnings instead of workflow commands, and writes its report to the temporary
/// directory, never into the work tree.
#[test]
fn ci_outside_actions_needs_an_event_or_a_range_and_leaves_the_work_tree_alone() {
    let (dev, origin, before, after) = origin_with_history();
    let ci = ci_clone(&dev, &origin, None);
    let tmp = ci.home.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    let run = |args: &[&str]| {
        let mut cmd = ci.command(TOMBSTONE);
        cmd.arg("ci").args(args).env("TMPDIR", &tmp);
        cmd.output().expect("ci")
    };
    let err = assert_code(&run(&[]), 2, "no event");
    assert!(
        err.contains("--event FILE") && err.contains("git tombstone scan"),
        "{err}"
    );
    let err = assert_code(
        &run(&["--event", "/nonexistent/event.json"]),
        2,
        "missing event file",
    );
    assert!(err.contains("/nonexistent/event.json"), "{err}");
    let range = format!("{before}..{after}");
    let out = run(&["--range", &range]);
    assert_ok(&out, "ci --range");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains("::warning") && !stdout.contains("::error"),
        "{stdout}"
    );
    assert!(
        stderr.contains("without the stub its policy requires"),
        "{stderr}"
    );
    assert_eq!(
        ci.git(&["status", "--porcelain", "--ignored"]),
        "",
        "nothing in the work tree"
    );
    assert!(
        tmp.join("tombstone-report.sarif").exists(),
        "the report went to TMPDIR"
    );
}

/// A scheduled run over a long history: the step summary lists at most 50 violations and
/// says how many more there are.
#[test]
fn the_step_summary_stays_bounded() {
    let report = git_tombstone::scan::Report {
        violations: (0..120)
            .map(|i| git_tombstone::scan::Violation {
                path: format!("f{i}.py"),
                path_bytes: format!("f{i}.py").into_bytes(),
                commit: "0".repeat(40),
                blob: "1".repeat(40),
                id: format!("tb_{:020}", i),
                category: "code".into(),
            })
            .collect(),
        ..Default::default()
    };
    let md = git_tombstone::report::markdown_bounded(&report, 50);
    assert_eq!(md.matches("| `f").count(), 50);
    assert!(md.contains("and 70 more"), "{md}");
}

/// Adoption: a scheduled run over a history full of old deletions reports none of them as
/// violations when the policy's `since` (a commit or a date) or a `--baseline` file says they
/// predate adoption; they are all archived, and only a new violation fails the run.
#[test]
fn the_baseline_keeps_historical_deletions_out_of_the_violations() {
    let repo = Repo::with_files(&[("a.py", b"a\n"), ("b.py", b"b\n"), ("c.py", b"c\n")]);
    repo.git(&["rm", "-q", "a.py"]);
    repo.git(&["commit", "-q", "-m", "old deletion"]);
    repo.git(&["rm", "-q", "b.py"]);
    repo.git(&["commit", "-q", "-m", "old deletion 2"]);
    let adopted = repo.head();
    // Without a baseline: two violations.
    let out = repo.tomb(&["--json", "scan", "--all", "--fail-on-violation"]);
    assert_code(&out, 1, "historical violations");
    let ids: Vec<String> = json_lines(&out)[0]["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    // A baseline file of ids (or the JSON report itself) sets them aside.
    let baseline = repo.home.join("baseline.txt");
    std::fs::write(&baseline, ids.join("\n")).expect("baseline");
    let b = baseline.to_str().expect("utf8");
    let out = repo.tomb(&[
        "--json",
        "scan",
        "--all",
        "--fail-on-violation",
        "--baseline",
        b,
    ]);
    assert_ok(&out, "baselined");
    let r = &json_lines(&out)[0];
    assert_eq!(r["baselined"], 2);
    assert_eq!(r["violations"].as_array().map(Vec::len), Some(0));
    // The policy's `since`: the adoption commit.
    repo.write(
        ".tombstone.toml",
        format!("since = \"{adopted}\"\n").as_bytes(),
    );
    repo.git(&["add", ".tombstone.toml"]);
    repo.git(&["commit", "-q", "-m", "adopt"]);
    repo.git(&["rm", "-q", "c.py"]);
    repo.git(&["commit", "-q", "-m", "new deletion"]);
    let out = repo.tomb(&["--json", "scan", "--all", "--fail-on-violation"]);
    assert_code(&out, 1, "only the new deletion fails");
    let r = &json_lines(&out)[0];
    assert_eq!(r["baselined"], 2, "{r}");
    assert_eq!(r["violations"][0]["path"], "c.py", "{r}");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 3, "all archived");
    // A date works the same way (every commit here is dated 2026-01-02).
    repo.write(".tombstone.toml", b"since = \"2026-01-03\"\n");
    let out = repo.tomb(&["--json", "scan", "--all"]);
    assert_eq!(json_lines(&out)[0]["baselined"], 3);
}

/// Delete `file` in a commit of its own and push it (forced: the history may have been
/// rewritten); returns the push's (before, after).
fn push_deletion(dev: &Repo, file: &str) -> (String, String) {
    let before = dev.head();
    dev.git(&["rm", "-q", file]);
    dev.git(&["commit", "-qm", &format!("delete {file}")]);
    dev.git(&["push", "-q", "-f", "origin", "main"]);
    (before, dev.head())
}

/// Paths on the archive branch's item records, read from a fresh clone.
fn archived_paths(dev: &Repo, origin: &std::path::Path) -> Vec<String> {
    let fresh = ci_clone(dev, origin, None);
    fresh.git(&[
        "fetch",
        "-q",
        "origin",
        "tombstone-archive:refs/remotes/origin/tombstone-archive",
    ]);
    let out = fresh.tomb(&["--json", "list"]);
    let mut paths: Vec<String> = json_lines(&out)
        .iter()
        .filter_map(|v| v["path"].as_str().map(str::to_owned))
        .collect();
    // No local store in a fresh clone: list reads nothing, so read the branch's records.
    if paths.is_empty() {
        let files = fresh.git(&[
            "ls-tree",
            "-r",
            "--name-only",
            "origin/tombstone-archive",
            "items/",
        ]);
        for f in files.lines() {
            let text = fresh.git(&["show", &format!("origin/tombstone-archive:{f}")]);
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("item json");
                paths.push(v["path"].as_str().expect("path").to_owned());
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

/// Three pushes, each deleting one file; the middle push's run never happens (GitHub cancelled
/// it, or it failed before publishing). The third run, on a fresh runner, continues from where
/// the archive branch says the branch was scanned, so all three deletions are archived. A
/// force push afterwards is covered the same way.
#[test]
fn a_skipped_run_leaves_no_gap_in_the_archive() {
    let dev = Repo::with_files(&[
        ("keep.txt", b"k"),
        ("f1.py", b"1\n"),
        ("f2.py", b"2\n"),
        ("f3.py", b"3\n"),
        ("f4.py", b"4\n"),
    ]);
    let origin = bare_origin(&dev);
    let push = |file: &str| push_deletion(&dev, file);
    let run = |before: &str, after: &str| {
        let ci = ci_clone(&dev, &origin, None);
        let (out, _, _) = run_ci(&ci, "push", push_event(before, after), &["--publish"]);
        assert_ok(&out, "ci run");
    };
    let (b1, a1) = push("f1.py");
    run(&b1, &a1);
    let (_b2, _a2) = push("f2.py"); // no run for this push
    let (b3, a3) = push("f3.py");
    run(&b3, &a3);
    assert_eq!(archived_paths(&dev, &origin), ["f1.py", "f2.py", "f3.py"]);

    // A force push that rewrites the last commit (f4 deleted in its place), then a failed run
    // (nothing published), then a run for a later push.
    dev.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let (b4, a4) = push("f4.py");
    let ci = ci_clone(&dev, &origin, None);
    let mut cmd = ci.command(TOMBSTONE);
    cmd.args(["ci", "--publish"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_EVENT_PATH", "/nonexistent/event.json");
    assert_code(&cmd.output().expect("ci"), 2, "a failed run");
    dev.write("new.txt", b"n");
    dev.commit_all("later");
    dev.git(&["push", "-q", "origin", "main"]);
    let _ = (b4, a4);
    let previous = dev.git(&["rev-parse", "HEAD~1"]);
    run(previous.trim(), &dev.head());
    assert_eq!(
        archived_paths(&dev, &origin),
        ["f1.py", "f2.py", "f3.py", "f4.py"]
    );
    // Every run continued the one CI store: one item file, one unbroken evidence chain.
    assert_one_chain(&dev, &origin, 3); // the failed run published nothing
}

/// The archive branch names one CI store, holds only its item and evidence files, and its
/// evidence log verifies as one chain (`evidence verify --log`) recording `runs` scans.
fn assert_one_chain(dev: &Repo, origin: &std::path::Path, runs: usize) -> String {
    let fresh = ci_clone(dev, origin, None);
    let show = |path: &str| fresh.git(&["show", &format!("origin/tombstone-archive:{path}")]);
    let id = show("ci-store").trim().to_owned();
    let items = fresh.git(&[
        "ls-tree",
        "-r",
        "--name-only",
        "origin/tombstone-archive",
        "items/",
        "evidence/",
    ]);
    assert_eq!(
        items.lines().collect::<Vec<_>>(),
        [format!("evidence/{id}.jsonl"), format!("items/{id}.jsonl")],
        "one store on the branch"
    );
    let log = fresh.home.join(format!("{id}.jsonl"));
    std::fs::write(&log, show(&format!("evidence/{id}.jsonl"))).expect("log");
    let out = fresh.tomb(&[
        "--json",
        "evidence",
        "verify",
        "--log",
        log.to_str().expect("utf8"),
    ]);
    assert_ok(&out, "the branch's log is one unbroken chain");
    let text = std::fs::read_to_string(&log).expect("log");
    let scans = text
        .lines()
        .filter(|l| l.contains(r#""op":"scan""#))
        .count();
    assert_eq!(scans, runs, "one scan line per run, in one chain:\n{text}");
    id
}

/// A schedule on a repository full of old deletions (the first run: nothing on the archive
/// branch yet) archives them all as the baseline: zero violations, exit 0 with
/// `--fail-on-violation`, a short summary. The adoption point it publishes keeps them baseline
/// on later runs, where only a new deletion is a violation.
#[test]
fn a_first_scheduled_run_adopts_the_history_as_baseline() {
    let names: Vec<String> = (0..60).map(|i| format!("old/f{i:02}.py")).collect();
    let mut files: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), b"x = 1\n" as &[u8]))
        .collect();
    files.push(("keep.py", b"k = 1\n"));
    let dev = Repo::with_files(&files);
    for chunk in names.chunks(20) {
        let mut args = vec!["rm", "-q"];
        args.extend(chunk.iter().map(String::as_str));
        dev.git(&args);
        dev.git(&["commit", "-qm", "remove old code"]);
    }
    let origin = bare_origin(&dev);
    let schedule = |ci: &Repo| {
        let mut cmd = ci.command(TOMBSTONE);
        let summary = ci.home.join("summary.md");
        let output = ci.home.join("output");
        cmd.args(["ci", "--publish", "--fail-on-violation"])
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "schedule")
            .env("GITHUB_EVENT_PATH", ci.home.join("event.json"))
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_SHA", ci.head())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", &output)
            .env("RUNNER_TEMP", &ci.home);
        std::fs::write(ci.home.join("event.json"), r#"{"schedule":"17 3 * * *"}"#).expect("event");
        let out = cmd.output().expect("ci");
        (
            out,
            std::fs::read_to_string(output).unwrap_or_default(),
            std::fs::read_to_string(summary).unwrap_or_default(),
        )
    };
    let ci = ci_clone(&dev, &origin, None);
    let (out, outputs, summary) = schedule(&ci);
    assert_ok(&out, "the first scheduled run adopts");
    assert!(outputs.contains("violations=0\n"), "{outputs}");
    assert!(outputs.contains("archived=60\n"), "{outputs}");
    assert!(
        summary.len() < 2_000,
        "bounded summary: {} bytes",
        summary.len()
    );
    assert!(
        summary.contains("60"),
        "the summary counts the baseline: {summary}"
    );
    assert_eq!(archived_paths(&dev, &origin).len(), 60, "all archived");

    // Later: one new deletion, and a run on another fresh runner.
    dev.git(&["rm", "-q", "keep.py"]);
    dev.git(&["commit", "-qm", "drop keep.py"]);
    dev.git(&["push", "-q", "origin", "main"]);
    let ci = ci_clone(&dev, &origin, None);
    let (out, outputs, _) = schedule(&ci);
    assert_code(&out, 1, "only the new deletion is a violation");
    assert!(outputs.contains("violations=1\n"), "{outputs}");
    assert!(
        outputs.contains("archived=1\n"),
        "scanned from the checkpoint: {outputs}"
    );
    assert_one_chain(&dev, &origin, 2);
}

/// Two runs that both rebuilt the CI store from the same branch state publish at once: the
/// second one's push is rejected, its log no longer extends the branch's, so it rebuilds from
/// the branch the first one pushed, scans again and publishes. Nothing is lost, and the log
/// stays one chain. (The first run publishes from the second one's pre-push hook, so the race
/// happens every time.)
#[test]
fn two_runs_publishing_at_once_lose_nothing_and_keep_one_chain() {
    let dev = Repo::with_files(&[
        ("keep.txt", b"k"),
        ("a.py", b"a\n"),
        ("b.py", b"b\n"),
        ("c.py", b"c\n"),
    ]);
    let origin = bare_origin(&dev);
    let push = |file: &str| push_deletion(&dev, file);
    let (b1, a1) = push("a.py");
    let first = ci_clone(&dev, &origin, None);
    let (out, _, _) = run_ci(&first, "push", push_event(&b1, &a1), &["--publish"]);
    assert_ok(&out, "first run");
    let (b2, a2) = push("b.py");
    let (b3, a3) = push("c.py");
    // Run 3 (for c.py) on its own runner, started from run 2's pre-push hook.
    let run3 = ci_clone(&dev, &origin, None);
    let event3 = run3.home.join("event3.json");
    std::fs::write(&event3, push_event(&b3, &a3).to_string()).expect("event");
    let run2 = ci_clone(&dev, &origin, None);
    let flag = run2.home.join("raced");
    let hook = run2.root.join(".git/hooks/pre-push");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\n[ -f '{flag}' ] && exit 0\ntouch '{flag}'\ncd '{root}' && env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE GITHUB_EVENT_PATH='{event}' GITHUB_OUTPUT=/dev/null GITHUB_STEP_SUMMARY=/dev/null '{bin}' ci --publish >'{log}' 2>&1 || {{ echo 'run 3 failed' >&2; cat '{log}' >&2; exit 1; }}\n",
            flag = flag.display(),
            root = run3.root.display(),
            event = event3.display(),
            bin = TOMBSTONE,
            log = run3.home.join("run3.log").display(),
        ),
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let (out, _, _) = run_ci(&run2, "push", push_event(&b2, &a2), &["--publish"]);
    assert_ok(&out, "run 2 publishes after run 3 got in first");
    assert!(flag.exists(), "run 3 ran inside run 2's push");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another run published to the archive branch first"),
        "run 2 rebuilt and retried: {stderr}"
    );
    assert_eq!(archived_paths(&dev, &origin), ["a.py", "b.py", "c.py"]);
    // Run 3 scanned b.py and c.py (from run 1's checkpoint); run 2, rebuilt, found its range
    // already scanned: two scans, and the checkpoint did not go back.
    assert_one_chain(&dev, &origin, 2);
    let fresh = ci_clone(&dev, &origin, None);
    let checkpoint = fresh.git(&[
        "show",
        "origin/tombstone-archive:checkpoints/refs/heads/main",
    ]);
    assert_eq!(
        checkpoint.trim(),
        a3,
        "the checkpoint stays at the newest scanned commit"
    );
}

/// A pull request cannot baseline its own violations by setting `since` in the policy it
/// brings: the base branch's policy decides. The same holds in a merge queue.
#[test]
fn a_pull_request_cannot_baseline_itself() {
    let (dev, origin, _, _) = origin_with_history();
    let base = dev.head();
    dev.write(".tombstone.toml", b"since = \"2099-01-01\"\n");
    dev.git(&["add", ".tombstone.toml"]);
    dev.git(&["rm", "-q", "src/keep.py"]);
    dev.git(&["commit", "-qm", "adopt in the future, and delete"]);
    dev.git(&["push", "-q", "origin", "HEAD:refs/heads/feature"]);
    let head = dev.head();
    let ci = ci_clone(&dev, &origin, None);
    ci.git(&["fetch", "-q", "origin", "feature"]);
    ci.git(&["checkout", "-q", "FETCH_HEAD"]);
    let event = serde_json::json!({
        "pull_request": { "base": { "sha": base }, "head": { "sha": head } }
    });
    let (out, outputs, _) = run_ci(&ci, "pull_request", event, &["--fail-on-violation"]);
    assert_code(&out, 1, "the violation counts");
    assert!(outputs.contains("violations=1\n"), "{outputs}");
    let event = serde_json::json!({
        "merge_group": { "base_sha": base, "head_sha": head }
    });
    let (out, outputs, _) = run_ci(&ci, "merge_group", event, &["--fail-on-violation"]);
    assert_code(&out, 1, "in a merge queue too");
    assert!(outputs.contains("violations=1\n"), "{outputs}");
}
