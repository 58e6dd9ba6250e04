//! Key prefixes shown in listings: earlier versions stored a key's first 12 characters, which
//! for a short key (e.g. a `BATON_API_KEY` of `dev-key`) is the whole key in clear. Cut those to
//! a quarter of their length, the rule new keys are stored with.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_short_key_prefixes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A stored prefix under 12 characters was a whole key. `length` counts characters and
        // `/` divides integers on both SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(
                "UPDATE api_keys SET prefix = substr(prefix, 1, length(prefix) / 4) \
                 WHERE length(prefix) < 12",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // The cut characters are gone; there is nothing to restore.
        Ok(())
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use crate::entity::api_key;
    use crate::migration::Migrator;
    use sea_orm::{ActiveModelTrait, Database, EntityTrait, IntoActiveModel};
    use sea_orm_migration::MigratorTrait;

    #[tokio::test]
    async fn a_whole_short_key_stored_as_its_prefix_is_cut_to_a_quarter() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&db, Some(7)).await.unwrap();
        for (id, prefix) in [
            ("short", "dev-key-0123"),
            ("whole", "dev-key"),
            ("tiny", "abc"),
        ] {
            api_key::Model {
                id: id.into(),
                project_id: "default".into(),
                name: id.into(),
                hash: format!("hash-{id}"),
                prefix: prefix.into(),
                created: "2026-11-30T00:00:00Z".into(),
                admin: true,
                scope: "admin".into(),
            }
            .into_active_model()
            .insert(&db)
            .await
            .unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        let prefix = |id: &'static str| {
            let db = db.clone();
            async move {
                api_key::Entity::find_by_id(id)
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap()
                    .prefix
            }
        };
        // 12 characters: the start of a longer key, kept; shorter ones were whole keys.
        assert_eq!(prefix("short").await, "dev-key-0123");
        assert_eq!(prefix("whole").await, "d");
        assert_eq!(prefix("tiny").await, "");
    }
}
