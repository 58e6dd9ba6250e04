//! A real `baton serve` speaks cleartext HTTP/2 (prior knowledge) beside HTTP/1.1 on one
//! listener: an HTTP/2 client creates an agent, runs it, and carries several streamed runs at
//! once over a single connection, while an HTTP/1.1 client keeps working on the same port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::read_sse;
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::json;
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "http2-key";

/// Kills the server when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Established TCP connections whose local end is `port` on this machine: the server's side of
/// its client connections (the clients' sides have the port as their remote end).
fn server_side_connections(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields[1].rsplit(':').next().unwrap();
            u16::from_str_radix(local_port, 16).unwrap() == port && fields[3] == "01"
        })
        .count()
}

fn user(text: &str) -> serde_json::Value {
    json!({"role": "user", "parts": [{"kind": "text", "text": text}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_and_concurrent_streams_share_one_http2_connection() {
    const STREAMS: usize = 8;
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    // Long enough that every stream is still open when the connections are counted.
    fake.set_responder(Arc::new(|_: &SeenRequest| {
        Turn::text("Done.").with_delay(Duration::from_millis(1500))
    }));
    let dir = tempfile::tempdir().unwrap();
    let (child, url) = baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir.path())
        .model(&fake.base_url())
        .env("RUST_LOG", "error")
        .spawn();
    let _server = Running(child);
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();

    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let resp = h2
        .post(format!("{url}/v2/agents"))
        .bearer_auth(KEY)
        .json(
            &json!({"key": "h2", "role": "r", "description": "d", "instructions": "i",
                      "path": "Default", "model": "openai/gpt-4o"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);

    let resp = h2
        .post(format!("{url}/v2/agents/h2/responses"))
        .bearer_auth(KEY)
        .json(&json!({"message": user("hello")}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status().as_u16(), 200);
    let run: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(run["status"]["state"], "completed", "{run}");

    // Every stream's response headers are in before any model answer (1.5 s) is.
    let mut streams = Vec::new();
    for i in 0..STREAMS {
        let resp = h2
            .post(format!("{url}/v2/agents/h2/responses"))
            .bearer_auth(KEY)
            .json(&json!({"message": user(&format!("stream {i}")), "stream": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        assert_eq!(resp.status().as_u16(), 200);
        streams.push(resp);
    }
    assert_eq!(
        server_side_connections(port),
        1,
        "{STREAMS} open streams should share one connection"
    );
    let events =
        futures_util::future::join_all(streams.into_iter().map(|r| read_sse(r, 1000))).await;
    for events in events {
        let kinds: Vec<String> = events.iter().map(|e| e.kind()).collect();
        assert_eq!(kinds.first().map(String::as_str), Some("response.started"));
        assert_eq!(
            kinds.last().map(String::as_str),
            Some("[DONE]"),
            "{kinds:?}"
        );
        assert!(kinds.iter().any(|k| k == "response.done"), "{kinds:?}");
    }
    assert_eq!(fake.request_count(), 1 + STREAMS);

    // HTTP/1.1 on the same listener, as before.
    let resp = reqwest::Client::builder()
        .http1_only()
        .build()
        .unwrap()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    assert_eq!(resp.status().as_u16(), 200);
}
