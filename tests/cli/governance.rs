//! Governance on real stores: vacuum (summary, dry run, retention guards, shared content,
//! tombstone streams, stub removal), legal holds, dual-control purge with a byte search of the
//! store directory, evidence verify/checkpoint/export, read-only audit queries, identities.

use std::io::Read;

use crate::support::*;

/// The content purged in the purge tests: long enough that zstd keeps it compressed, and
/// distinctive, so a byte search cannot match anything else.
const PII: &[u8] = b"name,ssn\nJane Roe,078-05-1120\nJohn Doe,219-09-9999\nsecret-marker-7f3a9c\n";

/// A history with deletions in 2024 and in 2026:
/// - 2024-02-01 deletes `old.py`, `shared1.py` and `logs/run.log`;
/// - 2026-11-20 deletes `pii.csv` and `shared2.py` (same bytes as `shared1.py`).
fn history() -> Repo {
    let repo = Repo::empty();
    repo.write("old.py", b"print('old')\n");
    repo.write("shared1.py", b"SHARED = True\n");
    repo.write("shared2.py", b"SHARED = True\n");
    repo.write("pii.csv", PII);
    repo.write("logs/run.log", b"started\nstopped\n");
    repo.write("keep.py", b"keep\n");
    commit_at(&repo, "2024-01-01T00:00:00Z", "init");
    repo.git(&["rm", "-q", "old.py", "shared1.py", "logs/run.log"]);
    commit_at(&repo, "2024-02-01T00:00:00Z", "remove old code");
    repo.git(&["rm", "-q", "pii.csv", "shared2.py"]);
    commit_at(&repo, "2026-11-20T00:00:00Z", "remove pii");
    assert_ok(&repo.tomb(&["scan", "--all", "-q"]), "scan");
    repo
}

fn commit_at(repo: &Repo, date: &str, msg: &str) {
    repo.git(&["add", "-A"]);
    let out = repo
        .command("git")
        .args(["commit", "-q", "-m", msg])
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git commit");
    assert_ok(&out, "commit");
}

fn id_of(repo: &Repo, path: &str) -> String {
    repo.db()
        .query_row("SELECT id FROM items WHERE path_text = ?1", [path], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("no item at {path}: {e}"))
}

fn state_of(repo: &Repo, id: &str) -> String {
    repo.db()
        .query_row("SELECT state FROM items WHERE id = ?1", [id], |r| r.get(0))
        .expect("state")
}

fn has_bytes(repo: &Repo, sha: &str) -> bool {
    repo.db()
        .query_row(
            "SELECT bytes IS NOT NULL FROM blobs WHERE sha256 = ?1",
            [sha],
            |r| r.get(0),
        )
        .expect("blob row")
}

fn sha_of(repo: &Repo, id: &str) -> String {
    repo.db()
        .query_row("SELECT sha256 FROM items WHERE id = ?1", [id], |r| r.get(0))
        .expect("sha")
}

fn stream(repo: &Repo, name: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(repo.store_dir().join(format!("tombstones_{name}.jsonl")))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("stream line is JSON"))
        .collect()
}

/// The `op` of every evidence line, in order.
fn evidence_ops(repo: &Repo) -> Vec<String> {
    repo.evidence_lines()
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["op"]
                .as_str()
                .expect("op")
                .to_owned()
        })
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn tombstone_streams_are_written_as_events_happen_split_by_category() {
    let repo = history();
    let code = stream(&repo, "code");
    let logs = stream(&repo, "logs");
    let paths = |v: &[serde_json::Value]| {
        let mut p: Vec<String> = v
            .iter()
            .map(|l| l["path"].as_str().expect("path").to_owned())
            .collect();
        p.sort();
        p
    };
    assert_eq!(
        paths(&code),
        ["old.py", "pii.csv", "shared1.py", "shared2.py"]
    );
    assert_eq!(paths(&logs), ["logs/run.log"]);
    // The event carries the commit's time (a backfill is dated by history, not by the scan).
    assert_eq!(logs[0]["deleted_at"], "2024-02-01T00:00:00Z");
    assert_eq!(logs[0]["id"], id_of(&repo, "logs/run.log"));

    // The hook path appends too: a deletion committed with the hooks installed.
    assert_ok(&repo.tomb(&["install"]), "install");
    repo.git(&["rm", "-q", "keep.py"]);
    repo.git(&["commit", "-q", "-m", "remove keep"]);
    let code = stream(&repo, "code");
    assert_eq!(code.last().expect("line")["path"], "keep.py");
    assert_eq!(code.last().expect("line")["removed_in_commit"], repo.head());
    assert_ok(&repo.tomb(&["verify"]), "verify checks the streams too");
}

