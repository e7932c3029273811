//! `git-tombstone`: parse → run → exit code.
#![forbid(unsafe_code)]

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(git_tombstone::main_entry());
}
