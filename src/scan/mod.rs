//! Scanning history: archive every deletion in a range of commits, as CI's backstop for hooks
//! that were bypassed (`--no-verify`, `GIT_TOMBSTONE_SKIP=1`, edits on the web, other tools).
//!
//! For each commit (see [`crate::git`]'s history module for the exact semantics), every deleted
//! file is archived with `source_commit` = the parent and `removed_in_commit` = the commit, and
//! a file replaced by a valid stub binds (or captures) the stub's item. Ids are those the hook
//! would have made, so hook and scan records merge, and a second scan adds nothing.
//!
//! A deletion the policy says to `stub` that landed without a stub is a **violation**: it is
//! archived anyway and reported. Moves (the same blob added elsewhere in the commit) and stub
//! removals are archived (moves) or skipped (stubs) but never violations.
//!
//! Diffing, reading blobs, hashing and compressing run on worker threads (one per core); the
//! results are written to the store in commit order, in batches, by the calling thread.
//!
//! [`range`] resolves what to scan and records the scan; [`stubs`] writes the stubs that
//! violations lack.

pub mod range;
pub mod stubs;

use std::collections::HashSet;

use serde::Serialize;

use crate::capture::{self, Capture, Packed};
use crate::error::Error;
use crate::git::{CommitChanges, CommitInfo, EntryKind, Repo, TreeMemo};
use crate::policy::{Action, Compression, Policy};
use crate::store::{evidence, Store};
use crate::stub::{Mode, Stub, Tombstone};

/// A deletion that should have left a stub and did not.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    #[serde(skip)]
    pub path_bytes: Vec<u8>,
    pub commit: String,
    pub path: String,
    pub blob: String,
    pub id: String,
    pub category: String,
}

/// A path in history that git itself would refuse to check out (`.git/…`, `..`, an NTFS or
/// HFS alias of `.git`): only a crafted history has one. It is reported, never archived, so
/// nothing can ever restore it.
#[derive(Debug, Clone, Serialize)]
pub struct UnsafePath {
    pub commit: String,
    /// The path as bytes would show it (C-quoted when unusual).
    pub path: String,
    pub blob: String,
    pub why: String,
}

/// The summary of a scan.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub commits: usize,
    /// Deletions seen (the set `git log --no-renames --diff-filter=D` reports).
    pub deletions: usize,
    /// New items recorded by this scan.
    pub archived: usize,
    /// Deletions already in the store (from a hook or an earlier scan).
    pub already: usize,
    /// Files replaced by stubs whose items were bound or captured.
    pub stubbed: usize,
    pub moves: usize,
    pub stub_removals: usize,
    pub ignored: usize,
    pub submodules: usize,
    pub violations: Vec<Violation>,
    /// Deletions without their stub from before adoption (the policy's `since`, or a
    /// `--baseline` file): archived like the rest, not counted as violations.
    pub baselined: usize,
    /// Paths git would refuse (crafted history): findings, never items.
    pub unsafe_paths: Vec<UnsafePath>,
    /// The newest commit scanned (the next `--since-last` starts after it).
    pub tip: Option<String>,
    /// What to tell the user besides the report (phase timings with `GIT_TOMBSTONE_TRACE`).
    #[serde(skip)]
    pub notices: Vec<crate::context::Notice>,
}

/// One thing to record, in commit order.
enum Event {
    Capture {
        capture: Box<Capture>,
        packed: Box<Packed>,
        kind: EventKind,
    },
    Submodule {
        path: String,
        commit: String,
        id: String,
    },
    Count(EventKind),
    Unsafe(UnsafePath),
}

