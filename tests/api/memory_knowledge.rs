//! Memory stores (per-entity isolation, persistence across tasks) and knowledge bases (search
//! quality on a fixture corpus, keyword / vector / hybrid, filters), through the API and agents.

use crate::runs::{user, Rig};
use baton_e2e::{backends, Backend};
use baton_testkit::{SeenRequest, Turn};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

const EMBEDDER: &str = "openai/text-embedding-3-small";

fn last_tool_result(req: &SeenRequest) -> Value {
    let messages = req.body["messages"].as_array().unwrap();
    let content = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .unwrap_or_default();
    serde_json::from_str(&content).unwrap_or(Value::String(content))
}

/// The text of the last user message of an OpenAI-form request.
fn user_text(req: &SeenRequest) -> String {
    req.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn memories_belong_to_one_entity_and_outlive_the_task() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        let (st, store) = rig
            .s
            .call(
                Method::POST,
                "/v2/memory-stores",
                Some(
                    json!({"key": "customers", "description": "What customers told us",
                    "embedding_config": {"model": EMBEDDER}, "path": "Default"}),
                ),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{store}");
        assert_eq!(store["embedding_config"]["model"], EMBEDDER);
        rig.agent(
            "concierge",
            "openai/gpt-4o",
            json!({"memory_stores": ["customers"],
                   "settings": {"tools": [{"type": "write_memory_store"}, {"type": "query_memory_store"},
                                          {"type": "delete_memory_document"}]}}),
        )
        .await;
        // The model writes what the user says with "remember", queries otherwise.
        rig.openai.set_responder(Arc::new(|req: &SeenRequest| {
            if req.tool_results > 0 {
                return Turn::text(last_tool_result(req).to_string());
            }
            let text = user_text(req);
            if let Some(fact) = text.strip_prefix("remember: ") {
                Turn::tool_calls(vec![("write_memory_store", json!({"text": fact}))])
            } else if let Some(id) = text.strip_prefix("forget: ") {
                Turn::tool_calls(vec![("delete_memory_document", json!({"document_id": id}))])
            } else {
                Turn::tool_calls(vec![("query_memory_store", json!({"query": text}))])
            }
        }));
        let run = |entity: Option<&str>, text: &str| {
            let mut body = json!({"message": user(text)});
            if let Some(e) = entity {
                body["memory"] = json!({"entity_id": e});
            }
            let rig = &rig;
            async move {
                let (st, out) = rig.respond("concierge", body).await;
                assert_eq!(st, StatusCode::OK, "{out}");
                assert_eq!(out["status"]["state"], "completed", "{out}");
                let text = out["output"].as_array().unwrap().last().unwrap()["parts"][0]["text"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))
            }
        };
        let written = run(
            Some("customer_a"),
            "remember: prefers vegetarian food and window seats",
        )
        .await;
        assert_eq!(written["stored"], true, "{written}");
        let doc_id = written["document_id"].as_str().unwrap().to_owned();
        run(Some("customer_b"), "remember: allergic to peanuts").await;

        // A new task for the same entity finds its memory; the other entity's is invisible.
        let a = run(Some("customer_a"), "what food does this customer prefer").await;
        let a_docs = a["documents"].as_array().unwrap();
        assert_eq!(a_docs.len(), 1, "{a}");
        assert!(a_docs[0]["text"].as_str().unwrap().contains("vegetarian"));
        let b = run(Some("customer_b"), "what food does this customer prefer").await;
        let b_texts: Vec<&str> = b["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["text"].as_str().unwrap())
            .collect();
        assert!(b_texts.iter().all(|t| !t.contains("vegetarian")), "{b}");
        let stranger = run(Some("customer_c"), "vegetarian food").await;
        assert_eq!(stranger["documents"], json!([]), "{stranger}");
        // Another entity cannot delete it, and a run without an entity gets a clear error.
        let denied = run(Some("customer_b"), &format!("forget: {doc_id}")).await;
        assert!(
            denied["error"].as_str().unwrap().contains("no document"),
            "{denied}"
        );
        let anonymous = run(None, "vegetarian food").await;
        assert!(
            anonymous["error"]
                .as_str()
                .unwrap()
                .contains("memory.entity_id"),
            "{anonymous}"
        );

        // The same memories through the API.
        let (st, memory) = rig
            .s
            .call(
                Method::GET,
                "/v2/memory-stores/customers/memories/customer_a",
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{memory}");
        assert_eq!(memory["documents_count"], 1);
        let (_, docs) = rig
            .s
            .call(
                Method::GET,
                "/v2/memory-stores/customers/memories/customer_a/documents",
                None,
            )
            .await;
        assert_eq!(docs["data"][0]["_id"], doc_id.as_str());
        let (st, _) = rig
            .s
            .call(
                Method::GET,
                "/v2/memory-stores/customers/memories/customer_c",
                None,
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = rig
            .s
            .call(
                Method::GET,
                &format!("/v2/memory-stores/customers/memories/customer_b/documents/{doc_id}"),
                None,
            )
            .await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "a document is reachable only under its entity"
        );
        let forgotten = run(Some("customer_a"), &format!("forget: {doc_id}")).await;
        assert_eq!(forgotten["deleted"], true, "{forgotten}");
        let (_, memory) = rig
            .s
            .call(
                Method::GET,
                "/v2/memory-stores/customers/memories/customer_a",
                None,
            )
            .await;
        assert_eq!(memory["documents_count"], 0);
        assert!(
            rig.openai.embedded_count() >= 2,
            "documents and queries were embedded"
        );
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn memory_store_api_validates_and_manages_memories() {
    let rig = Rig::start(Backend::Sqlite).await;
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/v2/memory-stores",
            Some(json!({"key": "m", "description": "d"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["error"]["param"], "embedding_config", "{out}");
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/v2/memory-stores",
            Some(json!({"key": "m", "description": "d",
            "embedding_config": {"model": "no-provider"}})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["error"]["param"], "embedding_config.model", "{out}");
    let body = json!({"key": "m", "description": "d", "embedding_config": {"model": EMBEDDER}});
    let (st, _) = rig
        .s
        .call(Method::POST, "/v2/memory-stores", Some(body.clone()))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = rig
        .s
        .call(Method::POST, "/v2/memory-stores", Some(body))
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, mem) = rig
        .s
        .call(
            Method::POST,
            "/v2/memory-stores/m/memories",
            Some(json!({"entity_id": "u1", "metadata": {"tier": "gold"}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{mem}");
    assert_eq!(mem["metadata"]["tier"], "gold");
    let (st, _) = rig
        .s
        .call(
            Method::POST,
            "/v2/memory-stores/m/memories",
            Some(json!({"entity_id": "u1"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, doc) = rig
        .s
        .call(
            Method::POST,
            "/v2/memory-stores/m/memories/u1/documents",
            Some(json!({"text": "likes jazz", "metadata": {"source": "chat"}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{doc}");
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/v2/memory-stores/m/memories/u1/documents",
            Some(json!({"text": "x", "metadata": {"n": 1}})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["error"]["param"], "metadata.n");
    let id = doc["_id"].as_str().unwrap();
    let (st, doc) = rig
        .s
        .call(
            Method::PATCH,
            &format!("/v2/memory-stores/m/memories/u1/documents/{id}"),
            Some(json!({"text": "likes blues"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");
    assert_eq!(doc["text"], "likes blues");
    let (_, list) = rig.s.call(Method::GET, "/v2/memory-stores", None).await;
    assert_eq!(list["data"][0]["key"], "m");
    let (st, _) = rig
        .s
        .call(Method::DELETE, "/v2/memory-stores/m/memories/u1", None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = rig
        .s
        .call(
            Method::GET,
            &format!("/v2/memory-stores/m/memories/u1/documents/{id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = rig
        .s
        .call(Method::DELETE, "/v2/memory-stores/m", None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
}

/// A small corpus: each chunk about one thing, and the query that should find it first.
fn corpus() -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({"text": "Refunds: we refund returned items within 14 days of receiving them, to the original payment method.", "metadata": {"topic": "billing", "year": 2024}}),
            "how many days until I get my refund",
        ),
        (
            json!({"text": "Shipping: orders ship from our Rotterdam warehouse; standard delivery takes 3 to 5 business days.", "metadata": {"topic": "shipping", "year": 2024}}),
            "how long does delivery take",
        ),
        (
            json!({"text": "Passwords: reset your password from the login page with the 'Forgot password' link; the link expires after one hour.", "metadata": {"topic": "account", "year": 2023}}),
            "I forgot my password",
        ),
        (
            json!({"text": "Warranty: hardware carries a two-year warranty covering manufacturing defects, not accidental damage.", "metadata": {"topic": "warranty", "year": 2022}}),
            "is accidental damage covered by the warranty",
        ),
        (
            json!({"text": "Invoices: business customers can download VAT invoices as PDF from the billing section of their account.", "metadata": {"topic": "billing", "year": 2023}}),
            "where can I download a VAT invoice",
        ),
        (
            json!({"text": "Support hours: our support team answers chat and phone from 8:00 to 20:00 CET, Monday to Saturday.", "metadata": {"topic": "support", "year": 2024}}),
            "when is the support team available on chat",
        ),
    ]
}

async fn knowledge_base(rig: &Rig, key: &str, embedding: bool) -> String {
    let mut body = json!({"key": key, "path": "Default", "description": "Help center"});
    if embedding {
        body["embedding_model"] = json!(EMBEDDER);
    }
    let (st, kb) = rig.s.call(Method::POST, "/v2/knowledge", Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{kb}");
    let id = kb["_id"].as_str().unwrap().to_owned();
    let (st, ds) = rig
        .s
        .call(
            Method::POST,
            &format!("/v2/knowledge/{id}/datasources"),
            Some(json!({"display_name": "FAQ"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{ds}");
    let ds = ds["_id"].as_str().unwrap();
    let chunks: Vec<Value> = corpus().into_iter().map(|(c, _)| c).collect();
    let (st, created) = rig
        .s
        .call(
            Method::POST,
            &format!("/v2/knowledge/{id}/datasources/{ds}/chunks"),
            Some(Value::Array(chunks)),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{created}");
    assert_eq!(created.as_array().unwrap().len(), 6);
    id
}

async fn search(rig: &Rig, kb: &str, body: Value) -> (StatusCode, Value) {
    rig.s
        .call(
            Method::POST,
            &format!("/v2/knowledge/{kb}/search"),
            Some(body),
        )
        .await
}

#[tokio::test]
async fn knowledge_search_ranks_the_relevant_chunk_first() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        let keyword = knowledge_base(&rig, "faq-keyword", false).await;
        let embedded = knowledge_base(&rig, "faq-hybrid", true).await;
        for (kb, modes) in [
            (&keyword, vec![None, Some("keyword_search")]),
            (
                &embedded,
                vec![
                    None,
                    Some("hybrid_search"),
                    Some("vector_search"),
                    Some("keyword_search"),
                ],
            ),
        ] {
            for mode in modes {
                for (chunk, query) in corpus() {
                    let mut body = json!({"query": query, "top_k": 3});
                    if let Some(m) = mode {
                        body["search_type"] = json!(m);
                    }
                    let (st, out) = search(&rig, kb, body).await;
                    assert_eq!(st, StatusCode::OK, "{out}");
                    let first = &out["matches"][0];
                    assert_eq!(
                        first["text"], chunk["text"],
                        "{mode:?} `{query}` ranked: {out}"
                    );
                    let score = first["scores"]["search_score"].as_f64().unwrap();
                    assert!(score > 0.0 && score <= 1.0, "{score}");
                    assert_eq!(first["metadata"]["topic"], chunk["metadata"]["topic"]);
                }
            }
        }
        // Filters narrow, thresholds cut, nothing matches nonsense by keyword.
        let (_, out) = search(
            &rig,
            &keyword,
            json!({"query": "billing invoices refunds", "top_k": 10,
            "filter_by": {"and": [{"topic": {"eq": "billing"}}, {"year": {"gte": 2024}}]}}),
        )
        .await;
        let texts: Vec<&str> = out["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts.len(), 1, "{out}");
        assert!(texts[0].starts_with("Refunds"));
        let (_, out) = search(
            &rig,
            &keyword,
            json!({"query": "zebra quantum", "top_k": 5}),
        )
        .await;
        assert_eq!(out["matches"], json!([]));
        let (_, out) = search(
            &rig,
            &keyword,
            json!({"query": "warranty", "threshold": 0.99}),
        )
        .await;
        assert_eq!(out["matches"], json!([]), "{out}");
        // Disabled chunks are not searched.
        let (_, ds) = rig
            .s
            .call(
                Method::GET,
                &format!("/v2/knowledge/{keyword}/datasources"),
                None,
            )
            .await;
        let ds = ds["data"][0]["_id"].as_str().unwrap().to_owned();
        assert_eq!(
            rig.s
                .call(
                    Method::GET,
                    &format!("/v2/knowledge/{keyword}/datasources/{ds}"),
                    None
                )
                .await
                .1["chunks_count"],
            6
        );
        let (_, out) = search(
            &rig,
            &keyword,
            json!({"query": "warranty accidental damage"}),
        )
        .await;
        let chunk = out["matches"][0]["id"].as_str().unwrap().to_owned();
        let (st, _) = rig
            .s
            .call(
                Method::PATCH,
                &format!("/v2/knowledge/{keyword}/datasources/{ds}/chunks/{chunk}"),
                Some(json!({"enabled": false})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (_, out) = search(
            &rig,
            &keyword,
            json!({"query": "warranty accidental damage"}),
        )
        .await;
        assert!(
            out["matches"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["id"] != chunk.as_str()),
            "{out}"
        );
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn text_datasources_are_chunked_and_bad_input_is_named() {
    let rig = Rig::start(Backend::Sqlite).await;
    let (_, kb) = rig
        .s
        .call(
            Method::POST,
            "/v2/knowledge",
            Some(json!({"key": "manual", "path": "Default", "embedding_model": EMBEDDER})),
        )
        .await;
    let kb = kb["_id"].as_str().unwrap().to_owned();
    let filler =
        "This paragraph describes routine maintenance of the machine in general terms. ".repeat(12);
    let text = format!("{filler}\n\nCalibration: hold the blue button for five seconds until the lamp blinks twice.\n\n{filler}\n\n{filler}");
    let (st, ds) = rig
        .s
        .call(
            Method::POST,
            &format!("/v2/knowledge/{kb}/datasources"),
            Some(json!({"display_name": "Manual", "text": text})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{ds}");
    let count = ds["chunks_count"].as_u64().unwrap();
    assert!(count >= 3, "{ds}");
    let (_, chunks) = rig
        .s
        .call(
            Method::GET,
            &format!(
                "/v2/knowledge/{kb}/datasources/{}/chunks",
                ds["_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    for c in chunks["data"].as_array().unwrap() {
        assert!(c["text"].as_str().unwrap().chars().count() <= 1000, "{c}");
    }
    let (_, out) = search(
        &rig,
        &kb,
        json!({"query": "how do I calibrate with the blue button"}),
    )
    .await;
    assert!(
        out["matches"][0]["text"]
            .as_str()
            .unwrap()
            .contains("blue button"),
        "{out}"
    );

    for (body, param) in [
        (
            json!({"key": "x", "path": "p", "retrieval_settings": {"retrieval_type": "magic"}}),
            "retrieval_settings.retrieval_type",
        ),
        (
            json!({"key": "x", "path": "p", "embedding_model": "nope"}),
            "embedding_model",
        ),
        (json!({"key": "1x", "path": "p"}), "key"),
    ] {
        let (st, out) = rig.s.call(Method::POST, "/v2/knowledge", Some(body)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
        assert_eq!(out["error"]["param"], param, "{out}");
    }
    let (_, plain) = rig
        .s
        .call(
            Method::POST,
            "/v2/knowledge",
            Some(json!({"key": "plain", "path": "p"})),
        )
        .await;
    let plain = plain["_id"].as_str().unwrap().to_owned();
    for (body, param) in [
        (
            json!({"query": "x", "search_type": "vector_search"}),
            "search_type",
        ),
        (
            json!({"query": "x", "filter_by": {"topic": {"like": "b%"}}}),
            "filter_by",
        ),
        (json!({"query": "x", "top_k": 0}), "top_k"),
        (json!({"query": ""}), "query"),
    ] {
        let (st, out) = search(&rig, &plain, body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
        assert_eq!(out["error"]["param"], param, "{out}");
    }
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            &format!("/v2/knowledge/{plain}/datasources/nope/chunks"),
            Some(json!({"text": "x"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
}

#[tokio::test]
async fn agents_ground_answers_in_their_knowledge_bases() {
    let rig = Rig::start(Backend::Sqlite).await;
    knowledge_base(&rig, "help-center", true).await;
    rig.agent(
        "support",
        "openai/gpt-4o",
        json!({"knowledge_bases": [{"knowledge_id": "help-center"}]}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![(
        "retrieve_knowledge_bases",
        json!({}),
    )]));
    rig.openai.push(Turn::tool_calls(vec![(
        "query_knowledge_base",
        json!({"query": "how long does delivery take"}),
    )]));
    rig.openai.push(Turn::text("3 to 5 business days."));
    let (st, body) = rig
        .respond("support", json!({"message": user("Delivery time?")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let requests = rig.openai.requests();
    let offered: Vec<&str> = requests[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(
        offered.contains(&"query_knowledge_base") && offered.contains(&"retrieve_knowledge_bases"),
        "{offered:?}"
    );
    let tool = |i: usize| -> Value {
        let m = requests[i]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["role"] == "tool")
            .unwrap();
        serde_json::from_str(m["content"].as_str().unwrap()).unwrap()
    };
    assert_eq!(tool(1)["knowledge_bases"][0]["key"], "help-center");
    assert!(
        tool(2)["matches"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Shipping"),
        "{}",
        tool(2)
    );
}
