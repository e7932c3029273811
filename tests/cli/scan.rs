//! `git tombstone scan`: correctness against `git log` on a scripted history, idempotence,
//! violations and reports.

use std::collections::BTreeSet;
use std::ffi::OsStr;

use crate::support::*;

fn history() -> Repo {
    let repo = Repo::empty();
    std::fs::remove_dir_all(repo.root.join(".git")).expect("fresh dir");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/make_history.sh"
    );
    let out = repo.command("bash").arg(script).output().expect("fixture");
    assert_ok(&out, "make_history.sh");
    repo
}

/// (commit, path bytes, blob) for every deletion `git log --no-renames --diff-filter=D` shows.
fn git_log_deletions(repo: &Repo) -> BTreeSet<(String, Vec<u8>, String)> {
    let raw = repo.git_bytes(&[
        OsStr::new("log"),
        OsStr::new("--no-renames"),
        OsStr::new("--diff-filter=D"),
        OsStr::new("--raw"),
        OsStr::new("--no-abbrev"),
        OsStr::new("-z"),
        OsStr::new("--format=commit %H"),
        OsStr::new("HEAD"),
    ]);
    let mut out = BTreeSet::new();
    let mut commit = String::new();
    let mut tokens = raw.split(|&b| b == 0).peekable();
    while let Some(tok) = tokens.next() {
        let tok = tok.strip_prefix(b"\n").unwrap_or(tok);
        if let Some(c) = tok.strip_prefix(b"commit ") {
            commit = String::from_utf8_lossy(c).trim().to_owned();
        } else if tok.starts_with(b":") {
            let fields: Vec<&str> = std::str::from_utf8(tok)
                .expect("raw line")
                .split(' ')
                .collect();
            let path = tokens.next().expect("path after raw line").to_vec();
            out.insert((commit.clone(), path, fields[2].to_owned()));
        }
    }
    out
}

/// (commit, path bytes, blob) of every item `list --json` printed.
fn archived_deletions(listed: &[serde_json::Value]) -> BTreeSet<(String, Vec<u8>, String)> {
    listed
        .iter()
        .map(|v| {
            (
                v["removed_in_commit"].as_str().expect("bound").to_owned(),
                item_bytes_path(v),
                v["git_blob_id"].as_str().expect("blob").to_owned(),
            )
        })
        .collect()
}

