//! Cost per turn as a task's history grows: `BENCH_TASKS` tasks (default 4), each continued
//! for `BENCH_TURNS` turns (default 200) of a ~1 KB user message and a ~1 KB answer, against
//! a real `baton serve` and a zero-latency testkit fake.
//!
//! ```sh
//! cargo build --release -p baton
//! cargo bench -p baton-e2e --bench history
//! BENCH_DATABASE=postgres cargo bench -p baton-e2e --bench history
//! ```
//! Prints the server's CPU time per turn (user + system, from /proc; the tasks' turns run side
//! by side, so each window of 10 turns is measured over 10 × `BENCH_TASKS` turns) and the
//! client's median turn time, per window, then the last window's CPU against the first's.
//! History is sent to the model whole every turn, so some growth is inherent; the rest is what
//! the server does with the stored history (loading and checkpointing it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::bench::{self, env_or, percentile, BenchDatabase, ServerProcess};
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WINDOW: usize = 10;

/// About 1 KB of text that differs per turn.
fn kilobyte(turn: usize) -> String {
    format!("turn {turn}: {}", "lorem ipsum dolor sit amet ".repeat(37))
}

/// One turn of a task (a new one when `task` is `None`); the task's id and the turn's time.
async fn turn(
    client: &reqwest::Client,
    url: &str,
    task: Option<String>,
    n: usize,
) -> (String, Duration) {
    let started = Instant::now();
    let mut body =
        json!({"message": {"role": "user", "parts": [{"kind": "text", "text": kilobyte(n)}]}});
    if let Some(task) = &task {
        body["task_id"] = json!(task);
    }
    let reply = bench::respond(client, url, "talker", &body).await;
    assert_eq!(reply["status"]["state"], "completed", "{reply}");
    (
        reply["task_id"].as_str().unwrap().to_owned(),
        started.elapsed(),
    )
}

fn main() {
    let turns = env_or("BENCH_TURNS", 200);
    let tasks = env_or("BENCH_TASKS", 4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let fake = FakeProvider::start(Flavor::OpenAi).await;
        fake.set_responder(Arc::new(|req: &SeenRequest| {
            let count = req.body["messages"].as_array().map_or(0, Vec::len);
            Turn::text(kilobyte(count))
        }));
        let db = BenchDatabase::from_env().await;
        let server = ServerProcess::start(&db, &fake.base_url());
        let client = bench::client(tasks);
        bench::create_agent(&client, &server.url, "talker", json!([])).await;
        println!(
            "{} on {}: {tasks} tasks × {turns} turns of ~1 KB messages",
            bench::server_binary().display(),
            db.backend()
        );
        let mut ids: Vec<Option<String>> = vec![None; tasks];
        let mut first_window = None;
        let mut last_window = 0.0;
        for window in 0..turns.div_ceil(WINDOW) {
            let cpu_before = bench::cpu_seconds(server.pid());
            let mut times = Vec::new();
            let mut done = 0;
            for n in window * WINDOW..((window + 1) * WINDOW).min(turns) {
                let rounds = ids.iter().cloned().map(|id| {
                    let (client, url) = (client.clone(), server.url.clone());
                    tokio::spawn(async move { turn(&client, &url, id, n).await })
                });
                let results: Vec<(String, Duration)> = futures_util::future::join_all(rounds)
                    .await
                    .into_iter()
                    .map(Result::unwrap)
                    .collect();
                for (slot, (id, time)) in ids.iter_mut().zip(results) {
                    *slot = Some(id);
                    times.push(time);
                }
                done += tasks;
            }
            let cpu_per_turn = (bench::cpu_seconds(server.pid()) - cpu_before) / done as f64 * 1e3;
            times.sort();
            println!(
                "turns {:>3}-{:>3}: server CPU {cpu_per_turn:.2} ms per turn, p50 {:.2} ms",
                window * WINDOW + 1,
                ((window + 1) * WINDOW).min(turns),
                percentile(&times, 0.5).as_secs_f64() * 1e3
            );
            first_window.get_or_insert(cpu_per_turn);
            last_window = cpu_per_turn;
        }
        let first = first_window.unwrap_or_default();
        println!(
            "CPU per turn, last window / first: {:.2}×",
            last_window / first
        );
        println!(
            "server RSS {:.0} MiB",
            bench::memory_mib(server.pid(), "VmRSS")
        );
    });
}
