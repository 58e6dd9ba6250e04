//! `POST /v1/chat/completions`: one agent turn as a chat completion, whole or as
//! `chat.completion.chunk` events.

use super::dto::{
    OpenAiAnswerMessage, OpenAiAssistantRole, OpenAiChatChoice, OpenAiChatChunk,
    OpenAiChatCompletion, OpenAiChatMessage, OpenAiChatObject, OpenAiChatRequest, OpenAiChatRole,
    OpenAiChatUsage, OpenAiChunkChoice, OpenAiChunkDelta, OpenAiChunkObject, OpenAiChunkToolCall,
    OpenAiFinishReason, OpenAiFunctionCall, OpenAiToolCall, OpenAiToolCallType,
};
use super::{
    answer_text, arguments_text, call_id_in, call_id_out, content_text, context_part, run_request,
    run_streamed, run_to_end, tool_output, translated_stream, RunOptions, TurnInput,
    TurnTranslator,
};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use baton_core::message::{Part, Role};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_core::usage::Usage;
use baton_engine::follow::StreamItem;
use baton_engine::state::{Finish, TaskData};
use baton_engine::Engine;

use std::convert::Infallible;

/// Run an agent turn as a chat completion: the last message is the input (a `user` message, or
/// `tool` messages answering the previous answer's `tool_calls`, which continues its task).
#[utoipa::path(post, path = "/v1/chat/completions", operation_id = "openai_chat_completions_create", tag = "openai",
    request_body = OpenAiChatRequest,
    responses(
        (status = 200, description = "The answer (JSON); with `stream: true`, `text/event-stream` whose messages \
            are `data: <chat.completion.chunk JSON>`, ending with `data: [DONE]`",
            content((OpenAiChatCompletion = "application/json"), (super::stream_doc::OpenAiChatSse = "text/event-stream"))),
        (status = 400, description = "Invalid field (`error.param` names it)", body = ErrorBody),
        (status = 404, description = "Unknown model (`error.param` is `model`), or a `tool_call_id` of no task of this agent", body = ErrorBody),
        (status = 409, description = "The task is still running", body = ErrorBody),
        (status = 502, description = "The run failed", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<OpenAiChatRequest>,
) -> Result<Response, ApiError> {
    let input = chat_input(&body.messages)?;
    let turn_tools = super::turn_tools(body.tools.as_deref(), body.tool_choice.as_ref())?;
    let agent = super::resolve_model(&state, &caller, &body.model).await?;
    let streaming = body.stream.unwrap_or(false);
    let options = RunOptions {
        stream: streaming,
        user: body.user,
        metadata: body.metadata,
        turn_tools,
    };
    let request = run_request(&state, &caller, agent, input, options).await?;
    if streaming {
        let include_usage = body
            .stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false);
        let (task, events) = run_streamed(&state, request).await?;
        return Ok(stream_answer(
            state.engine.clone(),
            task,
            events,
            body.model,
            include_usage,
        )?
        .into_response());
    }
    let task = run_to_end(&state, request).await?;
    let data = Engine::data(&task)?;
    if matches!(task.state, TaskState::Failed | TaskState::Canceled) {
        return Err(ApiError::run_failed(
            data.error.as_deref().unwrap_or("the run was canceled"),
        ));
    }
    let tool_calls = tool_calls(&task, &data);
    Ok(Json(OpenAiChatCompletion {
        id: format!("chatcmpl-{}", data.response_id),
        object: OpenAiChatObject::ChatCompletion,
        created: chrono::Utc::now().timestamp(),
        model: body.model,
        choices: vec![OpenAiChatChoice {
            index: 0,
            message: OpenAiAnswerMessage {
                role: OpenAiAssistantRole::Assistant,
                content: Some(answer_text(&data)).filter(|t| !t.is_empty()),
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls.clone()),
                refusal: None,
            },
            finish_reason: finish_reason(data.finish, !tool_calls.is_empty()),
            logprobs: None,
        }],
        usage: usage(&data.turn_usage),
    })
    .into_response())
}

