//! Writing into the work tree without ever following a link or leaving it.
//!
//! A path from a history, a stub or an archive branch is checked by the path gate
//! ([`crate::git::path`]), but the file system can still lie: `x/y.txt` lands outside the work
//! tree when `x` is a symbolic link to `/outside`. So every write here walks the path one
//! component at a time from a descriptor of the work tree root, opening each directory with
//! `O_NOFOLLOW | O_DIRECTORY` (a link or a file where a directory should be is refused, and a
//! link swapped in between two steps is caught by the kernel, not by a check that can race).
//! The file is then written as a temporary in its final directory and renamed over the name,
//! and a rename replaces a link rather than following it.
//!
//! Temporary names are short (`.tbtmp-<pid>-<n>`) whatever the file's name, so a 255-byte name
//! can still be written; leftovers of a killed process are removed by [`Worktree::clean_tmp`].

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

/// Prefix of temporary files in the work tree.
pub const TMP_PREFIX: &str = ".tbtmp-";

/// Why a work tree write was refused or failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WorktreeError {
    #[error("refusing to write {path}: {why}")]
    #[diagnostic(
        code(tombstone::worktree::unsafe_path),
        help("nothing was written; a directory on the way is a symbolic link or a file, or the path leaves the work tree. Move it aside, or restore elsewhere with --output")
    )]
    Refused { path: String, why: String },
    #[error("I/O error writing {path}")]
    #[diagnostic(code(tombstone::worktree::io))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl WorktreeError {
    /// What kind of failure this is (see [`crate::error::Kind`]).
    pub fn kind(&self) -> crate::error::Kind {
        match self {
            WorktreeError::Refused { .. } => crate::error::Kind::Failure,
            WorktreeError::Io { .. } => crate::error::Kind::Internal,
        }
    }
}

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file with these permission bits (0o644, 0o755).
    File(u32),
    /// A symbolic link whose target is the bytes.
    Symlink,
}

/// How durable a write must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the file and the directory (restores: the only copy the user will have).
    Synced,
    /// As durable as a `git checkout` (stubs: their bytes are in the index too).
    Checkout,
}

/// The work tree, held open by a descriptor of its root.
#[derive(Debug)]
pub struct Worktree {
    root: OwnedFd,
    root_path: PathBuf,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn shown(path: &[u8]) -> String {
    crate::stub::encode_path(path)
}

fn split(path: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut parts: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    let leaf = parts.pop().unwrap_or_default();
    (parts, leaf)
}

impl Worktree {
    /// Open the work tree at `root`.
    pub fn open(root: &Path) -> Result<Worktree, WorktreeError> {
        let root_fd = rustix::fs::open(
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| WorktreeError::Io {
            path: root.display().to_string(),
            source: e.into(),
        })?;
        Ok(Worktree {
            root: root_fd,
            root_path: root.to_path_buf(),
        })
    }

    /// The absolute path of repository path `rel` (for messages and reports).
    pub fn display(&self, rel: &[u8]) -> PathBuf {
        self.root_path.join(std::ffi::OsStr::from_bytes(rel))
    }

    /// Open the directory that holds `rel`, component by component, never following a link.
    /// Missing directories are created when `create`; `Ok(None)` when one is missing and not.
    /// With `sync_new`, the directory a new one was created in is synced right after, so the
    /// new name survives a power loss (the last directory is the caller's to sync, after it
    /// puts its file there).
    fn parent_with(
        &self,
        rel: &[u8],
        create: bool,
        sync_new: bool,
    ) -> Result<Option<OwnedFd>, WorktreeError> {
        crate::git::path::check(rel, false).map_err(|e| WorktreeError::Refused {
            path: shown(rel),
            why: e.why,
        })?;
        let (dirs, _) = split(rel);
        let mut current = rustix::io::dup(&self.root).map_err(|e| self.io(rel, e))?;
        let mut walked: Vec<u8> = Vec::new();
        for d in dirs {
            if !walked.is_empty() {
                walked.push(b'/');
            }
            walked.extend_from_slice(d);
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let opened = match rustix::fs::openat(&current, d, flags, Mode::empty()) {
                Err(Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(&current, d, Mode::from_raw_mode(0o777)) {
                        Ok(()) if sync_new => {
                            rustix::fs::fsync(&current).map_err(|e| self.io(rel, e))?
                        }
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(self.io(rel, e)),
                    }
                    rustix::fs::openat(&current, d, flags, Mode::empty())
                }
                other => other,
            };
            current = match opened {
                Ok(fd) => fd,
                Err(Errno::NOENT) => return Ok(None),
                Err(Errno::LOOP | Errno::NOTDIR | Errno::MLINK) => {
                    return Err(WorktreeError::Refused {
                        path: shown(rel),
                        why: format!("`{}` is a symbolic link or not a directory", shown(&walked)),
                    })
                }
                Err(e) => return Err(self.io(rel, e)),
            };
        }
        Ok(Some(current))
    }

