//! Remote agents over the A2A protocol (JSON-RPC binding) as members of a team.
//!
//! A call reads the agent's card (cached for a while), picks its JSON-RPC interface, sends the
//! message with `SendMessage` (A2A 1.0) or `message/send` (a 0.3 card) without waiting, and,
//! while the task is under way, asks for it with `GetTask` / `tasks/get` until it completes,
//! stops for input, fails, or the call's time runs out; then it cancels the remote task
//! (`CancelTask` / `tasks/cancel`) before failing. The remote task's usage, when its metadata
//! carries it (a Baton remote does), goes with the answer to the caller's trace. Every request
//! goes through the outbound policy, and a secret header only to the origin it was sealed for.

use crate::policy::OutboundPolicy;
use async_trait::async_trait;
use baton_core::agent::A2aAgentDef;
use baton_core::handler::{ToolContext, ToolError, ToolHandler};
use baton_core::secret::url_origin;
use baton_core::tool::HeaderValue;
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a fetched agent card is used before it is read again.
const CARD_TTL: Duration = Duration::from_secs(300);
/// The header that names the A2A protocol version of a request (A2A 1.0).
const VERSION_HEADER: &str = "A2A-Version";
/// The first wait between two reads of a task under way; it doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(200);
const MAX_POLL: Duration = Duration::from_secs(2);
/// How long the cancel of a remote task that ran out of time may take.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// Which protocol version a remote interface speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// A2A 1.0: `SendMessage`, `ROLE_USER`, `TASK_STATE_*`.
    V1,
    /// A2A 0.3: `message/send`, `user`, `kind`-tagged parts, lower-case states.
    V03,
}

impl Protocol {
    fn version(self) -> &'static str {
        match self {
            Self::V1 => "1.0",
            Self::V03 => "0.3",
        }
    }
}

/// The JSON-RPC endpoint a card offers.
#[derive(Debug, Clone)]
struct Endpoint {
    url: reqwest::Url,
    protocol: Protocol,
}

/// The A2A client every remote team member shares: HTTP client, policy and card cache.
pub struct A2aClient {
    client: reqwest::Client,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
    max_response_bytes: usize,
    cards: Mutex<HashMap<String, (Instant, Endpoint)>>,
}

impl A2aClient {
    /// A client sending through `client` (built with the policy's resolver) under `policy`;
    /// `timeout` bounds a call that sets none.
    pub fn new(
        client: reqwest::Client,
        policy: Arc<OutboundPolicy>,
        timeout: Duration,
        max_response_bytes: usize,
    ) -> Self {
        Self {
            client,
            policy,
            timeout,
            max_response_bytes,
            cards: Mutex::new(HashMap::new()),
        }
    }

    /// The handler of one remote team member.
    pub fn agent(self: &Arc<Self>, key: &str, def: &A2aAgentDef) -> Arc<dyn ToolHandler> {
        Arc::new(A2aAgent {
            client: self.clone(),
            key: key.to_owned(),
            def: def.clone(),
        })
    }

    /// The agent's JSON-RPC endpoint, from the cache or its card.
    async fn endpoint(
        &self,
        def: &A2aAgentDef,
        ctx: &ToolContext<'_>,
        deadline: Instant,
    ) -> Result<Endpoint, ToolError> {
        if let Some((at, endpoint)) = self.lock_cards().get(&def.card_url) {
            if at.elapsed() < CARD_TTL {
                return Ok(endpoint.clone());
            }
        }
        let url = reqwest::Url::parse(&def.card_url).map_err(|e| {
            ToolError::Unavailable(format!(
                "the agent card URL `{}` is invalid: {e}",
                def.card_url
            ))
        })?;
        let request = self
            .request(reqwest::Method::GET, url.clone(), def, ctx, deadline)?
            .header(reqwest::header::ACCEPT, "application/json")
            .build()
            .map_err(build_error)?;
        let card = self.exchange(request).await?;
        let endpoint = pick_endpoint(&card, &url)?;
        self.lock_cards()
            .insert(def.card_url.clone(), (Instant::now(), endpoint.clone()));
        Ok(endpoint)
    }

