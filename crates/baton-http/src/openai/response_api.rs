//! `POST /v1/responses`: one agent turn as an OpenAI response, whole or as the typed event
//! stream (`response.created` … `response.completed`, each with its `sequence_number`).

use super::dto::{
    OpenAiAssistantRole, OpenAiChatRole, OpenAiIncompleteDetails, OpenAiInputItem,
    OpenAiInputTokensDetails, OpenAiItemStatus, OpenAiOutputItem, OpenAiOutputItemType,
    OpenAiOutputText, OpenAiOutputTextType, OpenAiOutputTokensDetails, OpenAiResponse,
    OpenAiResponseError, OpenAiResponseEvent, OpenAiResponseInput, OpenAiResponseObject,
    OpenAiResponseRequest, OpenAiResponseStatus, OpenAiResponseUsage, OpenAiToolDefinition,
};
use super::{
    arguments_text, call_id_in, call_id_out, content_text, context_part, response_id_in,
    response_id_out, run_request, run_streamed, run_to_end, shown_tools, tool_output,
    translated_stream, RunOptions, TurnInput, TurnTranslator,
};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use baton_core::message::{Part, Role};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_engine::follow::StreamItem;
use baton_engine::state::{Finish, TaskData};
use baton_engine::Engine;
use futures_util::stream::BoxStream;
use serde_json::{Map, Value};
use std::convert::Infallible;