fn item_bytes_path(v: &serde_json::Value) -> Vec<u8> {
    match v["path_bytes_hex"].as_str() {
        Some(hex) => (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect(),
        None => v["path"].as_str().expect("path").as_bytes().to_vec(),
    }
}

#[test]
fn scan_all_matches_git_log_and_every_item_restores_byte_for_byte() {
    let repo = history();
    let expected = git_log_deletions(&repo);
    assert!(
        expected.len() >= 9,
        "the fixture deletes enough: {expected:?}"
    );
    let out = repo.tomb(&["--json", "scan", "--all"]);
    assert_ok(&out, "scan --all");
    let summary = &json_lines(&out)[0];
    assert_eq!(summary["deletions"].as_u64(), Some(expected.len() as u64));

    let listed = json_lines(&repo.tomb(&["--json", "list"]));
    let got = archived_deletions(&listed);
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    // source_commit is the parent of the removing commit.
    for v in &listed {
        let removed = v["removed_in_commit"].as_str().expect("removed");
        let parent = repo.git(&["rev-parse", &format!("{removed}^")]);
        assert_eq!(v["source_commit"].as_str(), Some(parent.trim()));
    }
    // Every item restores to exactly what git has for its blob.
    for (i, v) in listed.iter().enumerate() {
        let id = v["id"].as_str().expect("id");
        let target = format!("restored-{i}");
        assert_ok(
            &repo.restore(&[id, "--output", &target]),
            &format!("restore {id}"),
        );
        let blob = v["git_blob_id"].as_str().expect("blob");
        let expected =
            repo.git_bytes(&[OsStr::new("cat-file"), OsStr::new("blob"), OsStr::new(blob)]);
        let restored = if v["mode"] == "120000" {
            use std::os::unix::ffi::OsStrExt;
            std::fs::read_link(repo.path(&target))
                .expect("symlink")
                .as_os_str()
                .as_bytes()
                .to_vec()
        } else {
            repo.read(&target)
        };
        assert_eq!(restored, expected, "{id} ({})", v["path"]);
        if v["mode"] == "100755" {
            let mode = std::fs::metadata(repo.path(&target))
                .expect("meta")
                .permissions();
            assert_eq!(
                std::os::unix::fs::PermissionsExt::mode(&mode) & 0o111,
                0o111,
                "executable"
            );
        }
    }
    // A second scan adds nothing.
    let again = json_lines(&repo.tomb(&["--json", "scan", "--all"]));
    assert_eq!(again[0]["archived"], 0);
    assert_eq!(
        repo.count("SELECT count(*) FROM items"),
        expected.len() as i64
    );
}

#[test]
fn ranges_first_parent_and_since_last() {
    let repo = history();
    let all = git_log_deletions(&repo);
    // A range: only what the last two commits deleted.
    let out = repo.tomb(&["--json", "scan", "HEAD~2..HEAD"]);
    assert_ok(&out, "range");
    assert_eq!(
        json_lines(&out)[0]["deletions"],
        4,
        "docs, latin-1, binary, log"
    );
    // --first-parent: the merge is diffed against main, so the branch's rename and deletion
    // are reported at the merge commit instead of the branch commits.
    let fp = repo.tomb(&["--store", "../fp-store", "--json", "scan", "--first-parent"]);
    assert_ok(&fp, "first-parent");
    let merge = repo.git(&["rev-parse", "HEAD~2"]).trim().to_owned();
    let listed: Vec<serde_json::Value> =
        json_lines(&repo.tomb(&["--store", "../fp-store", "--json", "list"]));
    let paths: BTreeSet<&str> = listed
        .iter()
        .filter(|v| v["removed_in_commit"].as_str() == Some(merge.as_str()))
        .map(|v| v["path"].as_str().expect("path"))
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from(["src/a.py"]),
        "gone.txt was added and deleted on the branch: no net deletion"
    );
    // --since-last after --all scans nothing new, then only new commits.
    assert_ok(&repo.tomb(&["scan", "--all"]), "all");
    repo.write("late.txt", b"late");
    repo.commit_all("add late");
    repo.git(&["rm", "-q", "late.txt"]);
    repo.git(&["commit", "-qm", "delete late"]);
    let out = repo.tomb(&["--json", "scan", "--since-last"]);
    let s = &json_lines(&out)[0];
    assert_eq!(
        (s["commits"].as_u64(), s["deletions"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        repo.count("SELECT count(*) FROM items"),
        all.len() as i64 + 1
    );
}

#[test]
fn violations_reports_and_write_stubs() {
    let repo = history();
    let out = repo.tomb(&["scan", "--fail-on-violation"]);
    assert_code(&out, 1, "violations fail");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("violation: src/b.py deleted in"), "{text}");
    assert!(
        !text.contains("violation: build.log"),
        "the log's policy is archive, not stub: {text}"
    );
    assert!(
        !text.contains("violation: src/a.py"),
        "a move is not a violation: {text}"
    );

    let sarif = repo.tomb(&["scan", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r["ruleId"] == "TS001"
        && r["partialFingerprints"]["deletionWithoutStub/v1"].is_string()));
    let md = repo.tomb_ok(&["scan", "--format", "markdown", "--output", "report.md"]);
    assert!(md.is_empty());
    assert!(String::from_utf8_lossy(&repo.read("report.md"))
        .contains("Deletions without a tombstone stub"));

    let before = repo.head();
    assert_ok(&repo.tomb(&["scan", "--write-stubs"]), "write stubs");
    assert_eq!(
        repo.git(&["rev-parse", "HEAD~1"]).trim(),
        before,
        "one follow-up commit"
    );
    let added = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        added.contains("docs/guide.md") && added.contains("bin/tool"),
        "{added}"
    );
    assert!(
        !added.contains("src/b.py\n") || repo.git(&["ls-tree", "HEAD~1", "src/b.py"]).is_empty()
    );
    assert_ok(&repo.tomb(&["verify"]), "verify after writing stubs");
}

