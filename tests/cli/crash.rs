//! A crash between any two steps leaves a store that a rerun completes.
//!
//! `GIT_TOMBSTONE_FAILPOINT` makes the process abort (SIGABRT, like a kill) at a named point.

use crate::support::*;

fn crash(repo: &Repo, point: &str, args: &[&str]) {
    let out = repo
        .command(TOMBSTONE)
        .env("GIT_TOMBSTONE_FAILPOINT", point)
        .args(args)
        .output()
        .expect("run");
    assert!(!out.status.success(), "expected a crash at {point}");
    assert_eq!(out.status.code(), None, "killed by a signal at {point}");
}

fn finish_and_check(repo: &Repo) {
    assert_ok(&repo.tomb(&["archive", "a.py"]), "rerun archive");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1, "one item");
    assert_eq!(
        repo.count("SELECT count(*) FROM evidence WHERE op = 'archive'"),
        1,
        "one archive line"
    );
    assert!(
        repo.staged("a.py.tombstone")
            .starts_with(b"git-tombstone v1"),
        "stub staged"
    );
    assert_eq!(
        repo.git(&["ls-files", "a.py"]),
        "",
        "the file's deletion staged"
    );
    repo.commit_all("stub");
    assert_ok(&repo.tomb(&["bind"]), "bind");
    let out = repo.tomb(&["verify"]);
    assert_ok(&out, "verify after recovery");
}

#[test]
fn crash_after_the_store_commit_before_the_worktree() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n")]);
    crash(&repo, "archive:after-store", &["archive", "a.py"]);
    assert_eq!(repo.read("a.py"), b"x = 1\n", "work tree untouched");
    assert_eq!(
        repo.count("SELECT count(*) FROM items WHERE state = 'pending'"),
        1
    );
    finish_and_check(&repo);
}

#[test]
fn crash_after_the_worktree_before_the_index() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n")]);
    crash(&repo, "archive:after-worktree", &["archive", "a.py"]);
    assert!(
        repo.read("a.py.tombstone").starts_with(b"git-tombstone v1"),
        "stub written"
    );
    assert_eq!(repo.staged("a.py"), b"x = 1\n", "index not yet updated");
    finish_and_check(&repo);
}

#[test]
fn crash_between_database_commit_and_evidence_append() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]);
    crash(&repo, "store:after-commit", &["archive", "a.py"]);
    assert_eq!(
        repo.evidence_lines().len(),
        0,
        "the log is behind the database"
    );
    assert_eq!(repo.count("SELECT count(*) FROM evidence"), 1);
    // verify reports the gap rather than hiding it ...
    assert_code(&repo.tomb(&["verify"]), 1, "verify sees the gap");
    // ... and the next write catches the log up before appending its own line.
    finish_and_check(&repo);
    assert_ok(&repo.tomb(&["archive", "b.py"]), "archive b");
    let lines = repo.evidence_lines();
    assert_eq!(
        lines.len(),
        repo.count("SELECT count(*) FROM evidence") as usize
    );
}

#[test]
fn a_torn_evidence_line_is_repaired_from_the_database() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]);
    assert_ok(&repo.tomb(&["archive", "a.py"]), "archive a");
    let log = repo.store_dir().join("evidence.jsonl");
    let full = std::fs::read(&log).expect("log");
    // Simulate a crash in the middle of appending line 1: only half of it reached the disk.
    std::fs::write(&log, &full[..full.len() / 2]).expect("tear");
    assert_code(&repo.tomb(&["verify"]), 1, "torn line detected");
    assert_ok(&repo.tomb(&["archive", "b.py"]), "next write repairs");
    assert_eq!(
        std::fs::read(&log).expect("log")[..full.len()],
        full[..],
        "line 1 restored exactly"
    );
    assert_eq!(repo.evidence_lines().len(), 2);
    repo.commit_all("stubs");
    assert_ok(&repo.tomb(&["bind"]), "bind");
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

#[test]
fn leftover_temp_files_are_cleaned() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n")]);
    assert_ok(&repo.tomb(&["init"]), "init");
    // A process id no process has (above Linux's largest, 2^22).
    let leftover = repo
        .store_dir()
        .join("evidence.jsonl.999999999.tombstone-tmp");
    std::fs::write(&leftover, b"half-written").expect("leftover");
    assert_ok(&repo.tomb(&["archive", "a.py"]), "archive");
    assert!(!leftover.exists());
}

