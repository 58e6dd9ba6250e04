//! Orchestra's wire forms: `POST /api/tools` with an `api` tool (`base_url`, `method`,
//! `endpoint`, `args_schema`), stored as an orq `http` tool, and the batch
//! `POST /api/tools/invoke`; assistants ([`assistants`]), LLM runs ([`llm`]) and threads ([`threads`]).

mod assistants;
mod llm;
mod messages;
mod stream_doc;
mod threads;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::error::ValidationError;
use baton_core::tool::{
    ArgumentType, HeaderValue, HttpArgument, HttpBlueprint, HttpDef, HttpMethod, ToolKind,
    ToolSpec, ToolStatus,
};
use baton_core::ProjectId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Reads a field that must be a JSON object: serde alone also reads a struct from an array.
pub(crate) fn object_field<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let map = Map::<String, Value>::deserialize(deserializer)?;
    serde_json::from_value(Value::Object(map)).map_err(serde::de::Error::custom)
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(invoke))
        .merge(assistants::routes())
        .merge(llm::routes())
        .merge(threads::routes())
}

/// An Orchestra `api` tool's endpoint.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiToolDef {
    /// The API's base URL (`https://api.example.com`).
    #[schema(pattern = "^https?://")]
    pub base_url: String,
    /// The HTTP method.
    pub method: ApiToolMethod,
    /// The path under `base_url` (`/v1/search`).
    #[serde(default)]
    pub endpoint: String,
    /// A JSON Schema of the arguments: each of its `properties` (string, number, integer or
    /// boolean) becomes an argument, sent in the query string (GET, DELETE) or the JSON body
    /// (POST, PUT).
    #[serde(default)]
    pub args_schema: Option<Value>,
    /// Headers to send: a value, or `{"value", "encrypted": true}` for a secret.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, OrchestraHeaderValue>)]
    pub headers: BTreeMap<String, HeaderValue>,
}

/// The HTTP methods an `api` tool may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ApiToolMethod {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
}

impl From<ApiToolMethod> for HttpMethod {
    fn from(method: ApiToolMethod) -> Self {
        match method {
            ApiToolMethod::Get => Self::Get,
            ApiToolMethod::Post => Self::Post,
            ApiToolMethod::Put => Self::Put,
            ApiToolMethod::Delete => Self::Delete,
        }
    }
}

/// A header value: a string, or an object (`encrypted: true` keeps it secret: sealed at rest
/// and masked in answers).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OrchestraHeaderValue {
    /// A plain value.
    Plain(String),
    /// A value that may be secret.
    Object {
        /// The value.
        value: String,
        /// Whether it is a secret.
        #[serde(default)]
        encrypted: bool,
    },
}

/// The `config` of an Orchestra tool.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ApiToolConfig {
    /// The endpoint.
    pub api_tool: ApiToolDef,
}

/// The body of `POST /api/tools`: an Orchestra `api` tool.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"name": "search_docs", "description": "Search the docs", "type": "api",
    "config": {"api_tool": {"base_url": "https://docs.example.com", "method": "GET", "endpoint": "/search",
    "args_schema": {"type": "object", "properties": {"q": {"type": "string", "description": "Query"}}}}}}))]
pub struct OrchestraToolRequest {
    /// The tool's name (its key).
    pub name: String,
    /// What it does, for the model.
    #[serde(default)]
    pub description: String,
    /// Only `api`.
    #[serde(rename = "type")]
    #[schema(value_type = OrchestraToolType)]
    pub kind: String,
    /// The endpoint.
    pub config: ApiToolConfig,
}

/// The tool types `POST /api/tools` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrchestraToolType {
    /// An HTTP API.
    Api,
}

/// Translates an Orchestra `api` tool into an orq `http` tool: every `args_schema` property
/// becomes an argument, sent in the JSON body (POST, PUT) or the query string (GET, DELETE).
pub(crate) fn to_spec(body: OrchestraToolRequest) -> Result<ToolSpec, ValidationError> {
    if body.kind != "api" {
        return Err(ValidationError::new(
            "type",
            format!("only `api` tools are created here, not `{}`", body.kind),
        ));
    }
    let api = body.config.api_tool;
    let base = api.base_url.trim_end_matches('/');
    let endpoint = if api.endpoint.is_empty() || api.endpoint.starts_with('/') {
        api.endpoint.clone()
    } else {
        format!("/{}", api.endpoint)
    };
    let arguments = api_arguments(api.args_schema.as_ref())?;
    let (url, body_template) =
        with_placeholders(format!("{base}{endpoint}"), api.method.into(), &arguments);
    let spec = ToolSpec {
        key: body.name,
        path: "Default".into(),
        description: body.description,
        display_name: None,
        status: ToolStatus::Live,
        requires_approval: false,
        idempotent: None,
        kind: ToolKind::Http {
            http: HttpDef {
                blueprint: HttpBlueprint {
                    url,
                    method: api.method.into(),
                    headers: api.headers,
                    body: body_template,
                    timeout: None,
                },
                arguments,
            },
        },
    };
    spec.validate().map_err(|e| {
        let field = match e.field.as_str() {
            "key" => "name".to_owned(),
            "http.blueprint.url" => "config.api_tool.base_url".to_owned(),
            other => format!("config.api_tool ({other})"),
        };
        ValidationError::new(field, e.message)
    })?;
    Ok(spec)
}

