//! The documentation cannot drift from the program: every `git tombstone …` and
//! `git archive-restore …` line in the README and `docs/` is parsed by the real CLI, the blocks
//! marked `<!-- docs-test: NAME -->` are run in a scratch directory, and the DuckDB queries are
//! run on DuckDB 1.5 and 2.x.

use std::path::{Path, PathBuf};

use clap::Parser;

use crate::support::*;

struct Block {
    file: PathBuf,
    /// 1-based line of the opening fence.
    line: usize,
    lang: String,
    /// The `docs-test` marker right above the block.
    marker: Option<String>,
    text: String,
}

fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn blocks(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(file).expect("read doc");
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    let mut last_marker: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(b) = current.as_mut() {
            if line.trim_start().starts_with("```") {
                out.push(current.take().expect("block"));
            } else {
                b.text.push_str(line);
                b.text.push('\n');
            }
            continue;
        }
        let trimmed = line.trim();
        if let Some(name) = trimmed
            .strip_prefix("<!-- docs-test:")
            .and_then(|r| r.strip_suffix("-->"))
        {
            last_marker = Some((i, name.trim().to_owned()));
        } else if let Some(lang) = trimmed.strip_prefix("```") {
            let marker = last_marker
                .take()
                .filter(|(at, _)| *at + 1 == i)
                .map(|(_, m)| m);
            current = Some(Block {
                file: file.to_path_buf(),
                line: i + 1,
                lang: lang.split_whitespace().next().unwrap_or("").to_owned(),
                marker,
                text: String::new(),
            });
        } else if !trimmed.is_empty() {
            last_marker = None;
        }
    }
    out
}

fn all_blocks() -> Vec<Block> {
    doc_files().iter().flat_map(|f| blocks(f)).collect()
}

/// Split a command line's arguments as sh would (quotes; no expansion).
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The git-tombstone invocations in a shell block: (line, program, arguments).
fn invocations(block: &Block) -> Vec<(usize, &'static str, Vec<String>)> {
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut start = 0;
    for (i, raw) in block.text.lines().enumerate() {
        if logical.is_empty() {
            start = i;
        }
        if let Some(cont) = raw.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        let line = std::mem::take(&mut logical);
        // Drop a trailing comment (` #` outside quotes), and `<placeholder>`s become one word.
        let mut code = String::new();
        let mut quote = None;
        let mut prev = ' ';
        for c in line.chars() {
            match (quote, c) {
                (None, '#') if prev.is_whitespace() => break,
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                _ => {}
            }
            code.push(c);
            prev = c;
        }
        let code = regex_lite_placeholders(code.trim_start_matches("$ "));
        for segment in code.split(['&', ';', '|', '(', ')', '`']) {
            let seg = segment.trim().trim_start_matches("eval \"$").trim();
            for (prefix, program) in [
                ("git tombstone ", "git-tombstone"),
                ("git-tombstone ", "git-tombstone"),
                ("git archive-restore ", "git-archive-restore"),
                ("git-archive-restore ", "git-archive-restore"),
            ] {
                if let Some(rest) = seg.strip_prefix(prefix) {
                    let args: Vec<String> = shell_words(rest)
                        .into_iter()
                        .take_while(|w| !w.starts_with('>') && !w.starts_with('<'))
                        .collect();
                    out.push((block.line + 1 + start, program, args));
                }
            }
        }
    }
    out
}

