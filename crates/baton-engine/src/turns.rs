//! Waiting for one turn of a task: the answer to a request is its own turn's, even when
//! messages queued behind it start their turns right after it (then the stored task already
//! shows a later turn, and the turn's last event says where its messages are).

use crate::follow::StreamItem;
use crate::machine::{RunEvent, TurnMark};
use crate::state::TaskData;
use crate::{Engine, EngineError, Prepared};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_core::ProjectId;
use futures_util::StreamExt;
use std::time::Duration;

/// How long a run that published the end of its turn may take to stop before the turn's
/// outcome is read from the store instead (the run goes on with a queued message's turn).
const RUN_STOPS_WITHIN: Duration = Duration::from_millis(50);

impl Engine {
    /// Runs a prepared turn ([`Engine::spawn`]) and waits for it to end: the task as that turn
    /// left it. The run goes on without the caller when messages queued meanwhile follow it.
    /// `HandedOver` when this process drains first ([`Engine::outcome`]).
    pub async fn run_turn(&self, prepared: Prepared) -> Result<TaskRecord, EngineError> {
        let task = &prepared.task;
        let (project, task_id) = (task.project_id.clone(), task.id.clone());
        // Only what names the turn is kept: this future lives as long as the run.
        let (response_id, event_seq) = {
            let data = Self::data_without_history(task)?;
            (data.response_id, data.event_seq)
        };
        let mut live = self.subscribe(&task_id);
        let run = self.spawn(prepared);
        let waited = self.outcome(&task_id, run);
        tokio::pin!(waited);
        let ended_here = async {
            while let Some(event) = live.recv().await {
                let mark = event.event.turn_mark();
                if mark.is_some_and(|m| m.response_id == response_id) {
                    return;
                }
            }
            std::future::pending::<()>().await
        };
        let joined = tokio::select! {
            biased;
            joined = &mut waited => Some(joined),
            // The turn's end is published before the run stops; a run that does not stop at
            // once goes on with a queued turn.
            () = ended_here => tokio::time::timeout(RUN_STOPS_WITHIN, &mut waited).await.ok(),
        };
        match joined {
            // The run stopped after this turn: its task shows the turn.
            Some(Ok(Ok(task)))
                if Self::data_without_history(&task)
                    .is_ok_and(|d| d.response_id == response_id) =>
            {
                return Ok(task)
            }
            Some(Ok(Err(e))) if !matches!(e, EngineError::LeaseLost(_)) => return Err(e),
            // Later turns ran, or another worker goes on with the task.
            _ => {}
        }
        Box::pin(self.turn_outcome(&project, &task_id, &response_id, event_seq)).await
    }

    /// Waits until the turn `response_id` of a task ends, following the task's events after
    /// `after`, and returns the task as that turn left it. If the task stops without starting
    /// the turn (its message waits behind a pause), the task as it is; `HandedOver` if this
    /// process drains before the turn ends.
    pub async fn turn_outcome(
        &self,
        project: &ProjectId,
        task_id: &str,
        response_id: &str,
        after: u64,
    ) -> Result<TaskRecord, EngineError> {
        let events = self.follow_turn(project, task_id, after, response_id);
        tokio::pin!(events);
        let mut last = None;
        while let Some(item) = events.next().await {
            match item {
                StreamItem::Event(event) if event.is_terminal() => {
                    last = Some(event.event.clone());
                }
                // This process shuts down; the turn goes on elsewhere.
                StreamItem::Reconnect => return Err(EngineError::HandedOver(task_id.to_owned())),
                _ => {}
            }
        }
        let task = self
            .task(project, task_id)
            .await?
            .ok_or_else(|| EngineError::TaskNotFound(task_id.to_owned()))?;
        match last {
            Some(event) if Self::data_without_history(&task)?.response_id != response_id => {
                let data = Self::data(&task)?;
                as_turn_left_it(task, data, &event)
            }
            _ => Ok(task),
        }
    }
}

/// The task as the turn that `last` ended left it, read back from a task that has moved on to
/// later turns: the history up to the turn's end, and the turn's own outcome.
pub(crate) fn as_turn_left_it(
    mut task: TaskRecord,
    mut data: TaskData,
    last: &RunEvent,
) -> Result<TaskRecord, EngineError> {
    let Some(mark) = last.turn_mark() else {
        return Ok(task);
    };
    let TurnMark {
        response_id,
        span_id,
        start,
        end,
        usage,
    } = mark.clone();
    data.history.truncate(end);
    data.turn_start = start;
    data.response_id = response_id;
    data.span_id = span_id;
    data.turn_usage = usage;
    data.awaiting_review.clear();
    (task.state, data.finish, data.error) = match last {
        RunEvent::Done {
            finish,
            pending,
            reviews,
            ..
        } => {
            data.awaiting_review = reviews.clone();
            let state = if pending.is_empty() && reviews.is_empty() {
                TaskState::Completed
            } else {
                TaskState::InputRequired
            };
            (state, Some(*finish), None)
        }
        RunEvent::Failed { error, .. } => (TaskState::Failed, None, Some(error.clone())),
        RunEvent::Canceled { interrupted, .. } => {
            let error = match interrupted {
                true => crate::machine::turn::INTERRUPTED,
                false => "canceled",
            };
            (TaskState::Canceled, None, Some(error.to_owned()))
        }
        _ => return Ok(task),
    };
    data.put_into(&mut task)?;
    Ok(task)
}

#[cfg(test)]
mod tests;
