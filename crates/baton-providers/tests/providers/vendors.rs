use crate::{fake_registry, request, structured};
use baton_core::model::{FinishReason, StreamDelta};
use baton_providers::Flavor;
use baton_testkit::Turn;
use serde_json::{json, Value};
use std::sync::Mutex;

const ALL: [Flavor; 3] = [Flavor::OpenAi, Flavor::Anthropic, Flavor::Gemini];

#[tokio::test]
async fn text_answers_complete_and_stream_with_usage() {
    for flavor in ALL {
        let (registry, fake) = fake_registry("p", flavor).await;
        let provider = registry.get("p").unwrap();
        fake.push(Turn::text("grey and cold").with_usage(40, 7));
        let r = provider.complete(&request()).await.unwrap();
        assert_eq!(r.content, "grey and cold", "{flavor:?}");
        assert_eq!(r.finish_reason, FinishReason::Stop);
        assert_eq!(
            (r.usage.prompt_tokens, r.usage.completion_tokens),
            (40, 7),
            "{flavor:?}"
        );

        fake.push(Turn::text("grey and cold").with_usage(40, 7));
        let deltas = Mutex::new(Vec::new());
        let sink = |d: StreamDelta| {
            if let StreamDelta::Text(t) = d {
                deltas.lock().unwrap().push(t);
            }
        };
        let r = provider.stream(&request(), &sink).await.unwrap();
        let deltas = deltas.into_inner().unwrap();
        assert!(deltas.len() >= 3, "{flavor:?}: several deltas: {deltas:?}");
        assert_eq!(deltas.concat(), "grey and cold");
        assert_eq!(r.content, "grey and cold");
        assert_eq!(
            (r.usage.prompt_tokens, r.usage.completion_tokens),
            (40, 7),
            "{flavor:?}"
        );
    }
}

#[tokio::test]
async fn parallel_tool_calls_complete_and_stream() {
    for flavor in ALL {
        let (registry, fake) = fake_registry("p", flavor).await;
        let provider = registry.get("p").unwrap();
        let turn = Turn::tool_calls(vec![
            ("get_weather", json!({"city": "Oslo"})),
            ("get_weather", json!({"city": "Bergen"})),
        ]);
        fake.push(turn.clone());
        fake.push(turn);
        let complete = provider.complete(&request()).await.unwrap();
        let streamed = provider.stream(&request(), &|_| {}).await.unwrap();
        for r in [complete, streamed] {
            assert_eq!(r.finish_reason, FinishReason::ToolCalls, "{flavor:?}");
            let cities: Vec<&Value> = r.tool_calls.iter().map(|c| &c.arguments["city"]).collect();
            assert_eq!(cities, [&json!("Oslo"), &json!("Bergen")], "{flavor:?}");
            assert!(r
                .tool_calls
                .iter()
                .all(|c| c.name == "get_weather" && !c.id.is_empty()));
            assert_ne!(r.tool_calls[0].id, r.tool_calls[1].id);
        }
    }
}

