//! Tasks (with leases and checkpoints) and their persisted events.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_tasks"
    }
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    ProjectId,
    AgentId,
    AgentKey,
    AgentVersion,
    State,
    ThreadId,
    Background,
    Revision,
    LeaseOwner,
    LeaseExpiresAt,
    CancelRequested,
    Created,
    Updated,
    Data,
}

#[derive(DeriveIden)]
enum TaskEvents {
    Table,
    TaskId,
    Seq,
    Data,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tasks::Table)
                .col(text(Tasks::Id).primary_key())
                .col(text(Tasks::ProjectId))
                .col(text(Tasks::AgentId))
                .col(text(Tasks::AgentKey))
                .col(ColumnDef::new(Tasks::AgentVersion).integer().not_null())
                .col(text(Tasks::State))
                .col(ColumnDef::new(Tasks::ThreadId).text().null())
                .col(ColumnDef::new(Tasks::Background).boolean().not_null())
                .col(ColumnDef::new(Tasks::Revision).big_integer().not_null())
                .col(ColumnDef::new(Tasks::LeaseOwner).text().null())
                .col(ColumnDef::new(Tasks::LeaseExpiresAt).big_integer().null())
                .col(ColumnDef::new(Tasks::CancelRequested).boolean().not_null())
                .col(text(Tasks::Created))
                .col(text(Tasks::Updated))
                .col(text(Tasks::Data))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("tasks_project_thread")
                .table(Tasks::Table)
                .col(Tasks::ProjectId)
                .col(Tasks::ThreadId)
                .to_owned(),
        )
        .await?;
        // Serves the workers' claim query: runnable tasks by lease expiry.
        m.create_index(
            Index::create()
                .name("tasks_claim")
                .table(Tasks::Table)
                .col(Tasks::State)
                .col(Tasks::Background)
                .col(Tasks::LeaseExpiresAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TaskEvents::Table)
                .col(text(TaskEvents::TaskId))
                .col(ColumnDef::new(TaskEvents::Seq).big_integer().not_null())
                .col(text(TaskEvents::Data))
                .primary_key(Index::create().col(TaskEvents::TaskId).col(TaskEvents::Seq))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TaskEvents::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Tasks::Table).to_owned())
            .await
    }
}
