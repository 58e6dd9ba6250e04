//! A message for a task that is still running (`multitask_strategy`): refused with the task's
//! running state, or queued in the task's checkpoint behind the running turn — to run after it,
//! or to interrupt it at its next checkpoint.

use crate::state::{QueuedTurn, TaskData};
use crate::{
    invalid, machine, prompt, BusyTask, Engine, EngineError, MultitaskStrategy, Prepared,
    RunRequest,
};
use baton_core::message::{Message, Role};
use baton_core::store::{StoreError, TaskRecord};
use serde_json::Map;
use std::time::Duration;

/// What became of a request: a turn ready to run, or a message queued behind a running turn.
// Made once per request and moved to its answer: boxing either side would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Admission {
    /// The task's new turn, stored and ready to run ([`Engine::spawn`]).
    Run(Prepared),
    /// The message waits in the task's checkpoint until the running turn (or a pause) ends.
    Queued(QueuedMessage),
}

/// A message queued on a task: where it waits and how its turn will be known.
#[derive(Debug, Clone)]
pub struct QueuedMessage {
    /// The task as stored with the message.
    pub task: TaskRecord,
    /// The message's id.
    pub message_id: String,
    /// The response id its turn will answer with.
    pub response_id: String,
    /// Its place in the queue, from 1.
    pub position: usize,
    /// Whether it interrupts the running turn.
    pub interrupts: bool,
    /// The task's last stored event when the message was queued: its turn's events follow.
    pub after: u64,
}

/// How a request is taken, given its task as stored.
#[derive(Debug, PartialEq, Eq)]
enum Way {
    /// As the task's next turn, now.
    Continue,
    /// Refused: the task is busy.
    Refuse,
    /// Into the task's queue.
    Queue,
}

/// Tries before a message that keeps losing the race for its task gives up.
const ATTEMPTS: u32 = 32;

fn way(task: &TaskRecord, data: &TaskData, req: &RunRequest) -> Result<Way, EngineError> {
    let busy = !task.state.is_inactive();
    let queueable = req.role == Role::User && req.reviews.is_empty();
    Ok(match req.multitask {
        MultitaskStrategy::Reject if busy => Way::Refuse,
        MultitaskStrategy::Reject => Way::Continue,
        // Messages queued behind a pause keep their order; tool results answer the pause.
        MultitaskStrategy::Enqueue if !busy && !data.queued.is_empty() && queueable => Way::Queue,
        _ if !busy => Way::Continue,
        _ if queueable => Way::Queue,
        _ => {
            let field = if req.reviews.is_empty() {
                "message.role"
            } else {
                "tool_reviews"
            };
            return Err(invalid(
                field,
                "only a `user` message can wait for a running task; tool results and reviews answer a paused one",
            ));
        }
    })
}

impl BusyTask {
    /// What the stored task is doing.
    pub(crate) fn of(task: &TaskRecord, data: &TaskData) -> Self {
        let running_tools = data
            .unanswered_calls()
            .into_iter()
            .filter(|c| data.in_flight.contains_key(&c.id))
            .map(|c| c.name)
            .collect();
        Self {
            task_id: task.id.clone(),
            state: task.state,
            response_id: data.response_id.clone(),
            iterations: data.iterations,
            running_tools,
            queued: data.queued.len(),
            updated: task.updated.clone(),
        }
    }
}

impl Engine {
    /// Validates the request and stores what it makes: a new task or the next turn of an
    /// inactive one (ready to run), or — for a task still running — what its
    /// `multitask` strategy says: `Busy` with the task's running state, or the message queued.
    pub async fn admit(&self, req: RunRequest) -> Result<Admission, EngineError> {
        let Some(task_id) = req.task_id.clone() else {
            return self.prepare(req).await.map(Admission::Run);
        };
        for attempt in 0..ATTEMPTS {
            let task = self
                .inner
                .store
                .task(&req.project, &task_id)
                .await?
                .filter(|t| t.agent_id == req.agent.id)
                .ok_or_else(|| EngineError::TaskNotFound(task_id.clone()))?;
            // What decides the way is the task's state and queue, not its messages.
            let data = Self::data_without_history(&task)?;
            match way(&task, &data, &req)? {
                Way::Refuse => {
                    let data = Self::data(&task)?;
                    return Err(EngineError::Busy(Box::new(BusyTask::of(&task, &data))));
                }
                // Busy means the task changed since it was read: look again.
                Way::Continue => match self.prepare_read(req.clone(), Some(task)).await {
                    Err(EngineError::Busy(_)) => {}
                    other => return other.map(Admission::Run),
                },
                Way::Queue => match self.enqueue(task, data, &req).await {
                    Err(EngineError::Store(StoreError::Conflict(_))) => {}
                    other => return other.map(Admission::Queued),
                },
            }
            // Another writer (usually the running turn's checkpoint) went first.
            let jitter = u64::from(rand::random::<u8>() % 4);
            tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(8)) + jitter)).await;
        }
        Err(EngineError::Conflict(format!(
            "task `{task_id}` kept changing while the message was being queued; send it again"
        )))
    }

    /// Appends the message to the task's queue: one write of the task, guarded by its revision
    /// like a checkpoint (a `Conflict` means another writer went first; read and try again).
    /// The run of the task takes it in at its next checkpoint.
    async fn enqueue(
        &self,
        mut task: TaskRecord,
        mut data: TaskData,
        req: &RunRequest,
    ) -> Result<QueuedMessage, EngineError> {
        let message = Message {
            message_id: req
                .message_id
                .clone()
                .unwrap_or_else(baton_core::id::new_id),
            role: req.role,
            parts: req.parts.clone(),
        };
        machine::admit::check_message(&message)?;
        req.turn_tools
            .check()
            .map_err(|(field, why)| crate::invalid(&format!("turn_tools.{field}"), why))?;
        let busy = !task.state.is_inactive();
        let interrupts = (busy && req.multitask == MultitaskStrategy::Interrupt)
            .then(|| data.response_id.clone());
        let queued = QueuedTurn {
            message,
            response_id: baton_core::id::new_id(),
            interrupts: interrupts.clone(),
            streaming: req.stream,
            variables: prompt::merge_variables(
                &Map::new(),
                &req.variables,
                self.inner.cipher.as_ref(),
            ),
            turn_tools: req.turn_tools.clone(),
        };
        let receipt = QueuedMessage {
            message_id: queued.message.message_id.clone(),
            response_id: queued.response_id.clone(),
            position: data.queued.len() + 1,
            interrupts: interrupts.is_some(),
            after: data.event_seq,
            task: task.clone(),
        };
        data.queued.push(queued);
        data.queued_total += 1;
        task.data =
            serde_json::to_value(&data).map_err(|e| EngineError::internal("encode task", e))?;
        let expected = task.revision;
        task.revision += 1;
        self.inner.store.save_task(&task, expected).await?;
        if let Some(turn) = &interrupts {
            // A run in this process stops now; one elsewhere at its next checkpoint.
            self.wake_local_run(&task.id, Some(turn));
        }
        Ok(QueuedMessage { task, ..receipt })
    }

    /// The refusal for a task that another writer changed first, with what it does now.
    pub(crate) async fn busy(&self, project: &baton_core::ProjectId, task_id: &str) -> EngineError {
        let task = match self.inner.store.task(project, task_id).await {
            Ok(Some(task)) => task,
            Ok(None) => return EngineError::TaskNotFound(task_id.to_owned()),
            Err(e) => return e.into(),
        };
        match Self::data(&task) {
            Ok(data) => EngineError::Busy(Box::new(BusyTask::of(&task, &data))),
            Err(e) => e,
        }
    }
}
