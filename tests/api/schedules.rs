//! Schedules: every expression form and rejection, PATCH semantics, once deactivation, manual
//! execution, missed firings, execution history, Orchestra's form.

use crate::runs::{user, Rig};
use baton::SchedulerFileConfig;
use baton_e2e::{backends, Backend, Options};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// A scheduler that allows second-granular test schedules and looks every 50 ms.
fn fast(enabled: bool) -> SchedulerFileConfig {
    SchedulerFileConfig {
        enabled: Some(enabled),
        min_interval_s: Some(1),
        poll_ms: Some(50),
        grace_s: Some(2),
    }
}

async fn rig(backend: Backend, scheduler: Option<SchedulerFileConfig>) -> Rig {
    let mut options = Options::default();
    if let Some(s) = scheduler {
        options = options.scheduler(s);
    }
    let rig = Rig::start_with(backend, options).await;
    rig.agent("digest", "openai/gpt-4o", json!({})).await;
    rig
}

async fn create(rig: &Rig, body: Value) -> (StatusCode, Value) {
    rig.s
        .call(Method::POST, "/v3/agents/digest/schedules", Some(body))
        .await
}

async fn get(rig: &Rig, id: &str) -> Value {
    let (st, s) = rig
        .s
        .call(
            Method::GET,
            &format!("/v3/agents/digest/schedules/{id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
    s
}

async fn patch(rig: &Rig, id: &str, body: Value) -> (StatusCode, Value) {
    rig.s
        .call(
            Method::PATCH,
            &format!("/v3/agents/digest/schedules/{id}"),
            Some(body),
        )
        .await
}

async fn executions(rig: &Rig, id: &str) -> Vec<Value> {
    let (st, out) = rig
        .s
        .call(
            Method::GET,
            &format!("/v3/agents/digest/schedules/{id}/executions"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    out["executions"].as_array().unwrap().clone()
}

fn in_future(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn every_expression_form_is_accepted_and_each_rejection_is_named() {
    let rig = rig(
        Backend::Sqlite,
        Some(SchedulerFileConfig {
            enabled: Some(false),
            ..Default::default()
        }),
    )
    .await;
    let at = format!("@at {}", in_future(3600 * 24));
    for (kind, expr) in [
        ("cron", "0 0 9 * * mon-fri"),
        ("cron", "0 9 * * 1"),
        ("cron", "@hourly"),
        ("cron", "@daily"),
        ("cron", "@weekly"),
        ("cron", "@monthly"),
        ("cron", "@yearly"),
        ("interval", "@every 6h"),
        ("interval", "@every 1h30m"),
        ("once", at.as_str()),
    ] {
        let (st, s) = create(
            &rig,
            json!({"type": kind, "expression": expr,
            "payload": {"input": "Summarize {{region}}", "variables": {"region": "EMEA",
                "token": {"secret": true, "value": "tok-123"}}, "memory_entity_id": "ent_1",
                "metadata": {"source": "digest", "priority": 2, "tags": ["a"]}}}),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{kind} {expr}: {s}");
        for field in [
            "_id",
            "agent_key",
            "type",
            "expression",
            "is_active",
            "generation",
            "payload",
            "created_by_id",
            "created",
            "updated",
            "trigger_count",
        ] {
            assert!(s.get(field).is_some(), "{field} missing: {s}");
        }
        assert_eq!(s["generation"], 1);
        assert_eq!(s["trigger_count"], 0);
        assert_eq!(s["is_active"], true);
        assert!(s["last_triggered_at"].is_null());
        assert!(s["next_run_at"].is_string(), "{s}");
        assert_eq!(
            s["payload"]["variables"]["token"],
            json!({"secret": true}),
            "{s}"
        );
        assert!(!s.to_string().contains("tok-123"));
        assert_eq!(s["payload"]["metadata"]["priority"], 2);
    }
    let (_, list) = rig
        .s
        .call(Method::GET, "/v3/agents/digest/schedules", None)
        .await;
    let list = list["schedules"].as_array().unwrap();
    assert_eq!(list.len(), 10);
    assert_eq!(list[0]["type"], "once", "newest first");

    for (body, code, param) in [
        (
            json!({"type": "interval", "expression": "@every 30m", "payload": {}}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "cron", "expression": "*/5 * * * * *", "payload": {}}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "cron", "expression": "0 */30 * * * *", "payload": {}}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "cron", "expression": "CRON_TZ=Europe/Paris 0 9 * * *", "payload": {}}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "cron", "expression": "0 9 * *", "payload": {}}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "once", "expression": "@at 2020-01-01T00:00:00Z", "payload": {}}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "once", "expression": "@at 2031-01-01T09:00:00+02:00", "payload": {}}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "weekly", "expression": "@weekly", "payload": {}}),
            "invalid_request",
            "type",
        ),
        (
            json!({"type": "cron", "expression": "@daily"}),
            "invalid_request",
            "payload",
        ),
        (
            json!({"type": "cron", "expression": "@daily", "payload": {"input": 5}}),
            "invalid_request",
            "payload.input",
        ),
    ] {
        let (st, out) = create(&rig, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {out}");
        assert_eq!(out["error"]["code"], code, "{body}: {out}");
        assert_eq!(out["error"]["param"], param, "{body}: {out}");
        assert_eq!(out["error"]["type"], "invalid_request_error");
    }
    let (st, out) = create(
        &rig,
        json!({"type": "cron", "expression": "@daily", "payload": {}, "agent_tag": "v9"}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{out}");
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/v3/agents/nobody/schedules",
            Some(json!({"type": "cron", "expression": "@daily", "payload": {}})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{out}");
    let (st, out) = rig
        .s
        .call(Method::GET, "/v3/agents/nobody/schedules", None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        out["error"]["message"].is_string() && out["error"]["type"].is_string(),
        "{out}"
    );
}

#[tokio::test]
async fn patch_keeps_or_restarts_the_cadence_as_orq_documents() {
    for backend in backends() {
        let rig = rig(backend, Some(fast(true))).await;
        rig.openai
            .set_responder(std::sync::Arc::new(|_| Turn::text("digest done")));
        let (_, s) = create(
            &rig,
            json!({"type": "cron", "expression": "* * * * * *",
            "display_name": "every second", "payload": {"input": "tick"}}),
        )
        .await;
        let id = s["_id"].as_str().unwrap().to_owned();
        wait_for("two firings", async || {
            get(&rig, &id).await["trigger_count"].as_u64().unwrap() >= 2
        })
        .await;

        // Payload, name and tag changes keep the generation and the count.
        let before = get(&rig, &id).await;
        let (st, after) = patch(
            &rig,
            &id,
            json!({"payload": {"input": "tock"}, "display_name": "renamed"}),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{after}");
        assert_eq!(after["generation"], before["generation"]);
        assert!(
            after["trigger_count"].as_u64().unwrap() >= before["trigger_count"].as_u64().unwrap()
        );
        assert_eq!(after["payload"]["input"], "tock");
        assert_eq!(after["display_name"], "renamed");

        // A new expression is a new generation counted from zero.
        let (st, after) = patch(&rig, &id, json!({"expression": "*/2 * * * * *"})).await;
        assert_eq!(st, StatusCode::OK, "{after}");
        assert_eq!(after["generation"], 2, "{after}");
        assert!(after["trigger_count"].as_u64().unwrap() <= 1, "{after}");
        // A sub-minimum expression is refused and changes nothing.
        let (st, out) = patch(
            &rig,
            &id,
            json!({"type": "interval", "expression": "@every 500ms"}),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
        assert_eq!(out["error"]["code"], "invalid_expression");
        assert_eq!(get(&rig, &id).await["generation"], 2);

        // Deactivated: no more firings, and manual execution is refused.
        let (_, off) = patch(&rig, &id, json!({"is_active": false})).await;
        assert_eq!(off["is_active"], false);
        assert!(off["next_run_at"].is_null());
        let count = get(&rig, &id).await["trigger_count"].clone();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(get(&rig, &id).await["trigger_count"], count);
        let (st, out) = rig
            .s
            .call(
                Method::POST,
                &format!("/v3/agents/digest/schedules/{id}/execution"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
        assert_eq!(out["error"]["code"], "schedule_inactive");
        // Reactivating starts a new generation.
        let (_, on) = patch(&rig, &id, json!({"is_active": true})).await;
        assert_eq!(on["generation"], 3, "{on}");
        // Each firing made one task, on the right generation, and the tasks ran.
        let runs = executions(&rig, &id).await;
        assert!(runs.len() >= 2, "{runs:?}");
        let mut due: Vec<&str> = runs.iter().map(|r| r["due_at"].as_str().unwrap()).collect();
        due.sort();
        due.dedup();
        assert_eq!(due.len(), runs.len(), "no due time fired twice: {runs:?}");
        wait_for("the tasks to finish", async || {
            executions(&rig, &id)
                .await
                .iter()
                .all(|r| r["state"] == "completed")
        })
        .await;
        let (st, _) = rig
            .s
            .call(
                Method::DELETE,
                &format!("/v3/agents/digest/schedules/{id}"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = rig
            .s
            .call(
                Method::GET,
                &format!("/v3/agents/digest/schedules/{id}"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn a_once_schedule_fires_once_then_deactivates_and_manual_runs_leave_the_cadence() {
    let rig = rig(Backend::Sqlite, Some(fast(true))).await;
    rig.openai
        .set_responder(std::sync::Arc::new(|_| Turn::text("report sent")));
    let (st, once) = create(
        &rig,
        json!({"type": "once", "expression": format!("@at {}", in_future(2)),
        "payload": {"input": "Weekly report for {{region}}", "variables": {"region": "EMEA"},
                    "metadata": {"run_source": "report"}}}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{once}");
    let id = once["_id"].as_str().unwrap().to_owned();
    wait_for("the once schedule to fire", async || {
        get(&rig, &id).await["is_active"] == false
    })
    .await;
    let fired = get(&rig, &id).await;
    assert_eq!(fired["trigger_count"], 1, "{fired}");
    assert!(fired["last_triggered_at"].is_string());
    let runs = executions(&rig, &id).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let task = runs[0]["task_id"].as_str().unwrap().to_owned();
    let polled = rig.poll_until_inactive("digest", &task).await;
    assert_eq!(polled["status"], "completed", "{polled}");
    assert_eq!(polled["metadata"]["orq_agent_key"], "digest");
    // The payload reached the model with its variables rendered.
    let asked = rig.openai.requests();
    assert!(
        asked[0].to_string().contains("Weekly report for EMEA"),
        "{}",
        asked[0]
    );

    // Manual execution runs now and leaves the cadence alone.
    let (_, daily) = create(
        &rig,
        json!({"type": "cron", "expression": "@daily", "payload": {"input": "daily"}}),
    )
    .await;
    let daily_id = daily["_id"].as_str().unwrap().to_owned();
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            &format!("/v3/agents/digest/schedules/{daily_id}/execution"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{out}");
    assert_eq!(out["status"], "triggered");
    assert_eq!(out["schedule_id"], daily_id.as_str());
    let task = out["task_id"].as_str().unwrap().to_owned();
    assert_eq!(
        rig.poll_until_inactive("digest", &task).await["status"],
        "completed"
    );
    let after = get(&rig, &daily_id).await;
    assert_eq!(after["trigger_count"], 0);
    assert_eq!(after["next_run_at"], daily["next_run_at"]);
    assert_eq!(after["generation"], 1);
    let runs = executions(&rig, &daily_id).await;
    assert_eq!(runs[0]["manual"], true);
    assert_eq!(runs[0]["state"], "completed");
}

#[tokio::test]
async fn missed_firings_are_dropped_unless_the_schedule_catches_up() {
    let mut rig = rig(Backend::Sqlite, Some(fast(false))).await;
    // Two seconds ahead: whole seconds, so one second ahead may already be past on a busy machine.
    let at = format!("@at {}", in_future(2));
    let (_, dropped) = create(
        &rig,
        json!({"type": "once", "expression": at, "payload": {"input": "x"}}),
    )
    .await;
    let (_, caught) = create(
        &rig,
        json!({"type": "once", "expression": at, "payload": {"input": "y"},
        "catch_up": "latest"}),
    )
    .await;
    // No scheduler runs while the firing time passes and the grace period (2 s) ends.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let options = rig.options(Options::default().scheduler(fast(true)));
    rig.s.restart_with(options).await;
    let dropped_id = dropped["_id"].as_str().unwrap().to_owned();
    let caught_id = caught["_id"].as_str().unwrap().to_owned();
    wait_for("both to be handled", async || {
        get(&rig, &dropped_id).await["is_active"] == false
            && get(&rig, &caught_id).await["is_active"] == false
    })
    .await;
    assert_eq!(get(&rig, &dropped_id).await["trigger_count"], 0);
    assert!(executions(&rig, &dropped_id).await.is_empty());
    assert_eq!(get(&rig, &caught_id).await["trigger_count"], 1);
    assert_eq!(executions(&rig, &caught_id).await.len(), 1);
}

#[tokio::test]
async fn orchestra_schedules_map_onto_the_same_schedules() {
    let rig = rig(
        Backend::Sqlite,
        Some(SchedulerFileConfig {
            enabled: Some(false),
            ..Default::default()
        }),
    )
    .await;
    let (st, s) = rig
        .s
        .call(
            Method::POST,
            "/api/schedules",
            Some(json!({"title": "Daily Blog Post Generator",
                "trigger": {"type": "cron", "expression": "0 9 * * 1"},
                "task": {"input": {"messages": [{"role": "user", "content": "Write and publish a post."}]},
                         "metadata": {"assistant_id": "digest", "thread_id": "t-1"}}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{s}");
    assert_eq!(s["display_name"], "Daily Blog Post Generator");
    assert_eq!(s["payload"]["metadata"]["thread_id"], "t-1");
    let (_, list) = rig
        .s
        .call(Method::GET, "/v3/agents/digest/schedules", None)
        .await;
    assert_eq!(list["schedules"][0]["_id"], s["_id"]);
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/api/schedules",
            Some(
                json!({"trigger": {"type": "cron", "expression": "* * * * *"},
            "task": {"metadata": {"assistant_id": "digest"}}}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["error"]["code"], "invalid_expression");
    let _ = user;
}

async fn preview(rig: &Rig, body: Value) -> (StatusCode, Value) {
    rig.s
        .call(Method::POST, "/v3/schedules/preview", Some(body))
        .await
}

#[tokio::test]
async fn a_preview_lists_the_next_firings_and_refuses_what_create_refuses() {
    let rig = rig(
        Backend::Sqlite,
        Some(SchedulerFileConfig {
            enabled: Some(false),
            ..Default::default()
        }),
    )
    .await;
    let times = |out: &Value| -> Vec<chrono::DateTime<chrono::Utc>> {
        out["next_run_at"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().parse().unwrap())
            .collect()
    };
    let now = chrono::Utc::now();
    let hours = chrono::Duration::hours;

    let (st, out) = preview(&rig, json!({"type": "cron", "expression": "0 9 * * *"})).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let daily = times(&out);
    assert_eq!(daily.len(), 5, "{out}");
    assert!(daily[0] > now && daily[0] <= now + hours(24), "{out}");
    for pair in daily.windows(2) {
        assert_eq!(pair[1] - pair[0], hours(24), "{out}");
    }
    assert!(daily
        .iter()
        .all(|t| t.format("%H:%M:%S").to_string() == "09:00:00"));

    let before = chrono::Utc::now();
    let (st, out) = preview(&rig, json!({"type": "interval", "expression": "@every 6h"})).await;
    let after = chrono::Utc::now();
    assert_eq!(st, StatusCode::OK, "{out}");
    let every = times(&out);
    assert_eq!(every.len(), 5, "{out}");
    assert!(
        every[0] >= before + hours(6) - chrono::Duration::milliseconds(1)
            && every[0] <= after + hours(6),
        "six hours from now: {out}"
    );
    for pair in every.windows(2) {
        assert_eq!(pair[1] - pair[0], hours(6), "{out}");
    }

    let at = in_future(3600 * 24);
    let (st, out) = preview(
        &rig,
        json!({"type": "once", "expression": format!("@at {at}")}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(
        times(&out),
        vec![at.parse::<chrono::DateTime<chrono::Utc>>().unwrap()]
    );

    for (body, code, param) in [
        (
            json!({"type": "interval", "expression": "@every 30m"}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "once", "expression": "@at 2020-01-01T00:00:00Z"}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "cron", "expression": "0 9 * *"}),
            "invalid_expression",
            "expression",
        ),
        (
            json!({"type": "weekly", "expression": "@weekly"}),
            "invalid_request",
            "type",
        ),
        (json!({"type": "cron"}), "invalid_request", "expression"),
        (
            json!({"type": "interval", "expression": "@every 999999999999999999999999h"}),
            "invalid_expression",
            "expression",
        ),
    ] {
        let (st, out) = preview(&rig, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {out}");
        assert_eq!(out["error"]["code"], code, "{body}: {out}");
        assert_eq!(out["error"]["param"], param, "{body}: {out}");
    }
    // Firings of a very long interval past what a time can hold end the list, not the server.
    let (st, out) = preview(
        &rig,
        json!({"type": "interval", "expression": "@every 1000000000000h"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert!(out["next_run_at"].as_array().unwrap().len() < 5, "{out}");
    let (st, _) = rig
        .s
        .call_as(
            None,
            Method::POST,
            "/v3/schedules/preview",
            Some(json!({"type": "cron", "expression": "@daily"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // A preview creates nothing.
    let (_, list) = rig
        .s
        .call(Method::GET, "/v3/agents/digest/schedules", None)
        .await;
    assert_eq!(list["schedules"], json!([]), "{list}");
}
