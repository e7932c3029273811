//! Reading trees and blobs.

use gix::bstr::ByteSlice;

use super::{GitError, Repo};

/// Blobs at least this large are read through `git cat-file` (see [`Repo::blob`]).
pub const STREAMED_BLOB: u64 = 4 << 20;

/// What a tree entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Executable,
    Symlink,
    /// A submodule (gitlink): the id is a commit in another repository.
    Gitlink,
    Tree,
}

impl EntryKind {
    pub(crate) fn from_gix(kind: gix::object::tree::EntryKind) -> EntryKind {
        use gix::object::tree::EntryKind as K;
        match kind {
            K::Blob => EntryKind::File,
            K::BlobExecutable => EntryKind::Executable,
            K::Link => EntryKind::Symlink,
            K::Commit => EntryKind::Gitlink,
            K::Tree => EntryKind::Tree,
        }
    }

    /// git's octal mode text.
    pub fn mode(self) -> &'static str {
        match self {
            EntryKind::File => "100644",
            EntryKind::Executable => "100755",
            EntryKind::Symlink => "120000",
            EntryKind::Gitlink => "160000",
            EntryKind::Tree => "040000",
        }
    }
}

/// A file of a tree with its bytes: `(path, content)`.
pub type FileBytes = (Vec<u8>, Vec<u8>);

/// One entry of a commit's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub kind: EntryKind,
    pub id: String,
}

impl Repo {
    fn commit_tree(&self, commit: &str) -> Result<gix::Tree<'_>, GitError> {
        let id = self.object_id(commit)?;
        let missing = |e: gix::Error| GitError::MissingObject {
            id: commit.to_owned(),
            message: e.to_string(),
        };
        let commit = self.repo.find_commit(id).map_err(missing)?;
        commit.tree().map_err(missing)
    }

    /// The entry at `path` in `commit`'s tree.
    pub fn entry_at(&self, commit: &str, path: &[u8]) -> Result<Option<TreeEntry>, GitError> {
        let tree = self.commit_tree(commit)?;
        let entry = tree.lookup_entry(path.split(|&b| b == b'/'))?;
        Ok(entry.map(|e| TreeEntry {
            kind: EntryKind::from_gix(e.mode().kind()),
            id: e.object_id().to_string(),
        }))
    }

    /// The bytes of blob `id`.
    ///
    /// A large blob (its recorded size, bounded by the store's limit, is at least
    /// [`STREAMED_BLOB`]) is read through `git cat-file` into a buffer of exactly its size:
    /// gix 0.90 reads a loose object's whole compressed file before inflating it, which held
    /// half as much again as the content.
    pub fn blob(&self, id: &str) -> Result<Vec<u8>, GitError> {
        self.blob_via(id, None)
    }

    /// [`Repo::blob`], taking the bytes from `read` when an earlier step read them (they are
    /// checked against the id all the same).
    pub fn blob_via(&self, id: &str, read: Option<&mut ReadBlobs>) -> Result<Vec<u8>, GitError> {
        let oid = self.object_id(id)?;
        if let Some(data) = read.and_then(|r| r.take(&oid)) {
            return checked(oid, id, data);
        }
        let missing = |message: String| GitError::MissingObject {
            id: id.to_owned(),
            message,
        };
        let size = self.blob_size(id)?;
        let data = if (STREAMED_BLOB..=crate::store::blobs::MAX_CONTENT_SIZE).contains(&size) {
            self.blob_streamed(id, size)
                .map_err(|e| missing(e.to_string()))?
        } else {
            let blob = self
                .repo
                .find_blob(oid)
                .map_err(|e| missing(e.to_string()))?;
            blob.detach().data
        };
        checked(oid, id, data)
    }

    /// The size of blob `id` as the object database records it, without reading its content.
    pub fn blob_size(&self, id: &str) -> Result<u64, GitError> {
        let oid = self.object_id(id)?;
        let header = self
            .repo
            .find_header(oid)
            .map_err(|e| GitError::MissingObject {
                id: id.to_owned(),
                message: e.to_string(),
            })?;
        Ok(header.size())
    }

    /// Blob `id` of `size` bytes, read from `git cat-file blob` into one buffer of that size.
    fn blob_streamed(&self, id: &str, size: u64) -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut child = std::process::Command::new("git")
            .arg("-C")
            .arg(&self.workdir)
            .args(["cat-file", "blob", id])
            // The object itself, never a `refs/replace` stand-in (the id check would refuse it).
            .env("GIT_NO_REPLACE_OBJECTS", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        // The recorded size is only a claim until the bytes hash to the id: reserve at most
        // 64 MiB up front and let the buffer grow with what really arrives.
        let mut data = Vec::with_capacity(size.min(64 << 20) as usize);
        let read = child
            .stdout
            .take()
            .map(|out| out.take(size + 1).read_to_end(&mut data));
        let out = child.wait_with_output()?;
        read.transpose()?;
        if !out.status.success() || data.len() as u64 != size {
            return Err(std::io::Error::other(format!(
                "git cat-file blob {id}: {} ({} of {size} bytes)",
                String::from_utf8_lossy(&out.stderr).trim(),
                data.len()
            )));
        }
        Ok(data)
    }

    /// Whether object `id` exists.
    pub fn has_object(&self, id: &str) -> bool {
        self.object_id(id)
            .is_ok_and(|oid| self.repo.has_object(oid))
    }

    /// Every file of `commit`'s tree (blobs, executables, symlinks; submodules and trees left
    /// out) as `(path, kind, blob id)`, in path order.
    pub fn tree_files(&self, commit: &str) -> Result<Vec<(Vec<u8>, EntryKind, String)>, GitError> {
        let tree = self.commit_tree(commit)?;
        let mut files = tree.traverse().breadthfirst.files()?;
        files.sort_by(|a, b| a.filepath.cmp(&b.filepath));
        Ok(files
            .into_iter()
            .filter(|f| f.mode.is_blob_or_symlink())
            .map(|f| {
                (
                    f.filepath.as_bytes().to_vec(),
                    EntryKind::from_gix(f.mode.kind()),
                    f.oid.to_string(),
                )
            })
            .collect())
    }

    /// Files of `commit`'s tree that may be stubs (small blobs starting with a marker line), with
    /// their bytes, in path order.
    pub fn stub_candidates(&self, commit: &str) -> Result<Vec<FileBytes>, GitError> {
        let tree = self.commit_tree(commit)?;
        let mut files = tree.traverse().breadthfirst.files()?;
        files.sort_by(|a, b| a.filepath.cmp(&b.filepath));
        let mut out = Vec::new();
        for f in files {
            if !f.mode.is_blob() {
                continue;
            }
            let header = self.repo.find_header(f.oid)?;
            let size = header.size();
            if size > crate::stub::max_size(f.filepath.as_bytes()) as u64 {
                continue;
            }
            let data = self.repo.find_blob(f.oid)?.detach().data;
            if crate::stub::may_be_stub(f.filepath.as_bytes(), size, &data) {
                out.push((f.filepath.as_bytes().to_vec(), data));
            }
        }
        Ok(out)
    }
}

