//! Schedules with their firing state, and the firings they made.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_schedules"
    }
}

#[derive(DeriveIden)]
enum Schedules {
    Table,
    Id,
    ProjectId,
    AgentId,
    AgentKey,
    Spec,
    IsActive,
    Generation,
    TriggerCount,
    LastTriggeredAt,
    NextFireAt,
    AnchorMs,
    CreatedById,
    UpdatedById,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum ScheduleFirings {
    Table,
    ScheduleId,
    Generation,
    DueMs,
    Manual,
    FiredMs,
    TaskId,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Schedules::Table)
                .col(text(Schedules::Id).primary_key())
                .col(text(Schedules::ProjectId))
                .col(text(Schedules::AgentId))
                .col(text(Schedules::AgentKey))
                .col(text(Schedules::Spec))
                .col(ColumnDef::new(Schedules::IsActive).boolean().not_null())
                .col(ColumnDef::new(Schedules::Generation).integer().not_null())
                .col(
                    ColumnDef::new(Schedules::TriggerCount)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Schedules::LastTriggeredAt).text().null())
                // Unix ms; i64::MAX when inactive, so the due query is one range scan.
                .col(
                    ColumnDef::new(Schedules::NextFireAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Schedules::AnchorMs).big_integer().not_null())
                .col(text(Schedules::CreatedById))
                .col(ColumnDef::new(Schedules::UpdatedById).text().null())
                .col(text(Schedules::Created))
                .col(text(Schedules::Updated))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("schedules_due")
                .table(Schedules::Table)
                .col(Schedules::NextFireAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("schedules_agent")
                .table(Schedules::Table)
                .col(Schedules::ProjectId)
                .col(Schedules::AgentId)
                .to_owned(),
        )
        .await?;
        // The key makes a firing unique: a second server firing the same due time fails here.
        m.create_table(
            Table::create()
                .table(ScheduleFirings::Table)
                .col(text(ScheduleFirings::ScheduleId))
                .col(
                    ColumnDef::new(ScheduleFirings::Generation)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ScheduleFirings::DueMs)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(ScheduleFirings::Manual).boolean().not_null())
                .col(
                    ColumnDef::new(ScheduleFirings::FiredMs)
                        .big_integer()
                        .not_null(),
                )
                .col(text(ScheduleFirings::TaskId))
                .primary_key(
                    Index::create()
                        .col(ScheduleFirings::ScheduleId)
                        .col(ScheduleFirings::Generation)
                        .col(ScheduleFirings::DueMs)
                        .col(ScheduleFirings::Manual),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ScheduleFirings::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Schedules::Table).to_owned())
            .await
    }
}
