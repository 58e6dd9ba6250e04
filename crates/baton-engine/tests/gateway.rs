//! The model gateway over real vendor clients against the testkit's fakes: retries, fallbacks,
//! prices and "not set up" providers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_core::agent::{ModelConfig, RetryPolicy};
use baton_core::model::{ChatMessage, ChatRequest, ModelGateway, ProviderErrorKind};
use baton_engine::gateway::{Gateway, Registry};
use baton_engine::prices::PriceTable;
use baton_providers::{Flavor, ProviderSettings};
use baton_testkit::{FakeProvider, Turn};
use serde_json::json;
use std::time::Duration;

fn request() -> ChatRequest<'static> {
    ChatRequest {
        model: "m1".into(),
        messages: vec![ChatMessage::user("Weather in Oslo?")],
        parameters: json!({"temperature": 0.3}).as_object().unwrap().clone(),
        ..ChatRequest::default()
    }
}

fn model(id: &str, retries: u32) -> ModelConfig {
    ModelConfig {
        retry: Some(RetryPolicy {
            count: retries,
            on_codes: vec![429, 500, 503],
        }),
        ..ModelConfig::named(id)
    }
}

async fn two_providers() -> (Gateway, FakeProvider, FakeProvider) {
    let a = FakeProvider::start(baton_testkit::Flavor::OpenAi).await;
    let b = FakeProvider::start(baton_testkit::Flavor::Anthropic).await;
    let registry: Registry = baton_providers::clients(
        vec![
            ProviderSettings {
                name: "openai".into(),
                flavor: Flavor::OpenAi,
                base_url: a.base_url(),
                api_key: None,
            },
            ProviderSettings {
                name: "anthropic".into(),
                flavor: Flavor::Anthropic,
                base_url: b.base_url(),
                api_key: None,
            },
        ],
        reqwest::Client::new(),
    )
    .into_iter()
    .collect();
    let gateway = Gateway::new(registry, PriceTable::default())
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5));
    (gateway, a, b)
}

#[tokio::test]
async fn retryable_errors_are_retried_then_succeed() {
    let (gateway, a, _) = two_providers().await;
    a.push(Turn::error(429, json!({"error": {"message": "busy"}})));
    a.push(Turn::error(503, json!({"error": {"message": "down"}})));
    a.push(Turn::text("third time").with_usage(1_000_000, 0));
    let reply = gateway
        .chat(&[model("openai/gpt-4o", 3)], request(), None)
        .await
        .unwrap();
    assert_eq!(reply.response.content, "third time");
    assert_eq!(a.request_count(), 3);
    assert_eq!(reply.attempts.len(), 3);
    assert_eq!(reply.attempts[0].error.as_ref().unwrap().status, Some(429));
    assert!(
        (reply.cost - 2.5).abs() < 1e-9,
        "1M input tokens of gpt-4o cost $2.50: {}",
        reply.cost
    );
    assert_eq!(a.requests()[0]["model"], "gpt-4o");
}

#[tokio::test]
async fn exhausted_retries_and_hard_errors_fall_back_in_order() {
    let (gateway, a, b) = two_providers().await;
    for _ in 0..3 {
        a.push(Turn::error(500, json!({"error": {"message": "boom"}})));
    }
    b.push(Turn::text("fallback"));
    let models = [
        model("openai/gpt-4o", 2),
        model("anthropic/claude-sonnet-4", 0),
    ];
    let reply = gateway.chat(&models, request(), None).await.unwrap();
    assert_eq!(
        (reply.model.as_str(), reply.response.content.as_str()),
        ("anthropic/claude-sonnet-4", "fallback")
    );
    assert_eq!((a.request_count(), b.request_count()), (3, 1));
    assert_eq!(reply.attempts.len(), 4);

    // A 400 is not retried: straight to the fallback.
    a.push(Turn::error(400, json!({"error": {"message": "bad"}})));
    b.push(Turn::text("again"));
    let reply = gateway.chat(&models, request(), None).await.unwrap();
    assert_eq!(reply.response.content, "again");
    assert_eq!(a.request_count(), 4);

    // An unknown provider counts as a failed model, and the chain goes on.
    b.push(Turn::text("known"));
    let reply = gateway
        .chat(
            &[model("mystery/x", 3), model("anthropic/claude-sonnet-4", 0)],
            request(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(reply.response.content, "known");
    assert_eq!(
        reply.attempts[0].error.as_ref().unwrap().kind,
        ProviderErrorKind::NotConfigured
    );

    // Everything failing reports the last error and every attempt.
    let solo = Gateway::new(Registry::default(), PriceTable::empty());
    let err = solo
        .chat(&[model("nobody/x", 0)], request(), None)
        .await
        .unwrap_err();
    assert_eq!(err.last.kind, ProviderErrorKind::NotConfigured);
    assert_eq!(err.attempts.len(), 1);
}

#[tokio::test]
async fn model_parameters_reach_the_vendor_under_request_parameters() {
    let (gateway, a, _) = two_providers().await;
    let mut m = model("openai/gpt-4o", 0);
    m.parameters = json!({"temperature": 0.9, "top_p": 0.5, "reasoning_effort": "low"})
        .as_object()
        .cloned();
    gateway.chat(&[m], request(), None).await.unwrap();
    let body = &a.requests()[0];
    assert_eq!(body["temperature"], 0.3, "the request's own value wins");
    assert_eq!(
        (body["top_p"].as_f64(), body["reasoning_effort"].as_str()),
        (Some(0.5), Some("low"))
    );
}

#[tokio::test]
async fn a_provider_not_set_up_fails_at_once_saying_what_to_set() {
    let (gateway, a, _) = two_providers().await;
    let mut registry = Registry::default();
    registry.not_set_up("openai", "set OPENAI_API_KEY");
    let gateway_without = Gateway::new(registry, PriceTable::empty());
    let err = gateway_without
        .chat(&[model("openai/gpt-4o", 3)], request(), None)
        .await
        .unwrap_err();
    assert_eq!(err.last.kind, ProviderErrorKind::NotConfigured);
    assert!(
        err.last.message.contains("not set up: set OPENAI_API_KEY"),
        "{}",
        err.last.message
    );
    assert_eq!(
        err.attempts.len(),
        1,
        "no retries of a provider that is not set up"
    );
    // The same model through a gateway that has it calls out.
    a.push(Turn::text("hi"));
    gateway
        .chat(&[model("openai/gpt-4o", 0)], request(), None)
        .await
        .unwrap();
    assert_eq!(a.request_count(), 1);
}