/// The id git gives a blob of `data`. For SHA-1 this is the plain hash (with the CPU's SHA
/// instructions), not gix's collision-detecting one, which cost three times as much (3% of a
/// scan): the check guards the decoding of objects already in the repository, which git
/// hashed with collision detection when they arrived; it is not where a forged pair is caught.
/// `data`, if it is the blob `oid` (`id`) names. What is archived must be that blob: checked
/// here, independently of the pack decoding that produced the bytes.
fn checked(oid: gix::ObjectId, id: &str, data: Vec<u8>) -> Result<Vec<u8>, GitError> {
    let found = blob_id(oid.kind(), &data).map_err(|e| GitError::MissingObject {
        id: id.to_owned(),
        message: e.to_string(),
    })?;
    if found != oid {
        return Err(GitError::CorruptObject {
            id: id.to_owned(),
            found: found.to_string(),
        });
    }
    Ok(data)
}

/// Blobs one step read whole and a later step needs again: move scoring reads the deleted
/// files it scores, and the scan's capture of each deletion takes the bytes from here instead
/// of decoding them from the pack a second time. Only blobs under [`STREAMED_BLOB`] are kept,
/// [`ReadBlobs::MAX_BYTES`] at most.
#[derive(Default)]
pub struct ReadBlobs {
    blobs: std::collections::HashMap<gix::ObjectId, Vec<u8>>,
    bytes: usize,
}

impl ReadBlobs {
    /// The most bytes kept at once (beyond it, the capture reads the pack again).
    pub const MAX_BYTES: usize = 64 << 20;