impl Event {
    /// The content bytes this event holds until it is written.
    fn held_bytes(&self) -> u64 {
        match self {
            Event::Capture { packed, .. } => match &packed.content.stored {
                crate::store::blobs::Stored::Bytes(b) => b.len() as u64,
                _ => 0,
            },
            _ => 0,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Deletion,
    Violation,
    Move,
    Stubbed,
    StubRemoval,
    Ignored,
}

/// What to scan: commits reachable from `tips` and not from `hidden`.
pub struct Walk<'a> {
    pub tips: &'a [String],
    pub hidden: &'a [String],
    pub first_parent: bool,
}

/// A worker's result for one batch: its position in walk order and each commit's events.
type Done = Result<(usize, Vec<Vec<Event>>), Error>;

/// Commits travel from the walker to the workers in batches of consecutive commits: the first
/// small, so the workers start at once; then large, because a worker starting a batch walks
/// the delta chains of the trees it needs first back to versions it decoded itself (the
/// commits between were another worker's), so fewer batches cost less (6% fewer instructions
/// on `bench/scan.py`'s history than all batches small); and the last ones small again, so
/// the workers finish together.
const FIRST_BATCH: usize = 256;
const BATCH: usize = 1024;
const LAST_BATCH: usize = 256;

/// The store a scan writes to: open already, or opened when the scan first writes. Creating a
/// store waits for the disk several times (its directory, database and WAL), so `scan` hands
/// it over unopened and the writer opens it while the walker and workers start on the history.
pub enum Target<'a> {
    Open(&'a mut Store),
    /// `open` fills `slot` when the store is first needed (a store already in it is used).
    Later {
        slot: &'a mut Option<Store>,
        open: &'a dyn Fn() -> Result<Store, Error>,
    },
}

impl Target<'_> {
    /// The store, opened now if it was not yet.
    pub fn get(&mut self) -> Result<&mut Store, Error> {
        match self {
            Target::Open(store) => Ok(store),
            Target::Later { slot, open } => Ok(match slot.take() {
                Some(store) => slot.insert(store),
                None => slot.insert(open()?),
            }),
        }
    }
}

/// What a scan's last transaction records after its last findings, given the finished report
/// (`scan_range`: the checkpoint and the scan's evidence line).
pub type Closing<'a> =
    dyn Fn(&rusqlite::Transaction<'_>, &Report) -> Result<(), crate::store::StoreError> + 'a;

/// Scan the commits of `walk` into `store`.
///
/// Three stages overlap: a walker thread streams batches of consecutive commits (newest
/// first); one worker per core diffs each batch (in the order its pack favours, see
/// [`TreeMemo`]), reads, hashes and compresses; this thread writes the results to the store
/// in walk order, in transactions of a few hundred events; the last one also records
/// `closing`.
#[allow(clippy::too_many_arguments)]
pub fn run(
    repo: &Repo,
    store: &mut Target<'_>,
    policy: &Policy,
    walk: &Walk<'_>,
    actor: &str,
    now: &str,
    closing: &Closing<'_>,
    progress: &dyn Fn(usize, usize),
) -> Result<Report, Error> {
    let mut report = Report::default();
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let compression = policy.compression;
    let first_parent = walk.first_parent;
    let walked = std::sync::atomic::AtomicUsize::new(0);
    // Set once the walk has found every commit: only then is `walked` the total to show.
    let walk_done = std::sync::atomic::AtomicBool::new(false);
    let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<(usize, Vec<CommitInfo>)>(4 * workers);
    // Dropped (set to None) if the writer fails, so a walker blocked on a full queue wakes up.
    let work_rx = std::sync::Mutex::new(Some(work_rx));
    // Results travel in batches: one message per commit would cost a wakeup per commit.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Done>(64);
    std::thread::scope(|scope| -> Result<(), Error> {
        let walker = Walker {
            repo: repo.duplicate(),
            walk,
            work: work_tx,
            results: sender.clone(),
            walked: &walked,
            walk_done: &walk_done,
        };
        scope.spawn(move || walker.run());
        for _ in 0..workers {
            let worker = Worker {
                repo: repo.duplicate(),
                work: &work_rx,
                results: sender.clone(),
                policy,
                compression,
                first_parent,
            };
            scope.spawn(move || worker.run());
        }
        drop(sender);
        let written = write_in_order(
            scope,
            receiver,
            store,
            (actor, now),
            (walk.tips.first().map(String::as_str), closing),
            &mut report,
            (&walked, &walk_done, progress),
        );
        if written.is_err() {
            if let Ok(mut rx) = work_rx.lock() {
                rx.take();
            }
        }
        written
    })?;
    Ok(report)
}

/// Run a scan thread's `body`; a panic in it (a bug) becomes an error the writer receives, so
/// nothing after the lost work is written and the command exits 3 with a clear message.
fn catching_panics(
    results: &std::sync::mpsc::SyncSender<Done>,
    what: &'static str,
    body: impl FnOnce(),
) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        let panicked = crate::error::Panicked::from_payload(what, &*payload);
        let _ = results.send(Err(panicked.into()));
    }
}

