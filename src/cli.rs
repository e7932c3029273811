//! Command-line types (clap derive). The `///` comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Make deleting code safe and auditable: capture deleted files into an archive, leave a
/// tombstone stub at the old path, and restore them on demand, verified byte for byte.
///
/// Exit codes: 0 ok, 1 verification or policy failure, 2 usage or configuration error,
/// 3 internal error.
#[derive(Debug, Parser)]
#[command(
    name = "git-tombstone",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Store directory (default: git config tombstone.store, else <git common dir>/tombstone)
    #[arg(long, global = true, env = "GIT_TOMBSTONE_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Print JSON (one object per line) instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// Print no informational notes on stderr
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented .tombstone.toml (never overwriting one) and create the store
    Init(InitArgs),
    /// Archive tracked files: store their committed content and replace each by a stub
    Archive(ArchiveArgs),
    /// Bind pending items to HEAD once their stub (or deletion) is committed
    Bind(BindArgs),
    /// List archived items
    List(ListArgs),
    /// Show one archived item, by id or path
    Show(ShowArgs),
    /// Restore an archived file (the same as `git archive-restore`)
    Restore(RestoreArgs),
    /// Verify the evidence chain, stored content, and the stubs in HEAD
    Verify(VerifyArgs),
    /// Archive every deletion in a range of history; report deletions that skipped their stub
    Scan(ScanArgs),
    /// Run in GitHub Actions: scan the event's commit range, report, and publish the archive
    Ci(CiArgs),
    /// Publish the store's portable form to an archive branch (no checkout) and push it
    Publish(PublishArgs),
    /// Install the git hooks (pre-commit, post-commit, post-rewrite), chaining any hook already there
    Install(InstallArgs),
    /// Remove the git hooks, putting back exactly the hooks that were there before
    Uninstall(UninstallArgs),
    /// Check hooks, the binary on PATH, the policy and the store; exit 1 with the fix if needed
    Doctor(DoctorArgs),
    /// Run one git hook (the installed shims call this; GIT_TOMBSTONE_SKIP=1 bypasses them)
    Hook(HookArgs),
    /// Work with stub files
    #[command(subcommand)]
    Stub(StubCommand),
    /// Work with the evidence log: verify, checkpoint, export, digest
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Retention: summarise the store, or drop the content of items removed before a cut-off
    Vacuum(VacuumArgs),
    /// Place a legal hold on items (by id, path glob or commit): they are never vacuumed or purged
    Hold(HoldArgs),
    /// Release the legal holds on items
    Release(HoldArgs),
    /// Record a request to purge an item's content (the first step of a dual-control purge)
    PruneRequest(PruneRequestArgs),
    /// Approve a requested purge; with --apply and two distinct approvers, destroy the content
    Purge(PurgeArgs),
    /// Run one read-only SQL statement against the store (audit queries)
    Query(QueryArgs),
    /// Write Parquet deltas (only what changed) under <store>/parquet/, or a JSONL(.gz) file
    Export(ExportArgs),
    /// Rebuild or merge a store from a JSONL(.gz) file or a Parquet directory
    Import(ImportArgs),
    /// Merge small Parquet files per partition and recompress them
    Compact(CompactArgs),
    /// Copy the Parquet files into the central store (hostname=/namespace=/project=/date=)
    Sync(SyncArgs),
    /// Archive every file of a commit's tree; with --update, record what disappeared since
    Snapshot(SnapshotArgs),
    /// Print or install the manual pages (`git tombstone --help` opens them once installed)
    Man(ManArgs),
    /// Print shell completions (bash, zsh, fish), including `git tombstone <TAB>` in bash
    Completions(CompletionsArgs),
}

/// The manual pages, generated from these very definitions: git-tombstone(1), one page per
/// subcommand (git-tombstone-scan(1), …) and git-archive-restore(1).
///
/// git hands `git tombstone --help` and `git archive-restore --help` to `man`, so they work
/// once the pages are where `man` looks: `--install` writes them to `<prefix>/share/man/man1`
/// (prefix `~/.local` by default, which man-db searches when `~/.local/bin` is on PATH).
/// Without `--install`, prints one page (roff) to stdout.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The page to print: `git-tombstone` (default), `git-tombstone-<command>` or
    /// `git-archive-restore`
    #[arg(value_name = "PAGE", conflicts_with_all = ["install", "dir"])]
    pub page: Option<String>,
    /// Write every page to <prefix>/share/man/man1
    #[arg(long)]
    pub install: bool,
    /// The prefix for --install (default: ~/.local)
    #[arg(long, value_name = "DIR", requires = "install")]
    pub prefix: Option<PathBuf>,
    /// Write every page into this directory instead (for packagers)
    #[arg(long, value_name = "DIR", conflicts_with = "install")]
    pub dir: Option<PathBuf>,
}

