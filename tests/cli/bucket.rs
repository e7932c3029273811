//! The central store on S3-compatible object storage (`sync s3://…`, `list --database s3://…`,
//! `compact --dest s3://…`) against a real Garage server: the one `scripts/test.sh` starts
//! (scripts/garage.sh), each test under a prefix of its own, or a server of the test's own when
//! the test stops it. DuckDB reads the bucket with its httpfs extension; the PostgreSQL catalog
//! is the one of tests/cli/catalog.rs.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::catalog::{database, project, psql};
use crate::support::*;

/// The test server's directory (from scripts/test.sh).
fn shared() -> PathBuf {
    match std::env::var_os("GIT_TOMBSTONE_TEST_S3") {
        Some(d) => PathBuf::from(d),
        None => panic!(
            "no S3 test server: run `bash scripts/test.sh`, which starts one (scripts/garage.sh)"
        ),
    }
}

/// The AWS_* environment of the server in `dir` (its `env` file).
fn s3_env(dir: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(dir.join("env"))
        .expect("the server's env file")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A bucket prefix of this test's own.
fn prefix(name: &str) -> String {
    format!("s3://tombstone/{name}-{}", std::process::id())
}

/// A project (as in the catalog tests) that talks to the server in `dir`.
fn on(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> Repo {
    let mut repo = project(name, files);
    repo.env.extend(s3_env(dir));
    repo
}

/// Run Python with boto3 (`s3` is a client of the server in `dir`) and DuckDB with httpfs
/// (`con`, with a secret for the server); return stdout.
fn py(dir: &Path, script: &str) -> String {
    let prelude = r#"
import os, json, hashlib, boto3, duckdb, duckdb_extension_httpfs as httpfs
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
con = duckdb.connect()
con.execute("LOAD '%s'" % os.path.join(os.path.dirname(httpfs.__file__), "extensions", "v" + duckdb.__version__, "httpfs.duckdb_extension"))
con.execute("CREATE SECRET s (TYPE s3, KEY_ID '%s', SECRET '%s', REGION 'garage', ENDPOINT '%s', URL_STYLE 'path', USE_SSL false)" % (
    os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ["AWS_ENDPOINT_URL"].removeprefix("http://")))
def keys(prefix):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="tombstone", Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return sorted(out)
"#;
    let out = python(&["boto3", "duckdb", "duckdb_extension_httpfs"])
        .arg("-c")
        .arg(format!("{prelude}\n{script}"))
        .env_clear()
        .env("PATH", tool_path())
        .envs(s3_env(dir))
        .output()
        .expect("run python");
    assert_ok(&out, "python");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The key below the bucket of an `s3://tombstone/…` address.
fn key_of(url: &str) -> &str {
    url.strip_prefix("s3://tombstone/")
        .expect("in the test bucket")
}

/// The JSON report of `sync` (the first line, the files' report).
fn synced(out: &Output) -> serde_json::Value {
    assert_ok(out, "sync");
    json_lines(out).into_iter().next().expect("a report")
}

fn sync(repo: &Repo, url: &str) -> Output {
    repo.tomb(&["--json", "sync", url])
}

fn listed(repo: &Repo, url: &str) -> Vec<serde_json::Value> {
    let out = repo.tomb(&["--json", "list", "--database", url]);
    assert_ok(&out, "list --database s3://");
    json_lines(&out)
}

#[test]
fn sync_to_s3_is_incremental_content_addressed_and_read_by_list_and_duckdb() {
    let dir = shared();
    let url = prefix("basic");
    let alpha = on(&dir, "alpha", &[("a.py", b"a = 1\n"), ("b.py", b"b\n")]);
    let beta = on(&dir, "beta", &[("c.py", b"c\n")]);
    for repo in [&alpha, &beta] {
        let first = synced(&sync(repo, &url));
        assert_eq!(first["copied"], 2, "items and blobs: {first}");
        let again = synced(&sync(repo, &url));
        assert_eq!(again["copied"], 0, "nothing uploaded twice: {again}");
        assert_eq!(again["up_to_date"], 2, "{again}");
    }
    // Every data object's name carries its own SHA-256; one manifest per project.
    let checked = py(
        &dir,
        &format!(
            r#"
data = [k for k in keys("{p}/") if "/_manifests/" not in k]
for k in data:
    body = s3.get_object(Bucket="tombstone", Key=k)["Body"].read()
    assert k.endswith("-" + hashlib.sha256(body).hexdigest()[:32] + ".parquet"), k
print(len(data), len([k for k in keys("{p}/_manifests/")]))
"#,
            p = key_of(&url)
        ),
    );
    assert_eq!(checked, "4 2");
    // GIT_TOMBSTONE_CENTRAL names the central store once for sync and list --global.
    let central = alpha
        .command(TOMBSTONE)
        .env("GIT_TOMBSTONE_CENTRAL", &url)
        .args(["--json", "sync"])
        .output()
        .expect("run");
    assert_eq!(synced(&central)["up_to_date"], 2);
    let global = alpha
        .command(TOMBSTONE)
        .env("GIT_TOMBSTONE_CENTRAL", &url)
        .args(["--json", "list", "--global"])
        .output()
        .expect("run");
    assert_ok(&global, "list --global with GIT_TOMBSTONE_CENTRAL");
    assert_eq!(json_lines(&global).len(), 3);
    let items = listed(&alpha, &url);
    let got: Vec<(String, String)> = items
        .iter()
        .map(|i| (i["project"].to_string(), i["path"].to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("\"alpha\"".to_owned(), "\"a.py\"".to_owned()),
            ("\"alpha\"".to_owned(), "\"b.py\"".to_owned()),
            ("\"beta\"".to_owned(), "\"c.py\"".to_owned()),
        ]
    );
    let local = alpha.tomb_ok(&["--json", "list"]);
    for line in local.lines() {
        let id = serde_json::from_str::<serde_json::Value>(line).expect("json")["id"].clone();
        assert!(items.iter().any(|i| i["id"] == id), "{id} not listed");
    }
    // DuckDB with httpfs, across projects, as the README shows it.
    let grouped = py(
        &dir,
        &format!(
            r#"
rows = con.sql("SELECT project, count(*) FROM read_parquet('s3://tombstone/{p}/**/items/*.parquet', hive_partitioning = true) GROUP BY project ORDER BY project").fetchall()
print(json.dumps(rows))
"#,
            p = key_of(&url)
        ),
    );
    assert_eq!(grouped, r#"[["alpha", 2], ["beta", 1]]"#);
}

#[test]
fn compaction_reaches_the_bucket_merged_file_first_and_a_killed_one_is_finished() {
    let dir = shared();
    let url = prefix("compact");
    let repo = on(&dir, "compacted", &[("a.py", b"a = 1\n")]);
    synced(&sync(&repo, &url));
    repo.write("b.py", b"b = 2\n");
    repo.commit_all("add b");
    assert_ok(&repo.tomb(&["archive", "b.py"]), "archive b");
    repo.commit_all("archive b");
    synced(&sync(&repo, &url));
    let objects = |sub: &str| {
        py(
            &dir,
            &format!(
                r#"print(len([k for k in keys("{p}/") if "/{sub}/" in k and "/_manifests/" not in k]))"#,
                p = key_of(&url)
            ),
        )
    };
    assert_eq!(objects("items"), "2", "two item files before compaction");
    // Killed after the manifest that registers the merged files, before any input is deleted.
    let killed = repo
        .command(TOMBSTONE)
        .env("GIT_TOMBSTONE_FAILPOINT", "s3:after-manifest")
        .args(["compact", "--dest", &url])
        .output()
        .expect("run");
    assert_eq!(killed.status.code(), None, "killed");
    assert_eq!(objects("items"), "3", "inputs and the merged file");
    let items = listed(&repo, &url);
    assert_eq!(items.len(), 2, "{items:?}");
    // A reader that follows the manifests (README: listed by any, retired by none) reads each
    // row once, though the inputs are still in the bucket.
    let through_manifests = py(
        &dir,
        &format!(
            r#"
ms = []
for k in keys("{p}/_manifests/"):
    folder = "/".join(k.split("/")[2:5])
    ms.append((folder, json.loads(s3.get_object(Bucket="tombstone", Key=k)["Body"].read())))
retired = set(r for _, m in ms for r in m["retired"])
live = sorted(set("s3://tombstone/{p}/%s/%s" % (f, e["key"]) for f, m in ms for e in m["files"] if e["dataset"] == "items" and e["key"] not in retired))
print(len(live), con.sql("SELECT count(*), count(DISTINCT id) FROM read_parquet(%s)" % live).fetchone())
"#,
            p = key_of(&url)
        ),
    );
    assert_eq!(
        through_manifests, "1 (2, 2)",
        "the merged file alone, every row once"
    );
    // The rerun deletes the inputs; the view is the same.
    let rerun = synced(&sync(&repo, &url));
    assert_eq!(rerun["removed"], 4, "two item and two blob inputs: {rerun}");
    assert_eq!(rerun["copied"], 0, "{rerun}");
    assert_eq!(objects("items"), "1");
    assert_eq!(listed(&repo, &url).len(), 2);
    let counts = py(
        &dir,
        &format!(
            r#"
print(con.sql("SELECT count(*), count(DISTINCT id) FROM read_parquet('s3://tombstone/{p}/**/items/*.parquet')").fetchone(), len(keys("{p}/_manifests/")))
"#,
            p = key_of(&url)
        ),
    );
    assert_eq!(
        counts, "(2, 2) 1",
        "rows once each; the writer's older manifests gone"
    );
}

#[test]
fn eight_repositories_sync_to_one_bucket_and_catalog_at_once_with_one_killed_and_rerun() {
    let dir = shared();
    let url = prefix("eight");
    let (db, address) = database("bucket8");
    let repos: Vec<Repo> = (0..8)
        .map(|n| {
            let content = format!("x = {n}\n");
            on(
                &dir,
                &format!("q{n}"),
                &[("f.py", content.as_bytes()), ("g.py", b"same\n")],
            )
        })
        .collect();
    // Killed after its first upload: nothing is listed yet.
    let killed = repos[0]
        .command(TOMBSTONE)
        .env("GIT_TOMBSTONE_FAILPOINT", "s3:after-upload")
        .args(["sync", &url, "--catalog", &address])
        .output()
        .expect("run");
    assert_eq!(killed.status.code(), None, "killed");
    let out = repos[1].tomb(&["--json", "list", "--database", &url]);
    assert_ok(&out, "list after the kill");
    assert!(
        json_lines(&out).is_empty(),
        "no manifest yet: nothing listed"
    );
    let reports: Vec<serde_json::Value> = std::thread::scope(|s| {
        let handles: Vec<_> = repos
            .iter()
            .map(|r| s.spawn(|| r.tomb(&["--json", "sync", &url, "--catalog", &address])))
            .collect();
        handles
            .into_iter()
            .map(|h| synced(&h.join().expect("thread")))
            .collect()
    });
    assert_eq!(
        reports[0]["copied"], 1,
        "the rerun uploads only what is missing"
    );
    assert_eq!(reports[0]["up_to_date"], 1, "{}", reports[0]);
    let items = listed(&repos[3], &url);
    assert_eq!(items.len(), 16, "{items:?}");
    let unique: std::collections::BTreeSet<String> = items
        .iter()
        .map(|i| format!("{}/{}", i["project"], i["id"]))
        .collect();
    assert_eq!(unique.len(), 16);
    let counts = py(
        &dir,
        &format!(
            r#"
print(con.sql("SELECT count(*), count(DISTINCT project || id), count(DISTINCT project) FROM read_parquet('s3://tombstone/{p}/**/items/*.parquet', hive_partitioning = true)").fetchone())
"#,
            p = key_of(&url)
        ),
    );
    assert_eq!(counts, "(16, 16, 8)", "no duplicate rows in the bucket");
    assert_eq!(psql(&db, "SELECT count(*) FROM item"), "16");
    assert_eq!(psql(&db, "SELECT count(*) FROM project"), "8");
}

/// A Garage server of this test's own, stopped (and removed) when dropped.
struct Own {
    dir: tempfile::TempDir,
}

impl Own {
    fn start() -> Own {
        let dir = tempfile::tempdir().expect("tempdir");
        Own::script("start", dir.path());
        Own { dir }
    }

    fn script(cmd: &str, dir: &Path) {
        let out = std::process::Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/garage.sh"))
            .args([cmd, &dir.display().to_string()])
            .output()
            .expect("run garage.sh");
        assert_ok(&out, &format!("garage.sh {cmd}"));
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        Own::script("halt", self.dir.path());
    }
}

#[test]
fn a_store_that_goes_away_mid_sync_is_retried_and_a_rerun_finishes() {
    let server = Own::start();
    let dir = server.dir.path();
    let url = "s3://tombstone/faults";
    let marks = tempfile::tempdir().expect("tempdir");
    let repo = on(dir, "faults", &[("a.py", b"a = 1\n")]);
    // Paused after its first upload; the store goes away; the sync goes on and fails.
    let child = repo
        .command(TOMBSTONE)
        .env("GIT_TOMBSTONE_FAILPOINT", "pause:s3:after-upload")
        .env("GIT_TOMBSTONE_S3_RETRIES", "2")
        .env("GIT_TOMBSTONE_FAILPOINT_DIR", marks.path())
        .args(["--json", "sync", url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn sync");
    let marker = marks.path().join("paused");
    for _ in 0..3000 {
        if marker.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(marker.exists(), "the sync reached its first upload");
    Own::script("halt", dir);
    std::fs::remove_file(&marker).expect("go on");
    let started = std::time::Instant::now();
    let failed = child.wait_with_output().expect("wait");
    let stderr = assert_code(&failed, 3, "sync with the store gone");
    assert!(stderr.contains("object store"), "{stderr}");
    // The secret key is in no output, log or evidence, failed or not.
    let secret = s3_env(dir)
        .into_iter()
        .find(|(k, _)| k == "AWS_SECRET_ACCESS_KEY")
        .map(|(_, v)| v)
        .expect("a secret key");
    let mut seen = [failed.stdout.clone(), failed.stderr.clone()].concat();
    for f in ["evidence.jsonl", "archive.sqlite", "archive.sqlite-wal"] {
        if let Ok(b) = std::fs::read(repo.store_dir().join(f)) {
            seen.extend_from_slice(&b);
        }
    }
    assert!(
        !String::from_utf8_lossy(&seen).contains(&secret),
        "the secret key leaked"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(90),
        "retries are bounded"
    );
    // Back again: the rerun uploads what is missing, once.
    Own::script("resume", dir);
    let rerun = synced(&sync(&repo, url));
    assert_eq!(rerun["copied"], 1, "{rerun}");
    assert_eq!(rerun["up_to_date"], 1, "{rerun}");
    assert_eq!(listed(&repo, url).len(), 1);
    // Away when a sync starts, back a moment later: the retries carry it through.
    repo.write("b.py", b"b = 2\n");
    repo.commit_all("add b");
    assert_ok(&repo.tomb(&["archive", "b.py"]), "archive b");
    repo.commit_all("archive b");
    Own::script("halt", dir);
    let child = repo
        .command(TOMBSTONE)
        .args(["--json", "sync", url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn sync");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    Own::script("resume", dir);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(synced(&out)["copied"], 2);
    assert_eq!(listed(&repo, url).len(), 2);
}

#[test]
fn large_files_go_up_in_parts_and_hostile_manifests_are_refused() {
    let dir = shared();
    let url = prefix("hostile");
    // 12 MiB that do not compress: the blobs file is over the 8 MiB part size.
    let mut big = Vec::with_capacity(12 << 20);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while big.len() < 12 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        big.extend_from_slice(&x.to_le_bytes());
    }
    let repo = on(&dir, "hostile", &[("big.bin", &big)]);
    synced(&sync(&repo, &url));
    let etags = py(
        &dir,
        &format!(
            r#"
for k in keys("{p}/"):
    if "/blobs/" in k:
        h = s3.head_object(Bucket="tombstone", Key=k)
        print(h["ContentLength"] > 8 << 20, h["ETag"].strip('"').split("-")[-1])
"#,
            p = key_of(&url)
        ),
    );
    assert_eq!(etags, "True 2", "uploaded in two parts");
    assert_eq!(listed(&repo, &url).len(), 1);
    // Addresses and endpoints are checked before anything is sent.
    for args in [
        vec!["sync", "s3://Not_A_Bucket/x"],
        vec!["sync", &url, "--endpoint", "ftp://example.com"],
        vec!["list", "--database", "s3://tombstone/a/../b"],
    ] {
        assert_code(&repo.tomb(&args), 2, &format!("{args:?}"));
    }
    // Someone with write access plants a manifest that points outside the project.
    let planted = py(
        &dir,
        &format!(
            r#"
m = {{"format": "git-tombstone-manifest/1", "store_id": "evil", "written_at": "x", "retired": [],
      "files": [{{"key": "../../../x/items/a.parquet", "dataset": "items", "sha256": "0" * 64, "bytes": 1, "rows": 1}}]}}
s3.put_object(Bucket="tombstone", Key="{p}/_manifests/hostname=h/namespace=n/project=p/evil/1.json", Body=json.dumps(m).encode())
print("planted")
"#,
            p = key_of(&url)
        ),
    );
    assert_eq!(planted, "planted");
    let out = repo.tomb(&["--json", "list", "--database", &url]);
    let stderr = assert_code(&out, 2, "list with a hostile manifest");
    assert!(stderr.contains("a bad file entry"), "{stderr}");
    // A listed file whose bytes were changed behind the manifest's back.
    py(
        &dir,
        &format!(
            r#"
s3.delete_object(Bucket="tombstone", Key="{p}/_manifests/hostname=h/namespace=n/project=p/evil/1.json")
k = [k for k in keys("{p}/") if "/items/" in k][0]
body = s3.get_object(Bucket="tombstone", Key=k)["Body"].read()
s3.put_object(Bucket="tombstone", Key=k, Body=body[:-1] + bytes([body[-1] ^ 1]))
"#,
            p = key_of(&url)
        ),
    );
    let out = repo.tomb(&["--json", "list", "--database", &url]);
    let stderr = assert_code(&out, 2, "list with a tampered file");
    assert!(stderr.contains("does not match the SHA-256"), "{stderr}");
}

/// A proxy in front of the server in `dir` that answers every other request with 503 SlowDown
/// (S3's throttle) and forwards the rest unchanged; it writes its port, then the number of
/// throttled requests after each one, to `log`.
const THROTTLE: &str = r#"
import http.client, http.server, os, sys, threading
target = os.environ["AWS_ENDPOINT_URL"].removeprefix("http://")
log = sys.argv[1]
state = {"n": 0, "throttled": 0}
lock = threading.Lock()
class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def handle_one(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            state["n"] += 1
            throttle = state["n"] % 2 == 1
            if throttle:
                state["throttled"] += 1
                open(log, "a").write("throttled %d\n" % state["throttled"])
        if throttle:
            msg = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            self.send_response(503)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(msg)
            return
        c = http.client.HTTPConnection(target)
        c.request(self.command, self.path, body=body, headers=dict(self.headers))
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        head = self.command == "HEAD"
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection") and (head or k.lower() != "content-length"):
                self.send_header(k, v)
        if not head:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
open(log, "a").write("port %d\n" % s.server_address[1])
s.serve_forever()
"#;

#[test]
fn throttled_requests_are_retried_with_backoff() {
    let dir = shared();
    let url = prefix("throttled");
    let logs = tempfile::tempdir().expect("tempdir");
    let log = logs.path().join("proxy.log");
    /// Kills the proxy however the test ends (a panic included).
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _proxy = Killed(
        python(&["http.server"])
            .arg("-c")
            .arg(THROTTLE)
            .arg(&log)
            .env_clear()
            .env("PATH", tool_path())
            .envs(s3_env(&dir))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the proxy"),
    );
    let port = (0..500)
        .find_map(|_| {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let port = text
                .lines()
                .find_map(|l| l.strip_prefix("port ").map(str::to_owned));
            if port.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            port
        })
        .expect("the proxy's port");
    let endpoint = format!("http://127.0.0.1:{port}");
    let repo = on(&dir, "throttled", &[("a.py", b"a = 1\n")]);
    let out = repo.tomb(&["--json", "sync", &url, "--endpoint", &endpoint]);
    let done = synced(&out);
    assert_eq!(done["copied"], 2, "{done}");
    let out = repo.tomb(&[
        "--json",
        "list",
        "--database",
        &url,
        "--endpoint",
        &endpoint,
    ]);
    assert_ok(&out, "list through the proxy");
    assert_eq!(json_lines(&out).len(), 1);
    let throttled = std::fs::read_to_string(&log)
        .expect("log")
        .lines()
        .filter(|l| l.starts_with("throttled"))
        .count();
    assert!(
        throttled >= 4,
        "every other request was throttled: {throttled}"
    );
}

#[test]
fn two_stores_of_one_project_sync_at_once_without_losing_each_others_files() {
    // Two clones of one project on one host: the same folder, the same delta file names, other
    // bytes. Garage ignores If-None-Match, so only content addressing keeps both.
    let dir = shared();
    let url = prefix("twins");
    let left = on(
        &dir,
        "twin",
        &[("left.py", b"left\n"), ("also.py", b"also\n")],
    );
    let right = on(
        &dir,
        "twin",
        &[("right.py", b"right\n"), ("more.py", b"more\n")],
    );
    let reports: Vec<serde_json::Value> = std::thread::scope(|s| {
        let handles: Vec<_> = [&left, &right]
            .into_iter()
            .map(|r| s.spawn(|| sync(r, &url)))
            .collect();
        handles
            .into_iter()
            .map(|h| synced(&h.join().expect("thread")))
            .collect()
    });
    assert!(reports.iter().all(|r| r["copied"] == 2), "{reports:?}");
    let paths: Vec<String> = listed(&left, &url)
        .iter()
        .map(|i| i["path"].as_str().expect("path").to_owned())
        .collect();
    assert_eq!(paths, vec!["also.py", "left.py", "more.py", "right.py"]);
    // --status reads the bucket and writes nothing.
    let out = right.tomb(&["sync", &url, "--status"]);
    assert_ok(&out, "sync --status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("synced").count(), 2, "{text}");
    // Credentials from a profile file instead of the environment.
    let env = s3_env(&dir);
    let get = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .expect(k)
    };
    let creds = right.home.join("aws-credentials");
    std::fs::write(
        &creds,
        format!(
            "[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n[archive]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            get("AWS_ACCESS_KEY_ID"),
            get("AWS_SECRET_ACCESS_KEY")
        ),
    )
    .expect("credentials file");
    let out = right
        .command(TOMBSTONE)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_PROFILE", "archive")
        .args(["--json", "list", "--database", &url])
        .output()
        .expect("run");
    assert_ok(&out, "list with the profile's keys");
    assert_eq!(json_lines(&out).len(), 4);
}
