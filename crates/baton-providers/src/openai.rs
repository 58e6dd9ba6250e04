//! OpenAI Chat Completions, which every OpenAI-compatible server also speaks.

use crate::http::{parse_arguments, u64_at, Client};
use async_trait::async_trait;
use baton_core::model::{
    ChatRequest, ChatResponse, ChatRole, DeltaSink, FinishReason, ModelProvider, ProviderError,
    ProviderErrorKind, StreamDelta, TokenUsage, ToolCall,
};
use serde::Serialize;
use serde_json::{json, Map, Value};

pub(crate) struct OpenAi(pub Client);

/// One message of the request, borrowing its text from the conversation: the history is sent
/// whole every turn, so it is serialized once, straight from the request.
#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

/// The request body: its messages typed, everything else (parameters, tools, …) as JSON.
#[derive(Serialize)]
struct Body<'a> {
    messages: Vec<WireMessage<'a>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

fn messages<'r>(req: &'r ChatRequest<'_>) -> Vec<WireMessage<'r>> {
    let mut out = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = &req.system {
        out.push(WireMessage {
            role: "system",
            content: Some(system),
            tool_calls: None,
            tool_call_id: None,
        });
    }
    for m in &req.messages {
        out.push(match m.role {
            ChatRole::User => WireMessage {
                role: "user",
                content: Some(&m.content),
                tool_calls: None,
                tool_call_id: None,
            },
            ChatRole::Assistant => WireMessage {
                role: "assistant",
                content: (!m.content.is_empty()).then_some(&*m.content),
                tool_calls: (!m.tool_calls.is_empty()).then(|| {
                    m.tool_calls
                        .iter()
                        .map(|c| {
                            let arguments = match &c.arguments {
                                Value::String(raw) => raw.clone(),
                                other => other.to_string(),
                            };
                            json!({"id": c.id, "type": "function",
                                   "function": {"name": c.name, "arguments": arguments}})
                        })
                        .collect()
                }),
                tool_call_id: None,
            },
            ChatRole::Tool => WireMessage {
                role: "tool",
                content: Some(&m.content),
                tool_calls: None,
                tool_call_id: m.tool_call_id.as_deref(),
            },
        });
    }
    out
}

fn body<'r>(req: &'r ChatRequest<'_>, stream: bool) -> Body<'r> {
    let mut body = Map::new();
    // Unknown parameters pass through: compatible servers accept their own extensions.
    for (k, v) in &req.parameters {
        body.insert(k.clone(), v.clone());
    }
    body.insert("model".into(), json!(req.model));
    // Set below, typed; a `messages` parameter must not be sent twice.
    body.remove("messages");
    if !req.tools.is_empty() {
        body.insert(
            "tools".into(),
            req.tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {"name": t.name,
                    "description": t.description, "parameters": t.parameters}})
                })
                .collect(),
        );
    }
    if let Some(Value::Object(choice)) = req.parameters.get("tool_choice") {
        // `{"function": {"name"}}` (or `{"name"}`) in Baton's form → OpenAI's.
        let name = choice
            .get("function")
            .and_then(|f| f.get("name"))
            .or_else(|| choice.get("name"))
            .cloned();
        if let Some(name) = name {
            body.insert(
                "tool_choice".into(),
                json!({"type": "function", "function": {"name": name}}),
            );
        }
    }
    if let Some(schema) = &req.output_schema {
        body.insert(
            "response_format".into(),
            json!({"type": "json_schema", "json_schema": {"name": schema.name,
                "schema": schema.schema, "strict": schema.strict}}),
        );
    }
    if stream {
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Body {
        messages: messages(req),
        rest: body,
    }
}

