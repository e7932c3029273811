//! The PostgreSQL catalog (`sync --catalog`, `list --catalog`) against a real server: the one
//! `scripts/test.sh` starts (scripts/postgres.sh), each test in a database of its own.

use std::process::Output;

use crate::support::*;

/// The test server (from scripts/test.sh): its socket directory and port.
pub(crate) fn server() -> (String, String) {
    let host = std::env::var("GIT_TOMBSTONE_TEST_PGHOST");
    let port = std::env::var("GIT_TOMBSTONE_TEST_PGPORT");
    match (host, port) {
        (Ok(h), Ok(p)) => (h, p),
        _ => panic!(
            "no PostgreSQL test server: run `bash scripts/test.sh`, which starts one (scripts/postgres.sh)"
        ),
    }
}

/// Run SQL as the superuser over the socket; stdout, unaligned, tuples only.
pub(crate) fn psql(db: &str, sql: &str) -> String {
    let (host, port) = server();
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args([
            "-h", &host, "-p", &port, "-U", "postgres", "-d", db, "-c", sql,
        ])
        .env("PATH", tool_path())
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A fresh database; returns its name and the catalog address (over the socket).
pub(crate) fn database(name: &str) -> (String, String) {
    let (host, port) = server();
    let db = format!("cat_{name}_{}", std::process::id());
    psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    psql("postgres", &format!("CREATE DATABASE {db}"));
    let address = format!("postgresql://postgres@localhost:{port}/{db}?host={host}");
    (db, address)
}

/// A repository with a remote (so its project is `example_com__org/<name>`) that archived
/// `files`.
pub(crate) fn project(name: &str, files: &[(&str, &[u8])]) -> Repo {
    let repo = Repo::with_files(files);
    repo.git(&[
        "remote",
        "add",
        "origin",
        &format!("https://example.com/org/{name}.git"),
    ]);
    let paths: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
    let mut args = vec!["archive"];
    args.extend(&paths);
    assert_ok(&repo.tomb(&args), "archive");
    repo.commit_all("archive");
    repo
}

fn sync(repo: &Repo, address: &str) -> Output {
    repo.tomb(&["--json", "sync", "--catalog", address])
}

/// The catalog's line of `sync --json` (the files' report comes first).
fn upserted(out: &Output) -> serde_json::Value {
    json_lines(out)
        .into_iter()
        .find(|l| l.get("catalog").is_some())
        .expect("a catalog line")
}

#[test]
fn sync_upserts_once_and_the_runbook_queries_run_across_projects() {
    let (db, address) = database("runbook");
    let alpha = project("alpha", &[("a.py", b"a = 1\n"), ("b.py", b"shared\n")]);
    let beta = project("beta", &[("c.py", b"shared\n")]);
    for repo in [&alpha, &beta] {
        let out = sync(repo, &address);
        assert_ok(&out, "sync --catalog");
        let done = &upserted(&out);
        assert!(done["items"].as_u64().unwrap_or(0) > 0, "{done}");
    }
    assert_eq!(psql(&db, "SELECT count(*) FROM item"), "3");
    assert_eq!(
        psql(
            &db,
            "SELECT string_agg(repo, ',' ORDER BY repo) FROM project"
        ),
        "example_com__org/alpha,example_com__org/beta"
    );
    // Again: nothing new, nothing doubled.
    let out = sync(&alpha, &address);
    assert_ok(&out, "second sync");
    let done = &upserted(&out);
    assert_eq!(done["items"], 0, "{done}");
    assert_eq!(done["evidence"], 0, "{done}");
    assert_eq!(psql(&db, "SELECT count(*) FROM item"), "3");
    // Seed 001's runbook queries, as written.
    let recent = psql(
        &db,
        "SELECT repo, path, archived_at, tombstone_id FROM item ORDER BY archived_at DESC LIMIT 100;",
    );
    assert_eq!(recent.lines().count(), 3, "{recent}");
    assert!(recent.contains("example_com__org/beta|c.py|"), "{recent}");
    let reused = psql(
        &db,
        "SELECT content_sha256, COUNT(*) AS reuse_count FROM artifact a JOIN item i ON i.artifact_id = a.id GROUP BY content_sha256 HAVING COUNT(*) > 1;",
    );
    let shared = git_tombstone::id::sha256_hex(b"shared\n");
    assert_eq!(reused, format!("{shared}|2"), "one content in two projects");
    // Items by state and reason, evidence by day, items under hold.
    let id = alpha.tomb_ok(&["--json", "list", "--path", "a.py"]);
    let id = serde_json::from_str::<serde_json::Value>(id.lines().next().expect("a line"))
        .expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_ok(
        &alpha.tomb(&["hold", &id, "--reason", "case 7"]),
        "legal hold",
    );
    assert_ok(&sync(&alpha, &address), "sync the hold");
    assert_eq!(
        psql(
            &db,
            "SELECT repo, path FROM item WHERE legal_hold ORDER BY repo, path"
        ),
        "example_com__org/alpha|a.py"
    );
    assert_eq!(
        psql(
            &db,
            "SELECT state, reason, count(*) FROM item GROUP BY state, reason ORDER BY 1, 2"
        ),
        "pending|deleted|3"
    );
    let by_day = psql(
        &db,
        "SELECT repo, date_trunc('day', at)::date, count(*) FROM evidence GROUP BY 1, 2 ORDER BY 1, 2",
    );
    assert_eq!(by_day.lines().count(), 2, "{by_day}");
    assert!(by_day.starts_with("example_com__org/alpha|"), "{by_day}");
    // And list reads it.
    let out = alpha.tomb(&["--json", "list", "--catalog", &address]);
    assert_ok(&out, "list --catalog");
    let listed = json_lines(&out);
    assert_eq!(listed.len(), 3);
    assert!(listed
        .iter()
        .any(|i| i["project"] == "beta" && i["path"] == "c.py"));
}

#[test]
fn eight_repositories_sync_at_once_and_a_killed_sync_is_finished_by_a_rerun() {
    let (db, address) = database("eight");
    let repos: Vec<Repo> = (0..8)
        .map(|n| {
            let name = format!("p{n}");
            let content = format!("x = {n}\n");
            project(&name, &[("f.py", content.as_bytes()), ("g.py", b"same\n")])
        })
        .collect();
    // One sync is killed before its commit: it leaves nothing.
    let killed = repos[0]
        .command(TOMBSTONE)
        .env("GIT_TOMBSTONE_FAILPOINT", "catalog:before-commit")
        .args(["sync", "--catalog", &address])
        .output()
        .expect("run");
    assert_eq!(killed.status.code(), None, "killed");
    assert_eq!(psql(&db, "SELECT count(*) FROM item"), "0", "rolled back");
    std::thread::scope(|s| {
        let handles: Vec<_> = repos
            .iter()
            .map(|r| s.spawn(|| sync(r, &address)))
            .collect();
        for h in handles {
            assert_ok(&h.join().expect("thread"), "concurrent sync");
        }
    });
    assert_eq!(psql(&db, "SELECT count(*) FROM project"), "8");
    assert_eq!(psql(&db, "SELECT count(*) FROM item"), "16");
    assert_eq!(
        psql(
            &db,
            "SELECT count(*) FROM (SELECT DISTINCT repo, tombstone_id FROM item) d"
        ),
        "16"
    );
    assert_eq!(psql(&db, "SELECT count(*) FROM artifact"), "9");
    assert_eq!(
        psql(
            &db,
            "SELECT count(*) = count(DISTINCT (repo, store_id, seq)) FROM evidence"
        ),
        "t"
    );
    assert_eq!(
        psql(&db, "SELECT max(version) FROM catalog_migrations"),
        "1"
    );
}

#[test]
fn the_password_never_appears_in_output_logs_or_evidence() {
    let (db, _) = database("secret");
    let (_, port) = server();
    let secret = "pw-Sekr3t-7781";
    psql(&db, &format!("DROP ROLE IF EXISTS tomb_{db}"));
    psql(
        &db,
        &format!("CREATE ROLE tomb_{db} LOGIN PASSWORD '{secret}'; GRANT ALL ON SCHEMA public TO tomb_{db}; ALTER DATABASE {db} OWNER TO tomb_{db}"),
    );
    let repo = project("secret", &[("a.py", b"a\n")]);
    // Over TCP, which needs the password: from PGPASSWORD, then in the URL itself.
    let tcp = format!("postgresql://tomb_{db}@127.0.0.1:{port}/{db}");
    let out = repo
        .command(TOMBSTONE)
        .env("PGPASSWORD", secret)
        .args(["--json", "sync", "--catalog", &tcp])
        .output()
        .expect("run");
    assert_ok(&out, "sync with PGPASSWORD");
    let in_url = format!("postgresql://tomb_{db}:{secret}@127.0.0.1:{port}/{db}");
    let listed = repo.tomb(&["--json", "list", "--catalog", &in_url]);
    assert_ok(&listed, "list with the password in the URL");
    let wrong = format!("postgresql://tomb_{db}:not-{secret}@127.0.0.1:{port}/{db}");
    let refused = repo.tomb(&["sync", "--catalog", &wrong]);
    let err = assert_code(&refused, 3, "a wrong password");
    assert!(err.contains("tombstone::catalog::failed"), "{err}");
    let mut seen = Vec::new();
    for o in [&out, &listed, &refused] {
        seen.extend_from_slice(&o.stdout);
        seen.extend_from_slice(&o.stderr);
    }
    for f in ["evidence.jsonl", "archive.sqlite", "archive.sqlite-wal"] {
        if let Ok(b) = std::fs::read(repo.store_dir().join(f)) {
            seen.extend_from_slice(&b);
        }
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(!text.contains(secret), "the password leaked");
    assert!(
        text.contains(&format!("tomb_{db}@127.0.0.1:{port}/{db}")),
        "{text}"
    );
}

#[test]
fn tls_is_used_and_checked_the_way_libpq_does_it() {
    let (db, _) = database("tls");
    let (dir, port) = server();
    let role = format!("tomb_{db}");
    psql(&db, &format!("DROP ROLE IF EXISTS {role}"));
    psql(
        &db,
        &format!("CREATE ROLE {role} LOGIN PASSWORD 'pw'; ALTER DATABASE {db} OWNER TO {role}"),
    );
    let repo = project("tls", &[("a.py", b"a\n")]);
    let ca = format!("{dir}/ca.crt");
    let sync = |address: &str| {
        repo.command(TOMBSTONE)
            .env("PGPASSWORD", "pw")
            .args(["--json", "sync", "--catalog", address])
            .output()
            .expect("run")
    };
    let at = |host: &str, query: &str| format!("postgresql://{role}@{host}:{port}/{db}?{query}");
    // The certificate is for `localhost`, signed by the test CA.
    let full = at(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    assert_ok(
        &sync(&full),
        "verify-full with the CA, to the certificate's name",
    );
    let log = std::fs::read_to_string(format!("{dir}/server.log")).expect("server log");
    assert!(
        log.lines()
            .any(|l| l.contains(&format!("database={db}")) && l.contains("SSL enabled")),
        "the server saw TLS"
    );
    // Not its name: verify-full refuses, verify-ca (chain only) accepts.
    let wrong_name = sync(&at(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    let err = assert_code(
        &wrong_name,
        3,
        "verify-full to a name not in the certificate",
    );
    assert!(err.contains("tombstone::catalog::failed"), "{err}");
    let ca_only = at("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"));
    assert_ok(&sync(&ca_only), "verify-ca");
    // Another CA: refused, whatever the name.
    let other = tempfile::tempdir().expect("tmp");
    let other_ca = other.path().join("ca.crt");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=someone else",
        ])
        .arg("-keyout")
        .arg(other.path().join("ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .expect("openssl");
    assert_ok(&made, "another CA");
    let untrusted = sync(&at(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
    ));
    assert_code(&untrusted, 3, "a certificate from an untrusted CA");
    // require: encrypted, unchecked without roots; verify-* without roots: refused up front.
    assert_ok(&sync(&at("127.0.0.1", "sslmode=require")), "require");
    let no_roots = sync(&at("localhost", "sslmode=verify-full"));
    let err = assert_code(&no_roots, 2, "verify-full without roots");
    assert!(err.contains("sslrootcert"), "{err}");
    let env_mode = repo
        .command(TOMBSTONE)
        .env("PGPASSWORD", "pw")
        .env("PGSSLMODE", "verify-full")
        .env("PGSSLROOTCERT", &ca)
        .args([
            "sync",
            "--catalog",
            &format!("postgresql://{role}@127.0.0.1:{port}/{db}"),
        ])
        .output()
        .expect("run");
    assert_code(&env_mode, 3, "PGSSLMODE and PGSSLROOTCERT are read");
    assert_eq!(psql(&db, "SELECT count(*) FROM item"), "1");
}
