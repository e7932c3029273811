//! Installing and removing the hook shims, and reporting their state.
//!
//! Per hook, `install`:
//! - no hook → write ours;
//! - our shim (any version) → rewrite it if it differs from this build's (upgrade);
//! - a foreign hook → rename it to `<hook>.tombstone-chained` (bytes, mode and symlinks kept by
//!   the rename) and write ours, which runs it afterwards with the same arguments and stdin.
//!   If a chained hook is already there and differs, refuse unless `--force` (which keeps the
//!   older one as `<hook>.tombstone-chained.old`).
//!
//! `uninstall` removes our shim and renames the chained hook back, so what was there before is
//! restored exactly.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{is_ours, CHAINED_SUFFIX, SHIMS};
use crate::fsutil;

/// Errors of install/uninstall.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InstallError {
    #[error("{} is a foreign hook and {} already holds another one", hook.display(), chained.display())]
    #[diagnostic(
        code(tombstone::install::conflict),
        help("merge them by hand, or rerun with --force to chain the current hook (the older chained one is kept as *.tombstone-chained.old, not run)")
    )]
    Conflict { hook: PathBuf, chained: PathBuf },
    #[error("cannot write hooks in {}", dir.display())]
    #[diagnostic(
        code(tombstone::install::io),
        help("check that the hooks directory is writable")
    )]
    Io {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl InstallError {
    /// What kind of failure this is (see [`crate::error::Kind`]).
    pub fn kind(&self) -> crate::error::Kind {
        match self {
            InstallError::Conflict { .. } => crate::error::Kind::Usage,
            InstallError::Io { .. } => crate::error::Kind::Internal,
        }
    }
}

/// The state of one hook.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HookState {
    /// No hook file.
    Missing,
    /// Our shim, identical to this build's.
    Ours,
    /// Our shim from another version.
    Outdated,
    /// Someone else's hook (ours is not installed).
    Foreign,
}

/// A hook and what is there.
#[derive(Debug, Clone, Serialize)]
pub struct HookStatus {
    pub name: &'static str,
    pub path: PathBuf,
    pub state: HookState,
    /// A foreign hook chained after ours.
    pub chained: Option<PathBuf>,
    /// What install or uninstall did (`installed`, `upgraded`, `unchanged`, `chained`,
    /// `removed`, `restored`, `left`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

fn chained_path(hook: &Path) -> PathBuf {
    let mut name = hook
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(CHAINED_SUFFIX);
    hook.with_file_name(name)
}

fn read_hook(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
        // A dangling symlink is still a hook someone put there: treat it as foreign content.
        Ok(_) => Ok(Some(std::fs::read(path).unwrap_or_default())),
    }
}

/// The state of every hook in `dir`.
pub fn status(dir: &Path) -> Vec<HookStatus> {
    SHIMS
        .iter()
        .map(|(name, shim)| {
            let path = dir.join(name);
            let chained = chained_path(&path);
            let state = match read_hook(&path).ok().flatten() {
                None => HookState::Missing,
                Some(text) if text == shim.as_bytes() => HookState::Ours,
                Some(text) if is_ours(&text) => HookState::Outdated,
                Some(_) => HookState::Foreign,
            };
            HookStatus {
                name,
                path,
                state,
                chained: std::fs::symlink_metadata(&chained)
                    .is_ok()
                    .then_some(chained),
                action: None,
            }
        })
        .collect()
}