#[test]
fn hook_and_scan_records_merge() {
    let repo = Repo::with_files(&[("a.py", b"a\n"), ("b.py", b"b\n")]);
    repo.tomb_ok(&["install"]);
    repo.git(&["rm", "-q", "a.py"]);
    repo.git(&["commit", "-qm", "hooked"]);
    repo.git(&["rm", "-q", "b.py"]);
    let out = repo
        .command("git")
        .args(["commit", "-qm", "bypassed"])
        .env("GIT_TOMBSTONE_SKIP", "1")
        .output()
        .expect("commit");
    assert_ok(&out, "bypassed commit");
    let s = &json_lines(&repo.tomb(&["--json", "scan"]))[0];
    assert_eq!(s["stubbed"], 1, "the hook's stub is recognised");
    assert_eq!(s["archived"], 1, "only the bypassed deletion is new");
    assert_eq!(s["violations"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        repo.count("SELECT count(*) FROM items"),
        2,
        "no duplicate of the hook's record"
    );
    // A fresh store (CI) captures the stubbed file too, with the hook's id.
    let hook_id: String = repo
        .db()
        .query_row(
            "SELECT id FROM items WHERE path = CAST('a.py' AS BLOB)",
            [],
            |r| r.get(0),
        )
        .expect("id");
    assert_ok(
        &repo.tomb(&["--store", "../ci-store", "scan"]),
        "scan into a fresh store",
    );
    let ci =
        json_lines(&repo.tomb(&["--store", "../ci-store", "--json", "list", "--path", "a.py"]));
    assert_eq!(ci[0]["id"].as_str(), Some(hook_id.as_str()));
}

/// A history longer than several worker batches (256 commits each), built with fast-import:
/// whole directories deleted and later recreated with identical content (a tree id the
/// workers' tree cache already dropped), nested directories, a side branch merged back, and
/// files deleted in both. The scan must still report exactly what `git log` does.
#[test]
fn long_history_across_worker_batches_matches_git_log() {
    let repo = Repo::empty();
    let mut script = String::new();
    let mut mark = 0usize;
    let mut commit = |script: &mut String,
                      branch: &str,
                      from: Option<String>,
                      merge: Option<String>,
                      ops: &str|
     -> String {
        mark += 1;
        script.push_str(&format!(
            "commit refs/heads/{branch}\nmark :{mark}\ncommitter T <t@example.com> {} +0000\ndata 1\nx\n",
            1_700_000_000 + mark
        ));
        if let Some(f) = from {
            script.push_str(&format!("from {f}\n"));
        }
        if let Some(m) = merge {
            script.push_str(&format!("merge {m}\n"));
        }
        script.push_str(ops);
        script.push('\n');
        format!(":{mark}")
    };
    let file =
        |path: &str, body: &str| format!("M 100644 inline {path}\ndata {}\n{body}\n", body.len());
    let mut ops = String::new();
    for d in 0..6 {
        for f in 0..4 {
            ops.push_str(&file(
                &format!("d{d}/sub/f{f}.txt"),
                &format!("d{d} f{f} v0"),
            ));
        }
    }
    let mut tip = commit(&mut script, "main", None, None, &ops);
    let mut side_tip = None;
    for i in 1..900usize {
        let d = i % 6;
        let ops = match i % 50 {
            // Remove a whole directory, then bring back the same content 7 commits later.
            10 => format!("D d{d}\n"),
            17 => (0..4)
                .map(|f| {
                    file(
                        &format!("d{}/sub/f{f}.txt", (i - 7) % 6),
                        &format!("d{} f{f} v0", (i - 7) % 6),
                    )
                })
                .collect(),
            20 | 35 => format!("D d{d}/sub/f{}.txt\n", i % 4),
            _ => file(
                &format!("d{d}/sub/f{}.txt", i % 4),
                &format!("d{d} f{} v{i}", i % 4),
            ),
        };
        if i == 400 {
            side_tip = Some(tip.clone());
        }
        tip = commit(&mut script, "main", Some(tip), None, &ops);
    }
    // A side branch off commit 400 that deletes and edits, merged back.
    let mut side = side_tip.expect("fork point");
    for j in 0..40usize {
        let ops = if j % 9 == 4 {
            format!("D d{}/sub/f{}.txt\n", j % 6, j % 4)
        } else {
            file(&format!("side/s{j}.txt"), &format!("side {j}"))
        };
        side = commit(&mut script, "side", Some(side), None, &ops);
    }
    commit(&mut script, "main", Some(tip), Some(side), "");
    repo.fast_import(&script);
    let expected = git_log_deletions(&repo);
    assert!(expected.len() > 100, "enough deletions: {}", expected.len());
    // fast-import's pack stores each version as a delta on the one before; `repack -f`
    // recomputes deltas the way `git gc --aggressive` does (newer versions whole, older ones
    // as deltas on them). The scan picks its diff order from the pack, so both must agree.
    for repack in [&["repack", "-adq"][..], &["repack", "-adfq"][..]] {
        repo.git(repack);
        let _ = std::fs::remove_dir_all(repo.store_dir());
        let out = repo.tomb(&["--json", "scan", "--all"]);
        assert_ok(&out, "scan --all");
        let summary = &json_lines(&out)[0];
        assert_eq!(summary["commits"].as_u64(), Some(941));
        assert_eq!(summary["deletions"].as_u64(), Some(expected.len() as u64));
        let got = archived_deletions(&json_lines(&repo.tomb(&["--json", "list"])));
        let missing: Vec<_> = expected.difference(&got).take(5).collect();
        let extra: Vec<_> = got.difference(&expected).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "after git {repack:?}: missing {missing:?}\nextra {extra:?}"
        );
    }
}

