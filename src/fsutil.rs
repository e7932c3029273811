//! Atomic, durable file writes: write `NAME.PID-N.tombstone-tmp`, fsync, rename, fsync the
//! directory.
//!
//! Every file this tool writes goes through here, so a crash or kill at any point leaves either
//! the old file or the new one, never a torn one. Leftover temporary files of a process that no
//! longer runs are removed by [`clean_tmp`] on the next run.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Suffix of temporary files; [`clean_tmp`] removes files ending with it.
pub const TMP_SUFFIX: &str = ".tombstone-tmp";

/// The files SQLite may keep beside a database, by the suffix it adds to the database's name.
pub const SQLITE_SIDE_FILES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// A temporary name beside `path` that no other write, of this process or another, uses:
/// `NAME.PID-N.tombstone-tmp`, from which [`clean_tmp`] reads the process id back. Every
/// temporary file of this module and the store's databases built aside are named so.
pub fn unique_tmp_path(path: &Path) -> PathBuf {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(
        ".{}-{}{TMP_SUFFIX}",
        std::process::id(),
        MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    path.with_file_name(name)
}

/// The user's home directory, when HOME names one (an empty HOME is none).
pub fn home() -> Option<std::path::PathBuf> {
    std::env::home_dir().filter(|h| !h.as_os_str().is_empty())
}

/// fsync a directory so a rename inside it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Create `dir` and its missing parents, durably: each directory a new one was made in is
/// synced, so the new names survive a power loss (`dir` itself is the caller's to sync, after
/// it puts a file there, as [`write_atomic`] does).
pub fn create_dir_all_synced(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    while !at.as_os_str().is_empty() && fs::symlink_metadata(at).is_err() {
        missing.push(at);
        match at.parent() {
            Some(p) => at = p,
            None => break,
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    for new in missing.iter().rev() {
        sync_dir(
            new.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )?;
    }
    Ok(())
}

/// Atomically and durably replace `path` with `bytes`, with permission bits `mode` (e.g.
/// 0o644): temp file, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let tmp = unique_tmp_path(path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        drop(f);
        replace(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Atomically create or replace `path` with `bytes` (temp file, rename), created with `mode`
/// less the umask, without fsync: the durability git gives the files it checks out.
///
/// The pre-commit hook writes work tree stubs this way: a stub's bytes are also staged in the
/// index, and the archived content is committed to the fsynced store before the index changes,
/// so after a power loss the worst case is a stub that `git checkout` restores. An fsync per
/// stub would cost more than the rest of the hook.
pub fn write_atomic_checkout(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let tmp = unique_tmp_path(path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Atomically replace `path` with a symbolic link to `target`.
pub fn symlink_atomic(path: &Path, target: &Path) -> io::Result<()> {
    let tmp = unique_tmp_path(path);
    std::os::unix::fs::symlink(target, &tmp)?;
    let result = replace(&tmp, path);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn replace(tmp: &Path, path: &Path) -> io::Result<()> {
    // rename() cannot replace a directory; refuse rather than guess.
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("{} is a directory", path.display()),
        ));
    }
    fs::rename(tmp, path)?;
    sync_dir(
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    )
}

/// Whether the process `pid` runs (this one does): `kill(pid, 0)` finds it, whether or not
/// it may be signalled. A process of another PID namespace (a container sharing the
/// directory) is not seen, and counts as gone.
pub fn pid_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// The process a temporary name of this tool belongs to: `NAME.PID-N.tombstone-tmp`
/// ([`unique_tmp_path`]) or an older release's `NAME.PID.tombstone-tmp`, either possibly
/// followed by a SQLite side file's suffix; `Some(None)` for such a name without a process
/// id, `None` for other names.
pub(crate) fn tmp_owner(name: &str) -> Option<Option<u32>> {
    let base = SQLITE_SIDE_FILES
        .iter()
        .find_map(|side| name.strip_suffix(side))
        .unwrap_or(name);
    let stem = base.strip_suffix(TMP_SUFFIX)?;
    let tag = stem.rsplit_once('.').map_or(stem, |(_, tag)| tag);
    let pid = tag.split('-').next().unwrap_or_default();
    Some(pid.parse().ok())
}

/// Remove the leftovers of interrupted writes in `dir` (not recursive): `*.tombstone-tmp`
/// files, and the `-wal`, `-shm` and `-journal` files SQLite may have left beside a temporary
/// database, of processes that no longer run. Another process's temporary file is its write
/// in progress and stays (removing it would fail that write); one whose name carries no
/// process id is no write of this tool's and is removed.
pub fn clean_tmp(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(0);
    };
    for e in entries.flatten() {
        let name = e.file_name();
        match tmp_owner(&name.to_string_lossy()) {
            Some(Some(pid)) if pid_running(pid) => {}
            Some(_) => {
                fs::remove_file(e.path())?;
                removed += 1;
            }
            None => {}
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_and_sets_mode() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("f");
        write_atomic(&p, b"one", 0o644).expect("write");
        write_atomic(&p, b"two", 0o755).expect("rewrite");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        assert_eq!(
            fs::metadata(&p).expect("meta").permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(
            fs::read_dir(d.path()).expect("dir").count(),
            1,
            "no temp file left"
        );
    }

    /// A process id no process has: above the largest Linux allows (2^22).
    const GONE: u32 = 999_999_999;

    #[test]
    fn clean_tmp_removes_only_leftovers_of_processes_gone() {
        let d = tempfile::tempdir().expect("tempdir");
        // A write and a database build of a process gone, and what SQLite leaves beside the
        // temporary database.
        fs::write(d.path().join(format!("x.{GONE}{TMP_SUFFIX}")), b"half").expect("w");
        fs::write(d.path().join(format!("db.{GONE}-0{TMP_SUFFIX}")), b"h").expect("w");
        for side in SQLITE_SIDE_FILES {
            fs::write(
                d.path().join(format!("db.{GONE}-0{TMP_SUFFIX}{side}")),
                b"s",
            )
            .expect("w");
        }
        fs::write(d.path().join(format!("nopid{TMP_SUFFIX}")), b"h").expect("w");
        // Writes in progress: another running process's (a child), and this one's.
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("sleep");
        let live = [
            format!("y.{}{TMP_SUFFIX}", child.id()),
            format!("db.{}-3{TMP_SUFFIX}", child.id()),
            format!("db.{}-3{TMP_SUFFIX}-wal", child.id()),
            format!("z.{}{TMP_SUFFIX}", std::process::id()),
        ];
        let mut keep: Vec<String> = ["keep", "archive.sqlite-wal", "archive.sqlite-shm", "x-wal"]
            .map(String::from)
            .to_vec();
        keep.extend(live.iter().cloned());
        for k in &keep {
            fs::write(d.path().join(k), b"k").expect("w");
        }
        let names = || {
            let mut left: Vec<String> = fs::read_dir(d.path())
                .expect("dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            left.sort();
            left
        };
        assert_eq!(clean_tmp(d.path()).expect("clean"), 6);
        keep.sort();
        assert_eq!(names(), keep);
        // Once the process is gone, its files are leftovers.
        child.kill().expect("kill");
        child.wait().expect("wait");
        assert_eq!(clean_tmp(d.path()).expect("clean"), 3);
        assert!(names()
            .iter()
            .all(|n| !n.contains(&format!(".{}", child.id()))));
    }

    #[test]
    fn tmp_owner_reads_the_process_id_of_both_names() {
        assert_eq!(tmp_owner("a.b.12.tombstone-tmp"), Some(Some(12)));
        assert_eq!(
            tmp_owner("archive.sqlite.12-7.tombstone-tmp-shm"),
            Some(Some(12))
        );
        assert_eq!(tmp_owner("a.x.tombstone-tmp"), Some(None));
        assert_eq!(tmp_owner("archive.sqlite-wal"), None);
        // The names unique_tmp_path makes read back as this process's.
        let made = unique_tmp_path(Path::new("dir/archive.sqlite"));
        let name = made
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("archive.sqlite."), "{name}");
        assert_eq!(made.parent(), Some(Path::new("dir")));
        assert_eq!(tmp_owner(&name), Some(Some(std::process::id())));
        assert_ne!(unique_tmp_path(Path::new("dir/archive.sqlite")), made);
        assert!(!pid_running(GONE));
        assert!(pid_running(std::process::id()));
        assert!(pid_running(1), "init runs");
    }

    #[test]
    fn write_atomic_refuses_to_replace_a_directory() {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir(d.path().join("sub")).expect("mkdir");
        assert!(write_atomic(&d.path().join("sub"), b"x", 0o644).is_err());
        assert_eq!(fs::read_dir(d.path()).expect("dir").count(), 1);
    }
}
