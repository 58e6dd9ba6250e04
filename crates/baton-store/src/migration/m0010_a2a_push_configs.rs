//! A2A push-notification configs in the database, so every replica sees them and they outlive
//! a restart (they were kept in the memory of the server that accepted them).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0010_a2a_push_configs"
    }
}

#[derive(DeriveIden)]
enum A2aPushConfigs {
    Table,
    TaskId,
    Id,
    ProjectId,
    Url,
    Token,
    AuthScheme,
    AuthCredentials,
    Created,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(A2aPushConfigs::Table)
                .col(text(A2aPushConfigs::TaskId))
                .col(text(A2aPushConfigs::Id))
                .col(text(A2aPushConfigs::ProjectId))
                .col(text(A2aPushConfigs::Url))
                .col(ColumnDef::new(A2aPushConfigs::Token).text().null())
                .col(ColumnDef::new(A2aPushConfigs::AuthScheme).text().null())
                .col(
                    ColumnDef::new(A2aPushConfigs::AuthCredentials)
                        .text()
                        .null(),
                )
                .col(text(A2aPushConfigs::Created))
                .primary_key(
                    Index::create()
                        .col(A2aPushConfigs::TaskId)
                        .col(A2aPushConfigs::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(A2aPushConfigs::Table).to_owned())
            .await
    }
}
