//! Analytics and interchange with real readers: DuckDB and pyarrow read our Parquet (installed
//! by `scripts/setup-test-deps.sh`), DuckDB ATTACHes our SQLite store; deltas, compaction, the
//! JSONL round trip after losing the database, import checks, the central store, and purge
//! reaching into exports.

use std::path::Path;

use crate::support::*;

/// Run a Python script (with DuckDB and pyarrow) and parse its last stdout line as JSON.
fn python(script: &str, args: &[&str]) -> serde_json::Value {
    let out = crate::support::python(&["duckdb", "pyarrow"])
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().expect("python printed a result");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {last}"))
}

const BINARY: &[u8] = b"\x00\x01\x02\xffPNG\r\n\x1a\n\x00binary";
const TEXT: &[u8] = b"def handler(event):\n    return event['body']\n";

/// A history with deletions: text, binary, non-UTF-8 name, a log; then a scan.
fn archived() -> Repo {
    let repo = Repo::empty();
    repo.write("src/handler.py", TEXT);
    repo.write("assets/logo.png", BINARY);
    repo.write(Path::new(std::ffi::OsStr::new("caf\u{e9}.txt")), b"cafe\n");
    repo.write("logs/build.log", b"ok\n");
    repo.write("README.md", b"readme\n");
    repo.commit_all("init");
    let name = os(b"caf\xc3\xa9.txt");
    let mut rm = repo.command("git");
    rm.args([
        "rm",
        "-q",
        "src/handler.py",
        "assets/logo.png",
        "logs/build.log",
    ])
    .arg(name);
    assert_ok(&rm.output().expect("git rm"), "git rm");
    repo.commit_all("remove");
    assert_ok(&repo.tomb(&["scan", "--all", "-q"]), "scan");
    repo
}

fn parquet_glob(repo: &Repo, dataset: &str) -> String {
    format!(
        "{}/parquet/{dataset}/**/*.parquet",
        repo.store_dir().display()
    )
}

