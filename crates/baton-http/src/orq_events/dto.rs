//! The typed payloads of a run's SSE messages, in orq's shape (camelCase keys). Fields are
//! declared in the order earlier releases sent them (alphabetical).

use crate::run_wire::{FinishReason, PendingToolCall, PendingToolReview, Telemetry, TokenUsage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use utoipa::openapi::schema::{Object, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// One message of a run's event stream, as its SSE fields (the schema of the operations'
/// `text/event-stream` bodies): `event` (the event's type), `id` (stored events only) and
/// `data`, a [`RunEventMessage`] as JSON; or the last message: `data: [DONE]`, or
/// `event: reconnect` (no data) from a server shutting down mid-turn.
pub struct RunEventSse;

impl PartialSchema for RunEventSse {
    fn schema() -> RefOr<Schema> {
        let text = |description: &str| {
            Object::builder()
                .schema_type(Type::String)
                .description(Some(description))
        };
        let event = Object::builder()
            .property("event", text("The event's `type`"))
            .property(
                "id",
                text("Its position in the task's stream (stored events only): resume after it with `Last-Event-ID`"),
            )
            .property(
                "data",
                text("A `RunEventMessage` as JSON")
                    .content_media_type("application/json")
                    .extensions(Some(
                        [("contentSchema", Ref::from_schema_name(RunEventMessage::name()))]
                            .into_iter()
                            .map(|(k, r)| (k, serde_json::to_value(r).unwrap_or_default()))
                            .collect(),
                    )),
            )
            .required("event")
            .required("data");
        let done = Object::builder()
            .property(
                "data",
                text("The end of the stream").enum_values(Some(["[DONE]"])),
            )
            .required("data");
        let reconnect = Object::builder()
            .property(
                "event",
                text("The server shuts down mid-turn; the run goes on: reconnect to `…/stream` with `Last-Event-ID`")
                    .enum_values(Some(["reconnect"])),
            )
            .property(
                "retry",
                Object::builder()
                    .schema_type(Type::Integer)
                    .description(Some("Milliseconds to wait before reconnecting")),
            )
            .required("event");
        let schema = OneOfBuilder::new()
            .item(event)
            .item(done)
            .item(reconnect)
            .description(Some(
                "One SSE message of a run's event stream: an event, or the last message \
                 (`data: [DONE]`, or `event: reconnect` from a server shutting down mid-turn)",
            ));
        RefOr::T(schema.into())
    }
}

impl ToSchema for RunEventSse {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RunEventSse")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((RunEventMessage::name().into(), RunEventMessage::schema()));
        RunEventMessage::schemas(schemas);
    }
}

/// The JSON of one SSE message's `data:` line: the event's `type`, its `data` and when it
/// happened.
///
/// Framing: each message has `event: <type>`, `id: <n>` (stored events only: send the last
/// one back as `Last-Event-ID` to resume; text deltas are never stored and carry no id) and
/// `data: <this object>`. Keep-alive comment lines (`:`) may come between messages. The stream
/// ends after `response.done` or `response.failed` with `data: [DONE]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEventMessage {
    /// The event (`type` and `data`).
    #[serde(flatten)]
    pub event: RunEventData,
    /// When it happened (RFC 3339).
    pub timestamp: String,
}

/// A run's event: its `type` and `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "data")]
#[non_exhaustive]
pub enum RunEventData {
    /// A turn started.
    #[serde(rename = "response.started")]
    ResponseStarted(ResponseStarted),
    /// A piece of the answer's text or reasoning.
    #[serde(rename = "part.delta")]
    PartDelta(PartDelta),
    /// A whole text part of the answer.
    #[serde(rename = "part.done")]
    PartDone(PartDone),
    /// A server-side tool call started.
    #[serde(rename = "tool.started")]
    ToolStarted(ToolStarted),
    /// A tool call returned.
    #[serde(rename = "tool.done")]
    ToolDone(ToolDone),
    /// A tool call failed or was refused; the model sees the error.
    #[serde(rename = "tool.failed")]
    ToolFailed(ToolFailed),
    /// A server-side call waits for a reviewer.
    #[serde(rename = "tool.review.requested")]
    ToolReviewRequested(ToolReviewRequested),
    /// A reviewer decided on a call.
    #[serde(rename = "tool.review.done")]
    ToolReviewDone(ToolReviewDone),
    /// The turn ended: answered, paused for the client, or stopped by a limit.
    #[serde(rename = "response.done")]
    ResponseDone(ResponseDone),
    /// The task failed or was canceled.
    #[serde(rename = "response.failed")]
    ResponseFailed(ResponseFailed),
}

