//! What a sandboxed call printed and answered: capped capture, the answer channel, messages.

use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

const ANSWER_MARK: &[u8] = b"\x1ebaton-answer ";

pub(super) fn timeout_message(limit: Duration) -> String {
    format!(
        "code tool exceeded its time limit: the code did not finish within {} s and was stopped",
        limit.as_secs_f64()
    )
}

/// `1 MiB`, `64 KiB`, `100 bytes`.
pub(super) fn bytes(n: u64) -> String {
    match n {
        n if n >= 1024 * 1024 && n % (1024 * 1024) == 0 => format!("{} MiB", n / (1024 * 1024)),
        n if n >= 1024 && n % 1024 == 0 => format!("{} KiB", n / 1024),
        n => format!("{n} bytes"),
    }
}

/// Splits what the sandbox wrote on its answer channel into diagnostics (bubblewrap's or the
/// interpreter's own complaints) and the harness's answer.
pub(super) fn split_answer(channel: &[u8]) -> (String, Option<Value>) {
    let found = channel
        .windows(ANSWER_MARK.len())
        .rposition(|w| w == ANSWER_MARK);
    match found {
        Some(at) => {
            let answer = &channel[at + ANSWER_MARK.len()..];
            let message = serde_json::from_slice(answer).ok();
            (
                String::from_utf8_lossy(&channel[..at]).into_owned(),
                message,
            )
        }
        None => (String::from_utf8_lossy(channel).into_owned(), None),
    }
}

/// A stream read to its end, or until it passed `max` bytes.
pub(super) struct Captured {
    pub(super) bytes: Vec<u8>,
    total: usize,
    pub(super) over: bool,
}

impl Captured {
    /// The first `keep` bytes as text, with a note of how much was left out.
    pub(super) fn text(&self, keep: usize) -> String {
        let mut text =
            String::from_utf8_lossy(&self.bytes[..self.bytes.len().min(keep)]).into_owned();
        let dropped = self.total.saturating_sub(keep);
        if dropped > 0 {
            text.push_str(&format!("\n[{dropped} more bytes not kept]"));
        }
        text
    }
}

/// Reads a stream to its end, stopping once more than `max` bytes came.
pub(super) async fn capture(stream: Option<impl AsyncRead + Unpin>, max: usize) -> Captured {
    let mut got = Captured {
        bytes: Vec::new(),
        total: 0,
        over: false,
    };
    let Some(mut stream) = stream else {
        return got;
    };
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                got.total += n;
                if got.total > max {
                    got.over = true;
                    break;
                }
                got.bytes.extend_from_slice(&buf[..n]);
            }
        }
    }
    got
}

/// The end of a text, at most `max` bytes of it.
pub(super) fn tail_of(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_answer_is_found_after_diagnostics() {
        let (diag, msg) = split_answer(b"bwrap: warning\n\n\x1ebaton-answer {\"result\": 2}");
        assert_eq!(diag, "bwrap: warning\n\n");
        assert_eq!(msg, Some(json!({"result": 2})));
        let (diag, msg) = split_answer(b"bwrap: execvp python3: No such file");
        assert!(diag.starts_with("bwrap:") && msg.is_none());
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(bytes(1024 * 1024), "1 MiB");
        assert_eq!(bytes(64 * 1024), "64 KiB");
        assert_eq!(bytes(1000), "1000 bytes");
    }
}
