//! Counters for Prometheus: runs by how they ended, model calls and latency, tokens, tool calls
//! and errors, schedule firings. Lock-free; rendered in the text exposition format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds (seconds) of the model latency histogram.
const LATENCY_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// The engine's counters.
#[derive(Default)]
pub struct Metrics {
    runs_completed: AtomicU64,
    runs_input_required: AtomicU64,
    runs_failed: AtomicU64,
    runs_canceled: AtomicU64,
    model_calls: AtomicU64,
    model_errors: AtomicU64,
    model_latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    model_latency_ms_sum: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    tool_calls: AtomicU64,
    tool_errors: AtomicU64,
    schedule_firings: AtomicU64,
}

/// How a turn ended, for the run counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Completed.
    Completed,
    /// Waiting for the client.
    InputRequired,
    /// Failed.
    Failed,
    /// Canceled.
    Canceled,
}

impl Metrics {
    /// Counts a turn's end.
    pub fn run_ended(&self, end: RunEnd) {
        let counter = match end {
            RunEnd::Completed => &self.runs_completed,
            RunEnd::InputRequired => &self.runs_input_required,
            RunEnd::Failed => &self.runs_failed,
            RunEnd::Canceled => &self.runs_canceled,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a model call.
    pub fn model_call(&self, latency_ms: u64, ok: bool, prompt: u64, completion: u64) {
        self.model_calls.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.model_errors.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = latency_ms as f64 / 1000.0;
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.model_latency_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.model_latency_ms_sum
            .fetch_add(latency_ms, Ordering::Relaxed);
        self.prompt_tokens.fetch_add(prompt, Ordering::Relaxed);
        self.completion_tokens
            .fetch_add(completion, Ordering::Relaxed);
    }

    /// Counts a tool call.
    pub fn tool_call(&self, ok: bool) {
        self.tool_calls.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.tool_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a schedule firing.
    pub fn schedule_fired(&self) {
        self.schedule_firings.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        self.render_runs(&mut out);
        self.render_model(&mut out);
        let (prompt, completion) = (get(&self.prompt_tokens), get(&self.completion_tokens));
        header(
            &mut out,
            "baton_tokens_total",
            "counter",
            "Tokens used by model calls.",
        );
        let _ = writeln!(out, "baton_tokens_total{{kind=\"prompt\"}} {prompt}");
        let _ = writeln!(
            out,
            "baton_tokens_total{{kind=\"completion\"}} {completion}"
        );
        let tool_calls = get(&self.tool_calls);
        counter(
            &mut out,
            "baton_tool_calls_total",
            "Server-side tool calls.",
            tool_calls,
        );
        let tool_errors = get(&self.tool_errors);
        let help = "Tool calls that returned an error.";
        counter(&mut out, "baton_tool_errors_total", help, tool_errors);
        let firings = get(&self.schedule_firings);
        let help = "Schedule firings by this server.";
        counter(&mut out, "baton_schedule_firings_total", help, firings);
        out
    }

    fn render_runs(&self, out: &mut String) {
        header(
            out,
            "baton_runs_total",
            "counter",
            "Agent turns by how they ended.",
        );
        for (state, c) in [
            ("completed", &self.runs_completed),
            ("input_required", &self.runs_input_required),
            ("failed", &self.runs_failed),
            ("canceled", &self.runs_canceled),
        ] {
            let _ = writeln!(out, "baton_runs_total{{state=\"{state}\"}} {}", get(c));
        }
    }

    fn render_model(&self, out: &mut String) {
        let calls = get(&self.model_calls);
        let help = "Model calls (each retry counts).";
        counter(out, "baton_model_calls_total", help, calls);
        let errors = get(&self.model_errors);
        counter(
            out,
            "baton_model_errors_total",
            "Model calls that failed.",
            errors,
        );
        let name = "baton_model_latency_seconds";
        header(out, name, "histogram", "Model call latency.");
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.model_latency_buckets) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", get(bucket));
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {calls}");
        let sum = get(&self.model_latency_ms_sum) as f64 / 1000.0;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {calls}");
    }
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// The `# HELP` and `# TYPE` lines of a metric.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A counter without labels, with its header.
fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}
