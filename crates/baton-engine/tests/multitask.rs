//! Messages for a task that is still running, through the embedding API on a SQL store: refused
//! with the task's running state, queued behind the running turn (taken in by the run at its
//! next checkpoint), or queued to interrupt it — also from another engine on the same
//! database, which cannot wake the run and is heard at its next checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use async_trait::async_trait;
use baton_core::model::{
    ChatRequest, ChatResponse, ChatRole, DeltaSink, FinishReason, ModelProvider, ProviderError,
    TokenUsage,
};
use baton_core::task::TaskState;
use baton_engine::{Agent, Engine, EngineError, MultitaskStrategy, RunInput, RunOutput};
use baton_store::SqlStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// Answers `re: <last user message>`; a message starting with "held" waits until the test
/// releases it, after saying it was asked.
#[derive(Clone, Default)]
struct Gated(Arc<Gate>);

struct Gate {
    asked: Notify,
    release: Semaphore,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            asked: Notify::new(),
            release: Semaphore::new(0),
        }
    }
}

#[async_trait]
impl ModelProvider for Gated {
    fn name(&self) -> &str {
        "gated"
    }
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
        let said = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::User)
            .map(|m| m.content.clone())
            .unwrap_or_default();
        if said.starts_with("held") {
            self.0.asked.notify_one();
            self.0.release.acquire().await.unwrap().forget();
        }
        Ok(ChatResponse {
            content: format!("re: {said}"),
            tool_calls: Vec::new(),
            finish_reason: FinishReason::Stop,
            usage: TokenUsage::default(),
        })
    }
    async fn stream(
        &self,
        request: &ChatRequest<'_>,
        _: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        self.complete(request).await
    }
}

async fn engine(url: &str, model: &Gated) -> Engine {
    Engine::builder()
        .provider(model.clone())
        .store(SqlStore::connect(url).await.unwrap())
        .build()
        .unwrap()
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("baton.db").display()
    )
}

fn agent() -> Agent {
    Agent::new("echo").model("gated/m").instructions("Echo.")
}

async fn finish(handle: baton_engine::RunHandle) -> RunOutput {
    tokio::time::timeout(Duration::from_secs(20), handle.finish())
        .await
        .expect("the turn ends")
        .unwrap()
}

#[tokio::test]
async fn a_message_queued_while_the_model_answers_runs_after_the_turn_and_a_busy_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = Gated::default();
    let engine = engine(&sqlite_url(&dir), &model).await;
    let agent = agent();
    let first = engine.start(&agent, "held: first").await.unwrap();
    let task = first.task_id.clone();
    model.0.asked.notified().await;

    let refused = engine.run(&agent, RunInput::text("now!").task(&task)).await;
    let Err(EngineError::Busy(busy)) = refused else {
        panic!("expected Busy, got {refused:?}");
    };
    assert_eq!(busy.task_id, task);
    assert_eq!(busy.state, TaskState::Working);
    assert_eq!(busy.iterations, 0);
    assert_eq!(busy.queued, 0);
    assert!(!busy.response_id.is_empty());

    // Stored while the run waits on the model: the run's next checkpoint finds it there.
    let queued = RunInput::text("second")
        .task(&task)
        .multitask(MultitaskStrategy::Enqueue);
    let second = engine.start(&agent, queued).await.unwrap();
    model.0.release.add_permits(1);
    let one = finish(first).await;
    assert_eq!(
        (one.state, one.answer.as_str()),
        (TaskState::Completed, "re: held: first")
    );
    let two = finish(second).await;
    assert_eq!(
        (two.state, two.answer.as_str()),
        (TaskState::Completed, "re: second")
    );
    assert_eq!(
        two.output.len(),
        1,
        "its own turn's output: {:?}",
        two.output
    );
    let last = engine.output(&agent, &task).await.unwrap().unwrap();
    assert_eq!(last.answer, "re: second");
}

#[tokio::test]
async fn an_interrupt_sent_to_another_engine_stops_the_turn_at_its_next_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let model = Gated::default();
    let url = sqlite_url(&dir);
    let (here, there) = (engine(&url, &model).await, engine(&url, &model).await);
    let agent = agent();
    let first = here.start(&agent, "held: a long essay").await.unwrap();
    let task = first.task_id.clone();
    model.0.asked.notified().await;

    let instead = RunInput::text("just say hi")
        .task(&task)
        .multitask(MultitaskStrategy::Interrupt);
    let second = there.start(&agent, instead).await.unwrap();
    // The other engine cannot wake the run: the model's answer still lands, then the turn stops.
    tokio::time::sleep(Duration::from_millis(100)).await;
    model.0.release.add_permits(1);
    let one = finish(first).await;
    assert_eq!(one.state, TaskState::Canceled, "{one:?}");
    assert!(
        one.error.as_deref().unwrap().contains("interrupted"),
        "{one:?}"
    );
    let two = finish(second).await;
    assert_eq!(
        (two.state, two.answer.as_str()),
        (TaskState::Completed, "re: just say hi")
    );
    let last = here.output(&agent, &task).await.unwrap().unwrap();
    assert_eq!(last.state, TaskState::Completed, "nothing is left working");
}
