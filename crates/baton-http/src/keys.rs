//! `/v2/api-keys`: the admin API for API keys. Keys are shown once, stored hashed, and scoped
//! to a project; only admin keys may manage them.

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::extract::{Path, Query};
use crate::scope::Scope;
use crate::state::AppState;
use crate::wire::ListObject;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::store::{ApiKeyRecord, KeyScope};
use baton_core::ProjectId;
use baton_engine::keys::NewApiKey;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;
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

/// An API key as answers show it (never the key itself, except once on creation).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct ApiKeyDto {
    /// The key's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Its name.
    pub name: String,
    /// The project it acts for.
    pub project_id: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    /// Whether its scope is `admin`.
    pub admin: bool,
    /// `admin`, `project` or `run`.
    pub scope: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// The key itself: in the answer to its creation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl From<&ApiKeyRecord> for ApiKeyDto {
    fn from(k: &ApiKeyRecord) -> Self {
        Self {
            id: k.id.clone(),
            name: k.name.clone(),
            project_id: k.project_id.0.clone(),
            prefix: k.prefix.clone(),
            admin: k.scope == KeyScope::Admin,
            scope: k.scope.as_str().to_owned(),
            created: k.created.clone(),
            key: None,
        }
    }
}

/// The list of API keys: every key, in one page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct ApiKeyList {
    /// The keys.
    pub data: Vec<ApiKeyDto>,
    /// Always `list`.
    pub object: ListObject,
}

/// The body of `POST /v2/api-keys`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ApiKeyCreate {
    /// A name to recognise it by.
    pub name: String,
    /// The project it acts for.
    pub project_id: String,
    /// `true` is the same as `"scope": "admin"`.
    #[serde(default)]
    pub admin: bool,
    /// `admin`, `project` (the default) or `run`.
    #[serde(default)]
    pub scope: Option<String>,
}

/// Create an API key for a project; the key is in this answer only.
#[utoipa::path(post, path = "/v2/api-keys", operation_id = "api_keys_create", tag = "api-keys",
    request_body(content = ApiKeyCreate, example = json!({"name": "ci", "project_id": "default", "scope": "run"})),
    responses((status = 201, description = "The key, with `key` itself (shown once)", body = ApiKeyDto),
              (status = 403, description = "Not an admin key", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<ApiKeyCreate>,
) -> Result<(StatusCode, Json<ApiKeyDto>), ApiError> {
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
    let mut answer = ApiKeyDto::from(&record);
    answer.key = Some(key);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// List API keys (never the keys themselves), of one project with `project_id`.
#[utoipa::path(get, path = "/v2/api-keys", operation_id = "api_keys_list", tag = "api-keys",
    params(("project_id" = Option<String>, Query, description = "Only this project's keys")),
    responses((status = 200, description = "Every key", body = ApiKeyList),
              (status = 403, description = "Not an admin key", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ApiKeyList>, ApiError> {
    admin_only(&caller)?;
    let project = query.get("project_id").map(|p| ProjectId(p.clone()));
    let keys = state.engine.api_keys().list(project.as_ref()).await?;
    Ok(Json(ApiKeyList {
        data: keys.iter().map(ApiKeyDto::from).collect(),
        object: ListObject::List,
    }))
}

/// Revoke an API key: it stops working at once.
#[utoipa::path(delete, path = "/v2/api-keys/{key_id}", operation_id = "api_keys_revoke", tag = "api-keys",
    params(("key_id" = String, Path, description = "Key id")),
    responses((status = 204, description = "Revoked"),
              (status = 403, description = "Not an admin key", body = ErrorBody),
              (status = 404, description = "Unknown key", body = ErrorBody)))]
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