/// The walker thread: streams the walk's commits to the workers in batches (see [`BATCH`]).
struct Walker<'a> {
    repo: crate::git::SendableRepo,
    walk: &'a Walk<'a>,
    work: std::sync::mpsc::SyncSender<(usize, Vec<CommitInfo>)>,
    /// Where a walk error or panic goes (the writer stops at it).
    results: std::sync::mpsc::SyncSender<Done>,
    walked: &'a std::sync::atomic::AtomicUsize,
    walk_done: &'a std::sync::atomic::AtomicBool,
}

impl Walker<'_> {
    fn run(self) {
        let results = self.results.clone();
        catching_panics(&results, "the history walk", || self.walk());
    }

    fn walk(self) {
        use std::sync::atomic::Ordering::Relaxed;
        let repo = self.repo.open();
        let work = &self.work;
        let mut n = 0usize;
        let mut send = |batch: Vec<CommitInfo>| {
            n += 1;
            work.send((n - 1, batch)).is_ok()
        };
        let mut batch = Vec::with_capacity(FIRST_BATCH);
        let mut size = FIRST_BATCH;
        // The newest large batch is held back until the next one is full: if the walk ends
        // first, it goes out in small pieces.
        let mut held: Option<Vec<CommitInfo>> = None;
        let walk = self.walk;
        let result = repo.walk_commits(walk.tips, walk.hidden, walk.first_parent, &mut |c| {
            batch.push(c);
            if batch.len() < size {
                return true;
            }
            self.walked.fetch_add(batch.len(), Relaxed);
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if size == FIRST_BATCH {
                size = BATCH;
                return send(full);
            }
            match held.replace(full) {
                Some(previous) => send(previous),
                None => true,
            }
        });
        if let Err(e) = result {
            let _ = self.results.send(Err(e.into()));
            return;
        }
        self.walked.fetch_add(batch.len(), Relaxed);
        self.walk_done
            .store(true, std::sync::atomic::Ordering::Release);
        let rest: Vec<CommitInfo> = held.into_iter().flatten().chain(batch).collect();
        for piece in rest.chunks(LAST_BATCH) {
            if !send(piece.to_vec()) {
                return;
            }
        }
    }
}

/// The batches of commits the workers share; `None` once the writer failed.
type WorkQueue = std::sync::Mutex<Option<std::sync::mpsc::Receiver<(usize, Vec<CommitInfo>)>>>;

/// A worker thread: diffs each batch it takes, and reads, hashes and compresses what the
/// commits delete.
struct Worker<'a> {
    repo: crate::git::SendableRepo,
    /// Shared by the workers; `None` once the writer failed.
    work: &'a WorkQueue,
    results: std::sync::mpsc::SyncSender<Done>,
    policy: &'a Policy,
    compression: Compression,
    first_parent: bool,
}

impl Worker<'_> {
    fn run(self) {
        let results = self.results.clone();
        catching_panics(&results, "a scan worker", || self.work());
    }

    fn work(self) {
        let repo = self.repo.open_for_history();
        // Kept across batches: trees of directories that have not changed since are still
        // the parent's.
        let mut memo = TreeMemo::default();
        loop {
            let next = self
                .work
                .lock()
                .ok()
                .and_then(|rx| rx.as_ref().map(|rx| rx.recv()));
            let Some(Ok((index, batch))) = next else {
                return;
            };
            let mut events: Vec<Vec<Event>> = Vec::new();
            events.resize_with(batch.len(), Vec::new);
            let done = repo.changes_of_run(
                &batch,
                self.first_parent,
                &mut memo,
                &mut |i, changes| -> Result<(), Error> {
                    if let Some(changes) = changes {
                        events[i] = events_of(&repo, self.policy, self.compression, &changes)?;
                    }
                    Ok(())
                },
            );
            if let Err(e) = done {
                let _ = self.results.send(Err(e));
                return;
            }
            crate::failpoint::panic_at("scan:worker");
            if self.results.send(Ok((index, events))).is_err() {
                return;
            }
        }
    }
}

/// While the workers run, a transaction holds at least this many events (each transaction
/// also catches the JSONL files up, so tiny ones cost more than they save)...
const WRITE_MIN: usize = 250;
/// ... and at most this many, or this many bytes of content (captures wait for the writer
/// with their packed content: the bound keeps a scan's memory independent of the history).
const WRITE_MAX: usize = 1000;
const WRITE_MAX_BYTES: u64 = 8 << 20;

