//! `baton-core`'s store traits on SQLite and PostgreSQL through sea-orm.

use crate::entity::{agent, agent_version, api_key, tool};
use crate::migration::Migrator;
use crate::signals::EventSignals;
use crate::sql_events::{fallback_look, Listener};
use async_trait::async_trait;
use baton_core::agent::{AgentRecord, AgentStatus, AgentVersion};
use baton_core::store::{
    AgentStore, ApiKeyRecord, ApiKeyStore, KeyScope, Page, PageRequest, StoreError, ToolStore,
};
use baton_core::tool::{ToolRecord, ToolSpec};
use baton_core::ProjectId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DbBackend, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, SqlErr, TransactionTrait,
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
        if let Some(path) = sqlite_file(url) {
            owner_only(path)?;
        }
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        if url.starts_with("sqlite:") {
            // One writer at a time is SQLite's rule; a small pool avoids lock storms.
            opts.max_connections(4).min_connections(1);
        } else {
            opts.max_connections(16);
        }
        let db = Database::connect(opts).await.map_err(unavailable)?;
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
        Ok(Self {
            db,
            signals,
            listener: Arc::default(),
        })
    }

    /// The underlying connection, for operations and tests.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

fn agent_record(m: agent::Model) -> Result<AgentRecord, StoreError> {
    let status: AgentStatus = serde_json::from_value(serde_json::Value::String(m.status))
        .map_err(|e| corrupt("agent status", e))?;
    Ok(AgentRecord {
        spec: serde_json::from_str(&m.spec).map_err(|e| corrupt("agent spec", e))?,
        id: m.id,
        project_id: ProjectId(m.project_id),
        status,
        version: u32::try_from(m.version)
            .map_err(|_| StoreError::Corrupt("agent version".into()))?,
        created: m.created,
        updated: m.updated,
    })
}

fn agent_model(a: &AgentRecord) -> Result<agent::Model, StoreError> {
    let status = serde_json::to_value(a.status).map_err(|e| corrupt("status", e))?;
    Ok(agent::Model {
        id: a.id.clone(),
        project_id: a.project_id.0.clone(),
        key: a.spec.key.clone(),
        status: status.as_str().unwrap_or("live").to_owned(),
        version: a.version as i32,
        created: a.created.clone(),
        updated: a.updated.clone(),
        spec: to_json(&a.spec)?,
    })
}

fn version_record(m: agent_version::Model) -> Result<AgentVersion, StoreError> {
    Ok(AgentVersion {
        spec: serde_json::from_str(&m.spec).map_err(|e| corrupt("agent version spec", e))?,
        agent_id: m.agent_id,
        version: u32::try_from(m.version).map_err(|_| StoreError::Corrupt("version".into()))?,
        created: m.created,
        description: m.description,
    })
}

fn version_model(
    project: &ProjectId,
    v: &AgentVersion,
) -> Result<agent_version::Model, StoreError> {
    Ok(agent_version::Model {
        agent_id: v.agent_id.clone(),
        version: v.version as i32,
        project_id: project.0.clone(),
        created: v.created.clone(),
        description: v.description.clone(),
        spec: to_json(&v.spec)?,
    })
}

fn tool_record(m: tool::Model) -> Result<ToolRecord, StoreError> {
    let mut spec: ToolSpec = serde_json::from_str(&m.spec).map_err(|e| corrupt("tool spec", e))?;
    // Rows written before secrets were typed hold bare ciphertext.
    spec.adopt_legacy_secrets();
    Ok(ToolRecord {
        spec,
        id: m.id,
        project_id: ProjectId(m.project_id),
        created: m.created,
        updated: m.updated,
    })
}