impl PartialSchema for RunEventMessage {
    /// [`RunEventData`]'s schema (one object per event type) with `timestamp` in each object:
    /// a plain `oneOf` of objects, which code generators read better than an `allOf` of the
    /// flattened parts.
    fn schema() -> RefOr<Schema> {
        let mut schema = RunEventData::schema();
        if let RefOr::T(Schema::OneOf(one_of)) = &mut schema {
            for item in &mut one_of.items {
                if let RefOr::T(Schema::Object(object)) = item {
                    let timestamp = Object::builder()
                        .schema_type(Type::String)
                        .description(Some("When it happened (RFC 3339)"));
                    object
                        .properties
                        .insert("timestamp".into(), timestamp.into());
                    object.required.push("timestamp".into());
                }
            }
            one_of.description = Some(
                "The JSON of one SSE message's `data:` line: the event's `type`, its `data` and \
                 when it happened"
                    .into(),
            );
            one_of.example = Some(serde_json::json!({"type": "part.delta",
                "data": {"partId": "01JPART0000000000000000000", "delta": {"kind": "text", "text": "Sunny"}},
                "timestamp": "2026-05-01T09:00:01.000Z"}));
        }
        schema
    }
}

impl ToSchema for RunEventMessage {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RunEventMessage")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        RunEventData::schemas(schemas);
    }
}

impl RunEventData {
    /// The event's `type` (also the SSE `event:` name).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ResponseStarted(_) => "response.started",
            Self::PartDelta(_) => "part.delta",
            Self::PartDone(_) => "part.done",
            Self::ToolStarted(_) => "tool.started",
            Self::ToolDone(_) => "tool.done",
            Self::ToolFailed(_) => "tool.failed",
            Self::ToolReviewRequested(_) => "tool.review.requested",
            Self::ToolReviewDone(_) => "tool.review.done",
            Self::ResponseDone(_) => "response.done",
            Self::ResponseFailed(_) => "response.failed",
        }
    }
}

/// `response.started`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseStarted {
    /// The model the turn starts with (`provider/model`).
    pub model: String,
    /// The turn's response id.
    pub response_id: String,
    /// The task's id.
    pub task_id: String,
    /// The turn's trace.
    pub telemetry: Telemetry,
    /// The task's id again (orq's name for it).
    pub workflow_run_id: String,
}

/// `part.delta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartDelta {
    /// The piece.
    pub delta: StreamedPart,
    /// The part the piece belongs to.
    pub part_id: String,
}

/// `part.done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartDone {
    /// The whole part.
    pub part: StreamedPart,
    /// The part's id (the one its deltas carried).
    pub part_id: String,
}

/// Streamed content, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamedPart {
    /// Answer text.
    Text {
        /// The text.
        text: String,
    },
    /// The model's reasoning.
    Reasoning {
        /// The reasoning text.
        reasoning: String,
    },
}

/// `tool.started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolStarted {
    /// The call's arguments.
    pub arguments: Value,
    /// Which attempt this is: present (and above 1) only when a stopped server cut an earlier
    /// one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub attempt: Option<u32>,
    /// The call's id.
    pub tool_call_id: String,
    /// The tool's id.
    pub tool_id: String,
    /// The tool's name.
    pub tool_name: String,
}

/// `tool.done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolDone {
    /// What the tool returned, any JSON.
    pub result: Value,
    /// The call's id.
    pub tool_call_id: String,
    /// The tool's id.
    pub tool_id: String,
}

/// `tool.failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolFailed {
    /// Why.
    pub error: String,
    /// The call's id.
    pub tool_call_id: String,
    /// The tool's id.
    pub tool_id: String,
}

/// `tool.review.requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolReviewRequested {
    /// The call's arguments.
    pub arguments: Value,
    /// Always `true`.
    pub requires_approval: bool,
    /// The call's id.
    pub tool_call_id: String,
    /// The tool's id.
    pub tool_id: String,
    /// The tool's name.
    pub tool_name: String,
}

/// `tool.review.done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolReviewDone {
    /// The decision.
    pub review: crate::responses::dto::ReviewDecision,
    /// The call's id.
    pub tool_call_id: String,
    /// The tool's id.
    pub tool_id: String,
}

/// `response.done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseDone {
    /// Why the turn ended.
    pub finish_reason: FinishReason,
    /// Client-side calls to answer (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub pending_tool_calls: Option<Vec<PendingToolCall>>,
    /// Server-side calls waiting for a review (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub pending_tool_reviews: Option<Vec<PendingToolReview>>,
    /// The turn's trace.
    pub telemetry: Telemetry,
    /// Tokens of the turn.
    pub usage: TokenUsage,
}

/// `response.failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResponseFailed {
    /// 500 for a failure, 499 for a cancel.
    pub code: u16,
    /// Why.
    pub error: String,
}