fn dir_fingerprint(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("read");
                out.push((
                    p.display().to_string(),
                    git_tombstone::id::sha256_hex(&bytes),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn duckdb_and_pyarrow_read_the_exported_parquet() {
    let repo = archived();
    let out = repo.tomb(&["--json", "export"]);
    assert_ok(&out, "export");
    let handler_sha = git_tombstone::id::sha256_hex(TEXT);
    let png_sha = git_tombstone::id::sha256_hex(BINARY);
    let v = python(
        r#"
import sys, json, hashlib, duckdb, pyarrow.parquet as pq, glob
items, blobs, png = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
n_items = con.execute(f"SELECT count(*) FROM read_parquet('{items}', hive_partitioning=true)").fetchone()[0]
n_blobs = con.execute(f"SELECT count(*) FROM read_parquet('{blobs}', hive_partitioning=true)").fetchone()[0]
dates = [r[0] for r in con.execute(f"SELECT DISTINCT CAST(date AS VARCHAR) FROM read_parquet('{items}', hive_partitioning=true)").fetchall()]
paths = sorted(r[0] for r in con.execute(f"SELECT path FROM read_parquet('{items}', hive_partitioning=true)").fetchall())
raw = [bytes(r[0]).hex() for r in con.execute(f"SELECT path_bytes FROM read_parquet('{items}') WHERE path LIKE 'caf%'").fetchall()]
state = con.execute(f"SELECT DISTINCT state FROM read_parquet('{items}')").fetchall()
tz = str(con.execute(f"SELECT typeof(archived_at) FROM read_parquet('{items}') LIMIT 1").fetchone()[0])
content, enc = con.execute(f"SELECT content, content_encoding FROM read_parquet('{blobs}') WHERE sha256 = '{png}'").fetchone()
f = sorted(glob.glob(items, recursive=True))[0]
schema = pq.read_schema(f)
bschema = pq.read_schema(sorted(glob.glob(blobs, recursive=True))[0])
print(json.dumps({
  "items": n_items, "blobs": n_blobs, "dates": dates, "paths": paths, "raw": raw,
  "states": [s[0] for s in state], "ts_type": tz,
  "png_sha": hashlib.sha256(bytes(content)).hexdigest(), "enc": enc,
  "schema": {n: str(schema.field(n).type) for n in schema.names},
  "bschema": {n: str(bschema.field(n).type) for n in bschema.names},
}))
"#,
        &[
            &parquet_glob(&repo, "items"),
            &parquet_glob(&repo, "blobs"),
            &png_sha,
        ],
    );
    assert_eq!(v["items"], 4);
    assert_eq!(v["blobs"], 4);
    assert_eq!(v["dates"].as_array().expect("dates").len(), 1);
    assert!(v["dates"][0].as_str().expect("date").starts_with("20"));
    assert_eq!(
        v["paths"],
        serde_json::json!([
            "assets/logo.png",
            "café.txt",
            "logs/build.log",
            "src/handler.py"
        ])
    );
    assert_eq!(v["raw"][0], "636166c3a92e747874");
    assert_eq!(v["states"], serde_json::json!(["archived"]));
    assert_eq!(v["ts_type"], "TIMESTAMP WITH TIME ZONE");
    assert_eq!(
        v["png_sha"], png_sha,
        "blob bytes read by DuckDB hash to their SHA-256"
    );
    assert_eq!(v["enc"], "raw");
    assert_eq!(v["schema"]["archived_at"], "timestamp[ms, tz=UTC]");
    assert_eq!(v["schema"]["path_bytes"], "binary");
    assert_eq!(v["schema"]["lines"], "int64");
    assert_eq!(v["schema"]["legal_hold"], "bool");
    assert_eq!(v["bschema"]["content"], "binary");
    let _ = handler_sha;
}

#[test]
fn duckdb_attaches_the_sqlite_store_and_joins_it_with_parquet() {
    let repo = archived();
    assert_ok(&repo.tomb(&["export"]), "export");
    let db = repo.store_dir().join("archive.sqlite");
    let v = python(
        r#"
import sys, os, json, duckdb, duckdb_extension_sqlite_scanner as ext
db, items = sys.argv[1], sys.argv[2]
path = os.path.join(os.path.dirname(ext.__file__), "extensions", "v" + duckdb.__version__, "sqlite_scanner.duckdb_extension")
con = duckdb.connect()
con.execute(f"LOAD '{path}'")
con.execute(f"ATTACH '{db}' AS store (TYPE sqlite, READ_ONLY)")
joined = con.execute(f"""
  SELECT count(*), count(DISTINCT s.sha256)
  FROM store.items s JOIN read_parquet('{items}', hive_partitioning=true) p ON p.id = s.id
  WHERE p.sha256 = s.sha256 AND p.state = s.state""").fetchone()
total = con.execute("SELECT count(*) FROM store.items").fetchone()[0]
print(json.dumps({"joined": joined[0], "shas": joined[1], "total": total}))
"#,
        &[db.to_str().expect("utf8"), &parquet_glob(&repo, "items")],
    );
    assert_eq!(v["total"], 4);
    assert_eq!(v["joined"], 4, "every SQLite item joins its Parquet row");
}

#[test]
fn exports_are_deltas_of_what_changed_since_the_last_one() {
    let repo = archived();
    let first = json_lines(&repo.tomb(&["--json", "export"]));
    assert_eq!(first[0]["items"], 4);
    assert_eq!(first[0]["blobs"], 4);
    // Nothing changed: nothing written.
    let before = dir_fingerprint(&repo.store_dir().join("parquet"));
    let again = json_lines(&repo.tomb(&["--json", "export"]));
    assert_eq!(again[0]["items"], 0);
    assert_eq!(dir_fingerprint(&repo.store_dir().join("parquet")), before);
    // A new deletion and a state change (hold): only those rows go out, in a new file.
    repo.git(&["rm", "-q", "README.md"]);
    repo.commit_all("remove readme");
    assert_ok(&repo.tomb(&["scan", "--since-last", "-q"]), "scan");
    assert_ok(&repo.tomb(&["hold", "src/**", "--reason", "case"]), "hold");
    let third = json_lines(&repo.tomb(&["--json", "export"]));
    assert_eq!(
        third[0]["items"], 2,
        "README.md (new) and src/handler.py (held)"
    );
    assert_eq!(third[0]["blobs"], 1);
    let files = third[0]["files"].as_array().expect("files").len();
    assert_eq!(files, 2, "one new items file and one new blobs file");
    // Old files untouched (immutable).
    let after = dir_fingerprint(&repo.store_dir().join("parquet"));
    for f in &before {
        assert!(after.contains(f), "{} was rewritten", f.0);
    }
    // Readers take the latest version of each item by change_seq.
    let v = python(
        r#"
import sys, json, duckdb
items = sys.argv[1]
rows = duckdb.sql(f"""
  SELECT path, legal_hold FROM read_parquet('{items}')
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY change_seq DESC) = 1 ORDER BY path""").fetchall()
print(json.dumps({"rows": [[p, h] for p, h in rows]}))
"#,
        &[&parquet_glob(&repo, "items")],
    );
    assert_eq!(v["rows"].as_array().expect("rows").len(), 5);
    assert!(v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .any(|r| r[0] == "src/handler.py" && r[1] == true));
}

#[test]
fn a_store_survives_the_loss_of_its_sqlite_file_through_jsonl() {
    let repo = archived();
    assert_ok(&repo.tomb(&["hold", "logs/**", "--reason", "keep"]), "hold");
    let before_evidence = repo.evidence_lines();
    let file = repo.home.join("code_archive.jsonl.gz");
    assert_ok(
        &repo.tomb(&["export", "--jsonl", file.to_str().expect("utf8")]),
        "export jsonl",
    );
    // Binary content travels as base64, text as UTF-8, odd names with their bytes.
    let text = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&file).expect("open"))
            .read_to_string(&mut s)
            .expect("gunzip");
        s
    };
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let item = |p: &str| {
        lines
            .iter()
            .find(|l| l["type"] == "item" && l["path"] == p)
            .unwrap_or_else(|| panic!("{p}"))
    };
    assert_eq!(item("assets/logo.png")["encoding"], "base64");
    assert_eq!(item("src/handler.py")["encoding"], "utf-8");
    assert_eq!(
        item("src/handler.py")["content"],
        std::str::from_utf8(TEXT).expect("utf8")
    );
    assert_eq!(item("src/handler.py")["language"], "python");
    assert!(lines
        .iter()
        .any(|l| l["type"] == "tombstone" && l["stream"] == "logs"));
    assert_eq!(
        lines.iter().filter(|l| l["type"] == "evidence").count(),
        before_evidence.len() + 1,
        "the export's own evidence line travels with it"
    );
    // Work after the export: its evidence is only in evidence.jsonl, which survives.
    assert_ok(
        &repo.tomb(&["hold", "src/**", "--reason", "later"]),
        "hold after export",
    );
    let before_evidence = repo.evidence_lines();
    // The rebuilt tables take the operations the log has past the export (this hold too).
    let before_list = json_lines(&repo.tomb(&["--json", "list"]));

    // Lose the database.
    for name in ["archive.sqlite", "archive.sqlite-wal", "archive.sqlite-shm"] {
        let _ = std::fs::remove_file(repo.store_dir().join(name));
    }
    let out = repo.tomb(&["--json", "import", file.to_str().expect("utf8")]);
    assert_ok(&out, "import");
    let v = &json_lines(&out)[0];
    assert_eq!(v["items_new"], 4);
    let after_list = json_lines(&repo.tomb(&["--json", "list"]));
    let key = |l: &[serde_json::Value]| {
        l.iter()
            .map(|i| {
                (
                    i["id"].to_string(),
                    i["state"].to_string(),
                    i["legal_hold"].to_string(),
                    i["removed_at"].to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&after_list), key(&before_list));
    // The evidence chain is the same chain, plus the export and import lines.
    let evidence = repo.evidence_lines();
    assert_eq!(&evidence[..before_evidence.len()], &before_evidence[..]);
    assert_ok(&repo.tomb(&["evidence", "verify"]), "evidence verify");
    assert_ok(&repo.tomb(&["verify"]), "verify");
    // Content is back, byte for byte.
    let png = json_lines(&repo.tomb(&["--json", "list", "--path", "*.png"]))[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let out = repo.tomb(&["--json", "restore", &png, "-o", "logo.out"]);
    assert_ok(&out, "restore");
    assert_eq!(json_lines(&out)[0]["source"], "store");
    assert_eq!(repo.read("logo.out"), BINARY);
    // Idempotent.
    let out = repo.tomb(&["--json", "import", file.to_str().expect("utf8")]);
    assert_ok(&out, "second import");
    assert_eq!(json_lines(&out)[0]["items_new"], 0);
}

#[test]
fn import_rejects_forged_records_and_writes_nothing() {
    let repo = archived();
    let file = repo.home.join("a.jsonl");
    assert_ok(
        &repo.tomb(&["export", "--jsonl", file.to_str().expect("utf8")]),
        "export",
    );
    let text = std::fs::read_to_string(&file).expect("read");
    let target = Repo::empty();
    let cases = [
        (
            "content",
            text.replace("return event['body']", "return None"),
        ),
        ("id", {
            let at = text.find("\"id\":\"tb_").expect("an id") + 9;
            let flipped = if &text[at..at + 1] == "0" { "1" } else { "0" };
            format!("{}{flipped}{}", &text[..at], &text[at + 1..])
        }),
        (
            "path",
            text.replacen(
                "\"path\":\"src/handler.py\"",
                "\"path\":\"../../etc/handler.py\"",
                1,
            ),
        ),
    ];
    for (what, forged) in cases {
        if forged == text {
            continue;
        }
        let f = target.home.join(format!("forged-{what}.jsonl"));
        std::fs::write(&f, forged).expect("write");
        let out = target.tomb(&["import", f.to_str().expect("utf8")]);
        let err = assert_code(&out, 1, what);
        assert!(err.contains("record"), "{what}: {err}");
        // Every record is checked before the store is even opened.
        assert!(
            !target.store_dir().join("archive.sqlite").exists(),
            "{what}: nothing imported, no store created"
        );
    }
}

#[test]
fn import_from_parquet_rebuilds_items_and_content() {
    let repo = archived();
    assert_ok(&repo.tomb(&["export"]), "export");
    let other = Repo::empty();
    let out = other.tomb(&["--json", "import", repo.store_dir().to_str().expect("utf8")]);
    assert_ok(&out, "import parquet");
    assert_eq!(json_lines(&out)[0]["items_new"], 4);
    let py = json_lines(&other.tomb(&["--json", "list", "--path", "*.py"]))[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let out = other.tomb(&["restore", &py, "-o", "h.py"]);
    assert_ok(&out, "restore from the imported store");
    assert_eq!(other.read("h.py"), TEXT);
    assert_ok(&other.tomb(&["verify"]), "verify");
}

#[test]
fn compaction_merges_small_files_keeps_rows_and_partitions() {
    let repo = archived();
    assert_ok(&repo.tomb(&["export"]), "export 1");
    for (i, name) in ["a.py", "b.py"].iter().enumerate() {
        repo.write(name, format!("x = {i}\n").as_bytes());
        repo.commit_all("add");
        repo.git(&["rm", "-q", name]);
        repo.commit_all("remove");
        assert_ok(&repo.tomb(&["scan", "--since-last", "-q"]), "scan");
        assert_ok(&repo.tomb(&["export"]), "export n");
    }
    let pq = repo.store_dir().join("parquet");
    let count = |dataset: &str| {
        python(
            "import sys, json, duckdb; print(json.dumps(duckdb.sql(f\"SELECT count(*) FROM read_parquet('{sys.argv[1]}', hive_partitioning=true)\").fetchone()[0]))",
            &[&parquet_glob(&repo, dataset)],
        )
    };
    let files_in = |dataset: &str| dir_fingerprint(&pq.join(dataset)).len();
    assert_eq!(files_in("items"), 3);
    let (items, blobs) = (count("items"), count("blobs"));
    // Dry run: nothing written.
    let before = dir_fingerprint(&pq);
    let out = repo.tomb(&["--json", "compact", "--dry-run"]);
    assert_ok(&out, "dry run");
    assert_eq!(
        json_lines(&out)[0]["merges"]
            .as_array()
            .expect("merges")
            .len(),
        2
    );
    assert_eq!(dir_fingerprint(&pq), before);
    // Too recent for --older-than: nothing.
    let out = repo.tomb(&["--json", "compact", "--older-than", "30d"]);
    assert_ok(&out, "older-than");
    assert!(json_lines(&out)[0]["merges"]
        .as_array()
        .expect("merges")
        .is_empty());
    // Compact: one file per dataset/partition, same rows, hive layout kept.
    let out = repo.tomb(&["--json", "compact", "--level", "19"]);
    assert_ok(&out, "compact");
    assert_eq!(files_in("items"), 1);
    assert_eq!(files_in("blobs"), 1);
    assert_eq!(count("items"), items);
    assert_eq!(count("blobs"), blobs);
    assert!(dir_fingerprint(&pq.join("items"))[0].0.contains("/date="));
    // Remembered: a second run has nothing to do; a file above the threshold is skipped.
    let out = repo.tomb(&["--json", "compact"]);
    assert!(json_lines(&out)[0]["merges"]
        .as_array()
        .expect("merges")
        .is_empty());
    let out = repo.tomb(&["--json", "compact", "--threshold", "1"]);
    assert_eq!(json_lines(&out)[0]["skipped_large"], 2);
    // New deltas after compaction join the compacted file at the next run.
    assert_ok(&repo.tomb(&["hold", "*.py", "--reason", "r"]), "hold");
    assert_ok(&repo.tomb(&["export"]), "export after compaction");
    assert_ok(&repo.tomb(&["compact"]), "compact again");
    assert_eq!(files_in("items"), 1);
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

#[test]
fn sync_builds_a_central_store_across_projects() {
    let central = tempfile::tempdir().expect("tempdir");
    let dest = central.path().to_str().expect("utf8").to_owned();
    let a = archived();
    a.git(&[
        "remote",
        "add",
        "origin",
        "git@github.com:acme/payments.git",
    ]);
    let b = Repo::with_files(&[("old.go", b"package old\n")]);
    b.git(&[
        "remote",
        "add",
        "origin",
        "https://gitlab.com/team/infra.git",
    ]);
    b.git(&["rm", "-q", "old.go"]);
    b.commit_all("rm");
    assert_ok(&b.tomb(&["scan", "--all", "-q"]), "scan b");
    // Dry run writes nothing.
    let out = a.tomb(&["--json", "sync", &dest, "--dry-run"]);
    assert_ok(&out, "dry run");
    assert!(dir_fingerprint(central.path()).is_empty());
    for (repo, host) in [(&a, "ci-1"), (&b, "laptop")] {
        let out = repo
            .command(TOMBSTONE)
            .args(["--json", "sync", &dest])
            .env("GIT_TOMBSTONE_HOSTNAME", host)
            .output()
            .expect("sync");
        assert_ok(&out, "sync");
        assert_eq!(json_lines(&out)[0]["copied"], 2);
    }
    assert!(central
        .path()
        .join("hostname=ci-1/namespace=github__acme/project=payments")
        .is_dir());
    // Incremental: nothing to copy the second time.
    let out = a
        .command(TOMBSTONE)
        .args(["--json", "sync", &dest])
        .env("GIT_TOMBSTONE_HOSTNAME", "ci-1")
        .output()
        .expect("sync");
    assert_eq!(json_lines(&out)[0]["copied"], 0);
    assert_eq!(json_lines(&out)[0]["up_to_date"], 2);
    // DuckDB over the central store, hive columns included.
    let v = python(
        r#"
import sys, json, duckdb
root = sys.argv[1]
rows = duckdb.sql(f"SELECT namespace, project, hostname, count(*) FROM read_parquet('{root}/**/items/*.parquet', hive_partitioning=true) GROUP BY ALL ORDER BY ALL").fetchall()
print(json.dumps([list(r) for r in rows]))
"#,
        &[&dest],
    );
    assert_eq!(
        v,
        serde_json::json!([
            ["github__acme", "payments", "ci-1", 4],
            ["gitlab__team", "infra", "laptop", 1]
        ])
    );
    // list --database reads it too.
    let out = a.tomb(&["--json", "list", "--database", &dest]);
    assert_ok(&out, "list --database");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 5);
    assert!(rows
        .iter()
        .any(|r| r["namespace"] == "gitlab__team" && r["path"] == "old.go"));
    // After compaction, sync replaces the copies and removes the retired ones.
    for i in 0..2 {
        a.write("n.py", format!("{i}\n").as_bytes());
        a.commit_all("add");
        a.git(&["rm", "-q", "n.py"]);
        a.commit_all("rm");
        assert_ok(&a.tomb(&["scan", "--since-last", "-q"]), "scan");
        assert_ok(&a.tomb(&["export"]), "export");
    }
    assert_ok(&a.tomb(&["compact"]), "compact");
    let out = a
        .command(TOMBSTONE)
        .args(["--json", "sync", &dest])
        .env("GIT_TOMBSTONE_HOSTNAME", "ci-1")
        .output()
        .expect("sync");
    assert_ok(&out, "sync after compaction");
    assert!(json_lines(&out)[0]["removed"].as_u64().expect("removed") >= 2);
    let items_a = dir_fingerprint(&central.path().join("hostname=ci-1"))
        .iter()
        .filter(|(p, _)| p.contains("/items/"))
        .count();
    assert_eq!(
        items_a, 1,
        "one compacted items file remains in the central store"
    );
    let out = a
        .command(TOMBSTONE)
        .args(["sync", &dest, "--status"])
        .env("GIT_TOMBSTONE_HOSTNAME", "ci-1")
        .output()
        .expect("status");
    assert_ok(&out, "status");
    assert!(String::from_utf8_lossy(&out.stdout).contains("synced"));
}

#[test]
fn purge_rewrites_parquet_and_jsonl_exports_without_the_content() {
    let repo = archived();
    assert_ok(&repo.tomb(&["export"]), "export parquet");
    let jsonl = repo.store_dir().join("code_archive.jsonl");
    assert_ok(
        &repo.tomb(&["export", "--jsonl", jsonl.to_str().expect("utf8")]),
        "export jsonl",
    );
    let marker = b"return event['body']";
    let search = |needle: &[u8]| {
        dir_fingerprint(&repo.store_dir())
            .into_iter()
            .filter(|(p, _)| {
                std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            })
            .map(|(p, _)| p)
            .collect::<Vec<_>>()
    };
    assert!(
        !search(marker).is_empty(),
        "the JSONL holds the content before the purge"
    );
    let id = json_lines(&repo.tomb(&["--json", "list", "--path", "*.py"]))[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_ok(
        &repo.tomb(&["prune-request", &id, "--reason", "secret"]),
        "request",
    );
    let out = repo.tomb(&[
        "--json", "purge", &id, "--by", "a@x", "--second", "b@x", "--reason", "secret", "--apply",
    ]);
    assert_ok(&out, "purge");
    assert_eq!(
        json_lines(&out)[0]["exports_rewritten"]
            .as_array()
            .expect("list")
            .len(),
        2,
        "the blobs Parquet file and the JSONL file"
    );
    assert_eq!(search(marker), Vec::<String>::new());
    let sha = git_tombstone::id::sha256_hex(TEXT);
    let v = python(
        "import sys, json, duckdb; print(json.dumps(duckdb.sql(f\"SELECT content IS NULL, content_encoding FROM read_parquet('{sys.argv[1]}') WHERE sha256 = '{sys.argv[2]}'\").fetchall()))",
        &[&parquet_glob(&repo, "blobs"), &sha],
    );
    assert_eq!(v, serde_json::json!([[true, "none"]]));
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

#[test]
fn vacuum_drops_content_from_the_parquet_exports_too() {
    let repo = archived();
    assert_ok(&repo.tomb(&["export"]), "export");
    let out = repo.tomb(&["vacuum", "--older-than", "0d", "--force"]);
    assert_ok(&out, "vacuum");
    assert!(String::from_utf8_lossy(&out.stdout).contains("without the vacuumed content"));
    let v = python(
        "import sys, json, duckdb; print(json.dumps(duckdb.sql(f\"SELECT count(*) FILTER (WHERE content IS NOT NULL), count(*) FROM read_parquet('{sys.argv[1]}')\").fetchone()))",
        &[&parquet_glob(&repo, "blobs")],
    );
    assert_eq!(v, serde_json::json!([0, 4]), "rows stay, content goes");
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

#[test]
fn sync_names_the_project_after_the_rewritten_remote() {
    let central = tempfile::tempdir().expect("tempdir");
    let dest = central.path().to_str().expect("utf8").to_owned();
    let a = archived();
    // `url.<base>.insteadOf` applies, as git applies it: `gh:` is GitHub.
    a.git(&["config", "url.https://github.com/.insteadOf", "gh:"]);
    a.git(&["remote", "add", "origin", "gh:acme/tools.git"]);
    let out = a
        .command(TOMBSTONE)
        .args(["--json", "sync", &dest])
        .env("GIT_TOMBSTONE_HOSTNAME", "ci-1")
        .output()
        .expect("sync");
    assert_ok(&out, "sync");
    assert!(central
        .path()
        .join("hostname=ci-1/namespace=github__acme/project=tools")
        .is_dir());
}
