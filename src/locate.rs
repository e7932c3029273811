//! Finding the tombstone that stands for a path: at the path itself (in place), at its sidecar
//! `<path>.tombstone`, or in the directory tombstone `<dir>.tombstone` of a directory above it
//! (nearest first). One place decides, so the hook, bind, scan, verify and restore agree.

use crate::git::Repo;
use crate::stub::{Stub, Tombstone};
use crate::worktree::Worktree;

/// Every location a tombstone for `path` may stand at, in the order they are tried.
pub fn locations(path: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![path.to_vec(), crate::stub::sidecar_of(path)];
    let mut end = path.len();
    while let Some(i) = path[..end].iter().rposition(|&b| b == b'/') {
        out.push(crate::stub::sidecar_of(&path[..i]));
        end = i;
    }
    out
}

/// The first of `locations(path)` whose bytes (from `read`) parse as a tombstone standing for
/// `path`: its location and the stub it holds for `path`.
fn first(path: &[u8], mut read: impl FnMut(&[u8]) -> Option<Vec<u8>>) -> Option<(Vec<u8>, Stub)> {
    for location in locations(path) {
        let Some(bytes) = read(&location) else {
            continue;
        };
        if !crate::stub::may_be_stub(&location, bytes.len() as u64, &bytes) {
            continue;
        }
        let Ok(t) = Tombstone::parse(&location, &bytes) else {
            continue;
        };
        if let Some(stub) = t.stubs().into_iter().find(|s| s.path == path) {
            return Some((location, stub));
        }
    }
    None
}

/// The tombstone standing for `path` in `commit`'s tree.
pub fn in_commit(repo: &Repo, commit: &str, path: &[u8]) -> Option<(Vec<u8>, Stub)> {
    first(path, |location| {
        let entry = repo.entry_at(commit, location).ok()??;
        let size = repo.blob_size(&entry.id).ok()?;
        if size > crate::stub::max_size(location) as u64 {
            return None;
        }
        repo.blob(&entry.id).ok()
    })
}

/// The tombstone standing for `path` in the work tree (read without following links).
pub fn in_worktree(wt: &Worktree, path: &[u8]) -> Option<(Vec<u8>, Stub)> {
    first(path, |location| {
        wt.read_small(location, crate::stub::max_size(location))
    })
}

/// The tombstone at `location` in the work tree, if the file there is one.
pub fn at(wt: &Worktree, location: &[u8]) -> Option<Tombstone> {
    let bytes = wt.read_small(location, crate::stub::max_size(location))?;
    if !crate::stub::may_be_stub(location, bytes.len() as u64, &bytes) {
        return None;
    }
    Tombstone::parse(location, &bytes).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn locations_go_from_the_path_outwards() {
        let l: Vec<String> = super::locations(b"a/b/c.rs")
            .into_iter()
            .map(|p| String::from_utf8(p).expect("utf8"))
            .collect();
        assert_eq!(
            l,
            [
                "a/b/c.rs",
                "a/b/c.rs.tombstone",
                "a/b.tombstone",
                "a.tombstone"
            ]
        );
    }
}
