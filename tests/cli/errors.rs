//! Error kinds and exit codes: every diagnostic code is unique and documented; a bug in a
//! worker thread is an internal error (exit 3) that commits nothing half-done; I/O failures
//! exit 3 as the README says.

use std::collections::BTreeMap;

use crate::support::*;

/// Every `code(tombstone::…)` in `src/`, with the files that use it.
fn diagnostic_codes() -> BTreeMap<String, Vec<String>> {
    let mut codes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            for (at, _) in text.match_indices("code(tombstone::") {
                let rest = &text[at + "code(".len()..];
                let end = rest.find(')').expect("closing parenthesis");
                codes
                    .entry(rest[..end].to_owned())
                    .or_default()
                    .push(path.display().to_string());
            }
        }
    }
    codes
}

#[test]
fn every_diagnostic_code_is_unique_and_documented() {
    let codes = diagnostic_codes();
    assert!(codes.len() > 50, "found only {} codes", codes.len());
    let doubled: Vec<_> = codes.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(doubled.is_empty(), "codes used more than once: {doubled:?}");
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md"))
        .expect("docs/commands.md");
    // The table of codes: `| `tombstone::…` | exit | meaning |`.
    let documented: BTreeMap<String, i32> = docs
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = cells
                .get(1)?
                .strip_prefix("`tombstone::")?
                .strip_suffix('`')?;
            Some((format!("tombstone::{code}"), cells.get(2)?.parse().ok()?))
        })
        .collect();
    let missing: Vec<_> = codes
        .keys()
        .filter(|c| !documented.contains_key(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes missing from docs/commands.md: {missing:?}"
    );
    let stale: Vec<_> = documented
        .keys()
        .filter(|c| !codes.contains_key(*c))
        .collect();
    assert!(stale.is_empty(), "documented codes no error has: {stale:?}");
    assert!(documented.values().all(|e| (1..=3).contains(e)));
}

#[test]
fn an_io_failure_installing_hooks_exits_3() {
    let repo = Repo::with_files(&[("a.py", b"a\n")]);
    let hooks = repo.path(".git/hooks");
    let _ = std::fs::remove_dir_all(&hooks);
    std::fs::write(&hooks, b"not a directory\n").expect("write");
    let out = repo.tomb(&["--json", "install"]);
    let stderr = assert_code(&out, 3, "install into a file");
    let error: serde_json::Value = serde_json::from_str(stderr.trim()).expect("JSON error");
    assert_eq!(error["error"]["code"], "tombstone::install::io");
    assert_eq!(error["error"]["exit_code"], 3);
    assert_eq!(std::fs::read(&hooks).expect("read"), b"not a directory\n");
}

