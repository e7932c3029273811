//! Plumbing for the archive branch: refs, reading files at a commit, building commits with
//! `git fast-import` (no work tree, no index), fetching and pushing.

use std::collections::HashSet;
use std::process::{Command, Stdio};

use gix::bstr::ByteSlice;

use super::{GitError, Repo};

impl Repo {
    /// The commit a ref points to, if the ref exists.
    pub fn ref_commit(&self, name: &str) -> Option<String> {
        let mut r = self.repo.find_reference(name).ok()?;
        r.peel_to_id().ok().map(|id| id.to_string())
    }

    /// The bytes of the file at `path` in `commit`, if there is one.
    pub fn file_at(&self, commit: &str, path: &[u8]) -> Result<Option<Vec<u8>>, GitError> {
        match self.entry_at(commit, path)? {
            Some(e) if e.kind != super::EntryKind::Tree && e.kind != super::EntryKind::Gitlink => {
                Ok(Some(self.blob(&e.id)?))
            }
            _ => Ok(None),
        }
    }

    /// The paths (relative to `dir`) of every file below directory `dir` of `commit`.
    pub fn files_under(&self, commit: &str, dir: &[u8]) -> Result<HashSet<Vec<u8>>, GitError> {
        let Some(entry) = self.entry_at(commit, dir)? else {
            return Ok(HashSet::new());
        };
        let tree = self.repo.find_tree(self.object_id(&entry.id)?)?;
        Ok(tree
            .traverse()
            .breadthfirst
            .files()?
            .into_iter()
            .filter(|f| f.mode.is_blob())
            .map(|f| f.filepath.as_bytes().to_vec())
            .collect())
    }

    /// Feed `stream` to `git fast-import` (which writes objects and moves refs, and never
    /// touches the work tree or the index).
    pub fn fast_import(&self, stream: &[u8]) -> Result<(), GitError> {
        self.git_run(&["fast-import", "--quiet", "--done"], stream)
    }

    /// `git fetch <remote> +refs/heads/<branch>:refs/remotes/<remote>/<branch>`; `Ok(false)` if
    /// the remote has no such branch.
    pub fn fetch_branch(&self, remote: &str, branch: &str) -> Result<bool, GitError> {
        let spec = format!("+refs/heads/{branch}:refs/remotes/{remote}/{branch}");
        match self.git_output(&["fetch", "--quiet", "--no-tags", remote, &spec]) {
            Ok(_) => Ok(true),
            Err(GitError::Command { stderr, .. })
                if stderr.contains("couldn't find remote ref") =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Push `branch` to `remote`; `Ok(false)` when the push was rejected (not a fast-forward,
    /// or refused by the remote), which the caller answers by fetching and merging.
    pub fn push_branch(&self, remote: &str, branch: &str) -> Result<bool, GitError> {
        let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
        let out = Command::new("git")
            .arg("-C")
            .arg(self.workdir())
            .args(["push", "--porcelain", remote, &spec])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| GitError::Command {
                args: "push".into(),
                stderr: e.to_string(),
            })?;
        if out.status.success() {
            return Ok(true);
        }
        // --porcelain reports each ref on stdout: `!\t<ref>\t[rejected] …` / `[remote rejected] …`.
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout
            .lines()
            .any(|l| l.starts_with('!') && l.contains("rejected"))
        {
            return Ok(false);
        }
        Err(GitError::Command {
            args: format!("push {remote} {spec}"),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }

    /// Run any git command in the work tree and return its stdout.
    pub fn run_git(&self, args: &[&str]) -> Result<String, GitError> {
        self.git_output(args)
    }
}
