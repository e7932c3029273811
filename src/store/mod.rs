//! The archive store: a directory holding `archive.sqlite` (the system of record) and
//! `evidence.jsonl` (the hash-chained operation log).
//!
//! The database is opened in WAL mode with a busy timeout so hooks in two worktrees can write at
//! once, and migrated forward by `PRAGMA user_version`; an archive is never dropped. Every
//! operation runs in one `BEGIN IMMEDIATE` transaction that also inserts its evidence line, so
//! the database and the log cannot disagree; the JSONL file is then brought up to date from the
//! database under a file lock (see [`evidence`]).

pub mod audit;
pub mod blobs;
pub mod catalog;
pub mod checkpoints;
pub mod evidence;
pub mod exports;
pub mod holds;
pub mod items;
pub mod meta;
pub mod pgtls;
pub mod purges;
pub mod query;
pub mod retention;
mod schema;
pub mod snapshots;
pub mod streams;

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use miette::Diagnostic;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

/// File name of the database inside the store directory.
pub const DB_FILE: &str = "archive.sqlite";

/// Errors of the store, each with what to do about it.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum StoreError {
    #[error("cannot create the store at {}", path.display())]
    #[diagnostic(
        code(tombstone::store::create),
        help("make the directory writable, or choose another with --store, GIT_TOMBSTONE_STORE or `git config tombstone.store`")
    )]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store database {} cannot be used", path.display())]
    #[diagnostic(
        code(tombstone::store::database),
        help("check that the store directory is writable and the file is a git-tombstone archive")
    )]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the store at {} was written by a newer git-tombstone (schema {found}, this build knows {known})", path.display())]
    #[diagnostic(
        code(tombstone::store::newer),
        help("upgrade git-tombstone; the archive is never downgraded")
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("store query failed")]
    #[diagnostic(code(tombstone::store::sql))]
    Sql(#[from] rusqlite::Error),
    #[error("evidence log {}: {why}", path.display())]
    #[diagnostic(
        code(tombstone::store::evidence),
        help("run `git tombstone verify` to see what differs; the log is append-only and must not be edited")
    )]
    Evidence { path: PathBuf, why: String },
    #[error("I/O error on {}", path.display())]
    #[diagnostic(code(tombstone::store::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("stored content {sha256} is damaged: {why}")]
    #[diagnostic(
        code(tombstone::store::corrupt_blob),
        help("restore falls back to the git object database; run `git tombstone verify` for a full check")
    )]
    CorruptBlob { sha256: String, why: String },
}

/// An open store.
pub struct Store {
    dir: PathBuf,
    conn: Connection,
    /// Whether the directory must be synced after the next commit: the database or its WAL
    /// did not exist when the store was opened, so its directory entry may not be on disk
    /// yet. SQLite would sync the directory itself on every connection's first commit; the
    /// build turns that off (`SQLITE_DISABLE_DIRSYNC`, `.cargo/config.toml`) because the WAL
    /// is kept between runs (see [`configure`]), so only a new one needs it.
    dir_unsynced: bool,
}

impl StoreError {
    /// What kind of failure this is (see [`crate::error::Kind`]).
    pub fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            StoreError::Create { .. } | StoreError::Newer { .. } => Kind::Usage,
            StoreError::Evidence { .. } | StoreError::CorruptBlob { .. } => Kind::Failure,
            StoreError::Database { .. } | StoreError::Sql(_) | StoreError::Io { .. } => {
                Kind::Internal
            }
        }
    }
}

