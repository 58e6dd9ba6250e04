//! PostgreSQL's task writer: one task with its own connection takes the task writes of every
//! run in this process (new tasks, saves, checkpoints with their events and spans) and commits
//! all those waiting in one transaction (group commit), a handful of statements per batch
//! whatever its size: each kind of row goes in as arrays (`UNNEST`), and the checkpoints' task
//! rows are compare-and-swapped in one `UPDATE … RETURNING`. A caller hears back only once its
//! write is committed (`synchronous_commit` as configured), so a step is never acknowledged
//! before it is durable.
//!
//! A write the store refuses fails alone: a stale revision is simply not among the updated
//! rows, a taken task id not among the inserted ones. An event whose sequence number exists
//! fails the batch's statement: the batch is then done again write by write, each in a
//! savepoint. Two writes of one task never share a batch, so each sees the other's outcome.
//! A failed commit fails every write of its batch.

use crate::entity::{span, task};
use crate::task_writes::Write;
use baton_core::store::StoreError;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection, PgPool};
use std::collections::{HashSet, VecDeque};
use tokio::sync::{mpsc, oneshot};

/// At most this many writes share a transaction, so one batch never holds its locks for long.
const MAX_BATCH: usize = 512;

struct Job {
    write: Write,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle to the writer task, which ends when the last handle is dropped.
pub(crate) struct PostgresWriter {
    jobs: mpsc::UnboundedSender<Job>,
}

fn failed(message: String) -> StoreError {
    StoreError::Unavailable(Box::new(std::io::Error::other(message)))
}

impl PostgresWriter {
    /// Starts the writer; it connects with the pool's options on its first batch.
    pub(crate) fn start(pool: &PgPool) -> Self {
        let options = pool.connect_options().as_ref().clone();
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(serve(options, queue));
        Self { jobs }
    }

    /// Performs `write` in the next batch; returns once that batch is committed.
    pub(crate) async fn write(&self, write: Write) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job { write, done })
            .map_err(|_| failed("the PostgreSQL writer stopped".into()))?;
        answer
            .await
            .map_err(|_| failed("the PostgreSQL writer stopped".into()))?
    }
}

/// The writer task: takes whatever writes are waiting, commits them together, answers each.
async fn serve(options: PgConnectOptions, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut conn: Option<PgConnection> = None;
    // Writes of a task already in the batch being formed wait for the next one.
    let mut held: VecDeque<Job> = VecDeque::new();
    loop {
        let mut batch = Vec::new();
        let mut tasks = HashSet::new();
        let mut later = VecDeque::new();
        let mut take = |job: Job, batch: &mut Vec<Job>| {
            if tasks.insert(job.write.task_id().to_owned()) {
                batch.push(job);
            } else {
                later.push_back(job);
            }
        };
        for job in held.drain(..) {
            take(job, &mut batch);
        }
        if batch.is_empty() {
            match queue.recv().await {
                Some(job) => take(job, &mut batch),
                None => return,
            }
        }
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => take(job, &mut batch),
                Err(_) => break,
            }
        }
        held = later;
        let outcome = match conn.as_mut() {
            Some(c) => commit(c, &batch).await,
            None => match PgConnection::connect_with(&options).await {
                Ok(c) => commit(conn.insert(c), &batch).await,
                Err(e) => Err(e),
            },
        };
        match outcome {
            Ok(outcomes) => {
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.done.send(outcome);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, writes = batch.len(), "a batch of task writes failed");
                // The connection may be broken or mid-transaction: the next batch makes another.
                conn = None;
                for job in batch {
                    let _ = job.done.send(Err(failed(format!("the batch failed: {e}"))));
                }
            }
        }
    }
}

fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

const EVENT_TAKEN: &str = "an event with that sequence number exists";

/// One transaction for the batch; if an event's sequence number is taken, again write by write.
async fn commit(
    conn: &mut PgConnection,
    batch: &[Job],
) -> Result<Vec<Result<(), StoreError>>, sqlx::Error> {
    let writes: Vec<&Write> = batch.iter().map(|j| &j.write).collect();
    let mut txn = Connection::begin(&mut *conn).await?;
    match apply(&mut txn, &writes).await {
        Ok(outcomes) => {
            txn.commit().await?;
            return Ok(outcomes);
        }
        Err(e) if unique_violation(&e) => txn.rollback().await?,
        Err(e) => return Err(e),
    }
    let mut txn = Connection::begin(&mut *conn).await?;
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in &writes {
        // Nested in the transaction: a savepoint.
        let mut savepoint = Connection::begin(&mut *txn).await?;
        match apply(&mut savepoint, std::slice::from_ref(write)).await {
            Ok(mut one) => {
                savepoint.commit().await?;
                outcomes.push(one.pop().unwrap_or(Ok(())));
            }
            Err(e) if unique_violation(&e) => {
                savepoint.rollback().await?;
                outcomes.push(Err(StoreError::Conflict(EVENT_TAKEN.into())));
            }
            Err(e) => return Err(e),
        }
    }
    txn.commit().await?;
    Ok(outcomes)
}