fn tool_model(t: &ToolRecord) -> Result<tool::Model, StoreError> {
    if t.spec.has_unsealed_secrets() {
        return Err(StoreError::Corrupt(
            "a tool's secret header was not sealed before storing".into(),
        ));
    }
    Ok(tool::Model {
        id: t.id.clone(),
        project_id: t.project_id.0.clone(),
        key: t.spec.key.clone(),
        created: t.created.clone(),
        updated: t.updated.clone(),
        spec: to_json(&t.spec)?,
    })
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

#[async_trait]
impl AgentStore for SqlStore {
    async fn create_agent(&self, a: &AgentRecord, first: &AgentVersion) -> Result<(), StoreError> {
        let row = agent_model(a)?.into_active_model();
        let version = version_model(&a.project_id, first)?.into_active_model();
        let txn = self.db.begin().await.map_err(unavailable)?;
        agent::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    &format!("an agent with key `{}` already exists", a.spec.key),
                )
            })?;
        agent_version::Entity::insert(version)
            .exec_without_returning(&txn)
            .await
            .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)
    }

    async fn agent_by_key(
        &self,
        project: &ProjectId,
        key: &str,
    ) -> Result<Option<AgentRecord>, StoreError> {
        agent::Entity::find()
            .filter(agent::Column::ProjectId.eq(project.as_str()))
            .filter(agent::Column::Key.eq(key))
            .one(&self.db)
            .await
            .map_err(unavailable)?
            .map(agent_record)
            .transpose()
    }

    async fn agent_version(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<Option<AgentVersion>, StoreError> {
        agent_version::Entity::find()
            .filter(agent_version::Column::ProjectId.eq(project.as_str()))
            .filter(agent_version::Column::AgentId.eq(agent_id))
            .filter(agent_version::Column::Version.eq(version as i32))
            .one(&self.db)
            .await
            .map_err(unavailable)?
            .map(version_record)
            .transpose()
    }

    async fn agent_versions(
        &self,
        project: &ProjectId,
        agent_id: &str,
    ) -> Result<Vec<AgentVersion>, StoreError> {
        agent_version::Entity::find()
            .filter(agent_version::Column::ProjectId.eq(project.as_str()))
            .filter(agent_version::Column::AgentId.eq(agent_id))
            .order_by_desc(agent_version::Column::Version)
            .all(&self.db)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(version_record)
            .collect()
    }

    async fn list_agents(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<AgentRecord>, StoreError> {
        let select = agent::Entity::find().filter(agent::Column::ProjectId.eq(project.as_str()));
        let rows = paged(&self.db, select, agent::Column::Id, page).await?;
        Ok(Page {
            items: rows
                .items
                .into_iter()
                .map(agent_record)
                .collect::<Result<_, _>>()?,
            has_more: rows.has_more,
        })
    }

    async fn update_agent(
        &self,
        a: &AgentRecord,
        expected_version: u32,
        new_version: Option<&AgentVersion>,
    ) -> Result<(), StoreError> {
        let row = agent_model(a)?;
        let txn = self.db.begin().await.map_err(unavailable)?;
        let conflict = format!("an agent with key `{}` already exists", a.spec.key);
        let result = agent::Entity::update_many()
            .col_expr(agent::Column::Key, Expr::value(row.key))
            .col_expr(agent::Column::Status, Expr::value(row.status))
            .col_expr(agent::Column::Version, Expr::value(row.version))
            .col_expr(agent::Column::Updated, Expr::value(row.updated))
            .col_expr(agent::Column::Spec, Expr::value(row.spec))
            .filter(agent::Column::Id.eq(a.id.as_str()))
            .filter(agent::Column::ProjectId.eq(a.project_id.as_str()))
            .filter(agent::Column::Version.eq(expected_version as i32))
            .exec(&txn)
            .await
            .map_err(|e| write_error(e, &conflict))?;
        if result.rows_affected == 0 {
            let exists = agent::Entity::find()
                .filter(agent::Column::Id.eq(a.id.as_str()))
                .filter(agent::Column::ProjectId.eq(a.project_id.as_str()))
                .count(&txn)
                .await
                .map_err(unavailable)?;
            return Err(if exists == 0 {
                StoreError::NotFound
            } else {
                StoreError::Conflict("the agent was changed concurrently; retry".into())
            });
        }
        if let Some(v) = new_version {
            agent_version::Entity::insert(version_model(&a.project_id, v)?.into_active_model())
                .exec_without_returning(&txn)
                .await
                .map_err(|e| write_error(e, "that version already exists"))?;
        }
        txn.commit().await.map_err(unavailable)
    }

    async fn delete_agent(&self, project: &ProjectId, agent_id: &str) -> Result<(), StoreError> {
        let txn = self.db.begin().await.map_err(unavailable)?;
        let deleted = agent::Entity::delete_many()
            .filter(agent::Column::Id.eq(agent_id))
            .filter(agent::Column::ProjectId.eq(project.as_str()))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        agent_version::Entity::delete_many()
            .filter(agent_version::Column::AgentId.eq(agent_id))
            .filter(agent_version::Column::ProjectId.eq(project.as_str()))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)
    }
}

