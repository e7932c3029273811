//! The organisation-wide catalog in PostgreSQL (`sync --catalog`, `list --global --catalog`):
//! one index of every project's items, evidence line digests and tombstone events, with their
//! hold and purge state, that the runbook's audit queries read across projects in `psql`.
//!
//! - **Address and credentials** follow libpq: a URL (`postgresql://USER@HOST:PORT/DB`) or
//!   `key=value` pairs, with what they leave out taken from `PGHOST`, `PGPORT`, `PGUSER`,
//!   `PGDATABASE`, the password from `PGPASSWORD`, else `PGPASSFILE` or `~/.pgpass` (ignored
//!   when group or others can read it, as libpq does). TLS as libpq does it: `sslmode`
//!   (`PGSSLMODE`) and `sslrootcert` (`PGSSLROOTCERT`), see [`super::pgtls`]. The password
//!   never appears in what is shown: every message names the catalog by [`Catalog::target`]
//!   (user, host, port, database).
//! - **Schema**: forward-only migrations, numbered, applied under a transaction-level advisory
//!   lock, so concurrent first syncs create it once.
//! - **Writes**: one transaction per sync; every row is an idempotent upsert keyed by project
//!   (`repo`, the `namespace/project` slug) and id, so a sync killed halfway leaves nothing and
//!   a rerun (or a second runner) writes no duplicate.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use miette::Diagnostic;
use postgres::config::Host;
use rusqlite::Connection;

use super::{evidence, items, streams};

