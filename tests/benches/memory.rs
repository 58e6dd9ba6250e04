//! The server's memory with many runs in flight: a real `baton serve` against a testkit fake
//! whose every answer takes a while.
//!
//! ```sh
//! cargo build --release -p baton
//! cargo bench -p baton-e2e --bench memory     # 1,000 runs, then 10,000 streamed runs
//! BENCH_IN_FLIGHT=1000 BENCH_STREAMS=10000 BENCH_STREAM_CONNECTIONS=50 cargo bench -p baton-e2e --bench memory
//! ```
//! First `BENCH_IN_FLIGHT` clients each start a run whose model call takes one second, all at
//! once, each over an HTTP/1.1 connection of its own; then `BENCH_STREAMS` streamed runs
//! (`stream: true`) whose model call takes `BENCH_STREAM_DELAY_MS` (default 10 s) start at once
//! and are read to the end, carried over HTTP/2 (prior knowledge) by `BENCH_STREAM_CONNECTIONS`
//! connections (default one per 200 streams, each its own client). The server's resident memory
//! and open files are sampled every 100 ms; the report gives the highest samples of each phase
//! and the most runs in flight at once (sent, not yet answered).
//!
//! Open files: each run in flight holds one connection from the server to the model (the fake,
//! in this process), so the server and this process each need `BENCH_STREAMS` open files plus
//! the client connections (over HTTP/1.1 that was one more per stream: twice as many).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::bench::{self, env_or, BenchDatabase, ServerProcess};
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Highest samples of a phase.
#[derive(Default, Clone, Copy)]
struct Peak {
    /// Resident memory of the server, MiB.
    rss: f64,
    /// Runs sent and not yet answered.
    in_flight: usize,
    /// Open files of the server.
    files: usize,
}

/// Open file descriptors of a process, from /proc.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Starts `count` runs at once (streamed or not), the `i`th over `clients[i % clients.len()]`,
/// and samples the server until all end.
async fn phase(
    server: &ServerProcess,
    clients: &[reqwest::Client],
    count: usize,
    stream: bool,
) -> Peak {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut runs = Vec::with_capacity(count);
    for i in 0..count {
        let client = clients[i % clients.len()].clone();
        let (url, in_flight) = (server.url.clone(), in_flight.clone());
        runs.push(tokio::spawn(async move {
            let body = json!({"message": {"role": "user", "parts": [{"kind": "text", "text": format!("hello {i}")}]},
                              "stream": stream});
            in_flight.fetch_add(1, Ordering::SeqCst);
            let resp = client.post(format!("{url}/v2/agents/slow/responses"))
                .bearer_auth(bench::KEY).json(&body).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            let mut body = resp.bytes_stream();
            let mut text = Vec::new();
            while let Some(chunk) = body.next().await {
                text.extend_from_slice(&chunk.unwrap());
            }
            in_flight.fetch_sub(1, Ordering::SeqCst);
            let text = String::from_utf8(text).unwrap();
            assert!(text.contains("completed") || text.contains("response.done"), "{text}");
        }));
    }
    let peak = Arc::new(std::sync::Mutex::new(Peak::default()));
    let watcher = {
        let (pid, in_flight, peak) = (server.pid(), in_flight.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                let rss = bench::memory_mib(pid, "VmRSS");
                let files = open_files(pid);
                {
                    let mut p = peak.lock().unwrap();
                    p.rss = p.rss.max(rss);
                    p.files = p.files.max(files);
                    p.in_flight = p.in_flight.max(in_flight.load(Ordering::SeqCst));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    for run in runs {
        run.await.unwrap();
    }
    watcher.abort();
    let peak = *peak.lock().unwrap();
    peak
}

/// A client that carries all its requests over one HTTP/2 connection.
fn http2_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap()
}

fn main() {
    let in_flight = env_or("BENCH_IN_FLIGHT", 1000);
    let streams = env_or("BENCH_STREAMS", 10_000);
    let connections = env_or("BENCH_STREAM_CONNECTIONS", streams.div_ceil(200)).max(1);
    let stream_delay = env_or("BENCH_STREAM_DELAY_MS", 10_000) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // This process holds the fake's side of every model call.
    baton::raise_open_file_limit();
    rt.block_on(async move {
        let fake = FakeProvider::start(Flavor::OpenAi).await;
        let delay = Arc::new(AtomicUsize::new(1000));
        let answer_delay = delay.clone();
        fake.set_responder(Arc::new(move |_: &SeenRequest| {
            let ms = answer_delay.load(Ordering::SeqCst) as u64;
            Turn::text("Done.").with_delay(Duration::from_millis(ms))
        }));
        let db = BenchDatabase::from_env().await;
        let server = ServerProcess::start(&db, &fake.base_url());
        bench::create_agent(&bench::client(1), &server.url, "slow", json!([])).await;
        println!("{} on {}", bench::server_binary().display(), db.backend());
        println!(
            "idle: RSS {:.0} MiB",
            bench::memory_mib(server.pid(), "VmRSS")
        );
        let peak = phase(&server, &[bench::client(in_flight)], in_flight, false).await;
        println!(
            "{in_flight} runs (model latency 1 s, HTTP/1.1): peak RSS {:.0} MiB, at most {} in \
             flight, {} open files",
            peak.rss, peak.in_flight, peak.files
        );
        delay.store(stream_delay as usize, Ordering::SeqCst);
        let clients: Vec<reqwest::Client> = (0..connections).map(|_| http2_client()).collect();
        let peak = phase(&server, &clients, streams, true).await;
        println!(
            "{streams} streamed runs (model latency {stream_delay} ms, HTTP/2 over {connections} \
             connections): peak RSS {:.0} MiB, at most {} in flight, {} open files",
            peak.rss, peak.in_flight, peak.files
        );
        println!("model calls served by the fake: {}", fake.request_count());
    });
}