/// Shell completions, generated from these definitions.
///
/// bash: `eval "$(git tombstone completions bash)"` (or save it under
/// ~/.local/share/bash-completion/completions/git-tombstone). It completes `git-tombstone`,
/// `git-archive-restore`, and, with git's own completion loaded, `git tombstone <TAB>` and
/// `git archive-restore <TAB>` (through the `_git_tombstone` hook git's completion calls).
/// zsh: save as `_git-tombstone` in a directory of $fpath. fish: save as
/// ~/.config/fish/completions/git-tombstone.fish.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// Shells with completions.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// Archive every file of a commit's tree into the store (deduplicated: a repeated snapshot
/// costs only what changed).
///
/// Files pass when they match an --allow-glob (all do without one), no --deny-glob, and are not
/// ignored by the policy. With --update, files of the previous snapshot that are gone get
/// `deleted_at` and the deleting commit, and go to the tombstone streams. `list --live` shows the
/// active rows; `export` carries them as the `files` dataset.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The commit whose tree to archive
    #[arg(default_value = "HEAD", value_name = "REV")]
    pub rev: String,
    /// Only paths matching this glob (repeatable; policy glob syntax)
    #[arg(long = "allow-glob", value_name = "GLOB")]
    pub allow_globs: Vec<String>,
    /// Never paths matching this glob (repeatable)
    #[arg(long = "deny-glob", value_name = "GLOB")]
    pub deny_globs: Vec<String>,
    /// Mark files that disappeared since the previous snapshot as deleted
    #[arg(long)]
    pub update: bool,
    /// Threads that read, hash and compress: a number, or `auto` (one per core)
    #[arg(long, default_value = "auto", value_name = "N|auto")]
    pub workers: String,
    /// Who snapshots (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
}

/// Write the store's analytical or portable form.
///
/// Without --jsonl: Parquet deltas under <store>/parquet/{items,blobs}/date=YYYY-MM-DD/, one new
/// immutable file per dataset and partition holding only the rows changed since the last export.
/// With --jsonl FILE: the whole store as code_archive JSONL (gzip when FILE ends in .gz).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the JSONL interchange file FILE instead of Parquet deltas
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// How blob content is stored in Parquet: raw bytes (smallest overall) or zstd per file
    #[arg(long, value_enum, default_value = "raw")]
    pub content: crate::interchange::export::ContentEncoding,
    /// zstd level of the Parquet pages (1-22)
    #[arg(long, default_value_t = 9, value_name = "N")]
    pub level: i32,
    /// Who exports (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
}

/// Rebuild a store from its portable form, or merge one into it (idempotent).
///
/// Ids, SHA-256 and sizes are checked for every record before anything is written. Into an empty
/// store a JSONL file's evidence lines are imported verbatim (chain checked); otherwise one
/// `import` evidence line records what came in.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A code_archive .jsonl / .jsonl.gz file, or a directory with Parquet `items/` and `blobs/`
    #[arg(value_name = "FILE|DIR")]
    pub source: PathBuf,
    /// Who imports (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Only partitions older than this age (`30d`, `12w`, `1y`)
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Compression of the merged files (only zstd)
    #[arg(long, default_value = "zstd", value_parser = ["zstd"])]
    pub compression: String,
    /// zstd level of the merged files (1-22)
    #[arg(long, default_value_t = 19, value_name = "N")]
    pub level: i32,
    /// Leave files of at least this many bytes alone
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    pub threshold: u64,
    /// Say what would be merged; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Who compacts (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
    /// Then carry the compaction to this central store (a directory or s3://BUCKET/PREFIX), as
    /// `sync DEST` does: the merged files are there and registered before any input is removed
    #[arg(long, value_name = "DEST")]
    pub dest: Option<PathBuf>,
    /// The S3-compatible endpoint for an s3:// --dest (else AWS_ENDPOINT_URL)
    #[arg(long, value_name = "URL", requires = "dest")]
    pub endpoint: Option<String>,
}

