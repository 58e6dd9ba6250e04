//! The pieces of `POST /v2/agents/{key}/responses`: the request checked and turned into a
//! run, then run in the background, streamed, or run to its end.

use super::dto::{CreateResponseRequest, IdentityInput, InputMessage};
use super::owned_by;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::message_wire::MessageRole;
use crate::state::AppState;
use baton_core::agent::AgentRecord;
use baton_engine::{RunRequest, ToolReview};
use serde_json::{json, Value};

/// The run a request asks for, after checking what an end user may name.
pub(crate) async fn run_request(
    state: &AppState,
    caller: &Caller,
    agent: AgentRecord,
    version: Option<u32>,
    body: CreateResponseRequest,
) -> Result<RunRequest, ApiError> {
    let message = input_message(body.message, !body.tool_reviews.is_empty())?;
    let identity = identity(caller, body.identity.or(body.contact))?;
    if let Some(own) = caller.own_identity() {
        check_end_user_scope(
            state,
            caller,
            own,
            &body.memory,
            &body.task_id,
            &body.thread,
        )
        .await?;
    }
    let reviews = body
        .tool_reviews
        .into_iter()
        .map(|r| ToolReview {
            tool_call_id: r.tool_call_id,
            approved: r.review == super::dto::ReviewDecision::Approved,
            reason: r.reason,
        })
        .collect();
    Ok(RunRequest {
        project: caller.project.clone(),
        agent,
        version,
        role: message.role.into(),
        parts: message.parts.into_iter().map(Into::into).collect(),
        message_id: message.message_id,
        reviews,
        lineage: None,
        turn_tools: Default::default(),
        task_id: body.task_id,
        multitask: body.multitask_strategy.into(),
        background: body.background,
        stream: body.stream,
        variables: body.variables,
        identity,
        thread_id: body.thread.map(|t| t.id),
        memory_entity_id: body.memory.map(|m| m.entity_id),
        metadata: body.metadata,
    })
}

/// The message of the request; answering reviews alone needs none.
fn input_message(
    message: Option<InputMessage>,
    has_reviews: bool,
) -> Result<InputMessage, ApiError> {
    match message {
        Some(message) => Ok(message),
        None if has_reviews => Ok(InputMessage {
            role: MessageRole::Tool,
            parts: Vec::new(),
            message_id: None,
        }),
        None => Err(ApiError::invalid(
            "message",
            "is required (or send tool_reviews with task_id to answer a review)",
        )),
    }
}

/// The run's identity: the one named, else a front end's JWT subject. An end user confined to
/// its own tasks can name no other.
fn identity(caller: &Caller, named: Option<IdentityInput>) -> Result<Option<Value>, ApiError> {
    if let (Some(own), Some(named)) = (caller.own_identity(), &named) {
        if named.id != own {
            return Err(ApiError::forbidden(
                "identity.id must be the token's subject: an end user acts as itself",
            ));
        }
    }
    Ok(named
        .map(IdentityInput::into_value)
        .or_else(|| caller.subject.as_ref().map(|s| json!({"id": s}))))
}

/// An end user reaches only its own memories, tasks and threads.
async fn check_end_user_scope(
    state: &AppState,
    caller: &Caller,
    own: &str,
    memory: &Option<super::dto::MemoryInput>,
    task_id: &Option<String>,
    thread: &Option<super::dto::ThreadInput>,
) -> Result<(), ApiError> {
    // Memories are per entity: an end user's agent reads and writes only its own.
    if memory.as_ref().is_some_and(|m| m.entity_id != own) {
        return Err(ApiError::forbidden(
            "memory.entity_id must be the token's subject: an end user has only its own memories",
        ));
    }
    if let Some(task_id) = task_id {
        let task = state.engine.task(&caller.project, task_id).await?;
        if !task
            .as_ref()
            .map(|t| owned_by(t, own))
            .transpose()?
            .unwrap_or(false)
        {
            return Err(ApiError::not_found(format!("task `{task_id}` not found")));
        }
    }
    if let Some(thread) = thread {
        // A thread's history becomes the new task's context: only one's own.
        for task in state
            .engine
            .thread_tasks(&caller.project, &thread.id)
            .await?
        {
            if !owned_by(&task, own)? {
                return Err(ApiError::not_found(format!(
                    "thread `{}` not found",
                    thread.id
                )));
            }
        }
    }
    Ok(())
}
