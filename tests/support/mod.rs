//! Fixtures for the integration tests: temporary git repositories isolated from the machine
//! (no global or system config, fixed identities and dates, `main` as the default branch), and
//! runners for the real `git`, `git-tombstone` and `git-archive-restore` binaries.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const TOMBSTONE: &str = env!("CARGO_BIN_EXE_git-tombstone");
pub const RESTORE: &str = env!("CARGO_BIN_EXE_git-archive-restore");

/// A temporary repository.
pub struct Repo {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    /// Extra environment for every command run in this repository.
    pub env: Vec<(String, String)>,
}

/// The directory holding our binaries, so `git tombstone` and `git archive-restore` resolve.
pub fn bin_dir() -> PathBuf {
    Path::new(TOMBSTONE)
        .parent()
        .expect("binary has a directory")
        .to_path_buf()
}

/// The project's test Python environment (made by `scripts/test.sh`), when it exists.
pub fn venv_bin() -> Option<PathBuf> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin");
    bin.join("python3").exists().then_some(bin)
}

/// PATH for the tools the tests run: our binaries, the test venv, then the caller's PATH.
pub fn tool_path() -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin_dir()];
    paths.extend(venv_bin());
    paths.extend(std::env::split_paths(&path));
    std::env::join_paths(paths).expect("PATH")
}

/// Fail (one line, naming the setup command) unless `tool` is on the tools' PATH.
pub fn require(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .env("PATH", tool_path())
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is missing: run `bash scripts/test.sh`, which installs what the tests need"
    );
}

/// The Python with the test requirements (DuckDB, pyarrow), checked to import `modules`.
pub fn python(modules: &[&str]) -> Command {
    let exe = venv_bin().map_or_else(|| PathBuf::from("python3"), |b| b.join("python3"));
    let ok = Command::new(&exe)
        .arg("-c")
        .arg(format!("import {}", modules.join(", ")))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "python modules {modules:?} are missing: run `bash scripts/test.sh` (it makes .venv from requirements-test.txt)"
    );
    Command::new(exe)
}

impl Repo {
    /// An empty repository (unborn HEAD).
    pub fn empty() -> Repo {
        let tmp = tempfile::tempdir().expect("tempdir");
        let base = std::fs::canonicalize(tmp.path()).expect("canonical tempdir");
        let root = base.join("repo");
        let home = base.join("home");
        std::fs::create_dir_all(&root).expect("mkdir repo");
        std::fs::create_dir_all(&home).expect("mkdir home");
        let repo = Repo {
            _tmp: tmp,
            root,
            home,
            env: Vec::new(),
        };
        repo.git(&["-c", "init.defaultBranch=main", "init", "-q"]);
        repo
    }

    /// A repository with one commit holding `files`.
    pub fn with_files(files: &[(&str, &[u8])]) -> Repo {
        let repo = Repo::empty();
        for (path, bytes) in files {
            repo.write(path, bytes);
        }
        repo.commit_all("initial");
        repo
    }

    /// A `Command` for `program` with git isolated from the machine, run in the repo root.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.root).env_clear();
        c.env("PATH", tool_path())
            .env("HOME", &self.home)
            .env("LANG", "C")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Author")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z")
            .env("GIT_COMMITTER_NAME", "Cid Committer")
            .env("GIT_COMMITTER_EMAIL", "cid@example.com")
            .env("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z")
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Run git; panic with its stderr if it fails; return stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.command("git").args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run git and return raw stdout bytes.
    pub fn git_bytes(&self, args: &[&OsStr]) -> Vec<u8> {
        let out = self.command("git").args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Feed `script` to `git fast-import` and check out `main`, which it must create.
    pub fn fast_import(&self, script: &str) {
        use std::io::Write;
        let mut child = self
            .command("git")
            .args(["fast-import", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("fast-import");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(script.as_bytes())
            .expect("feed fast-import");
        assert!(child.wait().expect("fast-import").success());
        self.git(&["reset", "-q", "--hard", "main"]);
    }

    /// Run `git-tombstone args…` (not asserting anything).
    pub fn tomb(&self, args: &[&str]) -> Output {
        self.command(TOMBSTONE)
            .args(args)
            .output()
            .expect("run git-tombstone")
    }

    /// Run `git-tombstone args…` with OS-string arguments.
    pub fn tomb_os(&self, args: &[&OsStr]) -> Output {
        self.command(TOMBSTONE)
            .args(args)
            .output()
            .expect("run git-tombstone")
    }

    /// Run `git-tombstone args…`, asserting success; return stdout.
    pub fn tomb_ok(&self, args: &[&str]) -> String {
        let out = self.tomb(args);
        assert_ok(&out, &format!("git-tombstone {args:?}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run `git-archive-restore args…`.
    pub fn restore(&self, args: &[&str]) -> Output {
        self.command(RESTORE)
            .args(args)
            .output()
            .expect("run git-archive-restore")
    }

    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    pub fn write(&self, rel: impl AsRef<Path>, bytes: &[u8]) {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, bytes).expect("write");
    }

    pub fn read(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        std::fs::read(self.path(rel)).expect("read")
    }

    pub fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// The default store directory.
    pub fn store_dir(&self) -> PathBuf {
        self.root.join(".git").join("tombstone")
    }

    /// Open the store database (a real SQLite file) for assertions. Like the store's own
    /// connections, closing it leaves the WAL as it is (no checkpoint), so looking does not
    /// change the store's files.
    pub fn db(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.store_dir().join("archive.sqlite"))
            .expect("open store db");
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .expect("no checkpoint on close");
        conn
    }

    /// A count from the store.
    pub fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |r| r.get(0))
            .expect("count query")
    }

    /// The staged blob content of `path` (`git show :path`).
    pub fn staged(&self, path: &str) -> Vec<u8> {
        self.git_bytes(&[OsStr::new("show"), OsStr::new(&format!(":{path}"))])
    }

    /// The evidence log lines.
    pub fn evidence_lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.store_dir().join("evidence.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Files under the store directory with their SHA-256, for "nothing changed" checks.
    ///
    /// SQLite's `-shm` file (a shared-memory index any reader of a WAL database creates) and an
    /// empty `-wal` file hold no data and are left out; a non-empty `-wal` counts.
    pub fn store_fingerprint(&self) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.store_dir()) else {
            return out;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let empty = e.metadata().map(|m| m.len() == 0).unwrap_or(false);
            if name.ends_with("-shm") || (name.ends_with("-wal") && empty) {
                continue;
            }
            if let Ok(bytes) = std::fs::read(e.path()) {
                out.push((e.path(), git_tombstone::id::sha256_hex(&bytes)));
            }
        }
        out.sort();
        out
    }
}

/// Assert a command succeeded, showing its output if not.
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Assert a command exited with `code`; return its stderr.
pub fn assert_code(out: &Output, code: i32, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout parsed as JSON lines.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// An OsStr from raw bytes (for non-UTF-8 paths).
pub fn os(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}