/// Errors of the catalog.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum CatalogError {
    #[error("invalid catalog address: {why}")]
    #[diagnostic(
        code(tombstone::catalog::invalid),
        help("give a libpq address: postgresql://USER@HOST:PORT/DB, or key=value pairs; the password comes from PGPASSWORD or ~/.pgpass")
    )]
    Address { why: String },
    #[error("PostgreSQL catalog {target}: {context}")]
    #[diagnostic(
        code(tombstone::catalog::failed),
        help(
            "nothing was committed to the catalog; run the command again once the server answers"
        )
    )]
    Failed {
        /// The catalog, without its password.
        target: String,
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl From<super::StoreError> for CatalogError {
    fn from(e: super::StoreError) -> Self {
        failed("(the local store)", "reading the store", e)
    }
}

impl CatalogError {
    /// What kind of failure this is (see [`crate::error::Kind`]).
    pub fn kind(&self) -> crate::error::Kind {
        match self {
            CatalogError::Address { .. } => crate::error::Kind::Usage,
            CatalogError::Failed { .. } => crate::error::Kind::Internal,
        }
    }
}

/// The forward-only migrations, in order; `catalog_migrations` records the ones applied.
const MIGRATIONS: [&str; 1] = [r#"
CREATE TABLE project (
    repo            text PRIMARY KEY,
    namespace       text NOT NULL,
    project         text NOT NULL,
    hostname        text NOT NULL,
    store_id        text NOT NULL,
    first_synced_at timestamptz NOT NULL DEFAULT now(),
    last_synced_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE artifact (
    id             bigserial PRIMARY KEY,
    content_sha256 text NOT NULL UNIQUE,
    size           bigint NOT NULL
);
CREATE TABLE item (
    repo              text NOT NULL REFERENCES project (repo),
    tombstone_id      text NOT NULL,
    path              text NOT NULL,
    path_bytes        bytea NOT NULL,
    artifact_id       bigint NOT NULL REFERENCES artifact (id),
    sha256            text NOT NULL,
    size              bigint NOT NULL,
    mode              text NOT NULL,
    category          text NOT NULL,
    action            text NOT NULL,
    reason            text NOT NULL,
    actor             text NOT NULL,
    state             text NOT NULL,
    legal_hold        boolean NOT NULL,
    source_commit     text NOT NULL,
    removed_in_commit text,
    removed_at        timestamptz,
    archived_at       timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    tags              jsonb NOT NULL,
    metadata          jsonb NOT NULL,
    PRIMARY KEY (repo, tombstone_id)
);
CREATE INDEX item_state ON item (state);
CREATE INDEX item_archived_at ON item (archived_at);
CREATE TABLE evidence (
    repo     text NOT NULL REFERENCES project (repo),
    store_id text NOT NULL,
    seq      bigint NOT NULL,
    op       text NOT NULL,
    actor    text NOT NULL,
    at       timestamptz NOT NULL,
    digest   text NOT NULL,
    PRIMARY KEY (repo, store_id, seq)
);
CREATE TABLE tombstone_event (
    repo       text NOT NULL REFERENCES project (repo),
    stream     text NOT NULL,
    seq        bigint NOT NULL,
    item_id    text,
    path       text NOT NULL,
    category   text NOT NULL,
    origin     text NOT NULL,
    deleted_at timestamptz NOT NULL,
    line       jsonb NOT NULL,
    PRIMARY KEY (repo, stream, seq)
);
"#];

/// Rows per multi-row upsert.
const BATCH: usize = 2000;

/// A connection to the catalog, its schema current.
pub struct Catalog {
    client: postgres::Client,
    target: String,
}

/// What one sync wrote (rows inserted or changed; unchanged rows are not counted).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Upserted {
    /// The catalog, without its password.
    pub catalog: String,
    pub items: u64,
    pub evidence: u64,
    pub tombstone_events: u64,
}

/// The project a store belongs to.
pub struct Project<'a> {
    pub repo: &'a str,
    pub namespace: &'a str,
    pub project: &'a str,
    pub hostname: &'a str,
    pub store_id: &'a str,
}

/// An item as `list --global --catalog` shows it.
#[derive(Debug, Clone)]
pub struct CatalogItem {
    pub repo: String,
    pub namespace: String,
    pub project: String,
    pub hostname: String,
    pub id: String,
    pub path: String,
    pub state: String,
    pub category: String,
    pub size: i64,
    pub sha256: String,
    pub archived_at: String,
    pub removed_in_commit: Option<String>,
}

impl Catalog {
    /// Connect to the catalog at `address` (libpq conventions, see the module docs) and bring
    /// its schema up to date.
    pub fn connect(address: &str) -> Result<Catalog, CatalogError> {
        let env = |k: &str| std::env::var(k).ok();
        let (rest, tls) =
            super::pgtls::split(address, &env).map_err(|why| CatalogError::Address { why })?;
        let mut config = config_of(&rest, &env)?;
        config.ssl_mode(tls.mode.wire());
        let target = target_of(&config);
        let connector = super::pgtls::connector(&tls, crate::fsutil::home().as_deref())
            .map_err(|why| CatalogError::Address { why })?;
        let client = config
            .connect(connector)
            .map_err(|e| failed(&target, "cannot connect", e))?;
        let mut catalog = Catalog { client, target };
        catalog.migrate()?;
        Ok(catalog)
    }

    /// The catalog as messages name it: user, host, port and database, never the password.
    pub fn target(&self) -> &str {
        &self.target
    }

    fn migrate(&mut self) -> Result<(), CatalogError> {
        let target = self.target.clone();
        let err = |context: &str| {
            let target = target.clone();
            let context = context.to_owned();
            move |e: postgres::Error| failed(&target, &context, e)
        };
        let mut tx = self.client.transaction().map_err(err("migrating"))?;
        // One migrator at a time (the key is arbitrary, fixed: "tombstone" in ASCII).
        tx.execute("SELECT pg_advisory_xact_lock(7408492527797862757)", &[])
            .map_err(err("waiting for the migration lock"))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS catalog_migrations (
                version    integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .map_err(err("migrating"))?;
        let applied: i32 = tx
            .query_one(
                "SELECT COALESCE(max(version), 0) FROM catalog_migrations",
                &[],
            )
            .map_err(err("migrating"))?
            .get(0);
        if applied as usize > MIGRATIONS.len() {
            return Err(CatalogError::Address {
                why: format!(
                    "the catalog's schema is version {applied}, newer than this build's {}: upgrade git-tombstone",
                    MIGRATIONS.len()
                ),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
            tx.batch_execute(sql).map_err(err("migrating"))?;
            tx.execute(
                "INSERT INTO catalog_migrations (version) VALUES ($1)",
                &[&(i as i32 + 1)],
            )
            .map_err(err("migrating"))?;
        }
        tx.commit().map_err(err("migrating"))
    }

    /// Upsert `project`'s items, evidence digests and tombstone events from the store `conn`,
    /// in one transaction.
    pub fn upsert(
        &mut self,
        conn: &Connection,
        project: &Project<'_>,
    ) -> Result<Upserted, CatalogError> {
        let target = self.target.clone();
        let err = |context: &'static str| {
            let target = target.clone();
            move |e: postgres::Error| failed(&target, context, e)
        };
        let store_err = |e: super::StoreError| failed(&target, "reading the store", e);
        let mut tx = self.client.transaction().map_err(err("starting a sync"))?;
        tx.execute(
            "INSERT INTO project (repo, namespace, project, hostname, store_id)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (repo) DO UPDATE SET hostname = EXCLUDED.hostname,
                 store_id = EXCLUDED.store_id, last_synced_at = now()",
            &[
                &project.repo,
                &project.namespace,
                &project.project,
                &project.hostname,
                &project.store_id,
            ],
        )
        .map_err(err("recording the project"))?;
        let mut done = Upserted {
            catalog: target.clone(),
            ..Upserted::default()
        };
        // Items change state (bound, held, restored, purged): every one is offered, a chunk at
        // a time, and only the changed are written.
        items::for_each_chunk(conn, BATCH, &mut |chunk| -> Result<(), CatalogError> {
            done.items +=
                upsert_items(&mut tx, project.repo, chunk).map_err(err("upserting items"))?;
            Ok(())
        })?;
        // Evidence lines and tombstone events are only ever appended: the ones after the last
        // the catalog has.
        let last: i64 = tx
            .query_one(
                "SELECT COALESCE(max(seq), 0) FROM evidence WHERE repo = $1 AND store_id = $2",
                &[&project.repo, &project.store_id],
            )
            .map_err(err("reading the catalog"))?
            .get(0);
        let lines = evidence::lines_from(conn, last + 1).map_err(store_err)?;
        for chunk in lines.chunks(BATCH) {
            done.evidence += upsert_evidence(&mut tx, project, chunk)
                .map_err(err("upserting evidence digests"))?;
        }
        for stream in streams::STREAMS {
            let last: i64 = tx
                .query_one(
                    "SELECT COALESCE(max(seq), 0) FROM tombstone_event WHERE repo = $1 AND stream = $2",
                    &[&project.repo, &stream],
                )
                .map_err(err("reading the catalog"))?
                .get(0);
            let mut events = Vec::new();
            streams::for_each_line(conn, stream, last, |seq, line| {
                events.push((stream, seq, line.to_owned()));
                Ok(())
            })
            .map_err(store_err)?;
            for chunk in events.chunks(BATCH) {
                done.tombstone_events += upsert_events(&mut tx, project.repo, chunk)
                    .map_err(err("upserting tombstone events"))?;
            }
        }
        crate::failpoint::hit("catalog:before-commit");
        tx.commit().map_err(err("committing the sync"))?;
        Ok(done)
    }

    /// Every item in the catalog, across projects, sorted by project, path and id.
    pub fn items(&mut self) -> Result<Vec<CatalogItem>, CatalogError> {
        let rows = self
            .client
            .query(
                "SELECT i.repo, p.namespace, p.project, p.hostname, i.tombstone_id, i.path,
                        i.state, i.category, i.size, i.sha256,
                        to_char(i.archived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                        i.removed_in_commit
                 FROM item i JOIN project p ON p.repo = i.repo
                 ORDER BY i.repo, i.path_bytes, i.tombstone_id",
                &[],
            )
            .map_err(|e| failed(&self.target, "listing items", e))?;
        Ok(rows
            .iter()
            .map(|r| CatalogItem {
                repo: r.get(0),
                namespace: r.get(1),
                project: r.get(2),
                hostname: r.get(3),
                id: r.get(4),
                path: r.get(5),
                state: r.get(6),
                category: r.get(7),
                size: r.get(8),
                sha256: r.get(9),
                archived_at: r.get(10),
                removed_in_commit: r.get(11),
            })
            .collect())
    }
}

fn failed(
    target: &str,
    context: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> CatalogError {
    CatalogError::Failed {
        target: target.to_owned(),
        context: context.to_owned(),
        source: Box::new(source),
    }
}

fn upsert_items(
    tx: &mut postgres::Transaction<'_>,
    repo: &str,
    chunk: &[items::Item],
) -> Result<u64, postgres::Error> {
    let sha: Vec<&str> = chunk.iter().map(|i| i.sha256.as_str()).collect();
    let size: Vec<i64> = chunk.iter().map(|i| i.size as i64).collect();
    tx.execute(
        "INSERT INTO artifact (content_sha256, size)
         SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (content_sha256) DO NOTHING",
        &[&sha, &size],
    )?;
    let id: Vec<&str> = chunk.iter().map(|i| i.id.as_str()).collect();
    let path: Vec<&str> = chunk.iter().map(|i| i.path_text.as_str()).collect();
    let path_bytes: Vec<&[u8]> = chunk.iter().map(|i| i.path.as_slice()).collect();
    let mode: Vec<&str> = chunk.iter().map(|i| i.mode.as_str()).collect();
    let category: Vec<&str> = chunk.iter().map(|i| i.category.as_str()).collect();
    let action: Vec<&str> = chunk.iter().map(|i| i.action.as_str()).collect();
    let reason: Vec<&str> = chunk.iter().map(|i| i.reason.as_str()).collect();
    let actor: Vec<&str> = chunk.iter().map(|i| i.actor.as_str()).collect();
    let state: Vec<&str> = chunk.iter().map(|i| i.state.as_str()).collect();
    let hold: Vec<bool> = chunk.iter().map(|i| i.legal_hold).collect();
    let source: Vec<&str> = chunk.iter().map(|i| i.source_commit.as_str()).collect();
    let removed_in: Vec<Option<&str>> = chunk
        .iter()
        .map(|i| i.removed_in_commit.as_deref())
        .collect();
    let removed_at: Vec<Option<&str>> = chunk.iter().map(|i| i.removed_at.as_deref()).collect();
    let archived_at: Vec<&str> = chunk.iter().map(|i| i.archived_at.as_str()).collect();
    let updated_at: Vec<&str> = chunk.iter().map(|i| i.updated_at.as_str()).collect();
    let tags: Vec<String> = chunk
        .iter()
        .map(|i| serde_json::to_string(&i.tags).unwrap_or_else(|_| "[]".into()))
        .collect();
    let metadata: Vec<String> = chunk
        .iter()
        .map(|i| serde_json::to_string(&i.metadata).unwrap_or_else(|_| "{}".into()))
        .collect();
    tx.execute(
        "INSERT INTO item (repo, tombstone_id, path, path_bytes, artifact_id, sha256,
             size, mode, category, action, reason, actor, state, legal_hold, source_commit,
             removed_in_commit, removed_at, archived_at, updated_at, tags, metadata)
         SELECT $1, u.id, u.path, u.path_bytes, a.id, u.sha, u.size, u.mode, u.category,
             u.action, u.reason, u.actor, u.state, u.hold, u.source, u.removed_in,
             u.removed_at::timestamptz, u.archived_at::timestamptz, u.updated_at::timestamptz,
             u.tags::jsonb, u.metadata::jsonb
         FROM unnest($2::text[], $3::text[], $4::bytea[], $5::text[], $6::bigint[], $7::text[],
             $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bool[],
             $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[],
             $20::text[])
             AS u(id, path, path_bytes, sha, size, mode, category, action, reason, actor, state,
                  hold, source, removed_in, removed_at, archived_at, updated_at, tags, metadata)
         JOIN artifact a ON a.content_sha256 = u.sha
         ON CONFLICT (repo, tombstone_id) DO UPDATE SET
             state = EXCLUDED.state, legal_hold = EXCLUDED.legal_hold,
             removed_in_commit = EXCLUDED.removed_in_commit, removed_at = EXCLUDED.removed_at,
             updated_at = EXCLUDED.updated_at, tags = EXCLUDED.tags,
             metadata = EXCLUDED.metadata
         WHERE (item.state, item.legal_hold, item.removed_in_commit, item.removed_at,
                item.updated_at, item.tags, item.metadata)
             IS DISTINCT FROM
               (EXCLUDED.state, EXCLUDED.legal_hold, EXCLUDED.removed_in_commit,
                EXCLUDED.removed_at, EXCLUDED.updated_at, EXCLUDED.tags, EXCLUDED.metadata)",
        &[
            &repo,
            &id,
            &path,
            &path_bytes,
            &sha,
            &size,
            &mode,
            &category,
            &action,
            &reason,
            &actor,
            &state,
            &hold,
            &source,
            &removed_in,
            &removed_at,
            &archived_at,
            &updated_at,
            &tags,
            &metadata,
        ],
    )
}

fn upsert_evidence(
    tx: &mut postgres::Transaction<'_>,
    project: &Project<'_>,
    chunk: &[evidence::Numbered],
) -> Result<u64, postgres::Error> {
    let seq: Vec<i64> = chunk.iter().map(|l| l.seq).collect();
    let op: Vec<&str> = chunk.iter().map(|l| l.op.as_str()).collect();
    let digest: Vec<&str> = chunk.iter().map(|l| l.digest.as_str()).collect();
    let parsed: Vec<serde_json::Value> = chunk
        .iter()
        .map(|l| serde_json::from_str(&l.line).unwrap_or_default())
        .collect();
    let actor: Vec<&str> = parsed
        .iter()
        .map(|v| v["actor"].as_str().unwrap_or_default())
        .collect();
    let at: Vec<&str> = parsed
        .iter()
        .map(|v| v["at"].as_str().unwrap_or("1970-01-01T00:00:00Z"))
        .collect();
    tx.execute(
        "INSERT INTO evidence (repo, store_id, seq, op, actor, at, digest)
         SELECT $1, $2, u.seq, u.op, u.actor, u.at::timestamptz, u.digest
         FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
             AS u(seq, op, actor, at, digest)
         ON CONFLICT (repo, store_id, seq) DO NOTHING",
        &[
            &project.repo,
            &project.store_id,
            &seq,
            &op,
            &actor,
            &at,
            &digest,
        ],
    )
}

fn upsert_events(
    tx: &mut postgres::Transaction<'_>,
    repo: &str,
    chunk: &[(&str, i64, String)],
) -> Result<u64, postgres::Error> {
    let stream: Vec<&str> = chunk.iter().map(|(s, _, _)| *s).collect();
    let seq: Vec<i64> = chunk.iter().map(|(_, s, _)| *s).collect();
    let line: Vec<&str> = chunk.iter().map(|(_, _, l)| l.as_str()).collect();
    tx.execute(
        "INSERT INTO tombstone_event (repo, stream, seq, item_id, path, category, origin,
             deleted_at, line)
         SELECT $1, u.stream, u.seq, u.line::jsonb ->> 'id', u.line::jsonb ->> 'path',
             u.line::jsonb ->> 'category', u.line::jsonb ->> 'origin',
             (u.line::jsonb ->> 'deleted_at')::timestamptz, u.line::jsonb
         FROM unnest($2::text[], $3::bigint[], $4::text[]) AS u(stream, seq, line)
         ON CONFLICT (repo, stream, seq) DO NOTHING",
        &[&repo, &stream, &seq, &line],
    )
}

/// The connection settings for `address`, with what it leaves out filled in the way libpq
/// does, from `env` (a lookup of environment variables; the tests pass their own).
fn config_of(
    address: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<postgres::Config, CatalogError> {
    let invalid = |why: String| CatalogError::Address { why };
    let mut config = if address.trim().is_empty() {
        postgres::Config::new()
    } else {
        postgres::Config::from_str(address).map_err(|e| invalid(e.to_string()))?
    };
    if config.get_hosts().is_empty() {
        let host = env("PGHOST").unwrap_or_else(|| "/var/run/postgresql".into());
        for h in host.split(',') {
            if h.starts_with('/') {
                config.host_path(h);
            } else {
                config.host(h);
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT") {
            let port = port
                .parse()
                .map_err(|_| invalid(format!("PGPORT {port:?} is not a port number")))?;
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .ok_or_else(|| invalid("no user: name one in the address, or set PGUSER".into()))?;
        config.user(&user);
    }
    if config.get_dbname().is_none() {
        if let Some(db) = env("PGDATABASE") {
            config.dbname(&db);
        }
    }
    if config.get_password().is_none() {
        if let Some(p) = env("PGPASSWORD") {
            config.password(p);
        } else if let Some(p) = pgpass_password(&config, env) {
            config.password(p);
        }
    }
    Ok(config)
}

/// The catalog as messages name it: `postgresql://USER@HOST:PORT/DB`, without the password.
fn target_of(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgresql://{}@{host}:{port}/{}",
        config.get_user().unwrap_or_default(),
        config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or_default()
    )
}

/// The password `~/.pgpass` (or `PGPASSFILE`) gives the connection, as libpq reads it:
/// `host:port:database:user:password` lines, `*` matching anything, `\:` and `\\` escaped;
/// a Unix socket matches `localhost`; a file others can read is ignored.
fn pgpass_password(
    config: &postgres::Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let file = match env("PGPASSFILE") {
        Some(f) => PathBuf::from(f),
        None => Path::new(&env("HOME")?).join(".pgpass"),
    };
    let meta = std::fs::metadata(&file).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 || meta.len() > 1 << 20 {
        return None;
    }
    let text = std::fs::read_to_string(&file).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    let wanted = [host.as_str(), port.as_str(), db, user];
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(pgpass_fields)
        .find(|f| {
            f.iter()
                .zip(wanted)
                .all(|(field, want)| field == "*" || field == want)
        })
        .map(|f| f[4].clone())
}

/// The five fields of a `.pgpass` line (`\` escapes the next character).
fn pgpass_fields(line: &str) -> Option<[String; 5]> {
    let mut fields: Vec<String> = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut()?.push(chars.next()?),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    fields.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_address_takes_libpq_defaults_and_the_target_hides_the_password() {
        let c = config_of(
            "postgresql://ada:s3cret@db.example:6543/org",
            &env(&[("PGPASSWORD", "other")]),
        )
        .expect("valid");
        assert_eq!(c.get_password(), Some(&b"s3cret"[..]), "the URL's own wins");
        let t = target_of(&c);
        assert_eq!(t, "postgresql://ada@db.example:6543/org");
        assert!(!t.contains("s3cret"));
        let c = config_of(
            "",
            &env(&[
                ("PGHOST", "/run/pg"),
                ("PGPORT", "5999"),
                ("PGUSER", "bob"),
                ("PGDATABASE", "cat"),
                ("PGPASSWORD", "pw"),
            ]),
        )
        .expect("from the environment");
        assert_eq!(target_of(&c), "postgresql://bob@/run/pg:5999/cat");
        assert_eq!(c.get_password(), Some(&b"pw"[..]));
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        assert_eq!(
            pgpass_fields(r"db\:1:*:org:ada:pa\:ss"),
            Some([
                "db:1".to_string(),
                "*".into(),
                "org".into(),
                "ada".into(),
                "pa:ss".into()
            ])
        );
        assert_eq!(pgpass_fields("too:few"), None);
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "other:*:*:*:no\n*:5432:org:ada:yes\n").expect("write");
        let path = file.display().to_string();
        let lookup = move |k: &str| (k == "PGPASSFILE").then(|| path.clone());
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let c = postgres::Config::from_str("postgresql://ada@db.example/org").expect("url");
        assert_eq!(pgpass_password(&c, &lookup).as_deref(), Some("yes"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(
            pgpass_password(&c, &lookup),
            None,
            "readable by others: ignored"
        );
    }
}
