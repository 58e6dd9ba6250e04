//! `baton schedules list|create|pause|resume|trigger|delete` over
//! `/v3/agents/{key}/schedules`.

use super::{cell, encode, key_values, print_table, CliError, Client};
use reqwest::Method;
use serde_json::{json, Value};

/// What to do with an agent's schedules.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum SchedulesCommand {
    /// List an agent's schedules, newest first.
    List {
        /// The agent's key.
        agent: String,
    },
    /// Schedule runs of an agent.
    Create {
        /// The agent's key.
        agent: String,
        /// When: a 6-field cron (`0 0 9 * * mon-fri`), `@every 6h`, or `@at <RFC 3339 time>`.
        expression: String,
        /// The message each run gets.
        #[arg(long)]
        input: String,
        /// A name to recognise it by.
        #[arg(long)]
        name: Option<String>,
        /// A variable of the agent's instructions (repeatable).
        #[arg(long = "var", value_name = "KEY=VALUE")]
        vars: Vec<String>,
    },
    /// Stop a schedule firing (it is kept).
    Pause {
        /// The agent's key.
        agent: String,
        /// The schedule's id.
        id: String,
    },
    /// Let a paused schedule fire again.
    Resume {
        /// The agent's key.
        agent: String,
        /// The schedule's id.
        id: String,
    },
    /// Run a schedule's payload now, outside its cadence.
    Trigger {
        /// The agent's key.
        agent: String,
        /// The schedule's id.
        id: String,
    },
    /// Delete a schedule.
    Delete {
        /// The agent's key.
        agent: String,
        /// The schedule's id.
        id: String,
    },
}

fn base(agent: &str) -> String {
    format!("/v3/agents/{}/schedules", encode(agent))
}

/// Runs a schedules subcommand.
pub(crate) async fn run(client: &Client, command: SchedulesCommand) -> Result<(), CliError> {
    match command {
        SchedulesCommand::List { agent } => {
            let list = client.get(&base(&agent)).await?;
            if client.printed_json(&list) {
                return Ok(());
            }
            let rows = list["schedules"]
                .as_array()
                .into_iter()
                .flatten()
                .map(row)
                .collect();
            print_table(
                &[
                    "id",
                    "type",
                    "expression",
                    "active",
                    "fired",
                    "last fired",
                    "name",
                ],
                rows,
            );
        }
        SchedulesCommand::Create {
            agent,
            expression,
            input,
            name,
            vars,
        } => {
            let kind = if expression.starts_with("@every") {
                "interval"
            } else if expression.starts_with("@at") {
                "once"
            } else {
                "cron"
            };
            let mut body = json!({"type": kind, "expression": expression,
                "payload": {"input": input}});
            let variables = key_values(&vars)?;
            if !variables.is_empty() {
                body["payload"]["variables"] = Value::Object(variables);
            }
            if let Some(name) = name {
                body["display_name"] = json!(name);
            }
            let schedule = client
                .call(Method::POST, &base(&agent), Some(&body))
                .await?;
            if !client.printed_json(&schedule) {
                println!("created schedule {}", cell(&schedule["_id"]));
                print_table(
                    &[
                        "id",
                        "type",
                        "expression",
                        "active",
                        "fired",
                        "last fired",
                        "name",
                    ],
                    vec![row(&schedule)],
                );
            }
        }
        SchedulesCommand::Pause { agent, id } => set_active(client, &agent, &id, false).await?,
        SchedulesCommand::Resume { agent, id } => set_active(client, &agent, &id, true).await?,
        SchedulesCommand::Trigger { agent, id } => {
            let answer = client
                .call(
                    Method::POST,
                    &format!("{}/{}/execution", base(&agent), encode(&id)),
                    None,
                )
                .await?;
            if !client.printed_json(&answer) {
                println!("schedule {id} triggered: its run starts shortly");
            }
        }
        SchedulesCommand::Delete { agent, id } => {
            client
                .call(
                    Method::DELETE,
                    &format!("{}/{}", base(&agent), encode(&id)),
                    None,
                )
                .await?;
            if !client.printed_json(&json!({"deleted": id})) {
                println!("deleted schedule {id}");
            }
        }
    }
    Ok(())
}

/// Pauses (`false`) or resumes (`true`) a schedule.
async fn set_active(client: &Client, agent: &str, id: &str, active: bool) -> Result<(), CliError> {
    let schedule = client
        .call(
            Method::PATCH,
            &format!("{}/{}", base(agent), encode(id)),
            Some(&json!({"is_active": active})),
        )
        .await?;
    if !client.printed_json(&schedule) {
        let done = if active { "resumed" } else { "paused" };
        println!("schedule {id} {done}");
    }
    Ok(())
}

fn row(s: &Value) -> Vec<String> {
    vec![
        cell(&s["_id"]),
        cell(&s["type"]),
        cell(&s["expression"]),
        cell(&s["is_active"]),
        cell(&s["trigger_count"]),
        cell(&s["last_triggered_at"]),
        cell(&s["display_name"]),
    ]
}