/// Install the shims into `dir` (see the module docs).
pub fn install(dir: &Path, force: bool) -> Result<Vec<HookStatus>, InstallError> {
    let io = |source| InstallError::Io {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    // Check every hook before changing any, so a conflict changes nothing.
    let before = status(dir);
    if !force {
        for s in &before {
            if s.state == HookState::Foreign {
                if let Some(chained) = &s.chained {
                    let same =
                        read_hook(&s.path).ok().flatten() == read_hook(chained).ok().flatten();
                    if !same {
                        return Err(InstallError::Conflict {
                            hook: s.path.clone(),
                            chained: chained.clone(),
                        });
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (mut s, (_, shim)) in before.into_iter().zip(SHIMS) {
        let action = match s.state {
            HookState::Ours => "unchanged",
            HookState::Outdated => {
                fsutil::write_atomic(&s.path, shim.as_bytes(), 0o755).map_err(io)?;
                "upgraded"
            }
            HookState::Missing => {
                fsutil::write_atomic(&s.path, shim.as_bytes(), 0o755).map_err(io)?;
                "installed"
            }
            HookState::Foreign => {
                let chained = chained_path(&s.path);
                if let Some(existing) = &s.chained {
                    let mut old = existing.as_os_str().to_os_string();
                    old.push(".old");
                    std::fs::rename(existing, old).map_err(io)?;
                }
                std::fs::rename(&s.path, &chained).map_err(io)?;
                fsutil::write_atomic(&s.path, shim.as_bytes(), 0o755).map_err(io)?;
                s.chained = Some(chained);
                "chained"
            }
        };
        s.state = HookState::Ours;
        s.action = Some(action.into());
        out.push(s);
    }
    Ok(out)
}

/// Remove our shims from `dir`, putting chained hooks back where they were.
pub fn uninstall(dir: &Path) -> Result<Vec<HookStatus>, InstallError> {
    let io = |source| InstallError::Io {
        dir: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for mut s in status(dir) {
        let action = match (&s.state, &s.chained) {
            (HookState::Ours | HookState::Outdated, Some(chained))
            | (HookState::Missing, Some(chained)) => {
                std::fs::rename(chained, &s.path).map_err(io)?;
                s.state = HookState::Foreign;
                s.chained = None;
                "restored"
            }
            (HookState::Ours | HookState::Outdated, None) => {
                std::fs::remove_file(&s.path).map_err(io)?;
                s.state = HookState::Missing;
                "removed"
            }
            (HookState::Foreign, _) | (HookState::Missing, None) => "left",
        };
        s.action = Some(action.into());
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write_hook(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).expect("write");
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }

    #[test]
    fn install_chains_and_uninstall_restores_byte_for_byte() {
        let d = tempfile::tempdir().expect("tempdir");
        write_hook(d.path(), "pre-commit", "#!/bin/sh\necho mine\n");
        let r = install(d.path(), false).expect("install");
        assert_eq!(r[0].action.as_deref(), Some("chained"));
        assert_eq!(r[1].action.as_deref(), Some("installed"));
        assert!(is_ours(
            &std::fs::read(d.path().join("pre-commit")).expect("read")
        ));
        let again = install(d.path(), false).expect("reinstall");
        assert!(again
            .iter()
            .all(|s| s.action.as_deref() == Some("unchanged")));
        uninstall(d.path()).expect("uninstall");
        assert_eq!(
            std::fs::read(d.path().join("pre-commit")).expect("read"),
            b"#!/bin/sh\necho mine\n"
        );
        let mode = std::fs::metadata(d.path().join("pre-commit"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert!(!d.path().join("post-commit").exists());
        assert_eq!(std::fs::read_dir(d.path()).expect("dir").count(), 1);
    }

    #[test]
    fn an_old_shim_is_upgraded() {
        let d = tempfile::tempdir().expect("tempdir");
        write_hook(
            d.path(),
            "pre-commit",
            "#!/bin/sh\n# git-tombstone hook v1\nold version\n",
        );
        let r = install(d.path(), false).expect("install");
        assert_eq!(r[0].action.as_deref(), Some("upgraded"));
        assert_eq!(
            std::fs::read_to_string(d.path().join("pre-commit")).expect("read"),
            SHIMS[0].1
        );
    }

    #[test]
    fn a_second_foreign_hook_is_a_conflict_unless_forced() {
        let d = tempfile::tempdir().expect("tempdir");
        write_hook(d.path(), "pre-commit", "#!/bin/sh\necho first\n");
        install(d.path(), false).expect("install");
        write_hook(d.path(), "pre-commit", "#!/bin/sh\necho second\n");
        assert!(matches!(
            install(d.path(), false),
            Err(InstallError::Conflict { .. })
        ));
        assert_eq!(
            std::fs::read(d.path().join("pre-commit")).expect("unchanged"),
            b"#!/bin/sh\necho second\n"
        );
        install(d.path(), true).expect("forced");
        assert_eq!(
            std::fs::read(d.path().join("pre-commit.tombstone-chained")).expect("chained"),
            b"#!/bin/sh\necho second\n"
        );
        assert_eq!(
            std::fs::read(d.path().join("pre-commit.tombstone-chained.old")).expect("kept"),
            b"#!/bin/sh\necho first\n"
        );
    }
}