/// Receive the workers' results and write them to the store in walk order.
///
/// Writes whenever enough results in order are waiting and no new result is, so the store
/// keeps up with the workers and little is left to write once they finish.
fn write_in_order<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    receiver: std::sync::mpsc::Receiver<Done>,
    store: &mut Target<'_>,
    (actor, now): (&str, &str),
    (tip, closing): (Option<&str>, &Closing<'_>),
    report: &mut Report,
    (walked, walk_done, progress): (
        &std::sync::atomic::AtomicUsize,
        &std::sync::atomic::AtomicBool,
        &dyn Fn(usize, usize),
    ),
) -> Result<(), Error> {
    use std::sync::mpsc::TryRecvError;
    // Opened (if it was not) while the walker and workers make the first results.
    let store = store.get()?;
    let mut copier = Copier::start(scope, store);
    let mut pending: std::collections::BTreeMap<usize, Vec<Vec<Event>>> =
        std::collections::BTreeMap::new();
    let mut next = 0usize;
    let mut ready: Vec<Vec<Event>> = Vec::new();
    let mut ready_events = 0usize;
    let mut ready_bytes = 0u64;
    let mut received = 0usize;
    // Whether some transactions are committed but not yet synced to disk.
    let mut unsynced = false;
    loop {
        let message = match receiver.try_recv() {
            Ok(message) => Some(message),
            Err(TryRecvError::Empty) if ready_events >= WRITE_MIN => {
                // Nothing new yet: write what is ready meanwhile.
                unsynced |= write_batch(store, &ready, actor, now, report)?;
                copier.nudge();
                crate::failpoint::hit("scan:after-unsynced-write");
                ready.clear();
                ready_events = 0;
                ready_bytes = 0;
                continue;
            }
            Err(TryRecvError::Empty) => receiver.recv().ok(),
            Err(TryRecvError::Disconnected) => None,
        };
        let Some(message) = message else {
            report.commits = received;
            // The last transaction records the rest and `closing`, syncs the WAL (every
            // unsynced write before it with it), and catches the JSONL files up, once. The
            // copier goes on meanwhile; once the transaction is committed, it copies what the
            // WAL holds (if that is much) while the files are caught up, instead of this
            // thread before the transaction or when the store is dropped.
            store.write_last(
                |tx| {
                    record_events(tx, &ready, actor, now, report)?;
                    // Written newest first; reported oldest first.
                    report.violations.reverse();
                    report.tip = tip.filter(|_| report.commits > 0).map(str::to_owned);
                    if unsynced {
                        // Only a commit that writes a page syncs the WAL: this one writes this.
                        crate::store::meta::set(tx, "durable_at", now)?;
                    }
                    closing(tx, report)
                },
                |long| {
                    if long {
                        copier.nudge();
                    }
                },
            )?;
            copier.finish(store)?;
            progress(received, received);
            return Ok(());
        };
        let (index, events) = message?;
        received += events.len();
        pending.insert(index, events);
        while let Some(batch) = pending.remove(&next) {
            for events in batch {
                ready_events += events.len();
                ready_bytes += events.iter().map(Event::held_bytes).sum::<u64>();
                if !events.is_empty() {
                    ready.push(events);
                }
            }
            next += 1;
        }
        if ready_events >= WRITE_MAX || ready_bytes >= WRITE_MAX_BYTES {
            unsynced |= write_batch(store, &ready, actor, now, report)?;
            copier.nudge();
            crate::failpoint::hit("scan:after-unsynced-write");
            ready.clear();
            ready_events = 0;
            ready_bytes = 0;
        }
        // The total only once the walk is complete (0 = not known yet), so it never moves.
        let total = if walk_done.load(std::sync::atomic::Ordering::Acquire) {
            walked.load(std::sync::atomic::Ordering::Relaxed)
        } else {
            0
        };
        progress(received, total);
    }
}

/// The scan's checkpoints, on a thread of their own (see [`crate::store::Checkpointer`]),
/// nudged after each unsynced transaction and after the last transaction; the writer's own
/// commits checkpoint nothing meanwhile ([`Store::auto_checkpoint`]). Without a second
/// connection (it could not be opened), the writer checkpoints itself, as before.
struct Copier<'scope> {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::ScopedJoinHandle<'scope, ()>>,
}