/// Run an agent turn as a response: `input` is a user message, or `function_call_output` items
/// answering an earlier response's `function_call` items (which continues its task);
/// `previous_response_id` continues that response's task.
#[utoipa::path(post, path = "/v1/responses", operation_id = "openai_responses_create", tag = "openai",
    request_body = OpenAiResponseRequest,
    responses(
        (status = 200, description = "The response (JSON); with `stream: true`, `text/event-stream` whose \
            messages are `event: <type>` and `data: <event JSON>` with its `sequence_number`, from \
            `response.created` to `response.completed` (or `response.failed` / `response.incomplete`)",
            content((OpenAiResponse = "application/json"), (super::stream_doc::OpenAiResponseSse = "text/event-stream"))),
        (status = 400, description = "Invalid field (`error.param` names it)", body = ErrorBody),
        (status = 404, description = "Unknown model (`error.param` is `model`), or a response or call id of no task of this agent", body = ErrorBody),
        (status = 409, description = "The task is still running", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<OpenAiResponseRequest>,
) -> Result<Response, ApiError> {
    let input = response_input(&body)?;
    let turn_tools = super::turn_tools(body.tools.as_deref(), body.tool_choice.as_ref())?;
    let agent = super::resolve_model(&state, &caller, &body.model).await?;
    let streaming = body.stream.unwrap_or(false);
    let (tools, tool_choice) = shown_tools(&turn_tools);
    let head = Head {
        model: body.model.clone(),
        previous: body.previous_response_id.clone(),
        metadata: body.metadata.clone().unwrap_or_default(),
        tools,
        tool_choice,
    };
    let options = RunOptions {
        stream: streaming,
        user: body.user,
        metadata: body.metadata,
        turn_tools,
    };
    let request = run_request(&state, &caller, agent, input, options).await?;
    if streaming {
        let (task, events) = run_streamed(&state, request).await?;
        return Ok(stream_answer(state.engine.clone(), task, events, head)?.into_response());
    }
    let task = run_to_end(&state, request).await?;
    let data = Engine::data(&task)?;
    let mut output = messages(&data);
    output.extend(function_calls(&task, &data));
    Ok(Json(head.response(&task, &data, output, true)).into_response())
}

/// Retrieve a response: the latest turn of the task it names, as `POST /v1/responses`
/// answered it (or answers it, while it runs: `in_progress` with the output so far). Only a
/// task's latest turn is kept in this shape: an earlier response's id is unknown.
#[utoipa::path(get, path = "/v1/responses/{response_id}", operation_id = "openai_responses_retrieve", tag = "openai",
    params(("response_id" = String, Path, description = "The response's id (`resp_<task id>_<response id>`)")),
    responses(
        (status = 200, description = "The response", body = OpenAiResponse),
        (status = 404, description = "No such response (or not the latest of its task, or of another end user)", body = ErrorBody)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(response_id): Path<String>,
) -> Result<Json<OpenAiResponse>, ApiError> {
    let not_found = |why: &str| {
        let mut e = ApiError::not_found(format!("No response with id `{response_id}`: {why}"));
        e.param = Some("response_id".into());
        e
    };
    let Some(task_id) = response_id_in(&response_id) else {
        return Err(not_found("not the id of a response of this server"));
    };
    let Some(task) = super::visible_task(&state, &caller, task_id).await? else {
        return Err(not_found("its task does not exist"));
    };
    let data = Engine::data(&task)?;
    if response_id != response_id_out(&task.id, &data.response_id) {
        return Err(not_found(
            "it is an earlier turn of its task, and only the latest is kept",
        ));
    }
    let (tools, tool_choice) = shown_tools(&data.turn_tools);
    let head = Head {
        model: format!("{}{}", super::AGENT_PREFIX, task.agent_key),
        previous: None,
        metadata: data.metadata.clone(),
        tools,
        tool_choice,
    };
    let ended = task.state.is_inactive();
    let mut output = messages(&data);
    output.extend(function_calls(&task, &data));
    Ok(Json(head.response(&task, &data, output, ended)))
}

/// What a response repeats of its request.
#[derive(Clone)]
struct Head {
    model: String,
    previous: Option<String>,
    metadata: Map<String, Value>,
    tools: Vec<OpenAiToolDefinition>,
    tool_choice: Value,
}

impl Head {
    /// The response of `task`'s current turn with `output`; `ended` once the turn ended.
    fn response(
        &self,
        task: &TaskRecord,
        data: &TaskData,
        output: Vec<OpenAiOutputItem>,
        ended: bool,
    ) -> OpenAiResponse {
        let failed = matches!(task.state, TaskState::Failed | TaskState::Canceled);
        let incomplete = match data.finish {
            Some(Finish::Length | Finish::MaxIterations | Finish::MaxTime) => {
                Some("max_output_tokens")
            }
            Some(Finish::ContentFilter) => Some("content_filter"),
            _ => None,
        };
        let status = match () {
            _ if !ended => OpenAiResponseStatus::InProgress,
            _ if failed => OpenAiResponseStatus::Failed,
            _ if incomplete.is_some() => OpenAiResponseStatus::Incomplete,
            _ => OpenAiResponseStatus::Completed,
        };
        let usage = &data.turn_usage;
        OpenAiResponse {
            id: response_id_out(&task.id, &data.response_id),
            object: OpenAiResponseObject::Response,
            created_at: chrono::DateTime::from_timestamp_millis(data.turn_started_ms)
                .map_or_else(|| chrono::Utc::now().timestamp(), |t| t.timestamp()),
            status,
            model: self.model.clone(),
            output,
            usage: ended.then_some(OpenAiResponseUsage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
                total_tokens: usage.total_tokens,
                input_tokens_details: OpenAiInputTokensDetails { cached_tokens: 0 },
                output_tokens_details: OpenAiOutputTokensDetails {
                    reasoning_tokens: 0,
                },
            }),
            error: (ended && failed).then(|| OpenAiResponseError {
                code: "server_error".into(),
                message: data
                    .error
                    .clone()
                    .unwrap_or_else(|| "the run was canceled".into()),
            }),
            incomplete_details: incomplete.filter(|_| ended && !failed).map(|reason| {
                OpenAiIncompleteDetails {
                    reason: reason.into(),
                }
            }),
            previous_response_id: self.previous.clone(),
            metadata: self.metadata.clone(),
            parallel_tool_calls: true,
            tool_choice: self.tool_choice.clone(),
            tools: self.tools.clone(),
        }
    }
}