impl Store {
    /// Open (creating and migrating as needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, &[])
    }

    /// [`Store::open`]; a store it creates is created with the `meta` entries `initial` (a
    /// store that exists is left as it is).
    pub fn open_with(dir: &Path, initial: &[(&str, &str)]) -> Result<Store, StoreError> {
        // A new store directory's name is synced into its parent (and so on up), so the first
        // commit into it survives a power loss; the directory itself is synced after that
        // commit (`settle_dir`).
        crate::fsutil::create_dir_all_synced(dir).map_err(|source| StoreError::Create {
            path: dir.to_path_buf(),
            source,
        })?;
        crate::fsutil::clean_tmp(dir).map_err(|source| StoreError::Create {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let db_err = |source| StoreError::Database {
            path: path.clone(),
            source,
        };
        let created = !path.exists();
        // Built aside when it can be; else in place, by the open and migration below.
        let _aside = created && build_new(&path, initial);
        let dir_unsynced = created || !wal_file(dir).exists();
        let mut conn = Connection::open(&path).map_err(db_err)?;
        configure(&conn).map_err(db_err)?;
        let migrated = schema::migrate(&mut conn, &path)?;
        let mut store = Store {
            dir: dir.to_path_buf(),
            conn,
            dir_unsynced,
        };
        if created || migrated {
            store.settle_dir()?;
        }
        Ok(store)
    }

    /// Open an existing store read-only; `None` when there is no store yet.
    pub fn open_existing(dir: &Path) -> Result<Option<Store>, StoreError> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let db_err = |source| StoreError::Database {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(db_err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db_err)?;
        if version < schema::VERSION {
            // An older store: open it writable once so it is migrated forward.
            drop(conn);
            return Store::open(dir).map(Some);
        }
        if version > schema::VERSION {
            return Err(StoreError::Newer {
                path,
                found: version,
                known: schema::VERSION,
            });
        }
        Ok(Some(Store {
            dir: dir.to_path_buf(),
            conn,
            dir_unsynced: false,
        }))
    }

    /// Remove the files a store keeps in `dir` (its database, evidence log, tombstone streams
    /// and Parquet snapshots), and nothing else: for a store that is a copy of records kept
    /// elsewhere (the CI store, rebuilt from the archive branch each run).
    pub fn discard(dir: &Path) -> std::io::Result<()> {
        let mut files = vec![
            dir.join(DB_FILE),
            wal_file(dir),
            dir.join(format!("{DB_FILE}-shm")),
            dir.join(evidence::FILE),
        ];
        for s in streams::STREAMS {
            files.push(streams::file(dir, s));
            files.push(streams::gz_file(dir, s));
        }
        for f in files {
            match std::fs::remove_file(&f) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        match std::fs::remove_dir_all(dir.join("parquet")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether the store holds nothing yet: no item and no evidence line.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM items) AND NOT EXISTS (SELECT 1 FROM evidence)",
            [],
            |r| r.get(0),
        )?)
    }

    /// This store's id (16 hex digits, made when the store was created).
    pub fn id(&self) -> Result<String, StoreError> {
        meta::get(&self.conn, "store_id")?
            .ok_or(StoreError::Sql(rusqlite::Error::QueryReturnedNoRows))
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Run `f` in one write transaction (`BEGIN IMMEDIATE`), then bring `evidence.jsonl` up to
    /// date with the evidence rows the transaction added.
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // Catch up first: a previous run may have committed and died before appending.
        self.write_with(f)
    }

    /// [`Store::write`] for operations with their own error type.
    pub fn write_with<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        // No catching up first: the one after the commit appends every line the files lack,
        // those of an earlier interrupted write included.
        self.write_fresh(f)
    }

    /// [`Store::write_with`] without first catching the files up: for an import that fills an
    /// empty database with the very lines an existing `evidence.jsonl` already holds.
    pub fn write_fresh<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.rewind_wal();
        self.commit_and_catch_up(f, |_| ())
    }

    /// A long writer's last transaction (see [`Store::write_unsynced`]): as [`Store::write`],
    /// but without the checkpoint a long WAL gets first, which would copy on this thread every
    /// frame the writer's [`Checkpointer`] has not copied yet and then sync the WAL twice to
    /// start it over. The transaction is appended to the WAL instead (one sync), and
    /// `committed` runs between the commit and the JSONL catch-up, told whether the WAL now
    /// reaches past [`WAL_KEEP`]: the checkpointer can copy it meanwhile, so neither the
    /// catch-up nor the store's drop waits for that copy.
    pub fn write_last<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
        committed: impl FnOnce(bool),
    ) -> Result<T, StoreError> {
        self.commit_and_catch_up(f, |store| committed(store.wal_longer_than(WAL_KEEP)))
    }

    /// `f` in one write transaction (`BEGIN IMMEDIATE`); once it is committed, `committed`,
    /// then the JSONL files caught up.
    fn commit_and_catch_up<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
        committed: impl FnOnce(&Store),
    ) -> Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let out = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        committed(self);
        self.settle_dir()?;
        crate::failpoint::hit("store:after-commit");
        self.sync_files()?;
        Ok(out)
    }

    /// Whether this connection's commits checkpoint the WAL themselves once it holds more
    /// than 1,000 frames (SQLite's default, on). A long writer whose [`Checkpointer`] copies
    /// the WAL on another thread turns it off for its run: otherwise a commit that finds the
    /// checkpointer behind copies the frames left, and syncs the database file, on the
    /// writer's thread.
    pub fn auto_checkpoint(&self, on: bool) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "wal_autocheckpoint", if on { 1000 } else { 0 })?;
        Ok(())
    }

    /// A second connection to this store's database, for a long writer's checkpoints (see
    /// [`Checkpointer`]).
    pub fn checkpointer(&self) -> Result<Checkpointer, StoreError> {
        let path = self.dir.join(DB_FILE);
        let conn = Connection::open(&path)
            .and_then(|conn| configure(&conn).map(|()| conn))
            .map_err(|source| StoreError::Database { path, source })?;
        Ok(Checkpointer { conn })
    }

    /// A transaction for a long writer whose every step can be redone (a scan: git still has
    /// what it archives): committed without waiting for the disk (`synchronous = NORMAL`) and
    /// without catching the JSONL files up. A crash loses at most the last such transactions,
    /// never the database's consistency, and the files never get ahead of the database. The
    /// writer must end with a [`Store::write`] that writes a page (only such a commit syncs),
    /// which syncs the WAL (every earlier frame with it) before the files are caught up. (A
    /// checkpoint would skip the sync when a reader holds every frame back.)
    pub fn write_unsynced<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // No rewind here: a scan's run of these would checkpoint every 256 KiB of frames;
        // SQLite's own checkpoint every 1,000 frames serves it, and the synced write that ends
        // the run rewinds.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let out = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        out
    }

    /// Catch `evidence.jsonl` and the tombstone streams up with the database.
    fn sync_files(&self) -> Result<(), StoreError> {
        evidence::sync_file(&self.conn, &self.dir)?;
        streams::sync_files(&self.conn, &self.dir)
    }

    /// A value from the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        meta::get(&self.conn, key)
    }

    /// Use a page cache of `mib` MiB for this connection (a large import touches every index
    /// page over and over; the default is 2 MiB).
    pub fn set_cache_mib(&mut self, mib: i64) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "cache_size", -1024 * mib)?;
        Ok(())
    }

    /// Set a value in the `meta` table.
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        meta::set(&self.conn, key, value)?;
        self.settle_dir()
    }

    /// Before a write: when the WAL's frames reach past [`WAL_KEEP`], copy them into the
    /// database first (a passive checkpoint, which never waits for a reader). The write that
    /// follows then starts the WAL over from its beginning, overwriting frames in a file that
    /// keeps its blocks, and its commit cuts a file grown past `WAL_KEEP` back to it
    /// (`journal_size_limit`). Frames are written from the start of the file after every
    /// restart, so a file longer than `WAL_KEEP` holds frames past it.
    ///
    /// Without this, every process would replay and checkpoint the same frames again: the
    /// record that they were copied lives in the shared-memory index, which the first
    /// connection of a process rebuilds from the WAL as if nothing had been copied.
    fn rewind_wal(&self) {
        if self.wal_longer_than(WAL_KEEP) {
            // A checkpoint that cannot finish (a reader, an I/O error) leaves the WAL as it
            // is; the write appends to it and a later one tries again.
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
    }

    /// Whether the WAL file is longer than `len` bytes (the frames of its last run and the
    /// blocks it keeps).
    fn wal_longer_than(&self, len: u64) -> bool {
        std::fs::metadata(wal_file(&self.dir)).is_ok_and(|m| m.len() > len)
    }

    /// Sync the store directory once, after the first commit into a database or WAL file this
    /// store created (see [`Store::dir_unsynced`]): until then a crash could lose the file's
    /// name, and every commit in it.
    fn settle_dir(&mut self) -> Result<(), StoreError> {
        if self.dir_unsynced {
            crate::fsutil::sync_dir(&self.dir).map_err(|source| StoreError::Io {
                path: self.dir.clone(),
                source,
            })?;
            self.dir_unsynced = false;
        }
        Ok(())
    }

    /// Zero deleted and overwritten content on disk from now on, instead of leaving it in free
    /// pages (`PRAGMA secure_delete`): purge and vacuum turn it on before dropping content.
    /// Other writes never delete content, so they skip its cost.
    pub fn secure_delete(&mut self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        Ok(())
    }

    /// Give the free pages back and leave no old page images behind: `VACUUM` rebuilds the
    /// database file (free pages and all), and a truncating checkpoint empties the WAL.
    pub fn reclaim(&mut self) -> Result<(), StoreError> {
        self.secure_delete()?;
        self.conn.execute_batch("VACUUM;")?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Statement journals (an INSERT OR IGNORE that fires triggers needs one) stay in memory
    // instead of a temporary file written page by page.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Closing does not checkpoint (two fsyncs and a rewrite of every page in the WAL) nor
    // delete the WAL (recreating it costs a directory fsync): every commit is durable in the
    // WAL already (synchronous = FULL). The next command replays what the WAL holds when it
    // opens it, so a WAL whose frames reach past `WAL_KEEP` is checkpointed before the next
    // write, which starts it over from its beginning (`Store::rewind_wal`), and one a large
    // write left longer than `WAL_DROP` is checkpointed and truncated when the store is
    // dropped. The WAL keeps its blocks otherwise: overwriting frames in a file that keeps its
    // size is a cheaper sync than appending (which also writes the file's new size), and
    // truncating costs the truncation and, later, the regrowth. (Measured on a ripgrep store,
    // `GIT_TOMBSTONE_TRACE=1`: a one-file restore's write-and-record phase went from 1.4-1.5
    // to 0.8-1.0 ms.) The first commit after a restart cuts the file back to `WAL_KEEP`
    // (`journal_size_limit`) when a large write grew it past that.
    conn.pragma_update(None, "journal_size_limit", WAL_KEEP as i64)?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    conn.file_control(
        Some(rusqlite::MAIN_DB),
        rusqlite::FileControl::PersistWal(&mut 1),
    )?;
    Ok(())
}

/// Copies a long writer's committed WAL frames into the database from another thread, while
/// the writer goes on (a passive checkpoint never waits for the writer, nor the writer for
/// it). A scan that writes a new store puts every page through the WAL; copied by the writer
/// itself (SQLite's checkpoint every 1,000 frames, and the one before the scan's last
/// transaction, see [`Store::rewind_wal`]), that copying and its two fsyncs held up the thread
/// the scan waits for. Once every frame is copied, the writer's next transaction starts the
/// WAL over from its beginning, so the file stays small too.
pub struct Checkpointer {
    conn: Connection,
}

impl Checkpointer {
    /// Copy what the WAL holds into the database. A checkpoint that cannot finish (another
    /// one running, an I/O error) leaves the WAL as it is: the writer's own checkpoints
    /// still cover it.
    pub fn checkpoint(&self) {
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}

/// Build a new store's database aside and give it its name once it is whole: a temporary
/// file, migrated to the current schema and given its `initial` meta entries without a
/// journal or a sync (it is thrown away if anything fails), synced once, then linked to
/// `path`. Built in place, a new store cost seven fsyncs before its first write, on the
/// thread a first scan waits for: three to switch the file to WAL through a rollback journal,
/// two for the schema's commit to the new WAL (whose header is synced first), one for the
/// project's name and one for the directory; now it costs two (the file and the directory).
///
/// A link never replaces anything: if another process gave `path` its store first, that one
/// is kept and this one dropped. Where the temporary file cannot be made or linked (a file
/// system without hard links, or the file removed meanwhile by a process that cannot see this
/// one run: [`crate::fsutil::clean_tmp`] from another PID namespace), or anything else fails,
/// nothing is left behind and false is returned: the caller builds the database in place, as
/// before, where a real fault (a full disk) shows. A kill leaves only `*.tombstone-tmp` files,
/// which the next open removes.
fn build_new(path: &Path, initial: &[(&str, &str)]) -> bool {
    let tmp = crate::fsutil::unique_tmp_path(path);
    let tmp_err = |source| StoreError::Database {
        path: tmp.clone(),
        source,
    };
    // Any failure here (the temporary file removed meanwhile included) only means building
    // the database in place; a real fault shows there.
    let built = (|| -> Result<(), StoreError> {
        // A name of our own: refuse anything already there (a symlink included).
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)
            .map_err(|source| StoreError::Io {
                path: tmp.clone(),
                source,
            })?;
        let mut conn = Connection::open(&tmp).map_err(tmp_err)?;
        // Nothing to roll back to and nothing to sync until it is whole: no journal at all
        // (rewrite_checks's savepoint rolls back in memory), no syncs.
        conn.pragma_update(None, "journal_mode", "MEMORY")
            .map_err(tmp_err)?;
        conn.pragma_update(None, "synchronous", "OFF")
            .map_err(tmp_err)?;
        schema::migrate(&mut conn, path)?;
        for (key, value) in initial {
            meta::set(&conn, key, value)?;
        }
        // The mode is recorded in the file's header: every later connection opens it in WAL.
        // Switching writes the header through the journal (in memory) and leaves no WAL when
        // the connection closes, as no frame was written to it.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(tmp_err)?;
        conn.close().map_err(|(_, e)| tmp_err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Io {
                path: tmp.clone(),
                source: std::io::Error::other(format!("journal mode {mode}, not wal")),
            });
        }
        crate::failpoint::hit("store:built-aside");
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|source| StoreError::Io {
                path: tmp.clone(),
                source,
            })?;
        match std::fs::hard_link(&tmp, path) {
            // Another process named its store first: that one is the store.
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(StoreError::Io {
                path: path.to_path_buf(),
                source: e,
            }),
            _ => Ok(()),
        }
        .inspect(|()| crate::failpoint::hit("store:linked"))
    })();
    let _ = std::fs::remove_file(&tmp);
    for side in crate::fsutil::SQLITE_SIDE_FILES {
        let mut name = tmp.clone().into_os_string();
        name.push(side);
        let _ = std::fs::remove_file(name);
    }
    built.is_ok()
}