#[test]
fn a_git_library_failure_keeps_its_cause() {
    // A corrupt loose tree that the scan must read to find a deletion: gix's own error is
    // kept as the cause, not flattened into the message.
    let repo = Repo::with_files(&[("dir/a.py", b"a\n"), ("b.py", b"b\n")]);
    let tree = repo.git(&["rev-parse", "HEAD:dir"]).trim().to_owned();
    repo.git(&["rm", "-q", "dir/a.py"]);
    repo.commit_all("rm");
    let object = repo.path(format!(".git/objects/{}/{}", &tree[..2], &tree[2..]));
    let _ = std::fs::remove_file(&object);
    std::fs::write(&object, b"garbage").expect("corrupt");
    let out = repo.tomb(&["--json", "scan", "--all"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("\"error\""))
        .unwrap_or_else(|| panic!("no JSON error in:\n{stderr}"));
    let error: serde_json::Value = serde_json::from_str(line).expect("JSON error");
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let causes = error["error"]["causes"].as_array().expect("causes");
    assert_eq!(error["error"]["code"], "tombstone::git::failed");
    assert!(
        causes
            .iter()
            .any(|c| c.as_str().is_some_and(|c| c.contains("loose object"))),
        "the source error is kept: {error}"
    );
    assert!(!error["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("loose object")));
}

/// One error of every variant (the wrappers once around each library error), as a command
/// would end with it.
fn one_of_each() -> Vec<git_tombstone::error::Error> {
    use git_tombstone::commands::CommandError as C;
    use git_tombstone::error::{Error, Panicked};
    use git_tombstone::git::GitError as G;
    use git_tombstone::governance::GovernanceError as Gov;
    use git_tombstone::hooks::install::InstallError as Inst;
    use git_tombstone::interchange::InterchangeError as X;
    use git_tombstone::publish::PublishError as P;
    use git_tombstone::store::catalog::CatalogError as Cat;
    use git_tombstone::store::StoreError as S;
    use git_tombstone::worktree::WorktreeError as W;
    let s = || String::from("x");
    let p = || std::path::PathBuf::from("x");
    let io = || std::io::Error::other("x");
    let sql = || rusqlite::Error::InvalidQuery;
    let store = || S::Evidence {
        path: p(),
        why: s(),
    };
    let git = || G::Unborn;
    let stub = || git_tombstone::stub::StubError::NoMarker;
    let stores = vec![
        S::Create {
            path: p(),
            source: io(),
        },
        S::Database {
            path: p(),
            source: sql(),
        },
        S::Newer {
            path: p(),
            found: 2,
            known: 1,
        },
        S::Sql(sql()),
        S::Evidence {
            path: p(),
            why: s(),
        },
        S::Io {
            path: p(),
            source: io(),
        },
        S::CorruptBlob {
            sha256: s(),
            why: s(),
        },
    ];
    let gits = vec![
        G::NotARepo { dir: p() },
        G::UnsupportedObjectFormat { format: s() },
        G::Bare { dir: p() },
        G::Unborn,
        G::BadRevision { rev: s() },
        G::MissingObject {
            id: s(),
            message: s(),
        },
        G::CorruptObject {
            id: s(),
            found: s(),
        },
        G::gix("x", io()),
        G::Command {
            args: s(),
            stderr: s(),
        },
    ];
    let commands = vec![
        C::OutsideRepo {
            path: s(),
            root: p(),
        },
        C::Untracked {
            path: s(),
            commit: s(),
        },
        C::Directory { path: s() },
        C::Submodule { path: s() },
        C::TooLarge {
            path: s(),
            size: 2,
            max: 1,
        },
        C::AlreadyStub { path: s(), id: s() },
        C::Uncommitted {
            path: s(),
            commit: s(),
        },
        C::StagedChanges { path: s() },
        C::PolicyIgnores { path: s() },
        C::Invalid {
            what: s(),
            why: s(),
        },
        C::Unrenderable {
            path: s(),
            source: stub(),
        },
        C::NotFound {
            target: s(),
            hint: s(),
        },
        C::NoVersionAt {
            path: s(),
            commit: s(),
            count: 1,
        },
        C::TwoVersions {
            path: s(),
            ids: s(),
        },
        C::OutputNeedsOne { count: 2 },
        C::BadGlob {
            glob: s(),
            why: s(),
        },
        C::Purged {
            id: s(),
            path: s(),
            details: s(),
        },
        C::Unavailable {
            id: s(),
            commit: s(),
            why: s(),
        },
        C::Mismatch { id: s(), why: s() },
        C::WouldOverwrite { path: s(), id: s() },
        C::InvalidStub {
            path: s(),
            source: stub(),
        },
        C::RangeUnavailable {
            range: s(),
            why: s(),
        },
        C::NoSuchEvidence { seq: 2, last: 1 },
        C::Install(Inst::Conflict {
            hook: p(),
            chained: p(),
        }),
        C::Install(Inst::Io {
            dir: p(),
            source: io(),
        }),
        C::Publish(P::Git(git())),
        C::Publish(P::Store(store())),
        C::Publish(P::Contended {
            remote: s(),
            attempts: 3,
        }),
        C::Publish(P::Diverged { store_id: s() }),
        C::Publish(P::Io {
            what: "x",
            source: io(),
        }),
        C::Governance(Gov::NotFound { target: s() }),
        C::Governance(Gov::Held {
            id: s(),
            reason: s(),
            by: s(),
            at: s(),
        }),
        C::Governance(Gov::SameApprover { id: s(), who: s() }),
        C::Governance(Gov::NoRequest { id: s() }),
        C::Governance(Gov::NeedsApproval {
            id: s(),
            count: 1,
            approvers: s(),
        }),
        C::Governance(Gov::AlreadyPurged {
            id: s(),
            details: s(),
        }),
        C::Governance(Gov::TooRecent {
            cutoff: s(),
            days: 1,
            min_days: 2,
        }),
        C::Governance(Gov::Store(store())),
        C::Interchange(X::Invalid {
            what: s(),
            why: s(),
        }),
        C::Interchange(X::Rejected {
            source_name: s(),
            record: 1,
            why: s(),
        }),
        C::Interchange(X::Io {
            path: p(),
            source: io(),
        }),
        C::Interchange(X::Parquet(parquet::errors::ParquetError::General(s()))),
        C::Interchange(X::Arrow(arrow::error::ArrowError::ComputeError(s()))),
        C::Interchange(X::Remote {
            what: s(),
            source: Box::new(object_store::Error::Generic {
                store: "S3",
                source: Box::new(io()),
            }),
        }),
        C::Interchange(X::Store(store())),
        C::Catalog(Cat::Address { why: s() }),
        C::Catalog(Cat::Failed {
            target: s(),
            context: s(),
            source: Box::new(io()),
        }),
        C::Worktree(W::Refused {
            path: s(),
            why: s(),
        }),
        C::Worktree(W::Io {
            path: s(),
            source: io(),
        }),
        C::StoreInWorktree { dir: s() },
        C::UnsafePath {
            path: s(),
            why: s(),
        },
        C::Io {
            path: p(),
            source: io(),
        },
    ];
    let policy =
        git_tombstone::policy::Policy::parse("default_action = \"shred\"\n", ".tombstone.toml")
            .expect_err("an invalid policy");
    let mut all: Vec<Error> = Vec::new();
    all.extend(stores.into_iter().map(Error::from));
    all.extend(gits.into_iter().map(Error::from));
    all.extend(commands.into_iter().map(Error::from));
    all.push(Error::from(policy));
    all.push(Error::from(git_tombstone::policy::PolicyError::Read {
        path: p(),
        source: io(),
    }));
    all.push(Error::from(Panicked {
        what: "x",
        message: s(),
    }));
    all
}

#[test]
fn every_error_exits_with_its_documented_code() {
    use miette::Diagnostic;
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md"))
        .expect("docs/commands.md");
    let documented: BTreeMap<String, i32> = docs
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            code.starts_with("tombstone::")
                .then(|| Some((code.to_owned(), cells.get(2)?.parse().ok()?)))?
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for e in one_of_each() {
        let code = e
            .code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| panic!("no code: {e:?}"));
        let want = documented
            .get(&code)
            .unwrap_or_else(|| panic!("{code} is not documented"));
        assert_eq!(e.exit_code(), *want, "{code} ({e:?})");
        seen.insert(code);
    }
    let untested: Vec<_> = diagnostic_codes()
        .into_keys()
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(untested.is_empty(), "no example error for {untested:?}");
}
