//! The embedding API: the builder's defaults (no store, no cipher, no tool backend), agents
//! from code and from orq's JSON, their versions, and runs that pause for client tools.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use async_trait::async_trait;
use baton_core::handler::{Runnable, ToolBackend, ToolContext, ToolError, ToolHandler};
use baton_core::model::ChatRole;
use baton_core::model::{
    ChatRequest, ChatResponse, DeltaSink, FinishReason, ModelProvider, ProviderError, TokenUsage,
    ToolCall, ToolDefinition,
};
use baton_core::store::AgentStore;
use baton_core::task::TaskState;
use baton_core::tool::{CodeDef, HttpDef, McpDef};
use baton_core::ProjectId;
use baton_engine::{Agent, Engine, EngineConfig, EngineError, RunInput};
use baton_store::{ChaChaCipher, MemoryStore, SqlStore};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Answers with its script in order and keeps every request it saw.
#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<VecDeque<ChatResponse>>>,
    seen: Arc<Mutex<Vec<ChatRequest<'static>>>>,
}

impl Script {
    fn new(replies: Vec<ChatResponse>) -> Self {
        Self {
            replies: Arc::new(Mutex::new(replies.into())),
            seen: Arc::default(),
        }
    }
    fn seen(&self) -> Vec<ChatRequest<'static>> {
        self.seen.lock().unwrap().clone()
    }
}

fn text(content: &str) -> ChatResponse {
    ChatResponse {
        content: content.into(),
        tool_calls: Vec::new(),
        finish_reason: FinishReason::Stop,
        usage: TokenUsage::default(),
    }
}

fn call(name: &str, arguments: Value) -> ChatResponse {
    ChatResponse {
        content: String::new(),
        tool_calls: vec![ToolCall {
            id: "call_1".into(),
            name: name.into(),
            arguments,
            signature: None,
        }],
        finish_reason: FinishReason::ToolCalls,
        usage: TokenUsage::default(),
    }
}

#[async_trait]
impl ModelProvider for Script {
    fn name(&self) -> &str {
        "script"
    }
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
        self.seen.lock().unwrap().push(request.clone().into_owned());
        Ok(self
            .replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| text("script exhausted")))
    }
    async fn stream(
        &self,
        request: &ChatRequest<'_>,
        _: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        self.complete(request).await
    }
}

/// Says whether the variable `token` reaches the tool as `s3cr3t` (never echoing it).
struct ReadToken;

#[async_trait]
impl ToolHandler for ReadToken {
    async fn call(&self, _: Value, ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        Ok(Value::Bool(ctx.variable("token")? == Some(json!("s3cr3t"))))
    }
}

fn read_token() -> ToolDefinition {
    ToolDefinition::new("read_token", "Reads the token", json!({"type": "object"}))
}

/// The content of the last tool message of the model's last request.
fn last_tool_result(script: &Script) -> String {
    let seen = script.seen();
    let last = seen.last().unwrap().messages.last().unwrap();
    last.content.to_string()
}

#[test]
fn building_without_a_store_fails_naming_it() {
    let err = Engine::builder()
        .provider(Script::default())
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(&err, EngineError::Invalid { field, message } if field == "store" && message.contains("MemoryStore")),
        "{err}"
    );
}

#[tokio::test]
async fn secret_variables_are_refused_without_a_cipher_and_opened_with_one() {
    let agent = Agent::new("keeper").model("script/m").tool("read_token");
    let input =
        || RunInput::text("go").variable("token", json!({"secret": true, "value": "s3cr3t"}));

    let script = Script::new(vec![call("read_token", json!({})), text("done")]);
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder()
        .provider(script.clone())
        .tool_handler(read_token(), ReadToken)
        .shared_store(store.clone())
        .build()
        .unwrap();
    let err = engine.run(&agent, input()).await.unwrap_err();
    assert!(
        matches!(&err, EngineError::Invalid { field, message } if field == "variables.token" && message.contains("cipher(")),
        "{err}"
    );
    assert!(script.seen().is_empty(), "nothing ran");
    let project = ProjectId::default_project();
    assert!(store
        .agent_by_key(&project, "keeper")
        .await
        .unwrap()
        .is_none());

    let key = ChaChaCipher::generate_key();
    let engine = Engine::builder()
        .provider(script.clone())
        .tool_handler(read_token(), ReadToken)
        .cipher(ChaChaCipher::from_base64(&key).unwrap())
        .shared_store(store.clone())
        .build()
        .unwrap();
    let run = engine.run(&agent, input()).await.unwrap();
    assert_eq!(
        (run.state, run.answer.as_str()),
        (TaskState::Completed, "done")
    );
    assert_eq!(last_tool_result(&script), "true");
    let task = engine.task(&project, &run.task_id).await.unwrap().unwrap();
    assert!(!task.data.to_string().contains("s3cr3t"), "sealed at rest");
}

