//! SQLite's task writer: one thread with its own connection and prepared statements takes the
//! task writes of every run (new tasks, saves, checkpoints with their events and spans) and
//! commits all those waiting in one transaction (group commit). A caller hears back only once
//! its write is committed, so a step is never acknowledged before it is durable; one write the
//! store refuses (a revision conflict, a taken id) is rolled back alone, while a failed commit
//! fails every write of its batch.
//!
//! Why a thread of its own: through the pool every statement is a hand-over between the async
//! runtime and a connection's worker thread, and SQLite commits one transaction at a time
//! anyway; here a batch of many checkpoints costs one hand-over each way and one commit.

use crate::entity::{span, task};
use crate::task_writes::Write;
use baton_core::store::{Saved, StoreError};
use rusqlite::{params, Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// At most this many writes share a transaction, so one batch never holds the lock for long.
const MAX_BATCH: usize = 512;

struct Job {
    write: Write,
    done: oneshot::Sender<Result<Saved, StoreError>>,
}

/// The handle to the writer thread, which ends when the last handle is dropped.
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

fn failed(message: String) -> StoreError {
    StoreError::Unavailable(Box::new(std::io::Error::other(message)))
}

impl SqliteWriter {
    /// Opens the writer's connection to the (already migrated) database file.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        // The same durability as the pool's connections: WAL, synced at checkpoints.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        )
        .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        conn.set_prepared_statement_cache_capacity(16);
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("baton-sqlite-writer".into())
            .spawn(move || serve(conn, queue))
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        Ok(Self { jobs })
    }

    /// Performs `write` in the next batch; returns once that batch is committed.
    pub(crate) async fn write(&self, write: Write) -> Result<Saved, StoreError> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job { write, done })
            .map_err(|_| failed("the SQLite writer stopped".into()))?;
        answer
            .await
            .map_err(|_| failed("the SQLite writer stopped".into()))?
    }
}

/// The writer thread: takes whatever writes are waiting, commits them together, answers each.
fn serve(mut conn: Connection, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match commit(&mut conn, &batch) {
            Ok(outcomes) => {
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.done.send(outcome);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, writes = batch.len(), "a batch of task writes failed");
                for job in batch {
                    let _ = job.done.send(Err(failed(format!("the batch failed: {e}"))));
                }
            }
        }
    }
}

/// What one write came to: done, refused by the store (alone), or failed (the whole batch).
enum Refusal {
    Refused(StoreError),
    Failed(rusqlite::Error),
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Self::Failed(e)
    }
}

/// One transaction for the batch; each write in a savepoint so a refused one leaves no trace.
fn commit(
    conn: &mut Connection,
    batch: &[Job],
) -> rusqlite::Result<Vec<Result<Saved, StoreError>>> {
    let txn = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        txn.prepare_cached("SAVEPOINT write")?.execute([])?;
        match apply(&txn, &job.write) {
            Ok(saved) => {
                txn.prepare_cached("RELEASE write")?.execute([])?;
                outcomes.push(Ok(saved));
            }
            Err(Refusal::Refused(e)) => {
                txn.prepare_cached("ROLLBACK TO write")?.execute([])?;
                txn.prepare_cached("RELEASE write")?.execute([])?;
                outcomes.push(Err(e));
            }
            Err(Refusal::Failed(e)) => return Err(e),
        }
    }
    txn.commit()?;
    Ok(outcomes)
}

/// A unique violation is the store refusing the write; anything else fails the batch.
fn unique(e: rusqlite::Error, what: &str) -> Refusal {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => Refusal::Refused(StoreError::Conflict(what.into())),
        _ => Refusal::Failed(e),
    }
}

fn apply(conn: &Connection, write: &Write) -> Result<Saved, Refusal> {
    match write {
        Write::Create { task, messages } => {
            insert_task(conn, task)?;
            insert_messages(conn, &task.id, messages)?;
            Ok(Saved {
                cancel_requested: task.cancel_requested,
            })
        }
        Write::Checkpoint {
            task,
            expected_revision,
            expected_messages,
            messages,
            events,
            spans,
        } => {
            let saved = update_task(conn, task, *expected_revision, *expected_messages)?;
            insert_messages(conn, &task.id, messages)?;
            let mut insert = conn.prepare_cached(
                "INSERT INTO task_events (task_id, seq, data) VALUES (?1, ?2, ?3)",
            )?;
            for (seq, data) in events {
                insert
                    .execute(params![task.id, seq, data])
                    .map_err(|e| unique(e, "an event with that sequence number exists"))?;
            }
            insert_spans(conn, spans)?;
            Ok(saved)
        }
    }
}

