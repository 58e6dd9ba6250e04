//! Each vendor client against the testkit's fake of that vendor, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod vendors;

use baton_core::model::{
    ChatMessage, ChatRequest, ModelProvider, OutputSchema, ToolCall, ToolDefinition,
};
use baton_providers::{Flavor, ProviderSettings};
use baton_testkit::FakeProvider;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

pub fn testkit_flavor(f: Flavor) -> baton_testkit::Flavor {
    match f {
        Flavor::OpenAi => baton_testkit::Flavor::OpenAi,
        Flavor::Anthropic => baton_testkit::Flavor::Anthropic,
        Flavor::Gemini => baton_testkit::Flavor::Gemini,
    }
}

/// Providers by name: one named `name` pointing at a new fake.
pub async fn fake_registry(
    name: &str,
    flavor: Flavor,
) -> (HashMap<String, Arc<dyn ModelProvider>>, FakeProvider) {
    let fake = FakeProvider::start(testkit_flavor(flavor)).await;
    let registry = baton_providers::clients(
        vec![ProviderSettings {
            name: name.into(),
            flavor,
            base_url: fake.base_url(),
            api_key: Some(format!("key-{name}")),
        }],
        reqwest::Client::new(),
    );
    let registry = registry
        .into_iter()
        .map(|p| (p.name().to_owned(), p))
        .collect();
    (registry, fake)
}

/// A conversation with a system prompt, a tool round trip and a tool offered.
pub fn request() -> ChatRequest<'static> {
    ChatRequest {
        model: "m1".into(),
        system: Some("Be terse.".into()),
        messages: vec![
            ChatMessage::user("Weather in Oslo?"),
            ChatMessage::assistant(
                "",
                vec![ToolCall {
                    id: "call_a".into(),
                    name: "get_weather".into(),
                    arguments: json!({"city": "Oslo"}),
                    signature: None,
                }],
            ),
            ChatMessage::tool("call_a", "get_weather", "{\"sky\":\"grey\"}"),
        ],
        tools: vec![ToolDefinition {
            name: "get_weather".into(),
            description: "Weather by city".into(),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"], "additionalProperties": false}),
        }],
        parameters: json!({"temperature": 0.3, "max_tokens": 99})
            .as_object()
            .unwrap()
            .clone(),
        output_schema: None,
    }
}

/// The same request asking for structured output.
pub fn structured() -> ChatRequest<'static> {
    let mut r = request();
    r.output_schema = Some(OutputSchema {
        name: "answer".into(),
        schema: json!({"type": "object", "properties": {"sky": {"type": "string"}}, "required": ["sky"],
                       "additionalProperties": false}),
        strict: true,
    });
    r
}
