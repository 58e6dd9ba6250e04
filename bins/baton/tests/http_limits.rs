//! A real `baton serve` process under abuse any credential (or none) can send: floods of stream
//! requests for unknown tasks must not grow its memory, thousands of connections that send
//! their headers slowly must not keep `/healthz` from answering, and connections (HTTP/1.1 or
//! HTTP/2) beyond the cap are turned away with a 503 their client can read; an idle HTTP/2
//! connection is told so (a GOAWAY) before it is closed.
//!
//! The two floods are slow stress tests, ignored by default; CI runs them with `--ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use futures_util::stream::{self, StreamExt};
use serde_json::json;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

const KEY: &str = "http-limits-key";

/// Kills the server when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(dir: &Path, config: &str) -> (Running, String) {
    let (child, url) = baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir)
        .config(config)
        .env("RUST_LOG", "error")
        .spawn();
    (Running(child), url)
}

/// Resident memory of a process in KiB, from `/proc/<pid>/status`.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// `n` stream requests for tasks that do not exist, 64 at a time; each must be a 404.
async fn unknown_task_streams(client: &reqwest::Client, url: &str, from: usize, n: usize) {
    stream::iter(from..from + n)
        .for_each_concurrent(64, |i| async move {
            let resp = client
                .get(format!(
                    "{url}/v2/agents/streamer/responses/no-such-task-{i}/stream"
                ))
                .bearer_auth(KEY)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 404, "task {i}");
            resp.bytes().await.unwrap();
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress test: 20,000 requests; CI runs it with --ignored"]
async fn streams_of_unknown_tasks_do_not_grow_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url) = start_server(dir.path(), "");
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{url}/v2/agents"))
        .bearer_auth(KEY)
        .json(
            &json!({"key": "streamer", "role": "r", "description": "d", "instructions": "i",
                      "path": "Default", "model": "openai/gpt-4o"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let pid = server.0.id();
    // Warm up: connection pools, allocator arenas and caches reach their working size.
    unknown_task_streams(&client, &url, 0, 2_000).await;
    let before = rss_kib(pid);
    let started = Instant::now();
    tokio::time::timeout(
        Duration::from_secs(150),
        unknown_task_streams(&client, &url, 2_000, 20_000),
    )
    .await
    .expect("20,000 requests within 150 s");
    let after = rss_kib(pid);
    let growth = after.saturating_sub(before);
    eprintln!(
        "RSS {before} KiB -> {after} KiB (+{growth} KiB) over 20,000 requests in {:?}",
        started.elapsed()
    );
    assert!(
        growth < 5 * 1024,
        "RSS grew by {growth} KiB over 20,000 stream requests for unknown tasks"
    );
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut tokio::net::TcpStream, within: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut got)).await {
        Ok(Ok(_)) => Some(String::from_utf8_lossy(&got).into_owned()),
        // A reset is a close too.
        Ok(Err(_)) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

/// An HTTP/1.1 client that opens a new connection for each request, as a new client would, and
/// gives up on a request after five seconds (a client that waited on a connection for good would
/// hang the test instead of failing it).
fn new_connection_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn healthz_ms(url: &str) -> u128 {
    let client = new_connection_client();
    let started = Instant::now();
    let resp = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    started.elapsed().as_millis()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress test: 2,000 slow connections; CI runs it with --ignored"]
async fn slow_headers_are_cut_off_while_healthz_keeps_answering() {
    use tokio::io::AsyncWriteExt;
    // This process holds the 2,000 client ends.
    baton::raise_open_file_limit();
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = start_server(dir.path(), "[server]\nheader_read_timeout_s = 3\n");
    let addr = url.trim_start_matches("http://").to_owned();
    let opened = Instant::now();
    let mut slow = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        stream.write_all(b"GET /healthz HT").await.unwrap();
        slow.push(stream);
    }
    let all_open = Instant::now();
    eprintln!("2,000 slow connections open in {:?}", opened.elapsed());
    // While they trickle their request lines one byte at a time, /healthz answers at once.
    let mut worst = 0;
    for _ in 0..10 {
        for stream in &mut slow {
            let _ = stream.write_all(b"T").await;
        }
        worst = worst.max(healthz_ms(&url).await);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    eprintln!("slowest /healthz beside 2,000 slow connections: {worst} ms");
    assert!(worst < 1_000, "/healthz took {worst} ms");
    // The header timeout (3 s) closes every one of them: the last opened is closed 3 s after it
    // opened, so the deadline counts from there (opening 2,000 takes seconds on a busy machine).
    let deadline = all_open + Duration::from_secs(8);
    let mut closed = 0;
    for stream in &mut slow {
        let left = deadline.saturating_duration_since(Instant::now());
        if read_to_close(stream, left.max(Duration::from_millis(10)))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    eprintln!("closed {closed} of 2,000 within {:?}", opened.elapsed());
    assert_eq!(closed, 2_000, "slow connections left open");
    assert!(healthz_ms(&url).await < 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_get_a_quick_503() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = start_server(
        dir.path(),
        "[server]\nheader_read_timeout_s = 1.5\nmax_connections = 20\n",
    );
    let addr = url.trim_start_matches("http://").to_owned();
    // Twenty silent connections take every place.
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let answer = read_to_close(&mut extra, Duration::from_secs(1))
        .await
        .expect("the server closes a connection beyond its cap at once");
    assert!(
        answer.starts_with("HTTP/1.1 503") && answer.contains("too many connections"),
        "{answer:?}"
    );
    // Silent connections are closed by the header timeout; then there is room again.
    for stream in &mut silent {
        assert!(read_to_close(stream, Duration::from_secs(5))
            .await
            .is_some());
    }
    assert!(healthz_ms(&url).await < 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_connection_counts_against_the_cap_until_it_idles() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = start_server(
        dir.path(),
        "[server]\nheader_read_timeout_s = 2\nmax_connections = 1\n",
    );
    let addr = url.trim_start_matches("http://").to_owned();
    // Every request is bounded: a client that waited on a connection for good would hang the
    // test instead of failing it.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let resp = h2.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status().as_u16(), 200);
    let idle_since = Instant::now();
    // The HTTP/2 connection takes the only place.
    let mut extra = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let answer = read_to_close(&mut extra, Duration::from_secs(1))
        .await
        .expect("the server closes a connection beyond its cap at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    // With no request open for the header timeout, the server closes it (the client, which
    // would keep it, is still alive): there is room again.
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let client = new_connection_client();
        // A 503, or a reset while the server is still at its cap, means: not yet.
        let sent = client.get(format!("{url}/healthz")).send().await;
        if sent.is_ok_and(|r| r.status().as_u16() == 200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the idle HTTP/2 connection kept its place"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let idle_for = idle_since.elapsed();
    assert!(
        idle_for >= Duration::from_millis(1_900),
        "closed after {idle_for:?}"
    );
    // The client opens a new connection for its next request (once the server has seen the
    // last HTTP/1.1 one close: until then the cap turns it away).
    let mut tries = 0;
    let resp = loop {
        match h2.get(format!("{url}/healthz")).send().await {
            Ok(resp) => break resp,
            Err(e) if tries < 20 => {
                tries += 1;
                eprintln!("HTTP/2 reconnect: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("HTTP/2 reconnect: {e}"),
        }
    };
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_beyond_the_cap_reads_a_503_for_its_request() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = start_server(
        dir.path(),
        "[server]\nheader_read_timeout_s = 30\nmax_connections = 1\n",
    );
    let addr = url.trim_start_matches("http://").to_owned();
    // A silent connection holds the only place.
    let _silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Clients that write their request as soon as they connect (hyper's does) must each read the
    // 503 as the answer to it: answered before its request, a client takes the connection for
    // broken ("unexpected message") or waits on it.
    for i in 0..40 {
        let client = new_connection_client();
        let resp = client
            .post(format!("{url}/v2/agents"))
            .json(&json!({"key": "beyond-the-cap", "padding": "x".repeat(i * 100)}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i} beyond the cap: {e:?}"));
        assert_eq!(resp.status().as_u16(), 503, "request {i}");
        assert_eq!(resp.headers()["retry-after"], "1");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http2_connection_is_sent_a_goaway_before_it_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = start_server(dir.path(), "[server]\nheader_read_timeout_s = 1\n");
    let addr = url.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // The preface and an empty SETTINGS frame; then nothing, not even a PING's acknowledgement.
    conn.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let opened = Instant::now();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut got))
        .await
        .expect("the server closes an idle HTTP/2 connection")
        .unwrap();
    let took = opened.elapsed();
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    // Frame types in order: each frame is a 9-byte header (24-bit length, type, flags, stream).
    let mut types = Vec::new();
    let mut at = 0;
    while at + 9 <= got.len() {
        let len =
            usize::from(got[at]) << 16 | usize::from(got[at + 1]) << 8 | usize::from(got[at + 2]);
        types.push(got[at + 3]);
        at += 9 + len;
    }
    const GOAWAY: u8 = 0x7;
    assert!(
        types.contains(&GOAWAY),
        "closed without a GOAWAY; frame types sent: {types:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_half_preface_connections_are_cut_off() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = start_server(dir.path(), "[server]\nheader_read_timeout_s = 1\n");
    let addr = url.trim_start_matches("http://").to_owned();
    let opened = Instant::now();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    for stream in [&mut silent, &mut half] {
        assert!(
            read_to_close(stream, Duration::from_secs(4))
                .await
                .is_some(),
            "a connection that never sent its first request was left open"
        );
    }
    let took = opened.elapsed();
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
}
