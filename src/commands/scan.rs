//! `git tombstone scan [RANGE | --all | --since-last]`: archive the deletions of a range of
//! history and report those that skipped their stub.

use crate::cli::ScanArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::{Outcome, FAILURE};
use crate::fsutil;
use crate::report::{self, Format};
use crate::scan::range::{apply_baseline, every_branch, resolve, scan_range};
use crate::scan::stubs::write_stubs;
use crate::scan::Target;

/// Run `scan`.
pub fn run(args: &ScanArgs, ctx: &Ctx) -> Outcome {
    // Only `--since-last` needs the store before the scan; otherwise the scan opens it while
    // it starts on the history (see `scan::Target`), and a range that does not resolve leaves
    // no new store behind.
    let mut opened = if args.since_last {
        Some(ctx.open_store()?)
    } else {
        None
    };
    let range = if args.branches {
        every_branch(ctx)?
    } else {
        resolve(ctx, args.range.as_deref(), opened.as_ref())?
    };
    let actor = ctx.actor(args.by.as_deref());
    let out = ctx.out;
    let open = || ctx.open_store();
    let mut store = Target::Later {
        slot: &mut opened,
        open: &open,
    };
    let mut report = scan_range(
        ctx,
        &mut store,
        &range,
        args.first_parent,
        &actor,
        &|done, total| out.progress("scanning commits", done, total),
    )?;
    for n in &report.notices {
        n.show(&ctx.out);
    }
    apply_baseline(ctx, &mut report, args.baseline.as_deref(), None, None)?;
    if ctx.repo.is_shallow() {
        ctx.out.warn(
            "this clone is shallow: the scan stopped at its boundary, and deletions in older history were not seen; `git fetch --unshallow` and scan again to cover them",
        );
    }
    let format = if ctx.out.json {
        Format::Json
    } else {
        args.format
    };
    let rendered = report::render(&report, format);
    match &args.output {
        Some(path) => {
            let path = ctx.cwd.join(path);
            fsutil::write_atomic(&path, rendered.as_bytes(), 0o644)
                .map_err(|source| CommandError::Io { path, source })?;
        }
        None => ctx.out.raw(&rendered),
    }
    if args.write_stubs && !report.violations.is_empty() {
        let mut notices = Vec::new();
        let written = write_stubs(ctx, store.get()?, &report, &actor, &mut notices)?;
        for n in &notices {
            n.show(&ctx.out);
        }
        ctx.out.note(&written);
    }
    Ok(exit_code(&report, args.fail_on_violation))
}

/// 1 when history holds a path git refuses (always: a security finding), or when there are
/// violations and `--fail-on-violation`; else 0.
pub fn exit_code(report: &crate::scan::Report, fail_on_violation: bool) -> i32 {
    if !report.unsafe_paths.is_empty() || (fail_on_violation && !report.violations.is_empty()) {
        FAILURE
    } else {
        0
    }
}
