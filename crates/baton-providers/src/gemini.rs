//! Google Gemini (`generateContent` and `streamGenerateContent?alt=sse`).

use crate::http::{u64_at, Client};
use async_trait::async_trait;
use baton_core::model::{
    ChatRequest, ChatResponse, ChatRole, DeltaSink, FinishReason, ModelProvider, ProviderError,
    ProviderErrorKind, StreamDelta, TokenUsage, ToolCall,
};
use serde_json::{json, Map, Value};

pub(crate) struct Gemini(pub Client);

/// Removes JSON-schema keywords Gemini's OpenAPI-subset schemas reject.
fn gemini_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "additionalProperties"
                            | "$schema"
                            | "$id"
                            | "$defs"
                            | "definitions"
                            | "strict"
                    )
                })
                .map(|(k, v)| (k.clone(), gemini_schema(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(gemini_schema).collect()),
        other => other.clone(),
    }
}

fn contents(req: &ChatRequest<'_>) -> Vec<Value> {
    let mut out: Vec<(String, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let (role, parts) = match m.role {
            ChatRole::User => ("user", vec![json!({"text": m.content})]),
            ChatRole::Assistant => {
                let mut parts = Vec::new();
                if !m.content.is_empty() {
                    parts.push(json!({"text": m.content}));
                }
                for c in &m.tool_calls {
                    let args = if c.arguments.is_object() {
                        c.arguments.clone()
                    } else {
                        json!({})
                    };
                    let mut part = json!({"functionCall": {"name": c.name, "args": args}});
                    if let Some(sig) = &c.signature {
                        part["thoughtSignature"] = json!(sig);
                    }
                    parts.push(part);
                }
                if parts.is_empty() {
                    parts.push(json!({"text": ""}));
                }
                ("model", parts)
            }
            ChatRole::Tool => {
                // functionResponse.response must be an object.
                let response = match serde_json::from_str::<Value>(&m.content) {
                    Ok(Value::Object(o)) => Value::Object(o),
                    Ok(other) => json!({"result": other}),
                    Err(_) => json!({"result": m.content}),
                };
                (
                    "user",
                    vec![
                        json!({"functionResponse": {"name": m.tool_name.clone().unwrap_or_default(),
                        "response": response}}),
                    ],
                )
            }
        };
        match out.last_mut() {
            Some((last, existing)) if last == role => existing.extend(parts),
            _ => out.push((role.to_owned(), parts)),
        }
    }
    out.into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect()
}

fn body(req: &ChatRequest<'_>) -> Value {
    let p = &req.parameters;
    let mut body = Map::new();
    body.insert("contents".into(), Value::Array(contents(req)));
    if let Some(system) = &req.system {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
        );
    }
    if !req.tools.is_empty() {
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": req.tools.iter().map(|t| json!({
                "name": t.name, "description": t.description, "parameters": gemini_schema(&t.parameters)
            })).collect::<Vec<_>>()}]),
        );
        let mode = match p.get("tool_choice") {
            Some(Value::String(s)) if s == "required" => Some(json!({"mode": "ANY"})),
            Some(Value::String(s)) if s == "none" => Some(json!({"mode": "NONE"})),
            Some(Value::Object(o)) => o
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| o.get("name"))
                .map(|name| json!({"mode": "ANY", "allowedFunctionNames": [name]})),
            _ => None,
        };
        if let Some(mode) = mode {
            body.insert("toolConfig".into(), json!({"functionCallingConfig": mode}));
        }
    }
    let mut config = Map::new();
    for (from, to) in [
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("top_k", "topK"),
        ("max_tokens", "maxOutputTokens"),
        ("max_completion_tokens", "maxOutputTokens"),
        ("seed", "seed"),
    ] {
        if let Some(v) = p.get(from) {
            config.insert(to.into(), v.clone());
        }
    }
    if let Some(stop) = p.get("stop") {
        let stops = if stop.is_string() {
            json!([stop])
        } else {
            stop.clone()
        };
        config.insert("stopSequences".into(), stops);
    }
    if let Some(effort) = p.get("reasoning_effort").and_then(Value::as_str) {
        let budget = match effort {
            "low" => 1024,
            "medium" => 8192,
            _ => 24576,
        };
        config.insert("thinkingConfig".into(), json!({"thinkingBudget": budget}));
    }
    if let Some(schema) = &req.output_schema {
        config.insert("responseMimeType".into(), json!("application/json"));
        config.insert("responseSchema".into(), gemini_schema(&schema.schema));
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    Value::Object(body)
}

