//! Throughput and overhead of agent runs: a real `baton serve` process against a zero-latency
//! testkit fake, each run one tool call and one answer.
//!
//! ```sh
//! cargo build --release -p baton
//! cargo bench -p baton-e2e --bench runs             # defaults: 64 concurrent clients, 5000 runs
//! BENCH_RUNS=20000 BENCH_CONCURRENCY=64 cargo bench -p baton-e2e --bench runs
//! ```
//! It prints runs per second, p50/p99 latency of a whole run as the client sees it (the fake
//! answers at once, so this is the time the server adds), and the server's CPU time per run
//! (user + system, from /proc).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::bench::{env_or, percentile, server_binary};

use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

/// User + system CPU seconds of a process, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

#[allow(clippy::disallowed_methods)] // the benchmark runs the real server binary
fn main() {
    let runs = env_or("BENCH_RUNS", 5000);
    let concurrency = env_or("BENCH_CONCURRENCY", 64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let fake = FakeProvider::start(Flavor::OpenAi).await;
        fake.set_responder(Arc::new(|req: &SeenRequest| {
            if req.last_is_tool_result {
                Turn::text("It is today.")
            } else {
                Turn::tool_calls(vec![("current_date", json!({}))])
            }
        }));
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(server_binary())
            .arg("serve")
            .env("BATON_LISTEN", "127.0.0.1:0")
            .env("BATON_API_KEY", "bench-key")
            .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display()))
            .env("BATON_DATA_DIR", dir.path())
            .env("OPENAI_BASE_URL", fake.base_url())
            .env("OPENAI_API_KEY", "sk-bench")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = baton_e2e::listening_url(&mut child);
        let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
        let resp = client.post(format!("{url}/v2/agents")).bearer_auth("bench-key")
            .json(&json!({"key": "bench", "role": "r", "description": "d", "instructions": "Be brief.",
                          "path": "Default", "model": "openai/gpt-4o",
                          "settings": {"tools": [{"type": "current_date"}]}}))
            .send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        let run_once = |client: reqwest::Client, url: String| async move {
            let started = Instant::now();
            let resp = client.post(format!("{url}/v2/agents/bench/responses")).bearer_auth("bench-key")
                .json(&json!({"message": {"role": "user", "parts": [{"kind": "text", "text": "date?"}]}}))
                .send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            let body: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(body["status"]["state"], "completed", "{body}");
            started.elapsed()
        };
        // Warm up connections and the database.
        for _ in 0..50 {
            run_once(client.clone(), url.clone()).await;
        }
        let pid = child.id();
        let cpu_before = cpu_seconds(pid);
        let started = Instant::now();
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (client, url, next) = (client.clone(), url.clone(), next.clone());
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < runs {
                    latencies.push(run_once(client.clone(), url.clone()).await);
                }
                latencies
            }));
        }
        let mut latencies = Vec::with_capacity(runs);
        for w in workers {
            latencies.extend(w.await.unwrap());
        }
        let elapsed = started.elapsed();
        let cpu = cpu_seconds(pid) - cpu_before;
        latencies.sort();
        println!("runs: {runs} at concurrency {concurrency}, each 1 tool call + 1 answer (2 model calls)");
        println!("throughput: {:.0} runs/s", runs as f64 / elapsed.as_secs_f64());
        println!("latency per run: p50 {:.2} ms, p99 {:.2} ms",
                 percentile(&latencies, 0.50).as_secs_f64() * 1e3,
                 percentile(&latencies, 0.99).as_secs_f64() * 1e3);
        println!("server CPU per run: {:.0} µs", cpu / runs as f64 * 1e6);
        println!("model calls served by the fake: {}", fake.request_count());
        let _ = child.kill();
        let _ = child.wait();
    });
}
