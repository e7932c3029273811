//! `git tombstone stub check FILE`: is this file a valid tombstone (an in-place or sidecar
//! stub, or a directory tombstone)? Needs no repository.

use crate::cli::StubCheckArgs;
use crate::commands::CommandError;
use crate::error::Outcome;
use crate::output::Output;
use crate::stub::Tombstone;
use std::os::unix::ffi::OsStrExt;

/// Run `stub check`.
pub fn run(args: &StubCheckArgs, out: Output) -> Outcome {
    let shown = args.file.display().to_string();
    let io = |source| CommandError::Io {
        path: args.file.clone(),
        source,
    };
    let meta = std::fs::symlink_metadata(&args.file).map_err(io)?;
    let invalid = |why: &str| CommandError::InvalidStub {
        path: shown.clone(),
        source: crate::stub::StubError::Syntax {
            line: 0,
            why: why.to_owned(),
        },
    };
    if meta.file_type().is_symlink() {
        return Err(invalid("it is a symbolic link; stubs are regular files").into());
    }
    if meta.is_dir() {
        return Err(invalid("it is a directory").into());
    }
    let name = repo_relative(&args.file);
    if meta.len() > crate::stub::max_size(&name) as u64 {
        return Err(CommandError::InvalidStub {
            path: shown,
            source: crate::stub::StubError::TooLarge {
                size: meta.len() as usize,
            },
        }
        .into());
    }
    let bytes = std::fs::read(&args.file).map_err(io)?;
    let tombstone =
        Tombstone::parse(&name, &bytes).map_err(|source| CommandError::InvalidStub {
            path: shown.clone(),
            source,
        })?;
    match tombstone {
        Tombstone::File(stub) => {
            let fields = stub.fields();
            out.json(&FileStub {
                valid: true,
                file: &shown,
                kind: if name == stub.path {
                    "in-place"
                } else {
                    "sidecar"
                },
                id: &stub.id,
                path: crate::stub::encode_path(&stub.path),
                fields: &fields,
            });
            out.text(&format!("{shown}: valid git-tombstone v1 stub"));
            for (k, v) in &fields {
                out.text(&format!("  {k:<14} {v}"));
            }
        }
        Tombstone::Dir(d) => {
            let files: Vec<DirEntry> = d
                .files
                .iter()
                .map(|f| DirEntry {
                    id: &f.id,
                    path: crate::stub::encode_path(&f.path),
                    mode: f.mode.as_str(),
                    size: f.size,
                    sha256: &f.sha256,
                })
                .collect();
            out.json(&DirStub {
                valid: true,
                file: &shown,
                kind: "directory",
                path: crate::stub::encode_path(&d.path),
                source_commit: &d.source_commit,
                reason: &d.reason,
                files,
            });
            out.text(&format!(
                "{shown}: valid git-tombstone v2 directory tombstone for {} ({} file(s))",
                crate::stub::encode_path(&d.path),
                d.files.len()
            ));
            for f in &d.files {
                out.text(&format!("  {} {}", f.id, crate::stub::encode_path(&f.path)));
            }
        }
    }
    Ok(0)
}

/// The path a stub at `file` must name: relative to the work tree that holds it, else the path
/// as given (`stub check` needs no repository).
fn repo_relative(file: &std::path::Path) -> Vec<u8> {
    let given = file.as_os_str().as_bytes().to_vec();
    let Ok(abs) = std::path::absolute(file) else {
        return given;
    };
    let (Some(dir), Some(name)) = (abs.parent(), abs.file_name()) else {
        return given;
    };
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return given;
    };
    match crate::git::Repo::discover(&dir) {
        Ok(repo) => match dir.join(name).strip_prefix(repo.workdir()) {
            Ok(rel) => rel.as_os_str().as_bytes().to_vec(),
            Err(_) => given,
        },
        Err(_) => given,
    }
}

/// `stub check --json` of a file stub (in place or sidecar).
#[derive(serde::Serialize)]
struct FileStub<'a, F> {
    valid: bool,
    file: &'a str,
    kind: &'static str,
    id: &'a str,
    path: String,
    fields: &'a F,
}

/// `stub check --json` of a directory tombstone.
#[derive(serde::Serialize)]
struct DirStub<'a> {
    valid: bool,
    file: &'a str,
    kind: &'static str,
    path: String,
    source_commit: &'a str,
    reason: &'a str,
    files: Vec<DirEntry<'a>>,
}

/// One file a directory tombstone lists.
#[derive(serde::Serialize)]
struct DirEntry<'a> {
    id: &'a str,
    path: String,
    mode: &'static str,
    size: u64,
    sha256: &'a str,
}