/// Copy this store's Parquet files into a central store shared by many repositories.
///
/// Layout: DEST/hostname=H/namespace=N/project=P/date=D/{items,blobs}/*.parquet, with the project
/// identity from the git remote (github__owner / repo) or the path (local__…). Exports pending
/// deltas first; copies only what DEST lacks, verified by SHA-256.
///
/// On s3://BUCKET/PREFIX the data objects are content-addressed (the SHA-256 is in the name),
/// each store writes manifests of its own under PREFIX/_manifests/, and objects a compaction
/// replaced are deleted only after the manifest that replaces them is written: many runners
/// can sync into one bucket at once, and a rerun finishes a sync that was killed.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The central store: a directory or an S3-compatible bucket, s3://BUCKET/PREFIX
    /// (credentials from AWS_* or the AWS profile); default GIT_TOMBSTONE_CENTRAL, else
    /// ~/.tombstone/projects
    #[arg(value_name = "DEST", env = "GIT_TOMBSTONE_CENTRAL")]
    pub dest: Option<PathBuf>,
    /// The S3-compatible endpoint for an s3:// destination (else AWS_ENDPOINT_URL; default AWS)
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Also index the store in this PostgreSQL catalog (a libpq address:
    /// postgresql://USER@HOST:PORT/DB, the password from PGPASSWORD or ~/.pgpass)
    #[arg(
        long,
        value_name = "ADDRESS",
        env = "GIT_TOMBSTONE_CATALOG",
        hide_env_values = true
    )]
    pub catalog: Option<String>,
    /// Say what would be copied or removed; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Show which files are synced, missing or different; write nothing
    #[arg(long, conflicts_with = "dry_run")]
    pub status: bool,
}

/// Summarise the store, or drop the stored content of items removed before a cut-off.
///
/// Metadata and evidence stay forever: a vacuumed item keeps its row (state `vacuumed`) and
/// restore still finds the bytes in git when they are reachable. Items under legal hold are
/// never touched, and content an item that stays still uses is kept. Tombstone events older
/// than the cut-off are pruned from tombstones_code.jsonl / tombstones_logs.jsonl.
#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// Print totals, date ranges, unique paths, categories and bytes; change nothing
    #[arg(long, conflicts_with_all = ["before", "older_than", "dry_run", "remove_stubs"])]
    pub summary: bool,
    /// Cut-off date (YYYY-MM-DD, UTC midnight, or RFC 3339): items removed strictly before it go
    #[arg(long, value_name = "DATE", conflicts_with = "older_than")]
    pub before: Option<String>,
    /// Cut-off as an age: `90d`, `12w`, `1y` (days, weeks, years before now)
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Say what would go, and why the rest stays; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also (re)write tombstones_code.jsonl.gz and tombstones_logs.jsonl.gz after pruning
    #[arg(long)]
    pub gzip_tombstones: bool,
    /// Only items and tombstone events of this category
    #[arg(long)]
    pub category: Option<String>,
    /// Also delete and stage the stubs (in the work tree) of items older than the cut-off
    #[arg(long)]
    pub remove_stubs: bool,
    /// Allow a cut-off younger than the policy's `retention.min_days`
    #[arg(long)]
    pub force: bool,
    /// Who vacuums (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct HoldArgs {
    /// Tombstone ids (tb_…) or path globs (`src/legacy/**`, `*.sql`)
    #[arg(value_name = "ID|GLOB", required_unless_present = "commit")]
    pub targets: Vec<String>,
    /// Items whose source or removing commit starts with this id
    #[arg(long, value_name = "COMMIT")]
    pub commit: Option<String>,
    /// Why (the matter, ticket or case); recorded with the hold and in the evidence log
    #[arg(long, required = true)]
    pub reason: String,
    /// Who (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct PruneRequestArgs {
    /// The item whose content should be destroyed (tb_…)
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why (e.g. "Contains PII")
    #[arg(long, required = true)]
    pub reason: String,
    /// Who requests (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
}

