//! `baton-core`'s store traits on SQLite and PostgreSQL through sea-orm.

use crate::migration::Migrator;
use crate::signals::EventSignals;
use crate::sql_events::{fallback_look, Listener};
use baton_core::store::{Page, PageRequest, StoreError};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, SqlErr,
};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use std::time::Duration;

/// A store on a SQL database (SQLite or PostgreSQL), migrated on connect.
#[derive(Clone)]
pub struct SqlStore {
    db: DatabaseConnection,
    pub(crate) signals: EventSignals,
    pub(crate) listener: Arc<Listener>,
    /// On a SQLite file and on PostgreSQL, the writer that group-commits task writes.
    pub(crate) writer: Option<Arc<crate::task_writes::TaskWriter>>,
    /// Decoded histories of recently read tasks.
    pub(crate) histories: Arc<crate::sql_history::HistoryCache>,
}

pub(crate) fn unavailable(e: DbErr) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// Classifies a write error: unique violations are conflicts, the rest is unavailability.
pub(crate) fn write_error(e: DbErr, what: &str) -> StoreError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(what.to_owned()),
        _ => unavailable(e),
    }
}

pub(crate) fn corrupt(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("encode", e))
}

/// The file of a `sqlite:` URL, if it names one (not `:memory:`).
fn sqlite_file(url: &str) -> Option<&std::path::Path> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| std::path::Path::new(path))
}

/// Creates the SQLite file readable by its owner only (as the secret key is), or takes group
/// and other permissions away from an existing one. SQLite gives its WAL and shared-memory
/// files the same permissions as the database.
fn owner_only(path: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        // A missing directory and the like: SQLite reports it better.
        Err(_) => return Ok(()),
    }
    let beside = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    for file in [path.to_owned(), beside("-wal"), beside("-shm")] {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))
                .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
            tracing::info!(file = %file.display(), "database file made readable by its owner only");
        }
    }
    Ok(())
}

impl SqlStore {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let file = sqlite_file(url);
        if let Some(path) = file {
            owner_only(path)?;
        }
        let db = if url.starts_with("sqlite:") {
            let mut opts = ConnectOptions::new(url.to_owned());
            opts.sqlx_logging(false)
                .connect_timeout(Duration::from_secs(10))
                .acquire_timeout(Duration::from_secs(30))
                // One writer at a time is SQLite's rule; a small pool avoids lock storms.
                .max_connections(4)
                .min_connections(1)
                // A connection to a local file does not drop: no ping before each use.
                .test_before_acquire(false);
            Database::connect(opts).await.map_err(unavailable)?
        } else {
            postgres_pool(url).await?
        };
        if db.get_database_backend() == DbBackend::Sqlite {
            // WAL lets readers run beside the writer; the busy timeout makes writers wait, not fail.
            for pragma in [
                "PRAGMA journal_mode=WAL",
                "PRAGMA busy_timeout=5000",
                "PRAGMA synchronous=NORMAL",
            ] {
                db.execute_unprepared(pragma).await.map_err(unavailable)?;
            }
        }
        Migrator::up(&db, None).await.map_err(unavailable)?;
        let signals = EventSignals::new(fallback_look(db.get_database_backend()));
        let writer = match (db.get_database_backend(), file) {
            #[cfg(feature = "sqlite")]
            (DbBackend::Sqlite, Some(path)) => Some(crate::task_writes::TaskWriter::Sqlite(
                crate::sqlite_writer::SqliteWriter::open(path)?,
            )),
            #[cfg(feature = "postgres")]
            (DbBackend::Postgres, _) => Some(crate::task_writes::TaskWriter::Postgres(
                crate::postgres_writer::PostgresWriter::start(db.get_postgres_connection_pool()),
            )),
            _ => None,
        }
        .map(Arc::new);
        Ok(Self {
            db,
            signals,
            listener: Arc::default(),
            writer,
            histories: Arc::default(),
        })
    }

    /// The underlying connection, for operations and tests.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// Connections idle longer than this are pinged before use; busier ones are not.
#[cfg(feature = "postgres")]
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A pool on PostgreSQL that pings a connection before use only after it sat idle a while
/// (a database restart or a dropped connection shows there), not on every acquire: under
/// load that ping was a round trip per query. A connection that breaks while in use fails
/// its query (the caller sees `Unavailable`) and is closed when returned, as before.
#[cfg(feature = "postgres")]
async fn postgres_pool(url: &str) -> Result<DatabaseConnection, StoreError> {
    use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options.disable_statement_logging())
        .await
        .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
    Ok(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(
        pool,
    ))
}

#[cfg(not(feature = "postgres"))]
async fn postgres_pool(url: &str) -> Result<DatabaseConnection, StoreError> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false);
    Database::connect(opts).await.map_err(unavailable)
}

/// Runs a cursor-paged query: newest first by id, `limit + 1` rows to learn `has_more`.
pub(crate) async fn paged<E, C>(
    db: &DatabaseConnection,
    select: Select<E>,
    id_col: C,
    req: &PageRequest,
) -> Result<Page<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let fetch = req.limit.map(|l| l + 1);
    let (mut rows, reversed) = if let Some(before) = &req.ending_before {
        let mut q = select
            .filter(id_col.gt(before.as_str()))
            .order_by_asc(id_col);
        if let Some(n) = fetch {
            q = q.limit(n);
        }
        (q.all(db).await.map_err(unavailable)?, true)
    } else {
        let mut q = select;
        if let Some(after) = &req.starting_after {
            q = q.filter(id_col.lt(after.as_str()));
        }
        let mut q = q.order_by_desc(id_col);
        if let Some(n) = fetch {
            q = q.limit(n);
        }
        (q.all(db).await.map_err(unavailable)?, false)
    };
    let has_more = req.limit.is_some_and(|l| rows.len() as u64 > l);
    if let Some(l) = req.limit {
        rows.truncate(l as usize);
    }
    if reversed {
        rows.reverse();
    }
    Ok(Page {
        items: rows,
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        let file = |url| sqlite_file(url).map(|p| p.to_string_lossy().into_owned());
        assert_eq!(
            file("sqlite://./baton.db?mode=rwc").as_deref(),
            Some("./baton.db")
        );
        assert_eq!(
            file("sqlite:/var/lib/b.db").as_deref(),
            Some("/var/lib/b.db")
        );
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("postgres://db/baton"), None);
    }

    #[tokio::test]
    async fn the_sqlite_file_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.db");
        SqlStore::connect(&format!("sqlite://{}?mode=rwc", fresh.display()))
            .await
            .unwrap();
        assert_eq!(mode(&fresh), 0o600);
        // A file an older version left world-readable is tightened on the next start.
        let old = dir.path().join("old.db");
        std::fs::write(&old, b"").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        SqlStore::connect(&format!("sqlite://{}?mode=rwc", old.display()))
            .await
            .unwrap();
        assert_eq!(mode(&old), 0o600);
        for suffix in ["-wal", "-shm"] {
            let side = dir.path().join(format!("old.db{suffix}"));
            if side.exists() {
                assert_eq!(mode(&side), 0o600, "{suffix}");
            }
        }
    }
}
