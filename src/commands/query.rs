//! `git tombstone query "SQL"`: one read-only statement against the store, for audits.
//!
//! The database is opened read-only and the statement runs through
//! [`crate::store::query::read_only`], which refuses any statement that could write.

use rusqlite::types::ValueRef;

use crate::cli::QueryArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::{Error, Outcome};
use crate::store::query::QueryError;

/// Run `query`.
pub fn run(args: &QueryArgs, ctx: &Ctx) -> Outcome {
    let Some(store) = ctx.existing_store()? else {
        return Err(CommandError::Invalid {
            what: "store".into(),
            why: "there is no store yet (nothing archived)".into(),
        }
        .into());
    };
    let mut table: Vec<Vec<String>> = Vec::new();
    let names = crate::store::query::read_only(store.conn(), &args.sql, |names, values| {
        let mut obj = serde_json::Map::new();
        let mut cells = Vec::new();
        for (name, v) in names.iter().zip(values) {
            let (json, text) = match *v {
                ValueRef::Null => (serde_json::Value::Null, "NULL".to_owned()),
                ValueRef::Integer(n) => (n.into(), n.to_string()),
                ValueRef::Real(f) => (f.into(), f.to_string()),
                ValueRef::Text(t) => {
                    let s = String::from_utf8_lossy(t).into_owned();
                    (s.clone().into(), s)
                }
                // Paths are stored as bytes: valid UTF-8 without control characters is shown
                // as text (JSON keeps the exact bytes as hex beside it).
                ValueRef::Blob(b) if printable_utf8(b) => {
                    let text = String::from_utf8_lossy(b).into_owned();
                    (
                        serde_json::json!({ "text": text, "hex": crate::id::hex(b) }),
                        text,
                    )
                }
                ValueRef::Blob(b) => {
                    let hex = crate::id::hex(b);
                    (
                        serde_json::json!({ "hex": hex }),
                        format!(
                            "x'{}'",
                            if hex.len() > 64 {
                                format!("{}…", &hex[..64])
                            } else {
                                hex
                            }
                        ),
                    )
                }
            };
            obj.insert(name.clone(), json);
            cells.push(text);
        }
        ctx.out.json(&serde_json::Value::Object(obj));
        table.push(cells);
        Ok(())
    })
    .map_err(|e| match e {
        QueryError::Invalid(why) => Error::from(CommandError::Invalid {
            what: "query".into(),
            why,
        }),
        QueryError::Store(e) => Error::from(e),
    })?;
    if !ctx.out.json {
        let header: Vec<&str> = names.iter().map(String::as_str).collect();
        ctx.out.table(&header, &table);
        ctx.out.note(&format!("{} row(s)", table.len()));
    }
    Ok(0)
}

/// Valid UTF-8 with no control characters (what a terminal shows as it is).
fn printable_utf8(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|s| !s.chars().any(char::is_control))
}
