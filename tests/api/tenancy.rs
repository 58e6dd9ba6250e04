//! Tenants: admin-managed API keys, isolation of every object between projects (404, never
//! 403), `x-tenant-id`, revocation, and JWTs (HS256 and RS256).

use crate::runs::{user, Rig};
use baton_e2e::{Backend, Options, API_KEY};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn as_key(
    rig: &Rig,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    rig.s.call_as(Some(key), method, path, body).await
}

async fn new_key(rig: &Rig, project: &str) -> String {
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/v2/api-keys",
            Some(json!({"name": format!("{project} key"), "project_id": project})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    assert!(out["key"].as_str().unwrap().starts_with("baton_sk_"));
    out["key"].as_str().unwrap().to_owned()
}

/// Everything project B owns, made through B's key.
struct Owned {
    tool: String,
    task: String,
    trace: String,
    doc: String,
    kb: String,
    ds: String,
    chunk: String,
    schedule: String,
}

async fn populate(rig: &Rig, key: &str) -> Owned {
    let call = |m: Method, p: &str, b: Option<Value>| {
        let (rig, key, p) = (rig, key.to_owned(), p.to_owned());
        async move {
            let (st, out) = as_key(rig, &key, m, &p, b).await;
            assert!(st.is_success(), "{p}: {st} {out}");
            out
        }
    };
    let tool = call(
        Method::POST,
        "/v2/tools",
        Some(crate::function_tool("b_weather")),
    )
    .await;
    call(
        Method::POST,
        "/v2/agents",
        Some(json!({"key": "b-agent", "role": "r", "description": "d",
        "instructions": "i", "path": "Default/agents", "model": "openai/gpt-4o",
        "settings": {"tools": [{"type": "current_date"}]}})),
    )
    .await;
    rig.openai.push(Turn::text("B's answer"));
    let run = call(
        Method::POST,
        "/v2/agents/b-agent/responses",
        Some(json!({"message": user("hi"),
        "thread": {"id": "b-thread"}})),
    )
    .await;
    call(
        Method::POST,
        "/v2/memory-stores",
        Some(json!({"key": "b-mem", "description": "d",
        "embedding_config": {"model": "openai/text-embedding-3-small"}, "path": "Default"})),
    )
    .await;
    let doc = call(
        Method::POST,
        "/v2/memory-stores/b-mem/memories/b-user/documents",
        Some(json!({"text": "B fact"})),
    )
    .await;
    let kb = call(
        Method::POST,
        "/v2/knowledge",
        Some(json!({"key": "b-kb", "path": "Default"})),
    )
    .await;
    let kb_id = kb["_id"].as_str().unwrap().to_owned();
    let ds = call(
        Method::POST,
        &format!("/v2/knowledge/{kb_id}/datasources"),
        Some(json!({"display_name": "B"})),
    )
    .await;
    let ds_id = ds["_id"].as_str().unwrap().to_owned();
    let chunks = call(
        Method::POST,
        &format!("/v2/knowledge/{kb_id}/datasources/{ds_id}/chunks"),
        Some(json!([{"text": "B secret plan"}])),
    )
    .await;
    let schedule = call(
        Method::POST,
        "/v3/agents/b-agent/schedules",
        Some(json!({"type": "cron", "expression": "@daily", "payload": {}})),
    )
    .await;
    Owned {
        tool: tool["_id"].as_str().unwrap().to_owned(),
        task: run["task_id"].as_str().unwrap().to_owned(),
        trace: run["telemetry"]["trace_id"].as_str().unwrap().to_owned(),
        doc: doc["_id"].as_str().unwrap().to_owned(),
        kb: kb_id,
        ds: ds_id,
        chunk: chunks[0]["_id"].as_str().unwrap().to_owned(),
        schedule: schedule["_id"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn one_project_cannot_see_or_touch_another_projects_objects() {
    let rig = Rig::start(Backend::Sqlite).await;
    let key_a = new_key(&rig, "team-a").await;
    let key_b = new_key(&rig, "team-b").await;
    let b = populate(&rig, &key_b).await;
    let t = &b.tool;
    let (kb, ds, chunk) = (&b.kb, &b.ds, &b.chunk);
    let body = Some(json!({}));
    let msg = Some(json!({"message": user("x")}));
    let every: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/v2/tools/{t}"), None),
        (Method::PATCH, format!("/v2/tools/{t}"), body.clone()),
        (Method::DELETE, format!("/v2/tools/{t}"), None),
        (Method::POST, format!("/v2/tools/{t}/invoke"), body.clone()),
        (Method::GET, "/v2/agents/b-agent".into(), None),
        (Method::PATCH, "/v2/agents/b-agent".into(), body.clone()),
        (Method::DELETE, "/v2/agents/b-agent".into(), None),
        (Method::GET, "/v2/agents/b-agent/versions".into(), None),
        (
            Method::POST,
            "/v2/agents/b-agent/responses".into(),
            msg.clone(),
        ),
        (
            Method::GET,
            format!("/v2/agents/b-agent/responses/{}", b.task),
            None,
        ),
        (
            Method::GET,
            format!("/v2/agents/b-agent/responses/{}/stream", b.task),
            None,
        ),
        (
            Method::POST,
            format!("/v2/agents/b-agent/responses/{}/cancel", b.task),
            None,
        ),
        (Method::GET, "/v2/memory-stores/b-mem".into(), None),
        (
            Method::PATCH,
            "/v2/memory-stores/b-mem".into(),
            body.clone(),
        ),
        (Method::DELETE, "/v2/memory-stores/b-mem".into(), None),
        (Method::GET, "/v2/memory-stores/b-mem/memories".into(), None),
        (
            Method::GET,
            "/v2/memory-stores/b-mem/memories/b-user".into(),
            None,
        ),
        (
            Method::GET,
            "/v2/memory-stores/b-mem/memories/b-user/documents".into(),
            None,
        ),
        (
            Method::GET,
            format!(
                "/v2/memory-stores/b-mem/memories/b-user/documents/{}",
                b.doc
            ),
            None,
        ),
        (
            Method::DELETE,
            format!(
                "/v2/memory-stores/b-mem/memories/b-user/documents/{}",
                b.doc
            ),
            None,
        ),
        (Method::GET, format!("/v2/knowledge/{kb}"), None),
        (Method::PATCH, format!("/v2/knowledge/{kb}"), body.clone()),
        (Method::DELETE, format!("/v2/knowledge/{kb}"), None),
        (
            Method::POST,
            format!("/v2/knowledge/{kb}/search"),
            Some(json!({"query": "plan"})),
        ),
        (Method::GET, format!("/v2/knowledge/{kb}/datasources"), None),
        (
            Method::GET,
            format!("/v2/knowledge/{kb}/datasources/{ds}"),
            None,
        ),
        (
            Method::GET,
            format!("/v2/knowledge/{kb}/datasources/{ds}/chunks"),
            None,
        ),
        (
            Method::GET,
            format!("/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}"),
            None,
        ),
        (Method::GET, "/v3/agents/b-agent/schedules".into(), None),
        (
            Method::GET,
            format!("/v3/agents/b-agent/schedules/{}", b.schedule),
            None,
        ),
        (
            Method::PATCH,
            format!("/v3/agents/b-agent/schedules/{}", b.schedule),
            Some(json!({"is_active": false})),
        ),
        (
            Method::POST,
            format!("/v3/agents/b-agent/schedules/{}/execution", b.schedule),
            None,
        ),
        (
            Method::GET,
            format!("/v3/agents/b-agent/schedules/{}/executions", b.schedule),
            None,
        ),
        (
            Method::DELETE,
            format!("/v3/agents/b-agent/schedules/{}", b.schedule),
            None,
        ),
        (Method::GET, format!("/v3/traces/{}", b.trace), None),
        (Method::GET, format!("/v3/traces/{}/spans", b.trace), None),
    ];
    for (method, path, body) in every {
        let (st, out) = as_key(&rig, &key_a, method.clone(), &path, body).await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "{method} {path} with another project's key: {out}"
        );
    }
    // Lists never mix tenants.
    let (from, to) = (
        (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
        (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
    );
    for (method, path, body) in [
        (Method::GET, "/v2/tools".to_owned(), None),
        (Method::GET, "/v2/agents".to_owned(), None),
        (Method::GET, "/v2/memory-stores".to_owned(), None),
        (Method::GET, "/v2/knowledge".to_owned(), None),
        (Method::GET, "/v2/threads/b-thread".to_owned(), None),
        (
            Method::POST,
            "/v3/traces/search".to_owned(),
            Some(json!({"from": from, "to": to})),
        ),
    ] {
        let (st, out) = as_key(&rig, &key_a, method, &path, body).await;
        let text = out.to_string();
        assert!(
            st == StatusCode::OK || st == StatusCode::NOT_FOUND,
            "{path}: {st} {out}"
        );
        for owned in [&b.tool, &b.task, &b.trace, &b.kb] {
            assert!(
                !text.contains(owned.as_str()),
                "{path} leaked {owned}: {out}"
            );
        }
        assert!(
            !text.contains("b-agent") && !text.contains("b-mem"),
            "{path}: {out}"
        );
    }
    // B still has everything (A's attempts changed nothing).
    let (st, _) = as_key(
        &rig,
        &key_b,
        Method::GET,
        &format!("/v2/tools/{}", b.tool),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = as_key(
        &rig,
        &key_b,
        Method::GET,
        &format!("/v3/agents/b-agent/schedules/{}", b.schedule),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn keys_are_admin_managed_shown_once_and_revocable() {
    let rig = Rig::start(Backend::Sqlite).await;
    let key_a = new_key(&rig, "team-a").await;
    // Non-admin keys cannot manage keys.
    let (st, out) = as_key(
        &rig,
        &key_a,
        Method::POST,
        "/v2/api-keys",
        Some(json!({"name": "x", "project_id": "team-a"})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{out}");
    let (_, list) = rig
        .s
        .call(Method::GET, "/v2/api-keys?project_id=team-a", None)
        .await;
    let listed = list["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].get("key").is_none() && !list.to_string().contains(&key_a),
        "{list}"
    );
    // x-tenant-id: the admin key acts in any project; a project key only in its own.
    as_key(
        &rig,
        &key_a,
        Method::POST,
        "/v2/tools",
        Some(crate::function_tool("a_tool")),
    )
    .await;
    let resp = rig
        .s
        .request(Method::GET, "/v2/tools/a_tool")
        .bearer_auth(API_KEY)
        .header("x-tenant-id", "team-a")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = rig
        .s
        .request(Method::GET, "/v2/tools")
        .bearer_auth(&key_a)
        .header("x-tenant-id", "team-b")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Revoked keys stop working at once.
    let id = listed[0]["_id"].as_str().unwrap();
    let (st, _) = rig
        .s
        .call(Method::DELETE, &format!("/v2/api-keys/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = as_key(&rig, &key_a, Method::GET, "/v2/tools", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

fn token(key: &jsonwebtoken::EncodingKey, alg: jsonwebtoken::Algorithm, claims: Value) -> String {
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, key).unwrap()
}

fn exp(seconds: i64) -> i64 {
    chrono::Utc::now().timestamp() + seconds
}

#[tokio::test]
async fn front_ends_authenticate_with_hs256_jwts_scoped_to_their_tenant() {
    let secret = "a-test-secret-of-at-least-32-bytes!!";
    let rig = Rig::start_with(
        Backend::Sqlite,
        Options::default().env("BATON_JWT_SECRET", secret),
    )
    .await;
    let key_b = new_key(&rig, "team-b").await;
    as_key(&rig, &key_b, Method::POST, "/v2/agents", Some(json!({"key": "b-agent", "role": "r",
        "description": "d", "instructions": "i", "path": "Default/agents", "model": "openai/gpt-4o"}))).await;
    let hs = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let alg = jsonwebtoken::Algorithm::HS256;
    let good = token(
        &hs,
        alg,
        json!({"sub": "user-7", "tenant": "team-b", "exp": exp(300), "scope": "read"}),
    );
    let (st, agents) = as_key(&rig, &good, Method::GET, "/v2/agents", None).await;
    assert_eq!(st, StatusCode::OK, "{agents}");
    assert_eq!(agents["data"][0]["key"], "b-agent");
    // The subject is the run's identity.
    rig.openai.push(Turn::text("hello user 7"));
    let (st, run) = as_key(
        &rig,
        &good,
        Method::POST,
        "/v2/agents/b-agent/responses",
        Some(json!({"message": user("hi")})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{run}");
    let (_, trace) = as_key(
        &rig,
        &good,
        Method::GET,
        &format!(
            "/v3/traces/{}",
            run["telemetry"]["trace_id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(trace["trace"]["identity_id"], "user-7", "{trace}");
    // Another tenant's token sees nothing of B.
    let other = token(
        &hs,
        alg,
        json!({"sub": "u", "tenant": "team-c", "exp": exp(300), "scope": "read"}),
    );
    let (st, _) = as_key(&rig, &other, Method::GET, "/v2/agents/b-agent", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    for (bad, why) in [
        (
            token(
                &hs,
                alg,
                json!({"sub": "u", "tenant": "team-b", "exp": exp(-3600)}),
            ),
            "expired",
        ),
        (
            token(&hs, alg, json!({"sub": "u", "exp": exp(300)})),
            "no tenant",
        ),
        (
            token(
                &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-xx"),
                alg,
                json!({"sub": "u", "tenant": "team-b", "exp": exp(300)}),
            ),
            "wrong key",
        ),
    ] {
        let (st, out) = as_key(&rig, &bad, Method::GET, "/v2/agents", None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{why}: {out}");
    }
}

#[tokio::test]
#[allow(clippy::disallowed_methods)] // openssl makes the test's RSA key pair
async fn rs256_jwts_are_checked_against_the_configured_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private.pem");
    let public = dir.path().join("public.pem");
    let ok = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&private)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is needed to make the test key pair")
        .success();
    assert!(ok);
    assert!(std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap()
        .success());
    let mut options = Options::default();
    options.auth.jwt_public_key_file = Some(public);
    options.auth.jwt_issuer = Some("https://login.example.com/".into());
    let rig = Rig::start_with(Backend::Sqlite, options).await;
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(&private).unwrap()).unwrap();
    let alg = jsonwebtoken::Algorithm::RS256;
    let good = token(
        &key,
        alg,
        json!({"sub": "u", "tenant": "team-r", "exp": exp(300),
        "iss": "https://login.example.com/", "scope": "read"}),
    );
    let (st, out) = as_key(&rig, &good, Method::GET, "/v2/agents", None).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let wrong_issuer = token(
        &key,
        alg,
        json!({"sub": "u", "tenant": "team-r", "exp": exp(300),
        "iss": "https://evil.example.com/"}),
    );
    let (st, _) = as_key(&rig, &wrong_issuer, Method::GET, "/v2/agents", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}