#[test]
fn vacuum_summary_reports_totals_ranges_and_categories() {
    let repo = history();
    let out = repo.tomb(&["--json", "vacuum", "--summary"]);
    assert_ok(&out, "summary");
    let s = &json_lines(&out)[0];
    assert_eq!(s["items"], 5);
    assert_eq!(s["unique_paths"], 5);
    assert_eq!(s["removed_first"], "2024-02-01T00:00:00Z");
    assert_eq!(s["removed_last"], "2026-11-20T00:00:00Z");
    assert_eq!(s["by_category"]["logs"]["items"], 1);
    assert_eq!(s["by_category"]["code"]["items"], 4);
    assert_eq!(s["tombstones"]["code"]["events"], 4);
    // Shared content is stored once.
    let expected = (b"print('old')\n".len()
        + b"SHARED = True\n".len()
        + PII.len()
        + b"started\nstopped\n".len()) as u64;
    assert_eq!(s["content_bytes"], expected);
    let text = repo.tomb_ok(&["vacuum", "--summary"]);
    assert!(text.contains("5 unique path(s)"), "{text}");
}

#[test]
fn a_dry_run_writes_nothing_and_says_why_the_rest_stays() {
    let repo = history();
    assert_ok(
        &repo.tomb(&["hold", "logs/**", "--reason", "litigation 2026-17"]),
        "hold",
    );
    let before = repo.store_fingerprint();
    let out = repo.tomb(&[
        "--json",
        "vacuum",
        "--before",
        "2025-06-01",
        "--dry-run",
        "--gzip-tombstones",
    ]);
    assert_ok(&out, "dry run");
    assert_eq!(
        repo.store_fingerprint(),
        before,
        "the dry run changed the store"
    );
    let v = &json_lines(&out)[0];
    let ids: Vec<&str> = v["plan"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    let mut want = vec![id_of(&repo, "old.py"), id_of(&repo, "shared1.py")];
    want.sort();
    let mut got: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(v["plan"]["kept"][0]["id"], id_of(&repo, "logs/run.log"));
    assert!(v["plan"]["kept"][0]["why"]
        .as_str()
        .expect("why")
        .contains("litigation 2026-17"));
    assert_eq!(v["plan"]["blobs_shared"][0][1], id_of(&repo, "shared2.py"));
    assert_eq!(
        v["plan"]["not_eligible"]["removed on or after the cut-off"],
        2
    );
    let text = repo.tomb_ok(&["vacuum", "--before", "2025-06-01", "--dry-run"]);
    assert!(text.contains("dry run: nothing was changed"), "{text}");
    assert_eq!(repo.store_fingerprint(), before);
}

#[test]
fn vacuum_drops_old_content_keeps_metadata_shared_content_and_held_items() {
    let repo = history();
    let old = id_of(&repo, "old.py");
    let shared1 = id_of(&repo, "shared1.py");
    let log = id_of(&repo, "logs/run.log");
    let evidence_before = repo.evidence_lines().len();
    assert_ok(&repo.tomb(&["hold", &log, "--reason", "audit"]), "hold");
    assert_ok(
        &repo.tomb(&["vacuum", "--before", "2025-06-01", "--gzip-tombstones"]),
        "vacuum",
    );
    assert_eq!(state_of(&repo, &old), "vacuumed");
    assert_eq!(state_of(&repo, &shared1), "vacuumed");
    assert_eq!(
        state_of(&repo, &log),
        "archived",
        "a held item is never touched"
    );
    assert!(
        !has_bytes(&repo, &sha_of(&repo, &old)),
        "old content dropped"
    );
    assert!(
        has_bytes(&repo, &sha_of(&repo, &shared1)),
        "content still used by shared2.py is kept"
    );
    assert!(has_bytes(&repo, &sha_of(&repo, &log)));
    // Metadata stays, and the operation is in the evidence log (hold + vacuum).
    assert_eq!(repo.count("SELECT COUNT(*) FROM items"), 5);
    let lines = repo.evidence_lines();
    assert_eq!(lines.len(), evidence_before + 2);
    assert!(lines.last().expect("line").contains("\"op\":\"vacuum\""));
    // The streams lost the old code events, kept the held log's and the new ones.
    let code: Vec<String> = stream(&repo, "code")
        .iter()
        .map(|l| l["path"].as_str().expect("path").to_owned())
        .collect();
    assert_eq!(code, ["pii.csv", "shared2.py"]);
    assert_eq!(stream(&repo, "logs").len(), 1);
    // The .gz copies hold exactly the pruned streams.
    for name in ["code", "logs"] {
        let gz = std::fs::read(repo.store_dir().join(format!("tombstones_{name}.jsonl.gz")))
            .expect("gz written");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .expect("gunzip");
        let plain =
            std::fs::read_to_string(repo.store_dir().join(format!("tombstones_{name}.jsonl")))
                .expect("stream");
        assert_eq!(text, plain);
    }
    // Restore says the content was vacuumed and falls back to the git object database.
    let out = repo.tomb(&["--json", "restore", &old, "-o", "old-restored.py"]);
    assert_ok(&out, "restore a vacuumed item");
    assert_eq!(json_lines(&out)[0]["source"], "git-object-db");
    assert!(stderr(&out).contains("vacuumed"), "{}", stderr(&out));
    assert_eq!(repo.read("old-restored.py"), b"print('old')\n");
    assert_ok(&repo.tomb(&["verify"]), "verify after vacuum");
    // A second run finds nothing more to do and appends no evidence.
    let n = repo.evidence_lines().len();
    assert_ok(&repo.tomb(&["vacuum", "--before", "2025-06-01"]), "rerun");
    assert_eq!(repo.evidence_lines().len(), n);
}

#[test]
fn a_cutoff_younger_than_retention_is_refused_without_force() {
    let repo = history();
    let now = "2026-11-23T00:00:00Z";
    let out = repo
        .command(TOMBSTONE)
        .args(["vacuum", "--before", "2026-11-21"])
        .env("GIT_TOMBSTONE_NOW", now)
        .output()
        .expect("run");
    let err = assert_code(&out, 2, "young cut-off");
    assert!(
        err.contains("retention.min_days") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(state_of(&repo, &id_of(&repo, "pii.csv")), "archived");
    // --older-than is measured from now, and the policy's min_days can be changed.
    repo.write(
        ".tombstone.toml",
        b"version = 1\n[retention]\nmin_days = 1\n",
    );
    let out = repo
        .command(TOMBSTONE)
        .args(["vacuum", "--older-than", "2d"])
        .env("GIT_TOMBSTONE_NOW", now)
        .output()
        .expect("run");
    assert_ok(&out, "older-than 2d with min_days = 1");
    assert_eq!(state_of(&repo, &id_of(&repo, "pii.csv")), "vacuumed");
    let out = repo
        .command(TOMBSTONE)
        .args(["vacuum", "--older-than", "0d", "--force"])
        .env("GIT_TOMBSTONE_NOW", now)
        .output()
        .expect("run");
    assert_ok(&out, "--force");
    let bad = repo.tomb(&["vacuum", "--older-than", "soon"]);
    assert_code(&bad, 2, "bad age");
}

#[test]
fn vacuum_by_category_and_remove_stubs() {
    let repo = Repo::with_files(&[("src/legacy.py", b"legacy = 1\n"), ("notes.log", b"x\n")]);
    // Archive with a stub in 2024 (GIT_TOMBSTONE_NOW dates the records), bound by the hook.
    assert_ok(&repo.tomb(&["install"]), "install");
    let at_2024 = |args: &[&str]| {
        repo.command(TOMBSTONE)
            .args(args)
            .env("GIT_TOMBSTONE_NOW", "2024-03-01T00:00:00Z")
            .output()
            .expect("run")
    };
    assert_ok(&at_2024(&["archive", "src/legacy.py"]), "archive");
    let out = repo
        .command("git")
        .args(["commit", "-q", "-m", "stub legacy"])
        .env("GIT_TOMBSTONE_NOW", "2024-03-01T00:00:00Z")
        .output()
        .expect("commit");
    assert_ok(&out, "commit");
    let id = id_of(&repo, "src/legacy.py");
    // A category filter that does not match leaves it alone.
    assert_ok(
        &repo.tomb(&[
            "vacuum",
            "--before",
            "2025-01-01",
            "--category",
            "logs",
            "--remove-stubs",
        ]),
        "vacuum logs only",
    );
    assert_eq!(state_of(&repo, &id), "archived");
    assert!(repo.path("src/legacy.py.tombstone").exists());
    let out = repo.tomb(&["vacuum", "--before", "2025-01-01", "--remove-stubs"]);
    assert_ok(&out, "vacuum with --remove-stubs");
    assert_eq!(state_of(&repo, &id), "vacuumed");
    assert!(
        !repo.path("src/legacy.py.tombstone").exists(),
        "stub deleted"
    );
    let staged = repo.git(&["diff", "--cached", "--name-status"]);
    assert_eq!(staged.trim(), "D\tsrc/legacy.py.tombstone");
}

#[test]
fn legal_hold_by_id_glob_or_commit_blocks_vacuum_and_purge_until_released() {
    let repo = history();
    let pii = id_of(&repo, "pii.csv");
    let removing = repo.head();
    let out = repo.tomb(&[
        "--json",
        "hold",
        "--commit",
        &removing[..10],
        "--reason",
        "case 17",
        "--by",
        "counsel@example.com",
    ]);
    assert_ok(&out, "hold by commit");
    let v = &json_lines(&out)[0];
    assert_eq!(
        v["ids"].as_array().expect("ids").len(),
        2,
        "pii.csv and shared2.py"
    );
    // Visible in list and show.
    let list = json_lines(&repo.tomb(&["--json", "list"]));
    let held: Vec<&str> = list
        .iter()
        .filter(|i| i["legal_hold"] == true)
        .map(|i| i["path"].as_str().expect("path"))
        .collect();
    assert_eq!(held, ["pii.csv", "shared2.py"]);
    let show = &json_lines(&repo.tomb(&["--json", "show", &pii]))[0];
    assert_eq!(show["hold"]["reason"], "case 17");
    assert_eq!(show["hold"]["placed_by"], "counsel@example.com");
    assert!(repo.tomb_ok(&["list"]).contains("archived+hold"));
    // Purge is blocked.
    assert_ok(
        &repo.tomb(&["prune-request", &pii, "--reason", "PII"]),
        "request",
    );
    let out = repo.tomb(&[
        "purge",
        &pii,
        "--by",
        "a@example.com",
        "--second",
        "b@example.com",
        "--reason",
        "PII",
        "--apply",
    ]);
    let err = assert_code(&out, 1, "purge of a held item");
    assert!(
        err.contains("legal hold") && err.contains("case 17"),
        "{err}"
    );
    assert!(has_bytes(&repo, &sha_of(&repo, &pii)));
    // Vacuum (forced, everything) leaves held items alone.
    assert_ok(
        &repo.tomb(&["vacuum", "--older-than", "0d", "--force"]),
        "vacuum",
    );
    assert_eq!(state_of(&repo, &pii), "archived");
    // Release by glob; then vacuum takes it.
    let out = repo.tomb(&["--json", "release", "*.csv", "--reason", "case closed"]);
    assert_ok(&out, "release");
    assert_eq!(json_lines(&out)[0]["ids"][0], pii);
    assert_ok(
        &repo.tomb(&["vacuum", "--older-than", "0d", "--force"]),
        "vacuum",
    );
    assert_eq!(state_of(&repo, &pii), "vacuumed");
    let ops = evidence_ops(&repo);
    assert!(ops.contains(&"hold".to_owned()) && ops.contains(&"release".to_owned()));
    // Unknown targets are errors, not silent no-ops.
    assert_code(
        &repo.tomb(&["hold", "nope/**", "--reason", "x"]),
        2,
        "unknown glob",
    );
}

/// Every file under the store directory, searched for `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(p.display().to_string());
                }
            }
        }
    }
    hits
}