#[test]
fn a_corrupt_blob_is_refused_not_archived() {
    use std::io::Write;
    let repo = Repo::with_files(&[("a.txt", b"hello\n"), ("keep.txt", b"kept\n")]);
    let blob = repo.git(&["rev-parse", "HEAD:a.txt"]).trim().to_owned();
    repo.git(&["rm", "-q", "a.txt"]);
    repo.git(&["commit", "-q", "-m", "remove a"]);
    // The loose object now holds other bytes of the same length: a valid zlib stream and a
    // valid object header, so only the hash tells.
    let object = repo.path(format!(".git/objects/{}/{}", &blob[..2], &blob[2..]));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(b"blob 6\0HELLO\n").expect("compress");
    std::fs::remove_file(&object).expect("remove loose object");
    std::fs::write(&object, z.finish().expect("compress")).expect("write loose object");

    let err = assert_code(
        &repo.tomb(&["scan", "--all"]),
        1,
        "scan over a corrupt blob",
    );
    assert!(err.contains("corrupt") && err.contains(&blob), "{err}");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 0);
    assert_eq!(repo.count("SELECT count(*) FROM blobs"), 0);
}

/// A CI scan of history the hooks wrote (sidecars and a directory tombstone) binds every
/// deletion to its tombstone: no violation, nothing archived twice, and a fresh clone's scan
/// (no local store) records the same items.
#[test]
fn sidecars_and_directory_tombstones_in_history_are_not_violations() {
    let repo = Repo::with_files(&[
        ("src/a.rs", b"fn a() {}\n"),
        ("src/b.rs", b"fn b() {}\n"),
        ("lib/old/x.py", b"x = 1\n"),
        ("lib/old/deep/y.py", b"y = 2\n"),
        ("lib/keep.py", b"k = 0\n"),
    ]);
    assert_ok(&repo.tomb(&["install"]), "install");
    repo.git(&["rm", "-q", "-r", "src/a.rs", "lib/old"]);
    repo.git(&["commit", "-q", "-m", "delete"]);
    assert!(repo.path("src/a.rs.tombstone").exists());
    assert!(repo.path("lib/old.tombstone").exists());
    let ids = repo.count("SELECT count(*) FROM items");
    assert_eq!(ids, 3);
    std::fs::remove_dir_all(repo.store_dir()).expect("a fresh machine");
    let out = repo.tomb(&["--json", "scan", "--all", "--fail-on-violation"]);
    assert_ok(&out, "scan");
    let report = &json_lines(&out)[0];
    assert_eq!(report["stubbed"], 3, "{report}");
    assert_eq!(
        report["violations"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE action = 'stub'"),
        3
    );
    // Deleting the tombstones later is a stub removal, not a new archive.
    repo.git(&["rm", "-q", "src/a.rs.tombstone", "lib/old.tombstone"]);
    repo.git(&["commit", "-q", "-m", "drop the tombstones"]);
    let out = repo.tomb(&["--json", "scan", "--all"]);
    assert_ok(&out, "scan again");
    assert_eq!(json_lines(&out)[0]["stub_removals"], 2);
    assert_eq!(repo.count("SELECT count(*) FROM items"), 3);
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

/// The progress a terminal sees (run under `script`, a real pty): the total is shown only once
/// the walk knows it, and then never moves; the count never goes back.
#[test]
fn scan_progress_total_never_moves() {
    require("script");
    let repo = Repo::with_files(&[("seed.txt", b"seed\n")]);
    let mut script = String::new();
    let mut parent = repo.head();
    for i in 0..3000usize {
        let ops = if i % 10 == 9 {
            format!("D f{}.txt\n", i - 1)
        } else {
            format!(
                "M 100644 inline f{i}.txt\ndata {}\nf{i}\n\n",
                format!("f{i}\n").len()
            )
        };
        script.push_str(&format!(
            "commit refs/heads/main\nmark :{}\ncommitter C <c@example.com> {} +0000\ndata 2\nc\nfrom {parent}\n{ops}\n",
            i + 1,
            1_700_000_000 + i
        ));
        parent = format!(":{}", i + 1);
    }
    repo.fast_import(&script);
    let out = repo
        .command("script")
        .args(["-qec", &format!("{TOMBSTONE} scan --all"), "/dev/null"])
        .output()
        .expect("script");
    assert_ok(&out, "scan under a pty");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut frames = Vec::new();
    for frame in text.split(['\r', '\n']) {
        let Some(rest) = frame.strip_prefix("git-tombstone: scanning commits ") else {
            continue;
        };
        if let Some((_, counts)) = rest.rsplit_once("] ") {
            let (done, total) = counts.trim().split_once('/').expect("n/m");
            frames.push((
                done.parse::<usize>().expect("done"),
                Some(total.parse::<usize>().expect("total")),
            ));
        } else if let Some(done) = rest.strip_suffix(" (counting…)") {
            frames.push((done.parse::<usize>().expect("done"), None));
        }
    }
    assert!(!frames.is_empty(), "progress was shown: {text:?}");
    let totals: Vec<usize> = frames.iter().filter_map(|f| f.1).collect();
    assert!(
        totals.windows(2).all(|w| w[0] == w[1]),
        "one total: {totals:?}"
    );
    assert_eq!(totals.last(), Some(&3001), "every commit counted");
    assert!(
        frames.windows(2).all(|w| w[0].0 <= w[1].0),
        "never goes back: {frames:?}"
    );
    // Once a total is shown, no frame without one follows.
    let first_total = frames.iter().position(|f| f.1.is_some()).expect("a total");
    assert!(frames[first_total..].iter().all(|f| f.1.is_some()));
}

/// `--all` is HEAD's history (said in its help); `--branches` walks every branch, remote
/// branch and tag, as git's `--branches --remotes --tags` do, but not the archive branch.
#[test]
fn branches_scans_every_branch_and_tag_but_not_the_archive_branch() {
    let repo = Repo::with_files(&[
        ("main.py", b"m\n"),
        ("feature.py", b"f\n"),
        ("tagged.py", b"t\n"),
    ]);
    let base = repo.head();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.git(&["rm", "-q", "feature.py"]);
    repo.git(&["commit", "-qm", "feature deletes"]);
    repo.git(&["checkout", "-q", "--detach", &base]);
    repo.git(&["rm", "-q", "tagged.py"]);
    repo.git(&["commit", "-qm", "tagged deletes"]);
    repo.git(&["tag", "-a", "-m", "a release", "v1"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["rm", "-q", "main.py"]);
    repo.git(&["commit", "-qm", "main deletes"]);
    assert_ok(&repo.tomb(&["publish", "--no-push"]), "an archive branch");
    let paths = |out: &std::process::Output| -> Vec<String> {
        let mut p: Vec<String> = json_lines(out)[0]["violations"]
            .as_array()
            .expect("violations")
            .iter()
            .map(|v| v["path"].as_str().expect("path").to_owned())
            .collect();
        p.sort();
        p
    };
    let all = repo.tomb(&["--json", "scan", "--all"]);
    assert_eq!(paths(&all), ["main.py"], "HEAD's history only");
    let _ = std::fs::remove_dir_all(repo.store_dir());
    let every = repo.tomb(&["--json", "scan", "--branches"]);
    assert_ok(&every, "scan --branches");
    assert_eq!(paths(&every), ["feature.py", "main.py", "tagged.py"]);
    let help = repo.tomb_ok(&["scan", "--help"]);
    assert!(help.contains("not every ref"), "{help}");
}

/// A deletion is a move exactly when git's rename detection (`git diff -M50%`) pairs it: files
/// edited around the 50% line, grown and shrunk, CRLF, two deletions competing for one
/// destination. The scan's violations are the deletions git does not call renames.
#[test]
fn moves_with_edits_are_the_renames_git_finds() {
    let body = |tag: &str, n: usize, changed: usize| -> String {
        (0..n)
            .map(|i| {
                if i < changed {
                    format!("changed line {i} in {tag}, different words\n")
                } else {
                    format!("original line number {i} of the file\n")
                }
            })
            .collect()
    };
    let mut files: Vec<(String, String)> = Vec::new();
    for (i, changed) in [0usize, 8, 18, 19, 20, 21, 22, 30].iter().enumerate() {
        let _ = changed;
        files.push((
            format!("src/f{i}.py"),
            body("base", 40, 0).replace("file", &format!("file {i}")),
        ));
    }
    files.push((
        "src/crlf.txt".into(),
        body("base", 30, 0).replace('\n', "\r\n"),
    ));
    files.push(("src/twin_a.py".into(), body("twin", 30, 0)));
    files.push(("src/twin_b.py".into(), body("twin", 30, 3)));
    files.push(("keep.txt".into(), "k\n".into()));
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_bytes()))
        .collect();
    let repo = Repo::with_files(&refs);
    for (i, changed) in [0usize, 8, 18, 19, 20, 21, 22, 30].iter().enumerate() {
        let path = format!("src/f{i}.py");
        repo.git(&["rm", "-q", &path]);
        let mut edited = body("new", 40, *changed).replace("file", &format!("file {i}"));
        if i == 3 {
            edited.push_str(&body("grown", 12, 12));
        }
        if i == 5 {
            edited = edited.lines().take(28).map(|l| format!("{l}\n")).collect();
        }
        repo.write(format!("lib/g{i}.py"), edited.as_bytes());
    }
    repo.git(&["rm", "-q", "src/crlf.txt", "src/twin_a.py", "src/twin_b.py"]);
    repo.write("lib/crlf.txt", body("base", 30, 4).as_bytes());
    repo.write("lib/twin.py", body("twin", 30, 1).as_bytes());
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "move and edit"]);
    let git_renamed: std::collections::BTreeSet<String> = repo
        .git(&["diff", "-M50%", "--name-status", "HEAD~1", "HEAD"])
        .lines()
        .filter(|l| l.starts_with('R'))
        .map(|l| l.split('\t').nth(1).expect("source").to_owned())
        .collect();
    let deleted: std::collections::BTreeSet<String> = repo
        .git(&[
            "diff",
            "--no-renames",
            "--diff-filter=D",
            "--name-only",
            "HEAD~1",
            "HEAD",
        ])
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(
        git_renamed.len() >= 4 && git_renamed.len() < deleted.len(),
        "a mix: {git_renamed:?}"
    );
    let out = repo.tomb(&["--json", "scan", "--all"]);
    assert_ok(&out, "scan");
    let report = &json_lines(&out)[0];
    let violations: std::collections::BTreeSet<String> = report["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| v["path"].as_str().expect("path").to_owned())
        .collect();
    let expected: std::collections::BTreeSet<String> =
        deleted.difference(&git_renamed).cloned().collect();
    assert_eq!(violations, expected, "git renames {git_renamed:?}");
    assert_eq!(report["moves"], git_renamed.len());
}

