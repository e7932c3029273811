//! Forward-only schema migrations, keyed by `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version forward inside one transaction. An
//! archive is never dropped or recreated; a store newer than this build is refused.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: blobs, items, evidence.
    r#"
    CREATE TABLE blobs (
        sha256       TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
        size         INTEGER NOT NULL,
        compression  TEXT NOT NULL CHECK (compression IN ('zstd', 'gzip', 'none')),
        stored_size  INTEGER NOT NULL,
        bytes        BLOB,
        git_blob_id  TEXT,
        created_at   TEXT NOT NULL
    );
    CREATE TABLE items (
        id                 TEXT PRIMARY KEY NOT NULL,
        path               BLOB NOT NULL,
        path_text          TEXT NOT NULL,
        mode               TEXT NOT NULL,
        language           TEXT,
        mime               TEXT NOT NULL,
        lines              INTEGER,
        binary             INTEGER NOT NULL,
        size               INTEGER NOT NULL,
        sha256             TEXT NOT NULL REFERENCES blobs(sha256),
        git_blob_id        TEXT,
        category           TEXT NOT NULL,
        action             TEXT NOT NULL CHECK (action IN ('stub', 'archive')),
        reason             TEXT NOT NULL,
        actor              TEXT NOT NULL,
        source_commit      TEXT NOT NULL,
        removed_in_commit  TEXT,
        archived_at        TEXT NOT NULL,
        updated_at         TEXT NOT NULL,
        state              TEXT NOT NULL
            CHECK (state IN ('pending', 'archived', 'restored', 'vacuumed', 'purged')),
        legal_hold         INTEGER NOT NULL DEFAULT 0,
        tags               TEXT NOT NULL DEFAULT '[]',
        metadata           TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX items_by_path ON items(path);
    CREATE INDEX items_by_path_text ON items(path_text);
    CREATE INDEX items_by_sha256 ON items(sha256);
    CREATE INDEX items_by_source_commit ON items(source_commit);
    CREATE INDEX items_by_removed_in_commit ON items(removed_in_commit);
    CREATE INDEX items_by_archived_at ON items(archived_at);
    CREATE INDEX items_by_state ON items(state);
    CREATE TABLE evidence (
        seq     INTEGER PRIMARY KEY NOT NULL,
        op      TEXT NOT NULL,
        line    TEXT NOT NULL,
        digest  TEXT NOT NULL
    );
    "#,
    // 3 is below (meta); 2: scan checkpoints (`scan --since-last`).
    r#"
    CREATE TABLE checkpoints (
        name       TEXT PRIMARY KEY NOT NULL,
        commit_id  TEXT NOT NULL,
        at         TEXT NOT NULL
    );
    "#,
    // 3: facts about the store itself (its id, under which it publishes).
    r#"
    CREATE TABLE meta (
        key    TEXT PRIMARY KEY NOT NULL,
        value  TEXT NOT NULL
    );
    "#,
    // 4: governance (removal time, legal holds, dual-control purges) and the tombstone streams.
    //
    // `removed_at` is when the file left the tree: the removing commit's committer time for a
    // scan, the binding time for the hooks and `archive`. Stores from before v4 get their last
    // update time, the best they recorded.
    //
    // `tombstones` holds one row per tombstone event, appended by triggers in the same
    // transaction that records the removal, whichever code path does it; `tombstones_code.jsonl`
    // and `tombstones_logs.jsonl` are caught up from it like `evidence.jsonl`.
    //
    // `item` and `artifact` are views under the names the audit queries of docs/governance.md
    // use, so they run as written (`git tombstone query`).
    r#"
    ALTER TABLE items ADD COLUMN removed_at TEXT;
    UPDATE items SET removed_at = updated_at WHERE removed_in_commit IS NOT NULL;
    CREATE INDEX items_by_removed_at ON items(removed_at);
    CREATE TABLE holds (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id         TEXT NOT NULL REFERENCES items(id),
        reason          TEXT NOT NULL,
        placed_by       TEXT NOT NULL,
        placed_at       TEXT NOT NULL,
        released_by     TEXT,
        released_at     TEXT,
        release_reason  TEXT
    );
    CREATE INDEX holds_by_item ON holds(item_id);
    CREATE TABLE purge_requests (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id       TEXT NOT NULL REFERENCES items(id),
        reason        TEXT NOT NULL,
        requested_by  TEXT NOT NULL,
        requested_at  TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('open', 'applied')),
        applied_at    TEXT
    );
    CREATE INDEX purge_requests_by_item ON purge_requests(item_id);
    CREATE TABLE purge_approvals (
        request_id   INTEGER NOT NULL REFERENCES purge_requests(id),
        approver     TEXT NOT NULL,
        reason       TEXT NOT NULL,
        approved_at  TEXT NOT NULL,
        PRIMARY KEY (request_id, approver)
    );
    CREATE TABLE tombstones (
        seq                INTEGER PRIMARY KEY AUTOINCREMENT,
        stream             TEXT NOT NULL CHECK (stream IN ('code', 'logs')),
        deleted_at         TEXT NOT NULL,
        origin             TEXT NOT NULL,
        item_id            TEXT,
        path               BLOB NOT NULL,
        path_text          TEXT NOT NULL,
        category           TEXT NOT NULL,
        sha256             TEXT,
        source_commit      TEXT,
        removed_in_commit  TEXT,
        reason             TEXT
    );
    CREATE INDEX tombstones_by_deleted_at ON tombstones(deleted_at);
    CREATE TRIGGER items_tombstone_on_insert AFTER INSERT ON items
    WHEN NEW.removed_at IS NOT NULL
    BEGIN
        INSERT INTO tombstones (stream, deleted_at, origin, item_id, path, path_text, category,
            sha256, source_commit, removed_in_commit, reason)
        VALUES (CASE WHEN NEW.category = 'logs' THEN 'logs' ELSE 'code' END, NEW.removed_at,
            'archive', NEW.id, NEW.path, NEW.path_text, NEW.category, NEW.sha256,
            NEW.source_commit, NEW.removed_in_commit, NEW.reason);
    END;
    CREATE TRIGGER items_tombstone_on_bind AFTER UPDATE OF removed_at ON items
    WHEN OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL
    BEGIN
        INSERT INTO tombstones (stream, deleted_at, origin, item_id, path, path_text, category,
            sha256, source_commit, removed_in_commit, reason)
        VALUES (CASE WHEN NEW.category = 'logs' THEN 'logs' ELSE 'code' END, NEW.removed_at,
            'archive', NEW.id, NEW.path, NEW.path_text, NEW.category, NEW.sha256,
            NEW.source_commit, NEW.removed_in_commit, NEW.reason);
    END;
    INSERT INTO tombstones (stream, deleted_at, origin, item_id, path, path_text, category,
        sha256, source_commit, removed_in_commit, reason)
    SELECT CASE WHEN category = 'logs' THEN 'logs' ELSE 'code' END, removed_at, 'archive', id,
        path, path_text, category, sha256, source_commit, removed_in_commit, reason
    FROM items WHERE removed_at IS NOT NULL ORDER BY rowid;
    CREATE VIEW item AS
    SELECT i.id AS tombstone_id, i.id AS id,
        (SELECT value FROM meta WHERE key = 'project') AS repo,
        i.path_text AS path, i.path AS path_bytes, i.sha256 AS artifact_id, i.mode, i.language, i.mime, i.lines, i.size, i.category,
        i.reason, i.actor, i.source_commit, i.removed_in_commit, i.removed_at, i.archived_at,
        i.state, i.legal_hold, i.tags, i.metadata
    FROM items i;
    CREATE VIEW artifact AS
    SELECT b.sha256 AS id, b.sha256 AS content_sha256, b.size, b.compression, b.stored_size,
        b.bytes AS blob_bytes, b.git_blob_id, b.created_at
    FROM blobs b;
    "#,
    // 5: exports. `change_seq` orders every change to an item (set by triggers on insert and
    // update), so a Parquet delta holds exactly the rows changed since the last one.
    // `export_files` registers every file an export or compaction wrote.
    r#"
    ALTER TABLE items ADD COLUMN change_seq INTEGER;
    UPDATE items SET change_seq = rowid;
    CREATE INDEX items_by_change_seq ON items(change_seq);
    CREATE TRIGGER items_change_seq_on_insert AFTER INSERT ON items
    BEGIN
        UPDATE items SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM items)
        WHERE rowid = NEW.rowid;
    END;
    CREATE TRIGGER items_change_seq_on_update AFTER UPDATE ON items
    WHEN NEW.change_seq IS OLD.change_seq
    BEGIN
        UPDATE items SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM items)
        WHERE rowid = NEW.rowid;
    END;
    CREATE TABLE export_files (
        path         TEXT PRIMARY KEY NOT NULL,
        dataset      TEXT NOT NULL,
        partition    TEXT NOT NULL,
        rows         INTEGER NOT NULL,
        bytes        INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        retired_at   TEXT,
        replaced_by  TEXT,
        compacted    INTEGER NOT NULL DEFAULT 0
    );
    "#,
    // 6: whole-tree snapshots (`snapshot`): one row per file version seen at a
    // path; a newer version supersedes it, a snapshot that no longer has the path deletes it.
    // `live_files` are the active rows.
    r#"
    CREATE TABLE snapshot_files (
        id                 INTEGER PRIMARY KEY AUTOINCREMENT,
        path               BLOB NOT NULL,
        path_text          TEXT NOT NULL,
        mode               TEXT NOT NULL,
        sha256             TEXT NOT NULL REFERENCES blobs(sha256),
        git_blob_id        TEXT NOT NULL,
        size               INTEGER NOT NULL,
        language           TEXT,
        mime               TEXT NOT NULL,
        lines              INTEGER,
        binary             INTEGER NOT NULL,
        category           TEXT NOT NULL,
        first_commit       TEXT NOT NULL,
        first_seen_at      TEXT NOT NULL,
        superseded_at      TEXT,
        deleted_at         TEXT,
        deleted_in_commit  TEXT,
        change_seq         INTEGER
    );
    CREATE INDEX snapshot_files_by_path ON snapshot_files(path);
    CREATE INDEX snapshot_files_by_change_seq ON snapshot_files(change_seq);
    CREATE TRIGGER snapshot_files_change_seq_on_insert AFTER INSERT ON snapshot_files
    BEGIN
        UPDATE snapshot_files
        SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM snapshot_files)
        WHERE id = NEW.id;
    END;
    CREATE TRIGGER snapshot_files_change_seq_on_update AFTER UPDATE ON snapshot_files
    WHEN NEW.change_seq IS OLD.change_seq
    BEGIN
        UPDATE snapshot_files
        SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM snapshot_files)
        WHERE id = NEW.id;
    END;
    CREATE VIEW live_files AS
    SELECT * FROM snapshot_files WHERE deleted_at IS NULL AND superseded_at IS NULL;
    "#,
    // 7: cheaper writes. Each write catches the stream files up by each stream's last seq (an
    // index instead of a scan), and items get their change_seq in the INSERT itself: the
    // trigger now only covers inserts that leave it NULL.
    r#"
    CREATE INDEX tombstones_by_stream ON tombstones(stream, seq);
    DROP TRIGGER items_change_seq_on_insert;
    CREATE TRIGGER items_change_seq_on_insert AFTER INSERT ON items
    WHEN NEW.change_seq IS NULL
    BEGIN
        UPDATE items SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM items)
        WHERE rowid = NEW.rowid;
    END;
    "#,
    // 8: cheaper item inserts. No query reads `items` through these two indexes: `path_text`
    // is looked up by nobody (lookups go by the path's bytes), and `list --commit` matches
    // `source_commit` by prefix with a case-insensitive LIKE, which an index of the column
    // cannot serve. Each cost every insert a B-tree descent and every item its entry.
    r#"
    DROP INDEX IF EXISTS items_by_path_text;
    DROP INDEX IF EXISTS items_by_source_commit;
    "#,
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the database forward to [`VERSION`]; true if that (or making the store's id) wrote
/// anything.
///
/// A store already at [`VERSION`] with its id is only read: no write lock is taken, so
/// opening a store costs a read transaction.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<bool, StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current == VERSION && super::meta::get(conn, "store_id")?.is_some() {
        return Ok(false);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > VERSION {
        return Err(StoreError::Newer {
            path: path.to_path_buf(),
            found: current,
            known: VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    // A store's id names its files on the archive branch; made once, never changed.
    let seed = format!(
        "{}\0{}\0{:?}\0{:?}",
        path.display(),
        std::process::id(),
        std::time::SystemTime::now(),
        std::thread::current().id()
    );
    super::meta::set_once(
        &tx,
        "store_id",
        &crate::id::sha256_hex(seed.as_bytes())[..16],
    )?;
    tx.commit()?;
    Ok(true)
}
