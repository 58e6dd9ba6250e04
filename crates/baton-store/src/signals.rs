//! In-process wake-ups for readers of task streams: a store wakes a task's watchers when it
//! stores events of the task (and, on PostgreSQL, when a notification says another server did).

use async_trait::async_trait;
use baton_core::store::EventWatch;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// Each watched task with the highest event seq known stored.
type Watched = HashMap<String, watch::Sender<u64>>;

fn lock(watched: &Mutex<Watched>) -> MutexGuard<'_, Watched> {
    watched.lock().unwrap_or_else(|e| e.into_inner())
}

/// The tasks watched in this process. A task is in the map only while someone watches it.
#[derive(Clone)]
pub(crate) struct EventSignals {
    watched: Arc<Mutex<Watched>>,
    /// How long a watcher waits without a wake-up before it looks anyway.
    fallback: Duration,
}

impl EventSignals {
    /// Signals whose watchers look every `fallback` even when nothing woke them.
    pub(crate) fn new(fallback: Duration) -> Self {
        Self {
            watched: Arc::default(),
            fallback,
        }
    }

    /// A watch on the task's stream.
    pub(crate) fn watch(&self, task_id: &str) -> Box<dyn EventWatch> {
        let receiver = lock(&self.watched)
            .entry(task_id.to_owned())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        Box::new(TaskWatch {
            receiver: Some(receiver),
            watched: self.watched.clone(),
            task_id: task_id.to_owned(),
            fallback: self.fallback,
            tick: None,
        })
    }

    /// Tells the task's watchers that its events up to `seq` are stored.
    pub(crate) fn wake(&self, task_id: &str, seq: u64) {
        if let Some(sender) = lock(&self.watched).get(task_id) {
            sender.send_if_modified(|known| {
                let newer = seq > *known;
                *known = (*known).max(seq);
                newer
            });
        }
    }

    /// Wakes every watcher: wake-ups may have been lost (a dropped notification connection).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn wake_all(&self) {
        for sender in lock(&self.watched).values() {
            sender.send_modify(|_| {});
        }
    }

    /// How many tasks are watched (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.watched).len()
    }
}

struct TaskWatch {
    receiver: Option<watch::Receiver<u64>>,
    watched: Arc<Mutex<Watched>>,
    task_id: String,
    fallback: Duration,
    /// Made on first use: a timer needs the runtime, the watch may be made outside it.
    tick: Option<Interval>,
}

#[async_trait]
impl EventWatch for TaskWatch {
    async fn changed(&mut self) {
        let fallback = self.fallback;
        let tick = self.tick.get_or_insert_with(|| {
            let mut tick = tokio::time::interval_at(Instant::now() + fallback, fallback);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            tick
        });
        let Some(receiver) = self.receiver.as_mut() else {
            tick.tick().await;
            return;
        };
        // Both futures are cancel-safe, so the watch is too.
        tokio::select! {
            _ = receiver.changed() => {}
            _ = tick.tick() => {}
        }
    }
}

impl Drop for TaskWatch {
    fn drop(&mut self) {
        let mut watched = lock(&self.watched);
        // The receiver goes first, under the lock, so the count is exact when checked.
        drop(self.receiver.take());
        if watched
            .get(&self.task_id)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            watched.remove(&self.task_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_up_reaches_the_tasks_watchers_only() {
        let signals = EventSignals::new(Duration::from_secs(3600));
        let mut watch = signals.watch("t1");
        let mut other = signals.watch("t2");
        signals.wake("t1", 3);
        tokio::time::timeout(Duration::from_secs(1), watch.changed())
            .await
            .expect("woken");
        let quiet = tokio::time::timeout(Duration::from_millis(50), other.changed()).await;
        assert!(quiet.is_err(), "t2 was not woken");
        // The same seq again (a notification echoing the local wake-up) wakes nobody.
        signals.wake("t1", 3);
        let quiet = tokio::time::timeout(Duration::from_millis(50), watch.changed()).await;
        assert!(quiet.is_err());
        signals.wake_all();
        tokio::time::timeout(Duration::from_secs(1), other.changed())
            .await
            .expect("woken by wake_all");
    }

    #[tokio::test]
    async fn a_watch_without_wake_ups_still_looks_after_the_fallback() {
        let signals = EventSignals::new(Duration::from_millis(50));
        let mut watch = signals.watch("t1");
        tokio::time::timeout(Duration::from_secs(2), watch.changed())
            .await
            .expect("the fallback interval ends the wait");
    }

    #[test]
    fn dropped_watches_leave_nothing_behind() {
        let signals = EventSignals::new(Duration::from_secs(1));
        let first = signals.watch("t1");
        let second = signals.watch("t1");
        drop(first);
        assert_eq!(signals.len(), 1);
        drop(second);
        signals.wake("t1", 1);
        assert_eq!(signals.len(), 0);
    }
}