#[test]
fn a_worker_panic_is_an_internal_error_and_a_rerun_completes() {
    let repo = history();
    let out = repo
        .command(TOMBSTONE)
        .args(["--json", "scan", "--all"])
        .env("GIT_TOMBSTONE_FAILPOINT", "panic:scan:worker")
        .output()
        .expect("scan");
    let stderr = assert_code(&out, 3, "scan with a panicking worker");
    let error: serde_json::Value = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v.get("error").is_some())
        .unwrap_or_else(|| panic!("no JSON error in:\n{stderr}"));
    assert_eq!(error["error"]["code"], "tombstone::internal::panic");
    assert!(error["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("a scan worker panicked")));
    assert_ok(&repo.tomb(&["scan", "--all", "-q"]), "rerun");
    let listed = json_lines(&repo.tomb(&["--json", "list"]));
    assert_eq!(archived_deletions(&listed), git_log_deletions(&repo));
}

// `scan` opens (and on first use creates) the store only once it has a range to scan: a range
// that does not resolve fails with nothing written, no new store either.
#[test]
fn a_scan_of_a_range_that_does_not_resolve_leaves_no_store_behind() {
    let repo = Repo::with_files(&[("a.py", b"a = 1\n")]);
    let out = repo.tomb(&["scan", "no-such-branch"]);
    assert!(!out.status.success(), "a range that does not resolve fails");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such-branch"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !repo.store_dir().exists(),
        "no store was created for a refused scan"
    );
    assert_ok(&repo.tomb(&["scan"]), "a scan that resolves");
    assert!(
        repo.store_dir().join("archive.sqlite").exists(),
        "store made"
    );
}
