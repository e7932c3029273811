//! Project identity: `namespace` and `project` from the git remote, or from the path
//! when there is none. They name the repository in the central store
//! (`hostname=/namespace=/project=/date=`) and in the `item.repo` column of the audit view
//! (docs/store.md).
//!
//! `git@github.com:owner/repo.git` → `github__owner` / `repo`; gitlab.com, bitbucket.org and
//! codeberg.org likewise; a self-hosted host becomes its sanitised name (`git.example.com` →
//! `git_example_com__owner`); no remote → `local__` + the parent path's components.

use std::path::Path;

use serde::Serialize;

/// Where a repository sits in the central store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub namespace: String,
    pub project: String,
}

impl Identity {
    /// `namespace/project`, the value of `item.repo`.
    pub fn slug(&self) -> String {
        format!("{}/{}", self.namespace, self.project)
    }
}

/// Replace anything but ASCII letters, digits, `-` and `_` by `_` (safe as a directory name
/// and a hive partition value).
pub fn sanitise(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        "_".into()
    } else {
        out
    }
}

fn provider(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "github.com" | "www.github.com" | "ssh.github.com" => "github".into(),
        "gitlab.com" | "www.gitlab.com" => "gitlab".into(),
        "bitbucket.org" | "www.bitbucket.org" => "bitbucket".into(),
        "codeberg.org" | "www.codeberg.org" => "codeberg".into(),
        other => sanitise(other),
    }
}

/// The identity a remote URL names, if it has a host and a path.
pub fn from_remote(url: &str) -> Option<Identity> {
    let (host, path) = crate::git::url_host_and_path(url)?;
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let project = parts.pop()?;
    if host.is_empty() || parts.is_empty() {
        return None;
    }
    let owner = parts
        .iter()
        .map(|p| sanitise(p))
        .collect::<Vec<_>>()
        .join("__");
    Some(Identity {
        namespace: format!("{}__{owner}", provider(&host)),
        project: sanitise(project),
    })
}

/// The identity of a repository without a usable remote, from its work tree path.
pub fn from_path(workdir: &Path) -> Identity {
    let project = workdir
        .file_name()
        .map(|n| sanitise(&n.to_string_lossy()))
        .unwrap_or_else(|| "_".into());
    let parent: Vec<String> = workdir
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(s) => Some(sanitise(&s.to_string_lossy())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let namespace = if parent.is_empty() {
        "local".into()
    } else {
        format!("local__{}", parent.join("__"))
    };
    Identity { namespace, project }
}

/// This machine's name for the `hostname=` partition (`GIT_TOMBSTONE_HOSTNAME` overrides).
pub fn hostname() -> String {
    if let Ok(h) = std::env::var("GIT_TOMBSTONE_HOSTNAME") {
        if !h.trim().is_empty() {
            return sanitise(h.trim());
        }
    }
    // gethostname(3) on every Unix (macOS has no /proc or /etc/hostname).
    let raw = gethostname::gethostname().to_string_lossy().into_owned();
    let raw = raw.trim();
    sanitise(if raw.is_empty() { "localhost" } else { raw })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(url: &str) -> Option<(String, String)> {
        from_remote(url).map(|i| (i.namespace, i.project))
    }

    #[test]
    fn remotes_map_to_provider_namespaces() {
        let gh = Some(("github__owner".into(), "repo".into()));
        assert_eq!(id("git@github.com:owner/repo.git"), gh);
        assert_eq!(id("https://github.com/owner/repo"), gh);
        assert_eq!(id("https://github.com/owner/repo.git/"), gh);
        assert_eq!(id("ssh://git@github.com:22/owner/repo.git"), gh);
        assert_eq!(
            id("https://gitlab.com/org/sub/repo"),
            Some(("gitlab__org__sub".into(), "repo".into()))
        );
        assert_eq!(
            id("git@bitbucket.org:team/app.git"),
            Some(("bitbucket__team".into(), "app".into()))
        );
        assert_eq!(
            id("https://codeberg.org/me/thing"),
            Some(("codeberg__me".into(), "thing".into()))
        );
        assert_eq!(
            id("https://user:pw@git.example.com:8443/a.b/c d.git"),
            Some(("git_example_com__a_b".into(), "c_d".into()))
        );
        assert_eq!(
            id("ssh://git@[2001:db8::1]:2222/team/app.git"),
            Some(("2001_db8__1__team".into(), "app".into()))
        );
        assert_eq!(
            id("git@github.com:22/owner/repo.git").map(|i| i.1),
            Some("repo".into())
        );
        assert_eq!(id("/srv/git/repo.git"), None);
        assert_eq!(id("file:///srv/git/repo.git"), None);
        assert_eq!(id("https://github.com/onlyowner"), None);
    }

    #[test]
    fn paths_map_to_local_namespaces() {
        let i = from_path(Path::new("/home/teague/Projects/myapp"));
        assert_eq!(i.namespace, "local__home__teague__Projects");
        assert_eq!(i.project, "myapp");
        assert_eq!(sanitise("a/../b"), "a____b");
    }
}
