//! `cargo run -p baton-examples --example embed`: an agent with a custom model provider and a
//! custom tool, run inside this process — no server, no database.

use baton_engine::{Agent, Engine, RunOutput};
use baton_examples::{ScriptedModel, StockPrice};
use baton_store::MemoryStore;

async fn ask() -> Result<RunOutput, Box<dyn std::error::Error>> {
    let engine = Engine::builder()
        .provider(ScriptedModel)
        .tool(StockPrice)
        .store(MemoryStore::new())
        .build()?;
    let analyst = Agent::new("analyst")
        .model("scripted/v1")
        .instructions("Answer with the current price.")
        .tool("stock_price");
    Ok(engine.run(&analyst, "What does ACME trade at?").await?)
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let run = ask().await?;
    println!(
        "{} ({} tokens, task {})",
        run.answer, run.usage.total_tokens, run.task_id
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_agent_answers_with_the_tools_result() {
        let run = super::ask().await.unwrap();
        assert_eq!(run.answer, "ACME trades at 42.5 USD.");
        assert_eq!(run.usage.total_tokens, 32, "two model calls of 16 tokens");
        assert_eq!(run.output.len(), 3, "tool call, tool result, answer");
    }
}