/// The turn a request asks for.
fn response_input(body: &OpenAiResponseRequest) -> Result<TurnInput, ApiError> {
    let previous = match &body.previous_response_id {
        None => None,
        Some(id) => {
            let task = response_id_in(id).ok_or_else(|| {
                ApiError::invalid(
                    "previous_response_id",
                    format!("`{id}` is not the id of a response of this server"),
                )
            })?;
            Some((task.to_owned(), "previous_response_id".to_owned()))
        }
    };
    let mut instructions: Vec<String> = body.instructions.iter().cloned().collect();
    let items = match &body.input {
        OpenAiResponseInput::Text(text) => {
            if text.trim().is_empty() {
                return Err(ApiError::invalid("input", "the input has no text"));
            }
            let mut parts: Vec<Part> = context_part(&instructions, &[]).into_iter().collect();
            parts.push(Part::Text { text: text.clone() });
            return Ok(TurnInput {
                role: Role::User,
                parts,
                task: previous,
            });
        }
        OpenAiResponseInput::Items(items) => items,
    };
    for (i, item) in items.iter().enumerate() {
        match item.kind.as_deref() {
            None | Some("message" | "function_call" | "function_call_output") => {}
            Some(other) => {
                return Err(ApiError::invalid(
                    format!("input[{i}].type"),
                    format!("`{other}` items are not supported (message, function_call, function_call_output)"),
                ))
            }
        }
    }
    let Some(last) = items.last() else {
        return Err(ApiError::invalid("input", "send at least one item"));
    };
    if last.kind.as_deref() == Some("function_call_output") {
        return call_outputs(items, previous);
    }
    let last_index = items.len() - 1;
    if is_function_call(last) || last.role != Some(OpenAiChatRole::User) {
        return Err(ApiError::invalid(
            format!("input[{last_index}]"),
            "the last item must be a `user` message, or `function_call_output` items",
        ));
    }
    let text = content_text(last.content.as_ref());
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            format!("input[{last_index}].content"),
            "the user message has no text",
        ));
    }
    let mut conversation = Vec::new();
    for item in &items[..last_index] {
        let text = content_text(item.content.as_ref());
        match (item.kind.as_deref(), item.role) {
            (Some("function_call"), _) => {}
            (Some("function_call_output"), _) => conversation.push(format!(
                "tool result ({}): {}",
                item.call_id.as_deref().unwrap_or("?"),
                output_text(item.output.as_ref())
            )),
            (_, Some(OpenAiChatRole::System | OpenAiChatRole::Developer)) => {
                instructions.push(text)
            }
            (_, Some(OpenAiChatRole::Assistant)) => conversation.push(format!("assistant: {text}")),
            _ => conversation.push(format!("user: {text}")),
        }
    }
    // A continued task holds the conversation already.
    if previous.is_some() {
        conversation.clear();
    }
    let mut parts: Vec<Part> = context_part(&instructions, &conversation)
        .into_iter()
        .collect();
    parts.push(Part::Text { text });
    Ok(TurnInput {
        role: Role::User,
        parts,
        task: previous,
    })
}

fn is_function_call(item: &OpenAiInputItem) -> bool {
    matches!(
        item.kind.as_deref(),
        Some("function_call" | "function_call_output")
    )
}

