//! Anthropic Messages.

use crate::http::{parse_arguments, u64_at, Client};
use async_trait::async_trait;
use baton_core::model::{
    ChatRequest, ChatResponse, ChatRole, DeltaSink, FinishReason, ModelProvider, ProviderError,
    ProviderErrorKind, StreamDelta, TokenUsage, ToolCall,
};
use serde_json::{json, Map, Value};

pub(crate) struct Anthropic(pub Client);

const VERSION: &str = "2023-06-01";
const DEFAULT_MAX_TOKENS: u64 = 4096;

/// Messages with consecutive same-role turns merged (tool results travel in user turns).
fn messages(req: &ChatRequest<'_>) -> Vec<Value> {
    let mut out: Vec<(String, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let (role, blocks) = match m.role {
            ChatRole::User => ("user", vec![json!({"type": "text", "text": m.content})]),
            ChatRole::Assistant => {
                let mut blocks = Vec::new();
                if !m.content.is_empty() {
                    blocks.push(json!({"type": "text", "text": m.content}));
                }
                for c in &m.tool_calls {
                    let input = if c.arguments.is_object() {
                        c.arguments.clone()
                    } else {
                        json!({})
                    };
                    blocks.push(
                        json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}),
                    );
                }
                if blocks.is_empty() {
                    blocks.push(json!({"type": "text", "text": "(no answer)"}));
                }
                ("assistant", blocks)
            }
            ChatRole::Tool => (
                "user",
                vec![
                    json!({"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}),
                ],
            ),
        };
        match out.last_mut() {
            Some((last, existing)) if last == role => existing.extend(blocks),
            _ => out.push((role.to_owned(), blocks)),
        }
    }
    out.into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

fn body(req: &ChatRequest<'_>, stream: bool) -> Value {
    let p = &req.parameters;
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert(
        "max_tokens".into(),
        p.get("max_tokens")
            .or_else(|| p.get("max_completion_tokens"))
            .cloned()
            .unwrap_or(json!(DEFAULT_MAX_TOKENS)),
    );
    let mut system = req.system.clone().unwrap_or_default();
    if let Some(schema) = &req.output_schema {
        // No native JSON-schema mode: ask for it, and the engine validates the answer.
        if !system.is_empty() {
            system.push_str("\n\n");
        }
        system.push_str(&format!(
            "Answer with only a JSON value (no prose, no code fences) that matches this JSON schema:\n{}",
            schema.schema
        ));
    }
    if !system.is_empty() {
        body.insert("system".into(), json!(system));
    }
    body.insert("messages".into(), Value::Array(messages(req)));
    for key in ["temperature", "top_p", "top_k", "thinking", "metadata"] {
        if let Some(v) = p.get(key) {
            body.insert(key.into(), v.clone());
        }
    }
    if let Some(stop) = p.get("stop") {
        let stops = if stop.is_string() {
            json!([stop])
        } else {
            stop.clone()
        };
        body.insert("stop_sequences".into(), stops);
    }
    if !req.tools.is_empty() {
        body.insert(
            "tools".into(),
            req.tools
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
                .collect(),
        );
        let choice = match p.get("tool_choice") {
            Some(Value::String(s)) if s == "required" => Some(json!({"type": "any"})),
            Some(Value::String(s)) if s == "none" => Some(json!({"type": "none"})),
            Some(Value::String(s)) if s == "auto" => Some(json!({"type": "auto"})),
            Some(Value::Object(o)) => o
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| o.get("name"))
                .map(|name| json!({"type": "tool", "name": name})),
            _ => None,
        };
        if let Some(choice) = choice {
            body.insert("tool_choice".into(), choice);
        }
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    Value::Object(body)
}

fn finish(reason: &str) -> FinishReason {
    match reason {
        "max_tokens" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

impl Anthropic {
    async fn send(
        &self,
        req: &ChatRequest<'_>,
        stream: bool,
    ) -> Result<reqwest::Response, ProviderError> {
        let url = format!("{}/v1/messages", self.0.base_url);
        let mut headers = vec![("anthropic-version", VERSION)];
        if let Some(key) = &self.0.api_key {
            headers.push(("x-api-key", key.as_str()));
        }
        self.0
            .post(
                &url,
                &headers,
                &body(req, stream),
                crate::http::text_len(req),
            )
            .await
    }
}

#[async_trait]
impl ModelProvider for Anthropic {
    fn name(&self) -> &str {
        &self.0.name
    }

    async fn complete(&self, req: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
        let v = self.0.json(self.send(req, false).await?).await?;
        let mut content = String::new();
        let mut tool_calls = Vec::new();
        for block in v["content"].as_array().into_iter().flatten() {
            match block["type"].as_str() {
                Some("text") => content.push_str(block["text"].as_str().unwrap_or_default()),
                Some("tool_use") => tool_calls.push(ToolCall {
                    id: block["id"].as_str().unwrap_or_default().to_owned(),
                    name: block["name"].as_str().unwrap_or_default().to_owned(),
                    arguments: block["input"].clone(),
                    signature: None,
                }),
                _ => {}
            }
        }
        Ok(ChatResponse {
            content,
            finish_reason: if tool_calls.is_empty() {
                finish(v["stop_reason"].as_str().unwrap_or("end_turn"))
            } else {
                FinishReason::ToolCalls
            },
            tool_calls,
            usage: TokenUsage {
                prompt_tokens: u64_at(&v, "/usage/input_tokens"),
                completion_tokens: u64_at(&v, "/usage/output_tokens"),
                cached_tokens: u64_at(&v, "/usage/cache_read_input_tokens"),
                reasoning_tokens: 0,
            },
        })
    }

    async fn stream(
        &self,
        req: &ChatRequest<'_>,
        on_delta: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let resp = self.send(req, true).await?;
        let mut content = String::new();
        // Content blocks by index: (id, name, partial JSON) for tool_use blocks.
        let mut tools: Vec<Option<(String, String, String)>> = Vec::new();
        let mut reason = String::from("end_turn");
        let mut tokens = TokenUsage::default();
        self.0
            .frames(resp, |frame| {
                let v = self.0.frame_json(&frame)?;
                match v["type"].as_str().unwrap_or_default() {
                    "message_start" => {
                        tokens.prompt_tokens = u64_at(&v, "/message/usage/input_tokens");
                        tokens.cached_tokens = u64_at(&v, "/message/usage/cache_read_input_tokens");
                    }
                    "content_block_start" => {
                        let index = v["index"].as_u64().unwrap_or(0) as usize;
                        while tools.len() <= index {
                            tools.push(None);
                        }
                        let block = &v["content_block"];
                        if block["type"] == "tool_use" {
                            tools[index] = Some((
                                block["id"].as_str().unwrap_or_default().to_owned(),
                                block["name"].as_str().unwrap_or_default().to_owned(),
                                String::new(),
                            ));
                        }
                    }
                    "content_block_delta" => {
                        let index = v["index"].as_u64().unwrap_or(0) as usize;
                        let delta = &v["delta"];
                        match delta["type"].as_str().unwrap_or_default() {
                            "text_delta" => {
                                let text = delta["text"].as_str().unwrap_or_default();
                                content.push_str(text);
                                on_delta(StreamDelta::Text(text.to_owned()));
                            }
                            "thinking_delta" => {
                                let text = delta["thinking"].as_str().unwrap_or_default();
                                on_delta(StreamDelta::Reasoning(text.to_owned()));
                            }
                            "input_json_delta" => {
                                if let Some(Some(tool)) = tools.get_mut(index) {
                                    tool.2.push_str(
                                        delta["partial_json"].as_str().unwrap_or_default(),
                                    );
                                }
                            }
                            _ => {}
                        }
                    }
                    "message_delta" => {
                        if let Some(r) = v["delta"]["stop_reason"].as_str() {
                            reason = r.to_owned();
                        }
                        tokens.completion_tokens = u64_at(&v, "/usage/output_tokens");
                    }
                    "error" => {
                        let message = v["error"]["message"].as_str().unwrap_or("stream error");
                        return Err(self.0.error(ProviderErrorKind::Status, message.to_owned()));
                    }
                    _ => {}
                }
                Ok(())
            })
            .await?;
        let tool_calls: Vec<ToolCall> = tools
            .into_iter()
            .flatten()
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