#[test]
fn purge_needs_two_distinct_approvers_and_destroys_the_bytes_everywhere_in_the_store() {
    let repo = history();
    let pii = id_of(&repo, "pii.csv");
    let sha = sha_of(&repo, &pii);
    let stored: Vec<u8> = repo
        .db()
        .query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", [&sha], |r| {
            r.get(0)
        })
        .expect("stored bytes");
    let marker = b"secret-marker-7f3a9c";
    // Before: the stored (compressed) form is in the store; the search can find it.
    assert!(
        !files_containing(&repo.store_dir(), &stored).is_empty(),
        "search finds the stored bytes before the purge"
    );

    // No request yet.
    let err = assert_code(
        &repo.tomb(&["purge", &pii, "--by", "a@example.com", "--reason", "PII"]),
        2,
        "purge without request",
    );
    assert!(err.contains("prune-request"), "{err}");
    assert_ok(
        &repo.tomb(&[
            "prune-request",
            &pii,
            "--reason",
            "Contains PII",
            "--by",
            "req@example.com",
        ]),
        "request",
    );
    // The same identity twice, in one invocation: refused.
    let err = assert_code(
        &repo.tomb(&[
            "purge",
            &pii,
            "--by",
            "a@example.com",
            "--second",
            "a@example.com",
            "--reason",
            "PII",
            "--apply",
        ]),
        2,
        "same approver twice",
    );
    assert!(err.contains("two distinct approvers"), "{err}");
    // First approval without --apply: recorded, nothing destroyed.
    assert_ok(
        &repo.tomb(&["purge", &pii, "--by", "a@example.com", "--reason", "PII"]),
        "approve 1",
    );
    assert!(has_bytes(&repo, &sha));
    // The same identity again in a later invocation: refused.
    assert_code(
        &repo.tomb(&[
            "purge",
            &pii,
            "--by",
            "a@example.com",
            "--reason",
            "PII",
            "--apply",
        ]),
        2,
        "same approver in a second run",
    );
    assert!(has_bytes(&repo, &sha));
    assert_eq!(repo.count("SELECT COUNT(*) FROM purge_approvals"), 1);
    // A second, distinct approver applies.
    let out = repo.tomb(&[
        "--json",
        "purge",
        &pii,
        "--by",
        "b@example.com",
        "--reason",
        "PII",
        "--apply",
    ]);
    assert_ok(&out, "approve 2 + apply");
    let v = &json_lines(&out)[0];
    assert_eq!(
        v["applied"]["approvers"],
        serde_json::json!(["a@example.com", "b@example.com"])
    );
    assert_eq!(state_of(&repo, &pii), "purged");
    assert!(!has_bytes(&repo, &sha));

    // After: neither the stored form nor the raw content is anywhere under the store directory.
    let dir = repo.store_dir();
    assert_eq!(
        files_containing(&dir, &stored),
        Vec::<String>::new(),
        "stored bytes survived the purge"
    );
    assert_eq!(files_containing(&dir, PII), Vec::<String>::new());
    assert_eq!(files_containing(&dir, marker), Vec::<String>::new());

    // Metadata and evidence remain; restore fails with who approved and when.
    assert_eq!(repo.count("SELECT COUNT(*) FROM items"), 5);
    let out = repo.restore(&[&pii]);
    let err = assert_code(&out, 1, "restore of a purged item");
    assert!(
        err.contains("purged") && err.contains("a@example.com") && err.contains("b@example.com"),
        "{err}"
    );
    let ops = evidence_ops(&repo);
    for op in ["prune-request", "purge-approve", "purge"] {
        assert!(ops.contains(&op.to_owned()), "{op} in {ops:?}");
    }
    assert_ok(&repo.tomb(&["verify"]), "verify after purge");
    // Rerunning --apply is harmless.
    assert_ok(
        &repo.tomb(&["purge", &pii, "--reason", "PII", "--apply"]),
        "rerun apply",
    );
}

