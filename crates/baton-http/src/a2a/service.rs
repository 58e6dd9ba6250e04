//! The A2A operations, alike for both bindings: each goes through the engine's services (the
//! responses API's request checks, admission, run, follow) and shows their results as A2A.

use super::convert::{self, View};
use super::error::{A2aError, A2aErrorKind};
use super::types::{
    A2aArtifact, A2aGetTaskRequest, A2aListTasksRequest, A2aListTasksResponse,
    A2aSendMessageRequest, A2aStreamResponse, A2aTask, A2aTaskArtifactUpdateEvent, A2aTaskState,
    A2aTaskStatus, A2aTaskStatusUpdateEvent,
};
use crate::agents::live_agent;
use crate::auth::Caller;
use crate::responses::create::run_request;
use crate::responses::dto::{CreateResponseRequest, MultitaskStrategyInput, ThreadInput};
use crate::responses::{agent_task, owned_by};
use crate::state::AppState;
use baton_core::agent::AgentRef;
use baton_core::store::TaskRecord;
use baton_engine::follow::StreamItem;
use baton_engine::{Admission, Engine};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use std::time::Duration;

/// The answer to a message: the task, or its updates as they happen.
pub(crate) enum Sent {
    /// The task after its turn (or as submitted, with `returnImmediately`).
    Task(Box<A2aTask>),
    /// The task, then its updates until the turn ends.
    Stream(BoxStream<'static, A2aStreamResponse>),
}

/// `SendMessage` / `SendStreamingMessage`: a new task (in the message's context, or a new
/// one), or the next turn of the task the message names.
pub(crate) async fn send(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    req: A2aSendMessageRequest,
    streaming: bool,
) -> Result<Sent, A2aError> {
    let reference = AgentRef::parse(agent_key)?;
    let agent = live_agent(state, &caller.project, reference.key).await?;
    let config = req.configuration.unwrap_or_default();
    let task_id = req.message.task_id.clone().filter(|t| !t.is_empty());
    let context_id = req.message.context_id.clone().filter(|c| !c.is_empty());
    if let Some(id) = &task_id {
        let existing = agent_task(state, caller, agent_key, id)
            .await
            .map_err(|_| A2aError::task_not_found(id))?;
        let data = Engine::data(&existing)?;
        if context_id.as_ref().is_some_and(|c| *c != data.context_id) {
            return Err(A2aError::params(format!(
                "message.contextId: task `{id}` belongs to context `{}`",
                data.context_id
            )));
        }
    }
    let input = convert::run_input(req.message)?;
    let background = config.return_immediately && !streaming;
    let view = View {
        history: config.history_length,
        artifacts: true,
    };
    // Every A2A task has a thread, its context, so its context lists it.
    let thread = task_id.is_none().then(|| ThreadInput {
        id: context_id.unwrap_or_else(baton_core::id::new_id),
    });
    let body = CreateResponseRequest {
        message: input.message,
        tool_reviews: input.reviews,
        task_id,
        thread,
        metadata: req.metadata.unwrap_or_default(),
        background,
        stream: streaming,
        multitask_strategy: MultitaskStrategyInput::Reject,
        ..CreateResponseRequest::default()
    };
    let request = run_request(state, caller, agent, reference.version, body).await?;
    let prepared = match state.engine.admit(request).await? {
        Admission::Run(prepared) => prepared,
        Admission::Queued(queued) => {
            return Err(A2aError::new(
                A2aErrorKind::Busy,
                format!("task `{}` is still running", queued.task.id),
            ))
        }
    };
    if let Some(push) = config.task_push_notification_config {
        super::push::register(state, caller, &prepared.task.id, push).await?;
    }
    super::push::watch(state, &prepared.task).await;
    let data = Engine::data(&prepared.task)?;
    if background {
        return Ok(Sent::Task(Box::new(convert::task(
            &prepared.task,
            &data,
            view,
        ))));
    }
    if streaming {
        let task = &prepared.task;
        let events = state.engine.follow_turn(
            &task.project_id,
            &task.id,
            data.event_seq,
            &data.response_id,
        );
        let first = convert::task(task, &data, view);
        let updates = updates(state.engine.clone(), task.clone(), first, events);
        let _run = state.engine.spawn(prepared);
        return Ok(Sent::Stream(updates));
    }
    let finished = state.engine.run_turn(prepared).await?;
    let data = Engine::data(&finished)?;
    Ok(Sent::Task(Box::new(convert::task(&finished, &data, view))))
}

/// A task's stream: the task, then a working status when a turn starts, then when the turn
/// ends its answer (artifacts) and its last status. Ends early, without a last status, when
/// this server stops; `SubscribeToTask` on any server follows the rest.
pub(crate) fn updates(
    engine: Engine,
    task: TaskRecord,
    first: A2aTask,
    events: impl Stream<Item = StreamItem> + Send + 'static,
) -> BoxStream<'static, A2aStreamResponse> {
    let context_id = first.context_id.clone();
    let head = stream::once(std::future::ready(A2aStreamResponse {
        task: Some(first),
        ..A2aStreamResponse::default()
    }));
    let tail = events
        .take_while(|item| std::future::ready(!matches!(item, StreamItem::Reconnect)))
        .then(move |item| {
            let (engine, task, context_id) = (engine.clone(), task.clone(), context_id.clone());
            async move { update(&engine, &task, &context_id, &item).await }
        })
        .flat_map(stream::iter);
    head.chain(tail).boxed()
}

