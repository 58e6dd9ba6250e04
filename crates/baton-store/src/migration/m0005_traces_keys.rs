//! Spans of run traces, and the admin flag of API keys.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_traces_keys"
    }
}

#[derive(DeriveIden)]
enum Spans {
    Table,
    TraceId,
    SpanId,
    ParentSpanId,
    ProjectId,
    TaskId,
    AgentKey,
    Kind,
    Name,
    Status,
    StartedMs,
    EndedMs,
    PromptTokens,
    CompletionTokens,
    Cost,
    Attributes,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Admin,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Spans::Table)
                .col(text(Spans::TraceId))
                .col(text(Spans::SpanId))
                .col(ColumnDef::new(Spans::ParentSpanId).text().null())
                .col(text(Spans::ProjectId))
                .col(text(Spans::TaskId))
                .col(text(Spans::AgentKey))
                .col(text(Spans::Kind))
                .col(text(Spans::Name))
                .col(text(Spans::Status))
                .col(ColumnDef::new(Spans::StartedMs).big_integer().not_null())
                .col(ColumnDef::new(Spans::EndedMs).big_integer().not_null())
                .col(ColumnDef::new(Spans::PromptTokens).big_integer().not_null())
                .col(
                    ColumnDef::new(Spans::CompletionTokens)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Spans::Cost).double().not_null())
                .col(text(Spans::Attributes))
                .primary_key(Index::create().col(Spans::TraceId).col(Spans::SpanId))
                .to_owned(),
        )
        .await?;
        // Search and usage read spans of a project by kind and time.
        m.create_index(
            Index::create()
                .name("spans_project_kind_started")
                .table(Spans::Table)
                .col(Spans::ProjectId)
                .col(Spans::Kind)
                .col(Spans::StartedMs)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .add_column(
                    ColumnDef::new(ApiKeys::Admin)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await?;
        // Keys stored before keys had roles were the servers' bootstrap (admin) keys.
        m.get_connection()
            .execute_unprepared("UPDATE api_keys SET admin = TRUE")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Spans::Table).to_owned())
            .await
    }
}
