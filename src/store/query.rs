//! One read-only statement of the user's against the store (`git tombstone query`), for audits.
//!
//! `query_only` is on, and a statement SQLite says may write (`sqlite3_stmt_readonly`) is
//! refused before it runs, so a query can never change the archive, whatever it says.

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::StoreError;

/// Why a query did not run.
#[derive(Debug)]
pub enum QueryError {
    /// The statement is invalid, or would write.
    Invalid(String),
    Store(StoreError),
}

/// Run `sql` read-only, handing each row's values to `row`; returns the column names.
pub fn read_only(
    conn: &Connection,
    sql: &str,
    mut row: impl FnMut(&[String], &[ValueRef<'_>]) -> Result<(), StoreError>,
) -> Result<Vec<String>, QueryError> {
    conn.pragma_update(None, "query_only", "ON")
        .map_err(|e| QueryError::Store(e.into()))?;
    let invalid = |e: rusqlite::Error| QueryError::Invalid(e.to_string());
    let mut stmt = conn.prepare(sql).map_err(invalid)?;
    if !stmt.readonly() {
        return Err(QueryError::Invalid(
            "only statements that read are allowed (SELECT, WITH …, read-only PRAGMAs); this one would write".into(),
        ));
    }
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let mut rows = stmt.query([]).map_err(invalid)?;
    while let Some(r) = rows.next().map_err(invalid)? {
        let mut values = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            values.push(r.get_ref(i).map_err(|e| QueryError::Store(e.into()))?);
        }
        row(&names, &values).map_err(QueryError::Store)?;
    }
    Ok(names)
}
