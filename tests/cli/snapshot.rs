//! `snapshot`: whole-tree archives, deduplicated; `--update` tracks deletions into the
//! tombstone streams; live rows; the `files` dataset read by DuckDB.

use crate::support::*;

fn tree() -> Repo {
    let repo = Repo::with_files(&[
        ("src/app.py", b"app = 1\n"),
        ("src/util.py", b"util = 1\n"),
        ("src/copy.py", b"app = 1\n"),
        ("docs/guide.md", b"# guide\n"),
        ("logs/run.log", b"started\n"),
        ("vendor/lib.js", b"lib()\n"),
        ("tmp/scratch.txt", b"scratch\n"),
    ]);
    repo.write(
        ".tombstone.toml",
        b"version = 1\n[[rules]]\npaths = [\"tmp/**\"]\naction = \"ignore\"\n[[rules]]\npaths = [\"logs/**\"]\naction = \"archive\"\ncategory = \"logs\"\n",
    );
    repo.commit_all("policy");
    repo
}

fn live_paths(repo: &Repo) -> Vec<String> {
    json_lines(&repo.tomb(&["--json", "list", "--live"]))
        .iter()
        .map(|v| v["path"].as_str().expect("path").to_owned())
        .collect()
}

#[test]
fn a_snapshot_archives_the_filtered_tree_and_a_repeat_costs_only_what_changed() {
    let repo = tree();
    let out = repo.tomb(&[
        "--json",
        "snapshot",
        "--deny-glob",
        "vendor/**",
        "--workers",
        "2",
    ]);
    assert_ok(&out, "snapshot");
    let v = &json_lines(&out)[0];
    // .tombstone.toml, docs, logs, src ×3; not vendor (denied) nor tmp (policy ignore).
    assert_eq!(v["files"], 6);
    assert_eq!(v["added"], 6);
    assert_eq!(
        live_paths(&repo),
        [
            ".tombstone.toml",
            "docs/guide.md",
            "logs/run.log",
            "src/app.py",
            "src/copy.py",
            "src/util.py"
        ]
    );
    // Identical content is stored once.
    assert_eq!(repo.count("SELECT COUNT(*) FROM blobs"), 5);
    // The same snapshot again reads nothing and records nothing.
    let evidence = repo.evidence_lines().len();
    let out = repo.tomb(&["--json", "snapshot", "--deny-glob", "vendor/**"]);
    let v = &json_lines(&out)[0];
    assert_eq!(v["unchanged"], 6);
    assert_eq!(v["new_content_bytes"], 0);
    assert_eq!(repo.evidence_lines().len(), evidence);
    // One change: one new row, the old one superseded.
    repo.write("src/util.py", b"util = 2\n");
    repo.commit_all("edit");
    let out = repo.tomb(&[
        "--json",
        "snapshot",
        "--deny-glob",
        "vendor/**",
        "--workers",
        "1",
    ]);
    let v = &json_lines(&out)[0];
    assert_eq!(v["changed"], 1);
    assert_eq!(v["unchanged"], 5);
    assert_eq!(
        repo.count("SELECT COUNT(*) FROM snapshot_files WHERE superseded_at IS NOT NULL"),
        1
    );
    assert_eq!(repo.count("SELECT COUNT(*) FROM live_files"), 6);
    // Only allowed paths with --allow-glob.
    let other = tree();
    let out = other.tomb(&["--json", "snapshot", "--allow-glob", "src/**"]);
    assert_eq!(json_lines(&out)[0]["files"], 3);
}

#[test]
fn snapshot_update_marks_deletions_with_their_commit_and_streams_them() {
    let repo = tree();
    assert_ok(&repo.tomb(&["snapshot"]), "first snapshot");
    repo.git(&["rm", "-q", "src/util.py", "logs/run.log"]);
    let out = repo
        .command("git")
        .args(["commit", "-q", "-m", "remove"])
        .env("GIT_COMMITTER_DATE", "2026-03-04T05:06:07Z")
        .output()
        .expect("commit");
    assert_ok(&out, "commit");
    let deleting = repo.head();
    repo.write("new.py", b"new\n");
    repo.commit_all("later");
    let out = repo.tomb(&["--json", "snapshot", "--update"]);
    assert_ok(&out, "update");
    let v = &json_lines(&out)[0];
    assert_eq!(v["deleted"], 2);
    assert_eq!(v["added"], 1);
    let db = repo.db();
    let (at, commit): (String, String) = db
        .query_row(
            "SELECT deleted_at, deleted_in_commit FROM snapshot_files WHERE path_text = 'src/util.py'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!(commit, deleting);
    assert_eq!(at, "2026-03-04T05:06:07Z");
    assert!(!live_paths(&repo).contains(&"src/util.py".to_owned()));
    let stream = |name: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(repo.store_dir().join(format!("tombstones_{name}.jsonl")))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect()
    };
    let code = stream("code");
    assert_eq!(code.len(), 1);
    assert_eq!(code[0]["path"], "src/util.py");
    assert_eq!(code[0]["origin"], "snapshot");
    assert_eq!(code[0]["removed_in_commit"], deleting);
    assert_eq!(stream("logs")[0]["path"], "logs/run.log");
    // Without --update nothing is marked deleted.
    let other = tree();
    assert_ok(&other.tomb(&["snapshot"]), "snapshot");
    other.git(&["rm", "-q", "src/app.py"]);
    other.commit_all("rm");
    let out = other.tomb(&["--json", "snapshot"]);
    assert_eq!(json_lines(&out)[0]["deleted"], 0);
    // Audit queries over active rows.
    let rows = json_lines(&repo.tomb(&[
        "--json",
        "query",
        "SELECT count(*) AS n FROM live_files WHERE category = 'code'",
    ]));
    // This policy has no docs/configs rules: everything but logs is `code`, and vendor/ is in.
    assert_eq!(
        rows[0]["n"], 6,
        ".tombstone.toml, docs, vendor, src/app.py, src/copy.py, new.py"
    );
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

#[test]
fn exports_carry_snapshot_rows_for_duckdb() {
    let repo = tree();
    assert_ok(&repo.tomb(&["snapshot"]), "snapshot");
    repo.git(&["rm", "-q", "src/app.py"]);
    repo.commit_all("rm");
    assert_ok(&repo.tomb(&["snapshot", "--update"]), "update");
    let out = repo.tomb(&["--json", "export"]);
    assert_ok(&out, "export");
    assert_eq!(json_lines(&out)[0]["files_rows"], 7);
    let glob = format!("{}/parquet/files/**/*.parquet", repo.store_dir().display());
    let out = crate::support::python(&["duckdb"])
        .arg("-c")
        .arg("import sys, duckdb; r = duckdb.sql(f\"SELECT count(*) FILTER (WHERE deleted_at IS NULL), count(*) FILTER (WHERE deleted_at IS NOT NULL), any_value(date) IS NOT NULL FROM read_parquet('{sys.argv[1]}', hive_partitioning=true)\").fetchone(); print(r[0], r[1], r[2])")
        .arg(&glob)
        .output()
        .expect("python3");
    assert_ok(&out, "duckdb");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "6 1 True");
}
