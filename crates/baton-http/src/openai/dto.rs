//! The bodies of the OpenAI-compatible endpoints, in OpenAI's field names. Only what a Baton
//! agent run can fill is typed; other OpenAI request fields (`temperature`, `top_p`, …) are
//! accepted and ignored, since the agent's configuration decides them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The body of `POST /v1/chat/completions`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"model": "agent/weather-bot", "messages": [
    {"role": "system", "content": "Answer in French."},
    {"role": "user", "content": "Weather in Paris?"}]}))]
pub struct OpenAiChatRequest {
    /// `agent/<key>` (the live version) or `agent/<key>@<version>`.
    pub model: String,
    /// The conversation; the last message is the run's input (a `user` message, or the `tool`
    /// messages answering the previous answer's `tool_calls`).
    pub messages: Vec<OpenAiChatMessage>,
    /// Answer with `chat.completion.chunk` server-sent events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// Stream options: `include_usage` adds a last chunk with the usage.
    #[serde(default)]
    pub stream_options: Option<OpenAiStreamOptions>,
    /// Function tools the caller runs, offered to the model besides the agent's own tools
    /// (the agent's win a name both use); a call of one ends the turn with `tool_calls`, and
    /// `tool` messages answer it in the next request.
    #[serde(default)]
    pub tools: Option<Vec<OpenAiToolDefinition>>,
    /// `"auto"`, `"none"`, `"required"`, or `{"type": "function", "function": {"name"}}`
    /// naming one of `tools`; it applies to the turn's first model call.
    #[serde(default)]
    pub tool_choice: Option<Value>,
    /// The end user the run acts for (its identity id).
    #[serde(default)]
    pub user: Option<String>,
    /// Free-form metadata, kept with the task and its traces.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// Options of a streamed chat completion.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct OpenAiStreamOptions {
    /// Send a last chunk, with no choices, whose `usage` is the run's.
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// A tool definition a request carries (OpenAI's shape; only `function` tools).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiToolDefinition {
    /// `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function: `name`, `description`, `parameters` (chat completions; the Responses
    /// API puts them at the top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<Map<String, Value>>,
    /// The function's name (Responses API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the function does (Responses API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON schema of its arguments, an object (Responses API; none: no arguments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiChatRole {
    /// Instructions from the caller.
    System,
    /// Instructions from the caller (newer name of `system`).
    Developer,
    /// The end user.
    User,
    /// The model (an earlier answer).
    Assistant,
    /// A client-side tool's result.
    Tool,
}

/// One message of a chat request.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct OpenAiChatMessage {
    /// The author.
    pub role: OpenAiChatRole,
    /// Text, or text parts.
    #[serde(default)]
    pub content: Option<OpenAiContent>,
    /// The calls of an earlier `assistant` answer.
    #[serde(default)]
    pub tool_calls: Option<Vec<OpenAiToolCall>>,
    /// For a `tool` message: the call it answers.
    #[serde(default)]
    pub tool_call_id: Option<String>,
    /// The author's name (kept in the context).
    #[serde(default)]
    pub name: Option<String>,
}

/// A message's content: a string or a list of parts.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OpenAiContent {
    /// Plain text.
    Text(String),
    /// Parts; only text parts (`text`, `input_text`, `output_text`) are read.
    Parts(Vec<OpenAiContentPart>),
}

/// One part of a message's content.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct OpenAiContentPart {
    /// `text` (chat) or `input_text` / `output_text` (Responses).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
}

/// A function call of an answer.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiToolCall {
    /// The call's id: answer it with a `tool` message carrying it as `tool_call_id`.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: OpenAiToolCallType,
    /// The function and its arguments.
    pub function: OpenAiFunctionCall,
}

/// The type of a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiToolCallType {
    /// A function call.
    Function,
}

/// A called function.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiFunctionCall {
    /// The function's name.
    pub name: String,
    /// Its arguments, a JSON object as text.
    pub arguments: String,
}

/// Why a choice ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiFinishReason {
    /// A final answer.
    Stop,
    /// A token or iteration limit.
    Length,
    /// Client-side function calls to answer.
    ToolCalls,
    /// The provider filtered the content.
    ContentFilter,
}

/// Tokens of a chat completion (the whole agent run: every model call of the turn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiChatUsage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// Both.
    pub total_tokens: u64,
}