// A temporary file of a process that still runs is its write in progress (another command
// on the same store): the cleanup keeps it, and removes it once the process is gone.
#[test]
fn a_running_process_s_temporary_files_are_kept() {
    let repo = Repo::with_files(&[("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]);
    assert_ok(&repo.tomb(&["init"]), "init");
    let mut other = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("sleep");
    let pid = other.id();
    let live = [
        repo.store_dir()
            .join(format!("evidence.jsonl.{pid}.tombstone-tmp")),
        repo.store_dir()
            .join(format!("archive.sqlite.{pid}-0.tombstone-tmp")),
        repo.store_dir()
            .join(format!("archive.sqlite.{pid}-0.tombstone-tmp-journal")),
    ];
    for f in &live {
        std::fs::write(f, b"in progress").expect("write");
    }
    assert_ok(&repo.tomb(&["archive", "a.py"]), "archive");
    for f in &live {
        assert_eq!(
            std::fs::read(f).expect("kept"),
            b"in progress",
            "{}",
            f.display()
        );
    }
    other.kill().expect("kill");
    other.wait().expect("wait");
    assert_ok(&repo.tomb(&["archive", "b.py"]), "archive");
    for f in &live {
        assert!(!f.exists(), "{} removed", f.display());
    }
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

// A new store's database is built aside and linked into place: killed before the link, it
// leaves a temporary file and no store; killed after it, a store and the temporary name. A
// rerun removes the leftovers and completes the store, and the scan finds everything.
#[test]
fn a_store_killed_while_it_is_built_is_completed_by_the_rerun() {
    for point in ["store:built-aside", "store:linked"] {
        let repo = Repo::with_files(&[("a.py", b"a = 1\n"), ("b.py", b"b = 2\n")]);
        repo.git(&["rm", "-q", "a.py"]);
        repo.commit_all("drop a");
        crash(&repo, point, &["scan"]);
        let names = || -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(repo.store_dir())
                .expect("store dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let left = names();
        assert!(
            left.iter().any(|n| n.ends_with(".tombstone-tmp")),
            "{point}: the temporary database is left: {left:?}"
        );
        assert_eq!(
            left.iter().any(|n| n == "archive.sqlite"),
            point == "store:linked",
            "{point}: the store is there only once linked: {left:?}"
        );
        assert_ok(&repo.tomb(&["scan"]), "rerun");
        let left = names();
        assert!(
            left.iter().all(|n| !n.contains(".tombstone-tmp")),
            "{point}: leftovers removed: {left:?}"
        );
        assert_eq!(repo.count("SELECT count(*) FROM items"), 1, "{point}");
        assert_ok(&repo.tomb(&["verify"]), "verify");
    }
}

/// 1,100 files, then a commit deleting 1,050 of them and one deleting the rest: more than a
/// scan writes in one transaction.
fn many_deletions() -> Repo {
    let repo = Repo::empty();
    let mut script = String::from(
        "commit refs/heads/main\nmark :1\ncommitter T <t@example.com> 1700000000 +0000\ndata 3\nadd\n",
    );
    for i in 0..1100 {
        let body = format!("file {i}\n");
        script.push_str(&format!(
            "M 100644 inline f{i:04}.txt\ndata {}\n{body}\n",
            body.len()
        ));
    }
    script.push_str("\ncommit refs/heads/main\nmark :2\ncommitter T <t@example.com> 1700000001 +0000\ndata 4\nmost\nfrom :1\n");
    for i in 0..1050 {
        script.push_str(&format!("D f{i:04}.txt\n"));
    }
    script.push_str("\ncommit refs/heads/main\nmark :3\ncommitter T <t@example.com> 1700000002 +0000\ndata 4\nrest\nfrom :2\n");
    for i in 1050..1100 {
        script.push_str(&format!("D f{i:04}.txt\n"));
    }
    script.push('\n');
    repo.fast_import(&script);
    repo
}

#[test]
fn a_scan_killed_after_an_unsynced_transaction_is_completed_by_the_rerun() {
    // More than the scan writes in one transaction, so it commits one without syncing, and
    // dies there.
    let repo = many_deletions();

    crash(&repo, "scan:after-unsynced-write", &["scan", "--all"]);
    let committed = repo.count("SELECT count(*) FROM items");
    assert!(
        committed >= 1000,
        "a transaction was committed: {committed}"
    );
    rerun_completes_the_scan(&repo);
}

#[test]
fn a_scan_killed_after_its_last_commit_while_the_wal_is_copied_is_completed_by_the_rerun() {
    // The last transaction is committed and the checkpoint thread nudged to copy the WAL; the
    // process dies before the JSONL files are caught up (and maybe mid-copy).
    let repo = many_deletions();
    assert_ok(&repo.tomb(&["init"]), "init");

    crash(&repo, "store:after-commit", &["scan", "--all"]);
    assert_eq!(
        repo.count("SELECT count(*) FROM items"),
        1100,
        "all committed"
    );
    assert_eq!(
        repo.count("SELECT count(*) FROM checkpoints"),
        1,
        "the last transaction (with the scan's checkpoint) was committed"
    );
    rerun_completes_the_scan(&repo);
}

/// After a scan of [`many_deletions`] was killed before it caught the log up: the log is
/// behind the database, and a rerun archives nothing twice, catches the log up and leaves a
/// store `verify` passes.
fn rerun_completes_the_scan(repo: &Repo) {
    let logged = repo.evidence_lines().len() as i64;
    assert!(
        logged < repo.count("SELECT count(*) FROM evidence"),
        "the log was not caught up before the crash ({logged} lines)"
    );
    assert_ok(&repo.tomb(&["scan", "--all"]), "rerun");
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1100);
    assert_eq!(
        repo.count("SELECT count(*) FROM evidence WHERE op = 'archive'"),
        1100,
        "one archive line per item, none twice"
    );
    assert_eq!(
        repo.evidence_lines().len() as i64,
        repo.count("SELECT count(*) FROM evidence"),
        "the log caught up"
    );
    assert_ok(&repo.tomb(&["verify"]), "verify after the rerun");
}

/// A repository whose one file, `path` (`x = 1`), is archived and committed, with an empty
/// `out/` to restore into; and the item's id.
fn archived_with_out_dir(path: &str) -> (Repo, String) {
    let repo = Repo::with_files(&[(path, b"x = 1\n")]);
    assert_ok(&repo.tomb(&["archive", path]), "archive");
    repo.commit_all(&format!("archive {path}"));
    let id: String = repo
        .db()
        .query_row("SELECT id FROM items", [], |r| r.get(0))
        .expect("the item");
    std::fs::create_dir(repo.path("out")).expect("out");
    (repo, id)
}

/// The files `restore --output` fsyncs (strace, `-y` names each descriptor's file).
fn fsynced_by_restore(repo: &Repo, id: &str, output: &str) -> Vec<String> {
    fsynced_by(repo, RESTORE, &[id, "--output", output])
}

/// `BINARY ARGS` run under `strace -f -y` tracing the syscalls `trace`: its log, a line per
/// call, each starting with the calling thread's id (`-y` names each descriptor's file).
fn strace(repo: &Repo, trace: &str, binary: &str, args: &[&str]) -> String {
    require("strace");
    let log = repo.path("strace.log");
    let out = repo
        .command("strace")
        .args(["-f", "-y", "-qq", "-e", &format!("trace={trace}"), "-o"])
        .arg(&log)
        .arg(binary)
        .args(args)
        .output()
        .expect("run strace");
    assert_ok(&out, "under strace");
    std::fs::read_to_string(&log).expect("strace log")
}

/// The files `BINARY ARGS` fsyncs (strace), relative to the repository root, in order of
/// name; temporary names are shown as `NAME.TMP` (beside NAME) and `DIR/TMP` (in the work
/// tree).
fn fsynced_by(repo: &Repo, binary: &str, args: &[&str]) -> Vec<String> {
    let log = strace(repo, "fsync,fdatasync,syncfs,sync", binary, args);
    let root = repo.path("").canonicalize().expect("root");
    let mut files: Vec<String> = log
        .lines()
        .filter_map(|l| Some(l.split_once('<')?.1.split_once('>')?.0))
        .map(|f| {
            let f = f.replace(&*root.to_string_lossy(), "ROOT");
            // Temporary names carry the process id: `.tbtmp-PID-N` in the work tree,
            // `NAME.PID.tombstone-tmp` elsewhere.
            if let Some((dir, _)) = f.rsplit_once("/.tbtmp-") {
                return format!("{dir}/TMP");
            }
            match f
                .strip_suffix(".tombstone-tmp")
                .and_then(|s| s.rsplit_once('.'))
            {
                Some((name, _pid)) => format!("{name}.TMP"),
                None => f,
            }
        })
        .collect();
    files.sort();
    files
}

// A restore is durable with three fsyncs and no more: the new file, its directory, and the
// WAL holding the restore's record. SQLite used to sync the store directory as well on every
// connection's first commit (in case it had just created the WAL), a fourth fsync on every
// restore and hook run; the store keeps its WAL, so the build turns that off and the store
// syncs the directory itself when the WAL is new (after the sqlite3 shell deleted it, say).
#[test]
fn a_restore_syncs_the_file_its_directory_and_the_wal_and_the_store_directory_only_for_a_new_wal() {
    let (repo, id) = archived_with_out_dir("a.py");
    assert_eq!(
        fsynced_by_restore(&repo, &id, "out/one.py"),
        [
            "ROOT/.git/tombstone/archive.sqlite-wal",
            "ROOT/out",
            "ROOT/out/one.py.TMP"
        ],
        "a restore into a store with a WAL"
    );
    // The sqlite3 shell (any connection without persistent WAL) checkpoints and deletes the
    // WAL when it closes last.
    let wal = repo.store_dir().join("archive.sqlite-wal");
    let shell = rusqlite::Connection::open(repo.store_dir().join("archive.sqlite")).expect("open");
    let items: i64 = shell
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .expect("read");
    assert_eq!(items, 1);
    drop(shell);
    assert!(!wal.exists(), "the WAL is gone");
    assert_eq!(
        fsynced_by_restore(&repo, &id, "out/two.py"),
        // A new WAL's header is synced before its first frames (synchronous = FULL).
        [
            "ROOT/.git/tombstone",
            "ROOT/.git/tombstone/archive.sqlite-wal",
            "ROOT/.git/tombstone/archive.sqlite-wal",
            "ROOT/out",
            "ROOT/out/two.py.TMP"
        ],
        "a restore that creates the WAL"
    );
    assert_eq!(repo.read("out/two.py"), b"x = 1\n");
    assert_eq!(
        repo.count("SELECT count(*) FROM evidence WHERE op = 'restore'"),
        2,
        "both restores recorded"
    );
}

// The WAL is rewound, not regrown: once its frames reach past 256 KiB, the next write copies
// them into the database and starts the WAL over from its beginning, overwriting the frames
// in a file that keeps its blocks (an overwrite syncs only data; an append also commits the
// file's new size). So across many one-file restores, each its own process, the WAL file
// stays near 256 KiB: it neither grows without bound (each process replaying, and never
// retiring, the frames before it) nor drops to nothing and grows again.
#[test]
fn many_small_writes_rewind_the_wal_in_place_and_keep_every_record() {
    let (repo, id) = archived_with_out_dir("a.py");
    let wal = repo.store_dir().join("archive.sqlite-wal");
    let keep = 256 * 1024;
    let mut sizes = Vec::new();
    let restores: i64 = 60;
    for k in 0..restores {
        let out = repo
            .command(RESTORE)
            .args([id.as_str(), "--output", &format!("out/{k}.py")])
            .output()
            .expect("restore");
        assert_ok(&out, "restore");
        sizes.push(std::fs::metadata(&wal).expect("the WAL stays").len());
    }
    let most = *sizes.iter().max().expect("sizes");
    assert!(
        most > keep,
        "the restores wrote past 256 KiB of WAL: {sizes:?}"
    );
    // A restore writes a few pages: the file never gets much past 256 KiB...
    assert!(
        most < keep + 64 * 1024,
        "the WAL grew without bound: {sizes:?}"
    );
    // ...and, once it got there, it never shrinks to a fresh, empty file again.
    let first_full = sizes
        .iter()
        .position(|&s| s >= keep)
        .expect("reached 256 KiB");
    assert!(
        sizes[first_full..].iter().all(|&s| s >= keep),
        "the WAL was truncated and regrown: {sizes:?}"
    );
    assert_eq!(
        repo.count("SELECT count(*) FROM evidence WHERE op = 'restore'"),
        restores,
        "every restore recorded"
    );
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

// A restore that has to create directories makes each new name durable too: the directory a
// new one was made in is synced right after, and the last one after the file is renamed into
// it. Without that, a power loss after a "restored" could lose the new directories, and the
// file with them.
#[test]
fn a_restore_into_new_directories_syncs_each_directory_it_made_a_name_in() {
    let (repo, id) = archived_with_out_dir("pkg/sub/a.py");
    assert_eq!(
        fsynced_by_restore(&repo, &id, "out/new/deeper/one.py"),
        [
            "ROOT/.git/tombstone/archive.sqlite-wal",
            "ROOT/out",
            "ROOT/out/new",
            "ROOT/out/new/deeper",
            "ROOT/out/new/deeper/one.py.TMP"
        ],
        "a restore to a new file in new directories"
    );
    assert_eq!(repo.read("out/new/deeper/one.py"), b"x = 1\n");
    // Back to its own path, with the directories gone from the work tree.
    std::fs::remove_dir_all(repo.path("pkg")).expect("remove pkg");
    let synced = fsynced_by(&repo, RESTORE, &[id.as_str()]);
    for dir in ["ROOT", "ROOT/pkg", "ROOT/pkg/sub"] {
        assert!(
            synced.iter().any(|f| f == dir),
            "{dir} synced by a restore that made a directory in it: {synced:?}"
        );
    }
    assert!(
        synced.iter().any(|f| f == "ROOT/pkg/sub/TMP"),
        "the file itself synced: {synced:?}"
    );
    assert_eq!(repo.read("pkg/sub/a.py"), b"x = 1\n");
}

// Exports into new directories make each new name durable as well: `export` creates
// `parquet/{items,blobs}/date=…/` in the store, and `sync` the partition directories under
// its destination. Each directory a new one was made in is synced, and the last one after
// the file is renamed into it, so a power loss after the export cannot lose a file that
// the store registered as written.
#[test]
fn exports_into_new_directories_sync_each_directory_they_made_a_name_in() {
    let (repo, _) = archived_with_out_dir("a.py");
    let root = repo.path("").canonicalize().expect("root");
    let shown = |p: &std::path::Path| {
        p.canonicalize()
            .expect("exists")
            .to_string_lossy()
            .replace(&*root.to_string_lossy(), "ROOT")
    };
    // Every directory under `top`, and `top`.
    let dirs_from = |top: std::path::PathBuf| {
        let (mut found, mut at) = (vec![top.clone()], vec![top]);
        while let Some(dir) = at.pop() {
            for e in std::fs::read_dir(&dir).expect("read") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    found.push(p.clone());
                    at.push(p);
                }
            }
        }
        found
    };
    let each_parent_synced = |made: &[std::path::PathBuf], synced: &[String]| {
        for dir in made {
            let parent = shown(dir.parent().expect("parent"));
            assert!(
                synced.contains(&parent),
                "{parent} synced after {} was made in it: {synced:?}",
                shown(dir)
            );
        }
    };
    let synced = fsynced_by(&repo, TOMBSTONE, &["export"]);
    let made = dirs_from(repo.store_dir().join("parquet"));
    assert!(made.len() >= 5, "a date directory per table: {made:?}");
    each_parent_synced(&made, &synced);
    let dest = repo.path("lake");
    let synced = fsynced_by(&repo, TOMBSTONE, &["sync", dest.to_str().expect("utf-8")]);
    let partitions = dirs_from(dest.clone());
    assert!(
        partitions.len() >= 6,
        "the sync made partition directories: {partitions:?}"
    );
    each_parent_synced(&partitions, &synced);
}

// A scan's findings, its checkpoint and its evidence line go into the store in one synced
// transaction: its last. The checkpoint used to be a second synced write after it, a second
// fsync of the WAL (and a second catch-up of the JSONL files) at the end of every scan.
#[test]
fn a_scan_syncs_its_findings_checkpoint_and_evidence_line_with_one_fsync() {
    let repo = Repo::with_files(&[("a.py", b"a = 1\n"), ("b.py", b"b = 2\n")]);
    assert_ok(&repo.tomb(&["init"]), "init");
    // A new store is built aside and its WAL is still empty: the first commit into it syncs
    // the WAL's header before its frames (SQLite), so the first synced write costs two.
    assert_eq!(
        fsynced_by(&repo, TOMBSTONE, &["scan"]),
        [
            "ROOT/.git/tombstone/archive.sqlite-wal",
            "ROOT/.git/tombstone/archive.sqlite-wal"
        ],
        "the first write into a new WAL: its header, then the commit"
    );
    repo.git(&["rm", "-q", "a.py"]);
    repo.commit_all("drop a");
    assert_eq!(
        fsynced_by(&repo, TOMBSTONE, &["scan"]),
        ["ROOT/.git/tombstone/archive.sqlite-wal"],
        "one fsync: the WAL, at the scan's one synced commit"
    );
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1);
    assert_eq!(
        repo.count("SELECT count(*) FROM checkpoints"),
        1,
        "checkpoint"
    );
    let ops: Vec<String> = repo
        .evidence_lines()
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["op"].to_string())
        .collect();
    assert_eq!(ops.last().map(String::as_str), Some("\"scan\""), "{ops:?}");
    assert_eq!(
        repo.evidence_lines().len() as i64,
        repo.count("SELECT count(*) FROM evidence"),
        "the log caught up"
    );
}

/// `scan --all` of [`many_deletions`] under strace, into a store made first (creating it syncs
/// its new files from the main thread): the repository, the log of the syncs and the main
/// thread's id.
fn traced_scan_syncs() -> (Repo, String, String) {
    let repo = many_deletions();
    assert_ok(&repo.tomb(&["init"]), "init");
    let log = strace(
        &repo,
        "execve,fsync,fdatasync",
        TOMBSTONE,
        &["scan", "--all"],
    );
    // The main thread is the one that called execve.
    let main = log
        .lines()
        .find(|l| l.contains("execve("))
        .and_then(thread_of)
        .expect("the execve line");
    (repo, log, main)
}

/// The thread of a line of `strace -f -o FILE` (each line starts with it).
fn thread_of(line: &str) -> Option<String> {
    line.split_whitespace().next().map(str::to_owned)
}

// A scan's checkpoints (copying the WAL's frames into the database file, then syncing it) run
// on a thread of their own, beside the writer, which never waits for them mid-scan.
#[test]
fn a_scan_copies_its_wal_into_the_database_on_another_thread_than_the_writer() {
    let (repo, log, main) = traced_scan_syncs();
    let database: Vec<String> = log
        .lines()
        .filter(|l| l.contains("archive.sqlite>"))
        .filter_map(thread_of)
        .collect();
    assert!(!database.is_empty(), "the database file was synced:\n{log}");
    assert!(
        database.iter().all(|t| *t != main),
        "the writer (thread {main}) synced the database file itself:\n{log}"
    );
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1100);
    assert_ok(&repo.tomb(&["verify"]), "verify");
}