    fn lock_cards(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Endpoint)>> {
        self.cards.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request to `url` with the member's headers; a secret one opens only for its origin.
    fn request(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
        def: &A2aAgentDef,
        ctx: &ToolContext<'_>,
        deadline: Instant,
    ) -> Result<reqwest::RequestBuilder, ToolError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ToolError::Timeout(format!(
                "the remote agent did not finish in the {} s the call may take",
                self.timeout_of(def).as_secs_f64()
            )));
        }
        let origin = url_origin(&url).unwrap_or_default();
        let mut request = self.client.request(method, url).timeout(left);
        for (name, header) in &def.headers {
            let value = match header {
                HeaderValue::Plain(v) | HeaderValue::Unencrypted(v) => v.clone(),
                HeaderValue::Secret(secret) => {
                    secret
                        .reveal(ctx.cipher, &origin)
                        .map_err(|e| ToolError::Secret {
                            what: format!("header `{name}` is not sent"),
                            source: Box::new(e),
                        })?
                }
            };
            request = request.header(name.as_str(), value);
        }
        Ok(request)
    }

    fn timeout_of(&self, def: &A2aAgentDef) -> Duration {
        def.timeout
            .filter(|t| *t > 0.0)
            .map(|t| Duration::from_secs_f64(t.min(600.0)))
            .unwrap_or(self.timeout)
    }

    /// Sends a request under the policy and reads its JSON answer, bounded in size.
    async fn exchange(&self, request: reqwest::Request) -> Result<Value, ToolError> {
        crate::http::check_literal_host(&self.policy, request.url())?;
        let url = request.url().clone();
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|e| crate::http::describe(e, &url))?;
        let status = response.status();
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| crate::http::describe(e, &url))?;
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(ToolError::upstream(format!(
                    "the answer of {url} is larger than {} bytes",
                    self.max_response_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let snippet: String = String::from_utf8_lossy(&body).chars().take(500).collect();
            return Err(ToolError::HttpStatus {
                url: url.to_string(),
                status: status.as_u16(),
                body: snippet,
            });
        }
        serde_json::from_slice(&body).map_err(|e| ToolError::Upstream {
            message: format!("the answer of {url} is not JSON: {e}"),
            source: Some(Box::new(e)),
        })
    }

    /// One JSON-RPC call; its `result`, or the remote error as a tool error.
    async fn rpc(
        &self,
        endpoint: &Endpoint,
        method: &str,
        params: Value,
        def: &A2aAgentDef,
        ctx: &ToolContext<'_>,
        deadline: Instant,
    ) -> Result<Value, ToolError> {
        let body = json!({"jsonrpc": "2.0", "id": baton_core::id::new_id(),
                          "method": method, "params": params});
        let mut request = self
            .request(
                reqwest::Method::POST,
                endpoint.url.clone(),
                def,
                ctx,
                deadline,
            )?
            .header(reqwest::header::ACCEPT, "application/json");
        if endpoint.protocol == Protocol::V1 {
            request = request.header(VERSION_HEADER, Protocol::V1.version());
        }
        let request = request.json(&body).build().map_err(build_error)?;
        let mut answer = self.exchange(request).await?;
        if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
            return Err(ToolError::upstream(format!(
                "the remote agent refused `{method}` (JSON-RPC error {}): {}",
                error.get("code").unwrap_or(&Value::Null),
                error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message")
            )));
        }
        match answer.get_mut("result") {
            Some(result) if !result.is_null() => Ok(result.take()),
            _ => Err(ToolError::upstream(format!(
                "the remote agent's answer to `{method}` has no result"
            ))),
        }
    }
}

fn build_error(e: reqwest::Error) -> ToolError {
    ToolError::Upstream {
        message: format!("cannot build the request: {e}"),
        source: Some(Box::new(e)),
    }
}

