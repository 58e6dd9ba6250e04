//! `baton traces show ID`: a trace's spans as a tree, with durations, tokens and cost.

use super::{cell, encode, CliError, Client};
use serde_json::{json, Value};
use std::collections::HashMap;

/// What to do with traces.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TracesCommand {
    /// Show a trace as a tree of its spans.
    Show {
        /// The trace's id (a run's `telemetry.trace_id`).
        id: String,
    },
}

/// Runs a traces subcommand.
pub(crate) async fn run(client: &Client, command: TracesCommand) -> Result<(), CliError> {
    let TracesCommand::Show { id } = command;
    let mut spans: Vec<Value> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = format!("/v3/traces/{}/spans?limit=1000", encode(&id));
        if let Some(token) = &token {
            path.push_str(&format!("&page_token={}", encode(token)));
        }
        let page = client.get(&path).await?;
        spans.extend(page["data"].as_array().cloned().unwrap_or_default());
        token = page["next_page_token"].as_str().map(str::to_owned);
        if page["has_more"] != true || token.is_none() {
            break;
        }
    }
    if client.printed_json(&json!({"trace_id": id, "spans": spans})) {
        return Ok(());
    }
    let ids: std::collections::HashSet<&str> =
        spans.iter().filter_map(|s| s["span_id"].as_str()).collect();
    let mut children: HashMap<Option<&str>, Vec<&Value>> = HashMap::new();
    for span in &spans {
        // A span whose parent is not in the trace is shown as a root.
        let parent = span["parent_span_id"].as_str().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(span);
    }
    println!("trace {id}");
    let mut lines = Vec::new();
    walk(&children, None, "", &mut lines);
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// Appends the subtree under `parent`, in start order, with box-drawing prefixes.
fn walk<'a>(
    children: &HashMap<Option<&'a str>, Vec<&'a Value>>,
    parent: Option<&'a str>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    let Some(list) = children.get(&parent) else {
        return;
    };
    for (i, span) in list.iter().enumerate() {
        let last = i + 1 == list.len();
        let (branch, next) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        out.push(format!("{prefix}{branch}{}", describe(span)));
        walk(
            children,
            span["span_id"].as_str(),
            &format!("{prefix}{next}"),
            out,
        );
    }
}

/// One span: name, type, duration, model, tokens, cost, and a failed status.
fn describe(span: &Value) -> String {
    let mut text = format!(
        "{} [{}] {} ms",
        cell(&span["name"]),
        cell(&span["type"]),
        cell(&span["duration_ms"])
    );
    if let Some(model) = span["model"].as_str() {
        text.push_str(&format!(" {model}"));
    }
    if let Some(total) = span["usage"]["total_tokens"].as_u64() {
        text.push_str(&format!(
            " {total} tokens ({} in, {} out)",
            cell(&span["usage"]["prompt_tokens"]),
            cell(&span["usage"]["completion_tokens"])
        ));
    }
    if let Some(cost) = span["cost"]["total"].as_f64() {
        text.push_str(&format!(" cost ${cost:.6}"));
    }
    if let Some(status) = span["status"].as_str().filter(|s| *s != "ok") {
        text.push_str(&format!(" ({status})"));
    }
    text
}
