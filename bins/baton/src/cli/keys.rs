//! `baton keys list|create|delete` over `/v2/api-keys` (an admin key's business).

use super::{cell, encode, print_table, CliError, Client};
use reqwest::Method;
use serde_json::json;

/// What to do with API keys.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum KeysCommand {
    /// List API keys (never their secrets).
    List {
        /// Only this project's keys.
        #[arg(long)]
        project: Option<String>,
    },
    /// Create an API key; its secret is printed once.
    Create {
        /// A name to recognise it by.
        name: String,
        /// The project it acts for.
        #[arg(long, default_value = "default")]
        project: String,
        /// `run` (run agents, read), `project` (everything in the project) or `admin`.
        #[arg(long, default_value = "project")]
        scope: String,
    },
    /// Revoke an API key.
    Delete {
        /// The key's id.
        id: String,
    },
}

/// Runs a keys subcommand.
pub(crate) async fn run(client: &Client, command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::List { project } => {
            let path = match project {
                Some(p) => format!("/v2/api-keys?project_id={}", encode(&p)),
                None => "/v2/api-keys".to_owned(),
            };
            let list = client.get(&path).await?;
            if client.printed_json(&list) {
                return Ok(());
            }
            let rows = list["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| {
                    vec![
                        cell(&k["_id"]),
                        cell(&k["name"]),
                        cell(&k["project_id"]),
                        cell(&k["scope"]),
                        format!("{}…", cell(&k["prefix"])),
                        cell(&k["created"]),
                    ]
                })
                .collect();
            print_table(
                &["id", "name", "project", "scope", "prefix", "created"],
                rows,
            );
        }
        KeysCommand::Create {
            name,
            project,
            scope,
        } => {
            let body = json!({"name": name, "project_id": project, "scope": scope});
            let key = client
                .call(Method::POST, "/v2/api-keys", Some(&body))
                .await?;
            if !client.printed_json(&key) {
                println!(
                    "created API key {} ({}, scope {}); it is shown only this once, store it now:",
                    cell(&key["name"]),
                    cell(&key["_id"]),
                    cell(&key["scope"])
                );
                println!("  {}", cell(&key["key"]));
            }
        }
        KeysCommand::Delete { id } => {
            client
                .call(
                    Method::DELETE,
                    &format!("/v2/api-keys/{}", encode(&id)),
                    None,
                )
                .await?;
            if !client.printed_json(&json!({"deleted": id})) {
                println!("revoked API key {id}");
            }
        }
    }
    Ok(())
}