/// What one run event shows an A2A client.
async fn update(
    engine: &Engine,
    task: &TaskRecord,
    context_id: &str,
    item: &StreamItem,
) -> Vec<A2aStreamResponse> {
    let status_update = |status: A2aTaskStatus| A2aStreamResponse {
        status_update: Some(A2aTaskStatusUpdateEvent {
            task_id: task.id.clone(),
            context_id: context_id.to_owned(),
            status,
            metadata: None,
        }),
        ..A2aStreamResponse::default()
    };
    if !item.is_terminal() {
        return match item {
            StreamItem::Event(event)
                if matches!(event.event, baton_engine::machine::RunEvent::Started { .. }) =>
            {
                vec![status_update(A2aTaskStatus {
                    state: A2aTaskState::Working,
                    message: None,
                    timestamp: Some(event.timestamp.clone()),
                })]
            }
            _ => Vec::new(),
        };
    }
    // The task is stored with its turn's last event: read its answer and status from it.
    let stored = match engine.task(&task.project_id, &task.id).await {
        Ok(Some(stored)) => stored,
        _ => return Vec::new(),
    };
    let Ok(data) = Engine::data(&stored) else {
        return Vec::new();
    };
    let mut out: Vec<A2aStreamResponse> = convert::artifacts(&stored, &data)
        .into_iter()
        .map(|artifact: A2aArtifact| A2aStreamResponse {
            artifact_update: Some(A2aTaskArtifactUpdateEvent {
                task_id: task.id.clone(),
                context_id: context_id.to_owned(),
                artifact,
                append: false,
                last_chunk: true,
                metadata: None,
            }),
            ..A2aStreamResponse::default()
        })
        .collect();
    out.push(status_update(convert::status(&stored, &data)));
    out
}

/// `GetTask`.
pub(crate) async fn get_task(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    req: A2aGetTaskRequest,
) -> Result<A2aTask, A2aError> {
    let task = find(state, caller, agent_key, &req.id).await?;
    let data = Engine::data(&task)?;
    Ok(convert::task(
        &task,
        &data,
        View {
            history: req.history_length,
            artifacts: true,
        },
    ))
}

/// The agent's task `id`, if the caller may see it.
pub(crate) async fn find(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    id: &str,
) -> Result<TaskRecord, A2aError> {
    // An unknown agent is a failure of its own; an unknown task is A2A's TaskNotFound.
    let reference = AgentRef::parse(agent_key)?;
    live_agent(state, &caller.project, reference.key).await?;
    agent_task(state, caller, agent_key, id)
        .await
        .map_err(|_| A2aError::task_not_found(id))
}