// The last checkpoint of a scan that wrote a long WAL runs on the checkpoint thread too, after
// the scan's last (synced) commit and while the writer catches the JSONL files up: the writer
// neither copies the WAL before that commit nor when the store is dropped.
#[test]
fn a_scan_copies_its_last_transaction_into_the_database_on_the_checkpoint_thread() {
    let (repo, log, main) = traced_scan_syncs();
    let lines: Vec<&str> = log.lines().collect();
    let last_commit = lines
        .iter()
        .rposition(|l| l.contains("archive.sqlite-wal>") && thread_of(l).as_ref() == Some(&main))
        .expect("the writer synced the WAL");
    let last_copy = lines
        .iter()
        .rposition(|l| l.contains("archive.sqlite>"))
        .expect("the database file was synced");
    assert!(
        last_copy > last_commit && thread_of(lines[last_copy]).as_ref() != Some(&main),
        "the database file was last synced by the checkpoint thread after the last commit:\n{log}"
    );
    let wal = repo.path(".git/tombstone/archive.sqlite-wal");
    assert_eq!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0),
        0,
        "the WAL was emptied when the store was dropped"
    );
    assert_eq!(repo.count("SELECT count(*) FROM items"), 1100);
    assert_ok(&repo.tomb(&["verify"]), "verify");
}
