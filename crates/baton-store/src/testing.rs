//! Test helpers (feature `testing`): a fresh PostgreSQL database per test, and raw row dumps to
//! check what is really at rest.

mod throwaway;

use baton_core::store::StoreError;
use sea_orm::{ConnectionTrait, Database, DbErr, Statement};
use std::io::Write;
use std::sync::OnceLock;

/// Environment variable naming a PostgreSQL server tests may create databases on.
pub const POSTGRES_ENV: &str = "BATON_TEST_DATABASE_URL";

/// The PostgreSQL server tests create their databases on: `BATON_TEST_DATABASE_URL` when set,
/// else a throwaway server of this test process's own (started once, stopped at exit).
/// `None` only when no PostgreSQL server binaries are installed; then a notice is printed once,
/// past the test harness's output capture, so a run that skipped them says so.
///
/// Panics when the binaries exist but the server cannot start: that must fail, not skip.
#[allow(clippy::disallowed_methods, clippy::panic)] // test support, configured by the environment
pub fn postgres_admin_url() -> Option<String> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        if let Some(url) = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty()) {
            return Some(url);
        }
        let path = std::env::var("PATH").ok();
        match throwaway::start(path.as_deref()) {
            Ok(url) => Some(url),
            Err(throwaway::Unavailable::NoBinaries) => {
                // Written to the real stderr: `eprintln!` would be captured by libtest.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nPostgreSQL tests skipped: no server binaries; set {POSTGRES_ENV}\n"
                );
                None
            }
            Err(throwaway::Unavailable::Failed(why)) => {
                panic!("could not start a throwaway PostgreSQL for the tests: {why}")
            }
        }
    })
    .clone()
}

fn unavailable(e: DbErr) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Creates an empty database `baton_t_<ulid>` next to `admin_url`'s and returns its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> Result<String, StoreError> {
    let name = format!("baton_t_{}", ulid::Ulid::new().to_string().to_lowercase());
    let admin = Database::connect(admin_url).await.map_err(unavailable)?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(unavailable)?;
    admin.close().await.map_err(unavailable)?;
    Ok(with_database(admin_url, &name))
}

/// Drops a database made by [`fresh_postgres_database`].
pub async fn drop_postgres_database(admin_url: &str, url: &str) -> Result<(), StoreError> {
    let name = url
        .split('?')
        .next()
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or_default();
    if !name.starts_with("baton_t_") {
        return Err(StoreError::Conflict(format!("refusing to drop `{name}`")));
    }
    let admin = Database::connect(admin_url).await.map_err(unavailable)?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .map_err(unavailable)?;
    admin.close().await.map_err(unavailable)
}

/// Every `spec` text of a table (`agents`, `agent_versions`, `tools`), as stored.
pub async fn raw_specs(url: &str, table: &str) -> Result<Vec<String>, StoreError> {
    raw_rows(url, table).await
}

/// The JSON document column of every row of a table, as stored: `spec` for agents, versions
/// and tools, `data` for tasks, task events and task messages, the webhook and sealed secrets of
/// push configs.
pub async fn raw_rows(url: &str, table: &str) -> Result<Vec<String>, StoreError> {
    let column = match table {
        "agents" | "agent_versions" | "tools" => "spec",
        "tasks" | "task_events" | "task_messages" => "data",
        "a2a_push_configs" => {
            "url || ' ' || COALESCE(token, '') || ' ' || COALESCE(auth_credentials, '')"
        }
        other => {
            return Err(StoreError::Conflict(format!(
                "no document column in `{other}`"
            )))
        }
    };
    let db = Database::connect(url).await.map_err(unavailable)?;
    let backend = db.get_database_backend();
    let rows = db
        .query_all(Statement::from_string(
            backend,
            format!("SELECT {column} AS doc FROM {table}"),
        ))
        .await
        .map_err(unavailable)?;
    let specs = rows
        .iter()
        .map(|r| r.try_get::<String>("", "doc"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(unavailable)?;
    db.close().await.map_err(unavailable)?;
    Ok(specs)
}

/// Overwrites the `spec` of the tool with this id, as an older version would have written it.
pub async fn set_raw_tool_spec(url: &str, id: &str, spec: &str) -> Result<(), StoreError> {
    let db = Database::connect(url).await.map_err(unavailable)?;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE tools SET spec = $1 WHERE id = $2",
        _ => "UPDATE tools SET spec = ? WHERE id = ?",
    };
    db.execute(Statement::from_sql_and_values(
        backend,
        sql,
        [spec.into(), id.into()],
    ))
    .await
    .map_err(unavailable)?;
    db.close().await.map_err(unavailable)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://h/test?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
