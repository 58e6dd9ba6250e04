//! Following a task's stream: each stored event once under its id, live text deltas in their
//! places without ids of their own, and an end at the turn's last event — at once for a task
//! that already finished.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use async_trait::async_trait;
use baton_core::model::{
    ChatRequest, ChatResponse, DeltaSink, FinishReason, ModelProvider, ProviderError, StreamDelta,
    TokenUsage,
};
use baton_core::ProjectId;
use baton_engine::follow::StreamItem;
use baton_engine::machine::RunEvent;
use baton_engine::{Agent, Engine};
use baton_store::MemoryStore;
use futures_util::StreamExt;
use std::time::Duration;

/// Streams "one two" in two deltas, after a pause that lets a reader join first.
struct Streaming;

#[async_trait]
impl ModelProvider for Streaming {
    fn name(&self) -> &str {
        "slow"
    }
    async fn complete(&self, _: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
        Ok(ChatResponse {
            content: "one two".into(),
            tool_calls: Vec::new(),
            finish_reason: FinishReason::Stop,
            usage: TokenUsage::default(),
        })
    }
    async fn stream(
        &self,
        request: &ChatRequest<'_>,
        sink: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        sink(StreamDelta::Text("one ".into()));
        sink(StreamDelta::Text("two".into()));
        self.complete(request).await
    }
}

/// Each item as (seq, kind), a delta's kind being `delta`.
async fn collect(stream: impl futures_util::Stream<Item = StreamItem>) -> Vec<(u64, String)> {
    let items: Vec<StreamItem> = tokio::time::timeout(Duration::from_secs(10), stream.collect())
        .await
        .expect("the stream ends");
    items
        .iter()
        .map(|item| match item {
            StreamItem::Event(e) => {
                let kind = match &e.event {
                    RunEvent::Started { .. } => "started",
                    RunEvent::Delta { .. } => "delta",
                    RunEvent::TextDone { .. } => "text",
                    RunEvent::Done { .. } => "done",
                    other => panic!("unexpected {other:?}"),
                };
                (e.seq, kind.to_owned())
            }
            StreamItem::Raw(raw) => panic!("no untyped rows here: {raw:?}"),
            StreamItem::Reconnect => (0, "reconnect".to_owned()),
        })
        .collect()
}

/// An engine on the streaming model, a project, and an agent of it that talks through the model.
fn talker() -> (Engine, ProjectId, Agent) {
    let engine = Engine::builder()
        .provider(Streaming)
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let project = ProjectId("p".into());
    let agent = Agent::new("talker")
        .model("slow/m")
        .project(project.clone());
    (engine, project, agent)
}

#[tokio::test]
async fn a_follower_gets_stored_events_once_and_deltas_in_their_places() {
    let (engine, project, agent) = talker();
    let run = engine.start(&agent, "count").await.unwrap();
    let live = collect(engine.follow(&project, &run.task_id, 0)).await;
    let task_id = run.task_id.clone();
    run.finish().await.unwrap();
    let words = |kind: &str| kind.to_owned();
    assert_eq!(
        live,
        [
            (1, words("started")),
            (1, words("delta")),
            (1, words("delta")),
            (2, words("text")),
            (3, words("done")),
        ],
        "a delta carries the id of the stored event it follows"
    );

    // Afterwards the log replays at once, deltas aside; from its last id, nothing is left.
    let replay = collect(engine.follow(&project, &task_id, 0)).await;
    let stored: Vec<_> = live.into_iter().filter(|(_, k)| k != "delta").collect();
    assert_eq!(replay, stored);
    assert!(collect(engine.follow(&project, &task_id, 3))
        .await
        .is_empty());
    assert_eq!(engine.live_streams(), 0, "followers leave nothing behind");
}

/// A reader that joined before the model streamed but is read only after the turn ended (a
/// slow client, a loaded server) still gets the deltas, each in its place.
#[tokio::test]
async fn a_follower_read_after_the_turn_ended_still_gets_its_deltas() {
    let (engine, project, agent) = talker();
    let run = engine.start(&agent, "count").await.unwrap();
    let late = engine.follow(&project, &run.task_id, 0);
    run.finish().await.unwrap();
    let kinds: Vec<String> = collect(late).await.into_iter().map(|(_, k)| k).collect();
    assert_eq!(kinds, ["started", "delta", "delta", "text", "done"]);
}
