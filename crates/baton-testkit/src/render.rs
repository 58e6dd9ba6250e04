//! Turns rendered in each vendor's wire format, whole or as SSE frames.

use crate::{Flavor, Turn, TurnKind};
use serde_json::{json, Value};

/// Splits text into a few deltas (per word, keeping spaces) so streams have several chunks.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        current.push(ch);
        if ch == ' ' {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Splits a string into two halves (on a char boundary) to stream arguments in fragments.
fn halves(s: &str) -> [String; 2] {
    let mid = s
        .char_indices()
        .nth(s.chars().count() / 2)
        .map_or(s.len(), |(i, _)| i);
    [s[..mid].to_owned(), s[mid..].to_owned()]
}

fn data(v: &Value) -> String {
    format!("data: {v}\n\n")
}

fn event(name: &str, v: &Value) -> String {
    format!("event: {name}\ndata: {v}\n\n")
}

pub(crate) fn render_json(flavor: Flavor, turn: &Turn, ids: &[String], model: &str) -> Value {
    let (prompt, completion) = turn.usage;
    match (&turn.kind, flavor) {
        (TurnKind::Raw(v), _) => v.clone(),
        (TurnKind::Error { body, .. }, _) => body.clone(),
        (TurnKind::Text(text), Flavor::OpenAi) => json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}),
        (TurnKind::ToolCalls(calls), Flavor::OpenAi) => json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                "tool_calls": calls.iter().zip(ids).map(|((name, args), id)| json!({
                    "id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}})).collect::<Vec<_>>()}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}),
        (TurnKind::Text(text), Flavor::Anthropic) => json!({
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "usage": {"input_tokens": prompt, "output_tokens": completion}}),
        (TurnKind::ToolCalls(calls), Flavor::Anthropic) => json!({
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": calls.iter().zip(ids).map(|((name, args), id)| json!({
                "type": "tool_use", "id": id, "name": name, "input": args})).collect::<Vec<_>>(),
            "stop_reason": "tool_use", "usage": {"input_tokens": prompt, "output_tokens": completion}}),
        (TurnKind::Text(text), Flavor::Gemini) => json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": completion, "totalTokenCount": prompt + completion}}),
        (TurnKind::ToolCalls(calls), Flavor::Gemini) => json!({
            "candidates": [{"content": {"role": "model", "parts": calls.iter().map(|(name, args)| json!({
                "functionCall": {"name": name, "args": args}})).collect::<Vec<_>>()}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": completion, "totalTokenCount": prompt + completion}}),
    }
}

pub(crate) fn render_stream(
    flavor: Flavor,
    turn: &Turn,
    ids: &[String],
    model: &str,
) -> Vec<String> {
    let (prompt, completion) = turn.usage;
    let mut out = Vec::new();
    match flavor {
        Flavor::OpenAi => {
            let chunk = |delta: Value, finish: Value| {
                json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            };
            out.push(data(&chunk(json!({"role": "assistant"}), Value::Null)));
            match &turn.kind {
                TurnKind::Text(text) => {
                    for p in pieces(text) {
                        out.push(data(&chunk(json!({"content": p}), Value::Null)));
                    }
                    out.push(data(&chunk(json!({}), json!("stop"))));
                }
                TurnKind::ToolCalls(calls) => {
                    for (i, ((name, args), id)) in calls.iter().zip(ids).enumerate() {
                        let [a, b] = halves(&args.to_string());
                        out.push(data(&chunk(
                            json!({"tool_calls": [{"index": i, "id": id, "type": "function",
                            "function": {"name": name, "arguments": a}}]}),
                            Value::Null,
                        )));
                        out.push(data(&chunk(
                            json!({"tool_calls": [{"index": i, "function": {"arguments": b}}]}),
                            Value::Null,
                        )));
                    }
                    out.push(data(&chunk(json!({}), json!("tool_calls"))));
                }
                TurnKind::Raw(v) => out.push(data(v)),
                TurnKind::Error { body, .. } => out.push(data(body)),
            }
            out.push(data(&json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model, "choices": [],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}})));
            out.push("data: [DONE]\n\n".to_owned());
        }
        Flavor::Anthropic => {
            out.push(event("message_start", &json!({"type": "message_start", "message": {"id": "msg_fake", "type": "message",
                "role": "assistant", "model": model, "content": [], "usage": {"input_tokens": prompt, "output_tokens": 0}}})));
            let stop = match &turn.kind {
                TurnKind::Text(text) => {
                    out.push(event(
                        "content_block_start",
                        &json!({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "text", "text": ""}}),
                    ));
                    for p in pieces(text) {
                        out.push(event(
                            "content_block_delta",
                            &json!({"type": "content_block_delta", "index": 0,
                            "delta": {"type": "text_delta", "text": p}}),
                        ));
                    }
                    out.push(event(
                        "content_block_stop",
                        &json!({"type": "content_block_stop", "index": 0}),
                    ));
                    "end_turn"
                }
                TurnKind::ToolCalls(calls) => {
                    for (i, ((name, args), id)) in calls.iter().zip(ids).enumerate() {
                        out.push(event("content_block_start", &json!({"type": "content_block_start", "index": i,
                            "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}})));
                        for part in halves(&args.to_string()) {
                            out.push(event(
                                "content_block_delta",
                                &json!({"type": "content_block_delta", "index": i,
                                "delta": {"type": "input_json_delta", "partial_json": part}}),
                            ));
                        }
                        out.push(event(
                            "content_block_stop",
                            &json!({"type": "content_block_stop", "index": i}),
                        ));
                    }
                    "tool_use"
                }
                TurnKind::Raw(_) | TurnKind::Error { .. } => "end_turn",
            };
            out.push(event(
                "message_delta",
                &json!({"type": "message_delta", "delta": {"stop_reason": stop},
                "usage": {"output_tokens": completion}}),
            ));
            out.push(event("message_stop", &json!({"type": "message_stop"})));
        }
        Flavor::Gemini => {
            let usage = json!({"promptTokenCount": prompt, "candidatesTokenCount": completion, "totalTokenCount": prompt + completion});
            match &turn.kind {
                TurnKind::Text(text) => {
                    let parts = pieces(text);
                    let last = parts.len().saturating_sub(1);
                    for (i, p) in parts.into_iter().enumerate() {
                        let mut chunk = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": p}]}}]});
                        if i == last {
                            chunk["candidates"][0]["finishReason"] = json!("STOP");
                            chunk["usageMetadata"] = usage.clone();
                        }
                        out.push(data(&chunk));
                    }
                }
                TurnKind::ToolCalls(calls) => {
                    out.push(data(&json!({"candidates": [{"content": {"role": "model", "parts": calls.iter().map(|(name, args)| json!({
                        "functionCall": {"name": name, "args": args}})).collect::<Vec<_>>()}, "finishReason": "STOP"}],
                        "usageMetadata": usage})));
                }
                TurnKind::Raw(v) | TurnKind::Error { body: v, .. } => out.push(data(v)),
            }
        }
    }
    out
}