fn insert_task(conn: &Connection, t: &task::Model) -> Result<(), Refusal> {
    conn.prepare_cached(
        "INSERT INTO tasks (id, project_id, agent_id, agent_key, agent_version, state, thread_id, \
         background, revision, lease_owner, lease_expires_at, cancel_requested, created, \
         updated, data, message_count) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        t.id,
        t.project_id,
        t.agent_id,
        t.agent_key,
        t.agent_version,
        t.state,
        t.thread_id,
        t.background,
        t.revision,
        t.lease_owner,
        t.lease_expires_at,
        t.cancel_requested,
        t.created,
        t.updated,
        t.data,
        t.message_count
    ])
    .map_err(|e| unique(e, "a task with that id already exists"))?;
    Ok(())
}

fn insert_messages(
    conn: &Connection,
    task_id: &str,
    messages: &[(i64, String)],
) -> Result<(), Refusal> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut insert =
        conn.prepare_cached("INSERT INTO task_messages (task_id, seq, data) VALUES (?1, ?2, ?3)")?;
    for (seq, data) in messages {
        insert
            .execute(params![task_id, seq, data])
            .map_err(|e| unique(e, crate::sql_history::MESSAGE_TAKEN))?;
    }
    Ok(())
}

fn update_task(
    conn: &Connection,
    t: &task::Model,
    expected_revision: i64,
    expected_messages: i64,
) -> Result<Saved, Refusal> {
    // The row's cancel flag comes back with the update: the run need not read it again.
    let updated = conn
        .prepare_cached(
            "UPDATE tasks SET agent_version = ?1, state = ?2, thread_id = ?3, background = ?4, \
             revision = ?5, lease_owner = ?6, lease_expires_at = ?7, updated = ?8, data = ?9, \
             message_count = ?13 \
             WHERE id = ?10 AND project_id = ?11 AND revision = ?12 AND message_count = ?14 \
             RETURNING cancel_requested",
        )?
        .query_row(
            params![
                t.agent_version,
                t.state,
                t.thread_id,
                t.background,
                t.revision,
                t.lease_owner,
                t.lease_expires_at,
                t.updated,
                t.data,
                t.id,
                t.project_id,
                expected_revision,
                t.message_count,
                expected_messages
            ],
            |row| row.get::<_, bool>(0),
        );
    match updated {
        Ok(cancel_requested) => return Ok(Saved { cancel_requested }),
        Err(rusqlite::Error::QueryReturnedNoRows) => {}
        Err(e) => return Err(e.into()),
    }
    let exists = conn
        .prepare_cached("SELECT 1 FROM tasks WHERE id = ?1")?
        .exists(params![t.id])?;
    Err(Refusal::Refused(if exists {
        StoreError::Conflict("the task was saved by another writer".into())
    } else {
        StoreError::NotFound
    }))
}

fn insert_spans(conn: &Connection, spans: &[span::Model]) -> Result<(), Refusal> {
    if spans.is_empty() {
        return Ok(());
    }
    // A resumed run may write a span again: the first copy stands.
    let mut insert = conn.prepare_cached(
        "INSERT INTO spans (trace_id, span_id, parent_span_id, project_id, task_id, agent_key, \
         kind, name, status, started_ms, ended_ms, prompt_tokens, completion_tokens, cost, \
         attributes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
         ON CONFLICT (trace_id, span_id) DO NOTHING",
    )?;
    for s in spans {
        insert.execute(params![
            s.trace_id,
            s.span_id,
            s.parent_span_id,
            s.project_id,
            s.task_id,
            s.agent_key,
            s.kind,
            s.name,
            s.status,
            s.started_ms,
            s.ended_ms,
            s.prompt_tokens,
            s.completion_tokens,
            s.cost,
            s.attributes
        ])?;
    }
    Ok(())
}
