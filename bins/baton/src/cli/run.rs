//! `baton run AGENT "message"`: one turn of an agent, answered at once or streamed, with its
//! tool calls shown and the task's id and state at the end.

use super::{cell, encode, fail, key_values, CliError, Client, Output};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::io::Write;

/// What to run.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The agent's key (`key@N` for version N).
    agent: String,
    /// The user message.
    message: String,
    /// Print the answer as it is written, with tool calls as they happen.
    #[arg(long)]
    stream: bool,
    /// A variable of the agent's instructions (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE")]
    vars: Vec<String>,
    /// Continue this task instead of starting one.
    #[arg(long = "task", value_name = "ID")]
    task: Option<String>,
    /// Run on this thread (its earlier tasks are the context).
    #[arg(long = "thread", value_name = "ID")]
    thread: Option<String>,
}

/// Runs the turn and prints it.
pub(crate) async fn run(client: &Client, args: RunArgs) -> Result<(), CliError> {
    let mut body = json!({
        "message": {"role": "user", "parts": [{"kind": "text", "text": args.message}]},
    });
    let variables = key_values(&args.vars)?;
    if !variables.is_empty() {
        body["variables"] = Value::Object(variables);
    }
    if let Some(task) = &args.task {
        body["task_id"] = json!(task);
    }
    if let Some(thread) = &args.thread {
        body["thread"] = json!({"id": thread});
    }
    let path = format!("/v2/agents/{}/responses", encode(&args.agent));
    if args.stream {
        body["stream"] = json!(true);
        return stream(client, &path, &body).await;
    }
    let answer = client
        .waiting(
            &format!("{} is thinking…", args.agent),
            client.call(Method::POST, &path, Some(&body)),
        )
        .await?;
    if client.printed_json(&answer) {
        return Ok(());
    }
    // Results name their call; show the tool's name as the stream does.
    let mut tool_names = std::collections::HashMap::new();
    for message in answer["output"].as_array().into_iter().flatten() {
        for part in message["parts"].as_array().into_iter().flatten() {
            if let (Some(id), Some(name)) =
                (part["tool_call_id"].as_str(), part["tool_name"].as_str())
            {
                tool_names.insert(id.to_owned(), name.to_owned());
            }
            print_part(part, &tool_names);
        }
    }
    print_end(&answer);
    Ok(())
}

/// One part of an output message as a line.
fn print_part(part: &Value, tool_names: &std::collections::HashMap<String, String>) {
    match part["kind"].as_str() {
        Some("text") => println!("{}", cell(&part["text"])),
        Some("tool_call") => println!(
            "→ tool {} {}",
            cell(&part["tool_name"]),
            short(&part["arguments"])
        ),
        Some("tool_result") => {
            let id = cell(&part["tool_call_id"]);
            println!(
                "← result {} {}",
                tool_names.get(&id).unwrap_or(&id),
                short(&part["result"])
            );
        }
        Some("error") => println!("✗ {}", cell(&part["error"])),
        _ => {}
    }
}

/// A JSON value on one line, cut to a readable length.
fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text
    }
}

/// The task's id and state, what it waits for, and its trace.
fn print_end(answer: &Value) {
    let state = answer["status"]["state"]
        .as_str()
        .or(answer["state"].as_str())
        .unwrap_or("?");
    println!();
    println!("task {}: {state}", cell(&answer["task_id"]));
    if let Some(error) = answer["error"].as_str() {
        println!("error: {error}");
    }
    print_pending(answer);
    if let Some(trace) = answer["telemetry"]["trace_id"].as_str() {
        println!("trace {trace} (baton traces show {trace})");
    }
}

/// What an `input-required` task waits for.
fn print_pending(answer: &Value) {
    for call in answer["pending_tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "pending: tool {} {} (call {}); answer with a tool_result",
            cell(&call["function"]["name"]),
            cell(&call["function"]["arguments"]),
            cell(&call["id"])
        );
    }
    for review in answer["pending_tool_reviews"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "pending: review of tool {} {} (call {}); approve or reject it",
            cell(&review["tool_name"]),
            short(&review["arguments"]),
            cell(&review["tool_call_id"])
        );
    }
}

