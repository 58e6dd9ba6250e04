//! `/mcp`: the project's agents as the tools of an MCP server (streamable HTTP transport).
//!
//! Stateless: every POST carries one JSON-RPC message and is answered on its own (JSON, or SSE
//! when a run sends progress first), so any server of a deployment answers any request and
//! there is no session to keep; `GET` and `DELETE` answer 405, as the transport allows. The
//! caller is the API key's (or token's) project, checked by the same auth layer as the rest of
//! the API. Runs go through the engine like `POST /v2/agents/{key}/responses`.

mod call;
pub(crate) mod dto;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baton_core::agent::AgentRecord;
use baton_core::store::PageRequest;
use dto::{McpJsonRpcMessage, McpJsonRpcRequest};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, JsonObject, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{json, Value};
use std::sync::{Arc, LazyLock};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Agents listed per `tools/list` page.
const TOOLS_PAGE: u64 = 100;

/// The transport, shared by every request: it holds no state of its own (no sessions), the
/// caller and the API state ride in each request's extensions.
static SERVICE: LazyLock<StreamableHttpService<AgentTools, NeverSessionManager>> =
    LazyLock::new(|| {
        let config = StreamableHttpServerConfig::default()
            // Sessions would tie a client to one server of a deployment: each POST stands alone.
            .with_legacy_session_mode(false)
            // A plain JSON answer unless a run sends progress before its result.
            .with_json_response(true)
            // Every request carries an API key, which a rebinding page cannot send, and a
            // browser's Origin is checked against the CORS origins ([`check_origin`]): the
            // loopback-only Host check would only refuse deployments behind their own names.
            .disable_allowed_hosts();
        StreamableHttpService::new(
            || Ok(AgentTools),
            Arc::new(NeverSessionManager::default()),
            config,
        )
    });

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(transport))
}

/// The MCP server (streamable HTTP transport, stateless): the project's agents are its tools.
///
/// Post one JSON-RPC message: `initialize` (protocol 2025-11-25 and earlier) or
/// `server/discover` (2026-07-28), `tools/list`, `tools/call`. A tool is named by its agent's
/// key and takes `{message, variables?, task_id?}`; its result is the answer as text content
/// (and `structuredContent` when the agent has an object output schema), with the task's id in
/// `_meta.task_id`. A run that fails is a result with `isError: true`. With a `progressToken`
/// in the call's `_meta`, the answer is an SSE stream of `notifications/progress` (one per step:
/// turn started, tool called, tool answered, turn ended) ending with the result. Notifications
/// and responses a client posts are answered 202 without a body. `GET` and `DELETE` answer 405:
/// there is no session and no server-initiated stream. Refusals of the transport itself (no
/// `Accept` of both media types, an unsupported `MCP-Protocol-Version`, a body that is no
/// JSON-RPC message) are 4xx answers of the MCP transport, as its specification describes.
/// `tools/list` needs the `read` scope, as `GET /v2/agents` does; a browser request whose
/// `Origin` is not one of the server's CORS origins is refused (403) before anything else.
#[utoipa::path(post, path = "/mcp", operation_id = "mcp_post", tag = "mcp",
    request_body = McpJsonRpcRequest,
    responses(
        (status = 200, description = "The answer: one JSON-RPC message (JSON), or progress notifications then \
            the answer as `text/event-stream` (each SSE `data:` one JSON-RPC message)",
            content((McpJsonRpcMessage = "application/json"), (McpJsonRpcMessage = "text/event-stream"))),
        (status = 202, description = "A notification or response was accepted (no body)"),
        (status = 401, description = "No API key, or not a valid one", body = ErrorBody),
        (status = 403, description = "The credential may not run agents, or a browser's `Origin` is not one \
            of the server's CORS origins (checked before the credential)", body = ErrorBody)))]
pub(crate) async fn transport(State(state): State<AppState>, mut req: Request) -> Response {
    req.extensions_mut().insert(state);
    SERVICE.handle(req).await.into_response()
}

