//! One verb per file. Each has a `run` that takes its clap args and a [`Ctx`], delegates the
//! work to the library, and hands results to [`Output`].

pub mod archive;
pub mod bind;
pub mod ci;
pub mod compact;
pub mod doctor;
pub mod evidence;
pub mod export;
pub mod hold;
pub mod hook;
pub mod import;
pub mod init;
pub mod install;
pub mod list;
pub mod man;
pub mod prune_request;
pub mod publish;
pub mod purge;
pub mod query;
pub mod restore;
pub mod scan;
pub mod show;
pub mod snapshot;
pub mod stub;
pub mod sync;
pub mod vacuum;
pub mod verify;

use crate::cli::{Cli, Command, EvidenceCommand, StubCommand};
use crate::error::Outcome;
use crate::output::Output;

// The library's context and refusals, under the names the verbs use.
pub use crate::context::{check_size, shown, Ctx};
pub use crate::error::CommandError;

/// Run the parsed command line.
pub fn run(cli: Cli) -> (Output, Outcome) {
    let out = Output {
        json: cli.global.json,
        quiet: cli.global.quiet,
    };
    let outcome = match cli.command {
        Command::Stub(StubCommand::Check(a)) => stub::run(&a, out),
        Command::Man(a) => man::run(&a, out),
        Command::Completions(a) => man::completions(&a, out),
        command => Ctx::new(cli.global.store.as_deref(), out).and_then(|ctx| {
            shown_after(
                &ctx,
                match command {
                    Command::Init(a) => init::run(&a, &ctx),
                    Command::Archive(a) => archive::run(&a, &ctx),
                    Command::Bind(a) => bind::run(&a, &ctx),
                    Command::List(a) => list::run(&a, &ctx),
                    Command::Show(a) => show::run(&a, &ctx),
                    Command::Restore(a) => restore::run(&a, &ctx),
                    Command::Verify(a) => verify::run(&a, &ctx),
                    Command::Scan(a) => scan::run(&a, &ctx),
                    Command::Ci(a) => ci::run(&a, &ctx),
                    Command::Publish(a) => publish::run(&a, &ctx),
                    Command::Install(a) => install::install(&a, &ctx),
                    Command::Uninstall(a) => install::uninstall(&a, &ctx),
                    Command::Doctor(a) => doctor::run(&a, &ctx),
                    Command::Hook(a) => hook::run(&a, &ctx),
                    Command::Evidence(EvidenceCommand::Digest(a)) => evidence::digest(&a, &ctx),
                    Command::Evidence(EvidenceCommand::Verify(a)) => evidence::verify(&a, &ctx),
                    Command::Evidence(EvidenceCommand::Checkpoint(a)) => {
                        evidence::checkpoint(&a, &ctx)
                    }
                    Command::Evidence(EvidenceCommand::Export(a)) => evidence::export(&a, &ctx),
                    Command::Vacuum(a) => vacuum::run(&a, &ctx),
                    Command::Hold(a) => hold::hold(&a, &ctx),
                    Command::Release(a) => hold::release(&a, &ctx),
                    Command::PruneRequest(a) => prune_request::run(&a, &ctx),
                    Command::Purge(a) => purge::run(&a, &ctx),
                    Command::Query(a) => query::run(&a, &ctx),
                    Command::Export(a) => export::run(&a, &ctx),
                    Command::Import(a) => import::run(&a, &ctx),
                    Command::Compact(a) => compact::run(&a, &ctx),
                    Command::Sync(a) => sync::run(&a, &ctx),
                    Command::Snapshot(a) => snapshot::run(&a, &ctx),
                    Command::Stub(StubCommand::Check(a)) => stub::run(&a, ctx.out),
                    Command::Man(a) => man::run(&a, ctx.out),
                    Command::Completions(a) => man::completions(&a, ctx.out),
                },
            )
        }),
    };
    (out, outcome)
}

/// `outcome`, after printing what the context gathered for the user while the command ran.
fn shown_after(ctx: &Ctx, outcome: Outcome) -> Outcome {
    for notice in ctx.take_notices() {
        notice.show(&ctx.out);
    }
    outcome
}

/// Run one command in a context made from the global options (the one-command binaries:
/// `git-archive-restore`, `git-tombstone-hook`).
pub fn with_ctx(
    global: &crate::cli::Global,
    run: impl FnOnce(&Ctx) -> Outcome,
) -> (Output, Outcome) {
    let out = Output {
        json: global.json,
        quiet: global.quiet,
    };
    (
        out,
        Ctx::new(global.store.as_deref(), out).and_then(|ctx| shown_after(&ctx, run(&ctx))),
    )
}
