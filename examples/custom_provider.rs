//! `cargo run -p baton-examples --example custom_provider`: a model provider written against
//! `ModelProvider` that streams its answer, and a run whose live events the program reads.
//! A real provider would call its model over HTTP in `complete` and `stream`.

use async_trait::async_trait;
use baton_core::model::{
    ChatRequest, ChatResponse, DeltaSink, FinishReason, ModelProvider, ProviderError, StreamDelta,
    TokenUsage,
};
use baton_engine::machine::RunEvent;
use baton_engine::{Agent, Engine, RunOutput};
use baton_store::MemoryStore;

/// Answers by echoing the last message, word by word when streamed.
struct Echo;

#[async_trait]
impl ModelProvider for Echo {
    fn name(&self) -> &str {
        "echo"
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
        let said = request.messages.last().map(|m| &*m.content);
        let content = format!("You said: {}", said.unwrap_or_default());
        let words = content.split_whitespace().count() as u64;
        Ok(ChatResponse {
            content,
            tool_calls: Vec::new(),
            finish_reason: FinishReason::Stop,
            usage: TokenUsage {
                prompt_tokens: words,
                completion_tokens: words,
                ..TokenUsage::default()
            },
        })
    }

    async fn stream(
        &self,
        request: &ChatRequest<'_>,
        on_delta: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let response = self.complete(request).await?;
        for word in response.content.split_inclusive(' ') {
            on_delta(StreamDelta::Text(word.to_owned()));
        }
        Ok(response)
    }
}

/// Runs one streamed turn; returns the text the deltas carried and the run's output.
async fn stream() -> Result<(String, RunOutput), Box<dyn std::error::Error>> {
    let engine = Engine::builder()
        .provider(Echo)
        .store(MemoryStore::new())
        .build()?;
    let parrot = Agent::new("parrot").model("echo/v1");
    let mut run = engine.start(&parrot, "Hello there").await?;
    let mut streamed = String::new();
    while let Some(event) = run.events.recv().await {
        if let RunEvent::Delta { text, .. } = &event.event {
            streamed.push_str(text);
        }
        if event.is_terminal() {
            break;
        }
    }
    Ok((streamed, run.finish().await?))
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (streamed, run) = stream().await?;
    println!("streamed: {streamed}\nanswer:   {}", run.answer);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_deltas_make_up_the_answer() {
        let (streamed, run) = super::stream().await.unwrap();
        assert_eq!(run.answer, "You said: Hello there");
        assert_eq!(streamed, run.answer);
        assert_eq!(run.usage.total_tokens, 8);
    }
}
