//! Threads as records (Orchestra's `POST /api/threads` stores a title and an assistant), and
//! the published mark of agents (`POST /v2/agents/{key}/versions/{n}/publish`, read by
//! Ensemble's `version: published`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0009_threads"
    }
}

#[derive(DeriveIden)]
enum Threads {
    Table,
    Id,
    ProjectId,
    Title,
    AssistantId,
    Owner,
    Metadata,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    PublishedVersion,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Threads::Table)
                .col(text(Threads::Id).primary_key())
                .col(text(Threads::ProjectId))
                .col(ColumnDef::new(Threads::Title).text().null())
                .col(ColumnDef::new(Threads::AssistantId).text().null())
                .col(ColumnDef::new(Threads::Owner).text().null())
                .col(text(Threads::Metadata))
                .col(text(Threads::Created))
                .col(text(Threads::Updated))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("threads_project")
                .table(Threads::Table)
                .col(Threads::ProjectId)
                .col(Threads::Id)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .add_column(ColumnDef::new(Agents::PublishedVersion).integer().null())
                .to_owned(),
        )
        .await?;
        // Before the mark, `published` meant the live version of an agent whose status is
        // `published`: such agents keep answering with that version.
        m.get_connection()
            .execute_unprepared(
                "UPDATE agents SET published_version = version WHERE status = 'published'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .drop_column(Agents::PublishedVersion)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Threads::Table).to_owned())
            .await
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use crate::entity::agent;
    use crate::migration::Migrator;
    use sea_orm::{ConnectionTrait, Database, EntityTrait};
    use sea_orm_migration::MigratorTrait;

    #[tokio::test]
    async fn agents_already_published_keep_their_live_version_published() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&db, Some(8)).await.unwrap();
        for (id, status) in [("pub", "published"), ("live", "live")] {
            db.execute_unprepared(&format!(
                "INSERT INTO agents (id, project_id, key, status, version, created, updated, spec) \
                 VALUES ('{id}', 'default', '{id}', '{status}', 3, 'c', 'u', '{{}}')"
            ))
            .await
            .unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        let mark = |id: &'static str| {
            let db = db.clone();
            async move {
                agent::Entity::find_by_id(id)
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap()
                    .published_version
            }
        };
        assert_eq!(mark("pub").await, Some(3));
        assert_eq!(mark("live").await, None);
    }
}
