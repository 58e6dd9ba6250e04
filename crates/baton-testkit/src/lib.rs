//! Test fixtures for Baton: scriptable fake model-provider servers speaking each vendor's real
//! wire format (OpenAI Chat Completions, Anthropic Messages, Google Gemini), streaming included,
//! on `127.0.0.1:0`. Tests and benchmarks point Baton's providers at them.
//!
//! ```no_run
//! # async fn demo() {
//! use baton_testkit::{FakeProvider, Flavor, Turn};
//! let fake = FakeProvider::start(Flavor::OpenAi).await;
//! fake.push(Turn::tool_calls(vec![("current_date", serde_json::json!({}))]));
//! fake.push(Turn::text("It is Monday."));
//! // point OPENAI_BASE_URL at fake.base_url(), run an agent, then:
//! assert_eq!(fake.request_count(), 2);
//! # }
//! ```

mod render;
mod server;

pub use server::{fake_embedding, FakeProvider, Responder, SeenRequest, EMBEDDING_DIMENSIONS};

use serde_json::Value;
use std::time::Duration;

/// The vendor wire format a fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// OpenAI Chat Completions: `POST /v1/chat/completions`.
    OpenAi,
    /// Anthropic Messages: `POST /v1/messages`.
    Anthropic,
    /// Google Gemini: `POST /v1beta/models/{model}:generateContent` / `:streamGenerateContent`.
    Gemini,
}

/// What one scripted answer contains.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnKind {
    /// A text answer.
    Text(String),
    /// Tool calls: (name, arguments).
    ToolCalls(Vec<(String, Value)>),
    /// An HTTP error with a JSON body.
    Error {
        /// Status code.
        status: u16,
        /// Body.
        body: Value,
    },
    /// A raw JSON body sent as is (non-streaming).
    Raw(Value),
}

/// One scripted answer, with its delay and token usage.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// The answer.
    pub kind: TurnKind,
    /// Wait this long before answering.
    pub delay: Duration,
    /// (prompt, completion) tokens reported.
    pub usage: (u64, u64),
}

impl Turn {
    fn new(kind: TurnKind) -> Self {
        Self {
            kind,
            delay: Duration::ZERO,
            usage: (10, 5),
        }
    }

    /// A text answer.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(TurnKind::Text(text.into()))
    }

    /// Tool calls with JSON arguments; ids are `call_<n>`, unique per fake.
    pub fn tool_calls(calls: Vec<(&str, Value)>) -> Self {
        Self::new(TurnKind::ToolCalls(
            calls.into_iter().map(|(n, a)| (n.to_owned(), a)).collect(),
        ))
    }

    /// An HTTP error (a 429 also carries `retry-after: 0`).
    pub fn error(status: u16, body: Value) -> Self {
        Self::new(TurnKind::Error { status, body })
    }

    /// A raw body.
    pub fn raw(body: Value) -> Self {
        Self::new(TurnKind::Raw(body))
    }

    /// A turn from JSON: `{"text": "…"}`, `{"tool_calls": [{"name", "arguments"}]}` or
    /// `{"error": {"status", "body"}}`, with optional `delay_ms` and `usage: [prompt, completion]`.
    pub fn from_json(v: &Value) -> Option<Self> {
        let mut turn = if let Some(text) = v.get("text").and_then(Value::as_str) {
            Self::text(text)
        } else if let Some(calls) = v.get("tool_calls").and_then(Value::as_array) {
            let calls = calls
                .iter()
                .map(|c| {
                    Some((
                        c.get("name")?.as_str()?.to_owned(),
                        c.get("arguments")
                            .cloned()
                            .unwrap_or(Value::Object(Default::default())),
                    ))
                })
                .collect::<Option<Vec<_>>>()?;
            Self::new(TurnKind::ToolCalls(calls))
        } else if let Some(error) = v.get("error") {
            let status = u16::try_from(error.get("status")?.as_u64()?).ok()?;
            Self::error(status, error.get("body").cloned().unwrap_or(Value::Null))
        } else {
            return None;
        };
        if let Some(ms) = v.get("delay_ms").and_then(Value::as_u64) {
            turn.delay = Duration::from_millis(ms);
        }
        if let Some([p, c]) = v.get("usage").and_then(Value::as_array).map(Vec::as_slice) {
            turn.usage = (p.as_u64()?, c.as_u64()?);
        }
        Some(turn)
    }

    /// Answers after `delay`.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Reports this token usage.
    pub fn with_usage(mut self, prompt: u64, completion: u64) -> Self {
        self.usage = (prompt, completion);
        self
    }
}
