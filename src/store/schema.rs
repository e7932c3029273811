//! Forward-only schema migrations, keyed by `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version forward inside one transaction. An
//! archive is never dropped or recreated; a store newer than this build is refused.
//!
//! Most steps are SQL; a step that only rewrites a CHECK constraint into an equivalent one
//! edits the table's definition in place (see [`Step::Checks`]), as SQLite documents for
//! constraint changes that leave every stored row as it is.

use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::StoreError;

/// One step forward.
enum Step {
    /// Run as one batch.
    Sql(&'static str),
    /// Replace, in the named tables' `CREATE TABLE` text, each CHECK constraint with an
    /// equivalent one: `(table, old text, new text)`. Only constraints every stored row
    /// satisfies either way belong here; nothing is rewritten but the schema's text.
    Checks(&'static [(&'static str, &'static str, &'static str)]),
}

const MIGRATIONS: &[Step] = &[
    // 1: blobs, items, evidence.
    Step::Sql(r#"
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
    "#),
    // 3 is below (meta); 2: scan checkpoints (`scan --since-last`).
    Step::Sql(r#"
    CREATE TABLE checkpoints (
        name       TEXT PRIMARY KEY NOT NULL,
        commit_id  TEXT NOT NULL,
        at         TEXT NOT NULL
    );
    "#),
    // 3: facts about the store itself (its id, under which it publishes).
    Step::Sql(r#"
    CREATE TABLE meta (
        key    TEXT PRIMARY KEY NOT NULL,
        value  TEXT NOT NULL
    );
    "#),
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
    Step::Sql(r#"
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
    "#),
    // 5: exports. `change_seq` orders every change to an item (set by triggers on insert and
    // update), so a Parquet delta holds exactly the rows changed since the last one.
    // `export_files` registers every file an export or compaction wrote.
    Step::Sql(r#"
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
    "#),
    // 6: whole-tree snapshots (`snapshot`): one row per file version seen at a
    // path; a newer version supersedes it, a snapshot that no longer has the path deletes it.
    // `live_files` are the active rows.
    Step::Sql(r#"
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
    "#),
    // 7: cheaper writes. Each write catches the stream files up by each stream's last seq (an
    // index instead of a scan), and items get their change_seq in the INSERT itself: the
    // trigger now only covers inserts that leave it NULL.
    Step::Sql(r#"
    CREATE INDEX tombstones_by_stream ON tombstones(stream, seq);
    DROP TRIGGER items_change_seq_on_insert;
    CREATE TRIGGER items_change_seq_on_insert AFTER INSERT ON items
    WHEN NEW.change_seq IS NULL
    BEGIN
        UPDATE items SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM items)
        WHERE rowid = NEW.rowid;
    END;
    "#),
    // 8: cheaper item inserts. No query reads `items` through these two indexes: `path_text`
    // is looked up by nobody (lookups go by the path's bytes), and `list --commit` matches
    // `source_commit` by prefix with a case-insensitive LIKE, which an index of the column
    // cannot serve. Each cost every insert a B-tree descent and every item its entry.
    Step::Sql(r#"
    DROP INDEX IF EXISTS items_by_path_text;
    DROP INDEX IF EXISTS items_by_source_commit;
    "#),
    // 9: cheaper checks on insert. SQLite evaluates `x IN (a, b, c)` of more than two
    // constants in a CHECK by building a temporary index of the constants for every row it
    // checks (an ephemeral table: opened, its first page zeroed, filled, dropped); the same
    // test written as comparisons costs a few instructions. Those indexes were 13% of the
    // instructions of a 1,700-deletion scan's writer thread (callgrind: 36 of 277 million,
    // SHA-256 aside, which callgrind cannot count as the CPU runs it), most of them for the
    // blob's row. The two constraints accept exactly the values they accepted before, so the
    // stored rows stand.
    Step::Checks(&[
        (
            "items",
            "CHECK (state IN ('pending', 'archived', 'restored', 'vacuumed', 'purged'))",
            "CHECK (state = 'pending' OR state = 'archived' OR state = 'restored' OR state = 'vacuumed' OR state = 'purged')",
        ),
        (
            "blobs",
            "CHECK (compression IN ('zstd', 'gzip', 'none'))",
            "CHECK (compression = 'zstd' OR compression = 'gzip' OR compression = 'none')",
        ),
    ]),
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema at [`VERSION`] in one batch, for a database that has none yet: the statements
/// `sqlite_schema` holds after every step of [`MIGRATIONS`], in its order. Running the steps
/// one by one made a new store cost more than the rest of a small scan: every `ALTER TABLE` and
/// the CHECK rewrite make SQLite read the whole schema again (callgrind, a scan of a two-commit
/// history into a new store: 8.8 of its 15.7 million instructions were the migration). A unit
/// test checks that both ways give the same schema; after adding a step, regenerate this file
/// with `GIT_TOMBSTONE_BLESS=1 cargo test --lib new_store_schema`.
const NEW_SCHEMA: &str = include_str!("schema.sql");

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
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > VERSION {
        return Err(StoreError::Newer {
            path: path.to_path_buf(),
            found: current,
            known: VERSION,
        });
    }
    if current == 0 {
        tx.execute_batch(NEW_SCHEMA)?;
        tx.pragma_update(None, "user_version", VERSION)?;
    } else {
        run_steps(&mut tx, current)?;
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

/// Run the steps of [`MIGRATIONS`] after version `from`, recording each one's version.
fn run_steps(tx: &mut Transaction<'_>, from: i64) -> Result<(), StoreError> {
    for (i, step) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        match step {
            Step::Sql(sql) => tx.execute_batch(sql)?,
            Step::Checks(edits) => rewrite_checks(tx, edits)?,
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    Ok(())
}

/// Rewrite CHECK constraints in place ([`Step::Checks`]), by SQLite's documented procedure
/// for constraint changes that leave the stored rows as they are: `writable_schema`, edit the
/// table's text in `sqlite_schema`, bump `schema_version` so every connection reads the schema
/// again. The edited schema is read back before the transaction commits, so a definition
/// SQLite could not parse never lands.
///
/// The rewrite only makes inserts cheaper. If SQLite refuses it (a build with
/// `SQLITE_DBCONFIG_DEFENSIVE`), or a table's text does not hold the old constraint (a store
/// edited by hand), that table keeps the constraint it has, which checks the same values.
fn rewrite_checks(
    tx: &mut Transaction<'_>,
    edits: &[(&'static str, &'static str, &'static str)],
) -> Result<(), StoreError> {
    let mut sp = tx.savepoint_with_name("rewrite_checks")?;
    let version: i64 = sp.pragma_query_value(None, "schema_version", |r| r.get(0))?;
    sp.pragma_update(None, "writable_schema", true)?;
    let edited = edits.iter().try_for_each(|(table, old, new)| {
        sp.execute(
            "UPDATE sqlite_schema SET sql = replace(sql, ?2, ?3) WHERE type = 'table' AND name = ?1",
            [table, old, new],
        )
        .map(drop)
    });
    let bumped = edited.and_then(|()| sp.pragma_update(None, "schema_version", version + 1));
    // RESET also drops this connection's copy of the schema, so the next statement parses the
    // edited text.
    sp.pragma_update(None, "writable_schema", "RESET")?;
    let read_back =
        bumped.and_then(|()| sp.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())));
    if read_back.is_err() {
        // Back to the schema as it was; releasing the savepoint after that keeps nothing.
        sp.rollback()?;
    }
    sp.commit()?;
    Ok(())
}

/// A database in memory with the whole schema, for the store's unit tests.
#[cfg(test)]
pub(super) fn in_memory() -> Connection {
    let mut conn = Connection::open_in_memory().expect("open a database in memory");
    migrate(&mut conn, Path::new(":memory:")).expect("the schema");
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database file of its own, removed when dropped.
    struct TempDb(std::path::PathBuf);

    impl TempDb {
        fn new(name: &str) -> TempDb {
            let path = std::env::temp_dir().join(format!(
                "git-tombstone-schema-{name}-{}.sqlite",
                std::process::id()
            ));
            let _ = std::fs::remove_file(&path);
            TempDb(path)
        }

        fn open(&self) -> Connection {
            Connection::open(&self.0).expect("open the test database")
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// A store at version 8, as the builds before version 9 left it, holding one item.
    fn store_at_version_8(db: &TempDb) -> Connection {
        let conn = db.open();
        for step in &MIGRATIONS[..8] {
            let Step::Sql(sql) = step else {
                panic!("steps 1-8 are SQL")
            };
            conn.execute_batch(sql).expect("migrate");
        }
        conn.pragma_update(None, "user_version", 8)
            .expect("version");
        conn.execute_batch(&format!(
            "INSERT INTO blobs (sha256, size, compression, stored_size, created_at)
             VALUES ('{sha}', 1, 'zstd', 1, 't');
             INSERT INTO items (id, path, path_text, mode, mime, binary, size, sha256, category,
                 action, reason, actor, source_commit, archived_at, updated_at, state)
             VALUES ('tb_1', x'61', 'a', '100644', 'text/plain', 0, 1, '{sha}', 'code',
                 'archive', 'r', 'a', 'c', 't', 't', 'archived');",
            sha = "a".repeat(64)
        ))
        .expect("one item");
        conn
    }

    fn table_sql(conn: &Connection, table: &str) -> String {
        conn.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .expect("table")
    }

    /// Whether inserting an item builds a temporary table (what `x IN (a, b, c)` in a CHECK
    /// costs every row).
    fn item_insert_builds_a_table(conn: &Connection) -> bool {
        let mut stmt = conn
            .prepare(
                "EXPLAIN INSERT INTO items (id, path, path_text, mode, mime, binary, size, sha256,
                     category, action, reason, actor, source_commit, archived_at, updated_at,
                     state)
                 VALUES ('tb_2', x'62', 'b', '100644', 'text/plain', 0, 1, ?1, 'code', 'archive',
                     'r', 'a', 'c', 't', 't', 'archived')",
            )
            .expect("explain");
        let ops: Vec<String> = stmt
            .query_map(["a".repeat(64)], |r| r.get::<_, String>(1))
            .expect("program")
            .collect::<Result<_, _>>()
            .expect("opcodes");
        ops.iter().any(|op| op == "OpenEphemeral")
    }

    #[test]
    fn version_9_checks_states_and_compressions_by_comparison_and_keeps_the_rows() {
        let db = TempDb::new("v9");
        let mut conn = store_at_version_8(&db);
        assert!(item_insert_builds_a_table(&conn), "version 8 did");
        // A second connection that has read the old schema sees the new one after.
        let other = db.open();
        assert!(item_insert_builds_a_table(&other));
        assert!(migrate(&mut conn, &db.0).expect("migrate"));
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(version, VERSION);
        assert!(table_sql(&conn, "items").contains("state = 'pending' OR state = 'archived'"));
        assert!(table_sql(&conn, "blobs").contains("compression = 'zstd' OR"));
        // The other connection reads the new schema at its next statement (`EXPLAIN` alone
        // runs nothing, so it does not look).
        let n: i64 = other
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 1);
        for c in [&conn, &other] {
            assert!(!item_insert_builds_a_table(c));
        }
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(check, "ok");
        let state: String = other
            .query_row("SELECT state FROM items WHERE id = 'tb_1'", [], |r| {
                r.get(0)
            })
            .expect("the item");
        assert_eq!(state, "archived");
        // The same values are accepted and refused as before.
        for s in ["pending", "archived", "restored", "vacuumed", "purged"] {
            other
                .execute("UPDATE items SET state = ?1 WHERE id = 'tb_1'", [s])
                .expect("a state the constraint accepts");
        }
        for s in ["deleted", "Archived", ""] {
            let err = other
                .execute("UPDATE items SET state = ?1 WHERE id = 'tb_1'", [s])
                .expect_err("a state the constraint refuses");
            assert!(err.to_string().contains("CHECK constraint failed"), "{err}");
        }
        let err = other
            .execute("UPDATE blobs SET compression = 'lz4'", [])
            .expect_err("an unknown compression");
        assert!(err.to_string().contains("CHECK constraint failed"), "{err}");
    }

    /// A row of `sqlite_schema`: type, name, table, statement.
    type SchemaRow = (String, String, String, Option<String>);

    /// `sqlite_schema`'s rows in its order, and the version.
    fn schema_of(conn: &Connection) -> (Vec<SchemaRow>, i64) {
        let mut stmt = conn
            .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid")
            .expect("schema query");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("schema rows")
            .collect::<Result<_, _>>()
            .expect("schema");
        let version = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        (rows, version)
    }

    /// A new store's schema, made in one batch, is the one the steps make one by one: the same
    /// objects with the same statements in the same order (a later step that edits a statement's
    /// text finds it either way), and the same version.
    #[test]
    fn new_store_schema_is_what_the_migrations_make() {
        let mut stepped = Connection::open_in_memory().expect("in memory");
        let mut tx = stepped.transaction().expect("transaction");
        run_steps(&mut tx, 0).expect("every step");
        tx.commit().expect("commit");
        // What `NEW_SCHEMA` holds: every statement SQLite did not make itself.
        let (rows, version) = schema_of(&stepped);
        assert_eq!(version, VERSION);
        let statements: Vec<String> = rows
            .iter()
            .filter(|(_, name, _, _)| !name.starts_with("sqlite_"))
            .filter_map(|(_, _, _, sql)| sql.as_ref().map(|s| format!("{s};\n")))
            .collect();
        let expected = statements.concat();
        if std::env::var_os("GIT_TOMBSTONE_BLESS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/schema.sql");
            std::fs::write(path, &expected).expect("write schema.sql");
        }
        assert_eq!(
            NEW_SCHEMA, expected,
            "src/store/schema.sql is not what the migrations make: regenerate it with \
             GIT_TOMBSTONE_BLESS=1 cargo test --lib new_store_schema"
        );
        // `migrate` gives an empty database that schema, in one batch.
        let fresh = in_memory();
        assert_eq!(schema_of(&fresh), (rows, VERSION));
        assert!(!item_insert_builds_a_table(&fresh));
    }

    /// A database without a version that already has a table of the schema's names is
    /// refused, and left as it was (the batch runs in the migration's transaction).
    #[test]
    fn a_database_with_a_table_of_the_schema_s_names_is_refused_unchanged() {
        let mut conn = Connection::open_in_memory().expect("in memory");
        conn.execute_batch("CREATE TABLE blobs (x)")
            .expect("a table");
        assert!(migrate(&mut conn, Path::new(":memory:")).is_err());
        let (rows, version) = schema_of(&conn);
        assert_eq!(rows.len(), 1);
        assert_eq!(version, 0);
    }

    #[test]
    fn a_rewrite_sqlite_cannot_parse_changes_nothing() {
        let db = TempDb::new("bad-rewrite");
        let mut conn = store_at_version_8(&db);
        let before = table_sql(&conn, "items");
        let mut tx = conn.transaction().expect("transaction");
        rewrite_checks(
            &mut tx,
            &[("items", "CHECK (state IN (", "CHECK (state IN IN ((")],
        )
        .expect("a refused rewrite is not an error");
        tx.commit().expect("commit");
        assert_eq!(table_sql(&conn, "items"), before);
        let n: i64 = db
            .open()
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .expect("the store still reads");
        assert_eq!(n, 1);
        assert!(item_insert_builds_a_table(&conn), "the old check stands");
    }
}