/// Most tasks `ListTasks` answers at once, and by default.
const MAX_PAGE: u32 = 100;
const DEFAULT_PAGE: u32 = 50;

/// `ListTasks`: the tasks of one context (Baton lists tasks by context), newest first.
pub(crate) async fn list_tasks(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    req: A2aListTasksRequest,
) -> Result<A2aListTasksResponse, A2aError> {
    let context_id = req.context_id.filter(|c| !c.is_empty()).ok_or_else(|| {
        A2aError::params("contextId is required: this server lists the tasks of one context")
    })?;
    let page_size = req.page_size.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&page_size) {
        return Err(A2aError::params(format!(
            "pageSize must be between 1 and {MAX_PAGE}"
        )));
    }
    let offset: usize = match req.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| A2aError::params("pageToken is not a token this server gave"))?,
    };
    let reference = AgentRef::parse(agent_key)?;
    let agent = live_agent(state, &caller.project, reference.key).await?;
    let mut tasks = Vec::new();
    for task in state
        .engine
        .thread_tasks(&caller.project, &context_id)
        .await?
        .into_iter()
        .rev()
    {
        if task.agent_id != agent.id {
            continue;
        }
        if let Some(own) = caller.own_identity() {
            if !owned_by(&task, own)? {
                continue;
            }
        }
        let a2a_state = convert::state(task.state);
        if req.status.is_some_and(|s| s != a2a_state) {
            continue;
        }
        tasks.push(task);
    }
    let total = tasks.len();
    let view = View {
        history: Some(req.history_length.unwrap_or(0)),
        artifacts: req.include_artifacts,
    };
    let page = tasks
        .iter()
        .skip(offset)
        .take(page_size as usize)
        .map(|t| Ok(convert::task(t, &Engine::data(t)?, view)))
        .collect::<Result<Vec<_>, A2aError>>()?;
    let next = offset + page.len();
    Ok(A2aListTasksResponse {
        tasks: page,
        next_page_token: if next < total {
            next.to_string()
        } else {
            String::new()
        },
        page_size,
        total_size: total as u32,
    })
}

/// How long `CancelTask` waits for a running task to stop before answering with it as it is.
const CANCEL_WAIT: Duration = Duration::from_secs(10);

/// `CancelTask`: a running task ends canceled; one that no longer runs cannot be.
pub(crate) async fn cancel_task(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    id: &str,
) -> Result<A2aTask, A2aError> {
    let mut task = find(state, caller, agent_key, id).await?;
    if task.state.is_inactive() {
        return Err(A2aError::new(
            A2aErrorKind::TaskNotCancelable,
            format!(
                "task `{id}` is {} and cannot be canceled",
                task.state.as_str()
            ),
        ));
    }
    state.engine.cancel(&caller.project, &task.id).await?;
    let deadline = tokio::time::Instant::now() + CANCEL_WAIT;
    while !task.state.is_inactive() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Some(now) = state.engine.task(&caller.project, &task.id).await? {
            task = now;
        }
    }
    let data = Engine::data(&task)?;
    Ok(convert::task(&task, &data, View::FULL))
}

/// `SubscribeToTask`: a running task's stream from now on; a task that does not run has none.
pub(crate) async fn subscribe(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    id: &str,
) -> Result<BoxStream<'static, A2aStreamResponse>, A2aError> {
    let task = find(state, caller, agent_key, id).await?;
    if task.state.is_inactive() {
        return Err(A2aError::new(
            A2aErrorKind::UnsupportedOperation,
            format!(
                "task `{id}` is {}: only a running task can be subscribed to",
                task.state.as_str()
            ),
        ));
    }
    let data = Engine::data(&task)?;
    let events = state
        .engine
        .follow(&caller.project, &task.id, data.event_seq);
    let first = convert::task(&task, &data, View::FULL);
    Ok(updates(state.engine.clone(), task, first, events))
}
