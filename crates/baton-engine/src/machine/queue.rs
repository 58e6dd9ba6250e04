//! Messages that arrive while a task runs (`multitask_strategy` `enqueue` and `interrupt`): they
//! wait in the checkpoint, in arrival order, and the next one starts the next turn as soon as
//! the running turn ends, instead of the task going inactive.

use super::event::RunEvent;
use super::transition::{Context, Effect};
use super::{admit, turn};
use crate::state::TaskData;
use baton_core::task::TaskState;

/// What the model sees for a call that was running when its turn was stopped.
pub const STOPPED_WHILE_RUNNING: &str =
    "outcome unknown: the turn was stopped while this call was running";

/// What the model sees for a call its stopped turn never ran or never got an answer for.
pub const NOT_RUN: &str = "not run: the turn was stopped before this call was answered";

/// Whether a queued message interrupts the current turn (it arrived while that turn ran).
pub fn interrupts_current(data: &TaskData) -> bool {
    data.queued
        .iter()
        .any(|q| q.interrupts.as_deref() == Some(data.response_id.as_str()))
}

/// Whether the next queued message's turn starts now that the current turn ended in `ended`.
/// A pause keeps queued messages waiting for the client's answer, unless one interrupts the
/// paused turn.
pub fn runs_next(data: &TaskData, ended: TaskState) -> bool {
    !data.queued.is_empty() && (ended != TaskState::InputRequired || interrupts_current(data))
}

/// Starts the turn of the first queued message: the calls the ended turn left unanswered are
/// closed in the history (the model is told they were stopped), the message joins the history,
/// and the turn is announced under the response id the client was given when it queued.
pub fn begin_queued(data: &mut TaskData, ctx: &Context<'_>) -> Vec<Effect> {
    if data.queued.is_empty() {
        return vec![Effect::Checkpoint, Effect::Stop];
    }
    let next = data.queued.remove(0);
    close_unanswered(data, ctx);
    data.turn_start = data.history.len();
    data.history.push(std::sync::Arc::new(next.message));
    admit::new_turn(data);
    data.variables.extend(next.variables);
    data.response_id = next.response_id;
    data.span_id = crate::random_hex(8);
    data.turn_started_ms = ctx.now_ms;
    data.streaming = next.streaming;
    data.turn_tools = next.turn_tools;
    data.announced_turn = data.response_id.clone();
    data.model_call = None;
    vec![
        Effect::NewTurn,
        Effect::Publish(RunEvent::Started {
            response_id: data.response_id.clone(),
            task_id: ctx.task_id.to_owned(),
            model: data.model.clone(),
            trace_id: data.trace_id.clone(),
            span_id: data.span_id.clone(),
        }),
        Effect::Enter(TaskState::Working),
        Effect::Checkpoint,
    ]
}

/// Answers every call the stopped turn left open, so the conversation the model sees next is
/// whole: a call that was running is "outcome unknown" (it is not run again, as after a crash),
/// any other one "not run". Reviews and pauses of those calls are over.
fn close_unanswered(data: &mut TaskData, ctx: &Context<'_>) {
    for call in data.unanswered_calls() {
        let message = match data.in_flight.get_mut(&call.id) {
            Some(attempt) => {
                attempt.interrupted = true;
                STOPPED_WHILE_RUNNING
            }
            None => NOT_RUN,
        };
        turn::record_result(data, ctx.kinds, &call, Err(message.into()));
    }
    data.in_flight.clear();
    data.awaiting_review.clear();
    data.reviews.clear();
}
