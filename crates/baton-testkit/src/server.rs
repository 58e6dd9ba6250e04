//! The fake server: records requests, answers from the script or the responder.

use crate::render::{render_json, render_stream};
use crate::{Flavor, Turn, TurnKind};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A request as the fake saw it, for responders.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    /// The raw JSON body.
    pub body: Value,
    /// The model asked for.
    pub model: String,
    /// Whether the request streams.
    pub stream: bool,
    /// How many tool results the conversation holds.
    pub tool_results: usize,
    /// Whether the last message is a tool result.
    pub last_is_tool_result: bool,
}

/// Decides the answer when the script is empty.
pub type Responder = Arc<dyn Fn(&SeenRequest) -> Turn + Send + Sync>;

struct Shared {
    script: VecDeque<Turn>,
    responder: Responder,
    requests: Vec<Value>,
    headers: HeaderMap,
}

struct Inner {
    flavor: Flavor,
    shared: Mutex<Shared>,
    call_ids: AtomicU64,
    embedding_inputs: AtomicU64,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fake model provider on `127.0.0.1:<port>`. Dropping it stops the server.
pub struct FakeProvider {
    inner: Arc<Inner>,
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeProvider {
    /// Starts a fake speaking `flavor` on a free loopback port. Panics only if loopback cannot
    /// be bound (tests only).
    pub async fn start(flavor: Flavor) -> Self {
        match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => Self::serve(flavor, listener),
            Err(e) => unreachable_bind(e),
        }
    }

    /// Starts a fake speaking `flavor` on `listener` (e.g. a fixed port for a quick start).
    pub fn serve(flavor: Flavor, listener: tokio::net::TcpListener) -> Self {
        let inner = Arc::new(Inner {
            flavor,
            shared: Mutex::new(Shared {
                script: VecDeque::new(),
                responder: Arc::new(|_| Turn::text("ok")),
                requests: Vec::new(),
                headers: HeaderMap::new(),
            }),
            call_ids: AtomicU64::new(0),
            embedding_inputs: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/v1/embeddings", post(embeddings))
            .route("/v1/messages", post(anthropic))
            .route("/v1beta/models/{*rest}", post(gemini))
            .route("/_fake/turns", post(push_turns))
            .route("/_fake/requests", axum::routing::get(list_requests))
            .with_state(inner.clone());
        let url = match listener.local_addr() {
            Ok(addr) => format!("http://{addr}"),
            Err(e) => unreachable_bind(e),
        };
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { inner, url, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The base URL a client is configured with: OpenAI's includes `/v1`.
    pub fn base_url(&self) -> String {
        match self.inner.flavor {
            Flavor::OpenAi => format!("{}/v1", self.url),
            Flavor::Anthropic | Flavor::Gemini => self.url.clone(),
        }
    }

    /// Queues a scripted answer; answers are used in order.
    pub fn push(&self, turn: Turn) {
        self.inner.lock().script.push_back(turn);
    }

    /// Replaces what answers when the script is empty (default: `Turn::text("ok")`).
    pub fn set_responder(&self, responder: Responder) {
        self.inner.lock().responder = responder;
    }

    /// Every request body received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.inner.lock().requests.clone()
    }

    /// How many texts the embeddings endpoint has embedded.
    pub fn embedded_count(&self) -> u64 {
        self.inner
            .embedding_inputs
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.inner.lock().requests.len()
    }

    /// Headers of the last request.
    pub fn headers(&self) -> HeaderMap {
        self.inner.lock().headers.clone()
    }
}

#[allow(clippy::panic)] // a test fixture that cannot bind loopback cannot do anything useful
fn unreachable_bind(e: std::io::Error) -> ! {
    panic!("fake provider cannot bind 127.0.0.1: {e}")
}

fn seen(flavor: Flavor, body: &Value, model: String, stream: bool) -> SeenRequest {
    let (tool_results, last_is_tool_result) = match flavor {
        Flavor::OpenAi => {
            let messages = body["messages"].as_array().cloned().unwrap_or_default();
            let n = messages.iter().filter(|m| m["role"] == "tool").count();
            (n, messages.last().is_some_and(|m| m["role"] == "tool"))
        }
        Flavor::Anthropic => {
            let is_result = |m: &Value| {
                m["content"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|b| b["type"] == "tool_result"))
            };
            let messages = body["messages"].as_array().cloned().unwrap_or_default();
            let n = messages
                .iter()
                .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
                .filter(|b| b["type"] == "tool_result")
                .count();
            (n, messages.last().is_some_and(is_result))
        }
        Flavor::Gemini => {
            let is_result = |c: &Value| {
                c["parts"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|x| x.get("functionResponse").is_some()))
            };
            let contents = body["contents"].as_array().cloned().unwrap_or_default();
            let n = contents
                .iter()
                .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
                .filter(|p| p.get("functionResponse").is_some())
                .count();
            (n, contents.last().is_some_and(is_result))
        }
    };
    SeenRequest {
        body: body.clone(),
        model,
        stream,
        tool_results,
        last_is_tool_result,
    }
}

async fn answer(
    inner: Arc<Inner>,
    headers: HeaderMap,
    body: Value,
    model: String,
    stream: bool,
) -> Response {
    let request = seen(inner.flavor, &body, model.clone(), stream);
    let turn = {
        let mut shared = inner.lock();
        shared.requests.push(body);
        shared.headers = headers;
        match shared.script.pop_front() {
            Some(turn) => turn,
            None => {
                let responder = shared.responder.clone();
                drop(shared);
                responder(&request)
            }
        }
    };
    if !turn.delay.is_zero() {
        tokio::time::sleep(turn.delay).await;
    }
    if let TurnKind::Error { status, body } = &turn.kind {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(body.clone())).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            resp.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("0"));
        }
        return resp;
    }
    let ids: Vec<String> = match &turn.kind {
        TurnKind::ToolCalls(calls) => calls
            .iter()
            .map(|_| format!("call_{}", inner.call_ids.fetch_add(1, Ordering::SeqCst) + 1))
            .collect(),
        _ => Vec::new(),
    };
    if stream {
        let frames = render_stream(inner.flavor, &turn, &ids, &model);
        let body = Body::from_stream(futures_util::stream::iter(
            frames
                .into_iter()
                .map(|f| Ok::<_, std::convert::Infallible>(bytes::Bytes::from(f))),
        ));
        return ([("content-type", "text/event-stream")], body).into_response();
    }
    axum::Json(render_json(inner.flavor, &turn, &ids, &model)).into_response()
}

