//! Wake-ups for task streams on a SQL store. Stored events wake this process's watchers at once;
//! on PostgreSQL a `NOTIFY`, sent in the transaction that stores them, wakes other servers
//! through one `LISTEN` connection per process that fans out in process.

use crate::signals::EventSignals;
use crate::sql::unavailable;
use baton_core::store::{StoreError, TaskEvent};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// The PostgreSQL channel new events are announced on; the payload is `<seq> <task id>`.
pub(crate) const CHANNEL: &str = "baton_task_events";

/// How often a reader looks without a wake-up: notifications can be lost while the listening
/// connection reconnects, so PostgreSQL readers look often; SQLite has one server, woken in
/// process.
pub(crate) fn fallback_look(backend: DbBackend) -> Duration {
    match backend {
        DbBackend::Postgres => Duration::from_secs(1),
        _ => Duration::from_secs(5),
    }
}

/// The highest seq of a batch of events.
pub(crate) fn last_seq(events: &[TaskEvent]) -> Option<u64> {
    events.iter().map(|e| e.seq).max()
}

/// Announces a task's new events to the other servers; on PostgreSQL inside the caller's
/// transaction, so the notification goes out only if the events are committed.
pub(crate) async fn announce_on<C: ConnectionTrait>(
    conn: &C,
    task_id: &str,
    events: &[TaskEvent],
) -> Result<(), StoreError> {
    let Some(last) = last_seq(events) else {
        return Ok(());
    };
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    conn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), format!("{last} {task_id}").into()],
    ))
    .await
    .map_err(unavailable)?;
    Ok(())
}

/// The process's one listening connection: started on the first watch, stopped with the store.
pub(crate) struct Listener {
    started: AtomicBool,
    /// Dropped with the last clone of the store, which ends the listening task.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    stop: watch::Sender<()>,
}

impl Default for Listener {
    fn default() -> Self {
        Self {
            started: AtomicBool::new(false),
            stop: watch::channel(()).0,
        }
    }
}

impl Listener {
    /// Starts listening on PostgreSQL unless it already does (other backends: nothing to do).
    pub(crate) fn ensure(&self, db: &sea_orm::DatabaseConnection, signals: &EventSignals) {
        if db.get_database_backend() != DbBackend::Postgres
            || self.started.swap(true, Ordering::SeqCst)
        {
            return;
        }
        #[cfg(feature = "postgres")]
        {
            let pool = db.get_postgres_connection_pool().clone();
            tokio::spawn(listen(pool, signals.clone(), self.stop.subscribe()));
        }
        #[cfg(not(feature = "postgres"))]
        let _ = signals;
    }
}

/// `<seq> <task id>` as sent by [`announce_on`].
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn parse(payload: &str) -> Option<(u64, &str)> {
    let (seq, task) = payload.split_once(' ')?;
    Some((seq.parse().ok()?, task))
}

#[cfg(feature = "postgres")]
async fn listen(pool: sea_orm::sqlx::PgPool, signals: EventSignals, mut stop: watch::Receiver<()>) {
    use sea_orm::sqlx::postgres::PgListener;
    use sea_orm::sqlx::Error;
    loop {
        let listener = match PgListener::connect_with(&pool).await {
            Ok(mut listener) => listener.listen(CHANNEL).await.map(|()| listener),
            Err(e) => Err(e),
        };
        match listener {
            Ok(mut listener) => {
                // Whatever was announced before this connection listened was missed.
                signals.wake_all();
                loop {
                    tokio::select! {
                        _ = stop.changed() => return,
                        next = listener.try_recv() => match next {
                            Ok(Some(n)) => {
                                if let Some((seq, task)) = parse(n.payload()) {
                                    signals.wake(task, seq);
                                }
                            }
                            // The connection dropped and was made again: wake-ups were lost.
                            Ok(None) => signals.wake_all(),
                            Err(Error::PoolClosed) => return,
                            Err(e) => {
                                tracing::warn!(error = %e, "listening for task events failed");
                                break;
                            }
                        }
                    }
                }
            }
            Err(Error::PoolClosed) => return,
            Err(e) => tracing::warn!(error = %e, "cannot listen for task events"),
        }
        // Readers fall back to looking on their own meanwhile.
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_the_seq_and_the_task() {
        assert_eq!(parse("12 01JTASK"), Some((12, "01JTASK")));
        assert_eq!(parse("x 01JTASK"), None);
        assert_eq!(parse("12"), None);
    }
}
