//! Named scan checkpoints: the commit a scan of HEAD's history reached (`scan --since-last`
//! starts there).

use rusqlite::{Connection, OptionalExtension, Transaction};

use super::StoreError;

/// The commit checkpoint `name` was last moved to, if any.
pub fn get(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT commit_id FROM checkpoints WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?)
}

/// Move checkpoint `name` to `commit` (at time `now`).
pub fn set(tx: &Transaction<'_>, name: &str, commit: &str, now: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO checkpoints (name, commit_id, at) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET commit_id = excluded.commit_id, at = excluded.at",
        [name, commit, now],
    )?;
    Ok(())
}
