//! PostgreSQL's task writer: one task with its own connection takes the task writes of every
//! run in this process (new tasks, saves, checkpoints with their events and spans) and commits
//! all those waiting in one statement, its own transaction (group commit): one round trip and
//! one commit per batch whatever its size. Each kind of row goes in as arrays (`UNNEST`), the
//! checkpoints' task rows are compare-and-swapped in one `UPDATE … RETURNING`, and only the
//! events and spans of the rows saved are inserted. A caller hears back only once its
//! write is committed (`synchronous_commit` as configured), so a step is never acknowledged
//! before it is durable.
//!
//! A write the store refuses fails alone: a stale revision is simply not among the updated
//! rows, a taken task id not among the inserted ones. An event or message whose position exists
//! fails the batch's statement (and so stores nothing of it): the batch is then done again
//! write by write in one transaction, each write in a savepoint. Two writes of one task never share a batch, so each sees the other's outcome.
//! A failed commit fails every write of its batch.

use crate::entity::{span, task};
use crate::task_writes::Write;
use baton_core::store::{Saved, StoreError};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection, PgPool};
use std::collections::{HashSet, VecDeque};
use tokio::sync::{mpsc, oneshot};

/// At most this many writes share a transaction, so one batch never holds its locks for long.
const MAX_BATCH: usize = 512;

