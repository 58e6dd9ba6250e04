//! Draining an engine that shuts down, with a second engine on the same SQLite database: a run
//! finishes the tool call it is in, checkpoints it and hands the task over (long before its
//! lease would expire), its stream ends with a hint to reconnect, and a synchronous run is
//! given the drain's first half to end where it is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use async_trait::async_trait;
use baton_core::handler::{ToolContext, ToolError, ToolHandler};
use baton_core::model::{
    ChatRequest, ChatResponse, ChatRole, DeltaSink, FinishReason, ModelProvider, ProviderError,
    TokenUsage, ToolCall, ToolDefinition,
};
use baton_core::task::TaskState;
use baton_core::ProjectId;
use baton_engine::follow::StreamItem;
use baton_engine::machine::RunEvent;
use baton_engine::{Agent, DrainPhase, Engine, EngineConfig, EngineError};
use baton_store::SqlStore;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Asks for the price once, then answers with it.
struct Analyst;

#[async_trait]
impl ModelProvider for Analyst {
    fn name(&self) -> &str {
        "analyst"
    }
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
        let last = request.messages.last().unwrap();
        let (content, tool_calls, finish_reason) = if last.role == ChatRole::Tool {
            (
                format!("ACME trades at {}", last.content),
                vec![],
                FinishReason::Stop,
            )
        } else {
            let call = ToolCall {
                id: "call_1".into(),
                name: "price".into(),
                arguments: json!({}),
                signature: None,
            };
            (String::new(), vec![call], FinishReason::ToolCalls)
        };
        Ok(ChatResponse {
            content,
            tool_calls,
            finish_reason,
            usage: TokenUsage::default(),
        })
    }
    async fn stream(
        &self,
        r: &ChatRequest<'_>,
        _: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        self.complete(r).await
    }
}

/// A slow price lookup that counts its executions.
struct Price {
    calls: Arc<AtomicUsize>,
    takes: Duration,
}

#[async_trait]
impl ToolHandler for Price {
    async fn call(&self, _: Value, _: &ToolContext<'_>) -> Result<Value, ToolError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.takes).await;
        Ok(json!(42.5))
    }
}

/// An engine on the database with the default 30 s lease.
async fn engine(url: &str, calls: &Arc<AtomicUsize>, takes: Duration) -> Engine {
    let price = Price {
        calls: calls.clone(),
        takes,
    };
    Engine::builder()
        .provider(Analyst)
        .tool_handler(
            ToolDefinition::new("price", "ACME's price", json!({"type": "object"})),
            price,
        )
        .store(SqlStore::connect(url).await.unwrap())
        .config(EngineConfig {
            workers: 1,
            poll_interval: Duration::from_millis(50),
            ..EngineConfig::default()
        })
        .build()
        .unwrap()
}

fn project() -> ProjectId {
    ProjectId("drain".into())
}

fn agent() -> Agent {
    Agent::new("analyst")
        .model("analyst/m")
        .tool("price")
        .project(project())
}

async fn until_called(calls: &AtomicUsize) {
    for _ in 0..500 {
        if calls.load(Ordering::SeqCst) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the tool was never called");
}

fn database() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("baton.db").display()
    );
    (dir, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_engine_finishes_the_step_in_flight_and_hands_the_run_over() {
    let (_dir, url) = database();
    let calls = Arc::new(AtomicUsize::new(0));
    let a = engine(&url, &calls, Duration::from_millis(800)).await;
    let b = engine(&url, &calls, Duration::from_millis(800)).await;
    let agent = agent();
    let task_id = a.submit(&agent, "What does ACME trade at?").await.unwrap();
    let workers = a.start_workers();
    until_called(&calls).await;
    let stream = a.follow(&project(), &task_id, 0);
    let followed = tokio::spawn(stream.collect::<Vec<StreamItem>>());

    let started = Instant::now();
    assert!(
        a.drain(workers, Duration::from_secs(10)).await,
        "drained in time"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(a.drain_phase(), DrainPhase::HandOver);
    let items = tokio::time::timeout(Duration::from_secs(5), followed)
        .await
        .expect("the stream ends with the drain")
        .unwrap();
    assert!(
        matches!(items.last(), Some(StreamItem::Reconnect)),
        "{items:?}"
    );
    assert!(
        items.iter().any(|i| matches!(i, StreamItem::Event(e)
            if matches!(e.event, RunEvent::ToolDone { .. }))),
        "the step in flight was stored before the stream ended: {items:?}"
    );

    let _workers = b.start_workers();
    let done = tokio::time::timeout(Duration::from_secs(5), b.wait(&agent, &task_id))
        .await
        .expect("another engine finishes the run long before the 30 s lease expires")
        .unwrap();
    assert_eq!(done.state, TaskState::Completed);
    assert_eq!(done.answer, "ACME trades at 42.5");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the tool call is not run again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synchronous_run_ends_where_it_is_in_the_drains_first_half_and_hands_over_after() {
    let (_dir, url) = database();
    let calls = Arc::new(AtomicUsize::new(0));
    let a = engine(&url, &calls, Duration::from_millis(300)).await;
    let agent = agent();

    // The run ends within the first half of the drain: it answers here.
    let run = {
        let (a, agent) = (a.clone(), agent.clone());
        tokio::spawn(async move { a.run(&agent, "ACME?").await })
    };
    until_called(&calls).await;
    assert!(a.drain(a.start_workers(), Duration::from_secs(4)).await);
    let answered = run.await.unwrap().unwrap();
    assert_eq!(answered.state, TaskState::Completed);

    // A tool slower than half the drain: the run hands over after it and says so.
    let slow = Arc::new(AtomicUsize::new(0));
    let c = engine(&url, &slow, Duration::from_millis(1_500)).await;
    let run = {
        let (c, agent) = (c.clone(), agent.clone());
        tokio::spawn(async move { c.run(&agent, "ACME, slowly?").await })
    };
    until_called(&slow).await;
    let started = Instant::now();
    assert!(c.drain(c.start_workers(), Duration::from_secs(2)).await);
    assert!(started.elapsed() < Duration::from_secs(2));
    let Err(EngineError::HandedOver(task_id)) = run.await.unwrap() else {
        panic!("the run was handed over");
    };
    let d = engine(&url, &slow, Duration::ZERO).await;
    let _workers = d.start_workers();
    let done = tokio::time::timeout(Duration::from_secs(5), d.wait(&agent, &task_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.answer, "ACME trades at 42.5");
    assert_eq!(slow.load(Ordering::SeqCst), 1);
}
