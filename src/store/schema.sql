CREATE TABLE blobs (
        sha256       TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
        size         INTEGER NOT NULL,
        compression  TEXT NOT NULL CHECK (compression = 'zstd' OR compression = 'gzip' OR compression = 'none'),
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
            CHECK (state = 'pending' OR state = 'archived' OR state = 'restored' OR state = 'vacuumed' OR state = 'purged'),
        legal_hold         INTEGER NOT NULL DEFAULT 0,
        tags               TEXT NOT NULL DEFAULT '[]',
        metadata           TEXT NOT NULL DEFAULT '{}'
    , removed_at TEXT, change_seq INTEGER);
CREATE INDEX items_by_path ON items(path);
CREATE INDEX items_by_sha256 ON items(sha256);
CREATE INDEX items_by_removed_in_commit ON items(removed_in_commit);
CREATE INDEX items_by_archived_at ON items(archived_at);
CREATE INDEX items_by_state ON items(state);
CREATE TABLE evidence (
        seq     INTEGER PRIMARY KEY NOT NULL,
        op      TEXT NOT NULL,
        line    TEXT NOT NULL,
        digest  TEXT NOT NULL
    );
CREATE TABLE checkpoints (
        name       TEXT PRIMARY KEY NOT NULL,
        commit_id  TEXT NOT NULL,
        at         TEXT NOT NULL
    );
CREATE TABLE meta (
        key    TEXT PRIMARY KEY NOT NULL,
        value  TEXT NOT NULL
    );
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
CREATE INDEX items_by_change_seq ON items(change_seq);
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
CREATE INDEX tombstones_by_stream ON tombstones(stream, seq);
CREATE TRIGGER items_change_seq_on_insert AFTER INSERT ON items
    WHEN NEW.change_seq IS NULL
    BEGIN
        UPDATE items SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM items)
        WHERE rowid = NEW.rowid;
    END;