/// The turn a chat asks for. Trailing `tool` messages answer calls of one task and continue it;
/// otherwise the last message must be `user`: a conversation that carries a call id of a task
/// continues that task (which holds the earlier messages), else a new task starts with the
/// earlier messages as context.
fn chat_input(messages: &[OpenAiChatMessage]) -> Result<TurnInput, ApiError> {
    let Some(last) = messages.last() else {
        return Err(ApiError::invalid("messages", "send at least one message"));
    };
    if last.role == OpenAiChatRole::Tool {
        return tool_results(messages);
    }
    let last_index = messages.len() - 1;
    if last.role != OpenAiChatRole::User {
        return Err(ApiError::invalid(
            format!("messages[{last_index}].role"),
            "the last message must be a `user` message, or `tool` messages answering tool_calls",
        ));
    }
    let text = content_text(last.content.as_ref());
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            format!("messages[{last_index}].content"),
            "the user message has no text",
        ));
    }
    let earlier = &messages[..last_index];
    let continued = earlier.iter().enumerate().rev().find_map(|(i, m)| {
        m.tool_calls
            .iter()
            .flatten()
            .enumerate()
            .find_map(|(j, c)| {
                call_id_in(&c.id)
                    .map(|(task, _)| (task.to_owned(), format!("messages[{i}].tool_calls[{j}].id")))
            })
    });
    let mut parts = Vec::new();
    let instructions: Vec<String> = earlier
        .iter()
        .filter(|m| matches!(m.role, OpenAiChatRole::System | OpenAiChatRole::Developer))
        .map(|m| content_text(m.content.as_ref()))
        .collect();
    // A continued task holds the conversation already; a new one gets it as context.
    let conversation: Vec<String> = if continued.is_some() {
        Vec::new()
    } else {
        earlier.iter().filter_map(transcript_line).collect()
    };
    parts.extend(context_part(&instructions, &conversation));
    parts.push(Part::Text { text });
    Ok(TurnInput {
        role: Role::User,
        parts,
        task: continued,
    })
}