/// `chat.completion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub enum OpenAiChatObject {
    /// A whole answer.
    #[serde(rename = "chat.completion")]
    ChatCompletion,
}

/// `chat.completion.chunk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub enum OpenAiChunkObject {
    /// A piece of a streamed answer.
    #[serde(rename = "chat.completion.chunk")]
    ChatCompletionChunk,
}

/// `assistant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiAssistantRole {
    /// The model.
    Assistant,
}

/// The answer of `POST /v1/chat/completions`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"id": "chatcmpl-01JRESP0000000000000000000", "object": "chat.completion",
    "created": 1767225600, "model": "agent/weather-bot", "choices": [{"index": 0, "message":
    {"role": "assistant", "content": "Sunny, 21 °C.", "refusal": null}, "finish_reason": "stop", "logprobs": null}],
    "usage": {"prompt_tokens": 120, "completion_tokens": 8, "total_tokens": 128}}))]
pub struct OpenAiChatCompletion {
    /// `chatcmpl-<response id>`: the Baton turn's response id.
    pub id: String,
    /// `chat.completion`.
    pub object: OpenAiChatObject,
    /// When the answer was made (Unix seconds).
    pub created: i64,
    /// The `model` of the request.
    pub model: String,
    /// One choice.
    pub choices: Vec<OpenAiChatChoice>,
    /// Tokens of the run.
    pub usage: OpenAiChatUsage,
}

/// The one choice of an answer.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiChatChoice {
    /// Always 0.
    pub index: u32,
    /// The answer.
    pub message: OpenAiAnswerMessage,
    /// Why it ended.
    pub finish_reason: OpenAiFinishReason,
    /// Always null.
    #[schema(value_type = Option<Object>)]
    pub logprobs: Option<Value>,
}

/// The assistant's message.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiAnswerMessage {
    /// `assistant`.
    pub role: OpenAiAssistantRole,
    /// The text of the run's answer (null when it only calls functions).
    #[schema(required = true)]
    pub content: Option<String>,
    /// Client-side function calls to answer (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tool_calls: Option<Vec<OpenAiToolCall>>,
    /// Always null.
    #[schema(required = true)]
    pub refusal: Option<String>,
}

/// One server-sent event of a streamed chat completion.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiChatChunk {
    /// The same for every chunk of an answer.
    pub id: String,
    /// `chat.completion.chunk`.
    pub object: OpenAiChunkObject,
    /// When the answer started (Unix seconds).
    pub created: i64,
    /// The `model` of the request.
    pub model: String,
    /// One choice; none in the usage chunk.
    pub choices: Vec<OpenAiChunkChoice>,
    /// The run's tokens, in the last chunk with `stream_options.include_usage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub usage: Option<OpenAiChatUsage>,
}

/// The choice of a chunk.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiChunkChoice {
    /// Always 0.
    pub index: u32,
    /// What this chunk adds.
    pub delta: OpenAiChunkDelta,
    /// Set in the last chunk of the choice.
    #[schema(required = true)]
    pub finish_reason: Option<OpenAiFinishReason>,
    /// Always null.
    #[schema(value_type = Option<Object>, required = true)]
    pub logprobs: Option<Value>,
}

/// What a chunk adds to the answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiChunkDelta {
    /// `assistant`, in the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub role: Option<OpenAiAssistantRole>,
    /// A piece of text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub content: Option<String>,
    /// Client-side function calls, each whole in one chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tool_calls: Option<Vec<OpenAiChunkToolCall>>,
}

/// A function call in a chunk.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiChunkToolCall {
    /// Its place among the answer's calls.
    pub index: u32,
    /// The call's id.
    pub id: String,
    /// `function`.
    #[serde(rename = "type")]
    pub kind: OpenAiToolCallType,
    /// The function and its whole arguments.
    pub function: OpenAiFunctionCall,
}

/// The body of `POST /v1/responses`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"model": "agent/weather-bot", "input": "Weather in Paris?",
    "instructions": "Answer in French."}))]
