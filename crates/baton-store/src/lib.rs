//! Persistence for Baton: `baton-core`'s store traits on SQLite and PostgreSQL (one set of
//! sea-orm entities and migrations, applied at start-up), an in-memory store for embedding and
//! unit tests, and the cipher that keeps secrets encrypted at rest.
//!
//! | backend | URL | use |
//! |---|---|---|
//! | SQLite | `sqlite://baton.db?mode=rwc` | the default: one file, WAL, busy timeout |
//! | PostgreSQL | `postgres://user@host/db` | several `baton serve` replicas on one database |
//! | memory | — | embedding, unit tests |
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `sqlite` | on | `SqlStore` on SQLite |
//! | `postgres` | on | `SqlStore` on PostgreSQL |
//! | `testing` | off | throwaway PostgreSQL servers and databases for tests, raw row dumps |
//!
//! With neither database feature the crate has no ORM: `MemoryStore` and `ChaChaCipher` only.

#[cfg(feature = "sql")]
mod entity;
mod memory;
#[cfg(feature = "sql")]
mod migration;
mod page;
#[cfg(feature = "postgres")]
mod postgres_writer;
pub mod secrets;
mod signals;
#[cfg(feature = "sql")]
mod sql;
#[cfg(feature = "sql")]
mod sql_agents;
#[cfg(feature = "sql")]
mod sql_collections;
#[cfg(feature = "sql")]
mod sql_events;
#[cfg(feature = "sql")]
mod sql_history;
#[cfg(feature = "sql")]
mod sql_keys;
#[cfg(feature = "sql")]
mod sql_leases;
#[cfg(feature = "sql")]
mod sql_push;
#[cfg(feature = "sql")]
mod sql_schedules;
#[cfg(feature = "sql")]
mod sql_tasks;
#[cfg(feature = "sql")]
mod sql_threads;
#[cfg(feature = "sql")]
mod sql_traces;
#[cfg(feature = "sqlite")]
mod sqlite_writer;
#[cfg(feature = "sql")]
mod task_writes;
#[cfg(feature = "testing")]
pub mod testing;

pub use memory::MemoryStore;
pub use secrets::ChaChaCipher;
#[cfg(feature = "sql")]
pub use sql::SqlStore;
