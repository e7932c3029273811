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
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the database forward to [`VERSION`].
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
    tx.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', ?1)",
        [&crate::id::sha256_hex(seed.as_bytes())[..16]],
    )?;
    tx.commit()?;
    Ok(())
}
