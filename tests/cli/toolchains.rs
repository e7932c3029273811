//! Tombstones never break a build: real toolchains (cargo, go, npm, python, javac, make) build
//! a tree before and after files and whole directories are deleted with the hooks installed,
//! and again after the deleted code is restored. Each toolchain is installed by
//! scripts/setup-test-deps.sh; a missing one fails the test (it is never skipped).

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// Run a toolchain command in the repository with the caller's environment (toolchains find
/// their installs through it), git isolated as everywhere else.
fn build(repo: &Repo, what: &str, program: &str, args: &[&str], env: &[(&str, &Path)]) {
    let mut c = Command::new(program);
    c.args(args)
        .current_dir(&repo.root)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{what}: `{program} {}` failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository holding `files`, with the hooks installed.
fn installed(files: &[(&str, &[u8])]) -> Repo {
    let repo = Repo::with_files(files);
    assert_ok(&repo.tomb(&["install"]), "install");
    repo
}

/// `git rm -r` each path and commit, through the hooks.
fn delete(repo: &Repo, paths: &[&str]) {
    let mut args = vec!["rm", "-q", "-r"];
    args.extend(paths);
    repo.git(&args);
    repo.git(&["commit", "-q", "-m", "delete"]);
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "clean after the commit"
    );
}

