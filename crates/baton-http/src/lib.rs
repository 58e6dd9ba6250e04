//! Baton's wire API: the axum router for `/v2/agents`, `/v2/tools`, health and OpenAPI, with
//! API-key auth and one JSON error format. It follows orq.ai's wire format closely enough that
//! orq's official SDK works against it.
//!
//! `router(state)` is the whole API; the `baton` binary only serves it.

mod agents;
mod auth;
mod collections;
mod cors;
mod error;
mod extract;
mod keys;
mod knowledge;
mod memory;
mod openapi;
mod orchestra;
mod orq_events;
mod responses;
mod schedules;
mod scope;
mod state;
mod tools;
mod traces;
mod wire;

pub use auth::{hash_api_key, JwtSettings};
pub use cors::{cors_layer, BadOrigin};
pub use error::ApiError;
pub use keys::key_prefix;
pub use state::AppState;

use axum::routing::get;
use axum::Router;

/// The complete HTTP API over `state`.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(agents::routes())
        .merge(tools::routes())
        .merge(orchestra::routes())
        .merge(memory::routes())
        .merge(knowledge::routes())
        .merge(schedules::routes())
        .merge(traces::routes())
        .merge(keys::routes())
        .merge(responses::routes())
        // Runs after authentication (layers added later run first).
        .route_layer(axum::middleware::from_fn(scope::require_scope))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi::document))
        .route("/metrics", get(traces::metrics))
        .merge(api)
        .fallback(not_found)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Liveness: answers 200 without auth.
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}
