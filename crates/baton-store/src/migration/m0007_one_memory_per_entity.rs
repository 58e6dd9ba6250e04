//! One memory per entity and memory store, held by a unique index rather than a check.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_one_memory_per_entity"
    }
}

/// Documents of a duplicate memory move to the entity's oldest memory (ULIDs sort by age).
const REPARENT: &str = "UPDATE entries SET parent_id = (
        SELECT MIN(m.id) FROM entries m
        WHERE m.kind = 'memory' AND m.collection_id = entries.collection_id
          AND m.entity_id = entries.entity_id)
    WHERE kind = 'document' AND entity_id IS NOT NULL";

/// Duplicate memories, made by concurrent creates before this index, are dropped.
const DEDUPE: &str = "DELETE FROM entries WHERE kind = 'memory' AND id NOT IN (
        SELECT MIN(id) FROM entries WHERE kind = 'memory' GROUP BY collection_id, entity_id)";

/// A partial unique index: SQLite and PostgreSQL both have them.
const INDEX: &str = "CREATE UNIQUE INDEX entries_one_memory_per_entity
    ON entries (collection_id, entity_id) WHERE kind = 'memory'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // Only documents whose entity has a memory are reparented; the rest keep their parent.
        db.execute_unprepared(&format!(
            "{REPARENT} AND EXISTS (SELECT 1 FROM entries m WHERE m.kind = 'memory'
               AND m.collection_id = entries.collection_id AND m.entity_id = entries.entity_id)"
        ))
        .await?;
        db.execute_unprepared(DEDUPE).await?;
        db.execute_unprepared(INDEX).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX entries_one_memory_per_entity")
            .await?;
        Ok(())
    }
}
