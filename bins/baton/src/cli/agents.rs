//! `baton agents list|get|create|delete` over `/v2/agents`.

use super::{cell, encode, fail, print_fields, print_table, CliError, Client};
use reqwest::Method;
use serde_json::Value;
use std::path::PathBuf;

/// What to do with agents.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AgentsCommand {
    /// List the project's agents, newest first.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one agent (`key` or `key@N` for version N).
    Get {
        /// The agent's key.
        key: String,
    },
    /// Create an agent from a JSON file (the body of `POST /v2/agents`).
    Create {
        /// The file; `-` reads standard input.
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// Delete an agent and its versions.
    Delete {
        /// The agent's key.
        key: String,
    },
}

/// Runs an agents subcommand.
pub(crate) async fn run(client: &Client, command: AgentsCommand) -> Result<(), CliError> {
    match command {
        AgentsCommand::List { limit } => {
            let page = client.get(&format!("/v2/agents?limit={limit}")).await?;
            if client.printed_json(&page) {
                return Ok(());
            }
            let rows = page["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    vec![
                        cell(&a["key"]),
                        cell(&a["model"]["id"]),
                        cell(&a["version"]),
                        cell(&a["status"]),
                        cell(&a["description"]),
                    ]
                })
                .collect();
            print_table(&["key", "model", "version", "status", "description"], rows);
            if page["has_more"] == true {
                println!("(more agents: raise --limit)");
            }
        }
        AgentsCommand::Get { key } => {
            let agent = client.get(&format!("/v2/agents/{}", encode(&key))).await?;
            if !client.printed_json(&agent) {
                print_agent(&agent);
            }
        }
        AgentsCommand::Create { file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| fail(format!("reading standard input: {e}")))?
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| fail(format!("reading {}: {e}", file.display())))?
            };
            let body: Value = serde_json::from_str(&text)
                .map_err(|e| fail(format!("{} is not JSON: {e}", file.display())))?;
            let agent = client.call(Method::POST, "/v2/agents", Some(&body)).await?;
            if !client.printed_json(&agent) {
                println!("created agent {}", cell(&agent["key"]));
                print_agent(&agent);
            }
        }
        AgentsCommand::Delete { key } => {
            client
                .call(
                    Method::DELETE,
                    &format!("/v2/agents/{}", encode(&key)),
                    None,
                )
                .await?;
            if !client.printed_json(&serde_json::json!({"deleted": key})) {
                println!("deleted agent {key}");
            }
        }
    }
    Ok(())
}

fn print_agent(agent: &Value) {
    let tools = agent["settings"]["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .map(|t| t["key"].as_str().or(t["type"].as_str()).unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "-".to_owned());
    print_fields(&[
        ("key", cell(&agent["key"])),
        ("id", cell(&agent["_id"])),
        ("model", cell(&agent["model"]["id"])),
        ("version", cell(&agent["version"])),
        ("status", cell(&agent["status"])),
        ("role", cell(&agent["role"])),
        ("description", cell(&agent["description"])),
        ("instructions", cell(&agent["instructions"])),
        ("tools", tools),
        ("created", cell(&agent["created"])),
    ]);
}
