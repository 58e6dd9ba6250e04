//! `baton tasks list|get|cancel` over `/v2/tasks` and the agents' responses.

use super::{cell, encode, print_fields, print_table, CliError, Client};
use reqwest::Method;
use serde_json::{json, Value};

/// What to do with tasks.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TasksCommand {
    /// List the project's tasks, newest first.
    List {
        /// Only tasks in this state (completed, input-required, …).
        #[arg(long)]
        state: Option<String>,
        /// Only tasks of this agent.
        #[arg(long)]
        agent: Option<String>,
        /// Only tasks of this thread.
        #[arg(long)]
        thread: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only tasks older than this task id (the next page).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
    },
    /// Show a task and its latest turn.
    Get {
        /// The task's id.
        id: String,
    },
    /// Cancel a running task.
    Cancel {
        /// The task's id.
        id: String,
    },
}

/// Runs a tasks subcommand.
pub(crate) async fn run(client: &Client, command: TasksCommand) -> Result<(), CliError> {
    match command {
        TasksCommand::List {
            state,
            agent,
            thread,
            limit,
            after,
        } => {
            let mut query = format!("limit={limit}");
            for (name, value) in [
                ("state", state),
                ("agent", agent),
                ("thread_id", thread),
                ("starting_after", after),
            ] {
                if let Some(value) = value {
                    query.push_str(&format!("&{name}={}", encode(&value)));
                }
            }
            let page = client.get(&format!("/v2/tasks?{query}")).await?;
            if client.printed_json(&page) {
                return Ok(());
            }
            let items = page["data"].as_array().cloned().unwrap_or_default();
            let rows = items
                .iter()
                .map(|t| {
                    vec![
                        cell(&t["_id"]),
                        cell(&t["agent_key"]),
                        cell(&t["state"]),
                        cell(&t["thread_id"]),
                        cell(&t["updated"]),
                    ]
                })
                .collect();
            print_table(&["id", "agent", "state", "thread", "updated"], rows);
            if let (true, Some(last)) = (page["has_more"] == true, items.last()) {
                println!("(more: --after {})", cell(&last["_id"]));
            }
        }
        TasksCommand::Get { id } => {
            let task = client.get(&format!("/v2/tasks/{}", encode(&id))).await?;
            let response = client.get(&response_path(&task, &id)).await?;
            if client.printed_json(&json!({"task": task, "response": response})) {
                return Ok(());
            }
            print_fields(&[
                ("id", cell(&task["_id"])),
                (
                    "agent",
                    format!(
                        "{} v{}",
                        cell(&task["agent_key"]),
                        cell(&task["agent_version"])
                    ),
                ),
                ("state", cell(&task["state"])),
                ("thread", cell(&task["thread_id"])),
                ("created", cell(&task["created"])),
                ("updated", cell(&task["updated"])),
                ("model", cell(&response["model"])),
                ("tokens", cell(&response["usage"]["total_tokens"])),
                ("trace", cell(&response["telemetry"]["trace_id"])),
            ]);
            if let Some(error) = response["error"].as_str() {
                println!("error    {error}");
            }
            let text = last_text(&response);
            if !text.is_empty() {
                println!("\n{text}");
            }
        }
        TasksCommand::Cancel { id } => {
            let task = client.get(&format!("/v2/tasks/{}", encode(&id))).await?;
            let answer = client
                .call(
                    Method::POST,
                    &format!("{}/cancel", response_path(&task, &id)),
                    None,
                )
                .await?;
            if client.printed_json(&answer) {
                return Ok(());
            }
            if answer["cancel_requested"] == true {
                println!("task {id}: cancel requested; it stops at its next step");
            } else {
                println!(
                    "task {id} is not running ({}); nothing to cancel",
                    cell(&answer["status"]["state"])
                );
            }
        }
    }
    Ok(())
}

/// `/v2/agents/{key}/responses/{id}` of a task summary.
fn response_path(task: &Value, id: &str) -> String {
    format!(
        "/v2/agents/{}/responses/{}",
        encode(task["agent_key"].as_str().unwrap_or_default()),
        encode(id)
    )
}

/// The text of the turn's output messages.
fn last_text(response: &Value) -> String {
    response["output"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["parts"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("\n")
}