/// `<path|id>` → `PLACEHOLDER` (one word, no shell metacharacters).
fn regex_lite_placeholders(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        out.push_str(&rest[..open]);
        if !inner.is_empty() && !inner.contains(char::is_whitespace) {
            out.push_str("PLACEHOLDER");
        } else {
            out.push_str(&rest[open..=open + close]);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_command_line_in_the_docs_parses() {
    let mut parsed = 0;
    let mut failures = Vec::new();
    for block in all_blocks() {
        if !matches!(block.lang.as_str(), "sh" | "bash" | "console" | "") {
            continue;
        }
        for (line, program, args) in invocations(&block) {
            let argv = std::iter::once(program.to_owned()).chain(args.iter().cloned());
            let result = if program == "git-tombstone" {
                git_tombstone::cli::Cli::try_parse_from(argv).map(drop)
            } else {
                git_tombstone::cli::RestoreCli::try_parse_from(argv).map(drop)
            };
            match result {
                Ok(()) => parsed += 1,
                Err(e)
                    if matches!(
                        e.kind(),
                        clap::error::ErrorKind::DisplayHelp
                            | clap::error::ErrorKind::DisplayVersion
                    ) =>
                {
                    parsed += 1
                }
                Err(e) => failures.push(format!(
                    "{}:{line}: {program} {}\n  {}",
                    block.file.display(),
                    args.join(" "),
                    e.to_string().lines().next().unwrap_or_default()
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        parsed >= 40,
        "only {parsed} command lines found in the docs"
    );
}

/// Run one marked shell block, with git isolated and our binaries on PATH: in an empty scratch
/// directory, or (marker `NAME in:CONTEXT`) in a repository the context describes, as the
/// text around the block does. Returns the directory it ran in.
fn run_block(block: &Block) -> (Repo, PathBuf) {
    let marker = block.marker.as_deref().unwrap_or_default();
    let (scratch, dir) = match marker.split_once(" in:").map(|(_, c)| c.trim()) {
        None => {
            let scratch = Repo::empty();
            let dir = scratch.home.join("scratch");
            std::fs::create_dir_all(&dir).expect("scratch");
            (scratch, dir)
        }
        // A repository with legacy code and a crate to delete whole (docs/hooks.md).
        Some("legacy-repo") => {
            let mut files: Vec<(String, Vec<u8>)> = vec![(
                "src/legacy/billing.py".into(),
                b"def charge(amount):\n    return amount * 100\n".to_vec(),
            )];
            for i in 0..12 {
                files.push((
                    format!("crates/old-member/src/m{i}.rs"),
                    format!("pub fn f{i}() {{}}\n").into_bytes(),
                ));
            }
            let refs: Vec<(&str, &[u8])> = files
                .iter()
                .map(|(p, b)| (p.as_str(), b.as_slice()))
                .collect();
            let repo = Repo::with_files(&refs);
            let dir = repo.root.clone();
            (repo, dir)
        }
        Some(other) => panic!(
            "{}:{}: unknown docs-test context `{other}`",
            block.file.display(),
            block.line
        ),
    };
    let out = scratch
        .command("bash")
        .current_dir(&dir)
        .args(["-euo", "pipefail", "-c", &block.text])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}:{} ({}) failed:\nstdout:\n{}\nstderr:\n{}",
        block.file.display(),
        block.line,
        block.marker.as_deref().unwrap_or_default(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (scratch, dir)
}

#[test]
fn the_marked_shell_blocks_run() {
    let mut ran = Vec::new();
    for block in all_blocks() {
        let Some(marker) = block.marker.as_deref() else {
            continue;
        };
        if marker.starts_with("duckdb") {
            continue;
        }
        let (_scratch, dir) = run_block(&block);
        if marker == "tour" {
            // The tour ends with the deleted file back, byte for byte, and no tombstone.
            assert_eq!(
                std::fs::read(dir.join("demo/billing.py")).expect("restored"),
                b"def charge(amount):\n    return amount * 100\n"
            );
            assert!(!dir.join("demo/billing.py.tombstone").exists());
        }
        ran.push(marker.to_owned());
    }
    assert!(
        ran.iter().any(|m| m == "tour"),
        "the README tour is marked: {ran:?}"
    );
}

fn venv_python(dir: &str, what: &str) -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join("bin/python3");
    assert!(
        python.exists(),
        "{what} is missing: run `bash scripts/test.sh` (it makes {dir})"
    );
    python
}

/// Run the SQL of `block` statement by statement; `sqlite_ext` replaces `INSTALL sqlite` /
/// `LOAD sqlite` by loading the extension file from the wheel (no network here).
const RUN_SQL: &str = r#"
import sys, duckdb
sql, sqlite_ext = open(sys.argv[1]).read(), sys.argv[2]
con = duckdb.connect()
n = 0
for stmt in sql.split(";"):
    s = "\n".join(l for l in stmt.splitlines() if not l.strip().startswith("--")).strip()
    if not s:
        continue
    if s.upper() == "INSTALL SQLITE":
        continue
    if s.upper() == "LOAD SQLITE":
        s = f"LOAD '{sqlite_ext}'"
    rel = con.sql(s)
    # A query must return rows (computed in DuckDB: no Python conversion of its types).
    if rel is not None and rel.shape[0] == 0:
        sys.exit(f"no rows from: {s}")
    n += 1
print(duckdb.__version__, n)
"#;

#[test]
fn the_duckdb_queries_run_on_duckdb_1_5_and_2() {
    let v15 = venv_python(".venv", "DuckDB 1.5");
    let v2 = venv_python(".venv-duckdb2", "DuckDB 2.x");
    let repo = Repo::with_files(&[("src/a.py", b"a = 1\n"), ("src/b.py", b"b = 2\n")]);
    repo.tomb_ok(&["archive", "src/a.py", "src/b.py"]);
    repo.git(&["commit", "-qm", "retire"]);
    repo.tomb_ok(&["bind"]);
    repo.tomb_ok(&["export"]);
    let ext = repo.home.join("ext-path.txt");
    let out = std::process::Command::new(&v15)
        .args([
            "-c",
            "import os, duckdb, duckdb_extension_sqlite_scanner as e; print(os.path.join(os.path.dirname(e.__file__), 'extensions', 'v' + duckdb.__version__, 'sqlite_scanner.duckdb_extension'))",
        ])
        .output()
        .expect("python");
    assert_ok(&out, "the sqlite scanner wheel");
    std::fs::write(&ext, &out.stdout).expect("ext");
    let sqlite_ext = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let script = repo.home.join("run_sql.py");
    std::fs::write(&script, RUN_SQL).expect("script");
    let mut checked = 0;
    for block in all_blocks() {
        let Some(marker) = block.marker.as_deref() else {
            continue;
        };
        let pythons: Vec<&PathBuf> = match marker {
            "duckdb" => vec![&v15, &v2],
            // 2.x: the extension only from the network (documented); 1.5: from the wheel.
            "duckdb-sqlite" => vec![&v15],
            _ => continue,
        };
        let sql = repo.home.join(format!("block{}.sql", block.line));
        std::fs::write(&sql, &block.text).expect("sql");
        for python in pythons {
            let out = repo
                .command(python)
                .arg(&script)
                .arg(&sql)
                .arg(&sqlite_ext)
                .output()
                .expect("duckdb");
            assert!(
                out.status.success(),
                "{}:{} on {}:\n{}",
                block.file.display(),
                block.line,
                python.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} DuckDB runs");
}