/// An output as text.
fn output_text(output: Option<&Value>) -> String {
    match output {
        None => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// The trailing `function_call_output` items as the results that continue their task.
fn call_outputs(
    items: &[OpenAiInputItem],
    previous: Option<(String, String)>,
) -> Result<TurnInput, ApiError> {
    let mut task = previous;
    let mut parts = Vec::new();
    let first = items
        .iter()
        .rposition(|i| i.kind.as_deref() != Some("function_call_output"))
        .map_or(0, |i| i + 1);
    for (i, item) in items.iter().enumerate().skip(first) {
        let param = format!("input[{i}].call_id");
        let Some(id) = item.call_id.as_deref() else {
            return Err(ApiError::invalid(
                param,
                "a `function_call_output` needs the call's id",
            ));
        };
        let Some((task_id, call_id)) = call_id_in(id) else {
            return Err(ApiError::invalid(
                param,
                format!("`{id}` is not the id of a call this server answered with"),
            ));
        };
        match &task {
            Some((known, _)) if known != task_id => return Err(ApiError::invalid(
                param,
                "answers a call of another task than previous_response_id or the items before it",
            )),
            Some(_) => {}
            None => task = Some((task_id.to_owned(), param)),
        }
        let result = match &item.output {
            Some(Value::String(text)) => tool_output(text.clone()),
            Some(other) => other.clone(),
            None => Value::Null,
        };
        parts.push(Part::ToolResult {
            tool_call_id: call_id.to_owned(),
            result: Some(result),
            metadata: None,
        });
    }
    Ok(TurnInput {
        role: Role::Tool,
        parts,
        task,
    })
}

/// A message item.
fn message_item(id: String, texts: Vec<String>, status: OpenAiItemStatus) -> OpenAiOutputItem {
    OpenAiOutputItem {
        kind: OpenAiOutputItemType::Message,
        id,
        status,
        role: Some(OpenAiAssistantRole::Assistant),
        content: Some(texts.into_iter().map(output_text_part).collect()),
        call_id: None,
        name: None,
        arguments: None,
    }
}

fn output_text_part(text: String) -> OpenAiOutputText {
    OpenAiOutputText {
        kind: OpenAiOutputTextType::OutputText,
        text,
        annotations: Vec::new(),
    }
}

/// The turn's agent messages with text, as message items.
fn messages(data: &TaskData) -> Vec<OpenAiOutputItem> {
    data.turn_output()
        .iter()
        .filter(|m| m.role == Role::Agent)
        .filter_map(|m| {
            let texts: Vec<String> = m
                .parts
                .iter()
                .filter_map(|p| match p {
                    Part::Text { text } if !text.is_empty() => Some(text.clone()),
                    _ => None,
                })
                .collect();
            (!texts.is_empty()).then(|| {
                message_item(
                    format!("msg_{}", m.message_id),
                    texts,
                    OpenAiItemStatus::Completed,
                )
            })
        })
        .collect()
}

/// The client-side calls the task waits on, as `function_call` items.
fn function_calls(task: &TaskRecord, data: &TaskData) -> Vec<OpenAiOutputItem> {
    if task.state != TaskState::InputRequired {
        return Vec::new();
    }
    data.client_pending_calls()
        .iter()
        .map(|c| OpenAiOutputItem {
            kind: OpenAiOutputItemType::FunctionCall,
            id: format!("fc_{}", c.id),
            status: OpenAiItemStatus::Completed,
            role: None,
            content: None,
            call_id: Some(call_id_out(&task.id, &c.id)),
            name: Some(c.name.clone()),
            arguments: Some(arguments_text(&c.arguments)),
        })
        .collect()
}

/// An empty event of `kind`, to fill in.
fn event(kind: &str) -> OpenAiResponseEvent {
    OpenAiResponseEvent {
        kind: kind.into(),
        sequence_number: 0,
        response: None,
        output_index: None,
        item: None,
        item_id: None,
        content_index: None,
        part: None,
        delta: None,
        text: None,
        arguments: None,
        logprobs: None,
    }
}

/// The message being streamed: its item id, the Baton part it shows and its text so far.
struct OpenMessage {
    item_id: String,
    part_id: String,
    text: String,
}

/// Turns a followed turn into the Responses API's typed events.
struct Streamer {
    engine: Engine,
    task: TaskRecord,
    head: Head,
    seq: u64,
    output: Vec<OpenAiOutputItem>,
    open: Option<OpenMessage>,
}

impl Streamer {
    /// An SSE message of `event`, numbered.
    fn emit(&mut self, mut event: OpenAiResponseEvent) -> SseEvent {
        event.sequence_number = self.seq;
        self.seq += 1;
        SseEvent::default()
            .event(event.kind.clone())
            .data(serde_json::to_string(&event).unwrap_or_default())
    }

    fn index(&self) -> u32 {
        self.output.len() as u32
    }

    fn lifecycle(&mut self, kind: &str, response: OpenAiResponse) -> SseEvent {
        self.emit(OpenAiResponseEvent {
            response: Some(Box::new(response)),
            ..event(kind)
        })
    }

    /// Opens a message item for `part_id`.
    fn open(&mut self, part_id: &str, out: &mut Vec<SseEvent>) {
        let item_id = format!("msg_{part_id}");
        let item = message_item(item_id.clone(), Vec::new(), OpenAiItemStatus::InProgress);
        let index = self.index();
        out.push(self.emit(OpenAiResponseEvent {
            output_index: Some(index),
            item: Some(item),
            ..event("response.output_item.added")
        }));
        out.push(self.emit(OpenAiResponseEvent {
            item_id: Some(item_id.clone()),
            output_index: Some(index),
            content_index: Some(0),
            part: Some(output_text_part(String::new())),
            ..event("response.content_part.added")
        }));
        self.open = Some(OpenMessage {
            item_id,
            part_id: part_id.to_owned(),
            text: String::new(),
        });
    }

    /// Closes the open message item.
    fn close(&mut self, out: &mut Vec<SseEvent>) {
        let Some(open) = self.open.take() else {
            return;
        };
        let index = self.index();
        out.push(self.emit(OpenAiResponseEvent {
            item_id: Some(open.item_id.clone()),
            output_index: Some(index),
            content_index: Some(0),
            text: Some(open.text.clone()),
            logprobs: Some(Vec::new()),
            ..event("response.output_text.done")
        }));
        out.push(self.emit(OpenAiResponseEvent {
            item_id: Some(open.item_id.clone()),
            output_index: Some(index),
            content_index: Some(0),
            part: Some(output_text_part(open.text.clone())),
            ..event("response.content_part.done")
        }));
        let item = message_item(open.item_id, vec![open.text], OpenAiItemStatus::Completed);
        out.push(self.emit(OpenAiResponseEvent {
            output_index: Some(index),
            item: Some(item.clone()),
            ..event("response.output_item.done")
        }));
        self.output.push(item);
    }

    /// The first events: the response, created and in progress.
    fn start(&mut self) -> Vec<SseEvent> {
        let Ok(data) = Engine::data(&self.task) else {
            return Vec::new();
        };
        let head = self.head.clone();
        let response = head.response(&self.task, &data, Vec::new(), false);
        vec![
            self.lifecycle("response.created", response.clone()),
            self.lifecycle("response.in_progress", response),
        ]
    }
}

impl TurnTranslator for Streamer {
    /// A piece of text; the whole text of the part when `whole` (which closes it).
    fn text(&mut self, part_id: &str, text: &str, whole: bool) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if self.open.as_ref().is_some_and(|m| m.part_id != part_id) {
            self.close(&mut out);
        }
        if self.open.is_none() {
            self.open(part_id, &mut out);
        }
        let Some(open) = self.open.as_mut() else {
            return out;
        };
        let piece = if whole {
            text.strip_prefix(open.text.as_str())
                .unwrap_or("")
                .to_owned()
        } else {
            text.to_owned()
        };
        open.text.push_str(&piece);
        let item_id = open.item_id.clone();
        if !piece.is_empty() {
            let index = self.index();
            out.push(self.emit(OpenAiResponseEvent {
                item_id: Some(item_id),
                output_index: Some(index),
                content_index: Some(0),
                delta: Some(piece),
                logprobs: Some(Vec::new()),
                ..event("response.output_text.delta")
            }));
        }
        if whole {
            self.close(&mut out);
        }
        out
    }
    /// The last events: the function calls, then the finished response.
    async fn end(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.close(&mut out);
        let task = self
            .engine
            .task(&self.task.project_id, &self.task.id)
            .await
            .ok()
            .flatten();
        let Some((task, data)) = task.and_then(|t| Engine::data(&t).ok().map(|d| (t, d))) else {
            return out;
        };
        for call in function_calls(&task, &data) {
            let index = self.index();
            let mut added = call.clone();
            added.status = OpenAiItemStatus::InProgress;
            out.push(self.emit(OpenAiResponseEvent {
                output_index: Some(index),
                item: Some(added),
                ..event("response.output_item.added")
            }));
            out.push(self.emit(OpenAiResponseEvent {
                item_id: Some(call.id.clone()),
                output_index: Some(index),
                arguments: call.arguments.clone(),
                ..event("response.function_call_arguments.done")
            }));
            out.push(self.emit(OpenAiResponseEvent {
                output_index: Some(index),
                item: Some(call.clone()),
                ..event("response.output_item.done")
            }));
            self.output.push(call);
        }
        let head = self.head.clone();
        let response = head.response(&task, &data, std::mem::take(&mut self.output), true);
        let kind = match response.status {
            OpenAiResponseStatus::Failed => "response.failed",
            OpenAiResponseStatus::Incomplete => "response.incomplete",
            _ => "response.completed",
        };
        out.push(self.lifecycle(kind, response));
        out
    }
}

/// The streamed answer of a turn.
fn stream_answer(
    engine: Engine,
    task: TaskRecord,
    events: BoxStream<'static, StreamItem>,
    head: Head,
) -> Result<Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let mut streamer = Streamer {
        engine,
        task,
        head,
        seq: 0,
        output: Vec::new(),
        open: None,
    };
    let first = streamer.start();
    Ok(translated_stream(first, events, streamer))
}