fn finish(reason: &str) -> FinishReason {
    match reason {
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" => {
            FinishReason::ContentFilter
        }
        _ => FinishReason::Stop,
    }
}

fn usage(v: &Value) -> TokenUsage {
    TokenUsage {
        prompt_tokens: u64_at(v, "/usageMetadata/promptTokenCount"),
        completion_tokens: u64_at(v, "/usageMetadata/candidatesTokenCount")
            + u64_at(v, "/usageMetadata/thoughtsTokenCount"),
        cached_tokens: u64_at(v, "/usageMetadata/cachedContentTokenCount"),
        reasoning_tokens: u64_at(v, "/usageMetadata/thoughtsTokenCount"),
    }
}

/// Adds one answer chunk's parts to the text and calls; returns its text.
fn absorb(v: &Value, content: &mut String, calls: &mut Vec<ToolCall>) -> String {
    let mut text = String::new();
    for part in v
        .pointer("/candidates/0/content/parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(call) = part.get("functionCall") {
            calls.push(ToolCall {
                // Gemini may not give ids; Baton needs ones unique within the task.
                id: call["id"].as_str().map(str::to_owned).unwrap_or_else(|| {
                    format!("call_{}", ulid::Ulid::new().to_string().to_lowercase())
                }),
                name: call["name"].as_str().unwrap_or_default().to_owned(),
                arguments: call.get("args").cloned().unwrap_or_else(|| json!({})),
                signature: part["thoughtSignature"].as_str().map(str::to_owned),
            });
        } else if let Some(t) = part["text"].as_str() {
            if part["thought"] != Value::Bool(true) {
                text.push_str(t);
            }
        }
    }
    content.push_str(&text);
    text
}

impl Gemini {
    async fn send(
        &self,
        req: &ChatRequest<'_>,
        stream: bool,
    ) -> Result<reqwest::Response, ProviderError> {
        let url = if stream {
            format!(
                "{}/v1beta/models/{}:streamGenerateContent?alt=sse",
                self.0.base_url, req.model
            )
        } else {
            format!(
                "{}/v1beta/models/{}:generateContent",
                self.0.base_url, req.model
            )
        };
        let headers: Vec<(&str, &str)> = self
            .0
            .api_key
            .iter()
            .map(|k| ("x-goog-api-key", k.as_str()))
            .collect();
        self.0
            .post(&url, &headers, &body(req), crate::http::text_len(req))
            .await
    }
}

#[async_trait]
impl ModelProvider for Gemini {
    fn name(&self) -> &str {
        &self.0.name
    }

    async fn complete(&self, req: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
        let v = self.0.json(self.send(req, false).await?).await?;
        if v.pointer("/candidates/0").is_none() {
            let reason = v
                .pointer("/promptFeedback/blockReason")
                .and_then(Value::as_str);
            return Err(self.0.error(
                ProviderErrorKind::Decode,
                format!(
                    "answer without candidates{}",
                    reason
                        .map(|r| format!(" (blocked: {r})"))
                        .unwrap_or_default()
                ),
            ));
        }
        let mut content = String::new();
        let mut tool_calls = Vec::new();
        absorb(&v, &mut content, &mut tool_calls);
        Ok(ChatResponse {
            content,
            finish_reason: if tool_calls.is_empty() {
                finish(
                    v.pointer("/candidates/0/finishReason")
                        .and_then(Value::as_str)
                        .unwrap_or("STOP"),
                )
            } else {
                FinishReason::ToolCalls
            },
            tool_calls,
            usage: usage(&v),
        })
    }

    async fn stream(
        &self,
        req: &ChatRequest<'_>,
        on_delta: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let resp = self.send(req, true).await?;
        let mut content = String::new();
        let mut tool_calls = Vec::new();
        let mut reason = String::from("STOP");
        let mut tokens = TokenUsage::default();
        self.0
            .frames(resp, |frame| {
                let v = self.0.frame_json(&frame)?;
                if let Some(message) = v.pointer("/error/message").and_then(Value::as_str) {
                    return Err(self.0.error(ProviderErrorKind::Status, message.to_owned()));
                }
                let text = absorb(&v, &mut content, &mut tool_calls);
                if !text.is_empty() {
                    on_delta(StreamDelta::Text(text));
                }
                if let Some(r) = v
                    .pointer("/candidates/0/finishReason")
                    .and_then(Value::as_str)
                {
                    reason = r.to_owned();
                }
                if v.get("usageMetadata").is_some() {
                    tokens = usage(&v);
                }
                Ok(())
            })
            .await?;
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