impl<'scope> Copier<'scope> {
    fn start(scope: &'scope std::thread::Scope<'scope, '_>, store: &Store) -> Copier<'scope> {
        let none = Copier {
            wake: None,
            thread: None,
        };
        let Ok(checkpointer) = store.checkpointer() else {
            return none;
        };
        // The writer's commits leave the copying to this thread (see `finish`).
        if store.auto_checkpoint(false).is_err() {
            return none;
        }
        // One nudge waits at most: a checkpoint copies every frame committed when it starts.
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = scope.spawn(move || {
            while woken.recv().is_ok() {
                checkpointer.checkpoint();
            }
        });
        Copier {
            wake: Some(wake),
            thread: Some(thread),
        }
    }

    /// Copy what the writer committed so far (unless a nudge is already waiting).
    fn nudge(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }

    /// Stop, once the checkpoint under way (if any) is done, and give the writer's commits
    /// their own checkpoints back.
    fn finish(&mut self, store: &Store) -> Result<(), crate::store::StoreError> {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
            store.auto_checkpoint(true)?;
        }
        Ok(())
    }
}

/// Record the events of consecutive commits in one transaction that does not wait for the
/// disk or catch the JSONL files up (see [`Store::write_unsynced`]: a transaction every few
/// hundred events spent most of the writer's time in `fsync`, and the writer fell behind);
/// false if there was nothing to record (and no transaction). The scan's last transaction
/// does both, for every one before it.
fn write_batch(
    store: &mut Store,
    batch: &[Vec<Event>],
    actor: &str,
    now: &str,
    report: &mut Report,
) -> Result<bool, Error> {
    if batch.iter().all(Vec::is_empty) {
        return Ok(false);
    }
    store.write_unsynced(|tx| record_events(tx, batch, actor, now, report))?;
    Ok(true)
}

/// Record the events of consecutive commits in `tx`, and count them in `report`.
fn record_events(
    tx: &rusqlite::Transaction<'_>,
    batch: &[Vec<Event>],
    actor: &str,
    now: &str,
    report: &mut Report,
) -> Result<(), crate::store::StoreError> {
    // Consecutive captures are recorded together (multi-row inserts), in event order.
    let mut run: Vec<(&Capture, &Packed, EventKind)> = Vec::new();
    for event in batch.iter().flatten() {
        if let Event::Capture {
            capture,
            packed,
            kind,
        } = event
        {
            run.push((capture, packed, *kind));
            continue;
        }
        record_captures(tx, &mut run, actor, now, report)?;
        match event {
            Event::Capture { .. } => {}
            Event::Submodule { path, commit, id } => {
                report.deletions += 1;
                report.submodules += 1;
                let data =
                    serde_json::json!({ "path": path, "commit": id, "removed_in_commit": commit });
                if !evidence::has_submodule_removal(tx, commit)? {
                    evidence::append(tx, "submodule-removed", actor, now, &data)?;
                }
            }
            Event::Unsafe(u) => {
                report.deletions += 1;
                report.unsafe_paths.push(u.clone());
            }
            Event::Count(kind) => match kind {
                EventKind::StubRemoval => {
                    report.deletions += 1;
                    report.stub_removals += 1;
                }
                EventKind::Ignored => {
                    report.deletions += 1;
                    report.ignored += 1;
                }
                _ => {}
            },
        }
    }
    record_captures(tx, &mut run, actor, now, report)
}

/// Record the captures of `run` (then empty it) and count them in `report`.
fn record_captures(
    tx: &rusqlite::Transaction<'_>,
    run: &mut Vec<(&Capture, &Packed, EventKind)>,
    actor: &str,
    now: &str,
    report: &mut Report,
) -> Result<(), crate::store::StoreError> {
    if run.is_empty() {
        return Ok(());
    }
    let batch: Vec<(&Capture, &Packed)> = run.iter().map(|(c, p, _)| (*c, *p)).collect();
    let recorded = capture::record_packed_many(tx, &batch, actor, now)?;
    for ((capture, _, kind), c) in run.drain(..).zip(recorded) {
        match kind {
            EventKind::Stubbed => report.stubbed += 1,
            _ => {
                report.deletions += 1;
                if c.new_item {
                    report.archived += 1;
                } else {
                    report.already += 1;
                }
            }
        }
        match kind {
            EventKind::Move => report.moves += 1,
            EventKind::Violation => report.violations.push(Violation {
                path_bytes: capture.path.clone(),
                commit: capture.removed_in_commit.clone().unwrap_or_default(),
                path: c.path,
                blob: capture.git_blob_id.clone(),
                id: c.id,
                category: capture.category.clone(),
            }),
            _ => {}
        }
    }
    Ok(())
}