#[test]
fn purging_shared_content_purges_every_item_that_holds_it() {
    let repo = history();
    let one = id_of(&repo, "shared1.py");
    let two = id_of(&repo, "shared2.py");
    assert_ok(
        &repo.tomb(&["prune-request", &two, "--reason", "secret"]),
        "request",
    );
    let out = repo.tomb(&[
        "--json", "purge", &two, "--by", "a@x", "--second", "b@x", "--reason", "secret", "--apply",
    ]);
    assert_ok(&out, "purge");
    let items = &json_lines(&out)[0]["applied"]["items"];
    assert_eq!(items.as_array().expect("items").len(), 2);
    assert_eq!(state_of(&repo, &one), "purged");
    assert_eq!(state_of(&repo, &two), "purged");
}

/// Rewrite the whole evidence log (file and database) with line 1 changed and the chain
/// recomputed, so the chain check alone passes: only a checkpoint can tell.
fn forge_history(repo: &Repo) {
    let db = repo.db();
    let lines: Vec<(i64, String)> = {
        let mut stmt = db
            .prepare("SELECT seq, line FROM evidence ORDER BY seq")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let mut prev = "0".repeat(64);
    let mut out = String::new();
    for (seq, line) in lines {
        let mut v: serde_json::Value = serde_json::from_str(&line).expect("json");
        if seq == 1 {
            v["actor"] = "someone else".into();
        }
        v["prev"] = prev.clone().into();
        let text = serde_json::to_string(&v).expect("encode");
        let digest = git_tombstone::id::sha256_hex(text.as_bytes());
        db.execute(
            "UPDATE evidence SET line = ?2, digest = ?3 WHERE seq = ?1",
            rusqlite::params![seq, text, digest],
        )
        .expect("update");
        out.push_str(&text);
        out.push('\n');
        prev = digest;
    }
    std::fs::write(repo.store_dir().join("evidence.jsonl"), out).expect("write log");
}

#[test]
fn evidence_checkpoints_prove_the_log_was_only_appended_to() {
    let repo = history();
    let out = repo.tomb(&["--json", "evidence", "checkpoint"]);
    assert_ok(&out, "checkpoint");
    let cp = &json_lines(&out)[0];
    let size = cp["size"].as_u64().expect("size") as usize;
    // The root is RFC 6962's over the lines as they were.
    let lines = repo.evidence_lines();
    let expected =
        git_tombstone::governance::merkle::root_hex(lines[..size].iter().map(|l| l.as_bytes()));
    assert_eq!(cp["root"], expected);
    let note = repo.git(&["notes", "--ref=tombstone", "show", "HEAD"]);
    assert!(
        note.contains(&format!("root={expected}")) && note.contains(&format!("size={size}")),
        "{note}"
    );

    // Appending is fine.
    assert_ok(&repo.tomb(&["hold", "*.py", "--reason", "later"]), "append");
    let out = repo.tomb(&["evidence", "verify", "--against-checkpoint"]);
    assert_ok(&out, "verify against checkpoint");
    assert!(String::from_utf8_lossy(&out.stdout).contains("matches"));

    // A clone that fetched the notes checks a copy of the log.
    let log_copy = repo.path("evidence-copy.jsonl");
    std::fs::copy(repo.store_dir().join("evidence.jsonl"), &log_copy).expect("copy");
    let clone_dir = repo.home.join("clone");
    repo.git(&[
        "clone",
        "-q",
        repo.root.to_str().expect("utf8"),
        clone_dir.to_str().expect("utf8"),
    ]);
    let in_clone = |args: &[&str]| {
        repo.command(TOMBSTONE)
            .current_dir(&clone_dir)
            .args(args)
            .output()
            .expect("run")
    };
    let fetch = repo
        .command("git")
        .current_dir(&clone_dir)
        .args([
            "fetch",
            "-q",
            "origin",
            "refs/notes/tombstone:refs/notes/tombstone",
        ])
        .output()
        .expect("fetch notes");
    assert_ok(&fetch, "fetch notes");
    let log_arg = log_copy.to_str().expect("utf8");
    assert_ok(
        &in_clone(&[
            "evidence",
            "verify",
            "--log",
            log_arg,
            "--against-checkpoint",
        ]),
        "clone verifies the copy",
    );

    // A rewritten history with a consistent chain passes the chain check but not the checkpoint.
    forge_history(&repo);
    assert_ok(
        &repo.tomb(&["evidence", "verify"]),
        "the forged chain is self-consistent",
    );
    let out = repo.tomb(&["--json", "evidence", "verify", "--against-checkpoint"]);
    assert_code(&out, 1, "checkpoint catches the rewrite");
    let v = &json_lines(&out)[0];
    assert_eq!(v["ok"], false);
    assert!(v["checkpoints"][0]["problem"]
        .as_str()
        .expect("problem")
        .contains("no longer hash"));

    // A torn log: the first bad line is reported.
    let path = repo.store_dir().join("evidence.jsonl");
    let text = std::fs::read_to_string(&path).expect("log");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(2);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let out = repo.tomb(&["--json", "evidence", "verify"]);
    assert_code(&out, 1, "a removed line");
    assert_eq!(json_lines(&out)[0]["first_bad_line"]["line"], 3);
}

#[test]
fn evidence_export_prints_lines_with_their_digests() {
    let repo = history();
    let out = repo.tomb_ok(&["evidence", "export", "--since", "2"]);
    let lines = repo.evidence_lines();
    let printed: Vec<&str> = out.lines().collect();
    assert_eq!(printed.len(), lines.len() - 1);
    for (p, l) in printed.iter().zip(&lines[1..]) {
        let digest = git_tombstone::id::sha256_hex(l.as_bytes());
        assert_eq!(*p, format!("{digest}  {l}"));
    }
    let digest2 = repo.tomb_ok(&["evidence", "digest", "2"]);
    assert!(out.starts_with(digest2.trim()));
    let md = repo.tomb_ok(&["evidence", "export", "--since", "1", "--markdown"]);
    assert!(md.contains("| 1 | archive | `"), "{md}");
    let json = json_lines(&repo.tomb(&["--json", "evidence", "export", "--since", "3"]));
    assert_eq!(json[0]["seq"], 3);
}

#[test]
fn audit_queries_run_as_the_runbook_writes_them_and_writes_are_refused() {
    let repo = history();
    repo.git(&[
        "remote",
        "add",
        "origin",
        "git@github.com:acme/payments.git",
    ]);
    // Any write teaches the store the project identity.
    assert_ok(&repo.tomb(&["hold", "old.py", "--reason", "x"]), "a write");
    let out = repo.tomb(&["--json", "query", "SELECT repo, path, archived_at, tombstone_id FROM item ORDER BY archived_at DESC LIMIT 100"]);
    assert_ok(&out, "reconciliation query");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter().all(|r| r["repo"] == "github__acme/payments"),
        "{rows:?}"
    );
    let out = repo.tomb(&["--json", "query", "SELECT content_sha256, COUNT(*) AS reuse_count FROM artifact a JOIN item i ON i.artifact_id = a.id GROUP BY content_sha256 HAVING COUNT(*) > 1"]);
    assert_ok(&out, "dedup query");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["reuse_count"], 2);
    let out = repo.tomb_ok(&["query", "SELECT json_group_array(metadata) FROM item"]);
    assert!(out.contains("[\"{}\""), "{out}");
    // Paths are stored as bytes: printable UTF-8 is shown as text, JSON keeps the hex too.
    let out = repo.tomb_ok(&["query", "SELECT path FROM items WHERE path_text = 'old.py'"]);
    assert!(out.lines().any(|l| l.trim() == "old.py"), "{out}");
    let out = repo.tomb(&[
        "--json",
        "query",
        "SELECT path, X'ff00' AS raw FROM items WHERE path_text = 'old.py'",
    ]);
    let row = &json_lines(&out)[0];
    assert_eq!(row["path"]["text"], "old.py");
    assert_eq!(row["path"]["hex"], "6f6c642e7079");
    assert_eq!(row["raw"], serde_json::json!({ "hex": "ff00" }));
    let before = repo.store_fingerprint();
    for sql in [
        "DELETE FROM items",
        "UPDATE blobs SET bytes = NULL",
        "INSERT INTO meta VALUES ('x', 'y')",
        "DROP TABLE items",
        "PRAGMA user_version = 99",
        "SELECT 1; DELETE FROM items",
    ] {
        let out = repo.tomb(&["query", sql]);
        assert_code(&out, 2, sql);
    }
    assert_eq!(
        repo.store_fingerprint(),
        before,
        "a refused query changed the store"
    );
    assert_eq!(repo.count("SELECT COUNT(*) FROM items"), 5);
}

