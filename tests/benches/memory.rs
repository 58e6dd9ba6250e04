//! The server's memory with many runs in flight: a real `baton serve` against a testkit fake
//! whose every answer takes a while.
//!
//! ```sh
//! cargo build --release -p baton
//! cargo bench -p baton-e2e --bench memory     # 1,000 runs, then 9,000 streamed runs
//! BENCH_IN_FLIGHT=1000 BENCH_STREAMS=10000 cargo bench -p baton-e2e --bench memory
//! ```
//! First `BENCH_IN_FLIGHT` clients each start a run whose model call takes one second, all at
//! once; then `BENCH_STREAMS` clients each start a streamed run (`stream: true`) whose model
//! call takes `BENCH_STREAM_DELAY_MS` (default 10 s), and read its events to the end. The
//! server's resident memory is sampled every 100 ms; the report gives the highest sample of
//! each phase and the most runs in flight at once (sent, not yet answered). Each streamed run holds a connection from
//! the client and one to the model: the server needs twice `BENCH_STREAMS` open files, the
//! benchmark (client and fake) as many (`ulimit -n`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::bench::{self, env_or, BenchDatabase, ServerProcess};
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Starts `count` runs at once (streamed or not) and samples the server's memory until all end:
/// the highest RSS in MiB and the most runs in flight at once.
async fn phase(server: &ServerProcess, count: usize, stream: bool) -> (f64, usize) {
    let client = bench::client(count);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut runs = Vec::with_capacity(count);
    for i in 0..count {
        let (client, url, in_flight) = (client.clone(), server.url.clone(), in_flight.clone());
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
    let peak = Arc::new(std::sync::Mutex::new((0.0f64, 0usize)));
    let watcher = {
        let (pid, in_flight, peak) = (server.pid(), in_flight.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                let rss = bench::memory_mib(pid, "VmRSS");
                {
                    let mut p = peak.lock().unwrap();
                    *p = (p.0.max(rss), p.1.max(in_flight.load(Ordering::SeqCst)));
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

fn main() {
    let in_flight = env_or("BENCH_IN_FLIGHT", 1000);
    let streams = env_or("BENCH_STREAMS", 9000);
    let stream_delay = env_or("BENCH_STREAM_DELAY_MS", 10_000) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
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
        let (rss, at) = phase(&server, in_flight, false).await;
        println!(
            "{in_flight} runs (model latency 1 s): peak RSS {rss:.0} MiB, at most {at} in flight"
        );
        delay.store(stream_delay as usize, Ordering::SeqCst);
        let (rss, at) = phase(&server, streams, true).await;
        println!(
            "{streams} streamed runs (model latency {stream_delay} ms): peak RSS {rss:.0} MiB, \
                  at most {at} in flight"
        );
        println!("model calls served by the fake: {}", fake.request_count());
    });
}
