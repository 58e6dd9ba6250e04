//! The A2A operations, alike for both bindings: each goes through the engine's services (the
//! responses API's request checks, admission, run, follow) and shows their results as A2A.

use super::convert::{self, View};
use super::error::{A2aError, A2aErrorKind};
use super::types::{
    A2aArtifact, A2aGetTaskRequest, A2aListTasksRequest, A2aListTasksResponse, A2aMessage, A2aPart,
    A2aRole, A2aSendMessageRequest, A2aStreamResponse, A2aTask, A2aTaskArtifactUpdateEvent,
    A2aTaskState, A2aTaskStatus, A2aTaskStatusUpdateEvent,
};
use crate::agents::live_agent;
use crate::auth::Caller;
use crate::responses::agent_task;
use crate::responses::create::run_request;
use crate::responses::dto::{CreateResponseRequest, MultitaskStrategyInput, ThreadInput};
use crate::state::AppState;
use baton_core::agent::AgentRef;
use baton_core::store::{PageRequest, TaskFilter, TaskRecord};
use baton_core::task::TaskState;
use baton_engine::follow::StreamItem;
use baton_engine::machine::RunEvent;
use baton_engine::{Admission, Engine};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
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
        let updates = updates(
            state.engine.clone(),
            task.clone(),
            first,
            events,
            Live::Text,
        );
        let _run = state.engine.spawn(prepared);
        return Ok(Sent::Stream(updates));
    }
    let finished = state.engine.run_turn(prepared).await?;
    let data = Engine::data(&finished)?;
    Ok(Sent::Task(Box::new(convert::task(&finished, &data, view))))
}

/// Whether a stream carries the answer's text as the model writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Live {
    /// Text chunks as artifact updates (a client's stream).
    Text,
    /// Only the whole answer (webhooks: one POST per chunk would flood them).
    Whole,
}

/// A task's stream: the task, then a working status when a turn starts, the answer's text in
/// chunks as the model writes it (with [`Live::Text`]), a working status with a `toolCall` or
/// `toolResult` data part for each server-side tool call and result, then when the turn ends
/// its whole answer (the artifact the chunks built, replaced) and its last status. Ends early,
/// without a last status, when this server stops; `SubscribeToTask` on any server follows the
/// rest.
pub(crate) fn updates(
    engine: Engine,
    task: TaskRecord,
    first: A2aTask,
    events: impl Stream<Item = StreamItem> + Send + 'static,
    live: Live,
) -> BoxStream<'static, A2aStreamResponse> {
    let context_id = first.context_id.clone();
    // The first chunk of a turn creates its answer artifact; the next ones append to it.
    let chunks = Arc::new(Mutex::new(Chunks {
        artifact_id: Engine::data(&task)
            .map(|d| convert::answer_id(&d.response_id))
            .unwrap_or_default(),
        sent: false,
    }));
    let head = stream::once(std::future::ready(A2aStreamResponse {
        task: Some(first),
        ..A2aStreamResponse::default()
    }));
    let tail = events
        .take_while(|item| std::future::ready(!matches!(item, StreamItem::Reconnect)))
        .then(move |item| {
            let (engine, task, context_id) = (engine.clone(), task.clone(), context_id.clone());
            let chunks = chunks.clone();
            async move {
                let stream = UpdateStream {
                    task: &task,
                    context_id: &context_id,
                    live,
                    chunks: &chunks,
                };
                stream.update(&engine, &item).await
            }
        })
        .flat_map(stream::iter);
    head.chain(tail).boxed()
}

/// The answer artifact a turn's text chunks build.
struct Chunks {
    /// The artifact the turn's whole answer replaces at its end.
    artifact_id: String,
    /// Whether a chunk of it was sent (the next ones append).
    sent: bool,
}

/// What the updates of one stream are about.
struct UpdateStream<'a> {
    task: &'a TaskRecord,
    context_id: &'a str,
    live: Live,
    chunks: &'a Mutex<Chunks>,
}

