//! The model-provider port: Baton's own request and response types for chat models, the
//! [`ModelProvider`] trait each vendor client implements, and the [`ModelGateway`] the engine
//! calls (retries, fallbacks and cost on top of the providers).

use crate::agent::ModelConfig;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatRole {
    /// The user.
    User,
    /// The model.
    Assistant,
    /// A tool result.
    Tool,
}

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-given call id (unique within the task).
    pub id: String,
    /// Tool (function) name.
    pub name: String,
    /// Arguments as JSON (an object when the model produced valid JSON; otherwise the raw
    /// text as a string, so the engine can report the error to the model).
    pub arguments: Value,
    /// Opaque provider data to send back with the call (e.g. Gemini's thought signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// One message of the conversation sent to a model; its text may be borrowed from the task's
/// history, which a request is built from at every model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage<'a> {
    /// Author.
    pub role: ChatRole,
    /// Text content (may be empty for an assistant message that only calls tools).
    #[serde(default)]
    pub content: Cow<'a, str>,
    /// Tool calls (assistant messages only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call answered (tool messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The tool's name (tool messages only; Gemini needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
}

impl<'a> ChatMessage<'a> {
    /// A user message.
    pub fn user(text: impl Into<Cow<'a, str>>) -> Self {
        Self {
            role: ChatRole::User,
            content: text.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            tool_name: None,
        }
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<Cow<'a, str>>, tool_calls: Vec<ToolCall>) -> Self {
        Self {
            role: ChatRole::Assistant,
            content: text.into(),
            tool_calls,
            tool_call_id: None,
            tool_name: None,
        }
    }

    /// A tool result; `content` is the result as text (JSON for structured results).
    pub fn tool(
        call_id: impl Into<String>,
        name: impl Into<String>,
        content: impl Into<Cow<'a, str>>,
    ) -> Self {
        Self {
            role: ChatRole::Tool,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: Some(call_id.into()),
            tool_name: Some(name.into()),
        }
    }

    /// The message owning its text.
    pub fn into_owned(self) -> ChatMessage<'static> {
        ChatMessage {
            role: self.role,
            content: Cow::Owned(self.content.into_owned()),
            tool_calls: self.tool_calls,
            tool_call_id: self.tool_call_id,
            tool_name: self.tool_name,
        }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// Function name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON schema of the arguments (an object schema).
    pub parameters: Value,
}

impl ToolDefinition {
    /// A tool named `name` doing `description`, taking arguments of the JSON schema `parameters`.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            parameters,
        }
    }
}

/// A JSON schema the answer must satisfy (structured output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSchema {
    /// Schema name (letters, digits, `_`, `-`).
    pub name: String,
    /// The schema.
    pub schema: Value,
    /// Ask the provider for strict adherence where it supports it.
    pub strict: bool,
}

/// A request to one model; its messages may borrow their text (see [`ChatMessage`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatRequest<'a> {
    /// Model name as the vendor knows it (without the `provider/` prefix).
    pub model: String,
    /// System prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The conversation.
    pub messages: Vec<ChatMessage<'a>>,
    /// Tools offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolDefinition>,
    /// OpenAI-style parameters (temperature, max_tokens, top_p, stop, tool_choice,
    /// reasoning_effort, response_format, …); each provider maps them to its own form.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub parameters: Map<String, Value>,
    /// Structured output, using the provider's native JSON-schema mode where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<OutputSchema>,
}

impl ChatRequest<'_> {
    /// The request owning its messages' text (to keep it past the history it was built from).
    pub fn into_owned(self) -> ChatRequest<'static> {
        ChatRequest {
            model: self.model,
            system: self.system,
            messages: self
                .messages
                .into_iter()
                .map(ChatMessage::into_owned)
                .collect(),
            tools: self.tools,
            parameters: self.parameters,
            output_schema: self.output_schema,
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A complete answer.
    Stop,
    /// The token limit was hit.
    Length,
    /// It wants tools called.
    ToolCalls,
    /// Content was filtered.
    ContentFilter,
}

/// Tokens one model call used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// Input tokens served from the provider's cache.
    #[serde(default)]
    pub cached_tokens: u64,
    /// Output tokens spent on reasoning.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl TokenUsage {
    /// Input plus output tokens.
    pub fn total(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// A model's complete answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Text of the answer (may be empty when only tools are called).
    pub content: String,
    /// Tool calls requested.
    pub tool_calls: Vec<ToolCall>,
    /// Why it stopped.
    pub finish_reason: FinishReason,
    /// Tokens used.
    pub usage: TokenUsage,
}