/// Approve, and with --apply carry out, the purge of an item's content (dual control).
///
/// A purge needs a recorded `prune-request` and approvals from two distinct identities, given in
/// one run (`--by A --second B`) or in two (`--by A`, later `--by B --apply`). With --apply the
/// content's bytes are destroyed: nulled in SQLite with secure_delete, the pages reclaimed, and
/// exported Parquet/JSONL under the store rewritten without them. Every item sharing those bytes
/// is purged with it. Metadata and evidence remain; items under legal hold are refused.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The item (tb_…)
    #[arg(value_name = "ID")]
    pub id: String,
    /// The (first) approver (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
    /// A second approver, distinct from the first
    #[arg(long)]
    pub second: Option<String>,
    /// Why the approvers agree
    #[arg(long, required = true)]
    pub reason: String,
    /// Destroy the content once two distinct approvals are recorded (without it, only approve)
    #[arg(long)]
    pub apply: bool,
}

/// Run one read-only SQL statement against the store and print the rows.
///
/// The store is opened read-only and statements that write are refused. Tables: items, blobs,
/// evidence, tombstones, holds, purge_requests, purge_approvals, checkpoints, meta; views `item`
/// and `artifact` (the names the audit queries in docs/governance.md use).
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The statement, e.g. "SELECT category, count(*) FROM items GROUP BY 1"
    #[arg(value_name = "SQL")]
    pub sql: String,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Rewrite .tombstone.toml from the template even if one exists (a broken policy, say;
    /// git has the old one)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// Tracked files to archive (processed in byte order of their paths)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Why the files are archived (default: the policy's reason for the path)
    #[arg(long)]
    pub reason: Option<String>,
    /// A tag to record with each item (repeatable)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Free-form metadata `key=value` to record with each item (repeatable)
    #[arg(long = "metadata", value_name = "KEY=VALUE")]
    pub metadata: Vec<String>,
    /// Who archives (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
    /// The commit whose content is archived
    #[arg(long, default_value = "HEAD", value_name = "REV")]
    pub commit: String,
}

#[derive(Debug, Args)]
pub struct BindArgs {}

#[derive(Debug, Args, Default)]
pub struct ListArgs {
    /// Only paths matching this glob (without `/` it matches the file name anywhere)
    #[arg(long, value_name = "GLOB")]
    pub path: Option<String>,
    /// Only this category (code, docs, tests, configs, logs, …)
    #[arg(long)]
    pub category: Option<String>,
    /// Only this state (pending, archived, restored, vacuumed, purged)
    #[arg(long)]
    pub state: Option<String>,
    /// Only items whose source or removing commit starts with this id
    #[arg(long, value_name = "COMMIT")]
    pub commit: Option<String>,
    /// Only items archived at or after this date (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only items archived before this date (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// List the central store across projects instead of this store (the one --database
    /// names, else GIT_TOMBSTONE_CENTRAL, else ~/.tombstone/projects)
    #[arg(long, short = 'g')]
    pub global: bool,
    /// List the central store at DIR (or s3://BUCKET/PREFIX) across projects
    #[arg(long, value_name = "DIR|URL")]
    pub database: Option<PathBuf>,
    /// The S3-compatible endpoint for an s3:// --database (else AWS_ENDPOINT_URL)
    #[arg(long, value_name = "URL", requires = "database")]
    pub endpoint: Option<String>,
    /// List the PostgreSQL catalog across projects (a libpq address, as `sync --catalog`)
    #[arg(long, value_name = "ADDRESS", conflicts_with = "database")]
    pub catalog: Option<String>,
    /// List the live files of the snapshots (active rows: not deleted, not superseded)
    #[arg(long, conflicts_with_all = ["global", "database", "catalog"])]
    pub live: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A tombstone id (tb_…) or a path (a stub, or a path with archived versions)
    #[arg(value_name = "PATH|ID")]
    pub target: std::ffi::OsString,
}

