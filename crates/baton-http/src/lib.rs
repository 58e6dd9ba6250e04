//! Baton's wire API: the axum router for `/v2/agents`, `/v2/tools`, health and OpenAPI, with
//! API-key auth and one JSON error format. It follows orq.ai's wire format closely enough that
//! orq's official SDK works against it.
//!
//! `router(state)` is the whole API; the `baton` binary only serves it.

pub mod a2a;
mod agents;
mod auth;
mod collections;
mod console;
mod cors;
mod ensemble;
mod error;
mod extract;
mod keys;
mod knowledge;
mod mcp;
mod memory;
mod message_wire;
mod openai;
mod openapi;
mod openapi_constraints;
mod openapi_links;
mod openapi_unions;
mod orchestra;
mod orq_events;
mod responses;
#[cfg(test)]
mod route_sync_tests;
mod run_wire;
mod schedules;
mod scope;
mod state;
mod tasks;
mod tools;
mod traces;
mod wire;

pub use auth::{hash_api_key, JwtSettings};
pub use cors::{cors_layer, BadOrigin};
pub use error::{ApiError, ErrorBody, ErrorDetail, ErrorKind, FlatErrorBody};
pub use keys::key_prefix;
pub use state::AppState;
pub use wire::{ListObject, ListPage};

/// The typed bodies of the responses, schedules, traces and Orchestra endpoints and the
/// payloads of a run's SSE events, as the OpenAPI document describes them.
pub mod dto {
    pub use crate::mcp::dto::*;
    pub use crate::message_wire::*;
    pub use crate::openai::dto::*;
    pub use crate::orchestra::{
        ApiToolConfig, ApiToolDef, ApiToolMethod, InvokeItem, InvokeResult, OrchestraHeaderValue,
        OrchestraToolRequest, OrchestraToolType,
    };
    pub use crate::orq_events::dto::*;
    pub use crate::responses::dto::*;
    pub use crate::run_wire::*;
    pub use crate::schedules::dto::*;
    pub use crate::traces::dto::*;
    pub use crate::traces::query_dto::*;
}

use axum::routing::get;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;

/// The complete HTTP API over `state`.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api_routes().split_for_parts();
    let doc = openapi::finish(doc);
    let api = api
        // Runs after authentication (layers added later run first).
        .route_layer(axum::middleware::from_fn(scope::require_scope))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ))
        // Before authentication: a browser from a foreign origin is refused whatever it sends.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            mcp::check_origin,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", openapi::serve(&doc))
        .route("/metrics", get(traces::metrics))
        .merge(console::routes())
        .merge(api)
        .fallback(not_found)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI 3.1 document `GET /openapi.json` serves.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    openapi::finish(api_routes().split_for_parts().1)
}

/// The OpenAPI 3.1 document `GET /openapi.json` serves, as the JSON it sends.
pub fn openapi_json() -> serde_json::Value {
    openapi_links::to_json(&openapi_document())
}

/// Every authenticated route, registered together with its OpenAPI operation.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .merge(agents::routes())
        .merge(tools::routes())
        .merge(orchestra::routes())
        .merge(ensemble::routes())
        .merge(memory::routes())
        .merge(knowledge::routes())
        .merge(schedules::routes())
        .merge(traces::routes())
        .merge(keys::routes())
        .merge(responses::routes())
        .merge(tasks::routes())
        .merge(a2a::routes())
        .merge(mcp::routes())
        .merge(openai::routes())
}

/// Liveness: answers 200 without auth.
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}