/// A piece of an answer as it streams in.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamDelta {
    /// More answer text.
    Text(String),
    /// More reasoning text, where the provider exposes it.
    Reasoning(String),
}

/// Receives deltas while a model answer streams.
pub type DeltaSink<'a> = &'a (dyn Fn(StreamDelta) + Send + Sync);

/// What kind of failure a provider call had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderErrorKind {
    /// The vendor answered with an HTTP error status.
    Status,
    /// Connecting or reading failed.
    Network,
    /// The call took too long.
    Timeout,
    /// The answer could not be understood.
    Decode,
    /// No provider or key is configured for the model.
    NotConfigured,
}

/// A failed provider call.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[error("{provider}: {message}")]
pub struct ProviderError {
    /// Provider name.
    pub provider: String,
    /// Kind of failure.
    pub kind: ProviderErrorKind,
    /// HTTP status, for `Status`.
    pub status: Option<u16>,
    /// Readable message (never containing credentials).
    pub message: String,
    /// Seconds the vendor asked us to wait (`Retry-After`).
    pub retry_after: Option<f64>,
}

impl ProviderError {
    /// Whether a retry policy with these status codes should try again.
    pub fn is_retryable(&self, on_codes: &[u16]) -> bool {
        match self.kind {
            ProviderErrorKind::Status => self.status.is_some_and(|s| on_codes.contains(&s)),
            ProviderErrorKind::Network | ProviderErrorKind::Timeout => true,
            ProviderErrorKind::Decode | ProviderErrorKind::NotConfigured => false,
        }
    }
}

/// A vendor client: one API flavour at one endpoint with one key.
#[async_trait]
pub trait ModelProvider: Send + Sync {
    /// The provider name models are prefixed with (`openai`, `anthropic`, `ollama`, …).
    fn name(&self) -> &str;

    /// One complete call.
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError>;

    /// One streamed call: `on_delta` sees text as it arrives; the assembled answer is returned.
    async fn stream(
        &self,
        request: &ChatRequest<'_>,
        on_delta: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError>;

    /// Embeds `inputs` with `model` (the name without the provider prefix), one vector each,
    /// in order. Providers without an embeddings endpoint say so.
    async fn embed(&self, model: &str, inputs: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        let _ = inputs;
        Err(ProviderError {
            provider: self.name().to_owned(),
            kind: ProviderErrorKind::NotConfigured,
            status: None,
            message: format!(
                "provider `{}` has no embeddings endpoint (model `{model}`)",
                self.name()
            ),
            retry_after: None,
        })
    }
}

/// One try of one model, for traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// `provider/model`.
    pub model: String,
    /// The error, when it failed.
    pub error: Option<ProviderError>,
    /// Milliseconds it took.
    pub duration_ms: u64,
}

/// The answer of a gateway call: which model answered, what it cost, and every attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelReply {
    /// The answer.
    pub response: ChatResponse,
    /// `provider/model` that answered.
    pub model: String,
    /// Cost in USD (0 when the model has no known price).
    pub cost: f64,
    /// Every try, failed ones included, in order.
    pub attempts: Vec<Attempt>,
}

/// A failed gateway call: the last error and every attempt.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("every model failed; last error: {last}")]
pub struct GatewayError {
    /// The last error.
    pub last: ProviderError,
    /// Every try, in order.
    pub attempts: Vec<Attempt>,
}

/// What the engine calls: the primary model, then its fallbacks, each with its retry policy.
#[async_trait]
pub trait ModelGateway: Send + Sync {
    /// Calls `models` in order (each with retries) with `request` (its `model` field is set per
    /// try); streams deltas to `on_delta` when given.
    async fn chat(
        &self,
        models: &[ModelConfig],
        request: ChatRequest<'_>,
        on_delta: Option<DeltaSink<'_>>,
    ) -> Result<ModelReply, GatewayError>;

    /// Embeds `inputs` with `model` (`provider/model`), one vector each, in order.
    async fn embed(&self, model: &str, inputs: &[String]) -> Result<Vec<Vec<f32>>, ProviderError>;
}