/// Restore an archived file, verified byte for byte against its SHA-256.
///
/// The target is a path (a stub at that path, or the latest archived version of it) or a
/// tombstone id. Bytes come from the local store, else from the git object database.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// What to restore: a path (its stub, else its most recently removed version), a
    /// directory (every archived file below it), a glob (`'crates/**'`; quote it) or a
    /// tombstone id (tb_…). Several may be given; all are verified before any is written.
    #[arg(value_name = "PATH|DIR|GLOB|ID", required = true)]
    pub targets: Vec<std::ffi::OsString>,
    /// Restore the version removed in (or archived from) COMMIT instead of the newest
    #[arg(long, value_name = "COMMIT")]
    pub at: Option<String>,
    /// Write the content to FILE instead of its original path (one file only; nothing is
    /// staged)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// List what would be restored, and from where, without writing anything
    #[arg(long)]
    pub dry_run: bool,
    /// Overwrite a file that is not this item's stub
    #[arg(long)]
    pub force: bool,
    /// Write the work tree file only; do not stage it
    #[arg(long)]
    pub no_stage: bool,
    /// Who restores (default: git `user.name <user.email>`)
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {}

/// Archive every deletion in a range of history (CI's backstop for bypassed hooks).
///
/// Semantics match `git log --no-renames --diff-filter=D` over the same revisions: each
/// non-merge commit is diffed against its parent, root commits delete nothing, merges add no
/// events of their own. Files replaced by a stub bind (or capture) the stub's record.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// `A..B` (commits reachable from B but not A), or one commit (its whole history); default:
    /// HEAD's history
    #[arg(value_name = "RANGE", conflicts_with_all = ["all", "since_last"])]
    pub range: Option<String>,
    /// Scan all of HEAD's history (the default). Unlike `git log --all`, this is HEAD's
    /// history only, not every ref: see --branches
    #[arg(long)]
    pub all: bool,
    /// Scan the history of every branch and tag: local branches, remote-tracking branches and
    /// tags (what `git log --branches --remotes --tags` walks), leaving out the archive branch
    #[arg(long, conflicts_with_all = ["range", "all", "since_last"])]
    pub branches: bool,
    /// Scan from the commit the last `--all`/`--since-last` scan ended at, to HEAD
    #[arg(long, conflicts_with = "all")]
    pub since_last: bool,
    /// Follow first parents only, and diff merges against their first parent (what a merged
    /// branch deleted is then reported at the merge)
    #[arg(long)]
    pub first_parent: bool,
    /// Report format (`--json` is the same as `--format json`)
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::report::Format,
    /// Write the report to FILE instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 if any deletion skipped the stub its policy requires
    #[arg(long)]
    pub fail_on_violation: bool,
    /// Commit the missing stubs (for violations whose path is still free in HEAD)
    #[arg(long)]
    pub write_stubs: bool,
    /// Violations already known: a previous `--format json` report, or one tombstone id per
    /// line. They are archived and reported as baselined, not as violations
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Who scans (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
}

/// Run in GitHub Actions (what `action/action.yml` calls).
///
/// Derives the range from the event (`GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`): push →
/// `before..after` (a new branch: what is not on the default branch; a force push: from the
/// merge base), pull_request → `base..head`, anything else → since the last scan. Deepens a
/// shallow clone until the range resolves, or fails (never passing vacuously). Writes a job
/// summary, step outputs and annotations.
#[derive(Debug, Args)]
pub struct CiArgs {
    /// Exit 1 if any deletion skipped the stub its policy requires
    #[arg(long)]
    pub fail_on_violation: bool,
    /// Commit the missing stubs (the workflow pushes the commit)
    #[arg(long)]
    pub write_stubs: bool,
    /// Violations already known (see `scan --baseline`)
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Publish the archive branch and push it to the remote
    #[arg(long)]
    pub publish: bool,
    /// The archive branch for --publish
    #[arg(long, value_name = "NAME")]
    pub archive_branch: Option<String>,
    /// Format of the report file
    #[arg(long, value_enum, default_value = "sarif")]
    pub report_format: crate::report::Format,
    /// Where to write the report (default: $RUNNER_TEMP/tombstone-report.<ext>, else the
    /// system's temporary directory; never the work tree unless asked)
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// The remote to deepen from and publish to
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// The event name (default: GITHUB_EVENT_NAME)
    #[arg(long, env = "GITHUB_EVENT_NAME", value_name = "NAME")]
    pub event_name: Option<String>,
    /// The event payload (default: GITHUB_EVENT_PATH)
    #[arg(
        long,
        visible_alias = "event",
        env = "GITHUB_EVENT_PATH",
        value_name = "FILE"
    )]
    pub event_path: Option<PathBuf>,
    /// Scan this range (`A..B`) instead of the event's; outside GitHub Actions, `ci` needs an
    /// event file or a range
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The archive branch (default: GIT_TOMBSTONE_ARCHIVE_BRANCH, else tombstone-archive)
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// The remote to push to (default: origin, when it exists)
    #[arg(long, value_name = "REMOTE")]
    pub remote: Option<String>,
    /// Commit the branch locally only
    #[arg(long, conflicts_with = "remote")]
    pub no_push: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// When a foreign hook meets an already chained one, chain the current hook anyway (the older
    /// chained hook is kept as *.tombstone-chained.old and no longer run)
    #[arg(long)]
    pub force: bool,
    /// Instead of the hooks, write the GitHub Actions workflow to
    /// .github/workflows/git-tombstone.yml (never overwriting one)
    #[arg(long)]
    pub github_action: bool,
    /// The action the workflow uses, pinned to a commit: OWNER/REPO/action@SHA
    #[arg(
        long,
        value_name = "REF",
        requires = "github_action",
        env = "GIT_TOMBSTONE_ACTION_REF"
    )]
    pub action_ref: Option<String>,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {}

