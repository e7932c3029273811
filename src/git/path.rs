//! The path gate: the one decision "may this repository path be archived, stubbed or written?"
//!
//! Every path that enters the tool from something another person wrote (a tree in a history it
//! scans, the index being committed, a stub, an archive-branch record, an import) or leaves it
//! (a restore, a stub written into the work tree) is checked here. The rules are git's own, as
//! `git fsck` and `verify_path()` apply them with `core.protectNTFS` and `core.protectHFS` both
//! on (git turns NTFS protection on everywhere; HFS protection costs nothing on other systems
//! and a repository is cloned onto Macs too):
//! - not empty, not absolute, no empty, `.` or `..` component, no NUL byte;
//! - no `.git` component in any case, nor its aliases: HFS+ ignores zero-width code points
//!   (`.g\u{200c}it`), NTFS strips trailing dots and spaces (`.git. `), knows 8.3 short names
//!   (`git~1`) and alternate data streams (`.git::$INDEX_ALLOCATION`);
//! - a symbolic link may not be called `.gitmodules` (in any of those spellings).
//!
//! Backslashes are ordinary bytes on Unix, as git treats them there; they never separate
//! components for us, so `a\..\b` names one file.

use gix::bstr::ByteSlice;
use gix::validate::path::component::{self, Mode, Options};

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{why}")]
pub struct UnsafePath {
    /// What is wrong, as a sentence fragment ("the path is absolute").
    pub why: String,
}

fn refuse(why: impl Into<String>) -> UnsafePath {
    UnsafePath { why: why.into() }
}

/// Check that `path` is a safe repository-relative path for a file of the given kind
/// (`symlink` for mode 120000). Pure: the file system is not consulted.
pub fn check(path: &[u8], symlink: bool) -> Result<(), UnsafePath> {
    if path.is_empty() {
        return Err(refuse("the path is empty"));
    }
    if path.starts_with(b"/") {
        return Err(refuse("the path is absolute"));
    }
    if path.contains(&0) {
        return Err(refuse("the path contains a NUL byte"));
    }
    let options = Options {
        protect_windows: false,
        protect_hfs: true,
        protect_ntfs: true,
    };
    let mut components = path.split(|&b| b == b'/').peekable();
    while let Some(c) = components.next() {
        let leaf = components.peek().is_none();
        let mode = (leaf && symlink).then_some(Mode::Symlink);
        if let Err(e) = gix::validate::path::component(c.as_bstr(), mode, options) {
            return Err(refuse(match e {
                component::Error::Empty => "the path has an empty component".to_owned(),
                component::Error::Relative if c == b".." => {
                    "the path has a `..` component (traversal)".to_owned()
                }
                component::Error::Relative => "the path has a `.` component".to_owned(),
                component::Error::DotGitDir => format!(
                    "the path points into a `.git` directory (component `{}`)",
                    c.as_bstr()
                ),
                component::Error::SymlinkedGitModules => {
                    "a symbolic link may not be called `.gitmodules`".to_owned()
                }
                other => other.to_string(),
            }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_git_refuses_is_refused() {
        for p in [
            &b""[..],
            b"/etc/passwd",
            b"../../x",
            b"a/../b",
            b"a//b",
            b"./a",
            b"a/",
            b".git/hooks/post-checkout",
            b"a/.GIT/config",
            b"a/.Git",
            b"nul\0byte",
            // NTFS aliases of .git.
            b".git./hooks/x",
            b".git . /hooks/x",
            b"git~1/hooks/x",
            b"GIT~1/config",
            b".git::$INDEX_ALLOCATION/hooks/x",
            // HFS+ ignores zero-width code points.
            ".g\u{200c}it/hooks/x".as_bytes(),
            "\u{feff}.git/config".as_bytes(),
        ] {
            assert!(check(p, false).is_err(), "{:?}", p.as_bstr());
        }
        assert!(
            check(b".gitmodules", true).is_err(),
            "symlinked .gitmodules"
        );
        assert!(check(b"sub/.GITMODULES", true).is_err());
    }

    #[test]
    fn ordinary_paths_pass() {
        for p in [
            &b"src/main.rs"[..],
            b".github/workflows/ci.yml",
            b".gitignore",
            b".gitmodules",
            b"src/..ok/x...y",
            b"back\\slash",
            b"a\\..\\b",
            b"bad\xffname",
            b".gitx/y",
            b"git~2/x",
        ] {
            assert_eq!(check(p, false), Ok(()), "{:?}", p.as_bstr());
        }
        assert_eq!(check(b"link", true), Ok(()));
    }
}
