//! The scope of API keys: `admin`, `project` or `run`.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_key_scopes"
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Scope,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .add_column(
                    ColumnDef::new(ApiKeys::Scope)
                        .text()
                        .not_null()
                        .default("project"),
                )
                .to_owned(),
        )
        .await?;
        // Keys made before scopes were admin keys or project keys.
        m.get_connection()
            .execute_unprepared("UPDATE api_keys SET scope = 'admin' WHERE admin = TRUE")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .drop_column(ApiKeys::Scope)
                .to_owned(),
        )
        .await
    }
}