#[async_trait]
impl ToolStore for SqlStore {
    async fn create_tool(&self, t: &ToolRecord) -> Result<(), StoreError> {
        tool::Entity::insert(tool_model(t)?.into_active_model())
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    &format!("a tool with key `{}` already exists", t.spec.key),
                )
            })?;
        Ok(())
    }

    async fn tool(
        &self,
        project: &ProjectId,
        id_or_key: &str,
    ) -> Result<Option<ToolRecord>, StoreError> {
        tool::Entity::find()
            .filter(tool::Column::ProjectId.eq(project.as_str()))
            .filter(
                tool::Column::Id
                    .eq(id_or_key)
                    .or(tool::Column::Key.eq(id_or_key)),
            )
            .one(&self.db)
            .await
            .map_err(unavailable)?
            .map(tool_record)
            .transpose()
    }

    async fn list_tools(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ToolRecord>, StoreError> {
        let select = tool::Entity::find().filter(tool::Column::ProjectId.eq(project.as_str()));
        let rows = paged(&self.db, select, tool::Column::Id, page).await?;
        Ok(Page {
            items: rows
                .items
                .into_iter()
                .map(tool_record)
                .collect::<Result<_, _>>()?,
            has_more: rows.has_more,
        })
    }

    async fn update_tool(&self, t: &ToolRecord) -> Result<(), StoreError> {
        let row = tool_model(t)?;
        let result = tool::Entity::update_many()
            .col_expr(tool::Column::Key, Expr::value(row.key))
            .col_expr(tool::Column::Updated, Expr::value(row.updated))
            .col_expr(tool::Column::Spec, Expr::value(row.spec))
            .filter(tool::Column::Id.eq(t.id.as_str()))
            .filter(tool::Column::ProjectId.eq(t.project_id.as_str()))
            .exec(&self.db)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    &format!("a tool with key `{}` already exists", t.spec.key),
                )
            })?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_tool(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let deleted = tool::Entity::delete_many()
            .filter(tool::Column::Id.eq(id))
            .filter(tool::Column::ProjectId.eq(project.as_str()))
            .exec(&self.db)
            .await
            .map_err(unavailable)?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

fn key_record(m: api_key::Model) -> ApiKeyRecord {
    ApiKeyRecord {
        id: m.id,
        project_id: ProjectId(m.project_id),
        name: m.name,
        hash: m.hash,
        prefix: m.prefix,
        created: m.created,
        // An unknown scope (written by a newer version) grants the least.
        scope: KeyScope::parse(&m.scope).unwrap_or(KeyScope::Run),
    }
}

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn create_api_key(&self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        let row = api_key::ActiveModel::from(api_key::Model {
            id: k.id.clone(),
            project_id: k.project_id.0.clone(),
            name: k.name.clone(),
            hash: k.hash.clone(),
            prefix: k.prefix.clone(),
            created: k.created.clone(),
            admin: k.scope == KeyScope::Admin,
            scope: k.scope.as_str().to_owned(),
        });
        row.insert(&self.db)
            .await
            .map_err(|e| write_error(e, "duplicate api key"))?;
        Ok(())
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::Hash.eq(hash))
            .one(&self.db)
            .await
            .map_err(unavailable)?
            .map(key_record))
    }

    async fn list_api_keys(
        &self,
        project: Option<&ProjectId>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut q = api_key::Entity::find();
        if let Some(p) = project {
            q = q.filter(api_key::Column::ProjectId.eq(p.as_str()));
        }
        Ok(q.order_by_desc(api_key::Column::Id)
            .all(&self.db)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(key_record)
            .collect())
    }

    async fn delete_api_key(&self, id: &str) -> Result<(), StoreError> {
        let deleted = api_key::Entity::delete_many()
            .filter(api_key::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(unavailable)?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn count_api_keys(&self) -> Result<u64, StoreError> {
        api_key::Entity::find()
            .count(&self.db)
            .await
            .map_err(unavailable)
    }
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
