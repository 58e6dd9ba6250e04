//! The task writes a group-commit writer takes (SQLite's writer thread, PostgreSQL's writer
//! task), and the writer a store has: rows ready to bind, answered once their batch commits.

use crate::entity::{span, task};
use baton_core::store::{Saved, StoreError, TaskEvent, TaskRecord};
use baton_core::trace::SpanRecord;

/// A write the writer performs.
pub(crate) enum Write {
    /// A new task row and its history; `Conflict` if the id is taken.
    Create {
        task: task::Model,
        /// `(seq, JSON)` of each message.
        messages: Vec<(i64, String)>,
    },
    /// The task row (compare-and-swap on its revision and message count), then the messages
    /// its history gained, the step's events and spans.
    Checkpoint {
        task: task::Model,
        expected_revision: i64,
        /// How many messages the stored row must have.
        expected_messages: i64,
        /// `(seq, JSON)` of each message appended.
        messages: Vec<(i64, String)>,
        /// `(seq, JSON)` of each event.
        events: Vec<(i64, String)>,
        spans: Vec<span::Model>,
    },
}

impl Write {
    /// The size of the messages' JSON it appends.
    pub(crate) fn messages_size(&self) -> usize {
        match self {
            Self::Create { messages, .. } | Self::Checkpoint { messages, .. } => {
                crate::sql_history::rows_size(messages)
            }
        }
    }

    /// The task written.
    #[cfg(feature = "postgres")]
    pub(crate) fn task_id(&self) -> &str {
        match self {
            Self::Create { task: t, .. } | Self::Checkpoint { task: t, .. } => &t.id,
        }
    }
}

/// A checkpoint as the writers take it.
pub(crate) fn checkpoint(
    t: &TaskRecord,
    expected_revision: u64,
    events: &[TaskEvent],
    spans: &[SpanRecord],
) -> Result<Write, StoreError> {
    Ok(Write::Checkpoint {
        task: crate::sql_tasks::model(t)?,
        expected_revision: expected_revision as i64,
        expected_messages: t.history_stored as i64,
        messages: crate::sql_history::unsaved_rows(t)?,
        events: events
            .iter()
            .map(|e| {
                let data = serde_json::to_string(&e.data)
                    .map_err(|err| StoreError::Corrupt(format!("event: {err}")))?;
                Ok((e.seq as i64, data))
            })
            .collect::<Result<_, StoreError>>()?,
        spans: spans
            .iter()
            .map(crate::sql_traces::model)
            .collect::<Result<_, _>>()?,
    })
}

/// A new task as the writers take it.
pub(crate) fn create(t: &TaskRecord) -> Result<Write, StoreError> {
    Ok(Write::Create {
        task: crate::sql_tasks::model(t)?,
        messages: crate::sql_history::all_rows(t)?,
    })
}

/// The group-commit writer of a store's database.
pub(crate) enum TaskWriter {
    /// A SQLite file's writer thread.
    #[cfg(feature = "sqlite")]
    Sqlite(crate::sqlite_writer::SqliteWriter),
    /// PostgreSQL's writer task.
    #[cfg(feature = "postgres")]
    Postgres(crate::postgres_writer::PostgresWriter),
}

impl TaskWriter {
    /// Performs `write` in the next batch; returns once that batch is committed.
    pub(crate) async fn write(&self, write: Write) -> Result<Saved, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(w) => w.write(write).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(w) => w.write(write).await,
        }
    }
}
