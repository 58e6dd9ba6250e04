//! What runs look up (API keys, agents) is read again after the engine's `lookup_ttl`: two
//! engines on one store stand for two servers on one database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_core::agent::AgentSpec;
use baton_core::store::{KeyScope, Store};
use baton_core::ProjectId;
use baton_engine::agents::AgentPatch;
use baton_engine::keys::NewApiKey;
use baton_engine::{Engine, EngineConfig, EngineError};
use baton_store::MemoryStore;
use serde_json::{json, Map};
use std::sync::Arc;
use std::time::Duration;

const TTL: Duration = Duration::from_millis(300);

fn engine(store: &Arc<dyn Store>) -> Engine {
    Engine::builder()
        .shared_store(store.clone())
        .config(EngineConfig {
            lookup_ttl: TTL,
            ..EngineConfig::default()
        })
        .build()
        .unwrap()
}

fn spec(instructions: &str) -> AgentSpec {
    serde_json::from_value(
        json!({"key": "helper", "role": "Helper", "description": "d",
        "instructions": instructions, "path": "Default", "model": "openai/gpt-4o"}),
    )
    .unwrap()
}

#[tokio::test]
async fn a_key_revoked_on_another_server_stops_working_there_within_the_ttl() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (here, there) = (engine(&store), engine(&store));
    let admin = NewApiKey {
        name: "admin".into(),
        project_id: "default".into(),
        scope: KeyScope::Admin,
    };
    let (revoker, _) = here.api_keys().create(admin).await.unwrap();
    let (record, key) = here
        .api_keys()
        .create(NewApiKey {
            name: "app".into(),
            project_id: "default".into(),
            scope: KeyScope::Project,
        })
        .await
        .unwrap();
    assert!(there.api_keys().authenticate(&key).await.unwrap().is_some());
    here.api_keys()
        .revoke(&record.id, &revoker.id)
        .await
        .unwrap();
    // Here at once; there, the read it holds serves until it is `TTL` old.
    assert!(here.api_keys().authenticate(&key).await.unwrap().is_none());
    assert!(
        there.api_keys().authenticate(&key).await.unwrap().is_some(),
        "the other server uses the key it read"
    );
    tokio::time::sleep(TTL).await;
    assert!(there.api_keys().authenticate(&key).await.unwrap().is_none());
    // A key minted elsewhere works there at once.
    let (_, late) = here
        .api_keys()
        .create(NewApiKey {
            name: "late".into(),
            project_id: "default".into(),
            scope: KeyScope::Project,
        })
        .await
        .unwrap();
    assert!(there
        .api_keys()
        .authenticate(&late)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn an_agent_changed_on_another_server_is_run_in_its_new_form_there_within_the_ttl() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (here, there) = (engine(&store), engine(&store));
    let project = ProjectId::default_project();
    here.agents().create(&project, spec("One.")).await.unwrap();
    let first = there.agents().for_run(&project, "helper").await.unwrap();
    assert_eq!(first.version, 1);
    let mut fields = Map::new();
    fields.insert("instructions".into(), json!("Two."));
    let patch = AgentPatch {
        fields,
        ..AgentPatch::default()
    };
    here.agents()
        .update(&project, "helper", patch)
        .await
        .unwrap();
    assert_eq!(
        here.agents()
            .for_run(&project, "helper")
            .await
            .unwrap()
            .version,
        2
    );
    assert_eq!(
        there
            .agents()
            .for_run(&project, "helper")
            .await
            .unwrap()
            .version,
        1,
        "the other server runs the agent it read"
    );
    tokio::time::sleep(TTL).await;
    let now = there.agents().for_run(&project, "helper").await.unwrap();
    assert_eq!((now.version, now.spec.instructions.as_str()), (2, "Two."));
    // Deleted: here at once, there after the TTL.
    here.agents().delete(&project, "helper").await.unwrap();
    assert!(matches!(
        here.agents().for_run(&project, "helper").await,
        Err(EngineError::NotFound(_))
    ));
    tokio::time::sleep(TTL).await;
    assert!(matches!(
        there.agents().for_run(&project, "helper").await,
        Err(EngineError::NotFound(_))
    ));
}