struct Job {
    write: Write,
    done: oneshot::Sender<Result<Saved, StoreError>>,
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
    pub(crate) async fn write(&self, write: Write) -> Result<Saved, StoreError> {
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

const EVENT_TAKEN: &str = "an event or message with that position exists";

/// One transaction for the batch; if an event's sequence number is taken, again write by write.
async fn commit(
    conn: &mut PgConnection,
    batch: &[Job],
) -> Result<Vec<Result<Saved, StoreError>>, sqlx::Error> {
    let writes: Vec<&Write> = batch.iter().map(|j| &j.write).collect();
    // One statement, its own transaction: committed (or not at all) when it answers.
    match apply(conn, &writes).await {
        Ok(outcomes) => return Ok(outcomes),
        Err(e) if unique_violation(&e) => {}
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
                outcomes.push(one.pop().unwrap_or(Ok(Saved::default())));
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

/// The whole batch in one statement, so one round trip and one commit: new task rows, the
/// compare-and-swap of the checkpoints' rows, then the messages of the tasks created or saved
/// and the events, spans and notifications of the checkpoints saved only. Being one statement it is all or nothing; its rows say which tasks
/// were created and which saved (a statement's parts see the rows as they were before it, so
/// a batch never holds two writes of one task).
const BATCH: &str = "WITH created AS (\
    INSERT INTO tasks (id, project_id, agent_id, agent_key, agent_version, state, thread_id, \
    background, revision, lease_owner, lease_expires_at, cancel_requested, created, updated, \
    data, message_count) \
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[], \
    $6::text[], $7::text[], $8::bool[], $9::int8[], $10::text[], $11::int8[], $12::bool[], \
    $13::text[], $14::text[], $15::text[], $50::int8[]) \
    ON CONFLICT (id) DO NOTHING RETURNING id), \
    saved AS (\
    UPDATE tasks AS t SET agent_version = v.agent_version, state = v.state, \
    thread_id = v.thread_id, background = v.background, revision = v.revision, \
    lease_owner = v.lease_owner, lease_expires_at = v.lease_expires_at, updated = v.updated, \
    data = v.data, message_count = v.message_count \
    FROM UNNEST($16::text[], $17::text[], $18::int8[], $19::int4[], $20::text[], $21::text[], \
    $22::bool[], $23::int8[], $24::text[], $25::int8[], $26::text[], $27::text[], \
    $51::int8[], $52::int8[]) \
    AS v(id, project_id, expected, agent_version, state, thread_id, background, revision, \
    lease_owner, lease_expires_at, updated, data, message_count, expected_messages) \
    WHERE t.id = v.id AND t.project_id = v.project_id AND t.revision = v.expected \
    AND t.message_count = v.expected_messages \
    RETURNING t.id, t.cancel_requested), \
    messages AS (\
    INSERT INTO task_messages (task_id, seq, data) SELECT m.task_id, m.seq, m.data \
    FROM UNNEST($53::text[], $54::int8[], $55::text[]) AS m(task_id, seq, data) \
    WHERE m.task_id IN (SELECT id FROM saved UNION ALL SELECT id FROM created)), \
    events AS (\
    INSERT INTO task_events (task_id, seq, data) SELECT e.task_id, e.seq, e.data \
    FROM UNNEST($28::text[], $29::int8[], $30::text[]) AS e(task_id, seq, data) \
    WHERE e.task_id IN (SELECT id FROM saved)), \
    spans AS (\
    INSERT INTO spans (trace_id, span_id, parent_span_id, project_id, task_id, agent_key, kind, \
    name, status, started_ms, ended_ms, prompt_tokens, completion_tokens, cost, attributes) \
    SELECT s.trace_id, s.span_id, s.parent_span_id, s.project_id, s.task_id, s.agent_key, \
    s.kind, s.name, s.status, s.started_ms, s.ended_ms, s.prompt_tokens, s.completion_tokens, \
    s.cost, s.attributes \
    FROM UNNEST($31::text[], $32::text[], $33::text[], $34::text[], $35::text[], $36::text[], \
    $37::text[], $38::text[], $39::text[], $40::int8[], $41::int8[], $42::int8[], $43::int8[], \
    $44::float8[], $45::text[], $46::text[]) \
    AS s(trace_id, span_id, parent_span_id, project_id, task_id, agent_key, kind, name, status, \
    started_ms, ended_ms, prompt_tokens, completion_tokens, cost, attributes, checkpoint) \
    WHERE s.checkpoint IN (SELECT id FROM saved) \
    ON CONFLICT (trace_id, span_id) DO NOTHING), \
    announced AS (\
    SELECT pg_notify($47, n.payload) FROM UNNEST($48::text[], $49::text[]) AS n(task_id, payload) \
    WHERE n.task_id IN (SELECT id FROM saved)) \
    SELECT 'created' AS outcome, id FROM created \
    UNION ALL SELECT CASE WHEN cancel_requested THEN 'saved, cancel requested' ELSE 'saved' END, \
    id FROM saved \
    UNION ALL SELECT 'announced', count(*)::text FROM announced";

/// The writes of a batch, each task once; what became of each.
async fn apply(
    conn: &mut PgConnection,
    writes: &[&Write],
) -> Result<Vec<Result<Saved, StoreError>>, sqlx::Error> {
    let created: Vec<&task::Model> = writes
        .iter()
        .filter_map(|w| match w {
            Write::Create { task, .. } => Some(task),
            Write::Checkpoint { .. } => None,
        })
        .collect();
    // Ordered by id, so two servers' batches lock rows in the same order.
    let mut saves: Vec<(&task::Model, i64, i64)> = writes
        .iter()
        .filter_map(|w| match w {
            Write::Checkpoint {
                task,
                expected_revision,
                expected_messages,
                ..
            } => Some((task, *expected_revision, *expected_messages)),
            Write::Create { .. } => None,
        })
        .collect();
    saves.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let mut messages: Vec<(&str, i64, &str)> = Vec::new();
    let mut events: Vec<(&str, i64, &str)> = Vec::new();
    let mut spans: Vec<(&span::Model, &str)> = Vec::new();
    let mut announced: Vec<(&str, String)> = Vec::new();
    for write in writes {
        let (Write::Create {
            task,
            messages: msgs,
        }
        | Write::Checkpoint {
            task,
            messages: msgs,
            ..
        }) = write;
        let id = task.id.as_str();
        messages.extend(msgs.iter().map(|(seq, data)| (id, *seq, data.as_str())));
        if let Write::Checkpoint {
            task,
            events: evs,
            spans: sps,
            ..
        } = write
        {
            let id = task.id.as_str();
            events.extend(evs.iter().map(|(seq, data)| (id, *seq, data.as_str())));
            spans.extend(sps.iter().map(|s| (s, id)));
            if let Some(last) = evs.iter().map(|(seq, _)| *seq).max() {
                announced.push((id, format!("{last} {id}")));
            }
        }
    }
    let new = |f: fn(&task::Model) -> &str| created.iter().map(|t| f(t)).collect::<Vec<_>>();
    let saving =
        |f: fn(&task::Model) -> &str| saves.iter().map(|(t, _, _)| f(t)).collect::<Vec<_>>();
    let span_text =
        |f: fn(&span::Model) -> &str| spans.iter().map(|(s, _)| f(s)).collect::<Vec<_>>();
    let span_number =
        |f: fn(&span::Model) -> i64| spans.iter().map(|(s, _)| f(s)).collect::<Vec<_>>();
    let rows: Vec<(String, String)> = sqlx::query_as(BATCH)
        .bind(new(|t| &t.id))
        .bind(new(|t| &t.project_id))
        .bind(new(|t| &t.agent_id))
        .bind(new(|t| &t.agent_key))
        .bind(created.iter().map(|t| t.agent_version).collect::<Vec<_>>())
        .bind(new(|t| &t.state))
        .bind(
            created
                .iter()
                .map(|t| t.thread_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(created.iter().map(|t| t.background).collect::<Vec<_>>())
        .bind(created.iter().map(|t| t.revision).collect::<Vec<_>>())
        .bind(
            created
                .iter()
                .map(|t| t.lease_owner.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            created
                .iter()
                .map(|t| t.lease_expires_at)
                .collect::<Vec<_>>(),
        )
        .bind(
            created
                .iter()
                .map(|t| t.cancel_requested)
                .collect::<Vec<_>>(),
        )
        .bind(new(|t| &t.created))
        .bind(new(|t| &t.updated))
        .bind(new(|t| &t.data))
        .bind(saving(|t| &t.id))
        .bind(saving(|t| &t.project_id))
        .bind(
            saves
                .iter()
                .map(|(_, expected, _)| *expected)
                .collect::<Vec<_>>(),
        )
        .bind(
            saves
                .iter()
                .map(|(t, _, _)| t.agent_version)
                .collect::<Vec<_>>(),
        )
        .bind(saving(|t| &t.state))
        .bind(
            saves
                .iter()
                .map(|(t, _, _)| t.thread_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            saves
                .iter()
                .map(|(t, _, _)| t.background)
                .collect::<Vec<_>>(),
        )
        .bind(saves.iter().map(|(t, _, _)| t.revision).collect::<Vec<_>>())
        .bind(
            saves
                .iter()
                .map(|(t, _, _)| t.lease_owner.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            saves
                .iter()
                .map(|(t, _, _)| t.lease_expires_at)
                .collect::<Vec<_>>(),
        )
        .bind(saving(|t| &t.updated))
        .bind(saving(|t| &t.data))
        .bind(events.iter().map(|e| e.0).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.1).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.2).collect::<Vec<_>>())
        .bind(span_text(|s| &s.trace_id))
        .bind(span_text(|s| &s.span_id))
        .bind(
            spans
                .iter()
                .map(|(s, _)| s.parent_span_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(span_text(|s| &s.project_id))
        .bind(span_text(|s| &s.task_id))
        .bind(span_text(|s| &s.agent_key))
        .bind(span_text(|s| &s.kind))
        .bind(span_text(|s| &s.name))
        .bind(span_text(|s| &s.status))
        .bind(span_number(|s| s.started_ms))
        .bind(span_number(|s| s.ended_ms))
        .bind(span_number(|s| s.prompt_tokens))
        .bind(span_number(|s| s.completion_tokens))
        .bind(spans.iter().map(|(s, _)| s.cost).collect::<Vec<_>>())
        .bind(span_text(|s| &s.attributes))
        .bind(
            spans
                .iter()
                .map(|(_, checkpoint)| *checkpoint)
                .collect::<Vec<_>>(),
        )
        .bind(crate::sql_events::CHANNEL)
        .bind(announced.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(
            announced
                .iter()
                .map(|(_, payload)| payload.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(created.iter().map(|t| t.message_count).collect::<Vec<_>>())
        .bind(
            saves
                .iter()
                .map(|(t, _, _)| t.message_count)
                .collect::<Vec<_>>(),
        )
        .bind(
            saves
                .iter()
                .map(|(_, _, expected)| *expected)
                .collect::<Vec<_>>(),
        )
        .bind(messages.iter().map(|m| m.0).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.1).collect::<Vec<_>>())
        .bind(messages.iter().map(|m| m.2).collect::<Vec<_>>())
        .fetch_all(&mut *conn)
        .await?;
    let outcomes: HashSet<(&str, &str)> = rows
        .iter()
        .map(|(outcome, id)| (outcome.as_str(), id.as_str()))
        .collect();
    let done = |outcome: &str, id: &str| outcomes.contains(&(outcome, id));
    let canceled = |id: &str| done("saved, cancel requested", id);
    let saved = |id: &str| done("saved", id) || canceled(id);
    let refused: Vec<&str> = saves
        .iter()
        .map(|(t, _, _)| t.id.as_str())
        .filter(|id| !saved(id))
        .collect();
    // Rare: whether a refused checkpoint's task exists at all.
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
    Ok(writes
        .iter()
        .map(|write| {
            let id = write.task_id();
            match write {
                Write::Create { task, .. } if done("created", id) => Ok(Saved {
                    cancel_requested: task.cancel_requested,
                }),
                Write::Create { .. } => Err(StoreError::Conflict(
                    "a task with that id already exists".into(),
                )),
                Write::Checkpoint { .. } if saved(id) => Ok(Saved {
                    cancel_requested: canceled(id),
                }),
                Write::Checkpoint { .. } if existing.contains(id) => Err(StoreError::Conflict(
                    "the task was saved by another writer".into(),
                )),
                Write::Checkpoint { .. } => Err(StoreError::NotFound),
            }
        })
        .collect())
}
