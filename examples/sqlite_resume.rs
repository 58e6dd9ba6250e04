//! `cargo run -p baton-examples --example sqlite_resume`: a durable run. The agent's tool calls
//! wait for a review; the first engine stops there, and a second engine on the same SQLite
//! file — as after a restart — approves the call and the run finishes.

use baton_engine::{Agent, Engine, RunInput, RunOutput};
use baton_examples::{ScriptedModel, StockPrice};
use baton_store::SqlStore;

async fn engine(url: &str) -> Result<Engine, Box<dyn std::error::Error>> {
    Ok(Engine::builder()
        .provider(ScriptedModel)
        .tool(StockPrice)
        .store(SqlStore::connect(url).await?)
        .build()?)
}

/// Starts a run on the database at `url`, then resumes it with a new engine.
async fn resume(url: &str) -> Result<(RunOutput, RunOutput), Box<dyn std::error::Error>> {
    let analyst = Agent::new("analyst")
        .model("scripted/v1")
        .tool("stock_price")
        .approve_every_tool_call();
    let paused = engine(url)
        .await?
        .run(&analyst, "What does ACME trade at?")
        .await?;
    // Restarted: nothing but the file and the task id is left of the first engine.
    let engine = engine(url).await?;
    let waiting = engine
        .output(&analyst, &paused.task_id)
        .await?
        .ok_or("task lost")?;
    let call = waiting
        .pending
        .first()
        .ok_or("no call waits for a review")?;
    let approval = RunInput::approve(&call.id).task(&paused.task_id);
    Ok((paused, engine.run(&analyst, approval).await?))
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("baton.db").display()
    );
    let (paused, done) = resume(&url).await?;
    println!("{:?} waiting for {}", paused.state, paused.pending[0].name);
    println!("{:?} after restart: {}", done.state, done.answer);
    Ok(())
}

#[cfg(test)]
mod tests {
    use baton_core::task::TaskState;

    #[tokio::test]
    async fn a_second_engine_on_the_file_finishes_the_paused_run() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("baton.db").display()
        );
        let (paused, done) = super::resume(&url).await.unwrap();
        assert_eq!(paused.state, TaskState::InputRequired);
        assert_eq!(paused.pending.len(), 1);
        assert_eq!(
            (done.state, done.task_id.as_str()),
            (TaskState::Completed, paused.task_id.as_str())
        );
        assert_eq!(done.answer, "ACME trades at 42.5 USD.");
    }
}