impl UpdateStream<'_> {
    fn chunks(&self) -> std::sync::MutexGuard<'_, Chunks> {
        self.chunks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn status_update(&self, status: A2aTaskStatus) -> A2aStreamResponse {
        A2aStreamResponse {
            status_update: Some(A2aTaskStatusUpdateEvent {
                task_id: self.task.id.clone(),
                context_id: self.context_id.to_owned(),
                status,
                metadata: None,
            }),
            ..A2aStreamResponse::default()
        }
    }

    fn artifact_update(
        &self,
        artifact: A2aArtifact,
        append: bool,
        last_chunk: bool,
    ) -> A2aStreamResponse {
        A2aStreamResponse {
            artifact_update: Some(A2aTaskArtifactUpdateEvent {
                task_id: self.task.id.clone(),
                context_id: self.context_id.to_owned(),
                artifact,
                append,
                last_chunk,
                metadata: None,
            }),
            ..A2aStreamResponse::default()
        }
    }

    /// A working status whose message is one data part (a tool call or its result).
    fn working(
        &self,
        timestamp: &str,
        message_id: String,
        data: Option<Value>,
    ) -> A2aStreamResponse {
        let message = data.map(|data| A2aMessage {
            message_id,
            context_id: Some(self.context_id.to_owned()),
            task_id: Some(self.task.id.clone()),
            role: A2aRole::Agent,
            parts: vec![A2aPart::data(data)],
            metadata: None,
            extensions: Vec::new(),
            reference_task_ids: Vec::new(),
        });
        self.status_update(A2aTaskStatus {
            state: A2aTaskState::Working,
            message,
            timestamp: Some(timestamp.to_owned()),
        })
    }

    /// What one run event shows an A2A client.
    async fn update(&self, engine: &Engine, item: &StreamItem) -> Vec<A2aStreamResponse> {
        if !item.is_terminal() {
            let StreamItem::Event(event) = item else {
                return Vec::new();
            };
            let at = &event.timestamp;
            return match &event.event {
                RunEvent::Started { response_id, .. } => {
                    *self.chunks() = Chunks {
                        artifact_id: convert::answer_id(response_id),
                        sent: false,
                    };
                    vec![self.working(at, String::new(), None)]
                }
                RunEvent::Delta {
                    reasoning: false,
                    text,
                    ..
                } if self.live == Live::Text && !text.is_empty() => {
                    let (artifact_id, append) = {
                        let mut chunks = self.chunks();
                        let append = std::mem::replace(&mut chunks.sent, true);
                        (chunks.artifact_id.clone(), append)
                    };
                    vec![self.artifact_update(
                        A2aArtifact {
                            artifact_id,
                            name: Some("answer".into()),
                            description: None,
                            parts: vec![A2aPart::text(text.clone())],
                            metadata: None,
                        },
                        append,
                        false,
                    )]
                }
                RunEvent::ToolStarted { call, .. } => vec![self.working(
                    at,
                    format!("{}-call", call.id),
                    Some(json!({"toolCall": {"id": call.id, "name": call.name,
                        "arguments": call.arguments}})),
                )],
                RunEvent::ToolDone {
                    call_id, result, ..
                } => vec![self.working(
                    at,
                    format!("{call_id}-result"),
                    Some(json!({"toolResult": {"toolCallId": call_id, "result": result}})),
                )],
                RunEvent::ToolFailed { call_id, error, .. } => vec![self.working(
                    at,
                    format!("{call_id}-result"),
                    Some(json!({"toolResult": {"toolCallId": call_id, "error": error}})),
                )],
                _ => Vec::new(),
            };
        }
        // The task is stored with its turn's last event: read its answer and status from it.
        let stored = match engine.task(&self.task.project_id, &self.task.id).await {
            Ok(Some(stored)) => stored,
            _ => return Vec::new(),
        };
        let Ok(data) = Engine::data(&stored) else {
            return Vec::new();
        };
        let mut out: Vec<A2aStreamResponse> = convert::artifacts(&stored, &data)
            .into_iter()
            .map(|artifact| self.artifact_update(artifact, false, true))
            .collect();
        out.push(self.status_update(convert::status(&stored, &data)));
        out
    }
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

/// `ListTasks`: the agent's tasks (of one context when `contextId` is given), newest first.
/// The page token is the last task id of the page before (the store's cursor), so pages hold
/// still while new tasks arrive.
pub(crate) async fn list_tasks(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    req: A2aListTasksRequest,
) -> Result<A2aListTasksResponse, A2aError> {
    let page_size = req.page_size.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&page_size) {
        return Err(A2aError::params(format!(
            "pageSize must be between 1 and {MAX_PAGE}"
        )));
    }
    let after = match req.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => None,
        Some(t) if is_task_id(t) => Some(t.to_owned()),
        Some(_) => {
            return Err(A2aError::params(
                "pageToken is not a token this server gave",
            ))
        }
    };
    let reference = AgentRef::parse(agent_key)?;
    let agent = live_agent(state, &caller.project, reference.key).await?;
    let filter = TaskFilter {
        state: req.status.and_then(baton_state),
        agent_key: Some(agent.spec.key.clone()),
        thread_id: req.context_id.filter(|c| !c.is_empty()),
    };
    let owner = caller.own_identity();
    let page = PageRequest {
        limit: Some(u64::from(page_size)),
        starting_after: after,
        ending_before: None,
    };
    let found = state
        .engine
        .list_tasks(&caller.project, &filter, owner, &page)
        .await?;
    let total = state
        .engine
        .count_tasks(&caller.project, &filter, owner)
        .await?;
    let view = View {
        history: Some(req.history_length.unwrap_or(0)),
        artifacts: req.include_artifacts,
    };
    let tasks = found
        .items
        .iter()
        .map(|t| Ok(convert::task(t, &Engine::data(t)?, view)))
        .collect::<Result<Vec<_>, A2aError>>()?;
    let next_page_token = match found.items.last() {
        Some(last) if found.has_more => last.id.clone(),
        _ => String::new(),
    };
    Ok(A2aListTasksResponse {
        tasks,
        next_page_token,
        page_size,
        total_size: u32::try_from(total).unwrap_or(u32::MAX),
    })
}

/// Whether `token` has the shape of a task id (a ULID), as the page tokens this server gives.
fn is_task_id(token: &str) -> bool {
    token.len() == 26 && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The Baton state an A2A state filter names (`TASK_STATE_UNSPECIFIED`: no filter).
fn baton_state(state: A2aTaskState) -> Option<TaskState> {
    Some(match state {
        A2aTaskState::Unspecified => return None,
        A2aTaskState::Submitted => TaskState::Submitted,
        A2aTaskState::Working => TaskState::Working,
        A2aTaskState::InputRequired => TaskState::InputRequired,
        A2aTaskState::Completed => TaskState::Completed,
        A2aTaskState::Failed => TaskState::Failed,
        A2aTaskState::Canceled => TaskState::Canceled,
        A2aTaskState::Rejected => TaskState::Rejected,
        A2aTaskState::AuthRequired => TaskState::AuthRequired,
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
    Ok(updates(
        state.engine.clone(),
        task,
        first,
        events,
        Live::Text,
    ))
}