const INSERT_TASKS: &str = "INSERT INTO tasks (id, project_id, agent_id, agent_key, \
    agent_version, state, thread_id, background, revision, lease_owner, lease_expires_at, \
    cancel_requested, created, updated, data) \
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::text[], \
    $7::text[], $8::bool[], $9::int8[], $10::text[], $11::int8[], $12::bool[], $13::text[], \
    $14::text[], $15::text[]) \
    ON CONFLICT (id) DO NOTHING RETURNING id";

const UPDATE_TASKS: &str = "UPDATE tasks AS t SET agent_version = v.agent_version, \
    state = v.state, thread_id = v.thread_id, background = v.background, \
    revision = v.revision, lease_owner = v.lease_owner, lease_expires_at = v.lease_expires_at, \
    updated = v.updated, data = v.data \
    FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int4[], $5::text[], $6::text[], \
    $7::bool[], $8::int8[], $9::text[], $10::int8[], $11::text[], $12::text[]) \
    AS v(id, project_id, expected, agent_version, state, thread_id, background, revision, \
    lease_owner, lease_expires_at, updated, data) \
    WHERE t.id = v.id AND t.project_id = v.project_id AND t.revision = v.expected \
    RETURNING t.id";

const INSERT_EVENTS: &str = "INSERT INTO task_events (task_id, seq, data) \
    SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[])";

// A resumed run may write a span again: the first copy stands.
const INSERT_SPANS: &str = "INSERT INTO spans (trace_id, span_id, parent_span_id, project_id, \
    task_id, agent_key, kind, name, status, started_ms, ended_ms, prompt_tokens, \
    completion_tokens, cost, attributes) \
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
    $6::text[], $7::text[], $8::text[], $9::text[], $10::int8[], $11::int8[], $12::int8[], \
    $13::int8[], $14::float8[], $15::text[]) \
    ON CONFLICT (trace_id, span_id) DO NOTHING";

/// Tells the other servers a task has new events (see `sql_events`): sent at commit.
const NOTIFY: &str = "SELECT pg_notify($1, p) FROM UNNEST($2::text[]) AS p";

/// The writes of a batch, each task once: new task rows first, then the checkpoints.
async fn apply(
    conn: &mut PgConnection,
    writes: &[&Write],
) -> Result<Vec<Result<(), StoreError>>, sqlx::Error> {
    let mut outcomes: Vec<Result<(), StoreError>> = Vec::with_capacity(writes.len());
    let created: Vec<&task::Model> = writes
        .iter()
        .filter_map(|w| match w {
            Write::Create(t) => Some(t),
            Write::Checkpoint { .. } => None,
        })
        .collect();
    let inserted = if created.is_empty() {
        HashSet::new()
    } else {
        insert_tasks(conn, &created).await?
    };
    // Ordered by id, so two servers' batches lock rows in the same order.
    let mut saves: Vec<&Write> = writes
        .iter()
        .copied()
        .filter(|w| matches!(w, Write::Checkpoint { .. }))
        .collect();
    saves.sort_by(|a, b| a.task_id().cmp(b.task_id()));
    let saved = if saves.is_empty() {
        HashSet::new()
    } else {
        update_tasks(conn, &saves).await?
    };
    let refused: Vec<&str> = saves
        .iter()
        .map(|w| w.task_id())
        .filter(|id| !saved.contains(*id))
        .collect();
    let existing: HashSet<String> = if refused.is_empty() {
        HashSet::new()
    } else {
        sqlx::query_scalar("SELECT id FROM tasks WHERE id = ANY($1)")
            .bind(&refused)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect()
    };
    let mut events: Vec<(&str, i64, &str)> = Vec::new();
    let mut spans: Vec<&span::Model> = Vec::new();
    let mut announced: Vec<String> = Vec::new();
    for write in writes {
        let id = write.task_id();
        outcomes.push(match write {
            Write::Create(_) if inserted.contains(id) => Ok(()),
            Write::Create(_) => Err(StoreError::Conflict(
                "a task with that id already exists".into(),
            )),
            Write::Checkpoint {
                events: evs,
                spans: sps,
                ..
            } if saved.contains(id) => {
                events.extend(evs.iter().map(|(seq, data)| (id, *seq, data.as_str())));
                spans.extend(sps);
                if let Some(last) = evs.iter().map(|(seq, _)| *seq).max() {
                    announced.push(format!("{last} {id}"));
                }
                Ok(())
            }
            Write::Checkpoint { .. } if existing.contains(id) => Err(StoreError::Conflict(
                "the task was saved by another writer".into(),
            )),
            Write::Checkpoint { .. } => Err(StoreError::NotFound),
        });
    }
    if !events.is_empty() {
        sqlx::query(INSERT_EVENTS)
            .bind(events.iter().map(|e| e.0).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.1).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.2).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
    }
    if !spans.is_empty() {
        insert_spans(conn, &spans).await?;
    }
    if !announced.is_empty() {
        sqlx::query(NOTIFY)
            .bind(crate::sql_events::CHANNEL)
            .bind(&announced)
            .execute(&mut *conn)
            .await?;
    }
    Ok(outcomes)
}