#[tokio::test]
async fn http_code_and_mcp_tools_say_they_are_not_available_without_a_backend() {
    let agent = Agent::from_json(json!({
        "key": "coder", "role": "Coder", "description": "Runs code", "path": "Default",
        "instructions": "Compute.", "model": "script/m",
        "settings": {"tools": [{"type": "code", "key": "calc", "code": "result = 1"}]}
    }))
    .unwrap();
    let script = Script::new(vec![call("calc", json!({})), text("could not compute")]);
    let engine = Engine::builder()
        .provider(script.clone())
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let run = engine.run(&agent, "1 + 0?").await.unwrap();
    assert_eq!(run.state, TaskState::Completed);
    let result = last_tool_result(&script);
    assert!(
        result.contains("code tools are not available in this engine"),
        "{result}"
    );
}

#[tokio::test]
async fn an_agent_is_stored_once_and_versioned_when_it_changes() {
    let script = Script::new(vec![text("a"), text("b"), text("c")]);
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder()
        .provider(script.clone())
        .shared_store(store.clone())
        .build()
        .unwrap();
    let v1 = Agent::new("writer")
        .model("script/m")
        .instructions("Be brief.");
    engine.run(&v1, "one").await.unwrap();
    engine.run(&v1, "two").await.unwrap();
    let project = ProjectId::default_project();
    let stored = store
        .agent_by_key(&project, "writer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 1, "an unchanged agent makes no version");

    let v2 = v1.instructions("Be very brief.");
    engine.run(&v2, "three").await.unwrap();
    let stored = store
        .agent_by_key(&project, "writer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.version, stored.spec.instructions.as_str()),
        (2, "Be very brief.")
    );
    let system = script.seen()[2].system.clone().unwrap_or_default();
    assert!(system.contains("Be very brief."), "{system}");
}

#[tokio::test]
async fn orq_agent_json_is_checked_naming_the_field() {
    let err = Agent::from_json(json!({
        "key": "a", "role": "R", "description": "", "path": "Default",
        "instructions": "", "model": "gpt-4o"
    }))
    .unwrap_err();
    assert!(
        matches!(&err, EngineError::Invalid { field, .. } if field == "model"),
        "{err}"
    );
    let err = Agent::from_json(json!({"key": "a", "colour": "red"})).unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
    // An agent built in code is checked when it runs.
    let engine = Engine::builder()
        .provider(Script::default())
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let err = engine.run(&Agent::new("no-model"), "hi").await.unwrap_err();
    assert!(
        matches!(&err, EngineError::Invalid { field, .. } if field == "model"),
        "{err}"
    );
}

#[tokio::test]
async fn a_client_tool_pauses_the_run_and_its_result_continues_it() {
    let agent = Agent::from_json(json!({
        "key": "asker", "role": "Asker", "description": "", "path": "Default",
        "instructions": "", "model": "script/m",
        "settings": {"tools": [{"type": "function", "function": {"name": "ask_user",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]}
    }))
    .unwrap();
    let script = Script::new(vec![
        call("ask_user", json!({"q": "colour?"})),
        text("blue it is"),
    ]);
    let engine = Engine::builder()
        .provider(script.clone())
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let paused = engine.run(&agent, "Pick a colour").await.unwrap();
    assert_eq!(paused.state, TaskState::InputRequired);
    assert_eq!(paused.pending.len(), 1);
    assert_eq!(paused.pending[0].name, "ask_user");

    let answer = RunInput::tool_result(&paused.pending[0].id, json!("blue")).task(&paused.task_id);
    let done = engine.run(&agent, answer).await.unwrap();
    assert_eq!(
        (done.state, done.answer.as_str()),
        (TaskState::Completed, "blue it is")
    );
    assert_eq!(done.task_id, paused.task_id);
    assert_eq!(last_tool_result(&script), "blue");
}

#[tokio::test]
async fn a_failed_run_reports_its_error() {
    let engine = Engine::builder()
        .provider(Script::default())
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let run = engine
        .run(&Agent::new("lost").model("nobody/m"), "hi")
        .await
        .unwrap();
    assert_eq!(run.state, TaskState::Failed);
    let error = run.error.unwrap_or_default();
    assert!(error.contains("no provider `nobody`"), "{error}");
}

/// Asks for the price, then answers with it; with `dies`, the answering call never returns and
/// says so first (the process "dies" in it).
struct Analyst {
    dies: Option<Mutex<mpsc::Sender<()>>>,
}

#[async_trait]
impl ModelProvider for Analyst {
    fn name(&self) -> &str {
        "analyst"
    }
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
        let last = request.messages.last().unwrap();
        if last.role != ChatRole::Tool {
            return Ok(call("price", json!({})));
        }
        if let Some(dies) = &self.dies {
            dies.lock().unwrap().send(()).unwrap();
            std::future::pending::<()>().await;
        }
        Ok(text(&format!("ACME trades at {}", last.content)))
    }
    async fn stream(
        &self,
        request: &ChatRequest<'_>,
        _: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        self.complete(request).await
    }
}

/// Counts its calls.
struct Price(Arc<AtomicUsize>);

#[async_trait]
impl ToolHandler for Price {
    async fn call(&self, _: Value, _: &ToolContext<'_>) -> Result<Value, ToolError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(json!(42.5))
    }
}

async fn analyst_engine(url: &str, model: Analyst, calls: &Arc<AtomicUsize>) -> Engine {
    Engine::builder()
        .provider(model)
        .tool_handler(
            ToolDefinition::new("price", "ACME's price", json!({"type": "object"})),
            Price(calls.clone()),
        )
        .store(SqlStore::connect(url).await.unwrap())
        .config(EngineConfig {
            workers: 1,
            lease: Duration::from_millis(500),
            poll_interval: Duration::from_millis(50),
            ..EngineConfig::default()
        })
        .build()
        .unwrap()
}

#[test]
fn a_run_cut_off_by_a_crash_is_finished_by_another_engine_on_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("baton.db").display()
    );
    let agent = Agent::new("analyst").model("analyst/m").tool("price");
    let calls = Arc::new(AtomicUsize::new(0));

    let (dying, died) = mpsc::channel();
    let first = tokio::runtime::Runtime::new().unwrap();
    let task_id = first.block_on(async {
        let model = Analyst {
            dies: Some(Mutex::new(dying)),
        };
        let engine = analyst_engine(&url, model, &calls).await;
        engine
            .start(&agent, "What does ACME trade at?")
            .await
            .unwrap()
            .task_id
    });
    died.recv_timeout(Duration::from_secs(10)).unwrap();
    // Every task of the first engine stops mid-run, as when its process is killed.
    drop(first);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the tool ran before the crash"
    );

    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let engine = analyst_engine(&url, Analyst { dies: None }, &calls).await;
        let _workers = engine.start_workers();
        let done = tokio::time::timeout(Duration::from_secs(10), engine.wait(&agent, &task_id))
            .await
            .expect("the run is finished by the second engine")
            .unwrap();
        assert_eq!(done.state, TaskState::Completed);
        assert_eq!(done.answer, "ACME trades at 42.5");
        assert_eq!(done.task_id, task_id);
    });
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the checkpointed tool call is not run again"
    );
}

