//! A2A v1.0 server: every agent is an A2A agent at `/a2a/{agent_key}`, over JSON-RPC 2.0
//! (`POST /a2a/{agent_key}`) and HTTP+JSON (`/a2a/{agent_key}/message:send`, `…/tasks`, …),
//! with its card at `/a2a/{agent_key}/.well-known/agent-card.json` and the configured default
//! agent's at `/.well-known/agent-card.json`. An A2A task is a Baton task (same id), its
//! context a Baton thread.

mod card;
mod convert;
mod error;
mod jsonrpc;
pub mod push;
mod rest;
mod service;
pub mod types;
mod v03;

pub use error::{A2aErrorBody, A2aErrorStatus};

use crate::agents::live_agent;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Extension, Json};
use baton_core::agent::AgentRef;
use types::A2aAgentCard;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(default_card))
        .routes(routes!(agent_card))
        .routes(routes!(jsonrpc::endpoint))
        .merge(rest::routes())
}

/// The default agent's card (`[server] a2a_default_agent`).
#[utoipa::path(get, path = "/.well-known/agent-card.json", operation_id = "agent_card_default", tag = "a2a",
    responses((status = 200, description = "The card of the agent `[server] a2a_default_agent` names", body = A2aAgentCard),
              (status = 404, description = "No default agent is configured, or it does not exist", body = ErrorBody)))]
pub(crate) async fn default_card(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> Result<Json<A2aAgentCard>, ApiError> {
    let key = state.a2a_default_agent.clone().ok_or_else(|| {
        ApiError::not_found("no default A2A agent is configured (`[server] a2a_default_agent`)")
    })?;
    card_of(&state, &caller, &key, &headers).await
}

/// An agent's A2A card: its endpoints (JSON-RPC and HTTP+JSON), skills (the agent and its
/// tools) and how to authenticate.
#[utoipa::path(get, path = "/a2a/{agent_key}/.well-known/agent-card.json", operation_id = "agent_card_retrieve", tag = "a2a",
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "The agent's card", body = A2aAgentCard),
              (status = 404, description = "Unknown agent", body = ErrorBody)))]
pub(crate) async fn agent_card(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<A2aAgentCard>, ApiError> {
    card_of(&state, &caller, &agent_key, &headers).await
}

async fn card_of(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    headers: &HeaderMap,
) -> Result<Json<A2aAgentCard>, ApiError> {
    let reference = AgentRef::parse(agent_key)?;
    let agent = live_agent(state, &caller.project, reference.key).await?;
    Ok(Json(card::card(
        &agent,
        &card::base_url(headers),
        state.push.is_some(),
    )))
}
