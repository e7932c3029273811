//! Reading the index being committed, and staging changes to it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{GitError, Repo};

/// One entry of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// git's octal mode text (`100644`, `100755`, `120000`, `160000`).
    pub mode: String,
    pub id: String,
}

/// A change to stage.
#[derive(Debug, Clone)]
pub enum Staged {
    /// Put `bytes` at `path` with git mode `mode` (`100644`, `100755` or `120000`).
    File {
        path: Vec<u8>,
        bytes: Vec<u8>,
        mode: &'static str,
    },
    /// Stage the deletion of `path`.
    Remove { path: Vec<u8> },
}

impl Repo {
    /// The entry for `path` in the index (honours `GIT_INDEX_FILE`).
    pub fn index_entry(&self, path: &[u8]) -> Result<Option<IndexEntry>, GitError> {
        let index = self.repo.index_or_empty()?;
        Ok(index.entry_by_path(path.into()).map(|e| IndexEntry {
            mode: format!("{:o}", e.mode.bits()),
            id: e.id.to_string(),
        }))
    }

    /// Whether the index has entries below directory `path` (so a file cannot be put there).
    pub fn index_has_children(&self, path: &[u8]) -> Result<bool, GitError> {
        let index = self.repo.index_or_empty()?;
        let prefix = [path, b"/"].concat();
        Ok(index
            .prefixed_entries_range(prefix.as_slice().into())
            .is_some())
    }

    /// Apply `changes` to the index in one `git update-index --index-info` run.
    pub fn stage(&self, changes: &[Staged]) -> Result<(), GitError> {
        if changes.is_empty() {
            return Ok(());
        }
        let zero = "0".repeat(self.repo.object_hash().len_in_hex());
        let mut input = Vec::new();
        for c in changes {
            match c {
                Staged::File { path, bytes, mode } => {
                    let id = self.repo.write_blob(bytes)?;
                    input.extend_from_slice(format!("{mode} {id} 0\t").as_bytes());
                    input.extend_from_slice(path);
                }
                Staged::Remove { path } => {
                    input.extend_from_slice(format!("0 {zero}\t").as_bytes());
                    input.extend_from_slice(path);
                }
            }
            input.push(0);
        }
        self.git_run(&["update-index", "-z", "--index-info"], &input)
    }

    /// Run `git -C <workdir> args…` and return its stdout, failing with its stderr.
    pub(crate) fn git_output(&self, args: &[&str]) -> Result<String, GitError> {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.workdir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| GitError::Command {
                args: args.join(" "),
                stderr: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(GitError::Command {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Run `git -C <workdir> args…` with `stdin`, failing with its stderr.
    pub(crate) fn git_run(&self, args: &[&str], stdin: &[u8]) -> Result<(), GitError> {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.workdir).args(args);
        // A relative GIT_INDEX_FILE is relative to our working directory; -C would move it.
        if let Some(idx) = std::env::var_os("GIT_INDEX_FILE") {
            let idx = PathBuf::from(idx);
            if idx.is_relative() {
                if let Ok(cwd) = std::env::current_dir() {
                    cmd.env("GIT_INDEX_FILE", cwd.join(idx));
                }
            }
        }
        let failed = |stderr: String| GitError::Command {
            args: args.join(" "),
            stderr,
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(e.to_string()))?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin).map_err(|e| failed(e.to_string()))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| failed(e.to_string()))?;
        if !out.status.success() {
            return Err(failed(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        Ok(())
    }
}