/// Answers with a fixed text.
struct Says(&'static str);

#[async_trait]
impl ToolHandler for Says {
    async fn call(&self, _: Value, _: &ToolContext<'_>) -> Result<Value, ToolError> {
        Ok(json!(self.0))
    }
}

fn says(name: &str, text: &'static str) -> Runnable {
    Runnable {
        definition: ToolDefinition::new(name, "", json!({"type": "object"})),
        handler: Arc::new(Says(text)),
    }
}

/// A backend of the embedder's own, with its own `lookup` and code tools.
struct OwnBackend;

#[async_trait]
impl ToolBackend for OwnBackend {
    fn custom(&self, name: &str) -> Option<Runnable> {
        (name == "lookup" || name == "other").then(|| says(name, "backend's"))
    }
    fn http(&self, name: &str, _: &str, _: &HttpDef, _: Option<f64>) -> Runnable {
        says(name, "backend http")
    }
    fn code(&self, name: &str, _: &str, _: &CodeDef, _: Option<f64>) -> Runnable {
        says(name, "backend code")
    }
    async fn mcp(
        &self,
        _: &str,
        _: &McpDef,
        _: Option<&str>,
        _: Option<f64>,
        _: &ToolContext<'_>,
    ) -> Result<Vec<Runnable>, ToolError> {
        Err(ToolError::Unavailable("no MCP here".into()))
    }
}

#[tokio::test]
async fn registered_tools_come_before_the_backend_which_runs_the_rest() {
    let agent = Agent::from_json(json!({
        "key": "mixed", "role": "R", "description": "", "path": "Default",
        "instructions": "", "model": "script/m",
        "settings": {"tools": [{"type": "function", "key": "lookup"},
                               {"type": "function", "key": "other"},
                               {"type": "code", "key": "calc", "code": "result = 1"}]}
    }))
    .unwrap();
    let script = Script::new(vec![
        call("lookup", json!({})),
        call("other", json!({})),
        call("calc", json!({})),
        text("done"),
    ]);
    let engine = Engine::builder()
        .provider(script.clone())
        .tool_handler(
            ToolDefinition::new("lookup", "", json!({"type": "object"})),
            Says("builder's"),
        )
        .tool_backend(Arc::new(OwnBackend))
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let run = engine.run(&agent, "go").await.unwrap();
    assert_eq!(run.answer, "done");
    let results: Vec<String> = script.seen()[1..]
        .iter()
        .map(|r| r.messages.last().unwrap().content.to_string())
        .collect();
    assert_eq!(results, ["builder's", "backend's", "backend code"]);
}