/// Reads the SSE stream and prints text deltas and tool events as they come.
async fn stream(client: &Client, path: &str, body: &Value) -> Result<(), CliError> {
    let response = client.request(Method::POST, path, Some(body)).await?;
    let mut bytes = response.bytes_stream();
    let mut buffer = String::new();
    let mut printer = StreamPrinter::default();
    'read: while let Some(chunk) = bytes.next().await {
        let chunk = chunk.map_err(|e| fail(format!("the stream broke: {e}")))?;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            let data: String = message
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect::<Vec<_>>()
                .join("\n");
            if data.is_empty() {
                continue;
            }
            if data == "[DONE]" {
                break 'read;
            }
            let event: Value = serde_json::from_str(&data)
                .map_err(|e| fail(format!("a stream event is not JSON: {e}")))?;
            if client.output == Output::Json {
                println!("{event}");
            } else {
                printer.event(&event)?;
            }
        }
    }
    if client.output == Output::Json {
        return Ok(());
    }
    printer.finish_line();
    let Some(task_id) = printer.task_id else {
        return Err(fail("the stream ended before the run started"));
    };
    // The stream's last event says how the turn ended; the task says where it stands now.
    let task = client
        .get(&format!("/v2/tasks/{}", encode(&task_id)))
        .await?;
    let agent = cell(&task["agent_key"]);
    let answer = client
        .get(&format!(
            "/v2/agents/{}/responses/{}",
            encode(&agent),
            encode(&task_id)
        ))
        .await?;
    print_end(&answer);
    Ok(())
}

/// Prints stream events, keeping text deltas on their line.
#[derive(Default)]
struct StreamPrinter {
    task_id: Option<String>,
    mid_line: bool,
    /// Parts whose text came as deltas; a part without any (a replayed stream holds only
    /// finished parts) is printed whole when it is done.
    streamed_parts: std::collections::HashSet<String>,
}

impl StreamPrinter {
    fn event(&mut self, event: &Value) -> Result<(), CliError> {
        let data = &event["data"];
        match event["type"].as_str().unwrap_or_default() {
            "response.started" => self.task_id = data["taskId"].as_str().map(str::to_owned),
            "part.delta" => {
                if let Some(text) = data["delta"]["text"].as_str() {
                    self.streamed_parts.insert(cell(&data["partId"]));
                    self.write(text);
                }
            }
            "part.done" => {
                if !self.streamed_parts.contains(&cell(&data["partId"])) {
                    if let Some(text) = data["part"]["text"].as_str() {
                        self.write(text);
                    }
                }
                self.finish_line();
            }
            "tool.started" => {
                self.finish_line();
                let name = data["toolName"].as_str().or(data["toolId"].as_str());
                println!(
                    "→ tool {} {}",
                    name.unwrap_or("?"),
                    short(&data["arguments"])
                );
            }
            "tool.done" => {
                self.finish_line();
                println!(
                    "← result {} {}",
                    cell(&data["toolId"]),
                    short(&data["result"])
                );
            }
            "tool.failed" => {
                self.finish_line();
                println!(
                    "✗ tool {} failed: {}",
                    cell(&data["toolId"]),
                    cell(&data["error"])
                );
            }
            "tool.review.requested" => {
                self.finish_line();
                println!(
                    "? tool {} {} waits for a review",
                    cell(&data["toolName"]),
                    short(&data["arguments"])
                );
            }
            "response.failed" => {
                self.finish_line();
                let task = self.task_id.as_deref().unwrap_or("?");
                return Err(fail(format!(
                    "the run of task {task} failed: {}",
                    cell(&data["error"])
                )));
            }
            _ => {}
        }
        Ok(())
    }

    fn write(&mut self, text: &str) {
        print!("{text}");
        let _ = std::io::stdout().flush();
        self.mid_line = !text.ends_with('\n');
    }

    fn finish_line(&mut self) {
        if self.mid_line {
            println!();
            self.mid_line = false;
        }
    }
}