async fn openai(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    let stream = body["stream"] == Value::Bool(true);
    answer(inner, headers, body, model, stream).await
}

/// Dimensions of the fake's embeddings.
pub const EMBEDDING_DIMENSIONS: usize = 256;

/// A deterministic embedding: words (lowercased, crudely stemmed, short ones dropped) hashed into
/// [`EMBEDDING_DIMENSIONS`] buckets, L2-normalised. Texts sharing words are close; others are not.
pub fn fake_embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; EMBEDDING_DIMENSIONS];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() > 2)
    {
        let mut stem = word.as_str();
        for suffix in ["ing", "ed", "es", "s"] {
            if stem.len() > suffix.len() + 2 {
                if let Some(s) = stem.strip_suffix(suffix) {
                    stem = s;
                    break;
                }
            }
        }
        // FNV-1a: stable across runs and platforms.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in stem.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        v[(h % EMBEDDING_DIMENSIONS as u64) as usize] += 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

async fn embeddings(State(inner): State<Arc<Inner>>, body: bytes::Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => {
            return (
                axum::http::StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({"error": {"message": "input is required"}})),
            )
                .into_response()
        }
    };
    inner
        .embedding_inputs
        .fetch_add(inputs.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| serde_json::json!({"object": "embedding", "index": i, "embedding": fake_embedding(text)}))
        .collect();
    axum::Json(
        serde_json::json!({"object": "list", "data": data, "model": body["model"],
        "usage": {"prompt_tokens": inputs.len(), "total_tokens": inputs.len()}}),
    )
    .into_response()
}

async fn anthropic(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    let stream = body["stream"] == Value::Bool(true);
    answer(inner, headers, body, model, stream).await
}

async fn gemini(
    State(inner): State<Arc<Inner>>,
    Path(rest): Path<String>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (model, method) = rest.split_once(':').unwrap_or((rest.as_str(), ""));
    let stream = method.starts_with("streamGenerateContent");
    answer(inner, headers, body, model.to_owned(), stream).await
}

/// `POST /_fake/turns`: queues turns given as JSON (see [`Turn::from_json`]), for clients in
/// other languages.
async fn push_turns(State(inner): State<Arc<Inner>>, body: bytes::Bytes) -> Response {
    let turns = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => items,
        Ok(one) => vec![one],
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not JSON: {e}")).into_response(),
    };
    let mut parsed = Vec::with_capacity(turns.len());
    for t in &turns {
        match Turn::from_json(t) {
            Some(turn) => parsed.push(turn),
            None => return (StatusCode::BAD_REQUEST, format!("not a turn: {t}")).into_response(),
        }
    }
    inner.lock().script.extend(parsed);
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_fake/requests`: every request body received.
async fn list_requests(State(inner): State<Arc<Inner>>) -> Response {
    axum::Json(Value::Array(inner.lock().requests.clone())).into_response()
}