pub struct OpenAiResponseRequest {
    /// `agent/<key>` (the live version) or `agent/<key>@<version>`.
    pub model: String,
    /// A user message as text, or input items: messages and `function_call_output` items.
    pub input: OpenAiResponseInput,
    /// Instructions from the caller, given to the model with a new task's input (the agent's
    /// own instructions stay its system prompt).
    #[serde(default)]
    pub instructions: Option<String>,
    /// Continue the task of this earlier response.
    #[serde(default)]
    pub previous_response_id: Option<String>,
    /// Answer with the typed event stream (`response.created`, …, `response.completed`).
    #[serde(default)]
    pub stream: Option<bool>,
    /// Function tools the caller runs, offered to the model besides the agent's own tools
    /// (the agent's win a name both use); a call of one ends the response with a
    /// `function_call` item, which a `function_call_output` item answers in the next request.
    #[serde(default)]
    pub tools: Option<Vec<OpenAiToolDefinition>>,
    /// `"auto"`, `"none"`, `"required"`, or `{"type": "function", "name"}` naming one of
    /// `tools`; it applies to the turn's first model call.
    #[serde(default)]
    pub tool_choice: Option<Value>,
    /// The end user the run acts for (its identity id).
    #[serde(default)]
    pub user: Option<String>,
    /// Free-form metadata, kept with the task and echoed in the response.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// The input of a response request.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OpenAiResponseInput {
    /// One user message.
    Text(String),
    /// Input items.
    Items(Vec<OpenAiInputItem>),
}

/// One input item: a message (`type` `message` or absent, with `role` and `content`), a
/// `function_call` echoed from an earlier output, or a `function_call_output`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct OpenAiInputItem {
    /// `message` (the default), `function_call` or `function_call_output`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// A message's author: `user`, `assistant`, `system` or `developer`.
    #[serde(default)]
    pub role: Option<OpenAiChatRole>,
    /// A message's content.
    #[serde(default)]
    pub content: Option<OpenAiContent>,
    /// The call a `function_call` or `function_call_output` is about.
    #[serde(default)]
    pub call_id: Option<String>,
    /// A `function_call_output`'s result: text (JSON text is read as JSON).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub output: Option<Value>,
}

/// `response`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiResponseObject {
    /// A response.
    Response,
}

/// Where a response stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiResponseStatus {
    /// Running.
    InProgress,
    /// Answered, or waiting for `function_call_output` items.
    Completed,
    /// The run failed (`error` says why).
    Failed,
    /// A limit stopped it (`incomplete_details` says which).
    Incomplete,
}

/// The answer of `POST /v1/responses`, and the `response` of its stream's lifecycle events.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"id": "resp_01JTASK0000000000000000000_01JRESP0000000000000000000",
    "object": "response", "created_at": 1767225600, "status": "completed", "model": "agent/weather-bot",
    "output": [{"type": "message", "id": "msg_01JMSG00000000000000000000", "status": "completed",
        "role": "assistant", "content": [{"type": "output_text", "text": "Sunny, 21 °C.", "annotations": []}]}],
    "usage": {"input_tokens": 120, "output_tokens": 8, "total_tokens": 128,
        "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}},
    "error": null, "incomplete_details": null, "previous_response_id": null, "metadata": {},
    "parallel_tool_calls": true, "tool_choice": "auto", "tools": []}))]
pub struct OpenAiResponse {
    /// `resp_<task id>_<response id>`: the Baton task and its turn.
    pub id: String,
    /// `response`.
    pub object: OpenAiResponseObject,
    /// When the turn started (Unix seconds).
    pub created_at: i64,
    /// Where it stands.
    pub status: OpenAiResponseStatus,
    /// The `model` of the request.
    pub model: String,
    /// Messages and client-side `function_call` items.
    pub output: Vec<OpenAiOutputItem>,
    /// Tokens of the run (null while it runs).
    #[schema(required = true)]
    pub usage: Option<OpenAiResponseUsage>,
    /// Why it failed.
    #[schema(required = true)]
    pub error: Option<OpenAiResponseError>,
    /// Why it is incomplete.
    #[schema(required = true)]
    pub incomplete_details: Option<OpenAiIncompleteDetails>,
    /// The response this one continues.
    #[schema(required = true)]
    pub previous_response_id: Option<String>,
    /// The request's metadata.
    pub metadata: Map<String, Value>,
    /// Always true.
    pub parallel_tool_calls: bool,
    /// The request's `tool_choice` (`auto` when it set none).
    pub tool_choice: Value,
    /// The request's function tools (the agent's own are not listed).
    pub tools: Vec<OpenAiToolDefinition>,
}

