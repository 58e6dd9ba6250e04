//! Memory lists page after filtering, count documents in the store, and concurrent creates of
//! one entity's memory make one memory.

use crate::runs::Rig;
use baton_e2e::backends;
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn memory_store(rig: &Rig, key: &str) {
    let body = json!({"key": key, "description": "d",
                      "embedding_config": {"model": "openai/text-embedding-3-small"}});
    let (st, out) = rig
        .s
        .call(Method::POST, "/v2/memory-stores", Some(body))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
}

fn entities(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["entity_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn memory_lists_filter_before_paging_and_count_documents() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        memory_store(&rig, "people").await;
        // Matching and other entities interleaved, so a page cut before the filter comes up short.
        for i in 0..6 {
            for prefix in ["User_", "other_"] {
                let body = json!({"entity_id": format!("{prefix}{i}")});
                let (st, out) = rig
                    .s
                    .call(
                        Method::POST,
                        "/v2/memory-stores/people/memories",
                        Some(body),
                    )
                    .await;
                assert_eq!(st, StatusCode::CREATED, "{out}");
            }
        }
        for text in ["likes tea", "lives in Oslo"] {
            let (st, out) = rig
                .s
                .call(
                    Method::POST,
                    "/v2/memory-stores/people/memories/User_5/documents",
                    Some(json!({"text": text})),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{out}");
        }
        let path = "/v2/memory-stores/people/memories?q=user&limit=4";
        let (st, first) = rig.s.call(Method::GET, path, None).await;
        assert_eq!(st, StatusCode::OK, "{first}");
        assert_eq!(
            entities(&first),
            ["User_5", "User_4", "User_3", "User_2"],
            "{backend:?}: a full page of matches"
        );
        assert_eq!(first["has_more"], true);
        assert_eq!(first["data"][0]["documents_count"], 2);
        assert_eq!(first["data"][1]["documents_count"], 0);
        let last = first["data"][3]["_id"].as_str().unwrap();
        let (_, second) = rig
            .s
            .call(Method::GET, &format!("{path}&starting_after={last}"), None)
            .await;
        assert_eq!(entities(&second), ["User_1", "User_0"]);
        assert_eq!(second["has_more"], false, "{backend:?}: no more matches");
        let (_, one) = rig
            .s
            .call(
                Method::GET,
                "/v2/memory-stores/people/memories/User_5",
                None,
            )
            .await;
        assert_eq!(one["documents_count"], 2);
    }
}

#[tokio::test]
async fn concurrent_memory_creates_make_one_memory() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        memory_store(&rig, "race").await;
        let creates = (0..12).map(|_| {
            rig.s.call(
                Method::POST,
                "/v2/memory-stores/race/memories",
                Some(json!({"entity_id": "u1"})),
            )
        });
        let statuses: Vec<StatusCode> = join_all(creates).await.into_iter().map(|r| r.0).collect();
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let conflicts = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((created, conflicts), (1, 11), "{backend:?}: {statuses:?}");
        // Documents for a new entity create its memory on the way: concurrently, still one.
        let writes = (0..12).map(|i| {
            rig.s.call(
                Method::POST,
                "/v2/memory-stores/race/memories/u2/documents",
                Some(json!({"text": format!("fact {i}")})),
            )
        });
        for (st, out) in join_all(writes).await {
            assert_eq!(st, StatusCode::CREATED, "{backend:?}: {out}");
        }
        let (_, list) = rig
            .s
            .call(
                Method::GET,
                "/v2/memory-stores/race/memories?limit=50",
                None,
            )
            .await;
        assert_eq!(entities(&list), ["u2", "u1"], "{backend:?}");
        assert_eq!(list["data"][0]["documents_count"], 12);
    }
}