/// The arguments an `args_schema` declares, each sent to the model; only scalar types.
fn api_arguments(
    args_schema: Option<&Value>,
) -> Result<BTreeMap<String, HttpArgument>, ValidationError> {
    let properties = match args_schema {
        None => Map::new(),
        Some(schema) => schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    };
    let mut arguments = BTreeMap::new();
    for (name, property) in &properties {
        arguments.insert(name.clone(), api_argument(name, property)?);
    }
    Ok(arguments)
}

/// One `args_schema` property as an argument.
fn api_argument(name: &str, property: &Value) -> Result<HttpArgument, ValidationError> {
    let field = format!("config.api_tool.args_schema.properties.{name}.type");
    let kind = match property.get("type").and_then(Value::as_str) {
        Some("string") | None => ArgumentType::String,
        Some("number") | Some("integer") => ArgumentType::Number,
        Some("boolean") => ArgumentType::Boolean,
        Some(other) => {
            return Err(ValidationError::new(
                field,
                format!("`{other}` arguments are not supported (string, number, integer, boolean)"),
            ))
        }
    };
    Ok(HttpArgument {
        kind,
        description: property
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or(name)
            .to_owned(),
        send_to_model: true,
        default_value: property.get("default").cloned(),
    })
}

/// The URL and body with a placeholder per argument: in the query string for GET and DELETE,
/// in the JSON body for POST and PUT.
fn with_placeholders(
    mut url: String,
    method: HttpMethod,
    arguments: &BTreeMap<String, HttpArgument>,
) -> (String, Option<Map<String, Value>>) {
    match method {
        HttpMethod::Get | HttpMethod::Delete => {
            let query: Vec<String> = arguments
                .keys()
                .map(|name| format!("{name}={{{{{name}}}}}"))
                .collect();
            if !query.is_empty() {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&query.join("&"));
            }
            (url, None)
        }
        HttpMethod::Post | HttpMethod::Put => {
            let body = arguments
                .keys()
                .map(|name| (name.clone(), Value::String(format!("{{{{{name}}}}}"))))
                .collect();
            (url, Some(body))
        }
    }
}

/// Create an Orchestra `api` tool (stored as an `http` tool).
#[utoipa::path(post, path = "/api/tools", operation_id = "orchestra_create_tool", tag = "orchestra",
    request_body = OrchestraToolRequest,
    responses((status = 201, description = "The tool, as `POST /v2/tools` answers it", body = crate::tools::ToolDto),
              (status = 409, description = "A tool with this name exists", body = ErrorBody)))]
pub(crate) async fn create(
    state: State<AppState>,
    caller: Extension<Caller>,
    ApiJson(body): ApiJson<OrchestraToolRequest>,
) -> Result<(StatusCode, Json<crate::tools::ToolDto>), ApiError> {
    let spec = to_spec(body)?;
    let created = crate::tools::store_new(&state, &caller, spec).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One tool to run in an Orchestra batch.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct InvokeItem {
    /// The tool's key.
    pub name: String,
    /// Its arguments (an object; none when absent or null).
    #[serde(default)]
    pub args: Value,
}

/// What one tool of a batch answered: its `output` or its `error`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum InvokeResult {
    /// The tool ran.
    Output {
        /// The arguments it ran with.
        args: Value,
        /// The tool's key.
        name: String,
        /// What it returned, any JSON.
        output: Value,
    },
    /// The tool is unknown, refused the arguments, or failed.
    Error {
        /// The arguments sent.
        args: Value,
        /// Why.
        error: String,
        /// The tool's key.
        name: String,
    },
}

/// Invoke tools by name, Orchestra's batch form: every item runs (in parallel) and answers with
/// its `output` or its `error`.
#[utoipa::path(post, path = "/api/tools/invoke", operation_id = "orchestra_invoke_tools", tag = "orchestra",
    request_body(content = Vec<InvokeItem>, description = "1 to 32 tools to run",
        example = json!([{"name": "search_docs", "args": {"q": "webhooks"}}, {"name": "current_date"}])),
    responses((status = 200, description = "One result per item, in request order", body = Vec<InvokeResult>)))]
pub(crate) async fn invoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    crate::extract::JsonBody(value): crate::extract::JsonBody,
) -> Result<Json<Vec<InvokeResult>>, ApiError> {
    if !value.is_array() {
        return Err(ApiError::invalid(
            "",
            "the body must be a JSON array of `{name, args}` items",
        ));
    }
    let items: Vec<InvokeItem> = crate::extract::from_any_value(value)?;
    if items.is_empty() {
        return Err(ApiError::invalid(
            "[]",
            "send at least one `{name, args}` item",
        ));
    }
    if items.len() > 32 {
        return Err(ApiError::invalid("[]", "at most 32 tools per batch"));
    }
    let runs = items
        .into_iter()
        .map(|item| invoke_one(&state, &caller.project, item));
    Ok(Json(futures_util::future::join_all(runs).await))
}

/// Runs one item of a batch.
async fn invoke_one(state: &AppState, project: &ProjectId, item: InvokeItem) -> InvokeResult {
    let args = if item.args.is_null() {
        Value::Object(Map::new())
    } else {
        item.args
    };
    let outcome = match state.store.tool(project, &item.name).await {
        Ok(Some(tool)) => state
            .engine
            .invoke_tool(&tool, None, args.clone(), &Map::new())
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r),
        Ok(None) => Err(format!("no tool named `{}`", item.name)),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(output) => InvokeResult::Output {
            args,
            name: item.name,
            output,
        },
        Err(error) => InvokeResult::Error {
            args,
            error,
            name: item.name,
        },
    }
}