    /// Keep `data`, the bytes of blob `id`, if they fit.
    pub fn keep(&mut self, id: gix::ObjectId, data: Vec<u8>) {
        let fits = (data.len() as u64) < STREAMED_BLOB
            && self.bytes.saturating_add(data.len()) <= Self::MAX_BYTES;
        if fits && !self.blobs.contains_key(&id) {
            self.bytes += data.len();
            self.blobs.insert(id, data);
        }
    }

    /// The kept bytes of blob `id`, handed over.
    pub fn take(&mut self, id: &gix::ObjectId) -> Option<Vec<u8>> {
        let data = self.blobs.remove(id)?;
        self.bytes -= data.len();
        Some(data)
    }
}

fn blob_id(kind: gix::hash::Kind, data: &[u8]) -> Result<gix::ObjectId, impl std::fmt::Display> {
    match kind {
        gix::hash::Kind::Sha1 => {
            use sha1::Digest as _;
            let mut hasher = sha1::Sha1::new();
            hasher.update(gix::objs::encode::loose_header(
                gix::objs::Kind::Blob,
                data.len() as u64,
            ));
            hasher.update(data);
            Ok(gix::ObjectId::from_bytes_or_panic(&hasher.finalize()))
        }
        #[allow(unreachable_patterns)]
        other => gix::objs::compute_hash(other, gix::objs::Kind::Blob, data),
    }
}

#[cfg(test)]
mod tests {
    use super::{blob_id, checked, ReadBlobs, STREAMED_BLOB};

    fn id_of(data: &[u8]) -> gix::ObjectId {
        blob_id(gix::hash::Kind::Sha1, data).unwrap_or_else(|e| panic!("hash: {e}"))
    }

    // Bytes kept by one step are handed over once, and only up to the bounds: none at or over
    // the streaming size, at most MAX_BYTES in all.
    #[test]
    fn read_blobs_hand_kept_bytes_over_once_within_their_bounds() {
        let mut read = ReadBlobs::default();
        let (a, b) = (b"a = 1\n".to_vec(), b"b = 2\n".to_vec());
        read.keep(id_of(&a), a.clone());
        read.keep(id_of(&b), b.clone());
        assert_eq!(read.take(&id_of(&a)), Some(a.clone()));
        assert_eq!(read.take(&id_of(&a)), None, "handed over once");
        assert_eq!(read.take(&id_of(&b)), Some(b));
        assert_eq!(read.bytes, 0);

        let big = vec![7u8; STREAMED_BLOB as usize];
        read.keep(id_of(&big), big.clone());
        assert_eq!(
            read.take(&id_of(&big)),
            None,
            "a blob streamed anyway is not kept"
        );

        let chunk = vec![1u8; (STREAMED_BLOB - 1) as usize];
        let mut kept = 0;
        for i in 0..(ReadBlobs::MAX_BYTES / chunk.len() + 2) {
            let mut data = chunk.clone();
            data[0] = i as u8;
            read.keep(id_of(&data), data);
            kept = read.blobs.len();
        }
        assert_eq!(kept, ReadBlobs::MAX_BYTES / chunk.len());
        assert!(read.bytes <= ReadBlobs::MAX_BYTES);
    }

    // Bytes handed over are still checked against the id they were kept under.
    #[test]
    fn handed_over_bytes_are_checked_against_their_id() {
        let (a, b) = (b"a = 1\n".to_vec(), b"b = 2\n".to_vec());
        let ida = id_of(&a);
        assert_eq!(
            checked(ida, &ida.to_string(), a).ok(),
            Some(b"a = 1\n".to_vec())
        );
        match checked(ida, &ida.to_string(), b) {
            Err(crate::git::GitError::CorruptObject { found, .. }) => {
                assert_eq!(found, id_of(b"b = 2\n").to_string())
            }
            other => panic!("expected CorruptObject, got {other:?}"),
        }
    }

    #[test]
    fn blob_ids_are_the_ids_git_gives() {
        // `printf 'hello\n' | git hash-object --stdin`, and the empty blob.
        let hello = blob_id(gix::hash::Kind::Sha1, b"hello\n").map_err(|e| e.to_string());
        assert_eq!(
            hello.expect("hash").to_string(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        let empty = blob_id(gix::hash::Kind::Sha1, b"").map_err(|e| e.to_string());
        assert_eq!(
            empty.expect("hash").to_string(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
        // The same as gix's collision-detecting hash on ordinary content.
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let ours = blob_id(gix::hash::Kind::Sha1, &data).map_err(|e| e.to_string());
        let gix = gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, &data);
        assert_eq!(ours.expect("hash"), gix.expect("hash"));
    }
}
