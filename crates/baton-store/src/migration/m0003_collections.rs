//! Memory stores and knowledge bases (`collections`) and their entries (memories, documents,
//! datasources, chunks).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_collections"
    }
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
    ProjectId,
    Kind,
    Key,
    Spec,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum Entries {
    Table,
    Id,
    ProjectId,
    CollectionId,
    Kind,
    ParentId,
    EntityId,
    Text,
    Metadata,
    Embedding,
    Enabled,
    Extra,
    Created,
    Updated,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Collections::Table)
                .col(text(Collections::Id).primary_key())
                .col(text(Collections::ProjectId))
                .col(text(Collections::Kind))
                .col(text(Collections::Key))
                .col(text(Collections::Spec))
                .col(text(Collections::Created))
                .col(text(Collections::Updated))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("collections_project_kind_key")
                .table(Collections::Table)
                .col(Collections::ProjectId)
                .col(Collections::Kind)
                .col(Collections::Key)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Entries::Table)
                .col(text(Entries::Id).primary_key())
                .col(text(Entries::ProjectId))
                .col(text(Entries::CollectionId))
                .col(text(Entries::Kind))
                .col(ColumnDef::new(Entries::ParentId).text().null())
                .col(ColumnDef::new(Entries::EntityId).text().null())
                .col(text(Entries::Text))
                .col(text(Entries::Metadata))
                .col(ColumnDef::new(Entries::Embedding).text().null())
                .col(ColumnDef::new(Entries::Enabled).boolean().not_null())
                .col(text(Entries::Extra))
                .col(text(Entries::Created))
                .col(text(Entries::Updated))
                .to_owned(),
        )
        .await?;
        // Listing a collection's entries of one kind, under one parent.
        m.create_index(
            Index::create()
                .name("entries_collection_kind_parent")
                .table(Entries::Table)
                .col(Entries::CollectionId)
                .col(Entries::Kind)
                .col(Entries::ParentId)
                .to_owned(),
        )
        .await?;
        // One entity's memory and documents.
        m.create_index(
            Index::create()
                .name("entries_collection_entity")
                .table(Entries::Table)
                .col(Entries::CollectionId)
                .col(Entries::EntityId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Entries::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Collections::Table).to_owned())
            .await
    }
}