/// The card's JSON-RPC interface: an A2A 1.0 one first, else a 0.3 one (from
/// `supportedInterfaces`, or a 0.3 card's `url` / `additionalInterfaces`).
fn pick_endpoint(card: &Value, card_url: &reqwest::Url) -> Result<Endpoint, ToolError> {
    let join = |url: &str| {
        card_url.join(url).map_err(|e| {
            ToolError::Unavailable(format!(
                "the agent card at {card_url} names an invalid URL `{url}`: {e}"
            ))
        })
    };
    let is_jsonrpc = |binding: Option<&Value>| {
        binding
            .and_then(Value::as_str)
            .is_some_and(|b| b.eq_ignore_ascii_case("JSONRPC"))
    };
    let interfaces = card
        .get("supportedInterfaces")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let jsonrpc: Vec<(&str, Protocol)> = interfaces
        .iter()
        .filter(|i| is_jsonrpc(i.get("protocolBinding")))
        .filter_map(|i| {
            let url = i.get("url").and_then(Value::as_str)?;
            let version = i
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or("1.0");
            Some((url, protocol_of(version)))
        })
        .collect();
    if let Some((url, protocol)) = jsonrpc
        .iter()
        .find(|(_, p)| *p == Protocol::V1)
        .or_else(|| jsonrpc.first())
    {
        return Ok(Endpoint {
            url: join(url)?,
            protocol: *protocol,
        });
    }
    // An A2A 0.3 card: its main `url` speaks `preferredTransport` (JSON-RPC by default).
    let protocol = protocol_of(
        card.get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or("0.3"),
    );
    let main = card.get("url").and_then(Value::as_str);
    let preferred = card
        .get("preferredTransport")
        .is_none_or(|t| is_jsonrpc(Some(t)));
    if let (Some(url), true) = (main, preferred) {
        return Ok(Endpoint {
            url: join(url)?,
            protocol,
        });
    }
    let additional = card
        .get("additionalInterfaces")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|i| is_jsonrpc(i.get("transport")))
        .and_then(|i| i.get("url").and_then(Value::as_str));
    match additional {
        Some(url) => Ok(Endpoint {
            url: join(url)?,
            protocol,
        }),
        None => Err(ToolError::Unavailable(format!(
            "the agent card at {card_url} offers no JSON-RPC interface"
        ))),
    }
}

fn protocol_of(version: &str) -> Protocol {
    if version.starts_with("0.") {
        Protocol::V03
    } else {
        Protocol::V1
    }
}

/// A task's state as A2A 0.3 spells it (`input-required`), from either version's form.
fn state_of(task: &Value) -> String {
    let raw = task
        .pointer("/status/state")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    raw.strip_prefix("TASK_STATE_")
        .unwrap_or(raw)
        .to_ascii_lowercase()
        .replace('_', "-")
}

/// Whether a task in this state will not change without the caller (terminal or waiting).
fn settled(state: &str) -> bool {
    matches!(
        state,
        "completed"
            | "failed"
            | "canceled"
            | "cancelled"
            | "rejected"
            | "input-required"
            | "auth-required"
    )
}

/// The text and data of a list of parts (either version's form).
fn collect_parts(parts: Option<&Value>, texts: &mut Vec<String>, data: &mut Vec<Value>) {
    for part in parts.and_then(Value::as_array).into_iter().flatten() {
        if let Some(text) = part.get("text").and_then(Value::as_str) {
            if !text.is_empty() {
                texts.push(text.to_owned());
            }
        } else if let Some(value) = part.get("data") {
            // 1.0 carries the value itself; 0.3 the same under `data`.
            data.push(value.clone());
        } else if let Some(url) = part
            .get("url")
            .or_else(|| part.pointer("/file/uri"))
            .and_then(Value::as_str)
        {
            texts.push(format!("[file: {url}]"));
        }
    }
}

/// What the model reads of a remote answer: its text, and structured data when there is some.
fn outcome(texts: Vec<String>, data: Vec<Value>, into: &mut Map<String, Value>) {
    into.insert("answer".into(), json!(texts.join("\n")));
    match data.len() {
        0 => {}
        1 => {
            into.insert("data".into(), data.into_iter().next().unwrap_or_default());
        }
        _ => {
            into.insert("data".into(), Value::Array(data));
        }
    }
}

/// The `{message, configuration}` of a send in the endpoint's protocol version. The send does
/// not wait for the task to end: its id comes back at once, so a call that runs out of time
/// can cancel it.
fn send_params(protocol: Protocol, message_id: &str, text: &str) -> (&'static str, Value) {
    match protocol {
        Protocol::V1 => (
            "SendMessage",
            json!({
                "message": {"messageId": message_id, "role": "ROLE_USER", "parts": [{"text": text}]},
                "configuration": {"acceptedOutputModes": ["text/plain", "application/json"],
                                  "returnImmediately": true}
            }),
        ),
        Protocol::V03 => (
            "message/send",
            json!({
                "message": {"kind": "message", "messageId": message_id, "role": "user",
                            "parts": [{"kind": "text", "text": text}]},
                "configuration": {"acceptedOutputModes": ["text/plain", "application/json"],
                                  "blocking": false}
            }),
        ),
    }
}

/// One remote team member.
struct A2aAgent {
    client: Arc<A2aClient>,
    key: String,
    def: A2aAgentDef,
}

