//! The PostgreSQL pool after its connections were dropped under it (a database restart, a
//! proxy closing idle connections): a connection that sat idle is checked before use, so the
//! next read after the drop succeeds on a new connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_core::store::AgentStore;
use baton_core::ProjectId;
use baton_store::SqlStore;
use sea_orm::ConnectionTrait;
use std::time::Duration;

#[tokio::test]
async fn reads_after_the_servers_connections_were_dropped_succeed() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return;
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    let project = ProjectId("p".into());
    assert!(store.agent_by_key(&project, "a").await.unwrap().is_none());
    // Every connection to this database but the admin's own ends, as in a restart.
    let name = url.split('?').next().unwrap().rsplit('/').next().unwrap();
    let killer = sea_orm::Database::connect(&admin).await.unwrap();
    killer
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    killer.close().await.unwrap();
    // Idle past the pool's threshold: the next use checks the connection first.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..4 {
        assert!(store.agent_by_key(&project, "a").await.unwrap().is_none());
    }
    drop(store);
    let _ = baton_store::testing::drop_postgres_database(&admin, &url).await;
}
