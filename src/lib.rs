//! git-tombstone: safe, auditable deletion of files from git repositories.
//!
//! Map of the modules, top down (docs/ARCHITECTURE.md draws the layers and the data's path):
//! - CLI layer: [`cli`] (clap types, the `--help` text), [`commands`] (one verb per file:
//!   parse → library call → [`output`]). Nothing below imports from these two.
//! - Context and errors: [`context`] (repository, policy, store location, actor, output sink),
//!   [`error`] (error kinds → exit codes, the refusals), [`output`] (the only printing).
//! - Operations: [`hooks`] (install, pre-commit, post-commit, post-rewrite), [`scan`] (history
//!   scans, ranges, baselines, missing stubs), [`capture`] (the one path that records a file
//!   version), [`staging`] (the one path that writes tombstones into the work tree and the
//!   index), [`bind`] (pending items → the commit that removed them), [`snapshot`] (whole-tree
//!   archives), [`publish`] (the archive branch), [`report`] (text, JSON, SARIF,
//!   Markdown), [`governance`] (retention, legal holds, dual-control purge, checkpoints),
//!   [`interchange`] (Parquet deltas, compaction, JSONL import/export, the central store).
//! - Foundations: [`git`] (the only gix user; returns plain types), [`store`] (SQLite, the
//!   evidence log and streams; the only SQL), [`worktree`] (writes that never follow a link
//!   or leave the work tree), [`stub`] (tombstone format, pure), [`locate`] (which tombstone
//!   stands for a path), [`policy`] (`.tombstone.toml`), [`project`] (namespace/project),
//!   [`id`] (ids and hashes), [`content`] (language, MIME, binary), [`clock`], [`fsutil`]
//!   (atomic writes), [`trace`] (phase timings), [`failpoint`] (test-only failure injection).
#![forbid(unsafe_code)]

pub mod bind;
pub mod capture;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod content;
pub mod context;
pub mod error;
pub mod failpoint;
pub mod fsutil;
pub mod git;
pub mod governance;
pub mod id;
pub mod interchange;
pub mod locate;
pub mod output;
pub mod policy;
pub mod project;
pub mod publish;
pub mod report;
pub mod scan;
pub mod snapshot;
pub mod staging;
pub mod store;
pub mod stub;
pub mod trace;
pub mod worktree;

use clap::Parser;

/// Entry point of `git-tombstone`: returns the process exit code.
pub fn main_entry() -> i32 {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return output::Output::clap_error(&e),
    };
    let out = output::Output {
        json: cli.global.json,
        quiet: cli.global.quiet,
    };
    guarded(out, || commands::run(cli))
}

/// Entry point of `git-archive-restore`: returns the process exit code. Only the restore
/// path, so the link (and the start-up's relocations) holds what a restore needs.
pub fn restore_entry() -> i32 {
    lean_entry(|cli: cli::RestoreCli| {
        commands::with_ctx(&cli.global, |ctx| commands::restore::run(&cli.args, ctx))
    })
}

/// Entry point of `git-tombstone-hook` (what the hook shims run): returns the process exit
/// code. Only the hooks, so a commit starts a binary that holds what a hook needs (measured:
/// 0.5 ms of a 2.2 ms hook run was the whole CLI's start-up).
pub fn hook_entry() -> i32 {
    lean_entry(|cli: cli::HookCli| {
        commands::with_ctx(&cli.global, |ctx| commands::hook::run(&cli.args, ctx))
    })
}

/// Parse a one-command binary's arguments (`C`), then run it guarded.
fn lean_entry<C: Parser + HasGlobal>(
    run: impl FnOnce(C) -> (output::Output, error::Outcome),
) -> i32 {
    let cli = match C::try_parse() {
        Ok(c) => c,
        Err(e) => return output::Output::clap_error(&e),
    };
    let out = output::Output {
        json: cli.global().json,
        quiet: cli.global().quiet,
    };
    guarded(out, || run(cli))
}

/// The options every binary takes.
trait HasGlobal {
    fn global(&self) -> &cli::Global;
}

impl HasGlobal for cli::RestoreCli {
    fn global(&self) -> &cli::Global {
        &self.global
    }
}

impl HasGlobal for cli::HookCli {
    fn global(&self) -> &cli::Global {
        &self.global
    }
}

/// Run a command; a panic (a bug) ends as an internal error (exit 3) reported like any other
/// error, never as a crash with exit 101. Worker threads catch their own panics the same way.
fn guarded(out: output::Output, run: impl FnOnce() -> (output::Output, error::Outcome)) -> i32 {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(done) => finish(done),
        Err(payload) => finish((
            out,
            Err(error::Panicked::from_payload("the command", &*payload).into()),
        )),
    }
}

fn finish((out, outcome): (output::Output, error::Outcome)) -> i32 {
    match outcome {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            out.error(e);
            code
        }
    }
}
pub mod hooks;
