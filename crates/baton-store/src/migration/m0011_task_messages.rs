//! A task's history as rows of its own (`task_messages`), appended to by each checkpoint, so a
//! step no longer rewrites the whole history inside the task row. Stored tasks move their
//! history out of `data` into rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0011_task_messages"
    }
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    MessageCount,
}

#[derive(DeriveIden)]
enum TaskMessages {
    Table,
    TaskId,
    Seq,
    Data,
}

/// The histories kept in `data` become rows, then leave `data`.
const BACKFILL_SQLITE: [&str; 2] = [
    "INSERT INTO task_messages (task_id, seq, data) \
     SELECT t.id, CAST(h.key AS INTEGER), h.value FROM tasks t, json_each(t.data, '$.history') h \
     WHERE json_type(t.data, '$.history') = 'array'",
    "UPDATE tasks SET message_count = json_array_length(data, '$.history'), \
     data = json_remove(data, '$.history') WHERE json_type(data, '$.history') = 'array'",
];

/// The same on PostgreSQL, whose `data` is text holding JSON.
const BACKFILL_POSTGRES: [&str; 2] = [
    "INSERT INTO task_messages (task_id, seq, data) \
     SELECT t.id, h.position - 1, h.message::text FROM tasks t \
     CROSS JOIN LATERAL jsonb_array_elements(t.data::jsonb -> 'history') \
     WITH ORDINALITY AS h(message, position) \
     WHERE jsonb_typeof(t.data::jsonb -> 'history') = 'array'",
    "UPDATE tasks SET message_count = jsonb_array_length(data::jsonb -> 'history'), \
     data = (data::jsonb - 'history')::text \
     WHERE jsonb_typeof(data::jsonb -> 'history') = 'array'",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TaskMessages::Table)
                .col(ColumnDef::new(TaskMessages::TaskId).text().not_null())
                .col(ColumnDef::new(TaskMessages::Seq).big_integer().not_null())
                .col(ColumnDef::new(TaskMessages::Data).text().not_null())
                .primary_key(
                    Index::create()
                        .col(TaskMessages::TaskId)
                        .col(TaskMessages::Seq),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Tasks::Table)
                .add_column(
                    ColumnDef::new(Tasks::MessageCount)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        let backfill = match m.get_database_backend() {
            DbBackend::Postgres => BACKFILL_POSTGRES,
            _ => BACKFILL_SQLITE,
        };
        for statement in backfill {
            m.get_connection().execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Tasks::Table)
                .drop_column(Tasks::MessageCount)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(TaskMessages::Table).to_owned())
            .await
    }
}

#[cfg(all(test, feature = "sqlite", feature = "postgres", feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::migration::Migrator;
    use crate::SqlStore;
    use baton_core::store::TaskStore;
    use baton_core::ProjectId;
    use sea_orm::{ConnectionTrait, Database};
    use sea_orm_migration::MigratorTrait;
    use serde_json::json;

    /// A task stored before this migration, its history inside `data`.
    fn legacy_row(id: &str, data: &serde_json::Value) -> String {
        format!(
            "INSERT INTO tasks (id, project_id, agent_id, agent_key, agent_version, state, \
             thread_id, background, revision, lease_owner, lease_expires_at, cancel_requested, \
             created, updated, data) VALUES ('{id}', 'p', 'a', 'k', 1, 'completed', NULL, false, \
             3, NULL, NULL, false, 'c', 'u', '{}')",
            data.to_string().replace('\'', "''")
        )
    }

    /// Stored tasks keep their histories, now as rows, and continue from there.
    async fn histories_move_to_rows(url: &str) {
        let history = json!([
            {"messageId": "m1", "role": "user", "parts": [{"kind": "text", "text": "héllo 'you'"}]},
            {"messageId": "m2", "role": "agent", "parts": [{"kind": "text", "text": "hi"},
                {"kind": "data", "data": {"nested": [1, 2.5, null]}}]}
        ]);
        let db = Database::connect(url).await.unwrap();
        Migrator::up(&db, Some(9)).await.unwrap();
        db.execute_unprepared(&legacy_row(
            "old",
            &json!({"context_id": "x", "history": history, "turn_start": 0}),
        ))
        .await
        .unwrap();
        db.execute_unprepared(&legacy_row("empty", &json!({"history": []})))
            .await
            .unwrap();
        db.close().await.unwrap();

        let store = SqlStore::connect(url).await.unwrap();
        let p = ProjectId("p".into());
        let mut old = store.task(&p, "old").await.unwrap().unwrap();
        assert_eq!(old.history_stored, 2);
        assert_eq!(serde_json::to_value(&old.history).unwrap(), history);
        assert_eq!(old.data, json!({"context_id": "x", "turn_start": 0}));
        let empty = store.task(&p, "empty").await.unwrap().unwrap();
        assert_eq!((empty.history_stored, empty.history.len()), (0, 0));
        assert_eq!(empty.data, json!({}));

        // The next turn appends to the migrated rows.
        let more: baton_core::message::Message = serde_json::from_value(
            json!({"messageId": "m3", "role": "user", "parts": [{"kind": "text", "text": "again"}]}),
        )
        .unwrap();
        old.history.push(more.clone().into());
        old.revision = 4;
        store.save_task(&old, 3).await.unwrap();
        let fresh = SqlStore::connect(url).await.unwrap();
        let read = fresh.task(&p, "old").await.unwrap().unwrap();
        assert_eq!(read.history.len(), 3);
        assert_eq!(*read.history[2], more);
        assert_eq!(read.history[..2], old.history[..2]);
    }

    #[tokio::test]
    async fn sqlite_tasks_keep_their_histories_as_rows() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        histories_move_to_rows(&url).await;
    }

    #[tokio::test]
    async fn postgres_tasks_keep_their_histories_as_rows() {
        let Some(admin) = crate::testing::postgres_admin_url() else {
            return; // no PostgreSQL server binaries: a notice says so
        };
        let url = crate::testing::fresh_postgres_database(&admin)
            .await
            .unwrap();
        histories_move_to_rows(&url).await;
        crate::testing::drop_postgres_database(&admin, &url)
            .await
            .unwrap();
    }
}
