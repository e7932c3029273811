//! The layers hold: the library below the CLI never reaches up into it, and SQL lives only in
//! the store. (Break either rule once and these tests name the file and line.)

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// (path relative to `src/`, line number, line) of every line of every source file.
fn lines() -> Vec<(String, usize, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&f).expect("read source");
        for (i, line) in text.lines().enumerate() {
            out.push((rel.clone(), i + 1, line.to_owned()));
        }
    }
    out
}

/// The CLI layer: clap types, the verbs, and the two entry points.
fn in_cli_layer(rel: &str) -> bool {
    rel.starts_with("commands/")
        || rel == "cli.rs"
        || rel == "main.rs"
        || rel == "lib.rs"
        || rel.starts_with("bin/")
}

#[test]
fn nothing_below_the_cli_imports_it() {
    let offenders: Vec<String> = lines()
        .into_iter()
        .filter(|(rel, _, line)| {
            !in_cli_layer(rel)
                && !line.trim_start().starts_with("//")
                && (line.contains("crate::commands") || line.contains("crate::cli"))
        })
        .map(|(rel, n, line)| format!("src/{rel}:{n}: {}", line.trim()))
        .collect();
    assert!(
        offenders.is_empty(),
        "modules below the CLI reach up into it:\n{}",
        offenders.join("\n")
    );
}

/// Whether a line holds SQL: a string literal that starts with a statement keyword, or a call
/// that only takes SQL.
fn has_sql(line: &str) -> bool {
    const KEYWORDS: [&str; 12] = [
        "SELECT ",
        "INSERT ",
        "UPDATE ",
        "DELETE ",
        "CREATE ",
        "DROP ",
        "ALTER ",
        "PRAGMA ",
        "WITH ",
        "VACUUM",
        "BEGIN",
        "REPLACE INTO",
    ];
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices('"').any(|(i, _)| {
        let rest = code[i + 1..].trim_start();
        KEYWORDS.iter().any(|k| rest.starts_with(k))
    }) || [
        "execute_batch(",
        "pragma_update(",
        "pragma_query",
        ".prepare(",
        ".prepare_cached(",
    ]
    .iter()
    .any(|call| code.contains(call))
}

#[test]
fn sql_lives_only_in_the_store() {
    let offenders: Vec<String> = lines()
        .into_iter()
        .filter(|(rel, _, line)| !rel.starts_with("store/") && has_sql(line))
        .map(|(rel, n, line)| format!("src/{rel}:{n}: {}", line.trim()))
        .collect();
    assert!(
        offenders.is_empty(),
        "SQL outside src/store/ ({} lines): put it behind a function in src/store/ named for what it does\n{}",
        offenders.len(),
        offenders.join("\n")
    );
}

#[test]
fn only_the_cli_prints() {
    // Operations return what happened (summaries, reports, `Notice`s); the verbs in
    // src/commands/ print it, through the output sink the context carries.
    let offenders: Vec<String> = lines()
        .into_iter()
        .filter(|(rel, _, line)| {
            !in_cli_layer(rel)
                && rel != "output.rs"
                && !line.trim_start().starts_with("//")
                && (line.contains(".out.") || line.contains("out.progress("))
        })
        .map(|(rel, n, line)| format!("src/{rel}:{n}: {}", line.trim()))
        .collect();
    assert!(
        offenders.is_empty(),
        "modules below the CLI print (return a Notice instead):\n{}",
        offenders.join("\n")
    );
}

/// On glibc Linux the binaries link GCC's unwinder statically (build.rs): loading
/// `libgcc_s.so.1` cost every process a shared object and a dozen `cpuid` traps in its
/// constructor, a measurable part of a one-file restore. Panics still unwind: the tests that
/// inject one (tests/cli/scan.rs, tests/cli/hooks.rs) see an internal error, exit 3.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binaries_do_not_load_the_shared_gcc_unwinder() {
    use crate::support::{require, RESTORE, TOMBSTONE};
    require("readelf");
    for bin in [TOMBSTONE, RESTORE, env!("CARGO_BIN_EXE_git-tombstone-hook")] {
        let out = std::process::Command::new("readelf")
            .args(["--dynamic", "--wide", bin])
            .output()
            .expect("run readelf");
        assert!(out.status.success(), "readelf {bin}");
        let dynamic = String::from_utf8_lossy(&out.stdout);
        let needed: Vec<&str> = dynamic.lines().filter(|l| l.contains("(NEEDED)")).collect();
        assert!(
            needed.iter().any(|l| l.contains("libc.so")),
            "{bin}: a dynamic executable linked with libc: {needed:?}"
        );
        assert!(
            !needed.iter().any(|l| l.contains("libgcc_s")),
            "{bin} loads libgcc_s: {needed:?}"
        );
    }
}
