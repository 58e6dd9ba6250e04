//! How a create request is answered — at once (`background`), streamed, or when its turn
//! ends — alike for a turn that runs now and for a message queued on a running task
//! (`multitask_strategy` `enqueue` or `interrupt`): a queued message's answer is its own turn's.

use super::dto::{AgentResponse, QueuedReceipt};
use super::sse;
use crate::error::ApiError;
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_engine::{Admission, Engine, QueuedMessage};

/// The answer to a create request whose message was admitted.
pub(super) async fn answer(
    engine: &Engine,
    admitted: Admission,
    background: bool,
    streaming: bool,
) -> Result<Response, ApiError> {
    let prepared = match admitted {
        Admission::Run(prepared) => prepared,
        // Boxed: rarer than a turn that runs now, and its future is the larger one.
        Admission::Queued(queued) => {
            return Box::pin(queued_answer(engine, queued, background, streaming)).await
        }
    };
    if background {
        let mut task = prepared.task;
        let data = Engine::take_data(&mut task)?;
        return Ok(Json(AgentResponse::new(&task, &data)).into_response());
    }
    if !streaming {
        // Before anything borrows `prepared`: its room need not be kept while the run goes on.
        let mut finished = engine.run_turn(prepared).await?;
        // Rendered, not stored: the history moves into the answer rather than being copied.
        let data = Engine::take_data(&mut finished)?;
        return Ok(Json(AgentResponse::new(&finished, &data)).into_response());
    }
    let task = &prepared.task;
    let data = Engine::data_without_history(task)?;
    // Followed from the task's last stored event, before the run starts: nothing is missed, a
    // continued task's earlier turns are not replayed, and turns of messages queued behind this
    // one are not this request's.
    let events = engine.follow_turn(
        &task.project_id,
        &task.id,
        data.event_seq,
        &data.response_id,
    );
    tracing::debug!(task = %task.id, "streaming run");
    let _run = engine.spawn(prepared);
    Ok(sse(events).into_response())
}

/// A queued message: `background` answers at once with the task as it is and the message's
/// place in the queue; a stream follows the message's turn from its start to its end; otherwise
/// the answer waits for that turn to end.
async fn queued_answer(
    engine: &Engine,
    queued: QueuedMessage,
    background: bool,
    streaming: bool,
) -> Result<Response, ApiError> {
    let task = &queued.task;
    if background {
        let mut data = Engine::data(task)?;
        // The message's own response: its id, no output yet; the task's state as it is.
        data.response_id = queued.response_id.clone();
        data.turn_start = data.history.len();
        data.turn_usage = Default::default();
        data.finish = None;
        data.error = None;
        let mut body = AgentResponse::new(task, &data);
        body.queued = Some(receipt(&queued));
        return Ok(Json(body).into_response());
    }
    if streaming {
        let events = engine.follow_turn(
            &task.project_id,
            &task.id,
            queued.after,
            &queued.response_id,
        );
        return Ok(sse(events).into_response());
    }
    let finished = engine
        .turn_outcome(
            &task.project_id,
            &task.id,
            &queued.response_id,
            queued.after,
        )
        .await?;
    let mut finished = finished;
    let data = Engine::take_data(&mut finished)?;
    let mut body = AgentResponse::new(&finished, &data);
    if data.response_id != queued.response_id {
        // The task stopped before the message's turn (it waits behind a pause): say so.
        body.queued = Some(receipt(&queued));
    }
    Ok(Json(body).into_response())
}

/// Where a queued message waits.
fn receipt(queued: &QueuedMessage) -> QueuedReceipt {
    QueuedReceipt {
        message_id: queued.message_id.clone(),
        response_id: queued.response_id.clone(),
        position: queued.position as u64,
        interrupts: queued.interrupts,
    }
}