#[derive(Debug, Args)]
pub struct DoctorArgs {}

/// The hooks git-tombstone implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HookName {
    /// Capture staged deletions; write and stage stubs
    PreCommit,
    /// Bind captured records to the new commit; add a git note
    PostCommit,
    /// Move records to rewritten commits after amend or rebase (reads git's list on stdin)
    PostRewrite,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// Which hook
    #[arg(value_enum)]
    pub name: HookName,
    /// The arguments git passed to the hook
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<std::ffi::OsString>,
}

#[derive(Debug, Subcommand)]
pub enum StubCommand {
    /// Check that FILE is a valid stub and print its fields (exit 1 if not, saying why)
    Check(StubCheckArgs),
}

#[derive(Debug, Args)]
pub struct StubCheckArgs {
    /// The file to check (its name decides the expected comment syntax)
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Print the SHA-256 of evidence line SEQ, to quote in a pull request
    Digest(DigestArgs),
    /// Check the whole chain (exit 1 with the first bad line), optionally against a checkpoint
    Verify(EvidenceVerifyArgs),
    /// Record the Merkle root (RFC 6962) of the log in a git note on HEAD (refs/notes/tombstone)
    Checkpoint(CheckpointArgs),
    /// Print evidence lines with their digests (for a pull request description)
    Export(ExportEvidenceArgs),
}

#[derive(Debug, Args)]
pub struct EvidenceVerifyArgs {
    /// Also check that the log still begins with the lines of the latest checkpoint recorded in
    /// the notes of REV or its ancestors (default REV: HEAD)
    #[arg(long, value_name = "REV", num_args = 0..=1, default_missing_value = "HEAD")]
    pub against_checkpoint: Option<String>,
    /// Check this evidence file instead of the store's (e.g. from the archive branch)
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The commit to attach the note to
    #[arg(long, default_value = "HEAD", value_name = "REV")]
    pub rev: String,
    /// Who (default: git `user.name <user.email>`, or GITHUB_ACTOR in CI)
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportEvidenceArgs {
    /// First sequence number to print (default: 1)
    #[arg(long, value_name = "SEQ", default_value_t = 1)]
    pub since: i64,
    /// Print a Markdown table for a pull request description
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The line's sequence number (`seq`)
    pub seq: i64,
}

/// `git-tombstone-hook`: what the installed hook shims run; the same as `git tombstone hook`,
/// in a binary that links the hooks alone (it starts faster on every commit).
///
/// Exit codes: 0 ok, 2 usage error or refused, 3 internal error.
#[derive(Debug, Parser)]
#[command(name = "git-tombstone-hook", version, max_term_width = 100)]
pub struct HookCli {
    #[command(flatten)]
    pub global: Global,
    #[command(flatten)]
    pub args: HookArgs,
}

/// `git archive-restore`: restore an archived file, verified byte for byte.
///
/// Exit codes: 0 ok, 1 verification failure, 2 usage error, 3 internal error.
#[derive(Debug, Parser)]
#[command(name = "git-archive-restore", version, max_term_width = 100)]
pub struct RestoreCli {
    #[command(flatten)]
    pub global: Global,
    #[command(flatten)]
    pub args: RestoreArgs,
}
