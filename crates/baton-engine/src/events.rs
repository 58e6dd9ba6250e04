//! Task event streams: typed run events, stored (all but text deltas) before they are published
//! live to subscribers in this process, so an id names the same event on every server and a
//! client that reconnects anywhere gets what it missed (see [`crate::follow`]).

use crate::machine::RunEvent;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// One event of a task's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the task's stream (the SSE `id`); a text delta, never stored, carries the
    /// seq of the stored event it follows.
    pub seq: u64,
    /// When it was emitted (RFC 3339).
    pub timestamp: String,
    /// What happened.
    pub event: RunEvent,
}

/// The stored form of an event.
#[derive(Serialize, Deserialize)]
struct Stored {
    timestamp: String,
    event: RunEvent,
}

impl Event {
    /// An event emitted now.
    pub fn now(seq: u64, event: RunEvent) -> Self {
        Self {
            seq,
            timestamp: baton_core::id::now_rfc3339(),
            event,
        }
    }

    /// Whether this event ends a turn's stream.
    pub fn is_terminal(&self) -> bool {
        self.event.is_terminal()
    }

    /// Whether it is kept for replay (text deltas are not: the whole text follows).
    pub fn is_persisted(&self) -> bool {
        !matches!(self.event, RunEvent::Delta { .. })
    }

    /// The JSON the store keeps for it.
    pub fn to_stored(&self) -> Value {
        json!({"timestamp": self.timestamp, "event": self.event})
    }

    /// The event a store row holds; `None` for a row that is not a typed event.
    pub fn from_stored(seq: u64, data: &Value) -> Option<Self> {
        let stored = Stored::deserialize(data).ok()?;
        Some(Self {
            seq,
            timestamp: stored.timestamp,
            event: stored.event,
        })
    }
}

/// Live fan-out of task events inside one process. A task has a channel only while someone
/// listens: the last [`Subscription`] to leave removes it, so the map never outgrows the streams
/// open right now (publishing to a task nobody listens to is a no-op).
#[derive(Default)]
pub struct EventHub {
    channels: Arc<Mutex<Channels>>,
}

type Channels = HashMap<String, broadcast::Sender<Arc<Event>>>;

/// Live events a listener may fall behind by before it skips deltas (stored events are read
/// from the store, so only deltas are lost, and `part.done` carries their whole text). The
/// channel allocates every slot up front, per streamed task: 1,024 slots were ~40 KB a stream.
const CHANNEL_CAPACITY: usize = 128;

fn lock(channels: &Mutex<Channels>) -> std::sync::MutexGuard<'_, Channels> {
    channels.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the task's channel if nobody listens to it any more.
fn remove_if_unheard(channels: &mut Channels, task_id: &str) {
    if channels
        .get(task_id)
        .is_some_and(|s| s.receiver_count() == 0)
    {
        channels.remove(task_id);
    }
}

impl EventHub {
    /// Receives the task's events from now on, until the subscription is dropped.
    pub fn subscribe(&self, task_id: &str) -> Subscription {
        let receiver = lock(&self.channels)
            .entry(task_id.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe();
        Subscription {
            receiver: Some(receiver),
            channels: self.channels.clone(),
            task_id: task_id.to_owned(),
        }
    }

    /// Sends an event to current subscribers (none is fine).
    pub fn publish(&self, task_id: &str, event: Arc<Event>) {
        let sender = lock(&self.channels).get(task_id).cloned();
        if let Some(sender) = sender {
            let _ = sender.send(event);
        }
    }

    /// Drops the channel once nobody listens (after a turn ends).
    pub fn release(&self, task_id: &str) {
        remove_if_unheard(&mut lock(&self.channels), task_id);
    }

    /// How many tasks have a live channel (for metrics and tests).
    pub fn len(&self) -> usize {
        lock(&self.channels).len()
    }

    /// Whether no task has a live channel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One listener of a task's live events; dropping it frees the task's channel when it was the
/// last one.
pub struct Subscription {
    receiver: Option<broadcast::Receiver<Arc<Event>>>,
    channels: Arc<Mutex<Channels>>,
    task_id: String,
}

impl Subscription {
    /// The next event; `None` once the channel is closed. A listener that fell behind skips
    /// what it missed (text deltas only matter live: `part.done` carries the whole text).
    pub async fn recv(&mut self) -> Option<Arc<Event>> {
        let receiver = self.receiver.as_mut()?;
        loop {
            match receiver.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// What [`Subscription::try_recv`] found.
pub enum Received {
    /// An event.
    Event(Arc<Event>),
    /// Nothing yet.
    Empty,
    /// The channel is closed.
    Closed,
}

impl Subscription {
    /// The next event already sent, without waiting (skipping what a lagging listener missed).
    pub fn try_recv(&mut self) -> Received {
        let Some(receiver) = self.receiver.as_mut() else {
            return Received::Closed;
        };
        loop {
            match receiver.try_recv() {
                Ok(event) => return Received::Event(event),
                Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(broadcast::error::TryRecvError::Empty) => return Received::Empty,
                Err(broadcast::error::TryRecvError::Closed) => return Received::Closed,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut channels = lock(&self.channels);
        // The receiver goes first, under the lock, so its count is exact when checked.
        drop(self.receiver.take());
        remove_if_unheard(&mut channels, &self.task_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64) -> Arc<Event> {
        Arc::new(Event::now(
            seq,
            RunEvent::TextDone {
                part_id: "p".into(),
                text: "t".into(),
            },
        ))
    }

    #[tokio::test]
    async fn the_last_subscriber_to_leave_frees_the_channel() {
        let hub = EventHub::default();
        let first = hub.subscribe("t1");
        let mut second = hub.subscribe("t1");
        let other = hub.subscribe("t2");
        assert_eq!(hub.len(), 2);
        drop(first);
        assert_eq!(hub.len(), 2, "one listener of t1 is left");
        hub.publish("t1", event(1));
        assert_eq!(second.recv().await.map(|e| e.seq), Some(1));
        drop(second);
        drop(other);
        assert!(hub.is_empty());
    }

    #[test]
    fn publishing_without_listeners_keeps_nothing() {
        let hub = EventHub::default();
        hub.publish("t1", event(1));
        hub.release("t1");
        assert!(hub.is_empty());
    }

    #[test]
    fn thousands_of_abandoned_subscriptions_leave_no_channel() {
        let hub = EventHub::default();
        for i in 0..10_000 {
            drop(hub.subscribe(&format!("task-{i}")));
        }
        assert!(hub.is_empty());
    }
}