/// Refuses a browser's request to `/mcp` from an origin the CORS setting does not list (403),
/// before authentication, as the transport's specification asks against DNS rebinding: a page
/// that rebinds its own name to this server sends its own origin. The server's own name is no
/// exception for that reason. Requests without `Origin` (programs, not browsers) pass.
pub(crate) async fn check_origin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let is_mcp = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| p.as_str() == "/mcp");
    if let (true, Some(origin)) = (is_mcp, req.headers().get(header::ORIGIN)) {
        let listed = origin
            .to_str()
            .is_ok_and(|o| state.allowed_origins.iter().any(|a| a == o));
        if !listed {
            return Err(ApiError::forbidden(format!(
                "origin `{}` may not call /mcp: browsers may call it only from the origins \
                 listed in server.cors_allowed_origins",
                String::from_utf8_lossy(origin.as_bytes())
            )));
        }
    }
    Ok(next.run(req).await)
}

/// The MCP server: one tool per agent of the caller's project.
#[derive(Clone, Copy)]
struct AgentTools;

/// The caller and the API state a request carries (inserted by the auth layer and
/// [`transport`]).
fn request_scope(context: &RequestContext<RoleServer>) -> Result<(AppState, Caller), ErrorData> {
    let parts = context
        .extensions
        .get::<axum::http::request::Parts>()
        .ok_or_else(|| ErrorData::internal_error("the request has no HTTP parts", None))?;
    let state = parts.extensions.get::<AppState>().cloned();
    let caller = parts.extensions.get::<Caller>().cloned();
    match (state, caller) {
        (Some(state), Some(caller)) => Ok((state, caller)),
        _ => Err(ErrorData::internal_error(
            "the request was not authenticated",
            None,
        )),
    }
}

/// The input every agent tool takes.
fn input_schema() -> Arc<JsonObject> {
    let schema = json!({
        "type": "object",
        "properties": {
            "message": {"type": "string", "description": "The user message the agent answers"},
            "variables": {"type": "object", "description": "Template variables of the agent's instructions"},
            "task_id": {"type": "string", "description": "Continue this task (its id is in the result's `_meta`)"}
        },
        "required": ["message"],
        "additionalProperties": false
    });
    match schema {
        Value::Object(map) => Arc::new(map),
        _ => Arc::default(),
    }
}

/// The agent's output schema when MCP can declare it: structured content is a JSON object.
fn output_schema(agent: &AgentRecord) -> Option<JsonObject> {
    match &agent.spec.output_schema {
        Some(Value::Object(schema)) if schema.get("type") == Some(&json!("object")) => {
            Some(schema.clone())
        }
        _ => None,
    }
}

/// The tool that runs `agent`.
fn agent_tool(agent: &AgentRecord, input: &Arc<JsonObject>) -> Tool {
    let spec = &agent.spec;
    let description = if spec.description.trim().is_empty() {
        spec.role.clone()
    } else {
        spec.description.clone()
    };
    let mut tool = Tool::new_with_raw(spec.key.clone(), Some(description.into()), input.clone());
    if let Some(title) = &spec.display_name {
        tool = tool.with_title(title.clone());
    }
    if let Some(schema) = output_schema(agent) {
        tool = tool.with_raw_output_schema(Arc::new(schema));
    }
    tool
}

fn internal(error: crate::error::ApiError) -> ErrorData {
    ErrorData::internal_error(error.message, None)
}

impl ServerHandler for AgentTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("baton", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Each tool runs one agent of this project: send `message` (and optionally \
                 `variables`); continue a conversation with the `task_id` of a result's `_meta`.",
            )
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let (state, caller) = request_scope(&context)?;
        // The tools are the agents `GET /v2/agents` lists: a caller that may not list them
        // there (an end user's token without `read`) may not here either.
        crate::scope::permits(Some(&caller), &Method::GET, "/v2/agents").map_err(|e| {
            ErrorData::invalid_request(e.message, Some(json!({"status": 403, "code": e.code})))
        })?;
        let page = PageRequest {
            limit: Some(TOOLS_PAGE),
            starting_after: request.and_then(|r| r.cursor),
            ending_before: None,
        };
        let page = state
            .engine
            .agents()
            .list(&caller.project, &page)
            .await
            .map_err(|e| internal(e.into()))?;
        let input = input_schema();
        let tools = page.items.iter().map(|a| agent_tool(a, &input)).collect();
        let mut result = ListToolsResult::with_all_items(tools);
        if page.has_more {
            result.next_cursor = page.items.last().map(|a| a.id.clone());
        }
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let (state, caller) = request_scope(&context)?;
        call::call(&state, &caller, request, context).await
    }
}
