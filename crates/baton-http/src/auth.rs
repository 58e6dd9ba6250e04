//! API-key authentication: `Authorization: Bearer <key>` or `x-api-key: <key>`.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use baton_core::ProjectId;
use sha2::{Digest, Sha256};

/// The project a request acts for, set by the auth layer.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant.
    pub project: ProjectId,
    /// The API key's id (`created_by_id` of what it creates).
    pub key_id: String,
}

/// Hex SHA-256 of an API key: what the store keeps instead of the key.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?.trim();
        let (scheme, key) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| key.trim())
            .filter(|k| !k.is_empty());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// Rejects requests without a known API key; otherwise records the caller's project.
pub async fn require_api_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(key) = presented_key(req.headers()) else {
        return Err(ApiError::unauthorized(
            "an API key is required: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
        ));
    };
    let record = state
        .store
        .api_key_by_hash(&hash_api_key(key))
        .await?
        .ok_or_else(|| ApiError::unauthorized("the API key is not valid"))?;
    req.extensions_mut().insert(Caller {
        project: record.project_id,
        key_id: record.id,
    });
    Ok(next.run(req).await)
}