    /// [`Worktree::parent_with`], never syncing.
    fn parent(&self, rel: &[u8], create: bool) -> Result<Option<OwnedFd>, WorktreeError> {
        self.parent_with(rel, create, false)
    }

    fn io(&self, rel: &[u8], e: Errno) -> WorktreeError {
        WorktreeError::Io {
            path: self.display(rel).display().to_string(),
            source: e.into(),
        }
    }

    /// The type of what stands at `rel` (not following a final link); `None` if nothing does,
    /// or if a directory on the way is missing, a link or a file.
    pub fn file_type(&self, rel: &[u8]) -> Option<FileType> {
        let dir = self.parent(rel, false).ok()??;
        let (_, leaf) = split(rel);
        rustix::fs::statat(&dir, leaf, AtFlags::SYMLINK_NOFOLLOW)
            .ok()
            .map(|st| FileType::from_raw_mode(st.st_mode))
    }

    /// The bytes of the regular file at `rel`, if it is one and at most `max` bytes long.
    pub fn read_small(&self, rel: &[u8], max: usize) -> Option<Vec<u8>> {
        use std::io::Read;
        let dir = self.parent(rel, false).ok()??;
        let (_, leaf) = split(rel);
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&dir, leaf, flags, Mode::empty()).ok()?;
        let st = rustix::fs::fstat(&fd).ok()?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return None;
        }
        let mut out = Vec::new();
        std::fs::File::from(fd)
            .take(max as u64 + 1)
            .read_to_end(&mut out)
            .ok()?;
        (out.len() <= max).then_some(out)
    }

    /// Whether the directory that would hold `rel` exists (as a real directory, reached
    /// without links).
    pub fn parent_exists(&self, rel: &[u8]) -> bool {
        matches!(self.parent(rel, false), Ok(Some(_)))
    }

    /// Atomically create or replace the file at `rel`, creating its directories; never
    /// through a link, never over a directory.
    pub fn write(
        &self,
        rel: &[u8],
        bytes: &[u8],
        kind: Kind,
        durability: Durability,
    ) -> Result<(), WorktreeError> {
        if let Kind::Symlink = kind {
            crate::git::path::check(rel, true).map_err(|e| WorktreeError::Refused {
                path: shown(rel),
                why: e.why,
            })?;
        }
        let dir = self
            .parent_with(rel, true, durability == Durability::Synced)?
            .ok_or_else(|| self.io(rel, Errno::NOENT))?;
        let (_, leaf) = split(rel);
        if let Ok(st) = rustix::fs::statat(&dir, leaf, AtFlags::SYMLINK_NOFOLLOW) {
            if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
                return Err(WorktreeError::Refused {
                    path: shown(rel),
                    why: "a directory stands there".into(),
                });
            }
        }
        let tmp = format!(
            "{TMP_PREFIX}{}-{}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let written = self.write_tmp(&dir, &tmp, bytes, kind, durability);
        let renamed = written.and_then(|()| rustix::fs::renameat(&dir, &tmp, &dir, leaf));
        if let Err(e) = renamed {
            let _ = rustix::fs::unlinkat(&dir, &tmp, AtFlags::empty());
            return Err(self.io(rel, e));
        }
        if durability == Durability::Synced {
            rustix::fs::fsync(&dir).map_err(|e| self.io(rel, e))?;
        }
        Ok(())
    }

    fn write_tmp(
        &self,
        dir: &OwnedFd,
        tmp: &str,
        bytes: &[u8],
        kind: Kind,
        durability: Durability,
    ) -> Result<(), Errno> {
        let perm = match kind {
            Kind::Symlink => return rustix::fs::symlinkat(bytes, dir, tmp),
            Kind::File(perm) => perm,
        };
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir, tmp, flags, Mode::from_raw_mode(perm))?;
        if durability == Durability::Synced {
            // Exactly these bits, whatever the umask (a restore brings back the recorded mode).
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(perm))?;
        }
        let mut f = std::fs::File::from(fd);
        f.write_all(bytes)
            .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
        if durability == Durability::Synced {
            rustix::fs::fsync(f.as_fd())?;
        }
        Ok(())
    }

    /// Remove the file (or link) at `rel`, if it is not a directory; missing is fine.
    pub fn remove(&self, rel: &[u8]) -> Result<(), WorktreeError> {
        let Some(dir) = self.parent(rel, false)? else {
            return Ok(());
        };
        let (_, leaf) = split(rel);
        match rustix::fs::unlinkat(&dir, leaf, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(self.io(rel, e)),
        }
    }

    /// Remove temporaries that a killed run of this tool left in the directory holding `rel`
    /// (those of processes that no longer run). Returns how many were removed.
    pub fn clean_tmp(&self, rel: &[u8]) -> usize {
        let Ok(Some(dir)) = self.parent(rel, false) else {
            return 0;
        };
        let Ok(mut entries) = rustix::fs::Dir::read_from(&dir) else {
            return 0;
        };
        let mut stale = Vec::new();
        while let Some(Ok(e)) = entries.next() {
            let name = e.file_name().to_bytes();
            // `.tbtmp-<pid>-<n>`, or an older release's `<name>.<pid>.tombstone-tmp`.
            let legacy = crate::fsutil::TMP_SUFFIX.as_bytes();
            let pid = if let Some(rest) = name.strip_prefix(TMP_PREFIX.as_bytes()) {
                std::str::from_utf8(rest.split(|&b| b == b'-').next().unwrap_or_default())
                    .ok()
                    .and_then(|p| p.parse::<u32>().ok())
            } else if name.ends_with(legacy) {
                crate::fsutil::tmp_owner(&String::from_utf8_lossy(name)).flatten()
            } else {
                continue;
            };
            let running = pid.is_some_and(crate::fsutil::pid_running);
            if !running {
                stale.push(name.to_vec());
            }
        }
        stale
            .iter()
            .filter(|n| rustix::fs::unlinkat(&dir, n.as_slice(), AtFlags::empty()).is_ok())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_create_directories_and_replace_files() {
        let d = tempfile::tempdir().expect("tempdir");
        let wt = Worktree::open(d.path()).expect("open");
        wt.write(b"a/b/c.txt", b"one", Kind::File(0o644), Durability::Synced)
            .expect("write");
        wt.write(b"a/b/c.txt", b"two", Kind::File(0o755), Durability::Synced)
            .expect("rewrite");
        assert_eq!(
            std::fs::read(d.path().join("a/b/c.txt")).expect("read"),
            b"two"
        );
        wt.write(b"a/l", b"c.txt", Kind::Symlink, Durability::Checkout)
            .expect("link");
        assert_eq!(
            std::fs::read_link(d.path().join("a/l")).expect("readlink"),
            Path::new("c.txt")
        );
        assert_eq!(
            std::fs::read_dir(d.path().join("a/b")).expect("ls").count(),
            1
        );
    }

    // Regression: restore followed a symlinked parent directory out of the work tree.
    #[test]
    fn a_symlinked_parent_is_refused_and_nothing_is_written_outside() {
        let d = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("outside");
        std::os::unix::fs::symlink(outside.path(), d.path().join("x")).expect("symlink");
        std::fs::write(d.path().join("f"), b"file").expect("file");
        let wt = Worktree::open(d.path()).expect("open");
        let err = wt
            .write(b"x/y.txt", b"evil", Kind::File(0o644), Durability::Synced)
            .expect_err("through a link");
        assert!(matches!(err, WorktreeError::Refused { .. }), "{err}");
        assert!(wt
            .write(b"f/y.txt", b"evil", Kind::File(0o644), Durability::Synced)
            .is_err());
        assert!(wt
            .write(b"../y.txt", b"evil", Kind::File(0o644), Durability::Synced)
            .is_err());
        assert!(wt
            .write(
                b".git/hooks/x",
                b"evil",
                Kind::File(0o755),
                Durability::Synced
            )
            .is_err());
        assert_eq!(std::fs::read_dir(outside.path()).expect("ls").count(), 0);
        assert!(wt.read_small(b"x/anything", 10).is_none());
    }

    #[test]
    fn a_final_symlink_is_replaced_not_followed() {
        let d = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("outside");
        let target = outside.path().join("t");
        std::fs::write(&target, b"keep").expect("target");
        std::os::unix::fs::symlink(&target, d.path().join("l")).expect("symlink");
        let wt = Worktree::open(d.path()).expect("open");
        wt.write(b"l", b"new", Kind::File(0o644), Durability::Synced)
            .expect("write");
        assert_eq!(std::fs::read(&target).expect("read"), b"keep");
        assert_eq!(std::fs::read(d.path().join("l")).expect("read"), b"new");
    }

    #[test]
    fn long_names_fit_and_stale_temporaries_are_cleaned() {
        let d = tempfile::tempdir().expect("tempdir");
        let wt = Worktree::open(d.path()).expect("open");
        let name = vec![b'n'; 255];
        wt.write(&name, b"x", Kind::File(0o644), Durability::Checkout)
            .expect("255-byte name");
        let stale = format!("{TMP_PREFIX}999999999-0");
        std::fs::write(d.path().join(&stale), b"half").expect("stale");
        assert_eq!(wt.clean_tmp(&name), 1);
        assert!(!d.path().join(stale).exists());
        assert!(d.path().join(std::ffi::OsStr::from_bytes(&name)).exists());
    }
}