/// Tokens of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiResponseUsage {
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Cached input tokens (not counted: 0).
    pub input_tokens_details: OpenAiInputTokensDetails,
    /// Reasoning tokens (not counted: 0).
    pub output_tokens_details: OpenAiOutputTokensDetails,
}

/// Details of the input tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiInputTokensDetails {
    /// Always 0.
    pub cached_tokens: u64,
}

/// Details of the output tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiOutputTokensDetails {
    /// Always 0.
    pub reasoning_tokens: u64,
}

/// Why a response failed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiResponseError {
    /// `server_error`.
    pub code: String,
    /// The run's error.
    pub message: String,
}

/// Why a response is incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiIncompleteDetails {
    /// `max_output_tokens` (a token, iteration or time limit) or `content_filter`.
    pub reason: String,
}

/// The kind of an output item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiOutputItemType {
    /// An assistant message.
    Message,
    /// A client-side function call to answer with a `function_call_output` item.
    FunctionCall,
}

/// Where an output item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiItemStatus {
    /// Being written.
    InProgress,
    /// Whole.
    Completed,
}

/// An output item: a `message` (with `role` and `content`) or a `function_call` (with
/// `call_id`, `name` and `arguments`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiOutputItem {
    /// The kind.
    #[serde(rename = "type")]
    pub kind: OpenAiOutputItemType,
    /// The item's id (`msg_…`, `fc_…`).
    pub id: String,
    /// Where it stands.
    pub status: OpenAiItemStatus,
    /// A message's author: `assistant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub role: Option<OpenAiAssistantRole>,
    /// A message's text parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub content: Option<Vec<OpenAiOutputText>>,
    /// A call's id: answer it with `{"type": "function_call_output", "call_id", "output"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub call_id: Option<String>,
    /// The called function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// Its arguments, a JSON object as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub arguments: Option<String>,
}

/// `output_text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiOutputTextType {
    /// Text.
    OutputText,
}

/// A text part of an output message.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiOutputText {
    /// `output_text`.
    #[serde(rename = "type")]
    pub kind: OpenAiOutputTextType,
    /// The text.
    pub text: String,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub annotations: Vec<Value>,
}

/// One event of a streamed response (`data:` of an SSE message whose `event:` is its `type`).
/// Which fields are present depends on `type`: `response` for `response.created`,
/// `response.in_progress`, `response.completed`, `response.failed` and `response.incomplete`;
/// `output_index` and `item` for `response.output_item.added` / `.done`; `item_id`,
/// `output_index`, `content_index` and `part` for `response.content_part.added` / `.done`;
/// and `delta` for `response.output_text.delta`, `text` for `response.output_text.done`;
/// `item_id`, `output_index` and `arguments` for `response.function_call_arguments.done`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiResponseEvent {
    /// The event's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its place in the stream, from 0.
    pub sequence_number: u64,
    /// The response, for lifecycle events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub response: Option<Box<OpenAiResponse>>,
    /// The item's place in `output`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub output_index: Option<u32>,
    /// The item, for `response.output_item.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub item: Option<OpenAiOutputItem>,
    /// The item's id, for content and argument events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub item_id: Option<String>,
    /// The part's place in the item's `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub content_index: Option<u32>,
    /// The part, for `response.content_part.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub part: Option<OpenAiOutputText>,
    /// A piece of text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub delta: Option<String>,
    /// The whole text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub text: Option<String>,
    /// A call's whole arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub arguments: Option<String>,
    /// Always empty, on text events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<Vec<Object>>)]
    pub logprobs: Option<Vec<Value>>,
}

/// `model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiModelObject {
    /// A model.
    Model,
}

/// An agent as a model.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct OpenAiModel {
    /// `agent/<key>`.
    pub id: String,
    /// `model`.
    pub object: OpenAiModelObject,
    /// When the agent was created (Unix seconds).
    pub created: i64,
    /// `baton`.
    pub owned_by: String,
}

/// `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenAiListObject {
    /// A list.
    List,
}

/// The answer of `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"object": "list", "data": [
    {"id": "agent/weather-bot", "object": "model", "created": 1767225600, "owned_by": "baton"}]}))]
pub struct OpenAiModelList {
    /// `list`.
    pub object: OpenAiListObject,
    /// The project's agents, newest first.
    pub data: Vec<OpenAiModel>,
}
