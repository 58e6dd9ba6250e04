//! Persistence for Baton: `baton-core`'s store traits on SQLite and PostgreSQL (one set of
//! sea-orm entities and migrations, applied at start-up), an in-memory store for embedding and
//! unit tests, and the cipher that keeps secrets encrypted at rest.
//!
//! | backend | URL | use |
//! |---|---|---|
//! | SQLite | `sqlite://baton.db?mode=rwc` | the default: one file, WAL, busy timeout |
//! | PostgreSQL | `postgres://user@host/db` | several `baton serve` replicas on one database |
//! | memory | — | embedding, unit tests |

mod entity;
mod memory;
mod migration;
mod page;
pub mod secrets;
mod sql;
mod sql_collections;
mod sql_schedules;
mod sql_tasks;
mod sql_traces;
#[cfg(feature = "testing")]
pub mod testing;

pub use memory::MemoryStore;
pub use secrets::ChaChaCipher;
pub use sql::SqlStore;