fn finish(reason: &str) -> FinishReason {
    match reason {
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

fn usage(u: &Value) -> TokenUsage {
    TokenUsage {
        prompt_tokens: u64_at(u, "/prompt_tokens"),
        completion_tokens: u64_at(u, "/completion_tokens"),
        cached_tokens: u64_at(u, "/prompt_tokens_details/cached_tokens"),
        reasoning_tokens: u64_at(u, "/completion_tokens_details/reasoning_tokens"),
    }
}

impl OpenAi {
    fn url(&self) -> String {
        format!("{}/chat/completions", self.0.base_url)
    }

    async fn send(
        &self,
        req: &ChatRequest<'_>,
        stream: bool,
    ) -> Result<reqwest::Response, ProviderError> {
        let auth = self.0.api_key.as_ref().map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.0
            .post(
                &self.url(),
                &headers,
                &body(req, stream),
                crate::http::text_len(req),
            )
            .await
    }
}

#[async_trait]
impl ModelProvider for OpenAi {
    fn name(&self) -> &str {
        &self.0.name
    }

    async fn embed(&self, model: &str, inputs: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let auth = self.0.api_key.as_ref().map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let url = format!("{}/embeddings", self.0.base_url);
        let body = serde_json::json!({"model": model, "input": inputs});
        let v = self
            .0
            .json(self.0.post(&url, &headers, &body, 0).await?)
            .await?;
        let data = v["data"].as_array().ok_or_else(|| {
            self.0
                .error(ProviderErrorKind::Decode, "embeddings answer without data")
        })?;
        let mut out = vec![Vec::new(); inputs.len()];
        for (position, item) in data.iter().enumerate() {
            let index = item["index"].as_u64().map_or(position, |i| i as usize);
            let vector: Vec<f32> = item["embedding"]
                .as_array()
                .map(|xs| {
                    xs.iter()
                        .filter_map(Value::as_f64)
                        .map(|x| x as f32)
                        .collect()
                })
                .unwrap_or_default();
            if let Some(slot) = out.get_mut(index) {
                *slot = vector;
            }
        }
        if out.iter().any(Vec::is_empty) {
            return Err(self.0.error(
                ProviderErrorKind::Decode,
                format!("expected {} embeddings, got {}", inputs.len(), data.len()),
            ));
        }
        Ok(out)
    }

    async fn complete(&self, req: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
        let v = self.0.json(self.send(req, false).await?).await?;
        let choice = v.pointer("/choices/0").ok_or_else(|| {
            self.0
                .error(ProviderErrorKind::Decode, "answer without choices")
        })?;
        let message = &choice["message"];
        let tool_calls: Vec<ToolCall> = message["tool_calls"]
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .map(|c| ToolCall {
                        id: c["id"].as_str().unwrap_or_default().to_owned(),
                        name: c["function"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        arguments: parse_arguments(
                            c["function"]["arguments"].as_str().unwrap_or(""),
                        ),
                        signature: None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(ChatResponse {
            content: message["content"].as_str().unwrap_or_default().to_owned(),
            finish_reason: if tool_calls.is_empty() {
                finish(choice["finish_reason"].as_str().unwrap_or("stop"))
            } else {
                FinishReason::ToolCalls
            },
            tool_calls,
            usage: usage(&v["usage"]),
        })
    }

    async fn stream(
        &self,
        req: &ChatRequest<'_>,
        on_delta: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let resp = self.send(req, true).await?;
        let mut content = String::new();
        let mut calls: Vec<(String, String, String)> = Vec::new(); // id, name, arguments
        let mut reason = String::from("stop");
        let mut tokens = TokenUsage::default();
        self.0
            .frames(resp, |frame| {
                if frame.data == "[DONE]" {
                    return Ok(());
                }
                let v = self.0.frame_json(&frame)?;
                if let Some(message) = v.pointer("/error/message").and_then(Value::as_str) {
                    return Err(self.0.error(ProviderErrorKind::Status, message.to_owned()));
                }
                if v["usage"].is_object() {
                    tokens = usage(&v["usage"]);
                }
                let Some(choice) = v.pointer("/choices/0") else {
                    return Ok(());
                };
                let delta = &choice["delta"];
                if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
                    content.push_str(text);
                    on_delta(StreamDelta::Text(text.to_owned()));
                }
                if let Some(text) = delta["reasoning_content"]
                    .as_str()
                    .filter(|t| !t.is_empty())
                {
                    on_delta(StreamDelta::Reasoning(text.to_owned()));
                }
                for tc in delta["tool_calls"].as_array().into_iter().flatten() {
                    let index = tc["index"].as_u64().unwrap_or(0) as usize;
                    while calls.len() <= index {
                        calls.push(Default::default());
                    }
                    let call = &mut calls[index];
                    if let Some(id) = tc["id"].as_str() {
                        call.0 = id.to_owned();
                    }
                    if let Some(name) = tc["function"]["name"].as_str() {
                        call.1.push_str(name);
                    }
                    if let Some(args) = tc["function"]["arguments"].as_str() {
                        call.2.push_str(args);
                    }
                }
                if let Some(r) = choice["finish_reason"].as_str() {
                    reason = r.to_owned();
                }
                Ok(())
            })
            .await?;
        let tool_calls: Vec<ToolCall> = calls
            .into_iter()
            .map(|(id, name, args)| ToolCall {
                id,
                name,
                arguments: parse_arguments(&args),
                signature: None,
            })
            .collect();
        Ok(ChatResponse {
            content,
            finish_reason: if tool_calls.is_empty() {
                finish(&reason)
            } else {
                FinishReason::ToolCalls
            },
            tool_calls,
            usage: tokens,
        })
    }
}