/// One earlier message as a line of the context.
fn transcript_line(message: &OpenAiChatMessage) -> Option<String> {
    let text = content_text(message.content.as_ref());
    let who = message.name.as_deref();
    match message.role {
        OpenAiChatRole::System | OpenAiChatRole::Developer => None,
        OpenAiChatRole::User => Some(format!("{}: {text}", who.unwrap_or("user"))),
        OpenAiChatRole::Assistant => {
            let calls: Vec<String> = message
                .tool_calls
                .iter()
                .flatten()
                .map(|c| format!("[called {}({})]", c.function.name, c.function.arguments))
                .collect();
            let line = [text, calls.join(" ")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            Some(format!("assistant: {line}"))
        }
        OpenAiChatRole::Tool => Some(format!(
            "tool result ({}): {text}",
            message.tool_call_id.as_deref().unwrap_or("?")
        )),
    }
}

/// The trailing `tool` messages as the results that continue their task.
fn tool_results(messages: &[OpenAiChatMessage]) -> Result<TurnInput, ApiError> {
    let mut task: Option<(String, String)> = None;
    let mut parts = Vec::new();
    let first = messages
        .iter()
        .rposition(|m| m.role != OpenAiChatRole::Tool)
        .map_or(0, |i| i + 1);
    for (i, message) in messages.iter().enumerate().skip(first) {
        let param = format!("messages[{i}].tool_call_id");
        let Some(id) = message.tool_call_id.as_deref() else {
            return Err(ApiError::invalid(
                param,
                "a `tool` message needs the call's id",
            ));
        };
        let Some((task_id, call_id)) = call_id_in(id) else {
            return Err(ApiError::invalid(
                param,
                format!("`{id}` is not the id of a call this server answered with"),
            ));
        };
        match &task {
            Some((known, _)) if known != task_id => {
                return Err(ApiError::invalid(
                    param,
                    "answers a call of another task than the messages before it",
                ))
            }
            Some(_) => {}
            None => task = Some((task_id.to_owned(), param)),
        }
        parts.push(Part::ToolResult {
            tool_call_id: call_id.to_owned(),
            result: Some(tool_output(content_text(message.content.as_ref()))),
            metadata: None,
        });
    }
    Ok(TurnInput {
        role: Role::Tool,
        parts,
        task,
    })
}

/// The client-side calls a task waits on, with the ids clients answer.
fn tool_calls(task: &TaskRecord, data: &TaskData) -> Vec<OpenAiToolCall> {
    if task.state != TaskState::InputRequired {
        return Vec::new();
    }
    data.client_pending_calls()
        .iter()
        .map(|c| OpenAiToolCall {
            id: call_id_out(&task.id, &c.id),
            kind: OpenAiToolCallType::Function,
            function: OpenAiFunctionCall {
                name: c.name.clone(),
                arguments: arguments_text(&c.arguments),
            },
        })
        .collect()
}

/// OpenAI's reason for how a turn ended.
fn finish_reason(finish: Option<Finish>, has_calls: bool) -> OpenAiFinishReason {
    match finish {
        _ if has_calls => OpenAiFinishReason::ToolCalls,
        Some(Finish::Length | Finish::MaxIterations | Finish::MaxTime) => {
            OpenAiFinishReason::Length
        }
        Some(Finish::ContentFilter) => OpenAiFinishReason::ContentFilter,
        _ => OpenAiFinishReason::Stop,
    }
}

/// A turn's tokens.
fn usage(usage: &Usage) -> OpenAiChatUsage {
    OpenAiChatUsage {
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens: usage.total_tokens,
    }
}

/// Turns a followed turn into chunks: the text as it streams, then the calls, the finish and
/// (with `include_usage`) the usage, then `[DONE]`.
struct Chunker {
    engine: Engine,
    task: TaskRecord,
    id: String,
    model: String,
    created: i64,
    include_usage: bool,
    /// Whether the role chunk went out.
    started: bool,
    /// Text sent so far in the current part, and whether any part was sent before it.
    part: Option<(String, String)>,
    sent_any: bool,
}

impl Chunker {
    fn chunk(&self, delta: OpenAiChunkDelta, finish: Option<OpenAiFinishReason>) -> SseEvent {
        let chunk = OpenAiChatChunk {
            id: self.id.clone(),
            object: OpenAiChunkObject::ChatCompletionChunk,
            created: self.created,
            model: self.model.clone(),
            choices: vec![OpenAiChunkChoice {
                index: 0,
                delta,
                finish_reason: finish,
                logprobs: None,
            }],
            usage: None,
        };
        sse_json(&chunk)
    }

    /// The first chunk, with the role, once.
    fn role(&mut self) -> Vec<SseEvent> {
        if std::mem::replace(&mut self.started, true) {
            return Vec::new();
        }
        vec![self.chunk(
            OpenAiChunkDelta {
                role: Some(OpenAiAssistantRole::Assistant),
                content: Some(String::new()),
                ..Default::default()
            },
            None,
        )]
    }
}

impl TurnTranslator for Chunker {
    /// The chunks of some text of a part; a new part starts on a new paragraph.
    fn text(&mut self, part_id: &str, text: &str, whole: bool) -> Vec<SseEvent> {
        let mut piece = String::new();
        match &mut self.part {
            Some((id, sent)) if id == part_id => {
                if whole {
                    // The whole text: send what the deltas did not.
                    piece = text.strip_prefix(sent.as_str()).unwrap_or("").to_owned();
                } else {
                    piece = text.to_owned();
                }
                sent.push_str(&piece);
            }
            _ => {
                if self.sent_any && !text.is_empty() {
                    piece.push_str("\n\n");
                }
                piece.push_str(text);
                self.sent_any |= !text.is_empty();
                self.part = Some((part_id.to_owned(), text.to_owned()));
            }
        }
        if whole {
            self.part = None;
        }
        if piece.is_empty() {
            return Vec::new();
        }
        let mut out = self.role();
        out.push(self.chunk(
            OpenAiChunkDelta {
                content: Some(piece),
                ..Default::default()
            },
            None,
        ));
        out
    }
    /// The last chunks, from the task as the turn left it.
    async fn end(&mut self) -> Vec<SseEvent> {
        let task = self
            .engine
            .task(&self.task.project_id, &self.task.id)
            .await
            .ok()
            .flatten();
        let Some(task) = task else {
            return vec![SseEvent::default().data("[DONE]")];
        };
        let Ok(data) = Engine::data(&task) else {
            return vec![SseEvent::default().data("[DONE]")];
        };
        let mut out = self.role();
        if matches!(task.state, TaskState::Failed | TaskState::Canceled) {
            // OpenAI's streams report an error mid-stream as an `error` object.
            let error = serde_json::json!({"error": {"message": data.error.as_deref()
                .unwrap_or("the run was canceled"), "type": "api_error", "param": null, "code": "run_failed"}});
            out.push(SseEvent::default().data(error.to_string()));
            return out;
        }
        let calls = tool_calls(&task, &data);
        if !calls.is_empty() {
            let calls = calls
                .into_iter()
                .enumerate()
                .map(|(i, c)| OpenAiChunkToolCall {
                    index: i as u32,
                    id: c.id,
                    kind: c.kind,
                    function: c.function,
                })
                .collect::<Vec<_>>();
            out.push(self.chunk(
                OpenAiChunkDelta {
                    tool_calls: Some(calls),
                    ..Default::default()
                },
                None,
            ));
        }
        let has_calls =
            task.state == TaskState::InputRequired && !data.client_pending_calls().is_empty();
        out.push(self.chunk(
            OpenAiChunkDelta::default(),
            Some(finish_reason(data.finish, has_calls)),
        ));
        if self.include_usage {
            out.push(sse_json(&OpenAiChatChunk {
                id: self.id.clone(),
                object: OpenAiChunkObject::ChatCompletionChunk,
                created: self.created,
                model: self.model.clone(),
                choices: Vec::new(),
                usage: Some(usage(&data.turn_usage)),
            }));
        }
        out.push(SseEvent::default().data("[DONE]"));
        out
    }
}

/// A value as the `data:` of an SSE message.
fn sse_json(value: &impl serde::Serialize) -> SseEvent {
    SseEvent::default().data(serde_json::to_string(value).unwrap_or_default())
}

/// The streamed answer of a turn.
fn stream_answer(
    engine: Engine,
    task: TaskRecord,
    events: futures_util::stream::BoxStream<'static, StreamItem>,
    model: String,
    include_usage: bool,
) -> Result<Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let data = Engine::data(&task)?;
    let chunker = Chunker {
        engine,
        id: format!("chatcmpl-{}", data.response_id),
        task,
        model,
        created: chrono::Utc::now().timestamp(),
        include_usage,
        started: false,
        part: None,
        sent_any: false,
    };
    Ok(translated_stream(Vec::new(), events, chunker))
}
