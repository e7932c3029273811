//! `git-archive-restore`: `git archive-restore <path|id>`, a thin entry into the library.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(git_tombstone::restore_entry());
}
