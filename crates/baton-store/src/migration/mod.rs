//! Schema migrations, applied in order at start-up on SQLite and PostgreSQL alike.

use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_tasks;
mod m0003_collections;
mod m0004_schedules;
mod m0005_traces_keys;
mod m0006_key_scopes;
mod m0007_one_memory_per_entity;
mod m0008_short_key_prefixes;
mod m0009_threads;
mod m0010_a2a_push_configs;
mod m0011_task_messages;

/// The list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_tasks::Migration),
            Box::new(m0003_collections::Migration),
            Box::new(m0004_schedules::Migration),
            Box::new(m0005_traces_keys::Migration),
            Box::new(m0006_key_scopes::Migration),
            Box::new(m0007_one_memory_per_entity::Migration),
            Box::new(m0008_short_key_prefixes::Migration),
            Box::new(m0009_threads::Migration),
            Box::new(m0010_a2a_push_configs::Migration),
            Box::new(m0011_task_messages::Migration),
        ]
    }
}
