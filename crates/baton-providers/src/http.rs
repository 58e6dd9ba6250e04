//! What every vendor client shares: sending JSON, classifying failures, reading SSE.

use crate::sse::{Frame, Parser};
use baton_core::model::{ProviderError, ProviderErrorKind};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// About how many bytes of text a chat request carries: its system prompt and messages (a tool
/// call counted at a guess, its arguments unread).
pub(crate) fn text_len(req: &baton_core::model::ChatRequest<'_>) -> usize {
    const PER_CALL: usize = 128;
    let system = req.system.as_ref().map_or(0, String::len);
    req.messages.iter().fold(system, |sum, m| {
        sum + m.content.len() + m.tool_calls.len() * PER_CALL
    })
}

/// A request body as JSON. A conversation's whole history goes to the model at every call, so
/// this is written with a SIMD serializer: escaping its text byte by byte with `serde_json` took
/// a fifth of the server's time at turn 150 of a long conversation.
fn request_body(
    body: &(impl serde::Serialize + ?Sized),
    text_len: usize,
) -> Result<Vec<u8>, sonic_rs::Error> {
    // Text, escapes and the JSON around each message.
    let mut bytes = Vec::with_capacity(text_len + text_len / 16 + 1024);
    sonic_rs::to_writer(&mut bytes, body)?;
    Ok(bytes)
}

/// Endpoint, key and pooled HTTP client of one provider.
pub(crate) struct Client {
    pub name: String,
    pub base_url: String,
    pub api_key: Option<String>,
    pub http: reqwest::Client,
    pub timeout: Duration,
}

impl Client {
    pub fn error(&self, kind: ProviderErrorKind, message: impl Into<String>) -> ProviderError {
        ProviderError {
            provider: self.name.clone(),
            kind,
            status: None,
            message: message.into(),
            retry_after: None,
        }
    }

    fn transport(&self, e: reqwest::Error) -> ProviderError {
        let kind = if e.is_timeout() {
            ProviderErrorKind::Timeout
        } else {
            ProviderErrorKind::Network
        };
        // reqwest's message names the URL, never headers: no key can leak through it.
        self.error(kind, e.to_string())
    }

    /// POSTs JSON; a non-2xx answer becomes a `Status` error with the vendor's message.
    /// `text_len` is about how much text the body carries ([`text_len`]): its buffer is sized
    /// for it, so a long conversation is not copied over and over as the buffer grows.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &(impl serde::Serialize + ?Sized),
        text_len: usize,
    ) -> Result<reqwest::Response, ProviderError> {
        let bytes = request_body(body, text_len)
            .map_err(|e| self.error(ProviderErrorKind::Decode, format!("request body: {e}")))?;
        let mut req = self
            .http
            .post(url)
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        let text = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v.pointer("/error/message")
                    .or_else(|| v.pointer("/message"))
                    .or_else(|| v.get("error"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or(text);
        let mut message: String = message.chars().take(500).collect();
        if message.is_empty() {
            message = status.to_string();
        }
        Err(ProviderError {
            provider: self.name.clone(),
            kind: ProviderErrorKind::Status,
            status: Some(status.as_u16()),
            message: format!("HTTP {}: {message}", status.as_u16()),
            retry_after,
        })
    }

    /// Reads a JSON answer.
    pub async fn json(&self, resp: reqwest::Response) -> Result<Value, ProviderError> {
        let bytes = resp.bytes().await.map_err(|e| self.transport(e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            self.error(
                ProviderErrorKind::Decode,
                format!("invalid JSON answer: {e}"),
            )
        })
    }

    /// Feeds each SSE frame of an answer to `on_frame`.
    pub async fn frames(
        &self,
        resp: reqwest::Response,
        mut on_frame: impl FnMut(Frame) -> Result<(), ProviderError>,
    ) -> Result<(), ProviderError> {
        let mut parser = Parser::default();
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| self.transport(e))?;
            for frame in parser.push(&chunk) {
                on_frame(frame)?;
            }
        }
        Ok(())
    }

    /// Parses one frame's data as JSON.
    pub fn frame_json(&self, frame: &Frame) -> Result<Value, ProviderError> {
        serde_json::from_str(&frame.data).map_err(|e| {
            self.error(
                ProviderErrorKind::Decode,
                format!("invalid stream event: {e}"),
            )
        })
    }
}

/// Parses tool-call arguments; invalid JSON is kept as the raw string for the engine to report.
pub(crate) fn parse_arguments(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return Value::Object(Default::default());
    }
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

/// The unsigned number at `pointer`, or 0.
pub(crate) fn u64_at(v: &Value, pointer: &str) -> u64 {
    v.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_body_reads_back_as_the_json_it_was_made_from() {
        // Every ASCII control character, quotes, backslashes, multi-byte text, line separators,
        // long runs without escapes around escapes (the SIMD path), numbers and nesting.
        let controls: String = (0u8..0x20).map(char::from).collect();
        let long = format!(
            "{}\"{}\\{}",
            "a".repeat(100),
            "é".repeat(50),
            "b".repeat(33)
        );
        let body = serde_json::json!({
            "messages": [
                {"role": "user", "content": controls},
                {"role": "assistant", "content": long},
                {"role": "user", "content": "emoji 🎉, \u{2028}\u{2029}, </script>, \u{7f}"},
            ],
            "temperature": 0.7,
            "max_tokens": 1024,
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
            "stream": false,
            "user": null,
        });
        let bytes = request_body(&body, 0).unwrap();
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, body);
    }
}
