//! `/v2/api-keys`: the admin API for API keys. Keys are shown once, stored hashed, and scoped
//! to a project; only admin keys may manage them.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::extract::{Path, Query};
use crate::scope::Scope;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::store::{ApiKeyRecord, KeyScope};
use baton_core::ProjectId;
use baton_engine::keys::NewApiKey;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

fn admin_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.scopes.has(Scope::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only admin keys manage API keys"))
    }
}

fn key_json(k: &ApiKeyRecord) -> Value {
    json!({"_id": k.id, "name": k.name, "project_id": k.project_id, "prefix": k.prefix,
           "admin": k.scope == KeyScope::Admin, "scope": k.scope.as_str(), "created": k.created})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKey {
    name: String,
    project_id: String,
    /// `true` is the same as `"scope": "admin"`.
    #[serde(default)]
    admin: bool,
    /// `admin`, `project` (the default) or `run`.
    #[serde(default)]
    scope: Option<String>,
}

/// Create an API key for a project; the key is in this answer only.
#[utoipa::path(post, path = "/v2/api-keys", operation_id = "api_keys_create", tag = "api-keys", request_body = Object,
    responses((status = 201, description = "`{_id, key, name, project_id, prefix, admin, scope, created}`"),
              (status = 400, description = "Invalid field"), (status = 403, description = "Not an admin key")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    admin_only(&caller)?;
    let scope = match (body.scope.as_deref(), body.admin) {
        (None, true) => KeyScope::Admin,
        (None, false) => KeyScope::Project,
        (Some(name), admin) => match KeyScope::parse(name) {
            Some(scope) if !admin || scope == KeyScope::Admin => scope,
            Some(_) => {
                return Err(ApiError::invalid(
                    "admin",
                    "`admin: true` contradicts the `scope` given",
                ))
            }
            None => {
                return Err(ApiError::invalid(
                    "scope",
                    "must be `admin`, `project` or `run`",
                ))
            }
        },
    };
    let new = NewApiKey {
        name: body.name,
        project_id: body.project_id,
        scope,
    };
    let (record, key) = state.engine.api_keys().create(new).await?;
    let mut answer = key_json(&record);
    answer["key"] = json!(key);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// List API keys (never the keys themselves), of one project with `project_id`.
#[utoipa::path(get, path = "/v2/api-keys", operation_id = "api_keys_list", tag = "api-keys",
    params(("project_id" = Option<String>, Query, description = "Only this project's keys")),
    responses((status = 200, description = "`{object, data}`"), (status = 403, description = "Not an admin key")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    admin_only(&caller)?;
    let project = query.get("project_id").map(|p| ProjectId(p.clone()));
    let keys = state.engine.api_keys().list(project.as_ref()).await?;
    Ok(Json(
        json!({"object": "list", "data": keys.iter().map(key_json).collect::<Vec<_>>()}),
    ))
}

/// Revoke an API key: it stops working at once.
#[utoipa::path(delete, path = "/v2/api-keys/{key_id}", operation_id = "api_keys_revoke", tag = "api-keys",
    params(("key_id" = String, Path, description = "Key id")),
    responses((status = 204, description = "Revoked"), (status = 403, description = "Not an admin key"),
              (status = 404, description = "Unknown key")))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin_only(&caller)?;
    state
        .engine
        .api_keys()
        .revoke(&key_id, &caller.key_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub use baton_engine::keys::key_prefix;