/// The store's WAL file in `dir`.
fn wal_file(dir: &Path) -> PathBuf {
    dir.join(format!("{DB_FILE}-wal"))
}

/// A WAL whose frames reach past this is checkpointed before the next write (see
/// [`Store::rewind_wal`]), and it is the size the WAL file is cut back to after a larger
/// write (`journal_size_limit`, see `configure`). Every process replays the frames the WAL
/// holds when it opens the store, about 1 µs each.
const WAL_KEEP: u64 = 256 * 1024;

/// A WAL longer than this when the store is dropped (a scan or an import wrote it) is
/// checkpointed and truncated, so the next command does not replay it.
const WAL_DROP: u64 = 4 * WAL_KEEP;

impl Drop for Store {
    fn drop(&mut self) {
        if self.wal_longer_than(WAL_DROP)
            && !self.conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true)
        {
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A new store is built aside and linked into place whole: in WAL mode, at the current
    /// schema, with its initial meta entries, nothing temporary left; a store that is there
    /// already is never replaced (its id stays), and a leftover of a killed build is removed.
    #[test]
    fn a_new_store_is_built_aside_and_never_replaces_one() {
        let d = tempfile::tempdir().expect("tempdir");
        let dir = d.path().join("tombstone");
        let store = Store::open_with(&dir, &[("project", "p")]).expect("open");
        let id = store.id().expect("id");
        assert_eq!(store.meta("project").expect("meta").as_deref(), Some("p"));
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        let version: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(version, schema::VERSION);
        let check: String = store
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("check");
        assert_eq!(check, "ok");
        drop(store);
        assert!(names(&dir)
            .iter()
            .all(|n| !n.contains(crate::fsutil::TMP_SUFFIX)));

        // Another build for the same name (a second process a moment later) keeps the first.
        assert!(build_new(&dir.join(DB_FILE), &[("project", "other")]));
        assert!(names(&dir)
            .iter()
            .all(|n| !n.contains(crate::fsutil::TMP_SUFFIX)));
        let store = Store::open_with(&dir, &[("project", "other")]).expect("reopen");
        assert_eq!(store.id().expect("id"), id);
        assert_eq!(store.meta("project").expect("meta").as_deref(), Some("p"));
        drop(store);

        // A build killed half way leaves a temporary file; the next open removes it.
        std::fs::write(
            dir.join(format!(
                "{DB_FILE}.999999999-0{}",
                crate::fsutil::TMP_SUFFIX
            )),
            b"half",
        )
        .expect("leftover");
        drop(Store::open(&dir).expect("open"));
        assert!(names(&dir)
            .iter()
            .all(|n| !n.contains(crate::fsutil::TMP_SUFFIX)));
    }
}
