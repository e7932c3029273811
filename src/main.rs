//! `git-tombstone`: parse → run → exit code.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(git_tombstone::main_entry());
}