impl A2aAgent {
    /// Cancels a remote task the call ran out of time for, and says so in the call's error.
    async fn cancel_late(
        &self,
        endpoint: &Endpoint,
        task_id: &str,
        state: &str,
        ctx: &ToolContext<'_>,
    ) -> ToolError {
        let method = match endpoint.protocol {
            Protocol::V1 => "CancelTask",
            Protocol::V03 => "tasks/cancel",
        };
        let grace = Instant::now() + CANCEL_GRACE;
        let canceled = match self
            .client
            .rpc(
                endpoint,
                method,
                json!({"id": task_id}),
                &self.def,
                ctx,
                grace,
            )
            .await
        {
            Ok(_) => "it was canceled".to_owned(),
            Err(e) => format!("canceling it failed: {e}"),
        };
        ToolError::Timeout(format!(
            "remote agent `{}` did not finish in {} s (remote task {task_id} was {state}; {canceled})",
            self.key,
            self.client.timeout_of(&self.def).as_secs_f64(),
        ))
    }
}

/// The tokens (and cost) a remote task reports in its metadata's `usage` (camelCase as a Baton
/// remote writes it, or snake_case), as the caller's trace records them.
fn remote_usage(task: &Value) -> Option<Value> {
    let usage = task.pointer("/metadata/usage")?.as_object()?;
    let read = |camel: &str, snake: &str| usage.get(camel).or_else(|| usage.get(snake)).cloned();
    let prompt = read("promptTokens", "prompt_tokens").and_then(|v| v.as_u64());
    let completion = read("completionTokens", "completion_tokens").and_then(|v| v.as_u64());
    if prompt.is_none() && completion.is_none() {
        return None;
    }
    let (prompt, completion) = (prompt.unwrap_or(0), completion.unwrap_or(0));
    let mut out = json!({"prompt_tokens": prompt, "completion_tokens": completion,
                         "total_tokens": prompt + completion});
    if let Some(cost) = read("cost", "cost").and_then(|v| v.as_f64()) {
        out["cost"] = json!(cost);
    }
    Some(out)
}

