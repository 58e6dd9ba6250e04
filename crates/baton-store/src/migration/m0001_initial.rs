//! Agents, their versions, tools and API keys.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    ProjectId,
    Key,
    Status,
    Version,
    Created,
    Updated,
    Spec,
}

#[derive(DeriveIden)]
enum AgentVersions {
    Table,
    AgentId,
    Version,
    ProjectId,
    Created,
    Description,
    Spec,
}

#[derive(DeriveIden)]
enum Tools {
    Table,
    Id,
    ProjectId,
    Key,
    Created,
    Updated,
    Spec,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    ProjectId,
    Name,
    Hash,
    Prefix,
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
                .table(Agents::Table)
                .col(text(Agents::Id).primary_key())
                .col(text(Agents::ProjectId))
                .col(text(Agents::Key))
                .col(text(Agents::Status))
                .col(ColumnDef::new(Agents::Version).integer().not_null())
                .col(text(Agents::Created))
                .col(text(Agents::Updated))
                .col(text(Agents::Spec))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("agents_project_key")
                .table(Agents::Table)
                .col(Agents::ProjectId)
                .col(Agents::Key)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AgentVersions::Table)
                .col(text(AgentVersions::AgentId))
                .col(ColumnDef::new(AgentVersions::Version).integer().not_null())
                .col(text(AgentVersions::ProjectId))
                .col(text(AgentVersions::Created))
                .col(ColumnDef::new(AgentVersions::Description).text().null())
                .col(text(AgentVersions::Spec))
                .primary_key(
                    Index::create()
                        .col(AgentVersions::AgentId)
                        .col(AgentVersions::Version),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Tools::Table)
                .col(text(Tools::Id).primary_key())
                .col(text(Tools::ProjectId))
                .col(text(Tools::Key))
                .col(text(Tools::Created))
                .col(text(Tools::Updated))
                .col(text(Tools::Spec))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("tools_project_key")
                .table(Tools::Table)
                .col(Tools::ProjectId)
                .col(Tools::Key)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(text(ApiKeys::Id).primary_key())
                .col(text(ApiKeys::ProjectId))
                .col(text(ApiKeys::Name))
                .col(text(ApiKeys::Hash).unique_key())
                .col(text(ApiKeys::Prefix))
                .col(text(ApiKeys::Created))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Agents::Table.into_iden(),
            AgentVersions::Table.into_iden(),
            Tools::Table.into_iden(),
            ApiKeys::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
