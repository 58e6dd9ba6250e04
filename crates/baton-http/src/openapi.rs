//! The OpenAPI 3.1 document. Paths come from the handlers' `#[utoipa::path]` annotations, which
//! also register the routes (see each module's `routes()`), so the router and the document
//! cannot drift apart. The error statuses every operation shares are added here, in one place.
//!
//! Conventions for annotations:
//! - `operation_id` is `<resource>_<verb>` (`agents_create`, `memories_list`), so generated
//!   clients get readable method names; `tag` is the resource group declared in [`ApiDoc`].
//! - Responses name their body type (`body = AgentDto`); error statuses particular to the
//!   operation (409, 422, 502, …) are listed with `body = ErrorBody`. The statuses below are not
//!   repeated on handlers: [`ErrorResponses`] adds them.

use crate::error::{ErrorBody, ErrorDetail, ErrorKind, FlatErrorBody};
use crate::wire::ListObject;
use axum::http::header;
use axum::response::IntoResponse;
use bytes::Bytes;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::OpenApi;

/// The parts of the document that do not come from handlers: info, security, tags and shared
/// schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Baton",
        description = "Self-hostable agent server. Wire-compatible with orq.ai's agents API.\n\n\
            Authenticate with an API key (`Authorization: Bearer <key>` or `x-api-key: <key>`) or, \
            when the server is configured for it, a signed JWT (`Authorization: Bearer <jwt>`). \
            Admin keys may act for another project with `x-tenant-id`."
    ),
    components(schemas(ErrorBody, ErrorDetail, ErrorKind, FlatErrorBody, ListObject)),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("x_api_key" = []), ("jwt" = [])),
    tags(
        (name = "agents", description = "Agents and their versions"),
        (name = "tools", description = "Tools agents call, and invoking them directly"),
        (name = "responses", description = "Running agents: responses, their streams, threads"),
        (name = "memory", description = "Memory stores, memories and their documents"),
        (name = "knowledge", description = "Knowledge bases, datasources, chunks and search"),
        (name = "schedules", description = "Schedules that run agents"),
        (name = "traces", description = "Traces, spans and usage"),
        (name = "api-keys", description = "API keys (admin only)"),
        (name = "orchestra", description = "Adapters for Orchestra's `/api` routes"),
        (name = "ensemble", description = "Ensemble's Agent API: structured invocations of agents"),
        (name = "a2a", description = "A2A v1.0: agent cards, JSON-RPC and HTTP+JSON bindings"),
        (name = "mcp", description = "The project's agents as the tools of an MCP server (streamable HTTP)"),
        (name = "openai", description = "OpenAI-compatible chat completions, responses and models: \
            `model` names an agent (`agent/<key>` or `agent/<key>@<version>`)"),
    )
)]
pub(crate) struct ApiDoc;

/// The security schemes: any one of them authenticates a request.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer <key>`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "x_api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-api-key",
                "An API key in the `x-api-key` header",
            ))),
        );
        components.add_security_scheme(
            "jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A signed JWT for front ends (`sub` is the end user, a tenant claim the \
                         project, `scope` the extra scopes)",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds the error statuses that come from the layers and extractors every operation goes
/// through, each with the error body:
/// - 401: the auth layer (no key, unknown key, invalid token);
/// - 403: the scope layer (the credential lacks the route's scope) and the auth layer
///   (`x-tenant-id` naming another tenant for a non-admin credential);
/// - 400: a path parameter, query string or body the extractors refuse (malformed JSON, a
///   mistyped or missing field, a NUL character);
/// - 413: a body over the size limit;
/// - 404: an unknown resource named in the path;
/// - 503: the database is unavailable (the auth layer reads it for every request).
///
/// A status an operation's annotation already lists is left as written, gaining the error
/// body if it has none.
pub(crate) struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_error_responses(operation);
            }
        }
    }
}

fn add_error_responses(operation: &mut Operation) {
    let has_param = |place: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    let in_path = has_param(ParameterIn::Path);
    let in_query = has_param(ParameterIn::Query);
    let has_body = operation.request_body.is_some();
    let mut statuses = vec![
        ("401", "No valid API key or token"),
        (
            "403",
            "The credential lacks the scope this operation needs, or names another tenant",
        ),
        ("503", "The database is unavailable; retry later"),
    ];
    if in_path || in_query || has_body {
        statuses.push((
            "400",
            "A parameter or field is invalid (`error.param` names it)",
        ));
    }
    if has_body {
        statuses.push(("413", "The body is larger than the server accepts"));
    }
    if in_path {
        statuses.push(("404", "Not found"));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in statuses {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description, "ErrorBody"));
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(response)) = (is_error, response) {
            if response.content.is_empty() {
                response.content.insert(
                    "application/json".to_owned(),
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                );
            }
        }
    }
}

fn error_response(description: &str, schema: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema)))
                    .build(),
            )
            .build(),
    )
}

/// The finished document: the base, the operations of `paths`, and the shared error statuses.
pub(crate) fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::Modify as _;
    ErrorResponses.modify(&mut doc);
    crate::openapi_links::add_links(&mut doc);
    crate::openapi_constraints::add_constraints(&mut doc);
    doc
}

/// `GET /openapi.json`: the document, serialized once when the router is built.
pub(crate) fn serve(
    doc: &utoipa::openapi::OpenApi,
) -> axum::routing::MethodRouter<crate::AppState> {
    let json = crate::openapi_links::to_json(doc);
    let body = Bytes::from(serde_json::to_vec(&json).unwrap_or_default());
    axum::routing::get(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body).into_response() }
    })
}