async fn insert_tasks(
    conn: &mut PgConnection,
    rows: &[&task::Model],
) -> Result<HashSet<String>, sqlx::Error> {
    let text = |f: fn(&task::Model) -> &str| rows.iter().map(|t| f(t)).collect::<Vec<_>>();
    let ids: Vec<String> = sqlx::query_scalar(INSERT_TASKS)
        .bind(text(|t| &t.id))
        .bind(text(|t| &t.project_id))
        .bind(text(|t| &t.agent_id))
        .bind(text(|t| &t.agent_key))
        .bind(rows.iter().map(|t| t.agent_version).collect::<Vec<_>>())
        .bind(text(|t| &t.state))
        .bind(rows.iter().map(|t| t.thread_id.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.background).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.revision).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.lease_owner.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.lease_expires_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.cancel_requested).collect::<Vec<_>>())
        .bind(text(|t| &t.created))
        .bind(text(|t| &t.updated))
        .bind(text(|t| &t.data))
        .fetch_all(&mut *conn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Compare-and-swaps the task rows of checkpoints; the ids of those saved.
async fn update_tasks(
    conn: &mut PgConnection,
    saves: &[&Write],
) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<(&task::Model, i64)> = saves
        .iter()
        .filter_map(|w| match w {
            Write::Checkpoint {
                task,
                expected_revision,
                ..
            } => Some((task, *expected_revision)),
            Write::Create(_) => None,
        })
        .collect();
    let text = |f: fn(&task::Model) -> &str| rows.iter().map(|(t, _)| f(t)).collect::<Vec<_>>();
    let ids: Vec<String> = sqlx::query_scalar(UPDATE_TASKS)
        .bind(text(|t| &t.id))
        .bind(text(|t| &t.project_id))
        .bind(rows.iter().map(|(_, expected)| *expected).collect::<Vec<_>>())
        .bind(rows.iter().map(|(t, _)| t.agent_version).collect::<Vec<_>>())
        .bind(text(|t| &t.state))
        .bind(rows.iter().map(|(t, _)| t.thread_id.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(t, _)| t.background).collect::<Vec<_>>())
        .bind(rows.iter().map(|(t, _)| t.revision).collect::<Vec<_>>())
        .bind(rows.iter().map(|(t, _)| t.lease_owner.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(t, _)| t.lease_expires_at).collect::<Vec<_>>())
        .bind(text(|t| &t.updated))
        .bind(text(|t| &t.data))
        .fetch_all(&mut *conn)
        .await?;
    Ok(ids.into_iter().collect())
}

async fn insert_spans(conn: &mut PgConnection, rows: &[&span::Model]) -> Result<(), sqlx::Error> {
    let text = |f: fn(&span::Model) -> &str| rows.iter().map(|s| f(s)).collect::<Vec<_>>();
    let number = |f: fn(&span::Model) -> i64| rows.iter().map(|s| f(s)).collect::<Vec<_>>();
    sqlx::query(INSERT_SPANS)
        .bind(text(|s| &s.trace_id))
        .bind(text(|s| &s.span_id))
        .bind(rows.iter().map(|s| s.parent_span_id.as_deref()).collect::<Vec<_>>())
        .bind(text(|s| &s.project_id))
        .bind(text(|s| &s.task_id))
        .bind(text(|s| &s.agent_key))
        .bind(text(|s| &s.kind))
        .bind(text(|s| &s.name))
        .bind(text(|s| &s.status))
        .bind(number(|s| s.started_ms))
        .bind(number(|s| s.ended_ms))
        .bind(number(|s| s.prompt_tokens))
        .bind(number(|s| s.completion_tokens))
        .bind(rows.iter().map(|s| s.cost).collect::<Vec<_>>())
        .bind(text(|s| &s.attributes))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
