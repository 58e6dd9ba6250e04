//! Firing lateness of the scheduler with 100,000 active schedules: a release `baton serve` on a
//! SQLite database seeded with hourly schedules, of which 1,000 fall due within the first
//! seconds; lateness is when each firing's task was stored minus when it was due.
//!
//! ```sh
//! cargo build --release -p baton
//! cargo bench -p baton-e2e --bench schedules        # BENCH_SCHEDULES=100000 BENCH_DUE=1000
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::bench::{env_or, percentile, server_binary};

use baton_core::agent::{AgentRecord, AgentSpec, AgentStatus, AgentVersion};
use baton_core::schedule::{
    CatchUp, SchedulePayload, ScheduleRecord, ScheduleSpec, ScheduleStore, ScheduleType,
};
use baton_core::store::AgentStore;
use baton_core::ProjectId;
use baton_store::SqlStore;
use baton_testkit::{FakeProvider, Flavor, Turn};
use sea_orm::ConnectionTrait;
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[allow(clippy::disallowed_methods)] // the benchmark runs the real server binary
fn main() {
    let total = env_or("BENCH_SCHEDULES", 100_000);
    let due = env_or("BENCH_DUE", 1_000).min(total);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let fake = FakeProvider::start(Flavor::OpenAi).await;
        fake.set_responder(Arc::new(|_| Turn::text("done")));
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
        let store = SqlStore::connect(&url).await.unwrap();
        let project = ProjectId::default_project();
        let spec: AgentSpec = serde_json::from_value(json!({"key": "digest", "role": "r",
            "description": "d", "instructions": "i", "path": "Default", "model": "openai/gpt-4o"}))
        .unwrap();
        let agent = AgentRecord {
            id: baton_core::id::new_id(),
            project_id: project.clone(),
            status: AgentStatus::Live,
            version: 1,
            published_version: None,
            created: baton_core::id::now_rfc3339(),
            updated: baton_core::id::now_rfc3339(),
            spec: spec.clone(),
        };
        let version = AgentVersion {
            agent_id: agent.id.clone(),
            version: 1,
            created: agent.created.clone(),
            description: None,
            spec,
        };
        store.create_agent(&agent, &version).await.unwrap();

        // Hourly schedules: `due` of them fall due 5 to 15 s after the server starts, the rest
        // later in the hour (the scheduler must not slow down because they exist).
        let seeding = Instant::now();
        let start = now_ms() + 20_000;
        let hour = 3_600_000i64;
        for i in 0..total {
            let next = if i < due {
                start + 5_000 + (i as i64 * 10_000) / due as i64
            } else {
                start + 60_000 + (i as i64 * (hour - 120_000)) / total as i64
            };
            let record = ScheduleRecord {
                id: baton_core::id::new_id(),
                project_id: project.clone(),
                agent_id: agent.id.clone(),
                agent_key: "digest".into(),
                spec: ScheduleSpec {
                    kind: ScheduleType::Interval,
                    expression: "@every 1h".into(),
                    display_name: None,
                    agent_tag: None,
                    payload: SchedulePayload {
                        input: Some(json!("hourly digest")),
                        ..Default::default()
                    },
                    catch_up: CatchUp::None,
                },
                is_active: true,
                generation: 1,
                trigger_count: 0,
                last_triggered_at: None,
                next_fire_at: Some(next),
                anchor_ms: next - hour,
                created_by_id: "bench".into(),
                updated_by_id: None,
                created: baton_core::id::now_rfc3339(),
                updated: baton_core::id::now_rfc3339(),
            };
            store.create_schedule(&record).await.unwrap();
        }
        let seeded_in = seeding.elapsed();
        assert!(
            now_ms() < start,
            "seeding took longer than the head start; lower BENCH_SCHEDULES"
        );

        let mut child = Command::new(server_binary())
            .arg("serve")
            .env("BATON_LISTEN", "127.0.0.1:0")
            .env("BATON_API_KEY", "bench-key")
            .env("DATABASE_URL", &url)
            .env("BATON_DATA_DIR", dir.path())
            .env("OPENAI_BASE_URL", fake.base_url())
            .env("OPENAI_API_KEY", "sk-bench")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        baton_e2e::listening_url(&mut child);
        let db = store.connection();
        let deadline = Instant::now() + Duration::from_secs(120);
        let fired = loop {
            let row = db
                .query_one(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM schedule_firings",
                ))
                .await
                .unwrap()
                .unwrap();
            let n: i64 = row.try_get("", "n").unwrap();
            if n as usize >= due || Instant::now() > deadline {
                break n as usize;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let rows = db
            .query_all(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT due_ms, fired_ms FROM schedule_firings",
            ))
            .await
            .unwrap();
        let mut lateness: Vec<i64> = rows
            .iter()
            .map(|r| {
                r.try_get::<i64>("", "fired_ms").unwrap() - r.try_get::<i64>("", "due_ms").unwrap()
            })
            .collect();
        lateness.sort_unstable();
        let _ = child.kill();
        let _ = child.wait();
        println!(
            "schedules: {total} active, {due} due within 10 s (seeded in {:.1} s)",
            seeded_in.as_secs_f64()
        );
        println!("firings: {fired} of {due} (each due time at most once)");
        println!(
            "lateness: p50 {} ms, p99 {} ms, max {} ms",
            percentile(&lateness, 0.5),
            percentile(&lateness, 0.99),
            lateness.last().copied().unwrap_or_default()
        );
        assert_eq!(fired, due, "every due schedule fired exactly once");
    });
}
