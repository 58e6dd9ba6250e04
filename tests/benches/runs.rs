//! Throughput and overhead of agent runs: real `baton serve` processes against a zero-latency
//! testkit fake, each run one tool call and one answer (two model calls, four checkpoints).
//!
//! ```sh
//! cargo build --release -p baton
//! cargo bench -p baton-e2e --bench runs              # SQLite, 1 client then 64, 5000 runs
//! BENCH_RUNS=20000 BENCH_CONCURRENCY=64 cargo bench -p baton-e2e --bench runs
//! BENCH_DATABASE=postgres BENCH_SERVERS=2 cargo bench -p baton-e2e --bench runs
//! ```
//! First one client sends `BENCH_SERIAL_RUNS` runs one after another: the median run time is
//! what the server adds (the fake answers at once), reported per run and per step (a model
//! call and its checkpoints). Then `BENCH_CONCURRENCY` clients share `BENCH_RUNS` runs across
//! `BENCH_SERVERS` server processes on one database: runs per second, latency, and the servers'
//! CPU time per run (user + system, from /proc). `BENCH_DATABASE=postgres` runs on a fresh
//! PostgreSQL database (`BATON_TEST_DATABASE_URL`); `BENCH_SERVER=path` picks the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::bench::{self, env_or, percentile, BenchDatabase, ServerProcess};
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One run, as a client sees it: its whole time.
async fn run_once(client: &reqwest::Client, url: &str) -> Duration {
    let started = Instant::now();
    let body = json!({"message": {"role": "user", "parts": [{"kind": "text", "text": "date?"}]}});
    let body = bench::respond(client, url, "bench", &body).await;
    assert_eq!(body["status"]["state"], "completed", "{body}");
    started.elapsed()
}

fn cpu_of(servers: &[ServerProcess]) -> f64 {
    servers.iter().map(|s| bench::cpu_seconds(s.pid())).sum()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `runs` runs by `concurrency` clients, spread over the servers; their sorted latencies.
async fn load(
    client: &reqwest::Client,
    urls: &[String],
    runs: usize,
    concurrency: usize,
) -> Vec<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let (client, next) = (client.clone(), next.clone());
        let url = urls[worker % urls.len()].clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < runs {
                latencies.push(run_once(&client, &url).await);
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(runs);
    for w in workers {
        latencies.extend(w.await.unwrap());
    }
    latencies.sort();
    latencies
}

fn main() {
    let runs = env_or("BENCH_RUNS", 5000);
    let serial_runs = env_or("BENCH_SERIAL_RUNS", 500);
    let concurrency = env_or("BENCH_CONCURRENCY", 64);
    let server_count = env_or("BENCH_SERVERS", 1);
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
        let db = BenchDatabase::from_env().await;
        let servers: Vec<ServerProcess> = (0..server_count)
            .map(|_| ServerProcess::start(&db, &fake.base_url()))
            .collect();
        let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
        let client = bench::client(concurrency);
        bench::create_agent(
            &client,
            &urls[0],
            "bench",
            json!([{"type": "current_date"}]),
        )
        .await;
        // Warm up connections and the database.
        for url in &urls {
            for _ in 0..50 {
                run_once(&client, url).await;
            }
        }
        println!(
            "{} on {}, {server_count} server process(es); each run 1 tool call + 1 answer \
                  (2 model calls)",
            bench::server_binary().display(),
            db.backend()
        );

        let cpu_before = cpu_of(&servers);
        let serial = load(&client, &urls[..1], serial_runs, 1).await;
        let cpu = cpu_of(&servers) - cpu_before;
        println!(
            "1 client, {serial_runs} runs: p50 {:.2} ms per run ({:.2} ms per step), \
                  p99 {:.2} ms; server CPU per run {:.0} µs",
            ms(percentile(&serial, 0.5)),
            ms(percentile(&serial, 0.5)) / 2.0,
            ms(percentile(&serial, 0.99)),
            cpu / serial_runs as f64 * 1e6
        );

        let cpu_before = cpu_of(&servers);
        let started = Instant::now();
        let latencies = load(&client, &urls, runs, concurrency).await;
        let elapsed = started.elapsed();
        let cpu = cpu_of(&servers) - cpu_before;
        println!(
            "{concurrency} clients, {runs} runs: {:.0} runs/s; p50 {:.2} ms, p99 {:.2} ms; \
                  server CPU per run {:.0} µs",
            runs as f64 / elapsed.as_secs_f64(),
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            cpu / runs as f64 * 1e6
        );
        for s in &servers {
            println!(
                "server {}: RSS {:.0} MiB (peak {:.0} MiB)",
                s.pid(),
                bench::memory_mib(s.pid(), "VmRSS"),
                bench::memory_mib(s.pid(), "VmHWM")
            );
        }
        println!("model calls served by the fake: {}", fake.request_count());
    });
}
