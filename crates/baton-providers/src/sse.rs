//! A minimal server-sent-events parser over a byte stream.

/// One SSE message.
pub(crate) struct Frame {
    /// The `event:` field.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Accumulates bytes and yields complete frames.
#[derive(Default)]
pub(crate) struct Parser {
    buf: String,
}

impl Parser {
    /// Adds a chunk and returns the frames it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Frame> {
        self.buf.push_str(&String::from_utf8_lossy(chunk));
        if self.buf.contains('\r') {
            self.buf = self.buf.replace("\r\n", "\n");
        }
        let mut out = Vec::new();
        while let Some(end) = self.buf.find("\n\n") {
            let block: String = self.buf.drain(..end + 2).collect();
            let mut frame = Frame {
                event: None,
                data: String::new(),
            };
            let mut has_data = false;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    frame.event = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    if has_data {
                        frame.data.push('\n');
                    }
                    frame.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    has_data = true;
                }
            }
            if has_data {
                out.push(frame);
            }
        }
        out
    }
}