#[test]
fn actors_come_from_git_or_github_and_by_overrides() {
    let repo = history();
    repo.git(&["config", "user.name", "Grace Hopper"]);
    repo.git(&["config", "user.email", "grace@example.com"]);
    let old = id_of(&repo, "old.py");
    // Without GIT_COMMITTER_* in the environment, git's identity is the configured user.
    let out = repo
        .command(TOMBSTONE)
        .args(["hold", &old, "--reason", "one"])
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .output()
        .expect("run");
    assert_ok(&out, "hold");
    let out = repo
        .command(TOMBSTONE)
        .args(["release", &old, "--reason", "two"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ACTOR", "octocat")
        .output()
        .expect("run");
    assert_ok(&out, "release in CI");
    assert_ok(
        &repo.tomb(&[
            "hold",
            &old,
            "--reason",
            "three",
            "--by",
            "Legal <legal@example.com>",
        ]),
        "hold --by",
    );
    let actors: Vec<String> = repo
        .evidence_lines()
        .iter()
        .rev()
        .take(3)
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["actor"]
                .as_str()
                .expect("actor")
                .to_owned()
        })
        .collect();
    assert_eq!(
        actors,
        [
            "Legal <legal@example.com>",
            "octocat",
            "Grace Hopper <grace@example.com>"
        ]
    );
    let placed: Vec<String> = {
        let db = repo.db();
        let mut stmt = db
            .prepare("SELECT placed_by FROM holds ORDER BY id")
            .expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("q")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(
        placed,
        [
            "Grace Hopper <grace@example.com>",
            "Legal <legal@example.com>"
        ]
    );
}

#[test]
fn verify_catches_an_edited_tombstone_stream() {
    let repo = history();
    let path = repo.store_dir().join("tombstones_code.jsonl");
    let text = std::fs::read_to_string(&path).expect("stream");
    std::fs::write(&path, text.replacen("old.py", "new.py", 1)).expect("edit");
    let out = repo.tomb(&["verify"]);
    assert_code(&out, 1, "verify");
    assert!(String::from_utf8_lossy(&out.stdout).contains("tombstones_code.jsonl"));
}