/// The archived mode of a tree entry; `None` for submodules and trees.
pub(crate) fn mode_of(kind: EntryKind) -> Option<Mode> {
    match kind {
        EntryKind::File => Some(Mode::File),
        EntryKind::Executable => Some(Mode::Executable),
        EntryKind::Symlink => Some(Mode::Symlink),
        EntryKind::Gitlink | EntryKind::Tree => None,
    }
}

/// What one commit's changes mean: the deletions a tombstone stands for (bound to the
/// stub's item), then every other deletion (a move, a violation of a stub policy, a plain
/// deletion, a submodule, an ignored path, a stub removed, or an unsafe path), each read,
/// hashed and compressed here, on the worker.
fn events_of(
    repo: &Repo,
    policy: &Policy,
    compression: Compression,
    ch: &CommitChanges,
) -> Result<Vec<Event>, Error> {
    let mut events = Vec::new();
    let mut bound_paths: HashSet<&[u8]> = HashSet::new();
    for (path, old_kind, old_id, stub) in standing_stubs(ch) {
        if let Some(event) =
            stubbed_event(repo, policy, compression, ch, path, old_kind, old_id, &stub)?
        {
            bound_paths.insert(path);
            events.push(event);
        }
    }
    // Move scoring reads the deleted files it scores; their captures take those bytes.
    let mut read = crate::git::ReadBlobs::default();
    let renamed = renames(repo, policy, ch, &bound_paths, &mut read)?;
    for d in &ch.deleted {
        if !bound_paths.contains(d.path.as_slice()) {
            let event = deletion_event(repo, policy, compression, ch, d, &renamed, &mut read)?;
            events.push(event);
        }
    }
    Ok(events)
}

/// What stands for a file this commit removed: an in-place stub that replaced it, or a
/// sidecar or directory tombstone the commit added beside it (path, old kind, old blob, stub).
fn standing_stubs(ch: &CommitChanges) -> Vec<(&[u8], EntryKind, &str, Stub)> {
    let mut standing: Vec<(&[u8], EntryKind, &str, Stub)> = Vec::new();
    for r in &ch.replaced {
        if let Ok(stub) = Stub::parse(&r.path, &r.new_bytes) {
            if stub.path == r.path {
                standing.push((&r.path, r.old_kind, &r.old_id, stub));
            }
        }
    }
    if !ch.tombstones.is_empty() {
        let mut named: std::collections::HashMap<Vec<u8>, Stub> = Default::default();
        for (location, bytes) in &ch.tombstones {
            if let Ok(t) = Tombstone::parse(location, bytes) {
                for stub in t.stubs() {
                    named.insert(stub.path.clone(), stub);
                }
            }
        }
        for d in &ch.deleted {
            if let Some(stub) = named.remove(&d.path) {
                standing.push((&d.path, d.kind, &d.id, stub));
            }
        }
    }
    standing
}

/// The capture of a deletion `stub` stands for, under the id the hook made; `None` when it
/// cannot be bound (an unsafe path, reported with the deletions; a submodule; a stub
/// replaced by another stub).
#[allow(clippy::too_many_arguments)]
fn stubbed_event(
    repo: &Repo,
    policy: &Policy,
    compression: Compression,
    ch: &CommitChanges,
    path: &[u8],
    old_kind: EntryKind,
    old_id: &str,
    stub: &Stub,
) -> Result<Option<Event>, Error> {
    if crate::git::path::check(path, old_kind == EntryKind::Symlink).is_err() {
        return Ok(None);
    }
    let Some(mode) = mode_of(old_kind) else {
        return Ok(None);
    };
    let bytes = repo.blob(old_id)?;
    if Tombstone::parse(path, &bytes).is_ok() {
        return Ok(None);
    }
    // The stub names the content and the commit it came from; trust it only if the bytes
    // match, so the id is the one the hook made.
    let sha = crate::id::sha256_hex(&bytes);
    let source = if sha == stub.sha256 {
        stub.source_commit.clone()
    } else {
        ch.parent.clone()
    };
    let decision = policy.decide(path);
    let capture = Capture {
        path: path.to_vec(),
        mode,
        git_blob_id: old_id.to_owned(),
        source_commit: source,
        removed_in_commit: Some(ch.commit.clone()),
        removed_at: Some(ch.time.clone()),
        action: Action::Stub,
        category: decision.category,
        reason: stub.reason.clone(),
        tags: Vec::new(),
        metadata: serde_json::Map::new(),
        bytes,
    };
    Ok(Some(captured(capture, compression, EventKind::Stubbed)))
}

