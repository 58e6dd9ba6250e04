//! Task event streams: orq's SSE event types, published live to subscribers in this process
//! and persisted (all but text deltas) so a client that reconnects gets what it missed.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// One event of a task's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the task's stream (the SSE `id`).
    pub seq: u64,
    /// `{"type", "timestamp", "data"}`.
    pub payload: Value,
}

impl Event {
    /// The event type (`response.started`, `part.delta`, …).
    pub fn kind(&self) -> &str {
        self.payload["type"].as_str().unwrap_or_default()
    }

    /// Whether this event ends a turn's stream.
    pub fn is_terminal(&self) -> bool {
        matches!(self.kind(), "response.done" | "response.failed")
    }

    /// Whether it is kept for replay (text deltas are not: `part.done` carries the whole part).
    pub fn is_persisted(&self) -> bool {
        self.kind() != "part.delta"
    }
}

/// Builds an event payload of `kind` with camelCase `data`.
pub fn payload(kind: &str, data: Value) -> Value {
    json!({"type": kind, "timestamp": baton_core::id::now_rfc3339(), "data": data})
}

/// Live fan-out of task events inside one process.
#[derive(Default)]
pub struct EventHub {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<Event>>>>,
}

const CHANNEL_CAPACITY: usize = 1024;

impl EventHub {
    fn sender(&self, task_id: &str) -> broadcast::Sender<Arc<Event>> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .entry(task_id.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .clone()
    }

    /// Receives the task's events from now on.
    pub fn subscribe(&self, task_id: &str) -> broadcast::Receiver<Arc<Event>> {
        self.sender(task_id).subscribe()
    }

    /// Sends an event to current subscribers (none is fine).
    pub fn publish(&self, task_id: &str, event: Arc<Event>) {
        let sender = {
            let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
            channels.get(task_id).cloned()
        };
        if let Some(sender) = sender {
            let _ = sender.send(event);
        }
    }

    /// Drops the channel once nobody listens (after a turn ends).
    pub fn release(&self, task_id: &str) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if channels
            .get(task_id)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            channels.remove(task_id);
        }
    }
}