#[async_trait]
impl ToolHandler for A2aAgent {
    async fn call(&self, arguments: Value, ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        let text = arguments
            .get("message")
            .and_then(Value::as_str)
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| {
                ToolError::InvalidArguments("`message` must be a non-empty string".into())
            })?;
        let client = &self.client;
        let deadline = Instant::now() + client.timeout_of(&self.def);
        let endpoint = client.endpoint(&self.def, ctx, deadline).await?;
        // A repeated attempt of one call sends the same message id, so the remote can tell.
        let message_id = ctx
            .idempotency_key
            .clone()
            .unwrap_or_else(baton_core::id::new_id);
        let (method, params) = send_params(endpoint.protocol, &message_id, text);
        let result = client
            .rpc(&endpoint, method, params, &self.def, ctx, deadline)
            .await?;
        let mut answer = Map::new();
        answer.insert("agent_url".into(), json!(endpoint.url.as_str()));
        answer.insert(
            "protocol_version".into(),
            json!(endpoint.protocol.version()),
        );
        // 1.0 wraps the answer (`{"task": …}` or `{"message": …}`); 0.3 tags it by `kind`.
        let (mut task, message) = match (result.get("task"), result.get("message")) {
            (Some(task), _) => (Some(task.clone()), None),
            (None, Some(message)) => (None, Some(message.clone())),
            (None, None) if result.get("kind").and_then(Value::as_str) == Some("message") => {
                (None, Some(result))
            }
            (None, None) => (Some(result), None),
        };
        if let Some(message) = message {
            let (mut texts, mut data) = (Vec::new(), Vec::new());
            collect_parts(message.get("parts"), &mut texts, &mut data);
            for (field, name) in [
                ("taskId", "remote_task_id"),
                ("contextId", "remote_context_id"),
            ] {
                if let Some(id) = message.get(field).and_then(Value::as_str) {
                    answer.insert(name.into(), json!(id));
                }
            }
            answer.insert("state".into(), json!("completed"));
            outcome(texts, data, &mut answer);
            return Ok(Value::Object(answer));
        }
        let mut current = task.take().unwrap_or_default();
        let task_id = current
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        answer.insert("remote_task_id".into(), json!(task_id));
        if let Some(context) = current.get("contextId").and_then(Value::as_str) {
            answer.insert("remote_context_id".into(), json!(context));
        }
        let mut wait = FIRST_POLL;
        while !settled(&state_of(&current)) {
            if task_id.is_empty() {
                return Err(ToolError::upstream(
                    "the remote agent answered a task under way without its id",
                ));
            }
            if Instant::now() + wait >= deadline {
                return Err(self
                    .cancel_late(&endpoint, &task_id, &state_of(&current), ctx)
                    .await);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_POLL);
            let method = match endpoint.protocol {
                Protocol::V1 => "GetTask",
                Protocol::V03 => "tasks/get",
            };
            current = match client
                .rpc(
                    &endpoint,
                    method,
                    json!({"id": task_id}),
                    &self.def,
                    ctx,
                    deadline,
                )
                .await
            {
                Ok(task) => task,
                Err(_) if Instant::now() >= deadline => {
                    return Err(self
                        .cancel_late(&endpoint, &task_id, &state_of(&current), ctx)
                        .await)
                }
                Err(e) => return Err(e),
            };
        }
        if let Some(usage) = remote_usage(&current) {
            answer.insert("usage".into(), usage);
        }
        let state = state_of(&current);
        answer.insert("state".into(), json!(state));
        let (mut status_texts, mut status_data) = (Vec::new(), Vec::new());
        collect_parts(
            current.pointer("/status/message/parts"),
            &mut status_texts,
            &mut status_data,
        );
        match state.as_str() {
            "completed" => {
                let (mut texts, mut data) = (Vec::new(), Vec::new());
                for artifact in current
                    .get("artifacts")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    collect_parts(artifact.get("parts"), &mut texts, &mut data);
                }
                if texts.is_empty() && data.is_empty() {
                    (texts, data) = (status_texts, status_data);
                }
                outcome(texts, data, &mut answer);
                Ok(Value::Object(answer))
            }
            "input-required" => {
                answer.insert("question".into(), json!(status_texts.join("\n")));
                answer.insert(
                    "note".into(),
                    json!("the remote agent stopped to ask for more input; answer without it, or call it again with everything it needs in one message"),
                );
                Ok(Value::Object(answer))
            }
            other => Err(ToolError::Execution(format!(
                "remote agent `{}` ended {other} (remote task {task_id}){}",
                self.key,
                if status_texts.is_empty() {
                    String::new()
                } else {
                    format!(": {}", status_texts.join("\n"))
                }
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_of_both_versions_name_their_json_rpc_endpoint() {
        let base =
            reqwest::Url::parse("https://agents.example.com/.well-known/agent-card.json").unwrap();
        let v1 = json!({"supportedInterfaces": [
            {"url": "https://agents.example.com/grpc", "protocolBinding": "GRPC", "protocolVersion": "1.0"},
            {"url": "/a2a/v03", "protocolBinding": "JSONRPC", "protocolVersion": "0.3"},
            {"url": "/a2a", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}]});
        let picked = pick_endpoint(&v1, &base).unwrap();
        assert_eq!(picked.url.as_str(), "https://agents.example.com/a2a");
        assert_eq!(picked.protocol, Protocol::V1);

        let v03 = json!({"url": "https://agents.example.com/rpc", "protocolVersion": "0.3.0"});
        let picked = pick_endpoint(&v03, &base).unwrap();
        assert_eq!(picked.protocol, Protocol::V03);
        assert_eq!(picked.url.as_str(), "https://agents.example.com/rpc");

        let rest_first = json!({"url": "https://a/rest", "preferredTransport": "HTTP+JSON",
            "protocolVersion": "0.3.0",
            "additionalInterfaces": [{"url": "https://a/jsonrpc", "transport": "JSONRPC"}]});
        assert_eq!(
            pick_endpoint(&rest_first, &base).unwrap().url.as_str(),
            "https://a/jsonrpc"
        );

        let grpc_only = json!({"supportedInterfaces": [
            {"url": "https://a/grpc", "protocolBinding": "GRPC", "protocolVersion": "1.0"}],
            "preferredTransport": "GRPC", "url": "https://a/grpc"});
        assert!(pick_endpoint(&grpc_only, &base).is_err());
    }

    #[test]
    fn states_read_the_same_in_both_versions() {
        for (raw, state) in [
            ("TASK_STATE_INPUT_REQUIRED", "input-required"),
            ("input-required", "input-required"),
            ("TASK_STATE_COMPLETED", "completed"),
            ("working", "working"),
        ] {
            assert_eq!(state_of(&json!({"status": {"state": raw}})), state);
        }
        assert!(!settled("working") && !settled("submitted") && settled("rejected"));
    }
}