#[tokio::test]
async fn requests_use_each_vendors_form() {
    // OpenAI: system message, assistant tool_calls with string arguments, tool message, auth.
    let (registry, fake) = fake_registry("openai", Flavor::OpenAi).await;
    registry
        .get("openai")
        .unwrap()
        .complete(&request())
        .await
        .unwrap();
    let body = &fake.requests()[0];
    assert_eq!(body["model"], "m1");
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "Be terse."})
    );
    assert_eq!(
        body["messages"][2]["tool_calls"][0]["function"]["arguments"],
        "{\"city\":\"Oslo\"}"
    );
    assert_eq!(body["messages"][3]["role"], "tool");
    assert_eq!(body["messages"][3]["tool_call_id"], "call_a");
    assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(
        (body["temperature"].as_f64(), body["max_tokens"].as_u64()),
        (Some(0.3), Some(99))
    );
    assert_eq!(fake.headers()["authorization"], "Bearer key-openai");
    registry
        .get("openai")
        .unwrap()
        .complete(&crate::structured())
        .await
        .unwrap();
    let body = &fake.requests()[1];
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);

    // Anthropic: top-level system, tool_use / tool_result blocks, input_schema, max_tokens.
    let (registry, fake) = fake_registry("anthropic", Flavor::Anthropic).await;
    registry
        .get("anthropic")
        .unwrap()
        .complete(&request())
        .await
        .unwrap();
    let body = &fake.requests()[0];
    assert_eq!(body["system"], "Be terse.");
    assert_eq!(body["max_tokens"], 99);
    assert_eq!(
        body["messages"][1]["content"][0],
        json!({"type": "tool_use", "id": "call_a",
        "name": "get_weather", "input": {"city": "Oslo"}})
    );
    assert_eq!(body["messages"][2]["role"], "user");
    assert_eq!(body["messages"][2]["content"][0]["type"], "tool_result");
    assert_eq!(body["messages"][2]["content"][0]["tool_use_id"], "call_a");
    assert!(body["tools"][0]["input_schema"].is_object());
    let headers = fake.headers();
    assert_eq!(headers["x-api-key"], "key-anthropic");
    assert_eq!(headers["anthropic-version"], "2023-06-01");
    registry
        .get("anthropic")
        .unwrap()
        .complete(&structured())
        .await
        .unwrap();
    let system = fake.requests()[1]["system"].as_str().unwrap().to_owned();
    assert!(
        system.starts_with("Be terse.") && system.contains("\"sky\""),
        "schema in the prompt: {system}"
    );

    // Gemini: systemInstruction, functionCall / functionResponse parts, cleaned schemas.
    let (registry, fake) = fake_registry("google", Flavor::Gemini).await;
    registry
        .get("google")
        .unwrap()
        .complete(&request())
        .await
        .unwrap();
    let body = &fake.requests()[0];
    assert_eq!(body["systemInstruction"]["parts"][0]["text"], "Be terse.");
    assert_eq!(body["contents"][1]["role"], "model");
    assert_eq!(
        body["contents"][1]["parts"][0]["functionCall"]["name"],
        "get_weather"
    );
    assert_eq!(
        body["contents"][2]["parts"][0]["functionResponse"],
        json!({"name": "get_weather", "response": {"sky": "grey"}})
    );
    let params = &body["tools"][0]["functionDeclarations"][0]["parameters"];
    assert!(params.get("additionalProperties").is_none(), "{params}");
    assert_eq!(body["generationConfig"]["maxOutputTokens"], 99);
    assert_eq!(fake.headers()["x-goog-api-key"], "key-google");
    registry
        .get("google")
        .unwrap()
        .complete(&structured())
        .await
        .unwrap();
    let config = &fake.requests()[1]["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    assert_eq!(config["responseSchema"]["required"], json!(["sky"]));
}

#[tokio::test]
async fn vendor_errors_become_classified_provider_errors() {
    for flavor in ALL {
        let (registry, fake) = fake_registry("p", flavor).await;
        fake.push(Turn::error(429, json!({"error": {"message": "slow down"}})));
        let e = registry
            .get("p")
            .unwrap()
            .complete(&request())
            .await
            .unwrap_err();
        assert_eq!(e.status, Some(429), "{flavor:?}");
        assert_eq!(e.retry_after, Some(0.0));
        assert!(e.message.contains("slow down"), "{e}");
        assert!(!e.to_string().contains("key-p"), "no key in errors");
    }
    let registry = baton_providers::clients(
        vec![baton_providers::ProviderSettings {
            name: "dead".into(),
            flavor: Flavor::OpenAi,
            base_url: "http://127.0.0.1:9/v1".into(),
            api_key: None,
        }],
        reqwest::Client::new(),
    );
    let e = registry[0].complete(&request()).await.unwrap_err();
    assert_eq!(e.kind, baton_core::model::ProviderErrorKind::Network);
}
