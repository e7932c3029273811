//! `git-tombstone-hook`: what the installed hook shims run (`git-tombstone-hook pre-commit`),
//! a thin entry into the library that links the hooks alone, so every commit starts a small
//! binary instead of the whole CLI.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(git_tombstone::hook_entry());
}