fn cargo_fixture() -> Vec<(&'static str, &'static [u8])> {
    vec![
        (".gitignore", b"Cargo.lock\n"),
        (
            "Cargo.toml",
            b"[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
        ),
        (
            "crates/app/Cargo.toml",
            b"[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("crates/app/src/lib.rs", b"pub fn app() -> u32 { 1 }\n"),
        (
            "crates/app/src/bin/tool.rs",
            b"fn main() { println!(\"{}\", app::app()); }\n",
        ),
        ("crates/app/src/bin/other.rs", b"fn main() {}\n"),
        (
            "crates/app/examples/demo.rs",
            b"fn main() { app::app(); }\n",
        ),
        ("crates/app/examples/keep.rs", b"fn main() {}\n"),
        (
            "crates/app/tests/it.rs",
            b"#[test]\nfn it() { assert_eq!(app::app(), 1); }\n",
        ),
        ("crates/app/tests/other.rs", b"#[test]\nfn other() {}\n"),
        ("crates/app/benches/b.rs", b"#[test]\nfn b() {}\n"),
        ("crates/app/benches/c.rs", b"#[test]\nfn c() {}\n"),
        (
            "crates/foo/Cargo.toml",
            b"[package]\nname = \"foo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("crates/foo/src/lib.rs", b"pub fn foo() {}\n"),
        ("crates/foo/src/inner/mod.rs", b"pub fn inner() {}\n"),
    ]
}

fn cargo_builds(repo: &Repo, what: &str) {
    let target = repo.home.join("target");
    let env = [("CARGO_TARGET_DIR", target.as_path())];
    build(
        repo,
        what,
        "cargo",
        &[
            "build",
            "--offline",
            "--quiet",
            "--workspace",
            "--all-targets",
        ],
        &env,
    );
    build(
        repo,
        what,
        "cargo",
        &["test", "--offline", "--quiet", "--workspace", "--no-run"],
        &env,
    );
}

#[test]
fn a_cargo_workspace_builds_after_deleting_a_member_an_example_a_bin_a_test_and_a_bench() {
    require("cargo");
    let repo = installed(&cargo_fixture());
    cargo_builds(&repo, "before");
    delete(
        &repo,
        &[
            "crates/foo",
            "crates/app/examples/demo.rs",
            "crates/app/src/bin/tool.rs",
            "crates/app/tests/it.rs",
            "crates/app/benches/b.rs",
        ],
    );
    // The member went away whole, leaving one tombstone beside it; the rest got sidecars.
    assert!(!repo.path("crates/foo").exists());
    let dir = String::from_utf8(repo.read("crates/foo.tombstone")).expect("utf8");
    assert!(
        dir.starts_with("git-tombstone v2 directory\npath crates/foo\n"),
        "{dir}"
    );
    assert!(
        dir.contains(" src/inner/mod.rs\n") && dir.contains(" Cargo.toml\n"),
        "{dir}"
    );
    assert!(repo.path("crates/app/examples/demo.rs.tombstone").exists());
    assert!(repo.path("crates/app/src/bin/tool.rs.tombstone").exists());
    cargo_builds(&repo, "after the deletions");
    assert_ok(&repo.tomb(&["verify"]), "verify");

    // Restoring the member brings every file back and takes its tombstone away.
    let out = repo.restore(&["crates/foo"]);
    assert_ok(&out, "restore the member");
    assert_eq!(
        repo.read("crates/foo/src/inner/mod.rs"),
        b"pub fn inner() {}\n"
    );
    assert!(!repo.path("crates/foo.tombstone").exists());
    assert_ok(
        &repo.restore(&["crates/app/examples/demo.rs"]),
        "restore the example",
    );
    assert!(!repo.path("crates/app/examples/demo.rs.tombstone").exists());
    cargo_builds(&repo, "after the restores");
    repo.git(&["commit", "-q", "-m", "restore"]);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

/// Why sidecars are the default: an in-place stub where Cargo discovers targets is a target
/// with no `main`.
#[test]
fn an_in_place_stub_in_examples_breaks_cargo_which_is_why_it_is_not_the_default() {
    require("cargo");
    let mut files = cargo_fixture();
    files.push((".tombstone.toml", b"placement = \"in-place\"\n"));
    let repo = installed(&files);
    delete(&repo, &["crates/app/examples/demo.rs"]);
    assert!(repo
        .read("crates/app/examples/demo.rs")
        .starts_with(b"// git-tombstone v1"));
    let out = Command::new("cargo")
        .args([
            "build",
            "--offline",
            "--quiet",
            "--workspace",
            "--all-targets",
        ])
        .current_dir(&repo.root)
        .env("CARGO_TARGET_DIR", repo.home.join("target"))
        .output()
        .expect("cargo");
    assert!(
        !out.status.success(),
        "cargo accepted an example without main"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("E0601"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_go_module_builds_and_vets_after_deleting_a_file_and_a_package() {
    require("go");
    let repo = installed(&[
        ("go.mod", b"module example.com/m\n\ngo 1.19\n"),
        (
            "main.go",
            b"package main\n\nimport \"example.com/m/pkg/a\"\n\nfunc main() { println(a.A()) }\n",
        ),
        (
            "pkg/a/a.go",
            b"package a\n\n// A is kept.\nfunc A() int { return 1 }\n",
        ),
        (
            "pkg/a/b.go",
            b"package a\n\n// B goes.\nfunc B() int { return 2 }\n",
        ),
        (
            "pkg/gone/gone.go",
            b"package gone\n\n// G goes.\nfunc G() {}\n",
        ),
        (
            "pkg/gone/more.go",
            b"package gone\n\n// H goes.\nfunc H() {}\n",
        ),
    ]);
    let gocache = repo.home.join("gocache");
    let gopath = repo.home.join("gopath");
    let off = Path::new("off");
    let local = Path::new("local");
    let env = [
        ("GOCACHE", gocache.as_path()),
        ("GOPATH", gopath.as_path()),
        ("GOPROXY", off),
        ("GOTOOLCHAIN", local),
        ("GOFLAGS", Path::new("-mod=mod")),
    ];
    let check = |what: &str| {
        build(&repo, what, "go", &["build", "./..."], &env);
        build(&repo, what, "go", &["vet", "./..."], &env);
    };
    check("before");
    delete(&repo, &["pkg/a/b.go", "pkg/gone"]);
    assert!(repo.path("pkg/a/b.go.tombstone").exists());
    assert!(repo.path("pkg/gone.tombstone").exists() && !repo.path("pkg/gone").exists());
    check("after the deletions");
}

#[test]
fn an_npm_workspace_resolves_after_deleting_a_package() {
    require("npm");
    require("node");
    let repo = installed(&[
        (".gitignore", b"node_modules/\npackage-lock.json\n"),
        (
            "package.json",
            b"{\"name\":\"root\",\"private\":true,\"workspaces\":[\"packages/*\"]}\n",
        ),
        (
            "packages/a/package.json",
            b"{\"name\":\"a\",\"version\":\"1.0.0\",\"main\":\"index.js\"}\n",
        ),
        ("packages/a/index.js", b"module.exports = 41 + 1;\n"),
        (
            "packages/b/package.json",
            b"{\"name\":\"b\",\"version\":\"1.0.0\",\"main\":\"index.js\"}\n",
        ),
        ("packages/b/index.js", b"module.exports = 'b';\n"),
        ("packages/b/lib/util.js", b"module.exports = 'u';\n"),
    ]);
    let cache = repo.home.join("npm-cache");
    let env = [("npm_config_cache", cache.as_path())];
    let check = |what: &str| {
        build(
            &repo,
            what,
            "npm",
            &["install", "--offline", "--no-audit", "--no-fund", "--quiet"],
            &env,
        );
        build(&repo, what, "npm", &["ls", "--workspaces"], &env);
        build(
            &repo,
            what,
            "node",
            &["-e", "if (require('a') !== 42) process.exit(1)"],
            &env,
        );
    };
    check("before");
    delete(&repo, &["packages/b"]);
    assert!(repo.path("packages/b.tombstone").exists() && !repo.path("packages/b").exists());
    check("after the deletion");
}

#[test]
fn a_python_package_compiles_and_imports_after_deleting_a_module_and_a_subpackage() {
    require("python3");
    let repo = installed(&[
        (".gitignore", b"__pycache__/\n"),
        ("pkg/__init__.py", b"from . import keep\n"),
        ("pkg/keep.py", b"VALUE = 1\n"),
        ("pkg/mod.py", b"def gone():\n    return 2\n"),
        ("pkg/sub/__init__.py", b""),
        ("pkg/sub/x.py", b"X = 3\n"),
    ]);
    let check = |what: &str| {
        build(
            &repo,
            what,
            "python3",
            &["-m", "compileall", "-q", "pkg"],
            &[],
        );
        build(
            &repo,
            what,
            "python3",
            &[
                "-B",
                "-c",
                "import pkg, pkg.keep; assert pkg.keep.VALUE == 1",
            ],
            &[],
        );
    };
    check("before");
    // (Byte code left behind would let Python import what was deleted.)
    for d in ["pkg/__pycache__", "pkg/sub/__pycache__"] {
        let _ = std::fs::remove_dir_all(repo.path(d));
    }
    delete(&repo, &["pkg/mod.py", "pkg/sub"]);
    assert!(repo.path("pkg/mod.py.tombstone").exists());
    assert!(repo.path("pkg/sub.tombstone").exists());
    check("after the deletions");
}

#[test]
fn a_java_source_tree_compiles_after_deleting_a_class_and_a_package() {
    require("javac");
    let repo = installed(&[
        (
            "src/com/ex/A.java",
            b"package com.ex;\n\npublic class A {\n    public static int a() { return 1; }\n}\n",
        ),
        (
            "src/com/ex/B.java",
            b"package com.ex;\n\npublic class B {\n    public static int b() { return 2; }\n}\n",
        ),
        (
            "src/com/ex/gone/G.java",
            b"package com.ex.gone;\n\npublic class G {}\n",
        ),
    ]);
    let out = repo.home.join("classes");
    let script = format!("javac -d '{}' $(find src -name '*.java')", out.display());
    build(&repo, "before", "sh", &["-c", &script], &[]);
    delete(&repo, &["src/com/ex/B.java", "src/com/ex/gone"]);
    assert!(repo.path("src/com/ex/B.java.tombstone").exists());
    assert!(repo.path("src/com/ex/gone.tombstone").exists());
    build(&repo, "after the deletions", "sh", &["-c", &script], &[]);
}

#[test]
fn a_makefile_with_a_wildcard_builds_after_deleting_a_source() {
    require("make");
    require("cc");
    let repo = installed(&[
        (".gitignore", b"app\n"),
        (
            "Makefile",
            b"SRC := $(wildcard src/*.c)\napp: $(SRC)\n\t$(CC) -o $@ $^\n",
        ),
        (
            "src/main.c",
            b"int util(void);\nint main(void) { return util() - 1; }\n",
        ),
        ("src/util.c", b"int util(void) { return 1; }\n"),
        ("src/old.c", b"int old(void) { return 2; }\n"),
    ]);
    build(&repo, "before", "make", &["-s", "app"], &[]);
    let _ = std::fs::remove_file(repo.path("app"));
    delete(&repo, &["src/old.c"]);
    assert!(repo.path("src/old.c.tombstone").exists());
    build(&repo, "after the deletion", "make", &["-s", "app"], &[]);
    build(&repo, "the program runs", "./app", &[], &[]);
}