/// Renames with edits (git's rename detection at the policy's `move_similarity`), for the
/// deletions that would otherwise be violations or plain deletions: old path → new path.
fn renames(
    repo: &Repo,
    policy: &Policy,
    ch: &CommitChanges,
    bound_paths: &HashSet<&[u8]>,
    read: &mut crate::git::ReadBlobs,
) -> Result<std::collections::HashMap<Vec<u8>, Vec<u8>>, Error> {
    if !ch.added_any() || policy.move_similarity >= 100 {
        return Ok(Default::default());
    }
    let sources: Vec<crate::git::Side<'_>> = ch
        .deleted
        .iter()
        .filter(|d| !bound_paths.contains(d.path.as_slice()) && !ch.added(&d.id))
        .filter(|d| d.kind != EntryKind::Gitlink && !crate::stub::is_tombstone_name(&d.path))
        .filter(|d| policy.decide(&d.path).action != Action::Ignore)
        .filter_map(crate::git::Deleted::side)
        .collect();
    let destinations = crate::git::added_sides(&ch.added_files);
    Ok(repo.moves(&sources, &destinations, policy.move_similarity, Some(read))?)
}

/// What the deletion `d`, which no tombstone stands for, is.
fn deletion_event(
    repo: &Repo,
    policy: &Policy,
    compression: Compression,
    ch: &CommitChanges,
    d: &crate::git::Deleted,
    renamed: &std::collections::HashMap<Vec<u8>, Vec<u8>>,
    read: &mut crate::git::ReadBlobs,
) -> Result<Event, Error> {
    if let Err(e) = crate::git::path::check(&d.path, d.kind == EntryKind::Symlink) {
        return Ok(Event::Unsafe(UnsafePath {
            commit: ch.commit.clone(),
            path: crate::stub::encode_path(&d.path),
            blob: d.id.clone(),
            why: e.why,
        }));
    }
    let decision = policy.decide(&d.path);
    if decision.action == Action::Ignore {
        return Ok(Event::Count(EventKind::Ignored));
    }
    let Some(mode) = mode_of(d.kind) else {
        return Ok(Event::Submodule {
            path: crate::stub::encode_path(&d.path),
            commit: ch.commit.clone(),
            id: d.id.clone(),
        });
    };
    let bytes = repo.blob_via(&d.id, Some(read))?;
    if Tombstone::parse(&d.path, &bytes).is_ok() {
        return Ok(Event::Count(EventKind::StubRemoval));
    }
    let moved_to = renamed.get(&d.path);
    let kind = if ch.added(&d.id) || moved_to.is_some() {
        EventKind::Move
    } else if decision.action == Action::Stub {
        EventKind::Violation
    } else {
        EventKind::Deletion
    };
    let mut metadata = serde_json::Map::new();
    if kind == EventKind::Move {
        metadata.insert("moved".into(), serde_json::Value::Bool(true));
        if let Some(to) = moved_to {
            metadata.insert(
                "moved_to".into(),
                serde_json::Value::String(crate::stub::encode_path(to)),
            );
        }
    }
    let capture = Capture {
        path: d.path.clone(),
        mode,
        git_blob_id: d.id.clone(),
        source_commit: ch.parent.clone(),
        removed_in_commit: Some(ch.commit.clone()),
        removed_at: Some(ch.time.clone()),
        // Deleted outright, so no stub stands for it (a stub-policy deletion is a move or a
        // violation); `--write-stubs` turns a violation's item into a stub item.
        action: Action::Archive,
        category: decision.category,
        reason: decision.reason,
        tags: Vec::new(),
        metadata,
        bytes,
    };
    Ok(captured(capture, compression, kind))
}

/// A capture event, its content packed here (on the worker), held once.
fn captured(mut capture: Capture, compression: Compression, kind: EventKind) -> Event {
    let packed = capture::pack_owned(&mut capture, compression);
    Event::Capture {
        capture: Box::new(capture),
        packed: Box::new(packed),
        kind,
    }
}
